//! The platform core on PostgreSQL (平台核心存储): divisions, departments, users, sessions,
//! login failures, the audit log and the change feed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use zhili_core::audit::{audit_time, Actor, AuditEvent, AuditRecord};
use zhili_core::model::{Department, Division, Locale, NewDepartment, NewUser, Session, User};
use zhili_core::policy::Role;
use zhili_core::store::{
    Change, ChangeStream, CoreBatch, LoginFailures, Page, Store, StoreError, StoreResult, UserFilter, UserUpdate,
};

use std::time::Duration;

use zhili_core::codes::DivisionCode;

use zhili_store_sql::audit;
use zhili_store_sql::rows::{self as shared, within_pattern};

use crate::{append_audit, err, exists, notify, PgStore, AUDIT_COLUMNS, CHANGES_CHANNEL};

/// The core's tables (`0001`).
pub(crate) static MIGRATIONS: Migrator = sqlx::migrate!("src/core/migrations");

use shared::division as division_row;

/// Flags are `boolean`.
fn department_row(r: &PgRow) -> StoreResult<Department> {
    shared::department(r, r.try_get("is_command_centre").map_err(err)?)
}

const DEPARTMENT_COLUMNS: &str = "id, code, name, division_code, is_command_centre";

const USER_COLUMNS: &str =
    "id, username, display_name, role, jurisdiction, department_id, phone, locale, active, created_at";

/// `active` is `boolean`, `created_at` `timestamptz`.
fn user_row(r: &PgRow) -> StoreResult<User> {
    shared::user(r, r.try_get("active").map_err(err)?, r.try_get("created_at").map_err(err)?)
}

/// `at` is `timestamptz`.
fn audit_row(r: &PgRow) -> StoreResult<AuditRecord> {
    shared::audit_record(r, r.try_get("at").map_err(err)?)
}

pub(crate) async fn department_exists(tx: &mut PgConnection, id: i64) -> StoreResult<bool> {
    Ok(sqlx::query("SELECT 1 FROM departments WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?
        .is_some())
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> StoreResult<()> {
        let migrator = zhili_store_sql::merge_migrations(crate::MIGRATIONS).await.map_err(StoreError::Other)?;
        migrator.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => match err(e) {
                StoreError::Other(m) => StoreError::Other(format!("migration failed: {m}")),
                other => other,
            },
            e => StoreError::Other(format!("migration failed: {e}")),
        })
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(err).map(|_| ())
    }

    /// PostgreSQL enforces foreign keys, unique and check constraints in every transaction, so
    /// there is no counterpart of SQLite's `foreign_key_check` to run; damaged pages are caught
    /// by data checksums (if the cluster has them) when read, not by a query here. This checks
    /// what operators can break on a live database: that it answers, that PostGIS is installed,
    /// that no index in the schema is invalid (a failed `CREATE INDEX CONCURRENTLY`), that no
    /// constraint was added `NOT VALID` and left unvalidated, and that the three append-only
    /// triggers of `audit_log` exist and are enabled. One line per problem; `Ok(vec![])` if clean.
    async fn integrity_check(&self) -> StoreResult<Vec<String>> {
        self.ping().await?;
        sqlx::query_scalar(
            "SELECT 'the postgis extension is not installed'::text
             WHERE NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')
             UNION ALL
             SELECT format('index %s is invalid; rebuild it with REINDEX', i.indexrelid::regclass)
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace
             UNION ALL
             SELECT format('constraint %s on %s is not validated', conname, conrelid::regclass)
             FROM pg_constraint WHERE NOT convalidated AND connamespace = current_schema()::regnamespace
             UNION ALL
             SELECT 'audit_log append-only triggers are missing or disabled'
             WHERE (SELECT count(*) FROM pg_trigger
                    WHERE tgrelid = to_regclass('audit_log') AND tgenabled IN ('O', 'A')
                      AND tgname IN ('audit_log_no_update', 'audit_log_no_delete', 'audit_log_no_truncate')) <> 3",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(err)
    }

    async fn upsert_division(&self, actor: &Actor, d: &Division) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if let Some(p) = d.parent() {
            if !exists(&mut tx, "SELECT 1 FROM divisions WHERE code = $1", p.as_str()).await? {
                return Err(StoreError::MissingReference { field: "parent" });
            }
        }
        sqlx::query(
            "INSERT INTO divisions (code, parent_code, level, name, boundary)
             VALUES ($1, $2, $3, $4, ST_SetSRID(ST_GeomFromGeoJSON($5::text), 4326))
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, boundary = excluded.boundary",
        )
        .bind(d.code.as_str())
        .bind(d.parent().map(|p| p.to_string()))
        .bind(d.level().as_str())
        .bind(&d.name)
        .bind(&d.boundary)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        append_audit(&mut tx, &audit::division_upsert(actor, d)).await?;
        notify(&mut tx, &Change::record("division", &d.code)).await?;
        tx.commit().await.map_err(err)
    }

    async fn division(&self, code: &DivisionCode) -> StoreResult<Division> {
        let r = sqlx::query("SELECT code, name, ST_AsGeoJSON(boundary) AS boundary FROM divisions WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        division_row(&r)
    }

    async fn child_divisions(&self, parent: Option<&DivisionCode>) -> StoreResult<Vec<Division>> {
        let rows =
            match parent {
                Some(p) => {
                    sqlx::query(
                        "SELECT code, name, NULL::text AS boundary FROM divisions WHERE parent_code = $1 ORDER BY code",
                    )
                    .bind(p.as_str())
                    .fetch_all(&self.pool)
                    .await
                }
                None => sqlx::query(
                    "SELECT code, name, NULL::text AS boundary FROM divisions WHERE parent_code IS NULL ORDER BY code",
                )
                .fetch_all(&self.pool)
                .await,
            }
            .map_err(err)?;
        rows.iter().map(division_row).collect()
    }

    async fn count_divisions(&self, within: Option<&DivisionCode>) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT count(*) FROM divisions WHERE code LIKE $1")
            .bind(within_pattern(within))
            .fetch_one(&self.pool)
            .await
            .map_err(err)
    }

    async fn create_department(&self, actor: &Actor, d: &NewDepartment) -> StoreResult<Department> {
        let mut tx = self.begin().await?;
        if !exists(&mut tx, "SELECT 1 FROM divisions WHERE code = $1", d.division.as_str()).await? {
            return Err(StoreError::MissingReference { field: "division" });
        }
        if exists(&mut tx, "SELECT 1 FROM departments WHERE code = $1", &d.code).await? {
            return Err(StoreError::Conflict { field: "code" });
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO departments (code, name, division_code, is_command_centre) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&d.code)
        .bind(&d.name)
        .bind(d.division.as_str())
        .bind(d.is_command_centre)
        .fetch_one(&mut *tx)
        .await
        .map_err(err)?;
        append_audit(&mut tx, &audit::department_create(actor, id, d)).await?;
        tx.commit().await.map_err(err)?;
        Ok(Department {
            id,
            code: d.code.clone(),
            name: d.name.clone(),
            division: d.division.clone(),
            is_command_centre: d.is_command_centre,
        })
    }

    async fn department(&self, id: i64) -> StoreResult<Department> {
        let r = sqlx::query(&format!("SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        department_row(&r)
    }

    async fn departments(&self, within: Option<&DivisionCode>, page: Page) -> StoreResult<Vec<Department>> {
        let rows = sqlx::query(&format!(
            "SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE division_code LIKE $1 ORDER BY code LIMIT $2 OFFSET $3"
        ))
        .bind(within_pattern(within))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter().map(department_row).collect()
    }

    async fn create_user(&self, actor: &Actor, u: &NewUser) -> StoreResult<User> {
        let mut tx = self.begin().await?;
        if !exists(&mut tx, "SELECT 1 FROM divisions WHERE code = $1", u.jurisdiction.as_str()).await? {
            return Err(StoreError::MissingReference { field: "jurisdiction" });
        }
        if let Some(d) = u.department_id {
            if !department_exists(&mut tx, d).await? {
                return Err(StoreError::MissingReference { field: "department_id" });
            }
        }
        if exists(&mut tx, "SELECT 1 FROM users WHERE username = $1", &u.username).await? {
            return Err(StoreError::Conflict { field: "username" });
        }
        let now = audit_time(Utc::now());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, role, jurisdiction, department_id, phone, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(u.role.as_str())
        .bind(u.jurisdiction.as_str())
        .bind(u.department_id)
        .bind(&u.phone)
        .bind(&u.password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(err)?;
        append_audit(&mut tx, &audit::user_create(actor, id, u)).await?;
        tx.commit().await.map_err(err)?;
        Ok(User {
            id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            jurisdiction: u.jurisdiction.clone(),
            department_id: u.department_id,
            phone: u.phone.clone(),
            locale: Locale::default(),
            active: true,
            created_at: now,
        })
    }

    async fn user(&self, id: i64) -> StoreResult<User> {
        let r = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        user_row(&r)
    }

    async fn user_credentials(&self, username: &str) -> StoreResult<(User, String)> {
        let r = sqlx::query(&format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        Ok((user_row(&r)?, r.try_get("password_hash").map_err(err)?))
    }

    async fn users(&self, f: &UserFilter, page: Page) -> StoreResult<Vec<User>> {
        let text = zhili_store_sql::rows::contains_pattern(f.text.as_deref());
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users
             WHERE jurisdiction LIKE $1 AND ($2::text IS NULL OR role = $2) AND ($3::bigint IS NULL OR department_id = $3)
               AND ($6::text IS NULL OR lower(username) LIKE $6 ESCAPE '\\' OR lower(display_name) LIKE $6 ESCAPE '\\')
             ORDER BY id LIMIT $4 OFFSET $5"
        ))
        .bind(within_pattern(f.within.as_ref()))
        .bind(f.role.map(Role::as_str))
        .bind(f.department_id)
        .bind(page.limit)
        .bind(page.offset)
        .bind(text)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter().map(user_row).collect()
    }

    async fn count_users(&self, f: &UserFilter) -> StoreResult<i64> {
        let text = zhili_store_sql::rows::contains_pattern(f.text.as_deref());
        sqlx::query_scalar(
            "SELECT count(*) FROM users
             WHERE jurisdiction LIKE $1 AND ($2::text IS NULL OR role = $2) AND ($3::bigint IS NULL OR department_id = $3)
               AND ($4::text IS NULL OR lower(username) LIKE $4 ESCAPE '\\' OR lower(display_name) LIKE $4 ESCAPE '\\')",
        )
        .bind(within_pattern(f.within.as_ref()))
        .bind(f.role.map(Role::as_str))
        .bind(f.department_id)
        .bind(text)
        .fetch_one(&self.pool)
        .await
        .map_err(err)
    }

    async fn update_user(&self, actor: &Actor, user_id: i64, change: &UserUpdate) -> StoreResult<User> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        let mut u = user_row(&row)?;
        if let Some(j) = &change.jurisdiction {
            if !exists(&mut tx, "SELECT 1 FROM divisions WHERE code = $1", j.as_str()).await? {
                return Err(StoreError::MissingReference { field: "jurisdiction" });
            }
        }
        if let Some(Some(d)) = change.department_id {
            if !department_exists(&mut tx, d).await? {
                return Err(StoreError::MissingReference { field: "department_id" });
            }
        }
        change.apply(&mut u);
        sqlx::query(
            "UPDATE users SET display_name = $1, role = $2, jurisdiction = $3, department_id = $4, phone = $5, active = $6
             WHERE id = $7",
        )
        .bind(&u.display_name)
        .bind(u.role.as_str())
        .bind(u.jurisdiction.as_str())
        .bind(u.department_id)
        .bind(&u.phone)
        .bind(u.active)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if change.active == Some(false) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        append_audit(&mut tx, &audit::user_update(actor, user_id, change)).await?;
        notify(&mut tx, &Change::record("user", user_id)).await?;
        tx.commit().await.map_err(err)?;
        Ok(u)
    }

    async fn set_password(&self, actor: &Actor, user_id: i64, password_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        // A new password ends every session of the account.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await.map_err(err)?;
        append_audit(&mut tx, &audit::user_set_password(actor, user_id)).await?;
        notify(&mut tx, &Change::record("user", user_id)).await?;
        tx.commit().await.map_err(err)
    }

    async fn set_locale(&self, actor: &Actor, user_id: i64, locale: Locale) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
            .bind(locale.as_str())
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit(&mut tx, &audit::user_set_locale(actor, user_id, locale)).await?;
        notify(&mut tx, &Change::record("user", user_id)).await?;
        tx.commit().await.map_err(err)
    }

    async fn create_session(&self, actor: &Actor, s: &Session) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        // Expired sessions are pruned as new ones are made.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(s.created_at)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        append_audit(&mut tx, &audit::login(actor, s.user_id)).await?;
        tx.commit().await.map_err(err)
    }

    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<(Session, User)> {
        let r = sqlx::query(
            "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at AS session_created, s.expires_at,
                    u.id, u.username, u.display_name, u.role, u.jurisdiction, u.department_id, u.phone, u.locale, u.active,
                    u.created_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(err)?
        .ok_or(StoreError::NotFound)?;
        let s = shared::session(&r, r.try_get("session_created").map_err(err)?, r.try_get("expires_at").map_err(err)?)?;
        Ok((s, user_row(&r)?))
    }

    async fn delete_session(&self, actor: &Actor, token_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let user_id: Option<i64> = sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
        let Some(user_id) = user_id else { return Err(StoreError::NotFound) };
        append_audit(&mut tx, &audit::logout(actor, user_id)).await?;
        notify(&mut tx, &Change::record("user", user_id)).await?;
        tx.commit().await.map_err(err)
    }

    async fn record_login_failure(&self, actor: &Actor, username: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO login_failures (username, ip, at) VALUES ($1, $2, $3)")
            .bind(username)
            .bind(actor.ip.as_deref().unwrap_or_default())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        // Keep the table small: failures older than a day no longer matter.
        sqlx::query("DELETE FROM login_failures WHERE at < $1 - interval '1 day'")
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        append_audit(&mut tx, &audit::login_failed(actor, username)).await?;
        tx.commit().await.map_err(err)
    }

    async fn login_failures(&self, username: &str, ip: &str, since: DateTime<Utc>) -> StoreResult<LoginFailures> {
        let (by_account, by_address): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM login_failures WHERE username = $1 AND at >= $3),
                    (SELECT count(*) FROM login_failures WHERE ip = $2 AND at >= $3)",
        )
        .bind(username)
        .bind(ip)
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(err)?;
        Ok(LoginFailures { by_account, by_address })
    }

    async fn audit(&self, ev: &AuditEvent) -> StoreResult<AuditRecord> {
        let mut tx = self.begin().await?;
        let rec = append_audit(&mut tx, ev).await?;
        tx.commit().await.map_err(err)?;
        Ok(rec)
    }

    async fn audit_rows(&self, after: i64, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
        rows.iter().map(audit_row).collect()
    }

    async fn recent_audit(&self, page: Page) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT $1 OFFSET $2"))
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
        rows.iter().map(audit_row).collect()
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&self.pool).await.map_err(err)
    }

    async fn changes(&self) -> StoreResult<ChangeStream> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await.map_err(err)?;
        listener.listen(CHANGES_CHANNEL).await.map_err(err)?;
        Ok(Box::pin(futures::stream::unfold(listener, |mut l| async move {
            loop {
                match l.try_recv().await {
                    Ok(Some(n)) => return Some((Change::from_payload(n.payload()), l)),
                    // The connection dropped (the next call reconnects): changes may have been
                    // missed meanwhile, so followers must reload.
                    Ok(None) => return Some((Change::All, l)),
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        })))
    }

    async fn all_divisions(&self) -> StoreResult<Vec<Division>> {
        let rows = sqlx::query("SELECT code, name, ST_AsGeoJSON(boundary) AS boundary FROM divisions ORDER BY code")
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
        rows.iter().map(division_row).collect()
    }

    async fn load_batch(&self, actor: &Actor, b: &CoreBatch) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut inserted = 0;
        for d in &b.divisions {
            inserted += sqlx::query(
                "INSERT INTO divisions (code, parent_code, level, name, boundary)
                 VALUES ($1, $2, $3, $4, ST_SetSRID(ST_GeomFromGeoJSON($5::text), 4326))
                 ON CONFLICT (code) DO NOTHING",
            )
            .bind(d.code.as_str())
            .bind(d.parent().map(|p| p.to_string()))
            .bind(d.level().as_str())
            .bind(&d.name)
            .bind(&d.boundary)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        }
        for d in &b.departments {
            inserted += sqlx::query(
                "INSERT INTO departments (code, name, division_code, is_command_centre) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (code) DO NOTHING",
            )
            .bind(&d.code)
            .bind(&d.name)
            .bind(d.division.as_str())
            .bind(d.is_command_centre)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        }
        let now = audit_time(Utc::now());
        for (u, dept) in &b.users {
            inserted += sqlx::query(
                "INSERT INTO users (username, display_name, role, jurisdiction, department_id, phone, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, (SELECT id FROM departments WHERE code = $5), $6, $7, $8)
                 ON CONFLICT (username) DO NOTHING",
            )
            .bind(&u.username)
            .bind(&u.display_name)
            .bind(u.role.as_str())
            .bind(u.jurisdiction.as_str())
            .bind(dept)
            .bind(&u.phone)
            .bind(&u.password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        }
        append_audit(&mut tx, &audit::core_batch_load(actor, b, inserted)).await?;
        notify(&mut tx, &Change::All).await?;
        tx.commit().await.map_err(err)?;
        Ok(inserted)
    }
}

/// Register the core's port.
pub(crate) fn register(store: &std::sync::Arc<PgStore>, ports: &mut zhili_core::ports::Ports) {
    ports.add::<dyn Store>(store.clone());
}

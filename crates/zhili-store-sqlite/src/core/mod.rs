//! The platform core on SQLite (平台核心存储): divisions, departments, users, sessions,
//! login failures, the audit log and the change feed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use zhili_core::audit::{audit_time, Actor, AuditEvent, AuditRecord};
use zhili_core::model::{Department, Division, Locale, NewDepartment, NewUser, Session, User};
use zhili_core::policy::Role;
use zhili_core::store::{
    Change, ChangeStream, CoreBatch, LoginFailures, Page, Store, StoreError, StoreResult, UserFilter, UserUpdate,
};

use zhili_core::codes::DivisionCode;

use zhili_store_sql::audit;
use zhili_store_sql::rows::{self as shared, within_pattern};

use crate::{append_audit, err, exists, from_micros, micros, parse_text_time, text_time, SqliteStore};

/// The core's tables (`0001`).
pub(crate) static MIGRATIONS: Migrator = sqlx::migrate!("src/core/migrations");

use shared::division as division_row;

/// Flags are INTEGER 0/1.
fn department_row(r: &SqliteRow) -> StoreResult<Department> {
    shared::department(r, r.try_get::<i64, _>("is_command_centre").map_err(err)? != 0)
}

const USER_COLUMNS: &str =
    "id, username, display_name, role, jurisdiction, department_id, phone, locale, active, created_at";

/// `active` is INTEGER 0/1, `created_at` RFC 3339 text.
fn user_row(r: &SqliteRow) -> StoreResult<User> {
    let active = r.try_get::<i64, _>("active").map_err(err)? != 0;
    shared::user(r, active, parse_text_time(&r.try_get::<String, _>("created_at").map_err(err)?)?)
}

/// `at` is RFC 3339 text.
fn audit_row(r: &SqliteRow) -> StoreResult<AuditRecord> {
    shared::audit_record(r, parse_text_time(&r.try_get::<String, _>("at").map_err(err)?)?)
}

pub(crate) async fn department_exists(tx: &mut SqliteConnection, id: i64) -> StoreResult<bool> {
    Ok(sqlx::query("SELECT 1 FROM departments WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?
        .is_some())
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        zhili_store_sql::merge_migrations(crate::MIGRATIONS)
            .await
            .map_err(StoreError::Other)?
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await.map_err(err).map(|_| ())
    }

    async fn integrity_check(&self) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("PRAGMA integrity_check").fetch_all(&self.write).await.map_err(err)?;
        let mut problems: Vec<String> = rows.into_iter().map(|r| r.0).filter(|s| s != "ok").collect();
        let fk: Vec<SqliteRow> = sqlx::query("PRAGMA foreign_key_check").fetch_all(&self.write).await.map_err(err)?;
        for r in fk {
            let table: String = r.try_get(0).map_err(err)?;
            problems.push(format!("foreign key violation in {table}"));
        }
        Ok(problems)
    }

    async fn upsert_division(&self, actor: &Actor, d: &Division) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if let Some(p) = d.parent() {
            if !exists(&mut tx, "SELECT 1 FROM divisions WHERE code = ?", p.as_str()).await? {
                return Err(StoreError::MissingReference { field: "parent" });
            }
        }
        sqlx::query(
            "INSERT INTO divisions (code, parent_code, level, name, boundary) VALUES (?, ?, ?, ?, ?)
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
        tx.commit().await.map_err(err)?;
        self.announce(Change::record("division", &d.code));
        Ok(())
    }

    async fn division(&self, code: &DivisionCode) -> StoreResult<Division> {
        let r = sqlx::query("SELECT code, name, boundary FROM divisions WHERE code = ?")
            .bind(code.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        division_row(&r)
    }

    async fn child_divisions(&self, parent: Option<&DivisionCode>) -> StoreResult<Vec<Division>> {
        let rows = match parent {
            Some(p) => {
                sqlx::query("SELECT code, name, NULL AS boundary FROM divisions WHERE parent_code = ? ORDER BY code")
                    .bind(p.as_str())
                    .fetch_all(&self.read)
                    .await
            }
            None => {
                sqlx::query(
                    "SELECT code, name, NULL AS boundary FROM divisions WHERE parent_code IS NULL ORDER BY code",
                )
                .fetch_all(&self.read)
                .await
            }
        }
        .map_err(err)?;
        rows.iter().map(division_row).collect()
    }

    async fn count_divisions(&self, within: Option<&DivisionCode>) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT count(*) FROM divisions WHERE code LIKE ?")
            .bind(within_pattern(within))
            .fetch_one(&self.read)
            .await
            .map_err(err)
    }

    async fn create_department(&self, actor: &Actor, d: &NewDepartment) -> StoreResult<Department> {
        let mut tx = self.begin().await?;
        if !exists(&mut tx, "SELECT 1 FROM divisions WHERE code = ?", d.division.as_str()).await? {
            return Err(StoreError::MissingReference { field: "division" });
        }
        if exists(&mut tx, "SELECT 1 FROM departments WHERE code = ?", &d.code).await? {
            return Err(StoreError::Conflict { field: "code" });
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO departments (code, name, division_code, is_command_centre) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(&d.code)
        .bind(&d.name)
        .bind(d.division.as_str())
        .bind(d.is_command_centre as i64)
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
        let r = sqlx::query("SELECT * FROM departments WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        department_row(&r)
    }

    async fn departments(&self, within: Option<&DivisionCode>, page: Page) -> StoreResult<Vec<Department>> {
        let rows = sqlx::query("SELECT * FROM departments WHERE division_code LIKE ? ORDER BY code LIMIT ? OFFSET ?")
            .bind(within_pattern(within))
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.read)
            .await
            .map_err(err)?;
        rows.iter().map(department_row).collect()
    }

    async fn create_user(&self, actor: &Actor, u: &NewUser) -> StoreResult<User> {
        let mut tx = self.begin().await?;
        if !exists(&mut tx, "SELECT 1 FROM divisions WHERE code = ?", u.jurisdiction.as_str()).await? {
            return Err(StoreError::MissingReference { field: "jurisdiction" });
        }
        if let Some(d) = u.department_id {
            if !department_exists(&mut tx, d).await? {
                return Err(StoreError::MissingReference { field: "department_id" });
            }
        }
        if exists(&mut tx, "SELECT 1 FROM users WHERE username = ?", &u.username).await? {
            return Err(StoreError::Conflict { field: "username" });
        }
        let now = audit_time(Utc::now());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, role, jurisdiction, department_id, phone, password_hash, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(u.role.as_str())
        .bind(u.jurisdiction.as_str())
        .bind(u.department_id)
        .bind(&u.phone)
        .bind(&u.password_hash)
        .bind(text_time(now))
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
        let r = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        user_row(&r)
    }

    async fn user_credentials(&self, username: &str) -> StoreResult<(User, String)> {
        let r = sqlx::query(&format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?"))
            .bind(username)
            .fetch_optional(&self.read)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        Ok((user_row(&r)?, r.try_get("password_hash").map_err(err)?))
    }

    async fn users(&self, f: &UserFilter, page: Page) -> StoreResult<Vec<User>> {
        let text = zhili_store_sql::rows::contains_pattern(f.text.as_deref());
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users
             WHERE jurisdiction LIKE ? AND (? IS NULL OR role = ?) AND (? IS NULL OR department_id = ?)
               AND (? IS NULL OR lower(username) LIKE ? ESCAPE '\\' OR lower(display_name) LIKE ? ESCAPE '\\')
             ORDER BY id LIMIT ? OFFSET ?"
        ))
        .bind(within_pattern(f.within.as_ref()))
        .bind(f.role.map(Role::as_str))
        .bind(f.role.map(Role::as_str))
        .bind(f.department_id)
        .bind(f.department_id)
        .bind(text.as_deref())
        .bind(text.as_deref())
        .bind(text.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        rows.iter().map(user_row).collect()
    }

    async fn count_users(&self, f: &UserFilter) -> StoreResult<i64> {
        let text = zhili_store_sql::rows::contains_pattern(f.text.as_deref());
        sqlx::query_scalar(
            "SELECT count(*) FROM users
             WHERE jurisdiction LIKE ? AND (? IS NULL OR role = ?) AND (? IS NULL OR department_id = ?)
               AND (? IS NULL OR lower(username) LIKE ? ESCAPE '\\' OR lower(display_name) LIKE ? ESCAPE '\\')",
        )
        .bind(within_pattern(f.within.as_ref()))
        .bind(f.role.map(Role::as_str))
        .bind(f.role.map(Role::as_str))
        .bind(f.department_id)
        .bind(f.department_id)
        .bind(text.as_deref())
        .bind(text.as_deref())
        .bind(text.as_deref())
        .fetch_one(&self.read)
        .await
        .map_err(err)
    }

    async fn update_user(&self, actor: &Actor, user_id: i64, change: &UserUpdate) -> StoreResult<User> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        let mut u = user_row(&row)?;
        if let Some(j) = &change.jurisdiction {
            if !exists(&mut tx, "SELECT 1 FROM divisions WHERE code = ?", j.as_str()).await? {
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
            "UPDATE users SET display_name = ?, role = ?, jurisdiction = ?, department_id = ?, phone = ?, active = ?
             WHERE id = ?",
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
            sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(user_id).execute(&mut *tx).await.map_err(err)?;
        }
        append_audit(&mut tx, &audit::user_update(actor, user_id, change)).await?;
        tx.commit().await.map_err(err)?;
        self.announce(Change::record("user", user_id));
        Ok(u)
    }

    async fn set_password(&self, actor: &Actor, user_id: i64, password_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
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
        sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(user_id).execute(&mut *tx).await.map_err(err)?;
        append_audit(&mut tx, &audit::user_set_password(actor, user_id)).await?;
        tx.commit().await.map_err(err)?;
        self.announce(Change::record("user", user_id));
        Ok(())
    }

    async fn set_locale(&self, actor: &Actor, user_id: i64, locale: Locale) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET locale = ? WHERE id = ?")
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
        tx.commit().await.map_err(err)?;
        self.announce(Change::record("user", user_id));
        Ok(())
    }

    async fn create_session(&self, actor: &Actor, s: &Session) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_us, expires_us) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(&s.csrf_token)
        .bind(micros(s.created_at))
        .bind(micros(s.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        // Expired sessions are pruned as new ones are made.
        sqlx::query("DELETE FROM sessions WHERE expires_us < ?")
            .bind(micros(s.created_at))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        append_audit(&mut tx, &audit::login(actor, s.user_id)).await?;
        tx.commit().await.map_err(err)
    }

    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<(Session, User)> {
        let r = sqlx::query(
            "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_us, s.expires_us,
                    u.id, u.username, u.display_name, u.role, u.jurisdiction, u.department_id, u.phone, u.locale, u.active, u.created_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ? AND s.expires_us > ? AND u.active = 1",
        )
        .bind(token_hash)
        .bind(micros(now))
        .fetch_optional(&self.read)
        .await
        .map_err(err)?
        .ok_or(StoreError::NotFound)?;
        let created_at = from_micros(r.try_get("created_us").map_err(err)?)?;
        let s = shared::session(&r, created_at, from_micros(r.try_get("expires_us").map_err(err)?)?)?;
        Ok((s, user_row(&r)?))
    }

    async fn delete_session(&self, actor: &Actor, token_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let user_id: Option<i64> = sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = ? RETURNING user_id")
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
        let Some(user_id) = user_id else { return Err(StoreError::NotFound) };
        append_audit(&mut tx, &audit::logout(actor, user_id)).await?;
        tx.commit().await.map_err(err)?;
        self.announce(Change::record("user", user_id));
        Ok(())
    }

    async fn record_login_failure(&self, actor: &Actor, username: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let ip = actor.ip.clone().unwrap_or_default();
        sqlx::query("INSERT INTO login_failures (username, ip, at_us) VALUES (?, ?, ?)")
            .bind(username)
            .bind(&ip)
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        // Keep the table small: failures older than a day no longer matter.
        sqlx::query("DELETE FROM login_failures WHERE at_us < ?")
            .bind(micros(at) - 86_400_000_000)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        append_audit(&mut tx, &audit::login_failed(actor, username)).await?;
        tx.commit().await.map_err(err)
    }

    async fn login_failures(&self, username: &str, ip: &str, since: DateTime<Utc>) -> StoreResult<LoginFailures> {
        let (by_account, by_address): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM login_failures WHERE username = ? AND at_us >= ?),
                    (SELECT count(*) FROM login_failures WHERE ip = ? AND at_us >= ?)",
        )
        .bind(username)
        .bind(micros(since))
        .bind(ip)
        .bind(micros(since))
        .fetch_one(&self.read)
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
        let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(err)?;
        rows.iter().map(audit_row).collect()
    }

    async fn recent_audit(&self, page: Page) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT * FROM audit_log ORDER BY seq DESC LIMIT ? OFFSET ?")
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.read)
            .await
            .map_err(err)?;
        rows.iter().map(audit_row).collect()
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&self.read).await.map_err(err)
    }

    async fn load_batch(&self, actor: &Actor, b: &CoreBatch) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut inserted = 0;
        for d in &b.divisions {
            inserted += sqlx::query(
                "INSERT INTO divisions (code, parent_code, level, name, boundary) VALUES (?, ?, ?, ?, ?)
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
                "INSERT INTO departments (code, name, division_code, is_command_centre) VALUES (?, ?, ?, ?)
                 ON CONFLICT (code) DO NOTHING",
            )
            .bind(&d.code)
            .bind(&d.name)
            .bind(d.division.as_str())
            .bind(d.is_command_centre as i64)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        }
        let now = text_time(audit_time(Utc::now()));
        for (u, dept) in &b.users {
            inserted += sqlx::query(
                "INSERT INTO users (username, display_name, role, jurisdiction, department_id, phone, password_hash, created_at)
                 VALUES (?, ?, ?, ?, (SELECT id FROM departments WHERE code = ?), ?, ?, ?)
                 ON CONFLICT (username) DO NOTHING",
            )
            .bind(&u.username)
            .bind(&u.display_name)
            .bind(u.role.as_str())
            .bind(u.jurisdiction.as_str())
            .bind(dept)
            .bind(&u.phone)
            .bind(&u.password_hash)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        }
        append_audit(&mut tx, &audit::core_batch_load(actor, b, inserted)).await?;
        tx.commit().await.map_err(err)?;
        self.announce(Change::All);
        Ok(inserted)
    }

    async fn changes(&self) -> StoreResult<ChangeStream> {
        let rx = self.changes.subscribe();
        Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            use tokio::sync::broadcast::error::RecvError;
            match rx.recv().await {
                Ok(c) => Some((c, rx)),
                // Fell behind: some changes were dropped, so the follower must reload.
                Err(RecvError::Lagged(_)) => Some((Change::All, rx)),
                Err(RecvError::Closed) => None,
            }
        })))
    }

    async fn all_divisions(&self) -> StoreResult<Vec<Division>> {
        let rows = sqlx::query("SELECT code, name, boundary FROM divisions ORDER BY code")
            .fetch_all(&self.read)
            .await
            .map_err(err)?;
        rows.iter().map(division_row).collect()
    }
}

/// Register the core's port.
pub(crate) fn register(store: &std::sync::Arc<SqliteStore>, ports: &mut zhili_core::ports::Ports) {
    ports.add::<dyn Store>(store.clone());
}

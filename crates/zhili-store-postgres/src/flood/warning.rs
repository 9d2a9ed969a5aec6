//! Flood warnings on PostgreSQL (预警存储): the warning rows, the outbox of their effects,
//! their trail and their CAP documents.
//!
//! Each write is one transaction: the next warning, its effects and its trail land together or
//! not at all. A save is an `UPDATE … WHERE id = $1 AND version = $2`; its row lock holds a
//! concurrent save of the same warning until this one commits, after which the other finds
//! the version moved and writes nothing (`Conflict { field: "version" }`), so trail numbers
//! taken under the lock never collide. When the update changes no row, the stored warning is
//! read `FOR UPDATE`: the very state at the same version is a transition that changed nothing
//! but its trail (appended under that lock), anything else is stale. The one warning not lifted per village is the partial
//! unique index `flood_warnings_active_village`, which also settles two processes raising the
//! same village at once. Warnings are moved by the machine, not edited by people, so no audit
//! row is written: the trail is their record.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use zhili_core::codes::DivisionCode;
use zhili_core::store::{Page, StoreError, StoreResult};
use zhili_flood::warning::{
    Effect, StoredCap, StoredEffect, StoredTrail, TrailEntry, Warning, WarningFilter, WarningStore,
};
use zhili_store_sql::flood::{
    cap_from_columns, check_cap, effect_body, effect_from_body, is_unchanged_transition, previous_version, trail_body,
    trail_from_body, warning_columns, warning_from_body,
};

use crate::case::push_prefix;
use crate::{err, PgStore};

/// The largest page a list answers.
const MAX_PAGE: i64 = 1000;

/// A write's error, with the unique indexes of this folder named as the port says.
fn write_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => match d.constraint() {
            Some("flood_warnings_active_village") => StoreError::Conflict { field: "village" },
            Some("flood_warning_caps_identifier") => StoreError::Conflict { field: "identifier" },
            _ => err(e),
        },
        _ => err(e),
    }
}

/// Add `effects` to the outbox of `warning`, in order, asked for at `at`.
async fn put_outbox(tx: &mut PgConnection, warning: i64, at: DateTime<Utc>, effects: &[Effect]) -> StoreResult<()> {
    if effects.is_empty() {
        return Ok(());
    }
    let bodies = effects.iter().map(|e| effect_body(warning, e)).collect::<StoreResult<Vec<_>>>()?;
    sqlx::query(
        "INSERT INTO flood_warning_effects (warning_id, created_at, body)
         SELECT $1, $2, b::json FROM unnest($3::text[]) WITH ORDINALITY AS t (b, n) ORDER BY n",
    )
    .bind(warning)
    .bind(at)
    .bind(bodies)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    Ok(())
}

/// Append `trail` to the trail of `warning`, whose last stored entry is `last`.
async fn put_trail(tx: &mut PgConnection, warning: i64, last: i64, trail: &[TrailEntry]) -> StoreResult<()> {
    if trail.is_empty() {
        return Ok(());
    }
    let bodies = trail.iter().map(|e| trail_body(warning, e)).collect::<StoreResult<Vec<_>>>()?;
    sqlx::query(
        "INSERT INTO flood_warning_trail (warning_id, seq, at, body)
         SELECT $1, $2 + n, a, b::json FROM unnest($3::timestamptz[], $4::text[]) WITH ORDINALITY AS t (a, b, n)",
    )
    .bind(warning)
    .bind(last)
    .bind(trail.iter().map(|e| e.at).collect::<Vec<_>>())
    .bind(bodies)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    Ok(())
}

fn page_bounds(page: Page) -> (i64, i64) {
    (page.limit.clamp(0, MAX_PAGE), page.offset.max(0))
}

fn warning_row(r: &PgRow) -> StoreResult<Warning> {
    let id: i64 = r.try_get("id").map_err(err)?;
    warning_from_body(id, r.try_get("body").map_err(err)?)
}

const CAP_READ: &str = "warning_id, sequence, identifier, msg_type, sent, village, xml";

fn cap_row(r: &PgRow) -> StoreResult<StoredCap> {
    let msg_type: String = r.try_get("msg_type").map_err(err)?;
    let village: String = r.try_get("village").map_err(err)?;
    cap_from_columns(
        r.try_get("warning_id").map_err(err)?,
        r.try_get("sequence").map_err(err)?,
        r.try_get("identifier").map_err(err)?,
        &msg_type,
        r.try_get("sent").map_err(err)?,
        &village,
        r.try_get("xml").map_err(err)?,
    )
}

#[async_trait]
impl WarningStore for PgStore {
    async fn create_warning(&self, warning: &Warning, effects: &[Effect], trail: &[TrailEntry]) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        // The id first, so that the body stored carries it.
        let id: i64 = sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('flood_warnings', 'id'))")
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?;
        let c = warning_columns(id, warning)?;
        sqlx::query(
            "INSERT INTO flood_warnings (id, village, status, grade, opened_at, updated_at, version, next_tick, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json)",
        )
        .bind(id)
        .bind(&c.village)
        .bind(c.status)
        .bind(c.grade)
        .bind(warning.opened_at)
        .bind(warning.updated_at)
        .bind(c.version)
        .bind(c.next_tick)
        .bind(&c.body)
        .execute(&mut *tx)
        .await
        .map_err(write_err)?;
        put_outbox(&mut tx, id, warning.updated_at, effects).await?;
        put_trail(&mut tx, id, 0, trail).await?;
        tx.commit().await.map_err(err)?;
        Ok(id)
    }

    async fn save_warning(&self, warning: &Warning, effects: &[Effect], trail: &[TrailEntry]) -> StoreResult<()> {
        let id = warning.id;
        let c = warning_columns(id, warning)?;
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE flood_warnings SET village = $1, status = $2, grade = $3, opened_at = $4, updated_at = $5,
                 version = $6, next_tick = $7, body = $8::json
             WHERE id = $9 AND version = $10",
        )
        .bind(&c.village)
        .bind(c.status)
        .bind(c.grade)
        .bind(warning.opened_at)
        .bind(warning.updated_at)
        .bind(c.version)
        .bind(c.next_tick)
        .bind(&c.body)
        .bind(id)
        .bind(previous_version(warning))
        .execute(&mut *tx)
        .await
        .map_err(write_err)?
        .rows_affected();
        if n == 0 {
            // Not over the version below: a transition that changed nothing but its trail, or stale.
            let stored: Option<(i64, String)> =
                sqlx::query_as("SELECT version, body::text FROM flood_warnings WHERE id = $1 FOR UPDATE")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
            let Some((version, stored)) = stored else { return Err(StoreError::NotFound) };
            if !is_unchanged_transition(id, version, &stored, warning, effects, trail)? {
                return Err(StoreError::Conflict { field: "version" });
            }
        }
        let last: i64 =
            sqlx::query_scalar("SELECT coalesce(max(seq), 0)::bigint FROM flood_warning_trail WHERE warning_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .map_err(err)?;
        put_outbox(&mut tx, id, warning.updated_at, effects).await?;
        put_trail(&mut tx, id, last, trail).await?;
        tx.commit().await.map_err(err)
    }

    async fn warning(&self, id: i64) -> StoreResult<Warning> {
        let r = sqlx::query("SELECT id, body::text AS body FROM flood_warnings WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        warning_row(&r)
    }

    async fn active_warning(&self, village: &DivisionCode) -> StoreResult<Option<Warning>> {
        let r =
            sqlx::query("SELECT id, body::text AS body FROM flood_warnings WHERE village = $1 AND status <> 'lifted'")
                .bind(village.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(err)?;
        r.as_ref().map(warning_row).transpose()
    }

    async fn warnings(&self, filter: &WarningFilter, page: Page) -> StoreResult<Vec<Warning>> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT id, body::text AS body FROM flood_warnings WHERE 1 = 1");
        if filter.active_only {
            q.push(" AND status <> 'lifted'");
        }
        if let Some(p) = &filter.village_prefix {
            push_prefix(&mut q, "village", p.as_str());
        }
        if let Some(since) = filter.opened_since {
            q.push(" AND opened_at >= ").push_bind(since);
        }
        let (limit, offset) = page_bounds(page);
        q.push(" ORDER BY opened_at DESC, id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(warning_row).collect()
    }

    async fn trail(&self, warning: i64) -> StoreResult<Vec<StoredTrail>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, body::text FROM flood_warning_trail WHERE warning_id = $1 ORDER BY seq")
                .bind(warning)
                .fetch_all(&self.pool)
                .await
                .map_err(err)?;
        rows.into_iter()
            .map(|(seq, b)| Ok(StoredTrail { warning, seq, entry: trail_from_body(warning, seq, &b)? }))
            .collect()
    }

    async fn pending_effects(&self, limit: i64) -> StoreResult<Vec<StoredEffect>> {
        let rows: Vec<(i64, i64, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT id, warning_id, created_at, body::text FROM flood_warning_effects WHERE done_at IS NULL
             ORDER BY id LIMIT $1",
        )
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.into_iter()
            .map(|(id, warning, created_at, b)| {
                Ok(StoredEffect { id, warning, effect: effect_from_body(id, &b)?, created_at })
            })
            .collect()
    }

    async fn mark_effect_done(&self, effect: i64) -> StoreResult<()> {
        let n = sqlx::query("UPDATE flood_warning_effects SET done_at = coalesce(done_at, now()) WHERE id = $1")
            .bind(effect)
            .execute(&self.pool)
            .await
            .map_err(err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn due_ticks(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM flood_warnings
             WHERE next_tick IS NOT NULL AND next_tick <= $1 AND status <> 'lifted'
             ORDER BY next_tick, id LIMIT $2",
        )
        .bind(now)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(err)
    }

    async fn store_cap(&self, cap: &StoredCap) -> StoreResult<()> {
        check_cap(cap)?;
        let mut tx = self.begin().await?;
        let known: Option<i64> = sqlx::query_scalar("SELECT id FROM flood_warnings WHERE id = $1")
            .bind(cap.warning)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
        if known.is_none() {
            return Err(StoreError::MissingReference { field: "warning" });
        }
        // The arbiter settles a concurrent re-run of the same effect: one inserts, the other
        // finds its row and compares.
        let inserted = sqlx::query(&format!(
            "INSERT INTO flood_warning_caps ({CAP_READ}) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (warning_id, sequence) DO NOTHING"
        ))
        .bind(cap.warning)
        .bind(i64::from(cap.sequence))
        .bind(&cap.identifier)
        .bind(cap.msg_type.as_str())
        .bind(cap.sent)
        .bind(cap.village.as_str())
        .bind(&cap.xml)
        .execute(&mut *tx)
        .await
        .map_err(write_err)?
        .rows_affected();
        if inserted == 0 {
            let stored: String =
                sqlx::query_scalar("SELECT identifier FROM flood_warning_caps WHERE warning_id = $1 AND sequence = $2")
                    .bind(cap.warning)
                    .bind(i64::from(cap.sequence))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?;
            if stored != cap.identifier {
                return Err(StoreError::Conflict { field: "sequence" });
            }
        }
        tx.commit().await.map_err(err)
    }

    async fn caps(&self, warning: i64) -> StoreResult<Vec<StoredCap>> {
        let rows =
            sqlx::query(&format!("SELECT {CAP_READ} FROM flood_warning_caps WHERE warning_id = $1 ORDER BY sequence"))
                .bind(warning)
                .fetch_all(&self.pool)
                .await
                .map_err(err)?;
        rows.iter().map(cap_row).collect()
    }

    async fn cap(&self, identifier: &str) -> StoreResult<StoredCap> {
        let r = sqlx::query(&format!("SELECT {CAP_READ} FROM flood_warning_caps WHERE identifier = $1"))
            .bind(identifier)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        cap_row(&r)
    }

    async fn recent_caps(&self, limit: i64) -> StoreResult<Vec<StoredCap>> {
        let rows = sqlx::query(&format!(
            "SELECT {CAP_READ} FROM flood_warning_caps ORDER BY sent DESC, warning_id DESC, sequence DESC LIMIT $1"
        ))
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter().map(cap_row).collect()
    }
}

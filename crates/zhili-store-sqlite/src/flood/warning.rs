//! Flood warnings on SQLite (预警存储): the warning rows, the outbox of their effects, their
//! trail and their CAP documents.
//!
//! Each write is one `BEGIN IMMEDIATE` transaction on the single writer connection, committed
//! with `synchronous=FULL` before it returns: the next warning, its effects and its trail land
//! together or not at all. A save is an `UPDATE … WHERE id = ? AND version = ?`; when it
//! changes no row, the stored warning is read: the very state at the same version is a
//! transition that changed nothing but its trail (appended), anything else is stale and
//! nothing is written. The one warning not lifted per village is the partial
//! unique index `flood_warnings_active_village`. Warnings are moved by the machine, not edited
//! by people, so no audit row is written: the trail is their record.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
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
use crate::{err, from_micros, micros, SqliteStore};

/// Most rows per multi-row insert (4 binds each).
const CHUNK: usize = 256;

/// The largest page a list answers.
const MAX_PAGE: i64 = 1000;

/// A write's error, with the unique indexes of this folder named as the port says.
fn write_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() && d.message().contains("flood_warnings.village") => {
            StoreError::Conflict { field: "village" }
        }
        sqlx::Error::Database(d)
            if d.is_unique_violation() && d.message().contains("flood_warning_caps.identifier") =>
        {
            StoreError::Conflict { field: "identifier" }
        }
        _ => err(e),
    }
}

/// Add `effects` to the outbox of `warning`, in order, asked for at `at`.
async fn put_outbox(tx: &mut SqliteConnection, warning: i64, at: i64, effects: &[Effect]) -> StoreResult<()> {
    for part in effects.chunks(CHUNK) {
        let bodies = part.iter().map(|e| effect_body(warning, e)).collect::<StoreResult<Vec<_>>>()?;
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO flood_warning_effects (warning_id, created_at, body) ");
        q.push_values(bodies, |mut b, body| {
            b.push_bind(warning).push_bind(at).push_bind(body);
        });
        q.build().execute(&mut *tx).await.map_err(err)?;
    }
    Ok(())
}

/// Append `trail` to the trail of `warning`, whose last stored entry is `last`.
async fn put_trail(tx: &mut SqliteConnection, warning: i64, last: i64, trail: &[TrailEntry]) -> StoreResult<()> {
    let mut seq = last;
    for part in trail.chunks(CHUNK) {
        let mut rows = Vec::with_capacity(part.len());
        for entry in part {
            seq += 1;
            rows.push((seq, micros(entry.at), trail_body(warning, entry)?));
        }
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO flood_warning_trail (warning_id, seq, at, body) ");
        q.push_values(rows, |mut b, (seq, at, body)| {
            b.push_bind(warning).push_bind(seq).push_bind(at).push_bind(body);
        });
        q.build().execute(&mut *tx).await.map_err(err)?;
    }
    Ok(())
}

fn page_bounds(page: Page) -> (i64, i64) {
    (page.limit.clamp(0, MAX_PAGE), page.offset.max(0))
}

fn warning_row(r: &SqliteRow) -> StoreResult<Warning> {
    let id: i64 = r.try_get("id").map_err(err)?;
    warning_from_body(id, r.try_get("body").map_err(err)?)
}

const CAP_READ: &str = "warning_id, sequence, identifier, msg_type, sent, village, xml";

fn cap_row(r: &SqliteRow) -> StoreResult<StoredCap> {
    let msg_type: String = r.try_get("msg_type").map_err(err)?;
    let village: String = r.try_get("village").map_err(err)?;
    cap_from_columns(
        r.try_get("warning_id").map_err(err)?,
        r.try_get("sequence").map_err(err)?,
        r.try_get("identifier").map_err(err)?,
        &msg_type,
        from_micros(r.try_get("sent").map_err(err)?)?,
        &village,
        r.try_get("xml").map_err(err)?,
    )
}

#[async_trait]
impl WarningStore for SqliteStore {
    async fn create_warning(&self, warning: &Warning, effects: &[Effect], trail: &[TrailEntry]) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        // The one writer holds the database: the next id is free until this commits.
        let id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM flood_warnings")
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?;
        let c = warning_columns(id, warning)?;
        sqlx::query(
            "INSERT INTO flood_warnings (id, village, status, grade, opened_at, updated_at, version, next_tick, body)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&c.village)
        .bind(c.status)
        .bind(c.grade)
        .bind(micros(warning.opened_at))
        .bind(micros(warning.updated_at))
        .bind(c.version)
        .bind(c.next_tick.map(micros))
        .bind(&c.body)
        .execute(&mut *tx)
        .await
        .map_err(write_err)?;
        put_outbox(&mut tx, id, micros(warning.updated_at), effects).await?;
        put_trail(&mut tx, id, 0, trail).await?;
        tx.commit().await.map_err(err)?;
        Ok(id)
    }

    async fn save_warning(&self, warning: &Warning, effects: &[Effect], trail: &[TrailEntry]) -> StoreResult<()> {
        let id = warning.id;
        let c = warning_columns(id, warning)?;
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE flood_warnings SET village = ?, status = ?, grade = ?, opened_at = ?, updated_at = ?, version = ?,
                 next_tick = ?, body = ?
             WHERE id = ? AND version = ?",
        )
        .bind(&c.village)
        .bind(c.status)
        .bind(c.grade)
        .bind(micros(warning.opened_at))
        .bind(micros(warning.updated_at))
        .bind(c.version)
        .bind(c.next_tick.map(micros))
        .bind(&c.body)
        .bind(id)
        .bind(previous_version(warning))
        .execute(&mut *tx)
        .await
        .map_err(write_err)?
        .rows_affected();
        if n == 0 {
            // Not over the version below: a transition that changed nothing but its trail, or stale.
            let stored: Option<(i64, String)> = sqlx::query_as("SELECT version, body FROM flood_warnings WHERE id = ?")
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
            sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM flood_warning_trail WHERE warning_id = ?")
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .map_err(err)?;
        put_outbox(&mut tx, id, micros(warning.updated_at), effects).await?;
        put_trail(&mut tx, id, last, trail).await?;
        tx.commit().await.map_err(err)
    }

    async fn warning(&self, id: i64) -> StoreResult<Warning> {
        let r = sqlx::query("SELECT id, body FROM flood_warnings WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        warning_row(&r)
    }

    async fn active_warning(&self, village: &DivisionCode) -> StoreResult<Option<Warning>> {
        let r = sqlx::query("SELECT id, body FROM flood_warnings WHERE village = ? AND status <> 'lifted'")
            .bind(village.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(err)?;
        r.as_ref().map(warning_row).transpose()
    }

    async fn warnings(&self, filter: &WarningFilter, page: Page) -> StoreResult<Vec<Warning>> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT id, body FROM flood_warnings WHERE 1 = 1");
        if filter.active_only {
            q.push(" AND status <> 'lifted'");
        }
        if let Some(p) = &filter.village_prefix {
            push_prefix(&mut q, "village", p.as_str());
        }
        if let Some(since) = filter.opened_since {
            q.push(" AND opened_at >= ").push_bind(micros(since));
        }
        let (limit, offset) = page_bounds(page);
        q.push(" ORDER BY opened_at DESC, id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        let rows = q.build().fetch_all(&self.read).await.map_err(err)?;
        rows.iter().map(warning_row).collect()
    }

    async fn trail(&self, warning: i64) -> StoreResult<Vec<StoredTrail>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, body FROM flood_warning_trail WHERE warning_id = ? ORDER BY seq")
                .bind(warning)
                .fetch_all(&self.read)
                .await
                .map_err(err)?;
        rows.into_iter()
            .map(|(seq, b)| Ok(StoredTrail { warning, seq, entry: trail_from_body(warning, seq, &b)? }))
            .collect()
    }

    async fn pending_effects(&self, limit: i64) -> StoreResult<Vec<StoredEffect>> {
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "SELECT id, warning_id, created_at, body FROM flood_warning_effects WHERE done_at IS NULL
             ORDER BY id LIMIT ?",
        )
        .bind(limit.max(0))
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        rows.into_iter()
            .map(|(id, warning, at, b)| {
                Ok(StoredEffect { id, warning, effect: effect_from_body(id, &b)?, created_at: from_micros(at)? })
            })
            .collect()
    }

    async fn mark_effect_done(&self, effect: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE flood_warning_effects SET done_at = coalesce(done_at, ?) WHERE id = ?")
            .bind(micros(Utc::now()))
            .bind(effect)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(err)
    }

    async fn due_ticks(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM flood_warnings
             WHERE next_tick IS NOT NULL AND next_tick <= ? AND status <> 'lifted'
             ORDER BY next_tick, id LIMIT ?",
        )
        .bind(micros(now))
        .bind(limit.max(0))
        .fetch_all(&self.read)
        .await
        .map_err(err)
    }

    async fn store_cap(&self, cap: &StoredCap) -> StoreResult<()> {
        check_cap(cap)?;
        let mut tx = self.begin().await?;
        let known: Option<i64> = sqlx::query_scalar("SELECT id FROM flood_warnings WHERE id = ?")
            .bind(cap.warning)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
        if known.is_none() {
            return Err(StoreError::MissingReference { field: "warning" });
        }
        let stored: Option<String> =
            sqlx::query_scalar("SELECT identifier FROM flood_warning_caps WHERE warning_id = ? AND sequence = ?")
                .bind(cap.warning)
                .bind(i64::from(cap.sequence))
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
        match stored {
            // Published already (an effect re-run after a crash): nothing to write.
            Some(identifier) if identifier == cap.identifier => return Ok(()),
            Some(_) => return Err(StoreError::Conflict { field: "sequence" }),
            None => {}
        }
        sqlx::query(&format!("INSERT INTO flood_warning_caps ({CAP_READ}) VALUES (?, ?, ?, ?, ?, ?, ?)"))
            .bind(cap.warning)
            .bind(i64::from(cap.sequence))
            .bind(&cap.identifier)
            .bind(cap.msg_type.as_str())
            .bind(micros(cap.sent))
            .bind(cap.village.as_str())
            .bind(&cap.xml)
            .execute(&mut *tx)
            .await
            .map_err(write_err)?;
        tx.commit().await.map_err(err)
    }

    async fn caps(&self, warning: i64) -> StoreResult<Vec<StoredCap>> {
        let rows =
            sqlx::query(&format!("SELECT {CAP_READ} FROM flood_warning_caps WHERE warning_id = ? ORDER BY sequence"))
                .bind(warning)
                .fetch_all(&self.read)
                .await
                .map_err(err)?;
        rows.iter().map(cap_row).collect()
    }

    async fn cap(&self, identifier: &str) -> StoreResult<StoredCap> {
        let r = sqlx::query(&format!("SELECT {CAP_READ} FROM flood_warning_caps WHERE identifier = ?"))
            .bind(identifier)
            .fetch_optional(&self.read)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        cap_row(&r)
    }

    async fn recent_caps(&self, limit: i64) -> StoreResult<Vec<StoredCap>> {
        let rows = sqlx::query(&format!(
            "SELECT {CAP_READ} FROM flood_warning_caps ORDER BY sent DESC, warning_id DESC, sequence DESC LIMIT ?"
        ))
        .bind(limit.max(0))
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        rows.iter().map(cap_row).collect()
    }
}

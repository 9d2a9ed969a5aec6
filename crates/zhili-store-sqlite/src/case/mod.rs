//! Cases on SQLite (案件存储).
//!
//! `cases.body` holds the whole [`Case`] as JSON and is what is read back; the other columns are
//! projections written from the case on every insert and update, for filtering, sorting and
//! metrics. Times in columns are INTEGER microseconds since the epoch (UTC), the resolution of
//! [`zhili_core::audit::audit_time`] and of PostgreSQL. Longitude and latitude are read from
//! their REAL columns (exact binary64), not from the JSON text.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use zhili_case::model::{Case, CaseFilter, CaseOrder, TimelineEntry, TrackingCode};
use zhili_case::store::{CasePoint, CaseStore};
use zhili_case::workflow::CaseState;
use zhili_core::audit::{Actor, AuditEvent};
use zhili_core::codes::DivisionCode;
use zhili_core::store::{Page, StoreError, StoreResult};
use zhili_store_sql::audit;
use zhili_store_sql::filter::{push_case_filter, CaseFilterSql};
use zhili_store_sql::rows as shared;

use crate::{append_audit, append_audits, err, from_micros, micros, SqliteStore};

mod map;
mod metrics;
mod notify;

/// The case loop's tables, rollups and indexes (`0003`–`0013`).
pub(crate) static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/case/migrations");

/// What a case read needs: the JSON body, plus the columns that are exact where JSON is not.
pub(crate) const CASE_READ: &str = "id, lon, lat, body";

/// The projection columns after `id`, in the order [`push_case`] binds them.
const CASE_COLUMNS: &str = "version, state, kind, class_code, source, department, division, grid, reporter_id, \
    external_id, lon, lat, reported_at, filed_at, dispatched_at, closed_at, updated_at, deadline, handle_deadline, \
    handled_on_time, dispatches, returns, reworks, extensions, reopens, deferrals, score, body";

/// Rows per multi-row INSERT. A batch is written in chunks of 64, 32, 16… rows, so the writer
/// connection's statement cache holds at most seven shapes per table and every one is reused.
/// (Each statement costs a round trip to sqlx's SQLite worker thread, about 40 µs: far more
/// than SQLite's own work for a row. One statement per table per chunk, not per row, is what
/// makes group commit fast.)
const CHUNK: usize = 64;

/// Split `n` rows into chunks of at most [`CHUNK`] rows, each a power of two.
pub(crate) fn chunks(n: usize) -> impl Iterator<Item = usize> {
    chunks_of(n, CHUNK)
}

/// Rows per multi-row INSERT of cases and of timeline entries in a bulk load
/// ([`CaseStore::load_cases`]): a load is thousands of rows, so statements are larger than
/// [`CHUNK`] (fewer round trips), still powers of two (few shapes to cache) and far below
/// SQLite's limit of 32,766 bound values (29 × 256, 9 × 1024).
const BULK_CASES: usize = 256;
const BULK_EVENTS: usize = 1024;
// Every bulk statement stays below SQLite's limit of bound values.
const _: () = assert!(BULK_CASES * 29 < 32_766 && BULK_EVENTS * 9 < 32_766);
/// The writer's page cache during a bulk load (`PRAGMA cache_size`; negative: KiB): 256 MiB.
const BULK_CACHE: i64 = -262_144;

/// Split `n` rows into chunks of at most `max` rows (a power of two), each a power of two.
fn chunks_of(mut n: usize, max: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let k = if n >= max { max } else { 1 << n.checked_ilog2()? };
        n -= k;
        Some(k)
    })
}

type Values<'qb, 'args> = Separated<'qb, 'args, Sqlite, &'static str>;

/// Bind the projection columns of `c` (everything after `id`) and its JSON `body`.
fn push_case<'args>(b: &mut Values<'_, 'args>, c: &'args Case, body: &'args str) {
    let n = &c.status.counters;
    b.push_bind(c.version)
        .push_bind(c.status.state.as_str())
        .push_bind(c.kind.as_str())
        .push_bind(c.class_code.as_str())
        .push_bind(c.source.as_str())
        .push_bind(c.status.department.as_deref())
        .push_bind(c.division.as_str())
        .push_bind(c.grid.as_deref())
        .push_bind(c.reporter_id)
        .push_bind(c.external_id.as_deref())
        .push_bind(c.lon)
        .push_bind(c.lat)
        .push_bind(micros(c.reported_at))
        .push_bind(c.filed_at.map(micros))
        .push_bind(c.dispatched_at.map(micros))
        .push_bind(c.closed_at.map(micros))
        .push_bind(micros(c.updated_at))
        .push_bind(c.clock.deadline.map(micros))
        .push_bind(c.clock.handle_deadline.map(micros))
        .push_bind(c.handled_on_time.map(i64::from))
        .push_bind(i64::from(n.dispatches))
        .push_bind(i64::from(n.returns))
        .push_bind(i64::from(n.reworks))
        .push_bind(i64::from(n.extensions))
        .push_bind(i64::from(n.reopens))
        .push_bind(i64::from(n.deferrals))
        .push_bind(c.score.map(i64::from))
        .push_bind(body);
}

const EVENT_COLUMNS: &str = "case_id, seq, at, actor_id, actor, command, from_state, to_state, data";

/// Bind a timeline entry's columns after `case_id` and `seq`.
fn push_event<'args>(b: &mut Values<'_, 'args>, e: &'args TimelineEntry, data: String) {
    b.push_bind(micros(e.at))
        .push_bind(e.actor_id)
        .push_bind(e.actor.as_str())
        .push_bind(e.command.as_str())
        .push_bind(e.from_state.map(CaseState::as_str))
        .push_bind(e.to_state.as_str())
        .push_bind(data);
}

fn body(c: &Case) -> StoreResult<String> {
    serde_json::to_string(c).map_err(|e| StoreError::Other(format!("cannot encode case {}: {e}", c.id)))
}

pub(crate) fn case_row(r: &SqliteRow) -> StoreResult<Case> {
    let body: &str = r.try_get("body").map_err(err)?;
    let mut c: Case =
        serde_json::from_str(body).map_err(|e| StoreError::Other(format!("bad stored case body: {e}")))?;
    c.id = r.try_get("id").map_err(err)?;
    c.status.case_id = c.id;
    c.lon = r.try_get("lon").map_err(err)?;
    c.lat = r.try_get("lat").map_err(err)?;
    Ok(c)
}

/// `at` is INTEGER microseconds, `data` JSON text.
fn event_row(r: &SqliteRow) -> StoreResult<TimelineEntry> {
    let data: &str = r.try_get("data").map_err(err)?;
    let data = serde_json::from_str(data).map_err(|e| StoreError::Other(format!("bad stored event data: {e}")))?;
    shared::timeline_entry(r, r.try_get("seq").map_err(err)?, from_micros(r.try_get("at").map_err(err)?)?, data)
}

/// A unique violation on `cases` is the idempotency key's, or (80 random bits colliding) the
/// tracking code's.
fn case_write_err(e: sqlx::Error) -> StoreError {
    let tracking = matches!(&e, sqlx::Error::Database(d) if d.message().contains("tracking_code"));
    match err(e) {
        StoreError::Conflict { .. } if tracking => StoreError::Conflict { field: "tracking_code" },
        StoreError::Conflict { .. } => StoreError::Conflict { field: "external_id" },
        e => e,
    }
}

/// `column` starts with `prefix`. For ASCII prefixes (division and class codes) as a range the
/// column's index serves (`>= p AND < p'`, p' = p with its last character incremented; exact under
/// the BINARY collation); otherwise by `substr`. Unlike LIKE, neither treats `%` or `_` specially.
pub(crate) fn push_prefix(q: &mut QueryBuilder<'_, Sqlite>, column: &str, prefix: &str) {
    let Some(&last) = prefix.as_bytes().last() else { return };
    if prefix.is_ascii() && last < 0x7f {
        let upper = format!("{}{}", &prefix[..prefix.len() - 1], char::from(last + 1));
        q.push(format!(" AND {column} >= ")).push_bind(prefix.to_string());
        q.push(format!(" AND {column} < ")).push_bind(upper);
    } else {
        q.push(format!(" AND substr({column}, 1, ")).push_bind(prefix.chars().count() as i64);
        q.push(") = ").push_bind(prefix.to_string());
    }
}

/// How SQLite says a [`CaseFilter`]: lists as `IN (?, …)`, times as INTEGER microseconds.
pub(crate) struct Sql;

impl CaseFilterSql for Sql {
    type DB = Sqlite;
    const WHERE_ALL: &'static str = " WHERE 1 = 1";
    // `IS NOT NULL` lets the planner use the partial indexes of running clocks.
    const OVERDUE_BEFORE: &'static str = " AND deadline IS NOT NULL AND deadline < ";

    fn push_prefix(q: &mut QueryBuilder<'_, Sqlite>, column: &str, prefix: &str) {
        push_prefix(q, column, prefix);
    }

    fn push_within(q: &mut QueryBuilder<'_, Sqlite>, w: &DivisionCode) {
        // A village's range is selective and its index the way in. A township's or county's
        // (every non-admin list has one) is a large share of the table: written `+division` it
        // is still checked on the covering indexes, but the planner no longer walks the whole
        // division index instead of the state, deadline or period index (seconds at scale).
        let column = if w.as_str().len() >= 12 { "division" } else { "+division" };
        push_prefix(q, column, w.as_str());
    }

    fn push_states(q: &mut QueryBuilder<'_, Sqlite>, states: &[CaseState]) {
        if !states.is_empty() {
            q.push(" AND state IN (");
            let mut list = q.separated(", ");
            for s in states {
                list.push_bind(s.as_str());
            }
            q.push(")");
        }
    }

    fn push_grids(q: &mut QueryBuilder<'_, Sqlite>, grids: &[String]) {
        q.push(" AND grid IN (");
        let mut list = q.separated(", ");
        for g in grids {
            list.push_bind(g.clone());
        }
        q.push(")");
    }

    fn push_time(q: &mut QueryBuilder<'_, Sqlite>, t: DateTime<Utc>) {
        q.push_bind(micros(t));
    }
}

/// The WHERE clause of a [`CaseFilter`] (every field; absent or empty means "any").
pub(crate) fn push_filter(q: &mut QueryBuilder<'_, Sqlite>, f: &CaseFilter) {
    if f.closed_from.is_none() {
        push_case_filter::<Sql>(q, f, true);
        return;
    }
    // Since a closing time (a day's closings among a year's cases): the range of `cases_closed`
    // is the way in. Without statistics the planner prefers an equality on state or department
    // (every closed case of a county: 0.5 s at 200,000), so those are written as expressions,
    // checked on the range's rows.
    push_case_filter::<Sql>(q, &CaseFilter { states: Vec::new(), department: None, ..f.clone() }, true);
    if !f.states.is_empty() {
        q.push(" AND +state IN (");
        let mut list = q.separated(", ");
        for s in &f.states {
            list.push_bind(s.as_str());
        }
        q.push(")");
    }
    if let Some(d) = &f.department {
        q.push(" AND +department = ").push_bind(d.clone());
    }
}

/// The WHERE clause of a count. A whole jurisdiction (every state, nothing else) is a range of
/// the division index; [`push_filter`]'s `+division` (right for lists, and for counts with a more
/// selective condition) would read every case row of a township instead (seconds at scale).
fn push_count_filter(q: &mut QueryBuilder<'_, Sqlite>, f: &CaseFilter) {
    match &f.within {
        Some(w) if *f == CaseFilter { within: f.within.clone(), order: f.order, ..CaseFilter::default() } => {
            q.push(" WHERE 1 = 1");
            push_prefix(q, "division", w.as_str());
        }
        _ => push_filter(q, f),
    }
}

/// The worklist order: running deadlines earliest first, then cases without a running clock,
/// newest first. Written with NULLS LAST (not `deadline IS NULL, …`) so that the indexes
/// `(…, state, deadline, id DESC)` deliver it without sorting when one state is asked for.
const WORKLIST_ORDER: &str = "deadline ASC NULLS LAST, id DESC";
/// The same order for a list within a period: `+deadline` (an expression) keeps the planner from
/// walking a whole order index (millions of rows at scale) checking each row's report time; it
/// reads the period's range (`cases_map`, or `cases_state_reported` with a state) and sorts it.
const PERIOD_ORDER: &str = "+deadline ASC NULLS LAST, id DESC";

/// `CASE … END`: a case's block in the order [`CaseOrder::Upcoming`] at `now` (0 running,
/// 1 overdue, 2 without a running clock).
fn push_upcoming_block(q: &mut QueryBuilder<'_, Sqlite>, now: DateTime<Utc>) {
    q.push("CASE WHEN deadline IS NULL THEN 2 WHEN deadline < ").push_bind(micros(now)).push(" THEN 1 ELSE 0 END");
}

impl SqliteStore {
    /// A page in the order [`CaseOrder::Upcoming`]: three walks that stop at the page's end
    /// (the running clocks from `now` up, the overdue ones from `now` down, the rest newest
    /// first), each on the order indexes (`cases_state_deadline`, `cases_department`,
    /// `cases_running`), merged. Within a period or since a closing time, the cases of that
    /// range are read and sorted instead (a walk would check every overdue or stopped case's
    /// report time).
    async fn cases_upcoming(&self, filter: &CaseFilter, now: DateTime<Utc>, page: Page) -> StoreResult<Vec<Case>> {
        let (limit, offset) = (page.limit.max(0), page.offset.max(0));
        let mut q = QueryBuilder::<Sqlite>::new("SELECT c.id, c.lon, c.lat, c.body FROM (");
        if filter.from.is_some() || filter.to.is_some() || filter.closed_from.is_some() {
            q.push("SELECT id, deadline, ");
            push_upcoming_block(&mut q, now);
            q.push(" AS r FROM cases");
            push_filter(&mut q, filter);
            q.push(" ORDER BY r, CASE WHEN r = 0 THEN deadline END, +deadline DESC, id DESC");
        } else {
            let end = offset.saturating_add(limit);
            q.push("SELECT id, deadline, r FROM (SELECT * FROM (SELECT id, deadline, 0 AS r FROM cases");
            push_filter(&mut q, filter);
            q.push(" AND deadline >= ").push_bind(micros(now));
            q.push(" ORDER BY deadline, id DESC LIMIT ").push_bind(end);
            q.push(") UNION ALL SELECT * FROM (SELECT id, deadline, 1 AS r FROM cases");
            push_filter(&mut q, filter);
            q.push(" AND deadline < ").push_bind(micros(now));
            q.push(" ORDER BY deadline DESC, id DESC LIMIT ").push_bind(end);
            q.push(") UNION ALL SELECT * FROM (SELECT id, NULL AS deadline, 2 AS r FROM cases");
            push_filter(&mut q, filter);
            q.push(" AND deadline IS NULL ORDER BY id DESC LIMIT ").push_bind(end);
            q.push(")) ORDER BY r, CASE WHEN r = 0 THEN deadline END, deadline DESC, id DESC");
        }
        q.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        q.push(
            ") AS p CROSS JOIN cases AS c ON c.id = p.id \
             ORDER BY p.r, CASE WHEN p.r = 0 THEN p.deadline END, p.deadline DESC, p.id DESC",
        );
        let rows = q.build().fetch_all(&self.read).await.map_err(err)?;
        rows.iter().map(case_row).collect()
    }
}

#[async_trait]
impl CaseStore for SqliteStore {
    async fn create_cases(&self, reports: &[(Actor, Case, TimelineEntry)]) -> StoreResult<Vec<Case>> {
        if reports.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        // Keys stored before: one lookup for the whole batch.
        let keys: Vec<&str> = reports.iter().filter_map(|(_, c, _)| c.external_id.as_deref()).collect();
        let mut by_key: HashMap<String, Case> = HashMap::new();
        if !keys.is_empty() {
            let rows = sqlx::query(
                "SELECT c.id, c.lon, c.lat, c.body FROM json_each(?) AS k CROSS JOIN cases AS c ON c.external_id = k.value",
            )
            .bind(serde_json::Value::from(keys).to_string())
            .fetch_all(&mut *tx)
            .await
            .map_err(err)?;
            for r in &rows {
                let c = case_row(r)?;
                if let Some(k) = c.external_id.clone() {
                    by_key.insert(k, c);
                }
            }
        }
        // Under BEGIN IMMEDIATE nobody else inserts, so ids are assigned here and written into the
        // body with the row (cases are never deleted, so ids are not reused).
        let first_id: i64 =
            sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM cases").fetch_one(&mut *tx).await.map_err(err)?;
        let mut next_id = first_id;
        // The answer in order; `fresh` pairs each report stored now with its place in `out` (a key
        // seen earlier in the batch or stored before takes the stored case's place, writing nothing).
        let mut out: Vec<Case> = Vec::with_capacity(reports.len());
        let mut fresh: Vec<(usize, usize)> = Vec::with_capacity(reports.len());
        for (i, (_, case, _)) in reports.iter().enumerate() {
            if let Some(stored) = case.external_id.as_deref().and_then(|k| by_key.get(k)) {
                out.push(stored.clone());
                continue;
            }
            let mut c = case.clone();
            c.id = next_id;
            c.status.case_id = next_id;
            next_id += 1;
            if let Some(k) = &c.external_id {
                by_key.insert(k.clone(), c.clone());
            }
            fresh.push((i, out.len()));
            out.push(c);
        }
        // References, checked for the batch in two lookups (SQLite's foreign key errors do not
        // name the column); the first bad report, in order, names its field.
        let divisions: HashSet<&str> = fresh.iter().map(|&(i, _)| reports[i].1.division.as_str()).collect();
        let known: HashSet<String> =
            sqlx::query_scalar("SELECT d.code FROM json_each(?) AS k CROSS JOIN divisions AS d ON d.code = k.value")
                .bind(serde_json::Value::from(divisions.into_iter().collect::<Vec<_>>()).to_string())
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?
                .into_iter()
                .collect();
        let reporters: HashSet<i64> = fresh.iter().filter_map(|&(i, _)| reports[i].1.reporter_id).collect();
        let users: HashSet<i64> = if reporters.is_empty() {
            HashSet::new()
        } else {
            sqlx::query_scalar("SELECT u.id FROM json_each(?) AS k CROSS JOIN users AS u ON u.id = k.value")
                .bind(serde_json::Value::from(reporters.into_iter().collect::<Vec<_>>()).to_string())
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?
                .into_iter()
                .collect()
        };
        for &(i, _) in &fresh {
            let c = &reports[i].1;
            if !known.contains(c.division.as_str()) {
                return Err(StoreError::MissingReference { field: "division" });
            }
            if c.reporter_id.is_some_and(|u| !users.contains(&u)) {
                return Err(StoreError::MissingReference { field: "reporter_id" });
            }
        }
        // The new rows: (stored case, its body, its report entry), in order.
        let mut rows: Vec<(&Case, String, &TimelineEntry)> = Vec::with_capacity(fresh.len());
        let mut audits: Vec<AuditEvent> = Vec::with_capacity(fresh.len());
        for &(i, at) in &fresh {
            let (actor, _, entry) = &reports[i];
            let c = &out[at];
            audits.push(audit::case_report(actor, c));
            rows.push((c, body(c)?, entry));
        }
        let mut rest = rows.as_slice();
        for n in chunks(rows.len()) {
            let (part, more) = rest.split_at(n);
            rest = more;
            let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO cases (id, {CASE_COLUMNS}) "));
            q.push_values(part, |mut b, (c, body, _)| {
                b.push_bind(c.id);
                push_case(&mut b, c, body);
            });
            q.build().execute(&mut *tx).await.map_err(case_write_err)?;
            let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO case_events ({EVENT_COLUMNS}) "));
            q.push_values(part, |mut b, (c, _, entry)| {
                b.push_bind(c.id).push_bind(1i64);
                push_event(&mut b, entry, entry.data.to_string());
            });
            q.build().execute(&mut *tx).await.map_err(err)?;
        }
        if !rows.is_empty() {
            metrics::add_to_rollup(&mut tx, first_id - 1).await?;
        }
        append_audits(&mut tx, &audits).await?;
        tx.commit().await.map_err(err)?;
        Ok(out)
    }

    async fn load_cases(&self, actor: &Actor, cases: &[(Case, Vec<TimelineEntry>)]) -> StoreResult<u64> {
        if cases.is_empty() {
            return Ok(0);
        }
        if cases.iter().any(|(_, timeline)| timeline.is_empty()) {
            return Err(StoreError::Other("every loaded case needs its timeline, from the report on".into()));
        }
        // A load touches leaf pages all over every index of `cases`; with SQLite's default page
        // cache (2 MiB) the transaction would spill dirty pages to the WAL again and again. The
        // writer gets a larger cache for this call only (memory is taken as pages are used).
        let previous: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&self.write).await.map_err(err)?;
        sqlx::query(&format!("PRAGMA cache_size = {BULK_CACHE}")).execute(&self.write).await.map_err(err)?;
        let loaded = self.load_cases_tx(actor, cases).await;
        // Whatever happened, back to the usual cache (a failure here only leaves it larger).
        let _ = sqlx::query(&format!("PRAGMA cache_size = {previous}")).execute(&self.write).await;
        loaded
    }

    async fn case(&self, id: i64) -> StoreResult<Case> {
        let r = sqlx::query(&format!("SELECT {CASE_READ} FROM cases WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        case_row(&r)
    }

    async fn case_by_tracking_code(&self, code: &TrackingCode) -> StoreResult<Case> {
        let r = sqlx::query(&format!("SELECT {CASE_READ} FROM cases WHERE tracking_code = ?"))
            .bind(code.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        case_row(&r)
    }

    async fn update_case(&self, actor: &Actor, case: &Case, entry: &TimelineEntry) -> StoreResult<()> {
        let body = body(case)?;
        let mut q = QueryBuilder::<Sqlite>::new(format!("UPDATE cases SET ({CASE_COLUMNS}) = ("));
        push_case(&mut q.separated(", "), case, &body);
        q.push(") WHERE id = ").push_bind(case.id).push(" AND version = ").push_bind(case.version - 1);
        let mut tx = self.begin().await?;
        let n = q.build().execute(&mut *tx).await.map_err(case_write_err)?.rows_affected();
        if n == 0 {
            let current: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE id = ?")
                .bind(case.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
            return Err(match current {
                Some(current) => StoreError::Stale { current },
                None => StoreError::NotFound,
            });
        }
        // The entry's own `seq` is ignored: it is the case's next number.
        let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO case_events ({EVENT_COLUMNS}) VALUES ("));
        {
            let mut b = q.separated(", ");
            b.push_bind(case.id);
            b.push("(SELECT coalesce(max(seq), 0) + 1 FROM case_events WHERE case_id = ")
                .push_bind_unseparated(case.id)
                .push_unseparated(")");
            push_event(&mut b, entry, entry.data.to_string());
        }
        q.push(") RETURNING seq");
        let seq: i64 = q.build_query_scalar().fetch_one(&mut *tx).await.map_err(err)?;
        append_audit(&mut tx, &audit::case_transition(actor, case, entry, seq)).await?;
        tx.commit().await.map_err(err)
    }

    async fn timeline(&self, id: i64) -> StoreResult<Vec<TimelineEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_id, actor, command, from_state, to_state, data FROM case_events
             WHERE case_id = ? ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        // Every case has its report entry: no entries means no case.
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        rows.iter().map(event_row).collect()
    }

    async fn cases(&self, filter: &CaseFilter, page: Page) -> StoreResult<Vec<Case>> {
        match filter.order {
            CaseOrder::Deadline => {}
            CaseOrder::Upcoming { now } => return self.cases_upcoming(filter, now, page).await,
            CaseOrder::Newest => {
                let mut q = QueryBuilder::<Sqlite>::new("SELECT c.id, c.lon, c.lat, c.body FROM (SELECT id FROM cases");
                push_filter(&mut q, filter);
                // Within a period or since a closing time, that range is read and sorted (`+id`):
                // walking the table by id would check every case's time.
                let ranged = filter.from.is_some() || filter.to.is_some() || filter.closed_from.is_some();
                q.push(if ranged { " ORDER BY +id DESC LIMIT " } else { " ORDER BY id DESC LIMIT " });
                q.push_bind(page.limit).push(" OFFSET ").push_bind(page.offset);
                q.push(") AS p CROSS JOIN cases AS c ON c.id = p.id ORDER BY c.id DESC");
                let rows = q.build().fetch_all(&self.read).await.map_err(err)?;
                return rows.iter().map(case_row).collect();
            }
        }
        // Choose the page on the indexes alone (ids), then read the bodies of that page only.
        let mut q = QueryBuilder::<Sqlite>::new("SELECT c.id, c.lon, c.lat, c.body FROM (");
        let period = filter.from.is_some() || filter.to.is_some();
        if filter.states.is_empty() && !period && filter.overdue_at.is_none() {
            // Every state (a leader's or a county's whole list: millions at scale). Sorting
            // them all for one page took seconds; the order is two walks that stop early: the
            // running deadlines in order (`cases_running`), then the rest newest first (the
            // table by id), each up to the page's end, merged.
            let end = page.offset.max(0) + page.limit.max(0);
            q.push("SELECT id, deadline FROM (SELECT id, deadline FROM cases");
            push_filter(&mut q, filter);
            q.push(" AND deadline IS NOT NULL ORDER BY deadline, id DESC LIMIT ").push_bind(end);
            q.push(") UNION ALL SELECT id, NULL FROM (SELECT id FROM cases");
            push_filter(&mut q, filter);
            q.push(" AND deadline IS NULL ORDER BY id DESC LIMIT ").push_bind(end);
            q.push(format!(") ORDER BY {WORKLIST_ORDER}"));
        } else {
            let order = if period { PERIOD_ORDER } else { WORKLIST_ORDER };
            q.push("SELECT id FROM cases");
            push_filter(&mut q, filter);
            q.push(format!(" ORDER BY {order}"));
        }
        q.push(" LIMIT ")
            .push_bind(page.limit)
            .push(" OFFSET ")
            .push_bind(page.offset)
            .push(") AS p CROSS JOIN cases AS c ON c.id = p.id ORDER BY c.deadline ASC NULLS LAST, c.id DESC");
        let rows = q.build().fetch_all(&self.read).await.map_err(err)?;
        rows.iter().map(case_row).collect()
    }

    async fn count_cases_upto(&self, filter: &CaseFilter, cap: i64) -> StoreResult<i64> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM (SELECT 1 FROM cases");
        push_count_filter(&mut q, filter);
        q.push(" LIMIT ").push_bind(cap.max(0)).push(")");
        q.build_query_scalar().fetch_one(&self.read).await.map_err(err)
    }

    async fn count_cases(&self, filter: &CaseFilter) -> StoreResult<i64> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM cases");
        push_count_filter(&mut q, filter);
        q.build_query_scalar().fetch_one(&self.read).await.map_err(err)
    }

    async fn open_cases_near(&self, probes: &[(String, [f64; 4])], limit: i64) -> StoreResult<Vec<Vec<CasePoint>>> {
        if probes.is_empty() {
            return Ok(Vec::new());
        }
        // One statement for the batch, and one JSON row per probe: each row fetched is a round
        // trip to the connection's thread, which cost more than the lookups themselves. The
        // probes are parsed once (materialized), not at every comparison.
        let probes_json = serde_json::Value::from(
            probes
                .iter()
                .map(|(class, [x0, y0, x1, y1])| serde_json::json!([class, x0, y0, x1, y1]))
                .collect::<Vec<_>>(),
        );
        let found: Vec<String> = sqlx::query_scalar(
            "WITH p AS MATERIALIZED (
                SELECT key AS i, value ->> 0 AS class, value ->> 1 AS x0, value ->> 2 AS y0,
                       value ->> 3 AS x1, value ->> 4 AS y1
                  FROM json_each(?2))
             SELECT (SELECT json_group_array(json_array(id, lon, lat, state, class_code, deadline)) FROM (
                        SELECT id, lon, lat, state, class_code, deadline FROM cases
                         WHERE class_code = p.class AND lon BETWEEN p.x0 AND p.x1 AND lat BETWEEN p.y0 AND p.y1
                           AND state NOT IN ('closed', 'evaluated', 'voided')
                         ORDER BY id LIMIT ?1))
               FROM p ORDER BY p.i",
        )
        .bind(limit)
        .bind(probes_json.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        type Point = (i64, f64, f64, String, String, Option<i64>);
        found
            .iter()
            .map(|text| {
                let points: Vec<Point> = serde_json::from_str(text)
                    .map_err(|e| StoreError::Other(format!("open cases near a point did not parse: {e}")))?;
                points
                    .into_iter()
                    .map(|(id, lon, lat, state, class_code, deadline)| {
                        Ok(CasePoint {
                            id,
                            lon,
                            lat,
                            state: shared::case_state(&state)?,
                            class_code,
                            deadline: deadline.map(from_micros).transpose()?,
                        })
                    })
                    .collect()
            })
            .collect()
    }
}

impl SqliteStore {
    /// [`CaseStore::load_cases`] in its transaction.
    async fn load_cases_tx(&self, actor: &Actor, cases: &[(Case, Vec<TimelineEntry>)]) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        // References, checked for the whole call in two lookups, as in create_cases.
        let divisions: HashSet<&str> = cases.iter().map(|(c, _)| c.division.as_str()).collect();
        let known: HashSet<String> =
            sqlx::query_scalar("SELECT d.code FROM json_each(?) AS k CROSS JOIN divisions AS d ON d.code = k.value")
                .bind(serde_json::Value::from(divisions.iter().copied().collect::<Vec<_>>()).to_string())
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?
                .into_iter()
                .collect();
        if divisions.len() != known.len() {
            return Err(StoreError::MissingReference { field: "division" });
        }
        let reporters: HashSet<i64> = cases.iter().filter_map(|(c, _)| c.reporter_id).collect();
        if !reporters.is_empty() {
            let found: i64 =
                sqlx::query_scalar("SELECT count(*) FROM json_each(?) AS k CROSS JOIN users AS u ON u.id = k.value")
                    .bind(serde_json::Value::from(reporters.iter().copied().collect::<Vec<_>>()).to_string())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?;
            if found != reporters.len() as i64 {
                return Err(StoreError::MissingReference { field: "reporter_id" });
            }
        }
        // Ids under the write lock, as in create_cases.
        let first: i64 =
            sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM cases").fetch_one(&mut *tx).await.map_err(err)?;
        let mut rows: Vec<(Case, String)> = Vec::with_capacity(cases.len());
        for (i, (case, _)) in cases.iter().enumerate() {
            let mut c = case.clone();
            c.id = first + i as i64;
            c.status.case_id = c.id;
            let b = body(&c)?;
            rows.push((c, b));
        }
        let mut rest = rows.as_slice();
        for n in chunks_of(rows.len(), BULK_CASES) {
            let (part, more) = rest.split_at(n);
            rest = more;
            let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO cases (id, {CASE_COLUMNS}) "));
            q.push_values(part, |mut b, (c, body)| {
                b.push_bind(c.id);
                push_case(&mut b, c, body);
            });
            q.build().execute(&mut *tx).await.map_err(case_write_err)?;
        }
        // Every entry of every timeline, numbered from 1 per case.
        let events: Vec<(i64, i64, &TimelineEntry)> = rows
            .iter()
            .zip(cases)
            .flat_map(|((c, _), (_, timeline))| timeline.iter().enumerate().map(|(k, e)| (c.id, k as i64 + 1, e)))
            .collect();
        let mut rest = events.as_slice();
        for n in chunks_of(events.len(), BULK_EVENTS) {
            let (part, more) = rest.split_at(n);
            rest = more;
            let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO case_events ({EVENT_COLUMNS}) "));
            q.push_values(part, |mut b, (id, seq, e)| {
                b.push_bind(*id).push_bind(*seq);
                push_event(&mut b, e, e.data.to_string());
            });
            q.build().execute(&mut *tx).await.map_err(err)?;
        }
        metrics::add_to_rollup(&mut tx, first - 1).await?;
        let last = first + rows.len() as i64 - 1;
        append_audits(&mut tx, &[audit::case_bulk_load(actor, rows.len(), first, last)]).await?;
        tx.commit().await.map_err(err)?;
        Ok(rows.len() as u64)
    }
}

/// Register the case loop's ports.
pub(crate) fn register(store: &std::sync::Arc<SqliteStore>, ports: &mut zhili_core::ports::Ports) {
    use zhili_case::store::{CaseMapStore, CaseMetricsStore, EscalationStore};
    ports.add::<dyn CaseStore>(store.clone());
    ports.add::<dyn CaseMetricsStore>(store.clone());
    ports.add::<dyn CaseMapStore>(store.clone());
    ports.add::<dyn EscalationStore>(store.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_up_to_the_chunk_size_and_cover_every_row() {
        assert_eq!(chunks(0).count(), 0);
        assert_eq!(chunks(1).collect::<Vec<_>>(), vec![1]);
        assert_eq!(chunks(64).collect::<Vec<_>>(), vec![64]);
        assert_eq!(chunks(100).collect::<Vec<_>>(), vec![64, 32, 4]);
        assert_eq!(chunks(63).collect::<Vec<_>>(), vec![32, 16, 8, 4, 2, 1]);
        for n in 0..300 {
            let parts: Vec<usize> = chunks(n).collect();
            assert_eq!(parts.iter().sum::<usize>(), n);
            assert!(parts.iter().all(|k| k.is_power_of_two() && *k <= CHUNK));
        }
    }

    #[test]
    fn bulk_chunks_are_powers_of_two_up_to_their_size() {
        assert_eq!(chunks_of(5_000, BULK_CASES).filter(|&k| k == BULK_CASES).count(), 19);
        assert_eq!(chunks_of(5_000, BULK_CASES).skip(19).collect::<Vec<_>>(), vec![128, 8]);
        for n in [0, 1, 1023, 1024, 1025, 40_000] {
            let parts: Vec<usize> = chunks_of(n, BULK_EVENTS).collect();
            assert_eq!(parts.iter().sum::<usize>(), n);
            assert!(parts.iter().all(|k| k.is_power_of_two() && *k <= BULK_EVENTS));
        }
    }

    #[test]
    fn prefixes_are_ranges_for_codes_and_exact_otherwise() {
        let sql = |p: &str| {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT 1 FROM cases WHERE 1 = 1");
            push_prefix(&mut q, "division", p);
            q.into_sql()
        };
        assert_eq!(sql(""), "SELECT 1 FROM cases WHERE 1 = 1");
        assert!(sql("370304").ends_with("AND division >= ? AND division < ?"));
        assert!(sql("城").contains("substr(division, 1, ?) = ?"));
    }
}

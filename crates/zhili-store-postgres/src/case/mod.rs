//! Cases on PostgreSQL/PostGIS (案件存储).
//!
//! `cases.body` holds the whole [`Case`] as JSON and is what reads return; the other columns are
//! projections written from the case on every insert and update, for filters, the worklist
//! order and metrics. A batch of reports is one transaction with a fixed number of statements
//! whatever its size: ids drawn in one query, cases, timeline entries and audit rows each
//! inserted with one `unnest` of parallel arrays, and the audit chain advanced once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use zhili_case::model::{Case, CaseFilter, CaseOrder, TimelineEntry, TrackingCode};
use zhili_case::store::{CasePoint, CaseStore};
use zhili_case::workflow::CaseState;
use zhili_core::audit::Actor;
use zhili_core::store::{Page, StoreError, StoreResult};
use zhili_store_sql::audit;
use zhili_store_sql::filter::{push_case_filter, CaseFilterSql};
use zhili_store_sql::rows as shared;

use crate::{append_audits, err, PgStore};

mod map;
mod metrics;
mod notify;

/// The case loop's tables, rollups and indexes (`0003`–`0011`).
pub(crate) static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/case/migrations");

/// [`err`], naming the field of the constraints of the case tables.
fn case_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        let field = match d.constraint() {
            Some("cases_division_fkey") => Some("division"),
            Some("cases_reporter_id_fkey") => Some("reporter_id"),
            Some("cases_external_id_key") => Some("external_id"),
            Some("cases_tracking_code") => Some("tracking_code"),
            Some("case_events_case_id_fkey") => Some("case_id"),
            _ => None,
        };
        match field {
            Some(field) if d.is_foreign_key_violation() => return StoreError::MissingReference { field },
            Some(field) if d.is_unique_violation() => return StoreError::Conflict { field },
            _ => {}
        }
    }
    err(e)
}

/// The stored body of a case.
fn body(c: &Case) -> StoreResult<String> {
    serde_json::to_string(c).map_err(|e| StoreError::Other(format!("cannot encode case {} as JSON: {e}", c.id)))
}

/// A case from its stored body; the row's id is the truth for `id`.
fn case_from_body(id: i64, body: &str) -> StoreResult<Case> {
    let mut c: Case =
        serde_json::from_str(body).map_err(|e| StoreError::Other(format!("bad stored body of case {id}: {e}")))?;
    c.id = id;
    c.status.case_id = id;
    Ok(c)
}

pub(crate) fn case_row(r: &PgRow) -> StoreResult<Case> {
    case_from_body(r.try_get("id").map_err(err)?, &r.try_get::<String, _>("body").map_err(err)?)
}

fn counter(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The exclusive upper bound of the strings that start with `prefix` in byte order (the "C"
/// collation of the code columns), if its last character is ASCII below DEL: `prefix <= x <
/// upper` is then exactly `x LIKE 'prefix%'`, and uses a b-tree index even in a generic plan.
fn prefix_upper(prefix: &str) -> Option<String> {
    let last = *prefix.as_bytes().last()?;
    (last < 0x7f).then(|| format!("{}{}", &prefix[..prefix.len() - 1], char::from(last + 1)))
}

/// `LIKE` pattern matching strings that start with `prefix` literally.
fn like_prefix(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 1);
    for ch in prefix.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// `AND column starts with prefix`.
pub(crate) fn push_prefix(q: &mut QueryBuilder<'_, Postgres>, column: &str, prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    match prefix_upper(prefix) {
        Some(upper) => {
            q.push(format_args!(" AND {column} >= ")).push_bind(prefix.to_string());
            q.push(format_args!(" AND {column} < ")).push_bind(upper);
        }
        None => {
            q.push(format_args!(" AND {column} LIKE ")).push_bind(like_prefix(prefix));
        }
    }
}

/// The states, each once, in the order given.
fn distinct_states(states: &[CaseState]) -> Vec<String> {
    let mut v: Vec<String> = Vec::with_capacity(states.len());
    for s in states {
        if !v.iter().any(|x| x == s.as_str()) {
            v.push(s.as_str().to_string());
        }
    }
    v
}

/// How PostgreSQL says a [`CaseFilter`]: lists as one bound array (`= ANY($n)`), times as
/// `timestamptz`.
pub(crate) struct Sql;

impl CaseFilterSql for Sql {
    type DB = Postgres;
    const WHERE_ALL: &'static str = " WHERE true";
    const OVERDUE_BEFORE: &'static str = " AND deadline < ";

    fn push_prefix(q: &mut QueryBuilder<'_, Postgres>, column: &str, prefix: &str) {
        push_prefix(q, column, prefix);
    }

    fn push_states(q: &mut QueryBuilder<'_, Postgres>, states: &[CaseState]) {
        let mut states = distinct_states(states);
        if states.len() == 1 {
            // Plain equality, not `= ANY` of one: only then does PostgreSQL (before 17) read the
            // (…, state, deadline, id DESC) indexes in the worklist order.
            q.push(" AND state = ").push_bind(states.pop());
        } else if !states.is_empty() {
            q.push(" AND state = ANY(").push_bind(states).push(")");
        }
    }

    fn push_grids(q: &mut QueryBuilder<'_, Postgres>, grids: &[String]) {
        q.push(" AND grid = ANY(").push_bind(grids.to_vec()).push(")");
    }

    fn push_time(q: &mut QueryBuilder<'_, Postgres>, t: DateTime<Utc>) {
        q.push_bind(t);
    }
}

/// The `WHERE` clause of a filter; every value is bound. With `with_states` false the states
/// are left to the caller.
pub(crate) fn push_filter(q: &mut QueryBuilder<'_, Postgres>, f: &CaseFilter, with_states: bool) {
    push_case_filter::<Sql>(q, f, with_states);
}

/// The projected columns of many cases, as parallel arrays for one `unnest` insert.
#[derive(Default)]
struct CaseColumns {
    id: Vec<i64>,
    version: Vec<i64>,
    state: Vec<&'static str>,
    kind: Vec<&'static str>,
    class_code: Vec<String>,
    source: Vec<&'static str>,
    department: Vec<Option<String>>,
    division: Vec<String>,
    grid: Vec<Option<String>>,
    reporter_id: Vec<Option<i64>>,
    external_id: Vec<Option<String>>,
    lon: Vec<f64>,
    lat: Vec<f64>,
    reported_at: Vec<DateTime<Utc>>,
    filed_at: Vec<Option<DateTime<Utc>>>,
    dispatched_at: Vec<Option<DateTime<Utc>>>,
    closed_at: Vec<Option<DateTime<Utc>>>,
    updated_at: Vec<DateTime<Utc>>,
    deadline: Vec<Option<DateTime<Utc>>>,
    handle_deadline: Vec<Option<DateTime<Utc>>>,
    handled_on_time: Vec<Option<bool>>,
    dispatches: Vec<i32>,
    returns: Vec<i32>,
    reworks: Vec<i32>,
    extensions: Vec<i32>,
    reopens: Vec<i32>,
    deferrals: Vec<i32>,
    score: Vec<Option<i16>>,
    body: Vec<String>,
}

impl CaseColumns {
    fn push(&mut self, c: &Case) -> StoreResult<()> {
        let n = &c.status.counters;
        self.id.push(c.id);
        self.version.push(c.version);
        self.state.push(c.status.state.as_str());
        self.kind.push(c.kind.as_str());
        self.class_code.push(c.class_code.as_str().to_string());
        self.source.push(c.source.as_str());
        self.department.push(c.status.department.clone());
        self.division.push(c.division.as_str().to_string());
        self.grid.push(c.grid.clone());
        self.reporter_id.push(c.reporter_id);
        self.external_id.push(c.external_id.clone());
        self.lon.push(c.lon);
        self.lat.push(c.lat);
        self.reported_at.push(c.reported_at);
        self.filed_at.push(c.filed_at);
        self.dispatched_at.push(c.dispatched_at);
        self.closed_at.push(c.closed_at);
        self.updated_at.push(c.updated_at);
        self.deadline.push(c.clock.deadline);
        self.handle_deadline.push(c.clock.handle_deadline);
        self.handled_on_time.push(c.handled_on_time);
        self.dispatches.push(counter(n.dispatches));
        self.returns.push(counter(n.returns));
        self.reworks.push(counter(n.reworks));
        self.extensions.push(counter(n.extensions));
        self.reopens.push(counter(n.reopens));
        self.deferrals.push(counter(n.deferrals));
        self.score.push(c.score.map(i16::from));
        self.body.push(body(c)?);
        Ok(())
    }

    /// Insert the cases whose `external_id` is not stored yet; returns the ids inserted.
    async fn insert(self, tx: &mut PgConnection) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar(
            "INSERT INTO cases (id, version, state, kind, class_code, source, department, division, grid,
                 reporter_id, external_id, lon, lat, reported_at, filed_at, dispatched_at, closed_at, updated_at,
                 deadline, handle_deadline, handled_on_time, dispatches, returns, reworks, extensions, reopens,
                 deferrals, score, body)
             SELECT id, version, state, kind, class_code, source, department, division, grid,
                 reporter_id, external_id, lon, lat, reported_at, filed_at, dispatched_at, closed_at, updated_at,
                 deadline, handle_deadline, handled_on_time, dispatches, returns, reworks, extensions, reopens,
                 deferrals, score, body::jsonb
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::text[], $9::text[], $10::bigint[], $11::text[], $12::float8[], $13::float8[],
                 $14::timestamptz[], $15::timestamptz[], $16::timestamptz[], $17::timestamptz[], $18::timestamptz[],
                 $19::timestamptz[], $20::timestamptz[], $21::boolean[], $22::int[], $23::int[], $24::int[],
                 $25::int[], $26::int[], $27::int[], $28::smallint[], $29::text[])
                 AS t (id, version, state, kind, class_code, source, department, division, grid,
                 reporter_id, external_id, lon, lat, reported_at, filed_at, dispatched_at, closed_at, updated_at,
                 deadline, handle_deadline, handled_on_time, dispatches, returns, reworks, extensions, reopens,
                 deferrals, score, body)
             ON CONFLICT (external_id) DO NOTHING
             RETURNING id",
        )
        .bind(self.id)
        .bind(self.version)
        .bind(self.state)
        .bind(self.kind)
        .bind(self.class_code)
        .bind(self.source)
        .bind(self.department)
        .bind(self.division)
        .bind(self.grid)
        .bind(self.reporter_id)
        .bind(self.external_id)
        .bind(self.lon)
        .bind(self.lat)
        .bind(self.reported_at)
        .bind(self.filed_at)
        .bind(self.dispatched_at)
        .bind(self.closed_at)
        .bind(self.updated_at)
        .bind(self.deadline)
        .bind(self.handle_deadline)
        .bind(self.handled_on_time)
        .bind(self.dispatches)
        .bind(self.returns)
        .bind(self.reworks)
        .bind(self.extensions)
        .bind(self.reopens)
        .bind(self.deferrals)
        .bind(self.score)
        .bind(self.body)
        .fetch_all(&mut *tx)
        .await
        .map_err(case_err)
    }
}

/// Timeline entries of many cases, as parallel arrays for one `unnest` insert.
#[derive(Default)]
struct EventColumns {
    case_id: Vec<i64>,
    seq: Vec<i32>,
    at: Vec<DateTime<Utc>>,
    actor_id: Vec<Option<i64>>,
    actor: Vec<String>,
    command: Vec<String>,
    from_state: Vec<Option<&'static str>>,
    to_state: Vec<&'static str>,
    data: Vec<String>,
}

impl EventColumns {
    fn push(&mut self, case_id: i64, seq: i32, e: &TimelineEntry) {
        self.case_id.push(case_id);
        self.seq.push(seq);
        self.at.push(e.at);
        self.actor_id.push(e.actor_id);
        self.actor.push(e.actor.clone());
        self.command.push(e.command.clone());
        self.from_state.push(e.from_state.map(CaseState::as_str));
        self.to_state.push(e.to_state.as_str());
        self.data.push(e.data.to_string());
    }

    async fn insert(self, tx: &mut PgConnection) -> StoreResult<()> {
        if self.case_id.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO case_events (case_id, seq, at, actor_id, actor, command, from_state, to_state, data)
             SELECT case_id, seq, at, actor_id, actor, command, from_state, to_state, data::jsonb
             FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::bigint[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::text[])
                 AS t (case_id, seq, at, actor_id, actor, command, from_state, to_state, data)",
        )
        .bind(self.case_id)
        .bind(self.seq)
        .bind(self.at)
        .bind(self.actor_id)
        .bind(self.actor)
        .bind(self.command)
        .bind(self.from_state)
        .bind(self.to_state)
        .bind(self.data)
        .execute(&mut *tx)
        .await
        .map_err(case_err)?;
        Ok(())
    }
}

/// Stored cases by external id.
async fn cases_by_external_id(
    tx: &mut PgConnection,
    keys: Vec<String>,
) -> StoreResult<std::collections::HashMap<String, Case>> {
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let rows = sqlx::query("SELECT id, body::text AS body FROM cases WHERE external_id = ANY($1)")
        .bind(keys)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
    rows.iter()
        .map(|r| {
            let c = case_row(r)?;
            Ok((c.external_id.clone().unwrap_or_default(), c))
        })
        .collect()
}

/// Where the case for one slot of a batch comes from.
enum Slot {
    /// Stored before this batch.
    Stored(Box<Case>),
    /// New in this batch: index into the new cases.
    New(usize),
}

const CASE_LIST: &str = "SELECT id, body::text AS body FROM cases";

impl PgStore {
    /// A page in the order [`CaseOrder::Upcoming`]: three walks that stop at the page's end
    /// (the running clocks from `now` up, the overdue ones from `now` down, the rest newest
    /// first) on the (…, deadline, id DESC) indexes, merged. Within a period or since a closing
    /// time, that range is read and sorted instead.
    async fn cases_upcoming(&self, filter: &CaseFilter, now: DateTime<Utc>, page: Page) -> StoreResult<Vec<Case>> {
        let (limit, offset) = (page.limit.max(0), page.offset.max(0));
        let mut q = QueryBuilder::<Postgres>::new("SELECT c.id, c.body::text AS body FROM (");
        if filter.from.is_some() || filter.to.is_some() || filter.closed_from.is_some() {
            q.push("SELECT id, deadline, CASE WHEN deadline IS NULL THEN 2 WHEN deadline < ")
                .push_bind(now)
                .push(" THEN 1 ELSE 0 END AS r FROM cases");
            push_filter(&mut q, filter, true);
            q.push(" ORDER BY 3, CASE WHEN deadline >= ")
                .push_bind(now)
                .push(" THEN deadline END, deadline + interval '0 s' DESC, id DESC");
        } else {
            let end = offset.saturating_add(limit);
            q.push("SELECT * FROM ((SELECT id, deadline, 0 AS r FROM cases");
            push_filter(&mut q, filter, true);
            q.push(" AND deadline >= ").push_bind(now);
            q.push(" ORDER BY deadline, id DESC LIMIT ").push_bind(end);
            q.push(") UNION ALL (SELECT id, deadline, 1 AS r FROM cases");
            push_filter(&mut q, filter, true);
            q.push(" AND deadline < ").push_bind(now);
            q.push(" ORDER BY deadline DESC, id DESC LIMIT ").push_bind(end);
            q.push(") UNION ALL (SELECT id, NULL::timestamptz AS deadline, 2 AS r FROM cases");
            push_filter(&mut q, filter, true);
            q.push(" AND deadline IS NULL ORDER BY id DESC LIMIT ").push_bind(end);
            q.push(")) u ORDER BY r, CASE WHEN r = 0 THEN deadline END, deadline DESC, id DESC");
        }
        q.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        q.push(
            ") p JOIN cases c ON c.id = p.id \
             ORDER BY p.r, CASE WHEN p.r = 0 THEN p.deadline END, p.deadline DESC, p.id DESC",
        );
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(case_row).collect()
    }
}

#[async_trait]
impl CaseStore for PgStore {
    async fn create_cases(&self, cases: &[(Actor, Case, TimelineEntry)]) -> StoreResult<Vec<Case>> {
        if cases.is_empty() {
            return Ok(vec![]);
        }
        let mut tx = self.begin().await?;
        let keys: Vec<String> = cases.iter().filter_map(|(_, c, _)| c.external_id.clone()).collect();
        let stored = cases_by_external_id(&mut tx, keys).await?;

        // Which slots are new; a key repeated within the batch takes the first one's case.
        let mut slots = Vec::with_capacity(cases.len());
        let mut fresh: Vec<usize> = Vec::new();
        let mut first_of_key: std::collections::HashMap<&str, usize> = Default::default();
        for (i, (_, c, _)) in cases.iter().enumerate() {
            match c.external_id.as_deref() {
                Some(k) if stored.contains_key(k) => slots.push(Slot::Stored(Box::new(stored[k].clone()))),
                Some(k) if first_of_key.contains_key(k) => slots.push(Slot::New(first_of_key[k])),
                key => {
                    if let Some(k) = key {
                        first_of_key.insert(k, fresh.len());
                    }
                    slots.push(Slot::New(fresh.len()));
                    fresh.push(i);
                }
            }
        }

        if fresh.is_empty() {
            // Every report was stored before: nothing to write.
            return Ok(slots
                .into_iter()
                .filter_map(|s| match s {
                    Slot::Stored(c) => Some(*c),
                    Slot::New(_) => None,
                })
                .collect());
        }

        // Ids for the new cases in one round trip, in batch order.
        let mut ids: Vec<i64> = sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, $1::int)",
        )
        .bind(i32::try_from(fresh.len()).map_err(|_| StoreError::Other("batch too large".into()))?)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        ids.sort_unstable();

        let mut made: Vec<Case> = Vec::with_capacity(fresh.len());
        let mut cols = CaseColumns::default();
        for (&i, &id) in fresh.iter().zip(&ids) {
            let mut c = cases[i].1.clone();
            c.id = id;
            c.status.case_id = id;
            cols.push(&c)?;
            made.push(c);
        }
        let inserted: std::collections::HashSet<i64> = cols.insert(&mut tx).await?.into_iter().collect();

        // A key stored by a concurrent batch after the lookup above: that case takes its place.
        let lost: Vec<String> =
            made.iter().filter(|c| !inserted.contains(&c.id)).filter_map(|c| c.external_id.clone()).collect();
        if !lost.is_empty() {
            let raced = cases_by_external_id(&mut tx, lost).await?;
            for c in made.iter_mut().filter(|c| !inserted.contains(&c.id)) {
                let key = c.external_id.as_deref().unwrap_or_default();
                *c = raced.get(key).cloned().ok_or_else(|| StoreError::Other(format!("case {key:?} vanished")))?;
            }
        }

        let mut events = EventColumns::default();
        let mut audits = Vec::with_capacity(inserted.len());
        for (&i, c) in fresh.iter().zip(&made).filter(|(_, c)| inserted.contains(&c.id)) {
            let (actor, _, entry) = &cases[i];
            events.push(c.id, 1, entry);
            audits.push(audit::case_report(actor, c));
        }
        events.insert(&mut tx).await?;
        append_audits(&mut tx, &audits).await?;
        tx.commit().await.map_err(err)?;

        Ok(slots
            .into_iter()
            .map(|s| match s {
                Slot::Stored(c) => *c,
                Slot::New(j) => made[j].clone(),
            })
            .collect())
    }

    async fn load_cases(&self, actor: &Actor, cases: &[(Case, Vec<TimelineEntry>)]) -> StoreResult<u64> {
        if cases.is_empty() {
            return Ok(0);
        }
        if cases.iter().any(|(_, timeline)| timeline.is_empty()) {
            return Err(StoreError::Other("every loaded case needs its timeline, from the report on".into()));
        }
        let mut tx = self.begin().await?;
        // Ids in one round trip, in order, as in create_cases.
        let mut ids: Vec<i64> = sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, $1::int)",
        )
        .bind(i32::try_from(cases.len()).map_err(|_| StoreError::Other("batch too large".into()))?)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        ids.sort_unstable();
        let mut cols = CaseColumns::default();
        let mut events = EventColumns::default();
        for ((case, timeline), &id) in cases.iter().zip(&ids) {
            let mut c = case.clone();
            c.id = id;
            c.status.case_id = id;
            cols.push(&c)?;
            for (k, e) in timeline.iter().enumerate() {
                events.push(id, i32::try_from(k + 1).unwrap_or(i32::MAX), e);
            }
        }
        // A stored external_id is not skipped here (ON CONFLICT in the insert) but refused.
        let inserted = cols.insert(&mut tx).await?.len();
        if inserted != cases.len() {
            return Err(StoreError::Conflict { field: "external_id" });
        }
        events.insert(&mut tx).await?;
        let (first, last) = (ids[0], ids[ids.len() - 1]);
        append_audits(&mut tx, &[audit::case_bulk_load(actor, cases.len(), first, last)]).await?;
        tx.commit().await.map_err(err)?;
        Ok(cases.len() as u64)
    }

    async fn case(&self, id: i64) -> StoreResult<Case> {
        let r = sqlx::query(&format!("{CASE_LIST} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        case_row(&r)
    }

    async fn case_by_tracking_code(&self, code: &TrackingCode) -> StoreResult<Case> {
        let r = sqlx::query(&format!("{CASE_LIST} WHERE tracking_code = $1"))
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        case_row(&r)
    }

    async fn update_case(&self, actor: &Actor, case: &Case, entry: &TimelineEntry) -> StoreResult<()> {
        let n = &case.status.counters;
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE cases SET version = $2, state = $3, kind = $4, class_code = $5, source = $6, department = $7,
                 division = $8, grid = $9, reporter_id = $10, external_id = $11, lon = $12, lat = $13,
                 reported_at = $14, filed_at = $15, dispatched_at = $16, closed_at = $17, updated_at = $18,
                 deadline = $19, handle_deadline = $20, handled_on_time = $21, dispatches = $22, returns = $23,
                 reworks = $24, extensions = $25, reopens = $26, deferrals = $27, score = $28, body = $29::jsonb
             WHERE id = $1 AND version = $2 - 1",
        )
        .bind(case.id)
        .bind(case.version)
        .bind(case.status.state.as_str())
        .bind(case.kind.as_str())
        .bind(case.class_code.as_str())
        .bind(case.source.as_str())
        .bind(&case.status.department)
        .bind(case.division.as_str())
        .bind(&case.grid)
        .bind(case.reporter_id)
        .bind(&case.external_id)
        .bind(case.lon)
        .bind(case.lat)
        .bind(case.reported_at)
        .bind(case.filed_at)
        .bind(case.dispatched_at)
        .bind(case.closed_at)
        .bind(case.updated_at)
        .bind(case.clock.deadline)
        .bind(case.clock.handle_deadline)
        .bind(case.handled_on_time)
        .bind(counter(n.dispatches))
        .bind(counter(n.returns))
        .bind(counter(n.reworks))
        .bind(counter(n.extensions))
        .bind(counter(n.reopens))
        .bind(counter(n.deferrals))
        .bind(case.score.map(i16::from))
        .bind(body(case)?)
        .execute(&mut *tx)
        .await
        .map_err(case_err)?
        .rows_affected();
        if updated == 0 {
            let current: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE id = $1")
                .bind(case.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
            return Err(match current {
                None => StoreError::NotFound,
                Some(current) => StoreError::Stale { current },
            });
        }
        // The row lock taken by the update serialises writers of this case, so max + 1 is free.
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO case_events (case_id, seq, at, actor_id, actor, command, from_state, to_state, data)
             SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6, $7, $8::jsonb
             FROM case_events WHERE case_id = $1 RETURNING seq::int8",
        )
        .bind(case.id)
        .bind(entry.at)
        .bind(entry.actor_id)
        .bind(&entry.actor)
        .bind(&entry.command)
        .bind(entry.from_state.map(CaseState::as_str))
        .bind(entry.to_state.as_str())
        .bind(entry.data.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(case_err)?;
        crate::append_audit(&mut tx, &zhili_store_sql::audit::case_transition(actor, case, entry, seq)).await?;
        tx.commit().await.map_err(err)
    }

    async fn timeline(&self, id: i64) -> StoreResult<Vec<TimelineEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_id, actor, command, from_state, to_state, data::text AS data
             FROM case_events WHERE case_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        if rows.is_empty() {
            // Every case has its report entry: no rows means no case.
            return Err(StoreError::NotFound);
        }
        // `seq` is `int`, `at` `timestamptz`, `data` jsonb read as text.
        rows.iter()
            .map(|r| {
                let data: String = r.try_get("data").map_err(err)?;
                let data = serde_json::from_str(&data)
                    .map_err(|e| StoreError::Other(format!("bad stored timeline data of case {id}: {e}")))?;
                let seq = i64::from(r.try_get::<i32, _>("seq").map_err(err)?);
                shared::timeline_entry(r, seq, r.try_get("at").map_err(err)?, data)
            })
            .collect()
    }

    async fn cases(&self, filter: &CaseFilter, page: Page) -> StoreResult<Vec<Case>> {
        match filter.order {
            CaseOrder::Deadline => {}
            CaseOrder::Upcoming { now } => return self.cases_upcoming(filter, now, page).await,
            CaseOrder::Newest => {
                let mut q =
                    QueryBuilder::<Postgres>::new("SELECT c.id, c.body::text AS body FROM (SELECT id FROM cases");
                push_filter(&mut q, filter, true);
                // Within a period or since a closing time, that range is read and sorted
                // (`id + 0`) rather than the primary key walked backwards checking each time.
                let ranged = filter.from.is_some() || filter.to.is_some() || filter.closed_from.is_some();
                q.push(if ranged { " ORDER BY id + 0 DESC LIMIT " } else { " ORDER BY id DESC LIMIT " });
                q.push_bind(page.limit.max(0));
                q.push(" OFFSET ").push_bind(page.offset.max(0));
                q.push(") p JOIN cases c ON c.id = p.id ORDER BY c.id DESC");
                let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
                return rows.iter().map(case_row).collect();
            }
        }
        // Earliest running deadline first (so overdue first), then no clock; newest first within.
        // `deadline ASC NULLS LAST` is `(deadline IS NULL), deadline` in the form the indexes
        // (…, deadline, id DESC) are read in.
        const WORKLIST_ORDER: &str = " ORDER BY deadline ASC NULLS LAST, id DESC";
        // Within a period, the same order as an expression: otherwise PostgreSQL walks a whole
        // deadline index checking each row's report time (240 ms for a week among a million
        // cases); this reads the period's range (`cases_map`) and keeps the top rows (57 ms).
        const PERIOD_ORDER: &str = " ORDER BY deadline + interval '0 s' ASC NULLS LAST, id DESC";
        let period = filter.from.is_some() || filter.to.is_some();
        let order = if period { PERIOD_ORDER } else { WORKLIST_ORDER };
        let states = distinct_states(&filter.states);
        let (limit, offset) = (page.limit.max(0), page.offset.max(0));
        // The page's ids (and deadlines) first, then the bodies of that page only: sorting whole
        // rows made PostgreSQL turn every match's body into text (200 ms for a week of 20,000).
        let mut q = QueryBuilder::<Postgres>::new("SELECT c.id, c.body::text AS body FROM (");
        if states.len() < 2 {
            q.push("SELECT id, deadline FROM cases");
            push_filter(&mut q, filter, true);
            q.push(order).push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        } else {
            // Several states: each state's first `offset + limit` in index order, merged, so the
            // page is read from the (…, state, deadline, id DESC) indexes instead of sorting every
            // match.
            q.push("SELECT w.id, w.deadline FROM unnest(")
                .push_bind(states)
                .push("::text[]) AS s (state) CROSS JOIN LATERAL (SELECT id, deadline FROM cases");
            push_filter(&mut q, filter, false);
            q.push(" AND state = s.state").push(order).push(" LIMIT ").push_bind(limit.saturating_add(offset));
            q.push(") w ORDER BY w.deadline ASC NULLS LAST, w.id DESC LIMIT ").push_bind(limit);
            q.push(" OFFSET ").push_bind(offset);
        }
        q.push(") p JOIN cases c ON c.id = p.id ORDER BY p.deadline ASC NULLS LAST, p.id DESC");
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(case_row).collect()
    }

    async fn count_cases_upto(&self, filter: &CaseFilter, cap: i64) -> StoreResult<i64> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT count(*) FROM (SELECT 1 FROM cases");
        push_filter(&mut q, filter, true);
        q.push(" LIMIT ").push_bind(cap.max(0)).push(") AS m");
        q.build_query_scalar().fetch_one(&self.pool).await.map_err(err)
    }

    async fn count_cases(&self, filter: &CaseFilter) -> StoreResult<i64> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT count(*) FROM cases");
        push_filter(&mut q, filter, true);
        q.build_query_scalar().fetch_one(&self.pool).await.map_err(err)
    }

    async fn open_cases_near(&self, probes: &[(String, [f64; 4])], limit: i64) -> StoreResult<Vec<Vec<CasePoint>>> {
        if probes.is_empty() {
            return Ok(Vec::new());
        }
        let column = |k: usize| probes.iter().map(|(_, b)| b[k]).collect::<Vec<f64>>();
        let rows = sqlx::query(
            "SELECT p.i, c.id, c.lon, c.lat, c.state, c.class_code, c.deadline
               FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[])
                    WITH ORDINALITY AS p(class, x0, y0, x1, y1, i)
              CROSS JOIN LATERAL (
                    SELECT id, lon, lat, state, class_code, deadline FROM cases
                     WHERE class_code = p.class AND state NOT IN ('closed', 'evaluated', 'voided')
                       AND lon BETWEEN p.x0 AND p.x1 AND lat BETWEEN p.y0 AND p.y1
                     ORDER BY id LIMIT $6) c
              ORDER BY p.i, c.id",
        )
        .bind(probes.iter().map(|(c, _)| c.clone()).collect::<Vec<String>>())
        .bind(column(0))
        .bind(column(1))
        .bind(column(2))
        .bind(column(3))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let mut out: Vec<Vec<CasePoint>> = vec![Vec::new(); probes.len()];
        for r in &rows {
            let i: i64 = r.try_get("i").map_err(err)?;
            out[(i - 1) as usize].push(map::point_row(r)?);
        }
        Ok(out)
    }
}

/// Register the case loop's ports.
pub(crate) fn register(store: &std::sync::Arc<PgStore>, ports: &mut zhili_core::ports::Ports) {
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
    fn prefixes() {
        assert_eq!(prefix_upper("370304").as_deref(), Some("370305"));
        assert_eq!(prefix_upper("370309").as_deref(), Some("37030:"));
        assert_eq!(prefix_upper("SJ01").as_deref(), Some("SJ02"));
        assert_eq!(prefix_upper(""), None);
        assert_eq!(prefix_upper("街"), None);
        assert_eq!(like_prefix("a%b_c\\"), "a\\%b\\_c\\\\%");
    }
}

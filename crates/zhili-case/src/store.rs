//! The storage ports for cases (案件存储): implemented by each backend crate. Attachments,
//! settings, notifications and the webhook outbox are the platform's ports
//! ([`zhili_platform`]); a case's photos and the catalogue and calendar settings use them.

use async_trait::async_trait;
use zhili_core::audit::Actor;
use zhili_core::store::{Page, StoreResult};

use crate::metrics::{GroupBy, Tally};
use zhili_platform::notify::{NewDelivery, NewNotification};

use crate::model::{Case, CaseFilter, TimelineEntry, TrackingCode};

/// Case storage. Every write appends its audit row in the same transaction.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Store new cases in one transaction (group commit: reports from many users share one
    /// commit), each with its first timeline entry (`report`) and an audit row by its own actor;
    /// returns them with their ids, in order. A case whose `external_id` is stored already is not
    /// stored again: the stored case takes its place. With any failure nothing is stored.
    async fn create_cases(&self, reports: &[(Actor, Case, TimelineEntry)]) -> StoreResult<Vec<Case>>;

    /// Store finished histories as they are (bulk load: demo data, migration from another system),
    /// in one transaction with one audit row for the whole call (`case.bulk_load`, detail
    /// `{count, first, last}`); returns how many cases were stored. Ids are assigned in order as
    /// in [`CaseStore::create_cases`] (`id` and `status.case_id` of the given cases are ignored),
    /// and each timeline is stored whole with its entries numbered 1..n in the order given (their
    /// `seq` is ignored). Every timeline must hold at least its report entry. With any failure
    /// (a missing division or reporter, an `external_id` stored already) nothing is stored.
    async fn load_cases(&self, actor: &Actor, cases: &[(Case, Vec<TimelineEntry>)]) -> StoreResult<u64>;

    /// One case.
    async fn case(&self, id: i64) -> StoreResult<Case>;

    /// The case with this citizen's tracking code ([`crate::model::TrackingCode`]), from its
    /// unique index; [`zhili_core::store::StoreError::NotFound`] if none has it.
    async fn case_by_tracking_code(&self, code: &TrackingCode) -> StoreResult<Case>;

    /// Replace a case after a transition, if the stored version is still `case.version - 1`
    /// (else [`zhili_core::store::StoreError::Stale`]); appends `entry` (its `seq` is assigned)
    /// and an audit row.
    async fn update_case(&self, actor: &Actor, case: &Case, entry: &TimelineEntry) -> StoreResult<()>;

    /// The case's timeline, oldest first.
    async fn timeline(&self, id: i64) -> StoreResult<Vec<TimelineEntry>>;

    /// Cases matching the filter, in its order ([`crate::model::CaseOrder`]; by default the
    /// earliest running deadline first, so overdue first, then those without a running clock,
    /// newest first).
    async fn cases(&self, filter: &CaseFilter, page: Page) -> StoreResult<Vec<Case>>;

    /// How many cases match the filter.
    async fn count_cases(&self, filter: &CaseFilter) -> StoreResult<i64>;

    /// How many cases match the filter, counting no further than `cap`: `min(count, cap)`. A
    /// worklist of hundreds of thousands needs to know only that it is large, and an exact
    /// count reads every match.
    async fn count_cases_upto(&self, filter: &CaseFilter, cap: i64) -> StoreResult<i64>;

    /// For each probe (a class and a lon/lat box), the open cases of that class whose position
    /// lies in the box, as slim points (never the case body), oldest first, at most `limit`
    /// each: the duplicate suggestions of an intake batch, in one query.
    async fn open_cases_near(&self, probes: &[(String, [f64; 4])], limit: i64) -> StoreResult<Vec<Vec<CasePoint>>>;
}

/// The evaluation figures over stored cases (考核统计).
#[async_trait]
pub trait CaseMetricsStore: Send + Sync {
    /// Tallies of the cases matching `filter`, one per group key (`""` for [`GroupBy::None`] and
    /// for cases without the grouped value), in key order. `due_at` is the evaluation instant of
    /// 应结案数; month and day keys (`YYYY-MM`, `YYYY-MM-DD`) are in local time at
    /// `utc_offset_minutes`.
    async fn case_tallies(
        &self,
        filter: &CaseFilter,
        group: GroupBy,
        due_at: chrono::DateTime<chrono::Utc>,
        utc_offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>>;

    /// The offset (minutes east of UTC) of the local days of the daily rollup that answers
    /// [`CaseMetricsStore::case_tallies`] quickly; queries at another offset are answered by a
    /// scan (the same figures, slower).
    async fn case_rollup_offset(&self) -> StoreResult<i32>;

    /// Rebuild the daily rollup from the stored cases, with local days at `utc_offset_minutes`
    /// (when the calendar's offset changes), in one transaction with an audit row
    /// (`case.rollup_rebuild`).
    async fn rebuild_case_rollup(&self, actor: &Actor, utc_offset_minutes: i32) -> StoreResult<()>;
}

/// A case as a point on the map (案件点位): only what the map draws, never the case body.
#[derive(Debug, Clone, PartialEq)]
pub struct CasePoint {
    /// Case number.
    pub id: i64,
    /// Longitude (WGS 84).
    pub lon: f64,
    /// Latitude (WGS 84).
    pub lat: f64,
    /// State.
    pub state: crate::workflow::CaseState,
    /// Minor class code.
    pub class_code: String,
    /// When the running clock runs out (none while paused or idle).
    pub deadline: Option<chrono::DateTime<chrono::Utc>>,
}

/// One cell of the case density (热力格): how many cases, and their mean position.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityCell {
    /// Mean longitude of the cell's cases (WGS 84).
    pub lon: f64,
    /// Mean latitude of the cell's cases (WGS 84).
    pub lat: f64,
    /// Cases in the cell.
    pub count: i64,
}

/// Cases on the One Map (案件图层): slim reads by position for points and heat.
#[async_trait]
pub trait CaseMapStore: Send + Sync {
    /// Cases matching `filter` whose position lies in the lon/lat box `[min_lon, min_lat,
    /// max_lon, max_lat]` (edges included), newest report first, at most `limit`.
    async fn case_points(&self, filter: &CaseFilter, bbox: [f64; 4], limit: i64) -> StoreResult<Vec<CasePoint>>;

    /// The same cases counted per cell of `cell_deg` degrees, computed by the database (one
    /// GROUP BY). Cells are anchored at (-180, -90), so they stay put as the box moves; each is
    /// answered with its cases' mean position. In cell order (by longitude, then latitude).
    async fn case_density(&self, filter: &CaseFilter, bbox: [f64; 4], cell_deg: f64) -> StoreResult<Vec<DensityCell>>;
}

/// One escalation level of one case to record (超期督办记录), with what it tells.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    /// The case.
    pub case_id: i64,
    /// The level, from 1.
    pub level: i32,
    /// The deadline of the clock that ran out: a level fires once per case and deadline.
    pub deadline: chrono::DateTime<chrono::Utc>,
    /// When it fired.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The notifications to store if (and only if) this claim is new.
    pub notifications: Vec<NewNotification>,
    /// The webhook deliveries to queue if (and only if) this claim is new.
    pub deliveries: Vec<NewDelivery>,
}

/// Overdue escalation claims (超期督办记录): which levels fired for which deadline; a claim
/// won stores its notifications and deliveries through the platform's tables in the same
/// transaction.
#[async_trait]
pub trait EscalationStore: Send + Sync {
    /// Overdue running cases (deadline before `now`) with fewer than `levels` escalations
    /// recorded for their current deadline (超期未督办完), in the order (deadline, id
    /// descending), after the keyset cursor `after` (the last page's last deadline and id), at
    /// most `limit`. Cases whose every level has fired are never read.
    async fn cases_to_escalate(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        levels: i32,
        after: Option<(chrono::DateTime<chrono::Utc>, i64)>,
        limit: i64,
    ) -> StoreResult<Vec<Case>>;

    /// The escalation levels recorded for these cases: `(case_id, level, deadline)`.
    async fn escalations(&self, case_ids: &[i64]) -> StoreResult<Vec<(i64, i32, chrono::DateTime<chrono::Utc>)>>;

    /// Claim escalations in one transaction: a `(case, level)` is claimed unless it is recorded
    /// already for the same deadline (several processes may race: exactly one wins). For each
    /// claim won, its notifications and deliveries are stored and an audit row
    /// (`case.escalate`) appended. Returns, in order, whether each was claimed now.
    async fn record_escalations(&self, actor: &Actor, items: &[Escalation]) -> StoreResult<Vec<bool>>;
}

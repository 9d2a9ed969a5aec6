//! How a figures query is answered from its [`RollupPlan`] (统计方案), for both backends: the
//! plan and the adding up are the domain's ([`rollup_plan`], [`add_up`]); the order the parts
//! are asked for is here; each part's SQL is the backend's [`TallySource`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use zhili_case::metrics::{add_up, rollup_plan, GroupBy, Part, RollupPlan, Tally};
use zhili_case::model::CaseFilter;
use zhili_core::store::StoreResult;

/// The rollup tables a plan sums from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupTable {
    /// The daily rollup (`case_daily`).
    Daily,
    /// The monthly rollup (`case_monthly`).
    Monthly,
    /// The monthly place rollup (`case_monthly_place`).
    Places,
}

/// One backend's answers to the parts of a plan.
#[async_trait]
pub trait TallySource: Sync {
    /// Tallies by one grouped scan over the filtered cases.
    async fn scanned_tallies(
        &self,
        filter: &CaseFilter,
        group: GroupBy,
        due_at: DateTime<Utc>,
        offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>>;

    /// Tallies of a part of a period summed from `rollup`, plus 应结案数's moving part (the open
    /// dispatched cases past their handling deadline) of the part's cases.
    async fn rollup_tallies(
        &self,
        rollup: RollupTable,
        part: &Part,
        group: GroupBy,
        due_at: DateTime<Utc>,
        offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>>;
}

/// The tallies of `filter` by `group`, answered as [`rollup_plan`] says for rollups kept at
/// `rollup_offset` (minutes east of UTC), the parts asked for one after another.
pub async fn case_tallies<S: TallySource + ?Sized>(
    store: &S,
    filter: &CaseFilter,
    group: GroupBy,
    due_at: DateTime<Utc>,
    utc_offset_minutes: i32,
    rollup_offset: i32,
) -> StoreResult<Vec<(String, Tally)>> {
    let parts = match rollup_plan(filter, group, utc_offset_minutes, rollup_offset) {
        RollupPlan::Scan => return store.scanned_tallies(filter, group, due_at, utc_offset_minutes).await,
        RollupPlan::Daily { months, days } => {
            let mut parts = Vec::new();
            let daily =
                months.iter().map(|m| (RollupTable::Monthly, m)).chain(days.iter().map(|d| (RollupTable::Daily, d)));
            for (rollup, part) in daily {
                parts.push(store.rollup_tallies(rollup, part, group, due_at, utc_offset_minutes).await?);
            }
            parts
        }
        RollupPlan::Places { months, edges } => {
            let mut parts = Vec::new();
            if let Some(m) = &months {
                parts.push(store.rollup_tallies(RollupTable::Places, m, group, due_at, utc_offset_minutes).await?);
            }
            for edge in edges {
                parts.push(store.scanned_tallies(&edge.filter, group, due_at, utc_offset_minutes).await?);
            }
            parts
        }
    };
    Ok(add_up(parts))
}

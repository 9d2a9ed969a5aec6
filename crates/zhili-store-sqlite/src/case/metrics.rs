//! Case figures on SQLite (考核统计). Times are stored as microseconds since the epoch (UTC).
//!
//! [`rollup_plan`] says how a query is answered: by summing the monthly rollup `case_monthly`
//! over whole months and the daily rollup `case_daily` over the other days; by summing the
//! monthly place rollup `case_monthly_place` over whole months and scanning the partial months
//! at the ends; or by one grouped scan of the filtered cases (rollups: `migrations/0004_case_rollup.sql`,
//! `0010_case_rollup_by_batch.sql`, `0013_case_monthly_rollups.sql`). A rollup's sums get the open
//! dispatched cases past their handling deadline (应结案数's moving part) from `cases`. All give
//! the same tallies.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite};
use zhili_case::metrics::{DaySpan, GroupBy, Part, Tally};
use zhili_case::model::CaseFilter;
use zhili_case::store::CaseMetricsStore;
use zhili_core::audit::Actor;
use zhili_core::store::StoreResult;
use zhili_store_sql::audit;
use zhili_store_sql::filter::push_rollup_filter;
use zhili_store_sql::rows as shared;
use zhili_store_sql::tallies::{self, RollupTable, TallySource};

use crate::case::{push_filter, Sql};
use crate::{append_audit, err, micros, SqliteStore};

/// Push the SQL of a group key (text) over `cases`.
fn push_key(q: &mut QueryBuilder<'_, Sqlite>, group: GroupBy, offset_minutes: i32) {
    let fixed = match group {
        GroupBy::None => "''",
        GroupBy::Department => "COALESCE(department, '')",
        GroupBy::Township => "substr(division, 1, 9)",
        GroupBy::Village => "CASE WHEN length(division) = 12 THEN division ELSE '' END",
        GroupBy::Grid => "COALESCE(grid, '')",
        GroupBy::Class => "class_code",
        GroupBy::Major => "substr(class_code, 1, 4)",
        GroupBy::Reporter => "COALESCE(CAST(reporter_id AS TEXT), '')",
        GroupBy::Month | GroupBy::Day => {
            let format = if group == GroupBy::Month { "%Y-%m" } else { "%Y-%m-%d" };
            q.push(format_args!("strftime('{format}', reported_at / 1000000 + "))
                .push_bind(i64::from(offset_minutes) * 60)
                .push(", 'unixepoch')");
            return;
        }
    };
    q.push(fixed);
}

/// A rollup table kept from `case_contribution`.
struct Rollup {
    table: &'static str,
    /// Its key columns.
    keys: &'static str,
    /// The period column, and the format of its values.
    period: (&'static str, &'static str),
    /// The division column (prefixes of case divisions).
    division: &'static str,
    /// The SQL of a group key over its rows (the plan only picks a rollup that keeps it).
    key: fn(GroupBy) -> &'static str,
}

/// The daily rollup (日汇总).
const DAILY: Rollup = Rollup {
    table: "case_daily",
    keys: "day, township, department, class_code",
    period: ("day", "%Y-%m-%d"),
    division: "township",
    key: |group| match group {
        GroupBy::Township => "township",
        GroupBy::Department => "department",
        GroupBy::Class => "class_code",
        GroupBy::Major => "substr(class_code, 1, 4)",
        GroupBy::Month => "substr(day, 1, 7)",
        GroupBy::Day => "day",
        GroupBy::None | GroupBy::Village | GroupBy::Grid | GroupBy::Reporter => "''",
    },
};

/// The monthly rollup (月汇总): the daily one's keys by month.
const MONTHLY: Rollup = Rollup {
    table: "case_monthly",
    keys: "month, township, department, class_code",
    period: ("month", "%Y-%m"),
    division: "township",
    key: |group| match group {
        GroupBy::Month => "month",
        GroupBy::Day => "''",
        other => (DAILY.key)(other),
    },
};

/// The monthly place rollup (月网格汇总).
const PLACES: Rollup = Rollup {
    table: "case_monthly_place",
    keys: "month, division, grid",
    period: ("month", "%Y-%m"),
    division: "division",
    key: |group| match group {
        GroupBy::Township => "substr(division, 1, 9)",
        GroupBy::Village => "CASE WHEN length(division) = 12 THEN division ELSE '' END",
        GroupBy::Grid => "grid",
        GroupBy::Month => "month",
        _ => "''",
    },
};

impl Rollup {
    /// Add the cases `case_contribution` yields under `filter` (SQL after `WHERE`), summed by
    /// key, to the rollup: one grouped upsert.
    fn upsert(&self, filter: &str) -> String {
        let Rollup { table, keys, .. } = self;
        format!(
            "INSERT INTO {table}
             SELECT {keys}, sum(reported), sum(filed), sum(dispatched), sum(due_closed), sum(closed),
                    sum(on_time), sum(reworked), sum(extended), sum(deferred), sum(right_first), sum(handling_us)
               FROM case_contribution WHERE {filter} GROUP BY {keys}
             ON CONFLICT DO UPDATE SET
                reported = reported + excluded.reported, filed = filed + excluded.filed,
                dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
                closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
                reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
                deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
                handling_us = handling_us + excluded.handling_us"
        )
    }

    /// The rollup's rows of `filter`'s cases reported in the local `span`, summed by `group`.
    fn sums(&self, filter: &CaseFilter, (from, to): DaySpan, group: GroupBy) -> QueryBuilder<'static, Sqlite> {
        let mut q = QueryBuilder::new(format!(
            "SELECT {} AS k, sum(reported) AS reported, sum(filed) AS filed, sum(dispatched) AS dispatched,
                    sum(due_closed) AS due_closed, sum(closed) AS closed, sum(on_time) AS on_time,
                    sum(reworked) AS reworked, sum(extended) AS extended, sum(deferred) AS deferred,
                    sum(right_first) AS right_first, sum(handling_us) AS handling_us
               FROM {} WHERE 1 = 1",
            (self.key)(group),
            self.table
        ));
        let (column, format) = self.period;
        if let Some(d) = from {
            q.push(format!(" AND {column} >= ")).push_bind(d.format(format).to_string());
        }
        if let Some(d) = to {
            q.push(format!(" AND {column} < ")).push_bind(d.format(format).to_string());
        }
        push_rollup_filter::<Sql>(&mut q, filter, self.division);
        q.push(" GROUP BY 1");
        q
    }
}

/// A tally row; the handling time is summed in microseconds.
fn tally_row(r: &sqlx::sqlite::SqliteRow, due: &str) -> StoreResult<(String, Tally)> {
    shared::tally(r, due, r.try_get::<i64, _>("handling_us").map_err(err)? as f64 / 1e6)
}

/// Add the cases with an id above `after` (the rows a batch has just inserted, under the write
/// lock) to both rollups, one grouped upsert each (see `migrations/0010_case_rollup_by_batch.sql`).
pub(crate) async fn add_to_rollup(tx: &mut sqlx::SqliteConnection, after: i64) -> StoreResult<()> {
    for rollup in [DAILY, MONTHLY, PLACES] {
        sqlx::query(&rollup.upsert("id > ?")).bind(after).execute(&mut *tx).await.map_err(err)?;
    }
    Ok(())
}

impl SqliteStore {
    /// The offset (minutes east of UTC) of the rollup's local days.
    async fn rollup_offset(&self) -> StoreResult<i32> {
        sqlx::query_scalar("SELECT utc_offset_minutes FROM case_rollup_meta").fetch_one(&self.read).await.map_err(err)
    }
}

#[async_trait]
impl TallySource for SqliteStore {
    async fn rollup_tallies(
        &self,
        rollup: RollupTable,
        Part { days, filter }: &Part,
        group: GroupBy,
        due_at: DateTime<Utc>,
        offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>> {
        let rollup = match rollup {
            RollupTable::Daily => &DAILY,
            RollupTable::Monthly => &MONTHLY,
            RollupTable::Places => &PLACES,
        };
        let rows = rollup.sums(filter, *days, group).build().fetch_all(&self.read).await.map_err(err)?;
        let mut out = rows.iter().map(|r| tally_row(r, "due_closed")).collect::<StoreResult<Vec<_>>>()?;

        // 应结案数's moving part, from the partial index of open dispatched cases (by period).
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new("SELECT ");
        push_key(&mut q, group, offset_minutes);
        q.push(" AS k, count(*) AS n FROM cases INDEXED BY cases_open_dispatched");
        push_filter(&mut q, filter);
        q.push(" AND dispatched_at IS NOT NULL AND closed_at IS NULL AND handle_deadline <= ")
            .push_bind(micros(due_at))
            .push(" GROUP BY 1");
        for r in q.build().fetch_all(&self.read).await.map_err(err)? {
            let due = r.try_get::<i64, _>("n").map_err(err)?;
            out.push((r.try_get("k").map_err(err)?, Tally { due, ..Tally::default() }));
        }
        Ok(out)
    }

    async fn scanned_tallies(
        &self,
        filter: &CaseFilter,
        group: GroupBy,
        due_at: DateTime<Utc>,
        offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>> {
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new("SELECT ");
        push_key(&mut q, group, offset_minutes);
        q.push(
            " AS k, count(*) AS reported, count(filed_at) AS filed, count(dispatched_at) AS dispatched,
              sum(dispatched_at IS NOT NULL AND (closed_at IS NOT NULL OR handle_deadline <= ",
        )
        .push_bind(micros(due_at))
        .push(
            ")) AS due,
              sum(state IN ('closed', 'evaluated')) AS closed,
              sum(state IN ('closed', 'evaluated') AND handled_on_time = 1) AS on_time,
              sum(reworks > 0) AS reworked,
              sum(extensions > 0) AS extended,
              sum(deferrals > 0) AS deferred,
              sum(dispatched_at IS NOT NULL AND returns = 0) AS right_first,
              COALESCE(sum(CASE WHEN state IN ('closed', 'evaluated') THEN closed_at - dispatched_at END), 0)
                  AS handling_us
             FROM cases",
        );
        push_filter(&mut q, filter);
        q.push(" GROUP BY 1 ORDER BY 1");
        let rows = q.build().fetch_all(&self.read).await.map_err(err)?;
        rows.iter().map(|r| tally_row(r, "due")).collect()
    }
}

#[async_trait]
impl CaseMetricsStore for SqliteStore {
    async fn case_tallies(
        &self,
        filter: &CaseFilter,
        group: GroupBy,
        due_at: DateTime<Utc>,
        utc_offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>> {
        let rollup_offset = self.rollup_offset().await?;
        tallies::case_tallies(self, filter, group, due_at, utc_offset_minutes, rollup_offset).await
    }

    async fn case_rollup_offset(&self) -> StoreResult<i32> {
        self.rollup_offset().await
    }

    async fn rebuild_case_rollup(&self, actor: &Actor, utc_offset_minutes: i32) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE case_rollup_meta SET utc_offset_minutes = ?")
            .bind(utc_offset_minutes)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        // The view reads the new offset from `case_rollup_meta`.
        let mut rows = 0;
        for rollup in [DAILY, MONTHLY, PLACES] {
            sqlx::query(&format!("DELETE FROM {}", rollup.table)).execute(&mut *tx).await.map_err(err)?;
            rows += sqlx::query(&rollup.upsert("true")).execute(&mut *tx).await.map_err(err)?.rows_affected();
        }
        append_audit(&mut tx, &audit::case_rollup_rebuild(actor, utc_offset_minutes, rows)).await?;
        tx.commit().await.map_err(err)
    }
}

//! Case figures on PostgreSQL (考核统计).
//!
//! As on SQLite, [`rollup_plan`] says how a query is answered: by summing the monthly rollup
//! `case_monthly` over whole months and the daily rollup `case_daily` over the other days; by
//! summing the monthly place rollup `case_monthly_place` over whole months and scanning the
//! partial months at the ends; or by one grouped scan of the filtered cases. The rollups
//! (`migrations/0004_case_rollup.sql`, `0010_case_monthly_rollups.sql`) are kept per statement
//! (`0007_case_rollup_by_statement.sql`); a rollup's sums get the open dispatched cases past their
//! handling deadline from `cases`. All give the same tallies.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Row};
use zhili_case::metrics::{GroupBy, Part, Tally};
use zhili_case::model::CaseFilter;
use zhili_case::store::CaseMetricsStore;
use zhili_core::audit::Actor;
use zhili_core::store::StoreResult;
use zhili_store_sql::audit;
use zhili_store_sql::filter::push_rollup_filter;
use zhili_store_sql::rows as shared;
use zhili_store_sql::tallies::{self, RollupTable, TallySource};

use crate::case::{push_filter, Sql};
use crate::{append_audit, err, PgStore};

/// Push the SQL of a group key (text).
fn push_key(q: &mut QueryBuilder<'_, Postgres>, group: GroupBy, offset_minutes: i32) {
    let fixed = match group {
        GroupBy::None => "''",
        GroupBy::Department => "COALESCE(department, '')",
        GroupBy::Township => "left(division, 9)",
        GroupBy::Village => "CASE WHEN length(division) = 12 THEN division ELSE '' END",
        GroupBy::Grid => "COALESCE(grid, '')",
        GroupBy::Class => "class_code",
        GroupBy::Major => "left(class_code, 4)",
        GroupBy::Reporter => "COALESCE(reporter_id::text, '')",
        GroupBy::Month | GroupBy::Day => {
            let format = if group == GroupBy::Month { "YYYY-MM" } else { "YYYY-MM-DD" };
            q.push("to_char(reported_at AT TIME ZONE 'UTC' + make_interval(mins => ")
                .push_bind(offset_minutes)
                .push(format_args!("), '{format}')"));
            return;
        }
    };
    q.push(fixed);
}

#[async_trait]
impl TallySource for PgStore {
    async fn scanned_tallies(
        &self,
        filter: &CaseFilter,
        group: GroupBy,
        due_at: DateTime<Utc>,
        utc_offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>> {
        let mut q: QueryBuilder<'_, Postgres> = QueryBuilder::new("SELECT ");
        push_key(&mut q, group, utc_offset_minutes);
        q.push(
            " AS k, count(*) AS reported, count(filed_at) AS filed, count(dispatched_at) AS dispatched,
              count(*) FILTER (WHERE dispatched_at IS NOT NULL AND (closed_at IS NOT NULL OR handle_deadline <= ",
        )
        .push_bind(due_at)
        .push(
            ")) AS due,
              count(*) FILTER (WHERE state IN ('closed', 'evaluated')) AS closed,
              count(*) FILTER (WHERE state IN ('closed', 'evaluated') AND handled_on_time) AS on_time,
              count(*) FILTER (WHERE reworks > 0) AS reworked,
              count(*) FILTER (WHERE extensions > 0) AS extended,
              count(*) FILTER (WHERE deferrals > 0) AS deferred,
              count(*) FILTER (WHERE dispatched_at IS NOT NULL AND returns = 0) AS right_first,
              COALESCE(sum(EXTRACT(EPOCH FROM closed_at - dispatched_at))
                  FILTER (WHERE state IN ('closed', 'evaluated')), 0)::float8 AS handling
             FROM cases",
        );
        push_filter(&mut q, filter, true);
        q.push(" GROUP BY 1 ORDER BY 1");
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(|r| tally_row(r, "due")).collect()
    }

    async fn rollup_tallies(
        &self,
        rollup: RollupTable,
        Part { days: (from, to), filter }: &Part,
        group: GroupBy,
        due_at: DateTime<Utc>,
        offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>> {
        let rollup = match rollup {
            RollupTable::Daily => &DAILY,
            RollupTable::Monthly => &MONTHLY,
            RollupTable::Places => &PLACES,
        };
        let mut q: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
            "SELECT {} AS k, sum(reported)::int8 AS reported, sum(filed)::int8 AS filed,
                    sum(dispatched)::int8 AS dispatched, sum(due_closed)::int8 AS due_closed,
                    sum(closed)::int8 AS closed, sum(on_time)::int8 AS on_time, sum(reworked)::int8 AS reworked,
                    sum(extended)::int8 AS extended, sum(deferred)::int8 AS deferred,
                    sum(right_first)::int8 AS right_first, (sum(handling_us) / 1e6)::float8 AS handling
               FROM {} WHERE true",
            (rollup.key)(group),
            rollup.table
        ));
        let period = rollup.period;
        if let Some(d) = from {
            q.push(format!(" AND {period} >= ")).push_bind(d);
        }
        if let Some(d) = to {
            q.push(format!(" AND {period} < ")).push_bind(d);
        }
        push_rollup_filter::<Sql>(&mut q, filter, rollup.division);
        q.push(" GROUP BY 1");
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        let mut out = rows.iter().map(|r| tally_row(r, "due_closed")).collect::<StoreResult<Vec<_>>>()?;

        // 应结案数's moving part, from the (small) partial index of open dispatched cases.
        let mut q: QueryBuilder<'_, Postgres> = QueryBuilder::new("SELECT ");
        push_key(&mut q, group, offset_minutes);
        q.push(" AS k, count(*) AS n FROM cases");
        push_filter(&mut q, filter, true);
        q.push(" AND dispatched_at IS NOT NULL AND closed_at IS NULL AND handle_deadline <= ")
            .push_bind(due_at)
            .push(" GROUP BY 1");
        for r in q.build().fetch_all(&self.pool).await.map_err(err)? {
            let due = r.try_get::<i64, _>("n").map_err(err)?;
            out.push((r.try_get("k").map_err(err)?, Tally { due, ..Tally::default() }));
        }
        Ok(out)
    }
}

impl PgStore {
    async fn rollup_offset(&self) -> StoreResult<i32> {
        sqlx::query_scalar("SELECT utc_offset_minutes FROM case_rollup_meta").fetch_one(&self.pool).await.map_err(err)
    }
}

#[async_trait]
impl CaseMetricsStore for PgStore {
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
        sqlx::query("UPDATE case_rollup_meta SET utc_offset_minutes = $1")
            .bind(utc_offset_minutes)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        // Every case through the triggers' own upserts: one definition of a contribution.
        for rollup in [DAILY, MONTHLY, PLACES] {
            sqlx::query(&format!("DELETE FROM {}", rollup.table)).execute(&mut *tx).await.map_err(err)?;
        }
        let merges: Vec<String> =
            sqlx::query_scalar("SELECT unnest(case_rollup_merge_sqls('SELECT 1 AS sign, * FROM cases'))")
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
        let mut rows = 0;
        for merge in merges {
            rows += sqlx::query(&merge).execute(&mut *tx).await.map_err(err)?.rows_affected();
        }
        append_audit(&mut tx, &audit::case_rollup_rebuild(actor, utc_offset_minutes, rows)).await?;
        tx.commit().await.map_err(err)
    }
}

/// A rollup table, kept by the statement triggers (`case_rollup_merge_sqls`).
struct Rollup {
    table: &'static str,
    /// The period column (a date: the day, or the first day of the month).
    period: &'static str,
    /// The division column (prefixes of case divisions).
    division: &'static str,
    /// The SQL of a group key over its rows (the plan only picks a rollup that keeps it).
    key: fn(GroupBy) -> &'static str,
}

/// The daily rollup (日汇总).
const DAILY: Rollup = Rollup {
    table: "case_daily",
    period: "day",
    division: "township",
    key: |group| match group {
        GroupBy::Township => "township",
        GroupBy::Department => "department",
        GroupBy::Class => "class_code",
        GroupBy::Major => "left(class_code, 4)",
        GroupBy::Month => "to_char(day, 'YYYY-MM')",
        GroupBy::Day => "to_char(day, 'YYYY-MM-DD')",
        GroupBy::None | GroupBy::Village | GroupBy::Grid | GroupBy::Reporter => "''",
    },
};

/// The monthly rollup (月汇总): the daily one's keys by month.
const MONTHLY: Rollup = Rollup {
    table: "case_monthly",
    period: "month",
    division: "township",
    key: |group| match group {
        GroupBy::Month => "to_char(month, 'YYYY-MM')",
        GroupBy::Day => "''",
        other => (DAILY.key)(other),
    },
};

/// The monthly place rollup (月网格汇总).
const PLACES: Rollup = Rollup {
    table: "case_monthly_place",
    period: "month",
    division: "division",
    key: |group| match group {
        GroupBy::Township => "left(division, 9)",
        GroupBy::Village => "CASE WHEN length(division) = 12 THEN division ELSE '' END",
        GroupBy::Grid => "grid",
        GroupBy::Month => "to_char(month, 'YYYY-MM')",
        _ => "''",
    },
};

/// A tally row; the handling time is summed in seconds (`float8`).
fn tally_row(r: &sqlx::postgres::PgRow, due: &str) -> StoreResult<(String, Tally)> {
    shared::tally(r, due, r.try_get("handling").map_err(err)?)
}

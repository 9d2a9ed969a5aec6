//! Case figures on SQLite (考核统计). Times are stored as microseconds since the epoch (UTC).
//!
//! A query the daily rollup can answer (whole local days at the rollup's offset; filters on
//! township or coarser, department, class; groups by none, department, township, class, major,
//! month or day) sums `case_daily` (see `migrations/0004_case_rollup.sql` and `0010_rollup_by_batch.sql`) and adds the open
//! dispatched cases past their handling deadline from `cases`. Anything else (villages, grids,
//! reporters, states, sources) is one grouped scan over the filtered cases. Both give the same
//! tallies.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{QueryBuilder, Row, Sqlite};
use zhili_case::metrics::{rollup_span, GroupBy, Tally};
use zhili_case::model::CaseFilter;
use zhili_case::store::CaseMetricsStore;
use zhili_core::audit::{Actor, AuditEvent};
use zhili_core::store::StoreResult;

use crate::case::{push_filter, push_prefix};
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

/// The group key over `case_daily`, if the rollup has the dimension.
fn rollup_key(group: GroupBy) -> Option<&'static str> {
    Some(match group {
        GroupBy::None => "''",
        GroupBy::Department => "department",
        GroupBy::Township => "township",
        GroupBy::Class => "class_code",
        GroupBy::Major => "substr(class_code, 1, 4)",
        GroupBy::Month => "substr(day, 1, 7)",
        GroupBy::Day => "day",
        GroupBy::Village | GroupBy::Grid | GroupBy::Reporter => return None,
    })
}

fn tally_row(r: &sqlx::sqlite::SqliteRow, due: &str) -> StoreResult<(String, Tally)> {
    let n = |c: &str| r.try_get::<i64, _>(c).map_err(err);
    Ok((
        r.try_get::<String, _>("k").map_err(err)?,
        Tally {
            reported: n("reported")?,
            filed: n("filed")?,
            dispatched: n("dispatched")?,
            due: n(due)?,
            closed: n("closed")?,
            closed_on_time: n("on_time")?,
            reworked: n("reworked")?,
            extended: n("extended")?,
            deferred: n("deferred")?,
            dispatched_right: n("right_first")?,
            handling_seconds: n("handling_us")? as f64 / 1e6,
        },
    ))
}

/// The rollup rows of the cases `case_contribution` yields under `filter` (SQL after `WHERE`),
/// summed by key: for the rebuild (every case) and intake (the batch just inserted).
fn rollup_sums(filter: &str) -> String {
    format!(
        "SELECT day, township, department, class_code, sum(reported), sum(filed), sum(dispatched),
                sum(due_closed), sum(closed), sum(on_time), sum(reworked), sum(extended), sum(deferred),
                sum(right_first), sum(handling_us)
           FROM case_contribution WHERE {filter} GROUP BY 1, 2, 3, 4"
    )
}

/// Add the cases with an id above `after` (the rows a batch has just inserted, under the write
/// lock) to the daily rollup, in one grouped upsert (see `migrations/0010_rollup_by_batch.sql`).
pub(crate) async fn add_to_rollup(tx: &mut sqlx::SqliteConnection, after: i64) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO case_daily {}
         ON CONFLICT DO UPDATE SET
            reported = reported + excluded.reported, filed = filed + excluded.filed,
            dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
            closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
            reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
            deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
            handling_us = handling_us + excluded.handling_us",
        rollup_sums("id > ?")
    ))
    .bind(after)
    .execute(tx)
    .await
    .map_err(err)?;
    Ok(())
}

impl SqliteStore {
    /// The offset (minutes east of UTC) of the rollup's local days.
    async fn rollup_offset(&self) -> StoreResult<i32> {
        sqlx::query_scalar("SELECT utc_offset_minutes FROM case_rollup_meta").fetch_one(&self.read).await.map_err(err)
    }

    /// Tallies from the rollup, plus the open dispatched cases past their handling deadline.
    async fn rollup_tallies(
        &self,
        filter: &CaseFilter,
        (from, to): (Option<NaiveDate>, Option<NaiveDate>),
        group: GroupBy,
        due_at: DateTime<Utc>,
        offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>> {
        let key = rollup_key(group).expect("checked by rollup_span");
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
            "SELECT {key} AS k, sum(reported) AS reported, sum(filed) AS filed, sum(dispatched) AS dispatched,
                    sum(due_closed) AS due_closed, sum(closed) AS closed, sum(on_time) AS on_time,
                    sum(reworked) AS reworked, sum(extended) AS extended, sum(deferred) AS deferred,
                    sum(right_first) AS right_first, sum(handling_us) AS handling_us
               FROM case_daily WHERE 1 = 1"
        ));
        if let Some(d) = from {
            q.push(" AND day >= ").push_bind(d.to_string());
        }
        if let Some(d) = to {
            q.push(" AND day < ").push_bind(d.to_string());
        }
        if let Some(w) = &filter.within {
            push_prefix(&mut q, "township", w.as_str());
        }
        if let Some(p) = &filter.class_prefix {
            push_prefix(&mut q, "class_code", p);
        }
        if let Some(d) = &filter.department {
            q.push(" AND department = ").push_bind(d.clone());
        }
        q.push(" GROUP BY 1");
        let rows = q.build().fetch_all(&self.read).await.map_err(err)?;
        let mut out = rows.iter().map(|r| tally_row(r, "due_closed")).collect::<StoreResult<BTreeMap<_, _>>>()?;

        // 应结案数's moving part, from the partial index of open dispatched cases (by period).
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new("SELECT ");
        push_key(&mut q, group, offset_minutes);
        q.push(" AS k, count(*) AS n FROM cases INDEXED BY cases_open_dispatched");
        push_filter(&mut q, filter);
        q.push(" AND dispatched_at IS NOT NULL AND closed_at IS NULL AND handle_deadline <= ")
            .push_bind(micros(due_at))
            .push(" GROUP BY 1");
        for r in q.build().fetch_all(&self.read).await.map_err(err)? {
            let k: String = r.try_get("k").map_err(err)?;
            out.entry(k).or_default().due += r.try_get::<i64, _>("n").map_err(err)?;
        }
        // Rows whose every count went back to zero (a case moved away) are not groups.
        Ok(out.into_iter().filter(|(_, t)| *t != Tally::default()).collect())
    }

    /// Tallies by one grouped scan over the filtered cases.
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
        match rollup_span(filter, group, utc_offset_minutes, self.rollup_offset().await?) {
            Some(days) => self.rollup_tallies(filter, days, group, due_at, utc_offset_minutes).await,
            None => self.scanned_tallies(filter, group, due_at, utc_offset_minutes).await,
        }
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
        sqlx::query("DELETE FROM case_daily").execute(&mut *tx).await.map_err(err)?;
        // The view reads the new offset from `case_rollup_meta`.
        let rows = sqlx::query(&format!("INSERT INTO case_daily {}", rollup_sums("true")))
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        append_audit(
            &mut tx,
            &AuditEvent::success(actor, "case.rollup_rebuild", "case_daily")
                .with_detail(serde_json::json!({"utc_offset_minutes": utc_offset_minutes, "rows": rows})),
        )
        .await?;
        tx.commit().await.map_err(err)
    }
}

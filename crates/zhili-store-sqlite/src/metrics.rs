//! Case figures on SQLite (考核统计): one grouped scan over the filtered cases. Times are
//! stored as microseconds since the epoch (UTC).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite};
use zhili_case::metrics::{GroupBy, Tally};
use zhili_case::model::CaseFilter;
use zhili_case::store::CaseMetricsStore;
use zhili_core::store::StoreResult;

use crate::case::push_filter;
use crate::{err, micros, SqliteStore};

/// Push the SQL of a group key (text).
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

#[async_trait]
impl CaseMetricsStore for SqliteStore {
    async fn case_tallies(
        &self,
        filter: &CaseFilter,
        group: GroupBy,
        due_at: DateTime<Utc>,
        utc_offset_minutes: i32,
    ) -> StoreResult<Vec<(String, Tally)>> {
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new("SELECT ");
        push_key(&mut q, group, utc_offset_minutes);
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
        rows.iter()
            .map(|r| {
                let n = |c: &str| r.try_get::<i64, _>(c).map_err(err);
                Ok((
                    r.try_get::<String, _>("k").map_err(err)?,
                    Tally {
                        reported: n("reported")?,
                        filed: n("filed")?,
                        dispatched: n("dispatched")?,
                        due: n("due")?,
                        closed: n("closed")?,
                        closed_on_time: n("on_time")?,
                        reworked: n("reworked")?,
                        extended: n("extended")?,
                        deferred: n("deferred")?,
                        dispatched_right: n("right_first")?,
                        handling_seconds: n("handling_us")? as f64 / 1e6,
                    },
                ))
            })
            .collect()
    }
}

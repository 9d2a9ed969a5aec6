//! Case figures on PostgreSQL (考核统计): one grouped scan over the filtered cases.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Row};
use zhili_case::metrics::{GroupBy, Tally};
use zhili_case::model::CaseFilter;
use zhili_case::store::CaseMetricsStore;
use zhili_core::store::StoreResult;

use crate::case::push_filter;
use crate::{err, PgStore};

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
impl CaseMetricsStore for PgStore {
    async fn case_tallies(
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
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("k").map_err(err)?,
                    Tally {
                        reported: r.try_get("reported").map_err(err)?,
                        filed: r.try_get("filed").map_err(err)?,
                        dispatched: r.try_get("dispatched").map_err(err)?,
                        due: r.try_get("due").map_err(err)?,
                        closed: r.try_get("closed").map_err(err)?,
                        closed_on_time: r.try_get("on_time").map_err(err)?,
                        reworked: r.try_get("reworked").map_err(err)?,
                        extended: r.try_get("extended").map_err(err)?,
                        deferred: r.try_get("deferred").map_err(err)?,
                        dispatched_right: r.try_get("right_first").map_err(err)?,
                        handling_seconds: r.try_get("handling").map_err(err)?,
                    },
                ))
            })
            .collect()
    }
}

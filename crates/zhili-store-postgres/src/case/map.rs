//! Cases on the One Map on PostgreSQL (案件图层): slim point reads and a grouped density, both
//! answered from the covering index `cases_map` (0006) without reading a case body.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Row};
use zhili_case::model::CaseFilter;
use zhili_case::store::{CaseMapStore, CasePoint, DensityCell};
use zhili_core::store::{StoreError, StoreResult};

use zhili_store_sql::rows as shared;

use crate::case::push_filter;
use crate::{err, PgStore};

/// The filter and the box (edges included).
fn push_where(q: &mut QueryBuilder<'_, Postgres>, filter: &CaseFilter, bbox: [f64; 4]) {
    let [min_lon, min_lat, max_lon, max_lat] = bbox;
    push_filter(q, filter, true);
    q.push(" AND lon BETWEEN ").push_bind(min_lon).push(" AND ").push_bind(max_lon);
    q.push(" AND lat BETWEEN ").push_bind(min_lat).push(" AND ").push_bind(max_lat);
}

/// A case point from a row of `id, lon, lat, state, class_code, deadline` (`timestamptz`).
pub(crate) fn point_row(r: &sqlx::postgres::PgRow) -> StoreResult<CasePoint> {
    shared::case_point(r, r.try_get::<Option<DateTime<Utc>>, _>("deadline").map_err(err)?)
}

#[async_trait]
impl CaseMapStore for PgStore {
    async fn case_points(&self, filter: &CaseFilter, bbox: [f64; 4], limit: i64) -> StoreResult<Vec<CasePoint>> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT id, lon, lat, state, class_code, deadline FROM cases");
        push_where(&mut q, filter, bbox);
        q.push(" ORDER BY reported_at DESC, id DESC LIMIT ").push_bind(limit.max(0));
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(point_row).collect()
    }

    async fn case_density(&self, filter: &CaseFilter, bbox: [f64; 4], cell_deg: f64) -> StoreResult<Vec<DensityCell>> {
        if !(cell_deg.is_finite() && cell_deg > 0.0) {
            return Err(StoreError::Other(format!("cell size must be positive, got {cell_deg}")));
        }
        let mut q = QueryBuilder::<Postgres>::new("SELECT floor((lon + 180.0) / ");
        q.push_bind(cell_deg).push(")::bigint AS cx, floor((lat + 90.0) / ").push_bind(cell_deg);
        q.push(")::bigint AS cy, avg(lon) AS lon, avg(lat) AS lat, count(*) AS n FROM cases");
        push_where(&mut q, filter, bbox);
        q.push(" GROUP BY cx, cy ORDER BY cx, cy");
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(shared::density_cell).collect()
    }
}

//! Cases on the One Map (案件图层): the cases of a period as points (open and closed styled
//! apart, overdue marked) and, for low zooms, a density computed by the database per cell, so a
//! district-year of cases is never shipped point by point.
//!
//! Both answer GeoJSON in WGS 84, or with `crs=gcj02` shifted onto a Chinese commercial
//! basemap (the box is then read in GCJ-02 too). What a caller sees is exactly their worklist's
//! scope (`cases::scoped_filter`): a grid worker their grids, a department its cases, the centre
//! its jurisdiction; the public none.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use geo::Rect;
use serde::Deserialize;
use serde_json::{json, Value};
use zhili_case::model::CaseFilter;
use zhili_case::workflow::CaseState;
use zhili_core::model::Locale;
use zhili_core::ErrorCode;
use zhili_geo::gcj02::MapCrs;

use crate::case::api::{scoped_filter, CaseQuery};
use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::ApiQuery;
use crate::web::i18n::Tr;
use crate::web::module::MapLayer;
use crate::AppState;

/// The cases layer (案件图层), registered by the case module: offered to whoever may read
/// cases, off at first; drawn by `map-cases.js` from `/api/case-points` and
/// `/api/case-density` (not an OGC collection: the store answers, not the spatial index).
pub const LAYER: MapLayer = MapLayer {
    id: "cases",
    title: "map.layer.cases",
    action: zhili_core::policy::Action::ReadCases,
    order: 30,
    on: false,
    swatch: "case",
    note: None,
    controls: Some(controls),
    script: Some("map-cases.js"),
    features: None,
};

/// The cases layer's controls under its toggle: period, state, legend, hint and status line.
#[derive(askama::Template)]
#[template(
    ext = "html",
    source = r#"<div id="cases-controls" class="cases-controls" hidden>
      <select id="cases-period" aria-label="{{ t.get("map.cases.period") }}">
        <option value="7">{{ t.get("map.cases.7d") }}</option>
        <option value="30" selected>{{ t.get("map.cases.30d") }}</option>
        <option value="year">{{ t.get("map.cases.year") }}</option>
      </select>
      <select id="cases-state" aria-label="{{ t.get("map.cases.state") }}">
        <option value="all">{{ t.get("map.cases.all") }}</option>
        <option value="open">{{ t.get("map.cases.open") }}</option>
        <option value="closed">{{ t.get("map.cases.closed") }}</option>
      </select>
      <p class="legend"><span class="dot open"></span>{{ t.get("map.cases.open") }} <span class="dot overdue"></span>{{ t.get("map.cases.overdue") }} <span class="dot closed"></span>{{ t.get("map.cases.closed") }}</p>
      <p class="muted">{{ t.get("map.cases.zoom") }}</p>
      <p id="cases-msg" class="muted" role="status"></p>
    </div>"#
)]
struct Controls {
    t: Tr,
}

fn controls(t: Tr) -> askama::Result<String> {
    askama::Template::render(&Controls { t })
}

/// Most points in one answer (`limit` may not exceed it).
pub const MAX_POINTS: i64 = 5_000;
/// Points in an answer when `limit` is not given.
pub const DEFAULT_POINTS: i64 = 2_000;
/// Most density cells a box may be divided into.
pub const MAX_CELLS: f64 = 512.0 * 512.0;
/// The period when `from` is not given: the last 30 days.
pub const DEFAULT_DAYS: i64 = 30;

/// Query of `GET /api/case-points`.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PointsQuery {
    /// `minlon,minlat,maxlon,maxlat` (in `crs`), required.
    pub bbox: Option<String>,
    /// Reported on or after (YYYY-MM-DD or RFC 3339); default 30 days ago.
    pub from: Option<String>,
    /// Reported before (YYYY-MM-DD or RFC 3339).
    pub to: Option<String>,
    /// `open`, `closed` or `all` (default; voided cases are never drawn).
    pub state: Option<String>,
    /// Class code or major code prefix (e.g. `SJ01`).
    pub class: Option<String>,
    /// Most points, 1–5000 (default 2000); the answer says `truncated` when more match.
    pub limit: Option<String>,
    /// `wgs84` (default) or `gcj02`.
    pub crs: Option<String>,
}

/// Query of `GET /api/case-density`.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DensityQuery {
    /// `minlon,minlat,maxlon,maxlat` (in `crs`), required.
    pub bbox: Option<String>,
    /// Reported on or after (YYYY-MM-DD or RFC 3339); default 30 days ago.
    pub from: Option<String>,
    /// Reported before (YYYY-MM-DD or RFC 3339).
    pub to: Option<String>,
    /// `open`, `closed` or `all` (default).
    pub state: Option<String>,
    /// Class code or major code prefix.
    pub class: Option<String>,
    /// Cell size in degrees; default the box's larger side / 128. At most 512 × 512 cells.
    pub cell: Option<String>,
    /// `wgs84` (default) or `gcj02`.
    pub crs: Option<String>,
}

fn bad(field: &str, message: impl Into<String>) -> AppError {
    AppError::msg(ErrorCode::InvalidQuery, message).at(field)
}

/// Which states `open`, `closed` and `all` mean. Voided cases (作废) are never on the map.
fn states(v: Option<&str>) -> AppResult<Vec<CaseState>> {
    let keep: fn(CaseState) -> bool = match v.unwrap_or("all") {
        "open" => CaseState::is_open,
        "closed" => |s| matches!(s, CaseState::Closed | CaseState::Evaluated),
        "all" => |s| s != CaseState::Voided,
        other => return Err(bad("state", format!("state must be open, closed or all, not {other:?}"))),
    };
    Ok(CaseState::ALL.into_iter().filter(|s| keep(*s)).collect())
}

/// The checked parts every map query shares.
struct MapQuery {
    crs: MapCrs,
    /// The requested box, in `crs`.
    bbox: Rect<f64>,
    /// The box to read, in WGS 84.
    read: [f64; 4],
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
}

/// Check the shared parameters and narrow the caller's worklist scope by them; `None` when the
/// caller's scope is empty.
async fn scoped(
    state: &AppState,
    caller: &Caller,
    bbox: Option<&str>,
    crs: Option<&str>,
    q: CaseQuery,
    st: Option<&str>,
) -> AppResult<(MapQuery, Option<CaseFilter>)> {
    let crs = match crs {
        None => MapCrs::Wgs84,
        Some(v) => MapCrs::parse(v).ok_or_else(|| bad("crs", format!("crs must be wgs84 or gcj02, got {v:?}")))?,
    };
    let states = states(st)?;
    // Authorisation and the scope first (scoped_filter refuses the public), then the box.
    let filter = scoped_filter(state, caller, &q).await?;
    let bbox = crate::map::layers::parse_bbox(
        bbox.ok_or_else(|| bad("bbox", "bbox is required: minlon,minlat,maxlon,maxlat"))?,
    )?;
    let r = crs.query_rect(bbox);
    let read = [r.min().x, r.min().y, r.max().x, r.max().y];
    // Without `from`: the 30 days before `to` (or now).
    let to = filter.as_ref().and_then(|f| f.to);
    let from =
        filter.as_ref().and_then(|f| f.from).unwrap_or(to.unwrap_or_else(Utc::now) - Duration::days(DEFAULT_DAYS));
    let filter = filter.map(|mut f| {
        f.from = Some(from);
        f.states = states;
        f
    });
    Ok((MapQuery { crs, bbox, read, from, to }, filter))
}

fn geo_json(v: Value) -> Response {
    let mut r = axum::Json(v).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    r
}

fn inside(b: &Rect<f64>, (x, y): (f64, f64)) -> bool {
    x >= b.min().x && x <= b.max().x && y >= b.min().y && y <= b.max().y
}

/// Round a coordinate to 7 decimals (about 1 cm): enough for a map, half the bytes.
fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// Cases of a period in a box as GeoJSON points (案件点位): `id`, `state`, `state_label`,
/// `open`, `class`, `class_name`, `overdue`. Newest first, at most `limit`; `truncated` says more
/// matched.
#[utoipa::path(get, path = "/api/case-points", tag = "cases", params(PointsQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection of points", body = Object),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn points(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PointsQuery>,
) -> AppResult<Response> {
    let limit = match q.limit.as_deref() {
        None => DEFAULT_POINTS,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_POINTS).contains(n))
            .ok_or_else(|| bad("limit", format!("limit must be a whole number 1–{MAX_POINTS}, got {v:?}")))?,
    };
    let cq = CaseQuery { class: q.class, from: q.from, to: q.to, ..CaseQuery::default() };
    let (m, filter) = scoped(&state, &caller, q.bbox.as_deref(), q.crs.as_deref(), cq, q.state.as_deref()).await?;
    let rows = match &filter {
        Some(f) => state.port::<dyn zhili_case::store::CaseMapStore>().case_points(f, m.read, limit + 1).await?,
        None => Vec::new(),
    };
    let truncated = rows.len() as i64 > limit;
    let catalogue =
        crate::case::cases(&state).catalogue(state.port::<dyn zhili_platform::settings::SettingStore>()).await?;
    let en = caller.locale == Locale::En;
    let now = Utc::now();
    let features: Vec<Value> = rows
        .iter()
        .take(limit as usize)
        .filter_map(|p| {
            let at = m.crs.from_wgs84(p.lon, p.lat);
            inside(&m.bbox, at).then(|| {
                let open = p.state.is_open();
                json!({
                    "type": "Feature",
                    "id": p.id,
                    "geometry": {"type": "Point", "coordinates": [round7(at.0), round7(at.1)]},
                    "properties": {
                        "id": p.id,
                        "state": p.state.as_str(),
                        "state_label": if en { p.state.label_en() } else { p.state.label_zh() },
                        "open": open,
                        "class": p.class_code,
                        "class_name": catalogue.get(&p.class_code).map(|c| c.name.as_str()).unwrap_or(""),
                        "overdue": open && p.deadline.is_some_and(|d| now > d),
                    },
                })
            })
        })
        .collect();
    Ok(geo_json(json!({
        "type": "FeatureCollection",
        "numberReturned": features.len(),
        "limit": limit,
        "truncated": truncated,
        "from": m.from,
        "to": m.to,
        "crs": m.crs.as_str(),
        "features": features,
    })))
}

/// Case density for heat maps (案件热力): the cases of a period in a box counted per cell by
/// the database, each cell a GeoJSON point at its cases' mean position with its `count`.
#[utoipa::path(get, path = "/api/case-density", tag = "cases", params(DensityQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection of weighted cell centres", body = Object),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn density(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DensityQuery>,
) -> AppResult<Response> {
    let cq = CaseQuery { class: q.class, from: q.from, to: q.to, ..CaseQuery::default() };
    let (m, filter) = scoped(&state, &caller, q.bbox.as_deref(), q.crs.as_deref(), cq, q.state.as_deref()).await?;
    let (w, h) = (m.read[2] - m.read[0], m.read[3] - m.read[1]);
    let cell = match q.cell.as_deref() {
        None => (w.max(h) / 128.0).max(1e-5),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|c| c.is_finite() && (1e-6..=10.0).contains(c))
            .ok_or_else(|| bad("cell", format!("cell must be a size in degrees, 0.000001–10, got {v:?}")))?,
    };
    if (w / cell).ceil().max(1.0) * (h / cell).ceil().max(1.0) > MAX_CELLS {
        return Err(bad(
            "cell",
            format!("cell {cell}° divides the box into more than {MAX_CELLS} cells; use a larger cell"),
        ));
    }
    let cells = match &filter {
        Some(f) => state.port::<dyn zhili_case::store::CaseMapStore>().case_density(f, m.read, cell).await?,
        None => Vec::new(),
    };
    let total: i64 = cells.iter().map(|c| c.count).sum();
    let max = cells.iter().map(|c| c.count).max().unwrap_or(0);
    let features: Vec<Value> = cells
        .iter()
        .map(|c| {
            let (x, y) = m.crs.from_wgs84(c.lon, c.lat);
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round7(x), round7(y)]},
                "properties": {"count": c.count},
            })
        })
        .collect();
    Ok(geo_json(json!({
        "type": "FeatureCollection",
        "cell": cell,
        "total": total,
        "max": max,
        "from": m.from,
        "to": m.to,
        "crs": m.crs.as_str(),
        "features": features,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_words() {
        assert_eq!(states(Some("open")).unwrap().len(), 8);
        assert_eq!(states(Some("closed")).unwrap(), vec![CaseState::Closed, CaseState::Evaluated]);
        assert_eq!(states(None).unwrap().len(), 10);
        assert_eq!(states(Some("shut")).unwrap_err().field.as_deref(), Some("state"));
    }
}

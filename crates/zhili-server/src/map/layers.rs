//! Map layers (图层) and the standard interfaces that serve them: OGC API – Features at `/ogc`
//! (GeoJSON, readable by QGIS and OWSLib) and Mapbox Vector Tiles at `/tiles` with TileJSON.
//!
//! The layer registry says what each layer holds and who may see it; features come from the
//! in-memory spatial index, filtered by the caller's jurisdiction (a grid worker: their grids).
//! A layer the caller may not see does not exist for them (404).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use geo::{Intersects, Rect};
use serde_json::{json, Map, Value};
use zhili_core::codes::DivisionCode;
use zhili_core::policy::{authorize, Action, Principal, Role};
use zhili_core::ErrorCode;
use zhili_geo::gcj02::MapCrs;
use zhili_geo::index::Feature;
use zhili_geo::mvt::{Layer as MvtLayer, TileBuilder, Value as MvtValue};
use zhili_geo::tile::TileId;

use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult};
use crate::AppState;

/// Deepest zoom served.
pub const MAX_ZOOM: u8 = 20;
/// Most features in one OGC items page.
pub const MAX_LIMIT: usize = 10_000;

/// A layer of the registry.
pub struct LayerDef {
    /// Stable id, used in URLs.
    pub id: &'static str,
    /// Chinese title.
    pub title_zh: &'static str,
    /// English title.
    pub title_en: &'static str,
    /// Index levels the layer holds.
    pub levels: std::ops::RangeInclusive<u8>,
    /// The action that lets a caller see it.
    pub action: Action,
    /// Lowest zoom its tiles are served at.
    pub minzoom: u8,
}

/// Every layer. Later modules register theirs here.
pub const LAYERS: &[LayerDef] = &[
    LayerDef {
        id: "divisions",
        title_zh: "行政区划",
        title_en: "Administrative divisions",
        levels: 1..=3,
        action: Action::ReadDivisions,
        minzoom: 0,
    },
    LayerDef {
        id: "grids",
        title_zh: "网格",
        title_en: "Grids",
        levels: 4..=12,
        action: Action::ReadGrids,
        minzoom: 10,
    },
];

/// What a caller may see of the features of a layer.
enum Scope {
    All,
    Within(DivisionCode),
    Grids(HashSet<String>),
}

impl Scope {
    fn admits(&self, f: &Feature) -> bool {
        match self {
            Scope::All => true,
            Scope::Within(j) => {
                // A division is visible inside the jurisdiction and on the chain above it.
                let code = f.key.get(..12).unwrap_or(&f.key);
                DivisionCode::parse(code).is_ok_and(|c| j.contains(&c) || c.contains(j))
            }
            Scope::Grids(set) => set.contains(&f.key),
        }
    }

    fn fingerprint(&self) -> u64 {
        let mut h = DefaultHasher::new();
        match self {
            Scope::All => 0u8.hash(&mut h),
            Scope::Within(j) => j.as_str().hash(&mut h),
            Scope::Grids(s) => {
                let mut v: Vec<&String> = s.iter().collect();
                v.sort();
                v.hash(&mut h);
            }
        }
        h.finish()
    }
}

/// The layer, if the caller may see it (else 404, never 403: it does not exist for them).
fn layer_for(caller: &Caller, id: &str) -> AppResult<&'static LayerDef> {
    LAYERS
        .iter()
        .find(|l| l.id == id && authorize(&caller.principal, l.action, None).is_ok())
        .ok_or_else(|| AppError::msg(ErrorCode::NotFound, format!("no layer {id:?}")).at("collection"))
}

async fn scope(state: &AppState, p: &Principal, layer: &LayerDef) -> AppResult<Scope> {
    if layer.id == "divisions" {
        // Divisions are public reference data.
        return Ok(Scope::All);
    }
    match (p.role, &p.jurisdiction, p.user_id) {
        (Role::GridWorker, _, Some(id)) => {
            let grids = crate::grid::api::worker_grids(state, id).await?;
            Ok(Scope::Grids(grids.into_iter().map(|g| g.code.to_string()).collect()))
        }
        (_, Some(j), _) => Ok(Scope::Within(j.clone())),
        _ => Ok(Scope::All),
    }
}

fn properties(f: &Feature, state: &AppState) -> Map<String, Value> {
    let (kind, name) = state.spatial.label(&f.key);
    properties_of(f, kind, &name, state)
}

fn properties_of(f: &Feature, kind: &str, name: &str, state: &AppState) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("code".into(), json!(f.key));
    m.insert("name".into(), json!(name));
    m.insert("parent".into(), json!(f.parent));
    if kind == "grid" {
        let level = f.level.saturating_sub(3);
        m.insert("level".into(), json!(level));
        m.insert("level_name".into(), json!(state.grid_rules.levels.name(level).unwrap_or("")));
        m.insert("village".into(), json!(f.key.get(..12)));
    } else {
        let level = match f.level {
            1 => "county",
            2 => "township",
            _ => "village",
        };
        m.insert("level".into(), json!(level));
    }
    m
}

fn geojson_feature(f: &Feature, crs: MapCrs, state: &AppState) -> Value {
    json!({
        "type": "Feature",
        "id": f.key,
        "geometry": zhili_geo::geometry::area_to_geojson(&crs.geometry(&f.geometry)),
        "properties": properties(f, state),
    })
}

fn geo_json(v: Value) -> Response {
    let mut r = axum::Json(v).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    r
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

fn collection_json(l: &LayerDef, caller: &Caller, base: &str, state: &AppState) -> Value {
    let title = match caller.locale {
        zhili_core::model::Locale::ZhCn => l.title_zh,
        zhili_core::model::Locale::En => l.title_en,
    };
    let bbox = state.spatial.extent(&l.levels).map(|r| vec![r.min().x, r.min().y, r.max().x, r.max().y]);
    json!({
        "id": l.id,
        "title": title,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "extent": {"spatial": {"bbox": [bbox.unwrap_or_else(|| vec![-180.0, -90.0, 180.0, 90.0])],
                               "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "links": [
            {"href": format!("{base}/ogc/collections/{}", l.id), "rel": "self", "type": "application/json", "title": title},
            {"href": format!("{base}/ogc/collections/{}/items", l.id), "rel": "items", "type": "application/geo+json", "title": title},
            {"href": format!("{base}/tiles/{}.json", l.id), "rel": "tilesets-vector", "type": "application/json", "title": "TileJSON"},
        ],
    })
}

/// `GET /ogc`: the landing page.
#[utoipa::path(get, path = "/ogc", tag = "ogc", responses((status = 200, description = "OGC API landing page", body = Object)))]
pub async fn landing(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    axum::Json(json!({
        "title": "Zhili 治理 — OGC API Features",
        "description": "Divisions and grids of this deployment as GeoJSON features.",
        "links": [
            {"href": format!("{base}/ogc"), "rel": "self", "type": "application/json", "title": "This document"},
            {"href": format!("{base}/api/openapi.json"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "title": "The API definition"},
            {"href": format!("{base}/ogc/conformance"), "rel": "conformance", "type": "application/json", "title": "Conformance"},
            {"href": format!("{base}/ogc/collections"), "rel": "data", "type": "application/json", "title": "Collections"},
        ],
    }))
    .into_response()
}

/// `GET /ogc/conformance`.
#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc", responses((status = 200, description = "Conformance classes", body = Object)))]
pub async fn conformance() -> Response {
    axum::Json(json!({"conformsTo": [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    ]}))
    .into_response()
}

/// `GET /ogc/collections`: the layers the caller may see.
#[utoipa::path(get, path = "/ogc/collections", tag = "ogc", responses((status = 200, description = "The layers the caller may see", body = Object)))]
pub async fn collections(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let cols: Vec<Value> = LAYERS
        .iter()
        .filter(|l| authorize(&caller.principal, l.action, None).is_ok())
        .map(|l| collection_json(l, &caller, &base, &state))
        .collect();
    axum::Json(json!({
        "links": [{"href": format!("{base}/ogc/collections"), "rel": "self", "type": "application/json", "title": "Collections"}],
        "collections": cols,
    }))
    .into_response()
}

/// `GET /ogc/collections/{id}`.
#[utoipa::path(get, path = "/ogc/collections/{id}", tag = "ogc", params(("id" = String, Path, description = "Layer id")), responses((status = 200, description = "One layer", body = Object), (status = 404, body = crate::web::error::ErrorBody)))]
pub async fn collection(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let l = layer_for(&caller, &id)?;
    Ok(axum::Json(collection_json(l, &caller, &base_url(&headers), &state)).into_response())
}

fn bad_query(field: &str, msg: impl Into<String>) -> AppError {
    AppError::msg(ErrorCode::InvalidQuery, msg).at(field)
}

/// A query whose only parameter may be `crs`.
fn crs_only(q: &[(String, String)]) -> AppResult<MapCrs> {
    let mut crs = MapCrs::Wgs84;
    for (k, v) in q {
        match k.as_str() {
            "crs" => crs = parse_crs(v)?,
            "f" => {}
            other => return Err(bad_query(other, format!("unknown parameter {other:?}"))),
        }
    }
    Ok(crs)
}

/// The `crs` parameter: `wgs84` (default, also the CRS84 URI) or `gcj02`.
fn parse_crs(v: &str) -> AppResult<MapCrs> {
    MapCrs::parse(v).ok_or_else(|| bad_query("crs", format!("crs must be wgs84 (CRS84) or gcj02, got {v:?}")))
}

/// Parse `bbox=minx,miny,maxx,maxy`.
pub fn parse_bbox(s: &str) -> AppResult<Rect<f64>> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|_| bad_query("bbox", format!("bbox value {p:?} is not a number"))))
        .collect::<AppResult<_>>()?;
    let [x0, y0, x1, y1] = v[..] else { return Err(bad_query("bbox", "bbox must be minx,miny,maxx,maxy")) };
    if v.iter().any(|c| !c.is_finite()) {
        return Err(bad_query("bbox", "bbox values must be finite"));
    }
    if x0 > x1 {
        return Err(bad_query("bbox", format!("bbox minx {x0} is greater than maxx {x1}")));
    }
    if y0 > y1 {
        return Err(bad_query("bbox", format!("bbox miny {y0} is greater than maxy {y1}")));
    }
    if !(-180.0..=180.0).contains(&x0)
        || !(-180.0..=180.0).contains(&x1)
        || !(-90.0..=90.0).contains(&y0)
        || !(-90.0..=90.0).contains(&y1)
    {
        return Err(bad_query("bbox", "bbox must lie within -180,-90,180,90 (CRS84)"));
    }
    Ok(Rect::new((x0, y0), (x1, y1)))
}

/// `GET /ogc/collections/{id}/items`: `bbox`, `limit` (1–10,000, default 10), `offset`, and
/// exact-match filters on properties (`?level=3&village=370304100201`).
#[utoipa::path(get, path = "/ogc/collections/{id}/items", tag = "ogc", params(("id" = String, Path, description = "Layer id"), ("bbox" = Option<String>, Query, description = "minx,miny,maxx,maxy (CRS84)"), ("limit" = Option<usize>, Query, description = "1–10000, default 10"), ("offset" = Option<usize>, Query, description = "Features to skip")), responses((status = 200, description = "GeoJSON FeatureCollection", body = Object), (status = 400, body = crate::web::error::ErrorBody), (status = 404, body = crate::web::error::ErrorBody)))]
pub async fn items(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let l = layer_for(&caller, &id)?;
    let mut bbox = None;
    let mut limit = 10usize;
    let mut offset = 0usize;
    let mut filters: Vec<(String, String)> = Vec::new();
    let mut crs = MapCrs::Wgs84;
    for (k, v) in &q {
        match k.as_str() {
            "bbox" => bbox = Some(parse_bbox(v)?),
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| bad_query("limit", format!("limit must be 1–{MAX_LIMIT}")))?
            }
            "offset" => offset = v.parse().map_err(|_| bad_query("offset", "offset must be a whole number ≥ 0"))?,
            "crs" => crs = parse_crs(v)?,
            "f" | "bbox-crs" => {}
            "code" | "name" | "parent" | "level" | "level_name" | "village" => filters.push((k.clone(), v.clone())),
            other => return Err(bad_query(other, format!("unknown parameter {other:?}"))),
        }
    }
    let scope = scope(&state, &caller.principal, l).await?;
    // Select and sort keys under the lock; write only the page, as text.
    // With `crs=gcj02` the bbox and the output are in GCJ-02 (for Chinese commercial basemaps).
    let (matched, page) = state.spatial.with_features(&l.levels, bbox.map(|b| crs.query_rect(b)), |it| {
        let mut ok: Vec<(&Feature, &str, &str)> = it
            .filter(|(f, _, _)| scope.admits(f))
            .filter(|(f, _, _)| bbox.is_none_or(|b| crs.geometry(&f.geometry).intersects(&b)))
            .filter(|(f, kind, name)| {
                filters.is_empty() || {
                    let props = properties_of(f, kind, name, &state);
                    filters.iter().all(|(k, v)| match props.get(k) {
                        Some(Value::String(s)) => s == v,
                        Some(Value::Number(n)) => n.to_string() == *v,
                        _ => false,
                    })
                }
            })
            .collect();
        ok.sort_unstable_by(|a, b| a.0.key.cmp(&b.0.key));
        let page: Vec<String> = ok
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(f, kind, name)| {
                format!(
                    "{{\"type\":\"Feature\",\"id\":{},\"geometry\":{},\"properties\":{}}}",
                    Value::String(f.key.clone()),
                    zhili_geo::geometry::area_to_geojson_string(&crs.geometry(&f.geometry)),
                    Value::Object(properties_of(f, kind, name, &state))
                )
            })
            .collect();
        (ok.len(), page)
    });
    let base = base_url(&headers);
    let keep: Vec<String> =
        q.iter().filter(|(k, _)| k != "offset").map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
    let link = |off: usize| {
        let mut p = keep.clone();
        p.push(format!("offset={off}"));
        format!("{base}/ogc/collections/{id}/items?{}", p.join("&"))
    };
    let mut links = vec![json!({"href": link(offset), "rel": "self", "type": "application/geo+json"})];
    if offset + page.len() < matched {
        links.push(json!({"href": link(offset + limit), "rel": "next", "type": "application/geo+json"}));
    }
    if offset > 0 {
        links.push(json!({"href": link(offset.saturating_sub(limit)), "rel": "prev", "type": "application/geo+json"}));
    }
    let head = json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": page.len(),
        "timeStamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "links": links,
    })
    .to_string();
    // `head` ends with `}`: splice the features array in before it.
    let body = format!("{},\"features\":[{}]}}", &head[..head.len() - 1], page.join(","));
    let mut r = body.into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    Ok(r)
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|v| v[1..].to_string()).unwrap_or_default()
}

/// `GET /ogc/collections/{id}/items/{fid}`.
#[utoipa::path(get, path = "/ogc/collections/{id}/items/{fid}", tag = "ogc", params(("id" = String, Path, description = "Layer id"), ("fid" = String, Path, description = "Feature id (its code)")), responses((status = 200, description = "GeoJSON Feature", body = Object), (status = 404, body = crate::web::error::ErrorBody)))]
pub async fn item(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, fid)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let l = layer_for(&caller, &id)?;
    let crs = crs_only(&q)?;
    let scope = scope(&state, &caller.principal, l).await?;
    let f = state
        .spatial
        .feature(&fid)
        .filter(|f| l.levels.contains(&f.level) && scope.admits(f))
        .ok_or_else(|| AppError::msg(ErrorCode::NotFound, format!("no feature {fid:?} in {id}")))?;
    Ok(geo_json(geojson_feature(&f, crs, &state)))
}

fn mvt_props(f: &Feature, kind: &str, name: &str, state: &AppState) -> Vec<(String, MvtValue)> {
    properties_of(f, kind, name, state)
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k, MvtValue::String(s))),
            Value::Number(n) => n.as_i64().map(|i| (k, MvtValue::Int(i))),
            _ => None,
        })
        .collect()
}

/// `GET /tiles/{layer}/{z}/{x}/{y}.mvt`: a Mapbox Vector Tile of the layer, with an ETag.
#[utoipa::path(get, path = "/tiles/{layer}/{z}/{x}/{y}.mvt", tag = "tiles", params(("layer" = String, Path, description = "Layer id"), ("z" = u8, Path, description = "Zoom"), ("x" = u32, Path, description = "Column"), ("y" = u32, Path, description = "Row")), responses((status = 200, description = "Mapbox Vector Tile", content_type = "application/vnd.mapbox-vector-tile"), (status = 304, description = "Not modified (ETag)"), (status = 400, body = crate::web::error::ErrorBody), (status = 404, body = crate::web::error::ErrorBody)))]
pub async fn tile(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, z, x, y)): Path<(String, String, String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let l = layer_for(&caller, &id)?;
    let crs = crs_only(&q)?;
    let num = |field: &str, s: &str| {
        s.parse::<u32>().map_err(|_| bad_query(field, format!("{field} {s:?} is not a whole number")))
    };
    let y = y.strip_suffix(".mvt").ok_or_else(|| bad_query("y", "tile URLs end in .mvt"))?;
    let (z, x, y) = (num("z", &z)?, num("x", &x)?, num("y", y)?);
    let z = u8::try_from(z).map_err(|_| bad_query("z", format!("zoom {z} is outside 0..{MAX_ZOOM}")))?;
    let tile = TileId::new_within(z, x, y, MAX_ZOOM).map_err(|e| {
        let field = match e {
            zhili_geo::tile::TileError::Zoom { .. } => "z",
            zhili_geo::tile::TileError::X { .. } => "x",
            zhili_geo::tile::TileError::Y { .. } => "y",
        };
        bad_query(field, e.to_string())
    })?;
    let scope = scope(&state, &caller.principal, l).await?;
    let etag = format!("\"{:x}-{:x}-{tile}-{}\"", state.spatial.version(), scope.fingerprint(), crs.as_str())
        .replace('/', ".");
    let cache = if matches!(scope, Scope::All) { "public, max-age=60" } else { "private, max-age=60" };
    if headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(ETAG, HeaderValue::from_str(&etag).expect("ASCII"));
        return Ok(r);
    }
    let builder = TileBuilder::new();
    let bytes = if z < l.minzoom {
        Vec::new()
    } else {
        let q = builder.query_bounds_lonlat(tile);
        let bounds = crs.query_rect(Rect::new((q[0], q[1]), (q[2], q[3])));
        let mut layer = MvtLayer::new(l.id);
        // Under one read lock, without copying features.
        state.spatial.with_features(&l.levels, Some(bounds), |it| {
            for (f, kind, name) in it.filter(|(f, _, _)| scope.admits(f)) {
                let id = f.key.parse::<u64>().unwrap_or(0);
                let props = mvt_props(f, kind, name, &state);
                let refs: Vec<(&str, MvtValue)> = props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                layer.add_polygon(id, &crs.geometry(&f.geometry), &refs);
            }
        });
        builder.encode(tile, &[layer])
    };
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/vnd.mapbox-vector-tile"));
    h.insert(ETAG, HeaderValue::from_str(&etag).expect("ASCII"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(r)
}

/// `GET /tiles/{layer}.json`: TileJSON 3.0.
#[utoipa::path(get, path = "/tiles/{layer}.json", tag = "tiles", params(("layer" = String, Path, description = "Layer id")), responses((status = 200, description = "TileJSON 3.0", body = Object), (status = 404, body = crate::web::error::ErrorBody)))]
pub async fn tilejson(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = file.strip_suffix(".json").ok_or_else(|| AppError::new(ErrorCode::RouteNotFound))?;
    let l = layer_for(&caller, id)?;
    let crs = crs_only(&q)?;
    let base = base_url(&headers);
    let bounds = state.spatial.extent(&l.levels).map(|r| {
        let (x0, y0) = crs.from_wgs84(r.min().x, r.min().y);
        let (x1, y1) = crs.from_wgs84(r.max().x, r.max().y);
        vec![x0, y0, x1, y1]
    });
    let suffix = if crs == MapCrs::Wgs84 { "" } else { "?crs=gcj02" };
    let fields = if l.id == "grids" {
        json!({"code": "String", "name": "String", "parent": "String", "level": "Number", "level_name": "String", "village": "String"})
    } else {
        json!({"code": "String", "name": "String", "parent": "String", "level": "String"})
    };
    Ok(axum::Json(json!({
        "tilejson": "3.0.0",
        "name": l.id,
        "tiles": [format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt{suffix}", l.id)],
        "minzoom": l.minzoom,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds.unwrap_or_else(|| vec![-180.0, -85.0511, 180.0, 85.0511]),
        "vector_layers": [{"id": l.id, "fields": fields, "minzoom": l.minzoom, "maxzoom": MAX_ZOOM}],
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_errors_are_precise() {
        assert!(parse_bbox("117,36,118,37").is_ok());
        assert!(parse_bbox("118,36,117,37")
            .unwrap_err()
            .message
            .unwrap()
            .contains("minx 118 is greater than maxx 117"));
        assert!(parse_bbox("117,37,118,36").unwrap_err().message.unwrap().contains("miny"));
        assert!(parse_bbox("117,36,118").unwrap_err().message.unwrap().contains("minx,miny,maxx,maxy"));
        assert!(parse_bbox("a,36,118,37").unwrap_err().message.unwrap().contains("\"a\""));
        assert!(parse_bbox("117,36,190,37").is_err());
    }
}

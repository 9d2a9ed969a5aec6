//! Map layers (图层) and the standard interfaces that serve them: OGC API – Features at `/ogc`
//! (GeoJSON, readable by QGIS and OWSLib) and Mapbox Vector Tiles at `/tiles` with TileJSON.
//!
//! Every layer a module registers with a [`FeatureSource`] (`Module::layers`) is served here:
//! the layer says who may see it, its source what each caller sees of it (e.g. the caller's
//! jurisdiction, a grid worker their grids). A layer the caller may not see does not exist for
//! them (404).

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use geo::{Intersects, Rect};
use serde_json::{json, Map, Value};
use zhili_core::policy::authorize;
use zhili_core::ErrorCode;
use zhili_geo::gcj02::MapCrs;
use zhili_geo::mvt::{Layer as MvtLayer, TileBuilder, Value as MvtValue};
use zhili_geo::tile::TileId;

use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult};
use crate::web::i18n::Tr;
use crate::web::module::{layers, FeatureSource, MapLayer, Served};
use crate::AppState;

/// Longest free-text search (`q`).
pub const MAX_Q: usize = 50;

/// Whether a feature answers the free-text search `q` (OGC API – Features Part 9, `q`; already
/// lower-cased): its name contains it, or its code starts with it.
fn matches_text(props: &Map<String, Value>, q: &str) -> bool {
    let has = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_lowercase);
    has("name").is_some_and(|n| n.contains(q)) || has("code").is_some_and(|c| c.starts_with(q))
}

/// Deepest zoom served.
pub const MAX_ZOOM: u8 = 20;
/// Most features in one OGC items page.
pub const MAX_LIMIT: usize = 10_000;

/// A registered layer with features, if the caller may see it (else 404, never 403: it does not
/// exist for them).
fn layer_for(caller: &Caller, id: &str) -> AppResult<(&'static MapLayer, &'static dyn FeatureSource)> {
    served_layers(caller)
        .find(|(l, _)| l.id == id)
        .ok_or_else(|| AppError::msg(ErrorCode::NotFound, format!("no layer {id:?}")).at("collection"))
}

/// The registered layers with features that the caller may see, in order.
fn served_layers(caller: &Caller) -> impl Iterator<Item = (&'static MapLayer, &'static dyn FeatureSource)> + '_ {
    layers()
        .iter()
        .filter(|l| authorize(&caller.principal, l.action, None).is_ok())
        .filter_map(|l| Some((*l, l.features?)))
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

fn collection_json(l: &MapLayer, src: &dyn FeatureSource, caller: &Caller, base: &str, state: &AppState) -> Value {
    let title = Tr(caller.locale).get(l.title);
    let bbox = src.extent(state).map(|r| vec![r.min().x, r.min().y, r.max().x, r.max().y]);
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
    let cols: Vec<Value> =
        served_layers(&caller).map(|(l, src)| collection_json(l, src, &caller, &base, &state)).collect();
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
    let (l, src) = layer_for(&caller, &id)?;
    Ok(axum::Json(collection_json(l, src, &caller, &base_url(&headers), &state)).into_response())
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

/// `GET /ogc/collections/{id}/items`: `bbox`, `limit` (1–10,000, default 10), `offset`,
/// exact-match filters on properties (`?level=3&village=370304100201`), and the free-text `q`
/// (a part of the name, or the start of the code: `?q=河岭`).
#[utoipa::path(get, path = "/ogc/collections/{id}/items", tag = "ogc", params(("id" = String, Path, description = "Layer id"), ("bbox" = Option<String>, Query, description = "minx,miny,maxx,maxy (CRS84)"), ("limit" = Option<usize>, Query, description = "1–10000, default 10"), ("offset" = Option<usize>, Query, description = "Features to skip"), ("q" = Option<String>, Query, description = "Free text: part of the name or the start of the code, 1–50 characters")), responses((status = 200, description = "GeoJSON FeatureCollection", body = Object), (status = 400, body = crate::web::error::ErrorBody), (status = 404, body = crate::web::error::ErrorBody)))]
pub async fn items(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (_, src) = layer_for(&caller, &id)?;
    let mut bbox = None;
    let mut limit = 10usize;
    let mut offset = 0usize;
    let mut filters: Vec<(String, String)> = Vec::new();
    let mut text: Option<String> = None;
    let mut crs = MapCrs::Wgs84;
    for (k, v) in &q {
        match k.as_str() {
            "q" => {
                let t = v.trim();
                if t.is_empty() || t.chars().count() > MAX_Q {
                    return Err(bad_query("q", format!("q must have 1–{MAX_Q} characters")));
                }
                text = Some(t.to_lowercase());
            }
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
            k if src.queryables().contains(&k) => filters.push((k.to_string(), v.clone())),
            other => return Err(bad_query(other, format!("unknown parameter {other:?}"))),
        }
    }
    let view = src.view(&state, &caller.principal).await?;
    // Select and sort keys while the source lends its features; write only the page, as text.
    // With `crs=gcj02` the bbox and the output are in GCJ-02 (for Chinese commercial basemaps).
    let (mut matched, mut page) = (0, Vec::new());
    view.with_features(bbox.map(|b| crs.query_rect(b)), &mut |it| {
        let mut ok: Vec<Served<'_>> = it
            .filter(|s| bbox.is_none_or(|b| crs.geometry(&s.feature.geometry).intersects(&b)))
            .filter(|s| {
                (filters.is_empty() && text.is_none()) || {
                    let props = (s.properties)();
                    text.as_deref().is_none_or(|t| matches_text(&props, t))
                        && filters.iter().all(|(k, v)| match props.get(k) {
                            Some(Value::String(s)) => s == v,
                            Some(Value::Number(n)) => n.to_string() == *v,
                            _ => false,
                        })
                }
            })
            .collect();
        ok.sort_unstable_by(|a, b| a.feature.key.cmp(&b.feature.key));
        page = ok
            .iter()
            .skip(offset)
            .take(limit)
            .map(|s| {
                format!(
                    "{{\"type\":\"Feature\",\"id\":{},\"geometry\":{},\"properties\":{}}}",
                    Value::String(s.feature.key.clone()),
                    zhili_geo::geometry::area_to_geojson_string(&crs.geometry(&s.feature.geometry)),
                    Value::Object((s.properties)())
                )
            })
            .collect();
        matched = ok.len();
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
    let (_, src) = layer_for(&caller, &id)?;
    let crs = crs_only(&q)?;
    let view = src.view(&state, &caller.principal).await?;
    let (f, properties) =
        view.feature(&fid).ok_or_else(|| AppError::msg(ErrorCode::NotFound, format!("no feature {fid:?} in {id}")))?;
    Ok(geo_json(json!({
        "type": "Feature",
        "id": f.key,
        "geometry": zhili_geo::geometry::area_to_geojson(&crs.geometry(&f.geometry)),
        "properties": properties,
    })))
}

fn mvt_props(properties: Map<String, Value>) -> Vec<(String, MvtValue)> {
    properties
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
    let (l, src) = layer_for(&caller, &id)?;
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
    let view = src.view(&state, &caller.principal).await?;
    let etag = format!("\"{}-{tile}-{}\"", view.etag(), crs.as_str()).replace('/', ".");
    let cache = if view.public() { "public, max-age=60" } else { "private, max-age=60" };
    if crate::web::compress::none_match(headers.get(IF_NONE_MATCH), &etag) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(ETAG, HeaderValue::from_str(&etag).expect("ASCII"));
        return Ok(r);
    }
    let builder = TileBuilder::new();
    let bytes = if z < src.minzoom() {
        Vec::new()
    } else {
        let q = builder.query_bounds_lonlat(tile);
        let bounds = crs.query_rect(Rect::new((q[0], q[1]), (q[2], q[3])));
        let mut layer = MvtLayer::new(l.id);
        view.with_features(Some(bounds), &mut |it| {
            for s in it {
                let id = s.feature.key.parse::<u64>().unwrap_or(0);
                let props = mvt_props((s.properties)());
                let refs: Vec<(&str, MvtValue)> = props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                layer.add_polygon(id, &crs.geometry(&s.feature.geometry), &refs);
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
    let (l, src) = layer_for(&caller, id)?;
    let crs = crs_only(&q)?;
    let base = base_url(&headers);
    let bounds = src.extent(&state).map(|r| {
        let (x0, y0) = crs.from_wgs84(r.min().x, r.min().y);
        let (x1, y1) = crs.from_wgs84(r.max().x, r.max().y);
        vec![x0, y0, x1, y1]
    });
    let suffix = if crs == MapCrs::Wgs84 { "" } else { "?crs=gcj02" };
    let fields = src.fields();
    let minzoom = src.minzoom();
    Ok(axum::Json(json!({
        "tilejson": "3.0.0",
        "name": l.id,
        "tiles": [format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt{suffix}", l.id)],
        "minzoom": minzoom,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds.unwrap_or_else(|| vec![-180.0, -85.0511, 180.0, 85.0511]),
        "vector_layers": [{"id": l.id, "fields": fields, "minzoom": minzoom, "maxzoom": MAX_ZOOM}],
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

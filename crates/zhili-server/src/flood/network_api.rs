//! The network's read API (山洪监测网络查询): stations with their health and latest values,
//! a station's time series and raw frames, villages at risk with their indicators, sections,
//! assessment and warnings, and the GeoJSON the One Map's flood layers draw.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use zhili_core::codes::DivisionCode;
use zhili_core::policy::{authorize, Action};
use zhili_core::store::{Page, StoreError};
use zhili_core::ErrorCode;
use zhili_flood::health::{station_health, HealthConfig, HealthInput, StationHealth};
use zhili_flood::indicator::RainIndicators;
use zhili_flood::model::{ControlSection, Station, StationKind, Village};
use zhili_flood::store::{FloodModelStore, Observation, ObservationStore, StationFilter};
use zhili_flood::vocab::{Element, StationCode};
use zhili_flood::warning::store::{WarningFilter, WarningStore};
use zhili_flood::warning::Warning;

use crate::web::caller::Caller;
use crate::web::error::ErrorBody;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::ApiQuery;
use crate::AppState;

/// Most values one series request returns.
pub const MAX_SERIES: i64 = 20_000;
/// Most frames one request returns.
pub const MAX_FRAMES: i64 = 500;

fn station_code(code: &str) -> AppResult<StationCode> {
    StationCode::parse(code).map_err(|e| AppError::field("code", e.to_string()))
}

/// A store's `NotFound` as the API's 404.
pub fn not_found(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::new(ErrorCode::NotFound),
        e => AppError::from(e),
    }
}

/// A station with what the lists and the map show of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StationView {
    /// The station.
    #[schema(value_type = Object)]
    pub station: Station,
    /// Its health now.
    #[schema(value_type = Object)]
    pub health: StationHealth,
    /// The latest value of each element.
    #[schema(value_type = Vec<Object>)]
    pub latest: Vec<Observation>,
    /// Rain over 1, 3 and 24 hours as of its newest value, when it measures rain.
    #[schema(value_type = Object)]
    pub rain: Option<super::warning::StationRain>,
}

/// Stations with their health, latest values and recent rain.
pub async fn station_views(state: &AppState, stations: Vec<Station>) -> AppResult<Vec<StationView>> {
    let observations = state.port::<dyn ObservationStore>();
    let codes: Vec<StationCode> = stations.iter().map(|s| s.code.clone()).collect();
    let seen = observations.last_seen(&codes).await?;
    let rain = super::warnings(state).station_rain();
    let now = Utc::now();
    let mut out = Vec::with_capacity(stations.len());
    for (station, seen) in stations.into_iter().zip(seen) {
        let latest = observations.latest(&station.code).await?;
        let value = |e: Element| latest.iter().find(|o| o.element == e).map(|o| o.value);
        let input = HealthInput {
            last_report: seen.report,
            last_keepalive: seen.keepalive,
            voltage_v: value(Element::Voltage),
            status_bits: value(Element::Status).map(|v| v as u32),
            suspicious_values: 0,
        };
        let config = HealthConfig {
            expected_interval_minutes: station.report_interval_minutes.max(1),
            ..HealthConfig::default()
        };
        let health = station_health(&input, &config, now)
            .or_else(|_| station_health(&input, &HealthConfig::default(), now))
            .map_err(|e| AppError::msg(ErrorCode::Internal, e.to_string()))?;
        out.push(StationView { rain: rain.get(&station.code).cloned(), station, health, latest });
    }
    Ok(out)
}

/// Query of `GET /api/flood/stations`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct StationQuery {
    /// Of this kind (`automatic_rain`, `automatic_level`, `simple_rain`, `simple_level`, `video`, `shared`).
    pub kind: Option<String>,
    /// In this division or below.
    pub within: Option<String>,
    /// Items to skip.
    pub offset: Option<i64>,
    /// Items to return, 1–1000.
    pub limit: Option<i64>,
}

/// Stations (测站) with their health, latest values and recent rain, by code.
#[utoipa::path(get, path = "/api/flood/stations", tag = "flood", params(StationQuery),
    responses((status = 200, body = Vec<StationView>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn stations(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<StationQuery>,
) -> AppResult<Json<Vec<StationView>>> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let page = crate::core::api::PageQuery { offset: q.offset, limit: q.limit }.page()?;
    let mut filter = StationFilter::default();
    if let Some(kind) = &q.kind {
        let k = StationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| AppError::field("kind", format!("{kind:?} is not a station kind")))?;
        filter.kinds.push(k);
    }
    filter.division = match &q.within {
        Some(w) => Some(DivisionCode::parse(w).map_err(|e| AppError::field("within", e.to_string()))?),
        None => caller.principal.jurisdiction.clone(),
    };
    let stations = state.port::<dyn FloodModelStore>().stations(&filter, page).await?;
    Ok(Json(station_views(&state, stations).await?))
}

/// One station with its health and latest values.
#[utoipa::path(get, path = "/api/flood/stations/{code}", tag = "flood", params(("code" = String, Path, description = "Station code")),
    responses((status = 200, body = StationView), (status = 404, body = ErrorBody)))]
pub async fn station(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Json<StationView>> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let s = state.port::<dyn FloodModelStore>().station(&station_code(&code)?).await.map_err(not_found)?;
    let mut v = station_views(&state, vec![s]).await?;
    v.pop().map(Json).ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

/// Query of a station's series or frames.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct SeriesQuery {
    /// The element (`rain_5min`, `rain_60min`, `rain_counter`, `level`, `voltage`, `soil_moisture_20`…).
    pub element: Option<String>,
    /// From (exclusive), RFC 3339; default 24 hours before `to`.
    pub from: Option<DateTime<Utc>>,
    /// To (inclusive), RFC 3339; default now.
    pub to: Option<DateTime<Utc>>,
    /// Most items (values: up to 20,000; frames: up to 500).
    pub limit: Option<i64>,
}

fn span(q: &SeriesQuery) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - Duration::hours(24));
    if from >= to {
        return Err(AppError::field("from", format!("must be before `to` ({from} ≥ {to})")));
    }
    if to - from > Duration::days(31) {
        return Err(AppError::field("from", "the span is at most 31 days"));
    }
    Ok((from, to))
}

fn limit(q: &SeriesQuery, max: i64) -> AppResult<i64> {
    match q.limit {
        None => Ok(max),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(AppError::field("limit", format!("must be 1–{max}, got {n}"))),
    }
}

/// A station's values of one element in a span, oldest first (the station page's chart).
#[utoipa::path(get, path = "/api/flood/stations/{code}/observations", tag = "flood",
    params(("code" = String, Path, description = "Station code"), SeriesQuery),
    responses((status = 200, body = Vec<Object>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn observations(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> AppResult<Json<Vec<Observation>>> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let code = station_code(&code)?;
    let name = q.element.as_deref().unwrap_or("rain_5min");
    let element = Element::from_name(name)
        .ok_or_else(|| AppError::field("element", format!("{name:?} is not an element name")))?;
    let (from, to) = span(&q)?;
    let limit = limit(&q, MAX_SERIES)?;
    state.port::<dyn FloodModelStore>().station(&code).await.map_err(not_found)?;
    Ok(Json(state.port::<dyn ObservationStore>().observations(&code, element, from, to, limit).await?))
}

/// An archived frame as the station page lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FrameView {
    /// Archive id.
    pub id: i64,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// From.
    pub peer: String,
    /// Function code, hex (`32`).
    pub function: String,
    /// Serial number.
    pub serial: u16,
    /// Observation time.
    pub observed_at: DateTime<Utc>,
    /// `hex` or `ascii`.
    pub encoding: &'static str,
    /// The bytes as hex, space-separated.
    pub hex: String,
}

/// A station's archived raw frames, newest first (原始报文).
#[utoipa::path(get, path = "/api/flood/stations/{code}/frames", tag = "flood",
    params(("code" = String, Path, description = "Station code"), SeriesQuery),
    responses((status = 200, body = Vec<FrameView>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn frames(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> AppResult<Json<Vec<FrameView>>> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let code = station_code(&code)?;
    let (from, to) = span(&q)?;
    let limit = limit(&q, MAX_FRAMES)?;
    state.port::<dyn FloodModelStore>().station(&code).await.map_err(not_found)?;
    let frames = state.port::<dyn ObservationStore>().frames(&code, from, to, limit).await?;
    Ok(Json(
        frames
            .into_iter()
            .map(|(id, f)| FrameView {
                id,
                received_at: f.received_at,
                peer: f.peer,
                function: format!("{:02X}", f.function),
                serial: f.serial,
                observed_at: f.observed_at,
                encoding: match f.encoding {
                    zhili_flood::store::FrameEncoding::Hex => "hex",
                    zhili_flood::store::FrameEncoding::Ascii => "ascii",
                },
                hex: f.bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" "),
            })
            .collect(),
    ))
}

/// A village at risk with everything its page shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VillageDetail {
    /// The village (phones masked unless the caller may see personal data).
    #[schema(value_type = Object)]
    pub village: Value,
    /// Its rainfall indicators.
    #[schema(value_type = Object)]
    pub indicators: Option<RainIndicators>,
    /// Control sections protecting it.
    #[schema(value_type = Vec<Object>)]
    pub sections: Vec<ControlSection>,
    /// The latest assessment: accumulations against the thresholds.
    #[schema(value_type = Object)]
    pub assessment: Option<zhili_flood::evaluation::Assessment>,
    /// Its warnings, newest first (the active one first when there is one).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Warning>,
}

/// A village as the caller may see it: the persons' phones masked (`138****5678`) unless the
/// caller may read personal data.
pub fn masked(caller: &Caller, v: &Village) -> Value {
    let mut value = serde_json::to_value(v).unwrap_or(Value::Null);
    if authorize(&caller.principal, Action::ReadPersonalData, None).is_err() {
        if let Some(persons) = value.get_mut("persons").and_then(Value::as_array_mut) {
            for (p, person) in persons.iter_mut().zip(&v.persons) {
                p["phone"] = json!(zhili_core::mask::mask_phone(person.phone.as_str()));
            }
        }
    }
    value
}

/// One village at risk (危险区村落) with indicators, sections, assessment and warnings.
#[utoipa::path(get, path = "/api/flood/villages/{code}", tag = "flood", params(("code" = String, Path, description = "Village code")),
    responses((status = 200, body = VillageDetail), (status = 404, body = ErrorBody)))]
pub async fn village(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Json<VillageDetail>> {
    Ok(Json(village_detail(&state, &caller, &code).await?))
}

/// What [`village`] answers, for the page too.
pub async fn village_detail(state: &AppState, caller: &Caller, code: &str) -> AppResult<VillageDetail> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let code = DivisionCode::parse(code).map_err(|e| AppError::field("code", e.to_string()))?;
    if !caller.principal.concerns(&code) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    let model = state.port::<dyn FloodModelStore>();
    let village = model.village(&code).await.map_err(not_found)?;
    let indicators = match model.rain_indicators(&code).await {
        Ok(i) => Some(i),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let sections = model.sections().await?.into_iter().filter(|s| s.villages.contains(&code)).collect();
    let filter = WarningFilter { active_only: false, village_prefix: Some(code.clone()), opened_since: None };
    let warnings = state.port::<dyn WarningStore>().warnings(&filter, Page { offset: 0, limit: 50 }).await?;
    Ok(VillageDetail {
        assessment: super::warnings(state).assessment(&code),
        village: masked(caller, &village),
        indicators,
        sections,
        warnings,
    })
}

/// A GeoJSON FeatureCollection.
fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

/// Query of the map's GeoJSON: the coordinates' datum.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MapQuery {
    /// `wgs84` (default) or `gcj02` (for a GCJ-02 basemap such as AMap or Tencent).
    pub crs: Option<String>,
}

impl MapQuery {
    fn gcj02(&self) -> AppResult<bool> {
        match self.crs.as_deref() {
            None | Some("wgs84") => Ok(false),
            Some("gcj02") => Ok(true),
            Some(other) => Err(AppError::field("crs", format!("must be wgs84 or gcj02, got {other:?}"))),
        }
    }
}

/// Shift every `[lon, lat]` of a GeoJSON geometry to GCJ-02.
fn to_gcj02(v: &mut Value) {
    if let Some(a) = v.as_array_mut() {
        if let [Value::Number(lon), Value::Number(lat), ..] = a.as_slice() {
            if let (Some(lon), Some(lat)) = (lon.as_f64(), lat.as_f64()) {
                let (x, y) = zhili_geo::gcj02::wgs84_to_gcj02(lon, lat);
                a[0] = json!(x);
                a[1] = json!(y);
                return;
            }
        }
        a.iter_mut().for_each(to_gcj02);
    }
}

fn shift(mut features: Vec<Value>, gcj02: bool) -> Vec<Value> {
    if gcj02 {
        for f in &mut features {
            if let Some(c) = f.get_mut("geometry").and_then(|g| g.get_mut("coordinates")) {
                to_gcj02(c);
            }
        }
    }
    features
}

/// The stations as GeoJSON points for the One Map: kind, liveness, latest level and rain.
#[utoipa::path(get, path = "/api/flood/map/stations", tag = "flood", params(MapQuery),
    responses((status = 200, body = Object, description = "GeoJSON FeatureCollection"), (status = 401, body = ErrorBody)))]
pub async fn map_stations(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MapQuery>,
) -> AppResult<Json<Value>> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let gcj02 = q.gcj02()?;
    let filter = StationFilter { division: caller.principal.jurisdiction.clone(), ..StationFilter::default() };
    let stations = state.port::<dyn FloodModelStore>().stations(&filter, Page { offset: 0, limit: 100_000 }).await?;
    let views = station_views(&state, stations).await?;
    let features = views
        .into_iter()
        .map(|v| {
            let mut p = Map::new();
            p.insert("code".into(), json!(v.station.code.as_str()));
            p.insert("name".into(), json!(v.station.name));
            p.insert("kind".into(), json!(v.station.kind.as_str()));
            p.insert("liveness".into(), json!(v.health.liveness.as_str()));
            p.insert("problems".into(), json!(v.health.problems.len()));
            if let Some(l) = v.latest.iter().find(|o| o.element == Element::Level) {
                p.insert("level".into(), json!(l.value));
            }
            if let Some(r) = &v.rain {
                p.insert("rain_1h".into(), json!(r.h1));
                p.insert("rain_3h".into(), json!(r.h3));
                p.insert("rain_24h".into(), json!(r.h24));
            }
            json!({
                "type": "Feature", "id": v.station.code.as_str(),
                "geometry": {"type": "Point", "coordinates": [v.station.position.lon, v.station.position.lat]},
                "properties": p,
            })
        })
        .collect();
    Ok(Json(collection(shift(features, gcj02))))
}

/// The villages at risk as GeoJSON danger zones for the One Map, with their warning grade.
#[utoipa::path(get, path = "/api/flood/map/villages", tag = "flood", params(MapQuery),
    responses((status = 200, body = Object, description = "GeoJSON FeatureCollection"), (status = 401, body = ErrorBody)))]
pub async fn map_villages(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MapQuery>,
) -> AppResult<Json<Value>> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let gcj02 = q.gcj02()?;
    let within = caller.principal.jurisdiction.clone();
    let villages =
        state.port::<dyn FloodModelStore>().villages(within.as_ref(), Page { offset: 0, limit: 100_000 }).await?;
    let filter = WarningFilter { active_only: true, village_prefix: within, opened_since: None };
    let active: HashMap<DivisionCode, Warning> = state
        .port::<dyn WarningStore>()
        .warnings(&filter, Page { offset: 0, limit: 100_000 })
        .await?
        .into_iter()
        .map(|w| (w.village.clone(), w))
        .collect();
    let features = villages
        .into_iter()
        .filter_map(|v| {
            let geometry: Value = serde_json::from_str(v.danger_zone.as_geojson()).ok()?;
            let w = active.get(&v.code);
            Some(json!({
                "type": "Feature", "id": v.code.as_str(),
                "geometry": geometry,
                "properties": {
                    "code": v.code.as_str(), "name": v.name, "households": v.households, "population": v.population,
                    "grade": w.map(|w| w.grade.as_str()), "status": w.map(|w| w.status.as_str()),
                    "warning": w.map(|w| w.id),
                },
            }))
        })
        .collect();
    Ok(Json(collection(shift(features, gcj02))))
}

//! Observations as JSON over HTTP (`POST /api/flood/observations`): station integrations and
//! the shared stations of other agencies send batches of `{station, element, time, value}`.
//!
//! A batch is all or nothing: every item is checked first — a known station the caller's
//! jurisdiction holds, a known element name (`rain_5min`, `rain_counter`, `level`,
//! `discharge`, `voltage`, `soil_moisture_20`, `status`), an RFC 3339 time with its offset
//! (not more than 10 minutes ahead of the server's clock), a finite number within the
//! element's physical range — and the first problems are answered as 422 `invalid_field`
//! naming `observations[i].field`, with nothing stored. At most [`MAX_ITEMS`] values per
//! request, within the server's body limit. The whole batch is one durable transaction; the
//! answer counts what was new, repeated and corrected.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zhili_core::policy::{authorize, Action, Denied};
use zhili_core::store::StoreError;
use zhili_core::ErrorCode;
use zhili_flood::model::Station;
use zhili_flood::store::{FloodModelStore, Observation, Quality};
use zhili_flood::vocab::{Element, StationCode};

use crate::flood::convert::{check_value, Check};
use crate::flood::ingest::{self, runtime};
use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::ApiJson;
use crate::AppState;

/// Most values in one request.
pub const MAX_ITEMS: usize = 10_000;
/// Problems named in one answer.
const MAX_PROBLEMS: usize = 20;
/// How far ahead of the server's clock an observation time may be.
const FUTURE_SLACK_MINUTES: i64 = 10;

/// A batch of observations (the request body).
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ObservationsBody {
    /// The values, each `{"station": "0012345678", "element": "rain_5min", "time":
    /// "2026-07-18T11:05:00+08:00", "value": 1.5}` (optionally `"quality": "manual"` or
    /// `"suspect"`).
    #[schema(value_type = Vec<Object>)]
    pub observations: Vec<Value>,
}

/// What was stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ObservationsAnswer {
    /// Values received.
    pub received: usize,
    /// New values stored.
    pub inserted: u64,
    /// Values stored already with the same value: nothing changed.
    pub duplicates: u64,
    /// Values stored already with another value: replaced.
    pub corrected: u64,
    /// Values stored with the suspect flag (unlikely, or their station is in maintenance).
    pub suspect: usize,
}

/// One item read: the element, the time, the value and its quality (its station apart).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// What was observed.
    pub element: Element,
    /// When.
    pub time: DateTime<Utc>,
    /// The value.
    pub value: f64,
    /// Its quality: as sent, or suspect if the checks say so.
    pub quality: Quality,
}

/// What is wrong with an item: the field (within the item) and why.
pub type ItemProblem = (&'static str, String);

/// Reads one item's `element`, `time`, `value` and optional `quality`; `allowed` are the
/// other fields it may have (`station` over HTTP, none over MQTT).
pub fn parse_item<'a>(
    v: &'a Value,
    allowed: &[&str],
    now: DateTime<Utc>,
) -> Result<(Item, &'a Map<String, Value>), ItemProblem> {
    let obj = v.as_object().ok_or(("", "an observation is a JSON object".to_string()))?;
    for k in obj.keys() {
        if !["element", "time", "value", "quality"].contains(&k.as_str()) && !allowed.contains(&k.as_str()) {
            return Err(("", format!("unknown field {k:?}")));
        }
    }
    let element = match obj.get("element") {
        None => return Err(("element", "is required".into())),
        Some(Value::String(s)) => Element::from_name(s).ok_or_else(|| {
            ("element", format!("unknown element {s:?} (e.g. rain_5min, rain_counter, level, discharge, voltage, soil_moisture_20, status)"))
        })?,
        Some(_) => return Err(("element", "must be a string".into())),
    };
    let time = match obj.get("time") {
        None => return Err(("time", "is required".into())),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map_err(|e| {
                ("time", format!("{s:?} is not an RFC 3339 time with an offset (2026-07-18T11:05:00+08:00): {e}"))
            })?
            .with_timezone(&Utc),
        Some(_) => return Err(("time", "must be a string".into())),
    };
    if time > now + Duration::minutes(FUTURE_SLACK_MINUTES) {
        return Err(("time", format!("{} is in the future", time.to_rfc3339())));
    }
    if time.timestamp() < 946_684_800 {
        return Err(("time", format!("{} is before 2000", time.to_rfc3339())));
    }
    let value = match obj.get("value") {
        None => return Err(("value", "is required".into())),
        Some(Value::Number(n)) => n.as_f64().ok_or(("value", "is not a finite number".to_string()))?,
        Some(_) => return Err(("value", "must be a number".into())),
    };
    let mut quality = match obj.get("quality") {
        None => Quality::Good,
        Some(Value::String(s)) => {
            Quality::parse(s).ok_or_else(|| ("quality", format!("{s:?} is not good, suspect or manual")))?
        }
        Some(_) => return Err(("quality", "must be a string".into())),
    };
    match check_value(element, value) {
        Check::Good => {}
        Check::Suspect(_) => quality = Quality::Suspect,
        Check::Impossible(why) => return Err(("value", format!("{value} {why}"))),
    }
    Ok((Item { element, time, value, quality }, obj))
}

/// The stations of a batch, looked up once each.
pub(crate) struct Stations<'a> {
    state: &'a AppState,
    known: HashMap<String, Option<Station>>,
}

impl<'a> Stations<'a> {
    pub(crate) fn new(state: &'a AppState) -> Self {
        Stations { state, known: HashMap::new() }
    }

    /// The registered station of a code, `None` if none.
    pub(crate) async fn get(&mut self, code: &StationCode) -> Result<Option<Station>, StoreError> {
        if let Some(s) = self.known.get(code.as_str()) {
            return Ok(s.clone());
        }
        let s = match self.state.port::<dyn FloodModelStore>().station(code).await {
            Ok(s) => Some(s),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        self.known.insert(code.as_str().to_string(), s.clone());
        Ok(s)
    }
}

/// Store a batch of observations (all or nothing).
#[utoipa::path(post, path = "/api/flood/observations", tag = "flood", request_body = ObservationsBody,
    responses((status = 200, body = ObservationsAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_observations(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<ObservationsAnswer>> {
    authorize(&caller.principal, Action::IngestFloodObservations, None)?;
    let obj = body
        .as_object()
        .ok_or_else(|| AppError::msg(ErrorCode::MalformedBody, "expected {\"observations\": [...]}"))?;
    if let Some(k) = obj.keys().find(|k| *k != "observations") {
        return Err(AppError::field(k.clone(), format!("unknown field {k:?}")));
    }
    let items = obj
        .get("observations")
        .and_then(Value::as_array)
        .ok_or_else(|| AppError::field("observations", "observations must be an array"))?;
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(AppError::field(
            "observations",
            format!("send 1–{MAX_ITEMS} observations in one request (got {})", items.len()),
        ));
    }
    let now = Utc::now();
    let mut stations = Stations::new(&state);
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut observations = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
        let at = |field: &str| {
            if field.is_empty() {
                format!("observations[{i}]")
            } else {
                format!("observations[{i}].{field}")
            }
        };
        let (item, obj) = match parse_item(v, &["station"], now) {
            Ok(x) => x,
            Err((field, why)) => {
                problems.push((at(field), why));
                continue;
            }
        };
        let code = match obj.get("station") {
            Some(Value::String(s)) => match StationCode::parse(s.as_str()) {
                Ok(c) => c,
                Err(e) => {
                    problems.push((at("station"), e.to_string()));
                    continue;
                }
            },
            Some(_) => {
                problems.push((at("station"), "must be a string".into()));
                continue;
            }
            None => {
                problems.push((at("station"), "is required".into()));
                continue;
            }
        };
        let station = match stations.get(&code).await? {
            // A station outside the caller's jurisdiction is as unknown as one that is not there.
            Some(s) => match authorize(&caller.principal, Action::IngestFloodObservations, Some(&s.division)) {
                Ok(()) => s,
                Err(Denied::OutsideJurisdiction) => {
                    problems.push((at("station"), format!("no station {code}")));
                    continue;
                }
                Err(d) => return Err(d.into()),
            },
            None => {
                problems.push((at("station"), format!("no station {code}")));
                continue;
            }
        };
        let quality = if station.status == zhili_flood::model::StationStatus::Maintenance {
            Quality::Suspect
        } else {
            item.quality
        };
        observations.push(Observation {
            station: station.code,
            element: item.element,
            observed_at: item.time,
            value: item.value,
            quality,
            frame: None,
        });
    }
    if let Some((field, _)) = problems.first() {
        let message = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; ");
        return Err(AppError::field(field.clone(), message));
    }
    let suspect = observations.iter().filter(|o| o.quality == Quality::Suspect).count();
    let received = observations.len();
    let counts = ingest::ingest_now(&state, observations).await?;
    runtime(&state).metrics.http_values.inc_by(received as u64);
    Ok(Json(ObservationsAnswer {
        received,
        inserted: counts.inserted,
        duplicates: counts.duplicates,
        corrected: counts.corrected,
        suspect,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_names_read_back() {
        for e in [
            Element::RainIncrement { interval_minutes: 5 },
            Element::RainIncrement { interval_minutes: 60 },
            Element::RainCounter,
            Element::Level,
            Element::Discharge,
            Element::Voltage,
            Element::SoilMoisture { depth_cm: 20 },
            Element::Status,
        ] {
            assert_eq!(Element::from_name(&e.name()), Some(e));
        }
        for bad in ["rain_05min", "rain_0min", "rain", "soil_moisture_", "Level", "rainfall", ""] {
            assert_eq!(Element::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn items_are_checked_field_by_field() {
        let now = Utc::now();
        let ok = serde_json::json!({"element": "level", "time": "2024-07-18T11:05:00+08:00", "value": 14.2});
        let (item, _) = parse_item(&ok, &[], now).unwrap();
        assert_eq!(item.time.to_rfc3339(), "2024-07-18T03:05:00+00:00");
        assert_eq!(item.quality, Quality::Good);
        let cases = [
            (serde_json::json!({"element": "rainfall", "time": "2024-07-18T11:05:00+08:00", "value": 1}), "element"),
            (serde_json::json!({"element": "level", "time": "2024-07-18 11:05", "value": 1}), "time"),
            (serde_json::json!({"element": "level", "time": "2999-07-18T11:05:00+08:00", "value": 1}), "time"),
            (serde_json::json!({"element": "rain_5min", "time": "2024-07-18T11:05:00+08:00", "value": -1}), "value"),
            (serde_json::json!({"element": "level", "time": "2024-07-18T11:05:00+08:00", "value": "1"}), "value"),
            (serde_json::json!({"element": "level", "time": "2024-07-18T11:05:00+08:00"}), "value"),
            (
                serde_json::json!({"element": "level", "time": "2024-07-18T11:05:00+08:00", "value": 1, "station": "A"}),
                "",
            ),
            (
                serde_json::json!({"element": "level", "time": "2024-07-18T11:05:00+08:00", "value": 1, "quality": "great"}),
                "quality",
            ),
        ];
        for (v, field) in cases {
            assert_eq!(parse_item(&v, &[], now).unwrap_err().0, field, "{v}");
        }
        let unlikely = serde_json::json!({"element": "voltage", "time": "2024-07-18T11:05:00+08:00", "value": 2.0});
        assert_eq!(parse_item(&unlikely, &[], now).unwrap().0.quality, Quality::Suspect);
    }
}

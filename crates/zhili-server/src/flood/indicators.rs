//! Rainfall indicators in and out as spreadsheets (预警指标导入导出): `PUT /api/flood/indicators`
//! takes a county's CSV or XLSX (all or nothing, every problem with its row and column, a dry
//! run), `GET /api/flood/indicators?format=csv|xlsx` gives them back in the same form. The
//! warning runtime reloads after an import.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use zhili_core::codes::DivisionCode;
use zhili_core::policy::{authorize, Action};
use zhili_core::store::Page;
use zhili_core::ErrorCode;
use zhili_flood::indicator::import::{self, ImportError, VillageIndicators};
use zhili_flood::store::FloodModelStore;
use zhili_flood::vocab::Scheme;

use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::{ApiQuery, RawBody};
use crate::AppState;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Query of the import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// `true`: check the file and report, store nothing.
    pub dry_run: Option<bool>,
}

/// Query of the export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// The villages at risk the caller may set indicators for.
async fn villages(state: &AppState, caller: &Caller) -> AppResult<Vec<zhili_flood::model::Village>> {
    let within = caller.principal.jurisdiction.clone();
    Ok(state.port::<dyn FloodModelStore>().villages(within.as_ref(), Page { offset: 0, limit: 100_000 }).await?)
}

/// Replace the rainfall indicators of the villages a spreadsheet lists (administrators):
/// `text/csv` or XLSX by Content-Type, the table of `zhili_flood::indicator::import`. All or
/// nothing; a rejected file answers 422 with `problems` (row, column, value, message).
#[utoipa::path(put, path = "/api/flood/indicators", tag = "flood", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "Villages, scheme and notices", body = Object), (status = 403, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, description = "`error` and `problems`", body = Object)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ImportQuery>,
    RawBody(body): RawBody,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ManageFloodNetwork, None)?;
    let mime = crate::web::extract::media_type(&headers);
    let known: HashSet<DivisionCode> = villages(&state, &caller).await?.into_iter().map(|v| v.code).collect();
    let parsed = match mime.as_str() {
        "text/csv" => import::from_csv(&body, |c| known.contains(c)),
        XLSX => import::from_xlsx(&body, |c| known.contains(c)),
        _ => return Err(AppError::msg(ErrorCode::UnsupportedMediaType, format!("send text/csv or {XLSX}"))),
    };
    let accepted = match parsed {
        Ok(a) => a,
        Err(e) => {
            let problems = match &e {
                ImportError::Invalid(p) => p
                    .iter()
                    .map(|p| {
                        let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
                        if let Value::Object(m) = &mut v {
                            m.insert("message".into(), Value::String(p.to_string()));
                        }
                        v
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let body = json!({
                "error": {"code": ErrorCode::InvalidField.as_str(), "message": e.to_string(), "field": "file"},
                "problems": problems,
            });
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
        }
    };
    let notices: Vec<String> = accepted.notices.iter().map(ToString::to_string).collect();
    let n = accepted.sets.len();
    let scheme = accepted.scheme;
    if !q.dry_run.unwrap_or(false) {
        let sets: Vec<_> = accepted.sets.into_iter().map(|s| s.indicators).collect();
        state.port::<dyn FloodModelStore>().replace_rain_indicators(&caller.actor(), &sets).await?;
        super::warnings(&state).reload();
    }
    Ok(Json(json!({
        "villages": n,
        "scheme": scheme_name(scheme),
        "notices": notices,
        "dry_run": q.dry_run.unwrap_or(false),
    }))
    .into_response())
}

fn scheme_name(s: Scheme) -> &'static str {
    match s {
        Scheme::TwoLevel => "two_level",
        Scheme::FourColour => "four_colour",
    }
}

/// The rainfall indicators of the caller's villages as a spreadsheet (the import's table).
#[utoipa::path(get, path = "/api/flood/indicators", tag = "flood", params(ExportQuery),
    responses((status = 200, description = "CSV (UTF-8 with BOM) or XLSX"), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let xlsx = match q.format.as_deref() {
        None | Some("csv") => false,
        Some("xlsx") => true,
        Some(other) => return Err(AppError::field("format", format!("must be csv or xlsx, got {other:?}"))),
    };
    let names: std::collections::HashMap<DivisionCode, String> =
        villages(&state, &caller).await?.into_iter().map(|v| (v.code, v.name)).collect();
    let within = caller.principal.jurisdiction.clone();
    let all = state.port::<dyn FloodModelStore>().all_rain_indicators(within.as_ref()).await?;
    // One file has one scheme: the scheme of most villages.
    let four = all.iter().filter(|i| i.scheme() == Scheme::FourColour).count();
    let scheme = if four * 2 > all.len() { Scheme::FourColour } else { Scheme::TwoLevel };
    let sets: Vec<VillageIndicators> = all
        .into_iter()
        .filter(|i| i.scheme() == scheme)
        .map(|i| VillageIndicators { name: names.get(i.village()).cloned(), indicators: i })
        .collect();
    let (bytes, ty, ext) = if xlsx {
        (import::to_xlsx(scheme, &sets), XLSX, "xlsx")
    } else {
        (import::to_csv(scheme, &sets), "text/csv; charset=utf-8", "csv")
    };
    let bytes = bytes.map_err(|e| AppError::msg(ErrorCode::Internal, e.to_string()))?;
    Ok((
        [
            (CONTENT_TYPE, ty.to_string()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"flood-indicators.{ext}\"")),
        ],
        bytes,
    )
        .into_response())
}

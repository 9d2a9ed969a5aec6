//! The quarantine of unknown stations (待确认测站): stations that sent frames or messages but
//! are not registered. An administrator lists them, accepts one (it becomes a station, its
//! later frames are stored) or rejects it (still counted, no longer pending). All three need
//! `Action::ManageFloodNetwork`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use zhili_core::policy::{authorize, Action};
use zhili_flood::model::{QuarantineEntry, Station};
use zhili_flood::store::QuarantineStore;
use zhili_flood::vocab::StationCode;

use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::{ApiJson, ApiQuery};
use crate::AppState;

/// `GET /api/flood/quarantine` parameters.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct QuarantineQuery {
    /// Rejected entries too.
    pub include_rejected: Option<bool>,
    /// Items to skip.
    pub offset: Option<i64>,
    /// Items to return, 1–1000.
    pub limit: Option<i64>,
}

fn code(s: &str) -> AppResult<StationCode> {
    StationCode::parse(s).map_err(|e| AppError::field("code", e.to_string()))
}

/// The quarantined stations, latest contact first.
#[utoipa::path(get, path = "/api/flood/quarantine", tag = "flood", params(QuarantineQuery),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QuarantineQuery>,
) -> AppResult<Json<Vec<QuarantineEntry>>> {
    authorize(&caller.principal, Action::ManageFloodNetwork, None)?;
    let page = crate::core::api::PageQuery { offset: q.offset, limit: q.limit }.page()?;
    let entries = state.port::<dyn QuarantineStore>().quarantine(q.include_rejected.unwrap_or(false), page).await?;
    Ok(Json(entries))
}

/// Accept a quarantined station: the body is the station as it is to be registered (its
/// `code` the entry's).
#[utoipa::path(post, path = "/api/flood/quarantine/{code}/accept", tag = "flood",
    params(("code" = String, Path, description = "The entry's code (the SL 651 address in hex)")),
    request_body = Object,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
    ApiJson(station): ApiJson<Station>,
) -> AppResult<StatusCode> {
    authorize(&caller.principal, Action::ManageFloodNetwork, None)?;
    let code = code(&path)?;
    if station.code != code {
        return Err(AppError::field("code", format!("the station's code {} is not the entry's {code}", station.code)));
    }
    if let Err(problems) = station.validate() {
        let first = problems[0].field.clone();
        let message = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        return Err(AppError::field(first, message));
    }
    authorize(&caller.principal, Action::ManageFloodNetwork, Some(&station.division))?;
    state.port::<dyn QuarantineStore>().accept_quarantined(&caller.actor(), &station).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reject a quarantined station: it stays, counted, but no longer pending.
#[utoipa::path(post, path = "/api/flood/quarantine/{code}/reject", tag = "flood",
    params(("code" = String, Path, description = "The entry's code")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reject(State(state): State<AppState>, caller: Caller, Path(path): Path<String>) -> AppResult<StatusCode> {
    authorize(&caller.principal, Action::ManageFloodNetwork, None)?;
    let code = code(&path)?;
    state.port::<dyn QuarantineStore>().reject_quarantined(&caller.actor(), &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! The demo's synthetic storm (演示暴雨), started from the duty screen: a service the `zhili`
//! binary provides in demo mode (it owns the demo data); without it the route is 404.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use zhili_core::policy::{authorize, Action};
use zhili_core::ErrorCode;

use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::ApiJson;
use crate::AppState;

/// Starts a synthetic storm whose stations send SL 651 frames to `target`.
pub trait StormDemo: Send + Sync {
    /// Start a storm of `hours` hours played at `speed` × real time; what started (for the
    /// person who asked), or why not (one is running already).
    fn start(&self, target: std::net::SocketAddr, hours: u32, speed: f64) -> Result<String, String>;
}

/// Body of `POST /api/flood/demo/storm`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StormBody {
    /// Storm length, 1–24 hours (default 6).
    #[serde(default)]
    pub hours: Option<u32>,
    /// Played this many times faster than real time, 1–600 (default 60: an hour a minute).
    #[serde(default)]
    pub speed: Option<f64>,
}

/// What started.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StormStarted {
    /// In words.
    pub message: String,
}

/// Start the demo's synthetic storm against this server's SL 651 listener (demo only).
#[utoipa::path(post, path = "/api/flood/demo/storm", tag = "flood", request_body = StormBody,
    responses((status = 202, body = StormStarted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_storm(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<StormBody>,
) -> AppResult<(StatusCode, Json<StormStarted>)> {
    authorize(&caller.principal, Action::ManageFloodWarnings, None)?;
    let Some(demo) = state.ports.get::<dyn StormDemo>() else {
        return Err(AppError::msg(ErrorCode::NotFound, "the synthetic storm exists only in the demo"));
    };
    let hours = body.hours.unwrap_or(6);
    if !(1..=24).contains(&hours) {
        return Err(AppError::field("hours", format!("must be 1–24, got {hours}")));
    }
    let speed = body.speed.unwrap_or(60.0);
    if !(speed.is_finite() && (1.0..=600.0).contains(&speed)) {
        return Err(AppError::field("speed", format!("must be 1–600, got {speed}")));
    }
    let Some(target) = super::ingest::runtime(&state).sl651_address() else {
        return Err(AppError::msg(ErrorCode::Conflict, "the SL 651 listener is not running"));
    };
    match demo.start(target, hours, speed) {
        Ok(message) => Ok((StatusCode::ACCEPTED, Json(StormStarted { message }))),
        Err(e) => Err(AppError::msg(ErrorCode::Conflict, e)),
    }
}

//! The warnings API (山洪预警接口): list and read warnings with their trail and CAP documents,
//! a responsible person's acknowledgement, the duty officer's decisions (raise by judgement,
//! public warning, lift) and the duty screen's data. Every change goes through the runtime's
//! one writer ([`super::warning::Warnings::command`]).

use axum::extract::{Path, State};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use zhili_core::codes::DivisionCode;
use zhili_core::policy::{authorize, Action};
use zhili_core::store::{Page, StoreError};
use zhili_core::ErrorCode;
use zhili_flood::evaluation::Assessment;
use zhili_flood::vocab::{Channel, Grade};
use zhili_flood::warning::store::{StoredTrail, WarningFilter, WarningStore};
use zhili_flood::warning::{self, duty_summary, Actor, DutySummary, Event, EventKind, LiftKind, Trigger, Warning};

use super::warning::{ApplyError, Command};
use crate::core::api::PageQuery;
use crate::core::views::Paged;
use crate::web::caller::Caller;
use crate::web::error::ErrorBody;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ApiJson, ApiQuery};
use crate::AppState;

impl From<ApplyError> for AppError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Warning(w) => {
                let e = AppError::msg(w.error_code(), w.to_string()).arg("reason", w.code());
                match w.field() {
                    Some(f) => e.at(f),
                    None => e,
                }
            }
            ApplyError::Store(s) => AppError::from(s),
            ApplyError::NotRunning => AppError::msg(ErrorCode::StorageUnavailable, e.to_string()),
        }
    }
}

/// Query of `GET /api/flood/warnings`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct WarningQuery {
    /// Only warnings not lifted.
    pub active: Option<bool>,
    /// Villages under this division (county, township or village code).
    pub within: Option<String>,
    /// Items to skip.
    pub offset: Option<i64>,
    /// Items to return, 1–1000.
    pub limit: Option<i64>,
}

/// A caller's principal as the lifecycle's actor (`user:<id>`).
fn actor(caller: &Caller) -> AppResult<Actor> {
    let user = caller.require_user()?;
    Ok(Actor { id: format!("user:{}", user.id), name: user.display_name.clone() })
}

async fn visible(state: &AppState, caller: &Caller, id: i64) -> AppResult<Warning> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let w = state.port::<dyn WarningStore>().warning(id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::new(ErrorCode::NotFound),
        e => AppError::from(e),
    })?;
    if !caller.principal.concerns(&w.village) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(w)
}

/// Warnings newest first (预警列表), within the caller's jurisdiction.
#[utoipa::path(get, path = "/api/flood/warnings", tag = "flood", params(WarningQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<WarningQuery>,
) -> AppResult<Json<Paged<Warning>>> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let page = PageQuery { offset: q.offset, limit: q.limit }.page()?;
    let within = match &q.within {
        Some(code) => Some(DivisionCode::parse(code).map_err(|e| AppError::field("within", e.to_string()))?),
        None => caller.principal.jurisdiction.clone(),
    };
    if let Some(w) = &within {
        authorize(&caller.principal, Action::ReadFlood, Some(w))?;
    }
    let filter = WarningFilter { active_only: q.active.unwrap_or(false), village_prefix: within, opened_since: None };
    let items = state.port::<dyn WarningStore>().warnings(&filter, page).await?;
    let total = page.offset + items.len() as i64;
    Ok(Json(Paged {
        total,
        total_exact: (items.len() as i64) < page.limit,
        offset: page.offset,
        limit: page.limit,
        items,
    }))
}

/// A CAP document of a warning, as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CapLink {
    /// Its identifier.
    pub identifier: String,
    /// Alert, Update or Cancel.
    pub msg_type: &'static str,
    /// When sent.
    pub sent: chrono::DateTime<Utc>,
    /// Where it is served.
    pub href: String,
}

/// One warning with what the review and the duty officer read.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WarningDetail {
    /// The warning.
    #[schema(value_type = Object)]
    pub warning: Warning,
    /// Every message and every answer, in order (the post-event review's trail).
    #[schema(value_type = Vec<Object>)]
    pub trail: Vec<StoredTrail>,
    /// Its CAP documents.
    pub caps: Vec<CapLink>,
    /// What a duty officer may decide now (stable names).
    pub decisions: Vec<&'static str>,
    /// Who has not acknowledged, by tier.
    #[schema(value_type = Object)]
    pub summary: DutySummary,
    /// The village's latest assessment.
    #[schema(value_type = Object)]
    pub assessment: Option<Assessment>,
}

async fn detail(state: &AppState, w: Warning) -> AppResult<WarningDetail> {
    let store = state.port::<dyn WarningStore>();
    let trail = store.trail(w.id).await?;
    let caps = store
        .caps(w.id)
        .await?
        .into_iter()
        .map(|c| CapLink {
            href: format!("/cap/alerts/{}.xml", c.identifier),
            identifier: c.identifier,
            msg_type: c.msg_type.as_str(),
            sent: c.sent,
        })
        .collect();
    let decisions = warning::decisions(&w).into_iter().map(EventKind::as_str).collect();
    let summary = duty_summary(&w, Utc::now());
    let assessment = super::warnings(state).assessment(&w.village);
    Ok(WarningDetail { warning: w, trail, caps, decisions, summary, assessment })
}

/// One warning (预警详情) with its trail, CAP documents and acknowledgements.
#[utoipa::path(get, path = "/api/flood/warnings/{id}", tag = "flood", params(("id" = i64, Path, description = "Warning id")),
    responses((status = 200, body = WarningDetail), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> AppResult<Json<WarningDetail>> {
    let w = visible(&state, &caller, id).await?;
    Ok(Json(detail(&state, w).await?))
}

/// Body of an acknowledgement.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckBody {
    /// What the person answers (收到, 已组织转移…), at most 500 characters.
    #[serde(default)]
    pub text: String,
}

/// A responsible person acknowledges a warning sent to them (责任人确认), in the app.
#[utoipa::path(post, path = "/api/flood/warnings/{id}/ack", tag = "flood", params(("id" = i64, Path, description = "Warning id")),
    request_body = AckBody,
    responses((status = 200, body = WarningDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ack(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AckBody>,
) -> AppResult<Json<WarningDetail>> {
    authorize(&caller.principal, Action::AcknowledgeFloodWarning, None)?;
    let w = visible(&state, &caller, id).await?;
    let me = actor(&caller)?;
    let event = Event::Ack { person: me.id, channel: Channel::InApp, text: body.text };
    let next = super::warnings(&state).command(|reply| Command::Apply { id: w.id, event, reply }).await?;
    Ok(Json(detail(&state, next).await?))
}

/// Body of a duty officer's decision.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Why (the public warning's note, the lift's reason), at most 500 characters.
    #[serde(default)]
    pub note: String,
    /// For a lift: `all_clear` (解除, default) or `in_error` (撤销).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub kind: Option<LiftKind>,
}

/// The duty officer issues the public warning (发布公开预警: broadcast, sirens).
#[utoipa::path(post, path = "/api/flood/warnings/{id}/public", tag = "flood", params(("id" = i64, Path, description = "Warning id")),
    request_body = DecisionBody,
    responses((status = 200, body = WarningDetail), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn issue_public(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> AppResult<Json<WarningDetail>> {
    let w = visible(&state, &caller, id).await?;
    authorize(&caller.principal, Action::ManageFloodWarnings, Some(&w.village))?;
    let event = Event::IssuePublic { by: actor(&caller)?, note: body.note };
    let next = super::warnings(&state).command(|reply| Command::Apply { id: w.id, event, reply }).await?;
    Ok(Json(detail(&state, next).await?))
}

/// The duty officer lifts a warning (解除), or withdraws one issued in error (撤销).
#[utoipa::path(post, path = "/api/flood/warnings/{id}/lift", tag = "flood", params(("id" = i64, Path, description = "Warning id")),
    request_body = DecisionBody,
    responses((status = 200, body = WarningDetail), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn lift(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> AppResult<Json<WarningDetail>> {
    let w = visible(&state, &caller, id).await?;
    authorize(&caller.principal, Action::ManageFloodWarnings, Some(&w.village))?;
    let event = Event::Lift { by: actor(&caller)?, reason: body.note, kind: body.kind.unwrap_or(LiftKind::AllClear) };
    let next = super::warnings(&state).command(|reply| Command::Apply { id: w.id, event, reply }).await?;
    Ok(Json(detail(&state, next).await?))
}

/// Body of a warning raised by judgement.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseBody {
    /// The village at risk (12 digits).
    pub village: String,
    /// `prepare` / `immediate` (or a colour of the four-colour scheme).
    pub grade: String,
    /// Why (a report from the village, a forecast), as the message says it.
    #[serde(default)]
    pub note: String,
}

/// The duty officer raises (or upgrades) a village's warning by judgement (人工研判).
#[utoipa::path(post, path = "/api/flood/warnings", tag = "flood", request_body = RaiseBody,
    responses((status = 200, body = WarningDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn raise(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RaiseBody>,
) -> AppResult<Json<WarningDetail>> {
    let village = DivisionCode::parse(&body.village).map_err(|e| AppError::field("village", e.to_string()))?;
    authorize(&caller.principal, Action::ManageFloodWarnings, Some(&village))?;
    let grade = Grade::parse(&body.grade).ok_or_else(|| {
        AppError::field(
            "grade",
            format!("{:?} is not a grade (prepare, immediate, blue, yellow, orange, red)", body.grade),
        )
    })?;
    let name = match state.port::<dyn zhili_flood::store::FloodModelStore>().village(&village).await {
        Ok(v) => v.name,
        Err(StoreError::NotFound) => {
            return Err(AppError::field("village", format!("{village} is not a village at risk")))
        }
        Err(e) => return Err(e.into()),
    };
    let raise = warning::Raise {
        village,
        village_name: name,
        grade,
        trigger: Trigger::Manual { by: actor(&caller)?, note: body.note },
        recipients: Vec::new(),
        public_channels: Vec::new(),
    };
    let w = super::warnings(&state).command(|reply| Command::Raise { raise: Box::new(raise), reply }).await?;
    Ok(Json(detail(&state, w).await?))
}

/// The duty screen's data (值班督办): active warnings with who has not acknowledged, and the
/// villages whose rain or level is rising towards a grade.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DutyScreen {
    /// Active warnings, highest grade first, then longest waiting.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<DutySummary>,
    /// Villages without a warning whose rain has reached half of a threshold, nearest first.
    #[schema(value_type = Vec<Object>)]
    pub rising: Vec<Assessment>,
}

/// The duty screen's data, within the caller's jurisdiction.
#[utoipa::path(get, path = "/api/flood/duty", tag = "flood", responses((status = 200, body = DutyScreen), (status = 403, body = ErrorBody)))]
pub async fn duty(State(state): State<AppState>, caller: Caller) -> AppResult<Json<DutyScreen>> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let filter =
        WarningFilter { active_only: true, village_prefix: caller.principal.jurisdiction.clone(), opened_since: None };
    let active = state.port::<dyn WarningStore>().warnings(&filter, Page { offset: 0, limit: 1000 }).await?;
    let now = Utc::now();
    let warned: std::collections::HashSet<DivisionCode> = active.iter().map(|w| w.village.clone()).collect();
    let mut warnings: Vec<DutySummary> = active.iter().map(|w| duty_summary(w, now)).collect();
    warnings.sort_by(|a, b| b.grade.rank().cmp(&a.grade.rank()).then(b.unacknowledged.cmp(&a.unacknowledged)));
    let share =
        |a: &Assessment| a.rain.iter().filter_map(|r| r.lowest_threshold_mm.map(|t| r.mm / t)).fold(0.0f64, f64::max);
    let mut rising: Vec<Assessment> = super::warnings(&state)
        .assessments()
        .into_iter()
        .filter(|a| !warned.contains(&a.village) && caller.principal.concerns(&a.village) && share(a) >= 0.5)
        .collect();
    rising.sort_by(|a, b| share(b).total_cmp(&share(a)));
    rising.truncate(100);
    Ok(Json(DutyScreen { warnings, rising }))
}

/// A village's latest assessment (当前研判): accumulations against its thresholds.
#[utoipa::path(get, path = "/api/flood/villages/{code}/assessment", tag = "flood", params(("code" = String, Path, description = "Village code")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn assessment(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Json<Assessment>> {
    authorize(&caller.principal, Action::ReadFlood, None)?;
    let village = DivisionCode::parse(&code).map_err(|e| AppError::field("code", e.to_string()))?;
    if !caller.principal.concerns(&village) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    super::warnings(&state).assessment(&village).map(Json).ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

//! The case API (案件接口): intake from every channel, the closed loop's transitions, worklists,
//! case pages' data, photos, the catalogue and the working-time calendar.
//!
//! Intake is group-committed: reports wait on a channel, one writer task stores whatever has
//! gathered in one transaction and answers each report when its commit is on disk.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, OnceCell};
use zhili_case::calendar::WorkCalendar;
use zhili_case::catalogue::{CaseClass, Catalogue, DepartmentRule};
use zhili_case::model::{
    advance, apply_clock, countdown, Case, CaseClock, CaseFilter, CaseOrder, ClockBasis, Source, TimelineEntry,
    TrackingCode,
};
use zhili_case::workflow::{self, CaseState, CaseStatus, Command, CommandKind};
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::model::Department;
use zhili_core::policy::{authorize, Action, Role};
use zhili_core::store::{Page, StoreError, StoreResult};
use zhili_core::ErrorCode;

use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody, ErrorDetail, Param};
use crate::web::extract::{ApiJson, ApiQuery, RawBody};
use zhili_case::store::CaseStore;
use zhili_core::store::Store;
use zhili_platform::attachment::{Attachment, AttachmentStore};
use zhili_platform::settings::SettingStore;

use crate::AppState;

/// Settings keys.
const CATALOGUE_KEY: &str = "case.catalogue";
const CALENDAR_KEY: &str = "case.calendar";
/// How long cached settings and departments are trusted before they are read again (other
/// processes sharing the database may have changed them).
const CACHE_TTL: Duration = Duration::from_secs(10);
/// Most reports stored in one commit.
const MAX_BATCH: usize = 256;
/// Most photos on one report or response.
const MAX_PHOTOS: usize = 9;

/// Most duplicate suggestions answered per report.
const MAX_DUPLICATES: i64 = 20;

struct Job {
    actor: Actor,
    case: Case,
    entry: TimelineEntry,
    reply: oneshot::Sender<StoreResult<(Case, Vec<DuplicateView>)>>,
}

struct Cached<T> {
    at: Instant,
    value: Arc<T>,
}

/// Per-process case machinery: the intake writer and caches of the catalogue, the calendar and
/// the departments.
#[derive(Default)]
pub struct Runtime {
    intake: OnceCell<mpsc::Sender<Job>>,
    catalogue: RwLock<Option<Cached<Catalogue>>>,
    calendar: RwLock<Option<Cached<WorkCalendar>>>,
    departments: RwLock<Option<Cached<Vec<Department>>>>,
    /// Held while a setting's version is checked and the setting written.
    settings_write: tokio::sync::Mutex<()>,
}

fn fresh<T>(slot: &RwLock<Option<Cached<T>>>) -> Option<Arc<T>> {
    slot.read().expect("not poisoned").as_ref().filter(|c| c.at.elapsed() < CACHE_TTL).map(|c| c.value.clone())
}

fn keep<T>(slot: &RwLock<Option<Cached<T>>>, value: T) -> Arc<T> {
    let value = Arc::new(value);
    *slot.write().expect("not poisoned") = Some(Cached { at: Instant::now(), value: value.clone() });
    value
}

impl Runtime {
    /// The catalogue: the stored one, else the national seed.
    pub async fn catalogue(&self, store: &dyn SettingStore) -> AppResult<Arc<Catalogue>> {
        if let Some(c) = fresh(&self.catalogue) {
            return Ok(c);
        }
        let c = match store.setting(CATALOGUE_KEY).await? {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                tracing::error!(error = %e, "stored case catalogue does not parse");
                AppError::new(ErrorCode::Internal)
            })?,
            None => Catalogue::national(),
        };
        Ok(keep(&self.catalogue, c))
    }

    /// The working-time calendar: the stored one, else China's official calendar.
    pub async fn calendar(&self, store: &dyn SettingStore) -> AppResult<Arc<WorkCalendar>> {
        if let Some(c) = fresh(&self.calendar) {
            return Ok(c);
        }
        let c = match store.setting(CALENDAR_KEY).await? {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                tracing::error!(error = %e, "stored work calendar does not parse");
                AppError::new(ErrorCode::Internal)
            })?,
            None => WorkCalendar::china(),
        };
        Ok(keep(&self.calendar, c))
    }

    /// Every department (cached).
    pub(crate) async fn departments(&self, store: &dyn Store) -> AppResult<Arc<Vec<Department>>> {
        if let Some(d) = fresh(&self.departments) {
            return Ok(d);
        }
        let mut all = Vec::new();
        loop {
            let page = store.departments(None, Page { offset: all.len() as i64, limit: 1000 }).await?;
            if page.is_empty() {
                break;
            }
            all.extend(page);
        }
        Ok(keep(&self.departments, all))
    }

    /// Queue a report for the next group commit and wait until it is on disk; the answer
    /// carries the open cases of its class within `radius_m` (duplicate suggestions).
    async fn submit(
        &self,
        store: Arc<dyn CaseStore>,
        radius_m: f64,
        actor: Actor,
        case: Case,
        entry: TimelineEntry,
    ) -> AppResult<(Case, Vec<DuplicateView>)> {
        let tx = self
            .intake
            .get_or_init(|| async move {
                let (tx, rx) = mpsc::channel(4096);
                tokio::spawn(writer(store, radius_m, rx));
                tx
            })
            .await;
        let (reply, answer) = oneshot::channel();
        tx.send(Job { actor, case, entry, reply }).await.map_err(|_| AppError::new(ErrorCode::StorageUnavailable))?;
        Ok(answer.await.map_err(|_| AppError::new(ErrorCode::StorageUnavailable))??)
    }
}

/// The intake writer: store whatever reports have gathered in one transaction; if that fails,
/// store them one by one so that one bad report cannot sink the others. The stored batch's
/// duplicate suggestions are looked up in one query while the next batch is written.
async fn writer(store: Arc<dyn CaseStore>, radius_m: f64, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let rows: Vec<(Actor, Case, TimelineEntry)> =
            batch.iter().map(|j| (j.actor.clone(), j.case.clone(), j.entry.clone())).collect();
        match store.create_cases(&rows).await {
            Ok(stored) => {
                tokio::spawn(answer(store.clone(), radius_m, batch, stored));
            }
            Err(e) if batch.len() == 1 => {
                let _ = batch.pop().expect("one").reply.send(Err(e));
            }
            Err(_) => {
                for (j, row) in batch.into_iter().zip(rows) {
                    match store.create_cases(std::slice::from_ref(&row)).await {
                        Ok(stored) => answer(store.clone(), radius_m, vec![j], stored).await,
                        Err(e) => {
                            let _ = j.reply.send(Err(e));
                        }
                    }
                }
            }
        }
    }
}

/// Answer stored reports with their duplicate suggestions. The reports are stored whatever
/// happens here: a failed lookup only leaves the suggestions empty (an error would make the
/// client retry and file the report twice).
async fn answer(store: Arc<dyn CaseStore>, radius_m: f64, jobs: Vec<Job>, stored: Vec<Case>) {
    let probes: Vec<(String, [f64; 4])> =
        stored.iter().map(|c| (c.class_code.as_str().to_string(), near_box(c.lon, c.lat, radius_m))).collect();
    let near = store.open_cases_near(&probes, MAX_DUPLICATES).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "duplicate suggestion failed");
        vec![Vec::new(); stored.len()]
    });
    for ((j, case), near) in jobs.into_iter().zip(stored).zip(near) {
        let duplicates = duplicate_views(&case, near, radius_m);
        let _ = j.reply.send(Ok((case, duplicates)));
    }
}

/// The lon/lat box around a point that holds the circle of `radius_m`.
fn near_box(lon: f64, lat: f64, radius_m: f64) -> [f64; 4] {
    let dlat = radius_m / 111_320.0;
    let dlon = dlat / lat.to_radians().cos().max(0.01);
    [lon - dlon, lat - dlat, lon + dlon, lat + dlat]
}

/// The open cases in a case's box that are within `radius_m` of it (itself excluded).
fn duplicate_views(case: &Case, near: Vec<zhili_case::store::CasePoint>, radius_m: f64) -> Vec<DuplicateView> {
    near.into_iter()
        .filter(|c| c.id != case.id)
        .map(|c| DuplicateView {
            id: c.id,
            distance_m: (distance_m((case.lon, case.lat), (c.lon, c.lat)) * 10.0).round() / 10.0,
            state: c.state.as_str(),
        })
        .filter(|d| d.distance_m <= radius_m)
        .collect()
}

fn field(name: &str, message: impl Into<String>) -> AppError {
    AppError::field(name, message)
}

fn transition_error(e: workflow::TransitionError) -> AppError {
    use workflow::TransitionError as E;
    let field = e.field();
    let err = AppError::msg(e.error_code(), e.to_string());
    let err = match field {
        Some(f) => err.at(f),
        None => err.at("command"),
    };
    let command = |k: workflow::CommandKind| Param::Label(k.label_zh(), k.label_en());
    let commands = |ks: &[workflow::CommandKind], sep: &str| {
        let (zh, en): (Vec<_>, Vec<_>) = ks.iter().map(|k| (k.label_zh(), k.label_en())).unzip();
        (zh.join("、"), en.join(sep))
    };
    match &e {
        E::WrongState { command: k, current, allowed_now, .. } => {
            let (zh, en) = commands(allowed_now, ", ");
            let none = allowed_now.is_empty();
            err.key(if none { "case.error.wrong_state_none" } else { "case.error.wrong_state" })
                .param("command", command(*k))
                .param("state", Param::Label(current.label_zh(), current.label_en()))
                .param("now", Param::Both(zh, en))
        }
        E::WrongRole { command: k, role, .. } => err
            .key("case.error.wrong_role")
            .param("command", command(*k))
            .param("role", Param::Label(role.label_zh(), role.label_en())),
        E::MissingField { command: k, field } => err
            .key("case.error.missing_field")
            .param("command", command(*k))
            .param("field", Param::Field(field.to_string())),
        E::InvalidField { command: k, field, .. } => err
            .key("case.error.invalid_field")
            .param("command", command(*k))
            .param("field", Param::Field(field.to_string())),
        E::ExtensionPending { pending_minutes } => {
            err.key("case.error.extension_pending").arg("minutes", pending_minutes)
        }
        E::NoExtensionPending => err.key("case.error.no_extension_pending"),
    }
}

/// Great-circle distance in metres (haversine, mean Earth radius).
fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let (dla, dlo) = ((b.1 - a.1).to_radians(), (b.0 - a.0).to_radians());
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// The department code of the caller, if they belong to one.
async fn caller_department(state: &AppState, caller: &Caller) -> AppResult<Option<String>> {
    let Some(id) = caller.principal.department_id else { return Ok(None) };
    let deps = crate::case::cases(state).departments(state.store.as_ref()).await?;
    Ok(deps.iter().find(|d| d.id == id).map(|d| d.code.clone()))
}

/// The grids a grid worker may see (codes).
async fn worker_grid_codes(state: &AppState, caller: &Caller) -> AppResult<Vec<String>> {
    let id = caller.require_user()?.id;
    Ok(crate::grid::api::worker_grids(state, id).await?.into_iter().map(|g| g.code.to_string()).collect())
}

/// Whether the caller may see the case (else it is "not found" to them).
async fn may_see(state: &AppState, caller: &Caller, case: &Case) -> AppResult<bool> {
    authorize(&caller.principal, Action::ReadCases, None)?;
    Ok(match caller.principal.role {
        Role::Admin | Role::Leader | Role::Operator => caller.principal.sees(&case.division),
        Role::DepartmentStaff => {
            let mine = caller_department(state, caller).await?;
            mine.is_some() && mine == case.status.department
        }
        Role::GridWorker => {
            if case.reporter_id.is_some() && case.reporter_id == caller.principal.user_id {
                true
            } else if let Some(g) = &case.grid {
                worker_grid_codes(state, caller).await?.contains(g)
            } else {
                false
            }
        }
        Role::Public => false,
    })
}

// ---------------------------------------------------------------------------------------------
// Views

/// The running clock as shown (计时).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClockView {
    /// `dispatch` (立案派遣), `handle` (处置) or `verify` (核查); absent when no clock runs.
    pub step: Option<&'static str>,
    /// When the step's time runs out.
    pub deadline: Option<DateTime<Utc>>,
    /// Working minutes left (negative: overdue by that much).
    pub remaining_working_minutes: Option<i64>,
    /// Whether the step is overdue now.
    pub overdue: bool,
    /// Working minutes left when paused (缓办).
    pub paused_remaining: Option<i64>,
    /// How the step's time is counted: `working` (holds still outside working hours) or
    /// `natural` (urgent classes); absent when no clock runs.
    pub basis: Option<&'static str>,
    /// Minutes left in `basis` (negative: overdue by that many); the countdown shown.
    pub remaining_minutes: Option<i64>,
    /// The step's whole allowance in `basis`, from where it started counting.
    pub allowance_minutes: Option<i64>,
    /// Traffic light: `green`, `yellow` (less than a quarter left) or `red` (overdue).
    pub light: Option<&'static str>,
    /// Whether the countdown moves now (in working time, or a natural clock that has started).
    pub running: bool,
    /// When `running` next changes (a working period starts or ends): a page counting down
    /// reads the case again then.
    pub changes_at: Option<DateTime<Utc>>,
    /// Working minutes of a working day, to show working time as days and hours.
    pub day_minutes: u32,
    /// The deadline in the deployment's local time, as pages show instants (`2026-03-05 09:30`).
    pub deadline_local: Option<String>,
    /// The zone of local times (`UTC+08:00`), for a tooltip.
    pub zone: String,
}

/// A case as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// Number.
    pub id: i64,
    /// Version, to send back with the next transition.
    pub version: i64,
    /// State (stable name).
    pub state: &'static str,
    /// State label in the caller's language.
    pub state_label: &'static str,
    /// 事件 `event` or 部件 `component`.
    pub kind: &'static str,
    /// Minor class code.
    pub class_code: String,
    /// Minor class name.
    pub class_name: String,
    /// `normal` or `urgent`.
    pub urgency: &'static str,
    /// Channel.
    pub source: &'static str,
    /// Channel label in the caller's language.
    pub source_label: &'static str,
    /// What was found.
    pub description: String,
    /// Address.
    pub address: String,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Finest grid.
    pub grid: Option<String>,
    /// Finest division.
    pub division: String,
    /// Department dispatched to.
    pub department: Option<String>,
    /// Reporting user.
    pub reporter_id: Option<i64>,
    /// Reporter's contact (masked unless the caller may read personal data).
    pub contact: Option<String>,
    /// The citizen's tracking code (查询码) of a publicly reported case: what the citizen quotes
    /// when calling about it, and what opens its public status page.
    pub tracking_code: Option<String>,
    /// Photo URLs taken at report time.
    pub photos: Vec<String>,
    /// The first report photo's thumbnail (`?size=thumb`), for lists and map popups.
    pub thumb: Option<String>,
    /// Counters: dispatches, returns, reworks, extensions, reopens, deferrals.
    #[schema(value_type = Object)]
    pub counters: Value,
    /// The extension request awaiting a decision.
    #[schema(value_type = Option<Object>)]
    pub pending_extension: Option<Value>,
    /// For a duplicate: the case it duplicates.
    pub duplicate_of: Option<i64>,
    /// The clock.
    pub clock: ClockView,
    /// Whether the department reported back within the handling limit.
    pub handled_on_time: Option<bool>,
    /// Satisfaction 1–5.
    pub score: Option<u8>,
    /// Reported.
    pub reported_at: DateTime<Utc>,
    /// Filed.
    pub filed_at: Option<DateTime<Utc>>,
    /// Dispatched.
    pub dispatched_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

fn photo_url(id: &str) -> String {
    format!("/api/attachments/{id}")
}

fn view(case: &Case, catalogue: &Catalogue, calendar: &WorkCalendar, caller: &Caller, now: DateTime<Utc>) -> CaseView {
    let st = case.status.state;
    let en = caller.locale == zhili_core::model::Locale::En;
    let unmasked = authorize(&caller.principal, Action::ReadPersonalData, None).is_ok();
    let countdown = catalogue.get(&case.class_code).and_then(|k| countdown(&case.clock, k, calendar, now));
    CaseView {
        id: case.id,
        version: case.version,
        state: st.as_str(),
        state_label: if en { st.label_en() } else { st.label_zh() },
        kind: case.kind.as_str(),
        class_code: case.class_code.to_string(),
        class_name: catalogue.get(&case.class_code).map(|c| c.name.clone()).unwrap_or_default(),
        urgency: case.urgency.as_str(),
        source: case.source.as_str(),
        source_label: if en {
            crate::web::i18n::Tr(zhili_core::model::Locale::En)
                .try_get(&format!("case.source.{}", case.source.as_str()))
                .unwrap_or(case.source.as_str())
        } else {
            case.source.label_zh()
        },
        description: case.description.clone(),
        address: case.address.clone(),
        lon: case.lon,
        lat: case.lat,
        grid: case.grid.clone(),
        division: case.division.to_string(),
        department: case.status.department.clone(),
        reporter_id: case.reporter_id,
        contact: case
            .contact
            .as_deref()
            .map(|c| if unmasked { c.to_string() } else { zhili_core::mask::mask_phone(c) }),
        tracking_code: case.tracking_code.as_ref().map(|c| c.to_string()),
        photos: case.photos.iter().map(|p| photo_url(p)).collect(),
        thumb: case.photos.first().map(|p| format!("{}?size=thumb", photo_url(p))),
        counters: serde_json::to_value(case.status.counters).unwrap_or(Value::Null),
        pending_extension: case.status.pending_extension.as_ref().and_then(|p| serde_json::to_value(p).ok()),
        duplicate_of: case.status.duplicate_of,
        clock: ClockView {
            step: case.clock.step.map(|s| s.as_str()),
            deadline: case.clock.deadline,
            remaining_working_minutes: case.clock.deadline.map(|d| calendar.remaining(d, now)),
            overdue: case.overdue(now),
            paused_remaining: case.clock.paused_remaining,
            basis: countdown.map(|c| match c.basis {
                ClockBasis::Working => "working",
                ClockBasis::Natural => "natural",
            }),
            remaining_minutes: countdown.map(|c| c.remaining_minutes),
            allowance_minutes: countdown.map(|c| c.allowance_minutes),
            light: countdown.map(|c| c.light.as_str()),
            running: countdown.is_some_and(|c| c.running),
            changes_at: countdown.and_then(|c| c.changes_at),
            day_minutes: calendar.day_minutes(),
            deadline_local: case
                .clock
                .deadline
                .map(|d| d.with_timezone(&calendar.offset()).format("%Y-%m-%d %H:%M").to_string()),
            zone: format!("UTC{}", calendar.offset()),
        },
        handled_on_time: case.handled_on_time,
        score: case.score,
        reported_at: case.reported_at,
        filed_at: case.filed_at,
        dispatched_at: case.dispatched_at,
        closed_at: case.closed_at,
        updated_at: case.updated_at,
    }
}

// ---------------------------------------------------------------------------------------------
// Intake

/// Body of `POST /api/cases`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// Minor class code, e.g. `SJ0102` (暴露垃圾).
    pub class_code: String,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// `wgs84` (default) or `gcj02` (a phone's commercial map).
    #[serde(default)]
    pub crs: Option<String>,
    /// What was found (1–2,000 characters).
    pub description: String,
    /// Address; derived from the position when absent.
    #[serde(default)]
    pub address: Option<String>,
    /// Photo ids from `POST /api/attachments` (at most 9).
    #[serde(default)]
    pub photos: Vec<String>,
    /// Channel: operators may say `hotline` (default), `superior`, `machine` or `public`;
    /// grid workers' reports are always `grid_worker`.
    #[serde(default)]
    pub source: Option<String>,
    /// Reporter's contact (a citizen's phone on the hotline).
    #[serde(default)]
    pub contact: Option<String>,
    /// A key that makes the report idempotent (retries of machines and apps).
    #[serde(default)]
    pub external_id: Option<String>,
}

/// A nearby open case of the same class (疑似重复).
#[derive(Serialize, utoipa::ToSchema)]
pub struct DuplicateView {
    /// Case number.
    pub id: i64,
    /// Distance in metres.
    pub distance_m: f64,
    /// State.
    pub state: &'static str,
}

/// Answer of `POST /api/cases`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportAnswer {
    /// The stored case.
    pub case: CaseView,
    /// Open cases of the same class within the duplicate radius.
    pub duplicates: Vec<DuplicateView>,
    /// The department the catalogue's rule points to (a suggestion for dispatch).
    pub suggested_department: Option<String>,
    /// The grid chain at the position, finest first.
    pub chain: Vec<crate::grid::spatial::ChainItem>,
}

/// What intake needs, checked: the class and the position's place.
pub(crate) struct Placed {
    pub class: CaseClass,
    pub lon: f64,
    pub lat: f64,
    pub grid: Option<String>,
    pub division: DivisionCode,
    pub chain: Vec<crate::grid::spatial::ChainItem>,
}

/// Check a class and a position: the class exists and is active; the position lies in the
/// district (and, for a logged-in user, inside their jurisdiction).
pub(crate) fn place(
    state: &AppState,
    catalogue: &Catalogue,
    caller: Option<&Caller>,
    class_code: &str,
    lon: f64,
    lat: f64,
    crs: Option<&str>,
) -> AppResult<Placed> {
    let class = catalogue
        .get(class_code.trim())
        .filter(|c| c.active)
        .cloned()
        .ok_or_else(|| field("class_code", format!("unknown or inactive case class {class_code:?}")))?;
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(field("lon", "lon must be a number within -180..180"));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(field("lat", "lat must be a number within -90..90"));
    }
    let crs = match crs {
        None => zhili_geo::gcj02::MapCrs::Wgs84,
        Some(c) => zhili_geo::gcj02::MapCrs::parse(c).ok_or_else(|| field("crs", "crs must be wgs84 or gcj02"))?,
    };
    let (lon, lat) = crs.to_wgs84(lon, lat);
    let chain = state.spatial.chain(lon, lat);
    let grid = chain.iter().find(|c| c.kind == "grid").map(|c| c.code.clone());
    // The finest division with a boundary there; else the village of the finest grid (a
    // deployment may have grid polygons before it has village boundaries).
    let division = chain
        .iter()
        .find(|c| c.kind == "division")
        .and_then(|c| DivisionCode::parse(&c.code).ok())
        .or_else(|| grid.as_deref().and_then(|g| zhili_grid::GridCode::parse_any(g).ok()).map(|g| g.village()))
        .ok_or_else(|| {
            field("lon", format!("the position {lon:.6}, {lat:.6} is outside the district"))
                .key("case.error.outside_district")
                .arg("lon", format_args!("{lon:.6}"))
                .arg("lat", format_args!("{lat:.6}"))
        })?;
    if let Some(c) = caller {
        if c.principal.role != Role::Public && !c.principal.sees(&division) {
            return Err(field("lon", format!("the position is in {division}, outside your jurisdiction"))
                .key("case.error.outside_jurisdiction")
                .arg("division", &division));
        }
    }
    Ok(Placed { class, lon, lat, grid, division, chain })
}

pub(crate) fn check_text(name: &str, v: &str, min: usize, max: usize) -> AppResult<String> {
    let t = v.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(field(name, format!("{name} must have {min}–{max} characters, has {n}")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(field(name, format!("{name} contains control characters")));
    }
    Ok(t.to_string())
}

pub(crate) async fn check_photos(state: &AppState, name: &str, photos: &[String]) -> AppResult<()> {
    if photos.len() > MAX_PHOTOS {
        return Err(field(name, format!("at most {MAX_PHOTOS} photos")));
    }
    for (i, p) in photos.iter().enumerate() {
        match state.port::<dyn AttachmentStore>().attachment(p).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(field(&format!("{name}[{i}]"), format!("no uploaded photo {p:?}")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The department the class's rule points to for a case in `division`.
async fn suggest_department(state: &AppState, class: &CaseClass, division: &DivisionCode) -> AppResult<Option<String>> {
    Ok(match &class.department {
        DepartmentRule::Department(code) => Some(code.clone()),
        DepartmentRule::Territorial => {
            let township = division.as_str().get(..9).unwrap_or(division.as_str()).to_string();
            let deps = crate::case::cases(state).departments(state.store.as_ref()).await?;
            deps.iter().find(|d| d.division.as_str() == township && !d.is_command_centre).map(|d| d.code.clone())
        }
    })
}

/// A checked report from any channel.
pub(crate) struct NewReport {
    pub actor: Actor,
    pub reporter: Option<i64>,
    pub source: Source,
    pub placed: Placed,
    pub description: String,
    pub address: Option<String>,
    pub photos: Vec<String>,
    pub contact: Option<String>,
    pub external_id: Option<String>,
}

/// What intake answers: the stored case, nearby open cases of its class, the suggested
/// department and the position's chain.
pub(crate) struct Intook {
    pub case: Case,
    pub duplicates: Vec<DuplicateView>,
    pub suggested_department: Option<String>,
    pub chain: Vec<crate::grid::spatial::ChainItem>,
}

/// A fresh tracking code: 80 bits of the operating system's generator.
fn new_tracking_code() -> TrackingCode {
    let hex = zhili_core::password::random_token();
    let mut bits = [0u8; 10];
    for (i, b) in bits.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("random_token is hex");
    }
    TrackingCode::from_random(bits)
}

/// Store a new case (group commit) and answer with its duplicates and suggested department.
pub(crate) async fn intake(state: &AppState, r: NewReport) -> AppResult<Intook> {
    let NewReport { actor, reporter, source, placed, description, address, photos, contact, external_id } = r;
    let calendar = crate::case::cases(state).calendar(state.port::<dyn SettingStore>()).await?;
    let now = Utc::now();
    let mut clock = CaseClock::default();
    apply_clock(&mut clock, &workflow::report_clock(), &placed.class, &calendar, now);
    let address = address.filter(|a| !a.trim().is_empty()).unwrap_or_else(|| {
        let mut names: Vec<&str> = placed.chain.iter().rev().map(|c| c.name.as_str()).collect();
        names.dedup();
        names.join(" ")
    });
    let case = Case {
        id: 0,
        version: 1,
        status: CaseStatus::reported(0),
        kind: placed.class.kind,
        class_code: placed.class.code.clone(),
        urgency: placed.class.urgency,
        source,
        description: description.clone(),
        address,
        lon: placed.lon,
        lat: placed.lat,
        grid: placed.grid,
        division: placed.division.clone(),
        reporter_id: reporter,
        contact,
        external_id,
        // A citizen's report gets its tracking code (80 bits from the system's generator).
        tracking_code: source.is_public().then(new_tracking_code),
        photos: photos.clone(),
        clock,
        handled_on_time: None,
        score: None,
        reported_at: now,
        filed_at: None,
        dispatched_at: None,
        closed_at: None,
        updated_at: now,
    };
    let entry = TimelineEntry {
        seq: 1,
        at: now,
        actor_id: actor.user_id,
        actor: actor.name.clone(),
        command: "report".into(),
        from_state: None,
        to_state: CaseState::Reported,
        data: json!({"command": "report", "source": source.as_str(), "description": description, "photos": photos}),
    };
    let (stored, duplicates) = crate::case::cases(state)
        .submit(state.ports.port::<dyn CaseStore>().clone(), state.config.case_duplicate_radius_m, actor, case, entry)
        .await?;
    state.metrics.cases_reported.inc();
    // The case is stored: what follows only advises, and must not turn a stored report into an
    // error (the client would retry and file it twice).
    let suggested_department = suggest_department(state, &placed.class, &placed.division).await.unwrap_or_else(|e| {
        tracing::warn!(case = stored.id, error = ?e.message, "department suggestion failed");
        None
    });
    Ok(Intook { case: stored, duplicates, suggested_department, chain: placed.chain })
}

/// Report a case (上报): a grid worker from the street, an operator taking a call, or a machine
/// with an operator's token. Location → grid chain, division and address; duplicates within
/// the configured radius; the department the catalogue suggests. Answers once the case is on disk.
#[utoipa::path(post, path = "/api/cases", tag = "cases", request_body = ReportBody,
    responses((status = 201, body = ReportAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ReportBody>,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ReportCase, None)?;
    let source = match (caller.principal.role, b.source.as_deref()) {
        (Role::GridWorker, None | Some("grid_worker")) => Source::GridWorker,
        (Role::GridWorker, Some(s)) => return Err(field("source", format!("a grid worker's report cannot be {s:?}"))),
        (_, None) => Source::Hotline,
        (_, Some(s)) => match Source::from_name(s) {
            Some(x @ (Source::Hotline | Source::Superior | Source::Machine | Source::Public)) => x,
            _ => return Err(field("source", "source must be hotline, superior, machine or public")),
        },
    };
    let description = check_text("description", &b.description, 1, 2000)?;
    let address = b.address.as_deref().map(|a| check_text("address", a, 0, 200)).transpose()?;
    let contact = b.contact.as_deref().map(|c| check_text("contact", c, 1, 50)).transpose()?;
    let external_id = b.external_id.as_deref().map(|c| check_text("external_id", c, 1, 100)).transpose()?;
    let catalogue = crate::case::cases(&state).catalogue(state.port::<dyn SettingStore>()).await?;
    let placed = place(&state, &catalogue, Some(&caller), &b.class_code, b.lon, b.lat, b.crs.as_deref())?;
    check_photos(&state, "photos", &b.photos).await?;
    let calendar = crate::case::cases(&state).calendar(state.port::<dyn SettingStore>()).await?;
    let done = intake(
        &state,
        NewReport {
            actor: caller.actor(),
            reporter: caller.principal.user_id,
            source,
            placed,
            description,
            address,
            photos: b.photos,
            contact,
            external_id,
        },
    )
    .await?;
    let answer = ReportAnswer {
        case: view(&done.case, &catalogue, &calendar, &caller, Utc::now()),
        duplicates: done.duplicates,
        suggested_department: done.suggested_department,
        chain: done.chain,
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Reading and worklists

/// Query of `GET /api/cases` (工作台/案件查询).
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// States, comma-separated (e.g. `reported,filed`).
    pub state: Option<String>,
    /// Class code or major code prefix (e.g. `SJ01`).
    pub class: Option<String>,
    /// Division subtree.
    pub within: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Department code.
    pub department: Option<String>,
    /// Channel.
    pub source: Option<String>,
    /// Reported on or after this date (YYYY-MM-DD, local) or instant (RFC 3339).
    pub from: Option<String>,
    /// Reported before this date or instant.
    pub to: Option<String>,
    /// Only cases whose current clock has run out.
    pub overdue: Option<bool>,
    /// Only cases the caller reported.
    pub mine: Option<bool>,
    /// Only running clocks that run out within the next 4 working hours (即将超时), not yet
    /// overdue.
    pub due_soon: Option<bool>,
    /// Closed (last 结案) on or after this date (YYYY-MM-DD, local) or instant (RFC 3339).
    pub closed_from: Option<String>,
    /// The order: `upcoming` (new work first: running clocks nearest first, then overdue most
    /// recent first, then the rest newest first), `deadline` (earliest running deadline first,
    /// so the longest overdue lead) or `newest`. Default: `newest` for leaders (who watch,
    /// not act), `upcoming` for everyone else.
    pub sort: Option<String>,
    /// Items to skip.
    pub offset: Option<i64>,
    /// Items to return, 1–1000.
    pub limit: Option<i64>,
}

fn parse_time(name: &str, v: &str, calendar: &WorkCalendar) -> AppResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        AppError::msg(ErrorCode::InvalidQuery, format!("{name} must be YYYY-MM-DD or RFC 3339"))
            .at(name)
            .key("case.error.bad_time")
            .param("field", Param::Field(name.into()))
    })?;
    let local = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    Ok(local.and_local_timezone(calendar.offset()).single().expect("fixed offsets are unambiguous").with_timezone(&Utc))
}

/// How soon a running clock must run out to count as 即将超时 (`due_soon`): 4 working hours.
pub(crate) const DUE_SOON: zhili_case::calendar::WorkDuration = zhili_case::calendar::WorkDuration::WorkingMinutes(240);

/// A worklist's order when none is asked for: new work first for whoever acts on cases (the
/// states each role acts in start a fresh clock, so what just arrived leads and year-old overdue
/// cases follow every running one); newest first for leaders, who watch rather than act.
pub(crate) fn default_order(role: Role, now: DateTime<Utc>) -> CaseOrder {
    match role {
        Role::Leader => CaseOrder::Newest,
        _ => CaseOrder::Upcoming { now },
    }
}

/// The filter the caller's role allows, narrowed by the query.
pub(crate) async fn scoped_filter(state: &AppState, caller: &Caller, q: &CaseQuery) -> AppResult<Option<CaseFilter>> {
    authorize(&caller.principal, Action::ReadCases, None)?;
    let calendar = crate::case::cases(state).calendar(state.port::<dyn SettingStore>()).await?;
    let bad = |name: &str, m: String| AppError::msg(ErrorCode::InvalidQuery, m).at(name);
    let mut f = CaseFilter::default();
    if let Some(s) = &q.state {
        for part in s.split(',').filter(|p| !p.is_empty()) {
            f.states.push(CaseState::from_name(part).ok_or_else(|| bad("state", format!("unknown state {part:?}")))?);
        }
    }
    if let Some(c) = &q.class {
        if c.is_empty() || c.len() > 6 || !c.chars().all(|x| x.is_ascii_alphanumeric()) {
            return Err(bad("class", format!("class must be a class or major code, got {c:?}")));
        }
        f.class_prefix = Some(c.to_ascii_uppercase());
    }
    if let Some(s) = &q.source {
        f.source = Some(Source::from_name(s).ok_or_else(|| bad("source", format!("unknown source {s:?}")))?);
    }
    f.from = q.from.as_deref().map(|v| parse_time("from", v, &calendar)).transpose()?;
    f.to = q.to.as_deref().map(|v| parse_time("to", v, &calendar)).transpose()?;
    let now = Utc::now();
    if q.overdue == Some(true) {
        f.overdue_at = Some(now);
    }
    if q.due_soon == Some(true) {
        f.due_from = Some(now);
        f.overdue_at = Some(calendar.add(now, DUE_SOON).min(f.overdue_at.unwrap_or(DateTime::<Utc>::MAX_UTC)));
    }
    f.closed_from = q.closed_from.as_deref().map(|v| parse_time("closed_from", v, &calendar)).transpose()?;
    f.order = match q.sort.as_deref() {
        None | Some("") => default_order(caller.principal.role, now),
        Some("upcoming") => CaseOrder::Upcoming { now },
        Some("deadline") => CaseOrder::Deadline,
        Some("newest") => CaseOrder::Newest,
        Some(other) => {
            return Err(bad("sort", format!("sort must be upcoming, deadline or newest, got {other:?}")));
        }
    };
    if q.mine == Some(true) {
        f.reporter_id = Some(caller.require_user()?.id);
    }
    let within =
        q.within.as_deref().map(|w| DivisionCode::parse(w).map_err(|e| bad("within", e.to_string()))).transpose()?;
    f.department = q.department.clone();
    f.grids = q.grid.iter().cloned().collect();
    match caller.principal.role {
        Role::Admin | Role::Leader | Role::Operator => {
            let j = caller.principal.jurisdiction.clone().ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
            f.within = match within {
                None => Some(j),
                Some(w) => match j.intersect(&w) {
                    Some(x) => Some(x),
                    None => return Ok(None),
                },
            };
        }
        Role::DepartmentStaff => {
            let Some(mine) = caller_department(state, caller).await? else { return Ok(None) };
            if f.department.as_ref().is_some_and(|d| d != &mine) {
                return Ok(None);
            }
            f.department = Some(mine);
            f.within = within;
        }
        Role::GridWorker => {
            let mine = worker_grid_codes(state, caller).await?;
            if f.reporter_id.is_none() {
                f.grids = match &q.grid {
                    Some(g) if mine.contains(g) => vec![g.clone()],
                    Some(_) => return Ok(None),
                    None if mine.is_empty() => return Ok(None),
                    None => mine,
                };
            }
            f.within = within;
        }
        Role::Public => return Ok(None),
    }
    Ok(Some(f))
}

/// A page of cases: the caller's worklist (a department: its cases; a grid worker: cases in
/// their grids; the centre: its jurisdiction), by default new work first (`sort`).
#[utoipa::path(get, path = "/api/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, body = crate::core::views::Paged<CaseView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> AppResult<Json<crate::core::views::Paged<CaseView>>> {
    let page = crate::core::api::PageQuery { offset: q.offset, limit: q.limit }.page()?;
    let Some(filter) = scoped_filter(&state, &caller, &q).await? else {
        return Ok(Json(crate::core::views::Paged {
            items: vec![],
            total: 0,
            total_exact: true,
            offset: page.offset,
            limit: page.limit,
        }));
    };
    let (cases, (total, total_exact)) =
        tokio::try_join!(state.port::<dyn CaseStore>().cases(&filter, page), count_upto(&state, &filter))?;
    let catalogue = crate::case::cases(&state).catalogue(state.port::<dyn SettingStore>()).await?;
    let calendar = crate::case::cases(&state).calendar(state.port::<dyn SettingStore>()).await?;
    let now = Utc::now();
    Ok(Json(crate::core::views::Paged {
        items: cases.iter().map(|c| view(c, &catalogue, &calendar, &caller, now)).collect(),
        total,
        total_exact,
        offset: page.offset,
        limit: page.limit,
    }))
}

/// Worklists count their matches up to this many; past it they say "more than".
pub(crate) const COUNT_CAP: i64 = 10_000;

/// The count of a worklist: `(n, true)` when at most [`COUNT_CAP`] match, else
/// `(COUNT_CAP, false)`. Counting stops there: an exact count of half a million overdue cases
/// reads every one of them, for a figure nobody pages through (the dashboard has the totals).
pub(crate) async fn count_upto(state: &AppState, filter: &CaseFilter) -> StoreResult<(i64, bool)> {
    Ok(capped(state.port::<dyn CaseStore>().count_cases_upto(filter, COUNT_CAP + 1).await?))
}

/// A count taken up to `COUNT_CAP + 1`, as `(total, exact)`.
fn capped(n: i64) -> (i64, bool) {
    if n > COUNT_CAP {
        (COUNT_CAP, false)
    } else {
        (n, true)
    }
}

/// The case by its number, or (a citizen calling about their report) by its tracking code.
async fn visible_case(state: &AppState, caller: &Caller, id: &str) -> AppResult<Case> {
    let case = match id.parse::<i64>() {
        Ok(n) if n > 0 => state.port::<dyn CaseStore>().case(n).await?,
        _ => match TrackingCode::parse(id) {
            Some(code) => state.port::<dyn CaseStore>().case_by_tracking_code(&code).await?,
            None => return Err(field("id", format!("case id {id:?} is not a number or a tracking code"))),
        },
    };
    if !may_see(state, caller, &case).await? {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(case)
}

/// One case with its timeline and what the caller may do next.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    /// The case.
    pub case: CaseView,
    /// Its timeline, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub timeline: Vec<TimelineEntry>,
    /// Commands the caller may give now (stable names).
    pub allowed: Vec<&'static str>,
    /// Where the case lies, by name: its grid and the divisions above it, finest first.
    #[schema(value_type = Vec<Object>)]
    pub place: Vec<crate::grid::spatial::ChainItem>,
    /// The names of the departments the case and its timeline mention, by code.
    pub department_names: std::collections::BTreeMap<String, String>,
    /// The names of the users who acted in its timeline, by username.
    pub actor_names: std::collections::BTreeMap<String, String>,
}

/// A case as the caller sees it: its view, timeline, the commands the caller may give, and the
/// names (place, departments, people) a page shows instead of codes.
async fn detail(state: &AppState, caller: &Caller, case: &Case) -> AppResult<CaseDetail> {
    let (catalogue, calendar) = tokio::try_join!(
        crate::case::cases(state).catalogue(state.port::<dyn SettingStore>()),
        crate::case::cases(state).calendar(state.port::<dyn SettingStore>())
    )?;
    let timeline = state.port::<dyn CaseStore>().timeline(case.id).await?;
    let mine = caller_department(state, caller).await?;
    let allowed = workflow::allowed(&case.status, caller.principal.role)
        .into_iter()
        .filter(|k| !k.requires_assigned_department() || (mine.is_some() && mine == case.status.department))
        .map(CommandKind::as_str)
        .collect();
    let departments = crate::case::cases(state).departments(state.store.as_ref()).await?;
    let mentioned: std::collections::BTreeSet<&str> = case
        .status
        .department
        .as_deref()
        .into_iter()
        .chain(timeline.iter().filter_map(|e| e.data.get("department").and_then(Value::as_str)))
        .collect();
    let department_names = departments
        .iter()
        .filter(|d| mentioned.contains(d.code.as_str()))
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect();
    let mut actor_names = std::collections::BTreeMap::new();
    for e in &timeline {
        let Some(id) = e.actor_id else { continue };
        if actor_names.contains_key(&e.actor) {
            continue;
        }
        match state.store.user(id).await {
            Ok(u) => {
                actor_names.insert(e.actor.clone(), u.display_name);
            }
            Err(zhili_core::store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(CaseDetail {
        case: view(case, &catalogue, &calendar, caller, Utc::now()),
        timeline,
        allowed,
        place: state.spatial.chain(case.lon, case.lat),
        department_names,
        actor_names,
    })
}

/// One case (案件详情).
#[utoipa::path(get, path = "/api/cases/{id}", tag = "cases", params(("id" = i64, Path, description = "Case number")),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> AppResult<Json<CaseDetail>> {
    let case = visible_case(&state, &caller, &id).await?;
    Ok(Json(detail(&state, &caller, &case).await?))
}

// ---------------------------------------------------------------------------------------------
// Transitions

/// Body of `POST /api/cases/{id}/transitions`: the version read, and the command with its fields
/// (e.g. `{"version": 2, "command": "dispatch", "department": "cgj"}`).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TransitionBody {
    /// The case's version as read; a stale one is refused (409 `stale_version`).
    pub version: i64,
    /// The command and its fields.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub command: Command,
}

/// Move a case through the loop (立案, 派遣, 签收, 回退, 延期, 反馈, 核查, 结案, 评价, 挂账, 缓办,
/// 作废, 重新打开…). The transition table decides who may, from which states, with which fields;
/// a refusal names the current state and what is allowed now.
#[utoipa::path(post, path = "/api/cases/{id}/transitions", tag = "cases", params(("id" = i64, Path, description = "Case number")),
    request_body = TransitionBody,
    responses((status = 200, body = CaseDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TransitionBody>,
) -> AppResult<Json<CaseDetail>> {
    let next = transition_one(&state, &caller, &id, b.version, &b.command).await?;
    Ok(Json(detail(&state, &caller, &next).await?))
}

/// One transition of case `id` (as the caller may see it) at `version`: checked by the state
/// machine, the assigned department and the command's references, then stored. Returns the case
/// as stored.
async fn transition_one(
    state: &AppState,
    caller: &Caller,
    id: &str,
    version: i64,
    command: &Command,
) -> AppResult<Case> {
    let case = visible_case(state, caller, id).await?;
    if version != case.version {
        return Err(StoreError::Stale { current: case.version }.into());
    }
    let role = caller.principal.role;
    let kind = command.kind();
    // The state machine first: wrong role or wrong state are named before anything else.
    let outcome = workflow::apply(&case.status, role, command).map_err(transition_error)?;
    if kind.requires_assigned_department() {
        let mine = caller_department(state, caller).await?;
        if mine.is_none() || mine != case.status.department {
            return Err(AppError::msg(
                ErrorCode::Forbidden,
                format!(
                    "only staff of the assigned department ({}) may {}",
                    case.status.department.as_deref().unwrap_or("-"),
                    kind.as_str()
                ),
            )
            .at("command"));
        }
    }
    let catalogue = crate::case::cases(state).catalogue(state.port::<dyn SettingStore>()).await?;
    let mut class_code = case.class_code.to_string();
    match command {
        Command::Dispatch { department, .. } => {
            let deps = crate::case::cases(state).departments(state.store.as_ref()).await?;
            if !deps.iter().any(|d| d.code == department.trim()) {
                return Err(field("department", format!("no department {department:?}")));
            }
        }
        Command::Respond { photos, .. } | Command::Verify { photos, .. } => {
            check_photos(state, "photos", photos).await?;
        }
        Command::Void { duplicate_of: Some(other), .. } => {
            let o = state.port::<dyn CaseStore>().case(*other).await.map_err(|e| match e {
                StoreError::NotFound => field("duplicate_of", format!("no case {other}")),
                e => e.into(),
            })?;
            if !may_see(state, caller, &o).await? {
                return Err(field("duplicate_of", format!("no case {other}")));
            }
        }
        Command::File { class_code: Some(c), .. } if !c.trim().is_empty() => {
            let c = catalogue
                .get(c.trim())
                .filter(|x| x.active)
                .ok_or_else(|| field("class_code", format!("unknown or inactive case class {c:?}")))?;
            class_code = c.code.to_string();
        }
        _ => {}
    }
    let class = catalogue
        .get(&class_code)
        .cloned()
        .ok_or_else(|| field("class_code", format!("the case's class {class_code} is no longer in the catalogue")))?;
    let calendar = crate::case::cases(state).calendar(state.port::<dyn SettingStore>()).await?;
    let (next, entry) = advance(
        &case,
        &outcome,
        &class,
        &calendar,
        Utc::now(),
        (caller.principal.user_id, &caller.principal.username),
        0,
    );
    state.port::<dyn CaseStore>().update_case(&caller.actor(), &next, &entry).await?;
    state.metrics.case_transitions.inc();
    crate::case::notify::after_transition(state, &case, &next).await;
    Ok(next)
}

/// Commands a worklist may apply to many cases at once (批量立案, 批量派遣, 批量签收).
const BULK_COMMANDS: [CommandKind; 3] = [CommandKind::File, CommandKind::Dispatch, CommandKind::Accept];
/// Most cases in one bulk request.
const MAX_BULK: usize = 200;

/// One case of a bulk transition: its number and the version read.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    /// Case number.
    pub id: i64,
    /// The case's version as read.
    pub version: i64,
}

/// Body of `POST /api/cases/bulk-transitions`: the cases, and one command for all of them
/// (e.g. `{"cases": [{"id": 7, "version": 2}], "command": "dispatch", "department": "cgj"}`).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct BulkBody {
    /// The cases (1–200, each once).
    pub cases: Vec<BulkItem>,
    /// The command and its fields: `file`, `dispatch` or `accept`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub command: Command,
}

/// The outcome for one case of a bulk transition.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    /// Case number.
    pub id: i64,
    /// Whether the transition was stored.
    pub ok: bool,
    /// The case's version after the transition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The case's state now, if stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// Why not, as a single transition would answer it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// Answer of `POST /api/cases/bulk-transitions`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkAnswer {
    /// How many were stored.
    pub done: usize,
    /// How many were refused.
    pub refused: usize,
    /// One outcome per case, in the order given.
    pub results: Vec<BulkOutcome>,
}

/// A bulk request's shape: a bulk command, 1–[`MAX_BULK`] cases, each once.
fn check_bulk(b: &BulkBody) -> AppResult<()> {
    let kind = b.command.kind();
    if !BULK_COMMANDS.contains(&kind) {
        return Err(field("command", format!("{} is not a bulk command; use file, dispatch or accept", kind.as_str())));
    }
    if b.cases.is_empty() || b.cases.len() > MAX_BULK {
        return Err(field("cases", format!("give 1–{MAX_BULK} cases, got {}", b.cases.len()))
            .key("case.error.bulk_count")
            .arg("max", MAX_BULK)
            .arg("got", b.cases.len()));
    }
    let mut seen = std::collections::HashSet::new();
    match b.cases.iter().find(|c| !seen.insert(c.id)) {
        Some(dup) => Err(field("cases", format!("case {} is given twice", dup.id))
            .key("case.error.bulk_twice")
            .arg("id", dup.id)),
        None => Ok(()),
    }
}

/// File, dispatch or accept many cases at once from a worklist (批量立案/派遣/签收). Each case
/// is its own transition with every check of a single one (role, state, version, department)
/// and its own commit: a refused case is reported in `results` and leaves the others and itself
/// unchanged. A malformed request (no cases, too many, a repeated case, another command) is
/// refused whole.
#[utoipa::path(post, path = "/api/cases/bulk-transitions", tag = "cases", request_body = BulkBody,
    responses((status = 200, body = BulkAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn bulk_transition(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<BulkBody>,
) -> AppResult<Json<BulkAnswer>> {
    authorize(&caller.principal, Action::ReadCases, None)?;
    check_bulk(&b)?;
    let mut results = Vec::with_capacity(b.cases.len());
    for item in &b.cases {
        results.push(match transition_one(&state, &caller, &item.id.to_string(), item.version, &b.command).await {
            Ok(next) => BulkOutcome {
                id: item.id,
                ok: true,
                version: Some(next.version),
                state: Some(next.status.state.as_str()),
                error: None,
            },
            // A failing database fails the request; the cases before it are stored and say so
            // in their timelines.
            Err(e) if e.status().is_server_error() => return Err(e),
            Err(e) => BulkOutcome {
                id: item.id,
                ok: false,
                version: None,
                state: None,
                error: Some(e.detail_in(caller.locale)),
            },
        });
    }
    let done = results.iter().filter(|r| r.ok).count();
    Ok(Json(BulkAnswer { done, refused: results.len() - done, results }))
}

// ---------------------------------------------------------------------------------------------
// Photos

/// Media types accepted for photos, with the bytes each must start with.
const IMAGE_TYPES: &[(&str, &[u8])] =
    &[("image/jpeg", &[0xFF, 0xD8, 0xFF]), ("image/png", b"\x89PNG\r\n\x1a\n"), ("image/webp", b"RIFF")];

/// Answer of `POST /api/attachments`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AttachmentAnswer {
    /// Id to put in `photos`.
    pub id: String,
    /// Where to read it.
    pub url: String,
    /// Size in bytes.
    pub size: i64,
}

/// Check an upload is the image it says it is, within the size limit.
pub(crate) fn check_image(content_type: &str, bytes: &[u8], max: usize) -> AppResult<&'static str> {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let Some((ty, magic)) = IMAGE_TYPES.iter().find(|(t, _)| *t == mime) else {
        return Err(AppError::msg(
            ErrorCode::UnsupportedMediaType,
            format!("photos must be image/jpeg, image/png or image/webp, not {mime:?}"),
        )
        .at("content-type"));
    };
    if bytes.len() > max {
        return Err(AppError::msg(ErrorCode::PayloadTooLarge, format!("photos are limited to {max} bytes")).at("file"));
    }
    let webp_ok = *ty != "image/webp" || bytes.get(8..12) == Some(b"WEBP");
    if bytes.len() < 12 || !bytes.starts_with(magic) || !webp_ok {
        return Err(field("file", format!("the bytes are not a {ty} image (checked the file's first bytes)")));
    }
    Ok(ty)
}

/// Upload a photo (JPEG, PNG or WebP; the body is the file). Answers its id for `photos`.
#[utoipa::path(post, path = "/api/attachments", tag = "cases", request_body(content = String, content_type = "image/jpeg"),
    responses((status = 201, body = AttachmentAnswer), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ReadCases, None)?;
    let ct = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ty = check_image(ct, &body, state.config.photo_max_bytes)?;
    let meta = Attachment {
        id: zhili_core::password::random_token()[..32].to_string(),
        content_type: ty.into(),
        size: body.len() as i64,
        sha256: hex::encode(Sha256::digest(&body)),
        uploaded_by: caller.principal.user_id,
        created_at: Utc::now(),
    };
    state.port::<dyn AttachmentStore>().put_attachment(&caller.actor(), &meta, &body).await?;
    let answer = AttachmentAnswer { url: photo_url(&meta.id), id: meta.id, size: meta.size };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Query of `GET /api/attachments/{id}`.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttachmentQuery {
    /// `thumb`: a JPEG at most 320 px on its longer side (images only); `full` (default): the
    /// file as uploaded.
    pub size: Option<String>,
}

/// Read an uploaded photo (logged-in users), or its thumbnail with `size=thumb`.
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "cases", params(("id" = String, Path, description = "Attachment id"), AttachmentQuery),
    responses((status = 200, description = "The file, or its thumbnail as image/jpeg", content_type = "image/jpeg"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AttachmentQuery>,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ReadCases, None)?;
    let thumb = match q.size.as_deref() {
        None | Some("full") => false,
        Some("thumb") => true,
        Some(other) => {
            return Err(
                AppError::msg(ErrorCode::InvalidQuery, format!("size must be thumb or full, not {other:?}")).at("size")
            )
        }
    };
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::msg(ErrorCode::NotFound, format!("no attachment {id:?}")).at("id"));
    }
    let (meta, bytes) = match state.port::<dyn AttachmentStore>().attachment(&id).await {
        Err(StoreError::NotFound) => {
            return Err(AppError::msg(ErrorCode::NotFound, format!("no attachment {id:?}")).at("id"))
        }
        other => other?,
    };
    let (content_type, body) = if thumb {
        ("image/jpeg".to_string(), state.port::<crate::case::thumb::Thumbs>().of(&meta, bytes).await?.to_vec())
    } else {
        (meta.content_type.clone(), bytes)
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_str(&content_type).map_err(|_| AppError::new(ErrorCode::Internal))?);
    h.insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400, immutable"));
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Catalogue and calendar

/// The version (版本) of a stored setting for optimistic edits: the first 16 hex digits of the
/// SHA-256 of its stored text (of the empty text while the built-in default is in force).
fn setting_version(text: Option<&str>) -> String {
    hex::encode(&Sha256::digest(text.unwrap_or("").as_bytes())[..8])
}

/// The setting's current text and version, read from the store (not the cache: other processes
/// may have changed it).
async fn stored_setting(state: &AppState, key: &str) -> AppResult<(Option<String>, String)> {
    let text = state.port::<dyn SettingStore>().setting(key).await?;
    let version = setting_version(text.as_deref());
    Ok((text, version))
}

/// An answer with the setting's version as its `ETag`.
fn with_etag(mut r: Response, version: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        r.headers_mut().insert(axum::http::header::ETAG, v);
    }
    r
}

/// The version an edit was based on, from `If-Match` (quotes and a weak `W/` prefix ignored).
fn if_match(headers: &HeaderMap) -> AppResult<Option<String>> {
    let Some(v) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().map_err(|_| AppError::msg(ErrorCode::InvalidQuery, "If-Match is not text").at("If-Match"))?;
    let t = text.trim();
    if t == "*" {
        return Ok(None);
    }
    Ok(Some(t.trim_start_matches("W/").trim_matches('"').to_string()))
}

/// Refuse an edit based on another version than the stored one (409 `stale_version`).
fn check_version(expected: Option<&str>, current: &str) -> AppResult<()> {
    match expected {
        Some(v) if v != current => Err(AppError::msg(
            ErrorCode::StaleVersion,
            format!("the setting was changed by someone else (version {current}, this edit was based on {v}); reload and retry"),
        )
        .at("version")),
        _ => Ok(()),
    }
}

/// The case classes (案件分类), all of them. The `ETag` is the catalogue's version; send it back as
/// `If-Match` with `PUT /api/case-classes` so that a concurrent edit is not overwritten.
#[utoipa::path(get, path = "/api/case-classes", tag = "cases",
    responses((status = 200, description = "Every class", body = Vec<Object>), (status = 401, body = ErrorBody)))]
pub async fn classes(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    authorize(&caller.principal, Action::ReadCases, None)?;
    // Body and version from the same read, so the ETag always describes the classes answered.
    let (text, version) = stored_setting(&state, CATALOGUE_KEY).await?;
    let c = match text {
        Some(text) => keep(&crate::case::cases(&state).catalogue, parse_setting::<Catalogue>(&text, "case catalogue")?),
        None => crate::case::cases(&state).catalogue(state.port::<dyn SettingStore>()).await?,
    };
    let body = serde_json::to_value(&c.classes).map_err(|_| AppError::new(ErrorCode::Internal))?;
    Ok(with_etag(Json(body).into_response(), &version))
}

fn parse_setting<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> AppResult<T> {
    serde_json::from_str(text).map_err(|e| {
        tracing::error!(error = %e, "stored {what} does not parse");
        AppError::new(ErrorCode::Internal)
    })
}

/// Query of the catalogue export.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportFormat {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
}

/// The catalogue as a spreadsheet (XLSX or CSV), the form cities hand it over in.
#[utoipa::path(get, path = "/api/case-classes/export", tag = "cases", params(ExportFormat),
    responses((status = 200, description = "Spreadsheet"), (status = 400, body = ErrorBody)))]
pub async fn export_classes(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ExportFormat>,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ReadCases, None)?;
    let c = crate::case::cases(&state).catalogue(state.port::<dyn SettingStore>()).await?;
    let (bytes, ty, name) = match q.format.as_deref().unwrap_or("xlsx") {
        "xlsx" => (
            c.to_xlsx().map_err(|e| AppError::msg(ErrorCode::Internal, e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "case-classes.xlsx",
        ),
        "csv" => (c.to_csv(), "text/csv; charset=utf-8", "case-classes.csv"),
        other => {
            return Err(AppError::msg(ErrorCode::InvalidQuery, format!("format must be xlsx or csv, not {other:?}"))
                .at("format"))
        }
    };
    let mut r = bytes.into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ty));
    r.headers_mut().insert(
        axum::http::header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).expect("ASCII"),
    );
    Ok(r)
}

/// Query of the catalogue import.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `true`: check the catalogue and report, but store nothing.
    pub dry_run: Option<bool>,
}

/// Problems as JSON, each with its `message` (the text the domain writes for it).
fn with_messages<P: Serialize + std::fmt::Display>(problems: &[P]) -> Value {
    problems
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or_else(|_| json!({}));
            if let Value::Object(m) = &mut v {
                m.insert("message".into(), Value::String(p.to_string()));
            }
            v
        })
        .collect()
}

/// A rejected catalogue: 422 `invalid_field` (field `file` for a spreadsheet, `classes` for JSON)
/// and every problem found.
fn rejected(field: &str, message: String, problems: Value) -> Response {
    let body = json!({
        "error": {"code": ErrorCode::InvalidField.as_str(), "message": message, "field": field},
        "problems": problems,
    });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// Replace the whole catalogue (administrators): a spreadsheet (XLSX or CSV body, by Content-Type)
/// or JSON `{"classes": [...]}` as `GET` answers them (the settings page sends the edited
/// catalogue). All or nothing: with any problem nothing changes, and the answer lists every
/// problem (spreadsheets: with row and column; JSON: with the class `code` and the column `field`).
/// `If-Match` with the version (`ETag`) read: a catalogue changed since is refused with 409
/// `stale_version`. `?dry_run=true` only checks.
#[utoipa::path(put, path = "/api/case-classes", tag = "cases", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "How many classes, and the new version", body = Object), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 422, description = "`error` and `problems`", body = Object)))]
pub async fn import_classes(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ImportQuery>,
    RawBody(body): RawBody,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ManageCaseSettings, None)?;
    let expected = if_match(&headers)?;
    let mime = crate::web::extract::media_type(&headers);
    let parsed =
        match mime.as_str() {
            "text/csv" => Catalogue::from_csv(&body),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Catalogue::from_xlsx(&body),
            "application/json" => {
                let catalogue: Catalogue = serde_json::from_slice(&body).map_err(|e| {
                    AppError::msg(ErrorCode::MalformedBody, format!("the catalogue does not read: {e}")).at("classes")
                })?;
                if let Err(problems) = catalogue.validate() {
                    let message = format!("the catalogue was not saved: {} problem(s)", problems.len());
                    return Ok(rejected("classes", message, with_messages(&problems)));
                }
                Ok(catalogue)
            }
            _ => return Err(AppError::msg(
                ErrorCode::UnsupportedMediaType,
                "send text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet or application/json",
            )),
        };
    let catalogue = match parsed {
        Ok(c) => c,
        Err(e) => {
            let problems = match &e {
                zhili_case::catalogue::ImportError::Invalid(p) => with_messages(p),
                _ => json!([]),
            };
            return Ok(rejected("file", e.to_string(), problems));
        }
    };
    let n = catalogue.classes.len();
    let text = serde_json::to_string(&catalogue).map_err(|_| AppError::new(ErrorCode::Internal))?;
    // Check and write under one lock, so two edits in this process cannot both pass the check.
    let _guard = crate::case::cases(&state).settings_write.lock().await;
    let (_, current) = stored_setting(&state, CATALOGUE_KEY).await?;
    check_version(expected.as_deref(), &current)?;
    if q.dry_run.unwrap_or(false) {
        return Ok(Json(json!({"classes": n, "dry_run": true, "version": current})).into_response());
    }
    state.port::<dyn SettingStore>().put_setting(&caller.actor(), CATALOGUE_KEY, &text).await?;
    keep(&crate::case::cases(&state).catalogue, catalogue);
    let version = setting_version(Some(&text));
    Ok(with_etag(Json(json!({"classes": n, "version": version})).into_response(), &version))
}

/// The working-time calendar (工作日历). The `ETag` is its version, for `If-Match` on `PUT`.
#[utoipa::path(get, path = "/api/work-calendar", tag = "cases",
    responses((status = 200, description = "Working periods, weekend, holidays and make-up days", body = Object)))]
pub async fn get_calendar(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    authorize(&caller.principal, Action::ReadCases, None)?;
    let (text, version) = stored_setting(&state, CALENDAR_KEY).await?;
    let c = match text {
        Some(text) => {
            keep(&crate::case::cases(&state).calendar, parse_setting::<WorkCalendar>(&text, "work calendar")?)
        }
        None => crate::case::cases(&state).calendar(state.port::<dyn SettingStore>()).await?,
    };
    let body = serde_json::to_value(&*c).map_err(|_| AppError::new(ErrorCode::Internal))?;
    Ok(with_etag(Json(body).into_response(), &version))
}

/// Replace the working-time calendar (administrators). Checked whole before it is stored;
/// `If-Match` with the version read refuses a calendar changed since (409 `stale_version`).
#[utoipa::path(put, path = "/api/work-calendar", tag = "cases", request_body(content = Object),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_calendar(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(c): ApiJson<WorkCalendar>,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ManageCaseSettings, None)?;
    let expected = if_match(&headers)?;
    c.validate().map_err(|e| field(calendar_field(&e), e.to_string()))?;
    let text = serde_json::to_string(&c).map_err(|_| AppError::new(ErrorCode::Internal))?;
    let _guard = crate::case::cases(&state).settings_write.lock().await;
    let (_, current) = stored_setting(&state, CALENDAR_KEY).await?;
    check_version(expected.as_deref(), &current)?;
    state.port::<dyn SettingStore>().put_setting(&caller.actor(), CALENDAR_KEY, &text).await?;
    // The figures' daily rollup keeps local days: a new UTC offset rebuilds it (until then the
    // figures are scanned, the same but slower).
    if state.port::<dyn zhili_case::store::CaseMetricsStore>().case_rollup_offset().await? != c.utc_offset_minutes {
        state
            .port::<dyn zhili_case::store::CaseMetricsStore>()
            .rebuild_case_rollup(&caller.actor(), c.utc_offset_minutes)
            .await?;
    }
    let v = serde_json::to_value(&c).map_err(|_| AppError::new(ErrorCode::Internal))?;
    keep(&crate::case::cases(&state).calendar, c);
    Ok(with_etag(Json(v).into_response(), &setting_version(Some(&text))))
}

/// The field of the calendar an error is about, for the page to show it there.
fn calendar_field(e: &zhili_case::calendar::CalendarError) -> &'static str {
    use zhili_case::calendar::CalendarError as E;
    match e {
        E::Offset { .. } => "utc_offset_minutes",
        E::NoPeriods | E::NotWholeMinutes { .. } | E::EmptyPeriod { .. } | E::Overlap { .. } => "periods",
        E::NoWorkingWeekday => "weekend",
        E::HolidayAndWorkday { .. } | E::Line { .. } => "holidays",
    }
}

/// Holidays and make-up days to convert between their sets and the calendar's text form.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayText {
    /// Public holidays (放假), `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: std::collections::BTreeSet<NaiveDate>,
    /// Make-up working days (调休上班), `YYYY-MM-DD`.
    #[serde(default)]
    pub workdays: std::collections::BTreeSet<NaiveDate>,
    /// Holiday text (`2026-10-01..2026-10-07 休`, `2026-10-10 班`, one a line); when given it
    /// replaces both sets.
    pub text: Option<String>,
}

/// Convert holidays and make-up days to the calendar's holiday text, or read such text back
/// (its dates replace the sets given). Stores nothing: the page puts the calendar afterwards.
/// A bad line is 422 with field `text` naming the line.
#[utoipa::path(post, path = "/api/work-calendar/holiday-text", tag = "cases", request_body = HolidayText,
    responses((status = 200, description = "`holidays`, `workdays` and `text`", body = Object), (status = 422, body = ErrorBody)))]
pub async fn holiday_text(caller: Caller, ApiJson(q): ApiJson<HolidayText>) -> AppResult<Json<Value>> {
    authorize(&caller.principal, Action::ReadCases, None)?;
    let mut c = WorkCalendar { holidays: q.holidays, workdays: q.workdays, ..WorkCalendar::china() };
    if let Some(text) = &q.text {
        c.replace_holiday_lines(text).map_err(|e| field("text", e.to_string()))?;
    }
    Ok(Json(json!({"holidays": c.holidays, "workdays": c.workdays, "text": c.holiday_lines()})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worklist_counts_stop_at_the_cap() {
        assert_eq!(capped(0), (0, true));
        assert_eq!(capped(COUNT_CAP), (COUNT_CAP, true));
        assert_eq!(capped(COUNT_CAP + 1), (COUNT_CAP, false));
    }

    #[test]
    fn bulk_requests_are_bounded() {
        let body = |n: i64, command: Command| BulkBody {
            cases: (1..=n).map(|id| BulkItem { id, version: 1 }).collect(),
            command,
        };
        let file = || Command::File { class_code: None, note: String::new() };
        assert!(check_bulk(&body(MAX_BULK as i64, file())).is_ok());
        for b in [body(0, file()), body(MAX_BULK as i64 + 1, file())] {
            assert_eq!(check_bulk(&b).unwrap_err().field.as_deref(), Some("cases"));
        }
        let mut twice = body(2, file());
        twice.cases[1].id = 1;
        assert!(check_bulk(&twice).unwrap_err().message.unwrap().contains("case 1 is given twice"));
        let close = body(1, Command::Close { note: String::new() });
        assert_eq!(check_bulk(&close).unwrap_err().field.as_deref(), Some("command"));
    }

    #[test]
    fn images_are_checked_by_their_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(check_image("image/png", png, 100).unwrap(), "image/png");
        assert_eq!(check_image("image/jpeg", png, 100).unwrap_err().field.as_deref(), Some("file"));
        assert_eq!(check_image("text/plain", png, 100).unwrap_err().code, ErrorCode::UnsupportedMediaType);
        assert_eq!(check_image("image/png", png, 10).unwrap_err().code, ErrorCode::PayloadTooLarge);
        assert!(check_image("image/webp", b"RIFF\0\0\0\0WEBPVP8 ", 100).is_ok());
        assert!(check_image("image/webp", b"RIFF\0\0\0\0WAVEfmt ", 100).is_err());
    }

    #[test]
    fn distances() {
        let d = distance_m((117.85, 36.45), (117.85, 36.4505));
        assert!((d - 55.6).abs() < 0.5, "{d}");
    }
}

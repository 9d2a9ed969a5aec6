//! The grid API (网格接口): list and read grids inside the caller's jurisdiction (a grid
//! worker: only their own grids and those below them), import grids with a full validation
//! report, and assign grid workers.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use zhili_core::codes::DivisionCode;
use zhili_core::policy::{authorize, Action, Role};
use zhili_core::store::Page;
use zhili_core::ErrorCode;
use zhili_grid::validate::{load_context, validate_geojson, Problem};
use zhili_grid::GridStore;
use zhili_grid::{Grid, GridCode, GridDuty};

use crate::core::api::PageQuery;
use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody, ErrorDetail};
use crate::web::extract::{ApiJson, ApiQuery, ImportBody};
use crate::AppState;

/// A grid as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GridView {
    /// Code (14 digits under CJ/T 213).
    pub code: String,
    /// Name.
    pub name: String,
    /// 1-based level.
    pub level: u8,
    /// Level name, e.g. 小网格.
    pub level_name: String,
    /// Enclosing grid.
    pub parent: Option<String>,
    /// Village/community the grid belongs to.
    pub village: String,
    /// Boundary (GeoJSON), when one grid is asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
    /// Workers and their duties, when one grid is asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<Vec<GridWorkerView>>,
}

/// A worker's duty in a grid.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GridWorkerView {
    /// User id.
    pub user_id: i64,
    /// `leader`, `full_time` or `part_time`.
    pub duty: &'static str,
}

fn view(g: &Grid, state: &AppState, detail: bool) -> GridView {
    GridView {
        code: g.code.to_string(),
        name: g.name.clone(),
        level: g.level,
        level_name: state.grid_rules.levels.name(g.level).unwrap_or("").to_string(),
        parent: g.parent.as_ref().map(ToString::to_string),
        village: g.village().to_string(),
        boundary: detail.then(|| zhili_geo::geometry::area_to_geojson(&g.boundary)),
        workers: None,
    }
}

pub(crate) fn parse_grid_code(state: &AppState, field: &str, s: &str) -> AppResult<GridCode> {
    GridCode::parse(s, state.grid_rules.scheme).map_err(|e| AppError::field(field, e.to_string()))
}

/// The grids a grid worker may see: those assigned and every grid below them.
pub(crate) async fn worker_grids(state: &AppState, user_id: i64) -> AppResult<Vec<Grid>> {
    let assigned: HashSet<GridCode> =
        state.port::<dyn GridStore>().user_grids(user_id).await?.into_iter().map(|(g, _)| g).collect();
    let villages: HashSet<DivisionCode> = assigned.iter().map(GridCode::village).collect();
    let mut out = Vec::new();
    for v in villages {
        let all = state.port::<dyn GridStore>().grids(Some(&v), Page { offset: 0, limit: 1000 }).await?;
        let parent_of: std::collections::HashMap<&GridCode, Option<&GridCode>> =
            all.iter().map(|g| (&g.code, g.parent.as_ref())).collect();
        for g in &all {
            let mut cur = Some(&g.code);
            while let Some(c) = cur {
                if assigned.contains(c) {
                    out.push(g.clone());
                    break;
                }
                cur = parent_of.get(c).copied().flatten();
            }
        }
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// Whether the caller may see this grid.
pub(crate) async fn may_see(state: &AppState, caller: &Caller, g: &Grid) -> AppResult<bool> {
    authorize(&caller.principal, Action::ReadGrids, None)?;
    if caller.principal.role == Role::GridWorker {
        let id = caller.require_user()?.id;
        return Ok(worker_grids(state, id).await?.iter().any(|x| x.code == g.code));
    }
    Ok(caller.principal.sees(&g.village()))
}

/// Query of `GET /api/grids`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct GridQuery {
    /// Only grids inside this division.
    pub within: Option<String>,
    /// Items to skip.
    pub offset: Option<i64>,
    /// Items to return, 1–1000.
    pub limit: Option<i64>,
}

/// Grids the caller may see, ordered by code.
#[utoipa::path(get, path = "/api/grids", tag = "grids", params(GridQuery),
    responses((status = 200, body = crate::core::views::Paged<GridView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_grids(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<GridQuery>,
) -> AppResult<Json<crate::core::views::Paged<GridView>>> {
    authorize(&caller.principal, Action::ReadGrids, None)?;
    let page = PageQuery { offset: q.offset, limit: q.limit }.page()?;
    let (items, total) = match visible(&state, &caller, q.within.as_deref()).await? {
        Visible::Listed(mine) => {
            let items = mine.iter().skip(page.offset as usize).take(page.limit as usize).cloned().collect();
            (items, mine.len() as i64)
        }
        Visible::Within(w) => (
            state.port::<dyn GridStore>().grids(Some(&w), page).await?,
            state.port::<dyn GridStore>().count_grids(Some(&w)).await?,
        ),
        Visible::Nothing => (vec![], 0),
    };
    Ok(Json(crate::core::views::Paged {
        items: items.iter().map(|g| view(g, &state, false)).collect(),
        total,
        total_exact: true,
        offset: page.offset,
        limit: page.limit,
    }))
}

/// The grids a caller may see, narrowed to `within`.
pub(crate) enum Visible {
    /// A grid worker's own grids (and those below them), in code order.
    Listed(Vec<Grid>),
    /// Everything inside a division.
    Within(DivisionCode),
    /// Nothing (`within` lies outside the jurisdiction).
    Nothing,
}

pub(crate) async fn visible(state: &AppState, caller: &Caller, within: Option<&str>) -> AppResult<Visible> {
    let within = match within {
        Some(w) => Some(
            DivisionCode::parse(w).map_err(|e| AppError::msg(ErrorCode::InvalidQuery, e.to_string()).at("within"))?,
        ),
        None => None,
    };
    if caller.principal.role == Role::GridWorker {
        let mut mine = worker_grids(state, caller.require_user()?.id).await?;
        mine.retain(|g| within.as_ref().is_none_or(|w| w.contains(&g.village())));
        return Ok(Visible::Listed(mine));
    }
    let j = caller.principal.jurisdiction.clone().ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
    Ok(match within.map(|w| j.intersect(&w)) {
        None => Visible::Within(j),
        Some(Some(w)) => Visible::Within(w),
        Some(None) => Visible::Nothing,
    })
}

/// Query of `GET /api/grids/export`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// Only grids inside this division.
    pub within: Option<String>,
}

/// Every grid the caller may see, as a GeoJSON FeatureCollection in the import format
/// (a download: `zhili-grids.geojson`).
#[utoipa::path(get, path = "/api/grids/export", tag = "grids", params(ExportQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn export_grids(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ReadGrids, None)?;
    let grids = match visible(&state, &caller, q.within.as_deref()).await? {
        Visible::Listed(mine) => mine,
        Visible::Within(w) => {
            let mut all = Vec::new();
            loop {
                let page = state
                    .port::<dyn GridStore>()
                    .grids(Some(&w), Page { offset: all.len() as i64, limit: 1000 })
                    .await?;
                if page.is_empty() {
                    break;
                }
                all.extend(page);
            }
            all
        }
        Visible::Nothing => vec![],
    };
    let body = zhili_grid::validate::to_geojson(&grids);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/geo+json"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"zhili-grids.geojson\""),
        ],
        body,
    )
        .into_response())
}

/// One grid with its boundary and workers.
#[utoipa::path(get, path = "/api/grids/{code}", tag = "grids", params(("code" = String, Path, description = "Grid code")),
    responses((status = 200, body = GridView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_grid(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Json<GridView>> {
    authorize(&caller.principal, Action::ReadGrids, None)?;
    let g = state.port::<dyn GridStore>().grid(&parse_grid_code(&state, "code", &code)?).await?;
    if !may_see(&state, &caller, &g).await? {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    let mut v = view(&g, &state, true);
    v.workers = Some(
        state
            .port::<dyn GridStore>()
            .grid_workers(&g.code)
            .await?
            .into_iter()
            .map(|(user_id, d)| GridWorkerView { user_id, duty: d.as_str() })
            .collect(),
    );
    Ok(Json(v))
}

/// Query of `POST /api/grids/import`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// Validate only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The GeoPackage layer (feature table) to read, when the file has several.
    pub layer: Option<String>,
}

/// The outcome of an import.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Grids written (0 on a dry run or with errors).
    pub imported: usize,
    /// Grids that passed validation.
    pub valid: usize,
    /// Problems that stop the import.
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<ProblemView>,
    /// Problems that do not (gaps, with their area).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<ProblemView>,
}

/// A problem as answered: `feature`, `code`, `kind` (stable), `params` and the English
/// `message`, with `text`, what a person reads, in the caller's language.
#[derive(Serialize)]
pub struct ProblemView {
    #[serde(flatten)]
    problem: Problem,
    text: String,
}

/// The problems with their text in the caller's language (`grid.problem.<kind>.<rule>` or
/// `grid.problem.<kind>`, its
/// `{params}` filled in; the English message for a kind without one).
pub fn localized(problems: Vec<Problem>, t: crate::web::i18n::Tr) -> Vec<ProblemView> {
    problems
        .into_iter()
        .map(|p| {
            // A kind with a `rule` param may have a text per rule (`code_invalid.length`).
            let rule = p.params.iter().find(|(k, _)| **k == "rule").map(|(_, v)| v.clone());
            let key = rule
                .map(|r| format!("grid.problem.{}.{r}", p.kind))
                .filter(|k| t.try_get(k).is_some())
                .unwrap_or_else(|| format!("grid.problem.{}", p.kind));
            let text = match t.try_get(&key) {
                Some(_) => {
                    let params: Vec<(&str, String)> = p.params.iter().map(|(k, v)| (*k, v.clone())).collect();
                    t.format(&key, &params)
                }
                None => p.message.clone(),
            };
            ProblemView { problem: p, text }
        })
        .collect()
}

#[derive(Serialize)]
struct ImportFailure {
    error: ErrorDetail,
    report: ImportReport,
}

/// Import grids from a GeoJSON FeatureCollection or a GeoPackage layer (properties `code`,
/// `name`, `level`, `parent`). Everything is validated first; with any error nothing is written and the
/// answer (422) lists every bad feature and why.
#[utoipa::path(post, path = "/api/grids/import", tag = "grids", params(ImportQuery), request_body(content = Object, description = "GeoJSON FeatureCollection (application/json), or a GeoPackage file (application/geopackage+sqlite3)"),
    responses((status = 200, body = ImportReport), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 422, description = "`error` plus the full `report`", body = Object)))]
pub async fn import_grids(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: ImportBody,
) -> AppResult<Response> {
    authorize(&caller.principal, Action::ManageGrids, None)?;
    let doc = match body {
        ImportBody::Json(doc) => doc,
        ImportBody::GeoPackage(bytes) => read_geopackage(&bytes, q.layer.clone()).await?,
    };
    let within = caller.principal.jurisdiction.clone();
    let ctx = load_context(state.store.as_ref(), state.port::<dyn GridStore>(), within.as_ref()).await?;
    let rules = state.grid_rules.clone();
    let report = tokio::task::spawn_blocking(move || validate_geojson(&doc, &rules, &ctx))
        .await
        .map_err(|_| AppError::new(ErrorCode::Internal))?;
    let t = crate::web::i18n::Tr(caller.locale);
    let mut out = ImportReport {
        imported: 0,
        valid: report.grids.len(),
        errors: localized(report.errors, t),
        warnings: localized(report.warnings, t),
    };
    if !out.errors.is_empty() {
        let body = ImportFailure {
            error: AppError::field("features", format!("{} problem(s) found; nothing was imported", out.errors.len()))
                .key("grid.error.import_problems")
                .arg("n", out.errors.len())
                .detail_in(caller.locale),
            report: out,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    if !q.dry_run {
        out.imported = state.port::<dyn GridStore>().import_grids(&caller.actor(), &report.grids).await? as usize;
    }
    Ok(Json(out).into_response())
}

/// A GeoPackage upload as the GeoJSON the validator reads. SQLite reads files, so the bytes go to
/// a private temporary file, removed when done.
async fn read_geopackage(bytes: &[u8], layer: Option<String>) -> AppResult<serde_json::Value> {
    let file = tempfile::Builder::new()
        .prefix("zhili-import-")
        .suffix(".gpkg")
        .tempfile()
        .and_then(|mut f| std::io::Write::write_all(&mut f, bytes).map(|_| f))
        .map_err(|e| AppError::msg(ErrorCode::Internal, format!("cannot stage the upload: {e}")))?;
    let opts = zhili_gpkg::Options { layer, ..Default::default() };
    zhili_gpkg::read_features(file.path(), &opts).await.map_err(|e| AppError::field("file", e.to_string()))
}

/// Body of `PUT /api/grids/{code}/workers/{user_id}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AssignBody {
    /// `leader`, `full_time` or `part_time`.
    pub duty: String,
}

/// Give a user a duty in a grid (system administrators).
#[utoipa::path(put, path = "/api/grids/{code}/workers/{user_id}", tag = "grids", request_body = AssignBody,
    params(("code" = String, Path, description = "Grid code"), ("user_id" = i64, Path, description = "User id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign_worker(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, user_id)): Path<(String, i64)>,
    ApiJson(b): ApiJson<AssignBody>,
) -> AppResult<StatusCode> {
    authorize(&caller.principal, Action::ManageGrids, None)?;
    let code = parse_grid_code(&state, "code", &code)?;
    authorize(&caller.principal, Action::ManageGrids, Some(&code.village()))?;
    let duty = GridDuty::from_name(&b.duty)
        .ok_or_else(|| AppError::field("duty", "duty must be leader, full_time or part_time"))?;
    let user = state.store.user(user_id).await?;
    authorize(&caller.principal, Action::ManageUsers, Some(&user.jurisdiction))?;
    state.port::<dyn GridStore>().assign_grid(&caller.actor(), user_id, &code, duty).await.map_err(|e| match e {
        zhili_core::store::StoreError::MissingReference { field: "grid" } => AppError::new(ErrorCode::NotFound),
        e => e.into(),
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a user off a grid (system administrators).
#[utoipa::path(delete, path = "/api/grids/{code}/workers/{user_id}", tag = "grids",
    params(("code" = String, Path, description = "Grid code"), ("user_id" = i64, Path, description = "User id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unassign_worker(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, user_id)): Path<(String, i64)>,
) -> AppResult<StatusCode> {
    authorize(&caller.principal, Action::ManageGrids, None)?;
    let code = parse_grid_code(&state, "code", &code)?;
    authorize(&caller.principal, Action::ManageGrids, Some(&code.village()))?;
    state.port::<dyn GridStore>().unassign_grid(&caller.actor(), user_id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

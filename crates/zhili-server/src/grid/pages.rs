//! The grids page (网格).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use zhili_core::policy::{authorize, Action};
use zhili_core::store::Page;

use crate::web::caller::Caller;
use crate::web::error::AppResult;
use crate::web::extract::ApiQuery;
use crate::web::page::*;
use crate::AppState;
struct GridRow {
    code: String,
    name: String,
    level: String,
    /// Parent (name, code), if any.
    parent: Option<(String, String)>,
    /// Village (name, code).
    village: (String, String),
}

/// A grid or division by name (its code when the index has no name for it), and its code.
fn named(state: &AppState, key: String) -> (String, String) {
    let (_, name) = state.spatial.label(&key);
    (if name.is_empty() { key.clone() } else { name }, key)
}

#[derive(Template)]
#[template(path = "grid/templates/grids.html")]
struct GridsPage {
    l: Layout,
    rows: Vec<GridRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
    may_import: bool,
}

pub(crate) async fn grids_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OffsetQuery>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadGrids, "/grids") {
        return Ok(r);
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let (grids, total) = match crate::grid::api::visible(&state, &caller, None).await? {
        crate::grid::api::Visible::Listed(mine) => {
            let n = mine.len() as i64;
            (mine.into_iter().skip(offset as usize).take(PAGE_SIZE as usize).collect(), n)
        }
        crate::grid::api::Visible::Within(w) => (
            state.port::<dyn zhili_grid::GridStore>().grids(Some(&w), Page { offset, limit: PAGE_SIZE }).await?,
            state.port::<dyn zhili_grid::GridStore>().count_grids(Some(&w)).await?,
        ),
        crate::grid::api::Visible::Nothing => (vec![], 0),
    };
    let (prev, next) = pager(offset, total);
    html(GridsPage {
        l: Layout::new(&caller, "grids.title", "/grids"),
        rows: grids
            .iter()
            .map(|g| GridRow {
                code: g.code.to_string(),
                name: g.name.clone(),
                level: state.grid_rules.levels.name(g.level).unwrap_or("").to_string(),
                parent: g.parent.as_ref().map(|p| named(&state, p.to_string())),
                village: named(&state, g.village().to_string()),
            })
            .collect(),
        total,
        prev,
        next,
        may_import: authorize(&caller.principal, Action::ManageGrids, None).is_ok(),
    })
}

/// A person on the grid page: name, duty, phone (masked).
struct WorkerRow {
    name: String,
    duty: String,
    phone: String,
}

#[derive(Template)]
#[template(path = "grid/templates/grid.html")]
struct GridPage {
    l: Layout,
    code: String,
    name: String,
    level: String,
    parent: Option<(String, String)>,
    village: (String, String),
    workers: Vec<WorkerRow>,
}

/// `/grids/{code}` (网格详情): a grid by name with its code, level, parent and village by name,
/// its workers with their duties, and links to it on the One Map and to its cases. A grid the
/// caller may not see is not found, as in the API.
pub(crate) async fn grid_page(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadGrids, &format!("/grids/{}", urlencode(&code))) {
        return Ok(r);
    }
    let not_found = || {
        let msg = crate::web::i18n::Tr(caller.locale).get("grid.not_found").to_string();
        Ok(error_page(&caller, axum::http::StatusCode::NOT_FOUND, msg))
    };
    let Ok(gc) = crate::grid::api::parse_grid_code(&state, "code", &code) else { return not_found() };
    let g = match state.port::<dyn zhili_grid::GridStore>().grid(&gc).await {
        Ok(g) => g,
        Err(zhili_core::store::StoreError::NotFound) => return not_found(),
        Err(e) => return Err(e.into()),
    };
    if !crate::grid::api::may_see(&state, &caller, &g).await? {
        return not_found();
    }
    let tr = crate::web::i18n::Tr(caller.locale);
    let mut workers = Vec::new();
    for (user_id, duty) in state.port::<dyn zhili_grid::GridStore>().grid_workers(&g.code).await? {
        let u = state.store.user(user_id).await?;
        workers.push(WorkerRow {
            name: u.display_name,
            duty: tr.get(&format!("grid.duty.{}", duty.as_str())).to_string(),
            phone: u.phone.as_deref().map(zhili_core::mask::mask_phone).unwrap_or_default(),
        });
    }
    html(GridPage {
        l: Layout::new(&caller, "grid.title", "/grids"),
        code: g.code.to_string(),
        name: g.name.clone(),
        level: state.grid_rules.levels.name(g.level).unwrap_or("").to_string(),
        parent: g.parent.as_ref().map(|p| named(&state, p.to_string())),
        village: named(&state, g.village().to_string()),
        workers,
    })
}

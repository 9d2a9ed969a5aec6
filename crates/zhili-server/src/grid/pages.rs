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
    parent: String,
    village: String,
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
                parent: g.parent.as_ref().map(ToString::to_string).unwrap_or_default(),
                village: g.village().to_string(),
            })
            .collect(),
        total,
        prev,
        next,
        may_import: authorize(&caller.principal, Action::ManageGrids, None).is_ok(),
    })
}

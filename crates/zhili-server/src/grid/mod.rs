//! Grids (网格): the grid API, the in-memory spatial index of divisions and grids
//! (`/api/locate`), and the grids page.

pub mod api;
pub mod pages;
pub mod spatial;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::AppState;

/// The grids' routes: the grid API (import with its own body limit), `/api/locate`, the page
/// and its script.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/grids", get(api::list_grids))
        .route("/api/locate", get(spatial::locate))
        .route(
            "/api/grids/import",
            post(api::import_grids).layer(DefaultBodyLimit::max(state.config.import_body_limit_bytes)),
        )
        .route("/api/grids/export", get(api::export_grids))
        .route("/api/grids/{code}", get(api::get_grid))
        .route("/api/grids/{code}/workers/{user_id}", put(api::assign_worker).delete(api::unassign_worker))
        .route("/grids", get(pages::grids_page))
        .merge(crate::web::page::assets(&[(
            "grids.js",
            "text/javascript; charset=utf-8",
            include_str!("assets/grids.js"),
        )]))
}

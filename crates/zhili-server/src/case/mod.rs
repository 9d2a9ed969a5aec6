//! The case loop (案件闭环): intake, transitions, worklists and photos (`api`), the cases
//! layer of the One Map (`map`), the evaluation figures (`metrics`), Open311 and the
//! citizens' pages, the case pages, and dispatch notices and overdue escalation (`notify`).

pub mod api;
pub mod map;
pub mod metrics;
pub mod notify;
pub mod open311;
pub mod pages;
pub mod public;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

/// The case loop's routes: the case API (photos and the catalogue with their own body
/// limits), figures, the map layer's data, Open311, and the pages with their scripts.
pub fn routes(state: &AppState) -> Router<AppState> {
    const JS: &str = "text/javascript; charset=utf-8";
    Router::new()
        .route("/api/cases", get(api::list).post(api::report))
        .route("/api/cases/{id}", get(api::get))
        .route("/api/cases/bulk-transitions", post(api::bulk_transition))
        .route("/api/cases/{id}/transitions", post(api::transition))
        .route("/api/attachments", post(api::upload).layer(DefaultBodyLimit::max(state.config.photo_max_bytes)))
        .route("/api/attachments/{id}", get(api::download))
        .route(
            "/api/case-classes",
            get(api::classes).put(api::import_classes).layer(DefaultBodyLimit::max(8 * 1024 * 1024)),
        )
        .route("/api/case-classes/export", get(api::export_classes))
        .route("/api/work-calendar", get(api::get_calendar).put(api::put_calendar))
        .route("/api/work-calendar/holiday-text", post(api::holiday_text))
        .route("/api/case-metrics", get(metrics::case_metrics))
        .route("/api/case-points", get(map::points))
        .route("/api/case-density", get(map::density))
        .route("/open311/discovery.{format}", get(open311::discovery))
        .route("/open311/v2/discovery.{format}", get(open311::discovery))
        .route("/open311/v2/services.{format}", get(open311::services))
        .route("/open311/v2/services/{file}", get(open311::service_definition))
        .route("/open311/v2/requests.{format}", get(open311::list_requests).post(open311::create_request))
        .route("/open311/v2/requests/{file}", get(open311::get_request))
        .route("/cases", get(pages::cases_page))
        .route("/cases/new", get(pages::intake_page))
        .route("/cases/{id}", get(pages::case_page))
        .route("/report", get(pages::report_page))
        .route("/dashboard", get(pages::dashboard_page))
        .route("/settings/case-classes", get(pages::case_classes_page))
        .route("/settings/calendar", get(pages::calendar_page))
        .merge(public::routes())
        .merge(crate::web::page::assets(&[
            ("map-cases.js", JS, include_str!("assets/map-cases.js")),
            ("intake.js", JS, include_str!("assets/intake.js")),
            ("worklist.js", JS, include_str!("assets/worklist.js")),
            ("case.js", JS, include_str!("assets/case.js")),
            ("report.js", JS, include_str!("assets/report.js")),
            ("dashboard.js", JS, include_str!("assets/dashboard.js")),
            ("settings-classes.js", JS, include_str!("assets/settings-classes.js")),
            ("settings-calendar.js", JS, include_str!("assets/settings-calendar.js")),
            ("public-report.js", JS, include_str!("assets/public-report.js")),
        ]))
}

/// Start the case loop's background work: the overdue escalation loop.
pub fn start(state: &AppState) {
    notify::start(state);
}

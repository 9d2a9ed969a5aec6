//! Platform services every module uses (平台服务): in-app notifications, their audiences and
//! the webhook outbox and sender.

pub mod notify;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

/// The platform's routes: notifications (API, page, the bell's script) and the outbox.
pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/notifications", get(notify::list))
        .route("/api/notifications/count", get(notify::count))
        .route("/api/notifications/read", post(notify::mark_read))
        .route("/api/webhooks/deliveries", get(notify::deliveries))
        .route("/notifications", get(notify::page))
        .merge(crate::web::page::assets(&[(
            "notify.js",
            "text/javascript; charset=utf-8",
            include_str!("assets/notify.js"),
        )]))
}

/// Start the platform's background work: the webhook sender.
pub fn start(state: &AppState) {
    notify::start(state);
}

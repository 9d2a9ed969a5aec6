//! The platform core (平台核心): login and sessions, the caller's profile, divisions,
//! departments, users and the audit log — their API and pages.

pub mod api;
pub mod auth;
pub mod pages;
pub mod views;

use axum::routing::{get, post, put};
use axum::Router;

use crate::AppState;

/// The core's routes: login and logout, the caller's profile, divisions, departments, users,
/// the audit log, health and metrics, and their pages.
pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(api::me))
        .route("/api/me/locale", put(api::set_my_locale))
        .route("/api/me/password", put(api::change_my_password))
        .route("/api/divisions", get(api::list_divisions))
        .route("/api/divisions/{code}", get(api::get_division).put(api::put_division))
        .route("/api/departments", get(api::list_departments).post(api::create_department))
        .route("/api/departments/{id}", get(api::get_department))
        .route("/api/users", get(api::list_users).post(api::create_user))
        .route("/api/users/{id}", get(api::get_user).patch(api::update_user))
        .route("/api/users/{id}/personal", get(api::get_user_personal))
        .route("/api/users/{id}/password", put(api::set_user_password))
        .route("/api/audit", get(api::list_audit))
        .route("/api/audit/verify", get(api::verify_audit))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/", get(pages::home))
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/logout", post(pages::logout_submit))
        .route("/locale", post(pages::locale_submit))
        .route("/divisions", get(pages::divisions_page))
        .route("/departments", get(pages::departments_page))
        .route("/users", get(pages::users_page))
        .route("/audit", get(pages::audit_page))
}

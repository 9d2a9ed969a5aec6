//! The OpenAPI 3.1 description (接口文档) of every JSON endpoint, served at
//! `GET /api/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

// The composition root's one list; each domain's paths are to move into its own module
// (utoipa-axum's OpenApiRouter).
use crate::case::{api as cases, map as case_map, metrics as metrics_api};
use crate::core::{api, auth, views};
use crate::grid::{api as grids, spatial};
use crate::map::layers;
use crate::platform::notify;
use crate::web::{caller, error};

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(caller::SESSION_COOKIE))),
        );
    }
}

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Zhili 治理 API", description = "Digital social governance platform. Errors: `{\"error\":{\"code\",\"message\",\"field\"}}`."),
    paths(
        auth::login, auth::logout, api::me, api::set_my_locale, api::change_my_password,
        api::list_divisions, api::get_division, api::put_division,
        api::list_departments, api::get_department, api::create_department,
        api::list_users, api::get_user, api::get_user_personal, api::create_user, api::update_user, api::set_user_password,
        api::list_audit, api::verify_audit, api::healthz, api::metrics, serve,
        grids::list_grids, grids::get_grid, grids::export_grids, spatial::locate,
        layers::landing, layers::conformance, layers::collections, layers::collection, layers::items, layers::item,
        layers::tile, layers::tilejson, grids::import_grids, grids::assign_worker, grids::unassign_worker,
        cases::report, cases::list, cases::get, cases::transition, cases::bulk_transition, cases::upload, cases::download,
        cases::classes, cases::export_classes, cases::import_classes, cases::get_calendar, cases::put_calendar,
        cases::holiday_text,
        metrics_api::case_metrics, case_map::points, case_map::density,
        notify::list, notify::count, notify::mark_read, notify::deliveries,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail, views::Paged<views::UserView>, views::Paged<grids::GridView>,
        views::Paged<cases::CaseView>, views::Paged<notify::NotificationView>)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "ops", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

//! The OpenAPI 3.1 description (接口文档) of every JSON endpoint, served at
//! `GET /api/openapi.json`: the shared part here (info, security, the error shape), the paths
//! from each module's `Module::openapi`.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
    paths(serve),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "ops", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// The whole document: the shared part and every module's paths (each module lists its own).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for m in crate::MODULES {
        doc.merge((m.openapi)());
    }
    doc
}

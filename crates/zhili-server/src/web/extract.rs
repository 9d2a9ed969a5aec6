//! Request extractors (请求解析) that answer bad input in our error shape: which field,
//! which line and column, never axum's plain-text rejections.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use zhili_core::ErrorCode;

use crate::web::error::AppError;
use crate::AppState;

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(ErrorCode::PayloadTooLarge)
        } else {
            AppError::msg(ErrorCode::MalformedBody, rej.body_text())
        }
    })
}

/// Deserialize with the path of the failing field.
fn deserialize<'de, T: DeserializeOwned, D: serde::Deserializer<'de>>(de: D) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde reports a missing field at its parent; name the field itself.
        let field = match (path.as_str(), inner.split('`').nth(1)) {
            (".", Some(f)) if inner.starts_with("missing field") => f.to_string(),
            (p, Some(f)) if inner.starts_with("missing field") => format!("{p}.{f}"),
            (p, _) => p.to_string(),
        };
        (field, inner)
    })
}

/// A JSON body; malformed JSON or a wrong type is 400 `malformed_body` with the field.
pub struct ApiJson<T>(pub T);

/// The media type of a request's body, lower-case, without parameters (`text/csv`); empty
/// when there is none.
pub fn media_type(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default()
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let m = media_type(req.headers());
        let is_json = m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"));
        if !is_json {
            return Err(AppError::msg(ErrorCode::UnsupportedMediaType, "expected Content-Type: application/json"));
        }
        let bytes = body_bytes(req, state).await?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = deserialize(&mut de).map_err(|(field, msg)| {
            let field = if field == "." { None } else { Some(field) };
            AppError { field, ..AppError::msg(ErrorCode::MalformedBody, msg) }
        })?;
        de.end().map_err(|e| AppError::msg(ErrorCode::MalformedBody, e.to_string()))?;
        Ok(ApiJson(value))
    }
}

/// A raw body (a file upload); too large is our 413, never axum's plain text.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(RawBody(body_bytes(req, state).await?))
    }
}

/// An import file: GeoJSON (`application/json`, `application/geo+json`) or a GeoPackage
/// (`application/geopackage+sqlite3`, also `application/x-sqlite3`), by its Content-Type.
pub enum ImportBody {
    /// A parsed JSON document.
    Json(serde_json::Value),
    /// GeoPackage bytes, as sent.
    GeoPackage(Bytes),
}

impl<S: Send + Sync> FromRequest<S> for ImportBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mime = media_type(req.headers());
        if mime == "application/geopackage+sqlite3" || mime == "application/x-sqlite3" {
            return Ok(ImportBody::GeoPackage(body_bytes(req, state).await?));
        }
        match ApiJson::<serde_json::Value>::from_request(req, state).await {
            Ok(ApiJson(v)) => Ok(ImportBody::Json(v)),
            Err(e) if e.code == ErrorCode::UnsupportedMediaType => Err(AppError::msg(
                ErrorCode::UnsupportedMediaType,
                "expected Content-Type: application/json (GeoJSON) or application/geopackage+sqlite3",
            )),
            Err(e) => Err(e),
        }
    }
}

/// An `application/x-www-form-urlencoded` body from a browser form.
pub struct FormBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        serde_urlencoded::from_bytes(&bytes).map(FormBody).map_err(|e| {
            let msg = e.to_string();
            let field = msg.split('`').nth(1).map(str::to_string);
            AppError { field, ..AppError::msg(ErrorCode::MalformedBody, msg) }
        })
    }
}

/// Query parameters; a bad value is 400 `invalid_query` naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<T>(q)
            .map(ApiQuery)
            .map_err(|e| AppError::msg(ErrorCode::InvalidQuery, e.to_string()))
    }
}

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when the
/// deployment says it runs behind a trusted proxy.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        if app.config.trust_forwarded_headers {
            if let Some(ip) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                return Ok(ClientIp(ip.to_string()));
            }
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

//! The API error (接口错误): one JSON shape everywhere,
//! `{"error":{"code","message","field"}}`, with codes from [`zhili_core::ErrorCode`].

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use zhili_core::policy::Denied;
use zhili_core::store::StoreError;
use zhili_core::ErrorCode;

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq)]
pub struct AppError {
    /// Stable code.
    pub code: ErrorCode,
    /// Specific message; the code's generic (Chinese) message when empty.
    pub message: Option<String>,
    /// The field (JSON path or parameter) at fault, if any.
    pub field: Option<String>,
    /// Seconds until a retry may succeed (429).
    pub retry_after: Option<u64>,
}

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// An error with the generic message of its code.
    pub fn new(code: ErrorCode) -> AppError {
        AppError { code, message: None, field: None, retry_after: None }
    }
    /// An error with a specific message.
    pub fn msg(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError { message: Some(message.into()), ..AppError::new(code) }
    }
    /// An invalid field value.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError { field: Some(field.into()), ..AppError::msg(ErrorCode::InvalidField, message) }
    }
    /// Name the field at fault.
    pub fn at(mut self, field: impl Into<String>) -> AppError {
        self.field = Some(field.into());
        self
    }
    /// The HTTP status it is answered with.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    /// What is answered (the body's `error`).
    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail {
            code: self.code.as_str(),
            message: self.message.clone().unwrap_or_else(|| self.code.message_zh().to_string()),
            field: self.field.clone(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
/// The body of every error response.
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
/// What went wrong.
pub struct ErrorDetail {
    /// Stable error code, e.g. `invalid_field`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// The field at fault, if any.
    pub field: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.detail() };
        let mut r = (self.status(), axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert("retry-after", HeaderValue::from(s));
        }
        r
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound => AppError::new(ErrorCode::NotFound),
            StoreError::Conflict { field } => {
                AppError::msg(ErrorCode::Conflict, format!("{field} already exists")).at(field)
            }
            StoreError::MissingReference { field } => {
                AppError::field(field, format!("{field} refers to a record that does not exist"))
            }
            StoreError::Stale { current } => AppError::msg(
                ErrorCode::StaleVersion,
                format!("the record was changed by someone else; it is now at version {current}"),
            )
            .at("version"),
            StoreError::Unavailable(m) => {
                tracing::error!(error = %m, "database unavailable");
                AppError::new(ErrorCode::StorageUnavailable)
            }
            StoreError::Other(m) => {
                tracing::error!(error = %m, "database error");
                AppError::new(ErrorCode::Internal)
            }
        }
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> AppError {
        match d {
            Denied::Unauthenticated => AppError::new(ErrorCode::Unauthenticated),
            Denied::Role => AppError::new(ErrorCode::Forbidden),
            // Outside the jurisdiction answers as if the record did not exist.
            Denied::OutsideJurisdiction => AppError::new(ErrorCode::NotFound),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> AppError {
        tracing::error!(error = %e, "template error");
        AppError::new(ErrorCode::Internal)
    }
}

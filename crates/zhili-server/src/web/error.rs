//! The API error (接口错误): one JSON shape everywhere,
//! `{"error":{"code","message","field","key","params","text"}}`, with codes from
//! [`zhili_core::ErrorCode`].
//!
//! `code`, `message` (the specific English detail, for logs and API clients) and `field` are
//! stable. `text` is what a person reads, in the caller's language (the user's locale, else the
//! locale cookie, else `Accept-Language`): the message `key` with its `params` filled in when
//! the error has a specific message (`case.error.outside_district`), else the code's own
//! message. Pages show `text` next to `field` and never `message`. `web::localize` (a
//! middleware over the whole router) writes `text` for the caller and answers a browser that navigates
//! (a `GET` accepting `text/html`) with the HTML error page in the frame instead of JSON.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use zhili_core::model::Locale;
use zhili_core::policy::Denied;
use zhili_core::store::StoreError;
use zhili_core::ErrorCode;

use crate::web::i18n::Tr;

/// A value filled into a specific message's `{name}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// The same in every language: a number, a code, a name.
    Text(String),
    /// A message key, translated.
    Key(&'static str),
    /// A label given in both languages (zh-CN, English), e.g. a state's.
    Label(&'static str, &'static str),
    /// A text given in both languages (zh-CN, English), made at run time.
    Both(String, String),
    /// A field's name: its label `field.<name>` if one is registered, else the name (a code).
    Field(String),
}

impl Param {
    /// Its text in the translator's language.
    pub fn text(&self, t: Tr) -> String {
        match self {
            Param::Text(s) => s.clone(),
            Param::Key(k) => t.get(k).to_string(),
            Param::Label(zh, en) => match t.0 {
                Locale::ZhCn => zh.to_string(),
                Locale::En => en.to_string(),
            },
            Param::Both(zh, en) => match t.0 {
                Locale::ZhCn => zh.clone(),
                Locale::En => en.clone(),
            },
            Param::Field(name) => t.try_get(&format!("field.{name}")).map_or_else(|| name.clone(), str::to_string),
        }
    }
}

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
    /// The message key of the specific message in people's languages, if there is one.
    pub key: Option<&'static str>,
    /// The values of the key's `{name}`s.
    pub params: Vec<(&'static str, Param)>,
}

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// An error with the generic message of its code.
    pub fn new(code: ErrorCode) -> AppError {
        AppError { code, message: None, field: None, retry_after: None, key: None, params: Vec::new() }
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
    /// Give the specific message in people's languages: a registered message key whose
    /// `{name}`s are filled from [`AppError::param`]s.
    pub fn key(mut self, key: &'static str) -> AppError {
        self.key = Some(key);
        self
    }
    /// A value for the key's `{name}`.
    pub fn param(mut self, name: &'static str, value: Param) -> AppError {
        self.params.push((name, value));
        self
    }
    /// A value for the key's `{name}` that is the same in every language.
    pub fn arg(self, name: &'static str, value: impl std::fmt::Display) -> AppError {
        self.param(name, Param::Text(value.to_string()))
    }
    /// What a person reads, in the translator's language: the key's message with its
    /// parameters, else the code's message.
    pub fn text(&self, t: Tr) -> String {
        match self.key {
            Some(key) => {
                let params: Vec<(&str, String)> = self.params.iter().map(|(n, p)| (*n, p.text(t))).collect();
                t.format(key, &params)
            }
            None => match t.0 {
                Locale::ZhCn => self.code.message_zh().to_string(),
                Locale::En => self.code.message_en().to_string(),
            },
        }
    }
    /// The HTTP status it is answered with.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    /// What is answered (the body's `error`), its `text` in zh-CN.
    pub fn detail(&self) -> ErrorDetail {
        self.detail_in(Locale::ZhCn)
    }
    /// What is answered to a caller of this locale.
    pub fn detail_in(&self, locale: Locale) -> ErrorDetail {
        let t = Tr(locale);
        ErrorDetail {
            code: self.code.as_str(),
            message: self.message.clone().unwrap_or_else(|| self.code.message_zh().to_string()),
            field: self.field.clone(),
            key: self.key,
            params: self.params.iter().map(|(n, p)| (n.to_string(), p.text(t))).collect(),
            text: self.text(t),
        }
    }
    /// The JSON answer for a caller of this locale.
    pub(crate) fn response_in(&self, locale: Locale) -> Response {
        let body = ErrorBody { error: self.detail_in(locale) };
        let mut r = (self.status(), axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert("retry-after", HeaderValue::from(s));
        }
        r.extensions_mut().insert(Answered(self.clone()));
        r
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
    /// The message key of `text`, when the error has a specific message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<&'static str>,
    /// The values filled into the key's message, in the caller's language.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// What to show a person, in the caller's language (pages show this, never `message`).
    pub text: String,
}

/// The error a response answers, kept on it so `web::localize` can say it in the
/// caller's language.
#[derive(Clone)]
pub(crate) struct Answered(pub(crate) AppError);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.response_in(Locale::ZhCn)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound => AppError::new(ErrorCode::NotFound),
            StoreError::Conflict { field } => AppError::msg(ErrorCode::Conflict, format!("{field} already exists"))
                .at(field)
                .key("error.conflict_field")
                .param("field", Param::Field(field.into())),
            StoreError::MissingReference { field } => {
                AppError::field(field, format!("{field} refers to a record that does not exist"))
                    .key("error.missing_reference")
                    .param("field", Param::Field(field.into()))
            }
            StoreError::Stale { current } => AppError::msg(
                ErrorCode::StaleVersion,
                format!("the record was changed by someone else; it is now at version {current}"),
            )
            .at("version")
            .key("error.stale")
            .arg("current", current),
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

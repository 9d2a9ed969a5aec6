//! The citizens' public pages (群众随手拍): report a problem from a phone without an account, and
//! follow it by its number. Both pages are open to everyone (no login redirect); the report page's
//! script (`public-report.js`) posts to Open311 GeoReport v2 (`POST /open311/v2/requests.json`),
//! and the status page (群众查询) shows only what Open311 publishes for a request: never the
//! contact or the reporter. No anonymous photo uploads (abuse risk).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use zhili_core::model::Locale;

use crate::web::caller::Caller;
use crate::web::error::AppResult;
use crate::web::extract::ApiQuery;
use crate::web::page::{html, html_status, Layout};
use crate::AppState;

/// The public page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/public/report", get(report_page))
        .route("/public/requests", get(lookup))
        .route("/public/requests/{id}", get(status_page))
}

/// `?lang=en` (or `zh-CN`) chooses the language of a public page for this request, over the
/// cookie and `Accept-Language`.
#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn with_lang(mut caller: Caller, lang: Option<&str>) -> Caller {
    if let Some(l) = lang.and_then(Locale::from_tag) {
        caller.locale = l;
    }
    caller
}

#[derive(Template)]
#[template(path = "case/templates/public_report.html")]
struct ReportPage {
    l: Layout,
}

/// The report form (群众随手拍).
async fn report_page(caller: Caller, ApiQuery(q): ApiQuery<LangQuery>) -> AppResult<Response> {
    let caller = with_lang(caller, q.lang.as_deref());
    html(ReportPage { l: Layout::new(&caller, "public.title", "/public/report") })
}

#[derive(Deserialize)]
struct LookupQuery {
    id: Option<String>,
    lang: Option<String>,
}

/// The lookup box: `?id=123` → the status page of request 123 (anything else → the report page).
async fn lookup(ApiQuery(q): ApiQuery<LookupQuery>) -> Response {
    let id = q.id.as_deref().map(str::trim).and_then(|v| v.trim_start_matches('#').parse::<i64>().ok());
    let lang = q.lang.as_deref().and_then(Locale::from_tag).map(|l| format!("?lang={}", l.as_str()));
    let to = match id {
        Some(n) if n > 0 => format!("/public/requests/{n}{}", lang.unwrap_or_default()),
        _ => format!("/public/report{}", lang.unwrap_or_default()),
    };
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(LOCATION, HeaderValue::from_str(&to).unwrap_or(HeaderValue::from_static("/public/report")));
    r
}

/// One request as shown on the status page.
struct PublicRequest {
    id: i64,
    /// `open` / `closed`.
    status: String,
    status_label: &'static str,
    detail_label: &'static str,
    notes: String,
    service: String,
    requested: String,
    updated: String,
    address: String,
    agency: String,
}

#[derive(Template)]
#[template(path = "case/templates/public_status.html")]
struct StatusPage {
    l: Layout,
    /// The number asked for, as typed.
    asked: String,
    request: Option<PublicRequest>,
}

/// `2026-03-01T08:30:00+08:00` → `2026-03-01 08:30` (the local time Open311 already answers).
fn local_time(v: &Value) -> String {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The status page (群众查询): the public Open311 view of one request, or 404.
async fn status_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> AppResult<Response> {
    let caller = with_lang(caller, q.lang.as_deref());
    let path = format!("/public/requests/{}", id.chars().filter(char::is_ascii_digit).take(18).collect::<String>());
    let l = Layout::new(&caller, "public.status_title", &path);
    let t = l.t;
    let found = match id.trim().parse::<i64>().ok().filter(|n| *n > 0) {
        Some(n) => crate::case::open311::public_request(&state, n, t).await?,
        None => None,
    };
    let asked: String = id.chars().take(40).collect();
    let Some(doc) = found else {
        return html_status(StatusCode::NOT_FOUND, StatusPage { l, asked, request: None });
    };
    let status = text(&doc["status"]);
    let detail = text(&doc["extended_attributes"]["status_detail"]);
    let request = PublicRequest {
        id: doc["service_request_id"].as_i64().unwrap_or_default(),
        status_label: t.get(if status == "closed" { "public.closed" } else { "public.open" }),
        detail_label: t.get(&format!("public.detail.{detail}")),
        status,
        notes: text(&doc["status_notes"]),
        service: text(&doc["service_name"]),
        requested: local_time(&doc["requested_datetime"]),
        updated: local_time(&doc["updated_datetime"]),
        address: text(&doc["address"]),
        agency: text(&doc["agency_responsible"]),
    };
    html(StatusPage { l, asked, request: Some(request) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_local() {
        assert_eq!(local_time(&Value::from("2026-03-01T08:30:00+08:00")), "2026-03-01 08:30");
        assert_eq!(local_time(&Value::Null), "");
    }
}

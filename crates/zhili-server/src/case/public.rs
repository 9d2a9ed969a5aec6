//! The citizens' public pages (群众随手拍): report a problem from a phone without an account, with
//! photos and a position (GPS or a pin on the map), and follow it by its tracking code. Both pages
//! are open to everyone (no login redirect); the report page's script (`public-report.js`) posts
//! to Open311 GeoReport v2 (`POST /open311/v2/requests.json`, multipart with the photos as
//! `media`), and the status page (群众查询, `/public/requests/{code}`) shows only what Open311
//! publishes for a request, never the contact or the reporter, and the handling result (the
//! department's report-back note, personal data masked) with when it was closed. Case numbers
//! are sequential and open no public page: only the tracking code does.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use zhili_case::model::{Case, TrackingCode};
use zhili_case::store::CaseStore;
use zhili_case::workflow::CaseState;
use zhili_core::model::Locale;
use zhili_platform::settings::SettingStore;

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
    basemap_url: String,
    basemap_crs: &'static str,
    basemap_attribution: String,
    /// Most photos, and the size limit of each in MB (the staff uploads' limit).
    max_photos: usize,
    photo_mb: String,
}

/// The report form (群众随手拍).
async fn report_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> AppResult<Response> {
    let caller = with_lang(caller, q.lang.as_deref());
    let (basemap_url, basemap_crs, basemap_attribution) = crate::map::pages::basemap_fields(&state);
    let page = ReportPage {
        l: Layout::new(&caller, "public.title", "/public/report"),
        basemap_url,
        basemap_crs,
        basemap_attribution,
        max_photos: crate::case::open311::MAX_MEDIA,
        photo_mb: format!("{:.0}", state.config.photo_max_bytes as f64 / (1024.0 * 1024.0)),
    };
    crate::map::pages::with_map_csp(html(page)?, &state)
}

#[derive(Deserialize)]
struct LookupQuery {
    id: Option<String>,
    lang: Option<String>,
}

/// The lookup box: `?id=<tracking code>` → its status page, the code as a person may type it
/// (case, spaces, hyphens) read into its form; anything else typed → the status page's "no such
/// report" (404) for what was typed; nothing typed → the report page.
async fn lookup(ApiQuery(q): ApiQuery<LookupQuery>) -> Response {
    let typed = q.id.as_deref().map(str::trim).filter(|v| !v.is_empty());
    let lang = q.lang.as_deref().and_then(Locale::from_tag).map(|l| format!("?lang={}", l.as_str()));
    let to = match typed {
        Some(v) => {
            let code = TrackingCode::parse(v)
                .map(|c| c.to_string())
                .unwrap_or_else(|| v.chars().filter(char::is_ascii_alphanumeric).take(40).collect::<String>());
            format!("/public/requests/{code}{}", lang.unwrap_or_default())
        }
        None => format!("/public/report{}", lang.unwrap_or_default()),
    };
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(LOCATION, HeaderValue::from_str(&to).unwrap_or(HeaderValue::from_static("/public/report")));
    r
}

/// One request as shown on the status page.
struct PublicRequest {
    /// Its tracking code.
    code: String,
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
    /// The department's report-back (反馈) note, personal data masked; empty before one.
    result: String,
    /// When it was closed (办结), local time; empty while open.
    closed: String,
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

/// The status page (群众查询): the public Open311 view of the request with this tracking code,
/// with its handling result, or 404 (a case number is never found).
async fn status_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> AppResult<Response> {
    let caller = with_lang(caller, q.lang.as_deref());
    let path =
        format!("/public/requests/{}", code.chars().filter(char::is_ascii_alphanumeric).take(40).collect::<String>());
    let l = Layout::new(&caller, "public.status_title", &path);
    let t = l.t;
    let found = crate::case::open311::public_request(&state, &code, t).await?;
    let asked: String = code.chars().take(40).collect();
    let Some((doc, case)) = found else {
        return html_status(StatusCode::NOT_FOUND, StatusPage { l, asked, request: None });
    };
    let (result, closed) = handling_result(&state, &case).await?;
    let status = text(&doc["status"]);
    let detail = text(&doc["extended_attributes"]["status_detail"]);
    let request = PublicRequest {
        code: text(&doc["service_request_id"]),
        status_label: t.get(if status == "closed" { "public.closed" } else { "public.open" }),
        detail_label: t.get(&format!("public.detail.{detail}")),
        status,
        notes: text(&doc["status_notes"]),
        service: text(&doc["service_name"]),
        requested: local_time(&doc["requested_datetime"]),
        updated: local_time(&doc["updated_datetime"]),
        address: text(&doc["address"]),
        agency: text(&doc["agency_responsible"]),
        result,
        closed,
    };
    html(StatusPage { l, asked, request: Some(request) })
}

/// The handling result a citizen may read: the department's last report-back note (反馈) once
/// the case has been handled (not while it is handled again after a failed check), masked like
/// every public text; and when it was closed, in the deployment's local time.
async fn handling_result(state: &AppState, case: &Case) -> AppResult<(String, String)> {
    let handled = matches!(
        case.status.state,
        CaseState::Responded | CaseState::Verified | CaseState::Closed | CaseState::Evaluated
    );
    let result = if handled {
        let timeline = state.port::<dyn CaseStore>().timeline(case.id).await?;
        timeline
            .iter()
            .rev()
            .find(|e| e.command == "respond")
            .and_then(|e| e.data["note"].as_str())
            .map(|n| crate::case::open311::scrub(n.trim()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let closed = match case.closed_at.filter(|_| !case.status.state.is_open()) {
        Some(at) => {
            let offset = crate::case::cases(state).calendar(state.port::<dyn SettingStore>()).await?.offset();
            at.with_timezone(&offset).format("%Y-%m-%d %H:%M").to_string()
        }
        None => String::new(),
    };
    Ok((result, closed))
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

//! The web shell (网页外壳): server-rendered pages in zh-CN (default) or English, a login
//! page, the navigation frame, and embedded assets. Forms carry CSRF tokens.

use askama::Template;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use zhili_core::model::Locale;
use zhili_core::policy::{authorize, Action, Role};
use zhili_core::ErrorCode;

use crate::web::asset;
use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult};
use crate::web::i18n::Tr;
use crate::web::module::Needs;
use crate::AppState;

/// The shared routes: the frame's own files, the favicon and the vendored libraries.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/vendor/maplibre-gl/{file}", get(unknown_asset))
        .route("/assets/vendor/echarts/{file}", get(unknown_asset))
        .route("/assets/{file}", get(unknown_asset))
        .merge(assets(&[
            ("app.css", "text/css; charset=utf-8", include_str!("assets/app.css")),
            ("app.js", "text/javascript; charset=utf-8", include_str!("assets/app.js")),
            ("favicon.svg", "image/svg+xml", include_str!("assets/favicon.svg")),
        ]))
        .merge(asset::routes(VENDORED.iter().copied()))
        .merge(asset::routes([FAVICON_ICO]))
        .merge(asset::route_plain("/favicon.ico", FAVICON_ICO.0, FAVICON_ICO.1, FAVICON_ICO.2))
}

/// The favicon for clients that ask `/favicon.ico` (32×32 and 16×16; `favicon.svg` is the same
/// mark as a vector).
const FAVICON_ICO: (&str, &str, &[u8]) = ("favicon.ico", "image/x-icon", include_bytes!("assets/favicon.ico"));

/// A file a module embeds and serves under `/assets/{name}`: name, content type, text. No CDN,
/// nothing fetched at run time.
pub type Asset = (&'static str, &'static str, &'static str);

/// The routes of a module's own files: `/assets/{name}` each, and its content-hashed name
/// (`/assets/app.<hash>.js`, cached for a year) that pages link through `Layout::asset`,
/// compressed as the client accepts (see [`asset`]).
pub fn assets(files: &'static [Asset]) -> Router<AppState> {
    asset::routes(files.iter().map(|&(name, ty, body)| (name, ty, body.as_bytes())))
}

/// Any other name under `/assets/`.
async fn unknown_asset() -> Response {
    AppError::new(ErrorCode::NotFound).into_response()
}

/// One entry of the navigation.
pub struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) active: bool,
}

/// What every page's frame needs.
pub struct Layout {
    pub(crate) t: Tr,
    pub(crate) title: &'static str,
    pub(crate) user: Option<(String, &'static str)>,
    pub(crate) csrf: String,
    pub(crate) nav: Vec<NavItem>,
    pub(crate) path: String,
    /// The modules' page-wide scripts this caller gets (`Module::page_scripts`), as linked.
    pub(crate) scripts: Vec<String>,
}

impl Layout {
    pub(crate) fn new(caller: &Caller, title_key: &str, path: &str) -> Layout {
        let t = Tr(caller.locale);
        let p = &caller.principal;
        let allowed = |needs: Needs| match needs {
            Needs::LoggedIn => caller.user.is_some(),
            Needs::Action(a) => authorize(p, a, None).is_ok(),
        };
        let nav = crate::web::module::nav()
            .iter()
            .filter(|e| allowed(e.needs))
            .map(|e| NavItem { href: e.href, label: t.get(e.key), active: e.href == path })
            .collect();
        let scripts = crate::web::module::page_scripts()
            .iter()
            .filter(|s| allowed(s.needs))
            .map(|s| s.src.strip_prefix("/assets/").map_or_else(|| s.src.to_string(), asset::url))
            .collect();
        Layout {
            t,
            title: t.get(title_key),
            user: caller.user.as_ref().map(|u| (u.display_name.clone(), role_label(u.role, caller.locale))),
            csrf: caller.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
            nav,
            path: path.into(),
            scripts,
        }
    }
}

impl Layout {
    /// The URL a page links an embedded file by (`{{ l.asset("app.js") }}`): its
    /// content-hashed name, `/assets/app.<hash>.js`, cached for a year.
    pub(crate) fn asset(&self, name: &str) -> String {
        asset::url(name)
    }
}

pub(crate) fn role_label(r: Role, l: Locale) -> &'static str {
    match l {
        Locale::ZhCn => r.label_zh(),
        Locale::En => r.label_en(),
    }
}

pub(crate) fn html(t: impl Template) -> AppResult<Response> {
    html_status(StatusCode::OK, t)
}

pub(crate) fn html_status(status: StatusCode, t: impl Template) -> AppResult<Response> {
    let mut r = (status, Html(t.render()?)).into_response();
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    );
    Ok(r)
}

pub(crate) fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    // A decoded `next` may hold non-ASCII text (`?q=井盖`): sent percent-encoded.
    let mut location = String::with_capacity(to.len());
    for b in to.bytes() {
        if b.is_ascii_graphic() {
            location.push(char::from(b));
        } else {
            location.push_str(&format!("%{b:02X}"));
        }
    }
    r.headers_mut().insert(LOCATION, HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/")));
    r
}

/// Only same-site relative paths may be redirect targets: one leading `/` (not `//host`), no
/// backslash (`/\\host`, which browsers read as `//host`), no control characters (browsers drop
/// tabs and newlines, so `/\t/host` is `//host`).
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && n.len() < 512 =>
        {
            n
        }
        _ => "/",
    }
}

#[derive(Template)]
#[template(path = "web/templates/error.html")]
struct ErrorPage {
    l: Layout,
    status: u16,
    message: String,
}

/// `None` if the caller may open the page; else the answer: log in first, or why not.
pub(crate) fn denied(caller: &Caller, action: Action, path: &str) -> Option<Response> {
    match authorize(&caller.principal, action, None) {
        Ok(()) => None,
        Err(_) if caller.user.is_none() => {
            // Back to what was asked for, query included (the page's own path if unknown).
            let back = if caller.target.starts_with('/') { caller.target.as_str() } else { path };
            Some(redirect(&format!("/login?next={}", urlencode(back))))
        }
        Err(_) => Some(error_page(caller, StatusCode::FORBIDDEN, Tr(caller.locale).get("error.forbidden").into())),
    }
}

pub(crate) fn error_page(caller: &Caller, status: StatusCode, message: String) -> Response {
    let page = ErrorPage { l: Layout::new(caller, "app.short", ""), status: status.as_u16(), message };
    html_status(status, page).unwrap_or_else(IntoResponse::into_response)
}

pub(crate) fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|v| v[1..].to_string()).unwrap_or_default()
}

const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The vendored libraries with their licences: MapLibre GL JS (see
/// assets/vendor/maplibre-gl/README.md) and Apache ECharts (assets/vendor/echarts/README.md).
const VENDORED: &[(&str, &str, &[u8])] = &[
    ("vendor/maplibre-gl/maplibre-gl-csp.js", JS, include_bytes!("assets/vendor/maplibre-gl/maplibre-gl-csp.js")),
    (
        "vendor/maplibre-gl/maplibre-gl-csp-worker.js",
        JS,
        include_bytes!("assets/vendor/maplibre-gl/maplibre-gl-csp-worker.js"),
    ),
    (
        "vendor/maplibre-gl/maplibre-gl.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/vendor/maplibre-gl/maplibre-gl.css"),
    ),
    ("vendor/maplibre-gl/LICENSE.txt", TEXT, include_bytes!("assets/vendor/maplibre-gl/LICENSE.txt")),
    ("vendor/echarts/echarts.common.min.js", JS, include_bytes!("assets/vendor/echarts/echarts.common.min.js")),
    ("vendor/echarts/LICENSE", TEXT, include_bytes!("assets/vendor/echarts/LICENSE")),
    ("vendor/echarts/NOTICE", TEXT, include_bytes!("assets/vendor/echarts/NOTICE")),
];

/// Rows per page of a server-rendered list.
pub(crate) const PAGE_SIZE: i64 = 50;

/// The offsets of the previous and next pages, if any.
pub(crate) fn pager(offset: i64, total: i64) -> (Option<i64>, Option<i64>) {
    let prev = (offset > 0).then(|| (offset - PAGE_SIZE).max(0));
    let next = (offset + PAGE_SIZE < total).then_some(offset + PAGE_SIZE);
    (prev, next)
}

#[derive(Deserialize)]
pub(crate) struct OffsetQuery {
    pub(crate) offset: Option<i64>,
}

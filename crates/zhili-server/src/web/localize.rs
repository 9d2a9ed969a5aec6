//! Errors said in the caller's language (错误本地化): a middleware over the whole router. Every
//! error answer (one made from an [`crate::web::error::AppError`]) gets its `text` in the caller's language (the
//! user's locale, else the locale cookie, else `Accept-Language`); a browser navigating (a
//! `GET` accepting `text/html`) gets the HTML error page in the frame instead of JSON.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT, CONTENT_LENGTH};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use zhili_core::ErrorCode;

use crate::web::caller::Caller;
use crate::web::error::Answered;
use crate::web::i18n::Tr;
use crate::AppState;

/// Whether the request is a browser navigating to a page (a `GET` that accepts HTML), which
/// is answered an HTML page rather than JSON.
fn wants_html(method: &Method, accept: Option<&HeaderValue>) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && accept.and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// Middleware over the whole router: every error answer (one made from an [`crate::web::error::AppError`]) is
/// said in the caller's language (`text`); a browser navigating gets the HTML error page in the
/// frame (404 for an unknown page, 500 for a fault) and JSON clients keep the JSON.
pub async fn localize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let (method, uri, headers) = (parts.method.clone(), parts.uri.clone(), parts.headers.clone());
    let extensions = parts.extensions.clone();
    let res = next.run(Request::from_parts(parts, body)).await;
    let Some(Answered(err)) = res.extensions().get::<Answered>().cloned() else { return res };
    // Who asked, to say it their way (the session is cached, and errors are rare).
    let mut req = Request::builder().method(method.clone()).uri(uri).body(()).expect("request parts");
    *req.headers_mut() = headers;
    *req.extensions_mut() = extensions;
    let (mut parts, ()) = req.into_parts();
    parts.extensions.remove::<Caller>();
    let caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(c) => c,
        Err(_) => Caller::anonymous(crate::web::caller::request_locale(&parts.headers)),
    };
    if wants_html(&method, parts.headers.get(ACCEPT)) {
        let t = Tr(caller.locale);
        // An unknown address is "no such page" to a person, not "no such route".
        let text =
            if err.code == ErrorCode::RouteNotFound { t.get("error.not_found").to_string() } else { err.text(t) };
        return crate::web::page::error_page(&caller, err.status(), text);
    }
    let mut out = err.response_in(caller.locale);
    for (name, value) in res.headers() {
        if name != CONTENT_LENGTH && !out.headers().contains_key(name) {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

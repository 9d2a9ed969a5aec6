//! Open311 GeoReport v2 (公众诉求开放接口): the public face of the case loop, so that any
//! GeoReport client (phone apps, city portals, analysts' scripts) can list the services, report a
//! problem and follow it without an account.
//!
//! - Services are the active minor classes of the catalogue (`service_code` = class code); none
//!   has extra attributes (`metadata: false`, `attributes: []`).
//! - A report goes through the same intake as the web (`Source::Open311`, the anonymous actor
//!   with the client's address), so it is checked, located and stored all or nothing. It needs a
//!   position (`lat`/`long`): the position decides the grid, the division and who handles it, so
//!   `address_string` alone is refused. `description` is optional (the service name stands in),
//!   1–2,000 characters. `media_url` (an http(s) URL) is kept on a last line of the description
//!   and answered back as `media_url`; it is never fetched. The phone (else the e-mail) is kept as
//!   the reporter's contact for operators; names are not stored. `api_key` and `jurisdiction_id`
//!   are accepted and ignored (one jurisdiction; public reports need no key). With a
//!   `device_id`, a retry of the same report from the same device on the same day answers the
//!   stored request instead of storing another.
//! - Requests are named by their tracking codes (`service_request_id`, [`TrackingCode`]): case
//!   numbers are sequential, so they name no public request. A report may also come as
//!   `multipart/form-data` with up to 3 photos as `media` files (the citizens' page),
//!   checked like staff uploads before anything is stored.
//! - Reads show only what was reported publicly (`Source::PUBLIC`: the citizens' page and
//!   GeoReport clients); a grid worker's, a hotline's or a sensor's case does not exist for them.
//!   Reads are public and carry no personal data: never the contact or the reporter, status notes
//!   made from the state (not operators' free text), and phone numbers, identity numbers and
//!   e-mail addresses in descriptions and addresses masked. Photos uploaded inside Zhili need a
//!   login, so `media_url` is only the URL a GeoReport client gave.
//! - `status` is `open`/`closed` only; the finer status is in the extension object
//!   `extended_attributes` (`status_detail` from [`zhili_case::workflow::open311_status`] and
//!   our `state`), the same element in JSON and XML.
//! - Errors are GeoReport error lists (`[{"code","description"}]` / `<errors>`), one entry per
//!   problem, each description starting with the field at fault; 404 for what does not exist
//!   (an unknown service, request or format), 400 for bad input.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, SecondsFormat, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zhili_case::catalogue::{CaseClass, Catalogue};
use zhili_case::model::{Case, CaseFilter, Source};
use zhili_case::workflow::CaseState;
use zhili_core::model::Department;
use zhili_core::policy::Principal;
use zhili_core::store::{Page, StoreError};

use crate::case::api::{intake, place, NewReport};
use crate::web::error::AppError;
use crate::web::extract::ClientIp;
use crate::web::i18n::Tr;
use crate::AppState;
use zhili_case::model::TrackingCode;
use zhili_core::model::Locale;

/// The specification the endpoints follow (for service discovery).
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this implementation of the interface last changed (service discovery's `changeset`).
const CHANGESET: &str = "2026-03-01T00:00:00+08:00";
/// Most requests one listing answers (the specification's default volume).
const MAX_REQUESTS: usize = 1000;
/// Longest `start_date`..`end_date` window, and the default window before now.
const WINDOW_DAYS: i64 = 90;
/// Most ids in one `service_request_id` list.
const MAX_IDS: usize = 200;
/// Longest description (the web intake's limit).
const MAX_DESCRIPTION: usize = 2000;
/// The line that carries a client's `media_url` at the end of the stored description.
const MEDIA_PREFIX: &str = "media_url: ";

// ---------------------------------------------------------------------------------------------
// Formats and documents

/// The answer format, chosen by the path's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

impl Format {
    fn parse(suffix: &str) -> Result<Format, Failure> {
        match suffix {
            "json" => Ok(Format::Json),
            "xml" => Ok(Format::Xml),
            other => Err(Failure::one(
                Format::Json,
                StatusCode::NOT_FOUND,
                format!("format: unknown format {other:?}; use .json or .xml"),
            )),
        }
    }

    /// `name.json` → (`name`, JSON).
    fn split(file: &str) -> Result<(&str, Format), Failure> {
        match file.rsplit_once('.') {
            Some((name, suffix)) if !name.is_empty() => Ok((name, Format::parse(suffix)?)),
            _ => {
                Err(Failure::one(Format::Json, StatusCode::NOT_FOUND, format!("format: {file:?} needs .json or .xml")))
            }
        }
    }
}

/// A document of the interface, written as JSON or as XML from one tree (the XML is the
/// specification's; the JSON follows it as the specification's examples do).
#[derive(Debug, Clone, PartialEq)]
enum Doc {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    /// Named fields, in order.
    Obj(Vec<(&'static str, Doc)>),
    /// A list; in XML each item is an element of the given name.
    List(&'static str, Vec<Doc>),
}

impl Doc {
    fn text(s: impl Into<String>) -> Doc {
        Doc::Str(s.into())
    }

    fn opt(s: Option<String>) -> Doc {
        s.map(Doc::Str).unwrap_or(Doc::Null)
    }

    fn json(&self) -> Value {
        match self {
            Doc::Null => Value::Null,
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Int(n) => Value::from(*n),
            Doc::Num(x) => serde_json::Number::from_f64(*x).map(Value::Number).unwrap_or(Value::Null),
            Doc::Str(s) => Value::String(s.clone()),
            Doc::Obj(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.to_string(), v.json())).collect::<Map<_, _>>())
            }
            Doc::List(_, items) => Value::Array(items.iter().map(Doc::json).collect()),
        }
    }

    fn xml(&self, name: &str, out: &mut String) {
        let simple = |out: &mut String, text: &str| {
            out.push('<');
            out.push_str(name);
            out.push('>');
            escape_into(text, out);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        };
        match self {
            Doc::Null => {
                out.push('<');
                out.push_str(name);
                out.push_str("/>");
            }
            Doc::Bool(b) => simple(out, if *b { "true" } else { "false" }),
            Doc::Int(n) => simple(out, &n.to_string()),
            Doc::Num(x) => simple(out, &x.to_string()),
            Doc::Str(s) => simple(out, s),
            Doc::List(_, items) if items.is_empty() => Doc::Null.xml(name, out),
            Doc::Obj(_) | Doc::List(..) => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                match self {
                    Doc::Obj(fields) => fields.iter().for_each(|(k, v)| v.xml(k, out)),
                    Doc::List(item, items) => items.iter().for_each(|v| v.xml(item, out)),
                    _ => unreachable!("matched above"),
                }
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
        }
    }

    /// The HTTP answer: the tree as JSON, or as an XML document with this root element.
    fn answer(&self, format: Format, status: StatusCode, root: &str) -> Response {
        let (body, ty) = match format {
            Format::Json => (self.json().to_string(), "application/json; charset=utf-8"),
            Format::Xml => {
                let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
                self.xml(root, &mut out);
                out.push('\n');
                (out, "text/xml; charset=utf-8")
            }
        };
        let mut r = (status, body).into_response();
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ty));
        r
    }
}

/// Escape text for XML content; characters XML 1.0 cannot carry become U+FFFD.
fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A GeoReport error answer: one entry per problem, the HTTP status of the first.
#[derive(Debug)]
pub struct Failure {
    format: Format,
    errors: Vec<(StatusCode, String)>,
}

impl Failure {
    fn one(format: Format, status: StatusCode, description: impl Into<String>) -> Failure {
        Failure { format, errors: vec![(status, description.into())] }
    }

    /// An error of the rest of the server (store down, timeout…) in GeoReport form.
    fn app(format: Format, e: AppError) -> Failure {
        let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = e.message.unwrap_or_else(|| e.code.message_zh().to_string());
        let description = match e.field {
            Some(f) => format!("{f}: {message}"),
            None => message,
        };
        Failure::one(format, status, description)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = self.errors.first().map(|e| e.0).unwrap_or(StatusCode::BAD_REQUEST);
        let list = self
            .errors
            .into_iter()
            .map(|(code, description)| {
                Doc::Obj(vec![("code", Doc::Int(i64::from(code.as_u16()))), ("description", Doc::Str(description))])
            })
            .collect();
        Doc::List("error", list).answer(self.format, status, "errors")
    }
}

type Answer = Result<Response, Failure>;

/// Problems found in one request, gathered so that all of them are answered at once. A report's
/// problems are messages (`open311.error.*`, said in the language the client asks for with
/// `Accept-Language`, English without one); a listing's are English.
#[derive(Default)]
struct Problems(Vec<Problem>);

/// One problem: its status, the field at fault and what is wrong.
struct Problem {
    status: StatusCode,
    field: &'static str,
    what: Said,
}

enum Said {
    /// English only (listings: read by programs).
    Plain(String),
    /// A message key with its parameters.
    Key(&'static str, Vec<(&'static str, String)>),
}

impl Problems {
    fn bad(&mut self, description: String) {
        self.0.push(Problem { status: StatusCode::BAD_REQUEST, field: "", what: Said::Plain(description) });
    }
    /// A problem of a report's field, said by the message `open311.error.{key}`.
    fn field(&mut self, status: StatusCode, field: &'static str, key: &'static str, params: &[(&'static str, String)]) {
        self.0.push(Problem { status, field, what: Said::Key(key, params.to_vec()) });
    }
    fn into_result(self, format: Format) -> Result<(), Failure> {
        self.said(format, Tr(Locale::En))
    }
    /// The problems as a GeoReport error list, each description `field: text` in `t`'s language
    /// (the field's name stays the code a client matches on).
    fn said(self, format: Format, t: Tr) -> Result<(), Failure> {
        if self.0.is_empty() {
            return Ok(());
        }
        let errors = self
            .0
            .into_iter()
            .map(|p| {
                let text = match p.what {
                    Said::Plain(d) => return (p.status, d),
                    Said::Key(key, params) => t.format(&format!("open311.error.{key}"), &params),
                };
                (p.status, format!("{}: {text}", p.field))
            })
            .collect();
        Err(Failure { format, errors })
    }
}

/// The language of a report's error descriptions: as `Accept-Language` prefers, English
/// without one (GeoReport clients read the specification's English).
fn report_language(headers: &HeaderMap) -> Tr {
    match headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) {
        Some(h) if !h.trim().is_empty() => Tr(crate::web::i18n::from_accept_language(Some(h))),
        _ => Tr(Locale::En),
    }
}

// ---------------------------------------------------------------------------------------------
// Service discovery and services

fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// Service discovery (`/open311/discovery.{json,xml}` and under `/open311/v2/`): where the
/// GeoReport v2 endpoint is and which formats it answers.
pub async fn discovery(headers: HeaderMap, Path(format): Path<String>) -> Answer {
    let format = Format::parse(&format)?;
    let doc = Doc::Obj(vec![
        ("changeset", Doc::text(CHANGESET)),
        ("contact", Doc::text("Zhili 12345 hotline centre (数字社会治理指挥中心)")),
        ("key_service", Doc::text("No api_key is needed: public reports are accepted without one.")),
        (
            "endpoints",
            Doc::List(
                "endpoint",
                vec![Doc::Obj(vec![
                    ("specification", Doc::text(SPECIFICATION)),
                    ("url", Doc::text(format!("{}/open311/v2", base_url(&headers)))),
                    ("changeset", Doc::text(CHANGESET)),
                    ("type", Doc::text("production")),
                    ("formats", Doc::List("format", vec![Doc::text("text/xml"), Doc::text("application/json")])),
                ])],
            ),
        ),
    ]);
    Ok(doc.answer(format, StatusCode::OK, "discovery"))
}

fn service_doc(c: &CaseClass) -> Doc {
    let description = if c.filing_condition.trim().is_empty() { c.name.clone() } else { c.filing_condition.clone() };
    Doc::Obj(vec![
        ("service_code", Doc::text(c.code.as_str())),
        ("service_name", Doc::text(&c.name)),
        ("description", Doc::Str(description)),
        ("metadata", Doc::Bool(false)),
        ("type", Doc::text("realtime")),
        ("keywords", Doc::text(format!("{}, {}", c.major_name, c.kind.label_zh()))),
        ("group", Doc::text(&c.major_name)),
    ])
}

/// GET Service List: one service per active minor class of the catalogue.
pub async fn services(State(state): State<AppState>, Path(format): Path<String>) -> Answer {
    let format = Format::parse(&format)?;
    let catalogue = crate::case::cases(&state)
        .catalogue(state.port::<dyn zhili_platform::settings::SettingStore>())
        .await
        .map_err(|e| Failure::app(format, e))?;
    let list = catalogue.classes.iter().filter(|c| c.active).map(service_doc).collect();
    Ok(Doc::List("service", list).answer(format, StatusCode::OK, "services"))
}

/// The active class with this service code, or the problem (message key, the code as given).
fn active_class<'a>(catalogue: &'a Catalogue, code: &str) -> Result<&'a CaseClass, (&'static str, String)> {
    let wanted = code.trim().to_ascii_uppercase();
    match catalogue.get(&wanted) {
        Some(c) if c.active => Ok(c),
        Some(_) => Err(("service_inactive", wanted)),
        None => Err(("service_unknown", format!("{:?}", code.trim()))),
    }
}

/// GET Service Definition: no service has extra attributes, so the list is empty.
pub async fn service_definition(State(state): State<AppState>, Path(file): Path<String>) -> Answer {
    let (code, format) = Format::split(&file)?;
    let catalogue = crate::case::cases(&state)
        .catalogue(state.port::<dyn zhili_platform::settings::SettingStore>())
        .await
        .map_err(|e| Failure::app(format, e))?;
    let class = active_class(&catalogue, code).map_err(|(key, code)| {
        let text = Tr(Locale::En).format(&format!("open311.error.{key}"), &[("code", code)]);
        Failure::one(format, StatusCode::NOT_FOUND, format!("service_code: {text}"))
    })?;
    let doc = Doc::Obj(vec![
        ("service_code", Doc::text(class.code.as_str())),
        ("attributes", Doc::List("attribute", vec![])),
    ]);
    Ok(doc.answer(format, StatusCode::OK, "service_definition"))
}

// ---------------------------------------------------------------------------------------------
// POST Service Request

/// The body's fields: form-encoded (what GeoReport clients send) or a JSON object. Empty values
/// count as absent (the specification's rule for optional arguments); `attribute[…]` is ignored
/// (no service defines attributes); the first of a repeated field counts.
fn fields(content_type: &str, body: &[u8]) -> Result<HashMap<String, String>, String> {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let pairs: Vec<(String, String)> = match mime.as_str() {
        "" | "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(body)
            .map_err(|e| format!("body: not application/x-www-form-urlencoded: {e}"))?,
        "application/json" => {
            let v: Value = serde_json::from_slice(body).map_err(|e| format!("body: malformed JSON: {e}"))?;
            let Value::Object(map) = v else { return Err("body: send a JSON object of the request's fields".into()) };
            let mut pairs = Vec::new();
            for (k, v) in map {
                match v {
                    Value::Null => {}
                    Value::String(s) => pairs.push((k, s)),
                    Value::Number(n) => pairs.push((k, n.to_string())),
                    Value::Bool(b) => pairs.push((k, b.to_string())),
                    _ if k == "attribute" => {}
                    _ => return Err(format!("{k}: must be a string or a number")),
                }
            }
            pairs
        }
        other => {
            return Err(format!(
                "Content-Type: send application/x-www-form-urlencoded (or application/json), not {other}"
            ))
        }
    };
    let mut out = HashMap::new();
    for (k, v) in pairs {
        if k.starts_with("attribute[") || v.trim().is_empty() {
            continue;
        }
        out.entry(k).or_insert(v);
    }
    Ok(out)
}

/// Free text: trimmed, CR LF as LF, at most `max` characters, no control characters.
fn text(p: &mut Problems, name: &'static str, v: &str, max: usize) -> Option<String> {
    let t = v.trim().replace("\r\n", "\n");
    let n = t.chars().count();
    if n > max {
        p.field(StatusCode::BAD_REQUEST, name, "too_long", &[("max", max.to_string()), ("n", n.to_string())]);
        None
    } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        p.field(StatusCode::BAD_REQUEST, name, "control_characters", &[]);
        None
    } else {
        Some(t)
    }
}

/// A coordinate: a finite number within ±`limit`.
fn coordinate(p: &mut Problems, name: &'static str, v: &str, limit: f64) -> Option<f64> {
    match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (-limit..=limit).contains(&x) => Some(x),
        Ok(_) => {
            let params = [("limit", limit.to_string()), ("value", v.trim().to_string())];
            p.field(StatusCode::BAD_REQUEST, name, "coordinate_range", &params);
            None
        }
        Err(_) => {
            p.field(StatusCode::BAD_REQUEST, name, "coordinate_number", &[("value", format!("{:?}", v.trim()))]);
            None
        }
    }
}

/// Split the client's `media_url` line off a stored description of an Open311 report.
fn media_of(case: &Case) -> (&str, Option<&str>) {
    if case.source == Source::Open311 {
        if let Some((text, url)) = case.description.rsplit_once(&format!("\n\n{MEDIA_PREFIX}")) {
            if !url.contains(char::is_whitespace) {
                return (text, Some(url));
            }
        }
    }
    (case.description.as_str(), None)
}

/// Most photos a citizen's report carries (`media` files of a multipart report).
pub(crate) const MAX_MEDIA: usize = 3;

/// A report's body: its fields and the photos it carries (multipart only).
struct Body {
    fields: HashMap<String, String>,
    /// (content type as sent, bytes) of each `media` file, in order.
    media: Vec<(String, Bytes)>,
}

/// Read a `multipart/form-data` report (as a browser's form with files sends it): text parts
/// are fields (the first of a repeated one counts; empty ones are absent), file parts named
/// `media` are photos. An extension of GeoReport v2, which takes a photo only as `media_url`.
async fn multipart(req: Request, state: &AppState) -> Result<Body, (StatusCode, String)> {
    let too_large = |e: &dyn std::fmt::Display| {
        let m = e.to_string();
        if m.contains("length limit") || m.contains("too large") {
            (StatusCode::PAYLOAD_TOO_LARGE, "body: too large".to_string())
        } else {
            (StatusCode::BAD_REQUEST, format!("body: not multipart/form-data: {m}"))
        }
    };
    let mut form = axum::extract::Multipart::from_request(req, state)
        .await
        .map_err(|rej| (StatusCode::BAD_REQUEST, format!("body: {}", rej.body_text())))?;
    let mut out = Body { fields: HashMap::new(), media: Vec::new() };
    while let Some(part) = form.next_field().await.map_err(|e| too_large(&e))? {
        let name = part.name().unwrap_or("").to_string();
        let file = part.file_name().is_some();
        let ty = part.content_type().unwrap_or("").to_string();
        let bytes = part.bytes().await.map_err(|e| too_large(&e))?;
        if file && (name == "media" || name == "media[]") {
            // A file input left empty still sends a part, without bytes.
            if !bytes.is_empty() {
                out.media.push((ty, bytes));
            }
        } else if file {
            return Err((StatusCode::BAD_REQUEST, format!("{name}: only media may be a file")));
        } else {
            let v = String::from_utf8(bytes.to_vec())
                .map_err(|_| (StatusCode::BAD_REQUEST, format!("{name}: not UTF-8")))?;
            if !name.starts_with("attribute[") && !v.trim().is_empty() {
                out.fields.entry(name).or_insert(v);
            }
        }
    }
    Ok(out)
}

/// Check a report's photos with the staff uploads' rules (`api::check_image`: the type sent is
/// JPEG, PNG or WebP, the bytes are that image, within the size limit), each problem naming the
/// photo (`media[0]`…).
fn check_media(p: &mut Problems, media: &[(String, Bytes)], max_bytes: usize) -> Vec<&'static str> {
    const FIELDS: [&str; MAX_MEDIA] = ["media[0]", "media[1]", "media[2]"];
    if media.len() > MAX_MEDIA {
        let params = [("max", MAX_MEDIA.to_string()), ("n", media.len().to_string())];
        p.field(StatusCode::BAD_REQUEST, "media", "media_count", &params);
        return vec![];
    }
    let mut types = Vec::new();
    for (i, (ty, bytes)) in media.iter().enumerate() {
        match crate::case::api::check_image(ty, bytes, max_bytes) {
            Ok(t) => types.push(t),
            Err(e) => {
                let mime = ty.split(';').next().unwrap_or("").trim().to_string();
                let (status, key, params) = match e.code {
                    zhili_core::error::ErrorCode::UnsupportedMediaType => {
                        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "media_type", vec![("type", format!("{mime:?}"))])
                    }
                    zhili_core::error::ErrorCode::PayloadTooLarge => (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "media_size",
                        vec![
                            ("max", max_bytes.to_string()),
                            ("mb", format!("{:.0}", max_bytes as f64 / (1024.0 * 1024.0))),
                            ("n", bytes.len().to_string()),
                        ],
                    ),
                    _ => (StatusCode::UNPROCESSABLE_ENTITY, "media_bytes", vec![("type", mime)]),
                };
                p.field(status, FIELDS[i], key, &params);
            }
        }
    }
    types
}

/// POST Service Request: check every field (all problems answered at once, in the language
/// `Accept-Language` asks for), then store the photos and the report through the common intake
/// (nothing is stored unless everything is right). Answers 201 with `[{service_request_id,
/// service_notice, account_id}]`; the id is the new request's tracking code.
pub async fn create_request(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(format): Path<String>,
    req: Request,
) -> Answer {
    let format = Format::parse(&format)?;
    let t = report_language(req.headers());
    let ct = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = if ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") {
        multipart(req, &state).await.map_err(|(status, m)| Failure::one(format, status, m))?
    } else {
        let body = Bytes::from_request(req, &state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Failure::one(format, StatusCode::PAYLOAD_TOO_LARGE, "body: too large")
            } else {
                Failure::one(format, StatusCode::BAD_REQUEST, format!("body: {}", rej.body_text()))
            }
        })?;
        let fields = fields(&ct, &body).map_err(|m| Failure::one(format, StatusCode::BAD_REQUEST, m))?;
        Body { fields, media: vec![] }
    };
    let f = &body.fields;
    let get = |k: &str| f.get(k).map(String::as_str);
    let catalogue = crate::case::cases(&state)
        .catalogue(state.port::<dyn zhili_platform::settings::SettingStore>())
        .await
        .map_err(|e| Failure::app(format, e))?;

    let mut p = Problems::default();
    let bad = StatusCode::BAD_REQUEST;
    let class = match get("service_code") {
        None => {
            p.field(bad, "service_code", "service_required", &[]);
            None
        }
        Some(code) => match active_class(&catalogue, code) {
            Ok(c) => Some(c),
            Err((key, code)) => {
                p.field(StatusCode::NOT_FOUND, "service_code", key, &[("code", code)]);
                None
            }
        },
    };
    let lat = get("lat").and_then(|v| coordinate(&mut p, "lat", v, 90.0));
    let lon = get("long").and_then(|v| coordinate(&mut p, "long", v, 180.0));
    match (get("lat"), get("long")) {
        (None, None) if get("address_string").is_some() || get("address_id").is_some() => {
            p.field(bad, "lat, long", "position_not_address", &[])
        }
        (None, None) => p.field(bad, "lat, long", "position_required", &[]),
        (None, Some(_)) => p.field(bad, "lat", "lat_with_long", &[]),
        (Some(_), None) => p.field(bad, "long", "long_with_lat", &[]),
        _ => {}
    }
    let description = get("description").and_then(|v| text(&mut p, "description", v, MAX_DESCRIPTION));
    let address = get("address_string").and_then(|v| text(&mut p, "address_string", v, 200));
    let media_url = get("media_url").map(str::trim).filter(|u| {
        let ok = (u.starts_with("http://") || u.starts_with("https://"))
            && u.len() <= 500
            && !u.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            p.field(bad, "media_url", "media_url", &[("value", format!("{u:?}"))]);
        }
        ok
    });
    let phone = get("phone").map(str::trim).filter(|v| {
        let digits = v.chars().filter(char::is_ascii_digit).count();
        let ok = (3..=20).contains(&digits) && v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        if !ok {
            p.field(bad, "phone", "phone", &[("value", format!("{v:?}"))]);
        }
        ok
    });
    let email = get("email").map(str::trim).filter(|v| {
        let ok = v.len() <= 100 && v.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.'));
        if !ok {
            p.field(bad, "email", "email", &[("value", format!("{v:?}"))]);
        }
        ok
    });
    let device_id = get("device_id").and_then(|v| text(&mut p, "device_id", v, 100));
    let media_types = check_media(&mut p, &body.media, state.config.photo_max_bytes);
    // The position: inside the district (no jurisdiction check for the public).
    let placed = match (class, lat, lon) {
        (Some(c), Some(lat), Some(lon)) => match place(&state, &catalogue, None, c.code.as_str(), lon, lat, None) {
            Ok(placed) => Some(placed),
            Err(e) if e.field.as_deref() == Some("lon") => {
                p.field(bad, "lat, long", "outside_district", &[("lat", lat.to_string()), ("long", lon.to_string())]);
                None
            }
            Err(e) => return Err(Failure::app(format, e)),
        },
        _ => None,
    };
    p.said(format, t)?;
    let (Some(class), Some(placed)) = (class, placed) else {
        return Err(Failure::one(format, StatusCode::INTERNAL_SERVER_ERROR, "checked report incomplete"));
    };

    let mut stored = description.filter(|d| !d.is_empty()).unwrap_or_else(|| class.name.clone());
    if let Some(u) = media_url {
        stored = format!("{stored}\n\n{MEDIA_PREFIX}{u}");
    }
    // A retry of the same report from the same device on the same day is the same request.
    let photo_hashes: Vec<String> = body.media.iter().map(|(_, b)| hex::encode(Sha256::digest(b))).collect();
    let external_id = device_id.map(|d| {
        let key = [
            Utc::now().date_naive().to_string(),
            d,
            class.code.to_string(),
            format!("{:.7},{:.7}", placed.lat, placed.lon),
            stored.clone(),
            photo_hashes.join(","),
        ]
        .join("\u{1f}");
        format!("open311:{}", &hex::encode(Sha256::digest(key.as_bytes()))[..32])
    });
    let actor = zhili_core::audit::Actor::of(&Principal::anonymous(), Some(ip));
    // Every check passed: the photos, then the report that names them.
    let mut photos = Vec::new();
    for ((_, bytes), ty) in body.media.iter().zip(media_types) {
        let meta = zhili_platform::attachment::Attachment {
            id: zhili_core::password::random_token()[..32].to_string(),
            content_type: ty.into(),
            size: bytes.len() as i64,
            sha256: hex::encode(Sha256::digest(bytes)),
            uploaded_by: None,
            created_at: Utc::now(),
        };
        state
            .port::<dyn zhili_platform::attachment::AttachmentStore>()
            .put_attachment(&actor, &meta, bytes)
            .await
            .map_err(|e| Failure::app(format, e.into()))?;
        photos.push(meta.id);
    }
    let service_notice = notice(class);
    let done = intake(
        &state,
        NewReport {
            actor,
            reporter: None,
            source: Source::Open311,
            placed,
            description: stored,
            address,
            photos,
            contact: phone.or(email).map(str::to_string),
            external_id,
        },
    )
    .await
    .map_err(|e| Failure::app(format, e))?;
    let code = done.case.tracking_code.as_ref().map(TrackingCode::to_string);
    let doc = Doc::List(
        "request",
        vec![Doc::Obj(vec![
            ("service_request_id", Doc::opt(code)),
            ("service_notice", Doc::opt(service_notice)),
            ("account_id", Doc::Null),
        ])],
    );
    Ok(doc.answer(format, StatusCode::CREATED, "service_requests"))
}

/// What is expected to settle a request of this class: its closing condition (结案条件).
fn notice(class: &CaseClass) -> Option<String> {
    let c = class.closing_condition.trim();
    (!c.is_empty()).then(|| format!("结案条件 (closed when): {c}"))
}

// ---------------------------------------------------------------------------------------------
// GET Service Requests / GET Service Request

/// Mask personal data a description or address may hold: phone and identity numbers (runs of
/// 7 or more digits; a mobile number written 3-4-4 with spaces or hyphens) and e-mail addresses.
pub(crate) fn scrub(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            // The span of digits with single separators between them.
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_digit()
                    || (matches!(chars[j], ' ' | '-')
                        && chars.get(j + 1).is_some_and(char::is_ascii_digit)
                        && chars[j - 1].is_ascii_digit()))
            {
                j += 1;
            }
            if j - i == 17 && chars.get(j).is_some_and(|c| matches!(c, 'X' | 'x')) {
                j += 1;
            }
            let span: String = chars[i..j].iter().collect();
            let digits: String = span.chars().filter(char::is_ascii_digit).collect();
            let mobile_groups: Vec<usize> = span.split([' ', '-']).map(str::len).collect();
            if digits.len() == 11 && digits.starts_with('1') && mobile_groups == [3, 4, 4] {
                out.push_str(&zhili_core::mask::mask_phone(&digits));
            } else {
                for run in span.split_inclusive([' ', '-']) {
                    let (num, sep) = match run.strip_suffix([' ', '-']) {
                        Some(n) => (n, &run[n.len()..]),
                        None => (run, ""),
                    };
                    let n = num.chars().count();
                    if n >= 15 {
                        out.push_str(&zhili_core::mask::mask_id_number(num));
                    } else if n >= 7 {
                        out.push_str(&zhili_core::mask::mask_phone(num));
                    } else {
                        out.push_str(num);
                    }
                    out.push_str(sep);
                }
            }
            i = j;
        } else if chars[i] == '@' {
            // Mask the local part already written, if this is an e-mail address.
            let local = |c: &char| c.is_ascii_alphanumeric() || "._%+-".contains(*c);
            let domain_len =
                chars[i + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '.' || **c == '-').count();
            let domain: String = chars[i + 1..i + 1 + domain_len].iter().collect();
            let kept: Vec<char> = out.chars().collect();
            let local_len = kept.iter().rev().take_while(|c| local(c)).count();
            if local_len > 0 && domain.trim_end_matches('.').contains('.') {
                let start = kept.len() - local_len;
                let first = kept[start];
                out = kept[..start].iter().collect();
                out.push(first);
                out.push_str("***@");
                out.push_str(&domain);
                i += 1 + domain_len;
            } else {
                out.push('@');
                i += 1;
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn w3(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Public status notes, made from the state (operators' free text is not published: it is not
/// checked for personal data). A duplicate names the request it duplicates by that request's
/// tracking code, if that one is public too (`duplicate`), else by no number.
fn status_notes(case: &Case, duplicate: Option<&str>) -> String {
    let st = case.status.state;
    match (st, case.status.duplicate_of, duplicate) {
        (CaseState::Voided, Some(_), Some(code)) => format!("重复，见 {code} (duplicate of request {code})"),
        (CaseState::Voided, Some(_), None) => "重复 (duplicate)".to_string(),
        _ => format!("{} ({})", st.label_zh(), st.label_en()),
    }
}

/// The public case with this tracking code, if there is one: only what was reported publicly
/// has a code, and nothing else is found (a case number never is).
pub(crate) async fn public_case(state: &AppState, code: &str) -> Result<Option<Case>, AppError> {
    let Some(code) = TrackingCode::parse(code) else { return Ok(None) };
    match state.port::<dyn zhili_case::store::CaseStore>().case_by_tracking_code(&code).await {
        Ok(c) if c.source.is_public() => Ok(Some(c)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The tracking codes of the public requests these cases duplicate, by case number.
async fn duplicate_codes(state: &AppState, cases: &[Case]) -> Result<HashMap<i64, String>, StoreError> {
    let mut out = HashMap::new();
    for id in cases.iter().filter_map(|c| c.status.duplicate_of) {
        match state.port::<dyn zhili_case::store::CaseStore>().case(id).await {
            Ok(c) if c.source.is_public() => {
                if let Some(code) = c.tracking_code {
                    out.insert(id, code.to_string());
                }
            }
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// One request as the public sees it; `None` for a case without a tracking code (internal, or
/// reported before codes were given), which is never public.
fn request_doc(
    case: &Case,
    catalogue: &Catalogue,
    departments: &[Department],
    offset: FixedOffset,
    duplicates: &HashMap<i64, String>,
) -> Option<Doc> {
    let code = case.tracking_code.as_ref().filter(|_| case.source.is_public())?;
    let o = case.status.open311();
    let class = catalogue.get(case.class_code.as_str());
    let (description, media) = media_of(case);
    let agency = case.status.department.as_ref().map(|code| {
        departments.iter().find(|d| &d.code == code).map(|d| d.name.clone()).unwrap_or_else(|| code.clone())
    });
    let duplicate = case.status.duplicate_of.and_then(|id| duplicates.get(&id)).map(String::as_str);
    Some(Doc::Obj(vec![
        ("service_request_id", Doc::text(code.as_str())),
        ("status", Doc::text(o.status)),
        ("status_notes", Doc::Str(status_notes(case, duplicate))),
        ("service_name", Doc::opt(class.map(|c| c.name.clone()))),
        ("service_code", Doc::text(case.class_code.as_str())),
        ("description", Doc::Str(scrub(description))),
        ("agency_responsible", Doc::opt(agency)),
        ("service_notice", Doc::opt(class.and_then(notice))),
        ("requested_datetime", Doc::Str(w3(case.reported_at, offset))),
        ("updated_datetime", Doc::Str(w3(case.updated_at, offset))),
        ("expected_datetime", Doc::opt(case.clock.deadline.map(|d| w3(d, offset)))),
        ("address", Doc::Str(scrub(&case.address))),
        ("lat", Doc::Num(case.lat)),
        ("long", Doc::Num(case.lon)),
        ("media_url", Doc::opt(media.map(str::to_string))),
        (
            "extended_attributes",
            Doc::Obj(vec![("status_detail", Doc::text(o.extended)), ("state", Doc::text(case.status.state.as_str()))]),
        ),
    ]))
}

async fn requests_doc(state: &AppState, format: Format, cases: &[Case]) -> Result<Doc, Failure> {
    let store = state.port::<dyn zhili_platform::settings::SettingStore>();
    let catalogue = crate::case::cases(state).catalogue(store).await.map_err(|e| Failure::app(format, e))?;
    let calendar = crate::case::cases(state).calendar(store).await.map_err(|e| Failure::app(format, e))?;
    let departments =
        crate::case::cases(state).departments(state.store.as_ref()).await.map_err(|e| Failure::app(format, e))?;
    let offset = calendar.offset();
    let duplicates = duplicate_codes(state, cases).await.map_err(|e| Failure::app(format, e.into()))?;
    let docs = cases.iter().filter_map(|c| request_doc(c, &catalogue, &departments, offset, &duplicates)).collect();
    Ok(Doc::List("request", docs))
}

/// A W3C date-time with its zone (`2026-01-01T08:00:00+08:00`, `…Z`, seconds optional) or a
/// date (local midnight; for an end, the end of that day). Returns the instant and whether it
/// was a date. A `+` sent unencoded arrives as a space and is read as `+`.
fn parse_w3(name: &str, raw: &str, offset: FixedOffset) -> Result<(DateTime<Utc>, bool), String> {
    let v = raw.trim().replace(' ', "+");
    if let Ok(d) = NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
        let t = d.and_hms_opt(0, 0, 0).expect("midnight exists").and_local_timezone(offset).single();
        return t.map(|t| (t.with_timezone(&Utc), true)).ok_or_else(|| format!("{name}: {raw:?} is out of range"));
    }
    let v = match v.strip_suffix(['Z', 'z']) {
        Some(s) => format!("{s}+00:00"),
        None => v,
    };
    ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M%:z"]
        .iter()
        .find_map(|f| DateTime::parse_from_str(&v, f).ok())
        .map(|t| (t.with_timezone(&Utc), false))
        .ok_or_else(|| {
            format!(
                "{name}: {raw:?} is not a W3C date-time with a time zone (e.g. 2026-01-01T00:00:00+08:00 or \
                 2026-01-01T00:00:00Z) or a date (2026-01-01)"
            )
        })
}

/// Values of a parameter that may be repeated or comma-separated.
fn values<'a>(q: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    q.iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// GET Service Requests: by `service_request_id` list (which overrides everything else), or by
/// `service_code`, `status` and `start_date`/`end_date` (at most 90 days; by default the last
/// 90 days). At most 1,000 requests, the newest first.
pub async fn list_requests(
    State(state): State<AppState>,
    Path(format): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let format = Format::parse(&format)?;
    let q: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| Failure::one(format, StatusCode::BAD_REQUEST, format!("query: {e}")))?;
    let mut p = Problems::default();

    let ids = values(&q, "service_request_id");
    if !ids.is_empty() {
        if ids.len() > MAX_IDS {
            p.bad(format!("service_request_id: at most {MAX_IDS} ids, got {}", ids.len()));
        }
        // Requests are named by their tracking codes; a case number names none.
        let codes: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|v| {
                let ok = TrackingCode::parse(v).is_some();
                if !ok {
                    p.bad(format!("service_request_id: {v:?} is not a request id"));
                }
                ok
            })
            .collect();
        p.into_result(format)?;
        let mut cases = Vec::new();
        for code in codes {
            if let Some(c) = public_case(&state, code).await.map_err(|e| Failure::app(format, e))? {
                cases.push(c);
            }
        }
        let doc = requests_doc(&state, format, &cases).await?;
        return Ok(doc.answer(format, StatusCode::OK, "service_requests"));
    }

    let store = state.port::<dyn zhili_platform::settings::SettingStore>();
    let catalogue = crate::case::cases(&state).catalogue(store).await.map_err(|e| Failure::app(format, e))?;
    let calendar = crate::case::cases(&state).calendar(store).await.map_err(|e| Failure::app(format, e))?;
    let offset = calendar.offset();
    let mut codes = Vec::new();
    for c in values(&q, "service_code") {
        match catalogue.get(&c.to_ascii_uppercase()) {
            Some(class) => codes.push(class.code.to_string()),
            None => p.bad(format!("service_code: unknown service {c:?}")),
        }
    }
    let (mut open, mut closed) = (false, false);
    for s in values(&q, "status") {
        match s.to_ascii_lowercase().as_str() {
            "open" => open = true,
            "closed" => closed = true,
            _ => p.bad(format!("status: must be open or closed, got {s:?}")),
        }
    }
    let date = |p: &mut Problems, name: &str| {
        let raw = q.iter().rev().find(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.as_str())?;
        parse_w3(name, raw, offset).map_err(|m| p.bad(m)).ok()
    };
    let start = date(&mut p, "start_date").map(|(t, _)| t);
    // The last instant the window includes.
    let end = date(&mut p, "end_date")
        .map(|(t, day)| if day { t + Duration::days(1) - Duration::microseconds(1) } else { t });
    let window = Duration::days(WINDOW_DAYS);
    let (from, to) = match (start, end) {
        (Some(s), Some(e)) if e < s => {
            p.bad("end_date: must not be before start_date".into());
            (s, Some(e))
        }
        (Some(s), Some(e)) if e - s > window => {
            p.bad(format!(
                "start_date, end_date: the range may not span more than {WINDOW_DAYS} days (asked for {} days)",
                (e - s).num_days()
            ));
            (s, Some(e))
        }
        (Some(s), Some(e)) => (s, Some(e)),
        (Some(s), None) => (s, Some(s + window)),
        (None, Some(e)) => (e - window, Some(e)),
        (None, None) => (Utc::now() - window, None),
    };
    p.into_result(format)?;

    let base = CaseFilter {
        states: if open == closed {
            vec![]
        } else {
            CaseState::ALL.into_iter().filter(|s| s.is_open() == open).collect()
        },
        from: Some(from),
        to: to.map(|e| e + Duration::microseconds(1)),
        ..CaseFilter::default()
    };
    // Only what was reported publicly, class by class.
    let classes: Vec<Option<String>> =
        if codes.is_empty() { vec![None] } else { codes.into_iter().map(Some).collect() };
    let mut filters: Vec<CaseFilter> = classes
        .iter()
        .flat_map(|c| Source::PUBLIC.map(|s| CaseFilter { class_prefix: c.clone(), source: Some(s), ..base.clone() }))
        .collect();
    let fail = |e: StoreError| Failure::app(format, e.into());
    let st = &state;
    let count = |filters: Vec<CaseFilter>| async move {
        let mut n = 0;
        for f in &filters {
            n += st.port::<dyn zhili_case::store::CaseStore>().count_cases(f).await?;
        }
        Ok::<i64, StoreError>(n)
    };
    // More than the limit: move the window's start later until it holds at most the limit (and,
    // to answer nearly as many as the limit, at least 90% of it), guessing each instant from the
    // density between the bounds known (a count is one indexed query; a few suffice).
    let max = MAX_REQUESTS as i64;
    let total = count(filters.clone()).await.map_err(fail)?;
    if total > max {
        let (mut lo, mut n_lo) = (from, total);
        let (mut hi, mut n_hi) = (to.unwrap_or_else(Utc::now), 0);
        for _ in 0..16 {
            if n_hi >= max * 9 / 10 || hi - lo <= Duration::milliseconds(2) {
                break;
            }
            let share = (n_lo - max * 95 / 100) as f64 / (n_lo - n_hi) as f64;
            let span = (hi - lo).num_milliseconds();
            let step = ((span as f64 * share) as i64).clamp(1, span - 1);
            let mid = lo + Duration::milliseconds(step);
            let narrowed = filters.iter().map(|f| CaseFilter { from: Some(mid), ..f.clone() }).collect();
            let n = count(narrowed).await.map_err(fail)?;
            if n > max {
                (lo, n_lo) = (mid, n);
            } else {
                (hi, n_hi) = (mid, n);
            }
        }
        filters.iter_mut().for_each(|f| f.from = Some(hi));
    }
    let mut cases = Vec::new();
    for f in &filters {
        cases.extend(
            state
                .port::<dyn zhili_case::store::CaseStore>()
                .cases(f, Page { offset: 0, limit: MAX_REQUESTS as i64 })
                .await
                .map_err(fail)?,
        );
    }
    cases.sort_by(|a, b| b.reported_at.cmp(&a.reported_at).then(b.id.cmp(&a.id)));
    cases.truncate(MAX_REQUESTS);
    let doc = requests_doc(&state, format, &cases).await?;
    Ok(doc.answer(format, StatusCode::OK, "service_requests"))
}

/// One request as the public sees it (the JSON of [`get_request`]'s item) with its case, for
/// the citizens' status page (群众查询); `None` if no public request has this tracking code.
/// Its `status_notes` are said in `t`'s language only (the Open311 API gives both).
pub(crate) async fn public_request(
    state: &AppState,
    code: &str,
    t: crate::web::i18n::Tr,
) -> Result<Option<(Value, Case)>, AppError> {
    let Some(case) = public_case(state, code).await? else { return Ok(None) };
    let store = state.port::<dyn zhili_platform::settings::SettingStore>();
    let catalogue = crate::case::cases(state).catalogue(store).await?;
    let calendar = crate::case::cases(state).calendar(store).await?;
    let departments = crate::case::cases(state).departments(state.store.as_ref()).await?;
    let duplicates = duplicate_codes(state, std::slice::from_ref(&case)).await?;
    let Some(doc) = request_doc(&case, &catalogue, &departments, calendar.offset(), &duplicates) else {
        return Ok(None);
    };
    let mut doc = doc.json();
    let st = case.status.state;
    doc["status_notes"] = Value::from(match (st, case.status.duplicate_of) {
        (CaseState::Voided, Some(other)) => match duplicates.get(&other) {
            Some(code) => t.format("public.duplicate_of", &[("id", code.clone())]),
            None => t.get("public.duplicate").to_string(),
        },
        _ => crate::web::error::Param::Label(st.label_zh(), st.label_en()).text(t),
    });
    Ok(Some((doc, case)))
}

/// GET Service Request: one request (a list of one, as the specification answers it).
pub async fn get_request(State(state): State<AppState>, Path(file): Path<String>) -> Answer {
    let (id, format) = Format::split(&file)?;
    let not_found = || Failure::one(format, StatusCode::NOT_FOUND, format!("service_request_id: no request {id:?}"));
    let case = public_case(&state, id).await.map_err(|e| Failure::app(format, e))?.ok_or_else(not_found)?;
    let doc = requests_doc(&state, format, std::slice::from_ref(&case)).await?;
    Ok(doc.answer(format, StatusCode::OK, "service_requests"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_masked() {
        assert_eq!(scrub("联系 13812345678 张"), "联系 138****5678 张");
        assert_eq!(scrub("电话 138-1234-5678。"), "电话 138****5678。");
        assert_eq!(scrub("身份证 37030419900101123X"), "身份证 370304********123X");
        assert_eq!(scrub("mail zhang.san@example.com now"), "mail z***@example.com now");
        assert_eq!(scrub("2026-01-01 路灯 3 盏, 0533-2345678"), "2026-01-01 路灯 3 盏, 0533-*******");
        assert_eq!(scrub("a@b 与 @ 符号"), "a@b 与 @ 符号");
    }

    #[test]
    fn xml_is_escaped_and_empty_lists_close() {
        let d = Doc::Obj(vec![
            ("a", Doc::text("<&>\"'\u{1}")),
            ("b", Doc::List("x", vec![])),
            ("c", Doc::Null),
            ("d", Doc::List("x", vec![Doc::Int(1), Doc::Bool(true)])),
        ]);
        let mut out = String::new();
        d.xml("r", &mut out);
        assert_eq!(out, "<r><a>&lt;&amp;&gt;&quot;&apos;\u{FFFD}</a><b/><c/><d><x>1</x><x>true</x></d></r>");
        assert_eq!(d.json()["d"], serde_json::json!([1, true]));
    }

    #[test]
    fn dates() {
        let cst = FixedOffset::east_opt(8 * 3600).unwrap();
        let t = |s: &str| parse_w3("start_date", s, cst).map(|(t, d)| (t.to_rfc3339(), d));
        assert_eq!(t("2026-01-01T00:00:00Z").unwrap(), ("2026-01-01T00:00:00+00:00".into(), false));
        assert_eq!(t("2026-01-01T08:00:00 08:00").unwrap(), ("2026-01-01T00:00:00+00:00".into(), false));
        assert_eq!(t("2026-01-01T08:00+08:00").unwrap(), ("2026-01-01T00:00:00+00:00".into(), false));
        assert_eq!(t("2026-01-01").unwrap(), ("2025-12-31T16:00:00+00:00".into(), true));
        assert!(t("2026-01-01T08:00:00").unwrap_err().starts_with("start_date: "));
        assert!(t("yesterday").is_err());
    }
}

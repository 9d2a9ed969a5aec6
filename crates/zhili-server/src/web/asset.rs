//! Embedded files (内嵌资源): every module's `assets/`, the frame's, the favicon and the vendored
//! libraries, served from the binary (no CDN, nothing read from disk or fetched at run time).
//!
//! Each file is answered under two URLs: its plain name (`/assets/app.js`, revalidated every
//! time with its `ETag`: `Cache-Control: public, no-cache`) and its content-hashed name
//! (`/assets/app.<hash>.js`, `public, max-age=31536000, immutable`), which pages link through
//! [`url`] (`Layout::asset` in templates). A new build with a changed file has a new name, so a
//! browser never runs a stale file after an upgrade. Text is answered brotli- or
//! gzip-compressed when `Accept-Encoding` allows (`Vary: Accept-Encoding`); each file is
//! compressed once per process, on its first request or by [`precompress`], which `serve`
//! runs in the background at start-up.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{LazyLock, OnceLock, RwLock};

use axum::body::Body;
use axum::http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::AppState;

/// `Cache-Control` of a content-hashed URL: its bytes never change.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of a plain URL: cached, but asked again (`If-None-Match`) before each use.
pub const REVALIDATE: &str = "public, no-cache";

/// Brotli's quality: the densest (11) in release builds. The encoder is generic, so it is
/// compiled into this crate and unoptimised in debug builds (tests), where 11 would take a
/// minute for MapLibre: there the fastest (1).
pub const BROTLI_QUALITY: i32 = if cfg!(debug_assertions) { 1 } else { 11 };

/// One embedded file, its hash and its compressed forms (each made once, when first needed).
pub struct Embedded {
    name: &'static str,
    ty: &'static str,
    body: &'static [u8],
    /// The first 16 hex digits of the SHA-256 of the body.
    hash: String,
    /// `name` with `.{hash}` before its extension.
    hashed: String,
    gzip: OnceLock<Option<Vec<u8>>>,
    br: OnceLock<Option<Vec<u8>>>,
}

/// Every embedded file, by plain name (filled as the routes are built).
static REGISTRY: LazyLock<RwLock<BTreeMap<&'static str, &'static Embedded>>> = LazyLock::new(Default::default);

/// A content coding we answer in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Embedded {
    fn new(name: &'static str, ty: &'static str, body: &'static [u8]) -> Embedded {
        let hash = hex::encode(&Sha256::digest(body)[..8]);
        let (dir, file) = name.rsplit_once('/').map_or(("", name), |(d, f)| (d, f));
        let dir = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let hashed = match file.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => format!("{dir}{stem}.{hash}.{ext}"),
            _ => format!("{dir}{file}.{hash}"),
        };
        Embedded { name, ty, body, hash, hashed, gzip: OnceLock::new(), br: OnceLock::new() }
    }

    /// Its URL path under its content-hashed name.
    pub fn url(&self) -> String {
        format!("/assets/{}", self.hashed)
    }

    fn compressible(&self) -> bool {
        self.ty.starts_with("text/") || self.ty.starts_with("image/svg") || self.ty.starts_with("application/json")
    }

    /// The body gzip-compressed (level 9), if that is smaller.
    pub fn gzip(&self) -> Option<&[u8]> {
        self.gzip
            .get_or_init(|| {
                if !self.compressible() {
                    return None;
                }
                let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                w.write_all(self.body).ok()?;
                w.finish().ok().filter(|c| c.len() < self.body.len())
            })
            .as_deref()
    }

    /// The body brotli-compressed (quality [`BROTLI_QUALITY`]), if that is smaller.
    pub fn brotli(&self) -> Option<&[u8]> {
        self.br
            .get_or_init(|| {
                if !self.compressible() {
                    return None;
                }
                let params = brotli::enc::BrotliEncoderParams {
                    quality: BROTLI_QUALITY,
                    lgwin: 22,
                    size_hint: self.body.len(),
                    ..Default::default()
                };
                let mut out = Vec::new();
                brotli::BrotliCompress(&mut &self.body[..], &mut out, &params).ok()?;
                Some(out).filter(|c| c.len() < self.body.len())
            })
            .as_deref()
    }

    /// Whether the compressed form of `coding` is still to be made.
    fn pending(&self, coding: Coding) -> bool {
        match coding {
            Coding::Brotli => self.br.get().is_none(),
            Coding::Gzip => self.gzip.get().is_none(),
            Coding::Identity => false,
        }
    }

    /// The bytes, coding and ETag answered for a request that accepts `coding` first.
    fn representation(&self, coding: Coding) -> (&[u8], Coding, String) {
        let (body, coding) = match coding {
            Coding::Brotli => self.brotli().map(|b| (b, Coding::Brotli)),
            Coding::Gzip => self.gzip().map(|b| (b, Coding::Gzip)),
            Coding::Identity => None,
        }
        .unwrap_or((self.body, Coding::Identity));
        let suffix = match coding {
            Coding::Brotli => "-br",
            Coding::Gzip => "-gz",
            Coding::Identity => "",
        };
        (body, coding, format!("\"{}{suffix}\"", self.hash))
    }
}

/// Register a file (once per process; the same name with other bytes panics).
fn embed(name: &'static str, ty: &'static str, body: &'static [u8]) -> &'static Embedded {
    let known = REGISTRY.read().expect("asset registry").get(name).copied();
    if let Some(e) = known {
        assert!(e.body == body && e.ty == ty, "two embedded files are both named /assets/{name}");
        return e;
    }
    let mut reg = REGISTRY.write().expect("asset registry");
    let e: &mut &'static Embedded =
        reg.entry(name).or_insert_with(|| Box::leak(Box::new(Embedded::new(name, ty, body))));
    e
}

/// The URL a page links a file by: `/assets/{name with its hash}`, for a registered file;
/// else its plain `/assets/{name}`.
pub fn url(name: &str) -> String {
    match REGISTRY.read().expect("asset registry").get(name) {
        Some(e) => e.url(),
        None => format!("/assets/{name}"),
    }
}

/// The routes of these files: `/assets/{name}` and `/assets/{hashed name}` each.
pub fn routes<I>(files: I) -> Router<AppState>
where
    I: IntoIterator<Item = (&'static str, &'static str, &'static [u8])>,
{
    files.into_iter().fold(Router::new(), |r, (name, ty, body)| {
        let e = embed(name, ty, body);
        r.route(&format!("/assets/{}", e.name), get(move |h: HeaderMap| answer(e, REVALIDATE, h)))
            .route(&e.url(), get(move |h: HeaderMap| answer(e, IMMUTABLE, h)))
    })
}

/// The answer for one embedded file under the plain URL `path` (e.g. `/favicon.ico`).
pub fn route_plain(path: &str, name: &'static str, ty: &'static str, body: &'static [u8]) -> Router<AppState> {
    let e = embed(name, ty, body);
    Router::new().route(path, get(move |h: HeaderMap| answer(e, REVALIDATE, h)))
}

/// The coding to answer in: brotli, else gzip, by the client's `Accept-Encoding` (q-values,
/// `*`); identity when it names neither.
pub fn negotiate(accept: Option<&HeaderValue>) -> Coding {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else { return Coding::Identity };
    let (mut br, mut gz, mut any) = (None, None, None);
    for part in accept.split(',') {
        let mut it = part.split(';');
        let coding = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match coding.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gz = Some(q),
            "*" => any = Some(q),
            _ => {}
        }
    }
    let br = br.or(any).unwrap_or(0.0);
    let gz = gz.or(any).unwrap_or(0.0);
    if br > 0.0 && br >= gz {
        Coding::Brotli
    } else if gz > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// Whether `If-None-Match` names this file's bytes (in any coding: they decode to the same).
fn not_modified(headers: &HeaderMap, hash: &str) -> bool {
    let Some(v) = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else { return false };
    v.split(',').any(|t| {
        let t = t.trim();
        let t = t.strip_prefix("W/").unwrap_or(t).trim_matches('"');
        t == "*" || t.strip_suffix("-br").or_else(|| t.strip_suffix("-gz")).unwrap_or(t) == hash
    })
}

async fn answer(e: &'static Embedded, cache: &'static str, headers: HeaderMap) -> Response {
    let want = negotiate(headers.get(ACCEPT_ENCODING));
    if e.pending(want) {
        // The first request for this form makes it, off the async workers.
        let _ = tokio::task::spawn_blocking(move || e.representation(want).1).await;
    }
    let (body, coding, etag) = e.representation(want);
    let fresh = not_modified(&headers, &e.hash);
    let mut r = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { Body::from(body).into_response() };
    let h = r.headers_mut();
    h.insert(ETAG, HeaderValue::from_str(&etag).expect("hex"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if e.compressible() {
        h.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    if !fresh {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(e.ty));
        let encoding = match coding {
            Coding::Brotli => Some("br"),
            Coding::Gzip => Some("gzip"),
            Coding::Identity => None,
        };
        if let Some(enc) = encoding {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static(enc));
        }
    }
    r
}

/// Compress every registered file now (both codings), so no request waits for it; returns
/// how many files and bytes. `serve` runs it on a blocking thread at start-up.
pub fn precompress() -> (usize, usize) {
    let all: Vec<&'static Embedded> = REGISTRY.read().expect("asset registry").values().copied().collect();
    let mut bytes = 0;
    for e in &all {
        e.brotli();
        e.gzip();
        bytes += e.body.len();
    }
    (all.len(), bytes)
}

//! Embedded assets through the router: pages link every file by its content-hashed URL, which
//! answers with a year's immutable caching; brotli or gzip by `Accept-Encoding` (with `Vary`),
//! decoding to the plain file; `If-None-Match` answers 304; plain URLs keep working, revalidated;
//! a stale hash is 404; the favicon (SVG and `/favicon.ico`) and the bell's inline SVG icon.

use std::collections::BTreeSet;
use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use zhili_core::policy::Role;

use crate::world::{self, Answer};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

async fn world() -> world::World {
    world::World::builder().divisions(3).users(&[("operator", Role::Operator, "370304")]).build().await
}

async fn fetch(w: &world::World, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    w.answer(req.body(Body::empty()).unwrap()).await
}

async fn page(w: &world::World, uri: &str) -> String {
    let got = w.answer(world::request("GET", uri, w.token("operator")).body(Body::empty()).unwrap()).await;
    assert_eq!(got.status, StatusCode::OK, "{uri}");
    got.text()
}

/// Every `/assets/…` URL a page links (in `src`, `href` or `data-*` attributes).
fn linked(html: &str) -> BTreeSet<String> {
    html.split('"').filter(|s| s.starts_with("/assets/")).map(String::from).collect()
}

/// Whether `url` is `/assets/{stem}.{16 hex digits}.{ext}`.
fn hashed(url: &str) -> bool {
    let parts: Vec<&str> = url.rsplitn(3, '.').collect();
    parts.len() == 3 && parts[1].len() == 16 && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn pages_link_hashed_assets_served_compressed_and_cached() {
    let w = world().await;
    let mut all = BTreeSet::new();
    for uri in ["/map", "/dashboard", "/cases", "/cases/new", "/grids", "/notifications"] {
        let html = page(&w, uri).await;
        let urls = linked(&html);
        assert!(urls.iter().any(|u| u.starts_with("/assets/app.") && u.ends_with(".css")), "{uri}: {urls:?}");
        assert!(urls.iter().any(|u| u.starts_with("/assets/notify.")), "{uri}: {urls:?}");
        all.extend(urls);
    }
    for name in [
        "vendor/maplibre-gl/maplibre-gl-csp.js",
        "vendor/maplibre-gl/maplibre-gl-csp-worker.js",
        "vendor/maplibre-gl/maplibre-gl.css",
        "vendor/echarts/echarts.common.min.js",
        "map.js",
        "map-cases.js",
        "dashboard.js",
        "intake.js",
        "minimap.js",
        "app.js",
        "favicon.svg",
        "favicon.ico",
    ] {
        let url = zhili_server::web::asset::url(name);
        assert!(hashed(&url) && all.contains(&url), "{name}: {url} not linked; linked: {all:?}");
    }
    // Every linked file answers under its hashed name, cached for a year, with a validator.
    for url in &all {
        assert!(hashed(url), "{url} is not content-hashed");
        let got = fetch(&w, url, &[]).await;
        assert_eq!(got.status, StatusCode::OK, "{url}");
        assert_eq!(got.header("cache-control"), Some(IMMUTABLE), "{url}");
        assert!(got.header("etag").is_some() && got.header("content-type").is_some(), "{url}");
        assert_eq!(got.header("content-encoding"), None, "{url}: no Accept-Encoding, no coding");
    }
}

#[tokio::test]
async fn compression_is_negotiated_and_decodes_to_the_file() {
    let w = world().await;
    let url = zhili_server::web::asset::url("map.js");
    let plain = fetch(&w, "/assets/map.js", &[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header("cache-control"), Some("public, no-cache"), "plain URLs are revalidated");
    assert_eq!(plain.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(plain.header("vary"), Some("accept-encoding"));
    let original = plain.body.clone();

    let br = fetch(&w, &url, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
    assert_eq!(br.status, StatusCode::OK);
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.header("vary"), Some("accept-encoding"));
    assert_eq!(br.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(br.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(br.body.len() < original.len() / 2, "{} of {}", br.body.len(), original.len());
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&br.body[..], 4096).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, original);

    for accept in ["gzip", "br;q=0, gzip;q=0.5", "gzip;q=1, br;q=0.5", "x-gzip"] {
        let gz = fetch(&w, &url, &[("accept-encoding", accept)]).await;
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{accept}");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gz.body[..]).read_to_end(&mut decoded).unwrap();
        assert_eq!(decoded, original, "{accept}");
    }
    for accept in ["identity", "br;q=0, gzip;q=0", "deflate", "*;q=0"] {
        let id = fetch(&w, &url, &[("accept-encoding", accept)]).await;
        assert_eq!(id.header("content-encoding"), None, "{accept}");
        assert_eq!(id.body, original, "{accept}");
    }
    let any = fetch(&w, &url, &[("accept-encoding", "*")]).await;
    assert_eq!(any.header("content-encoding"), Some("br"));

    // The vendored libraries too: MapLibre is sent in less than a third of its size.
    let lib = zhili_server::web::asset::url("vendor/maplibre-gl/maplibre-gl-csp.js");
    let whole = fetch(&w, &lib, &[]).await.body.len();
    let gz = fetch(&w, &lib, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert!(gz.body.len() < whole / 3, "{} of {whole}", gz.body.len());
}

#[tokio::test]
async fn etags_answer_304_and_stale_names_404() {
    let w = world().await;
    let url = zhili_server::web::asset::url("app.css");
    for (uri, accept) in [(url.as_str(), "br"), (url.as_str(), "gzip"), (url.as_str(), ""), ("/assets/app.css", "br")] {
        let first = fetch(&w, uri, &[("accept-encoding", accept)]).await;
        let etag = first.header("etag").expect("an ETag").to_string();
        let again = fetch(&w, uri, &[("accept-encoding", accept), ("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{uri} {accept}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        assert_eq!(again.header("cache-control"), first.header("cache-control"));
        let weak = format!("\"nope\", W/{etag}");
        assert_eq!(fetch(&w, uri, &[("if-none-match", &weak)]).await.status, StatusCode::NOT_MODIFIED);
        let other = fetch(&w, uri, &[("accept-encoding", accept), ("if-none-match", "\"0123456789abcdef\"")]).await;
        assert_eq!(other.status, StatusCode::OK);
    }
    // A name with another build's hash is not found; so is an unknown vendored file.
    for uri in ["/assets/app.0123456789abcdef.css", "/assets/vendor/maplibre-gl/nope.js", "/assets/nope.js"] {
        assert_eq!(fetch(&w, uri, &[]).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
    // Plain vendored URLs keep working.
    let got = fetch(&w, "/assets/vendor/echarts/echarts.common.min.js", &[("accept-encoding", "br")]).await;
    assert_eq!((got.status, got.header("content-encoding")), (StatusCode::OK, Some("br")));
    assert_eq!(fetch(&w, "/assets/vendor/maplibre-gl/LICENSE.txt", &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn favicon_and_bell_icon() {
    let w = world().await;
    let ico = fetch(&w, "/favicon.ico", &[("accept-encoding", "br")]).await;
    assert_eq!(ico.status, StatusCode::OK);
    assert_eq!(ico.header("content-type"), Some("image/x-icon"));
    assert_eq!(&ico.body[..4], &[0, 0, 1, 0], "an ICO file");
    let svg = fetch(&w, &zhili_server::web::asset::url("favicon.svg"), &[]).await;
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.text().starts_with("<svg"));

    let html = page(&w, "/map").await;
    let icon =
        format!("<link rel=\"icon\" href=\"{}\" type=\"image/svg+xml\">", zhili_server::web::asset::url("favicon.svg"));
    assert!(html.contains(&icon), "{html}");
    let bell = &html[html.find("id=\"bell\"").expect("the bell")..];
    let bell = &bell[..bell.find("</a>").unwrap()];
    assert!(bell.contains("<svg") && !bell.contains('🔔'), "{bell}");
    // The login page has the favicon too.
    assert!(fetch(&w, "/login", &[]).await.text().contains(&icon));
}

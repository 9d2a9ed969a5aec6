//! Compressed answers: vector tiles and JSON lists come back brotli or gzip when asked (and
//! decode to the identity bytes), identity when not, each with `Vary: Accept-Encoding`; a tile's
//! ETag is weak once compressed and still revalidates (304); small answers are sent as they are;
//! the precompressed assets are not compressed twice; `server.compress = false` turns it off.

use std::io::Read;

use axum::body::Body;
use axum::http::StatusCode;
use zhili_core::policy::Role;

use crate::world::{grid, request, Answer, World};

/// 60 grids side by side in village 甲 (a tile and a list of some kilobytes).
async fn world(compress: bool) -> World {
    let grids = (1..=60)
        .map(|i| {
            let w = 117.80 + f64::from(i) * 0.0005;
            grid(&format!("370304100201{i:02}"), 1, None, w, 36.40, w + 0.0004, 36.41)
        })
        .collect();
    World::builder()
        .users(&[("operator", Role::Operator, "370304")])
        .grids(grids)
        .config(move |c| c.compress = compress)
        .build()
        .await
}

async fn get(w: &World, uri: &str, accept: Option<&str>, extra: &[(&str, &str)]) -> Answer {
    let mut r = request("GET", uri, w.token("operator"));
    if let Some(a) = accept {
        r = r.header("accept-encoding", a);
    }
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    w.answer(r.body(Body::empty()).unwrap()).await
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).unwrap();
    out
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    brotli::Decompressor::new(b, 4096).read_to_end(&mut out).unwrap();
    out
}

/// The z14 tile over the grids.
fn tile_uri() -> String {
    let (lon, lat, z) = (117.815_f64, 36.405_f64, 14);
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n).floor();
    format!("/tiles/grids/{z}/{x}/{y}.mvt")
}

fn vary(a: &Answer) -> String {
    a.headers.get_all("vary").iter().map(|v| v.to_str().unwrap().to_ascii_lowercase()).collect::<Vec<_>>().join(",")
}

#[tokio::test]
async fn tiles_and_json_are_compressed_when_asked_with_vary() {
    let w = world(true).await;
    for uri in [tile_uri(), "/api/grids?limit=100".to_string()] {
        let plain = get(&w, &uri, None, &[]).await;
        assert_eq!(plain.status, StatusCode::OK, "{uri}: {}", plain.text());
        assert!(plain.body.len() > 1024, "{uri} is {} bytes: too small to test", plain.body.len());
        assert_eq!(plain.header("content-encoding"), None, "{uri}");
        assert!(vary(&plain).contains("accept-encoding"), "{uri}: identity also varies");

        let gz = get(&w, &uri, Some("gzip"), &[]).await;
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{uri}");
        assert!(vary(&gz).contains("accept-encoding"));
        assert_eq!(gunzip(&gz.body), plain.body.to_vec(), "{uri}");
        assert!(gz.body.len() < plain.body.len() / 2, "{uri}: {} of {}", gz.body.len(), plain.body.len());

        let br = get(&w, &uri, Some("gzip, deflate, br"), &[]).await;
        assert_eq!(br.header("content-encoding"), Some("br"), "{uri}");
        assert_eq!(unbrotli(&br.body), plain.body.to_vec(), "{uri}");
        assert_eq!(br.header("content-length"), None, "{uri}: no stale length");

        let none = get(&w, &uri, Some("identity"), &[]).await;
        assert_eq!(none.header("content-encoding"), None);
    }
}

#[tokio::test]
async fn a_compressed_tile_has_a_weak_etag_that_revalidates() {
    let w = world(true).await;
    let uri = tile_uri();
    let plain = get(&w, &uri, None, &[]).await;
    let strong = plain.header("etag").unwrap().to_string();
    assert!(strong.starts_with('"'), "{strong}");
    let br = get(&w, &uri, Some("br"), &[]).await;
    let weak = br.header("etag").unwrap().to_string();
    assert_eq!(weak, format!("W/{strong}"), "the compressed bytes are another representation");
    for tag in [&weak, &strong] {
        let again = get(&w, &uri, Some("br"), &[("if-none-match", tag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{tag}");
        assert!(again.body.is_empty());
    }
    let other = get(&w, &uri, Some("br"), &[("if-none-match", "W/\"elsewhere\"")]).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn small_answers_and_assets_are_not_compressed_again() {
    let w = world(true).await;
    // Under 1 KiB: as it is, and no Vary (it never varies).
    let me = get(&w, "/api/me", Some("br, gzip"), &[]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.len() < 1024);
    assert_eq!(me.header("content-encoding"), None);
    // An embedded asset: its own precompressed brotli, once (it decodes to the script).
    let js = get(&w, "/assets/app.js", Some("br"), &[]).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.headers.get_all("content-encoding").iter().count(), 1);
    assert_eq!(js.header("content-encoding"), Some("br"));
    let text = String::from_utf8(unbrotli(&js.body)).expect("one decoding gives the script's text");
    assert!(text.contains("zhili"), "{}", &text[..text.len().min(200)]);
    assert!(js.header("etag").unwrap().ends_with("-br\""), "the asset's own strong tag, not weakened");
    // The worklist page (HTML) is compressed too.
    let page = get(&w, "/cases", Some("gzip"), &[("accept", "text/html")]).await;
    assert_eq!(page.header("content-encoding"), Some("gzip"));
    assert!(String::from_utf8(gunzip(&page.body)).unwrap().contains("<html"));
}

#[tokio::test]
async fn compression_can_be_turned_off() {
    let w = world(false).await;
    let tile = get(&w, &tile_uri(), Some("br, gzip"), &[]).await;
    assert_eq!(tile.status, StatusCode::OK);
    assert_eq!(tile.header("content-encoding"), None);
    // The assets keep their precompressed forms.
    let js = get(&w, "/assets/app.js", Some("br"), &[]).await;
    assert_eq!(js.header("content-encoding"), Some("br"));
}

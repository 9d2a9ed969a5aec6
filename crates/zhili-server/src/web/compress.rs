//! Compressed answers (响应压缩): JSON, vector tiles, pages, CSV and every other compressible
//! answer of 1 KiB or more is sent brotli or gzip as the client's `Accept-Encoding` prefers
//! (tower-http's `CompressionLayer`, streaming: a streamed body is compressed as it goes, never
//! buffered whole). What is not compressed: images, the XLSX/zip files (compressed already),
//! server-sent events, answers under 1 KiB, and answers that already name their coding (the
//! embedded assets, precompressed once per process by `web::asset`). A compressible answer
//! says `Vary: Accept-Encoding` whatever coding it went out in.
//!
//! An `ETag` a handler set names the identity bytes; once compressed here, the tag is made weak
//! (`W/"…"`, as nginx does), since the bytes differ but mean the same. Handlers compare
//! `If-None-Match` weakly (RFC 9110 §13.1.2), so a cached compressed tile still revalidates.

use axum::extract::Request;
use axum::http::header::{CONTENT_ENCODING, ETAG};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Answers smaller than this are sent as they are (compression would save little or grow them).
pub const MIN_BYTES: u16 = 1024;

/// The layer: brotli and gzip at a level cheap enough for per-request use; on when `enabled`.
pub fn layer(enabled: bool) -> CompressionLayer<impl Predicate> {
    let on = move |_: axum::http::StatusCode,
                   _: axum::http::Version,
                   _: &axum::http::HeaderMap,
                   _: &axum::http::Extensions| enabled;
    let predicate = SizeAbove::new(MIN_BYTES)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        .and(NotForContentType::const_new("application/vnd.openxmlformats"))
        .and(NotForContentType::const_new("application/zip"))
        .and(NotForContentType::const_new("application/gzip"))
        .and(on);
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        // Brotli's default (11) costs tens of milliseconds a tile; 4 is near gzip's speed and
        // still denser. Gzip's default is 6.
        .quality(CompressionLevel::Precise(4))
        .compress_when(predicate)
}

/// Marks an answer that already had its coding before the compression layer (inside it).
#[derive(Clone, Copy)]
struct EncodedBefore;

/// Inside the compression layer: note which answers came encoded already.
pub async fn mark_encoded(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    if r.headers().contains_key(CONTENT_ENCODING) {
        r.extensions_mut().insert(EncodedBefore);
    }
    r
}

/// Outside the compression layer: an answer compressed there gets its strong `ETag` made weak.
pub async fn weaken_etag(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let compressed_here = r.headers().contains_key(CONTENT_ENCODING) && r.extensions().get::<EncodedBefore>().is_none();
    if compressed_here {
        if let Some(tag) = r.headers().get(ETAG).and_then(|v| v.to_str().ok()) {
            if tag.starts_with('"') {
                if let Ok(weak) = HeaderValue::from_str(&format!("W/{tag}")) {
                    r.headers_mut().insert(ETAG, weak);
                }
            }
        }
    }
    r
}

/// Whether `If-None-Match` names `etag` by the weak comparison (RFC 9110 §13.1.2: `W/` and the
/// quotes aside, the same opaque tag), or is `*`.
pub fn none_match(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(v) = if_none_match.and_then(|v| v.to_str().ok()) else { return false };
    let bare = |t: &str| t.trim().trim_start_matches("W/").trim_matches('"').to_string();
    let want = bare(etag);
    v.split(',').any(|t| t.trim() == "*" || bare(t) == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_is_compared_weakly() {
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert!(none_match(Some(&h("\"a-1\"")), "\"a-1\""));
        assert!(none_match(Some(&h("W/\"a-1\"")), "\"a-1\""));
        assert!(none_match(Some(&h("\"x\", W/\"a-1\"")), "\"a-1\""));
        assert!(none_match(Some(&h("*")), "\"a-1\""));
        assert!(!none_match(Some(&h("\"a-2\"")), "\"a-1\""));
        assert!(!none_match(None, "\"a-1\""));
    }
}

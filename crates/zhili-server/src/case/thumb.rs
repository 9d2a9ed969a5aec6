//! Photo thumbnails (缩略图): a small JPEG of an image attachment for lists, map popups and the
//! case page (`GET /api/attachments/{id}?size=thumb`), so a phone does not load a 5 MB photo to
//! show 100 pixels.
//!
//! Made on first request with the `image` crate (JPEG, PNG and WebP decoders, the orientation
//! the camera wrote applied, a triangle filter), at most [`THUMB_PX`] on the longer side, never
//! enlarged, and kept in a bounded in-process cache. An attachment's bytes never change (its id
//! is random and written once), so a cached thumbnail is never stale and its answer is
//! `immutable`; the cache only saves decoding work, the store stays the only truth.

use std::collections::{HashMap, VecDeque};
use std::io::Cursor;
use std::sync::Mutex;

use axum::body::Bytes;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use zhili_core::ErrorCode;
use zhili_platform::attachment::Attachment;

use crate::web::error::{AppError, AppResult};

/// The longest side of a thumbnail in pixels.
pub const THUMB_PX: u32 = 320;
/// JPEG quality of a thumbnail.
const QUALITY: u8 = 80;
/// Bytes of thumbnails a process keeps (about 1,000 photos at ~16 KB).
const CACHE_BYTES: usize = 16 * 1024 * 1024;
/// Largest picture decoded, in pixels a side (a phone's 50 MP photo is ~8,200 wide).
const MAX_SIDE: u32 = 12_000;
/// Most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// The thumbnails made in this process, oldest dropped first past `CACHE_BYTES` (16 MB).
#[derive(Default)]
pub struct Thumbs {
    inner: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    by_id: HashMap<String, Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Thumbs {
    fn get(&self, id: &str) -> Option<Bytes> {
        self.inner.lock().expect("not poisoned").by_id.get(id).cloned()
    }

    fn put(&self, id: &str, jpeg: Bytes) {
        let mut c = self.inner.lock().expect("not poisoned");
        if c.by_id.contains_key(id) {
            return;
        }
        c.bytes += jpeg.len();
        c.by_id.insert(id.to_string(), jpeg);
        c.order.push_back(id.to_string());
        while c.bytes > CACHE_BYTES {
            let Some(old) = c.order.pop_front() else { break };
            if let Some(b) = c.by_id.remove(&old) {
                c.bytes -= b.len();
            }
        }
    }

    /// The thumbnail of an attachment: cached, or made on a blocking thread from its bytes.
    /// Not an image we decode: 415 naming its type; bytes that do not decode: 422 on `file`.
    pub async fn of(&self, meta: &Attachment, bytes: Vec<u8>) -> AppResult<Bytes> {
        if let Some(t) = self.get(&meta.id) {
            return Ok(t);
        }
        let format = format_of(&meta.content_type).ok_or_else(|| {
            AppError::msg(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "attachment {} is {:?}, not a JPEG, PNG or WebP image: it has no thumbnail",
                    meta.id, meta.content_type
                ),
            )
            .key("case.error.thumb_not_image")
            .arg("type", &meta.content_type)
            .at("id")
        })?;
        let made = tokio::task::spawn_blocking(move || thumbnail(&bytes, format))
            .await
            .map_err(|_| AppError::new(ErrorCode::Internal))?;
        let jpeg = Bytes::from(made.map_err(|e| {
            AppError::msg(ErrorCode::InvalidField, format!("attachment {} does not decode as an image: {e}", meta.id))
                .key("case.error.thumb_undecodable")
                .at("file")
        })?);
        self.put(&meta.id, jpeg.clone());
        Ok(jpeg)
    }
}

/// The decoder for a stored media type.
fn format_of(content_type: &str) -> Option<ImageFormat> {
    match content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase().as_str() {
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/png" => Some(ImageFormat::Png),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// Decode, turn upright, shrink to fit [`THUMB_PX`] (never enlarge) and encode as JPEG (a
/// transparent PNG is laid on white).
pub fn thumbnail(bytes: &[u8], format: ImageFormat) -> Result<Vec<u8>, image::ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut img = DynamicImage::from_decoder(decoder)?;
    img.apply_orientation(orientation);
    let (w, h) = (img.width(), img.height());
    let small =
        if w.max(h) > THUMB_PX { img.resize(THUMB_PX, THUMB_PX, image::imageops::FilterType::Triangle) } else { img };
    let rgba = small.to_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in rgb.pixels_mut().zip(rgba.pixels()) {
        let a = u16::from(src[3]);
        let over_white = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        *dst = image::Rgb([over_white(src[0]), over_white(src[1]), over_white(src[2])]);
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY).encode_image(&rgb)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, 200]));
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn thumbnails_fit_320_keep_the_aspect_and_never_grow() {
        let t = image::load_from_memory(&thumbnail(&png(1000, 500), ImageFormat::Png).unwrap()).unwrap();
        assert_eq!((t.width(), t.height()), (320, 160));
        let t = image::load_from_memory(&thumbnail(&png(40, 90), ImageFormat::Png).unwrap()).unwrap();
        assert_eq!((t.width(), t.height()), (40, 90));
        assert!(thumbnail(b"\x89PNG\r\n\x1a\nnot really", ImageFormat::Png).is_err());
    }
}

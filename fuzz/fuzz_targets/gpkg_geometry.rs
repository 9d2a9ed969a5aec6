//! `zhili_gpkg::geometry::decode` on arbitrary blobs: the bytes of a GeoPackage someone uploads.
//! It must answer an error, never panic, and never allocate what the blob cannot hold (counts are
//! checked against the bytes left: no single allocation above 8 bytes per byte of blob, watched by
//! the global allocator here, so it holds without AddressSanitizer too); what it decodes must
//! encode back to the same area, and its GeoJSON must go through the grid import's parser (which
//! may refuse it, but not panic).
//!
//! The decoder is the crate's own source file, compiled here as a module: `zhili_gpkg::geometry`
//! needs only serde_json and thiserror, while the crate also opens files through sqlx.
#![no_main]

#[path = "../../crates/zhili-gpkg/src/geometry.rs"]
#[allow(dead_code)]
mod geometry;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use geometry::{decode, Area, Ring};
use libfuzzer_sys::fuzz_target;

/// The system allocator, remembering the largest single request since the last reset.
struct Watching;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// A GeoPackage blob (little-endian header, no envelope) holding `area` as 2D little-endian WKB.
fn encode(srs_id: i32, area: &Area) -> Vec<u8> {
    fn polygon(out: &mut Vec<u8>, rings: &[Ring]) {
        out.push(1);
        out.extend(3u32.to_le_bytes());
        out.extend((rings.len() as u32).to_le_bytes());
        for ring in rings {
            out.extend((ring.len() as u32).to_le_bytes());
            for [x, y] in ring {
                out.extend(x.to_le_bytes());
                out.extend(y.to_le_bytes());
            }
        }
    }
    let mut out = vec![b'G', b'P', 0, 1];
    out.extend(srs_id.to_le_bytes());
    match area {
        Area::Polygon(rings) => polygon(&mut out, rings),
        Area::MultiPolygon(polys) => {
            out.push(1);
            out.extend(6u32.to_le_bytes());
            out.extend((polys.len() as u32).to_le_bytes());
            for p in polys {
                polygon(&mut out, p);
            }
        }
    }
    out
}

fuzz_target!(|blob: &[u8]| {
    LARGEST.store(0, Ordering::Relaxed);
    let decoded = decode(blob);
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest <= 8 * blob.len() + 1024, "decoding {} bytes allocated {largest} bytes at once", blob.len());
    let Ok(geometry) = decoded else { return };
    let Some(area) = &geometry.area else { return };
    let again = decode(&encode(geometry.srs_id, area)).expect("a decoded area encodes to a valid blob");
    assert_eq!(again, geometry, "decode(encode(decode(blob))) differs");
    let _ = zhili_geo::geometry::parse_area(&area.to_geojson());
});

//! `zhili_geo::geometry::parse_area_text` on arbitrary text: a boundary from an import file or a
//! request body. It must answer an error, never panic; an accepted area must write back (both
//! writers) to GeoJSON of the same shape that reads back to the same area.
//!
//! "The same" is to 4 ulps, not bit for bit: serde_json without its `float_roundtrip` feature
//! (the workspace's build) reads some 17-digit numbers one ulp off, e.g. "117.77777777777779"
//! as 117.7777777777778, so a written coordinate can come back an ulp away (about 1e-14°).
//! With `float_roundtrip` on, this could be exact.
#![no_main]

use geo::MultiPolygon;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use zhili_geo::geometry::{area_to_geojson, area_to_geojson_string, parse_area_text, read_stored_area};

/// Same sign and at most 4 representable doubles apart.
fn close(a: f64, b: f64) -> bool {
    a == b || (a.is_sign_negative() == b.is_sign_negative() && a.to_bits().abs_diff(b.to_bits()) <= 4)
}

/// The same JSON, numbers compared with [`close`].
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => close(x.as_f64().unwrap(), y.as_f64().unwrap()),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// The same rings in the same order, coordinates compared with [`close`].
fn same_area(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    let rings = |mp: &MultiPolygon<f64>| {
        mp.0.iter()
            .map(|p| std::iter::once(p.exterior()).chain(p.interiors()).map(|r| r.0.clone()).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    let (a, b) = (rings(a), rings(b));
    a.len() == b.len()
        && a.iter().zip(&b).all(|(p, q)| {
            p.len() == q.len()
                && p.iter().zip(q).all(|(r, s)| {
                    r.len() == s.len() && r.iter().zip(s).all(|(c, d)| close(c.x, d.x) && close(c.y, d.y))
                })
        })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(area) = parse_area_text(text) else { return };
    let written = area_to_geojson_string(&area);
    let tree: Value = serde_json::from_str(&written).expect("area_to_geojson_string writes JSON");
    let other = area_to_geojson(&area);
    assert!(same_json(&tree, &other), "the two GeoJSON writers differ:\n{written}\n{other}");
    let back = read_stored_area(&written).expect("a written area reads back");
    assert!(same_area(&back, &area), "the area changed on the way back: {area:?} -> {written} -> {back:?}");
});

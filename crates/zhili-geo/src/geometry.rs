//! Area geometries from and to GeoJSON (面状几何), validated before anything is stored.
//!
//! Errors name the position in the GeoJSON (`coordinates[0][3]`) and the rule broken, so a
//! GIS clerk can find the bad vertex. Validity follows OGC Simple Features (closed rings,
//! no self-intersection, holes inside their shell), checked by `geo`'s `Validation`.

use geo::algorithm::Validation;
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{json, Value};

/// Most vertices accepted in one geometry (a guard against oversized input).
pub const MAX_VERTICES: usize = 200_000;

/// Why a geometry was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct GeometryError {
    /// Where in the GeoJSON, e.g. `coordinates[0][3]`.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

fn fail(at: impl Into<String>, message: impl Into<String>) -> GeometryError {
    GeometryError { at: at.into(), message: message.into() }
}

fn coord(v: &Value, at: &str) -> Result<Coord<f64>, GeometryError> {
    let a = v.as_array().ok_or_else(|| fail(at, "a position must be an array [longitude, latitude]"))?;
    if a.len() < 2 {
        return Err(fail(at, "a position needs longitude and latitude"));
    }
    let x = a[0].as_f64().ok_or_else(|| fail(at, "longitude must be a number"))?;
    let y = a[1].as_f64().ok_or_else(|| fail(at, "latitude must be a number"))?;
    if !(-180.0..=180.0).contains(&x) {
        return Err(fail(at, format!("longitude {x} is outside -180..180")));
    }
    if !(-90.0..=90.0).contains(&y) {
        return Err(fail(at, format!("latitude {y} is outside -90..90")));
    }
    Ok(Coord { x, y })
}

fn ring(v: &Value, at: &str, budget: &mut usize) -> Result<LineString<f64>, GeometryError> {
    let a = v.as_array().ok_or_else(|| fail(at, "a ring must be an array of positions"))?;
    if a.len() < 4 {
        return Err(fail(at, format!("a ring needs at least 4 positions (closed), got {}", a.len())));
    }
    if a.len() > *budget {
        return Err(fail(at, format!("too many vertices (at most {MAX_VERTICES} per geometry)")));
    }
    *budget -= a.len();
    let coords = a.iter().enumerate().map(|(i, p)| coord(p, &format!("{at}[{i}]"))).collect::<Result<Vec<_>, _>>()?;
    if coords.first() != coords.last() {
        return Err(fail(at, "a ring must be closed: its last position must equal its first"));
    }
    Ok(LineString::new(coords))
}

fn polygon(v: &Value, at: &str, budget: &mut usize) -> Result<Polygon<f64>, GeometryError> {
    let rings = v.as_array().ok_or_else(|| fail(at, "a polygon must be an array of rings"))?;
    let Some((shell, holes)) = rings.split_first() else { return Err(fail(at, "a polygon needs an exterior ring")) };
    let shell = ring(shell, &format!("{at}[0]"), budget)?;
    let holes = holes
        .iter()
        .enumerate()
        .map(|(i, r)| ring(r, &format!("{at}[{}]", i + 1), budget))
        .collect::<Result<_, _>>()?;
    Ok(Polygon::new(shell, holes))
}

/// Parse and validate a GeoJSON Polygon or MultiPolygon geometry (a bare geometry, or a
/// Feature whose geometry is one).
pub fn parse_area(v: &Value) -> Result<MultiPolygon<f64>, GeometryError> {
    let mp = parse_area_structure(v)?;
    if let Err(e) = mp.check_validation() {
        return Err(fail("coordinates", format!("invalid geometry: {e}")));
    }
    Ok(mp)
}

/// Read an area the store wrote: it was validated on the way in, so only its structure is
/// checked here (the OGC validity check is the costly part, and start-up reads thousands).
pub fn read_stored_area(s: &str) -> Result<MultiPolygon<f64>, GeometryError> {
    let v: Value = serde_json::from_str(s).map_err(|e| fail("geometry", format!("not JSON: {e}")))?;
    parse_area_structure(&v)
}

/// Structure, positions and ranges of a Polygon or MultiPolygon, without the validity check.
fn parse_area_structure(v: &Value) -> Result<MultiPolygon<f64>, GeometryError> {
    let geom = match v.get("type").and_then(Value::as_str) {
        Some("Feature") => v.get("geometry").ok_or_else(|| fail("geometry", "a Feature needs a geometry"))?,
        _ => v,
    };
    let ty = geom.get("type").and_then(Value::as_str).ok_or_else(|| fail("type", "a geometry needs a type"))?;
    let coords = geom.get("coordinates").ok_or_else(|| fail("coordinates", "a geometry needs coordinates"))?;
    let mut budget = MAX_VERTICES;
    let mp = match ty {
        "Polygon" => MultiPolygon::new(vec![polygon(coords, "coordinates", &mut budget)?]),
        "MultiPolygon" => {
            let ps =
                coords.as_array().ok_or_else(|| fail("coordinates", "a MultiPolygon needs an array of polygons"))?;
            if ps.is_empty() {
                return Err(fail("coordinates", "a MultiPolygon needs at least one polygon"));
            }
            MultiPolygon::new(
                ps.iter()
                    .enumerate()
                    .map(|(i, p)| polygon(p, &format!("coordinates[{i}]"), &mut budget))
                    .collect::<Result<_, _>>()?,
            )
        }
        other => return Err(fail("type", format!("expected Polygon or MultiPolygon, got {other}"))),
    };
    Ok(mp)
}

/// Parse GeoJSON text; see [`parse_area`].
pub fn parse_area_text(s: &str) -> Result<MultiPolygon<f64>, GeometryError> {
    let v: Value = serde_json::from_str(s).map_err(|e| fail("geometry", format!("not JSON: {e}")))?;
    parse_area(&v)
}

fn ring_json(r: &LineString<f64>) -> Value {
    Value::Array(r.0.iter().map(|c| json!([c.x, c.y])).collect())
}

/// The GeoJSON of an area: a Polygon when there is one part, else a MultiPolygon.
pub fn area_to_geojson(mp: &MultiPolygon<f64>) -> Value {
    let poly = |p: &Polygon<f64>| {
        let mut rings = vec![ring_json(p.exterior())];
        rings.extend(p.interiors().iter().map(ring_json));
        Value::Array(rings)
    };
    match mp.0.as_slice() {
        [one] => json!({"type": "Polygon", "coordinates": poly(one)}),
        many => json!({"type": "MultiPolygon", "coordinates": many.iter().map(poly).collect::<Vec<_>>()}),
    }
}

/// The same GeoJSON as [`area_to_geojson`], written straight to text (fast: no JSON tree).
pub fn area_to_geojson_string(mp: &MultiPolygon<f64>) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64 + mp.0.iter().map(|p| p.exterior().0.len() * 24).sum::<usize>());
    let ring = |out: &mut String, r: &LineString<f64>| {
        out.push('[');
        for (i, c) in r.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // `{}` on f64 is the shortest text that reads back to the same number, as serde_json writes.
            let _ = write!(out, "[{},{}]", JsonNum(c.x), JsonNum(c.y));
        }
        out.push(']');
    };
    let poly = |out: &mut String, p: &Polygon<f64>| {
        out.push('[');
        ring(out, p.exterior());
        for h in p.interiors() {
            out.push(',');
            ring(out, h);
        }
        out.push(']');
    };
    match mp.0.as_slice() {
        [one] => {
            out.push_str("{\"type\":\"Polygon\",\"coordinates\":");
            poly(&mut out, one);
        }
        many => {
            out.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
            for (i, p) in many.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                poly(&mut out, p);
            }
            out.push(']');
        }
    }
    out.push('}');
    out
}

/// A number formatted as JSON: finite values as Rust's shortest round-trip text (with `.0`
/// for whole numbers, as serde_json writes them).
struct JsonNum(f64);

impl std::fmt::Display for JsonNum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.fract() == 0.0 && self.0.abs() < 1e15 {
            write!(f, "{:.1}", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(v: Value) -> String {
        parse_area(&v).unwrap_err().to_string()
    }

    #[test]
    fn valid_areas_round_trip() {
        let sq = json!({"type": "Polygon", "coordinates": [[[117.8, 36.4], [117.9, 36.4], [117.9, 36.5], [117.8, 36.5], [117.8, 36.4]]]});
        let mp = parse_area(&sq).unwrap();
        assert_eq!(area_to_geojson(&mp), sq);
        let feature = json!({"type": "Feature", "properties": {}, "geometry": sq});
        assert_eq!(parse_area(&feature).unwrap(), mp);
        let multi = json!({"type": "MultiPolygon", "coordinates": [sq["coordinates"], [[[118.0, 36.4], [118.1, 36.4], [118.1, 36.5], [118.0, 36.4]]]]});
        assert_eq!(parse_area(&multi).unwrap().0.len(), 2);
        assert_eq!(area_to_geojson(&parse_area(&multi).unwrap()), multi);
    }

    #[test]
    fn fast_text_equals_the_json_tree() {
        for v in [
            json!({"type": "Polygon", "coordinates": [[[117.8123456, 36.4], [117.9, 36.4], [117.9, 36.5], [117.8123456, 36.4]], [[117.85, 36.42], [117.86, 36.42], [117.86, 36.43], [117.85, 36.42]]]}),
            json!({"type": "MultiPolygon", "coordinates": [[[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]], [[[2.5, 2.0], [3.0, 2.0], [3.0, 3.0], [2.5, 2.0]]]]}),
        ] {
            let mp = parse_area(&v).unwrap();
            let text = area_to_geojson_string(&mp);
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), area_to_geojson(&mp));
            assert_eq!(parse_area_text(&text).unwrap(), mp);
        }
    }

    #[test]
    fn errors_say_where_and_why() {
        assert_eq!(
            err(json!({"type": "Point", "coordinates": [1, 2]})),
            "type: expected Polygon or MultiPolygon, got Point"
        );
        let e = err(
            json!({"type": "Polygon", "coordinates": [[[117.8, 36.4], [190.0, 36.4], [117.9, 36.5], [117.8, 36.4]]]}),
        );
        assert_eq!(e, "coordinates[0][1]: longitude 190 is outside -180..180");
        let e = err(json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}));
        assert!(e.contains("must be closed"), "{e}");
        let e = err(json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}));
        assert!(e.contains("at least 4 positions"), "{e}");
        // A bow tie crosses itself.
        let e = err(json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}));
        assert!(e.contains("self-intersection"), "{e}");
        let e = err(json!({"type": "Polygon", "coordinates": [[[0, 0], ["x", 0], [1, 1], [0, 0]]]}));
        assert_eq!(e, "coordinates[0][1]: longitude must be a number");
        assert!(parse_area_text("{").unwrap_err().to_string().starts_with("geometry: not JSON"));
    }
}

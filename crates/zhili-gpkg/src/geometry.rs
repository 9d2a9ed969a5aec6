//! The GeoPackage geometry blob (OGC 12-128r18 §2.1.3): a `GP` header carrying the SRS id and an
//! optional envelope, followed by standard WKB. Only areas are decoded — Polygon and MultiPolygon,
//! in their ISO (1003…3006) and EWKB-flag (0x80000000 Z, 0x40000000 M) variants, with Z and M
//! dropped — because grids are areas. Every error names the byte offset from the start of the blob,
//! and every count is checked against the bytes left before anything is allocated.

use serde_json::{json, Value};

/// A linear ring: `[x, y]` (longitude, latitude) positions, first equal to last if well formed.
pub type Ring = Vec<[f64; 2]>;

/// An area decoded from WKB.
#[derive(Debug, Clone, PartialEq)]
pub enum Area {
    /// One polygon: the exterior ring, then any holes.
    Polygon(Vec<Ring>),
    /// Several polygons, each an exterior ring then holes.
    MultiPolygon(Vec<Vec<Ring>>),
}

impl Area {
    /// The area as a GeoJSON geometry object (`Polygon` or `MultiPolygon`).
    pub fn to_geojson(&self) -> Value {
        match self {
            Area::Polygon(rings) => json!({"type": "Polygon", "coordinates": polygon_json(rings)}),
            Area::MultiPolygon(polys) => json!({
                "type": "MultiPolygon",
                "coordinates": polys.iter().map(|p| polygon_json(p)).collect::<Vec<_>>(),
            }),
        }
    }
}

fn polygon_json(rings: &[Ring]) -> Value {
    Value::Array(rings.iter().map(|r| Value::Array(r.iter().map(|[x, y]| json!([x, y])).collect())).collect())
}

/// A decoded GeoPackage geometry blob.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    /// The SRS id written in the blob's header.
    pub srs_id: i32,
    /// The area, or `None` when the geometry is empty (header flag, or no rings / no polygons).
    pub area: Option<Area>,
}

/// Why a geometry blob could not be decoded. Offsets count from the first byte of the blob.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    /// The blob does not start with `GP`.
    #[error(
        "the geometry blob starts with {} instead of the GeoPackage magic \"GP\" (0x47 0x50) at byte 0; \
         is it plain WKB or a SpatiaLite geometry?",
        hex(.found)
    )]
    BadMagic {
        /// The first (up to two) bytes found.
        found: Vec<u8>,
    },
    /// The version byte is not 0 (GeoPackage binary version 1).
    #[error("GeoPackage binary version {0} at byte 2 is not supported (only 0, meaning version 1)")]
    Version(u8),
    /// The envelope indicator (flags bits 1–3) is 5, 6 or 7.
    #[error("envelope indicator {0} in the flags byte (byte 3) is invalid; only 0–4 are defined")]
    EnvelopeIndicator(u8),
    /// The flags mark an ExtendedGeoPackageBinary geometry (bit 5).
    #[error(
        "the flags byte (byte 3) marks an ExtendedGeoPackageBinary geometry, which is not supported; \
         save the layer with standard geometry types"
    )]
    Extended,
    /// The blob ends before a field it must hold.
    #[error("the geometry blob ends at byte {len}, but {what} at byte {offset} needs {needed} bytes")]
    Truncated {
        /// Where the field starts.
        offset: usize,
        /// The field (e.g. "the point count").
        what: &'static str,
        /// Its size in bytes.
        needed: usize,
        /// The blob's length.
        len: usize,
    },
    /// A count that the rest of the blob cannot possibly hold.
    #[error(
        "{what} at byte {offset} is {count}, which needs at least {needed} bytes, but only {remaining} remain in \
         the blob"
    )]
    CountTooLarge {
        /// Where the count is.
        offset: usize,
        /// What is counted ("the ring count", "the point count", "the polygon count").
        what: &'static str,
        /// The count read.
        count: u32,
        /// The least number of bytes that many items take.
        needed: u64,
        /// Bytes left after the count.
        remaining: usize,
    },
    /// The WKB byte-order byte is neither 0 nor 1.
    #[error("WKB byte order {value} at byte {offset} is invalid; it must be 0 (big-endian) or 1 (little-endian)")]
    ByteOrder {
        /// Where the byte is.
        offset: usize,
        /// The value found.
        value: u8,
    },
    /// A geometry that is not an area (Point, LineString, GeometryCollection…).
    #[error(
        "geometry type {name} (WKB type {code} at byte {offset}) is not an area; grids need Polygon or MultiPolygon"
    )]
    NotArea {
        /// Where the WKB type is.
        offset: usize,
        /// The type's name, with Z/M/ZM when present.
        name: String,
        /// The WKB type code as written.
        code: u32,
    },
    /// An area type that is not decoded (curves, surfaces, TINs).
    #[error(
        "geometry type {name} (WKB type {code} at byte {offset}) is not supported; grids need Polygon or \
         MultiPolygon (convert curves and surfaces to polygons first, e.g. ogr2ogr -nlt MULTIPOLYGON)"
    )]
    UnsupportedArea {
        /// Where the WKB type is.
        offset: usize,
        /// The type's name, with Z/M/ZM when present.
        name: String,
        /// The WKB type code as written.
        code: u32,
    },
    /// A WKB type code that is not defined.
    #[error("WKB geometry type {code} ({code:#010x}) at byte {offset} is unknown")]
    UnknownType {
        /// Where the WKB type is.
        offset: usize,
        /// The code as written.
        code: u32,
    },
    /// A MultiPolygon member that is not a Polygon.
    #[error("a MultiPolygon member must be a Polygon, but the one at byte {offset} is a {name}")]
    Member {
        /// Where the member's WKB type is.
        offset: usize,
        /// The member's type name.
        name: String,
    },
    /// A coordinate that is NaN or infinite.
    #[error("coordinate {axis} at byte {offset} is {value}; coordinates must be finite numbers")]
    NonFinite {
        /// Where the coordinate is.
        offset: usize,
        /// `x` or `y`.
        axis: char,
        /// The value read.
        value: f64,
    },
    /// Bytes after the end of the WKB geometry.
    #[error("{count} unexpected bytes follow the end of the geometry at byte {offset}")]
    Trailing {
        /// Where the geometry ended.
        offset: usize,
        /// How many bytes follow.
        count: usize,
    },
}

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing (an empty blob)".into();
    }
    bytes.iter().map(|b| format!("{b:#04x}")).collect::<Vec<_>>().join(" ")
}

/// WKB type code: `Polygon`.
const POLYGON: u32 = 3;
/// WKB type code: `MultiPolygon`.
const MULTI_POLYGON: u32 = 6;

/// Decode a GeoPackage geometry blob (header, envelope, WKB Polygon or MultiPolygon).
pub fn decode(blob: &[u8]) -> Result<Geometry, GeometryError> {
    if blob.len() < 2 || blob[..2] != *b"GP" {
        return Err(GeometryError::BadMagic { found: blob[..blob.len().min(2)].to_vec() });
    }
    let mut r = Reader { buf: blob, pos: 2 };
    let version = r.u8("the version byte")?;
    if version != 0 {
        return Err(GeometryError::Version(version));
    }
    let flags = r.u8("the flags byte")?;
    if flags & 0b0010_0000 != 0 {
        return Err(GeometryError::Extended);
    }
    let empty = flags & 0b0001_0000 != 0;
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => return Err(GeometryError::EnvelopeIndicator(other)),
    };
    let header_order = if flags & 1 == 1 { Order::Little } else { Order::Big };
    let srs_id = r.u32(header_order, "the header's srs_id")? as i32;
    r.take(envelope, "the envelope")?;
    let area = read_area(&mut r)?;
    if r.pos < blob.len() {
        return Err(GeometryError::Trailing { offset: r.pos, count: blob.len() - r.pos });
    }
    let area = match area {
        _ if empty => None,
        Area::Polygon(rings) if rings.is_empty() => None,
        Area::MultiPolygon(polys) if polys.is_empty() => None,
        area => Some(area),
    };
    Ok(Geometry { srs_id, area })
}

#[derive(Clone, Copy)]
enum Order {
    Big,
    Little,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], GeometryError> {
        if self.remaining() < n {
            return Err(GeometryError::Truncated { offset: self.pos, what, needed: n, len: self.buf.len() });
        }
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, GeometryError> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, order: Order, what: &'static str) -> Result<u32, GeometryError> {
        let b: [u8; 4] = self.take(4, what)?.try_into().expect("took 4 bytes");
        Ok(match order {
            Order::Big => u32::from_be_bytes(b),
            Order::Little => u32::from_le_bytes(b),
        })
    }

    fn f64(&mut self, order: Order, what: &'static str) -> Result<f64, GeometryError> {
        let b: [u8; 8] = self.take(8, what)?.try_into().expect("took 8 bytes");
        Ok(match order {
            Order::Big => f64::from_be_bytes(b),
            Order::Little => f64::from_le_bytes(b),
        })
    }

    /// A count of items of at least `min_size` bytes each, checked against the bytes left.
    fn count(&mut self, order: Order, what: &'static str, min_size: u64) -> Result<usize, GeometryError> {
        let offset = self.pos;
        let count = self.u32(order, what)?;
        let needed = u64::from(count) * min_size;
        if needed > self.remaining() as u64 {
            return Err(GeometryError::CountTooLarge { offset, what, count, needed, remaining: self.remaining() });
        }
        Ok(count as usize)
    }
}

/// A WKB geometry header: byte order, base type, and how many ordinates each point has.
struct WkbHeader {
    order: Order,
    base: u32,
    dims: usize,
    offset: usize,
    code: u32,
}

impl WkbHeader {
    fn name(&self) -> String {
        let base = match self.base {
            1 => "Point",
            2 => "LineString",
            3 => "Polygon",
            4 => "MultiPoint",
            5 => "MultiLineString",
            6 => "MultiPolygon",
            7 => "GeometryCollection",
            8 => "CircularString",
            9 => "CompoundCurve",
            10 => "CurvePolygon",
            11 => "MultiCurve",
            12 => "MultiSurface",
            13 => "Curve",
            14 => "Surface",
            15 => "PolyhedralSurface",
            16 => "TIN",
            17 => "Triangle",
            _ => "unknown",
        };
        match self.dims {
            3 if self.code & 0x4000_0000 != 0 || (self.code & 0x0FFF_FFFF) / 1000 == 2 => format!("{base} M"),
            3 => format!("{base} Z"),
            4 => format!("{base} ZM"),
            _ => base.to_string(),
        }
    }
}

fn read_header(r: &mut Reader) -> Result<WkbHeader, GeometryError> {
    let order_offset = r.pos;
    let order = match r.u8("the WKB byte order")? {
        0 => Order::Big,
        1 => Order::Little,
        value => return Err(GeometryError::ByteOrder { offset: order_offset, value }),
    };
    let offset = r.pos;
    let code = r.u32(order, "the WKB geometry type")?;
    let unknown = GeometryError::UnknownType { offset, code };
    // EWKB flags; an SRID flag (0x20000000) or other high bits have no place in a GeoPackage.
    if code & 0x3000_0000 != 0 {
        return Err(unknown);
    }
    let (mut z, mut m) = (code & 0x8000_0000 != 0, code & 0x4000_0000 != 0);
    let iso = code & 0x0FFF_FFFF;
    match iso / 1000 {
        0 => {}
        1 => z = true,
        2 => m = true,
        3 => (z, m) = (true, true),
        _ => return Err(unknown),
    }
    let base = iso % 1000;
    if !(1..=17).contains(&base) {
        return Err(unknown);
    }
    Ok(WkbHeader { order, base, dims: 2 + usize::from(z) + usize::from(m), offset, code })
}

fn read_area(r: &mut Reader) -> Result<Area, GeometryError> {
    let h = read_header(r)?;
    match h.base {
        POLYGON => read_polygon(r, &h).map(Area::Polygon),
        MULTI_POLYGON => {
            // Each member holds at least a byte order, a type and a ring count.
            let n = r.count(h.order, "the polygon count", 9)?;
            let mut polys = Vec::with_capacity(n);
            for _ in 0..n {
                let member = read_header(r)?;
                if member.base != POLYGON {
                    return Err(GeometryError::Member { offset: member.offset, name: member.name() });
                }
                polys.push(read_polygon(r, &member)?);
            }
            Ok(Area::MultiPolygon(polys))
        }
        10 | 12 | 14..=17 => Err(GeometryError::UnsupportedArea { offset: h.offset, name: h.name(), code: h.code }),
        _ => Err(GeometryError::NotArea { offset: h.offset, name: h.name(), code: h.code }),
    }
}

fn read_polygon(r: &mut Reader, h: &WkbHeader) -> Result<Vec<Ring>, GeometryError> {
    let n = r.count(h.order, "the ring count", 4)?;
    let mut rings = Vec::with_capacity(n);
    for _ in 0..n {
        let points = r.count(h.order, "the point count", 8 * h.dims as u64)?;
        let mut ring = Vec::with_capacity(points);
        for _ in 0..points {
            let x = coordinate(r, h.order, 'x')?;
            let y = coordinate(r, h.order, 'y')?;
            r.take(8 * (h.dims - 2), "the point's z/m values")?;
            ring.push([x, y]);
        }
        rings.push(ring);
    }
    Ok(rings)
}

fn coordinate(r: &mut Reader, order: Order, axis: char) -> Result<f64, GeometryError> {
    let offset = r.pos;
    let value = r.f64(order, if axis == 'x' { "the x coordinate" } else { "the y coordinate" })?;
    if !value.is_finite() {
        return Err(GeometryError::NonFinite { offset, axis, value });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian GP header without envelope, srs 4326.
    fn gp(wkb: &[u8]) -> Vec<u8> {
        let mut b = vec![b'G', b'P', 0, 0b0000_0001];
        b.extend(4326u32.to_le_bytes());
        b.extend(wkb);
        b
    }

    fn le_polygon(code: u32, dims: usize, rings: &[&[[f64; 2]]]) -> Vec<u8> {
        let mut b = vec![1];
        b.extend(code.to_le_bytes());
        b.extend((rings.len() as u32).to_le_bytes());
        for ring in rings {
            b.extend((ring.len() as u32).to_le_bytes());
            for [x, y] in ring.iter() {
                b.extend(x.to_le_bytes());
                b.extend(y.to_le_bytes());
                for extra in 2..dims {
                    b.extend((extra as f64 * 10.0).to_le_bytes());
                }
            }
        }
        b
    }

    const SQUARE: [[f64; 2]; 5] = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]];

    fn err(blob: &[u8]) -> GeometryError {
        decode(blob).expect_err("should fail")
    }

    #[test]
    fn polygon_in_every_dimension_variant() {
        let expected = Some(Area::Polygon(vec![SQUARE.to_vec()]));
        for (code, dims) in
            [(3, 2), (1003, 3), (2003, 3), (3003, 4), (0x8000_0003, 3), (0x4000_0003, 3), (0xC000_0003, 4)]
        {
            let g = decode(&gp(&le_polygon(code, dims, &[&SQUARE]))).unwrap();
            assert_eq!(g, Geometry { srs_id: 4326, area: expected.clone() }, "type {code:#x}");
        }
    }

    #[test]
    fn multipolygon_with_z_members() {
        let mut wkb = vec![1];
        wkb.extend(1006u32.to_le_bytes());
        wkb.extend(2u32.to_le_bytes());
        wkb.extend(le_polygon(1003, 3, &[&SQUARE]));
        wkb.extend(le_polygon(1003, 3, &[&SQUARE, &SQUARE]));
        let g = decode(&gp(&wkb)).unwrap();
        assert_eq!(
            g.area,
            Some(Area::MultiPolygon(vec![vec![SQUARE.to_vec()], vec![SQUARE.to_vec(), SQUARE.to_vec()]]))
        );
        assert_eq!(
            g.area.unwrap().to_geojson()["coordinates"][1][1][2],
            json!([1.0, 1.0]),
            "second polygon, hole, third point"
        );
    }

    #[test]
    fn empty_geometries_decode_to_none() {
        let mut flagged = gp(&le_polygon(3, 2, &[]));
        flagged[3] |= 0b0001_0000;
        assert_eq!(decode(&flagged).unwrap().area, None);
        assert_eq!(decode(&gp(&le_polygon(3, 2, &[]))).unwrap().area, None);
        let mut multi = vec![1];
        multi.extend(6u32.to_le_bytes());
        multi.extend(0u32.to_le_bytes());
        assert_eq!(decode(&gp(&multi)).unwrap().area, None);
    }

    #[test]
    fn header_errors() {
        assert_eq!(err(b""), GeometryError::BadMagic { found: vec![] });
        assert_eq!(
            err(&le_polygon(3, 2, &[&SQUARE])).to_string(),
            "the geometry blob starts with 0x01 0x03 instead of the GeoPackage magic \"GP\" (0x47 0x50) at byte 0; \
             is it plain WKB or a SpatiaLite geometry?"
        );
        assert_eq!(err(b"GP\x01\x01"), GeometryError::Version(1));
        assert_eq!(err(b"GP\x00\x0b"), GeometryError::EnvelopeIndicator(5));
        assert_eq!(err(b"GP\x00\x21"), GeometryError::Extended);
        assert_eq!(err(b"GP\x00"), GeometryError::Truncated { offset: 3, what: "the flags byte", needed: 1, len: 3 });
        assert_eq!(
            err(b"GP\x00\x03\xe6\x10\x00\x00\x00\x00"),
            GeometryError::Truncated { offset: 8, what: "the envelope", needed: 32, len: 10 }
        );
    }

    #[test]
    fn wkb_errors() {
        let square = le_polygon(3, 2, &[&SQUARE]);
        let mut bad_order = gp(&square);
        bad_order[8] = 7;
        assert_eq!(err(&bad_order), GeometryError::ByteOrder { offset: 8, value: 7 });

        let mut line = vec![1];
        line.extend(2u32.to_le_bytes());
        line.extend(0u32.to_le_bytes());
        assert_eq!(
            err(&gp(&line)).to_string(),
            "geometry type LineString (WKB type 2 at byte 9) is not an area; grids need Polygon or MultiPolygon"
        );
        line[1..5].copy_from_slice(&1002u32.to_le_bytes());
        assert_eq!(err(&gp(&line)), GeometryError::NotArea { offset: 9, name: "LineString Z".into(), code: 1002 });
        line[1..5].copy_from_slice(&10u32.to_le_bytes());
        assert_eq!(
            err(&gp(&line)),
            GeometryError::UnsupportedArea { offset: 9, name: "CurvePolygon".into(), code: 10 }
        );
        for code in [0u32, 18, 4003, 0x2000_0003] {
            line[1..5].copy_from_slice(&code.to_le_bytes());
            assert_eq!(err(&gp(&line)), GeometryError::UnknownType { offset: 9, code });
        }

        let mut multi = vec![1];
        multi.extend(6u32.to_le_bytes());
        multi.extend(1u32.to_le_bytes());
        multi.extend(&line[..1]);
        multi.extend(2002u32.to_le_bytes());
        multi.extend([0; 4]);
        assert_eq!(err(&gp(&multi)), GeometryError::Member { offset: 18, name: "LineString M".into() });

        let mut nan = square.clone();
        nan[21..29].copy_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(err(&gp(&nan)).to_string(), "coordinate y at byte 29 is NaN; coordinates must be finite numbers");
        let mut inf = square.clone();
        inf[13..21].copy_from_slice(&f64::NEG_INFINITY.to_le_bytes());
        assert_eq!(err(&gp(&inf)), GeometryError::NonFinite { offset: 21, axis: 'x', value: f64::NEG_INFINITY });

        let mut trailing = gp(&square);
        trailing.extend([0, 0]);
        assert_eq!(err(&trailing), GeometryError::Trailing { offset: 8 + square.len(), count: 2 });
    }

    #[test]
    fn counts_are_checked_before_allocating() {
        let mut rings = le_polygon(3, 2, &[&SQUARE]);
        rings[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            err(&gp(&rings)).to_string(),
            "the ring count at byte 13 is 4294967295, which needs at least 17179869180 bytes, but only 84 remain in \
             the blob"
        );
        let mut points = le_polygon(1003, 3, &[&SQUARE]);
        points[9..13].copy_from_slice(&6u32.to_le_bytes());
        assert_eq!(
            err(&gp(&points)),
            GeometryError::CountTooLarge { offset: 17, what: "the point count", count: 6, needed: 144, remaining: 120 }
        );
        let mut multi = vec![1];
        multi.extend(6u32.to_le_bytes());
        multi.extend(0x1000_0000u32.to_le_bytes());
        assert!(matches!(err(&gp(&multi)), GeometryError::CountTooLarge { what: "the polygon count", .. }));
        let square = gp(&le_polygon(3, 2, &[&SQUARE]));
        assert_eq!(
            err(&square[..square.len() - 3]),
            GeometryError::CountTooLarge { offset: 17, what: "the point count", count: 5, needed: 80, remaining: 77 }
        );
        assert_eq!(
            err(&square[..15]).to_string(),
            "the geometry blob ends at byte 15, but the ring count at byte 13 needs 4 bytes"
        );
    }
}

//! GCJ-02 (国测局坐标, "Mars coordinates") conversion for Chinese commercial basemaps.
//!
//! AMap (高德) and Tencent maps use GCJ-02, an obfuscated offset of WGS-84 by a few hundred metres;
//! our data are WGS-84/CGCS2000. The forward transform is the widely published formula on the
//! Krasovsky 1940 ellipsoid; the inverse is computed by fixed-point iteration to better than
//! 1e-9 degrees (about 0.1 mm), not by the usual one-step approximation (errors of metres).
//! Outside China (a rough rectangle, as in the common implementations) no offset is applied.
//! Longitude first everywhere.

use std::f64::consts::PI;

/// Semi-major axis of the Krasovsky 1940 ellipsoid, metres.
const A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid.
const EE: f64 = 0.006_693_421_622_965_943; // 0.00669342162296594323, as published

/// `true` when the point is outside the (rough) area where GCJ-02 applies an offset:
/// longitude outside 72.004–137.8347 E or latitude outside 0.8293–55.8271 N.
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 position inside China.
fn offset(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = transform_lat(x, y) * 180.0 / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = transform_lon(x, y) * 180.0 / (A / sqrt_magic * rad_lat.cos() * PI);
    (dlon, dlat)
}

/// WGS-84 → GCJ-02. Identity outside China (see [`out_of_china`]).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let (dlon, dlat) = offset(lon, lat);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS-84, by iterating `w ← w + (g − forward(w))` until the forward transform of the
/// result reproduces the input to 1e-10 degrees (three to five iterations; at most 30). Identity
/// when the GCJ-02 position is outside China.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (elon, elat) = (lon - glon, lat - glat);
        wlon += elon;
        wlat += elat;
        if elon.abs() < 1e-10 && elat.abs() < 1e-10 {
            break;
        }
    }
    (wlon, wlat)
}

/// The coordinate system a map client draws in (底图坐标系): our data are WGS-84; a Chinese
/// commercial basemap is GCJ-02, and our layers must then be shifted onto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MapCrs {
    /// WGS-84 / CGCS2000 longitude-latitude (the data's own).
    #[default]
    Wgs84,
    /// GCJ-02 (国测局坐标).
    Gcj02,
}

impl MapCrs {
    /// Parse `wgs84` (also `cgcs2000`, the OGC CRS84 URI) or `gcj02`.
    pub fn parse(s: &str) -> Option<MapCrs> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wgs84" | "cgcs2000" | "crs84" | "http://www.opengis.net/def/crs/ogc/1.3/crs84" => Some(MapCrs::Wgs84),
            "gcj02" => Some(MapCrs::Gcj02),
            _ => None,
        }
    }

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            MapCrs::Wgs84 => "wgs84",
            MapCrs::Gcj02 => "gcj02",
        }
    }

    /// A WGS-84 position in this system.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            MapCrs::Wgs84 => (lon, lat),
            MapCrs::Gcj02 => wgs84_to_gcj02(lon, lat),
        }
    }

    /// A position in this system, back in WGS-84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            MapCrs::Wgs84 => (lon, lat),
            MapCrs::Gcj02 => gcj02_to_wgs84(lon, lat),
        }
    }

    /// A geometry moved into this system (borrowed unchanged for WGS-84).
    pub fn geometry<'a>(self, g: &'a geo::MultiPolygon<f64>) -> std::borrow::Cow<'a, geo::MultiPolygon<f64>> {
        use geo::MapCoords;
        match self {
            MapCrs::Wgs84 => std::borrow::Cow::Borrowed(g),
            MapCrs::Gcj02 => std::borrow::Cow::Owned(g.map_coords(|c| {
                let (x, y) = wgs84_to_gcj02(c.x, c.y);
                geo::coord! { x: x, y: y }
            })),
        }
    }

    /// The WGS-84 rectangle that holds everything which, in this system, meets `r`: the corners
    /// moved back, widened by 0.001° for the offset's variation across the rectangle.
    pub fn query_rect(self, r: geo::Rect<f64>) -> geo::Rect<f64> {
        match self {
            MapCrs::Wgs84 => r,
            MapCrs::Gcj02 => {
                let (x0, y0) = gcj02_to_wgs84(r.min().x, r.min().y);
                let (x1, y1) = gcj02_to_wgs84(r.max().x, r.max().y);
                const M: f64 = 0.001;
                geo::Rect::new((x0.min(x1) - M, y0.min(y1) - M), (x0.max(x1) + M, y0.max(y1) + M))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_point() {
        // Tiananmen: WGS-84 (116.397428, 39.90923) shows on AMap at about (116.403672, 39.910626).
        let (lon, lat) = wgs84_to_gcj02(116.397428, 39.90923);
        assert!((lon - 116.403672).abs() < 1e-5 && (lat - 39.910626).abs() < 1e-5, "{lon} {lat}");
        let (lon, lat) = gcj02_to_wgs84(116.403672, 39.910626);
        assert!((lon - 116.397428).abs() < 1e-5 && (lat - 39.90923).abs() < 1e-5, "{lon} {lat}");
        // 淄博 (Zibo, Boshan district) offset is a few hundred metres, mostly eastward.
        let (lon, lat) = wgs84_to_gcj02(117.86, 36.49);
        let (dx, dy) = ((lon - 117.86) * 89_500.0, (lat - 36.49) * 111_000.0);
        assert!((300.0..800.0).contains(&dx.hypot(dy)), "{dx} {dy}");
    }

    #[test]
    fn round_trip_across_china() {
        let mut worst = 0.0f64;
        let mut lat = 18.0;
        while lat <= 53.5 {
            let mut lon = 73.5;
            while lon <= 135.0 {
                let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
                assert!((g_lon - lon).abs() > 1e-5 || (g_lat - lat).abs() > 1e-5, "no offset at {lon} {lat}");
                let (w_lon, w_lat) = gcj02_to_wgs84(g_lon, g_lat);
                worst = worst.max((w_lon - lon).abs()).max((w_lat - lat).abs());
                lon += 0.37;
            }
            lat += 0.29;
        }
        assert!(worst < 1e-9, "worst round-trip error {worst}");
    }

    #[test]
    fn identity_outside_china() {
        for (lon, lat) in
            [(2.35, 48.85), (-74.0, 40.7), (139.69, 35.69), (100.0, -5.0), (100.0, 60.0), (f64::NAN, 30.0)]
        {
            assert!(out_of_china(lon, lat));
            let (a, b) = wgs84_to_gcj02(lon, lat);
            assert!(a.to_bits() == lon.to_bits() && b.to_bits() == lat.to_bits());
            let (a, b) = gcj02_to_wgs84(lon, lat);
            assert!(a.to_bits() == lon.to_bits() && b.to_bits() == lat.to_bits());
        }
        assert!(!out_of_china(116.4, 39.9));
    }

    #[test]
    fn map_crs_moves_geometries_and_query_rectangles() {
        use geo::{Contains, Rect};
        assert_eq!(MapCrs::parse("GCJ02"), Some(MapCrs::Gcj02));
        assert_eq!(MapCrs::parse("http://www.opengis.net/def/crs/OGC/1.3/CRS84"), Some(MapCrs::Wgs84));
        assert_eq!(MapCrs::parse("bd09"), None);
        let square: geo::MultiPolygon<f64> = Rect::new((117.90, 36.40), (117.91, 36.41)).to_polygon().into();
        assert!(matches!(MapCrs::Wgs84.geometry(&square), std::borrow::Cow::Borrowed(_)));
        let shifted = MapCrs::Gcj02.geometry(&square);
        let first = shifted.0[0].exterior().0[0];
        let (gx, gy) = wgs84_to_gcj02(square.0[0].exterior().0[0].x, square.0[0].exterior().0[0].y);
        assert_eq!((first.x, first.y), (gx, gy));
        // Everything whose shifted form meets a GCJ-02 rectangle lies in its WGS-84 query rectangle.
        let view = Rect::new((117.905, 36.405), (117.915, 36.415));
        let q = MapCrs::Gcj02.query_rect(view);
        for c in &shifted.0[0].exterior().0 {
            let (wx, wy) = gcj02_to_wgs84(c.x, c.y);
            if view.contains(c) {
                assert!(q.contains(&geo::coord! { x: wx, y: wy }));
            }
        }
        let (x, y) = MapCrs::Gcj02.from_wgs84(117.9, 36.4);
        let (bx, by) = MapCrs::Gcj02.to_wgs84(x, y);
        assert!((bx - 117.9).abs() < 1e-9 && (by - 36.4).abs() < 1e-9);
    }
}

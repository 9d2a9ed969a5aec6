//! Web Mercator (EPSG:3857) tile arithmetic for the XYZ scheme (瓦片编号与坐标换算).
//!
//! Vector tiles, tile caches and TileJSON all address the map the same way: at zoom `z` the
//! square Web Mercator world (±20,037,508.34 m on both axes, i.e. latitudes up to ±85.0511°) is
//! cut into `2^z × 2^z` tiles, `x` growing eastwards from the antimeridian and `y` growing
//! *southwards* from the top edge. Everything that has to agree on which piece of the earth a
//! tile is — the tile encoder in [`crate::mvt`], the HTTP handler validating `/{z}/{x}/{y}`, a
//! cache seeder walking a bounding box — uses this module, so the conventions live in one place.
//!
//! Three coordinate spaces appear here:
//! - longitude/latitude in degrees (WGS-84/CGCS2000), what the store holds;
//! - Web Mercator metres ([`lonlat_to_mercator`]), what EPSG:3857 clients speak;
//! - *world* coordinates ([`lonlat_to_world`]): Web Mercator normalised to the unit square with
//!   `y` pointing down, so that tile `(z, x, y)` covers `[x, x+1] × [y, y+1]` after scaling by
//!   `2^z`. Tile encoding works in this space because it makes the tile transform a plain affine
//!   map.
//!
//! Latitudes beyond ±[`MAX_LATITUDE`] are clamped (Web Mercator cannot represent the poles).

use std::f64::consts::PI;
use std::fmt;

/// The highest zoom level [`TileId::new`] accepts. At z24 a tile is about 2.4 m across at the
/// equator and one unit of a 4096-extent tile is under a millimetre; nothing needs more.
pub const MAX_ZOOM: u8 = 24;

/// The conventional number of integer units across a vector tile (MVT's default extent).
pub const DEFAULT_EXTENT: u32 = 4096;

/// Equatorial radius of the WGS-84 ellipsoid, the sphere radius Web Mercator uses, in metres.
pub const EARTH_RADIUS: f64 = 6_378_137.0;

/// Half the width of the Web Mercator world in metres (`π × EARTH_RADIUS` ≈ 20,037,508.34):
/// the square world spans `-ORIGIN_SHIFT..ORIGIN_SHIFT` on both axes.
pub const ORIGIN_SHIFT: f64 = PI * EARTH_RADIUS;

/// The latitude (degrees) at which Web Mercator's square world ends, `atan(sinh(π))`.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Why a tile address was rejected. The message names the offending part and its valid range,
/// so an HTTP handler can pass it straight into a 400 response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileError {
    /// The zoom level is above the allowed maximum.
    Zoom {
        /// The zoom requested.
        z: u8,
        /// The highest zoom allowed.
        max: u8,
    },
    /// The column is not below `2^z`.
    X {
        /// The column requested.
        x: u32,
        /// The (valid) zoom of the request.
        z: u8,
    },
    /// The row is not below `2^z`.
    Y {
        /// The row requested.
        y: u32,
        /// The (valid) zoom of the request.
        z: u8,
    },
}

impl fmt::Display for TileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TileError::Zoom { z, max } => write!(f, "zoom {z} is outside 0..{max}"),
            TileError::X { x, z } => write!(f, "x {x} is outside 0..{} at zoom {z}", tiles_per_side(z) - 1),
            TileError::Y { y, z } => write!(f, "y {y} is outside 0..{} at zoom {z}", tiles_per_side(z) - 1),
        }
    }
}

impl std::error::Error for TileError {}

/// Number of tiles along one side of the world at zoom `z` (`2^z`). `z` must be at most 31.
fn tiles_per_side(z: u8) -> u32 {
    1u32 << z
}

/// The address of one XYZ tile: zoom, column (from the antimeridian, eastwards) and row (from
/// the top, southwards). Construct it with [`TileId::new`] so the address is known to be valid;
/// the fields are public for reading and pattern matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom level, `0..=MAX_ZOOM`.
    pub z: u8,
    /// Column, `0..2^z`.
    pub x: u32,
    /// Row, `0..2^z`, counted from the north.
    pub y: u32,
}

impl TileId {
    /// Validates a tile address against [`MAX_ZOOM`] and `0..2^z` for `x` and `y`.
    pub fn new(z: u8, x: u32, y: u32) -> Result<TileId, TileError> {
        TileId::new_within(z, x, y, MAX_ZOOM)
    }

    /// Like [`TileId::new`] with a lower zoom ceiling (e.g. a layer's `maxzoom`); `max_zoom`
    /// above [`MAX_ZOOM`] is treated as `MAX_ZOOM`.
    pub fn new_within(z: u8, x: u32, y: u32, max_zoom: u8) -> Result<TileId, TileError> {
        let max = max_zoom.min(MAX_ZOOM);
        if z > max {
            return Err(TileError::Zoom { z, max });
        }
        let n = tiles_per_side(z);
        if x >= n {
            return Err(TileError::X { x, z });
        }
        if y >= n {
            return Err(TileError::Y { y, z });
        }
        Ok(TileId { z, x, y })
    }

    /// The tile at zoom `z` containing the point `lon`, `lat` (degrees). Points on a tile edge
    /// belong to the tile east/south of it; longitudes outside ±180 and latitudes beyond
    /// ±[`MAX_LATITUDE`] are clamped to the world's edge.
    pub fn containing(lon: f64, lat: f64, z: u8) -> Result<TileId, TileError> {
        if z > MAX_ZOOM {
            return Err(TileError::Zoom { z, max: MAX_ZOOM });
        }
        let [wx, wy] = lonlat_to_world(lon, lat);
        let n = tiles_per_side(z);
        let x = world_to_index(wx, n);
        let y = world_to_index(wy, n);
        Ok(TileId { z, x, y })
    }

    /// The tile's bounds in Web Mercator metres, `[min_x, min_y, max_x, max_y]`.
    pub fn bounds_mercator(&self) -> [f64; 4] {
        let size = 2.0 * ORIGIN_SHIFT / f64::from(tiles_per_side(self.z));
        let min_x = -ORIGIN_SHIFT + f64::from(self.x) * size;
        let max_y = ORIGIN_SHIFT - f64::from(self.y) * size;
        [min_x, max_y - size, min_x + size, max_y]
    }

    /// The tile's bounds in degrees, `[west, south, east, north]`.
    pub fn bounds_lonlat(&self) -> [f64; 4] {
        let n = f64::from(tiles_per_side(self.z));
        let lon = |x: u32| f64::from(x) / n * 360.0 - 180.0;
        let lat = |y: u32| (PI * (1.0 - 2.0 * f64::from(y) / n)).sinh().atan().to_degrees();
        [lon(self.x), lat(self.y + 1), lon(self.x + 1), lat(self.y)]
    }

    /// Web Mercator metres per tile unit at this tile's zoom for a tile of `extent` units; see
    /// [`metres_per_unit`].
    pub fn metres_per_unit(&self, extent: u32) -> f64 {
        metres_per_unit(self.z, extent)
    }
}

impl fmt::Display for TileId {
    /// Formats as `z/x/y`, the order of tile URLs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Converts a world coordinate in `[0, 1]` to a tile index in `0..n`.
fn world_to_index(w: f64, n: u32) -> u32 {
    let i = (w * f64::from(n)).floor();
    if i <= 0.0 {
        0
    } else {
        (i as u32).min(n - 1)
    }
}

/// Web Mercator metres covered by one unit of a tile of `extent` units at zoom `z` — with
/// [`DEFAULT_EXTENT`] this is the resolution vector-tile geometry is snapped and simplified to
/// (about 9.8 km at z0, 60 cm at z14, 2.3 mm at z22).
///
/// These are *projected* metres: on the ground a unit is shorter by the factor `cos(latitude)`
/// (≈ 0.80 at 36.5°N).
pub fn metres_per_unit(z: u8, extent: u32) -> f64 {
    2.0 * ORIGIN_SHIFT / (2f64.powi(i32::from(z)) * f64::from(extent))
}

/// Projects longitude/latitude (degrees) to Web Mercator metres `[x, y]` (EPSG:3857, y up).
/// Latitudes are clamped to ±[`MAX_LATITUDE`].
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> [f64; 2] {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    [lon.to_radians() * EARTH_RADIUS, (PI / 4.0 + lat / 2.0).tan().ln() * EARTH_RADIUS]
}

/// Inverse of [`lonlat_to_mercator`]: Web Mercator metres to longitude/latitude `[lon, lat]`.
pub fn mercator_to_lonlat(x: f64, y: f64) -> [f64; 2] {
    let lon = (x / EARTH_RADIUS).to_degrees();
    let lat = (2.0 * (y / EARTH_RADIUS).exp().atan() - PI / 2.0).to_degrees();
    [lon, lat]
}

/// Projects longitude/latitude (degrees) to *world* coordinates: Web Mercator normalised to the
/// unit square, `x` from the antimeridian eastwards and `y` from the top (north) downwards, both
/// in `[0, 1]`. Tile `(z, x, y)` covers `[x/2^z, (x+1)/2^z] × [y/2^z, (y+1)/2^z]`.
pub fn lonlat_to_world(lon: f64, lat: f64) -> [f64; 2] {
    let wx = ((lon + 180.0) / 360.0).clamp(0.0, 1.0);
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let wy = (0.5 - (PI / 4.0 + lat / 2.0).tan().ln() / (2.0 * PI)).clamp(0.0, 1.0);
    [wx, wy]
}

/// The tiles at zoom `z` that intersect a bounding box `[west, south, east, north]` in degrees,
/// row by row from the north-west. Tiles that only touch the box's east or south edge are not
/// included (a box that is a single point yields the tile [`TileId::containing`] it). A box
/// with `west > east` crosses the antimeridian and yields the tiles on both sides. A box with
/// `south > north` or NaN coordinates yields nothing. Fails only for `z > MAX_ZOOM`.
pub fn tiles_for_bbox(bbox: [f64; 4], z: u8) -> Result<TileRange, TileError> {
    if z > MAX_ZOOM {
        return Err(TileError::Zoom { z, max: MAX_ZOOM });
    }
    let [west, south, east, north] = bbox;
    let empty = TileRange { z, x_runs: [(0, 0), (0, 0)], y_end: 0, row: 0, run: 0, col: 0 };
    if bbox.iter().any(|v| v.is_nan()) || south > north {
        return Ok(empty);
    }
    let n = tiles_per_side(z);
    // First index whose tile contains `lo`; last index whose tile starts strictly before `hi`.
    let first = |w: f64| world_to_index(w, n);
    let last = |w: f64, first: u32| {
        let i = (w * f64::from(n)).ceil() - 1.0;
        let i = if i <= 0.0 { 0 } else { (i as u32).min(n - 1) };
        i.max(first)
    };
    let [wx_west, wy_north] = lonlat_to_world(west, north);
    let [wx_east, wy_south] = lonlat_to_world(east, south);
    let y0 = first(wy_north);
    let y1 = last(wy_south, y0);
    let x_runs = if west <= east {
        let x0 = first(wx_west);
        [(x0, last(wx_east, x0) + 1), (0, 0)]
    } else {
        // Across the antimeridian: from the west edge to the world's end, then from 0 to east.
        let x0 = first(wx_west);
        let x1 = last(wx_east, 0);
        [(x0, n), (0, (x1 + 1).min(x0))]
    };
    Ok(TileRange { z, x_runs, y_end: y1 + 1, row: y0, run: 0, col: x_runs[0].0 })
}

/// Iterator over a rectangular block of tiles (possibly split at the antimeridian), returned by
/// [`tiles_for_bbox`]. It knows its length, so `tiles_for_bbox(..)?.len()` counts tiles without
/// walking them.
#[derive(Debug, Clone)]
pub struct TileRange {
    z: u8,
    /// Column runs `[start, end)`; the second is empty unless the box crosses the antimeridian.
    x_runs: [(u32, u32); 2],
    y_end: u32,
    row: u32,
    run: usize,
    col: u32,
}

impl TileRange {
    fn columns(&self) -> u64 {
        self.x_runs.iter().map(|&(a, b)| u64::from(b.saturating_sub(a))).sum()
    }

    fn remaining(&self) -> u64 {
        if self.row >= self.y_end || self.columns() == 0 {
            return 0;
        }
        let rows_after = u64::from(self.y_end - self.row - 1);
        let in_row: u64 = self.x_runs[self.run..]
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                let start = if i == 0 { self.col } else { a };
                u64::from(b.saturating_sub(start))
            })
            .sum();
        rows_after * self.columns() + in_row
    }
}

impl Iterator for TileRange {
    type Item = TileId;

    fn next(&mut self) -> Option<TileId> {
        while self.row < self.y_end {
            while self.run < self.x_runs.len() {
                let (_, end) = self.x_runs[self.run];
                if self.col < end {
                    let tile = TileId { z: self.z, x: self.col, y: self.row };
                    self.col += 1;
                    return Some(tile);
                }
                self.run += 1;
                if let Some(&(start, _)) = self.x_runs.get(self.run) {
                    self.col = start;
                }
            }
            self.row += 1;
            self.run = 0;
            self.col = self.x_runs[0].0;
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining()).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl ExactSizeIterator for TileRange {}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn z0_is_the_whole_world() {
        let t = TileId::new(0, 0, 0).unwrap();
        let [x0, y0, x1, y1] = t.bounds_mercator();
        for (v, want) in [(x0, -20_037_508.34), (y0, -20_037_508.34), (x1, 20_037_508.34), (y1, 20_037_508.34)] {
            assert!(close(v, want, 0.01), "{v} vs {want}");
        }
        let [w, s, e, n] = t.bounds_lonlat();
        assert!(close(w, -180.0, 1e-12) && close(e, 180.0, 1e-12));
        assert!(close(s, -MAX_LATITUDE, 1e-9) && close(n, MAX_LATITUDE, 1e-9));
    }

    #[test]
    fn z14_tile_of_a_point_in_shandong() {
        // Expected values computed independently with the standard slippy-map formulae.
        let t = TileId::containing(117.86, 36.49, 14).unwrap();
        assert_eq!(t, TileId { z: 14, x: 13555, y: 6406 });
        assert_eq!(t.to_string(), "14/13555/6406");
        let [w, s, e, n] = t.bounds_lonlat();
        assert!(close(w, 117.839_355_468_75, 1e-9), "{w}");
        assert!(close(e, 117.861_328_125, 1e-9), "{e}");
        assert!(close(s, 36.474_306_755_095_22, 1e-9), "{s}");
        assert!(close(n, 36.491_973_470_593_685, 1e-9), "{n}");
        assert!(w <= 117.86 && 117.86 < e && s <= 36.49 && 36.49 < n);
        let [x0, y0, x1, y1] = t.bounds_mercator();
        assert!(close(x0, 13_117_817.046, 1e-3) && close(x1, 13_120_263.031, 1e-3));
        assert!(close(y0, 4_366_083.056, 1e-3) && close(y1, 4_368_529.041, 1e-3));
        // Mercator bounds and lon/lat bounds describe the same corners.
        let [lw, ls] = mercator_to_lonlat(x0, y0);
        assert!(close(lw, w, 1e-9) && close(ls, s, 1e-9));
    }

    #[test]
    fn resolution_halves_per_zoom() {
        assert!(close(metres_per_unit(0, DEFAULT_EXTENT), 9_783.939_620_502_8, 1e-6));
        assert!(close(metres_per_unit(14, 4096) * 2.0, metres_per_unit(13, 4096), 1e-12));
        let t = TileId::new(14, 0, 0).unwrap();
        let [x0, _, x1, _] = t.bounds_mercator();
        assert!(close(t.metres_per_unit(4096) * 4096.0, x1 - x0, 1e-6));
    }

    #[test]
    fn projections_round_trip() {
        for &(lon, lat) in &[(0.0, 0.0), (117.86, 36.49), (-73.98, 40.75), (179.999, -85.0), (-180.0, 60.0)] {
            let [x, y] = lonlat_to_mercator(lon, lat);
            let [lon2, lat2] = mercator_to_lonlat(x, y);
            assert!(close(lon, lon2, 1e-9) && close(lat, lat2, 1e-9), "{lon},{lat} -> {lon2},{lat2}");
            // World coordinates are the same projection, rescaled.
            let [wx, wy] = lonlat_to_world(lon, lat);
            assert!(close(wx, (x + ORIGIN_SHIFT) / (2.0 * ORIGIN_SHIFT), 1e-12));
            assert!(close(wy, (ORIGIN_SHIFT - y) / (2.0 * ORIGIN_SHIFT), 1e-12));
            // The tile containing a point has the point within its bounds.
            let t = TileId::containing(lon, lat, 17).unwrap();
            let [w, s, e, n] = t.bounds_lonlat();
            assert!(w <= lon && lon <= e && s <= lat && lat <= n, "{lon},{lat} not in {t} {:?}", t.bounds_lonlat());
        }
        // Poles are clamped rather than producing infinities.
        let [_, y] = lonlat_to_mercator(0.0, 90.0);
        assert!(close(y, ORIGIN_SHIFT, 1e-3));
        assert_eq!(TileId::containing(0.0, -90.0, 3).unwrap(), TileId { z: 3, x: 4, y: 7 });
    }

    #[test]
    fn invalid_addresses_say_what_is_wrong() {
        assert_eq!(TileId::new(14, 70000, 0).unwrap_err().to_string(), "x 70000 is outside 0..16383 at zoom 14");
        assert_eq!(TileId::new(3, 0, 8).unwrap_err().to_string(), "y 8 is outside 0..7 at zoom 3");
        assert_eq!(TileId::new(25, 0, 0).unwrap_err().to_string(), "zoom 25 is outside 0..24");
        assert_eq!(TileId::new(0, 1, 0).unwrap_err(), TileError::X { x: 1, z: 0 });
        assert_eq!(TileId::new_within(21, 0, 0, 20).unwrap_err().to_string(), "zoom 21 is outside 0..20");
        assert_eq!(TileId::new_within(22, 0, 0, 200).unwrap(), TileId { z: 22, x: 0, y: 0 });
        assert!(TileId::new(24, (1 << 24) - 1, (1 << 24) - 1).is_ok());
        assert!(TileId::containing(0.0, 0.0, 25).is_err());
        assert!(tiles_for_bbox([0.0, 0.0, 1.0, 1.0], 25).is_err());
    }

    #[test]
    fn tiles_covering_a_bbox() {
        let all: Vec<_> = tiles_for_bbox([-180.0, -90.0, 180.0, 90.0], 2).unwrap().collect();
        assert_eq!(all.len(), 16);
        assert_eq!(all[0], TileId { z: 2, x: 0, y: 0 });
        assert_eq!(all[1], TileId { z: 2, x: 1, y: 0 });
        assert_eq!(all[15], TileId { z: 2, x: 3, y: 3 });

        // A box ending exactly on tile edges does not pull in the neighbours it only touches.
        let q: Vec<_> = tiles_for_bbox([0.0, 0.0, 90.0, 66.0], 2).unwrap().collect();
        assert_eq!(q, vec![TileId { z: 2, x: 2, y: 1 }]);

        // The ~0.3° × 0.25° demo county at z14: every point of the box is in one of the tiles,
        // and the count matches the length the iterator announces.
        let bbox = [117.71, 36.36, 118.01, 36.61];
        let range = tiles_for_bbox(bbox, 14).unwrap();
        let announced = range.len();
        let tiles: Vec<_> = range.collect();
        assert_eq!(tiles.len(), announced);
        let corner_nw = TileId::containing(bbox[0], bbox[3], 14).unwrap();
        let corner_se = TileId::containing(bbox[2], bbox[1], 14).unwrap();
        let cols = corner_se.x - corner_nw.x + 1;
        let rows = corner_se.y - corner_nw.y + 1;
        assert_eq!(tiles.len() as u32, cols * rows);
        assert!(tiles.contains(&TileId::containing(117.86, 36.49, 14).unwrap()));

        // A point box gives one tile; a degenerate or inverted box gives none.
        assert_eq!(tiles_for_bbox([117.86, 36.49, 117.86, 36.49], 14).unwrap().count(), 1);
        assert_eq!(tiles_for_bbox([0.0, 10.0, 1.0, 5.0], 5).unwrap().count(), 0);
        assert_eq!(tiles_for_bbox([f64::NAN, 0.0, 1.0, 1.0], 5).unwrap().len(), 0);

        // Across the antimeridian: the last column and the first.
        let wrap: Vec<_> = tiles_for_bbox([170.0, -10.0, -170.0, 10.0], 3).unwrap().collect();
        let xs: Vec<_> = wrap.iter().map(|t| (t.x, t.y)).collect();
        assert_eq!(xs, vec![(7, 3), (0, 3), (7, 4), (0, 4)]);
        let mut r = tiles_for_bbox([170.0, -10.0, -170.0, 10.0], 3).unwrap();
        assert_eq!(r.len(), 4);
        r.next();
        assert_eq!(r.len(), 3);
    }
}

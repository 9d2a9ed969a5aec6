//! Properties of the coordinate maths on random positions (proptest; shrinks to the smallest
//! failing position): GCJ-02 round trips, Web-Mercator round trips, and the tile that contains
//! a point really contains it.

use proptest::prelude::*;
use zhili_geo::gcj02::{gcj02_to_wgs84, out_of_china, wgs84_to_gcj02};
use zhili_geo::tile::{lonlat_to_mercator, mercator_to_lonlat, TileId, MAX_LATITUDE, MAX_ZOOM};

/// Degrees kept away from the edge of the area where GCJ-02 applies: the offset is below
/// 0.01°, so a shifted point stays inside and the inverse does not fall back to identity.
const EDGE: f64 = 0.05;

proptest! {
    /// `gcj02_to_wgs84` undoes `wgs84_to_gcj02` to 1e-9° (0.1 mm), as its documentation says,
    /// anywhere inside China's rectangle (not only on the unit test's lattice).
    #[test]
    fn gcj02_round_trip(lon in (72.004 + EDGE)..(137.8347 - EDGE), lat in (0.8293 + EDGE)..(55.8271 - EDGE)) {
        let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
        prop_assert!(!out_of_china(g_lon, g_lat));
        let (w_lon, w_lat) = gcj02_to_wgs84(g_lon, g_lat);
        prop_assert!((w_lon - lon).abs() < 1e-9 && (w_lat - lat).abs() < 1e-9,
            "({lon}, {lat}) -> ({g_lon}, {g_lat}) -> ({w_lon}, {w_lat})");
    }

    /// Outside the rectangle both directions are the identity, bit for bit.
    #[test]
    fn gcj02_identity_outside(lon in -180.0..180.0f64, lat in -90.0..90.0f64) {
        prop_assume!(out_of_china(lon, lat));
        prop_assert_eq!(wgs84_to_gcj02(lon, lat), (lon, lat));
        prop_assert_eq!(gcj02_to_wgs84(lon, lat), (lon, lat));
    }

    /// Web Mercator there and back to 1e-9°.
    #[test]
    fn mercator_round_trip(lon in -180.0..=180.0f64, lat in -MAX_LATITUDE..=MAX_LATITUDE) {
        let [x, y] = lonlat_to_mercator(lon, lat);
        let [lon2, lat2] = mercator_to_lonlat(x, y);
        prop_assert!((lon2 - lon).abs() < 1e-9 && (lat2 - lat).abs() < 1e-9, "({lon}, {lat}) -> ({lon2}, {lat2})");
    }

    /// The tile `TileId::containing` names has the point inside its bounds (to 1e-9°), at every zoom.
    #[test]
    fn containing_tile_contains(lon in -180.0..180.0f64, lat in -MAX_LATITUDE..MAX_LATITUDE, z in 0..=MAX_ZOOM) {
        let tile = TileId::containing(lon, lat, z).unwrap();
        prop_assert_eq!(TileId::new(tile.z, tile.x, tile.y), Ok(tile));
        let [w, s, e, n] = tile.bounds_lonlat();
        let eps = 1e-9;
        prop_assert!(w - eps <= lon && lon <= e + eps && s - eps <= lat && lat <= n + eps,
            "({lon}, {lat}) outside {tile} = [{w}, {s}, {e}, {n}]");
    }
}

//! The demo district's geometry (演示地图): every boundary — county, townships, villages and
//! grids — is built on one integer lattice and then gently warped, so that shared edges are
//! identical point for point (no gaps, no overlaps) yet not straight lines.
//!
//! A cell is a lattice rectangle. Its ring visits every lattice point on its border, so two
//! neighbours (even at a T-junction) share exactly the same vertices along their common edge;
//! the warp is a smooth bijection of the plane, so it keeps the tiling a tiling.

use geo::{LineString, MultiPolygon, Polygon};

/// Lattice size of the county: columns × rows.
pub const LATTICE: (i32, i32) = (1500, 1250);
/// Degrees per lattice unit (0.0002° ≈ 18 m east-west, 22 m north-south at 36.4°N).
pub const UNIT: f64 = 0.0002;
/// South-west corner of the lattice (longitude, latitude).
pub const ORIGIN: (f64, f64) = (117.75, 36.30);

/// A rectangle of the lattice: west, south, east, north (east > west, north > south).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// West edge.
    pub x0: i32,
    /// South edge.
    pub y0: i32,
    /// East edge.
    pub x1: i32,
    /// North edge.
    pub y1: i32,
}

impl Cell {
    /// The whole county.
    pub fn county() -> Cell {
        Cell { x0: 0, y0: 0, x1: LATTICE.0, y1: LATTICE.1 }
    }

    /// Width in lattice units.
    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }

    /// Height in lattice units.
    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }

    /// Split into `n` cells: rows of `cols` cells from north to south, west to east, the
    /// last row's cells widened to fill it. Edges are rounded to the lattice.
    pub fn split(&self, n: usize) -> Vec<Cell> {
        assert!(n > 0);
        let cols = (n as f64 * self.width() as f64 / self.height() as f64).sqrt().round().clamp(1.0, n as f64) as usize;
        let rows = n.div_ceil(cols);
        let at =
            |from: i32, len: i32, i: usize, parts: usize| from + (len as f64 * i as f64 / parts as f64).round() as i32;
        let mut out = Vec::with_capacity(n);
        for r in 0..rows {
            let in_row = if r + 1 == rows { n - cols * (rows - 1) } else { cols };
            let y1 = at(self.y1, -self.height(), r, rows);
            let y0 = at(self.y1, -self.height(), r + 1, rows);
            for c in 0..in_row {
                out.push(Cell {
                    x0: at(self.x0, self.width(), c, in_row),
                    y0,
                    x1: at(self.x0, self.width(), c + 1, in_row),
                    y1,
                });
            }
        }
        out
    }

    /// Split into a western and an eastern half.
    pub fn halves(&self) -> [Cell; 2] {
        let mid = self.x0 + self.width() / 2;
        [Cell { x1: mid, ..*self }, Cell { x0: mid, ..*self }]
    }

    /// The closed, counter-clockwise ring through every lattice point of the border, warped.
    pub fn ring(&self) -> Vec<(f64, f64)> {
        let mut pts = Vec::with_capacity(2 * (self.width() + self.height()) as usize + 1);
        pts.extend((self.x0..self.x1).map(|x| warp(x, self.y0)));
        pts.extend((self.y0..self.y1).map(|y| warp(self.x1, y)));
        pts.extend((self.x0 + 1..=self.x1).rev().map(|x| warp(x, self.y1)));
        pts.extend((self.y0 + 1..=self.y1).rev().map(|y| warp(self.x0, y)));
        pts.push(pts[0]);
        pts
    }

    /// The cell as an area.
    pub fn area(&self) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![Polygon::new(LineString::from(self.ring()), vec![])])
    }

    /// The cell as GeoJSON Polygon text.
    pub fn geojson(&self) -> String {
        let coords: Vec<String> = self.ring().iter().map(|(x, y)| format!("[{x:.7},{y:.7}]")).collect();
        format!("{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}", coords.join(","))
    }
}

/// Lattice point → longitude/latitude, displaced by a smooth field (at most 2 units, slope
/// well below 1, so the map is a bijection and tilings stay tilings).
pub fn warp(x: i32, y: i32) -> (f64, f64) {
    use std::f64::consts::TAU;
    let (fx, fy) = (f64::from(x), f64::from(y));
    let dx = 2.0 * (TAU * fy / 97.0).sin() * (TAU * fx / 131.0).cos();
    let dy = 2.0 * (TAU * fx / 89.0).sin() * (TAU * fy / 113.0).cos();
    // Round to 1e-7° (≈ 1 cm) so stored text and in-memory values agree exactly.
    let r = |v: f64| (v * 1e7).round() / 1e7;
    (r(ORIGIN.0 + (fx + dx) * UNIT), r(ORIGIN.1 + (fy + dy) * UNIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, BooleanOps};

    #[test]
    fn splits_tile_exactly() {
        let c = Cell { x0: 0, y0: 0, x1: 75, y1: 64 };
        for n in [1, 2, 4, 5, 6, 28] {
            let cells = c.split(n);
            assert_eq!(cells.len(), n);
            let area: i32 = cells.iter().map(|k| k.width() * k.height()).sum();
            assert_eq!(area, 75 * 64, "n={n}");
            assert!(cells.iter().all(|k| k.width() > 0 && k.height() > 0));
        }
    }

    #[test]
    fn warped_neighbours_share_edges_exactly() {
        let parent = Cell { x0: 100, y0: 100, x1: 160, y1: 150 };
        let kids = parent.split(5);
        let total: f64 = kids.iter().map(|k| k.area().unsigned_area()).sum();
        assert!((total - parent.area().unsigned_area()).abs() < 1e-12, "no gaps, no overlaps");
        for (i, a) in kids.iter().enumerate() {
            for b in &kids[i + 1..] {
                assert!(a.area().intersection(&b.area()).unsigned_area() < 1e-13);
            }
            assert!(a.area().difference(&parent.area()).unsigned_area() < 1e-13, "inside the parent");
        }
        assert!(kids[0].ring().len() > 50);
    }
}

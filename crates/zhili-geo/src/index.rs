//! The in-memory polygon index (网格空间索引): point → grid, and grid → its ancestors.
//!
//! Every [`Feature`] has a `level` (its depth in the division/grid hierarchy, larger = finer, e.g.
//! 0 county, 1 township, 2 village, 3 large grid, 4 medium grid, 5 small grid; the numbers are the
//! caller's choice), an optional `parent` key and a (multi)polygon.
//!
//! # Boundary rule
//! A point belongs to a feature whose polygon **covers** it (interior or boundary, PostGIS
//! `ST_Covers`). When several features of one level cover a point (a point on a shared edge or
//! vertex, or overlapping data) the feature with the **smallest key in byte-wise order** wins:
//!
//! ```sql
//! SELECT code FROM grids WHERE ST_Covers(geom, pt) ORDER BY code COLLATE "C" LIMIT 1
//! ```
//!
//! The point-in-polygon test is exact: the side of an edge is decided with a floating-point
//! filter and, when the filter cannot decide, Shewchuk's adaptive exact `orient2d` (the robust
//! kernel geo uses; GEOS is exact too). Rings are evaluated as PostGIS evaluates them (Sunday's
//! winding number): a point on any ring is covered; otherwise it is covered when it is inside the
//! shell and inside no hole of some component polygon.
//!
//! # Structure
//! - Per level, an rstar R-tree over the features' bounding boxes: the source of truth for
//!   [`PolygonIndex::candidates_in_bbox`] and the fallback for point lookups.
//! - Per level, a uniform grid of buckets over the level's extent (about one bucket per feature),
//!   each listing the features whose (f32, outward-rounded) bounding box meets it: a point lookup
//!   reads one bucket instead of walking the tree (measured: whole lookups twice as fast). It is
//!   updated in place with the R-tree and rebuilt only when the level has doubled or halved in
//!   size since, or many features reach beyond its extent (points beyond it use the R-tree).
//! - Per feature, a [`PreparedPolygon`]: 16 × 16 and 32 × 32 rasters (2 bits a cell) over its
//!   bounding box marking the cells no edge comes near as inside or outside, which decide most
//!   points at once, and its edges bucketed by horizontal bands for the exact test of the rest.
//!   The coarse rasters are kept in one dense array, apart from the cold data.
//!
//! Updates ([`PolygonIndex::upsert`], [`PolygonIndex::remove`]) touch only the one feature (and,
//! amortised, an occasional rebuild of one level's bucket grid).
//!
//! # Relation to PostGIS
//! PostGIS answers `ST_Covers(polygon, point)` with its own point-in-polygon short cut (an interval
//! tree and Sunday's winding rule, `lwgeom_itree.c`), not with GEOS, and decides an edge's side
//! with a plain floating-point determinant. For points exactly on a vertex or on an axis-parallel
//! edge that determinant is exactly zero, so PostGIS, GEOS and this index agree. Only for points
//! within about 1e-16 (relative) of a slanted edge can the plain determinant round to the wrong
//! side; this index then gives the mathematically exact answer, as GEOS would.

use std::collections::HashMap;
use std::mem::{size_of, size_of_val};
use std::ops::ControlFlow;

use geo::coordinate_position::CoordPos;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, LineString, MultiPolygon, Rect};
use rstar::{RStarInsertionStrategy, RTree, RTreeNode, RTreeObject, RTreeParams, AABB};

/// One indexed feature: a grid or an administrative division with its polygon.
#[derive(Clone, Debug, PartialEq)]
pub struct Feature {
    /// The feature code, e.g. a 14-digit grid code or a 12-digit village code. Unique in an index.
    pub key: String,
    /// Depth in the hierarchy; larger numbers are finer (see the module documentation).
    pub level: u8,
    /// The key of the parent feature (e.g. a small grid's medium grid, a grid's village), if any.
    pub parent: Option<String>,
    /// The area, lon/lat (x = longitude, y = latitude). May be empty: such a feature is kept for
    /// [`PolygonIndex::get`] and [`PolygonIndex::chain`] but is never located.
    pub geometry: MultiPolygon<f64>,
}

// ---------------------------------------------------------------------------------------------
// Prepared polygon
// ---------------------------------------------------------------------------------------------

/// Shewchuk's error bound for the first, non-adaptive stage of `orient2d`: (3 + 16ε)ε, ε = 2⁻⁵³.
const CCW_ERRBOUND_A: f64 = (3.0 + 16.0 * (f64::EPSILON / 2.0)) * (f64::EPSILON / 2.0);

/// At most this many horizontal bands (about one per edge).
const MAX_BANDS: usize = 4096;

/// The coarse raster: 16 × 16 cells × 2 bits = 64 bytes (kept dense, apart from the rest).
type Coarse = Raster<16, 8>;
/// The fine raster, consulted for coarse cells that an edge touches: 32 × 32 cells, 256 bytes.
type Fine = Raster<32, 32>;
const CELL_EDGE: u64 = 0;
const CELL_INSIDE: u64 = 1;
const CELL_OUTSIDE: u64 = 2;

/// High bit of a ring entry in `ExactPolygon::meta`: the ring is a shell (exterior).
const SHELL: u32 = 1 << 31;

/// A (multi)polygon prepared for fast, exact point-in-polygon tests.
///
/// A 16 × 16 raster over the bounding box, and a 32 × 32 one for its undecided cells, mark the
/// cells that no edge comes near as inside or outside, so most points are decided by one or two
/// lookups. For the other cells the exact test runs on the edges of one horizontal band: the
/// y-extent is cut into about one band per edge, each listing the edges whose y-range meets it.
#[derive(Clone, Debug)]
pub struct PreparedPolygon {
    exact: ExactPolygon,
    bbox: Box32,
    coarse: Coarse,
    fine: Fine,
}

/// The exact point-in-polygon part of a [`PreparedPolygon`].
#[derive(Clone, Debug)]
struct ExactPolygon {
    /// The vertices of all rings, contiguously (each ring closed).
    coords: Vec<Coord<f64>>,
    /// `rings` ring ends (one past the ring's last vertex, [`SHELL`] bit for exteriors), then
    /// `bands + 1` band starts (offsets into what follows), then the bands' edge lists (an edge is
    /// its start vertex `i`: `coords[i] → coords[i + 1]`), ascending.
    meta: Vec<u32>,
    rings: u32,
    bands: u32,
    min: Coord<f64>,
    max: Coord<f64>,
    inv_band_height: f64,
}

/// A bounding box rounded outwards to f32 (16 bytes); rasters and grid buckets are defined on it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Box32 {
    lo: [f32; 2],
    hi: [f32; 2],
}

/// Largest f32 not above `v`.
fn f32_down(v: f64) -> f32 {
    let f = v as f32;
    if f64::from(f) <= v {
        f
    } else if f > 0.0 {
        f32::from_bits(f.to_bits() - 1)
    } else if f < 0.0 {
        f32::from_bits(f.to_bits() + 1)
    } else {
        -f32::from_bits(1)
    }
}

/// Smallest f32 not below `v`.
fn f32_up(v: f64) -> f32 {
    -f32_down(-v)
}

impl Box32 {
    fn around(lo: [f64; 2], hi: [f64; 2]) -> Self {
        Box32 { lo: [f32_down(lo[0]), f32_down(lo[1])], hi: [f32_up(hi[0]), f32_up(hi[1])] }
    }

    #[inline(always)]
    fn contains(&self, x: f64, y: f64) -> bool {
        x >= f64::from(self.lo[0])
            && x <= f64::from(self.hi[0])
            && y >= f64::from(self.lo[1])
            && y <= f64::from(self.hi[1])
    }

    /// The cell of a point of the box in an `n × n` raster: `(cx, cy)`, each monotone in its
    /// coordinate.
    #[inline(always)]
    fn cell(&self, n: usize, x: f64, y: f64) -> (usize, usize) {
        #[inline(always)]
        fn axis(n: usize, v: f64, lo: f32, hi: f32) -> usize {
            let (lo, hi) = (f64::from(lo), f64::from(hi));
            let w = hi - lo;
            if w > 0.0 {
                (((v - lo) * (n as f64 / w)) as usize).min(n - 1)
            } else {
                0
            }
        }
        (axis(n, x, self.lo[0], self.hi[0]), axis(n, y, self.lo[1], self.hi[1]))
    }
}

/// An `N × N` raster over a [`Box32`], 2 bits per cell ([`CELL_INSIDE`], [`CELL_OUTSIDE`] or
/// [`CELL_EDGE`], undecided) in `WORDS = N² / 32` words.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
struct Raster<const N: usize, const WORDS: usize>([u64; WORDS]);

impl<const N: usize, const WORDS: usize> Raster<N, WORDS> {
    const EMPTY: Self = Raster([0; WORDS]);

    /// The state of the cell holding `(x, y)`, a point of `bbox`.
    #[inline(always)]
    fn get(&self, bbox: &Box32, x: f64, y: f64) -> u64 {
        let (cx, cy) = bbox.cell(N, x, y);
        let k = cy * N + cx;
        (self.0[k / 32] >> (2 * (k % 32))) & 3
    }

    /// Classifies the cells of `bbox` for `exact`. The cell of a coordinate is monotone in it, so
    /// an edge only passes through cells between those of its bounding box's corners ("touched").
    /// A run of untouched cells in a row is a rectangle free of boundary points: connected, so
    /// wholly inside or wholly outside, and one exact test (at a cell centre) decides the run.
    /// `hint` is a coarser raster of the same polygon and box: where it has decided the cell of a
    /// representative point, that state is the point's, and no exact test is needed.
    fn build(exact: &ExactPolygon, bbox: &Box32, hint: Option<&Coarse>) -> Self {
        debug_assert_eq!(N * N, WORDS * 32);
        let mut raster = Self::EMPTY;
        if exact.rings == 0 {
            return raster;
        }
        let mut touched = vec![false; N * N];
        for i in exact.edge_starts() {
            let (a, b) = (exact.coords[i], exact.coords[i + 1]);
            let (x0, y0) = bbox.cell(N, a.x.min(b.x), a.y.min(b.y));
            let (x1, y1) = bbox.cell(N, a.x.max(b.x), a.y.max(b.y));
            for cy in y0..=y1 {
                touched[cy * N + x0..=cy * N + x1].fill(true);
            }
        }
        let (lx, ly) = (f64::from(bbox.lo[0]), f64::from(bbox.lo[1]));
        let (w, h) = (f64::from(bbox.hi[0]) - lx, f64::from(bbox.hi[1]) - ly);
        let mut word = 0u64;
        for cy in 0..N {
            let mut run: Option<u64> = None;
            for cx in 0..N {
                let k = cy * N + cx;
                let state = if touched[k] {
                    run = None;
                    CELL_EDGE
                } else if let Some(state) = run {
                    state
                } else {
                    let x = lx + (cx as f64 + 0.5) * w / N as f64;
                    let y = ly + (cy as f64 + 0.5) * h / N as f64;
                    // Without a representative point (rounding), the cell stays undecided.
                    let state = if !bbox.contains(x, y) || bbox.cell(N, x, y) != (cx, cy) {
                        CELL_EDGE
                    } else {
                        match hint.map_or(CELL_EDGE, |h| h.get(bbox, x, y)) {
                            CELL_EDGE => match exact.position(x, y) {
                                CoordPos::Inside => CELL_INSIDE,
                                CoordPos::Outside => CELL_OUTSIDE,
                                CoordPos::OnBoundary => CELL_EDGE,
                            },
                            decided => decided,
                        }
                    };
                    run = (state != CELL_EDGE).then_some(state);
                    state
                };
                word |= state << (2 * (k % 32));
                if k % 32 == 31 {
                    raster.0[k / 32] = word;
                    word = 0;
                }
            }
        }
        raster
    }
}

/// Contribution of one edge to a winding number, or "the point is on this edge".
const ON_EDGE: i32 = i32::MIN;

impl PreparedPolygon {
    /// Prepares `geometry`. Rings with fewer than 4 positions are skipped (as PostGIS does); a
    /// polygon whose exterior is skipped is skipped entirely. Unclosed rings are closed.
    pub fn new(geometry: &MultiPolygon<f64>) -> Self {
        let exact = ExactPolygon::new(geometry);
        let bbox = Box32::around([exact.min.x, exact.min.y], [exact.max.x, exact.max.y]);
        let coarse = Coarse::build(&exact, &bbox, None);
        let fine = Fine::build(&exact, &bbox, Some(&coarse));
        PreparedPolygon { exact, bbox, coarse, fine }
    }

    /// The bounding box, or `None` for an empty geometry.
    pub fn bounding_rect(&self) -> Option<Rect<f64>> {
        (self.exact.rings > 0).then(|| Rect::new(self.exact.min, self.exact.max))
    }

    /// Where `(x, y)` lies: inside, on the boundary of, or outside the polygon. Equal to geo's
    /// `CoordinatePosition` for valid (multi)polygons.
    #[inline]
    pub fn position(&self, x: f64, y: f64) -> CoordPos {
        let e = &self.exact;
        if !(x >= e.min.x && x <= e.max.x && y >= e.min.y && y <= e.max.y) {
            return CoordPos::Outside; // also NaN
        }
        let state = match self.coarse.get(&self.bbox, x, y) {
            CELL_EDGE => self.fine.get(&self.bbox, x, y),
            state => state,
        };
        match state {
            CELL_INSIDE => CoordPos::Inside,
            CELL_OUTSIDE => CoordPos::Outside,
            _ => e.position(x, y),
        }
    }

    /// `true` when the polygon covers `(x, y)` (interior or boundary; PostGIS `ST_Covers`).
    #[inline]
    pub fn covers(&self, x: f64, y: f64) -> bool {
        self.position(x, y) != CoordPos::Outside
    }

    /// Heap bytes used by the prepared structure (the struct itself, with its rasters, not
    /// included).
    pub fn heap_bytes(&self) -> usize {
        self.exact.heap_bytes()
    }
}

impl ExactPolygon {
    fn new(geometry: &MultiPolygon<f64>) -> Self {
        let mut coords: Vec<Coord<f64>> = Vec::new();
        let mut ring_ends: Vec<u32> = Vec::new();
        let mut push_ring = |ring: &LineString<f64>, shell: bool, coords: &mut Vec<Coord<f64>>| -> bool {
            let pts = &ring.0;
            let closed = pts.first() == pts.last();
            if pts.len() + usize::from(!closed) < 4 {
                return false;
            }
            coords.extend_from_slice(pts);
            if !closed {
                coords.push(pts[0]);
            }
            let end = u32::try_from(coords.len()).ok().filter(|&e| e < SHELL).expect("polygon too large");
            ring_ends.push(end | if shell { SHELL } else { 0 });
            true
        };
        for polygon in &geometry.0 {
            if push_ring(polygon.exterior(), true, &mut coords) {
                for hole in polygon.interiors() {
                    push_ring(hole, false, &mut coords);
                }
            }
        }
        let mut min = Coord { x: f64::INFINITY, y: f64::INFINITY };
        let mut max = Coord { x: f64::NEG_INFINITY, y: f64::NEG_INFINITY };
        for c in &coords {
            min.x = min.x.min(c.x);
            min.y = min.y.min(c.y);
            max.x = max.x.max(c.x);
            max.y = max.y.max(c.y);
        }
        let mut exact = ExactPolygon {
            coords,
            rings: ring_ends.len() as u32,
            meta: ring_ends,
            bands: 1,
            min,
            max,
            inv_band_height: 0.0,
        };
        exact.build_bands();
        exact.coords.shrink_to_fit();
        exact.meta.shrink_to_fit();
        exact
    }

    fn aabb(&self) -> Option<AABB<[f64; 2]>> {
        (self.rings > 0).then(|| AABB::from_corners([self.min.x, self.min.y], [self.max.x, self.max.y]))
    }

    /// Edge start indices (edge `i` runs from `coords[i]` to `coords[i + 1]`), in ascending order.
    fn edge_starts(&self) -> impl Iterator<Item = usize> + '_ {
        let mut start = 0usize;
        self.meta[..self.rings as usize].iter().flat_map(move |&r| {
            let end = (r & !SHELL) as usize;
            let range = start..end - 1;
            start = end;
            range
        })
    }

    fn build_bands(&mut self) {
        let edges = self.coords.len() - self.rings as usize;
        let height = self.max.y - self.min.y;
        let bands = if edges == 0 || height.is_nan() || height <= 0.0 { 1 } else { edges.clamp(1, MAX_BANDS) };
        self.bands = bands as u32;
        self.inv_band_height = if bands > 1 { bands as f64 / height } else { 0.0 };
        // Counting pass, then fill (CSR layout). The band of a y is monotone in y, so an edge
        // whose y-range contains a point's y is always listed in the point's band.
        let mut counts = vec![0u32; bands];
        for i in self.edge_starts() {
            let (lo, hi) = self.edge_bands(i);
            for c in &mut counts[lo..=hi] {
                *c += 1;
            }
        }
        let mut starts = Vec::with_capacity(bands + 1);
        let mut acc = 0u32;
        for c in &counts {
            starts.push(acc);
            acc += c;
        }
        starts.push(acc);
        let mut fill = starts.clone();
        let mut lists = vec![0u32; acc as usize];
        for i in self.edge_starts() {
            let (lo, hi) = self.edge_bands(i);
            for f in &mut fill[lo..=hi] {
                lists[*f as usize] = i as u32;
                *f += 1;
            }
        }
        self.meta.extend_from_slice(&starts);
        self.meta.extend_from_slice(&lists);
    }

    fn edge_bands(&self, i: usize) -> (usize, usize) {
        let (a, b) = (self.coords[i].y, self.coords[i + 1].y);
        (self.band_of(a.min(b)), self.band_of(a.max(b)))
    }

    #[inline(always)]
    fn band_of(&self, y: f64) -> usize {
        // `as usize` saturates (negative, NaN → 0); `min` clamps the top edge and beyond.
        (((y - self.min.y) * self.inv_band_height) as usize).min(self.bands as usize - 1)
    }

    /// The exact position of any point: the winding numbers of the rings from the edges of the
    /// point's band (a point beyond the y-extent finds no edge spanning it: outside).
    fn position(&self, x: f64, y: f64) -> CoordPos {
        let (rings, bands) = self.meta.split_at(self.rings as usize);
        let band = self.band_of(y);
        let lists = &bands[self.bands as usize + 1..];
        let entries = &lists[bands[band] as usize..bands[band + 1] as usize];
        let p = Coord { x, y };
        let mut k = 0;
        let mut component_inside = false;
        for &ring in rings {
            let end = ring & !SHELL;
            let mut winding = 0i32;
            while let Some(&i) = entries.get(k) {
                if i >= end {
                    break;
                }
                k += 1;
                let i = i as usize;
                match edge_winding(self.coords[i], self.coords[i + 1], p) {
                    ON_EDGE => return CoordPos::OnBoundary,
                    w => winding += w,
                }
            }
            if ring & SHELL != 0 {
                if component_inside {
                    return CoordPos::Inside;
                }
                component_inside = winding != 0;
            } else if winding != 0 {
                component_inside = false;
            }
        }
        if component_inside {
            CoordPos::Inside
        } else {
            CoordPos::Outside
        }
    }

    fn heap_bytes(&self) -> usize {
        self.coords.capacity() * size_of::<Coord<f64>>() + self.meta.capacity() * size_of::<u32>()
    }
}

/// The winding contribution of edge `a → b` for a rightward ray from `p` (Sunday's rule, as in
/// PostGIS: an upward edge counts +1 when `a.y <= p.y < b.y` and `p` is left of it, a downward edge
/// −1 when `b.y <= p.y < a.y` and `p` is right of it), or [`ON_EDGE`] when `p` lies on the edge.
#[inline(always)]
fn edge_winding(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> i32 {
    let (ylo, yhi) = if a.y <= b.y { (a.y, b.y) } else { (b.y, a.y) };
    if p.y < ylo || p.y > yhi {
        return 0;
    }
    let (xlo, xhi) = if a.x <= b.x { (a.x, b.x) } else { (b.x, a.x) };
    if p.x > xhi {
        return 0; // strictly right of the edge: no crossing to the right, not on it
    }
    let dir = if a.y <= p.y && p.y < b.y {
        1
    } else if b.y <= p.y && p.y < a.y {
        -1
    } else {
        0
    };
    if p.x < xlo {
        return dir; // strictly left: the edge is crossed iff it spans p.y (half-open)
    }
    match orient2d(a, b, p) {
        Orientation::Collinear => ON_EDGE, // within the edge's box and on its line
        Orientation::CounterClockwise if dir == 1 => 1,
        Orientation::Clockwise if dir == -1 => -1,
        _ => 0,
    }
}

/// Exact orientation of `p` relative to `a → b`: a floating-point filter with Shewchuk's error
/// bound, and the adaptive exact predicate when the filter cannot decide.
#[inline(always)]
fn orient2d(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> Orientation {
    let left = (a.x - p.x) * (b.y - p.y);
    let right = (a.y - p.y) * (b.x - p.x);
    let det = left - right;
    let bound = CCW_ERRBOUND_A * (left.abs() + right.abs());
    if det > bound {
        Orientation::CounterClockwise
    } else if -det > bound {
        Orientation::Clockwise
    } else {
        <RobustKernel as Kernel<f64>>::orient2d(a, b, p)
    }
}

// ---------------------------------------------------------------------------------------------
// Point grid: per-level buckets for point lookups
// ---------------------------------------------------------------------------------------------

/// A bucket entry: a slot and its outward-rounded bounding box (20 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Item {
    slot: u32,
    bbox: Box32,
}

impl Item {
    fn new(slot: u32, env: &AABB<[f64; 2]>) -> Self {
        Item { slot, bbox: Box32::around(env.lower(), env.upper()) }
    }
}

const INLINE_ITEMS: usize = 6;

/// Up to [`INLINE_ITEMS`] items inline; more spill to `PointGrid::spill[items[0].slot]`.
/// Aligned so that the length and the first three items share one cache line.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Bucket {
    len: u32,
    items: [Item; INLINE_ITEMS],
}

/// A uniform grid of buckets over a level's extent (about one bucket per feature).
#[derive(Debug)]
struct PointGrid {
    min: [f64; 2],
    max: [f64; 2],
    inv: [f64; 2],
    nx: usize,
    ny: usize,
    buckets: Vec<Bucket>,
    spill: Vec<Vec<Item>>,
    free_spill: Vec<u32>,
    /// Feature count when built; a rebuild is due when the level doubles or halves.
    built_for: usize,
    /// Features whose bounding box reaches beyond the extent (found through the R-tree).
    beyond: usize,
}

impl PointGrid {
    fn build(tree: &RTree<Entry, Params>) -> Option<Self> {
        let n = tree.size();
        if n == 0 {
            return None;
        }
        let env = tree.root().envelope();
        let (min, max) = (env.lower(), env.upper());
        let (w, h) = (max[0] - min[0], max[1] - min[1]);
        let target = n.min(1 << 22) as f64;
        let (nx, ny) = if w > 0.0 && h > 0.0 {
            let nx = (target * w / h).sqrt().clamp(1.0, target);
            (nx.ceil() as usize, (target / nx).ceil().max(1.0) as usize)
        } else if w > 0.0 {
            (target as usize, 1)
        } else if h > 0.0 {
            (1, target as usize)
        } else {
            (1, 1)
        };
        let mut grid = PointGrid {
            min,
            max,
            inv: [if nx > 1 { nx as f64 / w } else { 0.0 }, if ny > 1 { ny as f64 / h } else { 0.0 }],
            nx,
            ny,
            buckets: vec![Bucket::default(); nx * ny],
            spill: Vec::new(),
            free_spill: Vec::new(),
            built_for: n,
            beyond: 0,
        };
        for e in tree.iter() {
            grid.insert(e);
        }
        Some(grid)
    }

    #[inline(always)]
    fn covers_extent(&self, x: f64, y: f64) -> bool {
        x >= self.min[0] && x <= self.max[0] && y >= self.min[1] && y <= self.max[1]
    }

    /// Bucket coordinates of a point of the extent (monotone in x and y).
    #[inline(always)]
    fn cell(&self, x: f64, y: f64) -> (usize, usize) {
        (
            (((x - self.min[0]) * self.inv[0]) as usize).min(self.nx - 1),
            (((y - self.min[1]) * self.inv[1]) as usize).min(self.ny - 1),
        )
    }

    /// The bucket range met by `env` (clipped to the extent), or `None` if it misses the extent.
    fn cells_of(&self, env: &AABB<[f64; 2]>) -> Option<((usize, usize), (usize, usize))> {
        let (lo, hi) = (env.lower(), env.upper());
        if hi[0] < self.min[0] || lo[0] > self.max[0] || hi[1] < self.min[1] || lo[1] > self.max[1] {
            return None;
        }
        let a = self.cell(lo[0].max(self.min[0]), lo[1].max(self.min[1]));
        let b = self.cell(hi[0].min(self.max[0]), hi[1].min(self.max[1]));
        Some((a, b))
    }

    fn is_beyond(&self, env: &AABB<[f64; 2]>) -> bool {
        let (lo, hi) = (env.lower(), env.upper());
        lo[0] < self.min[0] || lo[1] < self.min[1] || hi[0] > self.max[0] || hi[1] > self.max[1]
    }

    fn insert(&mut self, e: &Entry) {
        self.beyond += usize::from(self.is_beyond(&e.env));
        let Some(((x0, y0), (x1, y1))) = self.cells_of(&e.env) else {
            return;
        };
        let item = Item::new(e.slot, &e.env);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let b = &mut self.buckets[y * self.nx + x];
                let len = b.len as usize;
                if len < INLINE_ITEMS {
                    b.items[len] = item;
                } else {
                    if len == INLINE_ITEMS {
                        let spilled = b.items.to_vec();
                        let at = match self.free_spill.pop() {
                            Some(at) => {
                                self.spill[at as usize] = spilled;
                                at
                            }
                            None => {
                                self.spill.push(spilled);
                                (self.spill.len() - 1) as u32
                            }
                        };
                        b.items[0].slot = at;
                    }
                    self.spill[b.items[0].slot as usize].push(item);
                }
                b.len += 1;
            }
        }
    }

    fn remove(&mut self, e: &Entry) {
        self.beyond -= usize::from(self.is_beyond(&e.env));
        let Some(((x0, y0), (x1, y1))) = self.cells_of(&e.env) else {
            return;
        };
        for y in y0..=y1 {
            for x in x0..=x1 {
                let b = &mut self.buckets[y * self.nx + x];
                let len = b.len as usize;
                if len <= INLINE_ITEMS {
                    if let Some(k) = b.items[..len].iter().position(|i| i.slot == e.slot) {
                        b.items.copy_within(k + 1..len, k);
                        b.len -= 1;
                    }
                } else {
                    let at = b.items[0].slot as usize;
                    let list = &mut self.spill[at];
                    if let Some(k) = list.iter().position(|i| i.slot == e.slot) {
                        list.remove(k);
                        b.len -= 1;
                        if list.len() == INLINE_ITEMS {
                            b.items.copy_from_slice(list);
                            self.spill[at] = Vec::new();
                            self.free_spill.push(at as u32);
                        }
                    }
                }
            }
        }
    }

    /// The items of the bucket holding `(x, y)`, a point of the extent.
    #[inline(always)]
    fn items(&self, x: f64, y: f64) -> &[Item] {
        let (cx, cy) = self.cell(x, y);
        let b = &self.buckets[cy * self.nx + cx];
        let len = b.len as usize;
        if len <= INLINE_ITEMS {
            &b.items[..len]
        } else {
            &self.spill[b.items[0].slot as usize]
        }
    }

    fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * size_of::<Bucket>()
            + self.spill.capacity() * size_of::<Vec<Item>>()
            + self.spill.iter().map(|s| s.capacity() * size_of::<Item>()).sum::<usize>()
            + self.free_spill.capacity() * size_of::<u32>()
    }
}

// ---------------------------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------------------------

/// R-tree node sizes (rstar's defaults are 3 / 6 / 2).
struct Params;

impl RTreeParams for Params {
    const MIN_SIZE: usize = 3;
    const MAX_SIZE: usize = 8;
    const REINSERTION_COUNT: usize = 2;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// An R-tree entry: a feature's bounding box and its slot.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Entry {
    env: AABB<[f64; 2]>,
    slot: u32,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

/// A feature and the exact part of its prepared polygon (the raster is in `PolygonIndex::rasters`).
struct Stored {
    exact: ExactPolygon,
    feature: Feature,
}

/// The features of one level with a non-empty geometry.
struct Level {
    level: u8,
    tree: RTree<Entry, Params>,
    grid: Option<PointGrid>,
}

impl Level {
    fn new(level: u8, tree: RTree<Entry, Params>) -> Self {
        let grid = PointGrid::build(&tree);
        Level { level, tree, grid }
    }

    fn insert(&mut self, e: Entry) {
        self.tree.insert(e);
        if let Some(grid) = &mut self.grid {
            grid.insert(&e);
        }
        self.maintain();
    }

    fn remove(&mut self, e: &Entry) {
        let removed = self.tree.remove(e);
        debug_assert!(removed.is_some(), "R-tree entry missing");
        if let (Some(grid), Some(_)) = (&mut self.grid, removed) {
            grid.remove(e);
        }
        self.maintain();
    }

    /// Rebuilds the grid when the level has doubled or halved since, or when many features reach
    /// beyond its extent (amortised O(1) per update).
    fn maintain(&mut self) {
        let n = self.tree.size();
        let stale = match &self.grid {
            None => n > 0,
            Some(g) => n > 2 * g.built_for + 16 || 4 * n + 16 < g.built_for || g.beyond > n / 8 + 16,
        };
        if stale {
            self.grid = PointGrid::build(&self.tree);
        }
    }
}

/// Features of all levels, indexed for point lookup. See the module documentation.
#[derive(Default)]
pub struct PolygonIndex {
    slots: Vec<Option<Stored>>,
    /// The rasters of the slots' polygons, dense and apart from the rest: most lookups read only a
    /// grid bucket and one raster cell.
    rasters: Vec<Coarse>,
    /// The slots' fine rasters, dense.
    fines: Vec<Fine>,
    free: Vec<u32>,
    by_key: HashMap<String, u32>,
    /// Sorted by level.
    levels: Vec<Level>,
}

impl PolygonIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an index from many features at once (R-trees bulk-loaded). A repeated key keeps the
    /// last feature, as repeated [`upsert`](Self::upsert)s would.
    pub fn build(features: impl IntoIterator<Item = Feature>) -> Self {
        let mut index = Self::new();
        for feature in features {
            let PreparedPolygon { exact, coarse, fine, .. } = PreparedPolygon::new(&feature.geometry);
            let stored = Stored { feature, exact };
            match index.by_key.get(&stored.feature.key) {
                Some(&slot) => {
                    index.slots[slot as usize] = Some(stored);
                    index.rasters[slot as usize] = coarse;
                    index.fines[slot as usize] = fine;
                }
                None => {
                    let slot = u32::try_from(index.slots.len()).expect("too many features");
                    index.by_key.insert(stored.feature.key.clone(), slot);
                    index.slots.push(Some(stored));
                    index.rasters.push(coarse);
                    index.fines.push(fine);
                }
            }
        }
        let mut per_level: Vec<(u8, Vec<Entry>)> = Vec::new();
        for (slot, stored) in index.slots.iter().enumerate() {
            let stored = stored.as_ref().expect("no holes while building");
            if let Some(env) = stored.exact.aabb() {
                let level = stored.feature.level;
                let entry = Entry { env, slot: slot as u32 };
                match per_level.iter_mut().find(|(l, _)| *l == level) {
                    Some((_, v)) => v.push(entry),
                    None => per_level.push((level, vec![entry])),
                }
            }
        }
        per_level.sort_by_key(|(l, _)| *l);
        index.levels = per_level
            .into_iter()
            .map(|(level, entries)| Level::new(level, RTree::bulk_load_with_params(entries)))
            .collect();
        index
    }

    /// Inserts a feature, or replaces the feature with the same key (geometry, level and parent
    /// may all change). Returns the replaced feature.
    pub fn upsert(&mut self, feature: Feature) -> Option<Feature> {
        let PreparedPolygon { exact, coarse, fine, .. } = PreparedPolygon::new(&feature.geometry);
        let new_env = exact.aabb();
        let new_level = feature.level;
        let (slot, old) = match self.by_key.get(&feature.key) {
            Some(&slot) => {
                let old = self.slots[slot as usize].take().expect("keyed slot is occupied");
                self.unindex(slot, &old);
                (slot, Some(old.feature))
            }
            None => {
                let slot = match self.free.pop() {
                    Some(slot) => slot,
                    None => {
                        self.slots.push(None);
                        self.rasters.push(Coarse::EMPTY);
                        self.fines.push(Fine::EMPTY);
                        u32::try_from(self.slots.len() - 1).expect("too many features")
                    }
                };
                self.by_key.insert(feature.key.clone(), slot);
                (slot, None)
            }
        };
        self.slots[slot as usize] = Some(Stored { feature, exact });
        self.rasters[slot as usize] = coarse;
        self.fines[slot as usize] = fine;
        if let Some(env) = new_env {
            self.level_mut(new_level).insert(Entry { env, slot });
        }
        old
    }

    /// Removes the feature with this key; `false` if there was none.
    pub fn remove(&mut self, key: &str) -> bool {
        let Some(slot) = self.by_key.remove(key) else {
            return false;
        };
        let old = self.slots[slot as usize].take().expect("keyed slot is occupied");
        self.unindex(slot, &old);
        self.free.push(slot);
        true
    }

    fn unindex(&mut self, slot: u32, stored: &Stored) {
        if let Some(env) = stored.exact.aabb() {
            self.level_mut(stored.feature.level).remove(&Entry { env, slot });
        }
    }

    fn level_mut(&mut self, level: u8) -> &mut Level {
        let at = match self.levels.binary_search_by_key(&level, |l| l.level) {
            Ok(at) => at,
            Err(at) => {
                self.levels.insert(at, Level::new(level, RTree::new_with_params()));
                at
            }
        };
        &mut self.levels[at]
    }

    fn level(&self, level: u8) -> Option<&Level> {
        self.levels.iter().find(|l| l.level == level)
    }

    #[inline]
    fn stored(&self, slot: u32) -> &Stored {
        self.slots[slot as usize].as_ref().expect("indexed slot is occupied")
    }

    /// Number of features (including those with an empty geometry).
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// `true` when the index holds no feature.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The feature with this key.
    pub fn get(&self, key: &str) -> Option<&Feature> {
        self.by_key.get(key).map(|&slot| &self.stored(slot).feature)
    }

    /// The levels that have at least one feature with a non-empty geometry, ascending.
    pub fn levels(&self) -> impl Iterator<Item = u8> + '_ {
        self.levels.iter().filter(|l| l.tree.size() > 0).map(|l| l.level)
    }

    /// The key of the feature of `level` that covers `(lon, lat)`; among several, the smallest key
    /// in byte-wise order. `None` when no feature of that level covers the point (or it is NaN).
    pub fn locate(&self, level: u8, lon: f64, lat: f64) -> Option<&str> {
        self.locate_in(self.level(level)?, lon, lat).map(|s| s.feature.key.as_str())
    }

    #[inline]
    fn locate_in<'a>(&'a self, level: &'a Level, lon: f64, lat: f64) -> Option<&'a Stored> {
        if !(lon.is_finite() && lat.is_finite()) {
            return None;
        }
        let mut best: Option<&Stored> = None;
        let mut consider = |item: &Item| {
            if !item.bbox.contains(lon, lat) {
                return;
            }
            let slot = item.slot as usize;
            let state = match self.rasters[slot].get(&item.bbox, lon, lat) {
                CELL_EDGE => self.fines[slot].get(&item.bbox, lon, lat),
                state => state,
            };
            let covered = match state {
                CELL_INSIDE => true,
                CELL_OUTSIDE => false,
                _ => self.stored(item.slot).exact.position(lon, lat) != CoordPos::Outside,
            };
            if covered {
                let s = self.stored(item.slot);
                if best.is_none_or(|b| s.feature.key < b.feature.key) {
                    best = Some(s);
                }
            }
        };
        match &level.grid {
            Some(grid) if grid.covers_extent(lon, lat) => grid.items(lon, lat).iter().for_each(consider),
            _ => {
                let _ = level.tree.locate_in_envelope_intersecting_int(AABB::from_point([lon, lat]), |e| {
                    consider(&Item::new(e.slot, &e.env));
                    ControlFlow::<()>::Continue(())
                });
            }
        }
        best
    }

    /// The chain of keys for a point, finest first: the feature located at the finest (largest)
    /// level that has a feature covering the point, then its `parent`, the parent's parent, and so
    /// on. The walk follows `parent` links, not geometry. It stops at a feature without parent, at
    /// a parent key not in the index (that key is still included, as the last element), or when a
    /// key would repeat (a cycle in the data). Empty when no feature of any level covers the point.
    pub fn chain(&self, lon: f64, lat: f64) -> Vec<&str> {
        let mut chain = Vec::new();
        let Some(start) = self.levels.iter().rev().find_map(|l| self.locate_in(l, lon, lat)) else {
            return chain;
        };
        chain.push(start.feature.key.as_str());
        let mut feature = &start.feature;
        while let Some(parent) = feature.parent.as_deref() {
            if chain.contains(&parent) {
                break;
            }
            chain.push(parent);
            match self.get(parent) {
                Some(f) => feature = f,
                None => break,
            }
        }
        chain
    }

    /// Features of `level` whose bounding box intersects `bbox` (a superset of those whose polygon
    /// intersects it), in no particular order. For tiles and OGC API bbox queries.
    pub fn candidates_in_bbox(&self, level: u8, bbox: Rect<f64>) -> impl Iterator<Item = &Feature> + '_ {
        let env = AABB::from_corners([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]);
        self.level(level)
            .into_iter()
            .flat_map(move |l| l.tree.locate_in_envelope_intersecting(env))
            .map(|e| &self.stored(e.slot).feature)
    }

    /// An estimate of the heap bytes held by the index: features (keys, parents, geometries),
    /// prepared polygons, the key map, the R-trees and the point grids. Allocator overhead is not
    /// counted.
    pub fn memory_bytes(&self) -> usize {
        let mut bytes = self.slots.capacity() * size_of::<Option<Stored>>()
            + self.rasters.capacity() * size_of::<Coarse>()
            + self.fines.capacity() * size_of::<Fine>()
            + self.free.capacity() * size_of::<u32>();
        for stored in self.slots.iter().flatten() {
            let f = &stored.feature;
            bytes += f.key.capacity() + f.parent.as_ref().map_or(0, String::capacity);
            bytes += f.geometry.0.capacity() * size_of::<geo::Polygon<f64>>();
            for polygon in &f.geometry.0 {
                bytes += polygon.exterior().0.capacity() * size_of::<Coord<f64>>();
                bytes += size_of_val(polygon.interiors());
                bytes += polygon.interiors().iter().map(|r| r.0.capacity() * size_of::<Coord<f64>>()).sum::<usize>();
            }
            bytes += stored.exact.heap_bytes();
        }
        // hashbrown: buckets = capacity · 8/7 rounded up to a power of two, one control byte each.
        let buckets = (self.by_key.capacity() * 8 / 7).next_power_of_two();
        bytes += buckets * (size_of::<(String, u32)>() + 1) + self.by_key.keys().map(String::capacity).sum::<usize>();
        bytes += self.levels.capacity() * size_of::<Level>();
        for level in &self.levels {
            bytes += rtree_node_bytes(level.tree.root().children());
            bytes += level.grid.as_ref().map_or(0, PointGrid::heap_bytes);
        }
        bytes
    }
}

/// Bytes of an R-tree's nodes below a parent (children arrays; spare capacity not visible).
fn rtree_node_bytes(children: &[RTreeNode<Entry>]) -> usize {
    size_of_val(children)
        + children
            .iter()
            .map(|c| match c {
                RTreeNode::Leaf(_) => 0,
                RTreeNode::Parent(p) => rtree_node_bytes(p.children()),
            })
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coordinate_position::CoordinatePosition;
    use geo::{coord, Polygon};

    fn poly(exterior: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
        Polygon::new(LineString::from(exterior.to_vec()), holes.iter().map(|h| LineString::from(h.to_vec())).collect())
    }

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        poly(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], &[])
    }

    fn feature(key: &str, level: u8, parent: Option<&str>, polygons: Vec<Polygon<f64>>) -> Feature {
        Feature {
            key: key.to_string(),
            level,
            parent: parent.map(str::to_string),
            geometry: MultiPolygon::new(polygons),
        }
    }

    /// splitmix64: a tiny deterministic PRNG.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        /// Uniform in [0, 1).
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.unit()
        }
    }

    /// Brute force reference: geo's CoordinatePosition over every feature of the level.
    fn brute_locate(features: &[Feature], level: u8, x: f64, y: f64) -> Option<&str> {
        features
            .iter()
            .filter(|f| f.level == level)
            .filter(|f| f.geometry.0.iter().any(|p| p.coordinate_position(&coord! { x: x, y: y }) != CoordPos::Outside))
            .map(|f| f.key.as_str())
            .min()
    }

    #[test]
    fn shared_edges_and_vertices_resolve_to_smallest_key() {
        // 2 × 2 squares; keys chosen so the smallest is not always the first/left one.
        //   c | a
        //   --+--
        //   d | b
        let idx = PolygonIndex::build([
            feature("d", 0, None, vec![rect(0.0, 0.0, 1.0, 1.0)]),
            feature("b", 0, None, vec![rect(1.0, 0.0, 2.0, 1.0)]),
            feature("c", 0, None, vec![rect(0.0, 1.0, 1.0, 2.0)]),
            feature("a", 0, None, vec![rect(1.0, 1.0, 2.0, 2.0)]),
        ]);
        assert_eq!(idx.len(), 4);
        // Interiors.
        assert_eq!(idx.locate(0, 0.5, 0.5), Some("d"));
        assert_eq!(idx.locate(0, 1.5, 0.5), Some("b"));
        assert_eq!(idx.locate(0, 0.5, 1.5), Some("c"));
        assert_eq!(idx.locate(0, 1.5, 1.5), Some("a"));
        // Shared edges.
        assert_eq!(idx.locate(0, 1.0, 0.5), Some("b")); // d|b
        assert_eq!(idx.locate(0, 1.0, 1.5), Some("a")); // c|a
        assert_eq!(idx.locate(0, 0.5, 1.0), Some("c")); // d/c
        assert_eq!(idx.locate(0, 1.5, 1.0), Some("a")); // b/a
                                                        // The shared vertex of all four, and vertices shared by two.
        assert_eq!(idx.locate(0, 1.0, 1.0), Some("a"));
        assert_eq!(idx.locate(0, 1.0, 0.0), Some("b"));
        assert_eq!(idx.locate(0, 0.0, 1.0), Some("c"));
        assert_eq!(idx.locate(0, 1.0, 2.0), Some("a"));
        // Outer boundary: only one feature covers.
        assert_eq!(idx.locate(0, 0.0, 0.0), Some("d"));
        assert_eq!(idx.locate(0, 0.0, 0.5), Some("d"));
        assert_eq!(idx.locate(0, 2.0, 2.0), Some("a"));
        assert_eq!(idx.locate(0, 2.0, 0.25), Some("b"));
        assert_eq!(idx.locate(0, 0.25, 2.0), Some("c"));
        // Outside, and just outside.
        assert_eq!(idx.locate(0, -0.1, 0.5), None);
        assert_eq!(idx.locate(0, 2.0 + 1e-15, 0.5), None);
        assert_eq!(idx.locate(0, 0.5, -f64::MIN_POSITIVE), None);
        assert_eq!(idx.locate(0, 3.0, 3.0), None);
        assert_eq!(idx.locate(0, f64::NAN, 0.5), None);
        // Unknown level.
        assert_eq!(idx.locate(1, 0.5, 0.5), None);
    }

    #[test]
    fn smallest_key_is_bytewise() {
        // Overlapping squares: byte order, not numeric or locale order.
        let idx = PolygonIndex::build([
            feature("9", 0, None, vec![rect(0.0, 0.0, 2.0, 2.0)]),
            feature("10", 0, None, vec![rect(1.0, 1.0, 3.0, 3.0)]),
            feature("a", 0, None, vec![rect(0.0, 0.0, 3.0, 3.0)]),
            feature("B", 0, None, vec![rect(2.5, 2.5, 3.0, 3.0)]),
        ]);
        assert_eq!(idx.locate(0, 1.5, 1.5), Some("10"));
        assert_eq!(idx.locate(0, 0.5, 0.5), Some("9"));
        assert_eq!(idx.locate(0, 2.8, 2.8), Some("10"));
        assert_eq!(idx.locate(0, 0.5, 2.8), Some("a"));
        assert!("B" < "a" && "10" < "9" && "10" < "B");
    }

    #[test]
    fn slanted_shared_edge_has_no_gap_and_no_overlap() {
        // Two triangles sharing the diagonal of the unit square; points exactly on the diagonal
        // (x == y) resolve to the smaller key, points off it by one ulp to the right side.
        let idx = PolygonIndex::build([
            feature("lower", 0, None, vec![poly(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)], &[])]),
            feature("upper", 0, None, vec![poly(&[(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)], &[])]),
        ]);
        let mut rng = Rng(7);
        for _ in 0..10_000 {
            let t = rng.unit();
            assert_eq!(idx.locate(0, t, t), Some("lower"));
            let above = f64::from_bits(t.to_bits() + 1);
            if above <= 1.0 && t > 0.0 {
                assert_eq!(idx.locate(0, t, above), Some("upper"), "{t}");
                assert_eq!(idx.locate(0, above, t), Some("lower"), "{t}");
            }
        }
        // A skewed diagonal: (0.1, 0.2) → (0.7, 0.9). Points on its line are rarely representable;
        // each must land in exactly one triangle, consistent with the exact orientation.
        let (a, b) = (coord! { x: 0.1, y: 0.2 }, coord! { x: 0.7, y: 0.9 });
        let idx = PolygonIndex::build([
            feature("r", 0, None, vec![poly(&[(0.1, 0.2), (0.7, 0.2), (0.7, 0.9), (0.1, 0.2)], &[])]),
            feature("l", 0, None, vec![poly(&[(0.1, 0.2), (0.7, 0.9), (0.1, 0.9), (0.1, 0.2)], &[])]),
        ]);
        for _ in 0..10_000 {
            let t = rng.unit();
            let p = coord! { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) };
            let expected = match <RobustKernel as Kernel<f64>>::orient2d(a, b, p) {
                Orientation::CounterClockwise | Orientation::Collinear => "l",
                Orientation::Clockwise => "r",
            };
            assert_eq!(idx.locate(0, p.x, p.y), Some(expected));
        }
    }

    #[test]
    fn polygon_with_hole() {
        let outer = &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)];
        let hole: &[(f64, f64)] = &[(3.0, 3.0), (3.0, 7.0), (7.0, 7.0), (7.0, 3.0), (3.0, 3.0)];
        let mut idx = PolygonIndex::new();
        idx.upsert(feature("ring", 0, None, vec![poly(outer, &[hole])]));
        assert_eq!(idx.locate(0, 1.0, 1.0), Some("ring"));
        assert_eq!(idx.locate(0, 5.0, 5.0), None); // in the hole
        assert_eq!(idx.locate(0, 3.0, 5.0), Some("ring")); // on the hole's ring
        assert_eq!(idx.locate(0, 7.0, 7.0), Some("ring")); // hole vertex
        assert_eq!(idx.locate(0, 5.0, 3.0), Some("ring"));
        assert_eq!(idx.locate(0, 8.0, 5.0), Some("ring")); // ray crosses the hole
                                                           // An island filling the hole: its interior is its own; the shared ring goes to the smaller key.
        idx.upsert(feature("island", 0, None, vec![rect(3.0, 3.0, 7.0, 7.0)]));
        assert_eq!(idx.locate(0, 5.0, 5.0), Some("island"));
        assert_eq!(idx.locate(0, 3.0, 5.0), Some("island"));
        assert_eq!(idx.locate(0, 7.0, 3.0), Some("island"));
        assert_eq!(idx.locate(0, 2.0, 5.0), Some("ring"));
        let p = PreparedPolygon::new(&MultiPolygon::new(vec![poly(outer, &[hole])]));
        assert_eq!(p.position(5.0, 5.0), CoordPos::Outside);
        assert_eq!(p.position(3.0, 5.0), CoordPos::OnBoundary);
        assert_eq!(p.position(1.0, 5.0), CoordPos::Inside);
    }

    #[test]
    fn concave_polygon() {
        // A "U" (opening at the top) with a vertex level with the test points' rays.
        let u = poly(
            &[
                (0.0, 0.0),
                (6.0, 0.0),
                (6.0, 6.0),
                (4.0, 6.0),
                (4.0, 2.0),
                (2.0, 2.0),
                (2.0, 6.0),
                (0.0, 6.0),
                (0.0, 0.0),
            ],
            &[],
        );
        let idx = PolygonIndex::build([feature("u", 0, None, vec![u])]);
        assert_eq!(idx.locate(0, 1.0, 4.0), Some("u")); // left arm
        assert_eq!(idx.locate(0, 5.0, 4.0), Some("u")); // right arm
        assert_eq!(idx.locate(0, 3.0, 4.0), None); // in the notch
        assert_eq!(idx.locate(0, 3.0, 1.0), Some("u")); // the base
        assert_eq!(idx.locate(0, 1.0, 2.0), Some("u")); // ray through the notch's bottom edge
        assert_eq!(idx.locate(0, 3.0, 2.0), Some("u")); // on the notch's bottom edge
        assert_eq!(idx.locate(0, 3.0, 6.0), None); // level with the arms' tops, in the gap
        assert_eq!(idx.locate(0, -1.0, 6.0), None); // ray along the top edges
        assert_eq!(idx.locate(0, 1.0, 6.0), Some("u")); // on a top edge
        assert_eq!(idx.locate(0, 4.0, 6.0), Some("u")); // vertex
        assert_eq!(idx.locate(0, 7.0, 2.0), None);
    }

    #[test]
    fn upsert_replaces_and_remove_removes() {
        let mut idx = PolygonIndex::new();
        assert!(idx.is_empty());
        assert_eq!(idx.upsert(feature("g1", 5, Some("v"), vec![rect(0.0, 0.0, 1.0, 1.0)])), None);
        assert_eq!(idx.upsert(feature("g2", 5, Some("v"), vec![rect(1.0, 0.0, 2.0, 1.0)])), None);
        assert_eq!(idx.locate(5, 0.5, 0.5), Some("g1"));
        // Move g1 far away.
        let old = idx.upsert(feature("g1", 5, Some("w"), vec![rect(10.0, 10.0, 11.0, 11.0)])).unwrap();
        assert_eq!(old.geometry, MultiPolygon::new(vec![rect(0.0, 0.0, 1.0, 1.0)]));
        assert_eq!(idx.len(), 2);
        assert_eq!(idx.locate(5, 0.5, 0.5), None);
        assert_eq!(idx.locate(5, 10.5, 10.5), Some("g1"));
        assert_eq!(idx.get("g1").unwrap().parent.as_deref(), Some("w"));
        assert_eq!(idx.locate(5, 1.0, 0.5), Some("g2")); // g1 no longer shares the edge
                                                         // Change level.
        idx.upsert(feature("g1", 4, None, vec![rect(10.0, 10.0, 11.0, 11.0)]));
        assert_eq!(idx.locate(5, 10.5, 10.5), None);
        assert_eq!(idx.locate(4, 10.5, 10.5), Some("g1"));
        // Remove.
        assert!(idx.remove("g1"));
        assert!(!idx.remove("g1"));
        assert_eq!(idx.len(), 1);
        assert_eq!(idx.get("g1"), None);
        assert_eq!(idx.locate(4, 10.5, 10.5), None);
        // The free slot is reused, and nothing stale is found.
        idx.upsert(feature("g3", 5, None, vec![rect(0.0, 0.0, 1.0, 1.0)]));
        assert_eq!(idx.locate(5, 0.5, 0.5), Some("g3"));
        assert_eq!(idx.locate(5, 1.0, 0.5), Some("g2"));
        assert_eq!(idx.len(), 2);
        // Empty geometry: kept, never located.
        idx.upsert(feature("empty", 5, None, vec![]));
        assert_eq!(idx.len(), 3);
        assert!(idx.get("empty").is_some());
        assert!(idx.remove("empty"));
        let bbox = Rect::new(coord! { x: -1.0, y: -1.0 }, coord! { x: 0.5, y: 0.5 });
        let found: Vec<_> = idx.candidates_in_bbox(5, bbox).map(|f| f.key.as_str()).collect();
        assert_eq!(found, ["g3"]);
        assert_eq!(idx.candidates_in_bbox(9, bbox).count(), 0);
        assert!(idx.memory_bytes() > 0);
    }

    #[test]
    fn chain_through_levels() {
        // village V (level 2, its parent a township not in the index) ⊃ large grid L (3) ⊃
        // medium grids M1, M2 (4) ⊃ small grids S1 (in M1) and S2 (in M2, covering half of it).
        let idx = PolygonIndex::build([
            feature("370304001001", 2, Some("370304001"), vec![rect(0.0, 0.0, 8.0, 8.0)]),
            feature("L", 3, Some("370304001001"), vec![rect(0.0, 0.0, 4.0, 4.0)]),
            feature("M1", 4, Some("L"), vec![rect(0.0, 0.0, 2.0, 4.0)]),
            feature("M2", 4, Some("L"), vec![rect(2.0, 0.0, 4.0, 4.0)]),
            feature("S1", 5, Some("M1"), vec![rect(0.0, 0.0, 2.0, 4.0)]),
            feature("S2", 5, Some("M2"), vec![rect(2.0, 0.0, 4.0, 2.0)]),
        ]);
        assert_eq!(idx.levels().collect::<Vec<_>>(), [2, 3, 4, 5]);
        assert_eq!(idx.chain(1.0, 1.0), ["S1", "M1", "L", "370304001001", "370304001"]);
        assert_eq!(idx.chain(3.0, 1.0), ["S2", "M2", "L", "370304001001", "370304001"]);
        // Not covered by a small grid: starts at the medium grid.
        assert_eq!(idx.chain(3.0, 3.0), ["M2", "L", "370304001001", "370304001"]);
        // On the S1|S2 edge: S1 < S2, so S1's ancestors.
        assert_eq!(idx.chain(2.0, 1.0), ["S1", "M1", "L", "370304001001", "370304001"]);
        // Only the village.
        assert_eq!(idx.chain(6.0, 6.0), ["370304001001", "370304001"]);
        assert!(idx.chain(9.0, 9.0).is_empty());
        // A cycle in the data ends the walk.
        let idx = PolygonIndex::build([
            feature("a", 1, Some("b"), vec![rect(0.0, 0.0, 1.0, 1.0)]),
            feature("b", 0, Some("a"), vec![]),
        ]);
        assert_eq!(idx.chain(0.5, 0.5), ["a", "b"]);
    }

    /// A random star-shaped polygon (simple) around `c`, optionally with a star-shaped hole.
    fn random_star(rng: &mut Rng, c: Coord<f64>, r: f64, n: usize, hole: bool, snap: Option<f64>) -> Polygon<f64> {
        let snapf = |v: f64| snap.map_or(v, |s| (v / s).round() * s);
        let ring = |rng: &mut Rng, rmin: f64, rmax: f64| -> Vec<(f64, f64)> {
            let mut pts: Vec<(f64, f64)> = (0..n)
                .map(|k| {
                    let ang = std::f64::consts::TAU * (k as f64 + 0.8 * rng.unit()) / n as f64;
                    let rad = rng.range(rmin, rmax);
                    (snapf(c.x + rad * ang.cos()), snapf(c.y + rad * ang.sin()))
                })
                .collect();
            pts.dedup();
            pts.push(pts[0]);
            pts
        };
        let ext = ring(rng, 0.6 * r, r);
        if hole {
            let h = ring(rng, 0.1 * r, 0.3 * r);
            poly(&ext, &[&h])
        } else {
            poly(&ext, &[])
        }
    }

    #[test]
    fn prepared_matches_geo_coordinate_position() {
        let mut rng = Rng(42);
        let mut checked = 0;
        for case in 0..300 {
            // Some cases on a coarse grid so that many points fall exactly on edges and vertices.
            let snap = (case % 3 == 0).then_some(0.125);
            let n = 3 + (rng.next() % 80) as usize;
            let c = coord! { x: rng.range(100.0, 120.0), y: rng.range(20.0, 40.0) };
            let polygon = random_star(&mut rng, c, 2.0, n, case % 2 == 0, snap);
            if snap.is_some() && !geo::Validation::is_valid(&polygon) {
                continue;
            }
            let prepared = PreparedPolygon::new(&MultiPolygon::new(vec![polygon.clone()]));
            let all: Vec<Coord<f64>> = polygon
                .exterior()
                .0
                .iter()
                .chain(polygon.interiors().iter().flat_map(|r| r.0.iter()))
                .copied()
                .collect();
            for k in 0..600 {
                let p = match k % 4 {
                    0 | 1 => {
                        let p = coord! { x: rng.range(c.x - 2.2, c.x + 2.2), y: rng.range(c.y - 2.2, c.y + 2.2) };
                        match snap {
                            Some(s) => coord! { x: (p.x / s).round() * s, y: (p.y / s).round() * s },
                            None => p,
                        }
                    }
                    2 => all[(rng.next() % all.len() as u64) as usize], // a vertex
                    _ => {
                        // On (or within rounding of) an edge; a vertex's x with another's y.
                        let i = (rng.next() % (all.len() as u64 - 1)) as usize;
                        let (a, b) = (all[i], all[i + 1]);
                        if rng.next() & 1 == 0 {
                            let t = rng.unit();
                            coord! { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) }
                        } else {
                            coord! { x: a.x, y: all[(rng.next() % all.len() as u64) as usize].y }
                        }
                    }
                };
                assert_eq!(prepared.position(p.x, p.y), polygon.coordinate_position(&p), "case {case} point {p:?}");
                checked += 1;
            }
        }
        assert!(checked > 100_000);
    }

    #[test]
    fn index_matches_brute_force_on_a_jittered_lattice() {
        // A lattice of quadrilaterals with jittered (shared) corners: slanted shared edges, vertices
        // shared by four cells. Keys are shuffled so the smallest-key rule is exercised in all
        // directions.
        let (nx, ny) = (12usize, 9usize);
        let mut rng = Rng(3);
        let corner: Vec<Vec<Coord<f64>>> = (0..=nx)
            .map(|i| {
                (0..=ny)
                    .map(|j| {
                        let jx = if i == 0 || i == nx { 0.0 } else { rng.range(-0.3, 0.3) };
                        let jy = if j == 0 || j == ny { 0.0 } else { rng.range(-0.3, 0.3) };
                        coord! { x: 117.0 + (i as f64 + jx) * 0.01, y: 36.0 + (j as f64 + jy) * 0.01 }
                    })
                    .collect()
            })
            .collect();
        let mut features = Vec::new();
        for i in 0..nx {
            for j in 0..ny {
                let ring = [corner[i][j], corner[i + 1][j], corner[i + 1][j + 1], corner[i][j + 1], corner[i][j]];
                let key = format!("{:04}", rng.next() % 10_000);
                features.push(Feature {
                    key: format!("{key}-{i}-{j}"),
                    level: 5,
                    parent: None,
                    geometry: MultiPolygon::new(vec![Polygon::new(LineString::from(ring.to_vec()), vec![])]),
                });
            }
        }
        let idx = PolygonIndex::build(features.clone());
        let mut points: Vec<Coord<f64>> = corner.iter().flatten().copied().collect();
        for _ in 0..20_000 {
            points.push(coord! { x: rng.range(116.999, 117.121), y: rng.range(35.999, 36.091) });
        }
        for (column, next) in corner.iter().zip(&corner[1..]) {
            for (&a, &b) in column.iter().zip(next).take(ny) {
                let t = rng.unit();
                points.push(coord! { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) });
            }
        }
        for p in points {
            let got = idx.locate(5, p.x, p.y);
            assert_eq!(got, brute_locate(&features, 5, p.x, p.y), "{p:?}");
            let inside = p.x >= 117.0 && p.x <= 117.12 && p.y >= 36.0 && p.y <= 36.09;
            assert_eq!(got.is_some(), inside, "{p:?}");
        }
        // Incremental updates give the same answers as a fresh build.
        let mut inc = PolygonIndex::new();
        for f in features.iter().rev() {
            inc.upsert(f.clone());
        }
        for f in features.iter().step_by(3) {
            inc.remove(&f.key);
        }
        for f in features.iter().step_by(3) {
            inc.upsert(f.clone());
        }
        for _ in 0..5_000 {
            let (x, y) = (rng.range(117.0, 117.12), rng.range(36.0, 36.09));
            assert_eq!(inc.locate(5, x, y), idx.locate(5, x, y));
        }
    }

    #[test]
    fn updates_keep_grid_and_tree_consistent() {
        // Squares moved around, some far beyond the level's extent (found through the R-tree
        // until the bucket grid is rebuilt), some shrunk, some removed; after every step the index
        // agrees with a brute-force scan of the current features.
        let mut rng = Rng(11);
        let mut idx = PolygonIndex::new();
        let mut current: HashMap<String, Feature> = HashMap::new();
        let square = |x: f64, y: f64, s: f64| rect(x, y, x + s, y + s);
        for step in 0..600 {
            let key = format!("k{:03}", rng.next() % 150);
            let roll = rng.next() % 10;
            if roll < 2 {
                assert_eq!(idx.remove(&key), current.remove(&key).is_some());
            } else {
                let far = roll == 9;
                let (x, y) = if far {
                    (rng.range(-50.0, 50.0), rng.range(-50.0, 50.0))
                } else {
                    (rng.range(0.0, 10.0), rng.range(0.0, 10.0))
                };
                let f = feature(&key, 5, None, vec![square(x, y, rng.range(0.1, 2.0))]);
                let previous = idx.upsert(f.clone());
                assert_eq!(previous.as_ref(), current.get(&key));
                current.insert(key, f);
            }
            assert_eq!(idx.len(), current.len());
            let features: Vec<Feature> = current.values().cloned().collect();
            let probes = if step % 50 == 0 { 400 } else { 20 };
            for _ in 0..probes {
                let (x, y) = if rng.next() & 3 == 0 {
                    (rng.range(-52.0, 52.0), rng.range(-52.0, 52.0))
                } else {
                    (rng.range(-0.5, 12.5), rng.range(-0.5, 12.5))
                };
                assert_eq!(idx.locate(5, x, y), brute_locate(&features, 5, x, y), "step {step} ({x}, {y})");
            }
            // Corners of the current squares: shared-boundary cases in abundance.
            for f in features.iter().take(5) {
                let c = f.geometry.0[0].exterior().0[2];
                assert_eq!(idx.locate(5, c.x, c.y), brute_locate(&features, 5, c.x, c.y));
            }
        }
        assert!(idx.memory_bytes() > 0);
    }
}

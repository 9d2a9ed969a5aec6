//! Point → grid lookup benchmark for `zhili_geo::index::PolygonIndex`.
//!
//! Data: a deterministic tiling of 117.75–118.05 E × 36.30–36.55 N (博山-sized) into 4,509 grids:
//! a 71 × 64 lattice with jittered corners, 35 pairs of neighbours merged, every shared side a
//! wiggly polyline of 14 points generated from the side's identity (so both neighbours hold the
//! same vertices: no gaps, no overlaps); each grid has ≥ 52 vertices. Points: 1,000,000 uniform
//! random positions in the rectangle (splitmix64, fixed seed).
//!
//! `cargo bench -p zhili-geo --bench lookup`. With `ZHILI_BENCH_EXPORT=DIR` the grids are written to
//! `DIR/cells.geojson` (FeatureCollection, property `code`), the points to `DIR/points.csv`
//! (`lon,lat`), and this index's answers to `DIR/zhili_locate.csv` (`lon,lat,code`, empty code for
//! none) for a side-by-side comparison with PostGIS; likewise `DIR/boundary_points.csv` and
//! `DIR/zhili_locate_boundary.csv` for points on vertices and edges (the boundary rule).

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use geo::{Area, Coord, LineString, MultiPolygon, Polygon, Validation};
use zhili_geo::index::{Feature, PolygonIndex};

const X0: f64 = 117.75;
const X1: f64 = 118.05;
const Y0: f64 = 36.30;
const Y1: f64 = 36.55;
const NX: usize = 71;
const NY: usize = 64;
const MERGES: usize = NX * NY - 4509;
/// Points per side, including both corners.
const SIDE_POINTS: usize = 14;
const LEVEL: u8 = 5;
const SEED: u64 = 0x5A48_494C_4921;

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic value in [-1, 1) from a few integers.
fn hash_signed(parts: &[u64]) -> f64 {
    let mut state = SEED;
    for &p in parts {
        state ^= p;
        splitmix64(&mut state);
    }
    let bits = splitmix64(&mut state) >> 11;
    bits as f64 / (1u64 << 52) as f64 - 1.0
}

/// Lattice corner (i, j): on the outer rectangle the perpendicular coordinate is exact.
fn node(i: usize, j: usize) -> Coord<f64> {
    let (dx, dy) = ((X1 - X0) / NX as f64, (Y1 - Y0) / NY as f64);
    let x = match i {
        0 => X0,
        NX => X1,
        _ => X0 + (i as f64 + 0.15 * hash_signed(&[1, i as u64, j as u64])) * dx,
    };
    let y = match j {
        0 => Y0,
        NY => Y1,
        _ => Y0 + (j as f64 + 0.15 * hash_signed(&[2, i as u64, j as u64])) * dy,
    };
    Coord { x, y }
}

/// The polyline of a lattice side, in canonical direction (from the lower corner): horizontal
/// side (i, j)→(i+1, j) or vertical side (i, j)→(i, j+1). Interior points are offset
/// perpendicularly by a hash of the side and the point number, tapering to zero at the corners;
/// sides on the outer rectangle are straight.
fn side(horizontal: bool, i: usize, j: usize) -> Vec<Coord<f64>> {
    let p = node(i, j);
    let q = if horizontal { node(i + 1, j) } else { node(i, j + 1) };
    let outer = if horizontal { j == 0 || j == NY } else { i == 0 || i == NX };
    let (ux, uy) = (q.x - p.x, q.y - p.y);
    let mut pts = Vec::with_capacity(SIDE_POINTS);
    pts.push(p);
    for k in 1..SIDE_POINTS - 1 {
        let t = k as f64 / (SIDE_POINTS - 1) as f64;
        let w = if outer {
            0.0
        } else {
            0.08 * (std::f64::consts::PI * t).sin() * hash_signed(&[3, horizontal as u64, i as u64, j as u64, k as u64])
        };
        // Perpendicular (−uy, ux); on the outer sides w = 0 keeps the fixed coordinate exact.
        pts.push(Coord { x: p.x + t * ux - w * uy, y: p.y + t * uy + w * ux });
    }
    pts.push(q);
    pts
}

/// The cell covering columns `i..i + width` of row `j`, counter-clockwise.
fn cell_ring(i: usize, j: usize, width: usize) -> LineString<f64> {
    let mut ring: Vec<Coord<f64>> = Vec::with_capacity(4 * SIDE_POINTS);
    let mut append = |pts: Vec<Coord<f64>>| {
        let skip = usize::from(!ring.is_empty());
        ring.extend_from_slice(&pts[skip..]);
    };
    for c in i..i + width {
        append(side(true, c, j));
    }
    append(side(false, i + width, j));
    for c in (i..i + width).rev() {
        append(side(true, c, j + 1).into_iter().rev().collect());
    }
    append(side(false, i, j).into_iter().rev().collect());
    LineString::new(ring) // the left side ends at the first corner: closed
}

fn grid_code(n: usize) -> String {
    // CJ/T 213: county 370304 + township 3 + community 3 + grid 2.
    format!("370304{:03}{:03}{:02}", 1 + n / 4000, 1 + (n / 40) % 100, 1 + n % 40)
}

fn tiling() -> Vec<Feature> {
    let mut features = Vec::with_capacity(NX * NY - MERGES);
    for j in 0..NY {
        let merge_at = (j < MERGES).then(|| (j * 37 + 11) % (NX - 1));
        let mut i = 0;
        while i < NX {
            let width = if Some(i) == merge_at { 2 } else { 1 };
            let n = features.len();
            features.push(Feature {
                key: grid_code(n),
                level: LEVEL,
                parent: Some(grid_code(n)[..12].to_string()),
                geometry: MultiPolygon::new(vec![Polygon::new(cell_ring(i, j, width), vec![])]),
            });
            i += width;
        }
    }
    features
}

fn points(n: usize) -> Vec<(f64, f64)> {
    let mut state = SEED ^ 0xB0_5A;
    let mut unit = move || (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
    (0..n).map(|_| (X0 + (X1 - X0) * unit(), Y0 + (Y1 - Y0) * unit())).collect()
}

fn export(dir: &str, features: &[Feature], points: &[(f64, f64)], index: &PolygonIndex) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut geojson = String::with_capacity(features.len() * 2048);
    geojson.push_str("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (n, f) in features.iter().enumerate() {
        let mut coords = String::new();
        for (p, polygon) in f.geometry.0.iter().enumerate() {
            coords.push_str(if p == 0 { "[" } else { ",[" });
            for (r, ring) in std::iter::once(polygon.exterior()).chain(polygon.interiors()).enumerate() {
                coords.push_str(if r == 0 { "[" } else { ",[" });
                for (k, c) in ring.0.iter().enumerate() {
                    let _ = write!(coords, "{}[{},{}]", if k == 0 { "" } else { "," }, c.x, c.y);
                }
                coords.push(']');
            }
            coords.push(']');
        }
        let _ = writeln!(
            geojson,
            "{{\"type\":\"Feature\",\"properties\":{{\"code\":\"{}\"}},\"geometry\":{{\"type\":\"MultiPolygon\",\"coordinates\":[{}]}}}}{}",
            f.key,
            coords,
            if n + 1 < features.len() { "," } else { "" }
        );
    }
    geojson.push_str("]}\n");
    std::fs::write(format!("{dir}/cells.geojson"), geojson)?;
    write_points(&format!("{dir}/points.csv"), &format!("{dir}/zhili_locate.csv"), points, index)?;
    let boundary = boundary_points(features);
    write_points(&format!("{dir}/boundary_points.csv"), &format!("{dir}/zhili_locate_boundary.csv"), &boundary, index)?;
    eprintln!(
        "exported {} cells, {} random points and {} boundary points to {dir}",
        features.len(),
        points.len(),
        boundary.len()
    );
    Ok(())
}

/// `lon,lat` to `points_path`, and `lon,lat,code` (this index's answer, empty for none) to
/// `answers_path`. Coordinates are printed in the shortest form that parses back to the same f64.
fn write_points(
    points_path: &str,
    answers_path: &str,
    points: &[(f64, f64)],
    index: &PolygonIndex,
) -> std::io::Result<()> {
    let mut csv = std::io::BufWriter::new(std::fs::File::create(points_path)?);
    let mut ours = std::io::BufWriter::new(std::fs::File::create(answers_path)?);
    writeln!(csv, "lon,lat")?;
    writeln!(ours, "lon,lat,code")?;
    for &(x, y) in points {
        writeln!(csv, "{x},{y}")?;
        writeln!(ours, "{x},{y},{}", index.locate(LEVEL, x, y).unwrap_or(""))?;
    }
    csv.flush()?;
    ours.flush()
}

/// Points where the boundary rule matters, which random points never hit: every vertex (shared by
/// two to four cells), and on every edge the f64 points at 1/2 and 1/3 of its length (on the
/// segment exactly, or within rounding of it: the test of a predicate's exactness).
fn boundary_points(features: &[Feature]) -> Vec<(f64, f64)> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for f in features {
        for ring in f.geometry.0.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())) {
            for w in ring.0.windows(2) {
                let (a, b) = (w[0], w[1]);
                for p in [
                    (a.x, a.y),
                    ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0),
                    (a.x + (b.x - a.x) / 3.0, a.y + (b.y - a.y) / 3.0),
                ] {
                    if seen.insert((p.0.to_bits(), p.1.to_bits())) {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

/// CPU time of the current thread (Linux `/proc/thread-self/schedstat`), when available: the
/// machine may be shared, and "lookups per second on one core" means per second of CPU.
fn thread_cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(s.split_whitespace().next()?.parse().ok()?))
}

fn main() {
    let features = tiling();
    let points = points(1_000_000);
    assert_eq!(features.len(), 4509);
    let min_vertices = features.iter().map(|f| f.geometry.0[0].exterior().0.len() - 1).min().unwrap();
    assert!(min_vertices >= 50, "{min_vertices}");
    assert!(features.iter().all(|f| f.geometry.is_valid()), "invalid cell");
    let area: f64 = features.iter().map(|f| f.geometry.unsigned_area()).sum();
    let expected = (X1 - X0) * (Y1 - Y0);
    assert!((area - expected).abs() < 1e-12 * expected, "cells do not tile the rectangle: {area} vs {expected}");

    let t = Instant::now();
    let index = PolygonIndex::build(features.clone());
    let build = t.elapsed();
    let mut hits = 0usize;
    for _pass in 0..3 {
        hits = 0;
        let (t, cpu) = (Instant::now(), thread_cpu_time());
        for &(x, y) in &points {
            hits += usize::from(index.locate(LEVEL, black_box(x), black_box(y)).is_some());
        }
        let wall = t.elapsed();
        let cpu = cpu.and_then(|c| Some(thread_cpu_time()? - c)).unwrap_or(wall);
        eprintln!(
            "one pass over {} points: wall {:.0} ms = {:.2} M lookups/s; CPU {:.0} ms = {:.2} M lookups/s per core",
            points.len(),
            wall.as_secs_f64() * 1e3,
            points.len() as f64 / wall.as_secs_f64() / 1e6,
            cpu.as_secs_f64() * 1e3,
            points.len() as f64 / cpu.as_secs_f64() / 1e6
        );
    }
    assert_eq!(hits, points.len(), "every point of the rectangle lies in a grid");
    eprintln!(
        "zhili-geo lookup: {} grids ({}+ vertices each), build {:.1} ms, memory_bytes {} ({:.1} MiB)",
        features.len(),
        min_vertices,
        build.as_secs_f64() * 1e3,
        index.memory_bytes(),
        index.memory_bytes() as f64 / (1024.0 * 1024.0),
    );
    if let Ok(dir) = std::env::var("ZHILI_BENCH_EXPORT") {
        export(&dir, &features, &points, &index).expect("export");
    }

    let mut c = Criterion::default().configure_from_args();
    {
        const CHUNK: usize = 10_000;
        let mut group = c.benchmark_group("locate");
        group.throughput(Throughput::Elements(CHUNK as u64));
        group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
        let mut at = 0;
        group.bench_function("smallest_level_4509_grids", |b| {
            b.iter(|| {
                let chunk = &points[at..at + CHUNK];
                at = (at + CHUNK) % points.len();
                let mut found = 0usize;
                for &(x, y) in chunk {
                    found += usize::from(index.locate(LEVEL, x, y).is_some());
                }
                black_box(found)
            })
        });
        group.finish();
    }
    {
        let mut group = c.benchmark_group("update");
        group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(7));
        group.bench_function("build_4509_grids", |b| {
            b.iter_batched(|| features.clone(), PolygonIndex::build, BatchSize::LargeInput)
        });
        let mut index = PolygonIndex::build(features.clone());
        let mut n = 0;
        group.sample_size(50);
        group.bench_function("upsert_one_grid", |b| {
            b.iter_batched(
                || {
                    n = (n + 97) % features.len();
                    features[n].clone()
                },
                |f| index.upsert(f),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
    c.final_summary();
}

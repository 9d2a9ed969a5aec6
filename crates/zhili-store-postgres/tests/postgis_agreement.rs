//! Grid assignment in memory against PostGIS, on the demo's 4,509 small grids and the same
//! points: random points, every vertex and every edge midpoint. The answers must be identical:
//! the grid covering the point (`ST_Covers`) with the smallest code.
//!
//! In CI this runs at a small scale. `bench/grid-assign.sh` runs it with a million points in
//! release mode and prints both timings side by side (medians of three runs).

mod common;

use std::time::{Duration, Instant};

use zhili_core::audit::Actor;
use zhili_core::store::{CoreBatch, Store};
use zhili_geo::index::{Feature, PolygonIndex};
use zhili_grid::GridStore;
use zhili_store_postgres::PgStore;

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(state: &mut u64) -> f64 {
    (splitmix64(state) >> 11) as f64 / (1u64 << 53) as f64
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn postgis(store: &PgStore, xs: &[f64], ys: &[f64]) -> Vec<Option<String>> {
    let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT p.i, (SELECT g.code FROM grids g
                      WHERE g.level = 3 AND ST_Covers(g.boundary, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))
                      ORDER BY g.code COLLATE \"C\" LIMIT 1)
         FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i) ORDER BY p.i",
    )
    .bind(xs)
    .bind(ys)
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.into_iter().map(|r| r.1).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_assignment_matches_postgis() {
    common::with_fresh_store(|store| async move {
        let district = zhili_demo::district("not used");
        let divisions = CoreBatch { divisions: district.batch.divisions.clone(), ..CoreBatch::default() };
        store.load_batch(&Actor::system(), &divisions).await.unwrap();
        store.import_grids(&Actor::system(), &district.grids).await.unwrap();
        sqlx::query("ANALYZE grids").execute(store.pool()).await.unwrap();
        let small: Vec<_> = district.grids.iter().filter(|g| g.level == 3).collect();
        assert_eq!(small.len(), 4_509);
        let index = PolygonIndex::build(small.iter().map(|g| Feature {
            key: g.code.to_string(),
            level: 1,
            parent: None,
            geometry: g.boundary.clone(),
        }));

        let bench_points: Option<usize> = std::env::var("ZHILI_GRID_BENCH_POINTS").ok().and_then(|v| v.parse().ok());
        let n = bench_points.unwrap_or(20_000);
        let mut rng = 0x5A48_494C_4921u64;
        let (w, s, e, nn) = (117.75, 36.30, 118.05, 36.55);
        let mut pts: Vec<(f64, f64)> =
            (0..n).map(|_| (w + (e - w) * unit(&mut rng), s + (nn - s) * unit(&mut rng))).collect();
        // Every vertex and edge midpoint of a sample of grids: the boundary rule at work.
        let every = if bench_points.is_some() { 1 } else { 15 };
        for g in small.iter().step_by(every) {
            let ring = &g.boundary.0[0].exterior().0;
            for pair in ring.windows(2) {
                pts.push((pair[0].x, pair[0].y));
                pts.push(((pair[0].x + pair[1].x) / 2.0, (pair[0].y + pair[1].y) / 2.0));
            }
        }
        let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
        let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();

        let runs = if bench_points.is_some() { 3 } else { 1 };
        let (mut ours_t, mut theirs_t) = (Vec::new(), Vec::new());
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            ours = pts.iter().map(|&(x, y)| index.locate(1, x, y).map(str::to_string)).collect::<Vec<_>>();
            ours_t.push(t.elapsed());
            let t = Instant::now();
            theirs = postgis(&store, &xs, &ys).await;
            theirs_t.push(t.elapsed());
        }
        let differ: Vec<_> = (0..pts.len()).filter(|&i| ours[i] != theirs[i]).take(5).collect();
        for &i in &differ {
            eprintln!("point {:?}: zhili {:?}, PostGIS {:?}", pts[i], ours[i], theirs[i]);
        }
        assert!(differ.is_empty(), "answers differ from PostGIS");
        let on_boundary = pts.len() - n;
        assert!(ours.iter().filter(|c| c.is_some()).count() >= n * 99 / 100, "points fall in grids");
        let (o, t) = (median(ours_t), median(theirs_t));
        let rate = |d: Duration| pts.len() as f64 / d.as_secs_f64();
        println!(
            "grid assignment, {} points ({n} random, {on_boundary} on vertices and edges), 4,509 grids:\n  \
             zhili in memory (one core): {:>9.1} ms  {:>12.0} points/s\n  \
             PostGIS ST_Covers + GiST:   {:>9.1} ms  {:>12.0} points/s\n  \
             ratio: {:.0}×; answers identical",
            pts.len(),
            o.as_secs_f64() * 1e3,
            rate(o),
            t.as_secs_f64() * 1e3,
            rate(t),
            t.as_secs_f64() / o.as_secs_f64()
        );
    })
    .await;
}

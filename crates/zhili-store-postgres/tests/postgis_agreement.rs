//! Grid assignment in memory against PostGIS, on the demo's 4,509 small grids and the same
//! points: random points, every vertex and every edge midpoint. The answers must be identical:
//! the grid covering the point (`ST_Covers`) with the smallest code.
//!
//! PostGIS gets the points as its users keep them, in a table with a GiST index, analysed, and
//! is asked in several ways (the spatial join and the polygon-driven LATERAL form, grouped in SQL
//! or as pairs, serial and with parallel workers made cheap; then all again on the table
//! clustered on its index); every form's answers are checked, and the fastest is the one
//! compared. The old correlated subquery over unnested points follows as a second line.
//!
//! In CI this runs at a small scale, once, with two of the forms (as fast as the one query it
//! ran before). `bench/grid-assign.sh` runs it with a million points in release mode, every
//! form, medians of three runs.

mod common;

use std::time::{Duration, Instant};

use sqlx::PgConnection;

use zhili_core::audit::Actor;
use zhili_core::store::{CoreBatch, Store};
use zhili_geo::index::{Feature, PolygonIndex};
use zhili_grid::GridStore;

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

/// Session settings of a formulation (after `RESET ALL`). Every form gets the memory to hash a
/// million points; `SERIAL` forbids parallel plans, `PARALLEL` makes them cheap to choose.
const COMMON: &[&str] = &["RESET ALL", "SET work_mem = '256MB'"];
const SERIAL: &[&str] = &["SET max_parallel_workers_per_gather = 0"];
const PARALLEL: &[&str] = &[
    "SET max_parallel_workers_per_gather = 2",
    "SET parallel_setup_cost = 10",
    "SET parallel_tuple_cost = 0.001",
    "SET min_parallel_table_scan_size = 0",
    "SET min_parallel_index_scan_size = 0",
];

/// One way a PostGIS user asks which grid covers each point of the table `points`: rows of
/// (point id, grid code); when a point has several, the smallest code is the answer (a form
/// either groups in SQL or returns every pair and the smallest is kept here).
struct Form {
    name: &'static str,
    settings: &'static [&'static str],
    sql: &'static str,
    /// Run at CI scale too: both query shapes, one grouping in SQL and one in the client (the
    /// rest differ only in plan and settings, and are timed by `bench/grid-assign.sh`).
    ci: bool,
}

/// The spatial join, driven by whichever side the planner picks.
const JOIN_GROUPED: &str = "SELECT p.id, min(g.code) FROM points p JOIN grids g ON ST_Covers(g.boundary, p.geom) \
     WHERE g.level = 3 GROUP BY p.id";
const JOIN_PAIRS: &str =
    "SELECT p.id, g.code FROM points p JOIN grids g ON ST_Covers(g.boundary, p.geom) WHERE g.level = 3";
/// Polygon-driven: for each grid, the points under it through the points' GiST index, with the
/// grid's prepared geometry reused across its points (`OFFSET 0` keeps the subquery apart).
const LATERAL_GROUPED: &str = "SELECT s.id, min(g.code) FROM grids g CROSS JOIN LATERAL \
     (SELECT p.id FROM points p WHERE ST_Covers(g.boundary, p.geom) OFFSET 0) s WHERE g.level = 3 GROUP BY s.id";
const LATERAL_PAIRS: &str = "SELECT s.id, g.code FROM grids g CROSS JOIN LATERAL \
     (SELECT p.id FROM points p WHERE ST_Covers(g.boundary, p.geom) OFFSET 0) s WHERE g.level = 3";

const FORMS: [Form; 8] = [
    Form { name: "join, GROUP BY, serial", settings: SERIAL, sql: JOIN_GROUPED, ci: true },
    Form { name: "join, GROUP BY, parallel", settings: PARALLEL, sql: JOIN_GROUPED, ci: false },
    Form { name: "join, pairs, serial", settings: SERIAL, sql: JOIN_PAIRS, ci: false },
    Form { name: "join, pairs, parallel", settings: PARALLEL, sql: JOIN_PAIRS, ci: false },
    Form { name: "lateral, GROUP BY, serial", settings: SERIAL, sql: LATERAL_GROUPED, ci: false },
    Form { name: "lateral, GROUP BY, parallel", settings: PARALLEL, sql: LATERAL_GROUPED, ci: false },
    Form { name: "lateral, pairs, serial", settings: SERIAL, sql: LATERAL_PAIRS, ci: true },
    Form { name: "lateral, pairs, parallel", settings: PARALLEL, sql: LATERAL_PAIRS, ci: false },
];

async fn settle(conn: &mut PgConnection, settings: &[&'static str]) {
    for &sql in COMMON.iter().chain(settings) {
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
    }
}

/// The plan's nodes, outermost first, e.g. `HashAggregate > Nested Loop > Seq Scan on grids g > …`.
async fn plan(conn: &mut PgConnection, form: &Form) -> String {
    settle(conn, form.settings).await;
    let sql = format!("EXPLAIN {}", form.sql);
    let lines: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(&mut *conn).await.unwrap();
    let nodes: Vec<String> = lines
        .iter()
        .map(|(l,)| l.trim_start().trim_start_matches("->").trim())
        .filter(|l| l.contains("(cost="))
        .map(|l| l[..l.find("  (cost=").unwrap_or(l.len())].to_string())
        .collect();
    nodes.join(" > ")
}

/// Run `form` once: its answer per point (by id, 1-based) and the time of the query and of
/// keeping the smallest code per point.
async fn run_form(conn: &mut PgConnection, form: &Form, n: usize) -> (Vec<Option<String>>, Duration) {
    settle(conn, form.settings).await;
    let t = Instant::now();
    let rows: Vec<(i64, String)> = sqlx::query_as(form.sql).fetch_all(&mut *conn).await.unwrap();
    let mut answer: Vec<Option<String>> = vec![None; n];
    for (id, code) in rows {
        let slot = &mut answer[usize::try_from(id - 1).unwrap()];
        if slot.as_ref().is_none_or(|c| code < *c) {
            *slot = Some(code);
        }
    }
    (answer, t.elapsed())
}

/// The slowest form, kept as a second baseline: a correlated subquery per point over the points
/// unnested from arrays (no table, no point index).
async fn correlated(conn: &mut PgConnection, xs: &[f64], ys: &[f64]) -> Vec<Option<String>> {
    let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT p.i, (SELECT g.code FROM grids g
                      WHERE g.level = 3 AND ST_Covers(g.boundary, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))
                      ORDER BY g.code COLLATE \"C\" LIMIT 1)
         FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i) ORDER BY p.i",
    )
    .bind(xs)
    .bind(ys)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.1).collect()
}

/// The first few points where `theirs` differs from `ours`, printed; `true` when none does.
fn agree(name: &str, pts: &[(f64, f64)], ours: &[Option<String>], theirs: &[Option<String>]) -> bool {
    assert_eq!(ours.len(), theirs.len());
    let differ: Vec<_> = (0..pts.len()).filter(|&i| ours[i] != theirs[i]).take(5).collect();
    for &i in &differ {
        eprintln!("{name}: point {:?}: zhili {:?}, PostGIS {:?}", pts[i], ours[i], theirs[i]);
    }
    differ.is_empty()
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

        // The points as PostGIS users keep them: a table with a GiST index, analysed.
        sqlx::query("CREATE TABLE points (id bigint PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO points SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326)
             FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i)",
        )
        .bind(&xs)
        .bind(&ys)
        .execute(store.pool())
        .await
        .unwrap();
        sqlx::query("CREATE INDEX points_geom ON points USING gist (geom)").execute(store.pool()).await.unwrap();
        sqlx::query("VACUUM ANALYZE points").execute(store.pool()).await.unwrap();
        let mut pooled = store.pool().acquire().await.unwrap();
        let conn: &mut PgConnection = &mut pooled;

        let runs = if bench_points.is_some() { 3 } else { 1 };
        let mut ours_t = Vec::new();
        let mut ours = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            ours = pts.iter().map(|&(x, y)| index.locate(1, x, y).map(str::to_string)).collect::<Vec<_>>();
            ours_t.push(t.elapsed());
        }
        let on_boundary = pts.len() - n;
        assert!(ours.iter().filter(|c| c.is_some()).count() >= n * 99 / 100, "points fall in grids");

        // Every form on the table in arrival order, then (benchmark only) again after CLUSTER
        // on the GiST index, which puts each grid's points on neighbouring pages.
        let bench = bench_points.is_some();
        let layouts: &[&str] = if bench { &["arrival order", "clustered"] } else { &["arrival order"] };
        let mut all_agree = true;
        let mut forms = Vec::new();
        for &layout in layouts {
            if layout == "clustered" {
                sqlx::query("CLUSTER points USING points_geom").execute(&mut *conn).await.unwrap();
                sqlx::query("VACUUM ANALYZE points").execute(&mut *conn).await.unwrap();
            }
            for form in FORMS.iter().filter(|f| bench || f.ci) {
                let mut times = Vec::new();
                for _ in 0..runs {
                    let (theirs, t) = run_form(conn, form, pts.len()).await;
                    all_agree &= agree(form.name, &pts, &ours, &theirs);
                    times.push(t);
                }
                forms.push((format!("{}, {layout}", form.name), median(times), plan(conn, form).await));
            }
        }
        // The slow baseline, at benchmark scale only (it is what CI ran before, and costs seconds).
        let mut slow_t = Vec::new();
        if bench {
            settle(conn, &[]).await;
            for _ in 0..runs {
                let t = Instant::now();
                let theirs = correlated(conn, &xs, &ys).await;
                slow_t.push(t.elapsed());
                all_agree &= agree("correlated", &pts, &ours, &theirs);
            }
        }
        assert!(all_agree, "answers differ from PostGIS");

        let o = median(ours_t);
        let (fastest, best, _) = forms.iter().min_by_key(|f| f.1).unwrap();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let rate = |d: Duration| pts.len() as f64 / d.as_secs_f64();
        let ratio = |d: Duration| d.as_secs_f64() / o.as_secs_f64();
        println!(
            "grid assignment, {} points ({n} random, {on_boundary} on vertices and edges), 4,509 grids, \
             median of {runs}; answers identical in every form:\n  \
             zhili in memory (one core):   {:>9.1} ms  {:>11.0} points/s\n  \
             PostGIS, fastest form found:  {:>9.1} ms  {:>11.0} points/s  ratio {:.1}×  \
             ({fastest}; points table, GiST index, ANALYZEd)",
            pts.len(),
            ms(o),
            rate(o),
            ms(*best),
            rate(*best),
            ratio(*best),
        );
        if bench {
            let slow = median(slow_t);
            println!(
                "  PostGIS, correlated subquery per point over unnested arrays, no point index: \
                 {:.1} ms  {:.0} points/s  ratio {:.0}×",
                ms(slow),
                rate(slow),
                ratio(slow),
            );
        }
        println!("  every form:");
        for (name, t, plan) in &forms {
            println!("    {name:<44} {:>9.1} ms  {:>5.1}×  {plan}", ms(*t), ratio(*t));
        }
    })
    .await;
}

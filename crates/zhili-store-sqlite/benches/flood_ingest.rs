//! Sustained flood ingest (遥测入库吞吐) on SQLite and PostgreSQL, side by side, same batches.
//!
//! `cargo bench -p zhili-store-sqlite --bench flood_ingest`, with
//! `ZHILI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres` for PostgreSQL
//! (skipped with a message without it; the bench creates and drops its own database).
//!
//! 450 SL 651 stations; each batch is one [`ObservationStore::ingest`] of 1,000 frames and
//! 10,000 values: each frame is one station's 25-minute report of five 5-minute rain
//! increments and five levels, the stations reporting round-robin, so every batch writes new
//! rows at realistic, advancing times into a growing table (no row is ever re-inserted). SQLite
//! is a temporary file opened as production opens it ([`SqliteStore::open`]: WAL,
//! `synchronous=FULL`); PostgreSQL commits as the server is configured (durable by default).
//! After `WARMUP` batches, `BATCHES` are timed one by one; printed: median and p95 ms per
//! batch, values/s at the median and over all timed batches, and the ratio of the two backends.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::store::Store;
use zhili_flood::model::{Area, Position, Protocol, Station, StationKind, StationStatus, Watershed, WatershedCode};
use zhili_flood::store::{
    FloodModelStore, FrameEncoding, InsertCounts, Observation, ObservationStore, Quality, RawFrame,
};
use zhili_flood::vocab::{Element, StationCode};
use zhili_store_postgres::PgStore;
use zhili_store_sqlite::SqliteStore;

const STATIONS: usize = 450;
const FRAMES: usize = 1_000;
/// Values per frame: five 5-minute rain increments and five levels.
const PER_FRAME: usize = 10;
const WARMUP: usize = 5;
const BATCHES: usize = 30;
const RAIN: Element = Element::RainIncrement { interval_minutes: 5 };
const SQUARE: &str =
    r#"{"type":"Polygon","coordinates":[[[117.8,36.4],[117.9,36.4],[117.9,36.5],[117.8,36.5],[117.8,36.4]]]}"#;

fn address(n: usize) -> [u8; 5] {
    [0, 0, 0x12, (n >> 8) as u8, n as u8]
}

fn station(n: usize) -> Station {
    Station {
        code: StationCode::from_sl651_address(address(n)),
        name: format!("雨量站{n}"),
        kind: StationKind::AutomaticRain,
        measures: StationKind::AutomaticRain.default_measures(),
        position: Position::new(117.86, 36.49).unwrap(),
        watershed: Some(WatershedCode::parse("WFG1").unwrap()),
        owner: "博山区水利局".into(),
        division: DivisionCode::parse("370304100201").unwrap(),
        protocol: Protocol::Sl651 { centre: 1, address: address(n), password: 1234 },
        report_interval_minutes: 25,
        installed: NaiveDate::from_ymd_opt(2014, 6, 1),
        status: StationStatus::InService,
        level_datum_m: Some(300.0),
        dike_crest_m: None,
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 18, 0, 0, 0).unwrap()
}

/// Batch `b`: frames `b * FRAMES ..` of the round-robin sequence, each with its values.
fn batch(codes: &[StationCode], b: usize) -> (Vec<RawFrame>, Vec<Observation>) {
    let mut frames = Vec::with_capacity(FRAMES);
    let mut values = Vec::with_capacity(FRAMES * PER_FRAME);
    for j in 0..FRAMES {
        let g = b * FRAMES + j;
        let (n, report) = (g % STATIONS, g / STATIONS);
        let observed_at = start() + Duration::minutes(25 * report as i64);
        let mut bytes = vec![0x7E, 0x7E, 0x01];
        bytes.extend_from_slice(&address(n));
        bytes.extend((0..110).map(|i| (g.wrapping_mul(31) + i) as u8));
        frames.push(RawFrame {
            station: codes[n].clone(),
            received_at: observed_at + Duration::seconds(20 + (n % 40) as i64),
            peer: format!("198.51.100.{}:4000", n % 250),
            function: 0x32,
            serial: (report % 65_536) as u16,
            observed_at,
            bytes,
            encoding: FrameEncoding::Hex,
        });
        for k in 0..PER_FRAME / 2 {
            let at = observed_at + Duration::minutes(5 * k as i64);
            let wave = ((g + k) % 17) as f64;
            for (element, value) in [(RAIN, wave * 0.5), (Element::Level, 300.0 + wave / 100.0)] {
                values.push(Observation {
                    station: codes[n].clone(),
                    element,
                    observed_at: at,
                    value,
                    quality: Quality::Good,
                    frame: Some(j),
                });
            }
        }
    }
    (frames, values)
}

/// One backend's timings.
struct Figures {
    name: &'static str,
    median: StdDuration,
    p95: StdDuration,
    total: StdDuration,
}

impl Figures {
    fn per_second(&self, d: StdDuration) -> f64 {
        (FRAMES * PER_FRAME) as f64 / d.as_secs_f64()
    }

    fn print(&self) {
        println!(
            "{:<10} median {:>7.1} ms  p95 {:>7.1} ms  {:>9.0} values/s at the median, {:>9.0} values/s over {BATCHES} batches",
            self.name,
            self.median.as_secs_f64() * 1e3,
            self.p95.as_secs_f64() * 1e3,
            self.per_second(self.median),
            self.per_second(self.total / BATCHES as u32),
        );
    }
}

async fn run<S: Store + FloodModelStore + ObservationStore>(name: &'static str, store: &S) -> Figures {
    store.migrate().await.expect("migrate");
    let actor = Actor { user_id: None, name: "bench".into(), role: "admin".into(), ip: None };
    let shed = Watershed {
        code: WatershedCode::parse("WFG1").unwrap(),
        name: "WFG1小流域".into(),
        parent: None,
        area_km2: 42.7,
        boundary: Some(Area::parse(SQUARE).unwrap()),
    };
    store.upsert_watersheds(&actor, &[shed]).await.expect("watershed");
    let stations: Vec<Station> = (0..STATIONS).map(station).collect();
    store.upsert_stations(&actor, &stations).await.expect("stations");
    let codes: Vec<StationCode> = stations.into_iter().map(|s| s.code).collect();
    let mut times = Vec::with_capacity(BATCHES);
    for b in 0..WARMUP + BATCHES {
        let (frames, values) = batch(&codes, b);
        let began = Instant::now();
        let out = store.ingest(&frames, &values).await.expect("ingest");
        let took = began.elapsed();
        let want = InsertCounts { inserted: values.len() as u64, duplicates: 0, corrected: 0 };
        assert_eq!(out.observations, want, "{name} batch {b}");
        assert!(out.frames.iter().all(|f| !f.duplicate), "{name} batch {b}: a frame seen as a resend");
        if b >= WARMUP {
            times.push(took);
        }
    }
    let total = times.iter().sum();
    times.sort_unstable();
    Figures { name, median: times[BATCHES / 2], p95: times[(BATCHES * 95).div_ceil(100) - 1], total }
}

async fn sqlite() -> Figures {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("bench.db")).await.expect("open SQLite");
    run("SQLite", &store).await
}

async fn postgres() -> Option<Figures> {
    let Some(admin) = std::env::var("ZHILI_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        println!("PostgreSQL skipped: set ZHILI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres");
        return None;
    };
    let db = format!("zhili_bench_{}", std::process::id());
    let server = PgStore::connect_with(&admin, 1).await.expect("connect to ZHILI_TEST_POSTGRES_URL");
    let exec = |sql: String| {
        let pool = server.pool().clone();
        async move { sqlx::raw_sql(&sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}")) }
    };
    exec(format!("CREATE DATABASE \"{db}\"")).await;
    let (base, query) = admin.split_once('?').map_or((admin.as_str(), None), |(b, q)| (b, Some(q)));
    let host = base.find("://").map_or(0, |i| i + 3);
    let base = base[host..].find('/').map_or(base, |i| &base[..host + i]);
    let url = format!("{base}/{db}{}", query.map(|q| format!("?{q}")).unwrap_or_default());
    let store = PgStore::connect(&url).await.expect("connect to the bench database");
    let figures = run("PostgreSQL", &store).await;
    store.pool().close().await;
    exec(format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")).await;
    Some(figures)
}

#[tokio::main]
async fn main() {
    println!(
        "flood ingest: {STATIONS} stations, {WARMUP} warm-up + {BATCHES} timed batches of {FRAMES} frames and {} values",
        FRAMES * PER_FRAME
    );
    let lite = sqlite().await;
    lite.print();
    if let Some(pg) = postgres().await {
        pg.print();
        println!(
            "ratio SQLite / PostgreSQL (values/s at the median): {:.2}",
            pg.median.as_secs_f64() / lite.median.as_secs_f64()
        );
    }
}

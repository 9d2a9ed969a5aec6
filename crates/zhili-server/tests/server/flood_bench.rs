//! Benchmark (not in CI, run in release): 10,000 SL 651 stations connected at once over TCP,
//! ~2,000 villages at risk with rain indicators, a compressed reporting cadence, a storm burst
//! and a rate ramp; prints frame → warning latency, frame → confirm latency, the sustained
//! headroom and the server's RSS.
//!
//! ```text
//! cargo test --release -p zhili-server --test server flood_bench::ten_thousand_stations -- --ignored --nocapture
//! ```
//!
//! The stations run in a child process (this test binary again, [`bench_stations`]) so that each
//! side has its own file descriptors and the RSS printed is the server's alone. Both sides share
//! one deterministic [`Plan`]. Phases, from the instant every station is connected:
//! 1. **steady** (`ZHILI_BENCH_STEADY_S`, 60 s): every station reports an hourly 34H (twelve
//!    5-minute rain values, no rain) once per `ZHILI_BENCH_PERIOD_S` (300 s: the 5-minute cadence),
//!    spread uniformly — N / 300 frames/s; all stations send keep-alives every
//!    `ZHILI_BENCH_KEEPALIVE_S` (120 s), spread too;
//! 2. **storm** (`ZHILI_BENCH_STORM_S`, 60 s): the steady cadence goes on and 10 % of the
//!    stations, each the first station of a different village, report 54 mm in the last hour
//!    (over the 40 mm 1 h threshold) at uniformly spread instants; each records the wall-clock
//!    instant just before it writes the frame;
//! 3. a pause (`ZHILI_BENCH_PAUSE_S`, 20 s) for the warnings' effects;
//! 4. **ramp**: steps of `ZHILI_BENCH_STEP_S` (10 s) at `ZHILI_BENCH_RATES` frames/s
//!    (100,400,1600,3200,4800,6400,9600), round-robin over the stations that are not storm stations
//!    (past hours, no rain, so no warning moves), 3 s apart.
//!
//! Each report waits for its confirm before the station's next frame (M2, as stations do).
//! Frame → warning: the parent wraps the `WarningStore` port and stamps (on this machine's
//! clock) the instant each `create_warning` returned, i.e. the warning is committed and visible to
//! every reader; it also reads the warning's `opened_at` (the runtime's decision). Both are
//! taken against the child's send instant of the frame that raised the village.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::store::{Page, StoreResult};
use zhili_flood::indicator::{RainIndicators, RainThreshold};
use zhili_flood::model::{
    Area, FacilityKind, Measures, Phone, ResponsiblePerson, Station, StationKind, Village, WarningFacility,
};
use zhili_flood::store::FloodModelStore;
use zhili_flood::vocab::{Channel, Scheme, SoilState, Tier, Window};
use zhili_flood::warning::store::{StoredCap, StoredEffect, StoredTrail, WarningFilter, WarningStore};
use zhili_flood::warning::{Effect, Event, TrailEntry, Warning};
use zhili_server::flood::convert::to_sl651;
use zhili_server::flood::warning::{ApplyError, Command};
use zhili_sl651::{Body, Decimal, Decoder, Encoding, Frame, FunctionCode, Identifier, ReportBuilder, StationClass};

use crate::flood_ingest::{address, beijing, keep_alive, now_minute, station};
use crate::world::World;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The settings both processes read from the environment.
#[derive(Debug, Clone)]
struct Settings {
    stations: u32,
    villages: u32,
    steady: Duration,
    period: Duration,
    storm: Duration,
    keepalive: Duration,
    pause: Duration,
    step: Duration,
    rates: Vec<u32>,
}

/// The gap between ramp steps (the last step's confirms drain).
const STEP_GAP: Duration = Duration::from_secs(3);
/// Rain per 5 minutes of a storm report, in 0.1 mm (12 × 4.5 = 54 mm in the hour).
const STORM_TENTHS: u8 = 45;

impl Settings {
    fn from_env() -> Settings {
        let rates: String = env("ZHILI_BENCH_RATES", "100,400,1600,3200,4800,6400,9600".to_string());
        let secs = |name: &str, default: u64| Duration::from_secs(env(name, default));
        Settings {
            stations: env("ZHILI_BENCH_STATIONS", 10_000),
            villages: env("ZHILI_BENCH_VILLAGES", 2_000),
            steady: secs("ZHILI_BENCH_STEADY_S", 60),
            period: secs("ZHILI_BENCH_PERIOD_S", 300),
            storm: secs("ZHILI_BENCH_STORM_S", 60),
            keepalive: secs("ZHILI_BENCH_KEEPALIVE_S", 120),
            pause: secs("ZHILI_BENCH_PAUSE_S", 20),
            step: secs("ZHILI_BENCH_STEP_S", 10),
            rates: rates.split(',').filter_map(|r| r.trim().parse().ok()).filter(|r| *r > 0).collect(),
        }
    }

    fn ramp_start(&self) -> Duration {
        self.steady + self.storm + self.pause
    }

    fn end(&self) -> Duration {
        self.ramp_start() + (self.step + STEP_GAP) * self.rates.len() as u32
    }
}

/// The stations of the bench by index `0..stations`.
fn bench_station(i: u32) -> Station {
    let mut s = station(300_000 + i);
    s.kind = StationKind::AutomaticRain;
    s.measures = Measures { rain: true, level: false };
    s
}

/// Who represents which village and who storms.
struct Plan {
    /// Each village's station indices (village `j` has `1 + j % 5`).
    villages: Vec<Vec<u32>>,
    /// The storm stations (the first station of every other village, up to 10 % of the
    /// stations), with their village's index.
    storm: Vec<(u32, usize)>,
}

impl Plan {
    fn new(s: &Settings) -> Plan {
        let mut villages = Vec::new();
        let mut next = 0;
        for j in 0..s.villages {
            let k = 1 + j % 5;
            if next + k > s.stations {
                break;
            }
            villages.push((next..next + k).collect::<Vec<u32>>());
            next += k;
        }
        let want = (s.stations / 10) as usize;
        let step = (villages.len() / want.max(1)).max(1);
        let storm = villages.iter().enumerate().step_by(step).take(want).map(|(j, v)| (v[0], j)).collect();
        Plan { villages, storm }
    }
}

/// The 12-digit code of village `j` (ten townships of 370304, 200 villages each).
fn village_code(j: usize) -> DivisionCode {
    DivisionCode::parse(&format!("370304{:03}{:03}", 100 + j / 200, 200 + j % 200)).unwrap()
}

fn village(j: usize, stations: &[u32]) -> Village {
    let (x, y) = (117.0 + (j % 100) as f64 * 0.01, 36.0 + (j / 100) as f64 * 0.01);
    let zone = format!(
        r#"{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]}}"#,
        x + 0.005,
        x + 0.005,
        y + 0.005,
        y + 0.005
    );
    let person = |name: &str, tier: Tier| ResponsiblePerson {
        name: name.into(),
        tier,
        phone: Phone::parse("13812345678").unwrap(),
        duty: "防汛责任人".into(),
        channels: vec![Channel::Sms],
        user_id: None,
    };
    Village {
        code: village_code(j),
        name: format!("村{j}"),
        danger_zone: Area::parse(&zone).unwrap(),
        households: 40,
        population: 132,
        stations: stations.iter().map(|i| bench_station(*i).code).collect(),
        watershed: None,
        persons: vec![person("村长", Tier::Village), person("镇长", Tier::Township), person("县长", Tier::County)],
        facilities: vec![WarningFacility {
            kind: FacilityKind::Broadcast,
            count: 1,
            endpoint: Some(format!("bc-{j}")),
        }],
        routes: vec![],
        shelters: vec![],
    }
}

/// 1 h: 20 / 40 mm; 3 h: 40 / 70 mm, every soil state.
fn indicators(code: DivisionCode) -> RainIndicators {
    let mut t = Vec::new();
    for soil in SoilState::ALL {
        t.push(RainThreshold { window: Window::H1, soil, mm: vec![20.0, 40.0] });
        t.push(RainThreshold { window: Window::H3, soil, mm: vec![40.0, 70.0] });
    }
    RainIndicators::new(code, Scheme::TwoLevel, t).unwrap()
}

/// An hourly report (34H): twelve 5-minute values of `tenths` 0.1 mm, the last at `at`.
fn rain_report(s: &Station, serial: u16, at: DateTime<Utc>, tenths: u8) -> Frame {
    let t = to_sl651(at, beijing()).unwrap();
    let body = ReportBuilder::new(serial, t, address(s), StationClass::Rain, t)
        .rain_5min([Some(tenths); 12])
        .number(Identifier::VT, Some(Decimal::new(1250, 2)))
        .unwrap()
        .finish();
    Frame::uplink(Encoding::Hex, 1, address(s), 0x1234, FunctionCode::Hourly, body)
}

/// Now, down to the 5 minutes (rain increments are on the 5-minute grid).
fn five_minutes() -> DateTime<Utc> {
    let (t, _) = now_minute();
    t - chrono::Duration::minutes(t.timestamp().div_euclid(60).rem_euclid(5))
}

/// The `WarningStore` port, stamping when each new warning was committed.
struct Stamped {
    inner: Arc<dyn WarningStore>,
    stored: Mutex<HashMap<DivisionCode, DateTime<Utc>>>,
}

#[async_trait]
impl WarningStore for Stamped {
    async fn create_warning(&self, warning: &Warning, effects: &[Effect], trail: &[TrailEntry]) -> StoreResult<i64> {
        let id = self.inner.create_warning(warning, effects, trail).await?;
        self.stored.lock().unwrap().insert(warning.village.clone(), Utc::now());
        Ok(id)
    }
    async fn save_warning(&self, warning: &Warning, effects: &[Effect], trail: &[TrailEntry]) -> StoreResult<()> {
        self.inner.save_warning(warning, effects, trail).await
    }
    async fn warning(&self, id: i64) -> StoreResult<Warning> {
        self.inner.warning(id).await
    }
    async fn active_warning(&self, village: &DivisionCode) -> StoreResult<Option<Warning>> {
        self.inner.active_warning(village).await
    }
    async fn warnings(&self, filter: &WarningFilter, page: Page) -> StoreResult<Vec<Warning>> {
        self.inner.warnings(filter, page).await
    }
    async fn trail(&self, warning: i64) -> StoreResult<Vec<StoredTrail>> {
        self.inner.trail(warning).await
    }
    async fn pending_effects(&self, limit: i64) -> StoreResult<Vec<StoredEffect>> {
        self.inner.pending_effects(limit).await
    }
    async fn mark_effect_done(&self, effect: i64) -> StoreResult<()> {
        self.inner.mark_effect_done(effect).await
    }
    async fn due_ticks(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<i64>> {
        self.inner.due_ticks(now, limit).await
    }
    async fn store_cap(&self, cap: &StoredCap) -> StoreResult<()> {
        self.inner.store_cap(cap).await
    }
    async fn caps(&self, warning: i64) -> StoreResult<Vec<StoredCap>> {
        self.inner.caps(warning).await
    }
    async fn cap(&self, identifier: &str) -> StoreResult<StoredCap> {
        self.inner.cap(identifier).await
    }
    async fn recent_caps(&self, limit: i64) -> StoreResult<Vec<StoredCap>> {
        self.inner.recent_caps(limit).await
    }
}

fn proc_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The metric lines of `/metrics` starting with `name`, summed.
async fn metric(w: &World, name: &str) -> f64 {
    let (_, body) = w.call("GET", "/metrics", None, None).await;
    let text = body.as_str().unwrap_or_default().to_string();
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// p50, p95, p99, max of `v` (sorted here), in ms.
fn percentiles(v: &mut [f64]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.sort_by(f64::total_cmp);
    let p = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    format!("p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n={})", p(0.5), p(0.95), p(0.99), p(1.0), v.len())
}

/// The benchmark's server side: see the module's documentation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn ten_thousand_stations() {
    let s = Settings::from_env();
    let plan = Plan::new(&s);
    let hook = |name: &str, event: &str| zhili_server::platform::notify::Webhook {
        name: name.into(),
        url: "http://127.0.0.1:9/".into(),
        secret: "0123456789abcdef".into(),
        events: vec![event.into()],
    };
    let w = World::builder()
        .divisions(1)
        .config(|c| {
            c.flood.sl651_enabled = true;
            c.flood.sl651_listen = "127.0.0.1:0".parse().unwrap();
            c.flood.sl651_max_connections = 100_000;
            c.flood.sl651_frames_per_second = 100;
            c.webhooks = vec![hook("sms-gateway", "flood.sms"), hook("broadcast", "flood.broadcast")];
        })
        .build()
        .await;

    // The network.
    let started = Instant::now();
    let stations: Vec<Station> = (0..s.stations).map(bench_station).collect();
    for chunk in stations.chunks(500) {
        w.store.upsert_stations(&Actor::system(), chunk).await.unwrap();
    }
    let villages: Vec<Village> = plan.villages.iter().enumerate().map(|(j, v)| village(j, v)).collect();
    for chunk in villages.chunks(500) {
        w.store.upsert_villages(&Actor::system(), chunk).await.unwrap();
    }
    let sets: Vec<RainIndicators> = villages.iter().map(|v| indicators(v.code.clone())).collect();
    w.store.replace_rain_indicators(&Actor::system(), &sets).await.unwrap();
    let represented: usize = plan.villages.iter().map(Vec::len).sum();
    eprintln!(
        "{} stations, {} villages ({represented} representative stations), {} storm stations registered in {:.1} s",
        s.stations,
        villages.len(),
        plan.storm.len(),
        started.elapsed().as_secs_f64()
    );

    // The flood module as `serve` starts it, over a stamping warning store.
    let stamped = Arc::new(Stamped {
        inner: w.state.ports.port::<dyn WarningStore>().clone(),
        stored: Mutex::new(HashMap::new()),
    });
    let mut ports = zhili_core::ports::Ports::clone(&w.state.ports);
    ports.add::<dyn WarningStore>(stamped.clone());
    let mut state = w.state.clone();
    state.ports = Arc::new(ports);
    let loading = Instant::now();
    zhili_server::flood::start(&state);
    // The runtime answers commands once it has loaded the network: ask about no warning.
    let answer = zhili_server::flood::warnings(&state)
        .command(|reply| Command::Apply { id: 0, event: Event::Tick, reply })
        .await;
    assert!(matches!(answer, Err(ApplyError::Store(_))), "{answer:?}");
    let addr = zhili_server::flood::ingest::runtime(&state).sl651_address().expect("the SL 651 listener");
    eprintln!("warning runtime loaded in {:.1} s", loading.elapsed().as_secs_f64());
    let rss_idle = proc_kib("VmRSS:");

    let child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "flood_bench::bench_stations", "--nocapture", "--test-threads=1"])
        .env("ZHILI_BENCH_TARGET", addr.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let connecting = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(300);
    let rss_connected = loop {
        let open = metric(&w, "zhili_flood_sl651_connections_open").await;
        if open >= f64::from(s.stations) {
            break proc_kib("VmRSS:");
        }
        assert!(Instant::now() < deadline, "only {open} of {} stations connected", s.stations);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("{} stations connected in {:.1} s", s.stations, connecting.elapsed().as_secs_f64());
    // The RSS during the run, sampled.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut max = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                max = max.max(proc_kib("VmRSS:"));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            max
        })
    };
    let out = child.wait_with_output().await.unwrap();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let rss_max = sampler.await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the stations failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "\n=== flood bench: {} stations, {} villages, {} storm villages ===",
        s.stations,
        villages.len(),
        plan.storm.len()
    );
    for line in stderr.lines().filter(|l| l.starts_with("BENCH")) {
        eprintln!("{}", line.trim_start_matches("BENCH "));
    }

    // Send instants of the storm frames (wall clock, µs), by station index.
    let mut sent: HashMap<u32, DateTime<Utc>> = HashMap::new();
    for line in stdout.lines() {
        // (libtest may have written `test … ... ` before the first line.)
        let Some(at) = line.find("STORM ") else { continue };
        let mut parts = line[at..].split_whitespace();
        if parts.next() == Some("STORM") {
            let i: u32 = parts.next().and_then(|v| v.parse().ok()).unwrap();
            let us: i64 = parts.next().and_then(|v| v.parse().ok()).unwrap();
            sent.insert(i, DateTime::from_timestamp_micros(us).unwrap());
        }
    }
    assert_eq!(sent.len(), plan.storm.len(), "every storm frame's send instant");
    let deadline = Instant::now() + Duration::from_secs(120);
    while stamped.stored.lock().unwrap().len() < plan.storm.len() {
        assert!(
            Instant::now() < deadline,
            "{} of {} villages warned",
            stamped.stored.lock().unwrap().len(),
            plan.storm.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored = stamped.stored.lock().unwrap().clone();
    assert_eq!(stored.len(), plan.storm.len(), "only the storm villages are warned");
    let (mut to_stored, mut to_opened) = (Vec::new(), Vec::new());
    let ms = |d: chrono::Duration| d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0;
    for (i, j) in &plan.storm {
        let code = village_code(*j);
        let at = sent[i];
        to_stored.push(ms(stored[&code] - at));
        let opened = stamped.inner.active_warning(&code).await.unwrap().expect("an active warning").opened_at;
        to_opened.push(ms(opened - at));
    }
    let warn_count = metric(&w, "zhili_flood_warning_seconds_count").await;
    let warn_sum = metric(&w, "zhili_flood_warning_seconds_sum").await;
    let batches = metric(&w, "zhili_flood_ingest_batch_frames_count").await;
    let frames = metric(&w, "zhili_flood_ingest_batch_frames_sum").await;
    let commit_s = metric(&w, "zhili_flood_ingest_batch_seconds_sum").await;
    let confirm_n = metric(&w, "zhili_flood_sl651_confirm_seconds_count").await;
    let confirm_s = metric(&w, "zhili_flood_sl651_confirm_seconds_sum").await;

    eprintln!("frame sent → warning stored (committed, visible): {}", percentiles(&mut to_stored));
    eprintln!("frame sent → warning opened_at (decision):          {}", percentiles(&mut to_opened));
    eprintln!(
        "server: zhili_flood_warning_seconds (ingest commit → stored) mean {:.1} ms over {warn_count}; \
         sl651_confirm_seconds mean {:.1} ms over {confirm_n}; {batches} group commits of {:.1} frames, {:.1} ms each",
        warn_sum * 1000.0 / warn_count.max(1.0),
        confirm_s * 1000.0 / confirm_n.max(1.0),
        frames / batches.max(1.0),
        commit_s * 1000.0 / batches.max(1.0),
    );
    eprintln!(
        "server RSS: idle (network loaded) {} MiB; {} connected {} MiB; max during the run {} MiB; end {} MiB; VmHWM {} MiB",
        rss_idle / 1024,
        s.stations,
        rss_connected / 1024,
        rss_max / 1024,
        proc_kib("VmRSS:") / 1024,
        proc_kib("VmHWM:") / 1024,
    );
}

/// What a station does at an instant of the plan.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    KeepAlive,
    Steady,
    Storm,
    /// A frame of ramp step `n`, reporting `hours_back` hours in the past.
    Ramp {
        step: usize,
        hours_back: u32,
    },
}

/// One report sent: its kind, when it was planned and sent (since the start) and its confirm's
/// latency (`None`: none came).
struct Sent {
    kind: Kind,
    planned: Duration,
    sent: Duration,
    latency: Option<Duration>,
}

/// Every station's events, by station index, in time order.
fn schedule(s: &Settings, plan: &Plan) -> Vec<Vec<(Duration, Kind)>> {
    let n = s.stations as usize;
    let mut events: Vec<Vec<(Duration, Kind)>> = vec![Vec::new(); n];
    let end = s.end();
    let storm_stations: std::collections::HashSet<u32> = plan.storm.iter().map(|(i, _)| *i).collect();
    let storm_start = s.steady;
    let storm_end = s.steady + s.storm;
    for (i, e) in events.iter_mut().enumerate() {
        let frac = i as f64 / n as f64;
        let mut t = s.keepalive.mul_f64(frac);
        while t < end {
            e.push((t, Kind::KeepAlive));
            t += s.keepalive;
        }
        let mut t = s.period.mul_f64(frac);
        let storming = storm_stations.contains(&(i as u32));
        while t < storm_end {
            // A storm station's regular reports stop with the storm (its storm report stands for them).
            if !(storming && t >= storm_start) {
                e.push((t, Kind::Steady));
            }
            t += s.period;
        }
    }
    for (k, (i, _)) in plan.storm.iter().enumerate() {
        let at = storm_start + s.storm.mul_f64(k as f64 / plan.storm.len() as f64);
        events[*i as usize].push((at, Kind::Storm));
    }
    let calm: Vec<u32> = (0..s.stations).filter(|i| !storm_stations.contains(i)).collect();
    let mut hours = vec![0u32; n];
    let mut next = 0usize;
    for (step, rate) in s.rates.iter().enumerate() {
        let start = s.ramp_start() + (s.step + STEP_GAP) * step as u32;
        let count = (u64::from(*rate) * s.step.as_secs()) as usize;
        for j in 0..count {
            let i = calm[next % calm.len()] as usize;
            next += 1;
            hours[i] += 1;
            let at = start + Duration::from_secs_f64(j as f64 / f64::from(*rate));
            events[i].push((at, Kind::Ramp { step, hours_back: hours[i] }));
        }
    }
    for e in &mut events {
        e.sort_by_key(|(t, _)| *t);
    }
    events
}

/// The next confirm on `stream`, if one comes within `wait`.
async fn confirm(stream: &mut TcpStream, decoder: &mut Decoder, buf: &mut [u8], wait: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        while let Some(item) = decoder.decode() {
            if let Ok(r) = item {
                if let Ok(Body::Confirm { serial, .. }) = r.frame.body() {
                    return Some(serial);
                }
            }
        }
        let n = match tokio::time::timeout_at(deadline, stream.read(buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return None,
        };
        decoder.feed(&buf[..n]);
    }
}

/// The stations of [`ten_thousand_stations`], run by it in a child process (does nothing
/// without `ZHILI_BENCH_TARGET`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_stations() {
    let Some(addr) = std::env::var("ZHILI_BENCH_TARGET").ok().and_then(|a| a.parse::<SocketAddr>().ok()) else {
        eprintln!("run by ten_thousand_stations");
        return;
    };
    let s = Settings::from_env();
    let plan = Plan::new(&s);
    let events = schedule(&s, &plan);
    let base = five_minutes();
    let go = Arc::new(tokio::sync::Barrier::new(s.stations as usize + 1));
    let (start_tx, start) = tokio::sync::watch::channel(None::<tokio::time::Instant>);
    let mut tasks = tokio::task::JoinSet::new();
    let connecting = Instant::now();
    for (i, plan_i) in events.into_iter().enumerate() {
        let st = bench_station(i as u32);
        let (go, mut start) = (go.clone(), start.clone());
        tasks.spawn(async move {
            let mut stream = loop {
                match TcpStream::connect(addr).await {
                    Ok(stream) => {
                        stream.set_nodelay(true).unwrap();
                        break stream;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            };
            let (mut decoder, mut buf) = (Decoder::new(), vec![0u8; 512]);
            go.wait().await;
            let t0 = start.wait_for(Option::is_some).await.map(|r| *r).expect("the start").expect("set");
            let mut serial: u16 = 0;
            let mut out = Vec::new();
            let mut storm_sent = None;
            for (at, kind) in plan_i {
                tokio::time::sleep_until(t0 + at).await;
                serial = serial.wrapping_add(1);
                let frame = match kind {
                    Kind::KeepAlive => keep_alive(&st, serial, to_sl651(Utc::now(), beijing()).unwrap()),
                    Kind::Steady => rain_report(&st, serial, five_minutes(), 0),
                    Kind::Storm => rain_report(&st, serial, five_minutes(), STORM_TENTHS),
                    Kind::Ramp { hours_back, .. } => {
                        rain_report(&st, serial, base - chrono::Duration::hours(i64::from(hours_back)), 0)
                    }
                };
                let bytes = frame.encode().unwrap();
                if kind == Kind::Storm {
                    storm_sent = Some(Utc::now());
                }
                let sent = tokio::time::Instant::now();
                stream.write_all(&bytes).await.unwrap();
                if kind == Kind::KeepAlive {
                    continue;
                }
                let got = confirm(&mut stream, &mut decoder, &mut buf, Duration::from_secs(30)).await;
                let latency = (got == Some(serial)).then(|| sent.elapsed());
                out.push(Sent { kind, planned: at, sent: sent - t0, latency });
            }
            (i as u32, out, storm_sent, stream)
        });
    }
    // Everyone connected: start 2 s on (the server measures its RSS meanwhile).
    go.wait().await;
    let connected = connecting.elapsed();
    start_tx.send(Some(tokio::time::Instant::now() + Duration::from_secs(2))).unwrap();
    let mut all = Vec::new();
    let mut streams = Vec::new();
    let mut stdout = String::new();
    while let Some(r) = tasks.join_next().await {
        let (i, out, storm_sent, stream) = r.unwrap();
        if let Some(t) = storm_sent {
            stdout.push_str(&format!("STORM {i} {}\n", t.timestamp_micros()));
        }
        all.extend(out);
        streams.push(stream);
    }
    print!("\n{stdout}");
    let lost = all.iter().filter(|x| x.latency.is_none()).count();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let line = |name: &str, rows: Vec<&Sent>, span: Duration| {
        let mut l: Vec<f64> = rows.iter().filter_map(|r| r.latency.map(ms)).collect();
        let rate = rows.len() as f64 / span.as_secs_f64();
        // When the slowest were sent (s since the start): a stall shows as one instant.
        let mut slow: Vec<(Duration, Duration)> = rows.iter().filter_map(|r| Some((r.latency?, r.sent))).collect();
        slow.sort_by_key(|x| std::cmp::Reverse(x.0));
        let at: Vec<String> = slow.iter().take(5).map(|(_, t)| format!("{:.1}", t.as_secs_f64())).collect();
        format!(
            "BENCH {name}: {} reports = {rate:.0}/s offered; frame→confirm {}; slowest sent at {} s",
            rows.len(),
            percentiles(&mut l),
            at.join(", ")
        )
    };
    eprintln!(
        "BENCH all {} connected in {:.2} s; {lost} reports unconfirmed in 30 s",
        s.stations,
        connected.as_secs_f64()
    );
    let steady: Vec<&Sent> = all.iter().filter(|x| x.kind == Kind::Steady && x.planned < s.steady).collect();
    eprintln!("{}", line("steady (5-min cadence)", steady, s.steady));
    let during: Vec<&Sent> = all.iter().filter(|x| x.kind == Kind::Steady && x.planned >= s.steady).collect();
    eprintln!("{}", line("steady during the storm", during, s.storm));
    let storm: Vec<&Sent> = all.iter().filter(|x| x.kind == Kind::Storm).collect();
    eprintln!("{}", line("storm reports", storm, s.storm));
    let mut headroom = 0;
    for (step, rate) in s.rates.iter().enumerate() {
        let rows: Vec<&Sent> =
            all.iter().filter(|x| matches!(x.kind, Kind::Ramp { step: k, .. } if k == step)).collect();
        let first = rows.iter().map(|r| r.sent).min().unwrap_or_default();
        let last = rows.iter().map(|r| r.sent + r.latency.unwrap_or(Duration::from_secs(30))).max().unwrap_or_default();
        let achieved = rows.len() as f64 / (last - first).as_secs_f64().max(1e-3);
        let mut l: Vec<f64> = rows.iter().filter_map(|r| r.latency.map(ms)).collect();
        let p99 = {
            l.sort_by(f64::total_cmp);
            l.get(((l.len() as f64 * 0.99).ceil() as usize).saturating_sub(1)).copied().unwrap_or(f64::INFINITY)
        };
        let late: Vec<f64> = rows.iter().map(|r| ms(r.sent.saturating_sub(r.planned))).collect();
        let max_late = late.iter().copied().fold(0.0, f64::max);
        let ok = p99 <= 1000.0 && rows.iter().all(|r| r.latency.is_some()) && achieved >= 0.95 * f64::from(*rate);
        if ok {
            headroom = headroom.max(*rate);
        }
        eprintln!(
            "BENCH ramp {rate}/s: {} reports, achieved {achieved:.0}/s, sends up to {max_late:.0} ms late; frame→confirm {}{}",
            rows.len(),
            percentiles(&mut l),
            if ok { "" } else { "  ← over (p99 > 1 s or rate not kept)" }
        );
    }
    eprintln!("BENCH headroom: sustained {headroom} frames/s with confirm p99 ≤ 1 s (of the rates tried)");
    drop(streams);
}

//! The flood commands and the demo's flood data: the Boshan station network seeded into a
//! demo district, `zhili flood storm` (a synthetic storm to a CSV file or to a server's SL 651
//! listener), `zhili flood replay` (a recorded or synthetic storm through the real ingest path,
//! printing the warning timeline) and the demo's storm button (`StormDemo`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::{bail, Context};
use chrono::{DateTime, Duration, DurationRound, Utc};
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::model::Division;
use zhili_core::policy::Role;
use zhili_core::ports::Ports;
use zhili_core::store::{Page, Store, UserFilter};
use zhili_demo::flood::network::{self, Network, NetworkOptions};
use zhili_demo::flood::simulator::{self, SimConfig, SimStation};
use zhili_demo::flood::storm::{self, Storm, StormConfig, StormValue};
use zhili_flood::model::{Protocol, Station};
use zhili_flood::store::{FloodModelStore, Observation, Quality, StationFilter};
use zhili_flood::warning::store::{WarningFilter, WarningStore};

/// `zhili flood …`
#[derive(clap::Subcommand)]
pub enum FloodCommand {
    /// A synthetic storm over the demo network: written as CSV (`--out`), or sent as SL 651
    /// frames by the demo's automatic stations to a server's listener (`--target`).
    Storm {
        /// Write the storm's values to this CSV file (`station,time,element,value`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Send it to the SL 651 listener at this address (as `zhili demo` prints it).
        #[arg(long)]
        target: Option<SocketAddr>,
        /// Hours of storm, 1–72.
        #[arg(long, default_value_t = 6)]
        hours: u32,
        /// Played this many times faster than real time (with `--target`).
        #[arg(long, default_value_t = 60.0)]
        speed: f64,
        /// Peak intensity, mm/h (1–200); drawn from the seed when absent.
        #[arg(long)]
        peak: Option<f64>,
    },
    /// Feed a storm through the real ingest path of this configuration's database and print the
    /// warning timeline: a CSV of station values (`station,time,element,value`, as `storm
    /// --out` writes) or a file of raw SL 651 frames (bytes as received, or one frame in hex per
    /// line). SL 651 stations connect to an SL 651 listener of their own on 127.0.0.1; others go
    /// through the JSON ingest.
    Replay {
        /// The file.
        file: PathBuf,
        /// Played this many times faster than the storm's own time.
        #[arg(long, default_value_t = 60.0)]
        speed: f64,
    },
}

/// Seed the Boshan station network onto a demo district whose store has no stations yet; the
/// village's first grid worker and the county leader join the warning chain in the app.
pub async fn seed_network(ports: &Ports, divisions: &[Division]) -> anyhow::Result<Option<network::SeedCounts>> {
    let flood = ports.port::<dyn FloodModelStore>().as_ref();
    if !flood.stations(&StationFilter::default(), Page { offset: 0, limit: 1 }).await?.is_empty() {
        return Ok(None);
    }
    let mut network = network::network(divisions, &NetworkOptions::default()).context("the demo flood network")?;
    let store = ports.port::<dyn Store>().as_ref();
    let filter = UserFilter { role: Some(Role::GridWorker), ..UserFilter::default() };
    let mut workers: HashMap<DivisionCode, i64> = HashMap::new();
    for u in store.users(&filter, Page { offset: 0, limit: 100_000 }).await? {
        workers.entry(u.jurisdiction.clone()).or_insert(u.id);
    }
    let leader = store.user_credentials("leader").await.ok().map(|(u, _)| u.id);
    network.link_accounts(&workers, leader);
    let counts = network::seed(flood, &Actor::system(), &network).await.context("seeding the flood network")?;
    Ok(Some(counts))
}

/// The demo network again (deterministic), from the divisions in the store.
async fn demo_network(ports: &Ports) -> anyhow::Result<Network> {
    let divisions = ports.port::<dyn Store>().all_divisions().await?;
    network::network(&divisions, &NetworkOptions::default()).context("the demo flood network")
}

fn storm_over(network: &Network, hours: u32, peak: Option<f64>) -> anyhow::Result<Storm> {
    // The storm has just ended: every observation is in the past, as a replay's are (stations'
    // hourly reports are stamped at the end of their hour, so the record ends an hour back).
    let now = Utc::now().duration_trunc(Duration::minutes(5))?;
    let config = StormConfig { hours, peak_mm_per_h: peak, ..StormConfig::new(now) };
    let draft = Storm::new(network, &config)?;
    let start = now - (draft.end() - draft.start()) - Duration::hours(1);
    Ok(Storm::new(network, &StormConfig { start, ..config })?)
}

/// The demo's storm button: the automatic stations send a storm to the server's listener.
pub struct DemoStorm {
    network: Network,
    running: Arc<AtomicBool>,
}

impl DemoStorm {
    /// Over the demo network of the store's divisions.
    pub async fn new(ports: &Ports) -> anyhow::Result<DemoStorm> {
        Ok(DemoStorm { network: demo_network(ports).await?, running: Arc::new(AtomicBool::new(false)) })
    }
}

impl zhili_server::flood::demo::StormDemo for DemoStorm {
    fn start(&self, target: SocketAddr, hours: u32, speed: f64) -> Result<String, String> {
        let storm = storm_over(&self.network, hours, None).map_err(|e| format!("{e:#}"))?;
        if self.running.swap(true, Ordering::SeqCst) {
            return Err("a synthetic storm is running already".into());
        }
        let stations = SimStation::of_network(&self.network);
        let values: Vec<StormValue> = storm.values().collect();
        let running = self.running.clone();
        let n = stations.len();
        tokio::spawn(async move {
            match simulator::run(SimConfig::new(target, speed), &stations, values).await {
                Ok(summary) => {
                    let t = summary.totals();
                    tracing::info!(
                        reports = t.reports,
                        confirmed = t.confirmed,
                        resends = t.resends,
                        "demo storm done"
                    );
                }
                Err(e) => tracing::error!(error = %e, "demo storm failed"),
            }
            running.store(false, Ordering::SeqCst);
        });
        let minutes = f64::from(hours) * 60.0 / speed;
        Ok(format!(
            "{n} 个自动站开始发送 {hours} 小时的暴雨（峰值 {:.0} mm/h，{speed}× 播放，约 {minutes:.0} 分钟） · {n} stations send a {hours} h storm ({speed}×, about {minutes:.0} min)",
            storm.peak_mm_per_h()
        ))
    }
}

/// `zhili flood storm`.
pub async fn storm_command(
    ports: &Ports,
    out: Option<PathBuf>,
    target: Option<SocketAddr>,
    hours: u32,
    speed: f64,
    peak: Option<f64>,
) -> anyhow::Result<()> {
    if out.is_none() && target.is_none() {
        bail!("say where the storm goes: --out FILE.csv and/or --target HOST:PORT");
    }
    let network = demo_network(ports).await?;
    let storm = storm_over(&network, hours, peak)?;
    if let Some(path) = out {
        let file = std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let rows = storm::write_csv(storm.values(), std::io::BufWriter::new(file))?;
        println!("{rows} values written to {} ({} → {})", path.display(), storm.start(), storm.end());
    }
    if let Some(target) = target {
        let stations = SimStation::of_network(&network);
        println!("{} stations → {target}, {hours} h at {speed}×", stations.len());
        let summary = simulator::run(SimConfig::new(target, speed), &stations, storm.values()).await?;
        let t = summary.totals();
        println!(
            "reports {} · confirmed {} · resends {} · unconfirmed {}",
            t.reports, t.confirmed, t.resends, t.unconfirmed
        );
    }
    Ok(())
}

/// One raw frame of a frames file, with its station and observation time.
struct RawFrame {
    station: [u8; 5],
    observed: Option<DateTime<Utc>>,
    bytes: Vec<u8>,
}

/// The frames of a file: raw bytes as received, or one hex frame per line. Garbage between
/// frames is skipped (and counted), as the listener would.
fn read_frames(path: &Path, utc_offset: chrono::FixedOffset) -> anyhow::Result<(Vec<RawFrame>, usize)> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text =
        std::str::from_utf8(&data).ok().filter(|t| t.chars().all(|c| c.is_ascii_hexdigit() || c.is_ascii_whitespace()));
    let bytes = match text {
        Some(t) => {
            let mut out = Vec::new();
            for (i, line) in t.lines().enumerate() {
                let hex: String = line.chars().filter(|c| !c.is_whitespace()).collect();
                if hex.is_empty() {
                    continue;
                }
                if hex.len() % 2 == 1 {
                    bail!("{} line {}: an odd number of hex digits", path.display(), i + 1);
                }
                for k in (0..hex.len()).step_by(2) {
                    out.push(u8::from_str_radix(&hex[k..k + 2], 16).expect("hex digits checked"));
                }
            }
            out
        }
        None => data,
    };
    let mut decoder = zhili_sl651::Decoder::new();
    decoder.feed(&bytes);
    let (mut frames, mut bad) = (Vec::new(), 0);
    while let Some(item) = decoder.decode() {
        match item {
            Ok(r) => {
                let station = r.frame.station.0;
                let observed = match r.frame.body() {
                    Ok(zhili_sl651::Body::Report(report)) => {
                        report.observed.and_then(|t| zhili_server::flood::convert::to_utc(t, utc_offset))
                    }
                    _ => None,
                };
                frames.push(RawFrame { station, observed, bytes: r.raw });
            }
            Err(_) => bad += 1,
        }
    }
    Ok((frames, bad))
}

/// `zhili flood replay FILE`.
pub async fn replay_command(
    ports: Ports,
    cfg: &crate::config::Config,
    file: PathBuf,
    speed: f64,
) -> anyhow::Result<()> {
    if !(speed.is_finite() && (0.001..=1e7).contains(&speed)) {
        bail!("--speed must be 0.001–10000000, got {speed}");
    }
    let mut server = cfg.server_config();
    server.flood.sl651_enabled = true;
    server.flood.sl651_listen = "127.0.0.1:0".parse().expect("valid");
    let spatial = zhili_server::grid::spatial::Spatial::start(&ports).await?;
    let state = zhili_server::AppState::new(ports, server)
        .with_grid_rules(cfg.grid_rules())
        .with_spatial(spatial)
        .with_services();
    let stations: Vec<Station> = state
        .port::<dyn FloodModelStore>()
        .stations(&StationFilter::default(), Page { offset: 0, limit: 1_000_000 })
        .await?;
    if stations.is_empty() {
        bail!("the database has no flood stations (run `zhili demo` once, or import a network)");
    }
    zhili_server::flood::start(&state);
    let mut target = None;
    for _ in 0..100 {
        target = zhili_server::flood::ingest::runtime(&state).sl651_address();
        if target.is_some() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let target = target.context("the SL 651 listener did not start")?;
    let started = Utc::now();
    let is_csv = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let feed = {
        let state = state.clone();
        let offset = cfg.server_config().flood.sl651_utc_offset;
        let file = file.clone();
        tokio::spawn(async move {
            if is_csv {
                replay_csv(&state, &stations, &file, target, speed).await
            } else {
                replay_frames(&file, target, speed, offset).await
            }
        })
    };
    // The timeline: every trail entry of the warnings raised since the replay began.
    let store = state.ports.port::<dyn WarningStore>().clone();
    let mut seen: BTreeMap<i64, i64> = BTreeMap::new();
    let mut quiet_since = None;
    let mut feed = Some(feed);
    loop {
        tokio::time::sleep(StdDuration::from_millis(250)).await;
        let filter = WarningFilter { opened_since: Some(started), ..WarningFilter::default() };
        let mut printed = false;
        for w in store.warnings(&filter, Page { offset: 0, limit: 1000 }).await?.into_iter().rev() {
            let last = seen.entry(w.id).or_insert(0);
            for t in store.trail(w.id).await? {
                if t.seq > *last {
                    *last = t.seq;
                    printed = true;
                    println!("{}", timeline_line(&w.village_name, &t.entry));
                }
            }
        }
        if let Some(f) = &feed {
            if f.is_finished() {
                let summary = feed.take().expect("present").await??;
                println!("— {summary}");
                quiet_since = Some(std::time::Instant::now());
            }
        } else if printed {
            quiet_since = Some(std::time::Instant::now());
        } else if quiet_since.is_some_and(|t| t.elapsed() > StdDuration::from_secs(3)) {
            break;
        }
    }
    println!("{} warnings raised", seen.len());
    Ok(())
}

fn timeline_line(village: &str, e: &zhili_flood::warning::TrailEntry) -> String {
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("in range");
    let at = e.at.with_timezone(&beijing).format("%m-%d %H:%M:%S");
    let kind = serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let mut line = format!("{at}  {village}  {}  {kind}", e.grade.zh());
    for part in [e.name.as_deref(), e.channel.map(|c| c.as_str()), e.outcome.as_deref()].into_iter().flatten() {
        line.push_str("  ");
        line.push_str(part);
    }
    if let Some(text) = &e.text {
        let short: String = text.chars().take(60).collect();
        line.push_str(&format!("  「{short}」"));
    }
    line
}

async fn replay_csv(
    state: &zhili_server::AppState,
    stations: &[Station],
    file: &Path,
    target: SocketAddr,
    speed: f64,
) -> anyhow::Result<String> {
    let input = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let values = storm::read_csv(std::io::BufReader::new(input)).map_err(|p| {
        anyhow::anyhow!("{} line {}, column {}: {:?}: {}", file.display(), p.line, p.column, p.value, p.message)
    })?;
    let by_code: HashMap<_, _> = stations.iter().map(|s| (s.code.clone(), s)).collect();
    let (mut sl651, mut json, mut unknown) = (Vec::new(), Vec::new(), 0usize);
    for v in values {
        match by_code.get(&v.station).map(|s| &s.protocol) {
            Some(Protocol::Sl651 { .. }) => sl651.push(v),
            Some(_) => json.push(v),
            None => unknown += 1,
        }
    }
    let sims: Vec<SimStation> = stations.iter().filter_map(SimStation::of).collect();
    let start = sl651.iter().chain(&json).map(|v| v.time).min();
    // JSON stations: their values in 5-minute steps of the storm's time, at the same speed.
    let json_task = {
        let state = state.clone();
        tokio::spawn(async move {
            let Some(start) = start else { return Ok::<usize, anyhow::Error>(0) };
            let mut steps: BTreeMap<DateTime<Utc>, Vec<Observation>> = BTreeMap::new();
            for v in json {
                steps.entry(v.time).or_default().push(Observation {
                    station: v.station,
                    element: v.element,
                    observed_at: v.time,
                    value: v.value,
                    quality: Quality::Good,
                    frame: None,
                });
            }
            let real_start = tokio::time::Instant::now();
            let mut n = 0;
            for (t, batch) in steps {
                let wait = (t - start).to_std().unwrap_or_default().as_secs_f64() / speed;
                tokio::time::sleep_until(real_start + StdDuration::from_secs_f64(wait)).await;
                n += batch.len();
                zhili_server::flood::ingest::ingest_now(&state, batch).await?;
            }
            Ok(n)
        })
    };
    let config = SimConfig { clock_start: start, ..SimConfig::new(target, speed) };
    let summary = simulator::run(config, &sims, sl651).await?;
    let json_values = json_task.await??;
    let t = summary.totals();
    Ok(format!(
        "SL 651: {} reports, {} confirmed, {} resent; JSON: {json_values} values; {unknown} values of unknown stations skipped",
        t.reports, t.confirmed, t.resends
    ))
}

async fn replay_frames(
    file: &Path,
    target: SocketAddr,
    speed: f64,
    offset: chrono::FixedOffset,
) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (frames, bad) = read_frames(file, offset)?;
    if frames.is_empty() {
        bail!("{}: no SL 651 frame found ({bad} unreadable)", file.display());
    }
    let start = frames.iter().filter_map(|f| f.observed).min();
    let mut by_station: BTreeMap<[u8; 5], Vec<RawFrame>> = BTreeMap::new();
    for f in frames {
        by_station.entry(f.station).or_default().push(f);
    }
    let stations = by_station.len();
    let real_start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (_, frames) in by_station {
        tasks.spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(target).await?;
            let (mut sent, mut confirmed) = (0usize, 0usize);
            let mut buf = vec![0u8; 4096];
            let mut decoder = zhili_sl651::Decoder::new();
            for f in frames {
                if let (Some(start), Some(t)) = (start, f.observed) {
                    let wait = (t - start).to_std().unwrap_or_default().as_secs_f64() / speed;
                    tokio::time::sleep_until(real_start + StdDuration::from_secs_f64(wait)).await;
                }
                stream.write_all(&f.bytes).await?;
                sent += 1;
                // Wait briefly for the confirm (M2), as a station does; M1 frames get none.
                if let Ok(Ok(n)) = tokio::time::timeout(StdDuration::from_secs(5), stream.read(&mut buf)).await {
                    decoder.feed(&buf[..n]);
                    while let Some(item) = decoder.decode() {
                        if item.is_ok() {
                            confirmed += 1;
                        }
                    }
                }
            }
            Ok::<_, anyhow::Error>((sent, confirmed))
        });
    }
    let (mut sent, mut confirmed) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (s, c) = r??;
        sent += s;
        confirmed += c;
    }
    Ok(format!("{stations} stations sent {sent} frames, {confirmed} confirmed; {bad} unreadable skipped"))
}

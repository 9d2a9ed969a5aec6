//! A station simulator (遥测站模拟器) that speaks SL 651-2014 over real TCP: one connection
//! per automatic station to the given centre, reporting a storm's values as real stations do.
//!
//! **What each station sends** (HEX frames unless its [`SimStation::encoding`] says ASCII;
//! times in the station's local clock, [`SimConfig::utc_offset`], UTC+8 by default):
//! - `34H` hourly report (小时报) at each full hour of a rain station: `DRP` with the hour's
//!   twelve 5-minute values in 0.1 mm (the first ends 55 minutes before the observation time,
//!   the last at it; a 5-minute value the storm lacks is sent invalid, `FF`), `PT` the
//!   accumulated rain counter at the hour, `VT` the supply voltage;
//! - `33H` add-report (加报) of a rain station for every 5 minutes whose rain reaches
//!   [`SimConfig::add_threshold_mm`] (2.5 mm, i.e. 30 mm/h, by default) — the first crossing
//!   and each 5 minutes while it stays above — with `PN05` (that 5 minutes' rain), `PT`, `VT`;
//! - `32H` timed report (定时报) of a level station every [`SimStation::timed_interval_minutes`]
//!   with `Z` (the level, m) and `VT`;
//! - `2F` keep-alive (链路维持报) whenever the link has been idle for [`SimConfig::keepalive`]
//!   (real time, 40 s by default); it expects no answer.
//!
//! **M2.** After each report the station waits [`SimConfig::confirm_timeout`] (real time) for
//! the centre's confirm echoing its serial; without one it sends the same bytes again (same
//! serial and send time), at most [`SimConfig::resends`] times (2, as the standard says),
//! then gives up on that report and goes on. A lost connection is reopened
//! ([`SimConfig::reconnect_delay`]) and the report in flight is resent on the new one.
//!
//! **Time.** Each frame is due at a simulated time (a report a few seconds after its
//! observation time, staggered per station); the simulated clock runs [`SimConfig::speed`]
//! times real time from the first frame due (or [`SimConfig::clock_start`]), so 60 plays one
//! simulated hour per real minute. A station behind its schedule (after resends) sends at
//! once. Dropping the future returned by [`run`] stops every station.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Datelike, Duration, FixedOffset, Timelike, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use zhili_flood::model::{Protocol, Station, StationKind};
use zhili_flood::vocab::{Element, StationCode};
use zhili_sl651::{
    keep_alive_body, Body, Decimal, Decoder, Encoding, Frame, FunctionCode, Identifier, ReportBuilder, StationAddress,
    StationClass, Time,
};

use super::network::Network;
use super::storm::StormValue;

/// One simulated station: its SL 651 identity and what it reports.
#[derive(Debug, Clone, PartialEq)]
pub struct SimStation {
    /// Its code in the network.
    pub code: StationCode,
    /// The centre address it sends to.
    pub centre: u8,
    /// Its 5-byte address.
    pub address: StationAddress,
    /// Its password.
    pub password: u16,
    /// Station class in report bodies (`50` rain, `48` river).
    pub class: StationClass,
    /// Sends 34H hourly and 33H add-reports of rain.
    pub rain: bool,
    /// Sends 32H timed reports of the level.
    pub level: bool,
    /// Minutes between 32H timed reports (a divisor of the day is best), at least 1.
    pub timed_interval_minutes: u32,
    /// HEX (default) or ASCII frames.
    pub encoding: Encoding,
    /// The rain counter (PT) before the first value, mm.
    pub counter_start_mm: f64,
    /// The supply voltage it reports, V.
    pub voltage: f64,
}

impl SimStation {
    /// The simulated twin of an SL 651 station (`None` for a station of another protocol).
    pub fn of(station: &Station) -> Option<SimStation> {
        let Protocol::Sl651 { centre, address, password } = station.protocol else { return None };
        let seed = address.iter().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(*b)));
        Some(SimStation {
            code: station.code.clone(),
            centre,
            address: StationAddress(address),
            password,
            class: if station.measures.rain && !station.measures.level {
                StationClass::Rain
            } else {
                StationClass::River
            },
            rain: station.measures.rain,
            level: station.measures.level,
            timed_interval_minutes: station.report_interval_minutes.clamp(1, 1440),
            encoding: Encoding::Hex,
            counter_start_mm: f64::from(seed % 5000) / 10.0,
            voltage: 12.2 + f64::from(seed % 90) / 100.0,
        })
    }

    /// The network's automatic rain and level stations (48 in Boshan), in order.
    pub fn of_network(network: &Network) -> Vec<SimStation> {
        network
            .stations
            .iter()
            .filter(|s| matches!(s.kind, StationKind::AutomaticRain | StationKind::AutomaticLevel))
            .filter_map(SimStation::of)
            .collect()
    }
}

/// How the simulator runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The centre's SL 651 listener.
    pub target: SocketAddr,
    /// Simulated seconds per real second, 0.001–10,000,000; 60: an hour a minute.
    pub speed: f64,
    /// Real idle time after which a station sends a keep-alive, more than 0 and at most 255 s
    /// (default 40 s).
    pub keepalive: StdDuration,
    /// Real time to wait for a confirm, more than 0 and at most an hour (default 10 s).
    pub confirm_timeout: StdDuration,
    /// Resends of an unconfirmed report (default 2, at most 10).
    pub resends: u32,
    /// 5-minute rain (mm) at which a rain station sends add-reports (default 2.5).
    pub add_threshold_mm: f64,
    /// The stations' clock (default UTC+8, Beijing time).
    pub utc_offset: FixedOffset,
    /// Real time between attempts to (re)connect, at most an hour (default 1 s).
    pub reconnect_delay: StdDuration,
    /// Attempts to connect in a row before a station gives up (default 30).
    pub connect_attempts: u32,
    /// The simulated time the clock starts at; `None`: when the first frame is due.
    pub clock_start: Option<DateTime<Utc>>,
}

impl SimConfig {
    /// Defaults for a centre at `target` and a `speed`.
    pub fn new(target: SocketAddr, speed: f64) -> Self {
        SimConfig {
            target,
            speed,
            keepalive: StdDuration::from_secs(40),
            confirm_timeout: StdDuration::from_secs(10),
            resends: 2,
            add_threshold_mm: 2.5,
            utc_offset: FixedOffset::east_opt(8 * 3600).unwrap_or(FixedOffset::east_opt(0).expect("UTC")),
            reconnect_delay: StdDuration::from_secs(1),
            connect_attempts: 30,
            clock_start: None,
        }
    }

    fn validate(&self) -> Result<(), SimError> {
        let bad =
            |field: &'static str, value: String, message: &'static str| Err(SimError::Config { field, value, message });
        if !(self.speed.is_finite() && (0.001..=1e7).contains(&self.speed)) {
            return bad("speed", self.speed.to_string(), "a number from 0.001 to 10000000");
        }
        if self.keepalive.is_zero() || self.keepalive > StdDuration::from_secs(255) {
            return bad("keepalive", format!("{:?}", self.keepalive), "more than 0 and at most 255 s");
        }
        if self.confirm_timeout.is_zero() || self.confirm_timeout > HOUR {
            return bad("confirm_timeout", format!("{:?}", self.confirm_timeout), "more than 0 and at most an hour");
        }
        if self.reconnect_delay > HOUR {
            return bad("reconnect_delay", format!("{:?}", self.reconnect_delay), "at most an hour");
        }
        if self.resends > 10 {
            return bad("resends", self.resends.to_string(), "at most 10");
        }
        if !(self.add_threshold_mm.is_finite() && self.add_threshold_mm > 0.0) {
            return bad("add_threshold_mm", self.add_threshold_mm.to_string(), "a number of mm more than 0");
        }
        if self.connect_attempts == 0 {
            return bad("connect_attempts", "0".into(), "at least 1");
        }
        Ok(())
    }
}

/// Why the simulator cannot start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A setting is unusable.
    #[error("simulator setting {field} = {value}: {message}")]
    Config {
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
        /// The rule.
        message: &'static str,
    },
    /// A time SL 651 cannot carry (years 2000–2099 only).
    #[error("station {station}: {time} is outside the years SL 651 carries (2000–2099)")]
    Time {
        /// The station.
        station: StationCode,
        /// The time.
        time: DateTime<Utc>,
    },
    /// A station's value does not fit its element.
    #[error("station {station}: {what}: {message}")]
    Encode {
        /// The station.
        station: StationCode,
        /// Which report.
        what: String,
        /// The codec's error.
        message: String,
    },
}

/// What a planned report carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// 34H: DRP in 0.1 mm (`None`: invalid), PT in 0.1 mm.
    Hourly {
        /// The twelve 5-minute values.
        drp: [Option<u8>; 12],
        /// The counter, 0.1 mm.
        pt_tenths: i64,
    },
    /// 33H: PN05 and PT in 0.1 mm.
    Added {
        /// The 5 minutes' rain.
        pn05_tenths: i64,
        /// The counter.
        pt_tenths: i64,
    },
    /// 32H: Z in mm.
    Timed {
        /// The level, mm.
        z_mm: i64,
    },
}

/// One report a station will send.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// When it is due (simulated time).
    pub due: DateTime<Utc>,
    /// Its observation time.
    pub observed: DateTime<Utc>,
    /// What it carries.
    pub content: Content,
}

impl Planned {
    /// The function code.
    pub fn function(&self) -> FunctionCode {
        match self.content {
            Content::Hourly { .. } => FunctionCode::Hourly,
            Content::Added { .. } => FunctionCode::Added,
            Content::Timed { .. } => FunctionCode::Timed,
        }
    }
}

fn sl651_time(station: &StationCode, t: DateTime<Utc>, offset: FixedOffset) -> Result<Time, SimError> {
    let local = t.with_timezone(&offset);
    let err = || SimError::Time { station: station.clone(), time: t };
    let year = u8::try_from(local.year() - 2000).map_err(|_| err())?;
    Time::new(
        year,
        local.month() as u8,
        local.day() as u8,
        local.hour() as u8,
        local.minute() as u8,
        local.second() as u8,
    )
    .filter(|_| year <= 99)
    .ok_or_else(err)
}

/// A report's frame with its serial and send time.
pub fn report_frame(
    station: &SimStation,
    planned: &Planned,
    serial: u16,
    sent: DateTime<Utc>,
    offset: FixedOffset,
) -> Result<Frame, SimError> {
    let sent_t = sl651_time(&station.code, sent, offset)?;
    let observed = sl651_time(&station.code, planned.observed, offset)?;
    let b = ReportBuilder::new(serial, sent_t, station.address, station.class, observed);
    let vt = Some(Decimal::new((station.voltage * 100.0).round() as i64, 2));
    let err = |e: zhili_sl651::Error| SimError::Encode {
        station: station.code.clone(),
        what: format!("{:02X} report observed {}", planned.function().byte(), planned.observed),
        message: e.to_string(),
    };
    let b = match planned.content {
        Content::Hourly { drp, pt_tenths } => b
            .rain_5min(drp)
            .number(Identifier::PT, Some(Decimal::new(pt_tenths, 1)))
            .and_then(|b| b.number(Identifier::VT, vt)),
        Content::Added { pn05_tenths, pt_tenths } => b
            .number(Identifier::PN05, Some(Decimal::new(pn05_tenths, 1)))
            .and_then(|b| b.number(Identifier::PT, Some(Decimal::new(pt_tenths, 1))))
            .and_then(|b| b.number(Identifier::VT, vt)),
        Content::Timed { z_mm } => {
            b.number(Identifier::Z, Some(Decimal::new(z_mm, 3))).and_then(|b| b.number(Identifier::VT, vt))
        }
    }
    .map_err(err)?;
    Ok(Frame::uplink(
        station.encoding,
        station.centre,
        station.address,
        station.password,
        planned.function(),
        b.finish(),
    ))
}

/// A keep-alive frame.
pub fn keepalive_frame(
    station: &SimStation,
    serial: u16,
    sent: DateTime<Utc>,
    offset: FixedOffset,
) -> Result<Frame, SimError> {
    let sent = sl651_time(&station.code, sent, offset)?;
    Ok(Frame::uplink(
        station.encoding,
        station.centre,
        station.address,
        station.password,
        FunctionCode::KeepAlive,
        keep_alive_body(serial, sent),
    ))
}

const MINUTE: i64 = 60;
const HOUR: StdDuration = StdDuration::from_secs(3600);

/// Seconds after the observation time a station reports (0–59, from its address), so that
/// stations do not all send in the same second.
fn stagger(station: &SimStation) -> i64 {
    i64::from(station.address.0.iter().fold(0u8, |a, b| a.wrapping_mul(7).wrapping_add(*b)) % 50) + 5
}

/// The reports a station sends for its values, by due time. Rain values are the 5-minute
/// increments (other rain intervals are ignored), level values any time.
pub fn plan(station: &SimStation, values: &[(DateTime<Utc>, Element, f64)], config: &SimConfig) -> Vec<Planned> {
    let mut out = Vec::new();
    let offset = Duration::seconds(stagger(station));
    let five = Element::RainIncrement { interval_minutes: 5 };
    if station.rain {
        let mut rain: Vec<(DateTime<Utc>, f64)> = values
            .iter()
            .filter(|(_, e, v)| *e == five && v.is_finite() && *v >= 0.0)
            .map(|(t, _, v)| (*t, *v))
            .collect();
        rain.sort_by_key(|(t, _)| *t);
        rain.dedup_by_key(|(t, _)| *t);
        let tenths = |v: f64| (v * 10.0).round() as i64;
        // The counter after each value.
        let mut counter = tenths(station.counter_start_mm);
        let mut counter_at = Vec::with_capacity(rain.len());
        for (t, v) in &rain {
            counter += tenths(*v);
            counter_at.push((*t, counter));
        }
        let pt_at = |t: DateTime<Utc>| {
            let i = counter_at.partition_point(|(at, _)| *at <= t);
            if i == 0 {
                tenths(station.counter_start_mm)
            } else {
                counter_at[i - 1].1
            }
        };
        for (t, v) in &rain {
            let due = t.checked_add_signed(offset - Duration::seconds(3));
            if let (true, Some(due)) = (*v >= config.add_threshold_mm, due) {
                out.push(Planned {
                    due,
                    observed: *t,
                    content: Content::Added { pn05_tenths: tenths(*v), pt_tenths: pt_at(*t) },
                });
            }
        }
        let by_time: HashMap<i64, f64> = rain.iter().map(|(t, v)| (t.timestamp(), *v)).collect();
        // Each hour that has a value: the hour its value's 5 minutes end in.
        let hours: std::collections::BTreeSet<i64> =
            rain.iter().map(|(t, _)| (t.timestamp() - 1).div_euclid(3600) + 1).collect();
        for h in hours {
            let end = h * 3600;
            let drp: [Option<u8>; 12] = std::array::from_fn(|i| {
                let at = end - (55 - 5 * i as i64) * MINUTE;
                by_time.get(&at).map(|v| tenths(*v).clamp(0, 254) as u8)
            });
            if drp.iter().all(Option::is_none) {
                continue;
            }
            let Some(observed) = DateTime::from_timestamp(end, 0) else { continue };
            let Some(due) = observed.checked_add_signed(offset) else { continue };
            out.push(Planned { due, observed, content: Content::Hourly { drp, pt_tenths: pt_at(observed) } });
        }
    }
    if station.level {
        let every = i64::from(station.timed_interval_minutes.max(1)) * MINUTE;
        for (t, e, v) in values {
            let due = t.checked_add_signed(offset);
            if let (true, Some(due)) =
                (*e == Element::Level && v.is_finite() && t.timestamp().rem_euclid(every) == 0, due)
            {
                out.push(Planned { due, observed: *t, content: Content::Timed { z_mm: (v * 1000.0).round() as i64 } });
            }
        }
    }
    out.sort_by_key(|p| (p.due, p.observed));
    out
}

/// What one station did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationSummary {
    /// The station.
    pub code: Option<StationCode>,
    /// Reports planned.
    pub reports: u64,
    /// Report frames written (first sends and resends).
    pub sent: u64,
    /// Resends after a missing confirm.
    pub resends: u64,
    /// Reports confirmed.
    pub confirmed: u64,
    /// Reports given up after the last resend.
    pub unconfirmed: u64,
    /// Keep-alives sent.
    pub keepalives: u64,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// Why it stopped early, if it did (could not connect).
    pub error: Option<String>,
}

/// What the run did, one summary per station in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimSummary {
    /// Per station.
    pub stations: Vec<StationSummary>,
}

impl SimSummary {
    /// The sums over all stations (`code` and `error` empty).
    pub fn totals(&self) -> StationSummary {
        let mut t = StationSummary::default();
        for s in &self.stations {
            t.reports += s.reports;
            t.sent += s.sent;
            t.resends += s.resends;
            t.confirmed += s.confirmed;
            t.unconfirmed += s.unconfirmed;
            t.keepalives += s.keepalives;
            t.reconnects += s.reconnects;
        }
        t
    }
}

/// The simulated clock: simulated time ↔ real instants.
#[derive(Debug, Clone, Copy)]
struct Clock {
    sim_start: DateTime<Utc>,
    real_start: Instant,
    speed: f64,
}

impl Clock {
    /// The real instant of a simulated time (no earlier than the start; a year ahead at most,
    /// which no storm reaches).
    fn real(&self, t: DateTime<Utc>) -> Instant {
        let year = StdDuration::from_secs(365 * 86_400);
        let sim = (t - self.sim_start).to_std().unwrap_or_default();
        let real = StdDuration::try_from_secs_f64(sim.as_secs_f64() / self.speed).unwrap_or(year).min(year);
        self.real_start.checked_add(real).unwrap_or(self.real_start)
    }

    fn now(&self) -> DateTime<Utc> {
        let real = Instant::now().saturating_duration_since(self.real_start).as_secs_f64() * self.speed;
        let sim = Duration::try_milliseconds((real * 1000.0).min(1e15) as i64).unwrap_or(Duration::zero());
        self.sim_start.checked_add_signed(sim).unwrap_or(self.sim_start)
    }
}

/// Run the stations against the centre: plan every station's reports from `values` (values
/// of stations not given are ignored), then send them in scaled time, all stations at once.
/// Returns when every station is done.
pub async fn run(
    config: SimConfig,
    stations: &[SimStation],
    values: impl IntoIterator<Item = StormValue>,
) -> Result<SimSummary, SimError> {
    config.validate()?;
    let mut by_station: HashMap<StationCode, Vec<(DateTime<Utc>, Element, f64)>> =
        stations.iter().map(|s| (s.code.clone(), Vec::new())).collect();
    for v in values {
        if let Some(list) = by_station.get_mut(&v.station) {
            list.push((v.time, v.element, v.value));
        }
    }
    let mut plans = Vec::with_capacity(stations.len());
    for s in stations {
        let p = plan(s, by_station.get(&s.code).map(Vec::as_slice).unwrap_or_default(), &config);
        // Check every report encodes before any connection opens.
        for planned in &p {
            report_frame(s, planned, 1, planned.due, config.utc_offset)?.encode().map_err(|e| SimError::Encode {
                station: s.code.clone(),
                what: format!("{:02X} report observed {}", planned.function().byte(), planned.observed),
                message: e.to_string(),
            })?;
        }
        plans.push(p);
    }
    let sim_start = config
        .clock_start
        .or_else(|| plans.iter().filter_map(|p| p.first().map(|x| x.due)).min())
        .unwrap_or_else(Utc::now);
    let clock = Clock { sim_start, real_start: Instant::now(), speed: config.speed };
    let mut set = JoinSet::new();
    let mut ids = HashMap::new();
    for (i, (station, plan)) in stations.iter().cloned().zip(plans).enumerate() {
        let config = config.clone();
        let handle = set.spawn(async move { (i, run_station(&config, clock, station, plan).await) });
        ids.insert(handle.id(), i);
    }
    let mut summaries = vec![StationSummary::default(); stations.len()];
    while let Some(joined) = set.join_next_with_id().await {
        match joined {
            Ok((_, (i, summary))) => summaries[i] = summary,
            Err(e) => {
                // A station's task does not panic by design; if it did, say so in its place.
                if let Some(s) = ids.get(&e.id()).and_then(|i| summaries.get_mut(*i)) {
                    s.error = Some(format!("station task failed: {e}"));
                }
            }
        }
    }
    for (s, st) in summaries.iter_mut().zip(stations) {
        s.code.get_or_insert_with(|| st.code.clone());
    }
    Ok(SimSummary { stations: summaries })
}

/// One open connection: the write half, confirms from the reader task, when it last wrote.
struct Link {
    write: OwnedWriteHalf,
    confirms: mpsc::Receiver<u16>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn connect(config: &SimConfig) -> Result<Link, String> {
    let mut last = String::new();
    for attempt in 0..config.connect_attempts {
        if attempt > 0 {
            tokio::time::sleep(config.reconnect_delay).await;
        }
        match TcpStream::connect(config.target).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                let (mut read, write) = stream.into_split();
                let (tx, rx) = mpsc::channel(64);
                let reader = tokio::spawn(async move {
                    let mut decoder = Decoder::new();
                    let mut buf = vec![0u8; 4096];
                    loop {
                        let n = match read.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let mut rest = &buf[..n];
                        while !rest.is_empty() {
                            let took = decoder.feed(rest);
                            rest = &rest[took..];
                            while let Some(item) = decoder.decode() {
                                let Ok(received) = item else { continue };
                                if let Ok(Body::Confirm { serial, .. }) = received.frame.body() {
                                    if tx.send(serial).await.is_err() {
                                        return;
                                    }
                                }
                            }
                            if took == 0 {
                                break;
                            }
                        }
                    }
                });
                return Ok(Link { write, confirms: rx, reader });
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("could not connect to {} after {} attempts: {last}", config.target, config.connect_attempts))
}

/// Whether the confirm of `serial` came before `deadline`; `Err` when the link closed.
async fn await_confirm(link: &mut Link, serial: u16, deadline: Instant) -> Result<bool, ()> {
    loop {
        match tokio::time::timeout_at(deadline, link.confirms.recv()).await {
            Err(_) => return Ok(false),
            Ok(None) => return Err(()),
            Ok(Some(s)) if s == serial => return Ok(true),
            Ok(Some(_)) => continue,
        }
    }
}

struct Serials(u16);

impl Serials {
    fn next(&mut self) -> u16 {
        self.0 = if self.0 == u16::MAX { 1 } else { self.0 + 1 };
        self.0
    }
}

async fn run_station(config: &SimConfig, clock: Clock, station: SimStation, plan: Vec<Planned>) -> StationSummary {
    let mut summary =
        StationSummary { code: Some(station.code.clone()), reports: plan.len() as u64, ..Default::default() };
    let mut link = match connect(config).await {
        Ok(l) => l,
        Err(e) => {
            summary.error = Some(e);
            return summary;
        }
    };
    let mut serials = Serials(0);
    let mut last_write = Instant::now();
    for planned in &plan {
        // Wait for the report's time, keeping the link alive meanwhile.
        let due = clock.real(planned.due);
        loop {
            let keepalive_at = last_write + config.keepalive;
            if keepalive_at >= due {
                tokio::time::sleep_until(due).await;
                break;
            }
            tokio::time::sleep_until(keepalive_at).await;
            let Ok(frame) = keepalive_frame(&station, serials.next(), clock.now(), config.utc_offset) else { break };
            let Ok(bytes) = frame.encode() else { break };
            if link.write.write_all(&bytes).await.is_ok() {
                summary.keepalives += 1;
            } else {
                match reconnect(config, &mut summary).await {
                    Some(l) => link = l,
                    None => return summary,
                }
            }
            last_write = Instant::now();
        }
        let serial = serials.next();
        let bytes = match report_frame(&station, planned, serial, clock.now(), config.utc_offset).and_then(|f| {
            f.encode().map_err(|e| SimError::Encode {
                station: station.code.clone(),
                what: "report".into(),
                message: e.to_string(),
            })
        }) {
            Ok(b) => b,
            Err(e) => {
                summary.error = Some(e.to_string());
                return summary;
            }
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                summary.resends += 1;
            }
            let written = link.write.write_all(&bytes).await.is_ok();
            last_write = Instant::now();
            let outcome = if written {
                summary.sent += 1;
                await_confirm(&mut link, serial, Instant::now() + config.confirm_timeout).await
            } else {
                Err(())
            };
            match outcome {
                Ok(true) => {
                    summary.confirmed += 1;
                    break;
                }
                Ok(false) => {}
                Err(()) => match reconnect(config, &mut summary).await {
                    Some(l) => link = l,
                    None => return summary,
                },
            }
            if attempt > config.resends {
                summary.unconfirmed += 1;
                break;
            }
        }
    }
    let _ = link.write.shutdown().await;
    summary
}

async fn reconnect(config: &SimConfig, summary: &mut StationSummary) -> Option<Link> {
    tokio::time::sleep(config.reconnect_delay).await;
    match connect(config).await {
        Ok(l) => {
            summary.reconnects += 1;
            Some(l)
        }
        Err(e) => {
            summary.error = Some(e);
            None
        }
    }
}

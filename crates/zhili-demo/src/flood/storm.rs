//! A synthetic storm (合成暴雨) over the network: a Gaussian rain cell moving across the
//! watersheds, deterministic from a seed.
//!
//! **The field.** The cell's centre crosses the district on a straight track through a point
//! near its middle, heading east to north-east (the seed chooses the point, the heading
//! within 0–40° north of east, the cell's radius σ of 4–5 km and, unless given, the peak of
//! 60–90 mm/h). It enters at the first hour's end and leaves an hour before the storm's end;
//! its intensity is `peak × sin(π τ)^1.5` over the track time τ ∈ [0, 1], so it is strongest
//! over the middle of the district. The rain rate at a place is the cell's intensity ×
//! `exp(−d² / 2σ²)` (d its distance from the centre) plus a light stratiform background
//! (up to 3 mm/h, smooth in space), and each station's 5-minute values carry its own
//! multiplicative noise (about ±20 %).
//!
//! **Values.** Each station that measures rain and reports to the platform gets one value
//! per 5 minutes ([`Element::RainIncrement`] of 5 minutes, stamped at the interval's end,
//! to 0.1 mm as DRP carries it, zeros included, so windows are complete). Each that measures
//! level gets its stage every 5 minutes ([`Element::Level`], m in its gauge's datum, to the
//! millimetre): a base flow above the gauge datum plus a rise driven by the noise-free rain at
//! the station through a linear reservoir (45 min), saturating below the dike crest — a
//! rising and falling hydrograph where the storm passes.
//!
//! **Output.** [`Storm::values`] iterates `(station, time, element, value)` by time, then by
//! station in the network's order — what the [simulator](super::simulator) reports and what
//! `zhili flood replay` reads as CSV ([`write_csv`], [`read_csv`]): a header
//! `station,time,element,value`, then one row per value: the station code, the observation
//! time in RFC 3339 UTC (`2025-07-18T11:05:00Z`), the element's stable name
//! ([`Element::name`]: `rain_5min` — mm in the 5 minutes ending at `time`; `level` — m;
//! also `rain_<n>min`, `rain_counter`, `discharge`, `voltage`, `soil_moisture_<cm>`, `status`
//! when read), and the value in the element's unit with a decimal point.

use std::io;

use chrono::{DateTime, Duration, SecondsFormat, Timelike, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zhili_flood::model::{Position, Protocol};
use zhili_flood::vocab::{Element, StationCode};

use super::network::Network;

/// One value of the storm: what a station observed at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct StormValue {
    /// The station.
    pub station: StationCode,
    /// Observation time (for rain, the end of its 5 minutes).
    pub time: DateTime<Utc>,
    /// What: a 5-minute rain increment (mm) or the level (m).
    pub element: Element,
    /// The value in the element's unit.
    pub value: f64,
}

/// What storm to make.
#[derive(Debug, Clone, PartialEq)]
pub struct StormConfig {
    /// The seed of the track, the cell and the noise.
    pub seed: u64,
    /// When the storm's record begins (rounded down to 5 minutes); the first values are
    /// stamped 5 minutes later.
    pub start: DateTime<Utc>,
    /// How long the record is, 1–72 hours (default 8): dry first hour, the cell's crossing,
    /// a last hour of recession.
    pub hours: u32,
    /// The cell's peak intensity, mm/h, 1–200; `None`: drawn from the seed in 60–90.
    pub peak_mm_per_h: Option<f64>,
}

impl StormConfig {
    /// The default storm (the demo's seed, 8 hours, peak from the seed) starting at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        StormConfig { seed: crate::SEED, start, hours: 8, peak_mm_per_h: None }
    }
}

/// Why a storm cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StormError {
    /// `hours` out of 1–72.
    #[error("hours = {0}: a storm record is 1–72 hours")]
    Hours(u32),
    /// The peak out of 1–200 mm/h.
    #[error("peak_mm_per_h = {0}: the peak is 1–200 mm/h")]
    Peak(f64),
    /// The record would end past the last time there is.
    #[error("a storm starting {0} ends past the end of time")]
    Start(DateTime<Utc>),
    /// The network has no station to rain on.
    #[error("the network has no station that measures rain or level and reports")]
    NoStations,
}

/// One station's series, one value per 5-minute step.
#[derive(Debug, Clone)]
struct Series {
    station: StationCode,
    element: Element,
    values: Vec<f64>,
}

/// The storm: every station's values, computed once.
#[derive(Debug, Clone)]
pub struct Storm {
    start: DateTime<Utc>,
    steps: usize,
    peak: f64,
    sigma_km: f64,
    /// Track: the centre at τ = 0 and τ = 1, km from the origin.
    from: (f64, f64),
    to: (f64, f64),
    origin: Position,
    /// Track time: first and last step (exclusive) of the crossing.
    cross: (f64, f64),
    series: Vec<Series>,
}

const STEP_MINUTES: i64 = 5;
const KM_PER_DEG_LAT: f64 = 110.574;

fn km_per_deg_lon(lat: f64) -> f64 {
    111.320 * lat.to_radians().cos()
}

/// About N(0, 1): the sum of three uniforms on (−1, 1) has variance 1.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    (0..3).map(|_| rng.random_range(-1.0..1.0)).sum()
}

impl Storm {
    /// Make the storm over the network's stations.
    pub fn new(network: &Network, config: &StormConfig) -> Result<Storm, StormError> {
        if !(1..=72).contains(&config.hours) {
            return Err(StormError::Hours(config.hours));
        }
        if config.start.checked_add_signed(Duration::hours(i64::from(config.hours) + 1)).is_none() {
            return Err(StormError::Start(config.start));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x5707_3A11);
        let peak = match config.peak_mm_per_h {
            Some(p) if p.is_finite() && (1.0..=200.0).contains(&p) => p,
            Some(p) => return Err(StormError::Peak(p)),
            None => (rng.random_range(60.0..=90.0f64) * 10.0).round() / 10.0,
        };
        let reporting: Vec<_> =
            network.stations.iter().filter(|s| !matches!(s.protocol, Protocol::NotConnected)).collect();
        if !reporting.iter().any(|s| s.measures.rain || s.measures.level) {
            return Err(StormError::NoStations);
        }
        // Origin: the middle of the stations' extent; coordinates in km from it.
        let (mut w, mut e, mut s, mut n) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for st in &network.stations {
            w = w.min(st.position.lon);
            e = e.max(st.position.lon);
            s = s.min(st.position.lat);
            n = n.max(st.position.lat);
        }
        let origin = Position { lon: (w + e) / 2.0, lat: (s + n) / 2.0 };
        let half_width = (e - w) / 2.0 * km_per_deg_lon(origin.lat);
        let half_height = (n - s) / 2.0 * KM_PER_DEG_LAT;
        let sigma_km = rng.random_range(3.0..4.0);
        let through = (rng.random_range(-0.25..0.25) * half_width, rng.random_range(-0.25..0.25) * half_height);
        let heading = rng.random_range(0.0..40.0f64).to_radians();
        let reach = half_width.hypot(half_height) + 2.0 * sigma_km;
        let dir = (heading.cos(), heading.sin());
        let from = (through.0 - reach * dir.0, through.1 - reach * dir.1);
        let to = (through.0 + reach * dir.0, through.1 + reach * dir.1);
        let steps = (config.hours as usize) * 12;
        let cross = if config.hours >= 3 { (12.0, steps as f64 - 12.0) } else { (0.0, steps as f64) };
        let start = config.start
            - Duration::seconds(i64::from(config.start.minute() % 5) * 60 + i64::from(config.start.second()))
            - Duration::nanoseconds(i64::from(config.start.nanosecond()));
        let mut storm = Storm { start, steps, peak, sigma_km, from, to, origin, cross, series: Vec::new() };
        for (index, st) in network.stations.iter().enumerate() {
            if matches!(st.protocol, Protocol::NotConnected) {
                continue;
            }
            let mut noise = ChaCha8Rng::seed_from_u64(config.seed.rotate_left(17) ^ index as u64);
            let at = storm.km(st.position);
            if st.measures.rain {
                let values = (0..steps)
                    .map(|k| {
                        let rate = storm.rate(at, k as f64 + 0.5);
                        let v = rate * STEP_MINUTES as f64 / 60.0 * (0.2 * normal(&mut noise)).exp();
                        ((v * 10.0).round() / 10.0).clamp(0.0, 25.4)
                    })
                    .collect();
                storm.series.push(Series {
                    station: st.code.clone(),
                    element: Element::RainIncrement { interval_minutes: 5 },
                    values,
                });
            }
            if st.measures.level {
                let datum = st.level_datum_m.unwrap_or(0.0);
                let bank = st.dike_crest_m.map_or(5.0, |c| c - datum).max(0.5);
                let base = bank * noise.random_range(0.08..0.15);
                let rise = 0.95 * bank - base;
                let (mut storage, k_minutes, q0) = (0.0f64, 45.0, 25.0);
                let values = (0..steps)
                    .map(|k| {
                        storage += storm.rate(at, k as f64 + 0.5) * STEP_MINUTES as f64 / 60.0;
                        let out = storage * STEP_MINUTES as f64 / k_minutes;
                        storage -= out;
                        let q = out * 60.0 / STEP_MINUTES as f64;
                        let h = datum + base + rise * (1.0 - (-q / q0).exp());
                        (h * 1000.0).round() / 1000.0
                    })
                    .collect();
                storm.series.push(Series { station: st.code.clone(), element: Element::Level, values });
            }
        }
        Ok(storm)
    }

    fn km(&self, p: Position) -> (f64, f64) {
        ((p.lon - self.origin.lon) * km_per_deg_lon(self.origin.lat), (p.lat - self.origin.lat) * KM_PER_DEG_LAT)
    }

    /// The cell at step time `k` (fractional steps since the start): its centre in km and its
    /// intensity, or `None` outside the crossing.
    fn cell(&self, k: f64) -> Option<((f64, f64), f64)> {
        let (a, b) = self.cross;
        if k < a || k > b || b <= a {
            return None;
        }
        let tau = (k - a) / (b - a);
        let centre = (self.from.0 + tau * (self.to.0 - self.from.0), self.from.1 + tau * (self.to.1 - self.from.1));
        Some((centre, self.peak * (std::f64::consts::PI * tau).sin().max(0.0).powf(1.5)))
    }

    /// Rain rate in mm/h at a place (km) at step time `k`, without noise.
    fn rate(&self, at: (f64, f64), k: f64) -> f64 {
        let Some((c, intensity)) = self.cell(k) else { return 0.0 };
        let d2 = (at.0 - c.0).powi(2) + (at.1 - c.1).powi(2);
        let tau = (k - self.cross.0) / (self.cross.1 - self.cross.0);
        let background = 3.0 * (std::f64::consts::PI * tau).sin().max(0.0) * (0.6 + 0.4 * (at.0 / 7.0).cos());
        intensity * (-d2 / (2.0 * self.sigma_km * self.sigma_km)).exp() + background
    }

    /// The record's start (5-minute boundary).
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The record's end: the last values' time.
    pub fn end(&self) -> DateTime<Utc> {
        self.time(self.steps.saturating_sub(1))
    }

    /// The cell's peak intensity, mm/h.
    pub fn peak_mm_per_h(&self) -> f64 {
        self.peak
    }

    /// The cell's radius σ, km.
    pub fn sigma_km(&self) -> f64 {
        self.sigma_km
    }

    /// The time of step `k`'s values.
    fn time(&self, k: usize) -> DateTime<Utc> {
        self.start + Duration::minutes(STEP_MINUTES * (k as i64 + 1))
    }

    /// The cell's track every 5 minutes while it crosses: time, centre and intensity (mm/h),
    /// e.g. to draw it on the map.
    pub fn track(&self) -> Vec<(DateTime<Utc>, Position, f64)> {
        (0..self.steps)
            .filter_map(|k| {
                let ((x, y), i) = self.cell(k as f64 + 0.5)?;
                let p = Position {
                    lon: self.origin.lon + x / km_per_deg_lon(self.origin.lat),
                    lat: self.origin.lat + y / KM_PER_DEG_LAT,
                };
                Some((self.time(k), p, i))
            })
            .collect()
    }

    /// How many values [`Storm::values`] gives.
    pub fn len(&self) -> usize {
        self.series.len() * self.steps
    }

    /// Whether it gives none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every value, by time, then by station in the network's order (rain before level for a
    /// station that measures both).
    pub fn values(&self) -> impl Iterator<Item = StormValue> + '_ {
        (0..self.steps).flat_map(move |k| {
            let time = self.time(k);
            self.series.iter().map(move |s| StormValue {
                station: s.station.clone(),
                time,
                element: s.element,
                value: s.values[k],
            })
        })
    }

    /// One station's values of one element, by time.
    pub fn values_of(&self, station: &StationCode, element: Element) -> Vec<(DateTime<Utc>, f64)> {
        self.series
            .iter()
            .filter(|s| &s.station == station && s.element == element)
            .flat_map(|s| s.values.iter().enumerate().map(|(k, v)| (self.time(k), *v)))
            .collect()
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 4] = ["station", "time", "element", "value"];

/// Write values as CSV (see the [module documentation](self)); returns the rows written.
pub fn write_csv<W: io::Write>(values: impl IntoIterator<Item = StormValue>, out: W) -> Result<u64, csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    let mut rows = 0;
    for v in values {
        let value = match v.element {
            Element::RainIncrement { .. } | Element::RainCounter => format!("{:.1}", v.value),
            Element::Level => format!("{:.3}", v.value),
            _ => format!("{}", v.value),
        };
        let time = v.time.to_rfc3339_opts(SecondsFormat::Secs, true);
        w.write_record([v.station.as_str(), &time, &v.element.name(), &value])?;
        rows += 1;
    }
    w.flush()?;
    Ok(rows)
}

/// A row of a storm CSV that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {value:?}: {message}")]
pub struct CsvProblem {
    /// 1-based line (the header is line 1).
    pub line: u64,
    /// The column's name (`station`, `time`, `element`, `value`), or `row` for the whole row.
    pub column: &'static str,
    /// The text found.
    pub value: String,
    /// What is expected.
    pub message: String,
}

/// Read a storm CSV (see the [module documentation](self)): every row, or the first problem
/// with its line and column.
pub fn read_csv<R: io::Read>(input: R) -> Result<Vec<StormValue>, CsvProblem> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    let mut out = Vec::new();
    let mut header = true;
    for (i, record) in r.records().enumerate() {
        let line = i as u64 + 1;
        let record = record.map_err(|e| CsvProblem {
            line: e.position().map_or(line, |p| p.line()),
            column: "row",
            value: String::new(),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(line, |p| p.line());
        if header {
            header = false;
            let got: Vec<String> =
                record.iter().map(|c| c.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
            if got != CSV_HEADER {
                return Err(CsvProblem {
                    line,
                    column: "row",
                    value: got.join(","),
                    message: format!("the header is {}", CSV_HEADER.join(",")),
                });
            }
            continue;
        }
        if record.len() != CSV_HEADER.len() {
            return Err(CsvProblem {
                line,
                column: "row",
                value: record.iter().collect::<Vec<_>>().join(","),
                message: format!("a row has {} columns, found {}", CSV_HEADER.len(), record.len()),
            });
        }
        let cell = |k: usize| record.get(k).unwrap_or("").trim();
        let problem = |column: &'static str, value: &str, message: String| CsvProblem {
            line,
            column,
            value: value.to_string(),
            message,
        };
        let station = StationCode::parse(cell(0)).map_err(|e| problem("station", cell(0), e.to_string()))?;
        let time = DateTime::parse_from_rfc3339(cell(1))
            .map_err(|e| problem("time", cell(1), format!("an RFC 3339 time like 2025-07-18T11:05:00Z: {e}")))?
            .with_timezone(&Utc);
        let element = Element::from_name(cell(2)).ok_or_else(|| {
            problem(
                "element",
                cell(2),
                "one of rain_5min (rain_<n>min), rain_counter, level, discharge, voltage, soil_moisture_<cm>, status"
                    .into(),
            )
        })?;
        let value = cell(3)
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| problem("value", cell(3), "a finite number with a decimal point".into()))?;
        out.push(StormValue { station, time, element, value });
    }
    if header {
        return Err(CsvProblem {
            line: 1,
            column: "row",
            value: String::new(),
            message: format!("empty: the header is {}", CSV_HEADER.join(",")),
        });
    }
    Ok(out)
}

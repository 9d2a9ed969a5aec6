//! Rainfall accumulations over sliding windows (滑动时段累计雨量), computed on the server from
//! what stations send, as SL 651 asks: 5-minute increments (DRP), coarser increments (PN10,
//! PN30, P1 where that is all a station sends) and the accumulated counter (PT).
//!
//! A [`RainSeries`] holds one station's raw rain values, keyed by element and observation time,
//! and derives 5-minute buckets from them when asked. Because every answer is a function of the
//! *set* of stored values, the engine is correct under late, out-of-order and repeated data:
//!
//! - **Buckets.** Bucket *k* covers the five minutes ending at `k × 5 min` since the Unix epoch
//!   (a 5-minute value stamped 10:05 covers 10:00–10:05). An increment of *n* minutes stamped
//!   *t* covers the *n*/5 buckets ending at *t*; increments must lie on the 5-minute grid.
//! - **Duplicates and corrections.** Storing the same value for the same element and time again
//!   changes nothing ([`Inserted::Duplicate`]); a different value replaces the old one
//!   ([`Inserted::Corrected`]) and every window it falls in changes with it.
//! - **Counters (PT).** Readings may come at any whole minute; the last reading in each bucket
//!   stands for it. The difference between two consecutive readings is the rain in the buckets
//!   after the first reading's bucket up to the second's. A drop is a **reset**: the new reading
//!   counts as the rain since the reset (the counter restarts from zero), and the time is listed
//!   by [`RainSeries::counter_resets`]. A gap longer than
//!   [`RainConfig::max_counter_gap_minutes`] is not counted (flagged [`FlagReason::CounterGap`]):
//!   its rain cannot be placed in time and would look like a burst.
//! - **Multi-bucket values.** The rain of an increment longer than 5 minutes or of a counter
//!   difference is **assigned to its last bucket** (the reported one) and the other buckets it
//!   covers count as known with nothing. A window that contains the whole span sees the exact
//!   sum; a shorter window ending at the report sees all of it (conservative for warnings); a
//!   window ending before the report sees those buckets as missing.
//! - **Several sources.** A station may send DRP and PT for the same rain. Finer values win: a
//!   span is used only when no valid value that is finer (fewer buckets; at equal length an
//!   increment before a counter difference; at equal both, the earlier one) overlaps it.
//!   Otherwise it is dropped and the buckets it alone would have covered stay missing.
//! - **Suspicious values** — negative rain, more than [`RainConfig::max_mm_per_5min`] per 5
//!   minutes (scaled by the span's length), a counter jump beyond that — are kept and listed
//!   with a reason by [`RainSeries::flags`] but count for nothing: their buckets stay missing.
//!
//! Amounts are kept in micrometres (0.001 mm) as integers, so sums are exact and independent of
//! the order of additions. Memory is bounded: values older than the newest one minus
//! [`RainConfig::retention_minutes`] (and the look-back a counter gap needs) are dropped and later
//! ones that old are refused ([`Inserted::Expired`]). The caller rejects observation times in the
//! future (the ingest knows the clock; this module does not), since the newest time sets the
//! horizon.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::vocab::{Element, Window};

const STEP_MINUTES: i64 = Window::STEP_MINUTES as i64;
const STEP_SECONDS: i64 = STEP_MINUTES * 60;
const MICROS_PER_MM: f64 = 1000.0;

/// The engine's settings for one station (or a whole deployment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RainConfig {
    /// How much history is kept behind the newest value, minutes (default 4320 = 72 h, the
    /// longest [`Window`]).
    pub retention_minutes: u32,
    /// The most rain believed in 5 minutes, mm (default 50); a span of *n* buckets may hold
    /// *n* times this. More is flagged [`FlagReason::AboveLimit`] or [`FlagReason::CounterJump`].
    pub max_mm_per_5min: f64,
    /// The longest increment interval accepted, minutes, a multiple of 5 (default 60: P1).
    pub max_increment_minutes: u32,
    /// The longest time between two counter readings whose difference still counts, minutes
    /// (default 120: an hourly PT reporter may miss one report).
    pub max_counter_gap_minutes: u32,
}

impl Default for RainConfig {
    fn default() -> Self {
        Self { retention_minutes: 4320, max_mm_per_5min: 50.0, max_increment_minutes: 60, max_counter_gap_minutes: 120 }
    }
}

/// Why a [`RainConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RainConfigError {
    #[error("retention_minutes must be 5–{max} minutes in steps of 5, got {0}", max = 4 * Window::MAX_MINUTES)]
    Retention(u32),
    #[error("max_mm_per_5min must be a positive number of mm, got {0}")]
    Limit(f64),
    #[error("max_increment_minutes must be 5–1440 in steps of 5, got {0}")]
    MaxIncrement(u32),
    #[error("max_counter_gap_minutes must be 5–1440, got {0}")]
    CounterGap(u32),
}

impl RainConfig {
    /// Check every field; [`RainSeries::new`] does this.
    pub fn validate(&self) -> Result<(), RainConfigError> {
        let r = self.retention_minutes;
        if !(Window::STEP_MINUTES..=4 * Window::MAX_MINUTES).contains(&r) || !r.is_multiple_of(Window::STEP_MINUTES) {
            return Err(RainConfigError::Retention(r));
        }
        if !(self.max_mm_per_5min.is_finite() && self.max_mm_per_5min > 0.0) {
            return Err(RainConfigError::Limit(self.max_mm_per_5min));
        }
        let m = self.max_increment_minutes;
        if !(5..=1440).contains(&m) || !m.is_multiple_of(Window::STEP_MINUTES) {
            return Err(RainConfigError::MaxIncrement(m));
        }
        if !(5..=1440).contains(&self.max_counter_gap_minutes) {
            return Err(RainConfigError::CounterGap(self.max_counter_gap_minutes));
        }
        Ok(())
    }

    /// The longest valid span in buckets: how far the derivation must look around a window.
    fn lookback_buckets(&self) -> i64 {
        let longest = self.max_increment_minutes.max(self.max_counter_gap_minutes) as i64;
        (longest + STEP_MINUTES - 1) / STEP_MINUTES
    }

    fn limit_micros(&self, buckets: i64) -> i64 {
        let limit = self.max_mm_per_5min * MICROS_PER_MM * buckets as f64;
        limit.round() as i64
    }
}

/// Why a value was not stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RainError {
    #[error("{} is not a rain element (rain increments and the rain counter only)", .0.name())]
    NotRain(Element),
    #[error("{element} at {time}: the value is not a number ({value})", element = .element.name())]
    NotFinite { element: Element, time: DateTime<Utc>, value: f64 },
    #[error("{element} at {time}: rain times are whole minutes", element = .element.name())]
    NotWholeMinute { element: Element, time: DateTime<Utc> },
    #[error("{element} at {time}: an increment ends on a 5-minute boundary (…:00, …:05, …)", element = .element.name())]
    OffGrid { element: Element, time: DateTime<Utc> },
    #[error("a rain increment of {minutes} minutes is not used: intervals are 5–{max} minutes in steps of 5")]
    UnsupportedInterval { minutes: u16, max: u32 },
}

/// What [`RainSeries::insert`] did with a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Inserted {
    /// A value for a time not seen before.
    New,
    /// The same value for the same element and time: nothing changed.
    Duplicate,
    /// A different value for a time already seen: it replaced `previous_mm`.
    Corrected { previous_mm: f64 },
    /// Older than the retained history: not stored.
    Expired,
}

/// Why a value counts for nothing (可疑数据).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum FlagReason {
    /// Rain below zero (a negative increment, or a counter reset to a negative reading).
    Negative,
    /// More rain than believable for the span: `limit_mm` for its `minutes`.
    AboveLimit { minutes: u32, limit_mm: f64 },
    /// A counter difference (`increment_mm`) beyond what `minutes` can hold.
    CounterJump { increment_mm: f64, minutes: u32, limit_mm: f64 },
    /// Two counter readings `minutes` apart, more than the configured gap: not placed in time.
    CounterGap { increment_mm: f64, minutes: u32 },
}

/// A suspicious value, kept out of every accumulation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub element: Element,
    /// The observation time of the value (for a counter, the later reading).
    pub time: DateTime<Utc>,
    /// The value as stored (for a counter, the reading).
    pub mm: f64,
    pub reason: FlagReason,
}

/// The rain of one window ending at a time (时段累计雨量).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accumulation {
    pub window: Window,
    /// The window's end: the asked time rounded down to a 5-minute boundary.
    pub at: DateTime<Utc>,
    /// Rain of the known buckets, mm.
    pub mm: f64,
    /// True when no bucket of the window is missing.
    pub complete: bool,
    /// Minutes of the window with no usable value.
    pub missing_minutes: u32,
}

/// One station's rain: raw values in, accumulations out. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct RainSeries {
    config: RainConfig,
    /// Increments by interval in minutes, then end bucket → µm.
    increments: BTreeMap<u16, BTreeMap<i64, i64>>,
    /// Counter readings by minute since the epoch → µm.
    counter: BTreeMap<i64, i64>,
    /// The newest observation, minutes since the epoch.
    newest: Option<i64>,
}

/// Where a span's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Increment(u16),
    Counter,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    end: i64,
    len: i64,
    micros: i64,
    source: Source,
    /// The observation minute and stored value behind the span, for flags.
    minute: i64,
    stored: i64,
    reset: bool,
    flag: Option<FlagReason>,
}

impl Span {
    fn order(&self) -> (i64, i64, Source) {
        (self.len, self.end, self.source)
    }
}

impl RainSeries {
    /// An empty series with checked settings.
    pub fn new(config: RainConfig) -> Result<Self, RainConfigError> {
        config.validate()?;
        Ok(Self { config, ..Self::default() })
    }

    pub fn config(&self) -> &RainConfig {
        &self.config
    }

    /// Store one value: `mm` of rain for an increment, the reading for the counter.
    pub fn insert(&mut self, element: Element, time: DateTime<Utc>, mm: f64) -> Result<Inserted, RainError> {
        if !matches!(element, Element::RainIncrement { .. } | Element::RainCounter) {
            return Err(RainError::NotRain(element));
        }
        if let Element::RainIncrement { interval_minutes } = element {
            let n = u32::from(interval_minutes);
            if !(Window::STEP_MINUTES..=self.config.max_increment_minutes).contains(&n)
                || !n.is_multiple_of(Window::STEP_MINUTES)
            {
                return Err(RainError::UnsupportedInterval {
                    minutes: interval_minutes,
                    max: self.config.max_increment_minutes,
                });
            }
        }
        if !mm.is_finite() {
            return Err(RainError::NotFinite { element, time, value: mm });
        }
        if time.second() != 0 || time.nanosecond() != 0 {
            return Err(RainError::NotWholeMinute { element, time });
        }
        let minute = time.timestamp().div_euclid(60);
        if matches!(element, Element::RainIncrement { .. }) && minute.rem_euclid(STEP_MINUTES) != 0 {
            return Err(RainError::OffGrid { element, time });
        }
        let micros = to_micros(mm);
        if self.newest.is_some_and(|newest| minute < self.horizon(newest)) {
            return Ok(Inserted::Expired);
        }
        let previous = match element {
            Element::RainIncrement { interval_minutes } => {
                self.increments.entry(interval_minutes).or_default().insert(minute / STEP_MINUTES, micros)
            }
            _ => self.counter.insert(minute, micros),
        };
        if self.newest.is_none_or(|newest| minute > newest) {
            self.newest = Some(minute);
            self.prune(minute);
        }
        Ok(match previous {
            None => Inserted::New,
            Some(p) if p == micros => Inserted::Duplicate,
            Some(p) => Inserted::Corrected { previous_mm: from_micros(p) },
        })
    }

    /// The time of the newest stored value.
    pub fn latest(&self) -> Option<DateTime<Utc>> {
        self.newest.and_then(|m| DateTime::from_timestamp(m.saturating_mul(60), 0))
    }

    /// How many raw values are stored.
    pub fn len(&self) -> usize {
        self.counter.len() + self.increments.values().map(BTreeMap::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rain of `window` ending at `at` (rounded down to a 5-minute boundary).
    pub fn accumulation(&self, window: Window, at: DateTime<Utc>) -> Accumulation {
        let mut all = self.accumulations(&[window], at);
        all.pop().unwrap_or_else(|| empty(window, at))
    }

    /// The rain of several windows ending at the same time, in one pass over the longest;
    /// in the order given.
    pub fn accumulations(&self, windows: &[Window], at: DateTime<Utc>) -> Vec<Accumulation> {
        let Some(longest) = windows.iter().map(|w| w.as_minutes() as i64 / STEP_MINUTES).max() else {
            return Vec::new();
        };
        let last = at.timestamp().div_euclid(STEP_SECONDS);
        let first = last - longest + 1;
        let end_time = DateTime::from_timestamp(last.saturating_mul(STEP_SECONDS), 0).unwrap_or(at);
        let (values, known) = self.derive(first, last);
        // Suffix sums from the end backwards: after i buckets, the window of i buckets is done.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| windows[i].as_minutes());
        let mut out: Vec<Option<Accumulation>> = vec![None; windows.len()];
        let (mut sum, mut missing, mut next) = (0i64, 0u32, 0usize);
        for (i, (v, k)) in values.iter().zip(&known).rev().enumerate() {
            sum = sum.saturating_add(*v);
            if !k {
                missing += 1;
            }
            while next < order.len() && windows[order[next]].as_minutes() as usize / STEP_MINUTES as usize == i + 1 {
                let w = windows[order[next]];
                out[order[next]] = Some(Accumulation {
                    window: w,
                    at: end_time,
                    mm: from_micros(sum),
                    complete: missing == 0,
                    missing_minutes: missing * Window::STEP_MINUTES,
                });
                next += 1;
            }
        }
        out.into_iter().zip(windows).map(|(a, w)| a.unwrap_or_else(|| empty(*w, end_time))).collect()
    }

    /// The rain of `days` whole days, oldest first, the last ending at `end` (24-hour windows;
    /// for the 8:00 Beijing-time hydrological day pass an `end` at 00:00 UTC). Days before the
    /// retained history come back incomplete.
    pub fn daily_totals(&self, end: DateTime<Utc>, days: u32) -> Vec<Accumulation> {
        (0..days)
            .rev()
            .map(|d| {
                let at = end.checked_sub_signed(Duration::days(i64::from(d))).unwrap_or(end);
                self.accumulation(Window::H24, at)
            })
            .collect()
    }

    /// The suspicious values among those stored, oldest first.
    pub fn flags(&self) -> Vec<Flag> {
        let Some((lo, hi)) = self.stored_buckets() else { return Vec::new() };
        let mut spans = self.spans(lo, hi);
        spans.sort_by_key(|s| (s.minute, s.source));
        spans
            .into_iter()
            .filter_map(|s| {
                s.flag.map(|reason| Flag {
                    element: element_of(s.source),
                    time: minute_time(s.minute),
                    mm: from_micros(s.stored),
                    reason,
                })
            })
            .collect()
    }

    /// The times of counter readings that were lower than the one before (a counter reset).
    pub fn counter_resets(&self) -> Vec<DateTime<Utc>> {
        let Some((lo, hi)) = self.stored_buckets() else { return Vec::new() };
        let mut resets: Vec<i64> = self.spans(lo, hi).iter().filter(|s| s.reset).map(|s| s.minute).collect();
        resets.sort_unstable();
        resets.into_iter().map(minute_time).collect()
    }

    /// The oldest minute still kept when `newest` is the newest.
    fn horizon(&self, newest: i64) -> i64 {
        let lookback = 2 * self.config.lookback_buckets() * STEP_MINUTES + 2 * STEP_MINUTES;
        newest - i64::from(self.config.retention_minutes) - lookback
    }

    fn prune(&mut self, newest: i64) {
        let horizon = self.horizon(newest);
        while let Some(e) = self.counter.first_entry() {
            if *e.key() >= horizon {
                break;
            }
            e.remove();
        }
        for map in self.increments.values_mut() {
            while let Some(e) = map.first_entry() {
                if *e.key() * STEP_MINUTES >= horizon {
                    break;
                }
                e.remove();
            }
        }
        self.increments.retain(|_, m| !m.is_empty());
    }

    fn stored_buckets(&self) -> Option<(i64, i64)> {
        let counter = self.counter.keys().next().map(|m| bucket_of_minute(*m));
        let counter_hi = self.counter.keys().next_back().map(|m| bucket_of_minute(*m));
        let inc_lo = self.increments.values().filter_map(|m| m.keys().next().copied()).min();
        let inc_hi = self.increments.values().filter_map(|m| m.keys().next_back().copied()).max();
        let lo = [counter, inc_lo].into_iter().flatten().min()?;
        let hi = [counter_hi, inc_hi].into_iter().flatten().max()?;
        Some((lo, hi))
    }

    /// Every span (valid or flagged) ending in buckets `lo..=hi`.
    fn spans(&self, lo: i64, hi: i64) -> Vec<Span> {
        let mut spans = Vec::new();
        if lo > hi {
            return spans;
        }
        for (&interval, map) in &self.increments {
            let len = i64::from(interval) / STEP_MINUTES;
            let limit = self.config.limit_micros(len);
            for (&end, &micros) in map.range(lo..=hi) {
                let flag = if micros < 0 {
                    Some(FlagReason::Negative)
                } else if micros > limit {
                    Some(FlagReason::AboveLimit { minutes: u32::from(interval), limit_mm: from_micros(limit) })
                } else {
                    None
                };
                let minute = end * STEP_MINUTES;
                spans.push(Span {
                    end,
                    len,
                    micros,
                    source: Source::Increment(interval),
                    minute,
                    stored: micros,
                    reset: false,
                    flag,
                });
            }
        }
        // Counter readings for buckets lo..=hi are minutes 5·lo−4 ..= 5·hi; the one before
        // them starts the first difference.
        let first_minute = lo * STEP_MINUTES - (STEP_MINUTES - 1);
        let mut previous: Option<(i64, i64)> =
            self.counter.range(..first_minute).next_back().map(|(m, v)| (bucket_of_minute(*m), *v));
        let mut readings = self.counter.range(first_minute..=hi * STEP_MINUTES).peekable();
        while let Some((&minute, &value)) = readings.next() {
            let bucket = bucket_of_minute(minute);
            // The last reading in a bucket stands for it.
            if readings.peek().is_some_and(|(m, _)| bucket_of_minute(**m) == bucket) {
                continue;
            }
            if let Some((prev_bucket, prev_value)) = previous {
                spans.push(self.counter_span(prev_bucket, prev_value, bucket, minute, value));
            }
            previous = Some((bucket, value));
        }
        spans
    }

    fn counter_span(&self, prev_bucket: i64, prev_value: i64, bucket: i64, minute: i64, value: i64) -> Span {
        let len = bucket - prev_bucket;
        let reset = value < prev_value;
        let increment = if reset { value } else { value.saturating_sub(prev_value) };
        let minutes = u32::try_from(len.saturating_mul(STEP_MINUTES)).unwrap_or(u32::MAX);
        let limit = self.config.limit_micros(len);
        let flag = if increment < 0 {
            Some(FlagReason::Negative)
        } else if minutes > self.config.max_counter_gap_minutes {
            Some(FlagReason::CounterGap { increment_mm: from_micros(increment), minutes })
        } else if increment > limit {
            Some(FlagReason::CounterJump {
                increment_mm: from_micros(increment),
                minutes,
                limit_mm: from_micros(limit),
            })
        } else {
            None
        };
        Span { end: bucket, len, micros: increment, source: Source::Counter, minute, stored: value, reset, flag }
    }

    /// Values and known-ness of buckets `first..=last`.
    fn derive(&self, first: i64, last: i64) -> (Vec<i64>, Vec<bool>) {
        let n = usize::try_from(last - first + 1).unwrap_or(0);
        let mut values = vec![0i64; n];
        let mut known = vec![false; n];
        let l = self.config.lookback_buckets();
        let mut spans: Vec<Span> = self.spans(first - l, last + l).into_iter().filter(|s| s.flag.is_none()).collect();
        spans.sort_by_key(Span::order);
        // Buckets taken by a valid span processed before; a span is used only if none of its
        // buckets is taken. Valid spans are at most `l` long, so this range holds them all.
        let base = first - 2 * l;
        let mut taken = vec![false; usize::try_from(last + l - base + 1).unwrap_or(0)];
        for s in &spans {
            let start = s.end - s.len + 1;
            let (Ok(i0), Ok(i1)) = (usize::try_from(start - base), usize::try_from(s.end - base)) else { continue };
            let Some(slots) = taken.get_mut(i0..=i1) else { continue };
            let used = !slots.iter().any(|t| *t);
            slots.iter_mut().for_each(|t| *t = true);
            if !used || !(first..=last).contains(&s.end) {
                continue;
            }
            let end_index = (s.end - first) as usize;
            values[end_index] = values[end_index].saturating_add(s.micros);
            for k in start.max(first)..=s.end {
                known[(k - first) as usize] = true;
            }
        }
        (values, known)
    }
}

fn empty(window: Window, at: DateTime<Utc>) -> Accumulation {
    Accumulation { window, at, mm: 0.0, complete: false, missing_minutes: window.as_minutes() }
}

fn to_micros(mm: f64) -> i64 {
    // `as` saturates: absurd values stay absurd (and are flagged) without overflow.
    (mm * MICROS_PER_MM).round() as i64
}

fn from_micros(micros: i64) -> f64 {
    micros as f64 / MICROS_PER_MM
}

/// The bucket a counter reading at `minute` falls in (the one ending at or after it).
fn bucket_of_minute(minute: i64) -> i64 {
    (minute + STEP_MINUTES - 1).div_euclid(STEP_MINUTES)
}

fn minute_time(minute: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(minute.saturating_mul(60), 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn element_of(source: Source) -> Element {
    match source {
        Source::Increment(interval_minutes) => Element::RainIncrement { interval_minutes },
        Source::Counter => Element::RainCounter,
    }
}

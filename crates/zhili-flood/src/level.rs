//! A water-level station's trend (水位涨率): the latest level, how fast it rises and whether
//! it is rising, steady or falling — the duty officer's "what is rising" and the rate-of-rise
//! indicators of a control section read this.
//!
//! [`level_trend`] takes a station's observations in any order. Rules:
//! - Only observations at or before `at` count. Observations at the same time are one: the
//!   last one in the slice wins (pass them in arrival order, so a correction replaces).
//! - A **jump** is flagged and excluded: more than [`LevelConfig::max_jump_m`] per
//!   [`LevelConfig::jump_minutes`] against the last accepted level, the allowance growing with
//!   the time between them (at least one step). A one-sample spike is thus dropped, while a
//!   level that stays at the new value is accepted once enough time has passed to explain it.
//!   Values that are not numbers are flagged too.
//! - The **rate** (m/h) is fitted through the accepted observations in the last
//!   [`LevelConfig::span_minutes`] up to `at`, with at least [`LevelConfig::min_points`] of
//!   them spanning at least one minute: by least squares (the default, so one noisy reading
//!   moves it less) or from the first and last of them ([`RateMethod::EndPoints`]). Rising above
//!   [`LevelConfig::steady_tolerance_m_per_h`], falling below its negative, steady between.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Settings of the trend, per station or deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelConfig {
    /// The span the rate is fitted over, minutes (default 60; 30–60 is usual).
    pub span_minutes: u32,
    /// The fewest observations a rate needs (default 2).
    pub min_points: usize,
    /// A rate within ± this is steady, m/h (default 0.05).
    pub steady_tolerance_m_per_h: f64,
    /// The largest believable change per `jump_minutes`, m (default 2).
    pub max_jump_m: f64,
    /// The step the jump allowance is given for, minutes (default 5).
    pub jump_minutes: u32,
    /// How the rate is fitted (default least squares).
    pub method: RateMethod,
}

/// How the rate of rise is fitted over the span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateMethod {
    /// The least-squares slope through every reading of the span.
    #[default]
    LeastSquares,
    /// The change from the first to the last reading of the span over the time between them.
    EndPoints,
}

impl Default for LevelConfig {
    fn default() -> Self {
        Self {
            span_minutes: 60,
            min_points: 2,
            steady_tolerance_m_per_h: 0.05,
            max_jump_m: 2.0,
            jump_minutes: 5,
            method: RateMethod::LeastSquares,
        }
    }
}

/// Why a [`LevelConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LevelConfigError {
    #[error("span_minutes must be 1–1440, got {0}")]
    Span(u32),
    #[error("min_points must be at least 2, got {0}")]
    MinPoints(usize),
    #[error("steady_tolerance_m_per_h must be a number ≥ 0, got {0}")]
    Tolerance(f64),
    #[error("max_jump_m must be a positive number of metres, got {0}")]
    MaxJump(f64),
    #[error("jump_minutes must be 1–1440, got {0}")]
    JumpMinutes(u32),
}

impl LevelConfig {
    pub fn validate(&self) -> Result<(), LevelConfigError> {
        if !(1..=1440).contains(&self.span_minutes) {
            return Err(LevelConfigError::Span(self.span_minutes));
        }
        if self.min_points < 2 {
            return Err(LevelConfigError::MinPoints(self.min_points));
        }
        let t = self.steady_tolerance_m_per_h;
        if !(t.is_finite() && t >= 0.0) {
            return Err(LevelConfigError::Tolerance(t));
        }
        if !(self.max_jump_m.is_finite() && self.max_jump_m > 0.0) {
            return Err(LevelConfigError::MaxJump(self.max_jump_m));
        }
        if !(1..=1440).contains(&self.jump_minutes) {
            return Err(LevelConfigError::JumpMinutes(self.jump_minutes));
        }
        Ok(())
    }
}

/// One level reading (水位), m.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LevelObservation {
    pub time: DateTime<Utc>,
    pub level_m: f64,
}

/// Rising, steady or falling (涨 / 平 / 落).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Rising,
    Steady,
    Falling,
}

impl Trend {
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Rising => "rising",
            Trend::Steady => "steady",
            Trend::Falling => "falling",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Trend::Rising => "涨",
            Trend::Steady => "平",
            Trend::Falling => "落",
        }
    }
}

/// Why a level reading was kept out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum LevelFlagReason {
    /// Not a number.
    NotFinite,
    /// `change_m` from the last accepted level `from_m`, `minutes` earlier; `limit_m` allowed.
    Jump { from_m: f64, change_m: f64, minutes: f64, limit_m: f64 },
}

/// A suspicious level reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelFlag {
    pub time: DateTime<Utc>,
    pub level_m: f64,
    pub reason: LevelFlagReason,
}

/// A station's level at a time and where it is heading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelTrend {
    /// The latest accepted reading at or before `at`.
    pub latest: Option<LevelObservation>,
    /// Rate of rise over the span, m/h (negative when falling); `None` with too few readings.
    pub rate_m_per_h: Option<f64>,
    pub trend: Option<Trend>,
    /// Accepted readings the rate was fitted through.
    pub points_used: usize,
    /// Readings kept out, oldest first.
    pub flags: Vec<LevelFlag>,
}

/// The trend of a station's readings as of `at`. See the module documentation for the rules.
pub fn level_trend(
    observations: &[LevelObservation],
    at: DateTime<Utc>,
    config: &LevelConfig,
) -> Result<LevelTrend, LevelConfigError> {
    config.validate()?;
    // Dedup by time, the last in the slice winning: a stable sort keeps arrival order within a
    // time, then keep the last of each run.
    let mut sorted: Vec<LevelObservation> = observations.iter().copied().filter(|o| o.time <= at).collect();
    sorted.sort_by_key(|o| o.time);
    let mut unique: Vec<LevelObservation> = Vec::with_capacity(sorted.len());
    for o in sorted {
        match unique.last_mut() {
            Some(last) if last.time == o.time => *last = o,
            _ => unique.push(o),
        }
    }

    let mut accepted: Vec<LevelObservation> = Vec::with_capacity(unique.len());
    let mut flags = Vec::new();
    let step_seconds = f64::from(config.jump_minutes) * 60.0;
    for o in unique {
        if !o.level_m.is_finite() {
            flags.push(LevelFlag { time: o.time, level_m: o.level_m, reason: LevelFlagReason::NotFinite });
            continue;
        }
        if let Some(prev) = accepted.last() {
            let seconds = (o.time - prev.time).num_seconds() as f64;
            let limit = config.max_jump_m * (seconds / step_seconds).max(1.0);
            let change = o.level_m - prev.level_m;
            if change.abs() > limit {
                flags.push(LevelFlag {
                    time: o.time,
                    level_m: o.level_m,
                    reason: LevelFlagReason::Jump {
                        from_m: prev.level_m,
                        change_m: change,
                        minutes: seconds / 60.0,
                        limit_m: limit,
                    },
                });
                continue;
            }
        }
        accepted.push(o);
    }

    let latest = accepted.last().copied();
    let from = at
        .checked_sub_signed(chrono::Duration::minutes(i64::from(config.span_minutes)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let in_span: Vec<&LevelObservation> = accepted.iter().filter(|o| o.time > from).collect();
    let rate = slope_m_per_h(&in_span, at, config.method).filter(|_| in_span.len() >= config.min_points);
    let trend = rate.map(|r| {
        if r > config.steady_tolerance_m_per_h {
            Trend::Rising
        } else if r < -config.steady_tolerance_m_per_h {
            Trend::Falling
        } else {
            Trend::Steady
        }
    });
    Ok(LevelTrend {
        latest,
        rate_m_per_h: rate,
        trend,
        points_used: if rate.is_some() { in_span.len() } else { 0 },
        flags,
    })
}

/// The slope in m/h; `None` when the times span less than a minute.
fn slope_m_per_h(points: &[&LevelObservation], at: DateTime<Utc>, method: RateMethod) -> Option<f64> {
    let (first, last) = (points.first()?, points.last()?);
    let seconds = (last.time - first.time).num_seconds();
    if seconds < 60 {
        return None;
    }
    if method == RateMethod::EndPoints {
        return Some((last.level_m - first.level_m) / (seconds as f64 / 3600.0)).filter(|s| s.is_finite());
    }
    // Hours before `at` keep the numbers small.
    let xs: Vec<f64> = points.iter().map(|p| (p.time - at).num_seconds() as f64 / 3600.0).collect();
    let n = points.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = points.iter().map(|p| p.level_m).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, p) in xs.iter().zip(points) {
        sxy += (x - mx) * (p.level_m - my);
        sxx += (x - mx) * (x - mx);
    }
    (sxx > 0.0).then(|| sxy / sxx).filter(|s| s.is_finite())
}

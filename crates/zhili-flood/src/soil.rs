//! The antecedent soil state (前期土壤含水量状态) that picks a village's rainfall thresholds:
//! the same storm warns earlier on wet soil.
//!
//! Two methods, chosen per watershed or village by [`SoilConfig`]:
//! - **Antecedent precipitation index** (前期影响雨量 *Pa*): from the daily rain of the last
//!   N days, `Pa(t+1) = k · (Pa(t) + P(t))`, capped at the soil's water capacity *Wm*
//!   (蓄水容量). *Pa* starts at zero N days back; the last daily total is the day that ended
//!   when the present day began, so *Pa* describes the soil before the present rain, which the
//!   windows measure. Dry below `dry_fraction · Wm`, wet above `wet_fraction · Wm`.
//! - **Soil moisture** (土壤墒情, SL 651 M10…M100, %): thresholds per depth; each configured
//!   depth with a reading gets a state and the wettest of them decides (wetter soil means
//!   lower thresholds, the cautious choice).

use serde::{Deserialize, Serialize};

use crate::rain::Accumulation;
use crate::vocab::SoilState;

/// The antecedent-precipitation-index settings of a watershed or village.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Daily decay factor *k* (消退系数), 0 < k < 1; usually 0.8–0.95 (default 0.85).
    pub k: f64,
    /// Soil water capacity *Wm* (流域蓄水容量), mm (default 100).
    pub wm_mm: f64,
    /// Dry when *Pa* < this fraction of *Wm* (default 0.3).
    pub dry_fraction: f64,
    /// Wet when *Pa* > this fraction of *Wm* (default 0.7).
    pub wet_fraction: f64,
    /// How many days of daily rain are used (default 15).
    pub days: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self { k: 0.85, wm_mm: 100.0, dry_fraction: 0.3, wet_fraction: 0.7, days: 15 }
    }
}

/// Thresholds of one soil-moisture depth, percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthThresholds {
    /// The measuring depth, cm (10, 20, 30, 40, 50, 60, 80, 100).
    pub depth_cm: u16,
    /// Dry when the moisture is below this, %.
    pub dry_below_pct: f64,
    /// Wet when the moisture is above this, %.
    pub wet_above_pct: f64,
}

/// The soil-moisture settings: the depths that count and their thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoistureConfig {
    pub depths: Vec<DepthThresholds>,
}

/// How a watershed or village judges its soil.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum SoilConfig {
    /// From recent daily rain (前期影响雨量).
    Api(ApiConfig),
    /// From soil-moisture stations (土壤含水量).
    Moisture(MoistureConfig),
}

/// What the soil is judged from; a method reads only its own part.
#[derive(Debug, Clone, Copy, Default)]
pub struct SoilInputs<'a> {
    /// Daily rain totals in mm, oldest first, the last being the day just ended; `None` for a
    /// day with no data (counted as no rain, and reported).
    pub daily_rain_mm: &'a [Option<f64>],
    /// The latest soil moisture by depth: (depth in cm, %).
    pub moisture: &'a [(u16, f64)],
}

/// Why the soil state could not be judged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SoilError {
    #[error("k must be between 0 and 1 (exclusive), got {0}")]
    K(f64),
    #[error("wm_mm must be a positive number of mm, got {0}")]
    Wm(f64),
    #[error("the fractions must satisfy 0 ≤ dry_fraction ≤ wet_fraction ≤ 1, got dry {dry} and wet {wet}")]
    Fractions { dry: f64, wet: f64 },
    #[error("days must be 1–365, got {0}")]
    Days(u32),
    #[error("no daily rain given: the index needs at least one day")]
    NoDailyRain,
    #[error("daily rain of day {day} (1 = oldest given) is not a non-negative number of mm: {value}")]
    DailyRain { day: usize, value: f64 },
    #[error("no depths configured for soil moisture")]
    NoDepths,
    #[error("depth {depth_cm} cm is configured twice")]
    DuplicateDepth { depth_cm: u16 },
    #[error(
        "depth {depth_cm} cm: thresholds must satisfy 0 ≤ dry_below_pct ≤ wet_above_pct ≤ 100, got {dry} and {wet}"
    )]
    DepthThresholds { depth_cm: u16, dry: f64, wet: f64 },
    #[error("soil moisture at {depth_cm} cm is not a percentage: {value}")]
    MoistureValue { depth_cm: u16, value: f64 },
    #[error("no reading for any configured depth ({configured:?} cm)")]
    NoReadings { configured: Vec<u16> },
}

/// The state of one depth in a [`SoilExplanation::Moisture`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepthState {
    pub depth_cm: u16,
    pub pct: f64,
    pub dry_below_pct: f64,
    pub wet_above_pct: f64,
    pub state: SoilState,
}

/// The figures behind a soil state, for the village page and the warning trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum SoilExplanation {
    Api {
        /// The index at the start of the present day, mm.
        pa_mm: f64,
        wm_mm: f64,
        /// Dry below this many mm (`dry_fraction · Wm`).
        dry_below_mm: f64,
        /// Wet above this many mm (`wet_fraction · Wm`).
        wet_above_mm: f64,
        /// Days of rain used (the last `days` of those given).
        days_used: usize,
        /// Of those, days with no data (counted as no rain).
        days_missing: usize,
    },
    Moisture {
        /// Each configured depth with a reading, in configured order.
        depths: Vec<DepthState>,
        /// Configured depths without a reading.
        missing_depths: Vec<u16>,
    },
}

/// A soil state and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoilAssessment {
    pub state: SoilState,
    pub explanation: SoilExplanation,
}

impl ApiConfig {
    pub fn validate(&self) -> Result<(), SoilError> {
        if !(self.k.is_finite() && self.k > 0.0 && self.k < 1.0) {
            return Err(SoilError::K(self.k));
        }
        if !(self.wm_mm.is_finite() && self.wm_mm > 0.0) {
            return Err(SoilError::Wm(self.wm_mm));
        }
        let (dry, wet) = (self.dry_fraction, self.wet_fraction);
        if !(dry.is_finite() && wet.is_finite() && 0.0 <= dry && dry <= wet && wet <= 1.0) {
            return Err(SoilError::Fractions { dry, wet });
        }
        if !(1..=365).contains(&self.days) {
            return Err(SoilError::Days(self.days));
        }
        Ok(())
    }
}

impl MoistureConfig {
    pub fn validate(&self) -> Result<(), SoilError> {
        if self.depths.is_empty() {
            return Err(SoilError::NoDepths);
        }
        for (i, d) in self.depths.iter().enumerate() {
            if self.depths[..i].iter().any(|e| e.depth_cm == d.depth_cm) {
                return Err(SoilError::DuplicateDepth { depth_cm: d.depth_cm });
            }
            let (dry, wet) = (d.dry_below_pct, d.wet_above_pct);
            if !(dry.is_finite() && wet.is_finite() && 0.0 <= dry && dry <= wet && wet <= 100.0) {
                return Err(SoilError::DepthThresholds { depth_cm: d.depth_cm, dry, wet });
            }
        }
        Ok(())
    }
}

impl SoilConfig {
    pub fn validate(&self) -> Result<(), SoilError> {
        match self {
            SoilConfig::Api(c) => c.validate(),
            SoilConfig::Moisture(c) => c.validate(),
        }
    }
}

/// The antecedent precipitation index after the given daily rain (oldest first), mm: the
/// recursion `Pa ← min(k · (Pa + P), Wm)` from zero. Checks the settings and the totals.
pub fn antecedent_index(config: &ApiConfig, daily_rain_mm: &[Option<f64>]) -> Result<f64, SoilError> {
    config.validate()?;
    let mut pa = 0.0f64;
    for (i, p) in daily_rain_mm.iter().enumerate() {
        let p = match p {
            Some(p) if p.is_finite() && *p >= 0.0 => *p,
            Some(p) => return Err(SoilError::DailyRain { day: i + 1, value: *p }),
            None => 0.0,
        };
        pa = (config.k * (pa + p)).min(config.wm_mm);
    }
    Ok(pa)
}

/// Daily totals from the rain engine ([`crate::rain::RainSeries::daily_totals`]) as the index
/// reads them: a complete day is its rain; an incomplete day with rain counts what is known (a
/// lower bound); an incomplete day with none is unknown (`None`).
pub fn daily_rain(days: &[Accumulation]) -> Vec<Option<f64>> {
    days.iter().map(|d| (d.complete || d.mm > 0.0).then_some(d.mm)).collect()
}

/// Judge the soil by the configured method.
pub fn soil_state(config: &SoilConfig, inputs: &SoilInputs<'_>) -> Result<SoilAssessment, SoilError> {
    match config {
        SoilConfig::Api(c) => by_index(c, inputs.daily_rain_mm),
        SoilConfig::Moisture(c) => by_moisture(c, inputs.moisture),
    }
}

fn by_index(config: &ApiConfig, daily: &[Option<f64>]) -> Result<SoilAssessment, SoilError> {
    config.validate()?;
    if daily.is_empty() {
        return Err(SoilError::NoDailyRain);
    }
    let skip = daily.len().saturating_sub(config.days as usize);
    let used = &daily[skip..];
    // Report a bad total by its position in what the caller gave.
    let pa = antecedent_index(config, used).map_err(|e| match e {
        SoilError::DailyRain { day, value } => SoilError::DailyRain { day: day + skip, value },
        e => e,
    })?;
    let dry_below_mm = config.dry_fraction * config.wm_mm;
    let wet_above_mm = config.wet_fraction * config.wm_mm;
    let state = if pa < dry_below_mm {
        SoilState::Dry
    } else if pa > wet_above_mm {
        SoilState::Wet
    } else {
        SoilState::Normal
    };
    Ok(SoilAssessment {
        state,
        explanation: SoilExplanation::Api {
            pa_mm: pa,
            wm_mm: config.wm_mm,
            dry_below_mm,
            wet_above_mm,
            days_used: used.len(),
            days_missing: used.iter().filter(|d| d.is_none()).count(),
        },
    })
}

fn by_moisture(config: &MoistureConfig, readings: &[(u16, f64)]) -> Result<SoilAssessment, SoilError> {
    config.validate()?;
    let mut depths = Vec::new();
    let mut missing_depths = Vec::new();
    for t in &config.depths {
        // The last reading given for a depth stands.
        let Some(&(_, pct)) = readings.iter().rev().find(|(d, _)| *d == t.depth_cm) else {
            missing_depths.push(t.depth_cm);
            continue;
        };
        if !(pct.is_finite() && (0.0..=100.0).contains(&pct)) {
            return Err(SoilError::MoistureValue { depth_cm: t.depth_cm, value: pct });
        }
        let state = if pct < t.dry_below_pct {
            SoilState::Dry
        } else if pct > t.wet_above_pct {
            SoilState::Wet
        } else {
            SoilState::Normal
        };
        depths.push(DepthState {
            depth_cm: t.depth_cm,
            pct,
            dry_below_pct: t.dry_below_pct,
            wet_above_pct: t.wet_above_pct,
            state,
        });
    }
    let Some(state) = depths.iter().map(|d| d.state).max() else {
        return Err(SoilError::NoReadings { configured: config.depths.iter().map(|d| d.depth_cm).collect() });
    };
    Ok(SoilAssessment { state, explanation: SoilExplanation::Moisture { depths, missing_depths } })
}

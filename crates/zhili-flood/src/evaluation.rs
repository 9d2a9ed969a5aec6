//! The evaluation behind the warnings (预警研判): what the network's latest values mean for each
//! village at risk, on every new value.
//!
//! An [`Engine`] holds, per station, its rain ([`RainSeries`]), its recent levels and its
//! latest soil moisture, and, per village, the village record, its rainfall indicators and the
//! control sections that protect it. [`Engine::observe`] takes stored observations (only those
//! of [`Quality::Good`] or [`Quality::Manual`]: suspect values are kept out of warnings) and
//! says which villages they concern; [`Engine::assess`] judges one village at a time:
//!
//! - **Rain.** For each window of the village's indicators, the accumulation ending at the
//!   time asked, the largest over the village's representative stations that measure rain
//!   (the station is named in the trigger).
//! - **Soil.** The antecedent soil state selects the thresholds: from the antecedent
//!   precipitation index of the first representative rain station whose daily totals are all
//!   known (hydrological day 08:00–08:00 Beijing time, i.e. UTC midnight) or from soil-moisture
//!   readings, as configured; [`EngineConfig::default_soil`] when nothing can judge (no method
//!   configured, too little history).
//! - **Level.** Each control section protecting the village: the level station's latest
//!   accepted level and its rate of rise ([`level_trend`]) against the section's indicators.
//!   Only sections of the same warning scheme as the village's rain indicators count.
//! - **Verdict.** The highest grade reached by any of them, with what reached it
//!   ([`Trigger`]); when nothing reaches the lowest grade the village is **quiet**, which the
//!   warning lifecycle counts towards its lift.
//!
//! [`Engine::raise`] turns a verdict into the [`Raise`] the lifecycle opens or upgrades a warning
//! with (recipients from the village's responsible persons, public channels from its remote
//! warning facilities). Nothing here reads a clock, stores or sends.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;
use zhili_core::codes::DivisionCode;

use crate::indicator::{evaluate_level, evaluate_rain, LevelExceedance, LevelMeasure, RainIndicators};
use crate::level::{level_trend, LevelConfig, LevelConfigError, LevelObservation};
use crate::model::{ControlSection, FacilityKind, SectionCode, Village};
use crate::rain::{RainConfig, RainConfigError, RainSeries};
use crate::soil::{daily_rain, soil_state, SoilConfig, SoilError, SoilInputs};
use crate::store::{Observation, Quality};
use crate::vocab::{Channel, Element, Grade, Scheme, SoilState, StationCode, Window};
use crate::warning::{Raise, Recipient, Trigger};

/// How long level readings are kept behind a station's newest one, hours: the longest span a
/// rate of rise is fitted over is far shorter.
const LEVEL_RETENTION_HOURS: i64 = 24;

/// The engine's settings (one deployment).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Rain accumulation settings of every station.
    pub rain: RainConfig,
    /// How the soil state is judged; `None` (the default): always
    /// [`EngineConfig::default_soil`]. With the antecedent precipitation index, every one of
    /// its days must be known at the station (so `rain.retention_minutes` must cover them);
    /// a station with unknown days does not judge.
    pub soil: Option<SoilConfig>,
    /// The soil state used when it cannot be judged.
    pub default_soil: SoilState,
    /// Level trend settings of every level station.
    pub level: LevelConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            rain: RainConfig::default(),
            soil: None,
            default_soil: SoilState::Normal,
            level: LevelConfig::default(),
        }
    }
}

/// Why an [`EngineConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineConfigError {
    /// `rain`: the rain settings.
    #[error("rain: {0}")]
    Rain(#[from] RainConfigError),
    /// `soil`: the soil settings.
    #[error("soil: {0}")]
    Soil(#[from] SoilError),
    /// `level`: the level settings.
    #[error("level: {0}")]
    Level(#[from] LevelConfigError),
}

impl EngineConfig {
    /// Check every part.
    pub fn validate(&self) -> Result<(), EngineConfigError> {
        self.rain.validate()?;
        if let Some(soil) = &self.soil {
            soil.validate()?;
        }
        self.level.validate()?;
        Ok(())
    }
}

/// One station's state in the engine.
#[derive(Debug, Clone)]
struct StationState {
    rain: RainSeries,
    /// Level readings by time (the latest value for a time wins: a correction replaces).
    levels: BTreeMap<DateTime<Utc>, f64>,
    /// Latest soil moisture by depth: (time, %).
    moisture: BTreeMap<u16, (DateTime<Utc>, f64)>,
    /// The newest observation time of any element.
    newest: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct VillageEntry {
    village: Village,
    indicators: Option<RainIndicators>,
    sections: BTreeSet<SectionCode>,
}

/// What [`Engine::observe`] did with a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Values taken in.
    pub used: usize,
    /// Suspect values and elements the engine does not use (voltage, status, discharge).
    pub ignored: usize,
    /// Values refused by the rain series (off the 5-minute grid, older than its retention).
    pub refused: usize,
    /// Villages whose stations had new values: to be assessed.
    pub villages: BTreeSet<DivisionCode>,
}

/// One window's rain for a village: the largest over its representative stations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowRain {
    /// The window.
    pub window: Window,
    /// Rain, mm.
    pub mm: f64,
    /// Whether every 5 minutes of the window are known at that station.
    pub complete: bool,
    /// The station it is from (`None` when no representative station has rain).
    pub station: Option<StationCode>,
    /// The lowest threshold of the window for the soil state, mm (`None` without indicators).
    pub lowest_threshold_mm: Option<f64>,
}

/// One control section's state for a village.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionState {
    /// The section.
    pub section: SectionCode,
    /// Its name.
    pub name: String,
    /// Latest accepted level, m.
    pub level_m: Option<f64>,
    /// Rate of rise, m/h.
    pub rise_m_per_h: Option<f64>,
    /// What the level or its rise reached.
    pub exceedance: Option<LevelExceedance>,
}

/// A village judged at a time (村落预警研判结果).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// The village.
    pub village: DivisionCode,
    /// The time judged.
    pub at: DateTime<Utc>,
    /// The soil state that selected the thresholds.
    pub soil: SoilState,
    /// Whether the soil state was judged (false: the default was used).
    pub soil_judged: bool,
    /// Rain per window of the indicators (the standard windows when the village has none).
    pub rain: Vec<WindowRain>,
    /// The control sections protecting the village.
    pub sections: Vec<SectionState>,
    /// The highest grade reached and what reached it; `None` when quiet.
    pub verdict: Option<(Grade, Trigger)>,
}

impl Assessment {
    /// Nothing reaches the lowest grade (雨量回落): counts towards the lift.
    pub fn quiet(&self) -> bool {
        self.verdict.is_none()
    }
}

/// The evaluation state of a network. See the module documentation.
#[derive(Debug, Clone)]
pub struct Engine {
    config: EngineConfig,
    stations: HashMap<StationCode, StationState>,
    villages: BTreeMap<DivisionCode, VillageEntry>,
    sections: BTreeMap<SectionCode, ControlSection>,
    /// Which villages each station's values concern (representative or section level station).
    watchers: HashMap<StationCode, BTreeSet<DivisionCode>>,
}

impl Engine {
    /// An engine with checked settings and no network.
    pub fn new(config: EngineConfig) -> Result<Engine, EngineConfigError> {
        config.validate()?;
        Ok(Engine {
            config,
            stations: HashMap::new(),
            villages: BTreeMap::new(),
            sections: BTreeMap::new(),
            watchers: HashMap::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Add or replace a village at risk and its rainfall indicators (`None`: no rain warnings
    /// for it, only level ones).
    pub fn set_village(&mut self, village: Village, indicators: Option<RainIndicators>) {
        let code = village.code.clone();
        let sections = match self.villages.remove(&code) {
            Some(old) => {
                self.unwatch(&code);
                old.sections
            }
            None => self.sections.values().filter(|s| s.villages.contains(&code)).map(|s| s.code.clone()).collect(),
        };
        for s in &village.stations {
            self.watchers.entry(s.clone()).or_default().insert(code.clone());
        }
        for s in &sections {
            if let Some(section) = self.sections.get(s) {
                self.watchers.entry(section.level_station.clone()).or_default().insert(code.clone());
            }
        }
        self.villages.insert(code, VillageEntry { village, indicators, sections });
    }

    /// Add or replace a control section; it protects the villages it lists that are (or later
    /// become) villages of the engine.
    pub fn set_section(&mut self, section: ControlSection) {
        if let Some(old) = self.sections.remove(&section.code) {
            for v in &old.villages {
                if let Some(entry) = self.villages.get_mut(v) {
                    entry.sections.remove(&old.code);
                }
            }
            self.rebuild_watchers();
        }
        for v in &section.villages {
            if let Some(entry) = self.villages.get_mut(v) {
                entry.sections.insert(section.code.clone());
                self.watchers.entry(section.level_station.clone()).or_default().insert(v.clone());
            }
        }
        self.sections.insert(section.code.clone(), section);
    }

    fn unwatch(&mut self, village: &DivisionCode) {
        for set in self.watchers.values_mut() {
            set.remove(village);
        }
    }

    fn rebuild_watchers(&mut self) {
        self.watchers.clear();
        for (code, entry) in &self.villages {
            for s in &entry.village.stations {
                self.watchers.entry(s.clone()).or_default().insert(code.clone());
            }
            for s in &entry.sections {
                if let Some(section) = self.sections.get(s) {
                    self.watchers.entry(section.level_station.clone()).or_default().insert(code.clone());
                }
            }
        }
    }

    /// One village of the engine.
    pub fn village(&self, code: &DivisionCode) -> Option<&Village> {
        self.villages.get(code).map(|e| &e.village)
    }

    /// The villages of the engine, by code.
    pub fn villages(&self) -> impl Iterator<Item = &Village> {
        self.villages.values().map(|e| &e.village)
    }

    /// Take stored observations in (any order; duplicates and corrections are fine).
    pub fn observe(&mut self, observations: &[Observation]) -> Observed {
        let mut out = Observed::default();
        for o in observations {
            if o.quality == Quality::Suspect || !o.value.is_finite() {
                out.ignored += 1;
                continue;
            }
            let used = match o.element {
                Element::RainIncrement { .. }
                | Element::RainCounter
                | Element::Level
                | Element::SoilMoisture { .. } => {
                    let state = match self.stations.get_mut(&o.station) {
                        Some(s) => s,
                        None => {
                            let Ok(rain) = RainSeries::new(self.config.rain.clone()) else {
                                out.refused += 1;
                                continue;
                            };
                            let fresh =
                                StationState { rain, levels: BTreeMap::new(), moisture: BTreeMap::new(), newest: None };
                            self.stations.entry(o.station.clone()).or_insert(fresh)
                        }
                    };
                    state.take(o)
                }
                _ => {
                    out.ignored += 1;
                    continue;
                }
            };
            if !used {
                out.refused += 1;
                continue;
            }
            out.used += 1;
            if let Some(villages) = self.watchers.get(&o.station) {
                out.villages.extend(villages.iter().cloned());
            }
        }
        out
    }

    /// The newest observation time of a station, if the engine has any of its values.
    pub fn station_newest(&self, station: &StationCode) -> Option<DateTime<Utc>> {
        self.stations.get(station).and_then(|s| s.newest)
    }

    /// A station's rain over each window, ending at `at` (`None` without rain values).
    pub fn station_rain(
        &self,
        station: &StationCode,
        windows: &[Window],
        at: DateTime<Utc>,
    ) -> Option<Vec<(Window, f64)>> {
        let s = self.stations.get(station)?;
        if s.rain.is_empty() {
            return None;
        }
        Some(s.rain.accumulations(windows, at).into_iter().map(|a| (a.window, a.mm)).collect())
    }

    /// Judge one village at `at`; `None` if it is not a village of the engine.
    pub fn assess(&self, village: &DivisionCode, at: DateTime<Utc>) -> Option<Assessment> {
        let entry = self.villages.get(village)?;
        let rain_stations: Vec<(&StationCode, &StationState)> = entry
            .village
            .stations
            .iter()
            .filter_map(|c| self.stations.get(c).map(|s| (c, s)))
            .filter(|(_, s)| !s.rain.is_empty())
            .collect();
        let (soil, soil_judged) = self.soil(&entry.village, at);
        let windows = match &entry.indicators {
            Some(i) => i.windows(),
            None => Window::STANDARD.to_vec(),
        };
        let mut rain: Vec<WindowRain> = windows
            .iter()
            .map(|w| WindowRain {
                window: *w,
                mm: 0.0,
                complete: false,
                station: None,
                lowest_threshold_mm: entry
                    .indicators
                    .as_ref()
                    .and_then(|i| i.grades_of(*w, soil))
                    .and_then(|g| g.first().copied()),
            })
            .collect();
        for (code, state) in &rain_stations {
            for (slot, acc) in rain.iter_mut().zip(state.rain.accumulations(&windows, at)) {
                if slot.station.is_none() || acc.mm > slot.mm {
                    slot.mm = acc.mm;
                    slot.complete = acc.complete;
                    slot.station = Some((*code).clone());
                }
            }
        }
        let mut verdict: Option<(Grade, Trigger)> = None;
        let mut consider = |grade: Grade, trigger: Trigger| {
            if verdict.as_ref().is_none_or(|(g, _)| grade.rank() > g.rank()) {
                verdict = Some((grade, trigger));
            }
        };
        let scheme = entry.indicators.as_ref().map(|i| i.scheme());
        if let Some(indicators) = &entry.indicators {
            let values: Vec<(Window, f64)> =
                rain.iter().filter(|r| r.station.is_some()).map(|r| (r.window, r.mm)).collect();
            if let Some(ex) = evaluate_rain(indicators, soil, &values) {
                // The shortest window that reached the highest grade tells the story.
                if let Some(c) = ex.crossings.iter().find(|c| c.grade == ex.grade) {
                    let station = rain.iter().find(|r| r.window == c.window).and_then(|r| r.station.clone());
                    consider(
                        ex.grade,
                        Trigger::Rain {
                            window: c.window,
                            value_mm: c.value,
                            threshold_mm: c.threshold,
                            station,
                            soil: Some(soil),
                        },
                    );
                }
            }
        }
        let mut sections = Vec::new();
        for code in &entry.sections {
            let Some(section) = self.sections.get(code) else { continue };
            let trend = self.stations.get(&section.level_station).and_then(|s| s.trend(at, &self.config.level));
            let level_m = trend.as_ref().and_then(|t| t.latest).map(|l| l.level_m);
            let rise = trend.as_ref().and_then(|t| t.rate_m_per_h);
            let exceedance = level_m.and_then(|l| evaluate_level(&section.indicators, l, rise));
            if let Some(ex) = &exceedance {
                if scheme.is_none_or(|s| s == section.indicators.scheme()) {
                    if let Some(c) = ex.crossings.iter().find(|c| c.grade == ex.grade) {
                        let trigger = match c.measure {
                            LevelMeasure::Level => Trigger::Level {
                                section: section.code.to_string(),
                                section_name: section.name.clone(),
                                value_m: c.value,
                                threshold_m: c.threshold,
                            },
                            LevelMeasure::Rise => Trigger::Rise {
                                section: section.code.to_string(),
                                section_name: section.name.clone(),
                                value_m_per_h: c.value,
                                threshold_m_per_h: c.threshold,
                            },
                        };
                        consider(ex.grade, trigger);
                    }
                }
            }
            sections.push(SectionState {
                section: section.code.clone(),
                name: section.name.clone(),
                level_m,
                rise_m_per_h: rise,
                exceedance,
            });
        }
        Some(Assessment { village: village.clone(), at, soil, soil_judged, rain, sections, verdict })
    }

    fn soil(&self, village: &Village, at: DateTime<Utc>) -> (SoilState, bool) {
        let Some(config) = &self.config.soil else { return (self.config.default_soil, false) };
        let days = match config {
            SoilConfig::Api(c) => c.days,
            SoilConfig::Moisture(_) => 0,
        };
        // The hydrological day ends at 08:00 Beijing time, 00:00 UTC.
        let day_end = at.duration_trunc(Duration::days(1)).unwrap_or(at);
        for code in &village.stations {
            let Some(s) = self.stations.get(code) else { continue };
            let daily = if days > 0 && !s.rain.is_empty() {
                daily_rain(&s.rain.daily_totals(day_end, days))
            } else {
                Vec::new()
            };
            if daily.iter().any(Option::is_none) {
                continue;
            }
            let moisture: Vec<(u16, f64)> = s.moisture.iter().map(|(d, (_, v))| (*d, *v)).collect();
            let inputs = SoilInputs { daily_rain_mm: &daily, moisture: &moisture };
            if let Ok(assessment) = soil_state(config, &inputs) {
                return (assessment.state, true);
            }
        }
        (self.config.default_soil, false)
    }

    /// The [`Raise`] for an assessment with a verdict (`None` when quiet or the village is not
    /// the engine's). `place` prefixes the village's name in messages (e.g. `博山区池上镇`).
    pub fn raise(&self, assessment: &Assessment, place: &str) -> Option<Raise> {
        let (grade, trigger) = assessment.verdict.clone()?;
        let village = &self.villages.get(&assessment.village)?.village;
        Some(Raise {
            village: village.code.clone(),
            village_name: format!("{place}{}", village.name),
            grade,
            trigger,
            recipients: recipients(village),
            public_channels: public_channels(village),
        })
    }

    /// The scheme of a village's rain indicators.
    pub fn scheme(&self, village: &DivisionCode) -> Option<Scheme> {
        self.villages.get(village)?.indicators.as_ref().map(|i| i.scheme())
    }
}

impl StationState {
    /// Take one value; false when the rain series refused it.
    fn take(&mut self, o: &Observation) -> bool {
        let ok = match o.element {
            Element::RainIncrement { .. } | Element::RainCounter => {
                matches!(
                    self.rain.insert(o.element, o.observed_at, o.value),
                    Ok(crate::rain::Inserted::New
                        | crate::rain::Inserted::Duplicate
                        | crate::rain::Inserted::Corrected { .. })
                )
            }
            Element::Level => {
                self.levels.insert(o.observed_at, o.value);
                let newest = self.levels.keys().next_back().copied().unwrap_or(o.observed_at);
                let horizon = newest - Duration::hours(LEVEL_RETENTION_HOURS);
                self.levels = self.levels.split_off(&horizon);
                true
            }
            Element::SoilMoisture { depth_cm } => {
                let slot = self.moisture.entry(depth_cm).or_insert((o.observed_at, o.value));
                if o.observed_at >= slot.0 {
                    *slot = (o.observed_at, o.value);
                }
                true
            }
            _ => false,
        };
        if ok {
            self.newest = Some(self.newest.map_or(o.observed_at, |n| n.max(o.observed_at)));
        }
        ok
    }

    fn trend(&self, at: DateTime<Utc>, config: &LevelConfig) -> Option<crate::level::LevelTrend> {
        if self.levels.is_empty() {
            return None;
        }
        let readings: Vec<LevelObservation> =
            self.levels.range(..=at).map(|(t, v)| LevelObservation { time: *t, level_m: *v }).collect();
        level_trend(&readings, at, config).ok()
    }
}

/// The recipient id of a village's responsible person: `user:<id>` for a person with an
/// account (acknowledged in the app), else `<village code>/<n>` (the n-th person, from 1).
pub fn recipient_id(village: &DivisionCode, index: usize, user_id: Option<i64>) -> String {
    match user_id {
        Some(id) => format!("user:{id}"),
        None => format!("{village}/{}", index + 1),
    }
}

/// The warning recipients of a village: its responsible persons with their channels.
pub fn recipients(village: &Village) -> Vec<Recipient> {
    village
        .persons
        .iter()
        .enumerate()
        .map(|(i, p)| Recipient {
            id: recipient_id(&village.code, i, p.user_id),
            name: p.name.clone(),
            tier: p.tier,
            channels: p.channels.clone(),
        })
        .collect()
}

/// The public channels a village's remote facilities give (broadcast, siren), in that order.
pub fn public_channels(village: &Village) -> Vec<Channel> {
    let mut out = Vec::new();
    for (kind, channel) in [(FacilityKind::Broadcast, Channel::Broadcast), (FacilityKind::Siren, Channel::Siren)] {
        if village.facilities.iter().any(|f| f.kind == kind) {
            out.push(channel);
        }
    }
    out
}

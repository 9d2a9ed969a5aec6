//! Warning indicators (预警指标): the rainfall thresholds of a village and the water-level
//! thresholds of a control section, and the pure evaluation of accumulations and levels
//! against them (flood.md "Indicators").
//!
//! # Rainfall
//!
//! A village's [`RainIndicators`] are in one [`Scheme`] and hold, for each accumulation window
//! it has (any of the five standard windows 1/3/6/12/24 h and any extra ones such as 30 min;
//! at least one — a set need not have all five standard windows, as neither published example
//! in flood.md does: [`RainIndicators::missing_standard_windows`] says which it lacks), for each of the three antecedent soil states, one threshold in mm per grade
//! of the scheme. A soil-independent set simply has the same values for all three states
//! ([`RainIndicators::soil_independent`]). The set is valid by construction
//! ([`RainIndicators::new`]), with these rules as errors:
//! - every threshold is more than 0 and less than 2000 mm;
//! - within a window and soil state a higher grade has a strictly higher threshold;
//! - for one window and grade, dry ≥ normal ≥ wet (wetter soil floods on less rain);
//! - every window has all three soil states and one value per grade.
//!
//! A longer window whose threshold is *below* a shorter window's for the same grade and soil
//! is only a **notice** ([`RainIndicators::notices`]), not an error: it is not contradictory —
//! any rain that crosses the shorter window's threshold also fills the longer window past its
//! lower threshold, so the shorter window's threshold can never be the first to raise that
//! grade. It is redundant and usually a typing slip, so an import shows it, but published
//! tables do contain such rows and refusing them would block a county's data.
//!
//! # Evaluation
//!
//! A value reaches a threshold when it is at least the threshold (`≥`, as the published
//! tables say "1 h ≥ 35 mm"). [`evaluate_rain`] and [`evaluate_level`] are pure: values in,
//! the highest grade reached and every window (or measure) that crossed out.

pub mod import;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zhili_core::codes::{DivisionCode, DivisionLevel};

use crate::model::FieldProblem;
use crate::vocab::{Grade, Scheme, SoilState, Window};

/// Thresholds are less than this, in mm.
pub const MAX_RAIN_MM: f64 = 2000.0;

/// The thresholds of one window and soil state: one value in mm per grade of the scheme,
/// lowest grade first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RainThreshold {
    /// The accumulation window.
    pub window: Window,
    /// The antecedent soil state.
    pub soil: SoilState,
    /// mm per grade, lowest grade first (准备转移, 立即转移 or 蓝, 黄, 橙, 红).
    pub mm: Vec<f64>,
}

/// Why a set of rainfall thresholds is not valid.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum IndicatorProblem {
    /// The village code is not a 12-digit village code.
    #[error("indicators belong to a village: {code} is not a 12-digit village code")]
    NotAVillage {
        /// The code given.
        code: String,
    },
    /// No thresholds at all.
    #[error("the set has no thresholds")]
    Empty,
    /// The same window and soil state twice.
    #[error("{} {}: given twice", .window.label(), .soil.zh())]
    Duplicate {
        /// Window.
        window: Window,
        /// Soil state.
        soil: SoilState,
    },
    /// A window lacks one of the three soil states.
    #[error("{}: no thresholds for soil state {} (give all three, or one row for all)", .window.label(), .soil.zh())]
    MissingSoil {
        /// Window.
        window: Window,
        /// The missing soil state.
        soil: SoilState,
    },
    /// Not one value per grade of the scheme.
    #[error("{} {}: {got} values for the {expected} grades of the scheme", .window.label(), .soil.zh())]
    GradeCount {
        /// Window.
        window: Window,
        /// Soil state.
        soil: SoilState,
        /// Grades of the scheme.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A threshold not in (0, 2000) mm.
    #[error("{} {} {}: {mm} mm must be more than 0 and less than 2000 mm", .window.label(), .soil.zh(), .grade.zh())]
    OutOfRange {
        /// Window.
        window: Window,
        /// Soil state.
        soil: SoilState,
        /// Grade.
        grade: Grade,
        /// The value.
        mm: f64,
    },
    /// A higher grade's threshold is not above the lower grade's.
    #[error("{} {}: {} {higher_mm} mm must be more than {} {lower_mm} mm", .window.label(), .soil.zh(), .higher.zh(), .lower.zh())]
    GradeOrder {
        /// Window.
        window: Window,
        /// Soil state.
        soil: SoilState,
        /// The lower grade.
        lower: Grade,
        /// Its threshold.
        lower_mm: f64,
        /// The higher grade.
        higher: Grade,
        /// Its threshold.
        higher_mm: f64,
    },
    /// A wetter soil state needs more rain than a drier one.
    #[error("{} {}: {} {wetter_mm} mm must not be more than {} {drier_mm} mm (wetter soil floods on less rain)", .window.label(), .grade.zh(), .wetter.zh(), .drier.zh())]
    SoilOrder {
        /// Window.
        window: Window,
        /// Grade.
        grade: Grade,
        /// The drier state.
        drier: SoilState,
        /// Its threshold.
        drier_mm: f64,
        /// The wetter state.
        wetter: SoilState,
        /// Its threshold.
        wetter_mm: f64,
    },
}

impl IndicatorProblem {
    /// The window and soil states the problem is about (to find the rows of an import).
    pub fn place(&self) -> Option<(Window, Vec<SoilState>)> {
        match self {
            IndicatorProblem::NotAVillage { .. } | IndicatorProblem::Empty => None,
            IndicatorProblem::MissingSoil { window, .. } => Some((*window, SoilState::ALL.to_vec())),
            IndicatorProblem::Duplicate { window, soil }
            | IndicatorProblem::GradeCount { window, soil, .. }
            | IndicatorProblem::OutOfRange { window, soil, .. }
            | IndicatorProblem::GradeOrder { window, soil, .. } => Some((*window, vec![*soil])),
            IndicatorProblem::SoilOrder { window, drier, wetter, .. } => Some((*window, vec![*drier, *wetter])),
        }
    }
}

/// Something odd but accepted in a set of rainfall thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum IndicatorNotice {
    /// A longer window's threshold is below a shorter window's: the shorter one can never be
    /// the first to raise this grade.
    #[error("{} {}: {} {longer_mm} mm is below {} {shorter_mm} mm, so the {} threshold never raises this grade first", .soil.zh(), .grade.zh(), .longer.label(), .shorter.label(), .shorter.label())]
    WindowOrder {
        /// Soil state.
        soil: SoilState,
        /// Grade.
        grade: Grade,
        /// The shorter window.
        shorter: Window,
        /// Its threshold.
        shorter_mm: f64,
        /// The longer window.
        longer: Window,
        /// Its threshold.
        longer_mm: f64,
    },
}

/// The rainfall indicators of one village (雨量预警指标), valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RainIndicatorsData", into = "RainIndicatorsData")]
pub struct RainIndicators {
    village: DivisionCode,
    scheme: Scheme,
    thresholds: BTreeMap<(Window, SoilState), Vec<f64>>,
}

/// The serialised form of [`RainIndicators`], checked on the way in.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RainIndicatorsData {
    village: DivisionCode,
    scheme: Scheme,
    thresholds: Vec<RainThreshold>,
}

impl TryFrom<RainIndicatorsData> for RainIndicators {
    type Error = String;
    fn try_from(d: RainIndicatorsData) -> Result<Self, String> {
        RainIndicators::new(d.village, d.scheme, d.thresholds)
            .map_err(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
    }
}

impl From<RainIndicators> for RainIndicatorsData {
    fn from(r: RainIndicators) -> Self {
        let thresholds = r.thresholds().collect();
        RainIndicatorsData { village: r.village, scheme: r.scheme, thresholds }
    }
}

impl RainIndicators {
    /// Build and check a set; every problem is listed (see the [module documentation](self)).
    pub fn new(
        village: DivisionCode,
        scheme: Scheme,
        thresholds: Vec<RainThreshold>,
    ) -> Result<RainIndicators, Vec<IndicatorProblem>> {
        let mut problems = Vec::new();
        if village.level() != DivisionLevel::Village {
            problems.push(IndicatorProblem::NotAVillage { code: village.to_string() });
        }
        if thresholds.is_empty() {
            problems.push(IndicatorProblem::Empty);
        }
        let grades = Grade::of(scheme);
        let mut map: BTreeMap<(Window, SoilState), Vec<f64>> = BTreeMap::new();
        for t in thresholds {
            if t.mm.len() != grades.len() {
                problems.push(IndicatorProblem::GradeCount {
                    window: t.window,
                    soil: t.soil,
                    expected: grades.len(),
                    got: t.mm.len(),
                });
                continue;
            }
            for (grade, mm) in grades.iter().zip(&t.mm) {
                if !(mm.is_finite() && *mm > 0.0 && *mm < MAX_RAIN_MM) {
                    problems.push(IndicatorProblem::OutOfRange {
                        window: t.window,
                        soil: t.soil,
                        grade: *grade,
                        mm: *mm,
                    });
                }
            }
            for (i, pair) in t.mm.windows(2).enumerate() {
                if pair[1].partial_cmp(&pair[0]) != Some(std::cmp::Ordering::Greater) {
                    problems.push(IndicatorProblem::GradeOrder {
                        window: t.window,
                        soil: t.soil,
                        lower: grades[i],
                        lower_mm: pair[0],
                        higher: grades[i + 1],
                        higher_mm: pair[1],
                    });
                }
            }
            if map.insert((t.window, t.soil), t.mm).is_some() {
                problems.push(IndicatorProblem::Duplicate { window: t.window, soil: t.soil });
            }
        }
        let windows: Vec<Window> = {
            let mut w: Vec<Window> = map.keys().map(|(w, _)| *w).collect();
            w.dedup();
            w
        };
        for window in windows {
            for soil in SoilState::ALL {
                if !map.contains_key(&(window, soil)) {
                    problems.push(IndicatorProblem::MissingSoil { window, soil });
                }
            }
            for (g, grade) in grades.iter().enumerate() {
                for pair in SoilState::ALL.windows(2) {
                    let (Some(drier), Some(wetter)) = (map.get(&(window, pair[0])), map.get(&(window, pair[1]))) else {
                        continue;
                    };
                    let (Some(d), Some(w)) = (drier.get(g), wetter.get(g)) else { continue };
                    if w > d {
                        problems.push(IndicatorProblem::SoilOrder {
                            window,
                            grade: *grade,
                            drier: pair[0],
                            drier_mm: *d,
                            wetter: pair[1],
                            wetter_mm: *w,
                        });
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(RainIndicators { village, scheme, thresholds: map })
        } else {
            Err(problems)
        }
    }

    /// The village.
    pub fn village(&self) -> &DivisionCode {
        &self.village
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The windows, shortest first.
    pub fn windows(&self) -> Vec<Window> {
        let mut w: Vec<Window> = self.thresholds.keys().map(|(w, _)| *w).collect();
        w.dedup();
        w
    }

    /// The standard windows (1, 3, 6, 12, 24 h) the set has no thresholds for, shortest first.
    /// A set need not have all five (the published examples do not); a form or the village
    /// page shows these as not configured.
    pub fn missing_standard_windows(&self) -> Vec<Window> {
        let have = self.windows();
        Window::STANDARD.into_iter().filter(|w| !have.contains(w)).collect()
    }

    /// The threshold of a window, soil state and grade, in mm; `None` if the window is not in
    /// the set or the grade is of the other scheme.
    pub fn threshold(&self, window: Window, soil: SoilState, grade: Grade) -> Option<f64> {
        if grade.scheme() != self.scheme {
            return None;
        }
        self.thresholds.get(&(window, soil))?.get(usize::from(grade.rank()) - 1).copied()
    }

    /// The thresholds of one window and soil state, lowest grade first.
    pub fn grades_of(&self, window: Window, soil: SoilState) -> Option<&[f64]> {
        self.thresholds.get(&(window, soil)).map(Vec::as_slice)
    }

    /// Every (window, soil state) with its values, by window then soil state (dry first).
    pub fn thresholds(&self) -> impl Iterator<Item = RainThreshold> + '_ {
        self.thresholds.iter().map(|((window, soil), mm)| RainThreshold {
            window: *window,
            soil: *soil,
            mm: mm.clone(),
        })
    }

    /// Whether the window's values are the same for all three soil states.
    pub fn window_soil_independent(&self, window: Window) -> bool {
        let first = self.thresholds.get(&(window, SoilState::Dry));
        first.is_some() && SoilState::ALL.iter().all(|s| self.thresholds.get(&(window, *s)) == first)
    }

    /// Whether every window's values are the same for all three soil states.
    pub fn soil_independent(&self) -> bool {
        self.windows().into_iter().all(|w| self.window_soil_independent(w))
    }

    /// The odd but accepted features of the set (see the [module documentation](self)).
    pub fn notices(&self) -> Vec<IndicatorNotice> {
        let mut out = Vec::new();
        let windows = self.windows();
        for soil in SoilState::ALL {
            for grade in Grade::of(self.scheme) {
                for (i, shorter) in windows.iter().enumerate() {
                    let Some(s) = self.threshold(*shorter, soil, *grade) else { continue };
                    for longer in &windows[i + 1..] {
                        let Some(l) = self.threshold(*longer, soil, *grade) else { continue };
                        if l < s {
                            out.push(IndicatorNotice::WindowOrder {
                                soil,
                                grade: *grade,
                                shorter: *shorter,
                                shorter_mm: s,
                                longer: *longer,
                                longer_mm: l,
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

/// A window that crossed a threshold: the highest grade it reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RainCrossing {
    /// The window.
    pub window: Window,
    /// The accumulation, mm.
    pub value: f64,
    /// The highest grade this window reached.
    pub grade: Grade,
    /// That grade's threshold, mm.
    pub threshold: f64,
}

/// What a village's accumulations reached (雨量超指标).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RainExceedance {
    /// The highest grade any window reached.
    pub grade: Grade,
    /// Every window that reached a grade, shortest window first.
    pub crossings: Vec<RainCrossing>,
}

/// Evaluate accumulations (window, mm) against a village's thresholds for the current soil
/// state: the highest grade reached and every window that reached one, or `None` when no
/// window reaches the lowest grade. Windows the set does not have, and values that are not
/// finite, are ignored; when a window is given twice the larger value counts.
pub fn evaluate_rain(
    indicators: &RainIndicators,
    soil: SoilState,
    accumulations: &[(Window, f64)],
) -> Option<RainExceedance> {
    let mut by_window: BTreeMap<Window, f64> = BTreeMap::new();
    for (window, value) in accumulations {
        if value.is_finite() {
            let v = by_window.entry(*window).or_insert(*value);
            *v = v.max(*value);
        }
    }
    let mut crossings = Vec::new();
    for (window, value) in by_window {
        let Some(mm) = indicators.grades_of(window, soil) else { continue };
        let reached = Grade::of(indicators.scheme()).iter().zip(mm).rfind(|(_, t)| value >= **t);
        if let Some((grade, threshold)) = reached {
            crossings.push(RainCrossing { window, value, grade: *grade, threshold: *threshold });
        }
    }
    let grade = crossings.iter().map(|c| c.grade).max_by_key(|g| g.rank())?;
    Some(RainExceedance { grade, crossings })
}

// ---------------------------------------------------------------------------------------------
// Water level
// ---------------------------------------------------------------------------------------------

/// The water-level indicators of a control section (水位预警指标), valid by construction: a
/// level per grade (m, in the level station's datum), strictly rising with the grade, and
/// optionally a rate of rise per grade (m/h, each optional; those given are more than 0,
/// at most 10 m/h and do not fall with the grade).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LevelIndicatorsData", into = "LevelIndicatorsData")]
pub struct LevelIndicators {
    scheme: Scheme,
    levels: Vec<f64>,
    rise_m_per_h: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LevelIndicatorsData {
    scheme: Scheme,
    levels: Vec<f64>,
    #[serde(default)]
    rise_m_per_h: Vec<Option<f64>>,
}

impl TryFrom<LevelIndicatorsData> for LevelIndicators {
    type Error = String;
    fn try_from(d: LevelIndicatorsData) -> Result<Self, String> {
        LevelIndicators::new(d.scheme, d.levels, d.rise_m_per_h)
            .map_err(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
    }
}

impl From<LevelIndicators> for LevelIndicatorsData {
    fn from(l: LevelIndicators) -> Self {
        LevelIndicatorsData { scheme: l.scheme, levels: l.levels, rise_m_per_h: l.rise_m_per_h }
    }
}

/// Most rate of rise a threshold may name, m/h.
pub const MAX_RISE_M_PER_H: f64 = 10.0;

impl LevelIndicators {
    /// Build and check: `levels` one per grade of `scheme`, lowest first; `rise_m_per_h`
    /// empty (no rise indicators) or one (optional) per grade.
    pub fn new(
        scheme: Scheme,
        levels: Vec<f64>,
        rise_m_per_h: Vec<Option<f64>>,
    ) -> Result<LevelIndicators, Vec<FieldProblem>> {
        let grades = Grade::of(scheme);
        let mut problems = Vec::new();
        let count = |what: &str, n: usize| {
            FieldProblem::new(what, format!("{n} values"), format!("one per grade of the scheme: {}", grades.len()))
        };
        if levels.len() != grades.len() {
            problems.push(count("levels", levels.len()));
        }
        if !rise_m_per_h.is_empty() && rise_m_per_h.len() != grades.len() {
            problems.push(count("rise_m_per_h", rise_m_per_h.len()));
        }
        for (grade, level) in grades.iter().zip(&levels) {
            if !(level.is_finite() && (-500.0..=9000.0).contains(level)) {
                problems.push(FieldProblem::new(
                    format!("levels.{}", grade.as_str()),
                    level,
                    "a level is a number from -500 to 9000 m",
                ));
            }
        }
        for (i, pair) in levels.windows(2).enumerate() {
            if pair[1].partial_cmp(&pair[0]) != Some(std::cmp::Ordering::Greater) {
                problems.push(FieldProblem::new(
                    format!("levels.{}", grades[i + 1].as_str()),
                    pair[1],
                    format!("must be above the {} level {} m", grades[i].zh(), pair[0]),
                ));
            }
        }
        let mut last: Option<(Grade, f64)> = None;
        for (grade, rise) in grades.iter().zip(&rise_m_per_h) {
            let Some(r) = rise else { continue };
            let field = format!("rise_m_per_h.{}", grade.as_str());
            if !(r.is_finite() && *r > 0.0 && *r <= MAX_RISE_M_PER_H) {
                problems.push(FieldProblem::new(field, r, "a rate of rise is more than 0 and at most 10 m/h"));
                continue;
            }
            if let Some((g, l)) = last {
                if *r < l {
                    problems.push(FieldProblem::new(
                        field,
                        r,
                        format!("must not be below the {} rate {l} m/h", g.zh()),
                    ));
                }
            }
            last = Some((*grade, *r));
        }
        if problems.is_empty() {
            Ok(LevelIndicators { scheme, levels, rise_m_per_h })
        } else {
            Err(problems)
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Each grade with its level, lowest first.
    pub fn levels(&self) -> impl Iterator<Item = (Grade, f64)> + '_ {
        Grade::of(self.scheme).iter().copied().zip(self.levels.iter().copied())
    }

    /// Each grade that has a rate-of-rise threshold, with it, lowest first.
    pub fn rises(&self) -> impl Iterator<Item = (Grade, f64)> + '_ {
        Grade::of(self.scheme).iter().copied().zip(self.rise_m_per_h.iter()).filter_map(|(g, r)| r.map(|r| (g, r)))
    }

    /// The level of a grade, m.
    pub fn level(&self, grade: Grade) -> Option<f64> {
        self.levels().find(|(g, _)| *g == grade).map(|(_, l)| l)
    }
}

/// What crossed a level indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelMeasure {
    /// The water level, m.
    Level,
    /// The rate of rise, m/h.
    Rise,
}

/// One measure that reached a grade: the highest it reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelCrossing {
    /// Level or rate of rise.
    pub measure: LevelMeasure,
    /// The value (m or m/h).
    pub value: f64,
    /// The highest grade it reached.
    pub grade: Grade,
    /// That grade's threshold.
    pub threshold: f64,
}

/// What a control section's level reached (水位超指标).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelExceedance {
    /// The highest grade reached.
    pub grade: Grade,
    /// The level first, then the rate of rise, each when it reached a grade.
    pub crossings: Vec<LevelCrossing>,
}

/// Evaluate the current level (m) and, when known, its rate of rise (m/h) against a
/// section's indicators; `None` when neither reaches the lowest grade. Values that are not
/// finite are ignored.
pub fn evaluate_level(indicators: &LevelIndicators, level: f64, rise_m_per_h: Option<f64>) -> Option<LevelExceedance> {
    let highest = |value: f64, thresholds: Vec<(Grade, f64)>| {
        thresholds.into_iter().rfind(|(_, t)| value.is_finite() && value >= *t)
    };
    let mut crossings = Vec::new();
    if let Some((grade, threshold)) = highest(level, indicators.levels().collect()) {
        crossings.push(LevelCrossing { measure: LevelMeasure::Level, value: level, grade, threshold });
    }
    if let Some(rise) = rise_m_per_h {
        if let Some((grade, threshold)) = highest(rise, indicators.rises().collect()) {
            crossings.push(LevelCrossing { measure: LevelMeasure::Rise, value: rise, grade, threshold });
        }
    }
    let grade = crossings.iter().map(|c| c.grade).max_by_key(|g| g.rank())?;
    Some(LevelExceedance { grade, crossings })
}

//! The evaluation figures (考核指标) of the closed loop, as national practice defines them.
//!
//! A case counts in the period in which it was reported. Each figure is a count over cases, so
//! tallies add up: a grid's tally is the sum of its children's, a year's the sum of its months'.
//!
//! - 立案数 `filed`: cases filed (voided reports are not).
//! - 派遣数 `dispatched`: cases dispatched at least once.
//! - 应结案数 `due`: dispatched cases that are closed, or whose handling deadline has passed by
//!   the evaluation instant (the end of the period, or now if earlier).
//! - 结案数 `closed`: cases closed (closed or evaluated).
//! - 按期结案数 `closed_on_time`: closed cases whose department reported back within the
//!   handling limit (extensions included).
//! - 返工数 `reworked`, 延期数 `extended`, 缓办数 `deferred`: cases reworked, extended, deferred
//!   at least once.
//! - 准确派遣数 `dispatched_right`: dispatched cases never returned by a department.
//! - 结案率 = 结案数 / (应结案数 − 缓办数); 按期结案率 = 按期结案数 / (应结案数 − 缓办数);
//!   返工率 = 返工数 / 派遣数; 延期率 = 延期数 / 派遣数; 准确派遣率 = 准确派遣数 / 派遣数.
//! - Average handling time: from the first dispatch to closing, in hours of natural time.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Case, CaseFilter};
use crate::workflow::CaseState;

/// Counts over a set of cases; every field adds up across sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Cases reported.
    pub reported: i64,
    /// 立案数.
    pub filed: i64,
    /// 派遣数.
    pub dispatched: i64,
    /// 应结案数.
    pub due: i64,
    /// 结案数.
    pub closed: i64,
    /// 按期结案数.
    pub closed_on_time: i64,
    /// 返工数.
    pub reworked: i64,
    /// 延期数.
    pub extended: i64,
    /// 缓办数.
    pub deferred: i64,
    /// 准确派遣数.
    pub dispatched_right: i64,
    /// Sum over closed cases of the seconds from first dispatch to closing.
    pub handling_seconds: f64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.reported += o.reported;
        self.filed += o.filed;
        self.dispatched += o.dispatched;
        self.due += o.due;
        self.closed += o.closed;
        self.closed_on_time += o.closed_on_time;
        self.reworked += o.reworked;
        self.extended += o.extended;
        self.deferred += o.deferred;
        self.dispatched_right += o.dispatched_right;
        self.handling_seconds += o.handling_seconds;
    }
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

impl Tally {
    /// One case's contribution, evaluated at `due_at` (the definition every store's SQL
    /// follows).
    pub fn of(case: &Case, due_at: DateTime<Utc>) -> Tally {
        let n = &case.status.counters;
        let closed = matches!(case.status.state, CaseState::Closed | CaseState::Evaluated);
        let dispatched = case.dispatched_at.is_some();
        let past_deadline = case.clock.handle_deadline.is_some_and(|d| d <= due_at);
        let handling = match (closed, case.dispatched_at, case.closed_at) {
            (true, Some(d), Some(c)) => (c - d).num_microseconds().unwrap_or(0) as f64 / 1e6,
            _ => 0.0,
        };
        Tally {
            reported: 1,
            filed: i64::from(case.filed_at.is_some()),
            dispatched: i64::from(dispatched),
            due: i64::from(dispatched && (case.closed_at.is_some() || past_deadline)),
            closed: i64::from(closed),
            closed_on_time: i64::from(closed && case.handled_on_time == Some(true)),
            reworked: i64::from(n.reworks > 0),
            extended: i64::from(n.extensions > 0),
            deferred: i64::from(n.deferrals > 0),
            dispatched_right: i64::from(dispatched && n.returns == 0),
            handling_seconds: handling,
        }
    }
}

/// The rates derived from a tally (`None` where the denominator is zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// 结案率.
    pub closure_rate: Option<f64>,
    /// 按期结案率.
    pub on_time_rate: Option<f64>,
    /// 返工率.
    pub rework_rate: Option<f64>,
    /// 延期率.
    pub extension_rate: Option<f64>,
    /// 准确派遣率.
    pub accurate_dispatch_rate: Option<f64>,
    /// Average handling time, hours.
    pub avg_handling_hours: Option<f64>,
}

impl Tally {
    /// The rates.
    pub fn rates(&self) -> Rates {
        let base = self.due - self.deferred;
        Rates {
            closure_rate: ratio(self.closed, base),
            on_time_rate: ratio(self.closed_on_time, base),
            rework_rate: ratio(self.reworked, self.dispatched),
            extension_rate: ratio(self.extended, self.dispatched),
            accurate_dispatch_rate: ratio(self.dispatched_right, self.dispatched),
            avg_handling_hours: (self.closed > 0).then(|| self.handling_seconds / self.closed as f64 / 3600.0),
        }
    }
}

/// What figures are grouped by (统计维度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One total.
    None,
    /// Department dispatched to.
    Department,
    /// Township/street (乡镇街道).
    Township,
    /// Village/community.
    Village,
    /// Finest grid (coarser levels are sums of these).
    Grid,
    /// Minor class.
    Class,
    /// Major class.
    Major,
    /// Reporting user (e.g. each grid worker).
    Reporter,
    /// Calendar month of the report (local time).
    Month,
    /// Calendar day of the report (local time).
    Day,
}

impl GroupBy {
    /// Every grouping.
    pub const ALL: [GroupBy; 10] = [
        GroupBy::None,
        GroupBy::Department,
        GroupBy::Township,
        GroupBy::Village,
        GroupBy::Grid,
        GroupBy::Class,
        GroupBy::Major,
        GroupBy::Reporter,
        GroupBy::Month,
        GroupBy::Day,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::None => "none",
            GroupBy::Department => "department",
            GroupBy::Township => "township",
            GroupBy::Village => "village",
            GroupBy::Grid => "grid",
            GroupBy::Class => "class",
            GroupBy::Major => "major",
            GroupBy::Reporter => "reporter",
            GroupBy::Month => "month",
            GroupBy::Day => "day",
        }
    }

    /// Parse the stable name.
    pub fn from_name(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// The span of local days a daily rollup (tallies per local day, township, department and
/// class) must sum to answer `filter` grouped by `group`, at `utc_offset_minutes` for a rollup
/// kept at `rollup_offset`: `Some((first day, day after the last))` (`None` ends: unbounded), or
/// `None` if the rollup cannot answer (a filter or group on a finer dimension than it keeps, a
/// bound that is not a local midnight, another offset) and the cases must be scanned.
pub fn rollup_span(
    filter: &CaseFilter,
    group: GroupBy,
    utc_offset_minutes: i32,
    rollup_offset: i32,
) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
    let plain = filter.states.is_empty()
        && filter.grids.is_empty()
        && filter.reporter_id.is_none()
        && filter.source.is_none()
        && filter.overdue_at.is_none()
        && filter.within.as_ref().is_none_or(|w| w.as_str().len() <= 9)
        && !matches!(group, GroupBy::Village | GroupBy::Grid | GroupBy::Reporter)
        && utc_offset_minutes == rollup_offset;
    if !plain {
        return None;
    }
    let offset = FixedOffset::east_opt(utc_offset_minutes.checked_mul(60)?)?;
    let day = |t: Option<DateTime<Utc>>| match t {
        None => Some(None),
        Some(t) => {
            let local = t.with_timezone(&offset);
            (local.time() == NaiveTime::MIN).then(|| Some(local.date_naive()))
        }
    };
    Some((day(filter.from)?, day(filter.to)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_the_national_formulas() {
        // The sanity figures of a real city month: 996 filed, 972 due, 911 closed (93.72%),
        // 737 on time (75.82%).
        let t = Tally { filed: 996, dispatched: 980, due: 972, closed: 911, closed_on_time: 737, ..Tally::default() };
        let r = t.rates();
        assert_eq!(format!("{:.2}", r.closure_rate.unwrap() * 100.0), "93.72");
        assert_eq!(format!("{:.2}", r.on_time_rate.unwrap() * 100.0), "75.82");
        // 缓办 cases leave the denominator.
        let d = Tally { deferred: 2, ..t };
        assert!(d.rates().closure_rate.unwrap() > r.closure_rate.unwrap());
        assert_eq!(Tally::default().rates(), Rates::default());
        let mut sum = t;
        sum += t;
        assert_eq!((sum.filed, sum.rates().closure_rate), (1992, r.closure_rate));
    }

    #[test]
    fn rollup_span_only_for_whole_local_days_and_kept_dimensions() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let march = NaiveDate::from_ymd_opt(2026, 3, 1);
        let f = CaseFilter { from: Some(at("2026-03-01T00:00:00+08:00")), ..CaseFilter::default() };
        assert_eq!(rollup_span(&f, GroupBy::Month, 480, 480), Some((march, None)));
        assert_eq!(rollup_span(&f, GroupBy::Month, 0, 480), None, "another offset");
        assert_eq!(rollup_span(&f, GroupBy::Grid, 480, 480), None, "no grid dimension");
        let f = CaseFilter { to: Some(at("2026-03-01T12:00:00+08:00")), ..CaseFilter::default() };
        assert_eq!(rollup_span(&f, GroupBy::None, 480, 480), None, "not a local midnight");
        let f = CaseFilter { reporter_id: Some(1), ..CaseFilter::default() };
        assert_eq!(rollup_span(&f, GroupBy::None, 480, 480), None);
        let village = zhili_core::codes::DivisionCode::parse("370304001001").ok();
        let f = CaseFilter { within: village, ..CaseFilter::default() };
        assert_eq!(rollup_span(&f, GroupBy::None, 480, 480), None, "finer than a township");
    }

    #[test]
    fn group_names_round_trip() {
        for g in GroupBy::ALL {
            assert_eq!(GroupBy::from_name(g.as_str()), Some(g));
        }
    }
}

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

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Utc};
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

/// A span of local days `[first, end)`; a `None` end is unbounded.
pub type DaySpan = (Option<NaiveDate>, Option<NaiveDate>);

/// A part of a query's period: its local days, and the query narrowed to them.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The local days.
    pub days: DaySpan,
    /// The query, its `from` and `to` those days' bounds.
    pub filter: CaseFilter,
}

/// How a store answers a figures query (统计方案): from which rollups, and what it must scan.
///
/// Three rollups are kept beside the cases, each row the additive [`Tally`] counts (with
/// 应结案数's fixed part: dispatched and closed) of the cases reported in one slot:
/// - the **daily** rollup (日汇总): local day × township × department × class;
/// - the **monthly** rollup (月汇总): local month × township × department × class (a year is
///   about a twentieth of the daily rows);
/// - the **place** rollup (月网格汇总): local month × division (township or village) × grid.
///
/// 应结案数's moving part (open dispatched cases past their handling deadline at the evaluation
/// instant) is never in a rollup: stores count it from the cases of each part.
#[derive(Debug, Clone, PartialEq)]
pub enum RollupPlan {
    /// No rollup keeps what the query filters or groups on: one grouped scan of the cases.
    Scan,
    /// Township, department and class dimensions: the period's whole months from the monthly
    /// rollup, its other days (the parts of months at either end; every day when grouped by
    /// day) from the daily rollup.
    Daily {
        /// The whole months (their first days).
        months: Option<Part>,
        /// The other days.
        days: Vec<Part>,
    },
    /// Village and grid dimensions: the whole months from the place rollup, the parts of months
    /// at either end scanned.
    Places {
        /// The whole months (their first days).
        months: Option<Part>,
        /// The parts of months at either end.
        edges: Vec<Part>,
    },
}

/// The plan for `filter` grouped by `group` at `utc_offset_minutes`, with the rollups kept at
/// `rollup_offset`. The rollups answer only whole local days at their own offset, and only the
/// dimensions they keep (daily and monthly: township or coarser, department, class, month, day;
/// place: any division, grids, township, village, grid, month); the daily and monthly ones are
/// preferred (nothing to scan).
pub fn rollup_plan(filter: &CaseFilter, group: GroupBy, utc_offset_minutes: i32, rollup_offset: i32) -> RollupPlan {
    let plain = filter.states.is_empty()
        && filter.reporter_id.is_none()
        && filter.source.is_none()
        && filter.overdue_at.is_none()
        && filter.due_from.is_none()
        && filter.closed_from.is_none()
        && utc_offset_minutes == rollup_offset;
    let Some(offset) = utc_offset_minutes.checked_mul(60).and_then(FixedOffset::east_opt) else {
        return RollupPlan::Scan;
    };
    let day = |t: Option<DateTime<Utc>>| match t {
        None => Some(None),
        Some(t) => {
            let local = t.with_timezone(&offset);
            (local.time() == NaiveTime::MIN).then(|| Some(local.date_naive()))
        }
    };
    let (Some(from), Some(to), true) = (day(filter.from), day(filter.to), plain) else {
        return RollupPlan::Scan;
    };
    let daily = filter.grids.is_empty()
        && filter.within.as_ref().is_none_or(|w| w.as_str().len() <= 9)
        && !matches!(group, GroupBy::Village | GroupBy::Grid | GroupBy::Reporter);
    let places = filter.class_prefix.is_none()
        && filter.department.is_none()
        && matches!(group, GroupBy::None | GroupBy::Township | GroupBy::Village | GroupBy::Grid | GroupBy::Month);
    if daily && group == GroupBy::Day {
        return RollupPlan::Daily { months: None, days: vec![Part { days: (from, to), filter: filter.clone() }] };
    }
    if !daily && !places {
        return RollupPlan::Scan;
    }
    let Some((months, edges)) = split_at_months(filter, (from, to), offset) else {
        return RollupPlan::Scan; // past the calendar's end
    };
    if daily {
        RollupPlan::Daily { months, days: edges }
    } else {
        RollupPlan::Places { months, edges }
    }
}

/// The whole local months of a period of whole local days (from the first month starting on
/// or after its first day, to the start of the month holding its end), and the other days
/// (the parts of months at either end, or the whole period if it holds no whole month).
fn split_at_months(filter: &CaseFilter, (from, to): DaySpan, offset: FixedOffset) -> Option<(Option<Part>, Vec<Part>)> {
    let midnight =
        |d: NaiveDate| (d.and_time(NaiveTime::MIN) - TimeDelta::seconds(i64::from(offset.local_minus_utc()))).and_utc();
    let part = |(a, b): DaySpan| Part {
        days: (a, b),
        filter: CaseFilter { from: a.map(midnight), to: b.map(midnight), ..filter.clone() },
    };
    let first = match from {
        Some(d) if d.day() != 1 => Some(month_after(d)?),
        _ => from,
    };
    let end = to.map(|d| d - Days::new(u64::from(d.day0())));
    let whole = match (first, end) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    };
    if !whole {
        return Some((None, vec![part((from, to))]));
    }
    let mut edges = Vec::new();
    if from != first {
        edges.push(part((from, first)));
    }
    if to != end {
        edges.push(part((end, to)));
    }
    Some((Some(part((first, end))), edges))
}

/// The tallies of a query answered in parts (a rollup's sums, 应结案数's moving part, scanned
/// edges), added up by key, in key order. Keys whose every count is zero (rollup rows a case
/// moved away from) are not groups.
pub fn add_up(parts: impl IntoIterator<Item = Vec<(String, Tally)>>) -> Vec<(String, Tally)> {
    let mut out = std::collections::BTreeMap::<String, Tally>::new();
    for (k, t) in parts.into_iter().flatten() {
        *out.entry(k).or_default() += t;
    }
    out.into_iter().filter(|(_, t)| *t != Tally::default()).collect()
}

/// The first day of the month after `d`'s.
fn month_after(d: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1)
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
    fn rollups_answer_whole_local_days_and_their_dimensions() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let march = NaiveDate::from_ymd_opt(2026, 3, 1);
        let f = CaseFilter { from: Some(at("2026-03-01T00:00:00+08:00")), ..CaseFilter::default() };
        let whole = Part { days: (march, None), filter: f.clone() };
        assert_eq!(rollup_plan(&f, GroupBy::Month, 480, 480), RollupPlan::Daily { months: Some(whole), days: vec![] });
        assert_eq!(
            rollup_plan(&f, GroupBy::Day, 480, 480),
            RollupPlan::Daily { months: None, days: vec![Part { days: (march, None), filter: f.clone() }] },
            "days from the daily rollup only"
        );
        assert_eq!(rollup_plan(&f, GroupBy::Month, 0, 480), RollupPlan::Scan, "another offset");
        assert_eq!(rollup_plan(&f, GroupBy::Reporter, 480, 480), RollupPlan::Scan, "no reporter dimension");
        let f = CaseFilter { to: Some(at("2026-03-01T12:00:00+08:00")), ..CaseFilter::default() };
        assert_eq!(rollup_plan(&f, GroupBy::None, 480, 480), RollupPlan::Scan, "not a local midnight");
        assert_eq!(rollup_plan(&f, GroupBy::Grid, 480, 480), RollupPlan::Scan, "not a local midnight");
        let f = CaseFilter { reporter_id: Some(1), ..CaseFilter::default() };
        assert_eq!(rollup_plan(&f, GroupBy::None, 480, 480), RollupPlan::Scan);
        let f = CaseFilter { class_prefix: Some("SJ01".into()), ..CaseFilter::default() };
        assert_eq!(rollup_plan(&f, GroupBy::Grid, 480, 480), RollupPlan::Scan, "no class in the place rollup");
    }

    #[test]
    fn whole_months_are_summed_and_the_parts_of_months_at_the_ends_apart() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let period = |from: Option<&str>, to: Option<&str>| CaseFilter {
            from: from.map(at),
            to: to.map(at),
            ..CaseFilter::default()
        };
        let spans = |parts: &[Part]| parts.iter().map(|p| (p.days, p.filter.from, p.filter.to)).collect::<Vec<_>>();
        // A calendar year: twelve whole months, nothing else.
        let year = period(Some("2025-01-01T00:00:00+08:00"), Some("2026-01-01T00:00:00+08:00"));
        let months = Some(Part { days: (day(2025, 1, 1), day(2026, 1, 1)), filter: year.clone() });
        assert_eq!(rollup_plan(&year, GroupBy::Grid, 480, 480), RollupPlan::Places { months, edges: vec![] });
        // Mid-month to mid-month across a year's end: the whole months between, two edges; the
        // same split from the daily and monthly rollups when they keep the dimension.
        let f = period(Some("2025-11-15T00:00:00+08:00"), Some("2026-02-10T00:00:00+08:00"));
        let RollupPlan::Places { months: Some(m), edges } = rollup_plan(&f, GroupBy::Village, 480, 480) else {
            panic!("a place plan")
        };
        assert_eq!(
            spans(&[m]),
            [(
                (day(2025, 12, 1), day(2026, 2, 1)),
                Some(at("2025-12-01T00:00:00+08:00")),
                Some(at("2026-02-01T00:00:00+08:00"))
            )]
        );
        let want_edges = [
            (
                (day(2025, 11, 15), day(2025, 12, 1)),
                Some(at("2025-11-15T00:00:00+08:00")),
                Some(at("2025-12-01T00:00:00+08:00")),
            ),
            (
                (day(2026, 2, 1), day(2026, 2, 10)),
                Some(at("2026-02-01T00:00:00+08:00")),
                Some(at("2026-02-10T00:00:00+08:00")),
            ),
        ];
        assert_eq!(spans(&edges), want_edges);
        let RollupPlan::Daily { months: Some(_), days } = rollup_plan(&f, GroupBy::Department, 480, 480) else {
            panic!("a daily plan")
        };
        assert_eq!(spans(&days), want_edges);
        // Within one month (or across one boundary with no whole month): the whole period apart.
        let f = period(Some("2026-03-05T00:00:00+08:00"), Some("2026-04-10T00:00:00+08:00"));
        let edges = vec![Part { days: (day(2026, 3, 5), day(2026, 4, 10)), filter: f.clone() }];
        assert_eq!(rollup_plan(&f, GroupBy::Grid, 480, 480), RollupPlan::Places { months: None, edges });
        // Unbounded ends, and a village (finer than the daily rollup) with no grouping.
        let village = zhili_core::codes::DivisionCode::parse("370304001001").ok();
        let f = CaseFilter { within: village, ..period(Some("2026-03-05T00:00:00+08:00"), None) };
        let RollupPlan::Places { months: Some(m), edges } = rollup_plan(&f, GroupBy::None, 480, 480) else {
            panic!("a place plan")
        };
        assert_eq!((m.days, m.filter.to, edges.len()), ((day(2026, 4, 1), None), None, 1));
        assert_eq!(edges[0].filter.to, Some(at("2026-04-01T00:00:00+08:00")));
        let f = period(None, Some("2026-03-01T00:00:00+08:00"));
        let months = Some(Part { days: (None, day(2026, 3, 1)), filter: f.clone() });
        assert_eq!(
            rollup_plan(&f, GroupBy::Township, 480, 480),
            RollupPlan::Daily { months: months.clone(), days: vec![] },
            "the daily and monthly rollups where they can"
        );
        let f = CaseFilter { grids: vec!["G1".into()], ..f };
        let months = Some(Part { days: (None, day(2026, 3, 1)), filter: f.clone() });
        assert_eq!(rollup_plan(&f, GroupBy::Township, 480, 480), RollupPlan::Places { months, edges: vec![] });
    }

    #[test]
    fn group_names_round_trip() {
        for g in GroupBy::ALL {
            assert_eq!(GroupBy::from_name(g.as_str()), Some(g));
        }
    }
}

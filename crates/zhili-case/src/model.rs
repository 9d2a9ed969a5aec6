//! The case record (案件), its clock, its timeline and its attachments, as stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::codes::DivisionCode;

use crate::calendar::{WorkCalendar, WorkDuration};
use crate::catalogue::{CaseClass, CaseKind, ClassCode, Urgency};
use crate::workflow::{CaseState, CaseStatus, ClockEffect, Command, Outcome, Step};

/// Where a case came from (信息来源).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 网格员/监督员上报: a grid worker (collector) on the street.
    GridWorker,
    /// 热线: an operator taking a call (12345) or entering a report.
    Hotline,
    /// 公众: a citizen on the public page.
    Public,
    /// 公众 via an Open311 GeoReport v2 client.
    Open311,
    /// 上级交办: handed down by a higher authority.
    Superior,
    /// 系统/传感器: another module or a device (flood warning, component alarm).
    Machine,
}

impl Source {
    /// Every source.
    pub const ALL: [Source; 6] =
        [Source::GridWorker, Source::Hotline, Source::Public, Source::Open311, Source::Superior, Source::Machine];

    /// Stable name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::GridWorker => "grid_worker",
            Source::Hotline => "hotline",
            Source::Public => "public",
            Source::Open311 => "open311",
            Source::Superior => "superior",
            Source::Machine => "machine",
        }
    }

    /// Parse the stable name.
    pub fn from_name(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The sources a citizen reports through (公众上报): only their cases are shown publicly
    /// (Open311 reads, the citizens' status page); internal reports never are.
    pub const PUBLIC: [Source; 2] = [Source::Public, Source::Open311];

    /// Whether a case from this source was reported publicly.
    pub fn is_public(self) -> bool {
        Source::PUBLIC.contains(&self)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Source::GridWorker => "网格员上报",
            Source::Hotline => "热线",
            Source::Public => "公众上报",
            Source::Open311 => "公众上报(Open311)",
            Source::Superior => "上级交办",
            Source::Machine => "系统/传感器",
        }
    }
}

/// A citizen's tracking code (查询码) of a publicly reported case: 16 characters of Crockford's
/// base32 (digits and capitals without I, L, O, U), 80 random bits, so that knowing one case's
/// code tells nothing of another's. The case number is sequential and stays internal; the
/// public sees a case only through its code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingCode(String);

impl TrackingCode {
    /// Characters of a code (Crockford's base32).
    pub const ALPHABET: &'static [u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    /// Characters in a code (5 bits each: 80 bits).
    pub const LEN: usize = 16;

    /// The code of 80 random bits (the caller draws them from a cryptographic generator).
    pub fn from_random(bits: [u8; 10]) -> TrackingCode {
        let n = bits.iter().fold(0u128, |n, b| (n << 8) | u128::from(*b));
        let code = (0..Self::LEN).rev().map(|i| char::from(Self::ALPHABET[((n >> (5 * i)) & 31) as usize])).collect();
        TrackingCode(code)
    }

    /// Read a code as a person may type it: case, spaces and hyphens do not matter, and the
    /// letters that look like digits are read as them (I, L → 1; O → 0). `None` unless it is
    /// 16 characters of the alphabet then.
    pub fn parse(s: &str) -> Option<TrackingCode> {
        let code: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .map(|c| match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            })
            .collect();
        (code.len() == Self::LEN && code.bytes().all(|b| Self::ALPHABET.contains(&b))).then_some(TrackingCode(code))
    }

    /// The code, 16 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TrackingCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        TrackingCode::parse(&s).filter(|c| c.0 == s).ok_or_else(|| format!("not a tracking code: {s:?}"))
    }
}

impl From<TrackingCode> for String {
    fn from(c: TrackingCode) -> String {
        c.0
    }
}

impl std::fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The running time limit of the current step (计时).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseClock {
    /// The step being timed, if any.
    pub step: Option<Step>,
    /// When that step's clock started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it runs out; `None` while paused or idle.
    pub deadline: Option<DateTime<Utc>>,
    /// Working minutes left when paused (缓办); negative if it was already overdue.
    pub paused_remaining: Option<i64>,
    /// The handling deadline of the last dispatch (kept after the clock stops, for 按期).
    pub handle_deadline: Option<DateTime<Utc>>,
}

/// A case (案件) as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Number, assigned on report.
    pub id: i64,
    /// Optimistic version: every change increments it; a change made against an older version
    /// is refused (并发修改).
    pub version: i64,
    /// Where the case is in the loop, its counters and department.
    pub status: CaseStatus,
    /// 事件 or 部件.
    pub kind: CaseKind,
    /// The minor class (小类).
    pub class_code: ClassCode,
    /// Urgency, from the class at report time.
    pub urgency: Urgency,
    /// Channel it came in by.
    pub source: Source,
    /// What was found.
    pub description: String,
    /// Address, as given or derived from the position.
    pub address: String,
    /// Longitude (WGS-84/CGCS2000).
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// The finest grid at the position, if any.
    pub grid: Option<String>,
    /// The finest division at the position (village/community, else township or county).
    pub division: DivisionCode,
    /// The reporting user, if logged in.
    pub reporter_id: Option<i64>,
    /// The reporter's contact (personal data; shown masked).
    pub contact: Option<String>,
    /// A caller-supplied key that makes a report idempotent (machines, Open311 clients).
    pub external_id: Option<String>,
    /// The citizen's tracking code of a publicly reported case (none for internal reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<TrackingCode>,
    /// Photos taken at report time (attachment ids).
    pub photos: Vec<String>,
    /// The clock of the current step.
    pub clock: CaseClock,
    /// Whether the department reported back within the handling limit (set at 反馈).
    pub handled_on_time: Option<bool>,
    /// Satisfaction 1–5 (评价).
    pub score: Option<u8>,
    /// Reported (采集).
    pub reported_at: DateTime<Utc>,
    /// First filed (立案).
    pub filed_at: Option<DateTime<Utc>>,
    /// First dispatched (派遣).
    pub dispatched_at: Option<DateTime<Utc>>,
    /// Last closed (结案).
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Case {
    /// Whether the current step's clock has run out at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.clock.deadline.is_some_and(|d| now > d)
    }
}

/// What intake hands to the store for one new case (after class, location and clock are
/// resolved); the store assigns `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCase {
    /// Everything but the id (`id` and `status.case_id` are ignored and assigned).
    pub case: Case,
}

/// One entry of a case's timeline (处置记录): who did what, when, with which note and files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Order within the case, from 1 (the report).
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Acting user, if any.
    pub actor_id: Option<i64>,
    /// Acting user's name (or `anonymous`, `system`).
    pub actor: String,
    /// The command's stable name (`report` for the report itself).
    pub command: String,
    /// State before.
    pub from_state: Option<CaseState>,
    /// State after.
    pub to_state: CaseState,
    /// The command with its fields (reason, note, department, photos, score…), as JSON.
    pub data: serde_json::Value,
}

/// Which cases to list (案件查询).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    /// Inside this division subtree.
    pub within: Option<DivisionCode>,
    /// In one of these states (empty: any).
    pub states: Vec<CaseState>,
    /// Of this class, or of every class under this major code (prefix).
    pub class_prefix: Option<String>,
    /// Dispatched to this department (code).
    pub department: Option<String>,
    /// In this grid or below it (code prefix is not hierarchical, so: these grids).
    pub grids: Vec<String>,
    /// Reported by this user.
    pub reporter_id: Option<i64>,
    /// From this source.
    pub source: Option<Source>,
    /// Reported at or after.
    pub from: Option<DateTime<Utc>>,
    /// Reported before.
    pub to: Option<DateTime<Utc>>,
    /// Only those whose current clock has run out at this instant (running deadline before it).
    pub overdue_at: Option<DateTime<Utc>>,
    /// Only those whose running clock runs out at or after this instant (not yet overdue then).
    /// With [`CaseFilter::overdue_at`] later, the clocks that run out in between (即将超时).
    pub due_from: Option<DateTime<Utc>>,
    /// Closed (last 结案) at or after this instant.
    pub closed_from: Option<DateTime<Utc>>,
    /// Numbered below this (a key to walk a whole list newest first, page after page, without
    /// an offset: the next page is below the last id read).
    pub id_below: Option<i64>,
    /// The order of the list (not a condition: counts and figures ignore it).
    pub order: CaseOrder,
}

/// The order of a worklist (排序).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseOrder {
    /// Earliest running deadline first (the longest overdue lead), then the cases without a
    /// running clock, newest first (id descending within a deadline).
    #[default]
    Deadline,
    /// New work first (待办优先): the clocks still running at `now`, the nearest deadline first
    /// (work that just arrived has a fresh clock, so it is never behind old overdue cases); then
    /// the overdue ones, the most recently overdue first; then the cases without a running
    /// clock, newest first. Ties newest first (id descending).
    Upcoming {
        /// The instant that splits running from overdue.
        now: DateTime<Utc>,
    },
    /// Newest first (id descending).
    Newest,
}

impl CaseOrder {
    /// The (block, deadline) sort key of a case in this order, for checking a list: smaller
    /// first, ties by id descending. Blocks: 0 running, 1 overdue, 2 without a running clock.
    pub fn key(self, deadline: Option<DateTime<Utc>>) -> (u8, i64) {
        let micros = |d: DateTime<Utc>| d.timestamp_micros();
        match (self, deadline) {
            (CaseOrder::Newest, _) => (0, 0),
            (CaseOrder::Deadline, Some(d)) => (0, micros(d)),
            (CaseOrder::Upcoming { now }, Some(d)) if d >= now => (0, micros(d)),
            (CaseOrder::Upcoming { .. }, Some(d)) => (1, -micros(d)),
            (_, None) => (2, 0),
        }
    }
}

/// The time limit of a step for a class: 立案派遣 is filing plus dispatch.
pub fn step_limit(class: &CaseClass, step: Step) -> Vec<WorkDuration> {
    match step {
        Step::Dispatch => vec![class.limits.file, class.limits.dispatch],
        Step::Handle => vec![class.limits.handle],
        Step::Verify => vec![class.limits.verify],
    }
}

/// Where a step's limit starts counting when its clock starts at `now`: an ordinary (一般) case
/// is taken in when work starts, so a report at 20:00 has its whole allowance from the next
/// working morning, natural-time limits (the seed's 30 minutes to file) included; an urgent
/// (紧急) case counts from the instant, around the clock.
pub fn counting_start(class: &CaseClass, calendar: &WorkCalendar, now: DateTime<Utc>) -> DateTime<Utc> {
    match class.urgency {
        Urgency::Normal => calendar.next_working_start(now),
        Urgency::Urgent => now,
    }
}

/// The share of a step's allowance below which its countdown turns yellow (预警).
pub const WARNING_SHARE: f64 = 0.25;

/// How a step's time is counted, and so shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockBasis {
    /// Working time (工作时): the countdown holds still outside working hours.
    Working,
    /// Natural time: every limit of the step is natural minutes (urgent classes).
    Natural,
}

/// The traffic light of a running clock (红黄绿灯).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// More than [`WARNING_SHARE`] of the allowance is left.
    Green,
    /// Less than that is left.
    Yellow,
    /// Past the deadline (超时).
    Red,
}

impl Light {
    /// Stable name: `green`, `yellow`, `red`.
    pub fn as_str(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }
}

/// A running clock as a countdown (倒计时) at one instant, in its basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Countdown {
    /// How the step's time is counted.
    pub basis: ClockBasis,
    /// Minutes left in the basis; negative: overdue by that many.
    pub remaining_minutes: i64,
    /// The step's whole allowance in the basis (from where it started counting to the deadline).
    pub allowance_minutes: i64,
    /// Strictly past the deadline.
    pub overdue: bool,
    /// Green, yellow or red.
    pub light: Light,
    /// Whether the countdown moves now (working time, or a natural clock that has started counting).
    pub running: bool,
    /// When `running` next changes (a working period's start or end), if it ever does.
    pub changes_at: Option<DateTime<Utc>>,
}

/// The countdown of a case's running clock at `now` (none while paused or idle). The basis is
/// natural only when every limit of the step in `class` is natural time; the allowance runs from
/// where the step started counting ([`counting_start`]) to the deadline, extensions included.
pub fn countdown(
    clock: &CaseClock,
    class: &CaseClass,
    calendar: &WorkCalendar,
    now: DateTime<Utc>,
) -> Option<Countdown> {
    let (step, deadline) = (clock.step?, clock.deadline?);
    let started = clock.started_at.unwrap_or(now).min(deadline);
    let natural = step_limit(class, step).iter().all(|d| matches!(d, WorkDuration::Minutes(_)));
    let overdue = now > deadline;
    let (basis, remaining, allowance, running, changes_at) = if natural {
        // A clock stored before counting_start existed may end before the next working start.
        let from = Some(counting_start(class, calendar, started)).filter(|f| *f <= deadline).unwrap_or(started);
        let minutes = |a: DateTime<Utc>, b: DateTime<Utc>| (b - a).num_minutes();
        let running = now >= from;
        (
            ClockBasis::Natural,
            minutes(now.max(from), deadline),
            minutes(from, deadline),
            running,
            (!running).then_some(from),
        )
    } else {
        let change = calendar.next_change(now);
        (
            ClockBasis::Working,
            calendar.remaining(deadline, now),
            calendar.working_minutes_between(started, deadline),
            calendar.is_working_time(now),
            (change < DateTime::<Utc>::MAX_UTC).then_some(change),
        )
    };
    let light = if overdue {
        Light::Red
    } else if allowance <= 0 || (remaining as f64) < WARNING_SHARE * allowance as f64 {
        Light::Yellow
    } else {
        Light::Green
    };
    Some(Countdown {
        basis,
        remaining_minutes: remaining,
        allowance_minutes: allowance,
        overdue,
        light,
        running,
        changes_at,
    })
}

/// Apply clock effects to a case's clock at `now`, in working time of `calendar`.
/// Returns whether a handling clock that stopped did so in time (for 按期结案), if one stopped.
pub fn apply_clock(
    clock: &mut CaseClock,
    effects: &[ClockEffect],
    class: &CaseClass,
    calendar: &WorkCalendar,
    now: DateTime<Utc>,
) -> Option<bool> {
    let mut on_time = None;
    for e in effects {
        match *e {
            ClockEffect::Start { step } => {
                let from = counting_start(class, calendar, now);
                let deadline = step_limit(class, step).into_iter().fold(from, |t, d| calendar.add(t, d));
                *clock = CaseClock {
                    step: Some(step),
                    started_at: Some(now),
                    deadline: Some(deadline),
                    paused_remaining: None,
                    handle_deadline: if step == Step::Handle { Some(deadline) } else { clock.handle_deadline },
                };
            }
            ClockEffect::Stop { step } => {
                if step == Step::Handle {
                    on_time = Some(clock.deadline.is_none_or(|d| now <= d));
                }
                *clock = CaseClock { handle_deadline: clock.handle_deadline, ..CaseClock::default() };
            }
            ClockEffect::Pause { .. } => {
                clock.paused_remaining = clock.deadline.map(|d| calendar.remaining(d, now));
                clock.deadline = None;
            }
            ClockEffect::Resume { .. } => {
                let left = clock.paused_remaining.take().unwrap_or(0);
                let deadline = if left > 0 {
                    calendar.add(now, WorkDuration::WorkingMinutes(u32::try_from(left).unwrap_or(u32::MAX)))
                } else {
                    now
                };
                clock.deadline = Some(deadline);
                if clock.step == Some(Step::Handle) {
                    clock.handle_deadline = Some(deadline);
                }
            }
            ClockEffect::Extend { step, minutes } => {
                if let Some(d) = clock.deadline {
                    let d = calendar.add(d, WorkDuration::WorkingMinutes(minutes));
                    clock.deadline = Some(d);
                    if step == Step::Handle {
                        clock.handle_deadline = Some(d);
                    }
                }
            }
        }
    }
    on_time
}

/// The case after a transition's [`Outcome`] (state, counters, clock, milestones), and the
/// timeline entry that records it. The caller has checked the command with
/// [`crate::workflow::apply`] and, for department commands, the actor's department.
pub fn advance(
    case: &Case,
    outcome: &Outcome,
    class: &CaseClass,
    calendar: &WorkCalendar,
    now: DateTime<Utc>,
    actor: (Option<i64>, &str),
    seq: i64,
) -> (Case, TimelineEntry) {
    let mut next = case.clone();
    next.status = outcome.status.clone();
    next.version = case.version + 1;
    next.updated_at = now;
    if let Some(on_time) = apply_clock(&mut next.clock, &outcome.clock, class, calendar, now) {
        next.handled_on_time = Some(on_time);
    }
    let to = outcome.record.to;
    match &outcome.record.command {
        Command::File { class_code: Some(c), .. } => {
            if let Ok(code) = c.parse() {
                next.class_code = code;
            }
            next.filed_at.get_or_insert(now);
        }
        Command::File { .. } => {
            next.filed_at.get_or_insert(now);
        }
        Command::Dispatch { .. } => {
            next.dispatched_at.get_or_insert(now);
        }
        Command::Close { .. } => next.closed_at = Some(now),
        Command::Reopen { .. } => {
            next.closed_at = None;
            next.handled_on_time = None;
        }
        Command::Evaluate { score, .. } => next.score = *score,
        _ => {}
    }
    let entry = TimelineEntry {
        seq,
        at: now,
        actor_id: actor.0,
        actor: actor.1.to_string(),
        command: outcome.record.command.kind().as_str().to_string(),
        from_state: Some(outcome.record.from),
        to_state: to,
        data: serde_json::to_value(&outcome.record.command).unwrap_or(serde_json::Value::Null),
    };
    (next, entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use chrono::{FixedOffset, TimeZone};

    /// Beijing local time → UTC instant.
    fn bj(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().with_timezone(&Utc)
    }

    fn start(class: &CaseClass, step: Step, at: DateTime<Utc>) -> CaseClock {
        let mut clock = CaseClock::default();
        apply_clock(&mut clock, &[ClockEffect::Start { step }], class, &WorkCalendar::china(), at);
        clock
    }

    #[test]
    fn a_case_reported_after_hours_has_its_whole_allowance_the_next_morning() {
        let national = Catalogue::national();
        let cal = WorkCalendar::china();
        // 暴露垃圾: ordinary; filing and dispatch 30 natural minutes each, handling 4 working hours.
        let class = national.get("SJ0102").unwrap();
        // Reported Wed 2026-03-04 20:00: counting starts Thu 08:30, the hour ends 09:30.
        let clock = start(class, Step::Dispatch, bj(2026, 3, 4, 20, 0));
        assert_eq!(clock.started_at, Some(bj(2026, 3, 4, 20, 0)));
        assert_eq!(clock.deadline, Some(bj(2026, 3, 5, 9, 30)));
        let evening = countdown(&clock, class, &cal, bj(2026, 3, 4, 20, 5)).unwrap();
        assert_eq!(evening.basis, ClockBasis::Natural);
        assert_eq!((evening.remaining_minutes, evening.allowance_minutes), (60, 60), "not 0 after hours");
        assert_eq!((evening.light, evening.overdue, evening.running), (Light::Green, false, false));
        assert_eq!(evening.changes_at, Some(bj(2026, 3, 5, 8, 30)));
        // Next morning it counts down, yellow in the last quarter, red once past.
        let at_9 = countdown(&clock, class, &cal, bj(2026, 3, 5, 9, 0)).unwrap();
        assert_eq!((at_9.remaining_minutes, at_9.light, at_9.running), (30, Light::Green, true));
        let at_915 = countdown(&clock, class, &cal, bj(2026, 3, 5, 9, 16)).unwrap();
        assert_eq!((at_915.remaining_minutes, at_915.light), (14, Light::Yellow));
        let late = countdown(&clock, class, &cal, bj(2026, 3, 5, 11, 30)).unwrap();
        assert_eq!((late.remaining_minutes, late.light, late.overdue), (-120, Light::Red, true));
    }

    #[test]
    fn a_working_time_clock_holds_still_outside_working_hours() {
        let national = Catalogue::national();
        let cal = WorkCalendar::china();
        let class = national.get("SJ0102").unwrap();
        // Dispatched Wed 16:30: 4 working hours = 60 min today, 180 tomorrow → Thu 11:30.
        let clock = start(class, Step::Handle, bj(2026, 3, 4, 16, 30));
        assert_eq!(clock.deadline, Some(bj(2026, 3, 5, 11, 30)));
        let night = countdown(&clock, class, &cal, bj(2026, 3, 4, 22, 0)).unwrap();
        assert_eq!(night.basis, ClockBasis::Working);
        assert_eq!((night.remaining_minutes, night.allowance_minutes, night.running), (180, 240, false));
        assert_eq!(night.changes_at, Some(bj(2026, 3, 5, 8, 30)));
        assert_eq!(night.light, Light::Green);
        let at_11 = countdown(&clock, class, &cal, bj(2026, 3, 5, 10, 55)).unwrap();
        assert_eq!((at_11.remaining_minutes, at_11.light, at_11.running), (35, Light::Yellow, true));
        assert_eq!(at_11.changes_at, Some(bj(2026, 3, 5, 12, 0)));
        // Overdue by 2 working hours at Thu 15:30 (11:30–12:00 and 13:30–15:30).
        let over = countdown(&clock, class, &cal, bj(2026, 3, 5, 15, 30)).unwrap();
        assert_eq!((over.remaining_minutes, over.light, over.overdue), (-150, Light::Red, true));
    }

    #[test]
    fn an_urgent_case_counts_around_the_clock() {
        let national = Catalogue::national();
        let cal = WorkCalendar::china();
        // 上水井盖: urgent, 10 + 10 natural minutes from the instant, even at night.
        let class = national.get("BJ0101").unwrap();
        let clock = start(class, Step::Dispatch, bj(2026, 3, 4, 23, 0));
        assert_eq!(clock.deadline, Some(bj(2026, 3, 4, 23, 20)));
        let c = countdown(&clock, class, &cal, bj(2026, 3, 4, 23, 5)).unwrap();
        assert_eq!((c.basis, c.remaining_minutes, c.allowance_minutes, c.running), (ClockBasis::Natural, 15, 20, true));
        // Paused (缓办) or idle: no countdown.
        assert_eq!(countdown(&CaseClock { deadline: None, ..clock }, class, &cal, bj(2026, 3, 4, 23, 5)), None);
    }

    #[test]
    fn tracking_codes_carry_80_bits_and_read_as_typed() {
        assert_eq!(TrackingCode::from_random([0; 10]).as_str(), "0000000000000000");
        assert_eq!(TrackingCode::from_random([0xFF; 10]).as_str(), "ZZZZZZZZZZZZZZZZ");
        // 5 bits a character, most significant first.
        assert_eq!(TrackingCode::from_random([0, 0, 0, 0, 0, 0, 0, 0, 0, 33]).as_str(), "0000000000000011");
        let c = TrackingCode::from_random([0x8a, 0x3f, 0x01, 0x99, 0x42, 0xe7, 0x10, 0x5c, 0xd4, 0x2b]);
        assert_eq!(c.as_str().len(), 16);
        assert_eq!(TrackingCode::parse(&c.as_str().to_lowercase()), Some(c.clone()));
        let spaced = format!("{} {}-{}", &c.as_str()[..4], &c.as_str()[4..8], &c.as_str()[8..]);
        assert_eq!(TrackingCode::parse(&spaced), Some(c));
        assert_eq!(TrackingCode::parse("ABCD-EFGH-JKMN-PQRO").unwrap().as_str(), "ABCDEFGHJKMNPQR0");
        assert_eq!(TrackingCode::parse("ilIL000000000000").unwrap().as_str(), "1111000000000000");
        for bad in ["", "200001", "ABCDEFGHJKMNPQRU", "ABCDEFGHJKMNPQRST", "ABCDEFGHJKMNPQR", "ABCDEFGHJKMNPQR~"] {
            assert_eq!(TrackingCode::parse(bad), None, "{bad}");
        }
        // Stored as given: a stored code must already be in its canonical form.
        assert!(serde_json::from_str::<TrackingCode>("\"abcdefghjkmnpqrs\"").is_err());
        assert!(serde_json::from_str::<TrackingCode>("\"ABCDEFGHJKMNPQRS\"").is_ok());
    }
}

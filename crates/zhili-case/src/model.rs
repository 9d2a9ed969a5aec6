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
                let deadline = step_limit(class, step).into_iter().fold(now, |t, d| calendar.add(t, d));
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

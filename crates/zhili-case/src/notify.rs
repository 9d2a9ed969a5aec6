//! Notifications, overdue escalation and webhook events (通知、超期督办与外发事件).
//!
//! A case that runs past its deadline escalates (超期督办) level by level: each level of the
//! deployment's [`EscalationPolicy`] becomes due a working-time span after the deadline and
//! names who is told (the assigned department, the township, the district command centre, the
//! leaders). Each level fires once per case and deadline: the store records the claim
//! (`case_escalations`), so restarts and several server processes never repeat it.
//!
//! What is told becomes a platform notification ([`zhili_platform::notify`]) about the case's
//! [`subject`] for each recipient and, for each configured webhook subscribed to the
//! [`WebhookEvent`], a row of the platform's durable outbox. The case loop owns its notification
//! kinds ([`NotificationKind`]) and event names ([`WebhookEvent`]); this module holds the rules;
//! no HTTP, no SQL.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use zhili_platform::Subject;

use crate::calendar::{WorkCalendar, WorkDuration};
use crate::model::Case;

/// The subject kind of a case (`case:{id}`), as notifications, deliveries and audit rows name it.
pub const SUBJECT_KIND: &str = "case";

/// The case as a platform subject.
pub fn subject(case_id: i64) -> Subject {
    Subject::new(SUBJECT_KIND, case_id).expect("a valid kind")
}

/// What a notification is about (通知类型). The UI translates the stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// 派遣: a case was dispatched to the recipient's department.
    Dispatched,
    /// 超期: a case's clock ran out (the first escalation level).
    Overdue,
    /// 督办: a case stays overdue and is escalated to the next level up.
    Escalated,
}

impl NotificationKind {
    /// Every kind.
    pub const ALL: [NotificationKind; 3] =
        [NotificationKind::Dispatched, NotificationKind::Overdue, NotificationKind::Escalated];

    /// Stable name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Dispatched => "dispatched",
            NotificationKind::Overdue => "overdue",
            NotificationKind::Escalated => "escalated",
        }
    }

    /// Parse the stable name.
    pub fn from_name(s: &str) -> Option<NotificationKind> {
        NotificationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            NotificationKind::Dispatched => "派遣",
            NotificationKind::Overdue => "超期",
            NotificationKind::Escalated => "督办",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            NotificationKind::Dispatched => "Dispatched",
            NotificationKind::Overdue => "Overdue",
            NotificationKind::Escalated => "Escalated",
        }
    }
}

/// An event sent to webhooks (外发事件).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    /// A case was dispatched to a department.
    #[serde(rename = "case.dispatched")]
    CaseDispatched,
    /// A case's clock ran out (escalation level 1).
    #[serde(rename = "case.overdue")]
    CaseOverdue,
    /// An overdue case reached a higher escalation level.
    #[serde(rename = "case.escalated")]
    CaseEscalated,
}

impl WebhookEvent {
    /// Every event.
    pub const ALL: [WebhookEvent; 3] =
        [WebhookEvent::CaseDispatched, WebhookEvent::CaseOverdue, WebhookEvent::CaseEscalated];

    /// Stable name, as configured and sent in `X-Zhili-Event`.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::CaseDispatched => "case.dispatched",
            WebhookEvent::CaseOverdue => "case.overdue",
            WebhookEvent::CaseEscalated => "case.escalated",
        }
    }

    /// Parse the stable name.
    pub fn from_name(s: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Every event's stable name (what a webhook may subscribe to).
    pub const NAMES: [&'static str; 3] = ["case.dispatched", "case.overdue", "case.escalated"];
}

/// Who is told at an escalation level (通知对象), relative to the case: its department, its township,
/// its county, the leaders over it; the server resolves each to a platform `Audience`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAudience {
    /// 承办部门: staff (role `department_staff`) of the department the case is dispatched to.
    Department,
    /// 街镇: operators whose jurisdiction is the case's township.
    Township,
    /// 区指挥中心: operators whose jurisdiction is the case's county (district).
    District,
    /// 领导: leaders whose jurisdiction covers the case.
    Leaders,
}

impl CaseAudience {
    /// Every audience.
    pub const ALL: [CaseAudience; 4] =
        [CaseAudience::Department, CaseAudience::Township, CaseAudience::District, CaseAudience::Leaders];

    /// Stable name, as configured.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseAudience::Department => "department",
            CaseAudience::Township => "township",
            CaseAudience::District => "district",
            CaseAudience::Leaders => "leaders",
        }
    }

    /// Parse the stable name.
    pub fn from_name(s: &str) -> Option<CaseAudience> {
        CaseAudience::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One escalation level (督办级别).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationLevel {
    /// Working minutes past the deadline at which the level is due (0: as soon as overdue).
    pub after_working_minutes: u32,
    /// Who is told.
    pub notify: Vec<CaseAudience>,
}

/// Why an escalation policy was refused; names the offending level (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// More levels than supported.
    #[error("at most {max} escalation levels, got {got}")]
    TooManyLevels {
        /// The limit.
        max: usize,
        /// How many were given.
        got: usize,
    },
    /// A level notifies nobody.
    #[error("escalation level {level}: notify must name at least one of department, township, district, leaders")]
    NobodyNotified {
        /// The level.
        level: usize,
    },
    /// A level is due before the one below it.
    #[error("escalation level {level}: after_working_minutes must not be less than level {}'s", level - 1)]
    OutOfOrder {
        /// The level.
        level: usize,
    },
}

/// The deployment's escalation rule (超期督办规则): levels in order, each due a working-time
/// span after the deadline. An empty policy never escalates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationPolicy {
    levels: Vec<EscalationLevel>,
}

impl Default for EscalationPolicy {
    /// Level 1 at the deadline: the department and the township; level 2 four working hours
    /// later: the district command centre and the leaders.
    fn default() -> Self {
        EscalationPolicy {
            levels: vec![
                EscalationLevel {
                    after_working_minutes: 0,
                    notify: vec![CaseAudience::Department, CaseAudience::Township],
                },
                EscalationLevel {
                    after_working_minutes: 240,
                    notify: vec![CaseAudience::District, CaseAudience::Leaders],
                },
            ],
        }
    }
}

impl EscalationPolicy {
    /// Most levels.
    pub const MAX_LEVELS: usize = 9;

    /// A policy of these levels, checked: each notifies someone, none is due before the one
    /// below it.
    pub fn new(levels: Vec<EscalationLevel>) -> Result<EscalationPolicy, PolicyError> {
        if levels.len() > Self::MAX_LEVELS {
            return Err(PolicyError::TooManyLevels { max: Self::MAX_LEVELS, got: levels.len() });
        }
        for (i, l) in levels.iter().enumerate() {
            if l.notify.is_empty() {
                return Err(PolicyError::NobodyNotified { level: i + 1 });
            }
            if i > 0 && l.after_working_minutes < levels[i - 1].after_working_minutes {
                return Err(PolicyError::OutOfOrder { level: i + 1 });
            }
        }
        Ok(EscalationPolicy { levels })
    }

    /// The levels, level 1 first.
    pub fn levels(&self) -> &[EscalationLevel] {
        &self.levels
    }

    /// Level `level` (1-based).
    pub fn level(&self, level: i32) -> Option<&EscalationLevel> {
        usize::try_from(level).ok().and_then(|l| l.checked_sub(1)).and_then(|i| self.levels.get(i))
    }

    /// When level `level` (1-based) of a clock with this deadline is due: the deadline plus
    /// the level's working minutes (a level at 0 is due at the deadline itself).
    pub fn due_at(&self, level: i32, deadline: DateTime<Utc>, calendar: &WorkCalendar) -> Option<DateTime<Utc>> {
        let l = self.level(level)?;
        Some(match l.after_working_minutes {
            0 => deadline,
            n => calendar.add(deadline, WorkDuration::WorkingMinutes(n)),
        })
    }

    /// The levels (1-based) due for `case` at `now`: its running clock is past the deadline
    /// (strictly, as [`Case::overdue`]) and past each level's span after it. None for a case
    /// whose clock is paused or stopped.
    pub fn due_levels(&self, case: &Case, calendar: &WorkCalendar, now: DateTime<Utc>) -> Vec<i32> {
        let Some(deadline) = case.clock.deadline else { return Vec::new() };
        (1..=self.levels.len())
            .filter_map(|i| i32::try_from(i).ok())
            .filter(|&l| self.due_at(l, deadline, calendar).is_some_and(|due| now > due))
            .collect()
    }
}

/// What a notice names a case by, as a person reads it: its class's name (not its code), its
/// department's name, and its deadline in the deployment's local time.
#[derive(Debug, Clone, Copy)]
pub struct NoticeNames<'a> {
    /// The case class's name (暴露垃圾).
    pub class: &'a str,
    /// The department's name (城管局), for a dispatch.
    pub department: &'a str,
    /// The deployment's UTC offset (the working calendar's).
    pub offset: chrono::FixedOffset,
}

impl NoticeNames<'_> {
    fn deadline(&self, case: &Case) -> String {
        case.clock
            .deadline
            .map(|d| d.with_timezone(&self.offset).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    }
}

/// The kind, title and body (zh-CN) of the notice for escalation `level` of `case`.
pub fn escalation_notice(case: &Case, level: i32, names: &NoticeNames<'_>) -> (NotificationKind, String, String) {
    let step = case.clock.step.map(|s| s.label_zh()).unwrap_or("当前环节");
    let deadline = names.deadline(case);
    if level <= 1 {
        (
            NotificationKind::Overdue,
            format!("案件 {} 已超期", case.id),
            format!("{}（{}）{}已超过时限 {}。", names.class, case.address, step, deadline),
        )
    } else {
        (
            NotificationKind::Escalated,
            format!("案件 {} 超期督办（{}级）", case.id, level),
            format!(
                "{}（{}）{}超期未办，已升级至第 {} 级督办；时限 {}。",
                names.class, case.address, step, level, deadline
            ),
        )
    }
}

/// The title and body (zh-CN) of the notice that `case` was dispatched to `names.department`.
pub fn dispatch_notice(case: &Case, names: &NoticeNames<'_>) -> (String, String) {
    (
        format!("新派遣案件 {}", case.id),
        format!(
            "{}（{}）已派遣至 {}，请签收处置；处置时限 {}。",
            names.class,
            case.address,
            names.department,
            names.deadline(case)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{CaseKind, Urgency};
    use crate::model::{CaseClock, Source};
    use crate::workflow::{CaseStatus, Step};
    use chrono::TimeZone;
    use zhili_core::codes::DivisionCode;

    /// Monday 2026-03-02 09:00 Beijing time.
    fn monday_9() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
    }

    fn case(deadline: Option<DateTime<Utc>>) -> Case {
        let at = monday_9();
        Case {
            id: 7,
            version: 3,
            status: CaseStatus::reported(7),
            kind: CaseKind::Event,
            class_code: "SJ0102".parse().unwrap(),
            urgency: Urgency::Normal,
            source: Source::Hotline,
            description: "暴露垃圾".into(),
            address: "某路1号".into(),
            lon: 117.8,
            lat: 36.4,
            grid: None,
            division: DivisionCode::parse("370304100201").unwrap(),
            reporter_id: None,
            contact: None,
            external_id: None,
            tracking_code: None,
            photos: vec![],
            clock: CaseClock { step: Some(Step::Handle), started_at: Some(at), deadline, ..CaseClock::default() },
            handled_on_time: None,
            score: None,
            reported_at: at,
            filed_at: None,
            dispatched_at: None,
            closed_at: None,
            updated_at: at,
        }
    }

    #[test]
    fn levels_fall_due_in_working_time() {
        let cal = WorkCalendar::china();
        let p = EscalationPolicy::default();
        let deadline = monday_9() + chrono::Duration::hours(1); // Monday 10:00
        let c = case(Some(deadline));
        assert!(p.due_levels(&c, &cal, deadline).is_empty(), "at the deadline itself nothing is due");
        assert_eq!(p.due_levels(&c, &cal, deadline + chrono::Duration::seconds(1)), [1]);
        // Level 2 is four working hours later: 10:00–12:00 and 13:30 (lunch) onwards.
        let due2 = p.due_at(2, deadline, &cal).unwrap();
        assert_eq!(due2, cal.add(deadline, WorkDuration::WorkingMinutes(240)));
        assert!(due2 > deadline + chrono::Duration::hours(4), "lunch is not working time: {due2}");
        assert_eq!(p.due_levels(&c, &cal, due2), [1]);
        assert_eq!(p.due_levels(&c, &cal, due2 + chrono::Duration::minutes(1)), [1, 2]);
        // A paused or stopped clock never escalates.
        assert!(p.due_levels(&case(None), &cal, deadline + chrono::Duration::days(30)).is_empty());
        assert!(EscalationPolicy::new(vec![])
            .unwrap()
            .due_levels(&c, &cal, due2 + chrono::Duration::days(1))
            .is_empty());
    }

    #[test]
    fn policies_are_checked() {
        let l =
            |after, notify: &[CaseAudience]| EscalationLevel { after_working_minutes: after, notify: notify.to_vec() };
        assert!(
            EscalationPolicy::new(vec![l(0, &[CaseAudience::Department]), l(60, &[CaseAudience::District])]).is_ok()
        );
        assert_eq!(
            EscalationPolicy::new(vec![l(0, &[CaseAudience::Department]), l(0, &[])]),
            Err(PolicyError::NobodyNotified { level: 2 })
        );
        assert_eq!(
            EscalationPolicy::new(vec![l(60, &[CaseAudience::Department]), l(30, &[CaseAudience::District])]),
            Err(PolicyError::OutOfOrder { level: 2 })
        );
        assert!(EscalationPolicy::new(vec![l(0, &[CaseAudience::Leaders]); 10]).is_err());
        assert_eq!(EscalationPolicy::default().level(0), None);
        assert_eq!(EscalationPolicy::default().level(3), None);
    }

    #[test]
    fn names_round_trip() {
        for k in NotificationKind::ALL {
            assert_eq!(NotificationKind::from_name(k.as_str()), Some(k));
        }
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::from_name(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
            assert!(WebhookEvent::NAMES.contains(&e.as_str()));
        }
        for a in CaseAudience::ALL {
            assert_eq!(CaseAudience::from_name(a.as_str()), Some(a));
        }
        assert_eq!(subject(7).to_string(), "case:7");
    }

    #[test]
    fn notices_read_in_chinese() {
        let c = case(Some(monday_9()));
        let names = NoticeNames {
            class: "暴露垃圾",
            department: "城管局",
            offset: chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        };
        let (k, title, body) = escalation_notice(&c, 1, &names);
        assert_eq!((k, title.as_str()), (NotificationKind::Overdue, "案件 7 已超期"));
        assert!(body.contains("暴露垃圾") && body.contains("处置") && !body.contains("SJ0102"), "{body}");
        assert!(body.contains("2026-03-02 09:00") && !body.contains("UTC"), "local time: {body}");
        let (k, title, _) = escalation_notice(&c, 2, &names);
        assert_eq!((k, title.as_str()), (NotificationKind::Escalated, "案件 7 超期督办（2级）"));
        let (title, body) = dispatch_notice(&c, &names);
        assert_eq!(title, "新派遣案件 7");
        assert!(body.contains("已派遣至 城管局") && !body.contains("cgj"), "{body}");
    }
}

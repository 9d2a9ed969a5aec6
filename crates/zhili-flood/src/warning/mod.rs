//! The warning lifecycle of one village (山洪预警流程) as a pure state machine.
//!
//! A warning is raised when an evaluation crosses a grade for a village: the responsible persons
//! of the village, township and county are told first (内部预警) and must acknowledge; a tier
//! that does not acknowledge in time escalates (re-sent on the person's next channel, and the
//! next tier up is told; the county tier tells the duty officer); the public is warned by
//! broadcast and siren (公开预警) when a person decides or automatically; a higher grade
//! upgrades the warning (准备转移 → 立即转移) and a lower one never downgrades it; a person lifts
//! it (解除), or the machine proposes the lift when the rain has stayed below the lowest
//! threshold for a configured time.
//!
//! [`open`] raises a new warning and [`apply`] moves one along by an [`Event`]; both return the
//! next [`Warning`], the [`Effect`]s the server must carry out (send a message, open the
//! follow-up case, publish a CAP document, schedule a tick) and the [`TrailEntry`]s of the
//! post-event review (every message and every answer). Nothing here reads a clock, sends or
//! stores: time comes in as `now`, and the server stores the next warning, its effects (as an
//! outbox) and its trail in one transaction, so a restart neither loses nor repeats a message.
//! Re-raising the grade a warning already has is a no-op, so the same evaluation after a restart
//! does not warn twice.
//!
//! Decisions: the [`Policy`] in force is copied into the warning when it is raised (a policy
//! change applies to the next warning, never halfway through one); lifting a warning that
//! passed is CAP `Update` with responseType `AllClear`, withdrawing one issued in error is CAP
//! `Cancel` ([`LiftKind`]); recipients are fixed when the warning is raised.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::codes::DivisionCode;

use crate::vocab::{Channel, Grade, SoilState, StationCode, Tier, Window};

mod check;
mod error;
mod machine;
pub mod store;
mod summary;
pub mod text;

pub use check::{MAX_TEXT_CHARS, MAX_TRIGGER_VALUE};
pub use error::WarningError;
pub use machine::{apply, decisions, open, public_channels, tier_above};
pub use store::{StoredCap, StoredEffect, StoredTrail, WarningFilter, WarningStore};
pub use summary::{duty_summary, DutySummary, TierSummary, WaitingPerson};

/// Someone who acts on a warning (a responsible person, the duty officer, a leader): their id
/// in the platform and the name the trail shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The person's id (user id or responsible-person id).
    #[serde(default)]
    pub id: String,
    /// The name shown in messages and the trail.
    #[serde(default)]
    pub name: String,
}

/// What crossed the indicator (预警触发条件).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// 雨量预警: the rain accumulated over a window reached the village's threshold.
    Rain {
        /// The accumulation window.
        window: Window,
        /// The accumulated rain, mm.
        value_mm: f64,
        /// The threshold reached, mm.
        threshold_mm: f64,
        /// The station whose rain it is, when one station decided.
        #[serde(default)]
        station: Option<StationCode>,
        /// The antecedent soil state that selected the threshold.
        #[serde(default)]
        soil: Option<SoilState>,
    },
    /// 水位预警: a control section's level reached its indicator.
    Level {
        /// The control section's code.
        section: String,
        /// Its name (控制断面名称), as messages say it.
        section_name: String,
        /// The level, m.
        value_m: f64,
        /// The indicator reached, m.
        threshold_m: f64,
    },
    /// 涨率预警: a control section's level rises faster than its indicator.
    Rise {
        /// The control section's code.
        section: String,
        /// Its name, as messages say it.
        section_name: String,
        /// The rate of rise, m/h.
        value_m_per_h: f64,
        /// The indicator reached, m/h.
        threshold_m_per_h: f64,
    },
    /// 人工研判: a person raised or upgraded the warning on judgement (a report from the
    /// village, a simple alarm, a forecast).
    Manual {
        /// Who decided.
        by: Actor,
        /// Why, as the message says it.
        #[serde(default)]
        note: String,
    },
}

/// A responsible person (责任人) to tell, with their channels in order of preference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// Stable id of the person; acknowledgements name it.
    pub id: String,
    /// Name, as messages and the duty screen show it.
    pub name: String,
    /// Their tier.
    pub tier: Tier,
    /// Personal channels in order of preference (in-app, SMS, voice); the first is tried
    /// first, a failure falls back to the next.
    pub channels: Vec<Channel>,
}

/// An evaluation's verdict for a village: raise (or keep) a warning of this grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raise {
    /// The village's 12-digit division code.
    pub village: DivisionCode,
    /// The name messages use, with its place (e.g. `博山区池上镇东石村`).
    pub village_name: String,
    /// The grade reached.
    pub grade: Grade,
    /// What reached it.
    pub trigger: Trigger,
    /// The responsible persons of the village, township and county.
    pub recipients: Vec<Recipient>,
    /// The village's public warning facilities the broadcast system drives (Broadcast, Siren).
    #[serde(default)]
    pub public_channels: Vec<Channel>,
}

/// Minutes each tier has to acknowledge before the warning escalates (确认时限).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AckMinutes {
    /// 县级.
    pub county: u32,
    /// 乡镇级.
    pub township: u32,
    /// 村级.
    pub village: u32,
    /// 组级 / 监测员.
    pub group: u32,
}

impl Default for AckMinutes {
    fn default() -> Self {
        AckMinutes { county: 20, township: 15, village: 10, group: 10 }
    }
}

impl AckMinutes {
    /// The minutes of one tier.
    pub fn of(&self, tier: Tier) -> u32 {
        match tier {
            Tier::County => self.county,
            Tier::Township => self.township,
            Tier::Village => self.village,
            Tier::Group => self.group,
        }
    }
}

/// A deployment's warning policy (预警发布策略). Copied into each warning when it is raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Minutes per tier to acknowledge before escalating.
    pub ack_minutes: AckMinutes,
    /// How many times one tier escalates for one grade (each after its ack minutes again); 1–10.
    pub max_escalations: u8,
    /// Issue the public warning at once for grades where people must leave
    /// ([`Grade::evacuate`]).
    pub auto_public_on_evacuate: bool,
    /// Issue the public warning this many minutes after the grade was raised when no one has
    /// issued it; `None`: only by a person (or for evacuate grades as above).
    pub auto_public_after_minutes: Option<u32>,
    /// The public channels used when the village has them, in order (Broadcast, Siren).
    pub public_channels: Vec<Channel>,
    /// Minutes every window must stay below the lowest threshold before the lift is proposed.
    pub lift_quiet_minutes: u32,
    /// Lift automatically after the quiet time instead of proposing it to the duty officer.
    pub auto_lift: bool,
    /// The channel the duty officer (值班员/领导小组) is told on.
    pub duty_channel: Channel,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            ack_minutes: AckMinutes::default(),
            max_escalations: 3,
            auto_public_on_evacuate: true,
            auto_public_after_minutes: None,
            public_channels: vec![Channel::Broadcast, Channel::Siren],
            lift_quiet_minutes: 120,
            auto_lift: false,
            duty_channel: Channel::InApp,
        }
    }
}

/// The longest time a policy may set, minutes (one week).
pub const MAX_POLICY_MINUTES: u32 = 7 * 24 * 60;

impl Policy {
    /// Check every option; the error names the field (`policy.ack_minutes.village`, …).
    pub fn validate(&self) -> Result<(), WarningError> {
        let invalid = |field: &str, message: String| WarningError::InvalidField {
            event: EventKind::Raise,
            field: format!("policy.{field}"),
            message,
        };
        let minutes = |field: &str, m: u32| {
            if (1..=MAX_POLICY_MINUTES).contains(&m) {
                Ok(())
            } else {
                Err(invalid(field, format!("must be 1–{MAX_POLICY_MINUTES} minutes, got {m}")))
            }
        };
        for tier in Tier::ALL {
            minutes(&format!("ack_minutes.{}", tier.as_str()), self.ack_minutes.of(tier))?;
        }
        if !(1..=10).contains(&self.max_escalations) {
            return Err(invalid("max_escalations", format!("must be 1–10, got {}", self.max_escalations)));
        }
        if let Some(m) = self.auto_public_after_minutes {
            minutes("auto_public_after_minutes", m)?;
        }
        minutes("lift_quiet_minutes", self.lift_quiet_minutes)?;
        check::channels(&self.public_channels, true, |i, message| invalid(&format!("public_channels[{i}]"), message))?;
        if self.duty_channel.public() {
            return Err(invalid(
                "duty_channel",
                format!("must reach a person (in_app, sms, voice), got {}", self.duty_channel.as_str()),
            ));
        }
        Ok(())
    }
}

/// Where a warning is in its lifecycle (预警状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningStatus {
    /// 内部预警: the responsible persons are told; the public is not yet.
    Internal,
    /// 公开预警: broadcast and sirens have been issued to the village.
    Public,
    /// 已解除 (or withdrawn as issued in error).
    Lifted,
}

impl WarningStatus {
    /// Stable name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningStatus::Internal => "internal",
            WarningStatus::Public => "public",
            WarningStatus::Lifted => "lifted",
        }
    }

    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            WarningStatus::Internal => "内部预警",
            WarningStatus::Public => "公开预警",
            WarningStatus::Lifted => "已解除",
        }
    }
}

/// A message's number within its warning, from 1; (warning id, message id) is unique and is
/// what delivery results name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub u32);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Who a message goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Addressee {
    /// A recipient, by [`Recipient::id`].
    Person(String),
    /// The public of the village, through its warning facilities.
    Village(DivisionCode),
    /// The duty officer / leader group on duty (值班员/领导小组); the server resolves the roster.
    Duty,
}

/// Why a message was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The internal warning (or its upgrade) to a responsible person; to be acknowledged.
    Warning,
    /// 催办: the warning again, on the next channel, because the tier did not acknowledge.
    Reminder,
    /// 督办: the next tier up (or the duty officer) told who has not acknowledged or cannot be
    /// reached.
    Escalation,
    /// 公开预警: broadcast or siren to the village.
    Public,
    /// 解除建议: the duty officer told that the lift is due.
    LiftProposal,
    /// 解除通知: the lift, to the persons and (when warned) the village.
    Lift,
}

/// A message's delivery as the channel adapter reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    /// Sent, no result yet.
    Pending,
    /// The adapter delivered it.
    Delivered {
        /// When the result came.
        at: DateTime<Utc>,
    },
    /// The adapter failed.
    Failed {
        /// When the result came.
        at: DateTime<Utc>,
        /// The adapter's error.
        error: String,
    },
}

/// A message the warning sent (one per channel attempt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its number in the warning.
    pub id: MessageId,
    /// To whom.
    pub to: Addressee,
    /// On which channel.
    pub channel: Channel,
    /// The text sent.
    pub text: String,
    /// Why.
    pub purpose: Purpose,
    /// The warning's grade when it was sent.
    pub grade: Grade,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// The message whose failure this one falls back from.
    pub fallback_of: Option<MessageId>,
    /// Its delivery.
    pub delivery: Delivery,
}

/// A person's acknowledgement (确认回复).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// When.
    pub at: DateTime<Utc>,
    /// On which channel the answer came.
    pub channel: Channel,
    /// What they answered (may be empty: a tap in the app).
    pub text: String,
}

/// A recipient and where they stand for the current grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientState {
    /// The person.
    pub person: Recipient,
    /// Index into `person.channels` of the channel last used.
    pub channel: usize,
    /// When they were first told of the current grade.
    pub notified_at: Option<DateTime<Utc>>,
    /// Their acknowledgement of the current grade (reset by an upgrade).
    pub ack: Option<Ack>,
    /// Every channel failed for the last message to them (cleared by a delivery or an answer).
    pub unreachable: bool,
    /// Reminders sent for the current grade.
    pub reminders: u8,
}

impl RecipientState {
    /// The channel last used for this person.
    pub fn current_channel(&self) -> Channel {
        self.person.channels.get(self.channel).or(self.person.channels.first()).copied().unwrap_or(Channel::InApp)
    }
}

/// The acknowledgement clock of one tier for the current grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierClock {
    /// The tier.
    pub tier: Tier,
    /// When it escalates next, unless every person of the tier has acknowledged.
    pub due_at: Option<DateTime<Utc>>,
    /// How often it has escalated for the current grade.
    pub escalations: u8,
}

/// Why a warning escalated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationCause {
    /// The tier did not acknowledge in time.
    NoAck,
    /// Every channel of a person failed.
    Unreachable,
    /// A public channel failed, or the village has none.
    PublicFailed,
}

/// Whom an escalation told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "tier", rename_all = "snake_case")]
pub enum EscalationTarget {
    /// The persons of this tier.
    Tier(Tier),
    /// The duty officer / leader group.
    Duty,
}

/// One escalation (督办) of the warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// When.
    pub at: DateTime<Utc>,
    /// The grade at the time.
    pub grade: Grade,
    /// The tier that did not acknowledge or could not be reached (none for a public channel).
    pub tier: Option<Tier>,
    /// Why.
    pub cause: EscalationCause,
    /// The tier's count of escalations for this grade (1 for the first).
    pub round: u8,
    /// The persons concerned (ids).
    pub persons: Vec<String>,
    /// Who was told.
    pub told: EscalationTarget,
}

/// Why the public warning was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicReason {
    /// A person decided (township or county).
    Decided,
    /// The grade means people must leave ([`Policy::auto_public_on_evacuate`]).
    Evacuate,
    /// Nobody issued it within [`Policy::auto_public_after_minutes`].
    Delay,
    /// Re-issued for a higher grade.
    Upgrade,
}

impl PublicReason {
    /// Stable name, as stored and in the trail.
    pub fn as_str(self) -> &'static str {
        match self {
            PublicReason::Decided => "decided",
            PublicReason::Evacuate => "evacuate",
            PublicReason::Delay => "delay",
            PublicReason::Upgrade => "upgrade",
        }
    }
}

/// The public warning as issued (公开预警发布记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicIssue {
    /// When.
    pub at: DateTime<Utc>,
    /// At which grade.
    pub grade: Grade,
    /// Who issued it (none when automatic).
    pub by: Option<Actor>,
    /// Why.
    pub reason: PublicReason,
    /// The channels used (empty when the village has none).
    pub channels: Vec<Channel>,
}

/// How a warning ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiftKind {
    /// 解除: the danger has passed; CAP `Update` with responseType `AllClear`.
    AllClear,
    /// 撤销: the warning was issued in error; CAP `Cancel`.
    InError,
}

/// The lift as done (解除记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiftRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Who lifted it (none when automatic).
    pub by: Option<Actor>,
    /// Why.
    pub reason: String,
    /// All clear or withdrawn.
    pub kind: LiftKind,
}

/// CAP 1.2 msgType of a published document (the subset a warning publishes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CapMsgType {
    /// The first document of a warning.
    Alert,
    /// An upgrade or a lift.
    Update,
    /// A warning withdrawn as issued in error.
    Cancel,
}

impl CapMsgType {
    /// The CAP 1.2 value (`Alert`, `Update`, `Cancel`).
    pub fn as_str(self) -> &'static str {
        match self {
            CapMsgType::Alert => "Alert",
            CapMsgType::Update => "Update",
            CapMsgType::Cancel => "Cancel",
        }
    }
}

/// CAP 1.2 responseType of a published document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CapResponse {
    /// 准备转移 (and the four-colour grades below orange).
    Prepare,
    /// 立即转移 (orange and red).
    Evacuate,
    /// 解除.
    AllClear,
}

impl CapResponse {
    /// The CAP 1.2 value (`Prepare`, `Evacuate`, `AllClear`).
    pub fn as_str(self) -> &'static str {
        match self {
            CapResponse::Prepare => "Prepare",
            CapResponse::Evacuate => "Evacuate",
            CapResponse::AllClear => "AllClear",
        }
    }

    /// The response a grade asks for.
    pub fn of(grade: Grade) -> CapResponse {
        if grade.evacuate() {
            CapResponse::Evacuate
        } else {
            CapResponse::Prepare
        }
    }
}

/// A CAP document the warning published: its number in the warning and its `sent` time, from
/// which the server rebuilds the GB/T 35965.1 identifier it gave it (for `references`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CapRef {
    /// 1 for the warning's first document.
    pub sequence: u32,
    /// Its `sent` time.
    pub sent: DateTime<Utc>,
    /// Its msgType.
    pub msg_type: CapMsgType,
}

/// One village's warning (山洪预警), as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// The warning's id (given by the store).
    pub id: i64,
    /// The village's 12-digit division code.
    pub village: DivisionCode,
    /// The village's name as messages use it.
    pub village_name: String,
    /// The current grade.
    pub grade: Grade,
    /// What raised the current grade.
    pub trigger: Trigger,
    /// Where it is in its lifecycle.
    pub status: WarningStatus,
    /// When it was raised.
    pub opened_at: DateTime<Utc>,
    /// When the current grade was raised.
    pub grade_since: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// 1 when raised, +1 on every change (optimistic locking in the store).
    pub version: u32,
    /// The policy in force for this warning.
    pub policy: Policy,
    /// The responsible persons and their acknowledgements.
    pub recipients: Vec<RecipientState>,
    /// The village's public facilities usable by the broadcast system.
    pub public_channels: Vec<Channel>,
    /// Every message sent, in order; `messages[i].id == i + 1`.
    pub messages: Vec<Message>,
    /// The acknowledgement clocks of the tiers that have persons, for the current grade.
    pub tiers: Vec<TierClock>,
    /// Every escalation, in order.
    pub escalations: Vec<Escalation>,
    /// The public warning, once issued (the latest issue).
    pub public: Option<PublicIssue>,
    /// When the public warning is issued automatically ([`Policy::auto_public_after_minutes`]).
    pub public_due_at: Option<DateTime<Utc>>,
    /// The CAP documents published, in order.
    pub cap: Vec<CapRef>,
    /// Since when every window has been below the lowest threshold, as the evaluation says.
    pub quiet_since: Option<DateTime<Utc>>,
    /// When the lift was proposed to the duty officer.
    pub lift_proposed_at: Option<DateTime<Utc>>,
    /// The lift, once done.
    pub lift: Option<LiftRecord>,
    /// The next tick the server was asked for.
    pub next_tick: Option<DateTime<Utc>>,
}

impl Warning {
    /// Whether the warning has been lifted (or withdrawn).
    pub fn is_lifted(&self) -> bool {
        self.status == WarningStatus::Lifted
    }

    /// The recipient with this id.
    pub fn recipient(&self, id: &str) -> Option<&RecipientState> {
        self.recipients.iter().find(|r| r.person.id == id)
    }

    /// A message by its id.
    pub fn message(&self, id: MessageId) -> Option<&Message> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.messages.get(index).filter(|m| m.id == id)
    }

    /// The recipients who have not acknowledged the current grade.
    pub fn unacknowledged(&self) -> impl Iterator<Item = &RecipientState> {
        self.recipients.iter().filter(|r| r.ack.is_none())
    }

    /// Escalations at the current grade.
    pub fn escalation_level(&self) -> usize {
        self.escalations.iter().filter(|e| e.at >= self.grade_since && e.grade == self.grade).count()
    }
}

/// The kind of an [`Event`], for errors and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// 发布/维持预警.
    Raise,
    /// 送达回执.
    Deliver,
    /// 确认.
    Ack,
    /// 定时检查.
    Tick,
    /// 发布公开预警.
    IssuePublic,
    /// 升级.
    Upgrade,
    /// 雨量回落.
    Calm,
    /// 解除.
    Lift,
}

impl EventKind {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Raise => "raise",
            EventKind::Deliver => "deliver",
            EventKind::Ack => "ack",
            EventKind::Tick => "tick",
            EventKind::IssuePublic => "issue_public",
            EventKind::Upgrade => "upgrade",
            EventKind::Calm => "calm",
            EventKind::Lift => "lift",
        }
    }

    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            EventKind::Raise => "发布预警",
            EventKind::Deliver => "送达回执",
            EventKind::Ack => "确认",
            EventKind::Tick => "定时检查",
            EventKind::IssuePublic => "发布公开预警",
            EventKind::Upgrade => "升级预警",
            EventKind::Calm => "雨量回落",
            EventKind::Lift => "解除预警",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.zh(), self.as_str())
    }
}

/// What happens to a warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The evaluation says the village is at this grade: a higher grade upgrades, the same or a
    /// lower one is a no-op (and ends a quiet spell). On a lifted warning it is an error: the
    /// server raises a new warning with [`open`].
    Raise(Raise),
    /// A channel adapter's result for a message.
    Deliver {
        /// The message.
        message: MessageId,
        /// Delivered or failed.
        ok: bool,
        /// The adapter's error when it failed.
        #[serde(default)]
        error: String,
    },
    /// A person's acknowledgement (or any later answer).
    Ack {
        /// The recipient's id.
        #[serde(default)]
        person: String,
        /// The channel the answer came on.
        channel: Channel,
        /// What they answered.
        #[serde(default)]
        text: String,
    },
    /// Time passed: escalate, issue or propose what is due at `now`.
    Tick,
    /// A person (township or county) issues the public warning.
    IssuePublic {
        /// Who.
        by: Actor,
        /// Optional note for the trail.
        #[serde(default)]
        note: String,
    },
    /// Upgrade to a higher grade of the same scheme (a person's decision or a new trigger).
    Upgrade {
        /// The new grade.
        grade: Grade,
        /// What justifies it.
        trigger: Trigger,
    },
    /// The evaluation says every window has been below the lowest threshold since `since`
    /// (counted from the current grade's raise at the earliest); after
    /// [`Policy::lift_quiet_minutes`] the lift is proposed (or done, [`Policy::auto_lift`]).
    Calm {
        /// Since when.
        since: DateTime<Utc>,
    },
    /// A person lifts the warning (解除) or withdraws it as issued in error (撤销).
    Lift {
        /// Who.
        by: Actor,
        /// Why (required).
        #[serde(default)]
        reason: String,
        /// All clear or in error.
        kind: LiftKind,
    },
}

impl Event {
    /// The kind of this event.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Raise(_) => EventKind::Raise,
            Event::Deliver { .. } => EventKind::Deliver,
            Event::Ack { .. } => EventKind::Ack,
            Event::Tick => EventKind::Tick,
            Event::IssuePublic { .. } => EventKind::IssuePublic,
            Event::Upgrade { .. } => EventKind::Upgrade,
            Event::Calm { .. } => EventKind::Calm,
            Event::Lift { .. } => EventKind::Lift,
        }
    }
}

/// What the server must do after a transition, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Send a message through a channel adapter and report back with [`Event::Deliver`].
    Send {
        /// The message's id in the warning.
        message: MessageId,
        /// To whom.
        to: Addressee,
        /// On which channel.
        channel: Channel,
        /// The text.
        text: String,
    },
    /// Open the follow-up case in the closed loop (once per warning).
    OpenCase {
        /// The village.
        village: DivisionCode,
        /// The grade when raised.
        grade: Grade,
        /// A title for the case.
        title: String,
        /// What the case is about.
        description: String,
    },
    /// Publish a CAP 1.2 document for the warning as it now stands.
    PublishCap {
        /// Its number in the warning and its `sent` time.
        cap: CapRef,
        /// responseType (none for a Cancel).
        response: Option<CapResponse>,
        /// The grade it announces.
        grade: Grade,
        /// The warning's earlier documents, oldest first (CAP `references`).
        references: Vec<CapRef>,
    },
    /// Apply [`Event::Tick`] at this time (or as soon after as possible).
    ScheduleTick {
        /// When.
        at: DateTime<Utc>,
    },
}

/// The kind of a [`TrailEntry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrailKind {
    /// The warning was raised.
    Raised,
    /// The grade went up.
    Upgraded,
    /// A message was sent.
    Sent,
    /// A message was delivered.
    Delivered,
    /// A message failed.
    DeliveryFailed,
    /// Every channel of a person failed.
    AllChannelsFailed,
    /// A person acknowledged.
    Acknowledged,
    /// A person answered again after acknowledging.
    RepeatedAnswer,
    /// A person answered after the lift.
    LateAnswer,
    /// The warning escalated.
    Escalated,
    /// The public warning was issued.
    PublicIssued,
    /// The public warning was due but the village has no public channel.
    PublicUnavailable,
    /// The follow-up case was asked for.
    CaseOpened,
    /// A CAP document was published.
    CapPublished,
    /// The lift was proposed to the duty officer.
    LiftProposed,
    /// The warning was lifted or withdrawn.
    Lifted,
}

impl TrailKind {
    /// Chinese label for the review.
    pub fn zh(self) -> &'static str {
        match self {
            TrailKind::Raised => "发布预警",
            TrailKind::Upgraded => "预警升级",
            TrailKind::Sent => "发送",
            TrailKind::Delivered => "送达",
            TrailKind::DeliveryFailed => "发送失败",
            TrailKind::AllChannelsFailed => "全部渠道失败",
            TrailKind::Acknowledged => "确认",
            TrailKind::RepeatedAnswer => "再次回复",
            TrailKind::LateAnswer => "解除后回复",
            TrailKind::Escalated => "督办",
            TrailKind::PublicIssued => "公开预警",
            TrailKind::PublicUnavailable => "无公开预警设施",
            TrailKind::CaseOpened => "生成案件",
            TrailKind::CapPublished => "发布CAP",
            TrailKind::LiftProposed => "建议解除",
            TrailKind::Lifted => "解除预警",
        }
    }
}

/// One line of the warning's trail (预警过程记录): every message and every answer, read by the
/// post-event review. The shape is stable: every field is always present (null when it does
/// not apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: TrailKind,
    /// The warning's grade at the time.
    pub grade: Grade,
    /// Who: a recipient's id, a village code, `duty`, or the actor's id.
    pub who: Option<String>,
    /// Their name.
    pub name: Option<String>,
    /// Their tier.
    pub tier: Option<Tier>,
    /// The channel.
    pub channel: Option<Channel>,
    /// The message concerned.
    pub message: Option<MessageId>,
    /// The text sent or answered, or the reason given.
    pub text: Option<String>,
    /// How it went: an adapter's error, `prepare→immediate`, a CAP msgType, …
    pub outcome: Option<String>,
}

/// What [`open`] and [`apply`] return: the next warning, the effects in order, the trail.
pub type Applied = (Warning, Vec<Effect>, Vec<TrailEntry>);

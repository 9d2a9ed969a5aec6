//! The duty officer's view of one warning (值班督办): who has not acknowledged, by tier, and
//! for how long.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::codes::DivisionCode;

use super::text::channel_zh;
use super::{Warning, WarningStatus};
use crate::vocab::{Channel, Grade, Tier};

/// A person who has not acknowledged the current grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingPerson {
    /// The recipient's id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// The channel last used.
    pub channel: Channel,
    /// When they were told of the current grade.
    pub notified_at: Option<DateTime<Utc>>,
    /// Minutes since then.
    pub waiting_minutes: i64,
    /// Reminders sent.
    pub reminders: u8,
    /// Every channel failed for the last message.
    pub unreachable: bool,
}

/// One tier's acknowledgements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierSummary {
    /// The tier.
    pub tier: Tier,
    /// Persons of the tier.
    pub persons: usize,
    /// How many have acknowledged.
    pub acknowledged: usize,
    /// Those who have not, longest waiting first.
    pub waiting: Vec<WaitingPerson>,
    /// When the tier escalates next.
    pub due_at: Option<DateTime<Utc>>,
    /// Escalations of the tier at the current grade.
    pub escalations: u8,
}

/// One warning on the duty screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutySummary {
    /// The warning.
    pub warning: i64,
    /// The village.
    pub village: DivisionCode,
    /// Its name.
    pub village_name: String,
    /// The grade.
    pub grade: Grade,
    /// The status.
    pub status: WarningStatus,
    /// When it was raised.
    pub opened_at: DateTime<Utc>,
    /// Minutes since the current grade was raised.
    pub grade_minutes: i64,
    /// When the public warning went out.
    pub public_at: Option<DateTime<Utc>>,
    /// Persons who have not acknowledged, all tiers.
    pub unacknowledged: usize,
    /// Escalations at the current grade.
    pub escalations: usize,
    /// Per tier, county first (only tiers with persons).
    pub tiers: Vec<TierSummary>,
}

impl DutySummary {
    /// One line per tier in Chinese, for the screen and the duty officer's SMS digest, e.g.
    /// `村级：2 人，已确认 1 人；未确认：王五（12 分钟，短信，催办 1 次）`.
    pub fn lines_zh(&self) -> Vec<String> {
        self.tiers
            .iter()
            .map(|t| {
                let mut line = format!("{}：{} 人，已确认 {} 人", t.tier.zh(), t.persons, t.acknowledged);
                if !t.waiting.is_empty() {
                    let who: Vec<String> = t
                        .waiting
                        .iter()
                        .map(|p| {
                            let mut s = format!("{}（{} 分钟，{}", p.name, p.waiting_minutes, channel_zh(p.channel));
                            if p.reminders > 0 {
                                s.push_str(&format!("，催办 {} 次", p.reminders));
                            }
                            if p.unreachable {
                                s.push_str("，无法送达");
                            }
                            s.push('）');
                            s
                        })
                        .collect();
                    line.push_str(&format!("；未确认：{}", who.join("、")));
                }
                line
            })
            .collect()
    }
}

/// The duty officer's summary of a warning at `now`.
pub fn duty_summary(w: &Warning, now: DateTime<Utc>) -> DutySummary {
    let tiers = Tier::ALL
        .into_iter()
        .filter(|t| w.recipients.iter().any(|r| r.person.tier == *t))
        .map(|tier| {
            let of_tier: Vec<_> = w.recipients.iter().filter(|r| r.person.tier == tier).collect();
            let mut waiting: Vec<WaitingPerson> = of_tier
                .iter()
                .filter(|r| r.ack.is_none())
                .map(|r| WaitingPerson {
                    id: r.person.id.clone(),
                    name: r.person.name.clone(),
                    channel: r.current_channel(),
                    notified_at: r.notified_at,
                    waiting_minutes: r.notified_at.map_or(0, |t| now.signed_duration_since(t).num_minutes().max(0)),
                    reminders: r.reminders,
                    unreachable: r.unreachable,
                })
                .collect();
            waiting.sort_by(|a, b| b.waiting_minutes.cmp(&a.waiting_minutes).then_with(|| a.id.cmp(&b.id)));
            let clock = w.tiers.iter().find(|c| c.tier == tier);
            TierSummary {
                tier,
                persons: of_tier.len(),
                acknowledged: of_tier.iter().filter(|r| r.ack.is_some()).count(),
                waiting,
                due_at: clock.and_then(|c| c.due_at),
                escalations: clock.map_or(0, |c| c.escalations),
            }
        })
        .collect();
    DutySummary {
        warning: w.id,
        village: w.village.clone(),
        village_name: w.village_name.clone(),
        grade: w.grade,
        status: w.status,
        opened_at: w.opened_at,
        grade_minutes: now.signed_duration_since(w.grade_since).num_minutes().max(0),
        public_at: w.public.as_ref().map(|p| p.at),
        unacknowledged: w.unacknowledged().count(),
        escalations: w.escalation_level(),
        tiers,
    }
}

//! The transitions: [`open`] raises a warning, [`apply`] moves one along.

use chrono::{DateTime, TimeDelta, Utc};

use super::check::{actor, bounded, raise, required, trigger};
use super::{
    text, Ack, Actor, Addressee, Applied, CapMsgType, CapRef, CapResponse, Delivery, Effect, Escalation,
    EscalationCause, EscalationTarget, Event, EventKind, LiftKind, LiftRecord, Message, MessageId, Policy, PublicIssue,
    PublicReason, Purpose, Raise, RecipientState, TierClock, TrailEntry, TrailKind, Trigger, Warning, WarningError,
    WarningStatus,
};
use crate::vocab::{Channel, Grade, Tier};

fn minutes(m: u32) -> TimeDelta {
    TimeDelta::try_minutes(i64::from(m)).unwrap_or(TimeDelta::MAX)
}

fn later(t: DateTime<Utc>, m: u32) -> Option<DateTime<Utc>> {
    t.checked_add_signed(minutes(m))
}

/// The tier above, on the way up the chain (组 → 村 → 乡镇 → 县); none above the county.
pub fn tier_above(tier: Tier) -> Option<Tier> {
    match tier {
        Tier::Group => Some(Tier::Village),
        Tier::Village => Some(Tier::Township),
        Tier::Township => Some(Tier::County),
        Tier::County => None,
    }
}

/// Raise a new warning for a village: the internal warning to every recipient, the follow-up
/// case, the CAP `Alert`, the public warning when the grade and policy say so, and the tick for
/// the first acknowledgement deadline.
pub fn open(id: i64, r: &Raise, policy: &Policy, now: DateTime<Utc>) -> Result<Applied, WarningError> {
    let r = raise(EventKind::Raise, r)?;
    policy.validate()?;
    let recipients = r
        .recipients
        .into_iter()
        .map(|person| RecipientState {
            person,
            channel: 0,
            notified_at: None,
            ack: None,
            unreachable: false,
            reminders: 0,
        })
        .collect();
    let warning = Warning {
        id,
        village: r.village,
        village_name: r.village_name,
        grade: r.grade,
        trigger: r.trigger,
        status: WarningStatus::Internal,
        opened_at: now,
        grade_since: now,
        updated_at: now,
        version: 1,
        policy: policy.clone(),
        recipients,
        public_channels: r.public_channels,
        messages: Vec::new(),
        tiers: Vec::new(),
        escalations: Vec::new(),
        public: None,
        public_due_at: None,
        cap: Vec::new(),
        quiet_since: None,
        lift_proposed_at: None,
        lift: None,
        next_tick: None,
    };
    let mut cx = Cx { w: warning, effects: Vec::new(), trail: Vec::new(), now };
    let mut raised = cx.entry(TrailKind::Raised);
    raised.text = Some(text::trigger_detail(&cx.w.trigger));
    raised.outcome = Some(cx.w.grade.as_str().to_owned());
    cx.trail.push(raised);
    cx.publish_cap(CapMsgType::Alert, Some(CapResponse::of(cx.w.grade)));
    let description = text::internal_message(&cx.w.village_name, cx.w.grade, &cx.w.trigger, false);
    cx.effects.push(Effect::OpenCase {
        village: cx.w.village.clone(),
        grade: cx.w.grade,
        title: text::case_title(&cx.w.village_name, cx.w.grade),
        description: format!("{description}\n{}", text::trigger_detail(&cx.w.trigger)),
    });
    let mut case = cx.entry(TrailKind::CaseOpened);
    case.who = Some(cx.w.village.to_string());
    case.name = Some(cx.w.village_name.clone());
    cx.trail.push(case);
    cx.warn_everyone(false);
    cx.public_for_new_grade();
    let mut w = cx.w;
    w.next_tick = next_tick(&w);
    if let Some(at) = w.next_tick {
        cx.effects.push(Effect::ScheduleTick { at });
    }
    Ok((w, cx.effects, cx.trail))
}

/// Apply an event to a warning at `now`. On error the warning is unchanged (it is borrowed).
///
/// On a lifted warning only delivery results, answers (recorded as late), ticks and calm
/// reports are taken (the last two do nothing); everything else is [`WarningError::Lifted`].
pub fn apply(warning: &Warning, event: Event, now: DateTime<Utc>) -> Result<Applied, WarningError> {
    let kind = event.kind();
    if warning.is_lifted() && !matches!(kind, EventKind::Deliver | EventKind::Ack | EventKind::Tick | EventKind::Calm) {
        return Err(WarningError::Lifted {
            warning: warning.id,
            event: kind,
            lifted_at: warning.lift.as_ref().map_or(warning.updated_at, |l| l.at),
        });
    }
    let mut cx = Cx { w: warning.clone(), effects: Vec::new(), trail: Vec::new(), now };
    match event {
        Event::Raise(r) => {
            let r = raise(kind, &r)?;
            if r.village != warning.village {
                return Err(WarningError::WrongVillage {
                    warning: warning.id,
                    village: warning.village.clone(),
                    got: r.village,
                });
            }
            same_scheme(warning.grade, r.grade)?;
            if r.grade.rank() > warning.grade.rank() {
                cx.upgrade(r.grade, r.trigger);
            } else {
                // Still at (or below) the warning's grade: not quiet any more; nothing is sent.
                cx.w.quiet_since = None;
                cx.w.lift_proposed_at = None;
            }
        }
        Event::Upgrade { grade, trigger: t } => {
            same_scheme(warning.grade, grade)?;
            if grade.rank() <= warning.grade.rank() {
                return Err(WarningError::NotHigher { current: warning.grade, requested: grade });
            }
            let t = trigger(kind, &t)?;
            cx.upgrade(grade, t);
        }
        Event::Deliver { message, ok, error } => cx.deliver(message, ok, &error)?,
        Event::Ack { person, channel, text } => cx.ack(&person, channel, &text)?,
        Event::Tick => {
            if !cx.w.is_lifted() {
                cx.tick();
            }
        }
        Event::IssuePublic { by, note } => {
            let by = actor(kind, "by", &by)?;
            let note = bounded(kind, "note", &note)?;
            if let Some(p) = &warning.public {
                return Err(WarningError::AlreadyPublic { at: p.at, grade: p.grade });
            }
            if cx.usable_public_channels().is_empty() {
                return Err(WarningError::NoPublicChannel {
                    village: warning.village.clone(),
                    wanted: warning.policy.public_channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
                });
            }
            cx.issue_public(Some(by), PublicReason::Decided, &note);
        }
        Event::Calm { since } => {
            if since > now {
                return Err(WarningError::InvalidField {
                    event: kind,
                    field: "since".into(),
                    message: format!("is later than now ({since} > {now})"),
                });
            }
            if !cx.w.is_lifted() {
                // Quiet counts from the current grade at the earliest.
                cx.w.quiet_since = Some(since.max(cx.w.grade_since));
                cx.check_lift();
            }
        }
        Event::Lift { by, reason, kind: lift_kind } => {
            let by = actor(kind, "by", &by)?;
            let reason = required(kind, "reason", &reason)?;
            cx.lift(Some(by), reason, lift_kind);
        }
    }
    let Cx { mut w, mut effects, trail, .. } = cx;
    w.next_tick = next_tick(&w);
    if w.next_tick != warning.next_tick {
        if let Some(at) = w.next_tick {
            effects.push(Effect::ScheduleTick { at });
        }
    }
    if w != *warning {
        w.version = warning.version.saturating_add(1);
        w.updated_at = now;
    }
    Ok((w, effects, trail))
}

/// The public channels the warning can drive: the policy's, where the village has them.
pub fn public_channels(w: &Warning) -> Vec<Channel> {
    w.policy.public_channels.iter().copied().filter(|c| w.public_channels.contains(c)).collect()
}

/// The decisions a person may take on the warning now — issue the public warning, upgrade,
/// lift — in that order: the buttons the duty screen shows. Agrees with [`apply`] for events
/// whose fields are valid.
pub fn decisions(w: &Warning) -> Vec<EventKind> {
    if w.is_lifted() {
        return Vec::new();
    }
    let mut now = Vec::new();
    if w.public.is_none() && !public_channels(w).is_empty() {
        now.push(EventKind::IssuePublic);
    }
    if Grade::of(w.grade.scheme()).iter().any(|g| g.rank() > w.grade.rank()) {
        now.push(EventKind::Upgrade);
    }
    now.push(EventKind::Lift);
    now
}

fn same_scheme(current: Grade, requested: Grade) -> Result<(), WarningError> {
    if current.scheme() == requested.scheme() {
        Ok(())
    } else {
        Err(WarningError::SchemeMismatch { current, requested })
    }
}

/// When the warning next needs a tick: the earliest acknowledgement deadline, automatic public
/// warning or lift.
fn next_tick(w: &Warning) -> Option<DateTime<Utc>> {
    if w.is_lifted() {
        return None;
    }
    let public = w.public_due_at.filter(|_| w.public.is_none());
    let lift = match (w.quiet_since, w.lift_proposed_at) {
        (Some(since), None) => later(since, w.policy.lift_quiet_minutes),
        _ => None,
    };
    w.tiers.iter().filter_map(|t| t.due_at).chain(public).chain(lift).min()
}

/// A transition being built.
struct Cx {
    w: Warning,
    effects: Vec<Effect>,
    trail: Vec<TrailEntry>,
    now: DateTime<Utc>,
}

impl Cx {
    fn entry(&self, kind: TrailKind) -> TrailEntry {
        TrailEntry {
            at: self.now,
            kind,
            grade: self.w.grade,
            who: None,
            name: None,
            tier: None,
            channel: None,
            message: None,
            text: None,
            outcome: None,
        }
    }

    /// Fill in who a message's addressee is.
    fn addressee_entry(&self, kind: TrailKind, to: &Addressee) -> TrailEntry {
        let mut e = self.entry(kind);
        match to {
            Addressee::Person(id) => {
                e.who = Some(id.clone());
                if let Some(r) = self.w.recipient(id) {
                    e.name = Some(r.person.name.clone());
                    e.tier = Some(r.person.tier);
                }
            }
            Addressee::Village(code) => {
                e.who = Some(code.to_string());
                e.name = Some(self.w.village_name.clone());
            }
            Addressee::Duty => {
                e.who = Some("duty".into());
                e.name = Some("值班员".into());
            }
        }
        e
    }

    fn send(
        &mut self,
        to: Addressee,
        channel: Channel,
        text: String,
        purpose: Purpose,
        fallback_of: Option<MessageId>,
    ) -> MessageId {
        let id = MessageId(u32::try_from(self.w.messages.len()).unwrap_or(u32::MAX).saturating_add(1));
        let mut e = self.addressee_entry(TrailKind::Sent, &to);
        e.channel = Some(channel);
        e.message = Some(id);
        e.text = Some(text.clone());
        e.outcome = Some(match fallback_of {
            Some(f) => format!("{}; fallback of {f}", purpose_name(purpose)),
            None => purpose_name(purpose).to_owned(),
        });
        self.trail.push(e);
        self.effects.push(Effect::Send { message: id, to: to.clone(), channel, text: text.clone() });
        self.w.messages.push(Message {
            id,
            to,
            channel,
            text,
            purpose,
            grade: self.w.grade,
            sent_at: self.now,
            fallback_of,
            delivery: Delivery::Pending,
        });
        id
    }

    fn send_to_person(&mut self, index: usize, text: String, purpose: Purpose) {
        let Some(r) = self.w.recipients.get(index) else { return };
        let (id, channel) = (r.person.id.clone(), r.current_channel());
        self.send(Addressee::Person(id), channel, text, purpose, None);
    }

    fn tell_duty(&mut self, text: String, purpose: Purpose) {
        let channel = self.w.policy.duty_channel;
        self.send(Addressee::Duty, channel, text, purpose, None);
    }

    fn publish_cap(&mut self, msg_type: CapMsgType, response: Option<CapResponse>) {
        let sequence = u32::try_from(self.w.cap.len()).unwrap_or(u32::MAX).saturating_add(1);
        let cap = CapRef { sequence, sent: self.now, msg_type };
        let references = self.w.cap.clone();
        self.effects.push(Effect::PublishCap { cap, response, grade: self.w.grade, references });
        self.w.cap.push(cap);
        let mut e = self.entry(TrailKind::CapPublished);
        e.outcome = Some(match response {
            Some(r) => format!("{} {} #{sequence}", msg_type.as_str(), r.as_str()),
            None => format!("{} #{sequence}", msg_type.as_str()),
        });
        self.trail.push(e);
    }

    /// The internal warning (or its upgrade) to every recipient on their first channel; the
    /// acknowledgements and tier clocks start afresh.
    fn warn_everyone(&mut self, upgrade: bool) {
        let text = text::internal_message(&self.w.village_name, self.w.grade, &self.w.trigger, upgrade);
        for i in 0..self.w.recipients.len() {
            if let Some(r) = self.w.recipients.get_mut(i) {
                r.channel = 0;
                r.notified_at = Some(self.now);
                r.ack = None;
                r.unreachable = false;
                r.reminders = 0;
            }
            self.send_to_person(i, text.clone(), Purpose::Warning);
        }
        let now = self.now;
        let policy = self.w.policy.clone();
        self.w.tiers = Tier::ALL
            .into_iter()
            .filter(|t| self.w.recipients.iter().any(|r| r.person.tier == *t))
            .map(|tier| TierClock { tier, due_at: later(now, policy.ack_minutes.of(tier)), escalations: 0 })
            .collect();
    }

    /// The public warning at a new grade: re-issued when it was out, issued at once for
    /// evacuate grades when the policy says so, or scheduled after the policy's delay.
    fn public_for_new_grade(&mut self) {
        let policy = &self.w.policy;
        if self.w.public.is_some() {
            self.issue_public(None, PublicReason::Upgrade, "");
        } else if policy.auto_public_on_evacuate && self.w.grade.evacuate() {
            self.issue_public(None, PublicReason::Evacuate, "");
        } else if let Some(m) = policy.auto_public_after_minutes {
            if self.w.public_due_at.is_none() {
                self.w.public_due_at = later(self.now, m);
            }
        }
    }

    fn usable_public_channels(&self) -> Vec<Channel> {
        public_channels(&self.w)
    }

    fn issue_public(&mut self, by: Option<Actor>, reason: PublicReason, note: &str) {
        let channels = self.usable_public_channels();
        self.w.public_due_at = None;
        let mut e =
            self.entry(if channels.is_empty() { TrailKind::PublicUnavailable } else { TrailKind::PublicIssued });
        if let Some(a) = &by {
            e.who = Some(a.id.clone());
            e.name = Some(a.name.clone());
        }
        e.text = (!note.is_empty()).then(|| note.to_owned());
        e.outcome = Some(reason.as_str().to_owned());
        self.trail.push(e);
        if channels.is_empty() {
            // Nothing to drive: people must go round with gongs; the duty officer is told.
            self.escalations_push(None, EscalationCause::PublicFailed, Vec::new(), EscalationTarget::Duty);
            let text = text::public_unavailable_message(&self.w.village_name);
            self.tell_duty(text, Purpose::Escalation);
            return;
        }
        let text = text::public_message(&self.w.village_name, self.w.grade, &self.w.trigger);
        for &c in &channels {
            self.send(Addressee::Village(self.w.village.clone()), c, text.clone(), Purpose::Public, None);
        }
        self.w.public = Some(PublicIssue { at: self.now, grade: self.w.grade, by, reason, channels });
        self.w.status = WarningStatus::Public;
    }

    fn escalations_push(
        &mut self,
        tier: Option<Tier>,
        cause: EscalationCause,
        persons: Vec<String>,
        told: EscalationTarget,
    ) {
        let round = tier.and_then(|t| self.w.tiers.iter().find(|c| c.tier == t)).map_or(1, |c| c.escalations.max(1));
        let mut e = self.entry(TrailKind::Escalated);
        e.tier = tier;
        if !persons.is_empty() {
            e.who = Some(persons.join(","));
            let names: Vec<&str> =
                persons.iter().filter_map(|id| self.w.recipient(id)).map(|r| r.person.name.as_str()).collect();
            e.name = Some(names.join("、"));
        }
        e.outcome = Some(match told {
            EscalationTarget::Tier(t) => format!("{} → {}", cause_name(cause), t.as_str()),
            EscalationTarget::Duty => format!("{} → duty", cause_name(cause)),
        });
        self.trail.push(e);
        self.w.escalations.push(Escalation { at: self.now, grade: self.w.grade, tier, cause, round, persons, told });
    }

    /// Tell the next tier up with persons (or the duty officer) about `persons` of `tier`.
    fn escalate(&mut self, tier: Tier, cause: EscalationCause, persons: Vec<String>) {
        let mut up = tier_above(tier);
        while let Some(t) = up {
            if self.w.recipients.iter().any(|r| r.person.tier == t) {
                break;
            }
            up = tier_above(t);
        }
        let names: Vec<String> =
            persons.iter().filter_map(|id| self.w.recipient(id)).map(|r| r.person.name.clone()).collect();
        let waited = self.now.signed_duration_since(self.w.grade_since).num_minutes();
        let text = match cause {
            EscalationCause::Unreachable => text::unreachable_message(&self.w.village_name, self.w.grade, tier, &names),
            _ => text::escalation_message(&self.w.village_name, self.w.grade, tier, &names, waited),
        };
        let told = up.map_or(EscalationTarget::Duty, EscalationTarget::Tier);
        self.escalations_push(Some(tier), cause, persons, told);
        match up {
            Some(t) => {
                let upper: Vec<usize> = (0..self.w.recipients.len())
                    .filter(|&i| self.w.recipients.get(i).is_some_and(|r| r.person.tier == t))
                    .collect();
                for i in upper {
                    self.send_to_person(i, text.clone(), Purpose::Escalation);
                }
            }
            None => self.tell_duty(text, Purpose::Escalation),
        }
    }

    fn upgrade(&mut self, grade: Grade, trigger: Trigger) {
        let from = self.w.grade;
        self.w.grade = grade;
        self.w.trigger = trigger;
        self.w.grade_since = self.now;
        self.w.quiet_since = None;
        self.w.lift_proposed_at = None;
        let mut e = self.entry(TrailKind::Upgraded);
        e.text = Some(text::trigger_detail(&self.w.trigger));
        e.outcome = Some(format!("{}→{}", from.as_str(), grade.as_str()));
        self.trail.push(e);
        self.publish_cap(CapMsgType::Update, Some(CapResponse::of(grade)));
        self.warn_everyone(true);
        self.public_for_new_grade();
    }

    fn tick(&mut self) {
        let now = self.now;
        for k in 0..self.w.tiers.len() {
            let Some(clock) = self.w.tiers.get(k).cloned() else { continue };
            if clock.due_at.is_none_or(|d| d > now) {
                continue;
            }
            let waiting: Vec<usize> = (0..self.w.recipients.len())
                .filter(|&i| self.w.recipients.get(i).is_some_and(|r| r.person.tier == clock.tier && r.ack.is_none()))
                .collect();
            let escalations = clock.escalations.saturating_add(1);
            if let Some(c) = self.w.tiers.get_mut(k) {
                if waiting.is_empty() {
                    c.due_at = None;
                    continue;
                }
                c.escalations = escalations;
                c.due_at = if escalations < self.w.policy.max_escalations {
                    later(now, self.w.policy.ack_minutes.of(clock.tier))
                } else {
                    None
                };
            }
            // Re-send on each waiting person's next channel.
            let upgraded = self.w.grade_since > self.w.opened_at;
            let base = text::internal_message(&self.w.village_name, self.w.grade, &self.w.trigger, upgraded);
            for &i in &waiting {
                let Some(r) = self.w.recipients.get_mut(i) else { continue };
                r.channel = (r.channel + 1) % r.person.channels.len().max(1);
                r.reminders = r.reminders.saturating_add(1);
                let text = text::reminder_message(&base, r.reminders);
                self.send_to_person(i, text, Purpose::Reminder);
            }
            let persons =
                waiting.iter().filter_map(|&i| self.w.recipients.get(i)).map(|r| r.person.id.clone()).collect();
            self.escalate(clock.tier, EscalationCause::NoAck, persons);
        }
        if self.w.public.is_none() && self.w.public_due_at.is_some_and(|d| d <= now) {
            self.issue_public(None, PublicReason::Delay, "");
        }
        self.check_lift();
    }

    /// Propose (or, by policy, do) the lift once the quiet time has passed.
    fn check_lift(&mut self) {
        let (Some(since), None) = (self.w.quiet_since, self.w.lift_proposed_at) else { return };
        let quiet = self.w.policy.lift_quiet_minutes;
        if later(since, quiet).is_none_or(|due| due > self.now) {
            return;
        }
        if self.w.policy.auto_lift {
            let reason = text::auto_lift_reason(quiet);
            self.lift(None, reason, LiftKind::AllClear);
        } else {
            self.w.lift_proposed_at = Some(self.now);
            let mut e = self.entry(TrailKind::LiftProposed);
            e.outcome = Some(format!("quiet since {}", since.to_rfc3339()));
            self.trail.push(e);
            let text = text::lift_proposal_message(&self.w.village_name, self.w.grade, quiet);
            self.tell_duty(text, Purpose::LiftProposal);
        }
    }

    fn lift(&mut self, by: Option<Actor>, reason: String, kind: LiftKind) {
        self.w.status = WarningStatus::Lifted;
        for t in &mut self.w.tiers {
            t.due_at = None;
        }
        self.w.public_due_at = None;
        let mut e = self.entry(TrailKind::Lifted);
        if let Some(a) = &by {
            e.who = Some(a.id.clone());
            e.name = Some(a.name.clone());
        }
        e.text = Some(reason.clone());
        e.outcome = Some(match kind {
            LiftKind::AllClear => "all_clear".into(),
            LiftKind::InError => "in_error".into(),
        });
        self.trail.push(e);
        match kind {
            LiftKind::AllClear => self.publish_cap(CapMsgType::Update, Some(CapResponse::AllClear)),
            LiftKind::InError => self.publish_cap(CapMsgType::Cancel, None),
        }
        let text = text::lift_message(&self.w.village_name, self.w.grade, kind, &reason);
        for i in 0..self.w.recipients.len() {
            self.send_to_person(i, text.clone(), Purpose::Lift);
        }
        if let Some(p) = self.w.public.clone() {
            for c in p.channels {
                self.send(Addressee::Village(self.w.village.clone()), c, text.clone(), Purpose::Lift, None);
            }
        }
        self.w.lift = Some(LiftRecord { at: self.now, by, reason, kind });
    }

    fn deliver(&mut self, id: MessageId, ok: bool, error: &str) -> Result<(), WarningError> {
        let sent = self.w.messages.len();
        let Some(index) = usize::try_from(id.0).ok().and_then(|i| i.checked_sub(1)).filter(|&i| i < sent) else {
            return Err(WarningError::UnknownMessage { warning: self.w.id, message: id, sent });
        };
        let error = if ok { String::new() } else { bounded(EventKind::Deliver, "error", error)? };
        let Some(message) = self.w.messages.get(index).cloned() else {
            return Err(WarningError::UnknownMessage { warning: self.w.id, message: id, sent });
        };
        match &message.delivery {
            Delivery::Pending => {}
            Delivery::Delivered { .. } if ok => return Ok(()),
            Delivery::Failed { .. } if !ok => return Ok(()),
            d => {
                return Err(WarningError::DeliveryConflict {
                    message: id,
                    reported_ok: matches!(d, Delivery::Delivered { .. }),
                    now_ok: ok,
                })
            }
        }
        let mut e =
            self.addressee_entry(if ok { TrailKind::Delivered } else { TrailKind::DeliveryFailed }, &message.to);
        e.channel = Some(message.channel);
        e.message = Some(id);
        e.outcome = (!ok).then(|| if error.is_empty() { "failed".to_owned() } else { error.clone() });
        self.trail.push(e);
        if let Some(m) = self.w.messages.get_mut(index) {
            m.delivery = if ok {
                Delivery::Delivered { at: self.now }
            } else {
                Delivery::Failed { at: self.now, error: error.clone() }
            };
        }
        match &message.to {
            Addressee::Person(pid) => {
                let Some(ri) = self.w.recipients.iter().position(|r| &r.person.id == pid) else { return Ok(()) };
                if ok {
                    if let Some(r) = self.w.recipients.get_mut(ri) {
                        r.unreachable = false;
                    }
                    return Ok(());
                }
                self.fall_back(ri, &message);
            }
            Addressee::Village(_) if !ok && !self.w.is_lifted() => {
                self.escalations_push(None, EscalationCause::PublicFailed, Vec::new(), EscalationTarget::Duty);
                let text = text::public_failed_message(&self.w.village_name, message.channel, &error);
                self.tell_duty(text, Purpose::Escalation);
            }
            _ => {}
        }
        Ok(())
    }

    /// A message to a person failed: the same text on the next channel of theirs not yet tried
    /// for it; when none is left, record it and escalate.
    fn fall_back(&mut self, ri: usize, failed: &Message) {
        let Some(r) = self.w.recipients.get(ri) else { return };
        // A warning or reminder that no longer matters is not chased: the person has answered,
        // a higher grade's message superseded it, or the warning is over.
        let pressing = matches!(failed.purpose, Purpose::Warning | Purpose::Reminder);
        if pressing && (r.ack.is_some() || failed.grade != self.w.grade || self.w.is_lifted()) {
            return;
        }
        // The channels this message's fallback chain has tried.
        let mut tried = vec![failed.channel];
        let mut link = failed.fallback_of;
        while let Some(prev) = link.and_then(|p| self.w.message(p)) {
            tried.push(prev.channel);
            link = prev.fallback_of;
            if tried.len() > Channel::ALL.len() {
                break;
            }
        }
        let n = r.person.channels.len();
        let start = r.person.channels.iter().position(|c| *c == failed.channel).unwrap_or(0);
        let next = (1..=n)
            .map(|k| (start + k) % n.max(1))
            .find(|&i| r.person.channels.get(i).is_some_and(|c| !tried.contains(c)));
        match next {
            Some(i) => {
                let (pid, channel) = (r.person.id.clone(), r.person.channels.get(i).copied().unwrap_or(Channel::InApp));
                if let Some(r) = self.w.recipients.get_mut(ri) {
                    r.channel = i;
                }
                self.send(Addressee::Person(pid), channel, failed.text.clone(), failed.purpose, Some(failed.id));
            }
            None => {
                let (pid, tier, was) = (r.person.id.clone(), r.person.tier, r.unreachable);
                let mut e = self.addressee_entry(TrailKind::AllChannelsFailed, &Addressee::Person(pid.clone()));
                e.message = Some(failed.id);
                e.outcome = Some(tried.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","));
                self.trail.push(e);
                if let Some(r) = self.w.recipients.get_mut(ri) {
                    r.unreachable = true;
                }
                if pressing && !was {
                    self.escalate(tier, EscalationCause::Unreachable, vec![pid]);
                }
            }
        }
    }

    fn ack(&mut self, person: &str, channel: Channel, answer: &str) -> Result<(), WarningError> {
        let event = EventKind::Ack;
        let person = required(event, "person", person)?;
        if channel.public() {
            return Err(WarningError::InvalidField {
                event,
                field: "channel".into(),
                message: format!(
                    "an answer comes on a personal channel (in_app, sms, voice), got {}",
                    channel.as_str()
                ),
            });
        }
        let answer = bounded(event, "text", answer)?;
        let Some(ri) = self.w.recipients.iter().position(|r| r.person.id == person) else {
            return Err(WarningError::NotRecipient {
                warning: self.w.id,
                person,
                known: self.w.recipients.iter().map(|r| r.person.id.as_str()).collect::<Vec<_>>().join(", "),
            });
        };
        let Some(r) = self.w.recipients.get(ri) else { return Ok(()) };
        let kind = if self.w.is_lifted() {
            TrailKind::LateAnswer
        } else if r.ack.is_some() {
            TrailKind::RepeatedAnswer
        } else {
            TrailKind::Acknowledged
        };
        let mut e = self.addressee_entry(kind, &Addressee::Person(person));
        e.channel = Some(channel);
        e.text = Some(answer.clone());
        if kind == TrailKind::Acknowledged {
            if let Some(at) = r.notified_at {
                e.outcome = Some(format!("{} min after notice", self.now.signed_duration_since(at).num_minutes()));
            }
        }
        self.trail.push(e);
        if kind != TrailKind::Acknowledged {
            return Ok(());
        }
        let tier = r.person.tier;
        if let Some(r) = self.w.recipients.get_mut(ri) {
            r.ack = Some(Ack { at: self.now, channel, text: answer });
            r.unreachable = false;
        }
        if self.w.recipients.iter().filter(|r| r.person.tier == tier).all(|r| r.ack.is_some()) {
            if let Some(c) = self.w.tiers.iter_mut().find(|c| c.tier == tier) {
                c.due_at = None;
            }
        }
        Ok(())
    }
}

fn purpose_name(p: Purpose) -> &'static str {
    match p {
        Purpose::Warning => "warning",
        Purpose::Reminder => "reminder",
        Purpose::Escalation => "escalation",
        Purpose::Public => "public",
        Purpose::LiftProposal => "lift_proposal",
        Purpose::Lift => "lift",
    }
}

fn cause_name(c: EscalationCause) -> &'static str {
    match c {
        EscalationCause::NoAck => "no_ack",
        EscalationCause::Unreachable => "unreachable",
        EscalationCause::PublicFailed => "public_failed",
    }
}

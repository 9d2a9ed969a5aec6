//! The warning lifecycle in pure form: the acceptance story (prepare → escalation → immediate →
//! public → lift), channel fallback, idempotent re-raise, precise errors, and a property test
//! that no event sequence panics and every message sent is in the trail.

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use zhili_core::codes::DivisionCode;
use zhili_core::ErrorCode;
use zhili_flood::vocab::{Channel, Grade, SoilState, Tier, Window};
use zhili_flood::warning::{
    apply, decisions, duty_summary, open, text, Actor, Addressee, Applied, CapMsgType, CapResponse, Delivery, Effect,
    EscalationCause, EscalationTarget, Event, EventKind, LiftKind, MessageId, Policy, PublicReason, Purpose, Raise,
    Recipient, TrailEntry, TrailKind, Trigger, Warning, WarningError, WarningStatus,
};

const VILLAGE: &str = "370304101201";

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 18, 3, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn village() -> DivisionCode {
    DivisionCode::parse(VILLAGE).unwrap()
}

fn person(id: &str, name: &str, tier: Tier, channels: &[Channel]) -> Recipient {
    Recipient { id: id.into(), name: name.into(), tier, channels: channels.to_vec() }
}

/// Two village persons (the acceptance story's two), one of the township, one of the county.
fn recipients() -> Vec<Recipient> {
    vec![
        person("v1", "张三", Tier::Village, &[Channel::Sms, Channel::Voice, Channel::InApp]),
        person("v2", "李四", Tier::Village, &[Channel::Sms, Channel::InApp]),
        person("t1", "王五", Tier::Township, &[Channel::InApp, Channel::Sms]),
        person("c1", "赵六", Tier::County, &[Channel::InApp]),
    ]
}

fn rain(value: f64, threshold: f64) -> Trigger {
    Trigger::Rain {
        window: Window::H1,
        value_mm: value,
        threshold_mm: threshold,
        station: None,
        soil: Some(SoilState::Dry),
    }
}

fn raise(grade: Grade, trigger: Trigger) -> Raise {
    Raise {
        village: village(),
        village_name: "博山区某村".into(),
        grade,
        trigger,
        recipients: recipients(),
        public_channels: vec![Channel::Broadcast, Channel::Siren],
    }
}

fn prepare() -> Raise {
    raise(Grade::Prepare, rain(42.5, 40.0))
}

fn immediate() -> Raise {
    raise(Grade::Immediate, rain(63.0, 60.0))
}

fn actor(id: &str, name: &str) -> Actor {
    Actor { id: id.into(), name: name.into() }
}

fn opened() -> Warning {
    open(7, &prepare(), &Policy::default(), t(0)).unwrap().0
}

fn step(w: &Warning, event: Event, at: i64) -> Applied {
    match apply(w, event.clone(), t(at)) {
        Ok(out) => {
            check_sends_in_trail(&out);
            out
        }
        Err(e) => panic!("{event:?} at +{at} min: {e}"),
    }
}

fn sends(effects: &[Effect]) -> Vec<(MessageId, Addressee, Channel, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { message, to, channel, text } => Some((*message, to.clone(), *channel, text.clone())),
            _ => None,
        })
        .collect()
}

fn to_person(id: &str) -> Addressee {
    Addressee::Person(id.into())
}

fn deliver_all(mut w: Warning, effects: &[Effect], at: i64) -> Warning {
    for (id, ..) in sends(effects) {
        w = step(&w, Event::Deliver { message: id, ok: true, error: String::new() }, at).0;
    }
    w
}

fn ack(w: &Warning, person: &str, at: i64) -> Warning {
    step(w, Event::Ack { person: person.into(), channel: Channel::Sms, text: "收到".into() }, at).0
}

/// Every Send has a trail entry of kind `sent` with its id, channel and text, and is a message
/// of the warning.
fn check_sends_in_trail((w, effects, trail): &Applied) {
    for (id, to, channel, text) in sends(effects) {
        let entry = trail.iter().find(|e| e.kind == TrailKind::Sent && e.message == Some(id));
        let entry = entry.unwrap_or_else(|| panic!("send {id} has no trail entry: {trail:?}"));
        assert_eq!(entry.channel, Some(channel));
        assert_eq!(entry.text.as_deref(), Some(text.as_str()));
        let m = w.message(id).unwrap_or_else(|| panic!("send {id} is not a message of the warning"));
        assert_eq!((&m.to, m.channel, &m.text), (&to, channel, &text));
    }
}

#[test]
fn the_message_text_says_village_rain_window_value_indicator_and_what_to_do() {
    assert_eq!(
        text::internal_message("博山区某村", Grade::Prepare, &rain(42.5, 40.0), false),
        "【山洪预警】博山区某村 1 小时降雨 42.5 毫米，已达准备转移指标（40 毫米），请立即组织准备转移并回复确认。"
    );
    assert_eq!(
        text::internal_message("博山区某村", Grade::Immediate, &rain(63.0, 60.0), true),
        "【山洪预警升级】博山区某村 1 小时降雨 63 毫米，已达立即转移指标（60 毫米），请立即组织群众转移并回复确认。"
    );
    let level = Trigger::Level {
        section: "S01".into(),
        section_name: "东石桥断面".into(),
        value_m: 123.456,
        threshold_m: 123.0,
    };
    assert_eq!(
        text::internal_message("博山区某村", Grade::Orange, &level, false),
        "【山洪预警】博山区某村 东石桥断面水位 123.46 米，已达橙色预警指标（123.00 米），请立即组织群众转移并回复确认。"
    );
    let thirty = Trigger::Rain {
        window: Window::minutes(30).unwrap(),
        value_mm: 25.04,
        threshold_mm: 25.0,
        station: None,
        soil: None,
    };
    assert!(text::public_message("某村", Grade::Blue, &thirty)
        .starts_with("【山洪预警】某村30 分钟降雨 25 毫米，已达蓝色预警指标（25 毫米）。"));
    let manual = Trigger::Manual { by: actor("t1", "王五"), note: "上游村报告山洪".into() };
    assert_eq!(
        text::internal_message("某村", Grade::Prepare, &manual, false),
        "【山洪预警】某村 经 王五 研判，发布准备转移预警（上游村报告山洪），请立即组织准备转移并回复确认。"
    );
}

/// The acceptance story: prepare raised; two village persons, one acknowledges, the other does
/// not → escalation after the village's 10 minutes; upgrade to immediate → public broadcast and
/// siren; lift → AllClear; the trail holds every message and every answer.
#[test]
fn acceptance_story_prepare_escalation_upgrade_public_lift() {
    let policy = Policy::default();
    let (w, effects, trail) = open(7, &prepare(), &policy, t(0)).unwrap();
    check_sends_in_trail(&(w.clone(), effects.clone(), trail.clone()));
    assert_eq!((w.status, w.grade, w.version), (WarningStatus::Internal, Grade::Prepare, 1));

    // CAP Alert first, the follow-up case, one message per person on their first channel, the tick.
    assert!(matches!(
        &effects[0],
        Effect::PublishCap { cap, response: Some(CapResponse::Prepare), references, .. }
            if cap.sequence == 1 && cap.msg_type == CapMsgType::Alert && references.is_empty()
    ));
    assert!(matches!(&effects[1], Effect::OpenCase { village: v, grade: Grade::Prepare, title, .. }
        if *v == village() && title.contains("博山区某村")));
    let sent = sends(&effects);
    let expected_text =
        "【山洪预警】博山区某村 1 小时降雨 42.5 毫米，已达准备转移指标（40 毫米），请立即组织准备转移并回复确认。";
    assert_eq!(
        sent.iter().map(|(id, to, c, _)| (id.0, to.clone(), *c)).collect::<Vec<_>>(),
        vec![
            (1, to_person("v1"), Channel::Sms),
            (2, to_person("v2"), Channel::Sms),
            (3, to_person("t1"), Channel::InApp),
            (4, to_person("c1"), Channel::InApp),
        ]
    );
    assert!(sent.iter().all(|(.., text)| text == expected_text));
    assert_eq!(effects.last(), Some(&Effect::ScheduleTick { at: t(10) }), "village tier's 10 minutes");
    assert!(trail.iter().any(|e| e.kind == TrailKind::Raised));
    assert!(trail.iter().any(|e| e.kind == TrailKind::CaseOpened));
    let cap = trail.iter().find(|e| e.kind == TrailKind::CapPublished).unwrap();
    assert_eq!(cap.outcome.as_deref(), Some("Alert Prepare #1"));

    let mut review: Vec<TrailEntry> = trail;
    let mut push = |out: &Applied| review.extend(out.2.iter().cloned());

    let w = deliver_all(w, &effects, 1);
    let out = step(&w, Event::Ack { person: "v1".into(), channel: Channel::Sms, text: "收到，马上组织".into() }, 3);
    push(&out);
    let w = out.0;
    assert_eq!(w.recipient("v1").unwrap().ack.as_ref().unwrap().text, "收到，马上组织");

    // Nothing is due before 10 minutes: a tick changes nothing.
    let (same, effects, trail) = step(&w, Event::Tick, 9);
    assert_eq!(same, w);
    assert!(effects.is_empty() && trail.is_empty());

    // At 10 minutes the village tier escalates: 李四 again on his next channel, 王五 told.
    let out = step(&w, Event::Tick, 10);
    push(&out);
    let (w, effects, _) = out;
    let sent = sends(&effects);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!((&sent[0].1, sent[0].2), (&to_person("v2"), Channel::InApp));
    assert!(sent[0].3.starts_with("【第 1 次催办】【山洪预警】"), "{}", sent[0].3);
    assert_eq!((&sent[1].1, sent[1].2), (&to_person("t1"), Channel::InApp));
    assert!(sent[1].3.contains("村级责任人 李四 尚未确认"), "{}", sent[1].3);
    assert!(!sent[1].3.contains("张三"));
    let esc = w.escalations.last().unwrap();
    assert_eq!(
        (esc.cause, esc.tier, esc.told, esc.persons.clone(), esc.round),
        (EscalationCause::NoAck, Some(Tier::Village), EscalationTarget::Tier(Tier::Township), vec!["v2".to_owned()], 1)
    );
    assert_eq!(effects.last(), Some(&Effect::ScheduleTick { at: t(15) }), "the township's 15 minutes come next");

    // The duty screen: who has not acknowledged, by tier, how long.
    let summary = duty_summary(&w, t(12));
    let village_tier = summary.tiers.iter().find(|s| s.tier == Tier::Village).unwrap();
    assert_eq!((village_tier.persons, village_tier.acknowledged), (2, 1));
    assert_eq!(village_tier.waiting[0].name, "李四");
    assert_eq!(village_tier.waiting[0].waiting_minutes, 12);
    assert_eq!(village_tier.waiting[0].reminders, 1);
    assert_eq!(summary.unacknowledged, 3);
    assert!(summary
        .lines_zh()
        .contains(&"村级：2 人，已确认 1 人；未确认：李四（12 分钟，站内通知，催办 1 次）".to_owned()));
    assert_eq!(summary.tiers.iter().map(|s| s.tier).collect::<Vec<_>>(), [Tier::County, Tier::Township, Tier::Village]);

    let w = ack(&w, "t1", 13);
    let w = ack(&w, "c1", 14);
    let w = ack(&w, "v2", 16);
    assert_eq!(w.unacknowledged().count(), 0);
    assert!(w.tiers.iter().all(|c| c.due_at.is_none()));

    // Upgrade to immediate: new messages, acks reset, CAP Update, public broadcast and siren.
    let out = step(&w, Event::Raise(immediate()), 30);
    push(&out);
    let (w, effects, _) = out;
    assert_eq!((w.grade, w.status, w.grade_since), (Grade::Immediate, WarningStatus::Public, t(30)));
    assert!(w.recipients.iter().all(|r| r.ack.is_none() && r.notified_at == Some(t(30))));
    assert!(matches!(
        &effects[0],
        Effect::PublishCap { cap, response: Some(CapResponse::Evacuate), references, grade: Grade::Immediate }
            if cap.msg_type == CapMsgType::Update && cap.sequence == 2 && references.len() == 1 && references[0].sequence == 1
    ));
    let sent = sends(&effects);
    let personal: Vec<_> = sent.iter().filter(|s| matches!(s.1, Addressee::Person(_))).collect();
    assert_eq!(personal.len(), 4);
    assert!(personal.iter().all(|s| s.3.starts_with("【山洪预警升级】") && s.3.contains("立即转移指标（60 毫米）")));
    let public: Vec<_> = sent.iter().filter(|s| s.1 == Addressee::Village(village())).map(|s| s.2).collect();
    assert_eq!(public, [Channel::Broadcast, Channel::Siren]);
    assert_eq!(w.public.as_ref().unwrap().reason, PublicReason::Evacuate);
    assert!(sent.iter().any(|s| s.3.contains("请全体村民立即按转移路线撤离")));

    // The lift: CAP Update AllClear referencing both, notices to persons and the village.
    let w = ack(&w, "v1", 32);
    let out = step(
        &w,
        Event::Lift {
            by: actor("t1", "王五"), reason: "雨已停，河道水位回落".into(), kind: LiftKind::AllClear
        },
        200,
    );
    push(&out);
    let (w, effects, _) = out;
    assert_eq!(w.status, WarningStatus::Lifted);
    assert_eq!(w.next_tick, None);
    assert!(matches!(
        &effects[0],
        Effect::PublishCap { cap, response: Some(CapResponse::AllClear), references, .. }
            if cap.msg_type == CapMsgType::Update && references.iter().map(|r| r.sequence).collect::<Vec<_>>() == [1, 2]
    ));
    let sent = sends(&effects);
    assert_eq!(sent.len(), 6, "four persons, broadcast and siren");
    assert!(sent.iter().all(|s| s.3 == "【山洪预警解除】博山区某村立即转移预警已解除：雨已停，河道水位回落。"));
    let lift = w.lift.as_ref().unwrap();
    assert_eq!((lift.kind, lift.by.as_ref().unwrap().id.as_str()), (LiftKind::AllClear, "t1"));

    // The review: every answer is there, with who, when, channel and text.
    let acks: Vec<_> = review.iter().filter(|e| e.kind == TrailKind::Acknowledged).collect();
    assert_eq!(acks[0].who.as_deref(), Some("v1"));
    assert_eq!(acks[0].name.as_deref(), Some("张三"));
    assert_eq!(acks[0].tier, Some(Tier::Village));
    assert_eq!(acks[0].at, t(3));
    assert_eq!(acks[0].text.as_deref(), Some("收到，马上组织"));
    assert_eq!(acks[0].outcome.as_deref(), Some("3 min after notice"));
    assert!(review.iter().any(|e| e.kind == TrailKind::Escalated && e.tier == Some(Tier::Village)));
    assert!(review.iter().any(|e| e.kind == TrailKind::Upgraded && e.outcome.as_deref() == Some("prepare→immediate")));
    assert!(review.iter().any(|e| e.kind == TrailKind::PublicIssued));
    assert!(review.iter().any(|e| e.kind == TrailKind::Lifted));
}

#[test]
fn the_trail_serialises_with_a_stable_shape() {
    let (_, _, trail) = open(7, &prepare(), &Policy::default(), t(0)).unwrap();
    let sent = trail.iter().find(|e| e.kind == TrailKind::Sent).unwrap();
    let json = serde_json::to_value(sent).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "at": "2026-07-18T03:00:00Z",
            "kind": "sent",
            "grade": "prepare",
            "who": "v1",
            "name": "张三",
            "tier": "village",
            "channel": "sms",
            "message": 1,
            "text": "【山洪预警】博山区某村 1 小时降雨 42.5 毫米，已达准备转移指标（40 毫米），请立即组织准备转移并回复确认。",
            "outcome": "warning"
        })
    );
    // Every entry has every key, null where it does not apply.
    let raised = serde_json::to_value(trail.iter().find(|e| e.kind == TrailKind::Raised).unwrap()).unwrap();
    assert_eq!(raised.as_object().unwrap().len(), 10);
    assert_eq!(raised["channel"], serde_json::Value::Null);
    let back: Vec<TrailEntry> = serde_json::from_str(&serde_json::to_string(&trail).unwrap()).unwrap();
    assert_eq!(back, trail);
}

#[test]
fn a_failed_sms_falls_back_to_voice_then_in_app_then_escalates() {
    let w = opened();
    let fail = |w: &Warning, id: u32, at| {
        step(w, Event::Deliver { message: MessageId(id), ok: false, error: "网关超时".into() }, at)
    };
    // 张三's SMS (#1) fails: the same text by voice.
    let (w, effects, trail) = fail(&w, 1, 1);
    let sent = sends(&effects);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].0, &sent[0].1, sent[0].2), (MessageId(5), &to_person("v1"), Channel::Voice));
    assert_eq!(sent[0].3, w.message(MessageId(1)).unwrap().text);
    assert_eq!(w.message(MessageId(5)).unwrap().fallback_of, Some(MessageId(1)));
    assert!(
        matches!(&w.message(MessageId(1)).unwrap().delivery, Delivery::Failed { error, .. } if error == "网关超时")
    );
    let failed = trail.iter().find(|e| e.kind == TrailKind::DeliveryFailed).unwrap();
    assert_eq!((failed.message, failed.outcome.as_deref()), (Some(MessageId(1)), Some("网关超时")));
    assert_eq!(
        trail.iter().find(|e| e.kind == TrailKind::Sent).unwrap().outcome.as_deref(),
        Some("warning; fallback of #1")
    );

    // Voice fails: in-app.
    let (w, effects, _) = fail(&w, 5, 2);
    assert_eq!(sends(&effects).iter().map(|s| (s.0, s.2)).collect::<Vec<_>>(), [(MessageId(6), Channel::InApp)]);

    // The same failure reported twice is taken once; a contradicting report is an error.
    let (again, effects, trail) = fail(&w, 5, 2);
    assert_eq!(again, w);
    assert!(effects.is_empty() && trail.is_empty());
    let err = apply(&w, Event::Deliver { message: MessageId(5), ok: true, error: String::new() }, t(2)).unwrap_err();
    assert_eq!(err, WarningError::DeliveryConflict { message: MessageId(5), reported_ok: false, now_ok: true });
    assert_eq!(err.error_code(), ErrorCode::Conflict);

    // In-app fails too: recorded, 张三 unreachable, the township told at once.
    let (w, effects, trail) = fail(&w, 6, 3);
    assert!(w.recipient("v1").unwrap().unreachable);
    let all = trail.iter().find(|e| e.kind == TrailKind::AllChannelsFailed).unwrap();
    assert_eq!((all.who.as_deref(), all.outcome.as_deref()), (Some("v1"), Some("in_app,voice,sms")));
    let sent = sends(&effects);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, to_person("t1"));
    assert!(sent[0].3.contains("无法送达村级责任人 张三（所有渠道均失败）"), "{}", sent[0].3);
    let esc = w.escalations.last().unwrap();
    assert_eq!((esc.cause, esc.told), (EscalationCause::Unreachable, EscalationTarget::Tier(Tier::Township)));

    // The duty screen shows him as unreachable; a late answer by phone clears it.
    assert!(duty_summary(&w, t(4)).lines_zh()[2].contains("张三（4 分钟，站内通知，无法送达）"));
    let w = step(&w, Event::Ack { person: "v1".into(), channel: Channel::Voice, text: "电话已收到".into() }, 5).0;
    assert!(!w.recipient("v1").unwrap().unreachable);
}

#[test]
fn a_failure_that_no_longer_matters_is_recorded_but_not_chased() {
    // 张三 answered in the app before his SMS failed: no voice call.
    let w = ack(&opened(), "v1", 1);
    let (w, effects, trail) = step(&w, Event::Deliver { message: MessageId(1), ok: false, error: "x".into() }, 2);
    assert!(sends(&effects).is_empty());
    assert_eq!(trail.iter().map(|e| e.kind).collect::<Vec<_>>(), [TrailKind::DeliveryFailed]);
    // 李四's prepare SMS fails after the upgrade: the immediate message supersedes it.
    let (w, ..) = step(&w, Event::Raise(immediate()), 3);
    let (_, effects, _) = step(&w, Event::Deliver { message: MessageId(2), ok: false, error: "x".into() }, 4);
    assert!(sends(&effects).is_empty());
    // His immediate SMS failing is chased.
    let to_v2 = w.messages.iter().rev().find(|m| m.to == to_person("v2") && m.purpose == Purpose::Warning).unwrap().id;
    let (_, effects, _) = step(&w, Event::Deliver { message: to_v2, ok: false, error: "x".into() }, 4);
    assert_eq!(sends(&effects).iter().map(|s| s.2).collect::<Vec<_>>(), [Channel::InApp]);
}

#[test]
fn a_failed_public_channel_tells_the_duty_officer() {
    let (w, effects, _) = open(7, &immediate(), &Policy::default(), t(0)).unwrap();
    assert_eq!(w.status, WarningStatus::Public, "immediate issues the public warning at once");
    let broadcast = sends(&effects).into_iter().find(|s| s.2 == Channel::Broadcast).unwrap().0;
    let (w, effects, _) = step(&w, Event::Deliver { message: broadcast, ok: false, error: "广播主机离线".into() }, 1);
    let sent = sends(&effects);
    assert_eq!((&sent[0].1, sent[0].2), (&Addressee::Duty, Channel::InApp));
    assert_eq!(sent[0].3, "【山洪预警督办】博山区某村预警广播发布失败（广播主机离线），请立即组织人工鸣锣、喊话。");
    assert_eq!(w.escalations.last().unwrap().cause, EscalationCause::PublicFailed);
}

#[test]
fn replaying_the_same_raise_is_a_no_op_and_a_lower_grade_never_downgrades() {
    let w = opened();
    let (same, effects, trail) = step(&w, Event::Raise(prepare()), 5);
    assert_eq!(same, w);
    assert!(effects.is_empty() && trail.is_empty());

    // A new value, same grade: still nothing sent.
    let (same, effects, _) = step(&w, Event::Raise(raise(Grade::Prepare, rain(47.0, 40.0))), 6);
    assert_eq!(same, w);
    assert!(effects.is_empty());

    let (up, ..) = step(&w, Event::Raise(immediate()), 7);
    let (same, effects, trail) = step(&up, Event::Raise(prepare()), 8);
    assert_eq!((same.grade, same.version), (Grade::Immediate, up.version));
    assert!(effects.is_empty() && trail.is_empty());
    let (same, effects, _) = step(&up, Event::Raise(immediate()), 9);
    assert_eq!(same, up);
    assert!(effects.is_empty());
}

#[test]
fn illegal_events_are_precise_errors() {
    let w = opened();
    let before = serde_json::to_string(&w).unwrap();

    let err =
        apply(&w, Event::Ack { person: "x9".into(), channel: Channel::Sms, text: "收到".into() }, t(1)).unwrap_err();
    assert_eq!(err.code(), "flood.warning.not_recipient");
    assert_eq!(err.field(), Some("person"));
    assert_eq!(err.to_string(), "\"x9\" is not a recipient of warning 7; its recipients are: v1, v2, t1, c1");

    let err =
        apply(&w, Event::Ack { person: "v1".into(), channel: Channel::Siren, text: String::new() }, t(1)).unwrap_err();
    assert!(
        matches!(&err, WarningError::InvalidField { event: EventKind::Ack, field, .. } if field == "channel"),
        "{err}"
    );

    let err = apply(&w, Event::Upgrade { grade: Grade::Prepare, trigger: rain(50.0, 40.0) }, t(1)).unwrap_err();
    assert_eq!(err, WarningError::NotHigher { current: Grade::Prepare, requested: Grade::Prepare });
    assert!(err.to_string().contains("a lower grade never downgrades"));
    let (up, ..) = step(&w, Event::Upgrade { grade: Grade::Immediate, trigger: rain(61.0, 60.0) }, 2);
    let err = apply(&up, Event::Upgrade { grade: Grade::Prepare, trigger: rain(41.0, 40.0) }, t(3)).unwrap_err();
    assert_eq!(err, WarningError::NotHigher { current: Grade::Immediate, requested: Grade::Prepare });
    assert_eq!(err.field(), Some("grade"));

    let err = apply(&w, Event::Upgrade { grade: Grade::Red, trigger: rain(90.0, 80.0) }, t(1)).unwrap_err();
    assert_eq!(err, WarningError::SchemeMismatch { current: Grade::Prepare, requested: Grade::Red });

    let err = apply(&w, Event::Deliver { message: MessageId(99), ok: true, error: String::new() }, t(1)).unwrap_err();
    assert_eq!(err.to_string(), "warning 7 has no message #99 (it has sent 4)");
    assert_eq!(err.error_code(), ErrorCode::NotFound);
    assert!(apply(&w, Event::Deliver { message: MessageId(0), ok: true, error: String::new() }, t(1)).is_err());

    let err = apply(&w, Event::Lift { by: actor("t1", "王五"), reason: "  ".into(), kind: LiftKind::AllClear }, t(1))
        .unwrap_err();
    assert_eq!(err, WarningError::MissingField { event: EventKind::Lift, field: "reason".into() });
    let err = apply(&w, Event::Lift { by: actor("", ""), reason: "雨停".into(), kind: LiftKind::AllClear }, t(1))
        .unwrap_err();
    assert_eq!(err.field(), Some("by.id"));

    let err = apply(&w, Event::Calm { since: t(5) }, t(1)).unwrap_err();
    assert_eq!(err.field(), Some("since"));

    let mut other = prepare();
    other.village = DivisionCode::parse("370304101202").unwrap();
    let err = apply(&w, Event::Raise(other), t(1)).unwrap_err();
    assert_eq!(err.to_string(), "warning 7 is for village 370304101201, not 370304101202");

    // None of these touched the warning.
    assert_eq!(serde_json::to_string(&w).unwrap(), before);

    // A lifted warning takes no second lift, upgrade, raise or public warning.
    let lifted =
        step(&w, Event::Lift { by: actor("t1", "王五"), reason: "误报".into(), kind: LiftKind::InError }, 10).0;
    for event in [
        Event::Lift { by: actor("t1", "王五"), reason: "再次".into(), kind: LiftKind::AllClear },
        Event::Upgrade { grade: Grade::Immediate, trigger: rain(61.0, 60.0) },
        Event::Raise(prepare()),
        Event::IssuePublic { by: actor("t1", "王五"), note: String::new() },
    ] {
        let kind = event.kind();
        let err = apply(&lifted, event, t(11)).unwrap_err();
        assert_eq!(err, WarningError::Lifted { warning: 7, event: kind, lifted_at: t(10) });
        assert_eq!(err.code(), "flood.warning.lifted");
    }
    assert!(apply(
        &lifted,
        Event::Lift { by: actor("t1", "王五"), reason: "x".into(), kind: LiftKind::AllClear },
        t(11)
    )
    .unwrap_err()
    .to_string()
    .starts_with("warning 7 was lifted at 2026-07-18 03:10:00 UTC; cannot 解除预警 (lift)"));
}

#[test]
fn a_raise_is_checked_field_by_field() {
    let policy = Policy::default();
    let check = |r: Raise, field: &str| {
        let err = open(1, &r, &policy, t(0)).unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
        err
    };
    let mut r = prepare();
    r.village = DivisionCode::parse("370304101").unwrap();
    let err = check(r, "village");
    assert!(err.to_string().contains("12-digit village code, got 370304101 (9 digits)"), "{err}");

    let mut r = prepare();
    r.recipients[2].id = "v1".into();
    let err = check(r, "recipients[2].id");
    assert!(err.to_string().contains("repeats \"v1\" (already recipients[0])"), "{err}");

    let mut r = prepare();
    r.recipients[1].channels = vec![Channel::Sms, Channel::Broadcast];
    check(r, "recipients[1].channels[1]");

    let mut r = prepare();
    r.recipients[1].channels = vec![Channel::Sms, Channel::Sms];
    check(r, "recipients[1].channels[1]");

    let mut r = prepare();
    r.recipients[3].channels.clear();
    assert!(matches!(check(r, "recipients[3].channels"), WarningError::MissingField { .. }));

    let mut r = prepare();
    r.recipients[0].name = " ".into();
    check(r, "recipients[0].name");

    let mut r = prepare();
    r.recipients.clear();
    check(r, "recipients");

    let mut r = prepare();
    r.public_channels = vec![Channel::Sms];
    check(r, "public_channels[0]");

    let err = check(raise(Grade::Prepare, rain(f64::NAN, 40.0)), "trigger.value_mm");
    assert!(err.to_string().contains("got NaN"), "{err}");
    check(raise(Grade::Prepare, rain(42.0, 0.0)), "trigger.threshold_mm");
    check(raise(Grade::Prepare, rain(-1.0, 40.0)), "trigger.value_mm");
    check(
        raise(
            Grade::Prepare,
            Trigger::Level { section: "".into(), section_name: "".into(), value_m: 1.0, threshold_m: 1.0 },
        ),
        "trigger.section",
    );
    check(raise(Grade::Prepare, Trigger::Manual { by: actor(" ", ""), note: String::new() }), "trigger.by.id");

    let bad = Policy { max_escalations: 0, ..Policy::default() };
    let err = open(1, &prepare(), &bad, t(0)).unwrap_err();
    assert_eq!(err.field(), Some("policy.max_escalations"));
    let mut bad = Policy::default();
    bad.ack_minutes.village = 0;
    assert_eq!(open(1, &prepare(), &bad, t(0)).unwrap_err().field(), Some("policy.ack_minutes.village"));
    let bad = Policy { duty_channel: Channel::Siren, ..Policy::default() };
    assert_eq!(open(1, &prepare(), &bad, t(0)).unwrap_err().field(), Some("policy.duty_channel"));
    let bad = Policy { public_channels: vec![Channel::Siren, Channel::Siren], ..Policy::default() };
    assert_eq!(open(1, &prepare(), &bad, t(0)).unwrap_err().field(), Some("policy.public_channels[1]"));
}

#[test]
fn the_public_warning_by_a_person_and_after_the_delay() {
    let w = opened();
    let (w, effects, trail) = step(&w, Event::IssuePublic { by: actor("t1", "王五"), note: "乡镇决定发布".into() }, 4);
    assert_eq!(w.status, WarningStatus::Public);
    let public = w.public.as_ref().unwrap();
    assert_eq!((public.reason, public.by.as_ref().unwrap().name.as_str()), (PublicReason::Decided, "王五"));
    let channels: Vec<_> = sends(&effects).iter().map(|s| s.2).collect();
    assert_eq!(channels, [Channel::Broadcast, Channel::Siren]);
    assert!(sends(&effects)[0].3.contains("请村民做好转移准备"));
    let entry = trail.iter().find(|e| e.kind == TrailKind::PublicIssued).unwrap();
    assert_eq!((entry.who.as_deref(), entry.text.as_deref()), (Some("t1"), Some("乡镇决定发布")));
    let err = apply(&w, Event::IssuePublic { by: actor("c1", "赵六"), note: String::new() }, t(5)).unwrap_err();
    assert_eq!(err, WarningError::AlreadyPublic { at: t(4), grade: Grade::Prepare });

    // Without facilities the decision is refused with what to do instead.
    let mut r = prepare();
    r.public_channels.clear();
    let bare = open(8, &r, &Policy::default(), t(0)).unwrap().0;
    let err = apply(&bare, Event::IssuePublic { by: actor("t1", "王五"), note: String::new() }, t(1)).unwrap_err();
    assert_eq!(err.code(), "flood.warning.no_public_channel");
    assert!(err.to_string().contains("gong"), "{err}");

    // The policy's delay issues it automatically.
    let policy = Policy { auto_public_after_minutes: Some(30), ..Policy::default() };
    let w = open(9, &prepare(), &policy, t(0)).unwrap().0;
    assert_eq!(w.public_due_at, Some(t(30)));
    let w = ack(&ack(&ack(&ack(&w, "v1", 1), "v2", 1), "t1", 1), "c1", 1);
    assert_eq!(w.next_tick, Some(t(30)));
    let (w, effects, _) = step(&w, Event::Tick, 30);
    assert_eq!(w.public.as_ref().unwrap().reason, PublicReason::Delay);
    assert_eq!(sends(&effects).len(), 2);
    assert_eq!(w.next_tick, None);

    // An evacuate grade with no facilities: the duty officer is told to use gongs.
    let mut r = immediate();
    r.public_channels.clear();
    let (w, effects, trail) = open(10, &r, &Policy::default(), t(0)).unwrap();
    assert_eq!(w.status, WarningStatus::Internal);
    assert!(trail.iter().any(|e| e.kind == TrailKind::PublicUnavailable));
    assert!(sends(&effects).iter().any(|s| s.1 == Addressee::Duty && s.3.contains("鸣锣")));
}

#[test]
fn escalation_climbs_to_the_duty_officer_and_stops_after_the_policy_limit() {
    // Village and county persons only: the village escalates straight to the county.
    let mut r = prepare();
    r.recipients.retain(|p| p.id != "t1");
    let policy = Policy { max_escalations: 2, ..Policy::default() };
    let w = open(7, &r, &policy, t(0)).unwrap().0;
    let w = ack(&w, "v2", 1);
    let (w, effects, _) = step(&w, Event::Tick, 10);
    assert_eq!(w.escalations.last().unwrap().told, EscalationTarget::Tier(Tier::County));
    assert!(sends(&effects).iter().any(|s| s.1 == to_person("c1") && s.3.contains("张三")));
    // 张三 was reminded on voice (his second channel).
    assert!(sends(&effects).iter().any(|s| s.1 == to_person("v1") && s.2 == Channel::Voice));

    // The county's 20 minutes pass: the duty officer is told.
    let (w, effects, _) = step(&w, Event::Tick, 20);
    let duty: Vec<_> = sends(&effects).into_iter().filter(|s| s.1 == Addressee::Duty).collect();
    assert_eq!(duty.len(), 1);
    assert!(duty[0].3.contains("县级责任人 赵六 尚未确认"), "{}", duty[0].3);
    assert!(w.escalations.iter().any(|e| e.tier == Some(Tier::County) && e.told == EscalationTarget::Duty));

    // The village's second and last round at 20; after that it stays quiet.
    let village = w.tiers.iter().find(|c| c.tier == Tier::Village).unwrap();
    assert_eq!((village.escalations, village.due_at), (2, None));
    let (w, ..) = step(&w, Event::Tick, 40);
    let (w2, effects, _) = step(&w, Event::Tick, 500);
    assert!(sends(&effects).is_empty(), "{effects:?}");
    assert_eq!(w2.next_tick, None);
    assert_eq!(duty_summary(&w2, t(500)).tiers.iter().find(|s| s.tier == Tier::Village).unwrap().escalations, 2);
}

#[test]
fn four_colour_warnings_upgrade_and_go_public_at_orange() {
    let blue = raise(Grade::Blue, rain(36.0, 35.0));
    let (w, effects, _) = open(3, &blue, &Policy::default(), t(0)).unwrap();
    assert!(sends(&effects)[0].3.contains("已达蓝色预警指标（35 毫米）"));
    let (w, effects, _) = step(&w, Event::Raise(raise(Grade::Yellow, rain(46.0, 45.0))), 5);
    assert_eq!((w.grade, w.status), (Grade::Yellow, WarningStatus::Internal));
    assert!(matches!(&effects[0], Effect::PublishCap { response: Some(CapResponse::Prepare), .. }));
    let (w, effects, _) = step(&w, Event::Raise(raise(Grade::Orange, rain(61.0, 60.0))), 10);
    assert_eq!((w.grade, w.status), (Grade::Orange, WarningStatus::Public));
    assert!(matches!(&effects[0], Effect::PublishCap { response: Some(CapResponse::Evacuate), .. }));
    // Red after orange re-issues the public warning at the new grade.
    let (w, effects, _) = step(&w, Event::Raise(raise(Grade::Red, rain(81.0, 80.0))), 15);
    assert_eq!(w.public.as_ref().unwrap().reason, PublicReason::Upgrade);
    assert!(sends(&effects).iter().any(|s| s.2 == Channel::Siren && s.3.contains("红色预警指标")));
    let err = apply(&w, Event::Raise(prepare()), t(16)).unwrap_err();
    assert_eq!(err.code(), "flood.warning.scheme_mismatch");
    assert_eq!(w.cap.len(), 4);
}

#[test]
fn withdrawn_in_error_is_a_cap_cancel() {
    let w = opened();
    let (w, effects, _) =
        step(&w, Event::Lift { by: actor("c1", "赵六"), reason: "雨量站故障误报".into(), kind: LiftKind::InError }, 6);
    assert!(matches!(
        &effects[0],
        Effect::PublishCap { cap, response: None, references, .. } if cap.msg_type == CapMsgType::Cancel && references.len() == 1
    ));
    let sent = sends(&effects);
    assert_eq!(sent.len(), 4, "no public warning was out, so only the persons");
    assert_eq!(sent[0].3, "【山洪预警撤销】博山区某村准备转移预警系误发，现予撤销：雨量站故障误报。");
    assert_eq!(w.lift.as_ref().unwrap().kind, LiftKind::InError);
}

#[test]
fn calm_rain_proposes_the_lift_or_lifts_by_policy() {
    let w = opened();
    let w = ack(&ack(&ack(&ack(&w, "v1", 1), "v2", 1), "t1", 1), "c1", 1);
    let (w, effects, _) = step(&w, Event::Calm { since: t(30) }, 35);
    assert_eq!(w.quiet_since, Some(t(30)));
    assert_eq!(effects, [Effect::ScheduleTick { at: t(150) }]);
    // Rain again before the quiet time is over: the spell ends, nothing is sent.
    let (rained, effects, _) = step(&w, Event::Raise(prepare()), 60);
    assert_eq!(rained.quiet_since, None);
    assert!(sends(&effects).is_empty());
    assert_eq!(rained.next_tick, None);

    let (w, effects, trail) = step(&w, Event::Tick, 150);
    assert_eq!(w.lift_proposed_at, Some(t(150)));
    assert_eq!(w.status, WarningStatus::Internal, "only proposed");
    let sent = sends(&effects);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, Addressee::Duty);
    assert_eq!(sent[0].3, "【解除建议】博山区某村各时段雨量已连续 120 分钟低于最低预警指标，建议解除准备转移预警。");
    assert!(trail.iter().any(|e| e.kind == TrailKind::LiftProposed));
    assert_eq!(w.message(sent[0].0).unwrap().purpose, Purpose::LiftProposal);
    let (again, effects, _) = step(&w, Event::Tick, 200);
    assert!(effects.is_empty());
    assert_eq!(again, w);

    // Quiet counts from the current grade's raise at the earliest.
    let up = step(&opened(), Event::Raise(immediate()), 50).0;
    assert_eq!(step(&up, Event::Calm { since: t(10) }, 55).0.quiet_since, Some(t(50)));

    let policy = Policy { auto_lift: true, lift_quiet_minutes: 60, ..Policy::default() };
    let w = open(8, &prepare(), &policy, t(0)).unwrap().0;
    let (w, effects, _) = step(&w, Event::Calm { since: t(10) }, 80);
    assert_eq!(w.status, WarningStatus::Lifted);
    assert!(w.lift.as_ref().unwrap().by.is_none());
    assert!(matches!(&effects[0], Effect::PublishCap { response: Some(CapResponse::AllClear), .. }));
}

#[test]
fn answers_after_the_lift_are_recorded_and_its_notices_still_fall_back() {
    let w = opened();
    let (w, effects, _) =
        step(&w, Event::Lift { by: actor("t1", "王五"), reason: "险情解除".into(), kind: LiftKind::AllClear }, 50);
    let (same, effects2, trail) =
        step(&w, Event::Ack { person: "v2".into(), channel: Channel::Sms, text: "收到".into() }, 51);
    assert_eq!(same, w);
    assert!(effects2.is_empty());
    assert_eq!(trail[0].kind, TrailKind::LateAnswer);
    let to_v1 = sends(&effects).into_iter().find(|s| s.1 == to_person("v1")).unwrap();
    let (_, effects, _) = step(&w, Event::Deliver { message: to_v1.0, ok: false, error: "空号".into() }, 52);
    let sent = sends(&effects);
    assert_eq!((sent.len(), sent[0].2), (1, Channel::Voice));
    assert!(sent[0].3.starts_with("【山洪预警解除】"));
    let (after, effects, _) = step(&w, Event::Tick, 600);
    assert!(effects.is_empty());
    assert_eq!(after, w);
}

#[test]
fn a_second_answer_is_recorded_but_changes_nothing() {
    let w = ack(&opened(), "v1", 2);
    let (same, effects, trail) =
        step(&w, Event::Ack { person: "v1".into(), channel: Channel::InApp, text: "已到现场".into() }, 4);
    assert_eq!(same, w);
    assert!(effects.is_empty());
    assert_eq!((trail[0].kind, trail[0].text.as_deref()), (TrailKind::RepeatedAnswer, Some("已到现场")));
}

#[test]
fn warnings_and_events_round_trip_through_json() {
    let w = opened();
    let (w, ..) = step(&w, Event::Deliver { message: MessageId(1), ok: false, error: "x".into() }, 1);
    let back: Warning = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
    assert_eq!(back, w);
    let event: Event = serde_json::from_str(r#"{"event":"ack","person":"v1","channel":"sms","text":"收到"}"#).unwrap();
    assert_eq!(event, Event::Ack { person: "v1".into(), channel: Channel::Sms, text: "收到".into() });
    let event: Event = serde_json::from_str(r#"{"event":"tick"}"#).unwrap();
    assert_eq!(event, Event::Tick);
    // A lift from JSON without a reason names the field.
    let event: Event =
        serde_json::from_str(r#"{"event":"lift","by":{"id":"t1","name":"王五"},"kind":"all_clear"}"#).unwrap();
    assert_eq!(apply(&w, event, t(2)).unwrap_err().field(), Some("reason"));
    let effect = serde_json::to_value(Effect::ScheduleTick { at: t(10) }).unwrap();
    assert_eq!(effect, serde_json::json!({"effect": "schedule_tick", "at": "2026-07-18T03:10:00Z"}));
}

#[test]
fn decisions_agree_with_apply() {
    let base = opened();
    let public = step(&base, Event::IssuePublic { by: actor("t1", "王五"), note: String::new() }, 1).0;
    let top = step(&base, Event::Raise(immediate()), 1).0;
    let lifted =
        step(&base, Event::Lift { by: actor("t1", "王五"), reason: "x".into(), kind: LiftKind::AllClear }, 1).0;
    let mut r = raise(Grade::Yellow, rain(46.0, 45.0));
    r.public_channels.clear();
    let bare = open(2, &r, &Policy::default(), t(0)).unwrap().0;
    let expected: [(&Warning, &[EventKind]); 5] = [
        (&base, &[EventKind::IssuePublic, EventKind::Upgrade, EventKind::Lift]),
        (&public, &[EventKind::Upgrade, EventKind::Lift]),
        (&top, &[EventKind::Lift]),
        (&lifted, &[]),
        (&bare, &[EventKind::Upgrade, EventKind::Lift]),
    ];
    for (w, want) in expected {
        assert_eq!(decisions(w), want, "{:?} {:?}", w.grade, w.status);
        let higher = Grade::of(w.grade.scheme()).iter().copied().find(|g| g.rank() > w.grade.rank()).unwrap_or(w.grade);
        for event in [
            Event::IssuePublic { by: actor("t1", "王五"), note: String::new() },
            Event::Upgrade { grade: higher, trigger: rain(90.0, 80.0) },
            Event::Lift { by: actor("t1", "王五"), reason: "x".into(), kind: LiftKind::AllClear },
        ] {
            let kind = event.kind();
            assert_eq!(apply(w, event, t(2)).is_ok(), want.contains(&kind), "{kind:?} on {:?} {:?}", w.grade, w.status);
        }
    }
}

#[test]
fn error_codes_are_distinct_and_namespaced() {
    let errors = [
        WarningError::MissingField { event: EventKind::Lift, field: "reason".into() },
        WarningError::InvalidField { event: EventKind::Ack, field: "channel".into(), message: "x".into() },
        WarningError::NotRecipient { warning: 1, person: "x".into(), known: String::new() },
        WarningError::UnknownMessage { warning: 1, message: MessageId(1), sent: 0 },
        WarningError::DeliveryConflict { message: MessageId(1), reported_ok: true, now_ok: false },
        WarningError::Lifted { warning: 1, event: EventKind::Lift, lifted_at: t(0) },
        WarningError::NotHigher { current: Grade::Immediate, requested: Grade::Prepare },
        WarningError::SchemeMismatch { current: Grade::Prepare, requested: Grade::Red },
        WarningError::AlreadyPublic { at: t(0), grade: Grade::Prepare },
        WarningError::NoPublicChannel { village: village(), wanted: String::new() },
        WarningError::WrongVillage { warning: 1, village: village(), got: village() },
    ];
    let codes: HashSet<_> = errors.iter().map(|e| e.code()).collect();
    assert_eq!(codes.len(), errors.len());
    assert!(codes.iter().all(|c| c.starts_with("flood.warning.")));
}

// ---- property: any event sequence ----

fn grade() -> impl Strategy<Value = Grade> {
    prop_oneof![Just(Grade::Prepare), Just(Grade::Immediate), Just(Grade::Orange)]
}

fn channel() -> impl Strategy<Value = Channel> {
    proptest::sample::select(Channel::ALL.to_vec())
}

fn event() -> impl Strategy<Value = Event> {
    let who = proptest::sample::select(vec!["v1", "v2", "t1", "c1", "x9", ""]);
    prop_oneof![
        3 => (grade(), 0.0f64..200.0).prop_map(|(g, v)| Event::Raise(raise(g, rain(v, 40.0)))),
        6 => (1u32..40, any::<bool>()).prop_map(|(m, ok)| Event::Deliver {
            message: MessageId(m),
            ok,
            error: if ok { String::new() } else { "失败".into() },
        }),
        4 => (who, channel()).prop_map(|(p, c)| Event::Ack { person: p.into(), channel: c, text: "收到".into() }),
        4 => Just(Event::Tick),
        1 => Just(Event::IssuePublic { by: actor("t1", "王五"), note: String::new() }),
        1 => (grade(), prop::num::f64::ANY).prop_map(|(g, v)| Event::Upgrade { grade: g, trigger: rain(v, 40.0) }),
        1 => (0i64..300).prop_map(|m| Event::Calm { since: t(m) }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(error, blank)| Event::Lift {
            by: actor("t1", "王五"),
            reason: if blank { String::new() } else { "解除".into() },
            kind: if error { LiftKind::InError } else { LiftKind::AllClear },
        }),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (any::<bool>(), any::<bool>(), prop::option::of(1u32..60), 1u8..4, 1u32..90).prop_map(
        |(evacuate, auto_lift, after, max, quiet)| Policy {
            auto_public_on_evacuate: evacuate,
            auto_lift,
            auto_public_after_minutes: after,
            max_escalations: max,
            lift_quiet_minutes: quiet,
            ..Policy::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_event_sequence_never_panics_and_every_send_is_in_the_trail(
        first in grade(),
        policy in policy(),
        steps in prop::collection::vec((event(), 0i64..25), 0..40),
    ) {
        let (mut w, effects, trail) = open(1, &raise(first, rain(50.0, 40.0)), &policy, t(0)).unwrap();
        check_sends_in_trail(&(w.clone(), effects, trail));
        let mut now = 0;
        for (event, dt) in steps {
            now += dt;
            match apply(&w, event.clone(), t(now)) {
                Ok((next, effects, trail)) => {
                    check_sends_in_trail(&(next.clone(), effects.clone(), trail.clone()));
                    if let Event::Ack { person, .. } = &event {
                        let answered = [TrailKind::Acknowledged, TrailKind::RepeatedAnswer, TrailKind::LateAnswer];
                        prop_assert!(
                            trail.iter().any(|e| answered.contains(&e.kind) && e.who.as_deref() == Some(person.as_str())),
                            "every answer is recorded"
                        );
                    }
                    prop_assert!(next.messages.iter().enumerate().all(|(i, m)| m.id.0 as usize == i + 1));
                    prop_assert!(next.version >= w.version);
                    prop_assert_eq!(next.version > w.version, next != w);
                    prop_assert!(next.grade.rank() >= w.grade.rank(), "never downgrades");
                    for e in &effects {
                        if let Effect::ScheduleTick { at } = e {
                            prop_assert_eq!(Some(*at), next.next_tick);
                        }
                    }
                    if next.is_lifted() {
                        prop_assert_eq!(next.next_tick, None);
                    }
                    if w.is_lifted() {
                        prop_assert!(next.is_lifted());
                        prop_assert_eq!(next.cap.len(), w.cap.len());
                    }
                    for t in &next.tiers {
                        prop_assert!(t.escalations <= next.policy.max_escalations);
                    }
                    w = next;
                }
                Err(e) => {
                    prop_assert!(e.code().starts_with("flood.warning."));
                    prop_assert!(!e.to_string().is_empty(), "{:?}", event);
                }
            }
        }
        let back: Warning = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
        prop_assert_eq!(back, w.clone());
        let _ = duty_summary(&w, t(now)).lines_zh();
    }
}

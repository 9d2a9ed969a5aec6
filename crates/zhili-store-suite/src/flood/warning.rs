//! Suite cases for the warning store (预警存储): warnings built by the real machine
//! (`zhili_flood::warning::open` / `apply`), stored with their outbox and trail in one
//! transaction, one warning not lifted per village, optimistic versions, the scheduler's due
//! ticks, CAP documents and the lists.

use chrono::{DateTime, Duration, TimeZone, Utc};
use zhili_core::codes::DivisionCode;
use zhili_core::store::{Page, StoreError};
use zhili_flood::vocab::{Channel, Grade, SoilState, Tier, Window};
use zhili_flood::warning::{
    apply, open, Actor, Applied, CapMsgType, Effect, Event, LiftKind, Policy, Raise, Recipient, StoredCap,
    StoredEffect, StoredTrail, TrailEntry, Trigger, Warning, WarningFilter, WarningStore,
};

use crate::c;

/// The warning cases, one `#[tokio::test]` each, over a backend's `run` (as
/// [`crate::suite_cases!`] expands them; these cases live one folder deeper).
#[macro_export]
macro_rules! flood_warning_suite {
    ($run:path) => {
        $crate::flood_warning_suite!(@cases $run;
            flood_warning_is_stored_and_read_back, flood_warning_one_active_per_village,
            flood_warning_stale_save_changes_nothing, flood_warning_outbox_in_order_and_marked_done,
            flood_warning_trail_in_order_across_saves, flood_warning_due_ticks,
            flood_warning_caps_are_idempotent_and_unique, flood_warning_lists_filter_and_page,
            flood_warning_concurrent_writers_one_wins);
    };
    (@cases $run:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $run(|s| Box::pin($crate::flood::warning::$case(s))).await;
            }
        )*
    };
}

/// Villages of two townships (101 and 102).
const V1: &str = "370304101201";
const V2: &str = "370304101202";
const V3: &str = "370304102201";

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 18, 3, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn person(id: &str, name: &str, tier: Tier, channels: &[Channel]) -> Recipient {
    Recipient { id: id.into(), name: name.into(), tier, channels: channels.to_vec() }
}

fn raise(village: &str, grade: Grade) -> Raise {
    Raise {
        village: c(village),
        village_name: format!("博山区某村{village}"),
        grade,
        trigger: Trigger::Rain {
            window: Window::H1,
            value_mm: 42.5,
            threshold_mm: 40.0,
            station: None,
            soil: Some(SoilState::Normal),
        },
        recipients: vec![
            person("v1", "张三", Tier::Village, &[Channel::Sms, Channel::Voice]),
            person("t1", "王五", Tier::Township, &[Channel::InApp, Channel::Sms]),
            person("c1", "赵六", Tier::County, &[Channel::InApp]),
        ],
        public_channels: vec![Channel::Broadcast, Channel::Siren],
    }
}

fn step(w: &Warning, event: Event, at: i64) -> Applied {
    apply(w, event.clone(), t(at)).unwrap_or_else(|e| panic!("{event:?} at +{at} min: {e}"))
}

fn ack(person: &str) -> Event {
    Event::Ack { person: person.into(), channel: Channel::Sms, text: "收到".into() }
}

fn lift() -> Event {
    Event::Lift {
        by: Actor { id: "duty1".into(), name: "值班员".into() },
        reason: "雨已停，水位回落".into(),
        kind: LiftKind::AllClear,
    }
}

/// Open a warning for `village` at `t(at)` and create it; the warning as stored (with its id),
/// its effects and its trail.
async fn create(s: &dyn WarningStore, village: &str, at: i64) -> Applied {
    let (mut w, effects, trail) = open(0, &raise(village, Grade::Prepare), &Policy::default(), t(at)).unwrap();
    w.id = s.create_warning(&w, &effects, &trail).await.unwrap();
    assert!(w.id > 0);
    (w, effects, trail)
}

/// Apply `event` at `t(at)` and save it; the next warning and what it asked for.
async fn save(s: &dyn WarningStore, w: &Warning, event: Event, at: i64) -> Applied {
    let out = step(w, event, at);
    // A transition that changes nothing (an answer after the lift) keeps the version.
    let version = if out.0 == *w { w.version } else { w.version + 1 };
    assert_eq!(out.0.version, version);
    s.save_warning(&out.0, &out.1, &out.2).await.unwrap();
    out
}

async fn pending(s: &dyn WarningStore) -> Vec<StoredEffect> {
    s.pending_effects(10_000).await.unwrap()
}

fn all() -> WarningFilter {
    WarningFilter::default()
}

/// Create → read back equal, by id and as the village's active warning; the outbox and the
/// trail as given; unknown ids.
pub async fn flood_warning_is_stored_and_read_back(s: &dyn WarningStore) {
    let (w, effects, trail) = create(s, V1, 0).await;
    assert!(!effects.is_empty() && !trail.is_empty());
    assert_eq!(s.warning(w.id).await.unwrap(), w);
    assert_eq!(s.active_warning(&c(V1)).await.unwrap(), Some(w.clone()));
    assert_eq!(s.active_warning(&c(V2)).await.unwrap(), None);
    let stored = pending(s).await;
    assert_eq!(stored.iter().map(|e| e.effect.clone()).collect::<Vec<_>>(), effects);
    assert!(stored.iter().all(|e| e.warning == w.id && e.created_at == t(0)), "{stored:?}");
    assert!(stored.windows(2).all(|p| p[0].id < p[1].id));
    let expected: Vec<StoredTrail> = trail
        .iter()
        .enumerate()
        .map(|(i, entry)| StoredTrail { warning: w.id, seq: i as i64 + 1, entry: entry.clone() })
        .collect();
    assert_eq!(s.trail(w.id).await.unwrap(), expected);
    assert!(matches!(s.warning(w.id + 1000).await, Err(StoreError::NotFound)));
    assert_eq!(s.trail(w.id + 1000).await.unwrap(), vec![]);
    assert_eq!(s.warnings(&all(), Page::default()).await.unwrap(), vec![w.clone()]);

    // The id given to create is ignored; the body stored carries the store's.
    let (mut other, e2, t2) = open(424_242, &raise(V2, Grade::Immediate), &Policy::default(), t(1)).unwrap();
    other.id = s.create_warning(&other, &e2, &t2).await.unwrap();
    assert_ne!(other.id, 424_242);
    assert_ne!(other.id, w.id);
    assert_eq!(s.warning(other.id).await.unwrap(), other);
}

/// A second warning not lifted for the same village is refused with nothing written; after the
/// first is lifted a new one is taken; other villages are independent.
pub async fn flood_warning_one_active_per_village(s: &dyn WarningStore) {
    let (w, ..) = create(s, V1, 0).await;
    let before = pending(s).await;
    let (again, effects, trail) = open(0, &raise(V1, Grade::Immediate), &Policy::default(), t(5)).unwrap();
    let e = s.create_warning(&again, &effects, &trail).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "village" }), "{e:?}");
    assert_eq!(pending(s).await, before, "a refused create adds no effect");
    assert_eq!(s.warnings(&all(), Page::default()).await.unwrap(), vec![w.clone()]);
    assert_eq!(s.active_warning(&c(V1)).await.unwrap(), Some(w.clone()));

    // Another village at the same time is its own.
    let (v3, ..) = create(s, V3, 5).await;

    let (lifted, ..) = save(s, &w, lift(), 30).await;
    assert!(lifted.is_lifted());
    assert_eq!(s.active_warning(&c(V1)).await.unwrap(), None);
    let (next, ..) = create(s, V1, 40).await;
    assert_ne!(next.id, w.id);
    assert_eq!(s.active_warning(&c(V1)).await.unwrap(), Some(next.clone()));
    assert_eq!(s.warning(w.id).await.unwrap(), lifted, "the lifted warning stays as it was");
    // A lifted warning still takes late answers (and saves), beside the new one.
    let (late, ..) = save(s, &lifted, ack("v1"), 45).await;
    assert_eq!(s.warning(w.id).await.unwrap(), late);
    assert_eq!(s.active_warning(&c(V3)).await.unwrap(), Some(v3));
}

/// A save over a version that is not the stored one is refused and writes nothing: not the
/// warning, not its effects, not its trail. An unknown id is NotFound.
pub async fn flood_warning_stale_save_changes_nothing(s: &dyn WarningStore) {
    let (w1, ..) = create(s, V1, 0).await;
    let (w2, w2_effects, w2_trail) = save(s, &w1, ack("v1"), 2).await;
    assert_eq!(w2.version, 2);
    assert!(!w2_trail.is_empty());
    let effects = pending(s).await;
    let trail = s.trail(w1.id).await.unwrap();

    // Another process moved w1 along too: its next state is version 2 over version 1, stale.
    let (rival, rival_effects, rival_trail) = step(&w1, ack("t1"), 3);
    assert_eq!(rival.version, 2);
    assert!(!rival_trail.is_empty());
    let e = s.save_warning(&rival, &rival_effects, &rival_trail).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "version" }), "{e:?}");
    // The same save again (a retry after its commit went through): over version 2, which is
    // now its own; its effects are not queued twice.
    let e = s.save_warning(&w2, &w2_effects, &w2_trail).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "version" }), "{e:?}");
    let e = s.save_warning(&w2, &[], &w2_trail).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "version" }), "{e:?}");
    // With nothing to add it is a no-op.
    s.save_warning(&w2, &[], &[]).await.unwrap();
    // A version from the future.
    let mut ahead = w2.clone();
    ahead.version = 7;
    let e = s.save_warning(&ahead, &rival_effects, &rival_trail).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "version" }), "{e:?}");
    assert_eq!(s.warning(w1.id).await.unwrap(), w2);
    assert_eq!(pending(s).await, effects);
    assert_eq!(s.trail(w1.id).await.unwrap(), trail);

    let mut unknown = rival.clone();
    unknown.id = w1.id + 1000;
    let e = s.save_warning(&unknown, &rival_effects, &rival_trail).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    assert_eq!(pending(s).await, effects);

    // Reloaded and applied again, the rival's answer goes through.
    let (w3, ..) = save(s, &s.warning(w1.id).await.unwrap(), ack("t1"), 3).await;
    assert_eq!(s.warning(w1.id).await.unwrap(), w3);
    assert_eq!(w3.version, 3);

    // A repeated answer changes only the trail: saved over the same version, the warning row
    // as it was, the trail one longer.
    let before = s.trail(w1.id).await.unwrap();
    let (same, same_effects, repeated) = step(&w3, ack("v1"), 4);
    assert_eq!((same.version, repeated.len()), (3, 1), "{repeated:?}");
    assert_eq!(same, w3);
    s.save_warning(&same, &same_effects, &repeated).await.unwrap();
    assert_eq!(s.warning(w1.id).await.unwrap(), w3);
    let after = s.trail(w1.id).await.unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after.last().map(|t| (t.seq, &t.entry)), Some((before.len() as i64 + 1, &repeated[0])));
    // The same "unchanged" save computed on a state that is no longer stored is stale.
    let (w4, _, w4_trail) = save(s, &w3, ack("c1"), 5).await;
    let (old_same, _, old_trail) = step(&w3, ack("t1"), 6);
    assert_eq!(old_same.version, 3);
    let e = s.save_warning(&old_same, &[], &old_trail).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "version" }), "{e:?}");
    // At the stored version but another state: stale too.
    let mut forged = w4.clone();
    forged.village_name.push('x');
    let e = s.save_warning(&forged, &[], &old_trail).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "version" }), "{e:?}");
    assert_eq!(s.warning(w1.id).await.unwrap(), w4);
    assert_eq!(s.trail(w1.id).await.unwrap().len(), after.len() + w4_trail.len(), "only w4's lines were added");
}

/// The outbox: effects of every write oldest first by id, in the order each write gave them;
/// marked done they leave the pending list; marking twice is fine, an unknown id NotFound.
pub async fn flood_warning_outbox_in_order_and_marked_done(s: &dyn WarningStore) {
    let (w1, e1, _) = create(s, V1, 0).await;
    let (_, e3, _) = create(s, V3, 1).await;
    let (w2, e2, _) = save(s, &w1, lift(), 20).await;
    assert!(!e2.is_empty());
    let all_effects: Vec<Effect> = e1.iter().chain(&e3).chain(&e2).cloned().collect();
    let stored = pending(s).await;
    assert_eq!(stored.iter().map(|e| e.effect.clone()).collect::<Vec<_>>(), all_effects);
    assert!(stored.windows(2).all(|p| p[0].id < p[1].id), "by id");
    let whose: Vec<(i64, DateTime<Utc>)> = stored.iter().map(|e| (e.warning, e.created_at)).collect();
    let w3 = s.active_warning(&c(V3)).await.unwrap().unwrap().id;
    let expected: Vec<(i64, DateTime<Utc>)> = std::iter::repeat_n((w1.id, t(0)), e1.len())
        .chain(std::iter::repeat_n((w3, t(1)), e3.len()))
        .chain(std::iter::repeat_n((w2.id, t(20)), e2.len()))
        .collect();
    assert_eq!(whose, expected);

    // At most `limit`, oldest first.
    assert_eq!(s.pending_effects(2).await.unwrap(), stored[..2].to_vec());
    assert_eq!(s.pending_effects(0).await.unwrap(), vec![]);

    s.mark_effect_done(stored[0].id).await.unwrap();
    s.mark_effect_done(stored[2].id).await.unwrap();
    s.mark_effect_done(stored[0].id).await.unwrap();
    let left = pending(s).await;
    let mut expected = stored.clone();
    expected.remove(2);
    expected.remove(0);
    assert_eq!(left, expected);
    assert_eq!(s.pending_effects(1).await.unwrap(), vec![stored[1].clone()]);
    let unknown = stored.iter().map(|e| e.id).max().unwrap() + 1000;
    assert!(matches!(s.mark_effect_done(unknown).await, Err(StoreError::NotFound)));
    for e in &stored {
        s.mark_effect_done(e.id).await.unwrap();
    }
    assert_eq!(pending(s).await, vec![]);
}

/// The trail of a warning is numbered 1, 2, … across every save, in the order given, and
/// other warnings' trails are their own.
pub async fn flood_warning_trail_in_order_across_saves(s: &dyn WarningStore) {
    let (w, _, mut expected) = create(s, V1, 0).await;
    let (other, _, other_trail) = create(s, V2, 0).await;
    let mut at = w;
    for (event, minute) in [(ack("v1"), 2), (ack("t1"), 4), (Event::Tick, 25), (lift(), 40), (ack("c1"), 50)] {
        let (next, _, trail) = save(s, &at, event, minute).await;
        expected.extend(trail);
        at = next;
    }
    let stored = s.trail(at.id).await.unwrap();
    assert_eq!(stored.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=expected.len() as i64).collect::<Vec<_>>());
    assert!(stored.iter().all(|e| e.warning == at.id));
    assert_eq!(stored.into_iter().map(|e| e.entry).collect::<Vec<TrailEntry>>(), expected);
    let theirs = s.trail(other.id).await.unwrap();
    assert_eq!(theirs.into_iter().map(|e| e.entry).collect::<Vec<_>>(), other_trail);
}

/// Due ticks: warnings not lifted whose next tick is at or before now, soonest first, at most
/// `limit`; a lifted warning is never due.
pub async fn flood_warning_due_ticks(s: &dyn WarningStore) {
    let (a, ..) = create(s, V1, 10).await;
    let (b, ..) = create(s, V2, 0).await;
    let (c3, ..) = create(s, V3, 5).await;
    let tick = |w: &Warning| w.next_tick.expect("a new warning waits for acknowledgements");
    assert!(tick(&b) < tick(&c3) && tick(&c3) < tick(&a), "{:?}", [tick(&a), tick(&b), tick(&c3)]);

    assert_eq!(s.due_ticks(tick(&b) - Duration::seconds(1), 10).await.unwrap(), Vec::<i64>::new());
    assert_eq!(s.due_ticks(tick(&b), 10).await.unwrap(), vec![b.id], "at the tick is due");
    assert_eq!(s.due_ticks(tick(&a), 10).await.unwrap(), vec![b.id, c3.id, a.id]);
    assert_eq!(s.due_ticks(t(600), 2).await.unwrap(), vec![b.id, c3.id]);
    assert_eq!(s.due_ticks(t(600), 0).await.unwrap(), Vec::<i64>::new());

    // Lifted: never due again, even with a stale tick in its body.
    let (lifted, ..) = save(s, &c3, lift(), 6).await;
    assert_eq!(lifted.next_tick, None);
    assert_eq!(s.due_ticks(t(600), 10).await.unwrap(), vec![b.id, a.id]);
    let (late, ..) = save(s, &lifted, ack("v1"), 7).await;
    assert!(late.is_lifted());
    assert_eq!(s.due_ticks(t(600), 10).await.unwrap(), vec![b.id, a.id]);

    // A tick moves the warning's next tick later: it leaves the due list for now.
    let (b2, ..) = save(s, &b, Event::Tick, 12).await;
    assert!(tick(&b2) > t(12), "{:?}", b2.next_tick);
    assert_eq!(s.due_ticks(t(12), 10).await.unwrap(), Vec::<i64>::new());
    assert_eq!(s.due_ticks(t(600), 10).await.unwrap().len(), 2);
}

fn cap(warning: &Warning, sequence: u32, msg_type: CapMsgType, sent_minute: i64) -> StoredCap {
    let sent = t(sent_minute);
    StoredCap {
        warning: warning.id,
        sequence,
        identifier: format!("37030400000000_{}_{}{sequence}", sent.format("%Y%m%d%H%M%S"), warning.id),
        msg_type,
        sent,
        village: warning.village.clone(),
        xml: format!(
            "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><msgType>{}</msgType></alert>",
            msg_type.as_str()
        ),
    }
}

/// CAP documents: the same (warning, sequence, identifier) again is a no-op, another identifier
/// for a taken sequence or a taken identifier is a conflict, an unknown warning a missing
/// reference; read back by warning, by identifier and newest first.
pub async fn flood_warning_caps_are_idempotent_and_unique(s: &dyn WarningStore) {
    let (w1, ..) = create(s, V1, 0).await;
    let (w2, ..) = create(s, V3, 3).await;
    let a1 = cap(&w1, 1, CapMsgType::Alert, 0);
    s.store_cap(&a1).await.unwrap();
    // An effect re-run after a crash: the same document again.
    s.store_cap(&a1).await.unwrap();
    let mut rerun = a1.clone();
    rerun.xml.push_str("<!-- rendered again -->");
    s.store_cap(&rerun).await.unwrap();
    assert_eq!(s.caps(w1.id).await.unwrap(), vec![a1.clone()], "stored once, as first given");

    let mut other = cap(&w1, 1, CapMsgType::Alert, 1);
    other.identifier.push('x');
    let e = s.store_cap(&other).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "sequence" }), "{e:?}");
    let mut stolen = cap(&w2, 1, CapMsgType::Alert, 3);
    stolen.identifier = a1.identifier.clone();
    let e = s.store_cap(&stolen).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "identifier" }), "{e:?}");
    let mut orphan = cap(&w1, 9, CapMsgType::Alert, 1);
    orphan.warning = w1.id.max(w2.id) + 1000;
    let e = s.store_cap(&orphan).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "warning" }), "{e:?}");
    let mut bad = cap(&w1, 5, CapMsgType::Alert, 1);
    bad.xml = "<alert>\0</alert>".into();
    assert!(matches!(s.store_cap(&bad).await, Err(StoreError::Other(_))));
    assert_eq!(s.caps(w1.id).await.unwrap(), vec![a1.clone()]);

    let b1 = cap(&w2, 1, CapMsgType::Alert, 3);
    let a2 = cap(&w1, 2, CapMsgType::Update, 20);
    let b2 = cap(&w2, 2, CapMsgType::Cancel, 10);
    for c in [&a2, &b1, &b2] {
        s.store_cap(c).await.unwrap();
    }
    assert_eq!(s.caps(w1.id).await.unwrap(), vec![a1.clone(), a2.clone()]);
    assert_eq!(s.caps(w2.id).await.unwrap(), vec![b1.clone(), b2.clone()]);
    assert_eq!(s.cap(&b2.identifier).await.unwrap(), b2);
    assert!(matches!(s.cap("37030400000000_20260718030000_404").await, Err(StoreError::NotFound)));
    assert_eq!(s.recent_caps(10).await.unwrap(), vec![a2.clone(), b2.clone(), b1.clone(), a1.clone()]);
    assert_eq!(s.recent_caps(2).await.unwrap(), vec![a2, b2]);
    assert_eq!(s.recent_caps(0).await.unwrap(), vec![]);
}

/// Lists: newest opened first; only those not lifted; by village prefix; opened since; paged.
pub async fn flood_warning_lists_filter_and_page(s: &dyn WarningStore) {
    let (w1, ..) = create(s, V1, 0).await;
    let (w3, ..) = create(s, V3, 10).await;
    let (w2, ..) = create(s, V2, 20).await;
    let (w1, ..) = save(s, &w1, lift(), 25).await;
    let (w1b, ..) = create(s, V1, 30).await;
    let ids = |ws: Vec<Warning>| ws.into_iter().map(|w| w.id).collect::<Vec<_>>();
    let list = |f: WarningFilter, page: Page| async move { ids(s.warnings(&f, page).await.unwrap()) };

    assert_eq!(list(all(), Page::default()).await, [w1b.id, w2.id, w3.id, w1.id]);
    assert_eq!(
        s.warnings(&all(), Page::default()).await.unwrap(),
        vec![w1b.clone(), w2.clone(), w3.clone(), w1.clone()]
    );
    let active = WarningFilter { active_only: true, ..all() };
    assert_eq!(list(active.clone(), Page::default()).await, [w1b.id, w2.id, w3.id]);
    let township = |code: &str| WarningFilter { village_prefix: Some(c(code)), ..all() };
    assert_eq!(list(township("370304101"), Page::default()).await, [w1b.id, w2.id, w1.id]);
    assert_eq!(list(township("370304102"), Page::default()).await, [w3.id]);
    assert_eq!(list(township("370304"), Page::default()).await.len(), 4);
    assert_eq!(list(township("370305"), Page::default()).await, Vec::<i64>::new());
    assert_eq!(list(township(V1), Page::default()).await, [w1b.id, w1.id]);
    let since = |m: i64| WarningFilter { opened_since: Some(t(m)), ..all() };
    assert_eq!(list(since(10), Page::default()).await, [w1b.id, w2.id, w3.id], "at the time counts");
    assert_eq!(list(since(31), Page::default()).await, Vec::<i64>::new());
    let all_three = WarningFilter { active_only: true, village_prefix: Some(c("370304101")), opened_since: Some(t(5)) };
    assert_eq!(list(all_three, Page::default()).await, [w1b.id, w2.id]);

    assert_eq!(list(all(), Page { offset: 0, limit: 2 }).await, [w1b.id, w2.id]);
    assert_eq!(list(all(), Page { offset: 2, limit: 2 }).await, [w3.id, w1.id]);
    assert_eq!(list(all(), Page { offset: 4, limit: 2 }).await, Vec::<i64>::new());
    assert_eq!(list(active, Page { offset: 1, limit: 1 }).await, [w2.id]);
}

/// Writers racing: of eight creates for one village exactly one wins (the others Conflict
/// village); of eight saves of one next state over the same version exactly one wins (the
/// others Conflict version), and the outbox and trail hold that one save once.
pub async fn flood_warning_concurrent_writers_one_wins(s: &dyn WarningStore) {
    let (w, effects, trail) = open(0, &raise(V1, Grade::Prepare), &Policy::default(), t(0)).unwrap();
    let creates = futures::future::join_all((0..8).map(|_| s.create_warning(&w, &effects, &trail))).await;
    let won: Vec<i64> = creates.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    assert_eq!(won.len(), 1, "{creates:?}");
    assert!(creates.iter().all(|r| matches!(r, Ok(_) | Err(StoreError::Conflict { field: "village" }))), "{creates:?}");
    let stored = s.warning(won[0]).await.unwrap();
    assert_eq!(pending(s).await.len(), effects.len());

    let (next, next_effects, next_trail) = step(&stored, ack("v1"), 2);
    let saves = futures::future::join_all((0..8).map(|_| s.save_warning(&next, &next_effects, &next_trail))).await;
    assert_eq!(saves.iter().filter(|r| r.is_ok()).count(), 1, "{saves:?}");
    assert!(saves.iter().all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict { field: "version" }))), "{saves:?}");
    assert_eq!(s.warning(stored.id).await.unwrap(), next);
    assert_eq!(pending(s).await.len(), effects.len() + next_effects.len());
    let lines = s.trail(stored.id).await.unwrap();
    assert_eq!(lines.len(), trail.len() + next_trail.len());
    assert!(lines.iter().enumerate().all(|(i, l)| l.seq == i as i64 + 1));
}

/// For a backend's own test of a corrupt row: a warning with effects and a trail, its id.
pub async fn seed_for_corruption(s: &dyn WarningStore) -> i64 {
    create(s, V1, 0).await.0.id
}

/// After a backend's test has replaced the stored bodies of warning `id` (its warning row,
/// its trail and its effects) by text that is not theirs, every read of them is an error
/// naming the row, not a panic.
pub async fn corrupt_rows_are_errors(s: &dyn WarningStore, id: i64) {
    let said = |e: StoreError, what: &str| match e {
        StoreError::Other(m) => assert!(m.contains(what), "{what:?} not in {m:?}"),
        e => panic!("expected a decode error about {what}, got {e:?}"),
    };
    said(s.warning(id).await.unwrap_err(), &format!("bad stored flood warning {id}"));
    let village: DivisionCode = c(V1);
    said(s.active_warning(&village).await.unwrap_err(), "bad stored flood warning");
    said(s.warnings(&all(), Page::default()).await.unwrap_err(), "bad stored flood warning");
    said(s.trail(id).await.unwrap_err(), &format!("of flood warning {id}"));
    said(s.pending_effects(10).await.unwrap_err(), "bad stored flood warning effect");
}

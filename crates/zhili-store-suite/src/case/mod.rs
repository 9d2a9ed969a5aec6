//! Suite cases for the case store (案件存储).

use chrono::{DateTime, Duration, TimeZone, Utc};
use zhili_case::catalogue::{CaseKind, Urgency};
use zhili_case::model::{Case, CaseClock, CaseFilter, CaseOrder, Source, TimelineEntry, TrackingCode};
use zhili_case::workflow::{CaseState, CaseStatus, Step};
use zhili_core::audit::Actor;
use zhili_core::policy::Role;
use zhili_core::store::{verify_audit_chain, Page, StoreError};

use zhili_case::store::{CaseMapStore, CaseMetricsStore, CaseStore, EscalationStore};
use zhili_core::store::Store;
use zhili_platform::notify::NotificationStore;

use crate::{actor, audit_count, c, new_user, seed};

mod map;
mod notify;
pub use map::*;
pub use notify::*;

/// What the case cases need of a backend.
pub trait CaseBackend:
    Store + CaseStore + CaseMetricsStore + CaseMapStore + EscalationStore + NotificationStore
{
}
impl<T: Store + CaseStore + CaseMetricsStore + CaseMapStore + EscalationStore + NotificationStore> CaseBackend for T {}

/// The case loop's cases, one `#[tokio::test]` each (see [`crate::suite_cases!`]).
#[macro_export]
macro_rules! case_suite {
    ($run:path) => {
        $crate::suite_cases!($run; case;
            cases_are_stored_and_versioned, case_reports_are_idempotent, cases_are_found_by_tracking_code,
            case_filters_and_order,
            case_orders_put_new_work_first, case_deadline_and_closing_filters,
            open_cases_near_a_point, case_batches_are_all_or_nothing,
            case_tallies_by_group, case_rollup_matches_the_cases, cases_are_bulk_loaded, case_points_in_a_box,
            case_density_sums_to_the_count, escalation_levels_fire_once, cases_to_escalate_skip_the_fully_escalated);
    };
}

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// A reported case at `division`, `minutes` after a fixed instant.
pub(crate) fn case(class: &str, division: &str, minutes: i64) -> Case {
    let at = t(minutes);
    Case {
        id: 0,
        version: 1,
        status: CaseStatus::reported(0),
        kind: if class.starts_with("SJ") { CaseKind::Event } else { CaseKind::Component },
        class_code: class.parse().unwrap(),
        urgency: Urgency::Normal,
        source: Source::GridWorker,
        description: format!("案件 {class} {minutes}"),
        address: "博山区某路1号".into(),
        lon: 117.85,
        lat: 36.45,
        grid: None,
        division: c(division),
        reporter_id: None,
        contact: Some("13812345678".into()),
        external_id: None,
        tracking_code: None,
        photos: vec![],
        clock: CaseClock {
            step: Some(Step::Dispatch),
            started_at: Some(at),
            deadline: Some(at + Duration::minutes(60)),
            ..CaseClock::default()
        },
        handled_on_time: None,
        score: None,
        reported_at: at,
        filed_at: None,
        dispatched_at: None,
        closed_at: None,
        updated_at: at,
    }
}

pub(crate) fn report(case: &Case) -> TimelineEntry {
    TimelineEntry {
        seq: 1,
        at: case.reported_at,
        actor_id: case.reporter_id,
        actor: "suite".into(),
        command: "report".into(),
        from_state: None,
        to_state: CaseState::Reported,
        data: serde_json::json!({"description": case.description}),
    }
}

async fn create(s: &dyn CaseBackend, cases: Vec<Case>) -> Vec<Case> {
    let rows: Vec<(Actor, Case, TimelineEntry)> = cases
        .into_iter()
        .map(|c| {
            let r = report(&c);
            (actor(), c, r)
        })
        .collect();
    s.create_cases(&rows).await.unwrap()
}

fn ids(v: &[Case]) -> Vec<i64> {
    v.iter().map(|c| c.id).collect()
}

/// Create in one batch, read back exactly, advance with optimistic versioning, keep a timeline.
pub async fn cases_are_stored_and_versioned(s: &dyn CaseBackend) {
    seed(s).await;
    let before = audit_count(s).await;
    let made = create(
        s,
        vec![
            case("SJ0102", "370304100201", 0),
            case("BJ0101", "370304001001", 1),
            Case { grid: Some("37030410020111".into()), photos: vec!["p1".into()], ..case("SJ0102", "370304100", 2) },
        ],
    )
    .await;
    assert_eq!(made.len(), 3);
    assert!(made[0].id > 0 && made[0].id < made[1].id && made[1].id < made[2].id);
    for m in &made {
        assert_eq!(m.status.case_id, m.id);
        assert_eq!(&s.case(m.id).await.unwrap(), m, "read back exactly");
        assert_eq!(s.timeline(m.id).await.unwrap(), vec![report(m)]);
    }
    assert_eq!(audit_count(s).await, before + 3, "one audit row per case");
    // Reports from different users share one commit, each audited as its own actor.
    let (x, y) = (case("SJ0102", "370304100201", 3), case("SJ0102", "370304100201", 4));
    let ann = Actor { user_id: None, name: "anonymous".into(), role: "public".into(), ip: Some("10.0.0.9".into()) };
    let two = s.create_cases(&[(actor(), x.clone(), report(&x)), (ann, y.clone(), report(&y))]).await.unwrap();
    let log = s.recent_audit(Page { offset: 0, limit: 2 }).await.unwrap();
    let last: Vec<&str> = log.iter().map(|r| r.actor.as_str()).collect();
    assert!(last.contains(&"anonymous") && last.contains(&"suite"), "{last:?}");
    assert_eq!(two.len(), 2);
    assert!(matches!(s.case(987_654).await, Err(StoreError::NotFound)));

    // A transition: version 1 → 2, with its timeline entry.
    let mut next = made[0].clone();
    next.version = 2;
    next.status.state = CaseState::Filed;
    next.filed_at = Some(t(5));
    next.updated_at = t(5);
    let entry = TimelineEntry {
        seq: 0,
        at: t(5),
        actor_id: None,
        actor: "operator".into(),
        command: "file".into(),
        from_state: Some(CaseState::Reported),
        to_state: CaseState::Filed,
        data: serde_json::json!({"command": "file", "note": "属实"}),
    };
    s.update_case(&actor(), &next, &entry).await.unwrap();
    assert_eq!(s.case(next.id).await.unwrap(), next);
    let tl = s.timeline(next.id).await.unwrap();
    assert_eq!(tl.len(), 2);
    assert_eq!((tl[1].seq, tl[1].command.as_str(), tl[1].to_state), (2, "file", CaseState::Filed));
    assert_eq!(tl[1].data["note"], "属实");
    // Its audit record says the same on every backend.
    let head = s.audit_head().await.unwrap().unwrap().0;
    let rec = s.audit_rows(head - 1, 1).await.unwrap().remove(0);
    assert_eq!((rec.action.as_str(), rec.target.as_str()), ("case.file", format!("case:{}", next.id).as_str()));
    let detail: serde_json::Value = serde_json::from_str(&rec.detail).unwrap();
    assert_eq!(detail, serde_json::json!({"version": 2, "seq": 2, "from": "reported", "to": "filed"}));

    // A concurrent edit made against version 1 loses, and writes nothing.
    let audits = audit_count(s).await;
    let mut stale = made[0].clone();
    stale.version = 2;
    stale.status.state = CaseState::Voided;
    let e = s.update_case(&actor(), &stale, &entry).await.unwrap_err();
    assert!(matches!(e, StoreError::Stale { current: 2 }), "{e:?}");
    assert_eq!(s.case(next.id).await.unwrap().status.state, CaseState::Filed);
    assert_eq!(s.timeline(next.id).await.unwrap().len(), 2);
    assert_eq!(audit_count(s).await, audits);
    // Updating a case that does not exist.
    let ghost = Case { id: 987_654, version: 2, ..next.clone() };
    assert!(matches!(s.update_case(&actor(), &ghost, &entry).await, Err(StoreError::NotFound)));
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), audit_count(s).await);
}

/// A report with a key stored already is not stored twice (retries of machines and apps).
pub async fn case_reports_are_idempotent(s: &dyn CaseBackend) {
    seed(s).await;
    let keyed = Case { external_id: Some("sensor-7:2026-03-02T01:00".into()), ..case("BJ0101", "370304100201", 0) };
    let first = create(s, vec![keyed.clone()]).await;
    let again = create(s, vec![case("SJ0102", "370304100201", 1), keyed.clone(), keyed.clone()]).await;
    assert_eq!(again.len(), 3);
    assert_eq!(again[1].id, first[0].id);
    assert_eq!(again[2].id, first[0].id);
    assert_eq!(s.count_cases(&CaseFilter::default()).await.unwrap(), 2);
}

/// A publicly reported case is found by its tracking code, and by nothing like it: another code,
/// a case without one, or the code after the case has moved on (its updates keep it). Two cases
/// never share a code: the second is refused and nothing of its batch is stored.
pub async fn cases_are_found_by_tracking_code(s: &dyn CaseBackend) {
    seed(s).await;
    let code = TrackingCode::from_random([7, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let other = TrackingCode::from_random([7, 1, 2, 3, 4, 5, 6, 7, 8, 10]);
    let public =
        Case { source: Source::Open311, tracking_code: Some(code.clone()), ..case("SJ0102", "370304100201", 0) };
    let made = create(s, vec![case("SJ0103", "370304100201", 1), public]).await;
    let found = s.case_by_tracking_code(&code).await.unwrap();
    assert_eq!(found.id, made[1].id);
    assert_eq!(found.tracking_code.as_ref(), Some(&code));
    assert!(matches!(s.case_by_tracking_code(&other).await, Err(StoreError::NotFound)));
    assert_eq!(s.case(made[0].id).await.unwrap().tracking_code, None);

    // A transition keeps the code and the lookup follows the case.
    let mut next = found.clone();
    next.version += 1;
    next.status.state = CaseState::Filed;
    let entry = TimelineEntry {
        seq: 0,
        at: t(5),
        actor_id: None,
        actor: "op".into(),
        command: "file".into(),
        from_state: Some(CaseState::Reported),
        to_state: CaseState::Filed,
        data: serde_json::json!({"command": "file"}),
    };
    s.update_case(&actor(), &next, &entry).await.unwrap();
    let found = s.case_by_tracking_code(&code).await.unwrap();
    assert_eq!((found.id, found.status.state), (made[1].id, CaseState::Filed));

    // The same code again: refused, and its batch-mate is not stored either.
    let n = s.count_cases(&CaseFilter::default()).await.unwrap();
    let twin = Case { source: Source::Public, tracking_code: Some(code.clone()), ..case("SJ0102", "370304100201", 2) };
    let fresh = case("SJ0104", "370304100201", 3);
    let batch = vec![(actor(), fresh.clone(), report(&fresh)), (actor(), twin.clone(), report(&twin))];
    let e = s.create_cases(&batch).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "tracking_code" }), "{e:?}");
    assert_eq!(s.count_cases(&CaseFilter::default()).await.unwrap(), n);
    assert_eq!(s.case_by_tracking_code(&code).await.unwrap().id, made[1].id);
}

/// Filters and the worklist order: earliest running deadline first, then no clock, newest first.
pub async fn case_filters_and_order(s: &dyn CaseBackend) {
    seed(s).await;
    let u = s.create_user(&actor(), &new_user("gw", Role::GridWorker, "370304100201", None)).await.unwrap();
    let mut a = case("SJ0102", "370304100201", 0); // deadline t(60)
    a.reporter_id = Some(u.id);
    let mut b = case("SJ0103", "370304100201", 10);
    b.clock.deadline = Some(t(30)); // earliest deadline
    b.status.state = CaseState::Dispatched;
    b.status.department = Some("cgj".into());
    b.grid = Some("37030410020111".into());
    let mut d = case("BJ0101", "370304001001", 20);
    d.clock = CaseClock::default(); // no clock: closed
    d.status.state = CaseState::Closed;
    d.source = Source::Hotline;
    let mut e = case("BJ0102", "370304001001", 30);
    e.clock = CaseClock::default();
    e.status.state = CaseState::Closed;
    let made = create(s, vec![a, b, d, e]).await;
    let (a, b, d, e) = (made[0].id, made[1].id, made[2].id, made[3].id);
    let list = |f: CaseFilter| async move { ids(&s.cases(&f, Page { offset: 0, limit: 100 }).await.unwrap()) };
    assert_eq!(list(CaseFilter::default()).await, vec![b, a, e, d]);
    assert_eq!(list(CaseFilter { within: Some(c("370304100")), ..Default::default() }).await, vec![b, a]);
    assert_eq!(list(CaseFilter { within: Some(c("370304")), ..Default::default() }).await.len(), 4);
    assert_eq!(list(CaseFilter { states: vec![CaseState::Closed], ..Default::default() }).await, vec![e, d]);
    assert_eq!(
        list(CaseFilter { states: vec![CaseState::Reported, CaseState::Dispatched], ..Default::default() }).await,
        vec![b, a]
    );
    assert_eq!(list(CaseFilter { class_prefix: Some("BJ01".into()), ..Default::default() }).await, vec![e, d]);
    assert_eq!(list(CaseFilter { class_prefix: Some("SJ0103".into()), ..Default::default() }).await, vec![b]);
    assert_eq!(list(CaseFilter { department: Some("cgj".into()), ..Default::default() }).await, vec![b]);
    assert_eq!(list(CaseFilter { grids: vec!["37030410020111".into()], ..Default::default() }).await, vec![b]);
    assert_eq!(list(CaseFilter { reporter_id: Some(u.id), ..Default::default() }).await, vec![a]);
    assert_eq!(list(CaseFilter { source: Some(Source::Hotline), ..Default::default() }).await, vec![d]);
    assert_eq!(list(CaseFilter { from: Some(t(10)), to: Some(t(30)), ..Default::default() }).await, vec![b, d]);
    assert_eq!(list(CaseFilter { overdue_at: Some(t(45)), ..Default::default() }).await, vec![b]);
    assert_eq!(list(CaseFilter { overdue_at: Some(t(90)), ..Default::default() }).await, vec![b, a]);
    // Walking a whole list newest first by key (an export): each page is below the last id read,
    // with or without other conditions, and the count honours the key.
    let newest = |below: Option<i64>| CaseFilter { order: CaseOrder::Newest, id_below: below, ..Default::default() };
    assert_eq!(list(newest(None)).await, vec![e, d, b, a]);
    assert_eq!(list(newest(Some(d))).await, vec![b, a]);
    assert_eq!(list(newest(Some(a))).await, Vec::<i64>::new());
    assert_eq!(list(CaseFilter { within: Some(c("370304100")), ..newest(Some(b)) }).await, vec![a]);
    assert_eq!(list(CaseFilter { from: Some(t(10)), ..newest(Some(e)) }).await, vec![d, b]);
    assert_eq!(list(CaseFilter { id_below: Some(e), ..Default::default() }).await, vec![b, a, d]);
    assert_eq!(s.count_cases(&newest(Some(d))).await.unwrap(), 2);
    assert_eq!(s.count_cases_upto(&newest(Some(e)), 10).await.unwrap(), 3);
    let f = CaseFilter { within: Some(c("370304001")), ..Default::default() };
    assert_eq!(s.count_cases(&f).await.unwrap(), 2);
    assert_eq!(ids(&s.cases(&CaseFilter::default(), Page { offset: 1, limit: 2 }).await.unwrap()), vec![a, e]);

    // More of both kinds, so that pages cut through the running and the stopped ones: a walk
    // page by page gives the worklist order (running deadlines first, then newest first).
    let more: Vec<Case> = (0..9)
        .map(|i| {
            let mut x = case("SJ0102", if i % 2 == 0 { "370304100201" } else { "370304001001" }, 40 + i);
            if i % 3 == 0 {
                x.clock.deadline = Some(t(200 - i * 7));
            } else {
                x.clock = CaseClock::default();
                x.status.state = CaseState::Closed;
            }
            x
        })
        .collect();
    create(s, more).await;
    for within in [None, Some(c("370304100"))] {
        let f = CaseFilter { within: within.clone(), ..Default::default() };
        let all = s.cases(&f, Page { offset: 0, limit: 100 }).await.unwrap();
        let mut expected: Vec<(Option<DateTime<Utc>>, i64)> = all.iter().map(|x| (x.clock.deadline, x.id)).collect();
        expected.sort_by_key(|&(d, id)| (d.is_none(), d, std::cmp::Reverse(id)));
        assert_eq!(ids(&all), expected.iter().map(|e| e.1).collect::<Vec<_>>(), "{within:?}");
        assert_eq!(all.len() as i64, s.count_cases(&f).await.unwrap());
        let n = all.len() as i64;
        for cap in [0, 1, n - 1, n, n + 1, 1000] {
            assert_eq!(s.count_cases_upto(&f, cap).await.unwrap(), n.min(cap), "cap {cap} within {within:?}");
        }
        for size in [1, 2, 3, 5] {
            let mut walked = Vec::new();
            for k in 0.. {
                let page = s.cases(&f, Page { offset: k * size, limit: size }).await.unwrap();
                if page.is_empty() {
                    break;
                }
                walked.extend(ids(&page));
            }
            assert_eq!(walked, ids(&all), "pages of {size} within {within:?}");
        }
    }
}

/// The worklist orders: new work first ([`CaseOrder::Upcoming`]: running clocks nearest
/// first, then overdue most recent first, then stopped newest first) and newest first, whole and
/// page by page, with and without the filters that change how a backend reads them.
pub async fn case_orders_put_new_work_first(s: &dyn CaseBackend) {
    seed(s).await;
    let now = t(500);
    // Deadlines on both sides of `now` (long overdue, just overdue, soon, later), ties, and
    // cases without a running clock; in two villages, two states, one department.
    let cases: Vec<Case> = (0..24)
        .map(|i| {
            let mut x = case("SJ0102", if i % 2 == 0 { "370304100201" } else { "370304001001" }, i * 10);
            x.status.state = if i % 3 == 0 { CaseState::Dispatched } else { CaseState::Reported };
            if i % 3 == 0 {
                x.status.department = Some("cgj".into());
            }
            match i % 4 {
                0 => x.clock.deadline = Some(t(500 - 400 + i * 3)), // overdue, long ago to recent
                1 => x.clock.deadline = Some(t(500 + 200 - i * 5)), // running
                2 => x.clock.deadline = Some(t(500 + (i % 8) * 20)), // running, ties; one exactly at now
                _ => {
                    x.clock = CaseClock::default();
                    x.status.state = CaseState::Closed;
                    x.status.department = None;
                }
            }
            x
        })
        .collect();
    let made = create(s, cases).await;
    let expect = |order: CaseOrder, f: &CaseFilter| {
        let mut v: Vec<&Case> = made.iter().filter(|c| matches(c, f)).collect();
        v.sort_by_key(|c| (order.key(c.clock.deadline), std::cmp::Reverse(c.id)));
        v.iter().map(|c| c.id).collect::<Vec<_>>()
    };
    let filters = [
        CaseFilter::default(),
        CaseFilter { within: Some(c("370304100")), ..Default::default() },
        CaseFilter { states: vec![CaseState::Reported], ..Default::default() },
        CaseFilter { states: vec![CaseState::Reported, CaseState::Dispatched], ..Default::default() },
        CaseFilter { department: Some("cgj".into()), ..Default::default() },
        CaseFilter { from: Some(t(30)), to: Some(t(200)), ..Default::default() },
    ];
    for order in [CaseOrder::Upcoming { now }, CaseOrder::Newest, CaseOrder::Deadline] {
        for base in &filters {
            let f = CaseFilter { order, ..base.clone() };
            let want = expect(order, &f);
            assert!(!want.is_empty());
            let all = ids(&s.cases(&f, Page { offset: 0, limit: 100 }).await.unwrap());
            assert_eq!(all, want, "{order:?} {base:?}");
            for size in [1, 3, 5] {
                let mut walked = Vec::new();
                for k in 0.. {
                    let page = s.cases(&f, Page { offset: k * size, limit: size }).await.unwrap();
                    if page.is_empty() {
                        break;
                    }
                    walked.extend(ids(&page));
                }
                assert_eq!(walked, want, "pages of {size}, {order:?} {base:?}");
            }
            // The order is no condition: counts are the same in every order.
            assert_eq!(s.count_cases(&f).await.unwrap(), want.len() as i64);
            assert_eq!(s.count_cases_upto(&f, 1000).await.unwrap(), want.len() as i64);
        }
    }
    // New work first: the first running clock leads, the longest overdue is behind every other
    // clock, stopped cases last.
    let f = CaseFilter { order: CaseOrder::Upcoming { now }, ..Default::default() };
    let up = s.cases(&f, Page { offset: 0, limit: 100 }).await.unwrap();
    assert!(up[0].clock.deadline.unwrap() >= now);
    let last_clock = up.iter().rposition(|c| c.clock.deadline.is_some()).unwrap();
    assert_eq!(up[last_clock].clock.deadline, made.iter().filter_map(|c| c.clock.deadline).min());
}

/// Whether a case matches the filter's conditions used in [`case_orders_put_new_work_first`].
fn matches(c: &Case, f: &CaseFilter) -> bool {
    f.within.as_ref().is_none_or(|w| c.division.as_str().starts_with(w.as_str()))
        && (f.states.is_empty() || f.states.contains(&c.status.state))
        && f.department.as_ref().is_none_or(|d| c.status.department.as_ref() == Some(d))
        && f.from.is_none_or(|t| c.reported_at >= t)
        && f.to.is_none_or(|t| c.reported_at < t)
}

/// Running clocks that run out within a span (即将超时), and cases closed since an instant.
pub async fn case_deadline_and_closing_filters(s: &dyn CaseBackend) {
    seed(s).await;
    let mut soon = case("SJ0102", "370304100201", 0);
    soon.clock.deadline = Some(t(130));
    let mut later = case("SJ0102", "370304100201", 1);
    later.clock.deadline = Some(t(300));
    let mut overdue = case("SJ0102", "370304100201", 2);
    overdue.clock.deadline = Some(t(90));
    let mut at_now = case("SJ0102", "370304100201", 3);
    at_now.clock.deadline = Some(t(100));
    let mut closed_today = case("SJ0102", "370304100201", 4);
    closed_today.clock = CaseClock::default();
    closed_today.status.state = CaseState::Closed;
    closed_today.closed_at = Some(t(1000));
    let mut closed_before = case("SJ0102", "370304100201", 5);
    closed_before.clock = CaseClock::default();
    closed_before.status.state = CaseState::Closed;
    closed_before.closed_at = Some(t(900));
    let made = create(s, vec![soon, later, overdue, at_now, closed_today, closed_before]).await;
    let list = |f: CaseFilter| async move { ids(&s.cases(&f, Page { offset: 0, limit: 100 }).await.unwrap()) };
    // Runs out at or after t(100) and before t(200): soon, and the one at t(100) exactly.
    let due = CaseFilter { due_from: Some(t(100)), overdue_at: Some(t(200)), ..Default::default() };
    assert_eq!(list(due.clone()).await, vec![made[3].id, made[0].id]);
    assert_eq!(s.count_cases(&due).await.unwrap(), 2);
    assert_eq!(
        list(CaseFilter { due_from: Some(t(100)), ..Default::default() }).await,
        vec![made[3].id, made[0].id, made[1].id]
    );
    let closed = CaseFilter { closed_from: Some(t(950)), ..Default::default() };
    assert_eq!(list(closed.clone()).await, vec![made[4].id]);
    assert_eq!(
        list(CaseFilter { order: CaseOrder::Upcoming { now: t(100) }, ..closed.clone() }).await,
        vec![made[4].id]
    );
    assert_eq!(s.count_cases(&closed).await.unwrap(), 1);
    // With the other conditions a closing list has (its states, a department) and every order.
    let closed_in = |states: Vec<CaseState>, department: Option<&str>, order: CaseOrder| CaseFilter {
        states,
        department: department.map(str::to_string),
        order,
        ..closed.clone()
    };
    for order in [CaseOrder::Deadline, CaseOrder::Newest, CaseOrder::Upcoming { now: t(100) }] {
        let both = vec![CaseState::Closed, CaseState::Evaluated];
        assert_eq!(list(closed_in(both.clone(), None, order)).await, vec![made[4].id], "{order:?}");
        assert_eq!(s.count_cases(&closed_in(both, None, order)).await.unwrap(), 1);
        assert!(list(closed_in(vec![CaseState::Reported], None, order)).await.is_empty());
        assert!(list(closed_in(vec![], Some("cgj"), order)).await.is_empty());
    }
    let since_any = CaseFilter { closed_from: Some(t(0)), order: CaseOrder::Newest, ..Default::default() };
    assert_eq!(list(since_any).await, vec![made[5].id, made[4].id]);
    assert_eq!(s.count_cases_upto(&CaseFilter { closed_from: Some(t(0)), ..Default::default() }, 10).await.unwrap(), 2);
}

/// Open cases of a class near a point, for duplicate suggestions.
pub async fn open_cases_near_a_point(s: &dyn CaseBackend) {
    seed(s).await;
    let mut closed = case("SJ0102", "370304100201", 1);
    closed.status.state = CaseState::Closed;
    let far = Case { lon: 117.95, ..case("SJ0102", "370304100201", 2) };
    let made = create(s, vec![case("SJ0102", "370304100201", 0), closed, far, case("SJ0103", "370304100201", 3)]).await;
    let probe = |class: &str, bbox: [f64; 4]| (class.to_string(), bbox);
    let answers = s
        .open_cases_near(
            &[
                probe("SJ0102", [117.849, 36.449, 117.851, 36.451]),
                probe("BJ0101", [117.0, 36.0, 118.0, 37.0]),
                probe("SJ0102", [117.0, 36.0, 118.0, 37.0]),
                probe("SJ0103", [117.849, 36.449, 117.851, 36.451]),
            ],
            10,
        )
        .await
        .unwrap();
    let ids = |i: usize| answers[i].iter().map(|p| p.id).collect::<Vec<_>>();
    // In the probes' order: the near open case only (not the closed one, nor the far one, nor
    // another class); nothing of a class with no cases; oldest first; the other class's own.
    assert_eq!(answers.len(), 4);
    assert_eq!(ids(0), vec![made[0].id]);
    let near = &answers[0];
    assert_eq!((near[0].lon, near[0].lat, near[0].state), (117.85, 36.45, CaseState::Reported));
    assert_eq!((near[0].class_code.as_str(), near[0].deadline), ("SJ0102", made[0].clock.deadline));
    assert!(answers[1].is_empty());
    assert_eq!(ids(2), vec![made[0].id, made[2].id]);
    assert_eq!(ids(3), vec![made[3].id]);
    // The limit holds per probe.
    let one = s.open_cases_near(&[probe("SJ0102", [117.0, 36.0, 118.0, 37.0])], 1).await.unwrap();
    assert_eq!(one.iter().map(|a| a.len()).collect::<Vec<_>>(), vec![1]);
    assert!(s.open_cases_near(&[], 10).await.unwrap().is_empty());
}

/// A batch with one bad case stores none of them.
pub async fn case_batches_are_all_or_nothing(s: &dyn CaseBackend) {
    seed(s).await;
    let before = audit_count(s).await;
    let bad = Case { reporter_id: Some(4242), ..case("SJ0102", "370304100201", 1) };
    let rows: Vec<(Actor, Case, TimelineEntry)> =
        [case("SJ0102", "370304100201", 0), bad].into_iter().map(|c| (actor(), c.clone(), report(&c))).collect();
    let e = s.create_cases(&rows).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "reporter_id" }), "{e:?}");
    assert_eq!(s.count_cases(&CaseFilter::default()).await.unwrap(), 0);
    assert_eq!(audit_count(s).await, before);
    let unknown_division = case("SJ0102", "370304100299", 0);
    let e = s.create_cases(&[(actor(), unknown_division.clone(), report(&unknown_division))]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "division" }), "{e:?}");
}

/// The evaluation figures: counts by group, 应结案数 at the evaluation instant, local months.
pub async fn case_tallies_by_group(s: &dyn CaseBackend) {
    use zhili_case::metrics::{GroupBy, Tally};
    seed(s).await;
    // a: closed on time after a rework, dispatched to cgj; b: dispatched to slj, its deadline
    // passed at t(200); c: reported only; d: closed late after an extension, deferred once.
    let mut a = case("SJ0102", "370304100201", 0);
    a.status.state = CaseState::Closed;
    a.status.department = Some("cgj".into());
    a.status.counters.dispatches = 1;
    a.status.counters.reworks = 1;
    a.filed_at = Some(t(5));
    a.dispatched_at = Some(t(10));
    a.closed_at = Some(t(70));
    a.handled_on_time = Some(true);
    a.clock = CaseClock { handle_deadline: Some(t(100)), ..CaseClock::default() };
    let mut b = case("SJ0103", "370304100201", 20);
    b.status.state = CaseState::Handling;
    b.status.department = Some("slj".into());
    b.status.counters.dispatches = 2;
    b.status.counters.returns = 1;
    b.filed_at = Some(t(21));
    b.dispatched_at = Some(t(22));
    b.clock.deadline = Some(t(150));
    b.clock.handle_deadline = Some(t(150));
    let reported_only = case("BJ0101", "370304001001", 30);
    let mut d = case("BJ0101", "370304001001", 24 * 60 * 40); // forty days later: next month
    d.status.state = CaseState::Evaluated;
    d.status.department = Some("cgj".into());
    d.status.counters.dispatches = 1;
    d.status.counters.extensions = 1;
    d.status.counters.deferrals = 1;
    d.filed_at = Some(t(24 * 60 * 40 + 1));
    d.dispatched_at = Some(t(24 * 60 * 40 + 2));
    d.closed_at = Some(t(24 * 60 * 40 + 3602));
    d.handled_on_time = Some(false);
    d.clock = CaseClock { handle_deadline: Some(t(24 * 60 * 40 + 60)), ..CaseClock::default() };
    create(s, vec![a, b, reported_only, d]).await;

    let all = CaseFilter::default();
    let total = s.case_tallies(&all, GroupBy::None, t(200), 480).await.unwrap();
    let want = Tally {
        reported: 4,
        filed: 3,
        dispatched: 3,
        due: 3,
        closed: 2,
        closed_on_time: 1,
        reworked: 1,
        extended: 1,
        deferred: 1,
        dispatched_right: 2,
        handling_seconds: 60.0 * 60.0 + 3600.0 * 60.0, // an hour and sixty hours
    };
    assert_eq!(total, vec![(String::new(), want)]);
    // Before b's deadline, b is not yet due.
    let early = s.case_tallies(&all, GroupBy::None, t(100), 480).await.unwrap();
    assert_eq!(early[0].1.due, 2);
    let by_dept = s.case_tallies(&all, GroupBy::Department, t(200), 480).await.unwrap();
    let keys: Vec<(&str, i64)> = by_dept.iter().map(|(k, t)| (k.as_str(), t.reported)).collect();
    assert_eq!(keys, vec![("", 1), ("cgj", 2), ("slj", 1)]);
    let by_town = s.case_tallies(&all, GroupBy::Township, t(200), 480).await.unwrap();
    let keys: Vec<(&str, i64)> = by_town.iter().map(|(k, t)| (k.as_str(), t.reported)).collect();
    assert_eq!(keys, vec![("370304001", 2), ("370304100", 2)]);
    let by_major = s.case_tallies(&all, GroupBy::Major, t(200), 480).await.unwrap();
    let keys: Vec<&str> = by_major.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["BJ01", "SJ01"]);
    // Months in local time (UTC+8): t(0) is 2026-03-02 09:00 local; forty days on is April.
    let by_month = s.case_tallies(&all, GroupBy::Month, t(200), 480).await.unwrap();
    let keys: Vec<(&str, i64)> = by_month.iter().map(|(k, t)| (k.as_str(), t.reported)).collect();
    assert_eq!(keys, vec![("2026-03", 3), ("2026-04", 1)]);
    let by_day = s.case_tallies(&all, GroupBy::Day, t(200), -600).await.unwrap();
    assert_eq!(by_day[0].0, "2026-03-01", "01:00 UTC is the day before at UTC−10");
    // Filters apply.
    let f = CaseFilter { within: Some(c("370304100")), ..CaseFilter::default() };
    let town = s.case_tallies(&f, GroupBy::None, t(200), 480).await.unwrap();
    assert_eq!((town[0].1.reported, town[0].1.closed), (2, 1));
    let none = CaseFilter { department: Some("nobody".into()), ..CaseFilter::default() };
    assert!(s.case_tallies(&none, GroupBy::None, t(200), 480).await.unwrap().is_empty());
}

/// The daily rollup behind the figures always equals the cases' own tallies
/// ([`zhili_case::metrics::Tally::of`]): after inserts, after transitions that move a case to
/// another department, state and class, for every group and filter, at any evaluation instant,
/// and after a rebuild at another UTC offset.
pub async fn case_rollup_matches_the_cases(s: &dyn CaseBackend) {
    use std::collections::BTreeMap;
    use zhili_case::metrics::{GroupBy, Tally};
    seed(s).await;
    let mut made = Vec::new();
    for i in 0..24i64 {
        let class = ["SJ0102", "SJ0103", "BJ0101"][i as usize % 3];
        let division = ["370304100201", "370304001001", "370304001"][i as usize % 3];
        // Spread over local days, across local midnight (t(0) is 09:00 at UTC+8) and across
        // months (2 March, 22 March, 11 April, 1 May: local 30 April at UTC−10).
        let mut made_case = case(class, division, i * 70 + (i % 4) * 20 * 24 * 60);
        made_case.grid = [Some("37030410020111"), Some("37030400100101"), None][i as usize % 3].map(String::from);
        if i % 5 == 0 {
            made_case.grid = None;
        }
        made.push(made_case);
    }
    let stored = create(s, made).await;
    // Move some along: filed, dispatched (to two departments), handled, closed, reworked,
    // returned, reclassified.
    for (n, c0) in stored.iter().enumerate() {
        if n % 4 == 3 {
            continue;
        }
        let mut c1 = c0.clone();
        c1.version += 1;
        c1.filed_at = Some(c0.reported_at + Duration::minutes(5));
        c1.dispatched_at = Some(c0.reported_at + Duration::minutes(9));
        c1.status.state = CaseState::Handling;
        c1.status.department = Some(if n % 2 == 0 { "cgj" } else { "slj" }.into());
        c1.status.counters.dispatches = 1;
        c1.clock.handle_deadline = Some(c0.reported_at + Duration::minutes(30 * (n as i64 % 5)));
        if n % 5 == 1 {
            c1.class_code = "SJ0103".parse().unwrap();
        }
        let e = TimelineEntry { from_state: Some(CaseState::Reported), to_state: c1.status.state, ..report(&c1) };
        s.update_case(&actor(), &c1, &e).await.unwrap();
        if n % 3 == 0 {
            let mut c2 = c1.clone();
            c2.version += 1;
            c2.status.state = CaseState::Closed;
            c2.closed_at = Some(c0.reported_at + Duration::minutes(61 + n as i64));
            c2.handled_on_time = Some(n % 2 == 0);
            c2.status.counters.reworks = u32::from(n % 4 == 0);
            c2.status.counters.returns = u32::from(n % 7 == 0);
            c2.status.counters.extensions = u32::from(n % 5 == 0);
            c2.status.counters.deferrals = u32::from(n % 6 == 0);
            let e = TimelineEntry { from_state: Some(CaseState::Handling), to_state: CaseState::Closed, ..report(&c2) };
            s.update_case(&actor(), &c2, &e).await.unwrap();
            if n % 2 == 0 {
                // Reopened to another department and class: every count of the closed case
                // leaves its old row (its closing time stays, so it is due but not closed).
                let mut c3 = c2.clone();
                c3.version += 1;
                c3.status.state = CaseState::Handling;
                c3.status.department = Some("zjj".into());
                c3.class_code = "BJ0101".parse().unwrap();
                c3.status.counters.reworks += 1;
                c3.status.counters.reopens = 1;
                let e =
                    TimelineEntry { from_state: Some(CaseState::Closed), to_state: CaseState::Handling, ..report(&c3) };
                s.update_case(&actor(), &c3, &e).await.unwrap();
            }
        }
    }
    let cases = s.cases(&CaseFilter::default(), Page { offset: 0, limit: 1000 }).await.unwrap();
    assert_eq!(cases.len(), 24);
    let key = |c: &Case, g: GroupBy, offset: i32| -> String {
        let local = c.reported_at.with_timezone(&chrono::FixedOffset::east_opt(offset * 60).unwrap());
        match g {
            GroupBy::None => String::new(),
            GroupBy::Department => c.status.department.clone().unwrap_or_default(),
            GroupBy::Township => c.division.as_str().chars().take(9).collect(),
            GroupBy::Village if c.division.as_str().len() == 12 => c.division.to_string(),
            GroupBy::Village => String::new(),
            GroupBy::Grid => c.grid.clone().unwrap_or_default(),
            GroupBy::Class => c.class_code.to_string(),
            GroupBy::Major => c.class_code.to_string()[..4].to_string(),
            GroupBy::Month => local.format("%Y-%m").to_string(),
            GroupBy::Day => local.format("%Y-%m-%d").to_string(),
            _ => unreachable!(),
        }
    };
    let rounded = |v: Vec<(String, Tally)>| -> Vec<(String, Tally)> {
        v.into_iter()
            .map(|(k, mut t)| {
                t.handling_seconds = (t.handling_seconds * 1000.0).round() / 1000.0;
                (k, t)
            })
            .collect()
    };
    let groups = [
        GroupBy::None,
        GroupBy::Department,
        GroupBy::Township,
        GroupBy::Village,
        GroupBy::Grid,
        GroupBy::Class,
        GroupBy::Major,
        GroupBy::Month,
        GroupBy::Day,
    ];
    let local_midnight = |offset: i32, month: u32, day: u32| {
        chrono::FixedOffset::east_opt(offset * 60)
            .unwrap()
            .with_ymd_and_hms(2026, month, day, 0, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let period = |offset: i32, (m0, d0): (u32, u32), (m1, d1): (u32, u32)| CaseFilter {
        from: Some(local_midnight(offset, m0, d0)),
        to: Some(local_midnight(offset, m1, d1)),
        ..CaseFilter::default()
    };
    for offset in [480, -600] {
        if offset != 480 {
            // A rebuild is audited, on the chain.
            let before = audit_count(s).await;
            s.rebuild_case_rollup(&actor(), offset).await.unwrap();
            assert_eq!(audit_count(s).await, before + 1);
            assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), before + 1);
        }
        assert_eq!(s.case_rollup_offset().await.unwrap(), offset);
        let filters = [
            CaseFilter::default(),
            CaseFilter { within: Some(c("370304001")), ..CaseFilter::default() },
            CaseFilter { department: Some("cgj".into()), ..CaseFilter::default() },
            CaseFilter { class_prefix: Some("SJ01".into()), ..CaseFilter::default() },
            period(offset, (3, 2), (3, 3)),
            // Whole months only, whole months with partial months at both ends, and a village
            // or grids over them: the monthly place rollup where grouped by village or grid.
            period(offset, (3, 1), (5, 1)),
            period(offset, (3, 2), (5, 2)),
            CaseFilter { within: Some(c("370304001001")), ..period(offset, (3, 22), (6, 1)) },
            CaseFilter { grids: vec!["37030410020111".into()], ..period(offset, (3, 1), (4, 12)) },
            CaseFilter {
                within: Some(c("370304100")),
                from: Some(local_midnight(offset, 3, 22)),
                ..CaseFilter::default()
            },
            CaseFilter { to: Some(local_midnight(offset, 4, 11)), ..CaseFilter::default() },
        ];
        for f in &filters {
            let matching: Vec<&Case> = cases
                .iter()
                .filter(|c| {
                    f.within.as_ref().is_none_or(|w| c.division.as_str().starts_with(w.as_str()))
                        && f.department.as_ref().is_none_or(|d| c.status.department.as_ref() == Some(d))
                        && f.class_prefix.as_ref().is_none_or(|p| c.class_code.to_string().starts_with(p.as_str()))
                        && (f.grids.is_empty() || c.grid.as_ref().is_some_and(|g| f.grids.contains(g)))
                        && f.from.is_none_or(|t| c.reported_at >= t)
                        && f.to.is_none_or(|t| c.reported_at < t)
                })
                .collect();
            for due_at in [t(0), t(100), t(2000), t(60 * 24 * 45), t(60 * 24 * 90)] {
                for g in groups {
                    let mut want: BTreeMap<String, Tally> = BTreeMap::new();
                    for c in &matching {
                        *want.entry(key(c, g, offset)).or_default() += Tally::of(c, due_at);
                    }
                    let got = s.case_tallies(f, g, due_at, offset).await.unwrap();
                    assert_eq!(
                        rounded(got),
                        rounded(want.into_iter().collect()),
                        "offset {offset}, filter {f:?}, group {g:?}, due at {due_at}"
                    );
                }
            }
        }
    }
}

/// A timeline entry of a loaded history.
fn step(seq: i64, minutes: i64, command: &str, from: CaseState, to: CaseState) -> TimelineEntry {
    TimelineEntry {
        seq,
        at: t(minutes),
        actor_id: None,
        actor: "operator1".into(),
        command: command.into(),
        from_state: Some(from),
        to_state: to,
        data: serde_json::json!({"command": command, "note": format!("第{minutes}分钟")}),
    }
}

/// Finished histories are stored as they are, with their whole timelines, ids after the cases
/// there already, and one audit row for the whole call; a bad history stores nothing.
pub async fn cases_are_bulk_loaded(s: &dyn CaseBackend) {
    seed(s).await;
    let u = s.create_user(&actor(), &new_user("gw", Role::GridWorker, "370304100201", None)).await.unwrap();
    let before_ids = ids(&create(s, vec![case("SJ0102", "370304100201", 0)]).await);
    assert_eq!(s.load_cases(&actor(), &[]).await.unwrap(), 0);
    let audits = audit_count(s).await;

    // A closed case with its full history, one still being handled, one just reported.
    let mut closed =
        Case { reporter_id: Some(u.id), grid: Some("37030410020111".into()), ..case("SJ0102", "370304100201", 10) };
    closed.version = 4;
    closed.status.state = CaseState::Closed;
    closed.status.department = Some("cgj".into());
    closed.status.counters.dispatches = 1;
    closed.filed_at = Some(t(12));
    closed.dispatched_at = Some(t(14));
    closed.closed_at = Some(t(90));
    closed.handled_on_time = Some(true);
    closed.clock = CaseClock { handle_deadline: Some(t(254)), ..CaseClock::default() };
    closed.updated_at = t(90);
    let closed_tl = vec![
        report(&closed),
        step(0, 12, "file", CaseState::Reported, CaseState::Filed),
        step(0, 14, "dispatch", CaseState::Filed, CaseState::Dispatched),
        step(7, 90, "close", CaseState::Verified, CaseState::Closed), // given seqs are ignored
    ];
    let mut handling = case("BJ0101", "370304001001", 20);
    handling.version = 3;
    handling.status.state = CaseState::Handling;
    handling.status.department = Some("slj".into());
    handling.clock.deadline = Some(t(140));
    let handling_tl = vec![report(&handling), step(2, 25, "file", CaseState::Reported, CaseState::Filed)];
    let fresh =
        Case { source: Source::Hotline, external_id: Some("hotline-1".into()), ..case("SJ0104", "370304100", 30) };
    let fresh_tl = vec![report(&fresh)];
    let histories = vec![
        (closed.clone(), closed_tl.clone()),
        (handling.clone(), handling_tl.clone()),
        (fresh.clone(), fresh_tl.clone()),
    ];
    assert_eq!(s.load_cases(&actor(), &histories).await.unwrap(), 3);

    assert_eq!(audit_count(s).await, audits + 1, "one audit row for the whole call");
    let log = s.recent_audit(Page { offset: 0, limit: 1 }).await.unwrap();
    assert_eq!(log[0].action, "case.bulk_load");
    let detail: serde_json::Value = serde_json::from_str(&log[0].detail).unwrap();
    assert_eq!(detail["count"], 3);
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), audit_count(s).await);

    let all = s.cases(&CaseFilter::default(), Page { offset: 0, limit: 100 }).await.unwrap();
    assert_eq!(all.len(), 4);
    for (given, timeline) in &histories {
        let stored = all.iter().find(|c| c.description == given.description).expect("loaded");
        assert!(stored.id > before_ids[0], "ids follow the cases stored before");
        let want =
            Case { id: stored.id, status: CaseStatus { case_id: stored.id, ..given.status.clone() }, ..given.clone() };
        assert_eq!(&s.case(stored.id).await.unwrap(), &want, "read back exactly");
        let numbered: Vec<TimelineEntry> =
            timeline.iter().enumerate().map(|(k, e)| TimelineEntry { seq: k as i64 + 1, ..e.clone() }).collect();
        assert_eq!(s.timeline(stored.id).await.unwrap(), numbered, "the whole timeline, numbered 1..n");
    }
    let mut loaded: Vec<i64> = ids(&all).into_iter().filter(|id| !before_ids.contains(id)).collect();
    loaded.sort_unstable();
    let by_id = |id: i64| all.iter().find(|c| c.id == id).unwrap().description.clone();
    let order: Vec<String> = loaded.iter().map(|&id| by_id(id)).collect();
    let given: Vec<String> = histories.iter().map(|(c, _)| c.description.clone()).collect();
    assert_eq!(order, given, "ids in the order given");
    // The projections serve filters as for any case.
    let f = CaseFilter { states: vec![CaseState::Closed], ..Default::default() };
    assert_eq!(s.count_cases(&f).await.unwrap(), 1);
    let f = CaseFilter { reporter_id: Some(u.id), ..Default::default() };
    assert_eq!(s.count_cases(&f).await.unwrap(), 1);

    // All or nothing: an unknown reporter, an unknown division, a stored key, an empty timeline.
    let audits = audit_count(s).await;
    let bad_reporter = Case { reporter_id: Some(4242), ..case("SJ0102", "370304100201", 40) };
    let e = s
        .load_cases(
            &actor(),
            &[(case("SJ0102", "370304100201", 41), vec![]), (bad_reporter.clone(), vec![report(&bad_reporter)])],
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Other(_)), "an empty timeline is refused: {e:?}");
    let ok = case("SJ0102", "370304100201", 41);
    let e = s
        .load_cases(&actor(), &[(ok.clone(), vec![report(&ok)]), (bad_reporter.clone(), vec![report(&bad_reporter)])])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "reporter_id" }), "{e:?}");
    let nowhere = case("SJ0102", "370304100299", 42);
    let e = s.load_cases(&actor(), &[(nowhere.clone(), vec![report(&nowhere)])]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "division" }), "{e:?}");
    let again = Case { external_id: Some("hotline-1".into()), ..case("SJ0104", "370304100", 43) };
    let e = s
        .load_cases(&actor(), &[(ok.clone(), vec![report(&ok)]), (again.clone(), vec![report(&again)])])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "external_id" }), "{e:?}");
    assert_eq!(s.count_cases(&CaseFilter::default()).await.unwrap(), 4);
    assert_eq!(audit_count(s).await, audits);
}

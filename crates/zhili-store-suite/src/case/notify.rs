//! Suite cases for overdue escalation claims (超期督办记录) and the notices they store.

use crate::platform::delivery;
use chrono::{DateTime, Duration, TimeZone, Utc};
use zhili_case::notify::NotificationKind;
use zhili_case::store::Escalation;
use zhili_core::policy::Role;
use zhili_core::store::{verify_audit_chain, Page, StoreError};
use zhili_platform::notify::NewNotification;

use super::{case, report, CaseBackend};
use crate::{actor, audit_count, new_user, seed};

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn note(recipient: i64, case_id: i64, kind: NotificationKind, minutes: i64) -> NewNotification {
    crate::platform::note(recipient, case_id, kind.as_str(), minutes)
}

/// Two users and one stored case; returns (user a, user b, case id).
async fn world(s: &dyn CaseBackend) -> (i64, i64, i64) {
    seed(s).await;
    let a = s.create_user(&actor(), &new_user("ops_a", Role::Operator, "370304", None)).await.unwrap();
    let b = s.create_user(&actor(), &new_user("ops_b", Role::Operator, "370304100", None)).await.unwrap();
    let c = case("SJ0102", "370304100201", 0);
    let stored = s.create_cases(&[(actor(), c.clone(), report(&c))]).await.unwrap();
    (a.id, b.id, stored[0].id)
}

/// A level fires once per case and deadline: the second claim of the same (case, level,
/// deadline) is refused and stores nothing; a new deadline fires it again. Claims are audited.
pub async fn escalation_levels_fire_once(s: &dyn CaseBackend) {
    let (a, b, id) = world(s).await;
    let deadline = t(60);
    let esc = |level: i32, deadline: DateTime<Utc>| Escalation {
        case_id: id,
        level,
        deadline,
        at: t(61),
        notifications: vec![note(a, id, NotificationKind::Overdue, 61), note(b, id, NotificationKind::Overdue, 61)],
        deliveries: vec![delivery(&format!("d-{level}-{}", deadline.timestamp()), id, 61)],
    };
    let before = audit_count(s).await;
    assert_eq!(s.record_escalations(&actor(), &[esc(1, deadline)]).await.unwrap(), [true]);
    assert_eq!(audit_count(s).await, before + 1, "a claim is audited");
    // Again, alone and beside a new level: only the new level is claimed.
    assert_eq!(s.record_escalations(&actor(), &[esc(1, deadline)]).await.unwrap(), [false]);
    assert_eq!(s.record_escalations(&actor(), &[esc(1, deadline), esc(2, deadline)]).await.unwrap(), [false, true]);
    assert_eq!(s.count_notifications(a, false).await.unwrap(), 2, "one per claimed level");
    assert_eq!(s.deliveries(Page::default()).await.unwrap().len(), 2);
    let mut marks = s.escalations(&[id, 999_999]).await.unwrap();
    marks.sort();
    assert_eq!(marks, [(id, 1, deadline), (id, 2, deadline)]);
    // Another deadline (the next step's clock ran out): level 1 fires again.
    assert_eq!(s.record_escalations(&actor(), &[esc(1, t(600))]).await.unwrap(), [true]);
    assert_eq!(s.count_notifications(b, false).await.unwrap(), 3);
    // A claim for a case that does not exist stores nothing at all.
    let mut bad = esc(1, deadline);
    bad.case_id = 999_999;
    let e = s.record_escalations(&actor(), &[esc(3, deadline), bad]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { .. }), "{e:?}");
    assert_eq!(s.escalations(&[id]).await.unwrap().len(), 2);
    assert!(s.record_escalations(&actor(), &[]).await.unwrap().is_empty());
    verify_audit_chain(s, |_| {}).await.unwrap();
}

/// The escalation pass reads only overdue cases with a level still to fire for their current
/// deadline, in (deadline, id descending) order, page by page from a keyset cursor.
pub async fn cases_to_escalate_skip_the_fully_escalated(s: &dyn CaseBackend) {
    seed(s).await;
    let with_deadline = |i: i64, deadline: Option<DateTime<Utc>>| {
        let mut c = case("SJ0102", "370304100201", i);
        c.clock.deadline = deadline;
        c
    };
    let cases = [
        with_deadline(0, Some(t(10))),
        with_deadline(1, Some(t(20))),
        with_deadline(2, Some(t(20))),
        with_deadline(3, Some(t(30))),
        with_deadline(4, Some(t(1000))), // not overdue yet
        with_deadline(5, None),          // no running clock
    ];
    let rows: Vec<_> = cases.iter().map(|c| (actor(), c.clone(), report(c))).collect();
    let ids: Vec<i64> = s.create_cases(&rows).await.unwrap().iter().map(|c| c.id).collect();
    let esc = |i: usize, level: i32, deadline: DateTime<Utc>| Escalation {
        case_id: ids[i],
        level,
        deadline,
        at: t(40),
        notifications: vec![],
        deliveries: vec![],
    };
    // Case 1 has both levels for its deadline; case 0 only the first; case 3 both, but for an
    // earlier deadline (its clock was restarted since).
    let claims = [esc(1, 1, t(20)), esc(1, 2, t(20)), esc(0, 1, t(10)), esc(3, 1, t(5)), esc(3, 2, t(5))];
    assert_eq!(s.record_escalations(&actor(), &claims).await.unwrap(), [true; 5]);
    let now = t(100);
    let all = |levels: i32, after: Option<(DateTime<Utc>, i64)>, limit: i64| async move {
        s.cases_to_escalate(now, levels, after, limit).await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>()
    };
    assert_eq!(all(2, None, 10).await, vec![ids[0], ids[2], ids[3]]);
    // With three levels nobody is done; equal deadlines come newest first, and a page of one
    // at a time walks the same order from the cursor, ties included.
    assert_eq!(all(3, None, 10).await, vec![ids[0], ids[2], ids[1], ids[3]]);
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = s.cases_to_escalate(now, 3, after, 1).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.clock.deadline.unwrap(), last.id));
        walked.push(last.id);
        assert!(walked.len() <= 4, "the cursor must move on: {walked:?}");
    }
    assert_eq!(walked, vec![ids[0], ids[2], ids[1], ids[3]]);
    assert!(all(2, None, 0).await.is_empty());
    assert_eq!(all(1, None, 10).await, vec![ids[2], ids[3]]);
}

//! Suite cases for the platform's services (平台服务存储): notifications and the webhook outbox
//! addressed to a subject, attachments and settings.

use chrono::{DateTime, Duration, TimeZone, Utc};
use zhili_core::audit::Actor;
use zhili_core::policy::Role;
use zhili_core::store::{verify_audit_chain, Page, Store, StoreError};
use zhili_platform::attachment::{Attachment, AttachmentStore};
use zhili_platform::notify::{DeliveryOutcome, DeliveryStatus, NewDelivery, NewNotification, NotificationStore};
use zhili_platform::settings::SettingStore;
use zhili_platform::Subject;

use crate::{actor, audit_count, new_user, seed};

/// What the platform cases need of a backend.
pub trait PlatformBackend: Store + NotificationStore + AttachmentStore + SettingStore {}
impl<T: Store + NotificationStore + AttachmentStore + SettingStore> PlatformBackend for T {}

/// The platform's cases, one `#[tokio::test]` each (see [`crate::suite_cases!`]).
#[macro_export]
macro_rules! platform_suite {
    ($run:path) => {
        $crate::suite_cases!($run; platform;
            attachments_and_settings, notifications_are_per_recipient, webhook_outbox_claims_and_retries);
    };
}

const DISPATCHED: &str = "dispatched";
const OVERDUE: &str = "overdue";
const ESCALATED: &str = "escalated";

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// A case's subject: the platform knows no cases, only `(kind, id)`.
fn case_subject(id: i64) -> Subject {
    Subject::new("case", id).unwrap()
}

pub(crate) fn note(recipient: i64, case_id: i64, kind: &str, minutes: i64) -> NewNotification {
    NewNotification {
        recipient_id: recipient,
        kind: kind.into(),
        subject: Some(case_subject(case_id)),
        level: (kind != DISPATCHED).then_some(1),
        title: format!("案件 {case_id} {kind}"),
        body: "正文".into(),
        created_at: t(minutes),
    }
}

pub(crate) fn delivery(id: &str, case_id: i64, minutes: i64) -> NewDelivery {
    NewDelivery {
        id: id.into(),
        webhook: "ops".into(),
        event: "case.overdue".into(),
        subject: Some(case_subject(case_id)),
        payload: format!(r#"{{"event":"case.overdue","id":"{id}"}}"#),
        created_at: t(minutes),
    }
}

/// Two users; returns (user a, user b, a subject id).
async fn world(s: &dyn PlatformBackend) -> (i64, i64, i64) {
    seed(s).await;
    let a = s.create_user(&actor(), &new_user("ops_a", Role::Operator, "370304", None)).await.unwrap();
    let b = s.create_user(&actor(), &new_user("ops_b", Role::Operator, "370304100", None)).await.unwrap();
    (a.id, b.id, 200_001)
}

fn user_actor(id: i64) -> Actor {
    Actor { user_id: Some(id), name: format!("u{id}"), role: "operator".into(), ip: None }
}

/// Attachments keep their bytes; settings are replaced whole; both are audited.
pub async fn attachments_and_settings(s: &dyn PlatformBackend) {
    seed(s).await;
    let before = audit_count(s).await;
    let meta = Attachment {
        id: "a1b2c3".into(),
        content_type: "image/png".into(),
        size: 4,
        sha256: "00".repeat(32),
        uploaded_by: None,
        created_at: t(0),
    };
    s.put_attachment(&actor(), &meta, &[0x89, b'P', b'N', b'G']).await.unwrap();
    let (m, bytes) = s.attachment("a1b2c3").await.unwrap();
    assert_eq!((m, bytes), (meta.clone(), vec![0x89, b'P', b'N', b'G']));
    assert!(matches!(s.attachment("nope").await, Err(StoreError::NotFound)));
    assert!(matches!(s.put_attachment(&actor(), &meta, b"x").await, Err(StoreError::Conflict { .. })));
    assert_eq!(s.setting("case.calendar").await.unwrap(), None);
    s.put_setting(&actor(), "case.calendar", "{\"a\":1}").await.unwrap();
    s.put_setting(&actor(), "case.calendar", "{\"a\":2}").await.unwrap();
    assert_eq!(s.setting("case.calendar").await.unwrap().as_deref(), Some("{\"a\":2}"));
    assert_eq!(audit_count(s).await, before + 3);
}

/// Notifications per recipient, newest first; unread counts; marking read touches only the
/// caller's own, and is audited.
pub async fn notifications_are_per_recipient(s: &dyn PlatformBackend) {
    let (a, b, id) = world(s).await;
    let subject = case_subject(id);
    let notes =
        vec![note(a, id, DISPATCHED, 1), note(a, id, OVERDUE, 3), note(b, id, OVERDUE, 2), note(a, id, ESCALATED, 2)];
    let before = audit_count(s).await;
    s.notify(&actor(), Some(&subject), &notes, &[delivery("x1", id, 1)]).await.unwrap();
    assert_eq!(audit_count(s).await, before + 1);
    let mine = s.notifications(a, false, Page::default()).await.unwrap();
    let kinds: Vec<_> = mine.iter().map(|n| n.kind.as_str()).collect();
    assert_eq!(kinds, ["overdue", "escalated", "dispatched"]);
    assert!(mine.iter().all(|n| n.recipient_id == a && n.read_at.is_none() && n.subject == Some(subject.clone())));
    assert_eq!(mine[0].created_at, t(3));
    assert_eq!(mine[0].level, Some(1));
    assert_eq!(mine[2].level, None);
    let page = s.notifications(a, false, Page { offset: 1, limit: 1 }).await.unwrap();
    assert_eq!(page[0].id, mine[1].id);
    assert_eq!(s.count_notifications(a, true).await.unwrap(), 3);
    assert_eq!(s.count_notifications(b, true).await.unwrap(), 1);

    // b cannot mark a's notification read: nothing changes.
    let theirs = s.notifications(b, false, Page::default()).await.unwrap();
    assert_eq!(s.mark_read(&user_actor(b), b, Some(&[mine[0].id]), t(5)).await.unwrap(), 0);
    assert_eq!(s.count_notifications(a, true).await.unwrap(), 3);
    // a marks one; then all (the one read already is not counted again).
    assert_eq!(s.mark_read(&user_actor(a), a, Some(&[mine[0].id, theirs[0].id]), t(5)).await.unwrap(), 1);
    assert_eq!(s.count_notifications(a, true).await.unwrap(), 2);
    let unread = s.notifications(a, true, Page::default()).await.unwrap();
    assert_eq!(unread.iter().map(|n| n.id).collect::<Vec<_>>(), [mine[1].id, mine[2].id]);
    assert_eq!(s.notifications(a, false, Page::default()).await.unwrap()[0].read_at, Some(t(5)));
    assert_eq!(s.mark_read(&user_actor(a), a, None, t(6)).await.unwrap(), 2);
    assert_eq!(s.count_notifications(a, true).await.unwrap(), 0);
    assert_eq!(s.count_notifications(a, false).await.unwrap(), 3);
    assert_eq!(s.count_notifications(b, true).await.unwrap(), 1, "b's stay unread");
    assert_eq!(s.mark_read(&user_actor(a), a, Some(&[]), t(6)).await.unwrap(), 0);
    // Any module's subject, or none: the platform stores the kind and subject as given.
    let warning = Subject::new("flood_warning", 7).unwrap();
    let mut other = note(b, 7, "warning", 7);
    other.subject = Some(warning.clone());
    let mut plain = note(b, 0, "notice", 8);
    plain.subject = None;
    s.notify(&actor(), Some(&warning), &[other], &[]).await.unwrap();
    s.notify(&actor(), None, &[plain], &[]).await.unwrap();
    let got = s.notifications(b, true, Page { offset: 0, limit: 2 }).await.unwrap();
    assert_eq!(
        got.iter().map(|n| (n.kind.as_str(), n.subject.clone())).collect::<Vec<_>>(),
        [("notice", None), ("warning", Some(warning))]
    );
    // A notification for nobody is refused.
    let e = s.notify(&actor(), None, &[note(999_999, id, OVERDUE, 1)], &[]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { .. }), "{e:?}");
    verify_audit_chain(s, |_| {}).await.unwrap();
}

/// The outbox: due deliveries are claimed once (leased), delivered or failed with a retry
/// time, given up without one; rows are kept.
pub async fn webhook_outbox_claims_and_retries(s: &dyn PlatformBackend) {
    let (_, _, id) = world(s).await;
    s.notify(
        &actor(),
        Some(&case_subject(id)),
        &[],
        &[delivery("d1", id, 0), delivery("d2", id, 1), delivery("d3", id, 10)],
    )
    .await
    .unwrap();
    // At minute 5, d1 and d2 are due; leased until minute 6, nobody takes them again meanwhile.
    let got = s.claim_deliveries(t(5), t(6), 10).await.unwrap();
    assert_eq!(got.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["d1", "d2"]);
    assert!(got.iter().all(|d| d.attempts == 1 && d.status() == DeliveryStatus::Pending));
    assert_eq!(got[0].payload, r#"{"event":"case.overdue","id":"d1"}"#);
    assert!(s.claim_deliveries(t(5), t(6), 10).await.unwrap().is_empty(), "leased");
    s.finish_delivery("d1", &DeliveryOutcome::Delivered(t(5))).await.unwrap();
    s.finish_delivery("d2", &DeliveryOutcome::Failed { error: "HTTP 500".into(), retry_at: Some(t(8)) }).await.unwrap();
    // Minute 7: nothing due (d2 backs off to 8, d3 is due at 10).
    assert!(s.claim_deliveries(t(7), t(9), 10).await.unwrap().is_empty());
    // Minute 10: d2 (second attempt) and d3, limited to one at a time, oldest first.
    let got = s.claim_deliveries(t(10), t(11), 1).await.unwrap();
    assert_eq!((got[0].id.as_str(), got[0].attempts), ("d2", 2));
    assert_eq!(got[0].last_error.as_deref(), Some("HTTP 500"));
    s.finish_delivery("d2", &DeliveryOutcome::Failed { error: "timeout".into(), retry_at: None }).await.unwrap();
    let got = s.claim_deliveries(t(10), t(11), 10).await.unwrap();
    assert_eq!(got.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["d3"]);
    // An expired lease (the process died mid-attempt) makes it due again.
    let got = s.claim_deliveries(t(12), t(13), 10).await.unwrap();
    assert_eq!((got[0].id.as_str(), got[0].attempts), ("d3", 2));
    // Every row is kept, newest first, with its status.
    let all = s.deliveries(Page::default()).await.unwrap();
    let status: Vec<_> = all.iter().map(|d| (d.id.as_str(), d.status())).collect();
    assert_eq!(
        status,
        [("d3", DeliveryStatus::Pending), ("d2", DeliveryStatus::Failed), ("d1", DeliveryStatus::Delivered)]
    );
    assert_eq!(all[2].delivered_at, Some(t(5)));
    assert!(all.iter().all(|d| d.subject == Some(case_subject(id))));
    assert_eq!(all[1].last_error.as_deref(), Some("timeout"));
    assert!(matches!(s.finish_delivery("nope", &DeliveryOutcome::Delivered(t(1))).await, Err(StoreError::NotFound)));
    // Ids are unique.
    let e = s.notify(&actor(), None, &[], &[delivery("d1", id, 20)]).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");
}

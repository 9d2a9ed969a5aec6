//! In-app notifications and the webhook outbox (站内通知与外发队列).
//!
//! A module that tells someone something stores [`NewNotification`]s for the recipients and, for
//! each configured webhook subscribed to its event, a [`NewDelivery`] in the durable outbox,
//! in one transaction ([`NotificationStore::notify`]); the platform's sender posts deliveries and
//! retries them on [`retry_delay`]. Notification kinds (`dispatched`, `overdue`…) and event names
//! (`case.dispatched`…) belong to the domain that raises them: stored and sent as given.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::audit::Actor;
use zhili_core::store::{Page, StoreResult};

use crate::subject::Subject;

/// An in-app notification (站内通知) as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Assigned by the store.
    pub id: i64,
    /// The user told.
    pub recipient_id: i64,
    /// What it is about, a name of the raising domain (`dispatched`, `overdue`…).
    pub kind: String,
    /// The record concerned, if any.
    pub subject: Option<Subject>,
    /// The level within the kind (an escalation level, a warning level), 1 = the first.
    pub level: Option<i32>,
    /// Short text (zh-CN).
    pub title: String,
    /// Longer text (zh-CN).
    pub body: String,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When the recipient read it; `None` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// A notification to store (the store assigns the id; it starts unread).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewNotification {
    /// The user told.
    pub recipient_id: i64,
    /// What it is about, a name of the raising domain.
    pub kind: String,
    /// The record concerned, if any.
    pub subject: Option<Subject>,
    /// The level within the kind, if any.
    pub level: Option<i32>,
    /// Short text (zh-CN).
    pub title: String,
    /// Longer text (zh-CN).
    pub body: String,
    /// When created.
    pub created_at: DateTime<Utc>,
}

/// A webhook delivery to queue in the outbox (外发队列).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDelivery {
    /// Unique id, sent as the delivery (idempotency) id and inside the payload.
    pub id: String,
    /// The configured webhook's name.
    pub webhook: String,
    /// The event's stable name, owned by the raising domain (`case.dispatched`).
    pub event: String,
    /// The record concerned, if any.
    pub subject: Option<Subject>,
    /// The exact JSON body to send (and sign), as text.
    pub payload: String,
    /// When queued; the first attempt is due then.
    pub created_at: DateTime<Utc>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or being attempted).
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; no more will be made.
    Failed,
}

/// A webhook delivery as stored in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Unique id.
    pub id: String,
    /// The configured webhook's name.
    pub webhook: String,
    /// The event's stable name.
    pub event: String,
    /// The record concerned, if any.
    pub subject: Option<Subject>,
    /// The JSON body, as text.
    pub payload: String,
    /// Attempts made (or begun) so far.
    pub attempts: i32,
    /// When queued.
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due; `None` once delivered or given up.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the receiver accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

impl Delivery {
    /// Where it stands.
    pub fn status(&self) -> DeliveryStatus {
        match (self.delivered_at, self.next_attempt_at) {
            (Some(_), _) => DeliveryStatus::Delivered,
            (None, Some(_)) => DeliveryStatus::Pending,
            (None, None) => DeliveryStatus::Failed,
        }
    }
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// The receiver accepted it at this instant.
    Delivered(DateTime<Utc>),
    /// It failed; retry at `retry_at`, or never when `None`.
    Failed {
        /// Why (status or transport error), for troubleshooting.
        error: String,
        /// When to try again.
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Most attempts of one delivery.
pub const MAX_ATTEMPTS: i32 = 8;

/// How long to wait after failed attempt number `attempts` (1 = the first) before the next:
/// 30 s, 2 min, 10 min, 1 h, 2 h, 6 h, 12 h; `None` after the [`MAX_ATTEMPTS`]th: give up.
pub fn retry_delay(attempts: i32) -> Option<chrono::Duration> {
    const SECONDS: [i64; 7] = [30, 120, 600, 3_600, 7_200, 21_600, 43_200];
    if !(1..MAX_ATTEMPTS).contains(&attempts) {
        return None;
    }
    SECONDS.get(usize::try_from(attempts - 1).ok()?).map(|s| chrono::Duration::seconds(*s))
}

/// Notifications and the webhook outbox (通知存储).
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Store notifications and queue webhook deliveries in one transaction, with one audit row
    /// (`notification.create`, target the subject or `notification`, detail `{subject,
    /// notifications, deliveries}`). An unknown recipient is a missing reference.
    async fn notify(
        &self,
        actor: &Actor,
        subject: Option<&Subject>,
        notifications: &[NewNotification],
        deliveries: &[NewDelivery],
    ) -> StoreResult<()>;

    /// A user's notifications, newest first (only unread ones if `unread_only`).
    async fn notifications(&self, recipient_id: i64, unread_only: bool, page: Page) -> StoreResult<Vec<Notification>>;

    /// How many notifications a user has (only unread ones if `unread_only`).
    async fn count_notifications(&self, recipient_id: i64, unread_only: bool) -> StoreResult<i64>;

    /// Mark the user's own unread notifications read at `at`: those of `ids`, or all when
    /// `ids` is `None`. Others' notifications are never touched. Appends an audit row
    /// (`notification.read`); returns how many changed.
    async fn mark_read(
        &self,
        actor: &Actor,
        recipient_id: i64,
        ids: Option<&[i64]>,
        at: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Take up to `limit` deliveries due at `now` for an attempt: each one's attempt count is
    /// raised and its next attempt moved to `lease_until`, so no other process takes it
    /// meanwhile. Oldest due first.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>>;

    /// Record how an attempt ended.
    async fn finish_delivery(&self, id: &str, outcome: &DeliveryOutcome) -> StoreResult<()>;

    /// Deliveries, newest first (troubleshooting).
    async fn deliveries(&self, page: Page) -> StoreResult<Vec<Delivery>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_give_up() {
        assert_eq!(retry_delay(1), Some(chrono::Duration::seconds(30)));
        assert_eq!(retry_delay(2), Some(chrono::Duration::minutes(2)));
        let delays: Vec<_> = (1..MAX_ATTEMPTS).map(|a| retry_delay(a).unwrap()).collect();
        assert!(delays.windows(2).all(|w| w[0] < w[1]), "{delays:?}");
        assert_eq!(retry_delay(MAX_ATTEMPTS), None);
        assert_eq!(retry_delay(0), None);
    }

    #[test]
    fn a_delivery_is_pending_delivered_or_failed() {
        let at = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let mut d = Delivery {
            id: "d".into(),
            webhook: "w".into(),
            event: "case.dispatched".into(),
            subject: Subject::new("case", 1).ok(),
            payload: "{}".into(),
            attempts: 1,
            created_at: at,
            next_attempt_at: Some(at),
            delivered_at: None,
            last_error: None,
        };
        assert_eq!(d.status(), DeliveryStatus::Pending);
        d.next_attempt_at = None;
        assert_eq!(d.status(), DeliveryStatus::Failed);
        d.delivered_at = Some(at);
        assert_eq!(d.status(), DeliveryStatus::Delivered);
        assert_eq!(serde_json::to_value(DeliveryStatus::Failed).unwrap(), "failed");
    }
}

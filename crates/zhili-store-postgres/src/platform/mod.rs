//! Platform services on PostgreSQL (平台服务存储): notifications and the webhook outbox
//! addressed to a subject `(kind, id)`, attachments and settings. Other domains' folders store
//! their notifications through [`insert_notifications`] and [`insert_deliveries`] inside their
//! own transactions (an escalation claim and its notices commit together).
//!
//! Deliveries are claimed with `FOR UPDATE SKIP LOCKED` and leased by moving their next attempt
//! ahead, so several processes send without sending one delivery twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use zhili_core::audit::{audit_time, Actor};
use zhili_core::store::{Page, StoreError, StoreResult};
use zhili_platform::attachment::{Attachment, AttachmentStore};
use zhili_platform::notify::{
    Delivery, DeliveryOutcome, NewDelivery, NewNotification, Notification, NotificationStore,
};
use zhili_platform::settings::SettingStore;
use zhili_platform::Subject;
use zhili_store_sql::rows;

use crate::{append_audit, err, PgStore};

/// The migrations this folder owns.
pub(crate) static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/platform/migrations");

/// [`err`], naming the field of the attachment constraints.
fn attachment_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        match d.constraint() {
            Some("attachments_uploaded_by_fkey") if d.is_foreign_key_violation() => {
                return StoreError::MissingReference { field: "uploaded_by" }
            }
            Some("attachments_pkey") if d.is_unique_violation() => return StoreError::Conflict { field: "id" },
            _ => {}
        }
    }
    err(e)
}

const NOTIFICATION_COLUMNS: &str =
    "id, recipient_id, kind, subject_kind, subject_id, level, title, body, created_at, read_at";
const DELIVERY_COLUMNS: &str =
    "id, webhook, event, subject_kind, subject_id, payload, attempts, created_at, next_attempt_at, delivered_at, last_error";

fn notification_row(r: &PgRow) -> StoreResult<Notification> {
    let level = r.try_get("level").map_err(err)?;
    rows::notification(r, level, r.try_get("created_at").map_err(err)?, r.try_get("read_at").map_err(err)?)
}

fn delivery_row(r: &PgRow) -> StoreResult<Delivery> {
    let time = |c: &str| -> StoreResult<Option<DateTime<Utc>>> { r.try_get(c).map_err(err) };
    let attempts = r.try_get("attempts").map_err(err)?;
    let created_at = r.try_get("created_at").map_err(err)?;
    rows::delivery(r, attempts, created_at, time("next_attempt_at")?, time("delivered_at")?)
}

fn notify_err(e: sqlx::Error) -> StoreError {
    match err(e) {
        StoreError::MissingReference { .. } => StoreError::MissingReference { field: "recipient_id" },
        e => e,
    }
}

pub(crate) async fn insert_notifications(tx: &mut PgConnection, notes: &[NewNotification]) -> StoreResult<()> {
    if notes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO notifications (recipient_id, kind, subject_kind, subject_id, level, title, body, created_at)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::integer[], $6::text[],
             $7::text[], $8::timestamptz[])",
    )
    .bind(notes.iter().map(|n| n.recipient_id).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.kind.clone()).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.subject.as_ref().map(|s| s.kind().to_string())).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.subject.as_ref().map(Subject::id)).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.level).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.title.clone()).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.body.clone()).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.created_at).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .map_err(notify_err)?;
    Ok(())
}

pub(crate) async fn insert_deliveries(tx: &mut PgConnection, ds: &[NewDelivery]) -> StoreResult<()> {
    if ds.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO webhook_deliveries
             (id, webhook, event, subject_kind, subject_id, payload, attempts, created_at, next_attempt_at)
         SELECT id, webhook, event, subject_kind, subject_id, payload, 0, created_at, created_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[])
             AS d (id, webhook, event, subject_kind, subject_id, payload, created_at)",
    )
    .bind(ds.iter().map(|d| d.id.clone()).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| d.webhook.clone()).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| d.event.clone()).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| d.subject.as_ref().map(|s| s.kind().to_string())).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| d.subject.as_ref().map(Subject::id)).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| d.payload.clone()).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| d.created_at).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    Ok(())
}

#[async_trait]
impl NotificationStore for PgStore {
    async fn notify(
        &self,
        actor: &Actor,
        subject: Option<&Subject>,
        notifications: &[NewNotification],
        deliveries: &[NewDelivery],
    ) -> StoreResult<()> {
        if notifications.is_empty() && deliveries.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        insert_notifications(&mut tx, notifications).await?;
        insert_deliveries(&mut tx, deliveries).await?;
        append_audit(
            &mut tx,
            &zhili_store_sql::audit::notification_create(actor, subject, notifications.len(), deliveries.len()),
        )
        .await?;
        tx.commit().await.map_err(err)
    }

    async fn notifications(&self, recipient_id: i64, unread_only: bool, page: Page) -> StoreResult<Vec<Notification>> {
        let unread = if unread_only { " AND read_at IS NULL" } else { "" };
        let rows = sqlx::query(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE recipient_id = $1{unread}
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(recipient_id)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter().map(notification_row).collect()
    }

    async fn count_notifications(&self, recipient_id: i64, unread_only: bool) -> StoreResult<i64> {
        let unread = if unread_only { " AND read_at IS NULL" } else { "" };
        sqlx::query_scalar(&format!("SELECT count(*) FROM notifications WHERE recipient_id = $1{unread}"))
            .bind(recipient_id)
            .fetch_one(&self.pool)
            .await
            .map_err(err)
    }

    async fn mark_read(
        &self,
        actor: &Actor,
        recipient_id: i64,
        ids: Option<&[i64]>,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        if ids.is_some_and(|i| i.is_empty()) {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE notifications SET read_at = $1
             WHERE recipient_id = $2 AND read_at IS NULL AND ($3::bigint[] IS NULL OR id = ANY($3))",
        )
        .bind(at)
        .bind(recipient_id)
        .bind(ids)
        .execute(&mut *tx)
        .await
        .map_err(err)?
        .rows_affected();
        append_audit(&mut tx, &zhili_store_sql::audit::notification_read(actor, recipient_id, ids, n)).await?;
        tx.commit().await.map_err(err)?;
        Ok(n)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let rows = sqlx::query(&format!(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1
             WHERE id IN (SELECT id FROM webhook_deliveries
                          WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $2 AND delivered_at IS NULL
                          ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let mut out = rows.iter().map(delivery_row).collect::<StoreResult<Vec<_>>>()?;
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn finish_delivery(&self, id: &str, outcome: &DeliveryOutcome) -> StoreResult<()> {
        let q = match outcome {
            DeliveryOutcome::Delivered(at) => sqlx::query(
                "UPDATE webhook_deliveries SET delivered_at = $1, next_attempt_at = NULL, last_error = NULL
                 WHERE id = $2",
            )
            .bind(*at),
            DeliveryOutcome::Failed { error, retry_at } => {
                sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1, last_error = $2 WHERE id = $3")
                    .bind(*retry_at)
                    .bind(error.chars().take(1000).collect::<String>())
            }
        };
        let n = q.bind(id).execute(&self.pool).await.map_err(err)?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn deliveries(&self, page: Page) -> StoreResult<Vec<Delivery>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter().map(delivery_row).collect()
    }
}

#[async_trait]
impl AttachmentStore for PgStore {
    async fn put_attachment(&self, actor: &Actor, meta: &Attachment, bytes: &[u8]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "INSERT INTO attachments (id, content_type, size, sha256, uploaded_by, created_at, bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&meta.id)
        .bind(&meta.content_type)
        .bind(meta.size)
        .bind(&meta.sha256)
        .bind(meta.uploaded_by)
        .bind(meta.created_at)
        .bind(bytes)
        .execute(&mut *tx)
        .await
        .map_err(attachment_err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict { field: "id" });
        }
        append_audit(&mut tx, &zhili_store_sql::audit::attachment_put(actor, meta)).await?;
        tx.commit().await.map_err(err)
    }

    async fn attachment(&self, id: &str) -> StoreResult<(Attachment, Vec<u8>)> {
        let r = sqlx::query(
            "SELECT id, content_type, size, sha256, uploaded_by, created_at, bytes FROM attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(err)?
        .ok_or(StoreError::NotFound)?;
        let meta = rows::attachment(&r, r.try_get("created_at").map_err(err)?)?;
        Ok((meta, r.try_get("bytes").map_err(err)?))
    }
}

#[async_trait]
impl SettingStore for PgStore {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)
    }

    async fn put_setting(&self, actor: &Actor, key: &str, value: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(audit_time(Utc::now()))
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        append_audit(&mut tx, &zhili_store_sql::audit::setting_put(actor, key, value)).await?;
        tx.commit().await.map_err(err)
    }
}

/// Register the platform's ports.
pub(crate) fn register(store: &std::sync::Arc<PgStore>, ports: &mut zhili_core::ports::Ports) {
    ports.add::<dyn NotificationStore>(store.clone());
    ports.add::<dyn AttachmentStore>(store.clone());
    ports.add::<dyn SettingStore>(store.clone());
}

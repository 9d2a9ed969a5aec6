//! Platform services on SQLite (平台服务存储): notifications and the webhook outbox addressed
//! to a subject `(kind, id)`, attachments and settings. Other domains' folders store their
//! notifications through [`insert_notifications`] and [`insert_deliveries`] inside their own
//! transactions (an escalation claim and its notices commit together).
//!
//! Claiming deliveries needs no row locks: writes are serialised by `BEGIN IMMEDIATE`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use zhili_core::audit::Actor;
use zhili_core::store::{Page, StoreError, StoreResult};
use zhili_platform::attachment::{Attachment, AttachmentStore};
use zhili_platform::notify::{
    Delivery, DeliveryOutcome, NewDelivery, NewNotification, Notification, NotificationStore,
};
use zhili_platform::settings::SettingStore;
use zhili_platform::Subject;
use zhili_store_sql::rows;

use crate::{append_audit, err, exists, from_micros, micros, SqliteStore};

/// The migrations this folder owns.
pub(crate) static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/platform/migrations");

const NOTIFICATION_COLUMNS: &str =
    "id, recipient_id, kind, subject_kind, subject_id, level, title, body, created_at, read_at";
const DELIVERY_COLUMNS: &str =
    "id, webhook, event, subject_kind, subject_id, payload, attempts, created_at, next_attempt_at, delivered_at, last_error";

fn notification_row(r: &SqliteRow) -> StoreResult<Notification> {
    let time = |c: &str| -> StoreResult<Option<DateTime<Utc>>> {
        r.try_get::<Option<i64>, _>(c).map_err(err)?.map(from_micros).transpose()
    };
    let level = r.try_get::<Option<i64>, _>("level").map_err(err)?.map(|l| l as i32);
    rows::notification(r, level, from_micros(r.try_get("created_at").map_err(err)?)?, time("read_at")?)
}

fn delivery_row(r: &SqliteRow) -> StoreResult<Delivery> {
    let time = |c: &str| -> StoreResult<Option<DateTime<Utc>>> {
        r.try_get::<Option<i64>, _>(c).map_err(err)?.map(from_micros).transpose()
    };
    let attempts = r.try_get::<i64, _>("attempts").map_err(err)? as i32;
    let created_at = from_micros(r.try_get("created_at").map_err(err)?)?;
    rows::delivery(r, attempts, created_at, time("next_attempt_at")?, time("delivered_at")?)
}

/// [`err`], naming the references of the notification tables.
fn notify_err(e: sqlx::Error) -> StoreError {
    match err(e) {
        StoreError::MissingReference { .. } => StoreError::MissingReference { field: "recipient_id" },
        e => e,
    }
}

pub(crate) async fn insert_notifications(tx: &mut SqliteConnection, notes: &[NewNotification]) -> StoreResult<()> {
    let mut rest = notes;
    for n in crate::case::chunks(notes.len()) {
        let (part, more) = rest.split_at(n);
        rest = more;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO notifications (recipient_id, kind, subject_kind, subject_id, level, title, body, created_at) ",
        );
        q.push_values(part, |mut b, x| {
            b.push_bind(x.recipient_id)
                .push_bind(x.kind.as_str())
                .push_bind(x.subject.as_ref().map(|s| s.kind().to_string()))
                .push_bind(x.subject.as_ref().map(Subject::id))
                .push_bind(x.level.map(i64::from))
                .push_bind(x.title.as_str())
                .push_bind(x.body.as_str())
                .push_bind(micros(x.created_at));
        });
        q.build().execute(&mut *tx).await.map_err(notify_err)?;
    }
    Ok(())
}

pub(crate) async fn insert_deliveries(tx: &mut SqliteConnection, deliveries: &[NewDelivery]) -> StoreResult<()> {
    let mut rest = deliveries;
    for n in crate::case::chunks(deliveries.len()) {
        let (part, more) = rest.split_at(n);
        rest = more;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO webhook_deliveries (id, webhook, event, subject_kind, subject_id, payload, attempts, created_at, next_attempt_at) ",
        );
        q.push_values(part, |mut b, x| {
            b.push_bind(x.id.as_str())
                .push_bind(x.webhook.as_str())
                .push_bind(x.event.as_str())
                .push_bind(x.subject.as_ref().map(|s| s.kind().to_string()))
                .push_bind(x.subject.as_ref().map(Subject::id))
                .push_bind(x.payload.as_str())
                .push_bind(0_i64)
                .push_bind(micros(x.created_at))
                .push_bind(micros(x.created_at));
        });
        q.build().execute(&mut *tx).await.map_err(err)?;
    }
    Ok(())
}

#[async_trait]
impl NotificationStore for SqliteStore {
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
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE recipient_id = ?{unread}
             ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        ))
        .bind(recipient_id)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        rows.iter().map(notification_row).collect()
    }

    async fn count_notifications(&self, recipient_id: i64, unread_only: bool) -> StoreResult<i64> {
        let unread = if unread_only { " AND read_at IS NULL" } else { "" };
        sqlx::query_scalar(&format!("SELECT count(*) FROM notifications WHERE recipient_id = ?{unread}"))
            .bind(recipient_id)
            .fetch_one(&self.read)
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
        let mut q = QueryBuilder::<Sqlite>::new("UPDATE notifications SET read_at = ");
        q.push_bind(micros(at)).push(" WHERE recipient_id = ").push_bind(recipient_id).push(" AND read_at IS NULL");
        if let Some(ids) = ids {
            if ids.is_empty() {
                return Ok(0);
            }
            q.push(" AND id IN (");
            let mut s = q.separated(", ");
            for id in ids {
                s.push_bind(*id);
            }
            q.push(")");
        }
        let mut tx = self.begin().await?;
        let n = q.build().execute(&mut *tx).await.map_err(err)?.rows_affected();
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
        let mut tx = self.begin().await?;
        let rows = sqlx::query(&format!(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?
             WHERE id IN (SELECT id FROM webhook_deliveries
                          WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? AND delivered_at IS NULL
                          ORDER BY next_attempt_at, id LIMIT ?)
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(micros(lease_until))
        .bind(micros(now))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        let mut out = rows.iter().map(delivery_row).collect::<StoreResult<Vec<_>>>()?;
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn finish_delivery(&self, id: &str, outcome: &DeliveryOutcome) -> StoreResult<()> {
        let q = match outcome {
            DeliveryOutcome::Delivered(at) => sqlx::query(
                "UPDATE webhook_deliveries SET delivered_at = ?, next_attempt_at = NULL, last_error = NULL WHERE id = ?",
            )
            .bind(micros(*at)),
            DeliveryOutcome::Failed { error, retry_at } => {
                sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = ?, last_error = ? WHERE id = ?")
                    .bind(retry_at.map(micros))
                    .bind(error.chars().take(1000).collect::<String>())
            }
        };
        let mut tx = self.begin().await?;
        let n = q.bind(id).execute(&mut *tx).await.map_err(err)?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(err)
    }

    async fn deliveries(&self, page: Page) -> StoreResult<Vec<Delivery>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        ))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        rows.iter().map(delivery_row).collect()
    }
}

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn put_attachment(&self, actor: &Actor, meta: &Attachment, bytes: &[u8]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if exists(&mut tx, "SELECT 1 FROM attachments WHERE id = ?", &meta.id).await? {
            return Err(StoreError::Conflict { field: "id" });
        }
        if let Some(user) = meta.uploaded_by {
            let found = sqlx::query("SELECT 1 FROM users WHERE id = ?")
                .bind(user)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
            if found.is_none() {
                return Err(StoreError::MissingReference { field: "uploaded_by" });
            }
        }
        sqlx::query(
            "INSERT INTO attachments (id, content_type, size, sha256, uploaded_by, created_at, bytes)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&meta.id)
        .bind(&meta.content_type)
        .bind(meta.size)
        .bind(&meta.sha256)
        .bind(meta.uploaded_by)
        .bind(micros(meta.created_at))
        .bind(bytes)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        append_audit(&mut tx, &zhili_store_sql::audit::attachment_put(actor, meta)).await?;
        tx.commit().await.map_err(err)
    }

    async fn attachment(&self, id: &str) -> StoreResult<(Attachment, Vec<u8>)> {
        let r = sqlx::query(
            "SELECT id, content_type, size, sha256, uploaded_by, created_at, bytes FROM attachments WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(err)?
        .ok_or(StoreError::NotFound)?;
        let meta = rows::attachment(&r, from_micros(r.try_get("created_at").map_err(err)?)?)?;
        Ok((meta, r.try_get("bytes").map_err(err)?))
    }
}

#[async_trait]
impl SettingStore for SqliteStore {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.read)
            .await
            .map_err(err)
    }

    async fn put_setting(&self, actor: &Actor, key: &str, value: &str) -> StoreResult<()> {
        let now: DateTime<Utc> = Utc::now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(micros(now))
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        append_audit(&mut tx, &zhili_store_sql::audit::setting_put(actor, key, value)).await?;
        tx.commit().await.map_err(err)
    }
}

/// Register the platform's ports.
pub(crate) fn register(store: &std::sync::Arc<SqliteStore>, ports: &mut zhili_core::ports::Ports) {
    ports.add::<dyn NotificationStore>(store.clone());
    ports.add::<dyn AttachmentStore>(store.clone());
    ports.add::<dyn SettingStore>(store.clone());
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhili_core::store::Store;

    /// Notifications and deliveries stored before subjects existed (by `case_id`) come out of the
    /// subjects migration addressed to their case; those without a case stay without a subject.
    #[tokio::test]
    async fn case_ids_become_case_subjects() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("zhili.db")).await.unwrap();
        let legacy = zhili_store_sql::merge_migrations(&[
            &crate::core::MIGRATIONS,
            &crate::grid::MIGRATIONS,
            &crate::case::MIGRATIONS,
        ])
        .await
        .unwrap();
        legacy.run(&store.write).await.unwrap();
        // Rows as the old schema held them: a user, a notification about case 42 (references to
        // cases switched off: only the columns matter) and one about nothing.
        let a = Actor::system();
        let code = zhili_core::codes::DivisionCode::parse("370304").unwrap();
        let county = zhili_core::model::Division { code: code.clone(), name: "博山区".into(), boundary: None };
        store.upsert_division(&a, &county).await.unwrap();
        let user = zhili_core::model::NewUser {
            username: "ops".into(),
            display_name: "值班员".into(),
            role: zhili_core::policy::Role::Operator,
            jurisdiction: code,
            department_id: None,
            phone: None,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        };
        assert_eq!(store.create_user(&a, &user).await.unwrap().id, 1);
        let mut c = store.write.acquire().await.unwrap();
        for sql in [
            "PRAGMA foreign_keys = OFF",
            "INSERT INTO notifications (id, recipient_id, kind, case_id, level, title, body, created_at)
             VALUES (1, 1, 'overdue', 42, 1, 't1', 'b1', 1000), (2, 1, 'notice', NULL, NULL, 't2', 'b2', 2000)",
            "INSERT INTO webhook_deliveries (id, webhook, event, case_id, payload, attempts, created_at, next_attempt_at)
             VALUES ('d1', 'ops', 'case.overdue', 42, '{}', 0, 1000, 1000), ('d2', 'ops', 'x.y', NULL, '{}', 0, 2000, 2000)",
            "PRAGMA foreign_keys = ON",
        ] {
            sqlx::query(sql).execute(&mut *c).await.unwrap();
        }
        drop(c);
        store.migrate().await.unwrap();
        let notes = store.notifications(1, false, Page::default()).await.unwrap();
        let got: Vec<_> = notes.iter().map(|n| (n.id, n.kind.as_str(), n.subject.clone(), n.level)).collect();
        let case42 = Subject::new("case", 42).ok();
        assert_eq!(got, [(2, "notice", None, None), (1, "overdue", case42.clone(), Some(1))]);
        let ds = store.deliveries(Page::default()).await.unwrap();
        let got: Vec<_> = ds.iter().map(|d| (d.id.as_str(), d.subject.clone())).collect();
        assert_eq!(got, [("d2", None), ("d1", case42)]);
        assert!(store.integrity_check().await.unwrap().is_empty());
    }
}

//! Notifications, escalation claims and the webhook outbox on SQLite (通知存储).
//!
//! An escalation claim is an upsert on `(case_id, level)` that changes a row only when the
//! deadline differs, so its `rows_affected` says whether this call fired the level. Claiming
//! deliveries needs no row locks: writes are serialised by `BEGIN IMMEDIATE`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use zhili_case::model::Case;
use zhili_case::notify::{Delivery, NewDelivery, NewNotification, Notification, NotificationKind};
use zhili_case::store::{DeliveryOutcome, Escalation, NotificationStore};
use zhili_core::audit::{Actor, AuditEvent};
use zhili_core::store::{Page, StoreError, StoreResult};

use crate::case::{case_row, CASE_READ};
use crate::{append_audit, append_audits, err, from_micros, micros, SqliteStore};

const NOTIFICATION_COLUMNS: &str = "id, recipient_id, kind, case_id, level, title, body, created_at, read_at";
const DELIVERY_COLUMNS: &str =
    "id, webhook, event, case_id, payload, attempts, created_at, next_attempt_at, delivered_at, last_error";

fn notification_row(r: &SqliteRow) -> StoreResult<Notification> {
    let kind: String = r.try_get("kind").map_err(err)?;
    Ok(Notification {
        id: r.try_get("id").map_err(err)?,
        recipient_id: r.try_get("recipient_id").map_err(err)?,
        kind: NotificationKind::from_name(&kind)
            .ok_or_else(|| StoreError::Other(format!("bad stored notification kind {kind:?}")))?,
        case_id: r.try_get("case_id").map_err(err)?,
        level: r.try_get::<Option<i64>, _>("level").map_err(err)?.map(|l| l as i32),
        title: r.try_get("title").map_err(err)?,
        body: r.try_get("body").map_err(err)?,
        created_at: from_micros(r.try_get("created_at").map_err(err)?)?,
        read_at: r.try_get::<Option<i64>, _>("read_at").map_err(err)?.map(from_micros).transpose()?,
    })
}

fn delivery_row(r: &SqliteRow) -> StoreResult<Delivery> {
    let time = |c: &str| -> StoreResult<Option<DateTime<Utc>>> {
        r.try_get::<Option<i64>, _>(c).map_err(err)?.map(from_micros).transpose()
    };
    Ok(Delivery {
        id: r.try_get("id").map_err(err)?,
        webhook: r.try_get("webhook").map_err(err)?,
        event: r.try_get("event").map_err(err)?,
        case_id: r.try_get("case_id").map_err(err)?,
        payload: r.try_get("payload").map_err(err)?,
        attempts: r.try_get::<i64, _>("attempts").map_err(err)? as i32,
        created_at: from_micros(r.try_get("created_at").map_err(err)?)?,
        next_attempt_at: time("next_attempt_at")?,
        delivered_at: time("delivered_at")?,
        last_error: r.try_get("last_error").map_err(err)?,
    })
}

/// [`err`], naming the references of the notification tables.
fn notify_err(e: sqlx::Error) -> StoreError {
    match err(e) {
        StoreError::MissingReference { .. } => StoreError::MissingReference { field: "recipient_id or case_id" },
        e => e,
    }
}

async fn insert_notifications(tx: &mut SqliteConnection, notes: &[NewNotification]) -> StoreResult<()> {
    let mut rest = notes;
    for n in crate::case::chunks(notes.len()) {
        let (part, more) = rest.split_at(n);
        rest = more;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO notifications (recipient_id, kind, case_id, level, title, body, created_at) ",
        );
        q.push_values(part, |mut b, x| {
            b.push_bind(x.recipient_id)
                .push_bind(x.kind.as_str())
                .push_bind(x.case_id)
                .push_bind(x.level.map(i64::from))
                .push_bind(x.title.as_str())
                .push_bind(x.body.as_str())
                .push_bind(micros(x.created_at));
        });
        q.build().execute(&mut *tx).await.map_err(notify_err)?;
    }
    Ok(())
}

async fn insert_deliveries(tx: &mut SqliteConnection, deliveries: &[NewDelivery]) -> StoreResult<()> {
    let mut rest = deliveries;
    for n in crate::case::chunks(deliveries.len()) {
        let (part, more) = rest.split_at(n);
        rest = more;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO webhook_deliveries (id, webhook, event, case_id, payload, attempts, created_at, next_attempt_at) ",
        );
        q.push_values(part, |mut b, x| {
            b.push_bind(x.id.as_str())
                .push_bind(x.webhook.as_str())
                .push_bind(x.event.as_str())
                .push_bind(x.case_id)
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
        case_id: Option<i64>,
        notifications: &[NewNotification],
        deliveries: &[NewDelivery],
    ) -> StoreResult<()> {
        if notifications.is_empty() && deliveries.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        insert_notifications(&mut tx, notifications).await?;
        insert_deliveries(&mut tx, deliveries).await?;
        let target = case_id.map(|c| format!("case:{c}")).unwrap_or_else(|| "notification".into());
        append_audit(
            &mut tx,
            &AuditEvent::success(actor, "notification.create", target).with_detail(serde_json::json!({
                "case": case_id, "notifications": notifications.len(), "deliveries": deliveries.len(),
            })),
        )
        .await?;
        tx.commit().await.map_err(err)
    }

    async fn cases_to_escalate(
        &self,
        now: DateTime<Utc>,
        levels: i32,
        after: Option<(DateTime<Utc>, i64)>,
        limit: i64,
    ) -> StoreResult<Vec<Case>> {
        // The running deadlines in the order of `cases_running`; the escalation count is a
        // primary-key lookup per overdue case, and only the cases returned are read whole.
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {CASE_READ} FROM cases WHERE deadline IS NOT NULL AND deadline < "
        ));
        q.push_bind(micros(now));
        if let Some((d, id)) = after {
            q.push(" AND (deadline > ")
                .push_bind(micros(d))
                .push(" OR (deadline = ")
                .push_bind(micros(d))
                .push(" AND id < ")
                .push_bind(id)
                .push("))");
        }
        q.push(
            " AND (SELECT count(*) FROM case_escalations AS e WHERE e.case_id = cases.id AND e.deadline = cases.deadline) < ",
        )
        .push_bind(levels)
        .push(" ORDER BY deadline, id DESC LIMIT ")
        .push_bind(limit.max(0));
        let rows = q.build().fetch_all(&self.read).await.map_err(err)?;
        rows.iter().map(case_row).collect()
    }

    async fn escalations(&self, case_ids: &[i64]) -> StoreResult<Vec<(i64, i32, DateTime<Utc>)>> {
        let mut out = Vec::new();
        for part in case_ids.chunks(500) {
            let mut q =
                QueryBuilder::<Sqlite>::new("SELECT case_id, level, deadline FROM case_escalations WHERE case_id IN (");
            let mut s = q.separated(", ");
            for id in part {
                s.push_bind(*id);
            }
            q.push(") ORDER BY case_id, level");
            for r in q.build().fetch_all(&self.read).await.map_err(err)? {
                out.push((
                    r.try_get("case_id").map_err(err)?,
                    r.try_get::<i64, _>("level").map_err(err)? as i32,
                    from_micros(r.try_get("deadline").map_err(err)?)?,
                ));
            }
        }
        Ok(out)
    }

    async fn record_escalations(&self, actor: &Actor, items: &[Escalation]) -> StoreResult<Vec<bool>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let mut claimed = Vec::with_capacity(items.len());
        let mut audits = Vec::new();
        for e in items {
            let n = sqlx::query(
                "INSERT INTO case_escalations (case_id, level, deadline, at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (case_id, level) DO UPDATE SET deadline = excluded.deadline, at = excluded.at
                 WHERE case_escalations.deadline <> excluded.deadline",
            )
            .bind(e.case_id)
            .bind(i64::from(e.level))
            .bind(micros(e.deadline))
            .bind(micros(e.at))
            .execute(&mut *tx)
            .await
            .map_err(|x| match err(x) {
                StoreError::MissingReference { .. } => StoreError::MissingReference { field: "case_id" },
                x => x,
            })?
            .rows_affected();
            claimed.push(n > 0);
            if n > 0 {
                insert_notifications(&mut tx, &e.notifications).await?;
                insert_deliveries(&mut tx, &e.deliveries).await?;
                audits.push(AuditEvent::success(actor, "case.escalate", format!("case:{}", e.case_id)).with_detail(
                    serde_json::json!({
                        "level": e.level, "deadline": e.deadline, "notifications": e.notifications.len(),
                        "deliveries": e.deliveries.len(),
                    }),
                ));
            }
        }
        if !audits.is_empty() {
            append_audits(&mut tx, &audits).await?;
        }
        tx.commit().await.map_err(err)?;
        Ok(claimed)
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
        append_audit(
            &mut tx,
            &AuditEvent::success(actor, "notification.read", format!("user:{recipient_id}"))
                .with_detail(serde_json::json!({"ids": ids, "count": n})),
        )
        .await?;
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

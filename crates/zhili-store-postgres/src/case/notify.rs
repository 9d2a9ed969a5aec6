//! Notifications, escalation claims and the webhook outbox on PostgreSQL (通知存储).
//!
//! An escalation claim is an upsert on `(case_id, level)` that changes a row only when the
//! deadline differs: of several processes racing for the same level, the second waits for the
//! first to commit and then finds nothing to change, so exactly one fires it. Deliveries are
//! claimed with `FOR UPDATE SKIP LOCKED` and leased by moving their next attempt ahead.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use zhili_case::model::Case;
use zhili_case::notify::{Delivery, NewDelivery, NewNotification, Notification, NotificationKind};
use zhili_case::store::{DeliveryOutcome, Escalation, NotificationStore};
use zhili_core::audit::{Actor, AuditEvent};
use zhili_core::store::{Page, StoreError, StoreResult};

use crate::{append_audit, append_audits, err, PgStore};

const NOTIFICATION_COLUMNS: &str = "id, recipient_id, kind, case_id, level, title, body, created_at, read_at";
const DELIVERY_COLUMNS: &str =
    "id, webhook, event, case_id, payload, attempts, created_at, next_attempt_at, delivered_at, last_error";

fn notification_row(r: &PgRow) -> StoreResult<Notification> {
    let kind: String = r.try_get("kind").map_err(err)?;
    Ok(Notification {
        id: r.try_get("id").map_err(err)?,
        recipient_id: r.try_get("recipient_id").map_err(err)?,
        kind: NotificationKind::from_name(&kind)
            .ok_or_else(|| StoreError::Other(format!("bad stored notification kind {kind:?}")))?,
        case_id: r.try_get("case_id").map_err(err)?,
        level: r.try_get("level").map_err(err)?,
        title: r.try_get("title").map_err(err)?,
        body: r.try_get("body").map_err(err)?,
        created_at: r.try_get("created_at").map_err(err)?,
        read_at: r.try_get("read_at").map_err(err)?,
    })
}

fn delivery_row(r: &PgRow) -> StoreResult<Delivery> {
    Ok(Delivery {
        id: r.try_get("id").map_err(err)?,
        webhook: r.try_get("webhook").map_err(err)?,
        event: r.try_get("event").map_err(err)?,
        case_id: r.try_get("case_id").map_err(err)?,
        payload: r.try_get("payload").map_err(err)?,
        attempts: r.try_get("attempts").map_err(err)?,
        created_at: r.try_get("created_at").map_err(err)?,
        next_attempt_at: r.try_get("next_attempt_at").map_err(err)?,
        delivered_at: r.try_get("delivered_at").map_err(err)?,
        last_error: r.try_get("last_error").map_err(err)?,
    })
}

fn notify_err(e: sqlx::Error) -> StoreError {
    match err(e) {
        StoreError::MissingReference { .. } => StoreError::MissingReference { field: "recipient_id or case_id" },
        e => e,
    }
}

async fn insert_notifications(tx: &mut PgConnection, notes: &[NewNotification]) -> StoreResult<()> {
    if notes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO notifications (recipient_id, kind, case_id, level, title, body, created_at)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::integer[], $5::text[], $6::text[],
             $7::timestamptz[])",
    )
    .bind(notes.iter().map(|n| n.recipient_id).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.kind.as_str().to_string()).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.case_id).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.level).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.title.clone()).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.body.clone()).collect::<Vec<_>>())
    .bind(notes.iter().map(|n| n.created_at).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .map_err(notify_err)?;
    Ok(())
}

async fn insert_deliveries(tx: &mut PgConnection, ds: &[NewDelivery]) -> StoreResult<()> {
    if ds.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook, event, case_id, payload, attempts, created_at, next_attempt_at)
         SELECT id, webhook, event, case_id, payload, 0, created_at, created_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
             AS d (id, webhook, event, case_id, payload, created_at)",
    )
    .bind(ds.iter().map(|d| d.id.clone()).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| d.webhook.clone()).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| d.event.clone()).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| d.case_id).collect::<Vec<_>>())
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
        let mut q = QueryBuilder::<Postgres>::new("SELECT id, body::text AS body FROM cases WHERE deadline < ");
        q.push_bind(now);
        if let Some((d, id)) = after {
            q.push(" AND (deadline > ")
                .push_bind(d)
                .push(" OR (deadline = ")
                .push_bind(d)
                .push(" AND id < ")
                .push_bind(id)
                .push("))");
        }
        q.push(
            " AND (SELECT count(*) FROM case_escalations AS e WHERE e.case_id = cases.id AND e.deadline = cases.deadline) < ",
        )
        .push_bind(i64::from(levels))
        .push(" ORDER BY deadline, id DESC LIMIT ")
        .push_bind(limit.max(0));
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(crate::case::case_row).collect()
    }

    async fn escalations(&self, case_ids: &[i64]) -> StoreResult<Vec<(i64, i32, DateTime<Utc>)>> {
        let rows = sqlx::query(
            "SELECT case_id, level, deadline FROM case_escalations WHERE case_id = ANY($1) ORDER BY case_id, level",
        )
        .bind(case_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("case_id").map_err(err)?,
                    r.try_get("level").map_err(err)?,
                    r.try_get("deadline").map_err(err)?,
                ))
            })
            .collect()
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
                "INSERT INTO case_escalations (case_id, level, deadline, at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (case_id, level) DO UPDATE SET deadline = excluded.deadline, at = excluded.at
                 WHERE case_escalations.deadline <> excluded.deadline",
            )
            .bind(e.case_id)
            .bind(e.level)
            .bind(e.deadline)
            .bind(e.at)
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
        append_audits(&mut tx, &audits).await?;
        tx.commit().await.map_err(err)?;
        Ok(claimed)
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

//! Overdue escalation claims on PostgreSQL (超期督办记录); their notices go to the platform's
//! tables in the same transaction.
//!
//! An escalation claim is an upsert on `(case_id, level)` that changes a row only when the
//! deadline differs: of several processes racing for the same level, the second waits for the
//! first to commit and then finds nothing to change, so exactly one fires it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Row};
use zhili_case::model::Case;
use zhili_case::store::{Escalation, EscalationStore};
use zhili_core::audit::Actor;
use zhili_core::store::{StoreError, StoreResult};

use crate::platform::{insert_deliveries, insert_notifications};
use crate::{append_audits, err, PgStore};

#[async_trait]
impl EscalationStore for PgStore {
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
                audits.push(zhili_store_sql::audit::case_escalate(actor, e));
            }
        }
        append_audits(&mut tx, &audits).await?;
        tx.commit().await.map_err(err)?;
        Ok(claimed)
    }
}

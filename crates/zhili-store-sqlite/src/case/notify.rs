//! Overdue escalation claims on SQLite (超期督办记录); their notices go to the platform's
//! tables in the same transaction.
//!
//! An escalation claim is an upsert on `(case_id, level)` that changes a row only when the
//! deadline differs, so its `rows_affected` says whether this call fired the level.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite};
use zhili_case::model::Case;
use zhili_case::store::{Escalation, EscalationStore};
use zhili_core::audit::Actor;
use zhili_core::store::{StoreError, StoreResult};

use crate::case::{case_row, CASE_READ};
use crate::platform::{insert_deliveries, insert_notifications};
use crate::{append_audits, err, from_micros, micros, SqliteStore};

#[async_trait]
impl EscalationStore for SqliteStore {
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
                audits.push(zhili_store_sql::audit::case_escalate(actor, e));
            }
        }
        if !audits.is_empty() {
            append_audits(&mut tx, &audits).await?;
        }
        tx.commit().await.map_err(err)?;
        Ok(claimed)
    }
}

//! Grids on SQLite (网格存储).

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::store::{Page, StoreError, StoreResult};
use zhili_grid::{Grid, GridCode, GridDuty, GridStore};

use zhili_store_sql::audit;
use zhili_store_sql::rows::{self as shared, within_pattern};

use crate::{append_audit, err, SqliteStore};

/// The grids' tables (`0002`).
pub(crate) static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/grid/migrations");

/// `level` is INTEGER; `boundary` GeoJSON text.
fn grid_row(r: &SqliteRow) -> StoreResult<Grid> {
    shared::grid(r, r.try_get::<i64, _>("level").map_err(err)? as u8)
}

#[async_trait]
impl GridStore for SqliteStore {
    async fn import_grids(&self, actor: &Actor, grids: &[Grid]) -> StoreResult<u64> {
        let mut sorted: Vec<&Grid> = grids.iter().collect();
        sorted.sort_by_key(|g| g.level);
        let mut tx = self.begin().await?;
        for g in &sorted {
            let village = g.village();
            if sqlx::query("SELECT 1 FROM divisions WHERE code = ?")
                .bind(village.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?
                .is_none()
            {
                return Err(StoreError::MissingReference { field: "village" });
            }
            sqlx::query(
                "INSERT INTO grids (code, village_code, level, parent_code, name, boundary) VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (code) DO UPDATE SET level = excluded.level, parent_code = excluded.parent_code,
                     name = excluded.name, boundary = excluded.boundary",
            )
            .bind(g.code.as_str())
            .bind(village.as_str())
            .bind(i64::from(g.level))
            .bind(g.parent.as_ref().map(GridCode::as_str))
            .bind(&g.name)
            .bind(zhili_geo::geometry::area_to_geojson(&g.boundary).to_string())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        append_audit(&mut tx, &audit::grid_import(actor, grids.len())).await?;
        tx.commit().await.map_err(err)?;
        if let Some(c) = shared::grids_changed(grids) {
            self.announce(c);
        }
        Ok(grids.len() as u64)
    }

    async fn grid(&self, code: &GridCode) -> StoreResult<Grid> {
        let r = sqlx::query("SELECT * FROM grids WHERE code = ?")
            .bind(code.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        grid_row(&r)
    }

    async fn grids(&self, within: Option<&DivisionCode>, page: Page) -> StoreResult<Vec<Grid>> {
        let rows = sqlx::query("SELECT * FROM grids WHERE village_code LIKE ? ORDER BY code LIMIT ? OFFSET ?")
            .bind(within_pattern(within))
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.read)
            .await
            .map_err(err)?;
        rows.iter().map(grid_row).collect()
    }

    async fn count_grids(&self, within: Option<&DivisionCode>) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT count(*) FROM grids WHERE village_code LIKE ?")
            .bind(within_pattern(within))
            .fetch_one(&self.read)
            .await
            .map_err(err)
    }

    async fn assign_grid(&self, actor: &Actor, user_id: i64, grid: &GridCode, d: GridDuty) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for (sql, key, field) in [
            ("SELECT 1 FROM users WHERE id = ?", user_id.to_string(), "user_id"),
            ("SELECT 1 FROM grids WHERE code = ?", grid.to_string(), "grid"),
        ] {
            if sqlx::query(sql).bind(&key).fetch_optional(&mut *tx).await.map_err(err)?.is_none() {
                return Err(StoreError::MissingReference { field });
            }
        }
        sqlx::query(
            "INSERT INTO grid_workers (user_id, grid_code, duty) VALUES (?, ?, ?)
             ON CONFLICT (user_id, grid_code) DO UPDATE SET duty = excluded.duty",
        )
        .bind(user_id)
        .bind(grid.as_str())
        .bind(d.as_str())
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        append_audit(&mut tx, &audit::grid_assign(actor, user_id, grid, d)).await?;
        tx.commit().await.map_err(err)
    }

    async fn unassign_grid(&self, actor: &Actor, user_id: i64, grid: &GridCode) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM grid_workers WHERE user_id = ? AND grid_code = ?")
            .bind(user_id)
            .bind(grid.as_str())
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit(&mut tx, &audit::grid_unassign(actor, user_id, grid)).await?;
        tx.commit().await.map_err(err)
    }

    async fn user_grids(&self, user_id: i64) -> StoreResult<Vec<(GridCode, GridDuty)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT grid_code, duty FROM grid_workers WHERE user_id = ? ORDER BY grid_code")
                .bind(user_id)
                .fetch_all(&self.read)
                .await
                .map_err(err)?;
        shared::user_grids(&rows)
    }

    async fn grid_workers(&self, grid: &GridCode) -> StoreResult<Vec<(i64, GridDuty)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT user_id, duty FROM grid_workers WHERE grid_code = ? ORDER BY user_id")
                .bind(grid.as_str())
                .fetch_all(&self.read)
                .await
                .map_err(err)?;
        shared::grid_workers(&rows)
    }

    async fn load_assignments(&self, actor: &Actor, rows: &[(String, GridCode, GridDuty)]) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut n = 0;
        for (username, grid, d) in rows {
            let written = sqlx::query(
                "INSERT INTO grid_workers (user_id, grid_code, duty)
                 SELECT id, ?, ? FROM users WHERE username = ?
                 ON CONFLICT (user_id, grid_code) DO UPDATE SET duty = excluded.duty",
            )
            .bind(grid.as_str())
            .bind(d.as_str())
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
            if written == 0 {
                return Err(StoreError::MissingReference { field: "username" });
            }
            n += written;
        }
        append_audit(&mut tx, &audit::grid_assign_batch(actor, rows.len())).await?;
        tx.commit().await.map_err(err)?;
        Ok(n)
    }
}

/// Register the grids' port.
pub(crate) fn register(store: &std::sync::Arc<SqliteStore>, ports: &mut zhili_core::ports::Ports) {
    ports.add::<dyn GridStore>(store.clone());
}

//! What the SQL backends share (存储公共件) where no dialect differs: each backend crate keeps
//! its SQL visible in its own domain folders and uses these pieces for the rest.
//!
//! - [`merge_migrations`]: every domain folder owns its migrations (`src/<domain>/migrations/`);
//!   a backend runs them as one list ordered by version, so one `_sqlx_migrations` table keeps
//!   checking that nothing applied has gone missing.
//! - [`rows`]: rows to models. The columns both dialects decode alike (text, integers, floats)
//!   are read here through [`rows::Columns`]; what a dialect encodes its own way (times: SQLite
//!   text or microseconds, PostgreSQL `timestamptz`; flags: SQLite integers, PostgreSQL
//!   `boolean`) is decoded by the backend and passed in. Stored values are validated here once,
//!   with the same errors for both.
//! - [`filter`]: a [`zhili_case::model::CaseFilter`] as a `WHERE` clause, written once over
//!   `sqlx::QueryBuilder`; each backend's [`filter::CaseFilterSql`] supplies what its SQL says
//!   differently (prefixes, state and grid lists, the time encoding, the planner hints).
//! - [`audit`]: what each write records in the audit log (action, target, detail), so both
//!   backends' chains say the same of the same change.
//! - [`tallies`]: how a figures query follows its [`zhili_case::metrics::RollupPlan`]; each
//!   backend answers the parts (its rollups' SQL) through [`tallies::TallySource`].

pub mod audit;
pub mod filter;
pub mod flood;
pub mod rows;
pub mod tallies;

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, Migrator};

/// The migrations of several domains as one migrator, ordered by version. Two domains with the
/// same version are refused, naming both (new migrations are named
/// `<YYYYMMDDHHMMSS>_<domain>_<what>.sql`, so modules written side by side do not collide).
pub async fn merge_migrations(domains: &[&Migrator]) -> Result<Migrator, String> {
    let mut all: BTreeMap<i64, Migration> = BTreeMap::new();
    for m in domains.iter().flat_map(|d| d.iter()) {
        if let Some(prev) = all.get(&m.version) {
            return Err(format!(
                "two migrations have version {}: {:?} and {:?}",
                m.version, prev.description, m.description
            ));
        }
        all.insert(m.version, m.clone());
    }
    Migrator::new(Listed(all.into_values().collect())).await.map_err(|e| e.to_string())
}

/// Migrations already read (by `sqlx::migrate!` at compile time).
#[derive(Debug)]
struct Listed(Vec<Migration>);

impl MigrationSource<'static> for Listed {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { Ok(self.0) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(version: i64, what: &str) -> Migration {
        Migration::new(version, what.to_string().into(), sqlx::migrate::MigrationType::Simple, "SELECT 1".into(), false)
    }

    #[tokio::test]
    async fn merged_in_version_order_and_collisions_named() {
        let a = Migrator::new(Listed(vec![one(3, "case_x"), one(20261202000000, "case_y")])).await.unwrap();
        let b = Migrator::new(Listed(vec![one(1, "core_init"), one(2, "grid_grids")])).await.unwrap();
        let m = merge_migrations(&[&a, &b]).await.unwrap();
        assert_eq!(m.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2, 3, 20261202000000]);
        let c = Migrator::new(Listed(vec![one(3, "flood_z")])).await.unwrap();
        let e = merge_migrations(&[&a, &c]).await.unwrap_err();
        assert!(e.contains("version 3") && e.contains("case_x") && e.contains("flood_z"), "{e}");
    }
}

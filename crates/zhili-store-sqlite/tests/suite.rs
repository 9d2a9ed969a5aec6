//! The behavioural suite on SQLite: every case gets its own fresh database file.

use zhili_core::store::Store;
use zhili_store_sqlite::SqliteStore;
use zhili_store_suite::Case;

/// Run a case on a migrated store in a temporary directory.
async fn run(case: Case<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("zhili.db")).await.unwrap();
    store.migrate().await.unwrap();
    case(&store).await;
}

zhili_store_suite::core_suite!(run);
zhili_store_suite::platform_suite!(run);
zhili_store_suite::grid_suite!(run);
zhili_store_suite::case_suite!(run);
zhili_store_suite::flood_suite!(run);

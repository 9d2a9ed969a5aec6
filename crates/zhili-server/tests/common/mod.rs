//! Shared by the integration tests.

use std::sync::Arc;

use zhili_core::store::Store;
use zhili_server::Backend;
use zhili_store_sqlite::SqliteStore;

/// A fresh, migrated SQLite store in a temporary folder (kept as long as the folder is).
pub async fn sqlite_store() -> (tempfile::TempDir, Arc<dyn Backend>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    store.migrate().await.unwrap();
    (dir, Arc::new(store))
}

//! The behavioural suite on SQLite: every case gets its own fresh database file.

use zhili_core::store::Store;
use zhili_store_sqlite::SqliteStore;

/// A migrated store in a temporary directory that lives as long as the guard.
struct Fresh {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Fresh {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

async fn fresh() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("zhili.db")).await.unwrap();
    store.migrate().await.unwrap();
    Fresh { store, _dir: dir }
}

zhili_store_suite::store_suite!(fresh);

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
zhili_store_suite::flood_warning_suite!(run);

/// Bodies that are not what they should be (a hand edit, a bad restore) are read as errors
/// naming the row, never a panic.
#[tokio::test]
async fn corrupt_warning_rows_are_decode_errors() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zhili.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    let id = zhili_store_suite::flood::warning::seed_for_corruption(&store).await;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    for sql in [
        "UPDATE flood_warnings SET body = 'not json' WHERE id = ?",
        "UPDATE flood_warning_trail SET body = '{\"at\": 1}' WHERE warning_id = ?",
        "UPDATE flood_warning_effects SET body = '{\"effect\": \"explode\"}' WHERE warning_id = ?",
    ] {
        sqlx::query(sql).bind(id).execute(&mut c).await.unwrap();
    }
    c.close().await.unwrap();
    zhili_store_suite::flood::warning::corrupt_rows_are_errors(&store, id).await;
}

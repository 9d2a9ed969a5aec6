//! The behavioural suite on PostgreSQL/PostGIS: every case gets its own database.
//!
//! Set `ZHILI_TEST_POSTGRES_URL` to an admin URL (one allowed to create databases and the
//! PostGIS extension), e.g. `postgres://postgres@127.0.0.1:5432/postgres`. Each case creates
//! `zhili_test_<pid>_<counter>_<random>`, migrates it, runs, and drops it even if it panics.
//! Without the variable the cases are skipped, except under CI, where they fail.

mod common;

use common::{run, with_database};

zhili_store_suite::core_suite!(run);
zhili_store_suite::platform_suite!(run);
zhili_store_suite::grid_suite!(run);
zhili_store_suite::case_suite!(run);
zhili_store_suite::flood_suite!(run);
zhili_store_suite::flood_warning_suite!(run);

/// Bodies that are not what they should be (a hand edit, a bad restore; `json` holds any JSON)
/// are read as errors naming the row, never a panic.
#[tokio::test]
async fn corrupt_warning_rows_are_decode_errors() {
    common::with_fresh_store(|store| async move {
        let id = zhili_store_suite::flood::warning::seed_for_corruption(&store).await;
        for sql in [
            "UPDATE flood_warnings SET body = '{\"id\": 1}' WHERE id = $1",
            "UPDATE flood_warning_trail SET body = '{\"at\": 1}' WHERE warning_id = $1",
            "UPDATE flood_warning_effects SET body = '{\"effect\": \"explode\"}' WHERE warning_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(store.pool()).await.unwrap();
        }
        zhili_store_suite::flood::warning::corrupt_rows_are_errors(&store, id).await;
    })
    .await;
}

#[test]
fn database_is_replaced_in_the_url() {
    assert_eq!(with_database("postgres://u:p@h:5432/postgres", "t"), "postgres://u:p@h:5432/t");
    assert_eq!(with_database("postgres://h/postgres?sslmode=disable", "t"), "postgres://h/t?sslmode=disable");
    assert_eq!(with_database("postgres://h", "t"), "postgres://h/t");
}

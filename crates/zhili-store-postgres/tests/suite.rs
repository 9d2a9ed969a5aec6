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

#[test]
fn database_is_replaced_in_the_url() {
    assert_eq!(with_database("postgres://u:p@h:5432/postgres", "t"), "postgres://u:p@h:5432/t");
    assert_eq!(with_database("postgres://h/postgres?sslmode=disable", "t"), "postgres://h/t?sslmode=disable");
    assert_eq!(with_database("postgres://h", "t"), "postgres://h/t");
}

//! The behavioural suite on PostgreSQL/PostGIS: every case gets its own database.
//!
//! Set `ZHILI_TEST_POSTGRES_URL` to an admin URL (one allowed to create databases and the
//! PostGIS extension), e.g. `postgres://postgres@127.0.0.1:5432/postgres`. Each case creates
//! `zhili_test_<pid>_<counter>_<random>`, migrates it, runs, and drops it even if it panics.
//! Without the variable the cases are skipped, except under CI, where they fail.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, PgConnection};
use zhili_core::store::Store;
use zhili_store_postgres::PgStore;
use zhili_store_suite::Case;

const URL_VAR: &str = "ZHILI_TEST_POSTGRES_URL";

/// The admin URL, or `None` to skip; under CI a missing URL is a failure.
fn admin_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!("CI must set {URL_VAR} to run the PostgreSQL store suite"),
        _ => {
            eprintln!("PostgreSQL suite skipped: set {URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres to run it");
            None
        }
    }
}

/// `url` with its database replaced by `db`, keeping credentials, host and query.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let base = base[host_start..].find('/').map_or(base, |i| &base[..host_start + i]);
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

async fn admin(url: &str, sql: &str) {
    let mut c = PgConnection::connect(url).await.unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}: {e}"));
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    c.close().await.ok();
}

/// Run `case` against a fresh, migrated database that is dropped afterwards, then re-raise
/// the case's panic, if any.
async fn run(case: Case) {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let Some(admin_url) = admin_url() else { return };
    let db = format!(
        "zhili_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    );
    admin(&admin_url, &format!("CREATE DATABASE \"{db}\"")).await;
    let url = with_database(&admin_url, &db);
    let outcome = tokio::spawn(async move {
        let store = PgStore::connect(&url).await.expect("connect to the test database");
        store.migrate().await.expect("migrate");
        case(&store).await;
        store.pool().close().await;
    })
    .await;
    admin(&admin_url, &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")).await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("case did not finish: {e}"),
        }
    }
}

zhili_store_suite::store_suite!(run);

#[test]
fn database_is_replaced_in_the_url() {
    assert_eq!(with_database("postgres://u:p@h:5432/postgres", "t"), "postgres://u:p@h:5432/t");
    assert_eq!(with_database("postgres://h/postgres?sslmode=disable", "t"), "postgres://h/t?sslmode=disable");
    assert_eq!(with_database("postgres://h", "t"), "postgres://h/t");
}

//! Shared by the PostgreSQL test binaries: the admin URL, and a fresh database per case.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, PgConnection};
use zhili_core::store::Store;
use zhili_store_postgres::PgStore;
use zhili_store_suite::Case;

pub const URL_VAR: &str = "ZHILI_TEST_POSTGRES_URL";

/// The admin URL, or `None` to skip; under CI a missing URL is a failure.
pub fn admin_url() -> Option<String> {
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
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let base = base[host_start..].find('/').map_or(base, |i| &base[..host_start + i]);
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

pub async fn admin(url: &str, sql: &str) {
    let mut c = PgConnection::connect(url).await.unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}: {e}"));
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    c.close().await.ok();
}

/// Run `case` against a fresh, migrated database that is dropped afterwards, then re-raise
/// the case's panic, if any.
pub async fn run(case: Case<PgStore>) {
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

/// Run `f` on a fresh, migrated store in its own database, dropped afterwards.
pub async fn with_fresh_store<F, Fut>(f: F)
where
    F: FnOnce(PgStore) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let Some(admin_url) = admin_url() else { return };
    let db = format!(
        "zhili_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1000, Ordering::Relaxed),
        rand::random::<u32>()
    );
    admin(&admin_url, &format!("CREATE DATABASE \"{db}\"")).await;
    let url = with_database(&admin_url, &db);
    let outcome = tokio::spawn(async move {
        let store = PgStore::connect(&url).await.expect("connect to the test database");
        store.migrate().await.expect("migrate");
        f(store).await;
    })
    .await;
    admin(&admin_url, &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")).await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test did not finish: {e}"),
        }
    }
}

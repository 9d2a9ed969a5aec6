//! Zhili storage on PostgreSQL with PostGIS (PostgreSQL/PostGIS 存储), for deployments where
//! several server processes share one database.
//!
//! Same tables and behaviour as `zhili-store-sqlite`, with native types: `timestamptz`
//! (microseconds, UTC), `bigint` identity ids, `boolean` flags, and division boundaries as
//! PostGIS `geometry(Geometry, 4326)` limited to (Multi)Polygons, with a GiST index, so GIS
//! staff can open the table in QGIS. The trait carries geometry as GeoJSON text; it is written
//! with `ST_GeomFromGeoJSON` and read back with `ST_AsGeoJSON`, unchanged in type.
//!
//! Every write appends its audit row in the same transaction. Appends are serialized across
//! processes by a transaction-scoped advisory lock taken just before the chain head is read;
//! the `audit_log` primary key on `seq` refuses a forked chain should anything bypass it.
//! Queries are built at run time (no `DATABASE_URL` at compile time); migrations are embedded.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use zhili_core::audit::{audit_time, AuditEvent, AuditRecord, GENESIS};
use zhili_core::store::{Change, StoreError, StoreResult};

// One folder per domain, as in every layer: its SQL and the migrations it owns.
mod case;
mod core;
mod flood;
mod grid;
mod platform;

/// Every domain's migrations, in dependency order; [`zhili_store_sql::merge_migrations`]
/// runs them as one ordered list.
const MIGRATIONS: &[&sqlx::migrate::Migrator] =
    &[&core::MIGRATIONS, &platform::MIGRATIONS, &grid::MIGRATIONS, &case::MIGRATIONS, &flood::MIGRATIONS];

impl PgStore {
    /// Every storage port this backend implements, one per domain folder, for the server and
    /// the CLI to take what they need.
    pub fn ports(self) -> zhili_core::ports::Ports {
        let store = std::sync::Arc::new(self);
        let mut ports = zhili_core::ports::Ports::default();
        core::register(&store, &mut ports);
        platform::register(&store, &mut ports);
        grid::register(&store, &mut ports);
        case::register(&store, &mut ports);
        flood::register(&store, &mut ports);
        ports
    }
}

/// Advisory lock key serializing audit appends (ASCII "zhiliaud"); scoped to the database.
const AUDIT_LOCK: i64 = 0x7a68_696c_6961_7564;

/// The PostgreSQL store: one connection pool shared by all requests of a process.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// Shows the pool's state but not its connect options, which hold the password.
impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("connections", &self.pool.size()).finish_non_exhaustive()
    }
}

/// SQLSTATEs that mean "try again later": connection exceptions, insufficient resources,
/// shutdowns, serialization failures, deadlocks and lock timeouts.
fn transient(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || matches!(code, "40001" | "40P01" | "55P03")
}

fn err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            let field = match d.constraint() {
                Some("users_username_key") => "username",
                Some("departments_code_key" | "divisions_pkey") => "code",
                _ => "value",
            };
            StoreError::Conflict { field }
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::MissingReference { field: "reference" },
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(d) if d.code().is_some_and(|c| transient(&c)) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.to_string()),
    }
}

pub(crate) const AUDIT_COLUMNS: &str =
    "seq, at, actor_id, actor, role, action, target, ip, outcome, detail, prev_hash, hash";

/// Append an audit row inside the caller's transaction and move the head (see [`append_audits`]).
async fn append_audit(tx: &mut PgConnection, ev: &AuditEvent) -> StoreResult<AuditRecord> {
    Ok(append_audits(tx, std::slice::from_ref(ev)).await?.remove(0))
}

/// Append audit rows inside the caller's transaction, in order, and move the head once: one
/// lock, one head read and one insert. The rows share the database clock's time.
///
/// The advisory lock is held until the transaction ends, so no other process reads the head
/// between this read and this commit. The time comes from the database clock, one clock for
/// all processes, so `at` follows `seq`.
async fn append_audits(tx: &mut PgConnection, evs: &[AuditEvent]) -> StoreResult<Vec<AuditRecord>> {
    if evs.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK).execute(&mut *tx).await.map_err(err)?;
    let (now, seq, hash): (DateTime<Utc>, Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT clock_timestamp(), seq, hash FROM (VALUES (1::smallint)) AS one (id) LEFT JOIN audit_head USING (id)",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(err)?;
    let (mut seq, mut prev) = match (seq, hash) {
        (Some(s), Some(h)) => (s, h),
        _ => (0, GENESIS.to_string()),
    };
    let at = audit_time(now);
    let mut rows: Vec<AuditRecord> = Vec::with_capacity(evs.len());
    for ev in evs {
        seq += 1;
        let rec = AuditRecord::seal(ev, seq, at, &prev);
        prev.clone_from(&rec.hash);
        rows.push(rec);
    }
    let col = |f: fn(&AuditRecord) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let opt = |f: fn(&AuditRecord) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS})
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])"
    ))
    .bind(rows.iter().map(|r| r.seq).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.actor_id).collect::<Vec<_>>())
    .bind(col(|r| r.actor.clone()))
    .bind(col(|r| r.role.clone()))
    .bind(col(|r| r.action.clone()))
    .bind(col(|r| r.target.clone()))
    .bind(opt(|r| r.ip.clone()))
    .bind(col(|r| r.outcome.clone()))
    .bind(col(|r| r.detail.clone()))
    .bind(col(|r| r.prev_hash.clone()))
    .bind(col(|r| r.hash.clone()))
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    sqlx::query(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(seq)
    .bind(&prev)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    Ok(rows)
}

async fn exists(tx: &mut PgConnection, sql: &str, key: &str) -> StoreResult<bool> {
    Ok(sqlx::query(sql).bind(key).fetch_optional(&mut *tx).await.map_err(err)?.is_some())
}

/// The LISTEN/NOTIFY channel on which every process hears every committed change.
pub(crate) const CHANGES_CHANNEL: &str = "zhili_changes";

/// Announce a change; PostgreSQL delivers it when (and only if) the transaction commits.
async fn notify(tx: &mut PgConnection, c: &Change) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANGES_CHANNEL)
        .bind(c.to_payload())
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    Ok(())
}

impl PgStore {
    /// Connect to `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]` with a pool
    /// of up to 10 connections; see [`PgStore::connect_with`].
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        PgStore::connect_with(url, 10).await
    }

    /// Connect with a pool of up to `max_connections`. One connection is opened now: a
    /// database that cannot be reached within 5 seconds gives [`StoreError::Unavailable`]
    /// naming host, port and database (never the password). Later, a request waits up to
    /// 30 seconds for a free pooled connection.
    pub async fn connect_with(url: &str, max_connections: u32) -> StoreResult<PgStore> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?
            .application_name("zhili");
        let place =
            format!("{}:{}/{}", opts.get_host(), opts.get_port(), opts.get_database().unwrap_or(opts.get_username()));
        let unavailable =
            |why: String| StoreError::Unavailable(format!("cannot connect to PostgreSQL at {place}: {why}"));
        match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(&opts)).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Ok(Err(e)) => return Err(unavailable(e.to_string())),
            Err(_) => return Err(unavailable("no connection within 5 s; is the server running and reachable?".into())),
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(opts);
        Ok(PgStore { pool })
    }

    /// The connection pool, for tests and administrative queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unreachable_database_fails_fast_without_the_password() {
        let started = std::time::Instant::now();
        let e = PgStore::connect("postgres://zhili:s3cret-pw@127.0.0.1:1/zhili").await.unwrap_err();
        let StoreError::Unavailable(m) = e else { panic!("expected Unavailable, got {e:?}") };
        assert!(m.contains("127.0.0.1:1/zhili"), "{m}");
        assert!(!m.contains("s3cret-pw"), "{m}");
        assert!(started.elapsed() < Duration::from_secs(15));
        assert!(matches!(PgStore::connect("mysql://x").await, Err(StoreError::Unavailable(_))));
    }

    #[test]
    fn transient_states() {
        assert!(transient("08006") && transient("57P01") && transient("40001") && transient("53300"));
        assert!(!transient("23505") && !transient("42P01"));
    }
}

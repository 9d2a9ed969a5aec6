//! Zhili storage on embedded SQLite (嵌入式 SQLite 存储), the default backend.
//!
//! One database file in WAL mode. `busy_timeout` is set when each connection opens, before
//! the WAL pragma; foreign keys are on; `synchronous=FULL`, so a commit that returned is on
//! disk before any client is told it is saved. Writes go through a pool of one connection
//! with `BEGIN IMMEDIATE` (SQLite has one writer anyway; this avoids lock upgrades that fail);
//! reads use a separate read-only pool.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

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
const MIGRATIONS: &[&Migrator] =
    &[&core::MIGRATIONS, &platform::MIGRATIONS, &grid::MIGRATIONS, &case::MIGRATIONS, &flood::MIGRATIONS];

impl SqliteStore {
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

/// The SQLite store: a writer pool of one connection, a read-only pool, and the in-process
/// change feed (SQLite is served by one process, so in-process is every process).
#[derive(Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    pub(crate) read: SqlitePool,
    changes: tokio::sync::broadcast::Sender<Change>,
}

fn err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            let m = d.message();
            let field = if m.contains("users.username") {
                "username"
            } else if m.contains("departments.code") || m.contains("divisions.code") {
                "code"
            } else {
                "value"
            };
            StoreError::Conflict { field }
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::MissingReference { field: "reference" },
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(d) if d.code().as_deref() == Some("5") || d.code().as_deref() == Some("14") => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Other(e.to_string()),
    }
}

/// Format a time people read: RFC 3339, UTC, microseconds.
fn text_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn parse_text_time(s: &str) -> StoreResult<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.fZ")
        .map(|n| n.and_utc())
        .map_err(|e| StoreError::Other(format!("bad stored time {s:?}: {e}")))
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| StoreError::Other(format!("bad stored time {us}")))
}

/// Append an audit row inside the caller's transaction and move the head.
async fn append_audit(tx: &mut SqliteConnection, ev: &AuditEvent) -> StoreResult<AuditRecord> {
    Ok(append_audits(tx, std::slice::from_ref(ev)).await?.remove(0))
}

/// Append audit rows for `events` in order inside the caller's transaction, and move the head
/// once, in chunked multi-row INSERTs.
async fn append_audits(tx: &mut SqliteConnection, events: &[AuditEvent]) -> StoreResult<Vec<AuditRecord>> {
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&mut *tx).await.map_err(err)?;
    let (mut seq, mut prev) = head.map(|(s, h)| (s + 1, h)).unwrap_or((1, GENESIS.to_string()));
    let at = audit_time(Utc::now());
    let mut records = Vec::with_capacity(events.len());
    for ev in events {
        let rec = AuditRecord::seal(ev, seq, at, &prev);
        seq += 1;
        prev.clone_from(&rec.hash);
        records.push(rec);
    }
    let mut rest = records.as_slice();
    for n in case::chunks(records.len()) {
        let (part, more) = rest.split_at(n);
        rest = more;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit_log (seq, at, actor_id, actor, role, action, target, ip, outcome, detail, prev_hash, hash) ",
        );
        q.push_values(part, |mut b, rec| {
            b.push_bind(rec.seq)
                .push_bind(text_time(rec.at))
                .push_bind(rec.actor_id)
                .push_bind(rec.actor.as_str())
                .push_bind(rec.role.as_str())
                .push_bind(rec.action.as_str())
                .push_bind(rec.target.as_str())
                .push_bind(rec.ip.as_deref())
                .push_bind(rec.outcome.as_str())
                .push_bind(rec.detail.as_str())
                .push_bind(rec.prev_hash.as_str())
                .push_bind(rec.hash.as_str());
        });
        q.build().execute(&mut *tx).await.map_err(err)?;
    }
    if let Some(last) = records.last() {
        sqlx::query(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(last.seq)
        .bind(&last.hash)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    Ok(records)
}

async fn exists(tx: &mut SqliteConnection, sql: &str, key: impl AsRef<str>) -> StoreResult<bool> {
    Ok(sqlx::query(sql).bind(key.as_ref()).fetch_optional(&mut *tx).await.map_err(err)?.is_some())
}

impl SqliteStore {
    /// Open (creating if missing) the database file at `path`.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(Duration::from_secs(10))
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true);
        // A pooled connection is tested before use by default: a round trip to its worker
        // thread for nothing, since the database is a local file that cannot go away under it.
        //
        // The one writer keeps statement journals in memory (a multi-row statement copies every
        // page it changes there first; temporary data only, nothing durable), 32 MiB of pages
        // (a bulk ingest touches thousands of B-tree leaves), and checkpoints every 10,000 WAL
        // pages rather than 1,000, so a page rewritten by successive commits is copied into the
        // database once. Commits still wait for the WAL's fsync (`synchronous=FULL`).
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .pragma("temp_store", "memory")
                    .pragma("cache_size", "-32768")
                    .pragma("wal_autocheckpoint", "10000"),
            )
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open SQLite database {}: {e}", path.display())))?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.read_only(true))
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open SQLite database {}: {e}", path.display())))?;
        Ok(SqliteStore { write, read, changes: tokio::sync::broadcast::channel(1024).0 })
    }

    /// Open from a `sqlite://PATH` URL (or a bare path).
    pub async fn connect(url: &str) -> StoreResult<SqliteStore> {
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL {url:?}: {e}")))?;
        SqliteStore::open(Path::new(path)).await
    }

    /// Tell followers about a committed change (nobody listening is fine).
    pub(crate) fn announce(&self, c: Change) {
        let _ = self.changes.send(c);
    }

    pub(crate) async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.write.begin_with("BEGIN IMMEDIATE").await.map_err(err)
    }
}

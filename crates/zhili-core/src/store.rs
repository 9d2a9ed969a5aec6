//! Storage ports (存储接口): what the domain needs from a database, implemented once per
//! backend (`zhili-store-sqlite`, `zhili-store-postgres`) and checked by one behavioural suite
//! (`zhili-store-suite`).
//!
//! Invariant: every method that writes domain data takes an [`Actor`] and appends its audit
//! row in the same transaction, so no write exists without its audit entry and no audit entry
//! describes a write that did not happen.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::audit::{Actor, AuditEvent, AuditRecord};
use crate::codes::DivisionCode;
use crate::model::{Department, Division, Locale, NewDepartment, NewUser, Session, User};
use crate::policy::Role;

/// A storage failure, in terms the server can map to stable error codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("not found")]
    NotFound,
    /// A unique value exists already; names the field.
    #[error("{field} already exists")]
    Conflict {
        /// The field whose value is taken.
        field: &'static str,
    },
    /// The record changed since the caller read it (optimistic versioning): reload and retry.
    #[error("stale version: the record is now at version {current}")]
    Stale {
        /// The stored version.
        current: i64,
    },
    /// A referenced record does not exist; names the field.
    #[error("{field} refers to a record that does not exist")]
    MissingReference {
        /// The field with the dangling reference.
        field: &'static str,
    },
    /// The database cannot be reached or is busy.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("database error: {0}")]
    Other(String),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// A committed change that in-memory indexes follow (变更通知). Every process sharing a
/// database receives every change (PostgreSQL: LISTEN/NOTIFY; SQLite: in-process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// One record was created, changed or deleted: its kind (`division`, `grid`, `user` — also
    /// for a user's sessions, …) and key.
    Record {
        /// What kind of record.
        kind: String,
        /// Its key (a code).
        key: String,
    },
    /// Anything may have changed (a bulk load, or notifications were lost): reload.
    All,
}

impl Change {
    /// A change of one record.
    pub fn record(kind: &str, key: impl ToString) -> Change {
        Change::Record { kind: kind.into(), key: key.to_string() }
    }
    /// The text sent between processes.
    pub fn to_payload(&self) -> String {
        match self {
            Change::Record { kind, key } => format!("{kind}:{key}"),
            Change::All => "*".into(),
        }
    }
    /// Parse what [`Change::to_payload`] wrote; anything else becomes [`Change::All`],
    /// which is always safe.
    pub fn from_payload(s: &str) -> Change {
        match s.split_once(':') {
            Some((kind, key)) if !kind.is_empty() && !key.is_empty() => Change::record(kind, key),
            _ => Change::All,
        }
    }
}

/// The changes a store announces, from the moment of subscription.
pub type ChangeStream = futures::stream::BoxStream<'static, Change>;

/// A page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return (at most 1,000).
    pub limit: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page { offset: 0, limit: 100 }
    }
}

/// Filter for listing users.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Only users whose jurisdiction lies inside this division.
    pub within: Option<DivisionCode>,
    /// Only this role.
    pub role: Option<Role>,
    /// Only this department.
    pub department_id: Option<i64>,
    /// Only those whose username or display name contains this text (case-insensitive).
    pub text: Option<String>,
}

/// Changes to a user account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New jurisdiction.
    pub jurisdiction: Option<DivisionCode>,
    /// New department (`Some(None)` removes it).
    pub department_id: Option<Option<i64>>,
    /// New phone (`Some(None)` removes it).
    pub phone: Option<Option<String>>,
    /// Enable or disable the account; disabling ends its sessions.
    pub active: Option<bool>,
}

impl UserUpdate {
    /// Apply to a user (the store checks references first).
    pub fn apply(&self, u: &mut User) {
        if let Some(v) = &self.display_name {
            u.display_name = v.clone();
        }
        if let Some(v) = self.role {
            u.role = v;
        }
        if let Some(v) = &self.jurisdiction {
            u.jurisdiction = v.clone();
        }
        if let Some(v) = self.department_id {
            u.department_id = v;
        }
        if let Some(v) = &self.phone {
            u.phone = v.clone();
        }
        if let Some(v) = self.active {
            u.active = v;
        }
    }
}

/// Counts of failed logins within a window, for rate limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    /// Failures for this account.
    pub by_account: i64,
    /// Failures from this address.
    pub by_address: i64,
}

/// A bulk load of the core model in one transaction (demo seeding, imports).
#[derive(Debug, Clone, Default)]
pub struct CoreBatch {
    /// Divisions, parents before children.
    pub divisions: Vec<Division>,
    /// Departments.
    pub departments: Vec<NewDepartment>,
    /// Users; `department_code` in the tuple links to a department of this batch or the store.
    pub users: Vec<(NewUser, Option<String>)>,
}

/// Everything the platform foundation stores.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// Apply pending migrations.
    async fn migrate(&self) -> StoreResult<()>;

    /// Cheap liveness check.
    async fn ping(&self) -> StoreResult<()>;

    /// Backend-specific integrity check (SQLite `PRAGMA integrity_check`); `Ok(vec![])` if clean.
    async fn integrity_check(&self) -> StoreResult<Vec<String>>;

    // ---- divisions

    /// Insert or update a division; its parent must exist.
    async fn upsert_division(&self, actor: &Actor, d: &Division) -> StoreResult<()>;
    /// One division.
    async fn division(&self, code: &DivisionCode) -> StoreResult<Division>;
    /// The direct children of `parent` (or the roots when `None`), ordered by code.
    async fn child_divisions(&self, parent: Option<&DivisionCode>) -> StoreResult<Vec<Division>>;
    /// Every division with its boundary, for in-memory spatial indexes.
    async fn all_divisions(&self) -> StoreResult<Vec<Division>>;
    /// Number of divisions inside `within` (all if `None`).
    async fn count_divisions(&self, within: Option<&DivisionCode>) -> StoreResult<i64>;

    // ---- departments

    /// Create a department.
    async fn create_department(&self, actor: &Actor, d: &NewDepartment) -> StoreResult<Department>;
    /// One department.
    async fn department(&self, id: i64) -> StoreResult<Department>;
    /// Departments whose division lies inside `within`, ordered by code.
    async fn departments(&self, within: Option<&DivisionCode>, page: Page) -> StoreResult<Vec<Department>>;

    // ---- users

    /// Create a user.
    async fn create_user(&self, actor: &Actor, u: &NewUser) -> StoreResult<User>;
    /// One user.
    async fn user(&self, id: i64) -> StoreResult<User>;
    /// A user and their password hash, by login name.
    async fn user_credentials(&self, username: &str) -> StoreResult<(User, String)>;
    /// Users matching a filter, ordered by id.
    async fn users(&self, filter: &UserFilter, page: Page) -> StoreResult<Vec<User>>;
    /// Number of users matching a filter.
    async fn count_users(&self, filter: &UserFilter) -> StoreResult<i64>;
    /// Change a user's account fields; references are checked like on creation.
    async fn update_user(&self, actor: &Actor, user_id: i64, change: &UserUpdate) -> StoreResult<User>;
    /// Replace a user's password hash.
    async fn set_password(&self, actor: &Actor, user_id: i64, password_hash: &str) -> StoreResult<()>;
    /// Change a user's UI language.
    async fn set_locale(&self, actor: &Actor, user_id: i64, locale: Locale) -> StoreResult<()>;

    // ---- sessions and login throttling

    /// Record a successful login: store the session and audit it.
    async fn create_session(&self, actor: &Actor, s: &Session) -> StoreResult<()>;
    /// A live session and its (active) user.
    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<(Session, User)>;
    /// End a session (logout).
    async fn delete_session(&self, actor: &Actor, token_hash: &str) -> StoreResult<()>;
    /// Record a failed login for an account and address, with its audit row.
    async fn record_login_failure(&self, actor: &Actor, username: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Failed logins since `since` for an account and for an address.
    async fn login_failures(&self, username: &str, ip: &str, since: DateTime<Utc>) -> StoreResult<LoginFailures>;

    // ---- audit

    /// Append one event (reads of personal data, denials) on its own.
    async fn audit(&self, ev: &AuditEvent) -> StoreResult<AuditRecord>;
    /// Audit rows with `seq > after`, ascending, at most `limit`.
    async fn audit_rows(&self, after: i64, limit: i64) -> StoreResult<Vec<AuditRecord>>;
    /// The most recent audit rows, newest first.
    async fn recent_audit(&self, page: Page) -> StoreResult<Vec<AuditRecord>>;
    /// The recorded chain head: last sequence number and hash.
    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;

    // ---- change feed

    /// Subscribe to committed changes (from this and every other process on the database).
    async fn changes(&self) -> StoreResult<ChangeStream>;

    // ---- bulk

    /// Load a batch in one transaction with one audit row; existing codes and usernames are
    /// left as they are (idempotent re-seeding). Returns rows inserted.
    async fn load_batch(&self, actor: &Actor, batch: &CoreBatch) -> StoreResult<u64>;
}

/// Verify the whole audit chain of a store, calling `progress` with rows checked so far.
pub async fn verify_audit_chain(store: &dyn Store, mut progress: impl FnMut(i64)) -> Result<i64, AuditVerifyError> {
    let mut v = crate::audit::ChainVerifier::default();
    let mut after = 0;
    loop {
        let rows = store.audit_rows(after, 5000).await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            v.push(r)?;
        }
        after = rows.last().map(|r| r.seq).unwrap_or(after);
        progress(v.count());
    }
    let head = store.audit_head().await?;
    Ok(v.finish(head)?)
}

/// Why verification failed: the chain is broken, or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditVerifyError {
    /// Tampering detected.
    #[error(transparent)]
    Chain(#[from] crate::audit::ChainError),
    /// Could not read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

//! The storage port of the warning lifecycle (预警存储): warnings, the outbox of their effects,
//! their review trail and the CAP documents they published.
//!
//! The server runs [`super::open`] or [`super::apply`] and hands the result to
//! [`WarningStore::create_warning`] or [`WarningStore::save_warning`], which store the next
//! warning, its [`Effect`]s (as an outbox) and its [`TrailEntry`]s in **one transaction**; it
//! then carries the effects out from [`WarningStore::pending_effects`] and marks each done. So a
//! restart neither loses an effect (it is stored with the state that asked for it) nor repeats
//! one that was marked done; an effect carried out but not yet marked is carried out again,
//! which is why every effect is idempotent where it lands (a CAP document by its
//! (warning, sequence), a message by its (warning, message id)).
//!
//! Versions: [`Warning::version`] is 1 when raised and [`super::apply`] adds 1 when it changes
//! anything; a save is accepted only over the version it was computed from, so two processes
//! moving one warning cannot both win, and a save retried after its commit went through is
//! refused rather than queuing its effects twice. An `apply` that changed nothing keeps the
//! version; when it still has trail entries (a repeated answer, an answer after the lift) it is
//! saved over that same version, which appends the trail and leaves the warning as it is.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::codes::DivisionCode;
use zhili_core::store::{Page, StoreResult};

use super::{CapMsgType, Effect, TrailEntry, Warning};

/// An effect in the outbox (待执行动作), as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEffect {
    /// The effect's id in the outbox: increasing in the order effects were stored.
    pub id: i64,
    /// The warning that asked for it.
    pub warning: i64,
    /// What to do.
    pub effect: Effect,
    /// When it was asked for: the `updated_at` of the warning state stored with it (to the
    /// microsecond).
    pub created_at: DateTime<Utc>,
}

/// A line of a warning's trail (预警过程记录), as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTrail {
    /// The warning.
    pub warning: i64,
    /// Its place in the warning's trail, from 1, without gaps.
    pub seq: i64,
    /// The entry.
    pub entry: TrailEntry,
}

/// A CAP document as published (one per [`Effect::PublishCap`]; 已发布的 CAP 预警信息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCap {
    /// The warning it belongs to.
    pub warning: i64,
    /// Its number in the warning ([`super::CapRef::sequence`]), from 1.
    pub sequence: u32,
    /// The CAP `identifier` (GB/T 35965.1), unique across warnings.
    pub identifier: String,
    /// Its msgType.
    pub msg_type: CapMsgType,
    /// Its `sent` time (kept to the microsecond; CAP's are whole seconds).
    pub sent: DateTime<Utc>,
    /// The village it warns.
    pub village: DivisionCode,
    /// The document, CAP 1.2 XML as published.
    pub xml: String,
}

/// Which warnings to list; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningFilter {
    /// Only warnings not lifted.
    pub active_only: bool,
    /// Only villages whose code starts with this one (a county, township or village).
    pub village_prefix: Option<DivisionCode>,
    /// Only warnings raised at or after this time.
    pub opened_since: Option<DateTime<Utc>>,
}

/// Warnings, their outbox, their trail and their CAP documents.
#[async_trait]
pub trait WarningStore: Send + Sync {
    /// Store a newly opened warning (its `id` ignored; the store assigns one, returned), its
    /// effects in the outbox and its trail, in one durable transaction. A village has at most
    /// one warning not lifted: Conflict { field: "village" } otherwise (this is what makes a
    /// re-evaluation after a restart not warn twice).
    async fn create_warning(&self, warning: &Warning, effects: &[Effect], trail: &[TrailEntry]) -> StoreResult<i64>;

    /// Replace a warning by its next state when the stored version is `warning.version - 1`
    /// (Conflict { field: "version" } otherwise, nothing written), add its effects to the outbox
    /// and append its trail, in one transaction. NotFound for an unknown id.
    ///
    /// A transition that changed nothing but the trail ([`super::apply`] keeps the version:
    /// a repeated answer, an answer after the lift) is accepted over the same version when the
    /// stored warning is that very state, it has no effects and its entries are later than the
    /// stored `updated_at`: its trail is appended, the warning row left as it is. Anything else
    /// at the same version is Conflict { field: "version" } — so a save retried after its commit
    /// went through never queues its effects twice.
    async fn save_warning(&self, warning: &Warning, effects: &[Effect], trail: &[TrailEntry]) -> StoreResult<()>;

    /// One warning; NotFound for an unknown id.
    async fn warning(&self, id: i64) -> StoreResult<Warning>;

    /// The village's warning that is not lifted, if any.
    async fn active_warning(&self, village: &DivisionCode) -> StoreResult<Option<Warning>>;

    /// Warnings matching, newest opened first.
    async fn warnings(&self, filter: &WarningFilter, page: Page) -> StoreResult<Vec<Warning>>;

    /// A warning's trail in order.
    async fn trail(&self, warning: i64) -> StoreResult<Vec<StoredTrail>>;

    /// Effects not yet marked done, oldest first (by id), at most `limit`.
    async fn pending_effects(&self, limit: i64) -> StoreResult<Vec<StoredEffect>>;

    /// Mark an effect carried out (idempotent; NotFound for an unknown id).
    async fn mark_effect_done(&self, effect: i64) -> StoreResult<()>;

    /// Ids of warnings not lifted whose `next_tick` is at or before `now`, soonest first.
    async fn due_ticks(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<i64>>;

    /// Store a CAP document; the same (warning, sequence) again with the same identifier is a
    /// no-op returning Ok (an effect re-run after a crash), a different one Conflict { field:
    /// "sequence" }; identifier unique (Conflict { field: "identifier" }). MissingReference
    /// { field: "warning" } for an unknown warning.
    async fn store_cap(&self, cap: &StoredCap) -> StoreResult<()>;

    /// A warning's CAP documents by sequence.
    async fn caps(&self, warning: i64) -> StoreResult<Vec<StoredCap>>;

    /// One CAP document by identifier; NotFound if none.
    async fn cap(&self, identifier: &str) -> StoreResult<StoredCap>;

    /// The latest CAP documents, newest `sent` first (the public Atom feed).
    async fn recent_caps(&self, limit: i64) -> StoreResult<Vec<StoredCap>>;
}

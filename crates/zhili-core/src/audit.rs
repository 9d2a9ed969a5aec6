//! The audit log (审计日志): an append-only, hash-chained record of every write and every read
//! of personal data — who, when, what, from where, with what outcome.
//!
//! Each row carries `hash = SHA-256(prev_hash ‖ canonical fields)`; the store also keeps the
//! head (last sequence number and hash). [`ChainVerifier`] detects a modified row (hash
//! mismatch), a deleted row (sequence gap or broken link), reordered rows (broken links) and a
//! truncated tail (head mismatch).

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::policy::Principal;

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused by the policy or by a credential check.
    Denied,
    /// Failed for another reason (validation, conflict).
    Failed,
}

impl Outcome {
    /// Stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
    /// Parse the stored name.
    pub fn from_name(s: &str) -> Option<Outcome> {
        match s {
            "success" => Some(Outcome::Success),
            "denied" => Some(Outcome::Denied),
            "failed" => Some(Outcome::Failed),
            _ => None,
        }
    }
}

/// Who acts and from where; every write method of the store takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// User id, if a user.
    pub user_id: Option<i64>,
    /// Login name, `anonymous` or `system`.
    pub name: String,
    /// Role name.
    pub role: String,
    /// Client address, if known.
    pub ip: Option<String>,
}

impl Actor {
    /// The actor for a principal at an address.
    pub fn of(p: &Principal, ip: Option<String>) -> Actor {
        Actor { user_id: p.user_id, name: p.username.clone(), role: p.role.as_str().into(), ip }
    }
    /// The actor for command-line jobs.
    pub fn system() -> Actor {
        Actor { user_id: None, name: "system".into(), role: "admin".into(), ip: None }
    }
}

/// An audit event before the store gives it a place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Who.
    pub actor: Actor,
    /// What, as `noun.verb`, e.g. `user.create`, `user.read_personal`, `auth.login`.
    pub action: String,
    /// The record touched, e.g. `user:17`, `department:3`.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Extra facts as compact JSON (never a password).
    pub detail: String,
}

impl AuditEvent {
    /// A successful event with empty detail.
    pub fn success(actor: &Actor, action: &str, target: impl Into<String>) -> AuditEvent {
        AuditEvent {
            actor: actor.clone(),
            action: action.into(),
            target: target.into(),
            outcome: Outcome::Success,
            detail: "{}".into(),
        }
    }
    /// Attach JSON detail.
    pub fn with_detail(mut self, detail: serde_json::Value) -> AuditEvent {
        self.detail = detail.to_string();
        self
    }
    /// Set the outcome.
    pub fn with_outcome(mut self, outcome: Outcome) -> AuditEvent {
        self.outcome = outcome;
        self
    }
}

/// One stored row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When (UTC, microsecond precision).
    pub at: DateTime<Utc>,
    /// User id of the actor.
    pub actor_id: Option<i64>,
    /// Actor name.
    pub actor: String,
    /// Actor role.
    pub role: String,
    /// Action.
    pub action: String,
    /// Target.
    pub target: String,
    /// Client address.
    pub ip: Option<String>,
    /// Outcome name.
    pub outcome: String,
    /// JSON detail.
    pub detail: String,
    /// Hash of the previous row.
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

/// Truncate a timestamp to what every backend stores exactly (microseconds).
pub fn audit_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

impl AuditRecord {
    /// Seal an event as row `seq` after `prev_hash`, computing its hash.
    pub fn seal(ev: &AuditEvent, seq: i64, at: DateTime<Utc>, prev_hash: &str) -> AuditRecord {
        let mut r = AuditRecord {
            seq,
            at: audit_time(at),
            actor_id: ev.actor.user_id,
            actor: ev.actor.name.clone(),
            role: ev.actor.role.clone(),
            action: ev.action.clone(),
            target: ev.target.clone(),
            ip: ev.actor.ip.clone(),
            outcome: ev.outcome.as_str().into(),
            detail: ev.detail.clone(),
            prev_hash: prev_hash.into(),
            hash: String::new(),
        };
        r.hash = r.compute_hash();
        r
    }

    /// The hash this row should carry, from its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        // Length-prefixed fields: no two different rows share a preimage.
        let mut field = |s: &str| {
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        };
        field(&self.prev_hash);
        field(&self.seq.to_string());
        field(&self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
        field(&self.actor_id.map(|i| i.to_string()).unwrap_or_default());
        field(&self.actor);
        field(&self.role);
        field(&self.action);
        field(&self.target);
        field(self.ip.as_deref().unwrap_or(""));
        field(&self.outcome);
        field(&self.detail);
        hex::encode(h.finalize())
    }
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A row's content does not match its hash: it was modified.
    #[error("audit row {seq}: content does not match its hash (row modified)")]
    Modified {
        /// The row.
        seq: i64,
    },
    /// A sequence number is missing: a row was deleted.
    #[error("audit row {expected} is missing (found {found} next): row deleted")]
    Gap {
        /// The sequence number expected.
        expected: i64,
        /// The one found.
        found: i64,
    },
    /// A row does not link to its predecessor: rows were reordered or replaced.
    #[error("audit row {seq}: does not link to row {prev} (rows reordered or replaced)")]
    Link {
        /// The row.
        seq: i64,
        /// Its predecessor.
        prev: i64,
    },
    /// The last row is not the recorded head: rows were removed from the end.
    #[error("audit log ends at row {last} but its head records row {head}: tail truncated or head altered")]
    Head {
        /// Last row found.
        last: i64,
        /// Head recorded.
        head: i64,
    },
}

/// Checks rows in sequence order, one at a time, so a long log streams in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier { next_seq: 1, prev_hash: GENESIS.into() }
    }
}

impl ChainVerifier {
    /// Check the next row.
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainError> {
        if r.compute_hash() != r.hash {
            return Err(ChainError::Modified { seq: r.seq });
        }
        if r.seq > self.next_seq {
            return Err(ChainError::Gap { expected: self.next_seq, found: r.seq });
        }
        if r.seq != self.next_seq || r.prev_hash != self.prev_hash {
            return Err(ChainError::Link { seq: r.seq, prev: self.next_seq - 1 });
        }
        self.next_seq += 1;
        self.prev_hash = r.hash.clone();
        Ok(())
    }

    /// Rows checked so far.
    pub fn count(&self) -> i64 {
        self.next_seq - 1
    }

    /// Finish: the last row must be the recorded head.
    pub fn finish(self, head: Option<(i64, String)>) -> Result<i64, ChainError> {
        let last = self.next_seq - 1;
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS.into()));
        if head_seq != last || head_hash != self.prev_hash {
            return Err(ChainError::Head { last, head: head_seq });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let actor = Actor::system();
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|i| {
                let r = AuditRecord::seal(&AuditEvent::success(&actor, "x.y", format!("t:{i}")), i, Utc::now(), &prev);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn verify(rows: &[AuditRecord], head: Option<(i64, String)>) -> Result<i64, ChainError> {
        let mut v = ChainVerifier::default();
        for r in rows {
            v.push(r)?;
        }
        v.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        let rows = chain(5);
        let head = Some((5, rows[4].hash.clone()));
        assert_eq!(verify(&rows, head), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn tampering_is_detected() {
        let rows = chain(5);
        let head = Some((5, rows[4].hash.clone()));
        let mut m = rows.clone();
        m[2].target = "t:evil".into();
        assert_eq!(verify(&m, head.clone()), Err(ChainError::Modified { seq: 3 }));
        let mut d = rows.clone();
        d.remove(2);
        assert_eq!(verify(&d, head.clone()), Err(ChainError::Gap { expected: 3, found: 4 }));
        let mut o = rows.clone();
        o.swap(1, 2);
        assert!(verify(&o, head.clone()).is_err());
        // Reorder while keeping the sequence numbers in place: the content no longer fits.
        let mut o2 = rows.clone();
        o2.swap(1, 2);
        o2[1].seq = 2;
        o2[2].seq = 3;
        assert_eq!(verify(&o2, head.clone()), Err(ChainError::Modified { seq: 2 }));
        // Re-seal a reordered row honestly: its link to the predecessor breaks.
        let mut o3 = rows.clone();
        o3.swap(1, 2);
        o3[1].seq = 2;
        o3[1].prev_hash = rows[0].hash.clone();
        o3[1].hash = o3[1].compute_hash();
        o3[2].seq = 3;
        o3[2].hash = o3[2].compute_hash();
        assert_eq!(verify(&o3, head.clone()), Err(ChainError::Link { seq: 3, prev: 2 }));
        let t = &rows[..4];
        assert_eq!(verify(t, head), Err(ChainError::Head { last: 4, head: 5 }));
    }
}

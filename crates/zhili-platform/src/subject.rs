//! What a notification, a delivery or an audit row is about (主题对象): a domain's kind and the
//! record's id, written `kind:id` (`case:200001`), as audit targets are.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A domain record, `(kind, id)`. The kind names the domain's record type: lower-case ASCII
/// letters, digits and `_`, starting with a letter, at most 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Subject {
    kind: String,
    id: i64,
}

/// Why a subject was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("subject kind must be 1–32 lower-case letters, digits or _ starting with a letter, got {0:?}")]
pub struct SubjectError(pub String);

impl Subject {
    /// Longest kind.
    pub const MAX_KIND: usize = 32;

    /// A subject, its kind checked.
    pub fn new(kind: &str, id: i64) -> Result<Subject, SubjectError> {
        let ok = kind.len() <= Self::MAX_KIND
            && kind.starts_with(|c: char| c.is_ascii_lowercase())
            && kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Subject { kind: kind.to_string(), id })
        } else {
            Err(SubjectError(kind.to_string()))
        }
    }

    /// The record type, e.g. `case`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The record's id.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The id, if this is a subject of `kind`.
    pub fn id_of(&self, kind: &str) -> Option<i64> {
        (self.kind == kind).then_some(self.id)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_checked_and_written_as_audit_targets() {
        let s = Subject::new("case", 200_001).unwrap();
        assert_eq!(s.to_string(), "case:200001");
        assert_eq!((s.kind(), s.id(), s.id_of("case"), s.id_of("alarm")), ("case", 200_001, Some(200_001), None));
        assert!(Subject::new("flood_warning2", 1).is_ok());
        for bad in ["", "Case", "1case", "case:x", "案件", &"a".repeat(33)] {
            assert_eq!(Subject::new(bad, 1), Err(SubjectError(bad.to_string())), "{bad:?}");
        }
    }
}

//! What both backends' flood folders share without a dialect: records kept as their JSON body,
//! the SL 651 address as indexed, and the stored names of quarantine states and frame encodings.

use serde::de::DeserializeOwned;
use serde::Serialize;
use zhili_core::store::{StoreError, StoreResult};
use zhili_flood::model::QuarantineState;
use zhili_flood::store::FrameEncoding;
use zhili_flood::vocab::StationCode;

/// A record as the JSON body it is stored as.
pub fn body(what: &str, key: &dyn std::fmt::Display, record: &impl Serialize) -> StoreResult<String> {
    serde_json::to_string(record).map_err(|e| StoreError::Other(format!("cannot encode {what} {key}: {e}")))
}

/// A record from its stored JSON body.
pub fn from_body<T: DeserializeOwned>(what: &str, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Other(format!("bad stored {what}: {e}")))
}

/// The 10 hex digits an SL 651 station address is indexed by.
pub fn address_hex(address: [u8; 5]) -> String {
    StationCode::from_sl651_address(address).as_str().to_string()
}

/// A quarantine state as stored.
pub fn state_name(s: QuarantineState) -> &'static str {
    match s {
        QuarantineState::Pending => "pending",
        QuarantineState::Rejected => "rejected",
    }
}

/// A frame encoding as stored.
pub fn encoding_name(e: FrameEncoding) -> &'static str {
    match e {
        FrameEncoding::Hex => "hex",
        FrameEncoding::Ascii => "ascii",
    }
}

// ---------------------------------------------------------------------------------------------
// Warnings (预警): the columns beside each body, and the bodies read back
// ---------------------------------------------------------------------------------------------

use chrono::{DateTime, Utc};
use zhili_core::codes::DivisionCode;
use zhili_flood::warning::{CapMsgType, Effect, StoredCap, TrailEntry, Warning};

/// What a warning row holds: the indexed columns beside the whole warning as JSON. Times are
/// the warning's own (`opened_at`, `updated_at`), bound by each backend in its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningColumns {
    /// The village's code.
    pub village: String,
    /// [`zhili_flood::warning::WarningStatus::as_str`].
    pub status: &'static str,
    /// [`zhili_flood::vocab::Grade::as_str`].
    pub grade: &'static str,
    /// The version stored.
    pub version: i64,
    /// When the warning wants its next tick; `None` once lifted, whatever the body says, so
    /// that a lifted warning is never due.
    pub next_tick: Option<DateTime<Utc>>,
    /// The warning as JSON, with the id it is stored under.
    pub body: String,
}

/// The row of `warning` stored under `id`.
pub fn warning_columns(id: i64, warning: &Warning) -> StoreResult<WarningColumns> {
    let mut w = warning.clone();
    w.id = id;
    Ok(WarningColumns {
        village: w.village.to_string(),
        status: w.status.as_str(),
        grade: w.grade.as_str(),
        version: i64::from(w.version),
        next_tick: if w.is_lifted() { None } else { w.next_tick },
        body: body("flood warning", &id, &w)?,
    })
}

/// The version a save of `warning` must find stored: one below its own (`-1` for version 0,
/// which no stored warning has).
pub fn previous_version(warning: &Warning) -> i64 {
    i64::from(warning.version) - 1
}

/// A warning from its stored body; the row's id is authoritative.
pub fn warning_from_body(id: i64, text: &str) -> StoreResult<Warning> {
    let mut w: Warning =
        serde_json::from_str(text).map_err(|e| StoreError::Other(format!("bad stored flood warning {id}: {e}")))?;
    w.id = id;
    Ok(w)
}

/// Whether a save of `warning` that did not find the version below its own is a transition
/// that changed nothing but its trail ([`zhili_flood::warning::apply`] keeps the version): the
/// row (`stored_version`, `stored_body`) holds that very state at that very version, the
/// transition asks for no effect, and every trail entry is later than the stored state's
/// `updated_at`. The last two tell it from a retried save whose commit went through: a real
/// transition's entries are at its own `updated_at`, and its effects must never be queued twice.
pub fn is_unchanged_transition(
    id: i64,
    stored_version: i64,
    stored_body: &str,
    warning: &Warning,
    effects: &[Effect],
    trail: &[TrailEntry],
) -> StoreResult<bool> {
    if stored_version != i64::from(warning.version) || !effects.is_empty() {
        return Ok(false);
    }
    let stored = warning_from_body(id, stored_body)?;
    let mut given = warning.clone();
    given.id = id;
    Ok(stored == given && trail.iter().all(|e| e.at > stored.updated_at))
}

/// An effect as its stored JSON body.
pub fn effect_body(warning: i64, effect: &Effect) -> StoreResult<String> {
    body("effect of flood warning", &warning, effect)
}

/// An outbox effect from its stored body.
pub fn effect_from_body(id: i64, text: &str) -> StoreResult<Effect> {
    serde_json::from_str(text).map_err(|e| StoreError::Other(format!("bad stored flood warning effect {id}: {e}")))
}

/// A trail entry as its stored JSON body.
pub fn trail_body(warning: i64, entry: &TrailEntry) -> StoreResult<String> {
    body("trail entry of flood warning", &warning, entry)
}

/// A trail entry from its stored body.
pub fn trail_from_body(warning: i64, seq: i64, text: &str) -> StoreResult<TrailEntry> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Other(format!("bad stored trail entry {seq} of flood warning {warning}: {e}")))
}

/// Check a CAP document before it is stored: an identifier, and no U+0000 in the identifier or
/// the XML (XML 1.0 has no such character, and PostgreSQL's `text` cannot hold it).
pub fn check_cap(cap: &StoredCap) -> StoreResult<()> {
    if cap.identifier.trim().is_empty() {
        return Err(StoreError::Other("cap.identifier is empty".into()));
    }
    for (field, text) in [("identifier", &cap.identifier), ("xml", &cap.xml)] {
        if let Some(at) = text.find('\0') {
            return Err(StoreError::Other(format!(
                "cap.{field} has U+0000 at byte {at}, which a CAP document cannot contain"
            )));
        }
    }
    Ok(())
}

/// A CAP document from its row (`sent` decoded by the backend).
pub fn cap_from_columns(
    warning: i64,
    sequence: i64,
    identifier: String,
    msg_type: &str,
    sent: DateTime<Utc>,
    village: &str,
    xml: String,
) -> StoreResult<StoredCap> {
    let msg_type = [CapMsgType::Alert, CapMsgType::Update, CapMsgType::Cancel]
        .into_iter()
        .find(|m| m.as_str() == msg_type)
        .ok_or_else(|| StoreError::Other(format!("bad stored CAP msgType {msg_type:?} of {identifier}")))?;
    Ok(StoredCap {
        warning,
        sequence: u32::try_from(sequence)
            .map_err(|_| StoreError::Other(format!("bad stored CAP sequence {sequence} of {identifier}")))?,
        msg_type,
        sent,
        village: DivisionCode::parse(village)
            .map_err(|e| StoreError::Other(format!("bad stored village {village:?} of CAP {identifier}: {e}")))?,
        identifier,
        xml,
    })
}

#[cfg(test)]
mod warning_tests {
    use super::*;

    #[test]
    fn bad_bodies_and_columns_are_errors_naming_the_row() {
        let e = warning_from_body(12, "{\"id\": 1}").unwrap_err();
        assert!(matches!(&e, StoreError::Other(m) if m.starts_with("bad stored flood warning 12: ")), "{e:?}");
        let e = effect_from_body(3, "not json").unwrap_err();
        assert!(matches!(&e, StoreError::Other(m) if m.contains("effect 3")), "{e:?}");
        let e = trail_from_body(12, 4, "[]").unwrap_err();
        assert!(matches!(&e, StoreError::Other(m) if m.contains("trail entry 4 of flood warning 12")), "{e:?}");
        let sent = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let ok = cap_from_columns(1, 2, "X".into(), "Update", sent, "370304101201", "<alert/>".into()).unwrap();
        assert_eq!((ok.sequence, ok.msg_type), (2, CapMsgType::Update));
        for (seq, msg, village) in [(2, "Ack", "370304101201"), (-1, "Alert", "370304101201"), (1, "Alert", "x")] {
            assert!(cap_from_columns(1, seq, "X".into(), msg, sent, village, String::new()).is_err());
        }
        let mut cap = ok.clone();
        cap.xml = "<alert>\0</alert>".into();
        let e = check_cap(&cap).unwrap_err();
        assert!(matches!(&e, StoreError::Other(m) if m.contains("cap.xml") && m.contains("byte 7")), "{e:?}");
        cap.identifier = " ".into();
        assert!(check_cap(&cap).is_err());
        assert!(check_cap(&ok).is_ok());
    }
}

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

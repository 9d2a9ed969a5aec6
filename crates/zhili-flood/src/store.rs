//! The storage ports of the flood module (山洪数据存储), implemented by each backend crate:
//! - [`FloodModelStore`]: the network model (watersheds, stations, villages at risk, control
//!   sections) and the rainfall indicators — edited by people, so every write takes an
//!   [`Actor`] and appends its audit row in the same transaction;
//! - [`QuarantineStore`]: stations that sent data but are not registered;
//! - [`ObservationStore`]: raw frames and observed values from telemetry, written in one
//!   durable transaction per [`ObservationStore::ingest`] (the SL 651 server confirms a frame
//!   only after it returns), deduplicated so that a resend never counts twice, and station
//!   liveness from keep-alives (no rows).
//!
//! Warnings (their state, the outbox of their effects, their trail and CAP documents) have their
//! own port, [`crate::warning::WarningStore`], next to the warning lifecycle's types.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::store::{Page, StoreResult};

use crate::indicator::RainIndicators;
use crate::model::{
    ControlSection, QuarantineEntry, SectionCode, Station, StationKind, StationStatus, UnknownContact, Village,
    Watershed, WatershedCode,
};
use crate::vocab::{Element, StationCode};

// ---------------------------------------------------------------------------------------------
// The network model
// ---------------------------------------------------------------------------------------------

/// Which stations to list; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationFilter {
    /// Of these kinds (empty: any).
    pub kinds: Vec<StationKind>,
    /// In this state of service.
    pub status: Option<StationStatus>,
    /// In this small watershed.
    pub watershed: Option<WatershedCode>,
    /// In this division or below it (a county, township or village code as prefix).
    pub division: Option<DivisionCode>,
    /// Owned by this agency (exact name).
    pub owner: Option<String>,
    /// Measuring rain (`Some(true)`), or not.
    pub measures_rain: Option<bool>,
    /// Measuring level (`Some(true)`), or not.
    pub measures_level: Option<bool>,
}

/// The network model and its indicators. Writes validate nothing beyond referential
/// integrity and uniqueness (callers run the records' `validate` first); each appends an
/// audit row by `actor` in its transaction.
#[async_trait]
pub trait FloodModelStore: Send + Sync {
    /// Insert or replace watersheds by code, in one transaction; a parent must exist
    /// (in the store or in the same call: [`zhili_core::store::StoreError::MissingReference`]
    /// `parent`) and no watershed may lie in itself through its parents.
    async fn upsert_watersheds(&self, actor: &Actor, watersheds: &[Watershed]) -> StoreResult<()>;

    /// Every watershed, by code.
    async fn watersheds(&self) -> StoreResult<Vec<Watershed>>;

    /// Insert or replace stations by code, in one transaction. An SL 651 station address is
    /// unique (`Conflict { field: "protocol.address" }`); a watershed must exist.
    async fn upsert_stations(&self, actor: &Actor, stations: &[Station]) -> StoreResult<()>;

    /// One station; `NotFound` if none has the code.
    async fn station(&self, code: &StationCode) -> StoreResult<Station>;

    /// The station with this SL 651 station address (the identity in a frame's header);
    /// `NotFound` if none. The ingest path asks this for every connection, so it is an index.
    async fn station_by_sl651_address(&self, address: [u8; 5]) -> StoreResult<Station>;

    /// Stations matching the filter, by code.
    async fn stations(&self, filter: &StationFilter, page: Page) -> StoreResult<Vec<Station>>;

    /// Insert or replace villages at risk by code, in one transaction; each representative
    /// station and the watershed must exist (`MissingReference`).
    async fn upsert_villages(&self, actor: &Actor, villages: &[Village]) -> StoreResult<()>;

    /// One village at risk; `NotFound` if the code is not one.
    async fn village(&self, code: &DivisionCode) -> StoreResult<Village>;

    /// Villages at risk whose code starts with `prefix` (a county, township or village; `None`
    /// for all), by code.
    async fn villages(&self, prefix: Option<&DivisionCode>, page: Page) -> StoreResult<Vec<Village>>;

    /// Insert or replace control sections by code, in one transaction; the level station and
    /// every protected village must exist.
    async fn upsert_sections(&self, actor: &Actor, sections: &[ControlSection]) -> StoreResult<()>;

    /// One control section; `NotFound` if none.
    async fn section(&self, code: &SectionCode) -> StoreResult<ControlSection>;

    /// Every control section, by code.
    async fn sections(&self) -> StoreResult<Vec<ControlSection>>;

    /// Replace the rainfall indicators of each village given (its whole set: windows not in
    /// the new set are gone), all in one transaction — an import is all or nothing. Each
    /// village must be a village at risk (`MissingReference { field: "village" }`).
    async fn replace_rain_indicators(&self, actor: &Actor, sets: &[RainIndicators]) -> StoreResult<()>;

    /// A village's rainfall indicators; `NotFound` when it has none.
    async fn rain_indicators(&self, village: &DivisionCode) -> StoreResult<RainIndicators>;

    /// The rainfall indicators of every village whose code starts with `prefix` (`None`: all),
    /// by village code — what the warning engine loads at start.
    async fn all_rain_indicators(&self, prefix: Option<&DivisionCode>) -> StoreResult<Vec<RainIndicators>>;
}

// ---------------------------------------------------------------------------------------------
// Quarantine
// ---------------------------------------------------------------------------------------------

/// Stations that sent data without being registered (待确认测站). Their data is not stored as
/// observations; an administrator accepts (the station is created) or rejects them.
#[async_trait]
pub trait QuarantineStore: Send + Sync {
    /// Record one contact: add the entry, or count it on the stored one, by the rule of
    /// [`QuarantineEntry::record`]; returns the entry as stored.
    async fn quarantine_contact(&self, contact: &UnknownContact) -> StoreResult<QuarantineEntry>;

    /// The entries, latest contact first; rejected ones only when `include_rejected`.
    async fn quarantine(&self, include_rejected: bool, page: Page) -> StoreResult<Vec<QuarantineEntry>>;

    /// Accept an entry: in one transaction the station is stored (as
    /// [`FloodModelStore::upsert_stations`] would) and the entry removed, with an audit row.
    /// `NotFound` if no entry has `station.code`; `Conflict { field: "code" }` if a station
    /// has it already.
    async fn accept_quarantined(&self, actor: &Actor, station: &Station) -> StoreResult<()>;

    /// Reject an entry: it stays, marked rejected, so that its frames are still counted but it
    /// is no longer pending; with an audit row. `NotFound` if none.
    async fn reject_quarantined(&self, actor: &Actor, code: &StationCode) -> StoreResult<()>;
}

// ---------------------------------------------------------------------------------------------
// Observations and raw frames
// ---------------------------------------------------------------------------------------------

/// How much a value is trusted (质量标志).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// As received, passing the checks at ingest.
    Good,
    /// Flagged by a check (negative rain, an impossible jump, a station in maintenance):
    /// kept, shown, but not used for warnings.
    Suspect,
    /// Entered or corrected by a person (人工置数, SL 651 function 35).
    Manual,
}

impl Quality {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Good => "good",
            Quality::Suspect => "suspect",
            Quality::Manual => "manual",
        }
    }

    /// Read the stable name.
    pub fn parse(s: &str) -> Option<Quality> {
        [Quality::Good, Quality::Suspect, Quality::Manual].into_iter().find(|q| q.as_str() == s)
    }

    /// The stable small integer stores keep per value (0 good, 1 suspect, 2 manual).
    pub fn code(self) -> i16 {
        match self {
            Quality::Good => 0,
            Quality::Suspect => 1,
            Quality::Manual => 2,
        }
    }

    /// Read the stored integer.
    pub fn from_code(code: i16) -> Option<Quality> {
        [Quality::Good, Quality::Suspect, Quality::Manual].into_iter().find(|q| q.code() == code)
    }
}

/// The stable integer stores key an [`Element`] by (要素存储编码): its kind in the high 16 bits
/// (1 rain increment, 2 rain counter, 3 level, 4 discharge, 5 voltage, 6 soil moisture,
/// 7 status) and its parameter (interval minutes, depth cm) in the low 16, so that integer
/// order is [`Element`]'s order and a key is four bytes, not a name.
pub fn element_code(e: Element) -> i32 {
    let (kind, n): (i32, u16) = match e {
        Element::RainIncrement { interval_minutes } => (1, interval_minutes),
        Element::RainCounter => (2, 0),
        Element::Level => (3, 0),
        Element::Discharge => (4, 0),
        Element::Voltage => (5, 0),
        Element::SoilMoisture { depth_cm } => (6, depth_cm),
        Element::Status => (7, 0),
    };
    kind << 16 | i32::from(n)
}

/// The element of a stored [`element_code`]; `None` for an integer no element has.
pub fn element_from_code(code: i32) -> Option<Element> {
    let n = u16::try_from(code & 0xFFFF).ok()?;
    let e = match (code >> 16, n) {
        (1, interval_minutes) => Element::RainIncrement { interval_minutes },
        (2, 0) => Element::RainCounter,
        (3, 0) => Element::Level,
        (4, 0) => Element::Discharge,
        (5, 0) => Element::Voltage,
        (6, depth_cm) => Element::SoilMoisture { depth_cm },
        (7, 0) => Element::Status,
        _ => return None,
    };
    Some(e)
}

/// One observed value (观测值).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The station.
    pub station: StationCode,
    /// What was observed.
    pub element: Element,
    /// When (the end of the interval for rain increments), UTC.
    pub observed_at: DateTime<Utc>,
    /// The value in the element's unit.
    pub value: f64,
    /// Trust.
    pub quality: Quality,
    /// The frame it came from: an index into the `frames` of the same
    /// [`ObservationStore::ingest`] call (the store links it to the archived frame's id);
    /// `None` for JSON ingest and manual entry.
    pub frame: Option<usize>,
}

/// A batch of observations, e.g. one HTTP request or the values of a group of frames.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObservationBatch {
    /// The values.
    pub observations: Vec<Observation>,
}

/// How a raw frame was encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameEncoding {
    /// HEX/BCD frame (`7E 7E`).
    Hex,
    /// ASCII frame (`SOH`).
    Ascii,
}

/// A frame as received, archived as it was (原始报文).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawFrame {
    /// The station it came from.
    pub station: StationCode,
    /// When the centre received it.
    pub received_at: DateTime<Utc>,
    /// The peer address (`203.0.113.5:40211`).
    pub peer: String,
    /// The function code (`0x32` timed report, …).
    pub function: u8,
    /// The frame's serial number (流水号).
    pub serial: u16,
    /// The observation time of its body, or its send time for a frame without one. With
    /// station, function and serial the identity of a resend.
    pub observed_at: DateTime<Utc>,
    /// The whole frame, start characters to CRC.
    pub bytes: Vec<u8>,
    /// HEX or ASCII.
    pub encoding: FrameEncoding,
}

impl RawFrame {
    /// The identity that makes a resend a duplicate (sl651.md "Design consequences").
    pub fn dedup_key(&self) -> (&StationCode, u8, u16, DateTime<Utc>) {
        (&self.station, self.function, self.serial, self.observed_at)
    }
}

/// What happened to one frame of an ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameOutcome {
    /// The archived frame's id (for a duplicate, the id of the frame stored first).
    pub id: i64,
    /// Whether a frame with the same [`RawFrame::dedup_key`] was stored already (or earlier
    /// in the same call); a duplicate is not stored again.
    pub duplicate: bool,
}

/// What happened to the observations of an ingest. `inserted + duplicates + corrected` is
/// the number given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsertCounts {
    /// New (station, element, time) values stored.
    pub inserted: u64,
    /// Values stored already with the same value (a resend): nothing changed.
    pub duplicates: u64,
    /// Values stored already with another value or quality: replaced (a correction; the
    /// engine is told through the returned counts, and re-reads).
    pub corrected: u64,
}

/// The result of one [`ObservationStore::ingest`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestOutcome {
    /// One per frame given, in order.
    pub frames: Vec<FrameOutcome>,
    /// The observations.
    pub observations: InsertCounts,
}

/// When a station was last heard from (for health: liveness is not data).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSeen {
    /// Latest keep-alive (链路维持报, SL 651 2F).
    pub keepalive: Option<DateTime<Utc>>,
    /// Latest frame or message carrying data (received time).
    pub report: Option<DateTime<Utc>>,
}

/// Telemetry storage: raw frames, observed values and liveness.
#[async_trait]
pub trait ObservationStore: Send + Sync {
    /// Archive frames and store observations in **one durable transaction** (committed to
    /// disk when it returns: the SL 651 server confirms a frame only after that). Frames are
    /// deduplicated by [`RawFrame::dedup_key`], observations by (station, element,
    /// observed_at): the same value again is a duplicate and changes nothing, another value
    /// replaces it ([`InsertCounts`]). Every station must exist (`MissingReference
    /// { field: "station" }`); an observation's `frame` must index `frames`
    /// (`MissingReference { field: "frame" }`). With any failure nothing is stored.
    /// Stations' [`LastSeen::report`] move to the latest `received_at` of their frames.
    async fn ingest(&self, frames: &[RawFrame], observations: &[Observation]) -> StoreResult<IngestOutcome>;

    /// Store observations without frames (JSON over HTTP or MQTT, manual entry): [`Self::ingest`]
    /// with no frames.
    async fn insert_observations(&self, batch: &ObservationBatch) -> StoreResult<InsertCounts> {
        if batch.observations.iter().any(|o| o.frame.is_some()) {
            return Err(zhili_core::store::StoreError::MissingReference { field: "frame" });
        }
        Ok(self.ingest(&[], &batch.observations).await?.observations)
    }

    /// Archive one frame that carries no values (a user-defined E0–FF frame, a picture):
    /// [`Self::ingest`] with no observations; returns whether it was a duplicate.
    async fn archive_frame(&self, frame: &RawFrame) -> StoreResult<bool> {
        let outcome = self.ingest(std::slice::from_ref(frame), &[]).await?;
        Ok(outcome.frames.first().is_some_and(|f| f.duplicate))
    }

    /// A station's values of one element observed in `(from, to]`, oldest first, at most
    /// `limit`.
    async fn observations(
        &self,
        station: &StationCode,
        element: Element,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<Observation>>;

    /// The latest value of each element of a station, by element (empty when it sent none).
    async fn latest(&self, station: &StationCode) -> StoreResult<Vec<Observation>>;

    /// The archived frames of a station received in `(from, to]`, newest first, at most
    /// `limit`, with their ids (the station page lists them).
    async fn frames(
        &self,
        station: &StationCode,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(i64, RawFrame)>>;

    /// A keep-alive from a station at `at`: moves its [`LastSeen::keepalive`] forward (never
    /// back) and stores no row. `NotFound` for an unknown station.
    async fn station_liveness(&self, station: &StationCode, at: DateTime<Utc>) -> StoreResult<()>;

    /// When each station given was last heard from, in the order given (default for a station
    /// never heard from).
    async fn last_seen(&self, stations: &[StationCode]) -> StoreResult<Vec<LastSeen>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_codes_read_back_and_keep_the_order() {
        let all = [
            Element::RainIncrement { interval_minutes: 5 },
            Element::RainIncrement { interval_minutes: 60 },
            Element::RainCounter,
            Element::Level,
            Element::Discharge,
            Element::Voltage,
            Element::SoilMoisture { depth_cm: 10 },
            Element::SoilMoisture { depth_cm: 100 },
            Element::Status,
        ];
        for e in all {
            assert_eq!(element_from_code(element_code(e)), Some(e), "{e:?}");
        }
        assert!(all.windows(2).all(|w| element_code(w[0]) < element_code(w[1])));
        assert_eq!(element_code(Element::RainIncrement { interval_minutes: 5 }), 0x1_0005);
        for bad in [0, -1, 2 << 16 | 1, 8 << 16, i32::MIN] {
            assert_eq!(element_from_code(bad), None, "{bad}");
        }
        for q in [Quality::Good, Quality::Suspect, Quality::Manual] {
            assert_eq!(Quality::from_code(q.code()), Some(q));
        }
        assert_eq!(Quality::from_code(3), None);
    }
}

//! Case intake as a port (案件受理): how another module opens a case in the closed loop — a
//! flood warning's follow-up, an IoT alarm, a registry discrepancy. The server implements it with
//! the same checks and group commit as a report from a grid worker's phone, and registers it
//! among the ports (`Ports::get::<dyn CaseIntake>()`).

use async_trait::async_trait;
use zhili_core::audit::Actor;
use zhili_core::ErrorCode;

use crate::model::{Case, Source};

/// A case another module asks to open.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRequest {
    /// The channel (a module's automatic report is [`Source::Machine`]).
    pub source: Source,
    /// The minor class (must be active in the deployment's catalogue).
    pub class_code: String,
    /// Longitude, WGS 84 (must lie in the district).
    pub lon: f64,
    /// Latitude, WGS 84.
    pub lat: f64,
    /// What is wrong, 1–2000 characters.
    pub description: String,
    /// Address; derived from the position's grid chain when `None`.
    pub address: Option<String>,
    /// The raising record (`flood_warning:12`): a request with an `external_id` stored already
    /// answers the stored case instead of opening a second one, so a module may retry freely.
    pub external_id: Option<String>,
    /// Uploaded photos (attachment ids).
    pub photos: Vec<String>,
}

/// What intake answers.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedCase {
    /// The stored case (with its number), or the one stored earlier for the same `external_id`.
    pub case: Case,
    /// Open cases of the same class nearby (duplicate suggestions), by number.
    pub duplicates: Vec<i64>,
    /// The department the catalogue suggests.
    pub suggested_department: Option<String>,
}

/// Why a request was refused: the stable error code, the field at fault and the message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct IntakeError {
    /// The error's stable code.
    pub code: ErrorCode,
    /// The request field at fault (`class_code`, `lon`…), if one is.
    pub field: Option<String>,
    /// What is wrong (English; the code carries the translations).
    pub message: String,
}

/// Opening cases from other modules.
#[async_trait]
pub trait CaseIntake: Send + Sync {
    /// Check and store a new case, answering once it is on disk.
    async fn open_case(&self, actor: &Actor, request: CaseRequest) -> Result<OpenedCase, IntakeError>;
}

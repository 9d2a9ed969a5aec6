//! Why an event cannot be applied to a warning, with stable codes for the API.

use chrono::{DateTime, Utc};
use zhili_core::codes::DivisionCode;
use zhili_core::ErrorCode;

use super::{EventKind, MessageId};
use crate::vocab::Grade;

/// Why an event cannot be applied. The warning is left as it was.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WarningError {
    /// A required field is absent or blank.
    #[error("{event} requires `{field}`")]
    MissingField {
        /// The event.
        event: EventKind,
        /// The field's path (`recipients[1].name`, `reason`, …).
        field: String,
    },
    /// A field's value breaks its rule.
    #[error("{event}: `{field}` {message}")]
    InvalidField {
        /// The event.
        event: EventKind,
        /// The field's path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The answer names someone the warning did not tell.
    #[error("{person:?} is not a recipient of warning {warning}; its recipients are: {known}")]
    NotRecipient {
        /// The warning.
        warning: i64,
        /// The id given.
        person: String,
        /// The recipients' ids.
        known: String,
    },
    /// A delivery result for a message the warning never sent.
    #[error("warning {warning} has no message {message} (it has sent {sent})")]
    UnknownMessage {
        /// The warning.
        warning: i64,
        /// The id given.
        message: MessageId,
        /// How many messages it has sent.
        sent: usize,
    },
    /// A second, contradicting delivery result.
    #[error("message {message} was already reported {}; a report of {} contradicts it", ok_word(*.reported_ok), ok_word(*.now_ok))]
    DeliveryConflict {
        /// The message.
        message: MessageId,
        /// The first result.
        reported_ok: bool,
        /// This result.
        now_ok: bool,
    },
    /// The warning has been lifted; raise a new one instead.
    #[error("warning {warning} was lifted at {lifted_at}; cannot {event}")]
    Lifted {
        /// The warning.
        warning: i64,
        /// The event tried.
        event: EventKind,
        /// When it was lifted.
        lifted_at: DateTime<Utc>,
    },
    /// An upgrade to a grade that is not higher.
    #[error(
        "cannot upgrade from {} ({}) to {} ({}): an upgrade needs a higher grade; a lower grade never downgrades an active warning",
        .current.zh(), .current.as_str(), .requested.zh(), .requested.as_str()
    )]
    NotHigher {
        /// The current grade.
        current: Grade,
        /// The grade asked for.
        requested: Grade,
    },
    /// A grade of the other scheme.
    #[error(
        "grade {} ({}) is not of the warning's scheme (its grade is {} ({}))",
        .requested.zh(), .requested.as_str(), .current.zh(), .current.as_str()
    )]
    SchemeMismatch {
        /// The current grade.
        current: Grade,
        /// The grade given.
        requested: Grade,
    },
    /// The public warning was already issued for the current grade.
    #[error("the public warning was already issued at {at} for {}", .grade.zh())]
    AlreadyPublic {
        /// When.
        at: DateTime<Utc>,
        /// At which grade.
        grade: Grade,
    },
    /// The village has none of the policy's public channels.
    #[error("village {village} has no public warning channel ({wanted}); warn by gong and loudspeaker and record it")]
    NoPublicChannel {
        /// The village.
        village: DivisionCode,
        /// The policy's channels.
        wanted: String,
    },
    /// An evaluation for another village.
    #[error("warning {warning} is for village {village}, not {got}")]
    WrongVillage {
        /// The warning.
        warning: i64,
        /// Its village.
        village: DivisionCode,
        /// The village given.
        got: DivisionCode,
    },
}

fn ok_word(ok: bool) -> &'static str {
    if ok {
        "delivered"
    } else {
        "failed"
    }
}

impl WarningError {
    /// Stable code for the API (e.g. `flood.warning.not_recipient`).
    pub fn code(&self) -> &'static str {
        match self {
            WarningError::MissingField { .. } => "flood.warning.missing_field",
            WarningError::InvalidField { .. } => "flood.warning.invalid_field",
            WarningError::NotRecipient { .. } => "flood.warning.not_recipient",
            WarningError::UnknownMessage { .. } => "flood.warning.unknown_message",
            WarningError::DeliveryConflict { .. } => "flood.warning.delivery_conflict",
            WarningError::Lifted { .. } => "flood.warning.lifted",
            WarningError::NotHigher { .. } => "flood.warning.not_higher",
            WarningError::SchemeMismatch { .. } => "flood.warning.scheme_mismatch",
            WarningError::AlreadyPublic { .. } => "flood.warning.already_public",
            WarningError::NoPublicChannel { .. } => "flood.warning.no_public_channel",
            WarningError::WrongVillage { .. } => "flood.warning.wrong_village",
        }
    }

    /// The registry code (and HTTP status) this error is answered with.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            WarningError::MissingField { .. }
            | WarningError::InvalidField { .. }
            | WarningError::NotRecipient { .. }
            | WarningError::SchemeMismatch { .. }
            | WarningError::WrongVillage { .. } => ErrorCode::InvalidField,
            WarningError::UnknownMessage { .. } => ErrorCode::NotFound,
            WarningError::DeliveryConflict { .. }
            | WarningError::Lifted { .. }
            | WarningError::NotHigher { .. }
            | WarningError::AlreadyPublic { .. }
            | WarningError::NoPublicChannel { .. } => ErrorCode::Conflict,
        }
    }

    /// The field at fault, if any (the API's `field`).
    pub fn field(&self) -> Option<&str> {
        match self {
            WarningError::MissingField { field, .. } | WarningError::InvalidField { field, .. } => Some(field),
            WarningError::NotRecipient { .. } => Some("person"),
            WarningError::UnknownMessage { .. } | WarningError::DeliveryConflict { .. } => Some("message"),
            WarningError::NotHigher { .. } | WarningError::SchemeMismatch { .. } => Some("grade"),
            WarningError::WrongVillage { .. } => Some("village"),
            _ => None,
        }
    }
}

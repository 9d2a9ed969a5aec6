//! The GB/T 35965.1-2018 alert identifier (预警信息唯一标识), appendix A.1.1.
//!
//! `ZZZZZZDDDUUUXX_YYYYMMDDhhmmss_N`, 31 characters: the issuing unit's code (发布单位代码:
//! administrative division 6 digits per GB/T 2260, agency 3 per GB/T 4657, internal unit 3,
//! default `000`, extension 2, default `00`), the time it was entered (录入时间) in Beijing time,
//! and a sequence 0–9 among the unit's alerts of that same second.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::time::{beijing, CapTime};

/// The length of an identifier.
pub const IDENTIFIER_LEN: usize = 31;

/// A part of the identifier, to say which one is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdPart {
    /// ZZZZZZ, administrative division (GB/T 2260).
    Division,
    /// DDD, agency (GB/T 4657).
    Agency,
    /// UUU, the unit inside the agency.
    Unit,
    /// XX, the extension.
    Extension,
    /// YYYYMMDDhhmmss, Beijing time.
    Time,
    /// N, the sequence.
    Sequence,
    /// An `_` separator.
    Separator,
}

impl fmt::Display for IdPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdPart::Division => "division code ZZZZZZ (GB/T 2260)",
            IdPart::Agency => "agency code DDD (GB/T 4657)",
            IdPart::Unit => "unit code UUU",
            IdPart::Extension => "extension XX",
            IdPart::Time => "issue time YYYYMMDDhhmmss (Beijing)",
            IdPart::Sequence => "sequence N",
            IdPart::Separator => "separator `_`",
        })
    }
}

/// What is wrong with an identifier or its parts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// Not 31 characters.
    #[error("identifier `{text}` has {len} characters, expected 31 (ZZZZZZDDDUUUXX_YYYYMMDDhhmmss_N)")]
    Length {
        /// The text.
        text: String,
        /// Its length in characters.
        len: usize,
    },
    /// A part that is not what it must be; `at` is its first character (from 0).
    #[error("character {at}: {part} is `{found}`, expected {expected}")]
    Part {
        /// Which part.
        part: IdPart,
        /// Where it starts.
        at: usize,
        /// What is there.
        found: String,
        /// What it must be.
        expected: &'static str,
    },
    /// The time cannot be written as a Beijing 4-digit year.
    #[error("issue time {0} cannot be written with a 4-digit year in Beijing time")]
    Year(DateTime<Utc>),
}

/// A GB/T 35965.1 alert identifier, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WarningId {
    division: String,
    agency: String,
    unit: String,
    extension: String,
    issued: CapTime,
    sequence: u8,
}

fn check(part: IdPart, at: usize, text: &str, n: usize, expected: &'static str) -> Result<(), IdentifierError> {
    if text.len() == n && text.bytes().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(IdentifierError::Part { part, at, found: text.to_owned(), expected })
    }
}

fn check_division(text: &str, at: usize) -> Result<(), IdentifierError> {
    const EXPECTED: &str = "6 digits, a GB/T 2260 code (province 11–82)";
    check(IdPart::Division, at, text, 6, EXPECTED)?;
    let province = &text[..2];
    if !("11"..="82").contains(&province) {
        return Err(IdentifierError::Part { part: IdPart::Division, at, found: text.to_owned(), expected: EXPECTED });
    }
    Ok(())
}

impl WarningId {
    /// Starts an identifier for the unit `division` (6 digits) + `agency` (3 digits), issued
    /// at `issued`; unit `000`, extension `00` and sequence 0 until set.
    pub fn builder(division: &str, agency: &str, issued: DateTime<Utc>) -> WarningIdBuilder {
        WarningIdBuilder {
            division: division.to_owned(),
            agency: agency.to_owned(),
            unit: "000".to_owned(),
            extension: "00".to_owned(),
            issued,
            sequence: 0,
        }
    }

    /// The issuing unit's 14-character code ZZZZZZDDDUUUXX (发布单位代码).
    pub fn unit_code(&self) -> String {
        format!("{}{}{}{}", self.division, self.agency, self.unit, self.extension)
    }

    /// The administrative division code (6 digits).
    pub fn division(&self) -> &str {
        &self.division
    }

    /// The agency code (3 digits, GB/T 4657).
    pub fn agency(&self) -> &str {
        &self.agency
    }

    /// The issue time, Beijing wall-clock time.
    pub fn issued_beijing(&self) -> NaiveDateTime {
        self.issued.get().naive_local()
    }

    /// The issue time as a CAP time (+08:00), e.g. for `sent`.
    pub fn issued(&self) -> CapTime {
        self.issued
    }

    /// The sequence 0–9.
    pub fn sequence(&self) -> u8 {
        self.sequence
    }
}

impl fmt::Display for WarningId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}_{}", self.unit_code(), self.issued.get().format("%Y%m%d%H%M%S"), self.sequence)
    }
}

impl FromStr for WarningId {
    type Err = IdentifierError;

    fn from_str(text: &str) -> Result<Self, IdentifierError> {
        let len = text.chars().count();
        if len != IDENTIFIER_LEN || text.len() != IDENTIFIER_LEN {
            return Err(IdentifierError::Length { text: text.to_owned(), len });
        }
        // ASCII only from here (byte length = character count).
        let part = |a: usize, b: usize| &text[a..b];
        check_division(part(0, 6), 0)?;
        check(IdPart::Agency, 6, part(6, 9), 3, "3 digits (GB/T 4657)")?;
        check(IdPart::Unit, 9, part(9, 12), 3, "3 digits (default 000)")?;
        check(IdPart::Extension, 12, part(12, 14), 2, "2 digits (default 00)")?;
        for at in [14, 29] {
            if part(at, at + 1) != "_" {
                return Err(IdentifierError::Part {
                    part: IdPart::Separator,
                    at,
                    found: part(at, at + 1).to_owned(),
                    expected: "`_`",
                });
            }
        }
        let time = part(15, 29);
        let time_err = || IdentifierError::Part {
            part: IdPart::Time,
            at: 15,
            found: time.to_owned(),
            expected: "14 digits YYYYMMDDhhmmss, a real Beijing date and time",
        };
        check(IdPart::Time, 15, time, 14, "14 digits YYYYMMDDhhmmss").map_err(|_| time_err())?;
        let local = NaiveDateTime::parse_from_str(time, "%Y%m%d%H%M%S").map_err(|_| time_err())?;
        let instant = local.and_local_timezone(beijing()).single().ok_or_else(time_err)?;
        let issued = CapTime::new(instant.to_utc(), beijing()).map_err(|_| time_err())?;
        let seq = part(30, 31);
        check(IdPart::Sequence, 30, seq, 1, "one digit 0–9")?;
        Ok(WarningId {
            division: part(0, 6).to_owned(),
            agency: part(6, 9).to_owned(),
            unit: part(9, 12).to_owned(),
            extension: part(12, 14).to_owned(),
            issued,
            sequence: seq.as_bytes()[0] - b'0',
        })
    }
}

/// Builds a [`WarningId`]; `build` checks every part.
#[derive(Debug, Clone)]
pub struct WarningIdBuilder {
    division: String,
    agency: String,
    unit: String,
    extension: String,
    issued: DateTime<Utc>,
    sequence: u8,
}

impl WarningIdBuilder {
    /// The unit inside the agency (3 digits; default `000`).
    pub fn unit(mut self, unit: &str) -> Self {
        unit.clone_into(&mut self.unit);
        self
    }

    /// The extension (2 digits; default `00`).
    pub fn extension(mut self, extension: &str) -> Self {
        extension.clone_into(&mut self.extension);
        self
    }

    /// The sequence among the unit's alerts of the same second (0–9; default 0).
    pub fn sequence(mut self, sequence: u8) -> Self {
        self.sequence = sequence;
        self
    }

    /// The identifier, or the first part that is wrong (`at` as in the 31-character text).
    pub fn build(self) -> Result<WarningId, IdentifierError> {
        check_division(&self.division, 0)?;
        check(IdPart::Agency, 6, &self.agency, 3, "3 digits (GB/T 4657)")?;
        check(IdPart::Unit, 9, &self.unit, 3, "3 digits (default 000)")?;
        check(IdPart::Extension, 12, &self.extension, 2, "2 digits (default 00)")?;
        if self.sequence > 9 {
            return Err(IdentifierError::Part {
                part: IdPart::Sequence,
                at: 30,
                found: self.sequence.to_string(),
                expected: "one digit 0–9",
            });
        }
        let local = CapTime::beijing(self.issued).map_err(|_| IdentifierError::Year(self.issued))?;
        Ok(WarningId {
            division: self.division,
            agency: self.agency,
            unit: self.unit,
            extension: self.extension,
            issued: local,
            sequence: self.sequence,
        })
    }
}

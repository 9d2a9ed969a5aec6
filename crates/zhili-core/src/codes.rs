//! Administrative division codes (行政区划代码): GB/T 2260 county (6 digits), GB/T 10114
//! township (9 digits) and the statistical village/community code (12 digits).
//!
//! Codes are strings, never integers: leading zeros matter. A [`DivisionCode`] can only be
//! built through [`DivisionCode::parse`], which says exactly which part is wrong.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a code was refused; the message names the offending part and position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The code has a length no level uses.
    #[error("division code must have 6 (county), 9 (township) or 12 (village/community) digits, got {0}")]
    Length(usize),
    /// A character that is not an ASCII digit.
    #[error("division code character {position} ({found:?}) is not a digit")]
    NotDigit {
        /// 1-based position of the bad character.
        position: usize,
        /// The character found there.
        found: char,
    },
    /// A part that may not be all zeros (e.g. province `00`).
    #[error("division code part {part} (digits {from}–{to}) must not be {value}")]
    ZeroPart {
        /// Name of the part (province, city, county, township, village).
        part: &'static str,
        /// 1-based first digit of the part.
        from: usize,
        /// 1-based last digit of the part.
        to: usize,
        /// The value found.
        value: String,
    },
    /// A township number outside the GB/T 10114 ranges (001–599).
    #[error("township number {0} is outside 001–599 (GB/T 10114: 001–099 street office, 100–199 town, 200–399 township, 400–599 other)")]
    TownshipRange(String),
    /// A village number outside the statistical ranges (001–399).
    #[error(
        "village/community number {0} is outside 001–399 (001–199 residents' committee, 200–399 villagers' committee)"
    )]
    VillageRange(String),
    /// A code that should be a child of a parent is not.
    #[error("code {child} is not inside {parent}")]
    NotChild {
        /// The child code.
        child: String,
        /// The expected parent code.
        parent: String,
    },
}

/// The level of an administrative division (行政区划层级).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    /// County-level division (县级: 区/县/县级市), 6 digits.
    County,
    /// Township-level division (乡级: 街道/镇/乡), 9 digits.
    Township,
    /// Village or community (村/社区), 12 digits.
    Village,
}

impl DivisionLevel {
    /// Number of digits of a code at this level.
    pub fn digits(self) -> usize {
        match self {
            DivisionLevel::County => 6,
            DivisionLevel::Township => 9,
            DivisionLevel::Village => 12,
        }
    }
    /// Stable lower-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DivisionLevel::County => "county",
            DivisionLevel::Township => "township",
            DivisionLevel::Village => "village",
        }
    }
    /// Parse the stored name.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "county" => Some(DivisionLevel::County),
            "township" => Some(DivisionLevel::Township),
            "village" => Some(DivisionLevel::Village),
            _ => None,
        }
    }
}

/// The kind of a township or village, derived from its number range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionKind {
    /// 区/县 county-level unit.
    County,
    /// 街道 street office (001–099).
    StreetOffice,
    /// 镇 town (100–199).
    Town,
    /// 乡 township (200–399).
    Township,
    /// Other township-level units (400–599), e.g. development zones.
    OtherTownship,
    /// 居委会 residents' committee / community (001–199).
    Community,
    /// 村委会 villagers' committee (200–399).
    Village,
}

/// A validated administrative division code (行政区划代码).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct DivisionCode(String);

impl DivisionCode {
    /// Validate and build a code; the error names the wrong part.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let n = s.chars().count();
        if n != 6 && n != 9 && n != 12 {
            return Err(CodeError::Length(n));
        }
        for (i, c) in s.chars().enumerate() {
            if !c.is_ascii_digit() {
                return Err(CodeError::NotDigit { position: i + 1, found: c });
            }
        }
        let zero = |part, from: usize, to: usize| {
            let v = &s[from - 1..to];
            if v.bytes().all(|b| b == b'0') {
                Err(CodeError::ZeroPart { part, from, to, value: v.to_string() })
            } else {
                Ok(())
            }
        };
        zero("province", 1, 2)?;
        zero("county", 5, 6)?;
        if n >= 9 {
            let t: u32 = s[6..9].parse().expect("digits");
            if !(1..=599).contains(&t) {
                return Err(CodeError::TownshipRange(s[6..9].to_string()));
            }
        }
        if n == 12 {
            let v: u32 = s[9..12].parse().expect("digits");
            if !(1..=399).contains(&v) {
                return Err(CodeError::VillageRange(s[9..12].to_string()));
            }
        }
        Ok(DivisionCode(s.to_string()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level this code denotes.
    pub fn level(&self) -> DivisionLevel {
        match self.0.len() {
            6 => DivisionLevel::County,
            9 => DivisionLevel::Township,
            _ => DivisionLevel::Village,
        }
    }

    /// The kind of unit, from the number ranges.
    pub fn kind(&self) -> DivisionKind {
        match self.level() {
            DivisionLevel::County => DivisionKind::County,
            DivisionLevel::Township => match self.0[6..9].parse::<u32>().expect("digits") {
                1..=99 => DivisionKind::StreetOffice,
                100..=199 => DivisionKind::Town,
                200..=399 => DivisionKind::Township,
                _ => DivisionKind::OtherTownship,
            },
            DivisionLevel::Village => match self.0[9..12].parse::<u32>().expect("digits") {
                1..=199 => DivisionKind::Community,
                _ => DivisionKind::Village,
            },
        }
    }

    /// The parent division code, none for a county.
    pub fn parent(&self) -> Option<DivisionCode> {
        match self.level() {
            DivisionLevel::County => None,
            DivisionLevel::Township => Some(DivisionCode(self.0[..6].to_string())),
            DivisionLevel::Village => Some(DivisionCode(self.0[..9].to_string())),
        }
    }

    /// Whether `other` is this division or lies inside it (codes are hierarchical prefixes).
    pub fn contains(&self, other: &DivisionCode) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The overlap of two division subtrees: the deeper code when one lies inside the other,
    /// `None` when they are disjoint (e.g. a requested area against a jurisdiction).
    pub fn intersect(&self, other: &DivisionCode) -> Option<DivisionCode> {
        if self.contains(other) {
            Some(other.clone())
        } else if other.contains(self) {
            Some(self.clone())
        } else {
            None
        }
    }

    /// Build the child code `self` + `number` (3 digits), validated.
    pub fn child(&self, number: u32) -> Result<DivisionCode, CodeError> {
        DivisionCode::parse(&format!("{}{:03}", self.0, number))
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for DivisionCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DivisionCode::parse(s)
    }
}

impl<'de> Deserialize<'de> for DivisionCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DivisionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes_and_levels() {
        let c = DivisionCode::parse("370304").unwrap();
        assert_eq!(c.level(), DivisionLevel::County);
        let t = DivisionCode::parse("370304001").unwrap();
        assert_eq!(t.kind(), DivisionKind::StreetOffice);
        assert_eq!(DivisionCode::parse("370304100").unwrap().kind(), DivisionKind::Town);
        let v = DivisionCode::parse("370304100201").unwrap();
        assert_eq!(v.kind(), DivisionKind::Village);
        assert_eq!(v.parent().unwrap(), DivisionCode::parse("370304100").unwrap());
        assert!(c.contains(&v));
        assert!(!t.contains(&v));
        assert!(v.contains(&v));
        assert_eq!(c.intersect(&t), Some(t.clone()));
        assert_eq!(t.intersect(&c), Some(t.clone()));
        assert_eq!(t.intersect(&DivisionCode::parse("370304100").unwrap()), None);
    }

    #[test]
    fn errors_name_the_part() {
        assert_eq!(DivisionCode::parse("37030"), Err(CodeError::Length(5)));
        assert_eq!(DivisionCode::parse("37a304"), Err(CodeError::NotDigit { position: 3, found: 'a' }));
        assert!(matches!(DivisionCode::parse("000304"), Err(CodeError::ZeroPart { part: "province", .. })));
        assert!(matches!(DivisionCode::parse("370300"), Err(CodeError::ZeroPart { part: "county", .. })));
        assert_eq!(DivisionCode::parse("370304600"), Err(CodeError::TownshipRange("600".into())));
        assert_eq!(DivisionCode::parse("370304001000"), Err(CodeError::VillageRange("000".into())));
        assert_eq!(DivisionCode::parse("３70304").unwrap_err(), CodeError::NotDigit { position: 1, found: '３' });
    }

    #[test]
    fn deserialize_validates() {
        let r: Result<DivisionCode, _> = serde_json::from_str("\"12345\"");
        assert!(r.unwrap_err().to_string().contains("6 (county)"));
    }
}

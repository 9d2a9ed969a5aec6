//! The component code (部件编码): 16 digits, county + major class + minor class + serial.
//!
//! The classic split is 6 + 2 + 2 + 6 (`3205080101000001`: 姑苏区, 公用设施, 上水井盖, No. 1);
//! some deployments split 6 + 2 + 3 + 5 (minor 001–079 standard, 080–999 local extensions). The
//! split is a per-deployment setting ([`CodeSplit`]); a code is always 16 digits.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The length of every component code.
pub const CODE_LEN: usize = 16;

/// A part of a component code, to say which one is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePart {
    /// The county (区县, GB/T 2260, 6 digits).
    County,
    /// The major class (大类).
    Major,
    /// The minor class (小类).
    Minor,
    /// The serial number within county and class (流水号).
    Serial,
}

impl CodePart {
    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            CodePart::County => "区县代码",
            CodePart::Major => "大类代码",
            CodePart::Minor => "小类代码",
            CodePart::Serial => "流水号",
        }
    }
}

/// How a deployment splits the 16 digits (编码结构): the county is always 6 and the major
/// class 2; the minor class takes 2 or 3 and the serial the rest (6 or 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CodeSplit {
    /// Digits of the minor class: 2 or 3.
    pub minor_digits: u8,
}

impl Default for CodeSplit {
    /// 6 + 2 + 2 + 6.
    fn default() -> Self {
        CodeSplit { minor_digits: 2 }
    }
}

/// Why a split or a code is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// A split other than 6+2+2+6 or 6+2+3+5.
    #[error("the minor class has 2 or 3 digits (6+2+2+6 or 6+2+3+5), not {0}")]
    Split(u8),
    /// Not 16 characters.
    #[error("a component code has 16 digits; {text:?} has {len} characters")]
    Length {
        /// The text.
        text: String,
        /// Its length in characters.
        len: usize,
    },
    /// A character that is not a digit; `at` counts from 1.
    #[error("character {at} of {text:?} is {found:?}, not a digit")]
    NotDigit {
        /// The text.
        text: String,
        /// Its position, from 1.
        at: usize,
        /// The character.
        found: char,
    },
    /// A part that cannot be zero (or a county that is no county code).
    #[error("{} {value:?} (characters {from}–{to}) {message}", .part.zh())]
    Part {
        /// Which part.
        part: CodePart,
        /// Its digits.
        value: String,
        /// First character, from 1.
        from: usize,
        /// Last character.
        to: usize,
        /// What is wrong.
        message: &'static str,
    },
    /// A part built from a number that does not fit its digits.
    #[error("{} {value} does not fit in {digits} digits", .part.zh())]
    TooLarge {
        /// Which part.
        part: CodePart,
        /// The number.
        value: u32,
        /// The digits it has.
        digits: u8,
    },
}

impl CodeSplit {
    /// A checked split.
    pub fn new(minor_digits: u8) -> Result<CodeSplit, CodeError> {
        if matches!(minor_digits, 2 | 3) {
            Ok(CodeSplit { minor_digits })
        } else {
            Err(CodeError::Split(minor_digits))
        }
    }

    /// Digits of the serial number (6 or 5).
    pub fn serial_digits(self) -> u8 {
        16 - 6 - 2 - self.minor_digits
    }

    /// The largest serial number (999999 or 99999).
    pub fn max_serial(self) -> u32 {
        10u32.pow(u32::from(self.serial_digits())) - 1
    }

    /// Where each part lies: (part, start, end) as byte ranges.
    fn ranges(self) -> [(CodePart, usize, usize); 4] {
        let m = usize::from(self.minor_digits);
        [(CodePart::County, 0, 6), (CodePart::Major, 6, 8), (CodePart::Minor, 8, 8 + m), (CodePart::Serial, 8 + m, 16)]
    }
}

/// A component code, valid by construction for its split.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ComponentCode {
    code: String,
    split: CodeSplit,
}

impl ComponentCode {
    /// Read a code under a split: 16 digits, a county whose province is 11–82, and no part all
    /// zeros. The error names the part and its characters.
    pub fn parse(text: &str, split: CodeSplit) -> Result<ComponentCode, CodeError> {
        let len = text.chars().count();
        if len != CODE_LEN {
            return Err(CodeError::Length { text: text.to_string(), len });
        }
        if let Some((i, c)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(CodeError::NotDigit { text: text.to_string(), at: i + 1, found: c });
        }
        for (part, from, to) in split.ranges() {
            let value = &text[from..to];
            let bad = |message| CodeError::Part { part, value: value.to_string(), from: from + 1, to, message };
            if value.bytes().all(|b| b == b'0') {
                return Err(bad("is all zeros"));
            }
            if part == CodePart::County && !("11"..="82").contains(&&value[..2]) {
                return Err(bad("is not a county code (province 11–82)"));
            }
        }
        Ok(ComponentCode { code: text.to_string(), split })
    }

    /// Build a code from its parts (county 6 digits; the numbers padded with zeros).
    pub fn new(
        split: CodeSplit,
        county: &str,
        major: u32,
        minor: u32,
        serial: u32,
    ) -> Result<ComponentCode, CodeError> {
        let pad = |part, value: u32, digits: u8| {
            if value >= 10u32.pow(u32::from(digits)) {
                Err(CodeError::TooLarge { part, value, digits })
            } else {
                Ok(format!("{value:0width$}", width = usize::from(digits)))
            }
        };
        let text = format!(
            "{county}{}{}{}",
            pad(CodePart::Major, major, 2)?,
            pad(CodePart::Minor, minor, split.minor_digits)?,
            pad(CodePart::Serial, serial, split.serial_digits())?
        );
        ComponentCode::parse(&text, split)
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The split it was read under.
    pub fn split(&self) -> CodeSplit {
        self.split
    }

    fn part(&self, part: CodePart) -> &str {
        let (_, from, to) =
            self.split.ranges().into_iter().find(|(p, _, _)| *p == part).expect("every part has a range");
        &self.code[from..to]
    }

    /// The county's 6 digits.
    pub fn county(&self) -> &str {
        self.part(CodePart::County)
    }

    /// The major class (2 digits).
    pub fn major(&self) -> &str {
        self.part(CodePart::Major)
    }

    /// The minor class (2 or 3 digits).
    pub fn minor(&self) -> &str {
        self.part(CodePart::Minor)
    }

    /// The class: major and minor digits together (`0101`), what the catalogue is keyed by.
    pub fn class(&self) -> &str {
        &self.code[6..8 + usize::from(self.split.minor_digits)]
    }

    /// The serial number.
    pub fn serial(&self) -> u32 {
        self.part(CodePart::Serial).parse().expect("digits checked")
    }

    /// The code after this one in the same county and class (`None` when the serial is at its
    /// largest): what allocation hands out next.
    pub fn next(&self) -> Option<ComponentCode> {
        let serial = self.serial().checked_add(1).filter(|s| *s <= self.split.max_serial())?;
        let prefix = &self.code[..8 + usize::from(self.split.minor_digits)];
        let text = format!("{prefix}{serial:0width$}", width = usize::from(self.split.serial_digits()));
        Some(ComponentCode { code: text, split: self.split })
    }
}

impl fmt::Display for ComponentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classic_code_reads_into_its_parts() {
        let c = ComponentCode::parse("3205080101000001", CodeSplit::default()).unwrap();
        assert_eq!((c.county(), c.major(), c.minor(), c.class(), c.serial()), ("320508", "01", "01", "0101", 1));
        assert_eq!(c.next().unwrap().as_str(), "3205080101000002");
        let last = ComponentCode::parse("3205080101999999", CodeSplit::default()).unwrap();
        assert_eq!(last.next(), None);
        assert_eq!(
            ComponentCode::new(CodeSplit::default(), "370304", 4, 12, 345).unwrap().as_str(),
            "3703040412000345"
        );
    }

    #[test]
    fn a_six_two_three_five_split_reads_the_same_digits_otherwise() {
        let split = CodeSplit::new(3).unwrap();
        let c = ComponentCode::parse("3205080108012345", split).unwrap();
        assert_eq!((c.minor(), c.class(), c.serial()), ("080", "01080", 12345));
        assert_eq!(split.max_serial(), 99_999);
        assert_eq!(ComponentCode::new(split, "320508", 1, 80, 7).unwrap().as_str(), "3205080108000007");
        assert!(matches!(
            ComponentCode::new(split, "320508", 1, 80, 100_000),
            Err(CodeError::TooLarge { part: CodePart::Serial, .. })
        ));
        assert_eq!(CodeSplit::new(4), Err(CodeError::Split(4)));
    }

    #[test]
    fn bad_codes_name_their_part_and_position() {
        let s = CodeSplit::default();
        assert!(matches!(ComponentCode::parse("320508010100001", s), Err(CodeError::Length { len: 15, .. })));
        assert!(matches!(ComponentCode::parse("32050801010000０1", s), Err(CodeError::NotDigit { at: 15, .. })));
        assert!(matches!(
            ComponentCode::parse("320508x101000001", s),
            Err(CodeError::NotDigit { at: 7, found: 'x', .. })
        ));
        let e = ComponentCode::parse("3205080001000001", s).unwrap_err();
        assert!(matches!(e, CodeError::Part { part: CodePart::Major, from: 7, to: 8, .. }), "{e:?}");
        assert!(e.to_string().contains("大类代码"), "{e}");
        let e = ComponentCode::parse("3205080101000000", s).unwrap_err();
        assert!(matches!(e, CodeError::Part { part: CodePart::Serial, from: 11, to: 16, .. }), "{e:?}");
        let e = ComponentCode::parse("9905080101000001", s).unwrap_err();
        assert!(matches!(e, CodeError::Part { part: CodePart::County, .. }), "{e:?}");
    }
}

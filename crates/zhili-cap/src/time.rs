//! CAP times: whole seconds with an explicit UTC offset (CAP 1.2 §3.3.2).
//!
//! CAP writes `2026-07-18T11:00:00+08:00`: no fractional seconds, never the letter `Z`, and a
//! zero offset as `-00:00` (the spec's spelling for UTC). Zhili's own documents carry the
//! deployment's offset (Beijing `+08:00` in the GB/T 35965.1 profile), so `-00:00` only appears
//! when a caller asks for UTC explicitly.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, SubsecRound, TimeZone, Utc};

/// Beijing time, UTC+08:00 (北京时间), the offset of the GB/T 35965.1 profile.
pub fn beijing() -> FixedOffset {
    // 8 h is well inside ±24 h, so `east_opt` cannot fail; the fallback keeps this panic-free.
    FixedOffset::east_opt(8 * 3600).unwrap_or(chrono::Offset::fix(&Utc))
}

/// An instant as CAP writes it: whole seconds, years 0001–9999, an explicit offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CapTime(DateTime<FixedOffset>);

/// What is wrong with a CAP time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text is not `YYYY-MM-DDThh:mm:ss±hh:mm`.
    #[error("`{text}` is not a CAP time YYYY-MM-DDThh:mm:ss±hh:mm: {reason}")]
    Format {
        /// The text given.
        text: String,
        /// What differs from the form.
        reason: &'static str,
    },
    /// The fields are in form but name no real instant (month 13, 30 February, offset 25 h…).
    #[error("`{text}` names no real date and time: {reason}")]
    OutOfRange {
        /// The text given.
        text: String,
        /// Which field is out of range.
        reason: &'static str,
    },
    /// A year CAP (4 digits, XML Schema dateTime) cannot write.
    #[error("year {year} is outside 0001–9999, which a CAP time can carry")]
    Year {
        /// The year.
        year: i32,
    },
}

impl CapTime {
    /// `instant` seen at `offset`, sub-seconds dropped (CAP carries whole seconds).
    pub fn new(instant: DateTime<Utc>, offset: FixedOffset) -> Result<Self, TimeError> {
        // Checked in UTC first, so that shifting to `offset` cannot leave chrono's range.
        if !(1..=9999).contains(&instant.year()) {
            return Err(TimeError::Year { year: instant.year() });
        }
        let local = instant.with_timezone(&offset).trunc_subsecs(0);
        let year = local.year();
        if !(1..=9999).contains(&year) {
            return Err(TimeError::Year { year });
        }
        Ok(CapTime(local))
    }

    /// `instant` in Beijing time (+08:00), as the GB/T 35965.1 profile writes every time.
    pub fn beijing(instant: DateTime<Utc>) -> Result<Self, TimeError> {
        Self::new(instant, beijing())
    }

    /// The instant with its offset.
    pub fn get(&self) -> DateTime<FixedOffset> {
        self.0
    }

    /// The instant in UTC.
    pub fn utc(&self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }

    /// The offset it is written with.
    pub fn offset(&self) -> FixedOffset {
        *self.0.offset()
    }

    /// RFC 3339 with a numeric offset (`+00:00` for UTC), for Atom's `updated`.
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }
}

impl fmt::Display for CapTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.offset().local_minus_utc();
        if secs == 0 {
            // CAP 1.2 §3.3.2: "The timezone for UTC MUST be represented as -00:00".
            write!(f, "{}-00:00", self.0.format("%Y-%m-%dT%H:%M:%S"))
        } else {
            write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%:z"))
        }
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = b.get(at..at + n)?;
    part.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

impl FromStr for CapTime {
    type Err = TimeError;

    /// Reads exactly `YYYY-MM-DDThh:mm:ss±hh:mm` (the XSD's pattern): no `Z`, no fractions.
    fn from_str(text: &str) -> Result<Self, TimeError> {
        let fmt = |reason| TimeError::Format { text: text.to_owned(), reason };
        let range = |reason| TimeError::OutOfRange { text: text.to_owned(), reason };
        let b = text.as_bytes();
        if b.last() == Some(&b'Z') || b.last() == Some(&b'z') {
            return Err(fmt("the letter Z must not be used; write the offset (UTC is -00:00)"));
        }
        if b.get(19) == Some(&b'.') {
            return Err(fmt("fractional seconds are not allowed"));
        }
        if b.len() != 25 {
            return Err(fmt("expected 25 characters"));
        }
        for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (22, b':')] {
            if b[i] != c {
                return Err(fmt("a separator is missing or misplaced"));
            }
        }
        let sign = match b[19] {
            b'+' => 1,
            b'-' => -1,
            _ => return Err(fmt("the offset must start with + or -")),
        };
        let num = |at, n| digits(b, at, n).ok_or_else(|| fmt("a field has a non-digit"));
        let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (h, mi, s) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        let (oh, om) = (num(20, 2)?, num(23, 2)?);
        if y == 0 {
            return Err(range("year 0000 does not exist in XML Schema 1.0"));
        }
        let date = NaiveDate::from_ymd_opt(y as i32, mo, d).ok_or_else(|| range("no such date"))?;
        let time = NaiveTime::from_hms_opt(h, mi, s).ok_or_else(|| range("no such time of day"))?;
        if oh > 14 || om > 59 || (oh == 14 && om > 0) {
            return Err(range("offset outside ±14:00"));
        }
        let offset = FixedOffset::east_opt(sign * (oh as i32 * 3600 + om as i32 * 60))
            .ok_or_else(|| range("offset outside ±14:00"))?;
        let local = NaiveDateTime::new(date, time);
        let at = offset.from_local_datetime(&local).single().ok_or_else(|| range("no such instant"))?;
        Ok(CapTime(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_offset_and_utc_as_minus_zero() {
        let t: DateTime<Utc> = "2026-07-18T03:00:00.750Z".parse().unwrap();
        assert_eq!(CapTime::beijing(t).unwrap().to_string(), "2026-07-18T11:00:00+08:00");
        let utc = CapTime::new(t, FixedOffset::east_opt(0).unwrap()).unwrap();
        assert_eq!(utc.to_string(), "2026-07-18T03:00:00-00:00");
        assert_eq!(utc.to_rfc3339(), "2026-07-18T03:00:00+00:00");
    }

    #[test]
    fn reads_only_the_cap_form() {
        let t: CapTime = "2026-07-18T11:00:00+08:00".parse().unwrap();
        assert_eq!(t.utc().to_rfc3339(), "2026-07-18T03:00:00+00:00");
        assert_eq!("2026-07-18T03:00:00-00:00".parse::<CapTime>().unwrap().offset().local_minus_utc(), 0);
        for bad in [
            "2026-07-18T03:00:00Z",
            "2026-07-18T11:00:00.5+08:00",
            "2026-07-18 11:00:00+08:00",
            "2026-07-18T11:00:00+0800",
            "2026-02-30T11:00:00+08:00",
            "2026-07-18T24:00:00+08:00",
            "2026-07-18T11:00:00+15:00",
            "0000-07-18T11:00:00+08:00",
            "２026-07-18T11:00:00+08:00",
        ] {
            assert!(bad.parse::<CapTime>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn refuses_years_cap_cannot_write() {
        let t = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
        assert_eq!(CapTime::beijing(t), Err(TimeError::Year { year: 10000 }));
    }
}

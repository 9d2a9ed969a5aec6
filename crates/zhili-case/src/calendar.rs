//! Working time (工作时间): the calendar that deadlines and overdue are computed in.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A time limit (时限) as cities write them: natural time, working time or working days.
///
/// Text form (spreadsheets, configuration): a positive integer followed by a unit —
/// `分钟`/`min` (natural minutes), `小时`/`h` (natural hours), `工作分钟`/`wmin`,
/// `工作时`/`wh` (working hours), `工作日`/`wd` (working days). [`fmt::Display`] writes the
/// Chinese unit, and [`WorkDuration::parse`] reads every spelling back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "unit", content = "value", rename_all = "snake_case")]
pub enum WorkDuration {
    /// Natural (wall-clock) minutes, counted around the clock: for urgent limits (紧急).
    Minutes(u32),
    /// Working minutes, counted only inside working hours of working days.
    WorkingMinutes(u32),
    /// Working days: n × the length of a standard working day, in working time.
    WorkingDays(u32),
}

/// Why a time-limit text did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Empty text.
    #[error("empty time limit")]
    Empty,
    /// The number is missing, zero or too large.
    #[error("time limit {0:?}: the number must be a whole number from 1 to 100000")]
    Number(String),
    /// The unit is not one of the known spellings.
    #[error("time limit {0:?}: unknown unit (use 分钟, 小时, 工作分钟, 工作时 or 工作日)")]
    Unit(String),
}

impl WorkDuration {
    /// Parse the text form, e.g. `2工作时`, `1 wd`, `30分钟`.
    pub fn parse(text: &str) -> Result<WorkDuration, DurationError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(DurationError::Empty);
        }
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u32 = num.parse().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| DurationError::Number(t.into()))?;
        Ok(match unit.trim().to_ascii_lowercase().as_str() {
            "分钟" | "min" => WorkDuration::Minutes(n),
            "小时" | "h" => WorkDuration::Minutes(n * 60),
            "工作分钟" | "wmin" => WorkDuration::WorkingMinutes(n),
            "工作时" | "工作小时" | "wh" => WorkDuration::WorkingMinutes(n * 60),
            "工作日" | "wd" => WorkDuration::WorkingDays(n),
            _ => return Err(DurationError::Unit(t.into())),
        })
    }
}

impl fmt::Display for WorkDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WorkDuration::Minutes(m) if m % 60 == 0 => write!(f, "{}小时", m / 60),
            WorkDuration::Minutes(m) => write!(f, "{m}分钟"),
            WorkDuration::WorkingMinutes(m) if m % 60 == 0 => write!(f, "{}工作时", m / 60),
            WorkDuration::WorkingMinutes(m) => write!(f, "{m}工作分钟"),
            WorkDuration::WorkingDays(d) => write!(f, "{d}工作日"),
        }
    }
}

#[cfg(test)]
mod duration_tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for (text, d) in [
            ("30分钟", WorkDuration::Minutes(30)),
            ("2小时", WorkDuration::Minutes(120)),
            ("4工作时", WorkDuration::WorkingMinutes(240)),
            ("45工作分钟", WorkDuration::WorkingMinutes(45)),
            ("15工作日", WorkDuration::WorkingDays(15)),
        ] {
            assert_eq!(WorkDuration::parse(text), Ok(d));
            assert_eq!(d.to_string(), text);
        }
        assert_eq!(WorkDuration::parse(" 5 wh "), Ok(WorkDuration::WorkingMinutes(300)));
        assert_eq!(WorkDuration::parse("1WD"), Ok(WorkDuration::WorkingDays(1)));
        assert_eq!(WorkDuration::parse(""), Err(DurationError::Empty));
        assert!(matches!(WorkDuration::parse("0工作日"), Err(DurationError::Number(_))));
        assert!(matches!(WorkDuration::parse("工作日"), Err(DurationError::Number(_))));
        assert!(matches!(WorkDuration::parse("3 weeks"), Err(DurationError::Unit(_))));
    }
}

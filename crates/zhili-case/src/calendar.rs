//! Working time (工作时间): the calendar that deadlines and overdue are computed in.
//!
//! A case's time limit (时限) runs only inside working hours of working days. [`WorkCalendar`] holds what
//! a deployment edits: the daily working periods, the weekly rest days, the public holidays (放假) and the
//! make-up working days (调休上班) of the State Council's yearly notice. It turns a start and a
//! [`WorkDuration`] into a deadline ([`WorkCalendar::add`]) and measures working time between two instants
//! ([`WorkCalendar::working_minutes_between`]); both skip whole days, so a limit across a holiday costs
//! microseconds.
//!
//! All arithmetic is exact to the nanosecond on local time at a fixed UTC offset (China has no daylight
//! saving); minutes are only rounded (towards zero) when a count is returned.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;

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
        let n: u32 =
            num.parse().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| DurationError::Number(t.into()))?;
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

const NANOS_PER_SEC: i128 = 1_000_000_000;
const NANOS_PER_MIN: i128 = 60 * NANOS_PER_SEC;
const NANOS_PER_DAY: i128 = 86_400 * NANOS_PER_SEC;
/// `NaiveDate::num_days_from_ce` of 1970-01-01: turns Unix days into chrono's day numbers.
const UNIX_EPOCH_DAY: i64 = 719_163;
/// Longest range one holiday line may cover (a typo like `2026..2062` must not add 13,000 dates).
const MAX_LINE_DAYS: i64 = 366;

/// A working period (工作时段) of a working day in local time, from `start` (inclusive) to `end`
/// (exclusive). Serialised as `{"start":"08:30","end":"12:00"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkPeriod {
    /// When work starts (上班), e.g. 08:30.
    #[serde(with = "hh_mm")]
    pub start: NaiveTime,
    /// When work stops (下班), e.g. 12:00; the first instant that is no longer working time.
    #[serde(with = "hh_mm")]
    pub end: NaiveTime,
}

/// The working-time calendar (工作日历) of a deployment: working periods, weekly rest days, public
/// holidays and make-up working days. Stored as JSON and edited in the configuration or the UI;
/// call [`WorkCalendar::validate`] after every edit.
///
/// A day is a working day when it is a make-up day (调休上班), or else when it is neither a public holiday
/// nor a weekly rest day ([`WorkCalendar::is_working_day`]). Every working day has the same periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkCalendar {
    /// UTC offset of local time in minutes (China: +480).
    pub utc_offset_minutes: i32,
    /// Working periods of a working day, local time, sorted, non-overlapping, e.g. 08:30–12:00, 13:30–17:30.
    pub periods: Vec<WorkPeriod>,
    /// Weekly rest days (normally Saturday and Sunday), serialised as `"Sat"`, `"Sun"`.
    pub weekend: Vec<Weekday>,
    /// Public holidays (法定节假日/放假): days off even if they fall on a weekday.
    pub holidays: BTreeSet<NaiveDate>,
    /// Make-up working days (调休上班): weekend days that are working days.
    pub workdays: BTreeSet<NaiveDate>,
}

/// Why a calendar, or a line of holiday text, is not acceptable. Period indexes count from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The UTC offset is outside ±14 hours.
    #[error("UTC offset {minutes} minutes is outside ±14 hours (China: 480)")]
    Offset {
        /// The offending offset in minutes.
        minutes: i32,
    },
    /// No working periods: no time could ever be counted.
    #[error("a working day needs at least one working period")]
    NoPeriods,
    /// A period boundary has seconds: periods are whole minutes.
    #[error("period {index} ({start}–{end}) must start and end on whole minutes")]
    NotWholeMinutes {
        /// Index of the period in `periods`.
        index: usize,
        /// Its start.
        start: NaiveTime,
        /// Its end.
        end: NaiveTime,
    },
    /// A period does not end after it starts.
    #[error("period {index} ({start}–{end}) must end after it starts")]
    EmptyPeriod {
        /// Index of the period in `periods`.
        index: usize,
        /// Its start.
        start: NaiveTime,
        /// Its end.
        end: NaiveTime,
    },
    /// A period starts before the previous one ends (unsorted or overlapping).
    #[error("period {index} starts at {start}, before period {} ends at {previous_end}", index - 1)]
    Overlap {
        /// Index of the later period in `periods`.
        index: usize,
        /// Its start.
        start: NaiveTime,
        /// End of the period before it.
        previous_end: NaiveTime,
    },
    /// Every day of the week is a rest day.
    #[error("every day of the week is a rest day")]
    NoWorkingWeekday,
    /// A date is both a public holiday and a make-up working day.
    #[error("{date} is both a holiday (休) and a make-up working day (班)")]
    HolidayAndWorkday {
        /// The date in both sets.
        date: NaiveDate,
    },
    /// A line of holiday text is wrong (lines count from 1).
    #[error("line {line} ({text:?}): {reason}")]
    Line {
        /// Line number, from 1.
        line: usize,
        /// The line as written, trimmed.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// One year's arrangement from the State Council General Office's notice: holiday ranges
/// (month, day, month, day), both ends included and weekend days within them included, and make-up days.
struct HolidayNotice {
    year: i32,
    /// Title of the notice the data comes from; kept beside the data for whoever checks it.
    #[allow(dead_code)]
    title: &'static str,
    off: &'static [(u32, u32, u32, u32)],
    on: &'static [(u32, u32)],
}

/// 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 2024-11-12).
const CHINA_2025: HolidayNotice = HolidayNotice {
    year: 2025,
    title: "国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）",
    // 元旦, 春节, 清明节, 劳动节, 端午节, 国庆节+中秋节
    off: &[(1, 1, 1, 1), (1, 28, 2, 4), (4, 4, 4, 6), (5, 1, 5, 5), (5, 31, 6, 2), (10, 1, 10, 8)],
    on: &[(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)],
};

/// 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04).
const CHINA_2026: HolidayNotice = HolidayNotice {
    year: 2026,
    title: "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）",
    // 元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节
    off: &[(1, 1, 1, 3), (2, 15, 2, 23), (4, 4, 4, 6), (5, 1, 5, 5), (6, 19, 6, 21), (9, 25, 9, 27), (10, 1, 10, 7)],
    on: &[(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)],
};

/// The notices [`WorkCalendar::china`] holds, oldest first.
const CHINA_NOTICES: [HolidayNotice; 2] = [CHINA_2025, CHINA_2026];

impl WorkCalendar {
    /// The calendar of a Chinese government office: 08:30–12:00 and 13:30–17:30 (7.5 working hours, a
    /// common 机关 schedule; deployments with 09:00–17:00 edit `periods`), Saturday and Sunday off,
    /// UTC+8, and the public holidays and make-up days of the State Council's notices for 2025 and 2026.
    /// Later years have only weekends until a deployment adds the new notice (see
    /// [`WorkCalendar::apply_holiday_lines`]).
    pub fn china() -> WorkCalendar {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("constant time");
        let md = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("constant date");
        let mut holidays = BTreeSet::new();
        let mut workdays = BTreeSet::new();
        for notice in &CHINA_NOTICES {
            for &(m1, d1, m2, d2) in notice.off {
                holidays.extend(md(notice.year, m1, d1).iter_days().take_while(|d| *d <= md(notice.year, m2, d2)));
            }
            workdays.extend(notice.on.iter().map(|&(m, d)| md(notice.year, m, d)));
        }
        WorkCalendar {
            utc_offset_minutes: 480,
            periods: vec![
                WorkPeriod { start: hm(8, 30), end: hm(12, 0) },
                WorkPeriod { start: hm(13, 30), end: hm(17, 30) },
            ],
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays,
            workdays,
        }
    }

    /// Check the calendar: offset within ±14 h; periods non-empty, on whole minutes, each ending after it
    /// starts, sorted and non-overlapping; some weekday not a rest day; no date both holiday and make-up
    /// day. Returns the first problem found. The other methods never panic or loop on an invalid calendar,
    /// but their results are then unspecified.
    pub fn validate(&self) -> Result<(), CalendarError> {
        if !(-14 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
            return Err(CalendarError::Offset { minutes: self.utc_offset_minutes });
        }
        if self.periods.is_empty() {
            return Err(CalendarError::NoPeriods);
        }
        for (index, p) in self.periods.iter().enumerate() {
            let (start, end) = (p.start, p.end);
            if [start, end].iter().any(|t| t.second() != 0 || t.nanosecond() != 0) {
                return Err(CalendarError::NotWholeMinutes { index, start, end });
            }
            if start >= end {
                return Err(CalendarError::EmptyPeriod { index, start, end });
            }
            if let Some(previous) = index.checked_sub(1).map(|i| self.periods[i]) {
                if start < previous.end {
                    return Err(CalendarError::Overlap { index, start, previous_end: previous.end });
                }
            }
        }
        if self.weekend_mask().iter().all(|&rest| rest) {
            return Err(CalendarError::NoWorkingWeekday);
        }
        if let Some(&date) = self.holidays.intersection(&self.workdays).next() {
            return Err(CalendarError::HolidayAndWorkday { date });
        }
        Ok(())
    }

    /// The UTC offset as a chrono offset, for showing instants in local time (UTC if out of range).
    pub fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_minutes.saturating_mul(60)).unwrap_or(FixedOffset::east_opt(0).unwrap())
    }

    /// Whether `date` is a working day: a make-up day (调休上班) always is; otherwise a public holiday
    /// and a weekly rest day are not, and every other day is.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.is_working_day_num(i64::from(date.num_days_from_ce()), &self.weekend_mask())
    }

    /// Working minutes of a standard working day (the sum of the periods; 450 for [`WorkCalendar::china`]).
    pub fn day_minutes(&self) -> u32 {
        u32::try_from(self.day_nanos() / NANOS_PER_MIN).unwrap_or(u32::MAX)
    }

    /// The deadline of a limit `d` started at `start`.
    ///
    /// - `Minutes(n)`: natural time, `start + n` minutes.
    /// - `WorkingMinutes(n)`: counting begins at `start`, or at the next working instant if `start` is
    ///   outside working time, and the result is where the n-th working minute ends. A count ending exactly
    ///   at the end of a period returns that end (17:30), never the start of the next period.
    /// - `WorkingDays(n)`: `WorkingMinutes(n × day_minutes())`, so one working day from Wednesday 15:00
    ///   is the next working day at 15:00.
    ///
    /// A zero limit returns `start`. If working time never reaches the limit (no working day from `start`
    /// on, as in an invalid calendar) or the deadline lies beyond what `DateTime` can hold, the result is
    /// [`DateTime::<Utc>::MAX_UTC`], a deadline that is never reached: the search gallops over day counts
    /// in O(log) steps, so it ends at once instead of looping.
    pub fn add(&self, start: DateTime<Utc>, d: WorkDuration) -> DateTime<Utc> {
        match d {
            WorkDuration::Minutes(n) => {
                start.checked_add_signed(chrono::Duration::minutes(i64::from(n))).unwrap_or(DateTime::<Utc>::MAX_UTC)
            }
            WorkDuration::WorkingMinutes(n) => self.add_working(start, i128::from(n) * NANOS_PER_MIN),
            WorkDuration::WorkingDays(0) => start,
            WorkDuration::WorkingDays(n) => match self.day_nanos() {
                day if day > 0 => self.add_working(start, i128::from(n) * day),
                _ => DateTime::<Utc>::MAX_UTC,
            },
        }
    }

    /// Working minutes in `[a, b)`, rounded towards zero; `-(working minutes in [b, a))` when `b < a`.
    /// For "overdue by N working minutes" and average handling time. Cost grows with the number of
    /// holidays and make-up days in the range, not with its length.
    pub fn working_minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        let (la, lb) = (self.to_local(a), self.to_local(b));
        let minutes = |nanos: i128| i64::try_from(nanos / NANOS_PER_MIN).unwrap_or(i64::MAX);
        if la <= lb {
            minutes(self.working_nanos(la, lb))
        } else {
            -minutes(self.working_nanos(lb, la))
        }
    }

    /// Whether a case with this deadline is overdue (超期) at `now`: strictly after the deadline.
    pub fn overdue(&self, deadline: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now > deadline
    }

    /// Working minutes left until `deadline` at `now`; negative when overdue by that many working
    /// minutes. Note that just after a deadline at 17:30 it is 0 until work resumes, while
    /// [`WorkCalendar::overdue`] is already true.
    pub fn remaining(&self, deadline: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        self.working_minutes_between(now, deadline)
    }

    /// Whether `t` is working time: inside a working period of a working day.
    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let (day, tod) = split(self.to_local(t));
        self.is_working_day_num(day, &self.weekend_mask()) && self.period_nanos().any(|(s, e)| s <= tod && tod < e)
    }

    /// The first working instant at or after `t`: `t` itself in working time, else the start of
    /// the next working period (a case reported at 20:00 is taken in at 08:30 the next working
    /// day). [`DateTime::<Utc>::MAX_UTC`] if working time never comes.
    pub fn next_working_start(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let (day, tod) = split(self.to_local(t));
        if self.is_working_day_num(day, &self.weekend_mask()) {
            for (s, e) in self.period_nanos().filter(|(s, e)| s < e) {
                if tod < s {
                    return self.instant_at(day_start(day) + s);
                }
                if tod < e {
                    return t;
                }
            }
        }
        let first = self.period_nanos().filter(|(s, e)| s < e).map(|(s, _)| s).min();
        match (first, self.nth_working_day_after(day, 1)) {
            (Some(s), Some(d)) => self.instant_at(day_start(d) + s),
            _ => DateTime::<Utc>::MAX_UTC,
        }
    }

    /// When working time next starts or stops after `t`: the end of the current period in working
    /// time, else [`WorkCalendar::next_working_start`]. A countdown in working time holds still
    /// or starts moving there.
    pub fn next_change(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let (day, tod) = split(self.to_local(t));
        if self.is_working_day_num(day, &self.weekend_mask()) {
            if let Some((_, e)) = self.period_nanos().find(|(s, e)| *s <= tod && tod < *e) {
                return self.instant_at(day_start(day) + e);
            }
        }
        self.next_working_start(t)
    }

    /// Add the dates of holiday text to the calendar. One entry a line: a date or an inclusive range
    /// `YYYY-MM-DD..YYYY-MM-DD`, then `休` (holiday; also `off`) or `班` (make-up working day; also
    /// `work`); `#` starts a comment, blank lines are skipped. A line's mark replaces whatever the calendar
    /// said about its dates. Nothing changes unless the whole text is valid; the error names the first bad
    /// line (a bad date, an unknown mark, a reversed or over-long range, or a date marked twice).
    pub fn apply_holiday_lines(&mut self, text: &str) -> Result<(), CalendarError> {
        let marks = parse_holiday_lines(text)?;
        for (date, off) in marks {
            let (add, remove) =
                if off { (&mut self.holidays, &mut self.workdays) } else { (&mut self.workdays, &mut self.holidays) };
            remove.remove(&date);
            add.insert(date);
        }
        Ok(())
    }

    /// Replace all holidays and make-up days by those of the text (same form as
    /// [`WorkCalendar::apply_holiday_lines`]); the calendar is unchanged on error.
    pub fn replace_holiday_lines(&mut self, text: &str) -> Result<(), CalendarError> {
        let marks = parse_holiday_lines(text)?;
        self.holidays = marks.iter().filter(|(_, &off)| off).map(|(&d, _)| d).collect();
        self.workdays = marks.iter().filter(|(_, &off)| !off).map(|(&d, _)| d).collect();
        Ok(())
    }

    /// Holidays and make-up days as text for editing, in date order, consecutive days of the same kind
    /// written as one range: `2026-10-01..2026-10-07 休`, `2026-10-10 班`. Read back by
    /// [`WorkCalendar::replace_holiday_lines`].
    pub fn holiday_lines(&self) -> String {
        let mut runs: Vec<(NaiveDate, NaiveDate, &str)> = Vec::new();
        for (set, mark) in [(&self.holidays, "休"), (&self.workdays, "班")] {
            let mut kind: Vec<(NaiveDate, NaiveDate, &str)> = Vec::new();
            for &date in set {
                match kind.last_mut() {
                    Some((_, end, _)) if end.succ_opt() == Some(date) => *end = date,
                    _ => kind.push((date, date, mark)),
                }
            }
            runs.extend(kind);
        }
        runs.sort();
        let mut out = String::from("# 休 = public holiday (放假), 班 = make-up working day (调休上班)\n");
        for (start, end, mark) in runs {
            if start == end {
                out.push_str(&format!("{start} {mark}\n"));
            } else {
                out.push_str(&format!("{start}..{end} {mark}\n"));
            }
        }
        out
    }

    /// Rest days as a mask indexed by days from Monday.
    fn weekend_mask(&self) -> [bool; 7] {
        let mut mask = [false; 7];
        for day in &self.weekend {
            mask[day.num_days_from_monday() as usize] = true;
        }
        mask
    }

    /// Periods as nanoseconds from local midnight; a reversed period counts as empty.
    fn period_nanos(&self) -> impl Iterator<Item = (i128, i128)> + '_ {
        let nanos = |t: NaiveTime| i128::from(t.num_seconds_from_midnight()) * NANOS_PER_SEC;
        self.periods.iter().map(move |p| (nanos(p.start), nanos(p.end).max(nanos(p.start))))
    }

    /// Working nanoseconds of a working day.
    fn day_nanos(&self) -> i128 {
        self.period_nanos().map(|(s, e)| e - s).sum()
    }

    /// Working nanoseconds of a working day before time of day `tod`.
    fn worked_before(&self, tod: i128) -> i128 {
        self.period_nanos().map(|(s, e)| tod.clamp(s, e) - s).sum()
    }

    /// Time of day where `worked` (in `(0, day_nanos]`) nanoseconds of a working day end: the end of a
    /// period, not the start of the next, when `worked` fills periods exactly.
    fn time_after(&self, worked: i128) -> i128 {
        let mut before = 0;
        let mut last_end = 0;
        for (s, e) in self.period_nanos() {
            if worked <= before + (e - s) {
                return s + (worked - before);
            }
            before += e - s;
            last_end = e;
        }
        last_end
    }

    /// Whether day number `day` (days from the common era, as chrono counts) is a working day.
    fn is_working_day_num(&self, day: i64, mask: &[bool; 7]) -> bool {
        match date_of(day) {
            Some(date) if self.workdays.contains(&date) => true,
            Some(date) if self.holidays.contains(&date) => false,
            _ => !mask[weekday_index(day)],
        }
    }

    /// Number of working days among day numbers `[from, to)`, without visiting each day: whole weeks
    /// times working weekdays, the remainder, then the holidays and make-up days in the range.
    fn working_days_in(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let mask = self.weekend_mask();
        let days = to - from;
        let per_week = mask.iter().filter(|&&rest| !rest).count() as i64;
        let tail_start = from + days / 7 * 7;
        let mut count = days / 7 * per_week + (tail_start..to).filter(|&d| !mask[weekday_index(d)]).count() as i64;
        if let Some(span) = date_span(from, to) {
            let weekday = |d: &NaiveDate| d.weekday().num_days_from_monday() as usize;
            let lost = self.holidays.range(span.clone()).filter(|d| !mask[weekday(d)] && !self.workdays.contains(d));
            let gained = self.workdays.range(span).filter(|d| mask[weekday(d)]);
            count += gained.count() as i64 - lost.count() as i64;
        }
        count
    }

    /// The `n`-th (from 1) working day after day number `day`, or `None` if there is none before the end of
    /// chrono's calendar. Gallops, then bisects, on [`WorkCalendar::working_days_in`].
    fn nth_working_day_after(&self, day: i64, n: i64) -> Option<i64> {
        let last = i64::from(NaiveDate::MAX.num_days_from_ce());
        let reached = |end: i64| self.working_days_in(day + 1, end + 1) >= n;
        let (mut lo, mut span) = (day, n.max(1));
        let mut hi = day.saturating_add(span).min(last);
        while !reached(hi) {
            if hi >= last {
                return None;
            }
            lo = hi;
            span = span.saturating_mul(2);
            hi = day.saturating_add(span).min(last);
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if reached(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }

    /// `start` plus `need` working nanoseconds.
    fn add_working(&self, start: DateTime<Utc>, need: i128) -> DateTime<Utc> {
        let day_len = self.day_nanos();
        if need <= 0 {
            return start;
        }
        if day_len <= 0 {
            return DateTime::<Utc>::MAX_UTC;
        }
        let (day, tod) = split(self.to_local(start));
        let mut need = need;
        if self.is_working_day_num(day, &self.weekend_mask()) {
            let worked = self.worked_before(tod);
            if need <= day_len - worked {
                return self.instant_at(day_start(day) + self.time_after(worked + need));
            }
            need -= day_len - worked;
        }
        let whole_days = (need - 1) / day_len;
        let last_day_need = need - whole_days * day_len;
        i64::try_from(whole_days + 1)
            .ok()
            .and_then(|n| self.nth_working_day_after(day, n))
            .map_or(DateTime::<Utc>::MAX_UTC, |d| self.instant_at(day_start(d) + self.time_after(last_day_need)))
    }

    /// Working nanoseconds in `[a, b)` of local nanoseconds, `a <= b`.
    fn working_nanos(&self, a: i128, b: i128) -> i128 {
        let mask = self.weekend_mask();
        let ((da, ta), (db, tb)) = (split(a), split(b));
        let working = |d| self.is_working_day_num(d, &mask);
        if da == db {
            return if working(da) { self.worked_before(tb) - self.worked_before(ta) } else { 0 };
        }
        let first = if working(da) { self.day_nanos() - self.worked_before(ta) } else { 0 };
        let last = if working(db) { self.worked_before(tb) } else { 0 };
        first + i128::from(self.working_days_in(da + 1, db)) * self.day_nanos() + last
    }

    /// Local time as nanoseconds from the Unix epoch.
    fn to_local(&self, t: DateTime<Utc>) -> i128 {
        i128::from(t.timestamp()) * NANOS_PER_SEC
            + i128::from(t.timestamp_subsec_nanos())
            + i128::from(self.utc_offset_minutes) * NANOS_PER_MIN
    }

    /// The instant of local nanoseconds from the Unix epoch, saturating at chrono's limits.
    fn instant_at(&self, local: i128) -> DateTime<Utc> {
        let utc = local - i128::from(self.utc_offset_minutes) * NANOS_PER_MIN;
        let nanos = u32::try_from(utc.rem_euclid(NANOS_PER_SEC)).unwrap_or(0);
        i64::try_from(utc.div_euclid(NANOS_PER_SEC))
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, nanos))
            .unwrap_or(if utc < 0 { DateTime::<Utc>::MIN_UTC } else { DateTime::<Utc>::MAX_UTC })
    }
}

/// Local nanoseconds from the Unix epoch → (day number from the common era, nanoseconds into the day).
fn split(local: i128) -> (i64, i128) {
    let unix_day = i64::try_from(local.div_euclid(NANOS_PER_DAY)).unwrap_or(i64::MAX / 2);
    (unix_day + UNIX_EPOCH_DAY, local.rem_euclid(NANOS_PER_DAY))
}

/// Local nanoseconds from the Unix epoch at the start of day number `day`.
fn day_start(day: i64) -> i128 {
    i128::from(day - UNIX_EPOCH_DAY) * NANOS_PER_DAY
}

/// The date of a day number, if chrono can hold it.
fn date_of(day: i64) -> Option<NaiveDate> {
    i32::try_from(day).ok().and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// Days from Monday of a day number (day 1, 0001-01-01, was a Monday).
fn weekday_index(day: i64) -> usize {
    (day - 1).rem_euclid(7) as usize
}

/// The dates of day numbers `[from, to)` that chrono can hold, as an inclusive range for `BTreeSet::range`.
fn date_span(from: i64, to: i64) -> Option<RangeInclusive<NaiveDate>> {
    let lo = from.max(i64::from(NaiveDate::MIN.num_days_from_ce()));
    let hi = (to - 1).min(i64::from(NaiveDate::MAX.num_days_from_ce()));
    (lo <= hi).then_some(date_of(lo)?..=date_of(hi)?)
}

/// Holiday text → each date with its mark (`true` = 休), or the first bad line.
fn parse_holiday_lines(text: &str) -> Result<BTreeMap<NaiveDate, bool>, CalendarError> {
    let mut marks: BTreeMap<NaiveDate, (bool, usize)> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let bad = |reason: String| CalendarError::Line { line: i + 1, text: raw.trim().to_string(), reason };
        let (dates, mark) = match content.rsplit_once(char::is_whitespace) {
            Some((dates, mark)) => (dates.trim(), mark),
            None if content.ends_with(['休', '班']) => content.split_at(content.len() - '休'.len_utf8()),
            None => return Err(bad("expected a date or range followed by 休 or 班".into())),
        };
        let off = match mark.to_ascii_lowercase().as_str() {
            "休" | "off" => true,
            "班" | "work" => false,
            _ => return Err(bad(format!("unknown mark {mark:?}: use 休 (holiday) or 班 (make-up working day)"))),
        };
        let date = |s: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| bad(format!("{:?} is not a date YYYY-MM-DD", s.trim())))
        };
        let (first, last) = match dates.split_once("..") {
            Some((a, b)) => (date(a)?, date(b)?),
            None => (date(dates)?, date(dates)?),
        };
        if last < first {
            return Err(bad(format!("range ends ({last}) before it starts ({first})")));
        }
        if (last - first).num_days() >= MAX_LINE_DAYS {
            return Err(bad(format!("range longer than {MAX_LINE_DAYS} days")));
        }
        for day in first.iter_days().take_while(|d| *d <= last) {
            if let Some(&(was_off, line)) = marks.get(&day) {
                let was = if was_off { "休" } else { "班" };
                return Err(bad(format!("{day} is already marked {was} on line {line}")));
            }
            marks.insert(day, (off, i + 1));
        }
    }
    Ok(marks.into_iter().map(|(d, (off, _))| (d, off)).collect())
}

/// Serde form of a time of day: `"08:30"` (seconds only if present); reads `HH:MM` or `HH:MM:SS`.
mod hh_mm {
    use chrono::{NaiveTime, Timelike};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        let format = if t.second() == 0 && t.nanosecond() == 0 { "%H:%M" } else { "%H:%M:%S" };
        s.collect_str(&t.format(format))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        NaiveTime::parse_from_str(&text, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(&text, "%H:%M:%S"))
            .map_err(|_| D::Error::custom(format!("time {text:?}: expected HH:MM, e.g. \"08:30\"")))
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    /// Beijing local time → UTC instant.
    fn bj(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// Deterministic pseudo-random numbers (xorshift64*), fixed start.
    struct Sequence(u64);

    impl Sequence {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        }
    }

    /// Minute-by-minute reference for minute-aligned `a <= b`.
    fn brute_minutes(cal: &WorkCalendar, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        let mut t = a;
        let mut n = 0;
        while t < b {
            let local = t.with_timezone(&cal.offset());
            let in_period = cal.periods.iter().any(|p| p.start <= local.time() && local.time() < p.end);
            if cal.is_working_day(local.date_naive()) && in_period {
                n += 1;
            }
            t += Duration::minutes(1);
        }
        n
    }

    #[test]
    fn china_calendar_is_valid_and_matches_the_notices() {
        let cal = WorkCalendar::china();
        assert_eq!(cal.validate(), Ok(()));
        assert_eq!(cal.day_minutes(), 450);
        // 2026 National Day: Oct 1–7 off, Thu Oct 8 and make-up Sat Oct 10 working, Sun Oct 11 not.
        assert!(!cal.is_working_day(date(2026, 10, 1)));
        assert!(!cal.is_working_day(date(2026, 10, 7)));
        assert!(cal.is_working_day(date(2026, 10, 8)));
        assert!(cal.is_working_day(date(2026, 10, 10)));
        assert!(!cal.is_working_day(date(2026, 10, 11)));
        assert!(cal.is_working_day(date(2026, 9, 20)), "make-up Sunday");
        assert!(cal.is_working_day(date(2025, 1, 26)), "make-up Sunday before 春节 2025");
        assert!(!cal.is_working_day(date(2025, 10, 8)), "2025 国庆+中秋 runs to Oct 8");
        assert!(!cal.is_working_day(date(2025, 6, 2)), "端午 2025 crosses into June");
        assert!(cal.is_working_day(date(2027, 1, 4)), "later years: weekends only");
        // Both years: 261 weekdays − 13 statutory holiday weekdays = 248 working days.
        for year in [2025, 2026] {
            let minutes = cal.working_minutes_between(bj(year, 1, 1, 0, 0), bj(year + 1, 1, 1, 0, 0));
            assert_eq!(minutes, 248 * 450, "{year}");
        }
    }

    #[test]
    fn one_working_day_across_national_day_2026() {
        let cal = WorkCalendar::china();
        // Wed Sep 30 15:00: 150 min left that day; Oct 1–7 off; Thu Oct 8: 210 + 90 → 15:00.
        let start = bj(2026, 9, 30, 15, 0);
        let deadline = cal.add(start, WorkDuration::WorkingDays(1));
        assert_eq!(deadline, bj(2026, 10, 8, 15, 0));
        assert_eq!(cal.working_minutes_between(start, deadline), 450);
        // Three working days: Thu Oct 8, Fri Oct 9, make-up Sat Oct 10.
        assert_eq!(cal.add(start, WorkDuration::WorkingDays(3)), bj(2026, 10, 10, 15, 0));
        assert_eq!(cal.add(start, WorkDuration::WorkingDays(4)), bj(2026, 10, 12, 15, 0));
        // Natural time ignores the calendar.
        assert_eq!(cal.add(start, WorkDuration::Minutes(24 * 60)), bj(2026, 10, 1, 15, 0));
    }

    #[test]
    fn twenty_working_days_across_spring_festival() {
        let cal = WorkCalendar::china();
        // Feb 11–13, make-up Sat 14, [15–23 off], 24–27, make-up Sat 28, Mar 2–6, 9–13, 16 = 20 days.
        let start = bj(2026, 2, 10, 9, 0);
        assert_eq!(cal.add(start, WorkDuration::WorkingDays(20)), bj(2026, 3, 16, 9, 0));
        let began = std::time::Instant::now();
        for i in 0..10_000 {
            let s = start + Duration::minutes(i);
            let d = cal.add(s, WorkDuration::WorkingDays(20));
            assert_eq!(cal.working_minutes_between(s, d), 20 * 450);
        }
        assert!(began.elapsed() < std::time::Duration::from_secs(5), "took {:?}", began.elapsed());
    }

    #[test]
    fn edges_of_working_periods() {
        let cal = WorkCalendar::china();
        // Lunch: counting starts at 13:30.
        assert_eq!(cal.add(bj(2026, 10, 9, 12, 30), WorkDuration::WorkingMinutes(30)), bj(2026, 10, 9, 14, 0));
        assert_eq!(cal.working_minutes_between(bj(2026, 10, 9, 12, 0), bj(2026, 10, 9, 13, 30)), 0);
        // Ending exactly at a period's end returns that end, not the next start.
        assert_eq!(cal.add(bj(2026, 10, 9, 13, 30), WorkDuration::WorkingMinutes(240)), bj(2026, 10, 9, 17, 30));
        assert_eq!(cal.add(bj(2026, 10, 9, 8, 30), WorkDuration::WorkingMinutes(210)), bj(2026, 10, 9, 12, 0));
        assert_eq!(cal.add(bj(2026, 10, 9, 8, 30), WorkDuration::WorkingDays(1)), bj(2026, 10, 9, 17, 30));
        // One minute more goes to the next working day (make-up Saturday Oct 10).
        assert_eq!(cal.add(bj(2026, 10, 9, 13, 30), WorkDuration::WorkingMinutes(241)), bj(2026, 10, 10, 8, 31));
        // Starts before work, after work and on a rest day.
        assert_eq!(cal.add(bj(2026, 10, 9, 6, 0), WorkDuration::WorkingMinutes(1)), bj(2026, 10, 9, 8, 31));
        assert_eq!(cal.add(bj(2026, 10, 9, 17, 30), WorkDuration::WorkingMinutes(1)), bj(2026, 10, 10, 8, 31));
        assert_eq!(cal.add(bj(2026, 10, 11, 10, 0), WorkDuration::WorkingMinutes(60)), bj(2026, 10, 12, 9, 30));
        // A zero limit is the start itself.
        let s = bj(2026, 10, 11, 10, 0);
        assert_eq!(cal.add(s, WorkDuration::WorkingMinutes(0)), s);
        assert_eq!(cal.add(s, WorkDuration::WorkingDays(0)), s);
    }

    #[test]
    fn overdue_and_remaining() {
        let cal = WorkCalendar::china();
        let deadline = bj(2026, 9, 30, 17, 30);
        assert_eq!(cal.remaining(deadline, bj(2026, 9, 30, 16, 0)), 90);
        assert!(!cal.overdue(deadline, deadline));
        assert!(cal.overdue(deadline, bj(2026, 10, 3, 10, 0)));
        assert_eq!(cal.remaining(deadline, bj(2026, 10, 3, 10, 0)), 0, "overdue, but no working time has passed");
        assert_eq!(cal.remaining(deadline, bj(2026, 10, 8, 9, 0)), -30);
        assert_eq!(cal.working_minutes_between(bj(2026, 10, 8, 9, 0), deadline), -30);
        // Whole minutes are counted towards zero.
        let half = bj(2026, 10, 8, 9, 0) + Duration::seconds(90);
        assert_eq!(cal.working_minutes_between(bj(2026, 10, 8, 9, 0), half), 1);
        assert_eq!(cal.working_minutes_between(half, bj(2026, 10, 8, 9, 0)), -1);
    }

    #[test]
    fn add_and_between_are_inverse() {
        let cal = WorkCalendar::china();
        let base = bj(2024, 12, 1, 0, 0);
        let mut seq = Sequence(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2_000 {
            let start = base
                + Duration::minutes(seq.below(2 * 366 * 1440) as i64)
                + Duration::nanoseconds(seq.below(60_000_000_000) as i64);
            let d = match seq.below(3) {
                0 => WorkDuration::WorkingMinutes(1 + seq.below(3_000) as u32),
                1 => WorkDuration::WorkingDays(1 + seq.below(30) as u32),
                _ => WorkDuration::WorkingMinutes(1 + seq.below(60) as u32),
            };
            let n = match d {
                WorkDuration::WorkingDays(days) => i64::from(days) * 450,
                WorkDuration::WorkingMinutes(m) => i64::from(m),
                WorkDuration::Minutes(_) => unreachable!(),
            };
            let end = cal.add(start, d);
            assert_eq!(cal.working_minutes_between(start, end), n, "{start} + {d}");
            assert_eq!(cal.working_minutes_between(end, start), -n, "{start} + {d}");
            // The earliest such instant: a nanosecond earlier, the n-th minute is not complete.
            assert_eq!(cal.working_minutes_between(start, end - Duration::nanoseconds(1)), n - 1, "{start} + {d}");
        }
    }

    #[test]
    fn between_matches_minute_by_minute_count() {
        let cal = WorkCalendar::china();
        let base = bj(2026, 1, 1, 0, 0);
        let mut seq = Sequence(0x0123_4567_89ab_cdef);
        for _ in 0..40 {
            let a = base + Duration::minutes(seq.below(366 * 1440) as i64);
            let b = a + Duration::minutes(seq.below(12 * 1440) as i64);
            assert_eq!(cal.working_minutes_between(a, b), brute_minutes(&cal, a, b), "{a} .. {b}");
        }
    }

    #[test]
    fn never_reached_and_far_ahead() {
        let mut cal = WorkCalendar::china();
        let start = bj(2026, 10, 9, 9, 0);
        // 100000 working days (about 400 years) is still a computed instant, found at once.
        let far = cal.add(start, WorkDuration::WorkingDays(100_000));
        assert!(far > bj(2400, 1, 1, 0, 0) && far < DateTime::<Utc>::MAX_UTC);
        assert_eq!(cal.working_minutes_between(start, far), 100_000 * 450);
        // Every day a rest day: only the make-up days remain, and after them the deadline is never reached.
        use Weekday::*;
        cal.weekend = vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun];
        assert_eq!(cal.validate(), Err(CalendarError::NoWorkingWeekday));
        assert_eq!(cal.add(start, WorkDuration::WorkingMinutes(1)), bj(2026, 10, 10, 8, 31));
        assert_eq!(cal.add(start, WorkDuration::WorkingDays(1)), bj(2026, 10, 10, 17, 30));
        assert_eq!(cal.add(start, WorkDuration::WorkingDays(2)), DateTime::<Utc>::MAX_UTC);
        assert_eq!(cal.add(bj(2027, 1, 1, 0, 0), WorkDuration::WorkingMinutes(1)), DateTime::<Utc>::MAX_UTC);
        cal.periods.clear();
        assert_eq!(cal.add(start, WorkDuration::WorkingDays(1)), DateTime::<Utc>::MAX_UTC);
        assert_eq!(cal.working_minutes_between(start, far), 0);
    }

    #[test]
    fn validation_names_the_problem() {
        let ok = WorkCalendar::china();
        let with = |f: &dyn Fn(&mut WorkCalendar)| {
            let mut cal = ok.clone();
            f(&mut cal);
            cal.validate()
        };
        assert_eq!(with(&|c| c.utc_offset_minutes = 15 * 60), Err(CalendarError::Offset { minutes: 900 }));
        assert_eq!(with(&|c| c.utc_offset_minutes = -14 * 60), Ok(()));
        assert_eq!(with(&|c| c.periods.clear()), Err(CalendarError::NoPeriods));
        assert_eq!(
            with(&|c| c.periods[1].end = hm(13, 30)),
            Err(CalendarError::EmptyPeriod { index: 1, start: hm(13, 30), end: hm(13, 30) })
        );
        assert_eq!(
            with(&|c| c.periods.swap(0, 1)),
            Err(CalendarError::Overlap { index: 1, start: hm(8, 30), previous_end: hm(17, 30) })
        );
        assert_eq!(
            with(&|c| c.periods[1].start = hm(11, 0)),
            Err(CalendarError::Overlap { index: 1, start: hm(11, 0), previous_end: hm(12, 0) })
        );
        assert_eq!(with(&|c| c.periods[1].start = hm(12, 0)), Ok(()), "touching periods are fine");
        let odd = NaiveTime::from_hms_opt(12, 0, 30).unwrap();
        assert_eq!(
            with(&|c| c.periods[0].end = odd),
            Err(CalendarError::NotWholeMinutes { index: 0, start: hm(8, 30), end: odd })
        );
        assert_eq!(
            with(&|c| {
                c.workdays.insert(date(2026, 10, 2));
            }),
            Err(CalendarError::HolidayAndWorkday { date: date(2026, 10, 2) })
        );
        let message = with(&|c| c.periods.swap(0, 1)).unwrap_err().to_string();
        assert_eq!(message, "period 1 starts at 08:30:00, before period 0 ends at 17:30:00");
    }

    #[test]
    fn json_is_readable_and_round_trips() {
        let cal = WorkCalendar::china();
        let json = serde_json::to_value(&cal).unwrap();
        assert_eq!(json["periods"][0], serde_json::json!({"start": "08:30", "end": "12:00"}));
        assert_eq!(json["weekend"], serde_json::json!(["Sat", "Sun"]));
        assert_eq!(json["holidays"][0], "2025-01-01");
        assert_eq!(json["utc_offset_minutes"], 480);
        let back: WorkCalendar = serde_json::from_value(json).unwrap();
        assert_eq!(back, cal);
        let edited: WorkCalendar = serde_json::from_str(
            r#"{"utc_offset_minutes":480,"periods":[{"start":"09:00:00","end":"17:00"}],
                "weekend":["Saturday","sun"],"holidays":["2026-10-01"],"workdays":[]}"#,
        )
        .unwrap();
        assert_eq!(edited.day_minutes(), 480);
        assert_eq!(edited.weekend, vec![Weekday::Sat, Weekday::Sun]);
        let bad = serde_json::from_str::<WorkCalendar>(
            r#"{"utc_offset_minutes":480,"periods":[{"start":"9h","end":"17:00"}],
                "weekend":[],"holidays":[],"workdays":[]}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("expected HH:MM"));
    }

    #[test]
    fn holiday_lines_round_trip_and_report_bad_lines() {
        let cal = WorkCalendar::china();
        let text = cal.holiday_lines();
        assert!(text.contains("\n2026-10-01..2026-10-07 休\n"), "{text}");
        assert!(text.contains("\n2026-10-10 班\n"), "{text}");
        assert!(text.contains("\n2025-01-01 休\n2025-01-26 班\n2025-01-28..2025-02-04 休\n"), "{text}");
        let mut back = WorkCalendar::china();
        back.holidays.clear();
        back.workdays.clear();
        back.replace_holiday_lines(&text).unwrap();
        assert_eq!(back, cal);

        // A deployment adds 2027 and a local holiday, moving one date from 休 to 班.
        let mut edited = cal.clone();
        edited
            .apply_holiday_lines(
                "# 2027\n\n2027-01-01..2027-01-03 off  # 元旦\n2026-10-07 班\n2027-02-06 work\n2027-02-07班\n",
            )
            .unwrap();
        assert!(!edited.is_working_day(date(2027, 1, 1)));
        assert!(edited.is_working_day(date(2026, 10, 7)) && !edited.holidays.contains(&date(2026, 10, 7)));
        assert!(edited.is_working_day(date(2027, 2, 6)) && edited.is_working_day(date(2027, 2, 7)));
        assert_eq!(edited.validate(), Ok(()));

        let line_error = |text: &str| match cal.clone().apply_holiday_lines(text) {
            Err(CalendarError::Line { line, reason, .. }) => (line, reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(line_error("2026-10-01 休\n\n2026-13-01 休").0, 3);
        assert!(line_error("2026-13-01 休").1.contains("\"2026-13-01\" is not a date"));
        assert!(line_error("2026-10-01 放").1.contains("unknown mark"));
        assert!(line_error("2026-10-01").1.contains("followed by 休 or 班"));
        assert!(line_error("2026-10-07..2026-10-01 休").1.contains("before it starts"));
        assert!(line_error("2026-01-01..2036-01-01 休").1.contains("longer than"));
        assert_eq!(
            line_error("2026-10-01..2026-10-07 休\n# x\n2026-10-05 班"),
            (3, "2026-10-05 is already marked 休 on line 1".to_string())
        );
        // Nothing is applied when a line is bad.
        let mut unchanged = cal.clone();
        assert!(unchanged.apply_holiday_lines("2027-01-01 休\nnonsense").is_err());
        assert_eq!(unchanged, cal);
    }

    #[test]
    fn day_numbers_agree_with_chrono() {
        assert_eq!(i64::from(date(1970, 1, 1).num_days_from_ce()), UNIX_EPOCH_DAY);
        for d in [date(1, 1, 1), date(2026, 10, 10), date(-5, 3, 1), date(1970, 1, 1)] {
            let n = i64::from(d.num_days_from_ce());
            assert_eq!(weekday_index(n), d.weekday().num_days_from_monday() as usize, "{d}");
            assert_eq!(date_of(n), Some(d));
        }
        let cal = WorkCalendar::china();
        let (day, tod) = split(cal.to_local(bj(2026, 10, 10, 8, 30)));
        assert_eq!(date_of(day), Some(date(2026, 10, 10)));
        assert_eq!(tod, (8 * 60 + 30) * NANOS_PER_MIN);
    }

    #[test]
    fn working_time_starts_and_stops_at_the_periods() {
        let cal = WorkCalendar::china();
        // Wed 2026-03-04: 08:30–12:00 and 13:30–17:30.
        assert!(!cal.is_working_time(bj(2026, 3, 4, 8, 29)));
        assert!(cal.is_working_time(bj(2026, 3, 4, 8, 30)));
        assert!(!cal.is_working_time(bj(2026, 3, 4, 12, 0)), "a period's end is no longer working time");
        assert!(!cal.is_working_time(bj(2026, 3, 7, 10, 0)), "Saturday");
        // Inside a period: the instant itself; lunch: 13:30; evening: the next morning.
        assert_eq!(cal.next_working_start(bj(2026, 3, 4, 10, 0)), bj(2026, 3, 4, 10, 0));
        assert_eq!(cal.next_working_start(bj(2026, 3, 4, 12, 10)), bj(2026, 3, 4, 13, 30));
        assert_eq!(cal.next_working_start(bj(2026, 3, 4, 20, 0)), bj(2026, 3, 5, 8, 30));
        assert_eq!(cal.next_working_start(bj(2026, 3, 4, 7, 0)), bj(2026, 3, 4, 8, 30));
        // Friday evening → Monday; the eve of National Day → Thu Oct 8.
        assert_eq!(cal.next_working_start(bj(2026, 3, 6, 18, 0)), bj(2026, 3, 9, 8, 30));
        assert_eq!(cal.next_working_start(bj(2026, 9, 30, 18, 0)), bj(2026, 10, 8, 8, 30));
        // Changes: the end of the current period, else the next start.
        assert_eq!(cal.next_change(bj(2026, 3, 4, 10, 0)), bj(2026, 3, 4, 12, 0));
        assert_eq!(cal.next_change(bj(2026, 3, 4, 12, 0)), bj(2026, 3, 4, 13, 30));
        assert_eq!(cal.next_change(bj(2026, 3, 4, 17, 29)), bj(2026, 3, 4, 17, 30));
        assert_eq!(cal.next_change(bj(2026, 3, 4, 17, 30)), bj(2026, 3, 5, 8, 30));
    }
}

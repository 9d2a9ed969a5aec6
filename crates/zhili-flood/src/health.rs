//! Station health (测站运行状态): whether a station is heard from, and what is wrong with it —
//! so the map colours it, the duty officer sees which stations a warning cannot rely on, and
//! maintenance knows where to go.
//!
//! [`station_health`] is a pure judgement at a given `now`:
//! - **Liveness** counts missed reports since the station was last heard, by data or by
//!   keep-alive (链路维持报): a report is missed each [`HealthConfig::expected_interval_minutes`]
//!   after the last one plus [`HealthConfig::grace_minutes`]. None missed: online; at least one:
//!   late; [`HealthConfig::missed_reports_offline`] (default 3) or more, or never heard: offline.
//! - **Keep-alives are liveness, not data**: a station that only keeps its link up is online,
//!   with the problem [`Problem::ReportsMissed`] counted from its last data report
//!   ([`Problem::NoReportYet`] when it never sent one).
//! - **Problems**: supply voltage (VT) below the threshold, the ZT alarm bits named in
//!   [`StatusAlarm`], suspicious values the engine kept out, and times later than `now`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Health settings of a station class or deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// How often the station reports, minutes (default 60: hourly timed reports, 小时报).
    pub expected_interval_minutes: u32,
    /// Offline after this many missed reports (default 3).
    pub missed_reports_offline: u32,
    /// Slack before a report counts as missed, minutes (default 2: transmission and clocks).
    pub grace_minutes: u32,
    /// Supply voltage below this is low, V (default 11.0, a 12 V battery).
    pub low_voltage_v: f64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self { expected_interval_minutes: 60, missed_reports_offline: 3, grace_minutes: 2, low_voltage_v: 11.0 }
    }
}

/// Why a [`HealthConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HealthConfigError {
    #[error("expected_interval_minutes must be 1–10080 (a week), got {0}")]
    Interval(u32),
    #[error("missed_reports_offline must be at least 1, got {0}")]
    Offline(u32),
    #[error("grace_minutes must be below expected_interval_minutes ({interval}), got {grace}")]
    Grace { grace: u32, interval: u32 },
    #[error("low_voltage_v must be a number of volts ≥ 0, got {0}")]
    Voltage(f64),
}

impl HealthConfig {
    pub fn validate(&self) -> Result<(), HealthConfigError> {
        let interval = self.expected_interval_minutes;
        if !(1..=10080).contains(&interval) {
            return Err(HealthConfigError::Interval(interval));
        }
        if self.missed_reports_offline == 0 {
            return Err(HealthConfigError::Offline(0));
        }
        if self.grace_minutes >= interval {
            return Err(HealthConfigError::Grace { grace: self.grace_minutes, interval });
        }
        if !(self.low_voltage_v.is_finite() && self.low_voltage_v >= 0.0) {
            return Err(HealthConfigError::Voltage(self.low_voltage_v));
        }
        Ok(())
    }
}

/// A ZT status bit that means trouble (SL 651-2014 遥测站状态及报警信息, bit set = alarm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusAlarm {
    /// Bit 0, 交流电停电: mains power is out.
    AcOutage,
    /// Bit 1, 蓄电池电压低: the battery is low.
    BatteryLow,
    /// Bit 2, 水位超限报警: the level is over its limit.
    LevelOverLimit,
    /// Bit 3, 流量超限报警: the flow alarm.
    FlowAlarm,
    /// Bit 6, 水位仪表故障: the level meter is faulty.
    LevelMeterFault,
    /// Bit 7, 终端箱门开: the cabinet door is open.
    CabinetDoor,
}

impl StatusAlarm {
    pub const ALL: [StatusAlarm; 6] = [
        StatusAlarm::AcOutage,
        StatusAlarm::BatteryLow,
        StatusAlarm::LevelOverLimit,
        StatusAlarm::FlowAlarm,
        StatusAlarm::LevelMeterFault,
        StatusAlarm::CabinetDoor,
    ];

    /// The bit's position in ZT.
    pub fn bit(self) -> u32 {
        match self {
            StatusAlarm::AcOutage => 0,
            StatusAlarm::BatteryLow => 1,
            StatusAlarm::LevelOverLimit => 2,
            StatusAlarm::FlowAlarm => 3,
            StatusAlarm::LevelMeterFault => 6,
            StatusAlarm::CabinetDoor => 7,
        }
    }

    /// The named alarms set in a ZT value, in bit order; other bits are not alarms here.
    pub fn from_bits(bits: u32) -> Vec<StatusAlarm> {
        Self::ALL.into_iter().filter(|a| bits & (1 << a.bit()) != 0).collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusAlarm::AcOutage => "ac_outage",
            StatusAlarm::BatteryLow => "battery_low",
            StatusAlarm::LevelOverLimit => "level_over_limit",
            StatusAlarm::FlowAlarm => "flow_alarm",
            StatusAlarm::LevelMeterFault => "level_meter_fault",
            StatusAlarm::CabinetDoor => "cabinet_door",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            StatusAlarm::AcOutage => "交流电停电",
            StatusAlarm::BatteryLow => "蓄电池电压低",
            StatusAlarm::LevelOverLimit => "水位超限",
            StatusAlarm::FlowAlarm => "流量超限",
            StatusAlarm::LevelMeterFault => "水位仪表故障",
            StatusAlarm::CabinetDoor => "箱门开",
        }
    }
}

/// What is known of a station when its health is judged.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct HealthInput {
    /// The last data report (any report with values).
    pub last_report: Option<DateTime<Utc>>,
    /// The last keep-alive (链路维持报).
    pub last_keepalive: Option<DateTime<Utc>>,
    /// The latest supply voltage (VT), V.
    pub voltage_v: Option<f64>,
    /// The latest ZT status bits.
    pub status_bits: Option<u32>,
    /// Suspicious values kept out recently (from the rain and level engines).
    pub suspicious_values: u32,
}

/// Whether a station is heard from (在线 / 迟报 / 离线).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liveness {
    Online,
    Late,
    Offline,
}

impl Liveness {
    pub fn as_str(self) -> &'static str {
        match self {
            Liveness::Online => "online",
            Liveness::Late => "late",
            Liveness::Offline => "offline",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Liveness::Online => "在线",
            Liveness::Late => "迟报",
            Liveness::Offline => "离线",
        }
    }
}

/// One thing wrong with a station.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "problem")]
pub enum Problem {
    /// Neither a report nor a keep-alive was ever received.
    NeverHeard,
    /// Heard only by keep-alives: no data report yet.
    NoReportYet,
    /// `missed` data reports since `last_report` (keep-alives do not count).
    ReportsMissed { last_report: DateTime<Utc>, missed: u32 },
    /// Supply voltage `volts` below `threshold`.
    LowVoltage { volts: f64, threshold: f64 },
    /// The voltage value is not a number.
    VoltageUnreadable { value: f64 },
    /// A ZT alarm bit is set.
    Alarm { alarm: StatusAlarm },
    /// The engines kept `count` suspicious values out.
    SuspiciousValues { count: u32 },
    /// The station was last heard at `last_seen`, after `now`: its clock or ours is wrong.
    AheadOfClock { last_seen: DateTime<Utc> },
}

/// A station's health at a time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationHealth {
    pub liveness: Liveness,
    /// The later of the last report and the last keep-alive.
    pub last_seen: Option<DateTime<Utc>>,
    /// Reports missed since the station was last heard.
    pub missed_reports: u32,
    /// Problems, most basic first (hearing, data, power, alarms, values).
    pub problems: Vec<Problem>,
}

impl StationHealth {
    /// Online and without problems.
    pub fn healthy(&self) -> bool {
        self.liveness == Liveness::Online && self.problems.is_empty()
    }
}

/// Judge a station's health at `now`. See the module documentation.
pub fn station_health(
    input: &HealthInput,
    config: &HealthConfig,
    now: DateTime<Utc>,
) -> Result<StationHealth, HealthConfigError> {
    config.validate()?;
    let mut problems = Vec::new();
    let last_seen = input.last_report.max(input.last_keepalive);
    let missed_since = |t: DateTime<Utc>| -> u32 {
        let late = (now - t).num_seconds() - i64::from(config.grace_minutes) * 60;
        let interval = i64::from(config.expected_interval_minutes) * 60;
        u32::try_from(late.max(0) / interval).unwrap_or(u32::MAX)
    };
    let (liveness, missed_reports) = match last_seen {
        None => {
            problems.push(Problem::NeverHeard);
            (Liveness::Offline, 0)
        }
        Some(seen) => {
            let missed = missed_since(seen);
            let liveness = if missed >= config.missed_reports_offline {
                Liveness::Offline
            } else if missed >= 1 {
                Liveness::Late
            } else {
                Liveness::Online
            };
            (liveness, missed)
        }
    };
    match input.last_report {
        Some(r) => {
            let missed = missed_since(r);
            if missed >= 1 {
                problems.push(Problem::ReportsMissed { last_report: r, missed });
            }
        }
        None if last_seen.is_some() => problems.push(Problem::NoReportYet),
        None => {}
    }
    match input.voltage_v {
        Some(v) if !v.is_finite() => problems.push(Problem::VoltageUnreadable { value: v }),
        Some(v) if v < config.low_voltage_v => {
            problems.push(Problem::LowVoltage { volts: v, threshold: config.low_voltage_v })
        }
        _ => {}
    }
    if let Some(bits) = input.status_bits {
        problems.extend(StatusAlarm::from_bits(bits).into_iter().map(|alarm| Problem::Alarm { alarm }));
    }
    if input.suspicious_values > 0 {
        problems.push(Problem::SuspiciousValues { count: input.suspicious_values });
    }
    if let Some(seen) = last_seen.filter(|s| *s > now) {
        problems.push(Problem::AheadOfClock { last_seen: seen });
    }
    Ok(StationHealth { liveness, last_seen, missed_reports, problems })
}

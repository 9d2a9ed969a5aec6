//! The shared terms of the flood module: every other part of the crate speaks these.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A station's code (测站编码): SL 323 `STCD`, 8–10 characters for hydrological stations; here
/// 1–16 ASCII letters and digits, upper-cased. For SL 651 stations it is the 10 hex digits of
/// the 5-byte station address unless the deployment gives another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StationCode(String);

/// Why a text is not a [`StationCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StationCodeError {
    #[error("a station code is 1–16 characters, got {0}")]
    Length(usize),
    #[error("a station code has only letters A–Z and digits, got {0:?} at character {1}")]
    Character(char, usize),
}

impl StationCode {
    pub fn parse(s: &str) -> Result<Self, StationCodeError> {
        let n = s.chars().count();
        if n == 0 || n > 16 {
            return Err(StationCodeError::Length(n));
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_alphanumeric()) {
            return Err(StationCodeError::Character(c, i + 1));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    /// The code of an SL 651 station address: its five bytes as ten upper-case hex digits.
    pub fn from_sl651_address(address: [u8; 5]) -> Self {
        Self(address.iter().map(|b| format!("{b:02X}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for StationCode {
    type Error = StationCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<StationCode> for String {
    fn from(c: StationCode) -> Self {
        c.0
    }
}

/// The warning scheme a deployment runs (预警等级方案).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Two levels, SL 666 / the national flash-flood programme: 准备转移, 立即转移.
    TwoLevel,
    /// Four colours, SL 758-2018: 蓝 / 黄 / 橙 / 红.
    FourColour,
}

/// A warning grade (预警等级) of either scheme. Grades of one scheme are ordered by
/// [`Grade::rank`]; a grade never mixes with the other scheme's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 准备转移: prepare to evacuate.
    Prepare,
    /// 立即转移: evacuate now.
    Immediate,
    /// 蓝色预警.
    Blue,
    /// 黄色预警.
    Yellow,
    /// 橙色预警.
    Orange,
    /// 红色预警.
    Red,
}

impl Grade {
    pub const TWO_LEVEL: [Grade; 2] = [Grade::Prepare, Grade::Immediate];
    pub const FOUR_COLOUR: [Grade; 4] = [Grade::Blue, Grade::Yellow, Grade::Orange, Grade::Red];

    pub fn scheme(self) -> Scheme {
        match self {
            Grade::Prepare | Grade::Immediate => Scheme::TwoLevel,
            _ => Scheme::FourColour,
        }
    }

    /// 1 for the lowest grade of its scheme, counting up.
    pub fn rank(self) -> u8 {
        match self {
            Grade::Prepare | Grade::Blue => 1,
            Grade::Immediate | Grade::Yellow => 2,
            Grade::Orange => 3,
            Grade::Red => 4,
        }
    }

    /// Whether people must leave now (CAP responseType `Evacuate`); otherwise they prepare
    /// (`Prepare`). Four colours: orange and red evacuate.
    pub fn evacuate(self) -> bool {
        matches!(self, Grade::Immediate | Grade::Orange | Grade::Red)
    }

    /// The stable name in APIs and files (`prepare`, `immediate`, `blue`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Prepare => "prepare",
            Grade::Immediate => "immediate",
            Grade::Blue => "blue",
            Grade::Yellow => "yellow",
            Grade::Orange => "orange",
            Grade::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Grade::Prepare, Grade::Immediate, Grade::Blue, Grade::Yellow, Grade::Orange, Grade::Red]
            .into_iter()
            .find(|g| g.as_str() == s)
    }

    /// The Chinese name users read (准备转移, 立即转移, 蓝色预警 …).
    pub fn zh(self) -> &'static str {
        match self {
            Grade::Prepare => "准备转移",
            Grade::Immediate => "立即转移",
            Grade::Blue => "蓝色预警",
            Grade::Yellow => "黄色预警",
            Grade::Orange => "橙色预警",
            Grade::Red => "红色预警",
        }
    }

    /// The grades of a scheme, lowest first.
    pub fn of(scheme: Scheme) -> &'static [Grade] {
        match scheme {
            Scheme::TwoLevel => &Self::TWO_LEVEL,
            Scheme::FourColour => &Self::FOUR_COLOUR,
        }
    }
}

/// Antecedent soil state (前期土壤含水量状态) that selects a village's rainfall thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoilState {
    /// 较干.
    Dry,
    /// 一般.
    Normal,
    /// 较湿.
    Wet,
}

impl SoilState {
    pub const ALL: [SoilState; 3] = [SoilState::Dry, SoilState::Normal, SoilState::Wet];

    pub fn as_str(self) -> &'static str {
        match self {
            SoilState::Dry => "dry",
            SoilState::Normal => "normal",
            SoilState::Wet => "wet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            SoilState::Dry => "较干",
            SoilState::Normal => "一般",
            SoilState::Wet => "较湿",
        }
    }
}

/// A rainfall accumulation window (累计时段) in minutes: 60, 180, 360, 720, 1440 as the
/// standard ones, 10 or 30 where a county adds them; any 5–4320 minutes that is a whole
/// number of 5-minute steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Window(u32);

impl Window {
    pub const H1: Window = Window(60);
    pub const H3: Window = Window(180);
    pub const H6: Window = Window(360);
    pub const H12: Window = Window(720);
    pub const H24: Window = Window(1440);
    /// The five windows every village has.
    pub const STANDARD: [Window; 5] = [Self::H1, Self::H3, Self::H6, Self::H12, Self::H24];
    /// The engine's resolution: rainfall is kept as 5-minute increments.
    pub const STEP_MINUTES: u32 = 5;
    pub const MAX_MINUTES: u32 = 4320;

    pub fn minutes(minutes: u32) -> Result<Self, String> {
        if !(Self::STEP_MINUTES..=Self::MAX_MINUTES).contains(&minutes) || !minutes.is_multiple_of(Self::STEP_MINUTES) {
            return Err(format!("a window is 5–{} minutes in steps of 5, got {minutes}", Self::MAX_MINUTES));
        }
        Ok(Window(minutes))
    }

    pub fn as_minutes(self) -> u32 {
        self.0
    }

    /// `1h`, `3h`, `30min`: how files and APIs name it.
    pub fn label(self) -> String {
        if self.0.is_multiple_of(60) {
            format!("{}h", self.0 / 60)
        } else {
            format!("{}min", self.0)
        }
    }

    /// Parse `1h`, `24h`, `30min`, `10m` or a bare number of minutes.
    pub fn parse_label(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        let minutes = if let Some(h) = t.strip_suffix('h') {
            h.trim().parse::<u32>().ok().and_then(|h| h.checked_mul(60))
        } else if let Some(m) = t.strip_suffix("min").or_else(|| t.strip_suffix('m')) {
            m.trim().parse::<u32>().ok()
        } else {
            t.parse::<u32>().ok()
        };
        match minutes {
            Some(m) => Self::minutes(m),
            None => Err(format!("a window is written like 1h, 24h or 30min, got {s:?}")),
        }
    }
}

impl TryFrom<u32> for Window {
    type Error = String;
    fn try_from(m: u32) -> Result<Self, String> {
        Self::minutes(m)
    }
}

impl From<Window> for u32 {
    fn from(w: Window) -> u32 {
        w.0
    }
}

/// What a station observed, as the engine and the store know it (the protocol's element
/// identifiers are mapped onto these at ingest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "n")]
pub enum Element {
    /// Rain fallen in the interval ending at the observation time, mm (DRP 5-min values,
    /// PN05/PN10/PN30/P1 where a station only sends those; `interval_minutes` says which).
    RainIncrement { interval_minutes: u16 },
    /// The station's accumulated rain counter (PT, 降水量累计值), mm; increments are its
    /// differences, a drop is a counter reset.
    RainCounter,
    /// River stage or reservoir level (Z, 水位), m.
    Level,
    /// Discharge (Q, 流量), m³/s.
    Discharge,
    /// Supply voltage (VT, 电源电压), V.
    Voltage,
    /// Soil moisture at a depth in cm (M10…M100, 土壤含水量), %.
    SoilMoisture { depth_cm: u16 },
    /// Status and alarm bits (ZT, 遥测站状态及报警信息).
    Status,
}

impl Element {
    /// A short stable name (`rain_5min`, `rain_counter`, `level`, `soil_moisture_20`, …).
    pub fn name(self) -> String {
        match self {
            Element::RainIncrement { interval_minutes } => format!("rain_{interval_minutes}min"),
            Element::RainCounter => "rain_counter".into(),
            Element::Level => "level".into(),
            Element::Discharge => "discharge".into(),
            Element::Voltage => "voltage".into(),
            Element::SoilMoisture { depth_cm } => format!("soil_moisture_{depth_cm}"),
            Element::Status => "status".into(),
        }
    }

    /// The element a stable name names ([`Element::name`]: `rain_5min`, `soil_moisture_20`…);
    /// `None` for any other text, including non-canonical spellings (`rain_05min`) and
    /// intervals or depths out of range (1–1440 minutes, 1–1000 cm).
    pub fn from_name(name: &str) -> Option<Element> {
        let e = match name {
            "rain_counter" => Element::RainCounter,
            "level" => Element::Level,
            "discharge" => Element::Discharge,
            "voltage" => Element::Voltage,
            "status" => Element::Status,
            _ => {
                if let Some(n) = name.strip_prefix("rain_").and_then(|r| r.strip_suffix("min")) {
                    Element::RainIncrement { interval_minutes: n.parse().ok().filter(|n| (1..=1440).contains(n))? }
                } else if let Some(n) = name.strip_prefix("soil_moisture_") {
                    Element::SoilMoisture { depth_cm: n.parse().ok().filter(|n| (1..=1000).contains(n))? }
                } else {
                    return None;
                }
            }
        };
        (e.name() == name).then_some(e)
    }
}

/// The tier of a responsible person (责任人) or of a warning's audience, the chain the internal
/// warning walks: 县 → 乡镇 → 村 → 组.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 县级责任人.
    County,
    /// 乡镇级责任人.
    Township,
    /// 村级责任人.
    Village,
    /// 村民小组 / 监测员 (group leader, local observer).
    Group,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::County, Tier::Township, Tier::Village, Tier::Group];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::County => "county",
            Tier::Township => "township",
            Tier::Village => "village",
            Tier::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            Tier::County => "县级",
            Tier::Township => "乡镇级",
            Tier::Village => "村级",
            Tier::Group => "组级",
        }
    }
}

/// A way a warning reaches people (预警发布渠道). The first three reach a person; the last two
/// reach a village's public (warning facilities, 预警设施).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A notification in the app (站内通知), read on the phone client.
    InApp,
    /// SMS through the deployment's gateway (outgoing webhook).
    Sms,
    /// A voice call through the gateway (语音外呼), where the deployment has one.
    Voice,
    /// The village broadcast system (预警广播, outgoing webhook).
    Broadcast,
    /// Sirens (手摇/电动报警器) driven through the broadcast system.
    Siren,
}

impl Channel {
    pub const ALL: [Channel; 5] = [Channel::InApp, Channel::Sms, Channel::Voice, Channel::Broadcast, Channel::Siren];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
            Channel::Sms => "sms",
            Channel::Voice => "voice",
            Channel::Broadcast => "broadcast",
            Channel::Siren => "siren",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether it reaches the public of a village rather than one person.
    pub fn public(self) -> bool {
        matches!(self, Channel::Broadcast | Channel::Siren)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_codes() {
        assert_eq!(StationCode::parse("41a02305").unwrap().as_str(), "41A02305");
        assert_eq!(StationCode::parse(""), Err(StationCodeError::Length(0)));
        assert_eq!(StationCode::parse("41-02"), Err(StationCodeError::Character('-', 3)));
        assert_eq!(StationCode::from_sl651_address([0x00, 0x11, 0x22, 0x33, 0x44]).as_str(), "0011223344");
    }

    #[test]
    fn grades_order_within_their_scheme() {
        assert!(Grade::Prepare.rank() < Grade::Immediate.rank());
        assert!(Grade::FOUR_COLOUR.windows(2).all(|w| w[0].rank() < w[1].rank()));
        assert!(!Grade::Prepare.evacuate() && Grade::Immediate.evacuate());
        for g in Grade::of(Scheme::FourColour) {
            assert_eq!(Grade::parse(g.as_str()), Some(*g));
            assert_eq!(g.scheme(), Scheme::FourColour);
        }
    }

    #[test]
    fn windows() {
        assert_eq!(Window::parse_label("3h").unwrap(), Window::H3);
        assert_eq!(Window::parse_label("30min").unwrap().as_minutes(), 30);
        assert_eq!(Window::parse_label("10m").unwrap().label(), "10min");
        assert!(Window::parse_label("7min").is_err());
        assert!(Window::parse_label("73h").is_err());
        assert!(Window::parse_label("h").is_err());
        assert_eq!(serde_json::to_string(&Window::H24).unwrap(), "1440");
        assert!(serde_json::from_str::<Window>("3").is_err());
    }
}

//! The flood model (山洪灾害防治对象): small watersheds, stations, villages at risk with their
//! responsible persons, warning facilities, evacuation routes and shelters, control sections on
//! rivers, and the quarantine of stations nobody registered — what the Boshan case has.
//!
//! Records are plain data with public fields; each has a `validate` that lists every problem
//! ([`FieldProblem`]: the field's path, the value and the rule broken), so an import or an
//! edit form can show them all at once. Checks that need other records (a village's
//! representative stations must exist and one must measure rain) take them through a lookup
//! ([`Village::check_stations`], [`ControlSection::check_station`]).
//!
//! Positions are WGS-84 longitude/latitude ([`Position`]); areas are GeoJSON Polygon or
//! MultiPolygon text validated by `zhili-geo` ([`Area`]).

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use zhili_core::codes::{DivisionCode, DivisionLevel};

use crate::indicator::LevelIndicators;
use crate::vocab::{Channel, StationCode, Tier};

/// Longest name (测站名称, 村名, 流域名称 …), in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// Longest free text (duty, route description), in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// Longest reporting interval a station may declare, in minutes (one day).
pub const MAX_REPORT_INTERVAL_MINUTES: u32 = 1440;

// ---------------------------------------------------------------------------------------------
// Problems
// ---------------------------------------------------------------------------------------------

/// One thing wrong with a record: which field (a path such as `persons[1].phone`), the value
/// found there and what the rule is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field} = {value}: {message}")]
pub struct FieldProblem {
    /// The field's path in the record, e.g. `position.lon` or `facilities[0].count`.
    pub field: String,
    /// The value found, as text (`(empty)` for an empty text).
    pub value: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl FieldProblem {
    /// A problem at `field` with `value`.
    pub fn new(field: impl Into<String>, value: impl fmt::Display, message: impl Into<String>) -> FieldProblem {
        let value = value.to_string();
        let value = if value.is_empty() { "(empty)".to_string() } else { value };
        FieldProblem { field: field.into(), value, message: message.into() }
    }
}

/// Collects problems while a record is checked.
#[derive(Default)]
struct Problems(Vec<FieldProblem>);

impl Problems {
    fn push(&mut self, field: impl Into<String>, value: impl fmt::Display, message: impl Into<String>) {
        self.0.push(FieldProblem::new(field, value, message));
    }

    /// A required name: non-empty, at most [`MAX_NAME_CHARS`], no control characters.
    fn name(&mut self, field: &str, text: &str) {
        self.text(field, text, MAX_NAME_CHARS, true);
    }

    fn text(&mut self, field: &str, text: &str, max: usize, required: bool) {
        if text.trim().is_empty() {
            if required {
                self.push(field, text, "is required");
            }
        } else if text.chars().count() > max {
            self.push(field, format!("{} characters", text.chars().count()), format!("at most {max} characters"));
        } else if text.chars().any(char::is_control) {
            self.push(field, text.escape_debug(), "must not hold control characters (line breaks, tabs)");
        }
    }

    fn finish(self) -> Result<(), Vec<FieldProblem>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Codes, positions and areas
// ---------------------------------------------------------------------------------------------

/// Why a text is not a [`WatershedCode`] or [`SectionCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Empty or longer than 24 characters.
    #[error("a {what} is 1–24 characters, got {length}")]
    Length {
        /// Which code.
        what: &'static str,
        /// Characters given.
        length: usize,
    },
    /// A character other than A–Z, a–z, 0–9.
    #[error("a {what} has only letters A–Z and digits, got {found:?} at character {position}")]
    Character {
        /// Which code.
        what: &'static str,
        /// The character.
        found: char,
        /// Its 1-based position.
        position: usize,
    },
}

fn parse_code(what: &'static str, s: &str) -> Result<String, CodeError> {
    let length = s.chars().count();
    if length == 0 || length > 24 {
        return Err(CodeError::Length { what, length });
    }
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_alphanumeric()) {
        return Err(CodeError::Character { what, found: c, position: i + 1 });
    }
    Ok(s.to_ascii_uppercase())
}

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validate (1–24 ASCII letters and digits) and upper-case.
            pub fn parse(s: &str) -> Result<Self, CodeError> {
                parse_code($what, s).map(Self)
            }

            /// The code as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CodeError;
            fn try_from(s: String) -> Result<Self, CodeError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.0
            }
        }
    };
}

code_type!(
    /// A small watershed's code (小流域编码), e.g. the national survey's `WFG3A0000000`:
    /// 1–24 ASCII letters and digits, upper-cased.
    WatershedCode,
    "watershed code"
);
code_type!(
    /// A control section's code (控制断面编码): 1–24 ASCII letters and digits, upper-cased.
    SectionCode,
    "section code"
);

/// A point in WGS-84 (经纬度): longitude −180..180, latitude −90..90, both finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Longitude, degrees east.
    pub lon: f64,
    /// Latitude, degrees north.
    pub lat: f64,
}

impl Position {
    /// A checked position; the error names the coordinate out of range.
    pub fn new(lon: f64, lat: f64) -> Result<Position, FieldProblem> {
        let p = Position { lon, lat };
        let mut problems = Problems::default();
        p.check("", &mut problems);
        match problems.0.into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(p),
        }
    }

    fn check(&self, at: &str, problems: &mut Problems) {
        let at = |f: &str| if at.is_empty() { f.to_string() } else { format!("{at}.{f}") };
        if !(self.lon.is_finite() && (-180.0..=180.0).contains(&self.lon)) {
            problems.push(at("lon"), self.lon, "longitude must be a number from -180 to 180 (WGS-84)");
        }
        if !(self.lat.is_finite() && (-90.0..=90.0).contains(&self.lat)) {
            problems.push(at("lat"), self.lat, "latitude must be a number from -90 to 90 (WGS-84)");
        }
    }
}

/// An area (面): a GeoJSON Polygon or MultiPolygon in WGS-84, valid by OGC Simple Features
/// (closed rings, no self-intersection), kept as the normalised GeoJSON text `zhili-geo` writes.
/// Built only through [`Area::parse`], which names the bad vertex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Area(String);

impl Area {
    /// Parse and validate GeoJSON text (a bare geometry or a Feature).
    pub fn parse(geojson: &str) -> Result<Area, zhili_geo::geometry::GeometryError> {
        let shape = zhili_geo::geometry::parse_area_text(geojson)?;
        Ok(Area(zhili_geo::geometry::area_to_geojson_string(&shape)))
    }

    /// The GeoJSON text.
    pub fn as_geojson(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Area {
    type Error = zhili_geo::geometry::GeometryError;
    fn try_from(s: String) -> Result<Area, Self::Error> {
        Area::parse(&s)
    }
}

impl From<Area> for String {
    fn from(a: Area) -> String {
        a.0
    }
}

/// Why a text is not a [`Phone`] number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a Chinese phone number: {reason}; write a mobile number (13812345678) or a landline with its area code (0533-1234567)")]
pub struct PhoneError {
    /// The text as given.
    pub text: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// The kind of a [`Phone`] number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneKind {
    /// 手机: 11 digits beginning 13–19; reachable by SMS.
    Mobile,
    /// 固定电话: area code and number; voice only.
    Landline,
}

/// A Chinese phone number (联系电话), normalised: a mobile number as its 11 digits
/// (`13812345678`, a leading `+86`/`86` dropped), a landline as area code, `-`, number
/// (`0533-1234567`; area codes 010 and 02x have three digits, all others four; the number has
/// 7 or 8 digits and does not begin with 0 or 1). Spaces, `-` and parentheses are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Read and normalise a number.
    pub fn parse(text: &str) -> Result<Phone, PhoneError> {
        let err = |reason| PhoneError { text: text.to_string(), reason };
        let mut digits = String::new();
        for (i, c) in text.trim().chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '-' | '(' | ')' | '（' | '）' => {}
                _ => return Err(err("it holds a character other than digits, spaces, - and ()")),
            }
        }
        if text.trim().starts_with('+') && !digits.starts_with("86") {
            return Err(err("only Chinese numbers (+86) are accepted"));
        }
        if digits.len() == 13 && digits.starts_with("86") && digits.as_bytes()[2] == b'1' {
            digits.drain(..2);
        }
        if digits.starts_with('1') {
            let second = digits.as_bytes().get(1).copied().unwrap_or(b'0');
            if digits.len() != 11 {
                return Err(err("a mobile number has 11 digits"));
            }
            if !(b'3'..=b'9').contains(&second) {
                return Err(err("a mobile number begins 13–19"));
            }
            return Ok(Phone(digits));
        }
        if !digits.starts_with('0') {
            return Err(err("a landline needs its area code, beginning with 0"));
        }
        let area = if digits.starts_with("01") || digits.starts_with("02") { 3 } else { 4 };
        let number = digits.get(area..).unwrap_or("");
        if !(7..=8).contains(&number.len()) {
            return Err(err("a landline number has 7 or 8 digits after its area code"));
        }
        if number.starts_with(['0', '1']) {
            return Err(err("a landline number does not begin with 0 or 1"));
        }
        Ok(Phone(format!("{}-{number}", &digits[..area])))
    }

    /// Mobile or landline.
    pub fn kind(&self) -> PhoneKind {
        if self.0.starts_with('1') {
            PhoneKind::Mobile
        } else {
            PhoneKind::Landline
        }
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Phone, PhoneError> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

// ---------------------------------------------------------------------------------------------
// Watersheds
// ---------------------------------------------------------------------------------------------

/// A small watershed (小流域), the unit flash-flood analysis works in; watersheds nest
/// (a parent is the larger watershed it drains into).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watershed {
    /// Code (小流域编码).
    pub code: WatershedCode,
    /// Name (小流域名称).
    pub name: String,
    /// The watershed this one lies in, if any.
    pub parent: Option<WatershedCode>,
    /// Area (流域面积), km², more than 0 and at most 100,000.
    pub area_km2: f64,
    /// Boundary (流域边界); may be missing until the GIS data is imported.
    pub boundary: Option<Area>,
}

impl Watershed {
    /// Every problem of this watershed on its own (the parent's existence is the store's check).
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut p = Problems::default();
        p.name("name", &self.name);
        if self.parent.as_ref() == Some(&self.code) {
            p.push("parent", &self.code, "a watershed cannot lie in itself");
        }
        if !(self.area_km2.is_finite() && self.area_km2 > 0.0 && self.area_km2 <= 100_000.0) {
            p.push("area_km2", self.area_km2, "the area is more than 0 and at most 100000 km²");
        }
        p.finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Stations
// ---------------------------------------------------------------------------------------------

/// The kind of a station (测站类型) as the Boshan network counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StationKind {
    /// 自动雨量站: tipping-bucket gauge with telemetry.
    AutomaticRain,
    /// 自动水位站: level gauge with telemetry (often with a rain gauge too).
    AutomaticLevel,
    /// 简易雨量站: simple rain alarm in a village.
    SimpleRain,
    /// 简易水位站: simple level alarm (staff gauge with contacts).
    SimpleLevel,
    /// 视频站 / 图像站: camera.
    Video,
    /// 共享站: a station of another agency (weather, hydrology) whose data is shared.
    Shared,
}

impl StationKind {
    /// Every kind.
    pub const ALL: [StationKind; 6] = [
        StationKind::AutomaticRain,
        StationKind::AutomaticLevel,
        StationKind::SimpleRain,
        StationKind::SimpleLevel,
        StationKind::Video,
        StationKind::Shared,
    ];

    /// The stable name (`automatic_rain`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            StationKind::AutomaticRain => "automatic_rain",
            StationKind::AutomaticLevel => "automatic_level",
            StationKind::SimpleRain => "simple_rain",
            StationKind::SimpleLevel => "simple_level",
            StationKind::Video => "video",
            StationKind::Shared => "shared",
        }
    }

    /// Read the stable name.
    pub fn parse(s: &str) -> Option<StationKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            StationKind::AutomaticRain => "自动雨量站",
            StationKind::AutomaticLevel => "自动水位站",
            StationKind::SimpleRain => "简易雨量站",
            StationKind::SimpleLevel => "简易水位站",
            StationKind::Video => "视频站",
            StationKind::Shared => "共享站",
        }
    }

    /// What a station of this kind measures unless said otherwise.
    pub fn default_measures(self) -> Measures {
        match self {
            StationKind::AutomaticRain | StationKind::SimpleRain => Measures { rain: true, level: false },
            StationKind::AutomaticLevel | StationKind::SimpleLevel => Measures { rain: false, level: true },
            StationKind::Video | StationKind::Shared => Measures { rain: false, level: false },
        }
    }
}

/// What a station measures, which decides what it may stand for: a village's rainfall
/// indicators need a rain station, a control section a level station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Measures {
    /// Rainfall (雨量).
    pub rain: bool,
    /// Water level (水位).
    pub level: bool,
}

/// How a station talks to the platform (通信规约与身份).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "protocol", rename_all = "snake_case")]
pub enum Protocol {
    /// SL 651-2014 over TCP: the centre address it sends to (1–255), its raw 5-byte station
    /// address (the identity on the wire; its BCD/admin-code reading is the deployment's) and
    /// its password.
    Sl651 {
        /// 中心站地址, 1–255.
        centre: u8,
        /// 遥测站地址, the 5 bytes as sent.
        address: [u8; 5],
        /// 密码.
        password: u16,
    },
    /// JSON over HTTP or MQTT, identified by the station code in each message.
    Json,
    /// Sends nothing to the platform (video stations, alarms that only ring in the village);
    /// not watched for liveness.
    NotConnected,
}

/// A station's state of service (运行状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StationStatus {
    /// 正常运行: its data counts and its silence is an alarm.
    InService,
    /// 维护中: data kept but flagged; silence is expected.
    Maintenance,
    /// 已撤销: kept for history only.
    Retired,
}

impl StationStatus {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            StationStatus::InService => "in_service",
            StationStatus::Maintenance => "maintenance",
            StationStatus::Retired => "retired",
        }
    }

    /// Read the stable name.
    pub fn parse(s: &str) -> Option<StationStatus> {
        [StationStatus::InService, StationStatus::Maintenance, StationStatus::Retired]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A station (测站).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Station {
    /// Code (测站编码, SL 323 STCD).
    pub code: StationCode,
    /// Name (测站名称).
    pub name: String,
    /// Kind.
    pub kind: StationKind,
    /// What it measures; at least what its kind implies ([`StationKind::default_measures`]).
    pub measures: Measures,
    /// Where it stands.
    pub position: Position,
    /// The small watershed it lies in.
    pub watershed: Option<WatershedCode>,
    /// The agency that owns and maintains it (建设/管理单位), e.g. 博山区水利局, 博山区气象局.
    pub owner: String,
    /// The township (9 digits) or village (12 digits) it stands in.
    pub division: DivisionCode,
    /// How it reports.
    pub protocol: Protocol,
    /// Minutes between its regular reports (报讯间隔), 1–1440; health counts missed reports.
    pub report_interval_minutes: u32,
    /// When it was installed (建站日期).
    pub installed: Option<NaiveDate>,
    /// State of service.
    pub status: StationStatus,
    /// Level gauge datum (水位基面高程), m, for level stations.
    pub level_datum_m: Option<f64>,
    /// Dike crest (堤顶高程) at the gauge, m, for level stations.
    pub dike_crest_m: Option<f64>,
}

/// Elevations a level may be given in: any datum, within what the Earth has.
fn elevation_ok(m: f64) -> bool {
    m.is_finite() && (-500.0..=9000.0).contains(&m)
}

impl Station {
    /// Every problem of this station on its own.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut p = Problems::default();
        p.name("name", &self.name);
        p.name("owner", &self.owner);
        self.position.check("position", &mut p);
        let implied = self.kind.default_measures();
        if (implied.rain && !self.measures.rain) || (implied.level && !self.measures.level) {
            p.push(
                "measures",
                format!("rain={}, level={}", self.measures.rain, self.measures.level),
                format!("a {} measures {}", self.kind.zh(), if implied.rain { "rain" } else { "level" }),
            );
        }
        if self.kind == StationKind::Video && (self.measures.rain || self.measures.level) {
            p.push(
                "measures",
                format!("rain={}, level={}", self.measures.rain, self.measures.level),
                "a video station measures neither rain nor level",
            );
        }
        if self.kind == StationKind::Shared && !self.measures.rain && !self.measures.level {
            p.push(
                "measures",
                "rain=false, level=false",
                "a shared station is shared for its rain or level data: say which",
            );
        }
        if self.division.level() == DivisionLevel::County {
            p.push(
                "division",
                &self.division,
                "give the township (9 digits) or village (12 digits) the station stands in",
            );
        }
        match self.protocol {
            Protocol::Sl651 { centre: 0, .. } => {
                p.push("protocol.centre", 0, "an SL 651 centre address is 1–255");
            }
            Protocol::NotConnected
                if self.kind != StationKind::Video
                    && self.kind != StationKind::SimpleRain
                    && self.kind != StationKind::SimpleLevel =>
            {
                p.push(
                    "protocol",
                    "not_connected",
                    format!("a {} reports to the platform: give its protocol", self.kind.zh()),
                );
            }
            _ => {}
        }
        if !(1..=MAX_REPORT_INTERVAL_MINUTES).contains(&self.report_interval_minutes) {
            p.push(
                "report_interval_minutes",
                self.report_interval_minutes,
                format!("the reporting interval is 1–{MAX_REPORT_INTERVAL_MINUTES} minutes"),
            );
        }
        for (field, value) in [("level_datum_m", self.level_datum_m), ("dike_crest_m", self.dike_crest_m)] {
            let Some(v) = value else { continue };
            if !self.measures.level {
                p.push(field, v, "only a station that measures level has a datum or dike crest");
            } else if !elevation_ok(v) {
                p.push(field, v, "an elevation is a number from -500 to 9000 m");
            }
        }
        if let (Some(datum), Some(crest)) = (self.level_datum_m, self.dike_crest_m) {
            if crest <= datum {
                p.push("dike_crest_m", crest, format!("the dike crest must be above the gauge datum {datum} m"));
            }
        }
        p.finish()
    }

    /// The SL 651 station address, for an SL 651 station.
    pub fn sl651_address(&self) -> Option<[u8; 5]> {
        match self.protocol {
            Protocol::Sl651 { address, .. } => Some(address),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Villages at risk
// ---------------------------------------------------------------------------------------------

/// A responsible person (防汛责任人) of a village's warning chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsiblePerson {
    /// Name.
    pub name: String,
    /// Tier of the chain (县/乡镇/村/组).
    pub tier: Tier,
    /// Phone.
    pub phone: Phone,
    /// Duty (职务/职责), e.g. 村支部书记, 监测预警员.
    pub duty: String,
    /// The channels to reach this person, first preferred; only personal channels
    /// (in-app, SMS, voice), no repeats, SMS only with a mobile number.
    pub channels: Vec<Channel>,
    /// The platform user, when the person has an account (in-app notifications reach users).
    pub user_id: Option<i64>,
}

/// The kind of a warning facility (预警设施).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// 无线预警广播: a loudspeaker of the broadcast system.
    Broadcast,
    /// 报警器: hand-cranked or electric siren.
    Siren,
    /// 铜锣: gong.
    Gong,
    /// 口哨: whistle.
    Whistle,
}

impl FacilityKind {
    /// Whether the platform can drive it (through the broadcast system); gongs and whistles
    /// are sounded by people.
    pub fn remote(self) -> bool {
        matches!(self, FacilityKind::Broadcast | FacilityKind::Siren)
    }
}

/// Warning facilities of one kind in a village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningFacility {
    /// Kind.
    pub kind: FacilityKind,
    /// How many (at least 1).
    pub count: u32,
    /// The broadcast system's id of the terminal or group that drives them, for broadcast
    /// and electric sirens; none for gongs and whistles.
    pub endpoint: Option<String>,
}

/// An evacuation route (转移路线): the way on the ground and how it is described.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvacuationRoute {
    /// How the route is told (路线说明), e.g. 沿村东路向北至村委会.
    pub text: String,
    /// The way as a line of at least two positions.
    pub line: Vec<Position>,
}

/// A shelter (安置点/避险点).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shelter {
    /// Name.
    pub name: String,
    /// Where.
    pub position: Position,
    /// People it holds (at least 1).
    pub capacity: u32,
}

/// A village at risk (危险区村落 / 防治区村): the unit warnings are raised for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Village {
    /// 12-digit village code (统计用区划代码).
    pub code: DivisionCode,
    /// Name (村名).
    pub name: String,
    /// The danger zone (危险区范围).
    pub danger_zone: Area,
    /// Households in the danger zone (户数).
    pub households: u32,
    /// People in the danger zone (人口), at least as many as households.
    pub population: u32,
    /// Representative stations (代表站), at least one; one must measure rain for rainfall
    /// indicators ([`Village::check_stations`]).
    pub stations: Vec<StationCode>,
    /// The small watershed it lies in.
    pub watershed: Option<WatershedCode>,
    /// Responsible persons, at least one.
    pub persons: Vec<ResponsiblePerson>,
    /// Warning facilities.
    pub facilities: Vec<WarningFacility>,
    /// Evacuation routes.
    pub routes: Vec<EvacuationRoute>,
    /// Shelters.
    pub shelters: Vec<Shelter>,
}

impl Village {
    /// Every problem of this village on its own.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut p = Problems::default();
        if self.code.level() != DivisionLevel::Village {
            p.push("code", &self.code, "a village at risk has a 12-digit village code");
        }
        p.name("name", &self.name);
        if self.population == 0 {
            p.push("population", 0, "a danger zone with no one in it needs no warning: give its population");
        } else if self.households > self.population {
            p.push("households", self.households, format!("more households than people ({})", self.population));
        }
        if self.stations.is_empty() {
            p.push("stations", "[]", "a village needs at least one representative station");
        }
        let mut seen = BTreeSet::new();
        for (i, s) in self.stations.iter().enumerate() {
            if !seen.insert(s) {
                p.push(format!("stations[{i}]"), s, "listed twice");
            }
        }
        if self.persons.is_empty() {
            p.push("persons", "[]", "a village needs at least one responsible person to warn");
        }
        for (i, person) in self.persons.iter().enumerate() {
            let at = |f: &str| format!("persons[{i}].{f}");
            p.name(&at("name"), &person.name);
            p.text(&at("duty"), &person.duty, MAX_NAME_CHARS, false);
            if person.channels.is_empty() {
                p.push(at("channels"), "[]", "give at least one channel to reach the person");
            }
            let mut seen = BTreeSet::new();
            for (j, c) in person.channels.iter().enumerate() {
                let field = format!("persons[{i}].channels[{j}]");
                if c.public() {
                    p.push(field, c.as_str(), "broadcast and siren reach a village, not a person");
                } else if !seen.insert(c) {
                    p.push(field, c.as_str(), "listed twice");
                } else if *c == Channel::Sms && person.phone.kind() != PhoneKind::Mobile {
                    p.push(field, c.as_str(), format!("SMS needs a mobile number, {} is a landline", person.phone));
                } else if *c == Channel::InApp && person.user_id.is_none() {
                    p.push(field, c.as_str(), "in-app notifications reach platform users: give the person's user_id");
                }
            }
        }
        for (i, f) in self.facilities.iter().enumerate() {
            if f.count == 0 {
                p.push(format!("facilities[{i}].count"), 0, "at least 1");
            }
            match (&f.endpoint, f.kind.remote()) {
                (Some(e), false) => p.push(
                    format!("facilities[{i}].endpoint"),
                    e,
                    "gongs and whistles are sounded by people; they have no endpoint",
                ),
                (Some(e), true) => p.text(&format!("facilities[{i}].endpoint"), e, 100, true),
                (None, _) => {}
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            p.text(&format!("routes[{i}].text"), &r.text, MAX_TEXT_CHARS, true);
            if r.line.len() < 2 {
                p.push(
                    format!("routes[{i}].line"),
                    format!("{} positions", r.line.len()),
                    "a route is a line of at least 2 positions",
                );
            }
            for (j, pos) in r.line.iter().enumerate() {
                pos.check(&format!("routes[{i}].line[{j}]"), &mut p);
            }
        }
        for (i, s) in self.shelters.iter().enumerate() {
            p.name(&format!("shelters[{i}].name"), &s.name);
            s.position.check(&format!("shelters[{i}].position"), &mut p);
            if s.capacity == 0 {
                p.push(format!("shelters[{i}].capacity"), 0, "a shelter holds at least 1 person");
            }
        }
        p.finish()
    }

    /// Check the representative stations against the stored ones: each exists and is not
    /// retired, and at least one measures rain (rainfall indicators are read at it).
    pub fn check_stations<'a>(
        &self,
        station: impl Fn(&StationCode) -> Option<&'a Station>,
    ) -> Result<(), Vec<FieldProblem>> {
        let mut p = Problems::default();
        let mut rain = false;
        for (i, code) in self.stations.iter().enumerate() {
            match station(code) {
                None => p.push(format!("stations[{i}]"), code, "no such station"),
                Some(s) if s.status == StationStatus::Retired => {
                    p.push(format!("stations[{i}]"), code, "the station is retired")
                }
                Some(s) => rain |= s.measures.rain,
            }
        }
        if !rain && p.0.is_empty() {
            p.push(
                "stations",
                self.stations.iter().map(StationCode::as_str).collect::<Vec<_>>().join(", "),
                "at least one representative station must measure rain",
            );
        }
        p.finish()
    }

    /// The responsible persons of one tier, in order.
    pub fn persons_of(&self, tier: Tier) -> impl Iterator<Item = &ResponsiblePerson> + '_ {
        self.persons.iter().filter(move |p| p.tier == tier)
    }
}

// ---------------------------------------------------------------------------------------------
// Control sections
// ---------------------------------------------------------------------------------------------

/// A control section (控制断面) on a river: a level station whose level warns the villages
/// downstream of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlSection {
    /// Code.
    pub code: SectionCode,
    /// Name (断面名称).
    pub name: String,
    /// River (所在河流).
    pub river: String,
    /// The level station that reads it.
    pub level_station: StationCode,
    /// Level thresholds per grade (准备转移/立即转移 levels, or the four colours) and optional
    /// rates of rise; valid by construction ([`LevelIndicators::new`]).
    pub indicators: LevelIndicators,
    /// Dike crest (堤顶高程), m, for reference; every level threshold is at or below it.
    pub dike_crest_m: Option<f64>,
    /// The villages it protects (12-digit codes), at least one.
    pub villages: Vec<DivisionCode>,
}

impl ControlSection {
    /// Every problem of this section on its own (its indicators are valid by construction;
    /// here they are checked against the dike crest).
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut p = Problems::default();
        p.name("name", &self.name);
        p.name("river", &self.river);
        if let Some(crest) = self.dike_crest_m {
            if !elevation_ok(crest) {
                p.push("dike_crest_m", crest, "an elevation is a number from -500 to 9000 m");
            } else if let Some((grade, level)) = self.indicators.levels().find(|(_, l)| *l > crest) {
                p.push(
                    format!("indicators.levels.{}", grade.as_str()),
                    level,
                    format!("above the dike crest {crest} m: the river is over the dike before this warns"),
                );
            }
        }
        if self.villages.is_empty() {
            p.push("villages", "[]", "a control section protects at least one village");
        }
        let mut seen = BTreeSet::new();
        for (i, v) in self.villages.iter().enumerate() {
            if v.level() != DivisionLevel::Village {
                p.push(format!("villages[{i}]"), v, "a 12-digit village code");
            } else if !seen.insert(v) {
                p.push(format!("villages[{i}]"), v, "listed twice");
            }
        }
        p.finish()
    }

    /// Check the level station against the stored one: it exists, is not retired and measures level.
    pub fn check_station(&self, station: Option<&Station>) -> Result<(), FieldProblem> {
        let problem = |m: &str| Err(FieldProblem::new("level_station", &self.level_station, m));
        match station {
            None => problem("no such station"),
            Some(s) if s.status == StationStatus::Retired => problem("the station is retired"),
            Some(s) if !s.measures.level => problem("the station does not measure level"),
            Some(_) => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Quarantine
// ---------------------------------------------------------------------------------------------

/// What an administrator decided about an unknown station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineState {
    /// Not yet decided: listed for the administrator.
    Pending,
    /// Rejected: its frames are still counted but it is no longer listed as pending.
    Rejected,
}

/// A station that sent data but is not registered (待确认测站): its data is not used until an
/// administrator accepts it (it becomes a [`Station`]) or rejects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// The code it claims: for SL 651 the hex of its station address
    /// ([`StationCode::from_sl651_address`]), for JSON the code it sent. The key.
    pub code: StationCode,
    /// Its protocol identity as seen on the wire.
    pub protocol: Protocol,
    /// The peer address it last came from (`203.0.113.5:40211`, or the MQTT client id).
    pub peer: String,
    /// First frame or message.
    pub first_seen: DateTime<Utc>,
    /// Latest frame or message.
    pub last_seen: DateTime<Utc>,
    /// Frames or messages received from it.
    pub frames: u64,
    /// Pending or rejected.
    pub state: QuarantineState,
}

/// One contact from an unknown station, as the ingest reports it to the quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownContact {
    /// The code it claims (see [`QuarantineEntry::code`]).
    pub code: StationCode,
    /// Its protocol identity.
    pub protocol: Protocol,
    /// Where it came from.
    pub peer: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl QuarantineEntry {
    /// The entry after one more contact: created on the first, else counted, with the later
    /// time and the latest peer and identity (a rejected entry stays rejected). This is the
    /// rule every store's `quarantine_contact` follows.
    pub fn record(entry: Option<QuarantineEntry>, contact: &UnknownContact) -> QuarantineEntry {
        match entry {
            None => QuarantineEntry {
                code: contact.code.clone(),
                protocol: contact.protocol,
                peer: contact.peer.clone(),
                first_seen: contact.at,
                last_seen: contact.at,
                frames: 1,
                state: QuarantineState::Pending,
            },
            Some(mut e) => {
                e.frames = e.frames.saturating_add(1);
                e.first_seen = e.first_seen.min(contact.at);
                if contact.at >= e.last_seen {
                    e.last_seen = contact.at;
                    e.peer = contact.peer.clone();
                    e.protocol = contact.protocol;
                }
                e
            }
        }
    }
}

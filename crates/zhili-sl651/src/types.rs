//! The small typed fields of a frame: addresses, codes, control characters, BCD times and
//! decimal values.

use std::fmt;

use crate::error::Error;

/// `SOH`: start of an ASCII frame.
pub const SOH: u8 = 0x01;
/// `STX`: start of a single-packet body.
pub const STX: u8 = 0x02;
/// `SYN`: start of a multi-packet (M3) body; 3 bytes of packet count/sequence follow.
pub const SYN: u8 = 0x16;
/// The two start bytes of a HEX/BCD frame.
pub const HEX_START: [u8; 2] = [0x7E, 0x7E];

/// How a frame is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `7E 7E`, binary fields, packed BCD values.
    Hex,
    /// `SOH`, every binary field as two ASCII hex characters, a text body.
    Ascii,
}

/// Who sends the frame: the high nibble of the length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Station → centre (nibble `0`).
    Up,
    /// Centre → station (nibble `8`).
    Down,
}

impl Direction {
    /// The nibble in the length field.
    pub fn nibble(self) -> u8 {
        match self {
            Direction::Up => 0x0,
            Direction::Down => 0x8,
        }
    }

    /// The direction a nibble names, if any.
    pub fn from_nibble(nibble: u8) -> Option<Self> {
        match nibble {
            0x0 => Some(Direction::Up),
            0x8 => Some(Direction::Down),
            _ => None,
        }
    }
}

/// The character that ends a frame's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndChar {
    /// `ETX 03`: end, no more packets.
    Etx,
    /// `ETB 17`: end of this packet, more follow (M3).
    Etb,
    /// `ENQ 05`: a query or command (downlink).
    Enq,
    /// `ACK 06`: acknowledged (downlink).
    Ack,
    /// `NAK 15`: resend; in M3 the packet number is named (downlink).
    Nak,
    /// `EOT 04`: confirmed, the station may disconnect (downlink).
    Eot,
    /// `ESC 1B`: confirmed, stay online 10 minutes for commands (downlink).
    Esc,
}

impl EndChar {
    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            EndChar::Etx => 0x03,
            EndChar::Etb => 0x17,
            EndChar::Enq => 0x05,
            EndChar::Ack => 0x06,
            EndChar::Nak => 0x15,
            EndChar::Eot => 0x04,
            EndChar::Esc => 0x1B,
        }
    }

    /// The end char a byte is, if any.
    pub fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0x03 => EndChar::Etx,
            0x17 => EndChar::Etb,
            0x05 => EndChar::Enq,
            0x06 => EndChar::Ack,
            0x15 => EndChar::Nak,
            0x04 => EndChar::Eot,
            0x1B => EndChar::Esc,
            _ => return None,
        })
    }
}

/// Packet count and sequence number of a multi-packet (M3) frame: 12 bits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Packet {
    /// How many packets the message has (1–4095).
    pub count: u16,
    /// This packet's number (1–`count`).
    pub seq: u16,
}

impl Packet {
    /// A packet number, checked: `1 <= seq <= count <= 4095`.
    pub fn new(count: u16, seq: u16) -> Option<Self> {
        (count <= 0xFFF && seq >= 1 && seq <= count).then_some(Packet { count, seq })
    }

    /// The three bytes on the wire: count in the high 12 bits, sequence in the low 12.
    pub fn to_bytes(self) -> [u8; 3] {
        let v = (u32::from(self.count) << 12) | u32::from(self.seq);
        [(v >> 16) as u8, (v >> 8) as u8, v as u8]
    }

    /// Count and sequence from the three bytes (unchecked).
    pub fn split(bytes: [u8; 3]) -> (u16, u16) {
        let v = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        ((v >> 12) as u16, (v & 0xFFF) as u16)
    }
}

/// A station address: the raw 5 bytes are the identity; two rules read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StationAddress(pub [u8; 5]);

impl StationAddress {
    /// Hydrological stations: 5 BCD bytes beginning `00`, read as a 10-digit number.
    pub fn hydrological(&self) -> Option<u64> {
        if self.0[0] != 0 {
            return None;
        }
        let mut n = 0u64;
        for &b in &self.0 {
            n = n * 100 + u64::from(bcd_byte(b)?);
        }
        Some(n)
    }

    /// Other stations: 3 BCD bytes of administrative division code (6 digits) and a 2-byte
    /// HEX station number.
    pub fn admin_coded(&self) -> Option<(u32, u16)> {
        let mut admin = 0u32;
        for &b in &self.0[..3] {
            admin = admin * 100 + u32::from(bcd_byte(b)?);
        }
        Some((admin, u16::from_be_bytes([self.0[3], self.0[4]])))
    }
}

impl fmt::Display for StationAddress {
    /// The 10 hex digits, as stations are configured.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// The function code (功能码) of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FunctionCode {
    /// `2F` link keep-alive (链路维持报).
    KeepAlive,
    /// `30` test report (测试报).
    Test,
    /// `31` uniform-interval report (均匀时段水文信息报).
    UniformInterval,
    /// `32` timed report (遥测站定时报).
    Timed,
    /// `33` add-report (遥测站加报报), threshold-triggered.
    Added,
    /// `34` hourly report (遥测站小时报).
    Hourly,
    /// `35` manual data (遥测站人工置数报).
    Manual,
    /// `36` picture (遥测站图片报或中心站查询遥测站图片采集信息).
    Picture,
    /// `37` centre queries real-time data.
    QueryRealtime,
    /// `38` centre queries a period's data.
    QueryPeriod,
    /// `39` centre queries manual data.
    QueryManual,
    /// `3A` centre queries named elements.
    QueryElements,
    /// `40` write the basic configuration.
    WriteBasicConfig,
    /// `41` read the basic configuration.
    ReadBasicConfig,
    /// `42` write the running parameters.
    WriteRunConfig,
    /// `43` read the running parameters.
    ReadRunConfig,
    /// `44` query pump motor data.
    QueryPump,
    /// `45` query the terminal's software version.
    QueryVersion,
    /// `46` query status and alarms.
    QueryStatus,
    /// `47` initialise the stored data.
    InitStorage,
    /// `48` restore factory settings.
    FactoryReset,
    /// `49` change the password.
    ChangePassword,
    /// `4A` set the station clock.
    SetClock,
    /// `4B` set the IC card state.
    SetIcCard,
    /// `4C` pump control.
    PumpControl,
    /// `4D` valve control.
    ValveControl,
    /// `4E` gate control.
    GateControl,
    /// `4F` water quota control.
    QuotaControl,
    /// `50` query the event record.
    QueryEvents,
    /// `51` query the station clock.
    QueryClock,
    /// `E0`–`FF`: user-defined, passed through raw.
    UserDefined(u8),
    /// Any other code (reserved or a vendor's).
    Other(u8),
}

const FUNCTIONS: [(u8, FunctionCode); 30] = [
    (0x2F, FunctionCode::KeepAlive),
    (0x30, FunctionCode::Test),
    (0x31, FunctionCode::UniformInterval),
    (0x32, FunctionCode::Timed),
    (0x33, FunctionCode::Added),
    (0x34, FunctionCode::Hourly),
    (0x35, FunctionCode::Manual),
    (0x36, FunctionCode::Picture),
    (0x37, FunctionCode::QueryRealtime),
    (0x38, FunctionCode::QueryPeriod),
    (0x39, FunctionCode::QueryManual),
    (0x3A, FunctionCode::QueryElements),
    (0x40, FunctionCode::WriteBasicConfig),
    (0x41, FunctionCode::ReadBasicConfig),
    (0x42, FunctionCode::WriteRunConfig),
    (0x43, FunctionCode::ReadRunConfig),
    (0x44, FunctionCode::QueryPump),
    (0x45, FunctionCode::QueryVersion),
    (0x46, FunctionCode::QueryStatus),
    (0x47, FunctionCode::InitStorage),
    (0x48, FunctionCode::FactoryReset),
    (0x49, FunctionCode::ChangePassword),
    (0x4A, FunctionCode::SetClock),
    (0x4B, FunctionCode::SetIcCard),
    (0x4C, FunctionCode::PumpControl),
    (0x4D, FunctionCode::ValveControl),
    (0x4E, FunctionCode::GateControl),
    (0x4F, FunctionCode::QuotaControl),
    (0x50, FunctionCode::QueryEvents),
    (0x51, FunctionCode::QueryClock),
];

impl FunctionCode {
    /// The code a byte names.
    pub fn from_byte(byte: u8) -> Self {
        if let Some((_, f)) = FUNCTIONS.iter().find(|(b, _)| *b == byte) {
            return *f;
        }
        if byte >= 0xE0 {
            FunctionCode::UserDefined(byte)
        } else {
            FunctionCode::Other(byte)
        }
    }

    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            FunctionCode::UserDefined(b) | FunctionCode::Other(b) => b,
            named => FUNCTIONS.iter().find(|(_, f)| *f == named).map(|(b, _)| *b).unwrap_or(0),
        }
    }

    /// A canonical value: `Other(0x32)` is `Timed`, `UserDefined(0x10)` is `Other(0x10)`.
    pub fn normalized(self) -> Self {
        FunctionCode::from_byte(self.byte())
    }

    /// Functions whose uplink body is a data report (serial, send time, station, observation
    /// time, elements): 30–35.
    pub fn is_report(self) -> bool {
        matches!(
            self,
            FunctionCode::Test
                | FunctionCode::UniformInterval
                | FunctionCode::Timed
                | FunctionCode::Added
                | FunctionCode::Hourly
                | FunctionCode::Manual
        )
    }
}

/// The station class (遥测站分类码) in a report body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StationClass {
    /// `50` P rain.
    Rain,
    /// `48` H river.
    River,
    /// `4B` K reservoir (lake).
    Reservoir,
    /// `5A` Z sluice.
    Sluice,
    /// `44` D pump station.
    Pump,
    /// `54` T tide.
    Tide,
    /// `4D` M soil moisture.
    SoilMoisture,
    /// `47` G groundwater.
    Groundwater,
    /// `51` Q water quality.
    WaterQuality,
    /// `49` I water intake.
    Intake,
    /// `4F` O outfall.
    Outfall,
    /// Any other byte.
    Other(u8),
}

const CLASSES: [(u8, StationClass); 11] = [
    (0x50, StationClass::Rain),
    (0x48, StationClass::River),
    (0x4B, StationClass::Reservoir),
    (0x5A, StationClass::Sluice),
    (0x44, StationClass::Pump),
    (0x54, StationClass::Tide),
    (0x4D, StationClass::SoilMoisture),
    (0x47, StationClass::Groundwater),
    (0x51, StationClass::WaterQuality),
    (0x49, StationClass::Intake),
    (0x4F, StationClass::Outfall),
];

impl StationClass {
    /// The class a byte names.
    pub fn from_byte(byte: u8) -> Self {
        CLASSES.iter().find(|(b, _)| *b == byte).map(|(_, c)| *c).unwrap_or(StationClass::Other(byte))
    }

    /// The byte on the wire (the class letter's ASCII code).
    pub fn byte(self) -> u8 {
        match self {
            StationClass::Other(b) => b,
            named => CLASSES.iter().find(|(_, c)| *c == named).map(|(b, _)| *b).unwrap_or(0),
        }
    }
}

/// A BCD time as stations send it: `YYMMDDhhmm[ss]` (the century is implied: 20YY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Time {
    /// Two-digit year (0–99), meaning 2000 + `year`.
    pub year: u8,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59 (0 for the 5-byte observation time).
    pub second: u8,
}

impl Time {
    /// A checked time.
    pub fn new(year: u8, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        let ok = year <= 99
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && hour <= 23
            && minute <= 59
            && second <= 59;
        ok.then_some(Time { year, month, day, hour, minute, second })
    }

    /// The full year (2000–2099).
    pub fn full_year(&self) -> u16 {
        2000 + u16::from(self.year)
    }

    /// Decodes 6 (with seconds) or 5 BCD bytes; `offset` is where they start, for errors.
    pub fn from_bcd(bytes: &[u8], offset: usize) -> Result<Self, Error> {
        let mut v = [0u8; 6];
        for (i, &b) in bytes.iter().enumerate().take(6) {
            v[i] = bcd_byte(b).ok_or(Error::BadBcd { offset: offset + i, found: b })?;
        }
        Time::new(v[0], v[1], v[2], v[3], v[4], v[5]).ok_or(Error::BadTime { offset, len: bytes.len() })
    }

    /// The 6 BCD bytes `YYMMDDhhmmss`.
    pub fn to_bcd6(&self) -> [u8; 6] {
        [self.year, self.month, self.day, self.hour, self.minute, self.second].map(to_bcd)
    }

    /// The 5 BCD bytes `YYMMDDhhmm`.
    pub fn to_bcd5(&self) -> [u8; 5] {
        [self.year, self.month, self.day, self.hour, self.minute].map(to_bcd)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.full_year(),
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second
        )
    }
}

fn days_in_month(year: u8, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// One packed BCD byte as 0–99, or `None` if a nibble is over 9.
pub fn bcd_byte(b: u8) -> Option<u8> {
    let (hi, lo) = (b >> 4, b & 0x0F);
    (hi <= 9 && lo <= 9).then_some(hi * 10 + lo)
}

/// 0–99 as one packed BCD byte.
pub fn to_bcd(v: u8) -> u8 {
    ((v / 10) << 4) | (v % 10)
}

/// A decimal value that keeps every digit the station sent: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The digits as an integer, with the sign.
    pub mantissa: i64,
    /// Digits after the decimal point (0–7 in this protocol).
    pub scale: u8,
}

impl Decimal {
    /// `mantissa × 10^-scale`.
    pub fn new(mantissa: i64, scale: u8) -> Self {
        Decimal { mantissa, scale }
    }

    /// The nearest `f64` (for display and arithmetic; store the decimal itself).
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(i32::from(self.scale))
    }
}

impl fmt::Display for Decimal {
    /// Plain decimal text with exactly `scale` decimals: `10.490`, `-0.5`, `12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = usize::from(self.scale);
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

//! Elements (要素) of a report body: identifier + definition byte + data, read as a zero-copy
//! view over the body: [`Elements`] iterates, [`Element`] borrows its data bytes, and values
//! are decoded on demand without allocating.

use std::fmt;

use crate::error::Error;
use crate::types::{bcd_byte, Decimal, Time};

/// An element identifier: one byte, or `FF xx` for a user extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identifier {
    /// A one-byte identifier of the standard's table (or a vendor's unknown code).
    Standard(u8),
    /// `FF xx`: a user extension, passed through.
    User(u8),
}

/// What an identifier's data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Packed BCD number(s); the definition byte gives size and decimals.
    Number,
    /// `ZT`: 4 bytes of status and alarm bits.
    Status,
    /// `DRP`: 5-minute rain, 1 byte HEX each, 0.1 mm, `FF` invalid.
    Rain5Min,
    /// `DRZ1`–`DRZ8`: 5-minute relative level, 2 bytes HEX each, 0.01 m, `FFFF` invalid.
    Level5Min,
    /// `04 18`: the time step of a uniform-interval report, BCD days, hours, minutes.
    TimeStep,
    /// `F0 F0` inside the elements: a new observation time for those after it.
    ObservationTime,
    /// `F2 F2` manual data or `F3 F3` picture: the rest of the body, raw.
    Payload,
    /// Unknown and user identifiers: bytes kept raw.
    Raw,
}

struct Def {
    code: u8,
    name: &'static str,
    kind: Kind,
    /// The standard's size in bytes and decimals (for ASCII bodies, which have no definition
    /// byte).
    bytes: u8,
    decimals: u8,
}

const fn d(code: u8, name: &'static str, kind: Kind, bytes: u8, decimals: u8) -> Def {
    Def { code, name, kind, bytes, decimals }
}

use Kind::{Level5Min, Number, Rain5Min, Status as St};

/// The identifiers this codec names (SL 651-2014 table, the rain, level, discharge, voltage,
/// status and soil-moisture rows, and the 5-minute series).
const TABLE: &[Def] = &[
    d(0x04, "DRxnn", Kind::TimeStep, 3, 0),
    d(0x10, "M10", Number, 2, 1),
    d(0x11, "M20", Number, 2, 1),
    d(0x12, "M30", Number, 2, 1),
    d(0x13, "M40", Number, 2, 1),
    d(0x14, "M50", Number, 2, 1),
    d(0x15, "M60", Number, 2, 1),
    d(0x16, "M80", Number, 2, 1),
    d(0x17, "M100", Number, 2, 1),
    d(0x1A, "P1", Number, 3, 1),
    d(0x1B, "P2", Number, 3, 1),
    d(0x1C, "P3", Number, 3, 1),
    d(0x1D, "P6", Number, 3, 1),
    d(0x1E, "P12", Number, 3, 1),
    d(0x1F, "PD", Number, 3, 1),
    d(0x20, "PJ", Number, 3, 1),
    d(0x21, "PN01", Number, 3, 1),
    d(0x22, "PN05", Number, 3, 1),
    d(0x23, "PN10", Number, 3, 1),
    d(0x24, "PN30", Number, 3, 1),
    d(0x25, "PR", Number, 3, 1),
    d(0x26, "PT", Number, 3, 1),
    d(0x27, "Q", Number, 5, 3),
    d(0x38, "VT", Number, 2, 2),
    d(0x39, "Z", Number, 4, 3),
    d(0x3A, "ZB", Number, 4, 3),
    d(0x3B, "ZU", Number, 4, 3),
    d(0x3C, "Z1", Number, 4, 3),
    d(0x3D, "Z2", Number, 4, 3),
    d(0x3E, "Z3", Number, 4, 3),
    d(0x3F, "Z4", Number, 4, 3),
    d(0x40, "Z5", Number, 4, 3),
    d(0x41, "Z6", Number, 4, 3),
    d(0x42, "Z7", Number, 4, 3),
    d(0x43, "Z8", Number, 4, 3),
    d(0x45, "ZT", St, 4, 0),
    d(0xF4, "DRP", Rain5Min, 12, 0),
    d(0xF5, "DRZ1", Level5Min, 24, 0),
    d(0xF6, "DRZ2", Level5Min, 24, 0),
    d(0xF7, "DRZ3", Level5Min, 24, 0),
    d(0xF8, "DRZ4", Level5Min, 24, 0),
    d(0xF9, "DRZ5", Level5Min, 24, 0),
    d(0xFA, "DRZ6", Level5Min, 24, 0),
    d(0xFB, "DRZ7", Level5Min, 24, 0),
    d(0xFC, "DRZ8", Level5Min, 24, 0),
];

#[allow(missing_docs)]
impl Identifier {
    pub const DR_TIME_STEP: Self = Self::Standard(0x04);
    pub const M10: Self = Self::Standard(0x10);
    pub const M20: Self = Self::Standard(0x11);
    pub const M30: Self = Self::Standard(0x12);
    pub const M40: Self = Self::Standard(0x13);
    pub const M50: Self = Self::Standard(0x14);
    pub const M60: Self = Self::Standard(0x15);
    pub const M80: Self = Self::Standard(0x16);
    pub const M100: Self = Self::Standard(0x17);
    pub const P1: Self = Self::Standard(0x1A);
    pub const P2: Self = Self::Standard(0x1B);
    pub const P3: Self = Self::Standard(0x1C);
    pub const P6: Self = Self::Standard(0x1D);
    pub const P12: Self = Self::Standard(0x1E);
    pub const PD: Self = Self::Standard(0x1F);
    pub const PJ: Self = Self::Standard(0x20);
    pub const PN01: Self = Self::Standard(0x21);
    pub const PN05: Self = Self::Standard(0x22);
    pub const PN10: Self = Self::Standard(0x23);
    pub const PN30: Self = Self::Standard(0x24);
    pub const PR: Self = Self::Standard(0x25);
    pub const PT: Self = Self::Standard(0x26);
    pub const Q: Self = Self::Standard(0x27);
    pub const VT: Self = Self::Standard(0x38);
    pub const Z: Self = Self::Standard(0x39);
    pub const ZB: Self = Self::Standard(0x3A);
    pub const ZU: Self = Self::Standard(0x3B);
    pub const Z1: Self = Self::Standard(0x3C);
    pub const Z8: Self = Self::Standard(0x43);
    pub const ZT: Self = Self::Standard(0x45);
    pub const DRP: Self = Self::Standard(0xF4);
    pub const DRZ1: Self = Self::Standard(0xF5);
    pub const DRZ8: Self = Self::Standard(0xFC);
    /// `F0 F0` observation time inside the elements.
    pub const OBSERVATION_TIME: Self = Self::Standard(0xF0);
    /// `F1 F1` station address and class inside the elements.
    pub const STATION: Self = Self::Standard(0xF1);
    /// `F2 F2` manual data (rest of the body).
    pub const MANUAL: Self = Self::Standard(0xF2);
    /// `F3 F3` picture data (rest of the body).
    pub const PICTURE: Self = Self::Standard(0xF3);
}

impl Identifier {
    fn def(self) -> Option<&'static Def> {
        match self {
            Identifier::Standard(code) => TABLE.iter().find(|d| d.code == code),
            Identifier::User(_) => None,
        }
    }

    /// The standard's name (`PJ`, `Z`, `DRZ1`…), if this codec knows the identifier.
    pub fn name(self) -> Option<&'static str> {
        self.def().map(|d| d.name)
    }

    /// What the data is.
    pub fn kind(self) -> Kind {
        match self {
            Identifier::OBSERVATION_TIME => Kind::ObservationTime,
            Identifier::MANUAL | Identifier::PICTURE => Kind::Payload,
            _ => self.def().map(|d| d.kind).unwrap_or(Kind::Raw),
        }
    }

    /// The identifier named `name` in an ASCII body.
    pub fn from_name(name: &str) -> Option<Self> {
        TABLE.iter().find(|d| d.name == name).map(|d| Identifier::Standard(d.code))
    }

    /// The standard's size in bytes and decimals for this identifier.
    pub fn standard_format(self) -> Option<(u8, u8)> {
        self.def().map(|d| (d.bytes, d.decimals))
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self) {
            (Some(name), Identifier::Standard(code)) => write!(f, "{name} ({code:02X})"),
            (_, Identifier::Standard(code)) => write!(f, "{code:02X}"),
            (_, Identifier::User(code)) => write!(f, "FF {code:02X}"),
        }
    }
}

/// The time step of a uniform-interval report (`04 18` + BCD days, hours, minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeStep {
    /// Days.
    pub days: u8,
    /// Hours.
    pub hours: u8,
    /// Minutes.
    pub minutes: u8,
}

impl TimeStep {
    /// The step in minutes.
    pub fn total_minutes(&self) -> u32 {
        (u32::from(self.days) * 24 + u32::from(self.hours)) * 60 + u32::from(self.minutes)
    }
}

/// A named bit of the `ZT` status word (bit set = the alarm or abnormal state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusFlag {
    /// Bit 0: AC power outage (交流电停电).
    AcOutage,
    /// Bit 1: battery voltage low (蓄电池电压低).
    BatteryLow,
    /// Bit 2: water level over its limit (水位超限).
    LevelOverLimit,
    /// Bit 3: flow over its limit (流量超限).
    FlowAlarm,
    /// Bit 4: water quality over its limit (水质超限).
    QualityAlarm,
    /// Bit 5: flow meter fault (流量仪表故障).
    FlowMeterFault,
    /// Bit 6: level meter fault (水位仪表故障).
    LevelMeterFault,
    /// Bit 7: cabinet door open (箱门开).
    CabinetDoorOpen,
    /// Bit 8: memory fault (存储器异常).
    MemoryFault,
}

impl StatusFlag {
    /// Every named flag, in bit order.
    pub const ALL: [StatusFlag; 9] = [
        StatusFlag::AcOutage,
        StatusFlag::BatteryLow,
        StatusFlag::LevelOverLimit,
        StatusFlag::FlowAlarm,
        StatusFlag::QualityAlarm,
        StatusFlag::FlowMeterFault,
        StatusFlag::LevelMeterFault,
        StatusFlag::CabinetDoorOpen,
        StatusFlag::MemoryFault,
    ];

    /// The bit this flag is.
    pub fn bit(self) -> u32 {
        self as u32
    }
}

/// The `ZT` status word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(pub u32);

impl Status {
    /// Whether `flag` is set.
    pub fn has(self, flag: StatusFlag) -> bool {
        self.0 & (1 << flag.bit()) != 0
    }

    /// The named flags that are set.
    pub fn flags(self) -> impl Iterator<Item = StatusFlag> {
        StatusFlag::ALL.into_iter().filter(move |f| self.has(*f))
    }
}

/// One element of a body, borrowing its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// Body offset of the identifier.
    pub offset: usize,
    /// The identifier.
    pub id: Identifier,
    /// The definition byte (`None` for `F0 F0`, `F2 F2`, `F3 F3`).
    pub definition: Option<u8>,
    /// The data bytes (for a uniform-interval element: all its values).
    pub data: &'a [u8],
}

impl<'a> Element<'a> {
    /// Bytes per value (high 5 bits of the definition byte).
    pub fn size(&self) -> usize {
        self.definition.map(|d| usize::from(d >> 3)).unwrap_or(self.data.len())
    }

    /// Decimals (low 3 bits of the definition byte).
    pub fn decimals(&self) -> u8 {
        self.definition.map(|d| d & 0x07).unwrap_or(0)
    }

    /// The first value of a number element: `Some(None)` if the station marked it missing;
    /// `None` if the element is no number.
    pub fn value(&self) -> Option<Option<Decimal>> {
        self.values().next()
    }

    /// Every value of a number element (one, or a uniform-interval report's n); nothing for
    /// other kinds. `None` items are missing values (all `F`).
    pub fn values(&self) -> Values<'a> {
        let ok = self.id.kind() == Kind::Number && self.size() > 0;
        Values { chunks: if ok { self.data } else { &[] }, size: self.size().max(1), scale: self.decimals() }
    }

    /// The `ZT` status word.
    pub fn status(&self) -> Option<Status> {
        match (self.id.kind(), self.data) {
            (Kind::Status, &[a, b, c, d]) => Some(Status(u32::from_be_bytes([a, b, c, d]))),
            _ => None,
        }
    }

    /// A 5-minute series (`DRP`: 0.1 mm; `DRZ`: 0.01 m); `None` items are invalid values.
    pub fn series(&self) -> Series<'a> {
        let (data, size) = match self.id.kind() {
            Kind::Rain5Min => (self.data, 1),
            Kind::Level5Min => (self.data, 2),
            _ => (&[][..], 1),
        };
        Series { data, size }
    }

    /// The time step of a `04 18` element.
    pub fn time_step(&self) -> Option<TimeStep> {
        match (self.id.kind(), self.data) {
            (Kind::TimeStep, &[dd, hh, mm]) => {
                Some(TimeStep { days: bcd_byte(dd)?, hours: bcd_byte(hh)?, minutes: bcd_byte(mm)? })
            }
            _ => None,
        }
    }

    /// The time of an `F0 F0` element.
    pub fn time(&self) -> Option<Time> {
        match self.id.kind() {
            Kind::ObservationTime => Time::from_bcd(self.data, 0).ok(),
            _ => None,
        }
    }
}

/// Values of a number element, decoded on demand.
#[derive(Debug, Clone)]
pub struct Values<'a> {
    chunks: &'a [u8],
    size: usize,
    scale: u8,
}

impl Iterator for Values<'_> {
    type Item = Option<Decimal>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.chunks.len() < self.size {
            return None;
        }
        let (chunk, rest) = self.chunks.split_at(self.size);
        self.chunks = rest;
        // Validated when the element was read: decoding cannot fail here.
        bcd_value(chunk, self.scale, 0).ok()
    }
}

/// Values of a 5-minute series.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    data: &'a [u8],
    size: usize,
}

impl Iterator for Series<'_> {
    type Item = Option<Decimal>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.len() < self.size {
            return None;
        }
        let (chunk, rest) = self.data.split_at(self.size);
        self.data = rest;
        Some(match *chunk {
            [0xFF] | [0xFF, 0xFF] => None,
            [b] => Some(Decimal::new(i64::from(b), 1)),
            [a, b] => Some(Decimal::new(i64::from(u16::from_be_bytes([a, b])), 2)),
            _ => None,
        })
    }
}

/// Decodes one packed-BCD value: all `FF` is missing, a leading `FF` is a minus sign.
pub fn bcd_value(chunk: &[u8], scale: u8, offset: usize) -> Result<Option<Decimal>, Error> {
    if chunk.iter().all(|&b| b == 0xFF) {
        return Ok(None);
    }
    let (negative, digits) = match chunk {
        [0xFF, rest @ ..] => (true, rest),
        _ => (false, chunk),
    };
    let start = offset + chunk.len() - digits.len();
    let mut m: i64 = 0;
    for (i, &b) in digits.iter().enumerate() {
        let v = bcd_byte(b).ok_or(Error::BadBcd { offset: start + i, found: b })?;
        m = m
            .checked_mul(100)
            .and_then(|m| m.checked_add(i64::from(v)))
            .filter(|m| *m < 1_000_000_000_000_000_000)
            .ok_or(Error::ValueTooLong { offset, digits: digits.len() * 2 })?;
    }
    Ok(Some(Decimal::new(if negative { -m } else { m }, scale)))
}

/// Elements of a report body, from after the observation time to the end of the body.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    body: &'a [u8],
    pos: usize,
    /// Uniform-interval report: the element after the time step takes the rest of the body.
    uniform: bool,
    done: bool,
}

impl<'a> Elements<'a> {
    /// Elements of `body` from `start` (uniform: the 31 report's single element takes the rest).
    pub(crate) fn new(body: &'a [u8], start: usize, uniform: bool) -> Self {
        Elements { body, pos: start, uniform, done: false }
    }

    fn read(&mut self) -> Result<Element<'a>, Error> {
        let body = self.body;
        let offset = self.pos;
        let need = |at: usize, n: usize| -> Result<&'a [u8], Error> {
            body.get(at..at + n)
                .ok_or_else(|| Error::BodyTooShort { offset: at, need: (at + n).saturating_sub(body.len()) })
        };
        let first = body[offset];
        // Two-byte markers with no definition byte.
        if (0xF0..=0xF3).contains(&first) && body.get(offset + 1) == Some(&first) {
            let id = Identifier::Standard(first);
            let data = match first {
                0xF0 => need(offset + 2, 5)?,
                0xF1 => need(offset + 2, 6)?,
                _ => &body[offset + 2..],
            };
            if first == 0xF0 {
                Time::from_bcd(data, offset + 2)?;
            }
            self.pos = offset + 2 + data.len();
            return Ok(Element { offset, id, definition: None, data });
        }
        let (id, def_at) = if first == 0xFF {
            (Identifier::User(need(offset + 1, 1)?[0]), offset + 2)
        } else {
            (Identifier::Standard(first), offset + 1)
        };
        let definition = need(def_at, 1)?[0];
        let size = usize::from(definition >> 3);
        let data_at = def_at + 1;
        let data = if self.uniform && id.kind() == Kind::Number {
            let rest = &body[data_at.min(body.len())..];
            if size == 0 || !rest.len().is_multiple_of(size) {
                return Err(Error::RaggedSeries { offset: data_at, len: rest.len(), size });
            }
            rest
        } else {
            need(data_at, size)?
        };
        check(id, definition, data, offset, data_at)?;
        self.pos = data_at + data.len();
        Ok(Element { offset, id, definition: Some(definition), data })
    }
}

/// Checks an element's data against its identifier, so that reading values cannot fail.
fn check(id: Identifier, def: u8, data: &[u8], offset: usize, data_at: usize) -> Result<(), Error> {
    let size = usize::from(def >> 3);
    let bad = |expected| Err(Error::BadElementLength { offset, id, len: size, expected });
    match id.kind() {
        Kind::Number => {
            if size == 0 {
                return bad("1 to 31");
            }
            for (i, chunk) in data.chunks(size).enumerate() {
                bcd_value(chunk, def & 7, data_at + i * size)?;
            }
        }
        Kind::Status if size != 4 => return bad("4"),
        Kind::Level5Min if size % 2 != 0 => return bad("an even number"),
        Kind::TimeStep => {
            if size != 3 {
                return bad("3");
            }
            for (i, &b) in data.iter().enumerate() {
                bcd_byte(b).ok_or(Error::BadBcd { offset: data_at + i, found: b })?;
            }
        }
        _ => {}
    }
    Ok(())
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Element<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.body.len() {
            return None;
        }
        let item = self.read();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

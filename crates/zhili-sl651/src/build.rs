//! Building bodies: keep-alive, reports (with numbers, status, 5-minute series, a 31 report's
//! series) for the station simulator, the tests and the server's replay.

use crate::ascii::{bytes_needed, put_bcd};
use crate::element::{Identifier, Kind, Status, TimeStep};
use crate::error::Error;
use crate::types::{to_bcd, Decimal, StationAddress, StationClass, Time};

/// A keep-alive (2F) body: serial + send time.
pub fn keep_alive_body(serial: u16, sent: Time) -> Vec<u8> {
    let mut body = Vec::with_capacity(8);
    body.extend_from_slice(&serial.to_be_bytes());
    body.extend_from_slice(&sent.to_bcd6());
    body
}

/// A report body (30–35) built element by element.
#[derive(Debug, Clone)]
pub struct ReportBuilder {
    body: Vec<u8>,
}

impl ReportBuilder {
    /// Serial, send time, `F1 F1` station and class, `F0 F0` observation time.
    pub fn new(serial: u16, sent: Time, station: StationAddress, class: StationClass, observed: Time) -> Self {
        let mut body = keep_alive_body(serial, sent);
        body.extend_from_slice(&[0xF1, 0xF1]);
        body.extend_from_slice(&station.0);
        body.push(class.byte());
        body.extend_from_slice(&[0xF0, 0xF0]);
        body.extend_from_slice(&observed.to_bcd5());
        ReportBuilder { body }
    }

    /// The time step of a uniform-interval (31) report: `04 18` + BCD days, hours, minutes
    /// (each 0–99). Add it first, then one [`ReportBuilder::series`].
    pub fn time_step(mut self, step: TimeStep) -> Self {
        self.body.extend_from_slice(&[0x04, 0x18]);
        self.body.extend([step.days, step.hours, step.minutes].map(|v| to_bcd(v.min(99))));
        self
    }

    /// A number element (missing: `None`) with the standard's size for `id`, larger if the
    /// digits need it; the decimals are the value's scale (the standard's when missing).
    pub fn number(self, id: Identifier, value: Option<Decimal>) -> Result<Self, Error> {
        self.series(id, &[value])
    }

    /// A number element with several values (a 31 report's series); all values must share
    /// one scale.
    pub fn series(mut self, id: Identifier, values: &[Option<Decimal>]) -> Result<Self, Error> {
        let (std_bytes, std_decimals) = id.standard_format().unwrap_or((1, 0));
        let scale = values.iter().flatten().map(|v| v.scale).next().unwrap_or(std_decimals);
        let mut size = usize::from(std_bytes);
        for v in values.iter().flatten() {
            if v.scale != scale || v.scale > 7 {
                return Err(Error::ValueDoesNotFit { mantissa: v.mantissa, scale: v.scale, bytes: size });
            }
            size = size.max(bytes_needed(*v));
        }
        if id.kind() != Kind::Number && id.kind() != Kind::Raw {
            return Err(Error::NotAscii { what: "a number for an identifier that is no number" });
        }
        self.put_id(id);
        self.body.push((size as u8) << 3 | scale);
        for v in values {
            put_bcd(&mut self.body, *v, size)?;
        }
        Ok(self)
    }

    /// The `ZT` status word.
    pub fn status(mut self, status: Status) -> Self {
        self.body.extend_from_slice(&[0x45, 4 << 3]);
        self.body.extend_from_slice(&status.0.to_be_bytes());
        self
    }

    /// `DRP`: twelve 5-minute rain values in 0.1 mm (`None` invalid, sent as `FF`; values are
    /// capped at 254).
    pub fn rain_5min(mut self, tenths_mm: [Option<u8>; 12]) -> Self {
        self.body.extend_from_slice(&[0xF4, 12 << 3]);
        self.body.extend(tenths_mm.map(|v| v.map_or(0xFF, |v| v.min(0xFE))));
        self
    }

    /// `DRZn` (n 1–8, clamped): twelve 5-minute relative levels in 0.01 m (`None` invalid,
    /// sent as `FFFF`; values capped at 65534).
    pub fn level_5min(mut self, n: u8, centimetres: [Option<u16>; 12]) -> Self {
        self.body.extend_from_slice(&[0xF4 + n.clamp(1, 8), 24 << 3]);
        for v in centimetres {
            self.body.extend_from_slice(&v.map_or(0xFFFF, |v| v.min(0xFFFE)).to_be_bytes());
        }
        self
    }

    /// A new observation time (`F0 F0`) for the elements after it.
    pub fn observed(mut self, time: Time) -> Self {
        self.body.extend_from_slice(&[0xF0, 0xF0]);
        self.body.extend_from_slice(&time.to_bcd5());
        self
    }

    /// Any element as raw bytes (a vendor's or user extension); at most 31 data bytes.
    pub fn raw(mut self, id: Identifier, decimals: u8, data: &[u8]) -> Result<Self, Error> {
        if data.len() > 31 || decimals > 7 {
            return Err(Error::BadElementLength {
                offset: self.body.len(),
                id,
                len: data.len(),
                expected: "at most 31",
            });
        }
        self.put_id(id);
        self.body.push((data.len() as u8) << 3 | decimals);
        self.body.extend_from_slice(data);
        Ok(self)
    }

    fn put_id(&mut self, id: Identifier) {
        match id {
            Identifier::Standard(code) => self.body.push(code),
            Identifier::User(code) => self.body.extend_from_slice(&[0xFF, code]),
        }
    }

    /// The body.
    pub fn finish(self) -> Vec<u8> {
        self.body
    }
}

//! Bodies by function: keep-alive, data reports (30–35, 31 with its time step), the centre's
//! confirm, and the raw bytes of everything else. Views borrow the frame's body.

use crate::element::{Element, Elements, TimeStep};
use crate::error::Error;
use crate::types::{Direction, FunctionCode, StationAddress, StationClass, Time};

/// A decoded body (HEX/BCD form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// `2F` uplink: serial + send time.
    KeepAlive {
        /// Serial number (流水号).
        serial: u16,
        /// Send time (发报时间).
        sent: Time,
    },
    /// `30`–`35` uplink: a data report.
    Report(Report<'a>),
    /// `2F`–`36` downlink with an 8-byte body: the centre's confirm (serial echoed).
    Confirm {
        /// The serial confirmed.
        serial: u16,
        /// The centre's send time.
        sent: Time,
    },
    /// Anything else: the body as it is.
    Raw(&'a [u8]),
}

/// A data report: its header, and its elements read on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report<'a> {
    /// Serial number (流水号), 1–65535; resends reuse it.
    pub serial: u16,
    /// Send time (发报时间).
    pub sent: Time,
    /// Station address in the body (`F1 F1`).
    pub station: StationAddress,
    /// Station class.
    pub class: StationClass,
    /// Observation time (`F0 F0`); only a manual report (35) may lack it.
    pub observed: Option<Time>,
    /// Time step of a uniform-interval report (31).
    pub step: Option<TimeStep>,
    body: &'a [u8],
    elements_at: usize,
    uniform: bool,
}

impl<'a> Report<'a> {
    /// The elements after the header, as a zero-copy iterator. A uniform-interval report has
    /// one element whose data holds all its values.
    pub fn elements(&self) -> Elements<'a> {
        Elements::new(self.body, self.elements_at, self.uniform)
    }

    /// The first element with identifier `id`, if it is there (stops at a bad element).
    pub fn element(&self, id: crate::Identifier) -> Option<Element<'a>> {
        self.elements().map_while(Result::ok).find(|e| e.id == id)
    }
}

fn take(body: &[u8], at: usize, n: usize) -> Result<&[u8], Error> {
    body.get(at..at + n).ok_or_else(|| Error::BodyTooShort { offset: at, need: (at + n).saturating_sub(body.len()) })
}

fn serial_and_time(body: &[u8]) -> Result<(u16, Time), Error> {
    let serial = take(body, 0, 2)?;
    let sent = Time::from_bcd(take(body, 2, 6)?, 2)?;
    Ok((u16::from_be_bytes([serial[0], serial[1]]), sent))
}

fn marker(body: &[u8], at: usize, byte: u8) -> Result<(), Error> {
    match body.get(at..at + 2) {
        Some(m) if m == [byte, byte] => Ok(()),
        _ => Err(Error::MissingMarker {
            offset: at,
            expected: byte,
            found: body[at.min(body.len())..(at + 2).min(body.len())].to_vec(),
        }),
    }
}

/// Reads a body: what it is follows from the function and direction. Checks the header
/// fields; elements are checked as they are iterated.
pub fn parse_body(function: FunctionCode, direction: Direction, body: &[u8]) -> Result<Body<'_>, Error> {
    let function = function.normalized();
    match direction {
        Direction::Up if function == FunctionCode::KeepAlive => {
            let (serial, sent) = serial_and_time(body)?;
            Ok(Body::KeepAlive { serial, sent })
        }
        Direction::Up if function.is_report() => parse_report(function, body).map(Body::Report),
        Direction::Down if is_confirmable(function) && body.len() == 8 => {
            let (serial, sent) = serial_and_time(body)?;
            Ok(Body::Confirm { serial, sent })
        }
        _ => Ok(Body::Raw(body)),
    }
}

/// Functions the centre confirms (M2) with serial + time: 2F–36.
pub(crate) fn is_confirmable(function: FunctionCode) -> bool {
    (0x2F..=0x36).contains(&function.byte())
}

fn parse_report(function: FunctionCode, body: &[u8]) -> Result<Report<'_>, Error> {
    let (serial, sent) = serial_and_time(body)?;
    marker(body, 8, 0xF1)?;
    let address = take(body, 10, 5)?;
    let station = StationAddress([address[0], address[1], address[2], address[3], address[4]]);
    let class = StationClass::from_byte(take(body, 15, 1)?[0]);
    let mut at = 16;
    let observed = if function == FunctionCode::Manual && body.get(16..18) != Some(&[0xF0, 0xF0]) {
        None
    } else {
        marker(body, 16, 0xF0)?;
        at = 23;
        Some(Time::from_bcd(take(body, 18, 5)?, 18)?)
    };
    let mut step = None;
    let uniform = function == FunctionCode::UniformInterval;
    if uniform {
        let code = take(body, at, 2).map_err(|_| Error::MissingTimeStep { offset: at })?;
        if code != [0x04, 0x18] {
            return Err(Error::MissingTimeStep { offset: at });
        }
        let v = take(body, at + 2, 3)?;
        let mut dhm = [0u8; 3];
        for i in 0..3 {
            dhm[i] = crate::types::bcd_byte(v[i]).ok_or(Error::BadBcd { offset: at + 2 + i, found: v[i] })?;
        }
        step = Some(TimeStep { days: dhm[0], hours: dhm[1], minutes: dhm[2] });
        at += 5;
    }
    Ok(Report { serial, sent, station, class, observed, step, body, elements_at: at, uniform })
}

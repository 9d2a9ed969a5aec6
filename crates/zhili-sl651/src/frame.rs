//! One frame: parsing a complete frame from bytes (HEX/BCD or ASCII), and encoding one.

use crate::ascii;
use crate::body::{is_confirmable, parse_body, Body};
use crate::error::Error;
use crate::types::{
    Direction, Encoding, EndChar, FunctionCode, Packet, StationAddress, Time, HEX_START, SOH, STX, SYN,
};

/// The protocol's largest body (12-bit length field).
pub const MAX_BODY: usize = 4095;
/// HEX header: start (2), centre (1), station (5), password (2), function (1), length (2).
const HEX_HEADER: usize = 13;
/// ASCII header: SOH (1) and the same fields as hex characters (22).
const ASCII_HEADER: usize = 23;

/// The CRC of the protocol: CRC-16/MODBUS, sent high byte first.
pub fn crc16(bytes: &[u8]) -> u16 {
    const MODBUS: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_MODBUS);
    MODBUS.checksum(bytes)
}

/// A frame, up or down, in either encoding.
///
/// `body` is the HEX/BCD form of the body (after `STX`, or after `SYN` and the packet field).
/// An ASCII single-packet frame whose body this crate reads (uplink 2F and 30–35, downlink
/// confirms of 2F–36) has its text turned into that form when decoded and back when encoded;
/// any other ASCII body (and every multi-packet part) is kept as the text received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// How it is written on the wire.
    pub encoding: Encoding,
    /// Up (station → centre) or down.
    pub direction: Direction,
    /// Centre address (1–255).
    pub centre: u8,
    /// Station address (the identity: raw 5 bytes).
    pub station: StationAddress,
    /// Password (2 bytes).
    pub password: u16,
    /// Function code.
    pub function: FunctionCode,
    /// Packet count/sequence of a multi-packet (`SYN`) frame; `None` for `STX`.
    pub packet: Option<Packet>,
    /// The end char.
    pub end: EndChar,
    /// The body (see the type's doc for its form).
    pub body: Vec<u8>,
}

/// What [`Frame::parse`] found at the start of a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A frame of `len` bytes.
    Frame {
        /// The frame.
        frame: Frame,
        /// Its length on the wire.
        len: usize,
    },
    /// A frame of `len` bytes with a correct CRC whose ASCII body does not read.
    Invalid {
        /// Its length on the wire.
        len: usize,
        /// What is wrong (offset in the slice).
        error: Error,
    },
    /// The bytes so far are a valid beginning; the frame needs `need` bytes in all.
    Incomplete {
        /// Bytes the frame needs in all (the header's size until the length is known).
        need: usize,
    },
}

/// Whether an ASCII body of this frame is transcoded (rather than kept as text).
pub(crate) fn ascii_structured(direction: Direction, function: FunctionCode, packet: Option<Packet>) -> bool {
    let function = function.normalized();
    packet.is_none()
        && match direction {
            Direction::Up => function == FunctionCode::KeepAlive || function.is_report(),
            Direction::Down => is_confirmable(function),
        }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// `n` bytes from `2n` hex characters at `at`.
pub(crate) fn unhex<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        let mut v = 0;
        for j in 0..2 {
            let offset = at + 2 * i + j;
            let found = bytes[offset];
            v = v << 4 | hex_value(found).ok_or(Error::BadHexDigit { offset, found })?;
        }
        *o = v;
    }
    Ok(out)
}

pub(crate) fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

struct Header {
    direction: Direction,
    centre: u8,
    station: StationAddress,
    password: u16,
    function: FunctionCode,
    syn: bool,
}

impl Frame {
    /// Parses the frame at the start of `bytes` (which start with `7E 7E` or `SOH`), refusing
    /// bodies over `max_body`. Offsets in errors count from the start of `bytes`.
    pub fn parse(bytes: &[u8], max_body: usize) -> Result<Parsed, Error> {
        match bytes.first() {
            Some(&SOH) => Self::parse_ascii(bytes, max_body),
            _ => Self::parse_hex(bytes, max_body),
        }
    }

    fn check_length(
        dl: u16,
        at: usize,
        syn: bool,
        packet_len: usize,
        max_body: usize,
    ) -> Result<(Direction, usize), Error> {
        let direction = Direction::from_nibble((dl >> 12) as u8)
            .ok_or(Error::BadDirection { offset: at, nibble: (dl >> 12) as u8 })?;
        let length = usize::from(dl & 0xFFF);
        let min = if syn { packet_len + 1 } else { 1 };
        if length < min {
            return Err(Error::LengthTooShort { offset: at, length, min });
        }
        if length > max_body {
            return Err(Error::LengthOverMax { offset: at, length, max: max_body });
        }
        Ok((direction, length))
    }

    fn parse_hex(bytes: &[u8], max_body: usize) -> Result<Parsed, Error> {
        debug_assert!(bytes.len() < 2 || bytes[..2] == HEX_START);
        if bytes.len() < HEX_HEADER + 1 {
            return Ok(Parsed::Incomplete { need: HEX_HEADER + 1 });
        }
        let control = bytes[HEX_HEADER];
        let syn = match control {
            STX => false,
            SYN => true,
            found => return Err(Error::BadBodyStart { offset: HEX_HEADER, found }),
        };
        let dl = u16::from_be_bytes([bytes[11], bytes[12]]);
        let (direction, length) = Self::check_length(dl, 11, syn, 3, max_body)?;
        let header = Header {
            direction,
            centre: bytes[2],
            station: StationAddress([bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]]),
            password: u16::from_be_bytes([bytes[8], bytes[9]]),
            function: FunctionCode::from_byte(bytes[10]),
            syn,
        };
        let body_at = HEX_HEADER + 1;
        let end_at = body_at + length;
        let total = end_at + 3;
        if bytes.len() < total {
            return Ok(Parsed::Incomplete { need: total });
        }
        let end = EndChar::from_byte(bytes[end_at]).ok_or(Error::BadEnd { offset: end_at, found: bytes[end_at] })?;
        let found = u16::from_be_bytes([bytes[end_at + 1], bytes[end_at + 2]]);
        let computed = crc16(&bytes[..=end_at]);
        if found != computed {
            return Err(Error::BadCrc { offset: 0, found, computed });
        }
        let (packet, body) = if header.syn {
            let (count, seq) = Packet::split([bytes[body_at], bytes[body_at + 1], bytes[body_at + 2]]);
            let packet = Packet::new(count, seq).ok_or(Error::BadPacket { offset: body_at, count, seq })?;
            (Some(packet), &bytes[body_at + 3..end_at])
        } else {
            (None, &bytes[body_at..end_at])
        };
        let frame = header.frame(Encoding::Hex, packet, end, body.to_vec());
        Ok(Parsed::Frame { frame, len: total })
    }

    fn parse_ascii(bytes: &[u8], max_body: usize) -> Result<Parsed, Error> {
        // Every header character must be a hex digit: check what has arrived, so that a stray
        // SOH in binary data is refused at once rather than waited on.
        for (offset, &found) in bytes.iter().enumerate().take(ASCII_HEADER).skip(1) {
            if hex_value(found).is_none() {
                return Err(Error::BadHexDigit { offset, found });
            }
        }
        if bytes.len() < ASCII_HEADER + 1 {
            return Ok(Parsed::Incomplete { need: ASCII_HEADER + 1 });
        }
        let control = bytes[ASCII_HEADER];
        let syn = match control {
            STX => false,
            SYN => true,
            found => return Err(Error::BadBodyStart { offset: ASCII_HEADER, found }),
        };
        let [centre] = unhex::<1>(bytes, 1)?;
        let station = StationAddress(unhex::<5>(bytes, 3)?);
        let password = u16::from_be_bytes(unhex::<2>(bytes, 13)?);
        let [function] = unhex::<1>(bytes, 17)?;
        let dl = u16::from_be_bytes(unhex::<2>(bytes, 19)?);
        let (direction, length) = Self::check_length(dl, 19, syn, 6, max_body)?;
        let header = Header { direction, centre, station, password, function: FunctionCode::from_byte(function), syn };
        let body_at = ASCII_HEADER + 1;
        let end_at = body_at + length;
        let total = end_at + 5;
        if bytes.len() < total {
            return Ok(Parsed::Incomplete { need: total });
        }
        let end = EndChar::from_byte(bytes[end_at]).ok_or(Error::BadEnd { offset: end_at, found: bytes[end_at] })?;
        let found = u16::from_be_bytes(unhex::<2>(bytes, end_at + 1)?);
        let computed = crc16(&bytes[..=end_at]);
        if found != computed {
            return Err(Error::BadCrc { offset: 0, found, computed });
        }
        let (packet, text, text_at) = if header.syn {
            let raw = unhex::<3>(bytes, body_at)?;
            let (count, seq) = Packet::split(raw);
            let packet = Packet::new(count, seq).ok_or(Error::BadPacket { offset: body_at, count, seq })?;
            (Some(packet), &bytes[body_at + 6..end_at], body_at + 6)
        } else {
            (None, &bytes[body_at..end_at], body_at)
        };
        let body = if ascii_structured(header.direction, header.function, packet) {
            match ascii::text_to_hex(header.direction, header.function, text) {
                Ok(body) => body,
                Err(error) => return Ok(Parsed::Invalid { len: total, error: error.shifted(text_at) }),
            }
        } else {
            text.to_vec()
        };
        let frame = header.frame(Encoding::Ascii, packet, end, body);
        Ok(Parsed::Frame { frame, len: total })
    }

    /// The body read by function and direction (zero-copy). A part of a multi-packet message
    /// is [`Body::Raw`]: read the whole message once reassembled.
    pub fn body(&self) -> Result<Body<'_>, Error> {
        if self.packet.is_some()
            || (self.encoding == Encoding::Ascii && !ascii_structured(self.direction, self.function, self.packet))
        {
            return Ok(Body::Raw(&self.body));
        }
        parse_body(self.function, self.direction, &self.body)
    }

    /// The serial number: the first two body bytes of a single-packet 2F–36 frame, or of the
    /// first packet of a multi-packet message.
    pub fn serial(&self) -> Option<u16> {
        let readable = self.encoding == Encoding::Hex || ascii_structured(self.direction, self.function, self.packet);
        match (readable, self.body.as_slice()) {
            (true, [a, b, ..]) => Some(u16::from_be_bytes([*a, *b])),
            _ => None,
        }
    }

    /// The bytes on the wire.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(self.body.len() * 2 + 32);
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Appends the bytes on the wire to `out` (nothing is appended on error).
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        let result = match self.encoding {
            Encoding::Hex => self.encode_hex(out),
            Encoding::Ascii => self.encode_ascii(out),
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn addresses(&self) -> ([u8; 1], [u8; 5]) {
        ([self.centre], self.station.0)
    }

    fn length_field(&self, length: usize) -> Result<[u8; 2], Error> {
        if length > MAX_BODY {
            return Err(Error::BodyTooLong { length });
        }
        Ok(((u16::from(self.direction.nibble()) << 12) | length as u16).to_be_bytes())
    }

    fn encode_hex(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        let packet_len = if self.packet.is_some() { 3 } else { 0 };
        let length = self.length_field(self.body.len() + packet_len)?;
        out.extend_from_slice(&HEX_START);
        let (centre, station) = self.addresses();
        match self.direction {
            Direction::Up => {
                out.extend_from_slice(&centre);
                out.extend_from_slice(&station);
            }
            Direction::Down => {
                out.extend_from_slice(&station);
                out.extend_from_slice(&centre);
            }
        }
        out.extend_from_slice(&self.password.to_be_bytes());
        out.push(self.function.byte());
        out.extend_from_slice(&length);
        match self.packet {
            Some(p) => {
                out.push(SYN);
                out.extend_from_slice(&p.to_bytes());
            }
            None => out.push(STX),
        }
        out.extend_from_slice(&self.body);
        out.push(self.end.byte());
        let crc = crc16(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
        Ok(())
    }

    fn encode_ascii(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        let text = if ascii_structured(self.direction, self.function, self.packet) {
            ascii::hex_to_text(self.direction, self.function, &self.body)?
        } else {
            self.body.clone()
        };
        let packet_len = if self.packet.is_some() { 6 } else { 0 };
        let length = self.length_field(text.len() + packet_len)?;
        out.push(SOH);
        let (centre, station) = self.addresses();
        match self.direction {
            Direction::Up => {
                push_hex(out, &centre);
                push_hex(out, &station);
            }
            Direction::Down => {
                push_hex(out, &station);
                push_hex(out, &centre);
            }
        }
        push_hex(out, &self.password.to_be_bytes());
        push_hex(out, &[self.function.byte()]);
        push_hex(out, &length);
        match self.packet {
            Some(p) => {
                out.push(SYN);
                push_hex(out, &p.to_bytes());
            }
            None => out.push(STX),
        }
        out.extend_from_slice(&text);
        out.push(self.end.byte());
        let crc = crc16(&out[start..]);
        push_hex(out, &crc.to_be_bytes());
        Ok(())
    }

    /// An uplink single-packet frame ending with ETX.
    pub fn uplink(
        encoding: Encoding,
        centre: u8,
        station: StationAddress,
        password: u16,
        function: FunctionCode,
        body: Vec<u8>,
    ) -> Self {
        Frame {
            encoding,
            direction: Direction::Up,
            centre,
            station,
            password,
            function,
            packet: None,
            end: EndChar::Etx,
            body,
        }
    }

    /// The centre's M2 confirm of an uplink frame: the same addresses, password and function,
    /// body = the frame's serial + `sent`, ending with `end` (EOT: may disconnect; ESC: stay
    /// online). `None` if the frame carries no serial.
    pub fn confirm(&self, sent: Time, end: EndChar) -> Option<Frame> {
        let serial = self.serial()?;
        let mut body = Vec::with_capacity(8);
        body.extend_from_slice(&serial.to_be_bytes());
        body.extend_from_slice(&sent.to_bcd6());
        Some(Frame { direction: Direction::Down, packet: None, end, body, ..self.clone_header() })
    }

    /// The centre's M3 NAK asking for packet `missing` of a multi-packet message `part` belongs
    /// to: `SYN` with the packet named, body = `serial` + `sent`, ending with NAK.
    pub fn nak(part: &Frame, missing: u16, serial: u16, sent: Time) -> Option<Frame> {
        let count = part.packet?.count;
        let packet = Packet::new(count, missing)?;
        let mut body = Vec::with_capacity(8);
        body.extend_from_slice(&serial.to_be_bytes());
        body.extend_from_slice(&sent.to_bcd6());
        Some(Frame { direction: Direction::Down, packet: Some(packet), end: EndChar::Nak, body, ..part.clone_header() })
    }

    /// This uplink frame's body split into multi-packet (M3) frames of at most `chunk` body
    /// bytes each (ETB on all but the last, which ends ETX). `chunk` is clamped to 1–4092.
    pub fn split(&self, chunk: usize) -> Vec<Frame> {
        let chunk = chunk.clamp(1, MAX_BODY - 3);
        let parts: Vec<&[u8]> = if self.body.is_empty() { vec![&[][..]] } else { self.body.chunks(chunk).collect() };
        let count = parts.len().min(0xFFF) as u16;
        parts
            .iter()
            .take(usize::from(count))
            .enumerate()
            .map(|(i, part)| Frame {
                packet: Packet::new(count, i as u16 + 1),
                end: if i + 1 == usize::from(count) { EndChar::Etx } else { EndChar::Etb },
                body: part.to_vec(),
                ..self.clone_header()
            })
            .collect()
    }

    fn clone_header(&self) -> Frame {
        Frame {
            encoding: self.encoding,
            direction: self.direction,
            centre: self.centre,
            station: self.station,
            password: self.password,
            function: self.function,
            packet: self.packet,
            end: self.end,
            body: Vec::new(),
        }
    }
}

impl Header {
    fn frame(self, encoding: Encoding, packet: Option<Packet>, end: EndChar, body: Vec<u8>) -> Frame {
        // Downlink frames carry the station address first and the centre after it.
        let (centre, station) = match self.direction {
            Direction::Up => (self.centre, self.station),
            Direction::Down => {
                let mut all = [0u8; 6];
                all[0] = self.centre;
                all[1..].copy_from_slice(&self.station.0);
                (all[5], StationAddress([all[0], all[1], all[2], all[3], all[4]]))
            }
        };
        Frame {
            encoding,
            direction: self.direction,
            centre,
            station,
            password: self.password,
            function: self.function,
            packet,
            end,
            body,
        }
    }
}

//! ASCII bodies: the text form of keep-alives, reports and confirms, turned into the HEX/BCD
//! form the rest of the crate reads, and back.
//!
//! The grammar read and written (tokens separated by spaces; the body ends with a space):
//! `SSSSYYMMDDhhmmss` (serial as 4 hex digits, send time as 12 digits; a space between the
//! two is accepted), then for a report `ST <10 hex digits> <class letter>`, `TT YYMMDDhhmm`
//! (a manual report may omit it), for a 31 report `DR<D|H|N><nn>` (the time step), then
//! elements `<name> <value>`: a decimal number (`-1.25`, missing as all `F`), `ZT` as 8 hex
//! digits, `DRP`/`DRZn` as hex digits (2 or 4 per value); a later `TT` starts a new
//! observation time. A 31 report's element is followed by all its values. Numbers are
//! stored with the standard's size for the identifier, larger if the digits need it.
//! Identifiers without a name in this crate's table are refused (no length is known).

use crate::element::{bcd_value, Identifier, Kind};
use crate::error::Error;
use crate::frame::push_hex;
use crate::types::{bcd_byte, to_bcd, Decimal, Direction, FunctionCode, Time};

/// Tokens of a text body with their offsets.
struct Tokens<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Tokens<'a> {
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        while self.text.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        while self.pos < self.text.len() && self.text[self.pos] != b' ' {
            self.pos += 1;
        }
        Some((start, &self.text[start..self.pos]))
    }

    fn peek(&self) -> Option<(usize, &'a [u8])> {
        Tokens { text: self.text, pos: self.pos }.next()
    }

    fn expect(&mut self, expected: &'static str) -> Result<(usize, &'a [u8]), Error> {
        self.next().ok_or(Error::BadAscii { offset: self.text.len(), expected })
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

fn hex_bytes(tok: &[u8], at: usize, out: &mut Vec<u8>, expected: &'static str) -> Result<(), Error> {
    if !tok.len().is_multiple_of(2) {
        return Err(Error::BadAscii { offset: at, expected });
    }
    for (i, pair) in tok.chunks(2).enumerate() {
        match (hex_digit(pair[0]), hex_digit(pair[1])) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            _ => return Err(Error::BadAscii { offset: at + 2 * i, expected }),
        }
    }
    Ok(())
}

/// Digits as BCD bytes, checked as a time of `tok.len() / 2` bytes.
fn time_bytes(tok: &[u8], at: usize, len: usize, out: &mut Vec<u8>) -> Result<(), Error> {
    if tok.len() != 2 * len || !tok.iter().all(u8::is_ascii_digit) {
        return Err(Error::BadAscii { offset: at, expected: "a time of decimal digits (YYMMDDhhmm[ss])" });
    }
    let start = out.len();
    for pair in tok.chunks(2) {
        out.push((pair[0] - b'0') << 4 | (pair[1] - b'0'));
    }
    Time::from_bcd(&out[start..], at).map_err(|_| Error::BadTime { offset: at, len })?;
    Ok(())
}

fn serial_and_time(tokens: &mut Tokens<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
    let (at, tok) = tokens.expect("the serial number and send time")?;
    let (serial, time, time_at) = if tok.len() == 16 {
        (&tok[..4], &tok[4..], at + 4)
    } else if tok.len() == 4 {
        let (t_at, t) = tokens.expect("the send time")?;
        (tok, t, t_at)
    } else {
        return Err(Error::BadAscii { offset: at, expected: "4 hex digits of serial and 12 digits of send time" });
    };
    hex_bytes(serial, at, out, "4 hex digits of serial number")?;
    time_bytes(time, time_at, 6, out)
}

/// A parsed decimal token: (negative, digits without leading zeros, decimals).
fn number(tok: &[u8], at: usize) -> Result<(bool, i64, u8), Error> {
    let bad = Error::BadAscii { offset: at, expected: "a decimal number or all F (missing)" };
    let (negative, rest) = match tok {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, tok),
    };
    let (int, frac) = match rest.iter().position(|&b| b == b'.') {
        Some(p) => (&rest[..p], &rest[p + 1..]),
        None => (rest, &[][..]),
    };
    if int.is_empty() || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return Err(bad);
    }
    if frac.len() > 7 {
        return Err(Error::BadAscii { offset: at, expected: "at most 7 decimals" });
    }
    let mut m: i64 = 0;
    let digits = int.len() + frac.len();
    for &d in int.iter().chain(frac) {
        m = m
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(d - b'0')))
            .filter(|m| *m < 1_000_000_000_000_000_000)
            .ok_or(Error::ValueTooLong { offset: at, digits })?;
    }
    // Minus zero is zero.
    Ok((negative && m != 0, m, frac.len() as u8))
}

fn digits_of(m: i64) -> usize {
    let mut n = 1;
    let mut v = m.unsigned_abs() / 10;
    while v > 0 {
        n += 1;
        v /= 10;
    }
    n
}

/// Bytes a value needs: digits packed two a byte, and a leading `FF` when negative.
pub(crate) fn bytes_needed(value: Decimal) -> usize {
    digits_of(value.mantissa).div_ceil(2) + usize::from(value.mantissa < 0)
}

/// Writes `value` (or missing) as `size` bytes of packed BCD.
pub(crate) fn put_bcd(out: &mut Vec<u8>, value: Option<Decimal>, size: usize) -> Result<(), Error> {
    let Some(value) = value else {
        out.extend(std::iter::repeat_n(0xFF, size));
        return Ok(());
    };
    if bytes_needed(value) > size || size > 31 {
        return Err(Error::ValueDoesNotFit { mantissa: value.mantissa, scale: value.scale, bytes: size });
    }
    let start = out.len();
    let negative = value.mantissa < 0;
    let mut v = value.mantissa.unsigned_abs();
    out.extend(std::iter::repeat_n(0u8, size));
    let digits_end = if negative { start + 1 } else { start };
    let mut i = start + size;
    while i > digits_end {
        i -= 1;
        out[i] = to_bcd((v % 100) as u8);
        v /= 100;
    }
    if negative {
        out[start] = 0xFF;
    }
    Ok(())
}

fn is_missing(tok: &[u8]) -> bool {
    !tok.is_empty() && tok.len().is_multiple_of(2) && tok.iter().all(|&b| b == b'F' || b == b'f')
}

fn is_step(tok: &[u8]) -> bool {
    matches!(tok, [b'D', b'R', b'D' | b'H' | b'N', a, b] if a.is_ascii_digit() && b.is_ascii_digit())
}

/// An ASCII body as its HEX/BCD form. Offsets in errors count from the start of `text`.
pub fn text_to_hex(direction: Direction, function: FunctionCode, text: &[u8]) -> Result<Vec<u8>, Error> {
    let function = function.normalized();
    let mut tokens = Tokens { text, pos: 0 };
    let mut out = Vec::with_capacity(text.len() / 2 + 8);
    serial_and_time(&mut tokens, &mut out)?;
    if direction == Direction::Down || function == FunctionCode::KeepAlive {
        if let Some((at, _)) = tokens.next() {
            return Err(Error::BadAscii { offset: at, expected: "the end of the body" });
        }
        return Ok(out);
    }
    // ST station class
    let (at, st) = tokens.expect("ST")?;
    if st != b"ST" {
        return Err(Error::BadAscii { offset: at, expected: "ST" });
    }
    out.extend_from_slice(&[0xF1, 0xF1]);
    let (at, address) = tokens.expect("the station address")?;
    if address.len() != 10 {
        return Err(Error::BadAscii { offset: at, expected: "10 hex digits of station address" });
    }
    hex_bytes(address, at, &mut out, "10 hex digits of station address")?;
    let (at, class) = tokens.expect("the station class letter")?;
    match class {
        [c] if c.is_ascii_graphic() => out.push(*c),
        _ => return Err(Error::BadAscii { offset: at, expected: "one station class letter" }),
    }
    match tokens.peek() {
        Some((_, b"TT")) => {
            tokens.next();
            let (at, time) = tokens.expect("the observation time")?;
            out.extend_from_slice(&[0xF0, 0xF0]);
            time_bytes(time, at, 5, &mut out)?;
        }
        _ if function == FunctionCode::Manual => {}
        other => {
            return Err(Error::BadAscii { offset: other.map(|(at, _)| at).unwrap_or(text.len()), expected: "TT" });
        }
    }
    let uniform = function == FunctionCode::UniformInterval;
    if uniform {
        let (at, step) = tokens.expect("the time step DRxnn")?;
        if !is_step(step) {
            return Err(Error::MissingTimeStep { offset: at });
        }
        let n = (step[3] - b'0') * 10 + (step[4] - b'0');
        if n == 0 {
            return Err(Error::BadAscii { offset: at, expected: "a time step of at least 1" });
        }
        let dhm = match step[2] {
            b'D' => [n, 0, 0],
            b'H' => [0, n, 0],
            _ => [0, 0, n],
        };
        out.extend_from_slice(&[0x04, 0x18]);
        out.extend(dhm.map(to_bcd));
    }
    while let Some((at, name)) = tokens.next() {
        if name == b"TT" {
            let (t_at, time) = tokens.expect("the observation time")?;
            out.extend_from_slice(&[0xF0, 0xF0]);
            time_bytes(time, t_at, 5, &mut out)?;
            continue;
        }
        let id = std::str::from_utf8(name)
            .ok()
            .and_then(Identifier::from_name)
            .ok_or(Error::UnknownAsciiElement { offset: at })?;
        match id.kind() {
            Kind::Number => {
                let mut values = Vec::new();
                if uniform {
                    while let Some(v) = tokens.next() {
                        values.push(v);
                    }
                } else {
                    values.push(tokens.expect("a value")?);
                }
                put_numbers(&mut out, id, &values)?;
            }
            Kind::Status => {
                let (v_at, v) = tokens.expect("8 hex digits of status")?;
                if v.len() != 8 {
                    return Err(Error::BadAscii { offset: v_at, expected: "8 hex digits of status" });
                }
                out.extend_from_slice(&[0x45, 4 << 3]);
                hex_bytes(v, v_at, &mut out, "8 hex digits of status")?;
            }
            Kind::Rain5Min | Kind::Level5Min => {
                let per = if id.kind() == Kind::Rain5Min { 2 } else { 4 };
                let (v_at, v) = tokens.expect("hex digits of a 5-minute series")?;
                if v.is_empty() || v.len() % per != 0 || v.len() / 2 > 31 {
                    return Err(Error::BadAscii {
                        offset: v_at,
                        expected: "hex digits of whole 5-minute values (at most 31 bytes)",
                    });
                }
                let Identifier::Standard(code) = id else { unreachable!("series are standard") };
                out.extend_from_slice(&[code, ((v.len() / 2) as u8) << 3]);
                hex_bytes(v, v_at, &mut out, "hex digits of a 5-minute series")?;
            }
            _ => return Err(Error::UnknownAsciiElement { offset: at }),
        }
    }
    if out.len() > crate::frame::MAX_BODY {
        return Err(Error::BodyTooLong { length: out.len() });
    }
    Ok(out)
}

/// Numbers of one element (one, or a 31 report's n) as identifier, definition and BCD.
fn put_numbers(out: &mut Vec<u8>, id: Identifier, values: &[(usize, &[u8])]) -> Result<(), Error> {
    let (std_bytes, std_decimals) = id.standard_format().unwrap_or((1, 0));
    let mut parsed = Vec::with_capacity(values.len());
    let mut size = usize::from(std_bytes);
    let mut decimals = None::<u8>;
    for &(at, tok) in values {
        if is_missing(tok) {
            size = size.max(tok.len() / 2);
            parsed.push((at, None));
        } else {
            let (negative, m, scale) = number(tok, at)?;
            decimals = Some(decimals.map_or(scale, |d| d.max(scale)));
            parsed.push((at, Some((negative, m, scale))));
        }
    }
    let decimals = decimals.unwrap_or(std_decimals);
    let mut scaled = Vec::with_capacity(parsed.len());
    for (at, v) in parsed {
        let value = match v {
            None => None,
            Some((negative, m, scale)) => {
                let m = m
                    .checked_mul(10i64.pow(u32::from(decimals - scale)))
                    .filter(|m| *m < 1_000_000_000_000_000_000)
                    .ok_or(Error::ValueTooLong { offset: at, digits: 19 })?;
                let value = Decimal::new(if negative { -m } else { m }, decimals);
                size = size.max(bytes_needed(value));
                Some(value)
            }
        };
        scaled.push(value);
    }
    if size > 31 {
        return Err(Error::ValueTooLong { offset: values.first().map(|v| v.0).unwrap_or(0), digits: size * 2 });
    }
    let Identifier::Standard(code) = id else { unreachable!("named identifiers are standard") };
    out.extend_from_slice(&[code, (size as u8) << 3 | decimals]);
    for value in scaled {
        put_bcd(out, value, size)?;
    }
    Ok(())
}

/// A HEX/BCD body of a keep-alive, report or confirm as ASCII text.
pub fn hex_to_text(direction: Direction, function: FunctionCode, body: &[u8]) -> Result<Vec<u8>, Error> {
    let function = function.normalized();
    let mut out = Vec::with_capacity(body.len() * 2 + 16);
    let head = body.get(..8).ok_or(Error::BodyTooShort { offset: 0, need: 8 - body.len().min(8) })?;
    push_hex(&mut out, &head[..2]);
    Time::from_bcd(&head[2..8], 2)?;
    push_hex(&mut out, &head[2..8]);
    if direction == Direction::Down || function == FunctionCode::KeepAlive {
        if body.len() != 8 {
            return Err(Error::NotAscii { what: "a confirm or keep-alive body longer than serial and time" });
        }
        return Ok(out);
    }
    let report = match crate::body::parse_body(function, direction, body)? {
        crate::Body::Report(r) => r,
        _ => return Err(Error::NotAscii { what: "a body that is no report" }),
    };
    out.extend_from_slice(b" ST ");
    push_hex(&mut out, &report.station.0);
    let class = report.class.byte();
    if !class.is_ascii_graphic() {
        return Err(Error::NotAscii { what: "a station class that is no printable letter" });
    }
    out.push(b' ');
    out.push(class);
    out.push(b' ');
    if let Some(t) = report.observed {
        out.extend_from_slice(b"TT ");
        push_digits(&mut out, &t.to_bcd5());
        out.push(b' ');
    }
    if let Some(step) = report.step {
        let (unit, n) = match (step.days, step.hours, step.minutes) {
            (d, 0, 0) if d > 0 => (b'D', d),
            (0, h, 0) if h > 0 => (b'H', h),
            (0, 0, m) if m > 0 => (b'N', m),
            _ => return Err(Error::NotAscii { what: "a time step in more than one unit" }),
        };
        out.extend_from_slice(b"DR");
        out.push(unit);
        push_digits(&mut out, &[to_bcd(n)]);
        out.push(b' ');
    }
    for element in report.elements() {
        let e = element?;
        match e.id.kind() {
            Kind::ObservationTime => {
                out.extend_from_slice(b"TT ");
                push_digits(&mut out, e.data);
            }
            Kind::Number => {
                out.extend_from_slice(e.id.name().unwrap_or_default().as_bytes());
                let size = e.size();
                for (i, chunk) in e.data.chunks(size).enumerate() {
                    out.push(b' ');
                    match bcd_value(chunk, e.decimals(), e.offset + i * size)? {
                        Some(v) => out.extend_from_slice(v.to_string().as_bytes()),
                        None => out.extend(std::iter::repeat_n(b'F', 2 * size)),
                    }
                }
            }
            Kind::Status | Kind::Rain5Min | Kind::Level5Min if !e.data.is_empty() => {
                out.extend_from_slice(e.id.name().unwrap_or_default().as_bytes());
                out.push(b' ');
                push_hex(&mut out, e.data);
            }
            _ => return Err(Error::NotAscii { what: "an element with no name in the ASCII table" }),
        }
        out.push(b' ');
    }
    Ok(out)
}

/// BCD bytes as their decimal digits.
fn push_digits(out: &mut Vec<u8>, bcd: &[u8]) {
    for &b in bcd {
        let v = bcd_byte(b).unwrap_or(0);
        out.push(b'0' + v / 10);
        out.push(b'0' + v % 10);
    }
}

//! The streaming decoder for a TCP byte stream: bytes in ([`Decoder::feed`]), frames or
//! precise errors out ([`Decoder::decode`]), in a bounded buffer.
//!
//! Frames are found by start (`7E 7E` or `SOH`) + length + CRC. A failed candidate (bad
//! direction, length, end char or CRC) is reported and only its first byte is skipped before
//! scanning again, since `7E` also occurs inside frames. A candidate still waiting for bytes
//! does not hold up a complete, valid frame behind it: if one is found later in the buffer,
//! the false start is skipped as garbage. The buffer never holds more than twice the largest
//! frame; [`Decoder::feed`] takes what fits.

use crate::error::Error;
use crate::frame::{Frame, Parsed, MAX_BODY};
use crate::types::SOH;

/// A frame taken from the stream, with the bytes it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The frame.
    pub frame: Frame,
    /// The bytes as received (for the archive).
    pub raw: Vec<u8>,
    /// Stream offset of its first byte.
    pub offset: usize,
}

/// Counters for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes fed.
    pub bytes: u64,
    /// Frames decoded.
    pub frames: u64,
    /// Errors reported (garbage runs included).
    pub errors: u64,
    /// Times the decoder skipped bytes to find the next frame.
    pub resyncs: u64,
    /// Bytes skipped (garbage and the first bytes of failed candidates).
    pub skipped_bytes: u64,
}

/// A streaming SL 651 decoder for one connection.
#[derive(Debug, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Index in `buf` of the first byte not consumed.
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: usize,
    max_body: usize,
    capacity: usize,
    /// A run of skipped bytes not yet reported: (stream offset, length).
    garbage: Option<(usize, usize)>,
    /// Whether bytes arrived since the last look past a waiting candidate.
    fresh: bool,
    stats: Stats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

/// Largest frame on the wire for a body of `max_body` (ASCII is the longer form).
fn max_frame(max_body: usize) -> usize {
    24 + max_body + 5
}

impl Decoder {
    /// A decoder accepting bodies up to the protocol's 4095 bytes.
    pub fn new() -> Self {
        Decoder::with_max_body(MAX_BODY)
    }

    /// A decoder refusing bodies over `max_body` (at most 4095, at least 1).
    pub fn with_max_body(max_body: usize) -> Self {
        let max_body = max_body.clamp(1, MAX_BODY);
        let capacity = 2 * max_frame(max_body);
        Decoder {
            buf: Vec::with_capacity(capacity),
            start: 0,
            offset: 0,
            max_body,
            capacity,
            garbage: None,
            fresh: false,
            stats: Stats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Bytes held, not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// How many more bytes [`Decoder::feed`] would take now.
    pub fn room(&self) -> usize {
        self.capacity - self.buffered()
    }

    /// Takes as many of `data` as fit in the bounded buffer and returns how many it took; call
    /// [`Decoder::decode`] until it returns `None`, then feed the rest.
    pub fn feed(&mut self, data: &[u8]) -> usize {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let n = data.len().min(self.room());
        self.buf.extend_from_slice(&data[..n]);
        self.stats.bytes += n as u64;
        if n > 0 {
            self.fresh = true;
        }
        n
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n;
    }

    fn skip_garbage(&mut self, n: usize) {
        match &mut self.garbage {
            Some((_, len)) => *len += n,
            None => {
                self.garbage = Some((self.offset, n));
                self.stats.resyncs += 1;
            }
        }
        self.stats.skipped_bytes += n as u64;
        self.consume(n);
    }

    fn report_garbage(&mut self) -> Option<Error> {
        let (offset, len) = self.garbage.take()?;
        self.stats.errors += 1;
        Some(Error::Garbage { offset, len })
    }

    /// The next frame or error, or `None` when more bytes are needed.
    pub fn decode(&mut self) -> Option<Result<Received, Error>> {
        loop {
            let data = &self.buf[self.start..];
            // Find a start candidate: `7E 7E` (or a final `7E` that may become one) or SOH.
            let candidate = data
                .iter()
                .enumerate()
                .position(|(i, &b)| b == SOH || (b == 0x7E && data.get(i + 1).is_none_or(|&n| n == 0x7E)));
            match candidate {
                None => {
                    let n = data.len();
                    if n > 0 {
                        self.skip_garbage(n);
                    }
                    return self.report_garbage().map(Err);
                }
                Some(i) if i > 0 => {
                    self.skip_garbage(i);
                    continue;
                }
                Some(_) => {}
            }
            let is_ascii = data[0] == SOH;
            match Frame::parse(data, self.max_body) {
                Ok(Parsed::Frame { frame, len }) => {
                    if let Some(g) = self.report_garbage() {
                        return Some(Err(g));
                    }
                    let raw = self.buf[self.start..self.start + len].to_vec();
                    let offset = self.offset;
                    self.consume(len);
                    self.stats.frames += 1;
                    return Some(Ok(Received { frame, raw, offset }));
                }
                Ok(Parsed::Invalid { len, error }) => {
                    if let Some(g) = self.report_garbage() {
                        return Some(Err(g));
                    }
                    let error = error.shifted(self.offset);
                    self.consume(len);
                    self.stats.errors += 1;
                    return Some(Err(error));
                }
                Ok(Parsed::Incomplete { .. }) => {
                    let found = if self.fresh { self.complete_frame_after(&self.buf[self.start..]) } else { None };
                    self.fresh = false;
                    if let Some(q) = found {
                        self.skip_garbage(q);
                        continue;
                    }
                    return self.report_garbage().map(Err);
                }
                Err(Error::BadHexDigit { .. } | Error::BadDirection { .. } | Error::BadBodyStart { .. })
                    if is_ascii =>
                {
                    // A stray SOH in binary data: not a frame start.
                    self.skip_garbage(1);
                    continue;
                }
                Err(error) => {
                    if let Some(g) = self.report_garbage() {
                        return Some(Err(g));
                    }
                    let error = error.shifted(self.offset);
                    self.consume(1);
                    self.stats.skipped_bytes += 1;
                    self.stats.resyncs += 1;
                    self.stats.errors += 1;
                    return Some(Err(error));
                }
            }
        }
    }

    /// The offset of the first complete frame (valid CRC) after the start of `data`.
    fn complete_frame_after(&self, data: &[u8]) -> Option<usize> {
        (1..data.len()).find(|&q| {
            let rest = &data[q..];
            let start = rest[0] == SOH || rest.starts_with(&[0x7E, 0x7E]);
            start && matches!(Frame::parse(rest, self.max_body), Ok(Parsed::Frame { .. } | Parsed::Invalid { .. }))
        })
    }

    /// The end of the stream: what is left (a truncated frame or garbage) as an error, and the
    /// buffer emptied. Call after [`Decoder::decode`] returned `None`.
    pub fn finish(&mut self) -> Option<Error> {
        if let Some(g) = self.report_garbage() {
            return Some(g);
        }
        let data = &self.buf[self.start..];
        if data.is_empty() {
            return None;
        }
        let have = data.len();
        let need = match Frame::parse(data, self.max_body) {
            Ok(Parsed::Incomplete { need }) => need,
            _ => have,
        };
        let offset = self.offset;
        self.stats.errors += 1;
        self.stats.skipped_bytes += have as u64;
        self.consume(have);
        Some(Error::Truncated { offset, have, need })
    }
}

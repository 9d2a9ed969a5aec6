//! Multi-packet (M3) reassembly, pure and bounded.
//!
//! Packets are held per (station, function): only the first packet's body carries the serial
//! number, so later packets cannot be told apart by it. A packet numbered 1 with a different
//! count starts a new message (the station gave up the old one). When the last packet is in
//! and some are missing, [`Progress::Gap`] names the first missing one so that the server can
//! NAK it ([`Frame::nak`](crate::Frame::nak)); a resent packet replaces the one held.

use crate::ascii;
use crate::error::Error;
use crate::frame::Frame;
use crate::types::{Encoding, FunctionCode, StationAddress};

/// A whole multi-packet message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    /// The first packet's header (its `packet` names packet 1); `body` is the whole message
    /// in the form it was sent (ASCII text for an ASCII message).
    pub frame: Frame,
}

impl Assembled {
    /// The body in HEX/BCD form (an ASCII message's text turned into it).
    pub fn hex_body(&self) -> Result<Vec<u8>, Error> {
        match self.frame.encoding {
            Encoding::Hex => Ok(self.frame.body.clone()),
            Encoding::Ascii => ascii::text_to_hex(self.frame.direction, self.frame.function, &self.frame.body),
        }
    }
}

/// What one packet did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Held; more are expected.
    Pending {
        /// Packets in the message.
        count: u16,
        /// Packets held so far.
        received: u16,
    },
    /// The last packet is in but `missing` (the first gap) never came: NAK it.
    Gap {
        /// The first missing packet number.
        missing: u16,
        /// Packets in the message.
        count: u16,
    },
    /// Every packet is in.
    Complete(Assembled),
}

#[derive(Debug, Clone)]
struct Pending {
    station: StationAddress,
    function: FunctionCode,
    count: u16,
    parts: Vec<Option<Frame>>,
    received: u16,
    bytes: usize,
    last_used: u64,
}

/// Holds the packets of messages being assembled, within bounds.
#[derive(Debug, Clone)]
pub struct Reassembler {
    pending: Vec<Pending>,
    max_messages: usize,
    max_bytes: usize,
    clock: u64,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(16, 1 << 20)
    }
}

impl Reassembler {
    /// At most `max_messages` messages at once (the least recently used is dropped for a new
    /// one) of at most `max_bytes` body bytes each.
    pub fn new(max_messages: usize, max_bytes: usize) -> Self {
        Reassembler { pending: Vec::new(), max_messages: max_messages.max(1), max_bytes, clock: 0 }
    }

    /// Messages being assembled.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Drops the message of `station` and `function`, if held (e.g. on a timeout).
    pub fn abandon(&mut self, station: StationAddress, function: FunctionCode) {
        self.pending.retain(|p| !(p.station == station && p.function == function));
    }

    /// Takes one packet.
    pub fn push(&mut self, frame: &Frame) -> Result<Progress, Error> {
        let packet = frame.packet.ok_or(Error::NotMultiPacket)?;
        self.clock += 1;
        let function = frame.function.normalized();
        let index = self.pending.iter().position(|p| p.station == frame.station && p.function == function);
        let index = match index {
            Some(i) if self.pending[i].count == packet.count => i,
            Some(i) if packet.seq == 1 => {
                self.pending.remove(i);
                self.start(frame, packet.count)
            }
            Some(i) => {
                return Err(Error::PacketMismatch {
                    count: packet.count,
                    seq: packet.seq,
                    held: self.pending[i].count,
                });
            }
            None => self.start(frame, packet.count),
        };
        let max_bytes = self.max_bytes;
        let p = &mut self.pending[index];
        p.last_used = self.clock;
        let slot = &mut p.parts[usize::from(packet.seq - 1)];
        let old = slot.as_ref().map(|f| f.body.len()).unwrap_or(0);
        if slot.is_none() {
            p.received += 1;
        }
        p.bytes = p.bytes - old + frame.body.len();
        *slot = Some(frame.clone());
        if p.bytes > max_bytes {
            self.pending.remove(index);
            return Err(Error::MessageTooLarge { max: max_bytes });
        }
        if p.received == p.count {
            let p = self.pending.remove(index);
            let mut parts = p.parts.into_iter().flatten();
            let mut first = parts.next().expect("count >= 1 packets are held");
            for part in parts {
                first.body.extend_from_slice(&part.body);
            }
            first.end = crate::EndChar::Etx;
            return Ok(Progress::Complete(Assembled { frame: first }));
        }
        // The last packet is in (now or before): name the first gap.
        if p.parts.last().is_some_and(Option::is_some) {
            let missing = p.parts.iter().position(Option::is_none).map(|i| i as u16 + 1).unwrap_or(1);
            return Ok(Progress::Gap { missing, count: p.count });
        }
        Ok(Progress::Pending { count: p.count, received: p.received })
    }

    fn start(&mut self, frame: &Frame, count: u16) -> usize {
        if self.pending.len() >= self.max_messages {
            if let Some(oldest) = self.pending.iter().enumerate().min_by_key(|(_, p)| p.last_used).map(|(i, _)| i) {
                self.pending.remove(oldest);
            }
        }
        self.pending.push(Pending {
            station: frame.station,
            function: frame.function.normalized(),
            count,
            parts: vec![None; usize::from(count)],
            received: 0,
            bytes: 0,
            last_used: self.clock,
        });
        self.pending.len() - 1
    }
}

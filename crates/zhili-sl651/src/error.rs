//! The one error type of the codec: where (a byte offset) and what was expected.
//!
//! Offsets of framing errors count from the start of the stream the [`Decoder`] was fed (or
//! of the slice given to [`Frame::parse`]); offsets of body errors count from the first byte
//! of the body (after `STX`). `Display` is English; the server localises by [`Error::code`].
//!
//! [`Decoder`]: crate::Decoder
//! [`Frame::parse`]: crate::Frame::parse

use crate::element::Identifier;

/// Everything that can be wrong with bytes, bodies, packets or values to encode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bytes that start no frame were skipped.
    #[error("{len} bytes at offset {offset} start no frame (expected 7E 7E or SOH) and were skipped")]
    Garbage {
        /// First skipped byte.
        offset: usize,
        /// How many bytes were skipped.
        len: usize,
    },
    /// The high nibble of the length field is neither 0 (up) nor 8 (down).
    #[error("byte at offset {offset}: direction nibble {nibble:X}, expected 0 (up) or 8 (down)")]
    BadDirection {
        /// Offset of the length field.
        offset: usize,
        /// The nibble found.
        nibble: u8,
    },
    /// The body length is 0, or too short for the packet count of a SYN frame.
    #[error("byte at offset {offset}: body length {length} is too short (at least {min})")]
    LengthTooShort {
        /// Offset of the length field.
        offset: usize,
        /// The length sent.
        length: usize,
        /// The least length this frame can have.
        min: usize,
    },
    /// The body length is over the protocol's 4095 or the decoder's configured maximum.
    #[error("byte at offset {offset}: body length {length} is over the maximum {max}")]
    LengthOverMax {
        /// Offset of the length field.
        offset: usize,
        /// The length sent.
        length: usize,
        /// The maximum accepted.
        max: usize,
    },
    /// The byte after the header is neither STX nor SYN.
    #[error("byte at offset {offset} is {found:02X}, expected STX (02) or SYN (16)")]
    BadBodyStart {
        /// Offset of the byte.
        offset: usize,
        /// The byte found.
        found: u8,
    },
    /// The byte after the body is no end char.
    #[error("byte at offset {offset} is {found:02X}, expected an end char (ETX 03, ETB 17, ENQ 05, ACK 06, NAK 15, EOT 04 or ESC 1B)")]
    BadEnd {
        /// Offset where the end char should be (start + header + length).
        offset: usize,
        /// The byte found.
        found: u8,
    },
    /// The CRC sent is not the CRC of the frame.
    #[error("frame at offset {offset}: CRC {found:04X} sent, {computed:04X} computed")]
    BadCrc {
        /// Offset of the frame's first byte.
        offset: usize,
        /// The CRC in the frame.
        found: u16,
        /// The CRC of the bytes.
        computed: u16,
    },
    /// An ASCII frame has a byte that is no hex digit where one is expected.
    #[error("byte at offset {offset} is {found:02X}, expected an ASCII hex digit")]
    BadHexDigit {
        /// Offset of the byte.
        offset: usize,
        /// The byte found.
        found: u8,
    },
    /// A SYN frame's packet count/sequence is not `1 <= seq <= count`.
    #[error("byte at offset {offset}: packet {seq} of {count}, expected 1 <= sequence <= count")]
    BadPacket {
        /// Offset of the packet field.
        offset: usize,
        /// The packet count sent.
        count: u16,
        /// The sequence number sent.
        seq: u16,
    },
    /// The stream ended inside a frame.
    #[error("frame at offset {offset} is truncated: {have} of {need} bytes")]
    Truncated {
        /// Offset of the frame's first byte.
        offset: usize,
        /// Bytes received.
        have: usize,
        /// Bytes the header announces (or the header's own size).
        need: usize,
    },
    /// The body ends before a field it must hold.
    #[error("body offset {offset}: {need} more bytes expected, the body ends")]
    BodyTooShort {
        /// Where the field starts.
        offset: usize,
        /// How many bytes it needs.
        need: usize,
    },
    /// A byte that must be packed BCD has a nibble over 9.
    #[error("body offset {offset}: byte {found:02X} is not packed BCD")]
    BadBcd {
        /// Offset of the byte.
        offset: usize,
        /// The byte found.
        found: u8,
    },
    /// A BCD time names no real moment (month 13, 31 April, 24:00…).
    #[error("body offset {offset}: the {len}-byte time is not a valid date and time")]
    BadTime {
        /// Where the time starts.
        offset: usize,
        /// Its length (6 with seconds, 5 without).
        len: usize,
    },
    /// A two-byte marker (`F1 F1` station, `F0 F0` observation time) is missing.
    #[error("body offset {offset}: expected {expected:02X} {expected:02X}, found {found:02X?}")]
    MissingMarker {
        /// Where the marker should be.
        offset: usize,
        /// The marker byte expected (twice).
        expected: u8,
        /// The bytes found (fewer at the end of the body).
        found: Vec<u8>,
    },
    /// An element's data does not have the size its identifier needs.
    #[error("body offset {offset}: element {id} has {len} data bytes, expected {expected}")]
    BadElementLength {
        /// Offset of the element's identifier.
        offset: usize,
        /// The element.
        id: Identifier,
        /// Data bytes the definition byte gives.
        len: usize,
        /// What the identifier needs.
        expected: &'static str,
    },
    /// A value has more digits than an `i64` holds (18).
    #[error("body offset {offset}: a value of {digits} digits is longer than 18")]
    ValueTooLong {
        /// Offset of the value.
        offset: usize,
        /// Its number of digits.
        digits: usize,
    },
    /// Uniform-interval values do not divide into whole values.
    #[error("body offset {offset}: {len} bytes of values are not a multiple of {size}")]
    RaggedSeries {
        /// Offset of the first value.
        offset: usize,
        /// Bytes of values.
        len: usize,
        /// Bytes per value.
        size: usize,
    },
    /// A uniform-interval (31) report lacks its time-step code `04 18`.
    #[error("body offset {offset}: expected the time-step code 04 18 of a uniform-interval report")]
    MissingTimeStep {
        /// Where it should be.
        offset: usize,
    },
    /// An ASCII body has text that is not what the grammar expects there.
    #[error("ASCII body offset {offset}: expected {expected}")]
    BadAscii {
        /// Offset of the token.
        offset: usize,
        /// What the grammar expects.
        expected: &'static str,
    },
    /// An ASCII body names an element this codec does not know (its length is unknown).
    #[error("ASCII body offset {offset}: unknown element name")]
    UnknownAsciiElement {
        /// Offset of the name.
        offset: usize,
    },
    /// A body to encode is longer than the 4095 bytes the length field holds.
    #[error("a body of {length} bytes is over the protocol's 4095")]
    BodyTooLong {
        /// Its length.
        length: usize,
    },
    /// Something in a HEX body has no ASCII form.
    #[error("cannot be written as ASCII: {what}")]
    NotAscii {
        /// What it is.
        what: &'static str,
    },
    /// A value to encode does not fit the element's size or scale.
    #[error("value {mantissa}e-{scale} does not fit {bytes} bytes")]
    ValueDoesNotFit {
        /// The value's digits.
        mantissa: i64,
        /// Its scale.
        scale: u8,
        /// The bytes it was to fit.
        bytes: usize,
    },
    /// A multi-packet frame does not belong with the packets held for its station and function.
    #[error("packet {seq} of {count} does not match the message being assembled ({held} packets)")]
    PacketMismatch {
        /// Its count.
        count: u16,
        /// Its sequence.
        seq: u16,
        /// The count of the message held.
        held: u16,
    },
    /// A message being reassembled grew past the configured bound; it was dropped.
    #[error("the message being assembled is over {max} bytes and was dropped")]
    MessageTooLarge {
        /// The bound.
        max: usize,
    },
    /// A frame given to the reassembler is not a multi-packet frame.
    #[error("the frame is not a multi-packet (SYN) frame")]
    NotMultiPacket,
}

impl Error {
    /// The stable code the server maps to a localised message.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Garbage { .. } => "sl651_garbage",
            Error::BadDirection { .. } => "sl651_bad_direction",
            Error::LengthTooShort { .. } => "sl651_length_too_short",
            Error::LengthOverMax { .. } => "sl651_length_over_max",
            Error::BadBodyStart { .. } => "sl651_bad_body_start",
            Error::BadEnd { .. } => "sl651_bad_end",
            Error::BadCrc { .. } => "sl651_bad_crc",
            Error::BadHexDigit { .. } => "sl651_bad_hex_digit",
            Error::BadPacket { .. } => "sl651_bad_packet",
            Error::Truncated { .. } => "sl651_truncated",
            Error::BodyTooShort { .. } => "sl651_body_too_short",
            Error::BadBcd { .. } => "sl651_bad_bcd",
            Error::BadTime { .. } => "sl651_bad_time",
            Error::MissingMarker { .. } => "sl651_missing_marker",
            Error::BadElementLength { .. } => "sl651_bad_element_length",
            Error::ValueTooLong { .. } => "sl651_value_too_long",
            Error::RaggedSeries { .. } => "sl651_ragged_series",
            Error::MissingTimeStep { .. } => "sl651_missing_time_step",
            Error::BadAscii { .. } => "sl651_bad_ascii",
            Error::UnknownAsciiElement { .. } => "sl651_unknown_ascii_element",
            Error::BodyTooLong { .. } => "sl651_body_too_long",
            Error::NotAscii { .. } => "sl651_not_ascii",
            Error::ValueDoesNotFit { .. } => "sl651_value_does_not_fit",
            Error::PacketMismatch { .. } => "sl651_packet_mismatch",
            Error::MessageTooLarge { .. } => "sl651_message_too_large",
            Error::NotMultiPacket => "sl651_not_multi_packet",
        }
    }

    /// The same error with its offset moved by `base` (a body error placed in its frame).
    pub fn shifted(mut self, base: usize) -> Self {
        match &mut self {
            Error::Garbage { offset, .. }
            | Error::BadDirection { offset, .. }
            | Error::LengthTooShort { offset, .. }
            | Error::LengthOverMax { offset, .. }
            | Error::BadBodyStart { offset, .. }
            | Error::BadEnd { offset, .. }
            | Error::BadCrc { offset, .. }
            | Error::BadHexDigit { offset, .. }
            | Error::BadPacket { offset, .. }
            | Error::Truncated { offset, .. }
            | Error::BodyTooShort { offset, .. }
            | Error::BadBcd { offset, .. }
            | Error::BadTime { offset, .. }
            | Error::MissingMarker { offset, .. }
            | Error::BadElementLength { offset, .. }
            | Error::ValueTooLong { offset, .. }
            | Error::RaggedSeries { offset, .. }
            | Error::MissingTimeStep { offset }
            | Error::BadAscii { offset, .. }
            | Error::UnknownAsciiElement { offset } => *offset += base,
            Error::BodyTooLong { .. }
            | Error::NotAscii { .. }
            | Error::ValueDoesNotFit { .. }
            | Error::PacketMismatch { .. }
            | Error::MessageTooLarge { .. }
            | Error::NotMultiPacket => {}
        }
        self
    }
}

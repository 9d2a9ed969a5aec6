//! SL 651-2014 (水文监测数据通信规约) frame codec: bytes in, typed frames out, and the encoder.
//!
//! Automatic rain and water-level stations report to the centre in this protocol, as HEX/BCD
//! frames (`7E 7E`) or ASCII frames (`SOH`). This crate is the codec only: no I/O, no async,
//! no other Zhili crate, so that it can be fuzzed and tested on its own.
//!
//! - [`Decoder`]: a streaming decoder for a TCP byte stream (bounded buffer, resynchronises on
//!   garbage and bad CRCs, precise [`Error`]s with byte offsets, [`Stats`] for metrics).
//! - [`Frame`]: one frame, up or down; [`Frame::body`] reads its body by function as a
//!   zero-copy view ([`Body`], [`Report`], [`Elements`]); values are [`Decimal`]s that keep
//!   every digit sent.
//! - [`Frame::encode`], [`ReportBuilder`], [`Frame::confirm`], [`Frame::nak`], [`Frame::split`]:
//!   the encoder, for the server's replies, the station simulator and the tests.
//! - [`Reassembler`]: multi-packet (M3) messages, with gaps named for a NAK.
//!
//! The CRC is CRC-16/MODBUS sent high byte first ([`crc16`]).

mod ascii;
mod body;
mod build;
mod decoder;
mod element;
mod error;
mod frame;
mod reassemble;
mod types;

pub use ascii::{hex_to_text, text_to_hex};
pub use body::{parse_body, Body, Report};
pub use build::{keep_alive_body, ReportBuilder};
pub use decoder::{Decoder, Received, Stats};
pub use element::{bcd_value, Element, Elements, Identifier, Kind, Series, Status, StatusFlag, TimeStep, Values};
pub use error::Error;
pub use frame::{crc16, Frame, Parsed, MAX_BODY};
pub use reassemble::{Assembled, Progress, Reassembler};
pub use types::{
    bcd_byte, to_bcd, Decimal, Direction, Encoding, EndChar, FunctionCode, Packet, StationAddress, StationClass, Time,
    HEX_START, SOH, STX, SYN,
};

//! The SL 651 TCP listener (遥测站接入): one tokio task per station connection, each with a
//! bounded read buffer and the codec's bounded [`Decoder`], under a cap on open connections.
//!
//! **Per frame.** HEX and ASCII frames are decoded by `zhili-sl651` (resynchronising after
//! garbage, bad CRCs and truncated frames, each counted by kind). The frame's station address
//! is looked up once per connection (`FloodModelStore::station_by_sl651_address`). A
//! registered station's frame is converted (`flood::convert`) and handed to the group-commit
//! writer (`flood::ingest::submit`); its **M2 confirm** (the serial echoed, the centre's time,
//! ending ESC: stay online) is written only when the writer answers that the frame is on disk —
//! also for a resend the store found a duplicate, which is confirmed again and stored once.
//! Keep-alives (2F) are not answered (the standard says no reply) and update liveness. Multi-packet
//! (M3) messages are reassembled per connection; when the last packet is in and one is missing
//! the centre sends a NAK naming it; the whole message gets one confirm once stored. A confirm
//! is sent in every link mode: an M1 station ignores it.
//!
//! **Unknown stations** (an address no station has) go to the quarantine
//! (`QuarantineStore::quarantine_contact`), are counted and are **not confirmed**: a confirm
//! tells the station its data is safe at the centre, and it would then drop it, yet nothing of
//! it is stored as observations. Unconfirmed, the station keeps the data (and resends twice);
//! once an administrator accepts it, its next frames are stored and confirmed.
//!
//! **What is refused, and how.** A frame whose body does not read past some element is
//! archived whole with the values before it, counted `bad_body`, and confirmed (it is safely
//! stored; a resend would be the same bytes). Functions other than 2F–36 and E0–FF (query
//! answers, configuration frames, reserved codes) and downlink frames are counted and dropped.
//! User-defined frames (E0–FF) are archived raw and not confirmed (their protocol is the
//! vendor's). If the store fails, the frame is not confirmed (the station resends it).
//!
//! **Timeouts and floods.** A connection silent for `sl651_idle_timeout` is closed; a confirm
//! not written within 10 s closes it. Every frame and every stream error takes a token of the
//! connection's bucket (`sl651_frames_per_second`, burst twice that, at least 10): a faster
//! sender is held back (not read while it waits, so TCP slows it) and, after twice the burst
//! of frames in a row held back, disconnected and counted — other connections never wait for
//! it. Connections beyond `sl651_max_connections` are closed at once and counted.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zhili_core::store::StoreError;
use zhili_flood::model::{Protocol, Station, UnknownContact};
use zhili_flood::store::{FloodModelStore, QuarantineStore};
use zhili_flood::vocab::StationCode;
use zhili_sl651::{
    parse_body, Decoder, Direction, EndChar, Error, Frame, FunctionCode, Progress, Reassembler, Received,
    StationAddress,
};

use crate::flood::convert::{self, Context, Converted, Message};
use crate::flood::ingest::{self, runtime};
use crate::flood::settings::FloodConfig;
use crate::AppState;

/// How long a confirm or NAK may take to write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Stations remembered per connection (a connection normally carries one).
const STATIONS_PER_CONNECTION: usize = 16;
/// Multi-packet messages held per connection, and their largest size.
const M3_MESSAGES: usize = 4;
const M3_MAX_BYTES: usize = 1 << 20;

/// Connections waiting to be accepted (thousands of stations reconnect at once after an outage).
const BACKLOG: u32 = 4096;

/// Bind the listener (now, so `start` can say where it listens); call within the tokio runtime.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Accept stations on `listener` until the process ends (call within the tokio runtime).
pub fn spawn(state: &AppState, listener: TcpListener) -> tokio::task::JoinHandle<()> {
    if let Ok(addr) = listener.local_addr() {
        runtime(state).set_sl651_address(addr);
    }
    let state = state.clone();
    tokio::spawn(async move {
        let cfg = state.config.flood.clone();
        let limit = Arc::new(Semaphore::new(cfg.sl651_max_connections.max(1)));
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors, say: wait, do not spin.
                    tracing::warn!(error = %e, "SL 651 accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let rt = runtime(&state);
            match limit.clone().try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(connection(state.clone(), stream, peer, permit));
                }
                Err(_) => {
                    rt.metrics.connection("rejected_limit");
                    drop(stream);
                }
            }
        }
    })
}

/// The token bucket of one connection.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    /// Frames in a row that found the bucket empty.
    held: u32,
}

enum Take {
    Go,
    Wait(Duration),
    Flood,
}

impl Bucket {
    fn new(per_second: u32) -> Bucket {
        let rate = f64::from(per_second.max(1));
        let burst = (rate * 2.0).max(10.0);
        Bucket { rate, burst, tokens: burst, last: Instant::now(), held: 0 }
    }

    fn take(&mut self) -> Take {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.held = 0;
            return Take::Go;
        }
        self.held += 1;
        if f64::from(self.held) > 2.0 * self.burst {
            return Take::Flood;
        }
        self.tokens -= 1.0;
        Take::Wait(Duration::from_secs_f64(-self.tokens / self.rate))
    }
}

/// The raw packets of an M3 message being reassembled, beside the codec's reassembler.
#[derive(Default)]
struct Parts {
    raw: Vec<Option<Vec<u8>>>,
}

/// One station connection.
struct Connection {
    state: AppState,
    cfg: FloodConfig,
    peer: String,
    stations: HashMap<[u8; 5], Station>,
    reassembler: Reassembler,
    parts: HashMap<([u8; 5], u8), Parts>,
    bucket: Bucket,
}

/// Why a connection ends.
type Closed = &'static str;

async fn connection(state: AppState, stream: TcpStream, peer: SocketAddr, _permit: OwnedSemaphorePermit) {
    let rt = runtime(&state);
    rt.metrics.connections_open.inc();
    rt.metrics.connection("opened");
    let _ = stream.set_nodelay(true);
    let cfg = state.config.flood.clone();
    let (mut read, mut write) = stream.into_split();
    let mut c = Connection {
        bucket: Bucket::new(cfg.sl651_frames_per_second),
        cfg,
        state: state.clone(),
        peer: peer.to_string(),
        stations: HashMap::new(),
        reassembler: Reassembler::new(M3_MESSAGES, M3_MAX_BYTES),
        parts: HashMap::new(),
    };
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 4096];
    let mut skipped = 0;
    let closed: Closed = 'conn: loop {
        let n = match tokio::time::timeout(c.cfg.sl651_idle_timeout, read.read(&mut buf)).await {
            Err(_) => break 'conn "closed_idle",
            Ok(Err(_)) => break 'conn "closed_error",
            Ok(Ok(0)) => {
                if let Some(e) = decoder.finish() {
                    c.stream_error(&e);
                }
                break 'conn "closed_peer";
            }
            Ok(Ok(n)) => n,
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            let took = decoder.feed(rest);
            rest = &rest[took..];
            while let Some(item) = decoder.decode() {
                if let Err(closed) = c.item(item, &mut write).await {
                    break 'conn closed;
                }
            }
            let now = decoder.stats().skipped_bytes;
            rt.metrics.garbage_bytes.inc_by(now - skipped);
            skipped = now;
            if took == 0 {
                // The decoder took nothing though it has decoded all it could: cannot happen
                // with its bounded buffer; end rather than spin.
                break 'conn "closed_error";
            }
        }
    };
    let now = decoder.stats().skipped_bytes;
    rt.metrics.garbage_bytes.inc_by(now - skipped);
    rt.metrics.connection(closed);
    rt.metrics.connections_open.dec();
    let _ = write.shutdown().await;
}

/// The metric kind of a stream error.
fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::BadCrc { .. } => "bad_crc",
        Error::Truncated { .. } => "truncated",
        Error::LengthOverMax { .. } | Error::LengthTooShort { .. } => "oversized",
        Error::Garbage { .. } => "garbage",
        Error::BadDirection { .. }
        | Error::BadBodyStart { .. }
        | Error::BadEnd { .. }
        | Error::BadHexDigit { .. }
        | Error::BadPacket { .. } => "bad_header",
        Error::PacketMismatch { .. } | Error::MessageTooLarge { .. } | Error::NotMultiPacket => "m3",
        _ => "bad_body",
    }
}

/// The serial of the first packet of an M3 message (HEX: its first two bytes; ASCII: its first
/// four hex characters).
fn first_packet_serial(f: &Frame) -> Option<u16> {
    let b = f.body.get(..4)?;
    match f.encoding {
        zhili_sl651::Encoding::Hex => Some(u16::from_be_bytes([b[0], b[1]])),
        zhili_sl651::Encoding::Ascii => std::str::from_utf8(b).ok().and_then(|s| u16::from_str_radix(s, 16).ok()),
    }
}

impl Connection {
    fn metrics(&self) -> &crate::flood::metrics::FloodMetrics {
        &runtime(&self.state).metrics
    }

    fn stream_error(&self, e: &Error) {
        self.metrics().stream_error(error_kind(e));
        tracing::debug!(peer = %self.peer, error = %e, "SL 651 stream error");
    }

    /// One item of the stream: rate-limited, then a frame or a counted error.
    async fn item(&mut self, item: Result<Received, Error>, write: &mut OwnedWriteHalf) -> Result<(), Closed> {
        match self.bucket.take() {
            Take::Go => {}
            Take::Wait(d) => {
                self.metrics().frames_throttled.inc();
                tokio::time::sleep(d).await;
            }
            Take::Flood => {
                tracing::warn!(peer = %self.peer, "SL 651 connection floods the port: closed");
                return Err("closed_flood");
            }
        }
        match item {
            Err(e) => {
                self.stream_error(&e);
                Ok(())
            }
            Ok(r) => self.frame(r, write).await,
        }
    }

    /// The registered station of an address, `None` if there is none.
    async fn station(&mut self, address: StationAddress) -> Result<Option<Station>, StoreError> {
        if let Some(s) = self.stations.get(&address.0) {
            return Ok(Some(s.clone()));
        }
        match self.state.port::<dyn FloodModelStore>().station_by_sl651_address(address.0).await {
            Ok(s) => {
                if self.stations.len() >= STATIONS_PER_CONNECTION {
                    self.stations.clear();
                }
                self.stations.insert(address.0, s.clone());
                Ok(Some(s))
            }
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn frame(&mut self, r: Received, write: &mut OwnedWriteHalf) -> Result<(), Closed> {
        let arrived = Instant::now();
        let received_at = Utc::now();
        let f = &r.frame;
        let function = f.function.normalized();
        let byte = function.byte();
        let taken = matches!(function, FunctionCode::KeepAlive | FunctionCode::Picture | FunctionCode::UserDefined(_))
            || function.is_report();
        if f.direction != Direction::Up || !taken {
            self.metrics().unknown_function.inc();
            self.metrics().frame(byte, "unknown_function");
            return Ok(());
        }
        let station = match self.station(f.station).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                self.unknown(f, received_at).await;
                return Ok(());
            }
            Err(e) => {
                tracing::warn!(error = %e, "station lookup failed; frame not confirmed");
                self.metrics().frame(byte, "failed");
                return Ok(());
            }
        };
        // A multi-packet part: held until its message is whole.
        let assembled = match f.packet {
            None => None,
            Some(packet) => match self.reassembler.push(f) {
                Ok(progress) => {
                    let key = (f.station.0, byte);
                    let parts = self.parts.entry(key).or_default();
                    if parts.raw.len() != usize::from(packet.count) {
                        parts.raw = vec![None; usize::from(packet.count)];
                    }
                    if let Some(slot) = parts.raw.get_mut(usize::from(packet.seq) - 1) {
                        *slot = Some(r.raw.clone());
                    }
                    match progress {
                        Progress::Pending { .. } => {
                            self.metrics().frame(byte, "partial");
                            return Ok(());
                        }
                        Progress::Gap { missing, .. } => {
                            self.metrics().frame(byte, "partial");
                            let serial = first_packet_serial(f).filter(|_| packet.seq == 1).unwrap_or(0);
                            let Some(now) = convert::to_sl651(received_at, self.cfg.sl651_utc_offset) else {
                                return Ok(());
                            };
                            if let Some(nak) = Frame::nak(f, missing, serial, now) {
                                self.send(write, &nak).await?;
                            }
                            return Ok(());
                        }
                        Progress::Complete(a) => {
                            let raw: Vec<u8> = self
                                .parts
                                .remove(&key)
                                .map(|p| p.raw.into_iter().flatten().flatten().collect())
                                .unwrap_or_default();
                            Some((a, raw))
                        }
                    }
                }
                Err(e) => {
                    self.stream_error(&e);
                    self.parts.remove(&(f.station.0, byte));
                    self.reassembler.abandon(f.station, function);
                    return Ok(());
                }
            },
        };
        if self.parts.len() > M3_MESSAGES {
            self.parts.clear();
        }
        let ctx = Context { station: &station, peer: &self.peer, received_at, offset: self.cfg.sl651_utc_offset };
        let hex;
        let (converted, header) = match &assembled {
            None => {
                let msg =
                    Message { function, encoding: f.encoding, body: f.body(), hex_body: &f.body, raw: r.raw.clone() };
                (convert::convert(msg, &ctx), f)
            }
            Some((a, raw)) => {
                hex = a.hex_body();
                let (body, hex_body) = match &hex {
                    Ok(h) => (parse_body(function, Direction::Up, h), h.as_slice()),
                    Err(e) => (Err(e.clone()), &[][..]),
                };
                let msg = Message { function, encoding: a.frame.encoding, body, hex_body, raw: raw.clone() };
                (convert::convert(msg, &ctx), &a.frame)
            }
        };
        match converted {
            Converted::KeepAlive => {
                ingest::alive(&self.state, station.code.clone(), received_at);
                self.metrics().frame(byte, "keepalive");
                Ok(())
            }
            Converted::UnknownFunction => {
                self.metrics().unknown_function.inc();
                self.metrics().frame(byte, "unknown_function");
                Ok(())
            }
            Converted::Frame { frame, observations, suspect: _, problem } => {
                if let Some(e) = &problem {
                    self.stream_error(e);
                }
                let serial = frame.serial;
                match ingest::submit(&self.state, vec![frame], observations).await {
                    Ok(outcome) => {
                        let duplicate = outcome.first().is_some_and(|o| o.duplicate);
                        let outcome = match (duplicate, &problem, function) {
                            (true, _, _) => "duplicate",
                            (false, Some(_), _) => "bad_body",
                            (false, None, FunctionCode::UserDefined(_) | FunctionCode::Picture) => "archived",
                            (false, None, _) => "stored",
                        };
                        self.metrics().frame(byte, outcome);
                        if matches!(function, FunctionCode::UserDefined(_)) {
                            return Ok(());
                        }
                        let Some(now) = convert::to_sl651(Utc::now(), self.cfg.sl651_utc_offset) else { return Ok(()) };
                        let confirm = confirm(header, serial, now);
                        self.send(write, &confirm).await?;
                        self.metrics().confirm_seconds.observe(arrived.elapsed().as_secs_f64());
                        Ok(())
                    }
                    Err(e) => {
                        if matches!(e, StoreError::MissingReference { .. }) {
                            self.stations.clear();
                        }
                        tracing::warn!(station = %station.code, error = %e, "frame not stored; not confirmed");
                        self.metrics().frame(byte, "failed");
                        Ok(())
                    }
                }
            }
        }
    }

    /// A frame from an address no station has: into the quarantine, counted, not confirmed.
    async fn unknown(&self, f: &Frame, at: chrono::DateTime<Utc>) {
        self.metrics().unknown_station.inc();
        self.metrics().frame(f.function.byte(), "unknown_station");
        let contact = UnknownContact {
            code: StationCode::from_sl651_address(f.station.0),
            protocol: Protocol::Sl651 { centre: f.centre.max(1), address: f.station.0, password: f.password },
            peer: self.peer.clone(),
            at,
        };
        if let Err(e) = self.state.port::<dyn QuarantineStore>().quarantine_contact(&contact).await {
            tracing::warn!(error = %e, station = %contact.code, "quarantine contact not stored");
        }
    }

    async fn send(&self, write: &mut OwnedWriteHalf, frame: &Frame) -> Result<(), Closed> {
        let bytes = frame.encode().map_err(|_| "closed_error")?;
        match tokio::time::timeout(WRITE_TIMEOUT, write.write_all(&bytes)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err("closed_error"),
        }
    }
}

/// The centre's M2 confirm of a frame (or of an M3 message by its first packet): the same
/// addresses, password and function, the serial echoed and the centre's time, ending ESC.
pub fn confirm(header: &Frame, serial: u16, now: zhili_sl651::Time) -> Frame {
    let mut body = Vec::with_capacity(8);
    body.extend_from_slice(&serial.to_be_bytes());
    body.extend_from_slice(&now.to_bcd6());
    Frame {
        encoding: header.encoding,
        direction: Direction::Down,
        centre: header.centre,
        station: header.station,
        password: header.password,
        function: header.function,
        packet: None,
        end: EndChar::Esc,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_holds_back_then_calls_a_flood() {
        let mut b = Bucket::new(5);
        for _ in 0..10 {
            assert!(matches!(b.take(), Take::Go));
        }
        let mut waits = 0;
        loop {
            match b.take() {
                Take::Go => panic!("the bucket is empty"),
                Take::Wait(_) => waits += 1,
                Take::Flood => break,
            }
        }
        assert_eq!(waits, 20);
    }

    #[test]
    fn the_confirm_of_the_reference_frame_is_the_reference_confirm() {
        // sl651.md: the centre's confirm of the timed 32H report, ending with ESC.
        let hex = "7E7E02001234567804D232002B020012141205110002F1F1001234567848F0F014120511002019000100261900010039230001442038121220039FE1";
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let mut d = Decoder::new();
        d.feed(&bytes);
        let r = d.decode().unwrap().unwrap();
        let now = zhili_sl651::Time::new(14, 12, 5, 11, 0, 2).unwrap();
        let c = confirm(&r.frame, r.frame.serial().unwrap(), now).encode().unwrap();
        let want = "7E7E00123456780204D23280080200121412051100021BBD6C";
        let got: String = c.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(got, want);
    }
}

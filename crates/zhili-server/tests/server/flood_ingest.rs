//! Flood telemetry ingest over real sockets and a real SQLite store: SL 651 stations over TCP
//! (confirms only after storage, resends stored once, garbage and bad frames counted, unknown
//! stations quarantined, a flooding connection throttled, keep-alives as liveness), JSON over
//! HTTP, MQTT through the local Mosquitto, and the listener hook the warning engine uses.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, TimeZone, Timelike, Utc};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::policy::Role;
use zhili_flood::model::{Measures, Position, Protocol, Station, StationKind, StationStatus};
use zhili_flood::store::{FloodModelStore, ObservationStore, Quality, QuarantineStore};
use zhili_flood::vocab::{Element, StationCode};
use zhili_server::flood::convert::to_sl651;
use zhili_server::flood::ingest::{runtime, IngestListener, Ingested};
use zhili_server::flood::sl651;
use zhili_sl651::{
    keep_alive_body, Body, Decimal, Decoder, Encoding, Frame, FunctionCode, Identifier, ReportBuilder, StationAddress,
    StationClass, Time,
};

use crate::world::World;

pub(crate) fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// An SL 651 station registered in the store, by its number (address `00 00 00 00 nn`-ish).
pub(crate) fn station(n: u32) -> Station {
    let a = n.to_be_bytes();
    let address = [0x00, a[0], a[1], a[2], a[3]];
    Station {
        code: StationCode::from_sl651_address(address),
        name: format!("测站{n}"),
        kind: StationKind::AutomaticLevel,
        measures: Measures { rain: true, level: true },
        position: Position::new(117.86, 36.49).unwrap(),
        watershed: None,
        owner: "博山区水利局".into(),
        division: DivisionCode::parse("370304100").unwrap(),
        protocol: Protocol::Sl651 { centre: 1, address, password: 0x1234 },
        report_interval_minutes: 5,
        installed: None,
        status: StationStatus::InService,
        level_datum_m: None,
        dike_crest_m: None,
    }
}

pub(crate) fn address(s: &Station) -> StationAddress {
    StationAddress(s.sl651_address().unwrap())
}

/// A world with an administrator, an operator and a grid worker, the listener on a free port.
async fn world(frames_per_second: u32) -> (World, SocketAddr) {
    world_with(|c| c.sl651_frames_per_second = frames_per_second).await
}

async fn world_with(change: impl FnOnce(&mut zhili_server::flood::FloodConfig)) -> (World, SocketAddr) {
    let w = World::builder()
        .divisions(3)
        .users(&[
            ("admin", Role::Admin, "370304"),
            ("operator", Role::Operator, "370304"),
            ("gw", Role::GridWorker, "370304100201"),
        ])
        .config(|c| change(&mut c.flood))
        .build()
        .await;
    let listener = sl651::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    sl651::spawn(&w.state, listener);
    (w, addr)
}

async fn register(w: &World, stations: &[Station]) {
    for chunk in stations.chunks(500) {
        w.store.upsert_stations(&Actor::system(), chunk).await.unwrap();
    }
}

/// Now in the stations' clock, to the minute.
pub(crate) fn now_minute() -> (DateTime<Utc>, Time) {
    let t = Utc::now().with_second(0).unwrap().with_nanosecond(0).unwrap();
    (t, to_sl651(t, beijing()).unwrap())
}

fn timed(s: &Station, serial: u16, observed: Time, z_mm: i64, encoding: Encoding) -> Frame {
    let body = ReportBuilder::new(serial, observed, address(s), StationClass::River, observed)
        .number(Identifier::Z, Some(Decimal::new(z_mm, 3)))
        .unwrap()
        .number(Identifier::VT, Some(Decimal::new(1220, 2)))
        .unwrap()
        .finish();
    Frame::uplink(encoding, 1, address(s), 0x1234, FunctionCode::Timed, body)
}

fn hourly(s: &Station, serial: u16, observed: Time) -> Frame {
    let drp =
        [Some(1), Some(2), Some(3), Some(4), Some(5), Some(6), Some(7), Some(8), Some(9), Some(10), Some(11), Some(12)];
    let body = ReportBuilder::new(serial, observed, address(s), StationClass::Rain, observed)
        .rain_5min(drp)
        .number(Identifier::PT, Some(Decimal::new(1234, 1)))
        .unwrap()
        .finish();
    Frame::uplink(Encoding::Hex, 1, address(s), 0x1234, FunctionCode::Hourly, body)
}

pub(crate) fn keep_alive(s: &Station, serial: u16, sent: Time) -> Frame {
    Frame::uplink(Encoding::Hex, 1, address(s), 0x1234, FunctionCode::KeepAlive, keep_alive_body(serial, sent))
}

/// A station's connection.
pub(crate) struct Link {
    stream: TcpStream,
    decoder: Decoder,
    buf: Vec<u8>,
}

impl Link {
    pub(crate) async fn open(addr: SocketAddr) -> Link {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Link { stream, decoder: Decoder::new(), buf: vec![0; 4096] }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    async fn send_frame(&mut self, f: &Frame) -> Vec<u8> {
        let bytes = f.encode().unwrap();
        self.send(&bytes).await;
        bytes
    }

    /// The next confirm's serial, or `None` if none comes within `wait` (or the link closed).
    async fn confirm(&mut self, wait: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(item) = self.decoder.decode() {
                if let Ok(r) = item {
                    if let Ok(Body::Confirm { serial, .. }) = r.frame.body() {
                        return Some(serial);
                    }
                }
            }
            let n = match tokio::time::timeout_at(deadline, self.stream.read(&mut self.buf)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => return None,
            };
            self.decoder.feed(&self.buf[..n]);
        }
    }

    /// The next frame the centre sends, if one comes within `wait`.
    async fn next_frame(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(item) = self.decoder.decode() {
                if let Ok(r) = item {
                    return Some(r.frame);
                }
            }
            let n = match tokio::time::timeout_at(deadline, self.stream.read(&mut self.buf)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => return None,
            };
            self.decoder.feed(&self.buf[..n]);
        }
    }

    /// A frame sent and its confirm awaited (5 s).
    pub(crate) async fn report(&mut self, f: &Frame) -> u16 {
        self.send_frame(f).await;
        self.confirm(Duration::from_secs(5)).await.expect("a confirm")
    }
}

async fn values(w: &World, s: &Station, element: Element) -> Vec<zhili_flood::store::Observation> {
    let from = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
    let to = Utc::now() + chrono::Duration::days(1);
    w.store.observations(&s.code, element, from, to, 10_000).await.unwrap()
}

/// The sum of the metric lines starting with `name` (with its labels, if given).
async fn metric(w: &World, name: &str) -> f64 {
    let (_, body) = w.call("GET", "/metrics", None, None).await;
    let text = body.as_str().unwrap().to_string();
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_stored_before_their_confirm_and_a_resend_is_stored_once() {
    let (w, addr) = world(10).await;
    let s = station(7);
    register(&w, std::slice::from_ref(&s)).await;
    let mut link = Link::open(addr).await;
    let (t, now) = now_minute();

    // 32H HEX: the confirm echoes the serial, and the rows are there when it arrives.
    let f32 = timed(&s, 41, now, 14_420, Encoding::Hex);
    assert_eq!(link.report(&f32).await, 41);
    let level = values(&w, &s, Element::Level).await;
    assert_eq!(level.len(), 1, "{level:?}");
    assert_eq!((level[0].observed_at, level[0].value, level[0].quality), (t, 14.42, Quality::Good));
    assert_eq!(values(&w, &s, Element::Voltage).await.len(), 1);

    // 34H HEX: twelve 5-minute values, the last at the observation time.
    let hour = t.with_minute(0).unwrap();
    assert_eq!(link.report(&hourly(&s, 42, to_sl651(hour, beijing()).unwrap())).await, 42);
    let rain = values(&w, &s, Element::RainIncrement { interval_minutes: 5 }).await;
    assert_eq!(rain.len(), 12);
    assert_eq!(rain[11].observed_at, hour);
    assert_eq!(rain[0].observed_at, hour - chrono::Duration::minutes(55));
    assert!((rain[11].value - 1.2).abs() < 1e-9);
    assert_eq!(values(&w, &s, Element::RainCounter).await.len(), 1);

    // ASCII: the same report in the other encoding, a minute later, confirmed in ASCII.
    let later = to_sl651(t + chrono::Duration::minutes(1), beijing()).unwrap();
    let ascii = timed(&s, 43, later, 14_450, Encoding::Ascii);
    assert_eq!(ascii.encode().unwrap()[0], 0x01, "an ASCII frame starts with SOH");
    assert_eq!(link.report(&ascii).await, 43);
    let level = values(&w, &s, Element::Level).await;
    assert_eq!(level.len(), 2);
    assert_eq!(level[1].value, 14.45);

    // A resend (same bytes): confirmed again, stored once, counted a duplicate.
    let stored = w.store.frames(&s.code, t - chrono::Duration::days(1), Utc::now(), 100).await.unwrap().len();
    assert_eq!(link.report(&f32).await, 41);
    assert_eq!(values(&w, &s, Element::Level).await.len(), 2);
    assert_eq!(w.store.frames(&s.code, t - chrono::Duration::days(1), Utc::now(), 100).await.unwrap().len(), stored);
    assert_eq!(metric(&w, "zhili_flood_sl651_frames_total{function=\"32\",outcome=\"duplicate\"}").await, 1.0);
    assert_eq!(metric(&w, "zhili_flood_sl651_frames_total{function=\"32\",outcome=\"stored\"}").await, 2.0);
    assert!(metric(&w, "zhili_flood_values_total{kind=\"duplicate\"}").await >= 2.0);
    assert!(metric(&w, "zhili_flood_ingest_batch_frames_count").await >= 4.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bad_crcs_and_truncated_frames_are_counted_and_the_good_frames_stored() {
    let (w, addr) = world(50).await;
    let s = station(8);
    register(&w, std::slice::from_ref(&s)).await;
    let mut link = Link::open(addr).await;
    let (t, _) = now_minute();
    let frame = |serial: u16, minutes: i64| {
        timed(
            &s,
            serial,
            to_sl651(t - chrono::Duration::minutes(minutes), beijing()).unwrap(),
            1000 + i64::from(serial),
            Encoding::Hex,
        )
    };
    let mut bad_crc = frame(2, 2).encode().unwrap();
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 0x55;
    let truncated = frame(4, 4).encode().unwrap();

    let mut bytes = frame(1, 1).encode().unwrap();
    bytes.extend_from_slice(b"\x00\x13garbage between frames \x7E\xFF\x7E");
    bytes.extend_from_slice(&bad_crc);
    bytes.extend_from_slice(&frame(3, 3).encode().unwrap());
    bytes.extend_from_slice(&truncated[..truncated.len() / 2]);
    bytes.extend_from_slice(&frame(5, 5).encode().unwrap());
    link.send(&bytes).await;
    let mut confirmed = Vec::new();
    for _ in 0..3 {
        confirmed.push(link.confirm(Duration::from_secs(5)).await.expect("a confirm"));
    }
    assert_eq!(confirmed, [1, 3, 5]);
    assert_eq!(link.confirm(Duration::from_millis(300)).await, None, "nothing for the bad frames");
    let level = values(&w, &s, Element::Level).await;
    let stored: Vec<f64> = level.iter().map(|o| o.value).collect();
    assert_eq!(stored, [1.005, 1.003, 1.001], "oldest first");
    assert!(metric(&w, "zhili_flood_sl651_stream_errors_total{kind=\"bad_crc\"}").await >= 1.0);
    assert!(metric(&w, "zhili_flood_sl651_garbage_bytes_total").await >= 20.0);

    // The connection survives: another frame, then half a frame and the end of the stream.
    assert_eq!(link.report(&frame(6, 6)).await, 6);
    link.send(&truncated[..truncated.len() - 3]).await;
    link.stream.shutdown().await.unwrap();
    eventually("the truncated frame counted", || async {
        metric(&w, "zhili_flood_sl651_stream_errors_total{kind=\"truncated\"}").await >= 1.0
    })
    .await;
    assert_eq!(values(&w, &s, Element::Level).await.len(), 4);
    eventually("the connection closed", || async {
        metric(&w, "zhili_flood_sl651_connections_total{kind=\"closed_peer\"}").await >= 1.0
    })
    .await;
    assert_eq!(metric(&w, "zhili_flood_sl651_connections_open").await, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_station_is_quarantined_until_accepted() {
    let (w, addr) = world(10).await;
    let s = station(9);
    let mut link = Link::open(addr).await;
    let (_, now) = now_minute();
    link.send_frame(&timed(&s, 1, now, 2000, Encoding::Hex)).await;
    assert_eq!(link.confirm(Duration::from_millis(500)).await, None, "an unknown station is not confirmed");
    let (status, list) = w.call("GET", "/api/flood/quarantine", w.token("admin"), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["code"], s.code.as_str());
    assert_eq!(list[0]["state"], "pending");
    assert_eq!(list[0]["protocol"]["address"], json!([0, 0, 0, 0, 9]));
    assert_eq!(metric(&w, "zhili_flood_unknown_station_total").await, 1.0);
    // Only an administrator decides.
    let (status, _) = w.call("GET", "/api/flood/quarantine", w.token("operator"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let body = serde_json::to_value(&s).unwrap();
    let (status, _) = w
        .call("POST", &format!("/api/flood/quarantine/{}/accept", s.code), w.token("operator"), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A body naming another station, or an invalid one, is refused naming the field.
    let mut other = body.clone();
    other["code"] = json!("0000000010");
    let (status, e) =
        w.call("POST", &format!("/api/flood/quarantine/{}/accept", s.code), w.token("admin"), Some(other)).await;
    assert_eq!((status, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code")), "{e}");
    let mut invalid = body.clone();
    invalid["report_interval_minutes"] = json!(0);
    let (status, e) =
        w.call("POST", &format!("/api/flood/quarantine/{}/accept", s.code), w.token("admin"), Some(invalid)).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("report_interval_minutes")),
        "{e}"
    );

    let (status, e) =
        w.call("POST", &format!("/api/flood/quarantine/{}/accept", s.code), w.token("admin"), Some(body)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{e}");
    assert_eq!(w.store.station(&s.code).await.unwrap().code, s.code);
    assert!(w.store.quarantine(false, zhili_core::store::Page { offset: 0, limit: 10 }).await.unwrap().is_empty());
    // The next frame on the same connection is stored and confirmed.
    assert_eq!(link.report(&timed(&s, 2, now, 2100, Encoding::Hex)).await, 2);
    assert_eq!(values(&w, &s, Element::Level).await[0].value, 2.1);

    // Rejecting: an entry that is not there is 404; a rejected one is listed only on request.
    let other = station(10);
    link.send_frame(&keep_alive(&other, 1, now)).await;
    eventually("the second entry", || async {
        w.store.quarantine(false, zhili_core::store::Page { offset: 0, limit: 10 }).await.unwrap().len() == 1
    })
    .await;
    let (status, _) = w.call("POST", "/api/flood/quarantine/0000000099/reject", w.token("admin"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        w.call("POST", &format!("/api/flood/quarantine/{}/reject", other.code), w.token("admin"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = w.call("GET", "/api/flood/quarantine", w.token("admin"), None).await;
    assert_eq!(list.as_array().unwrap().len(), 0);
    let (_, list) = w.call("GET", "/api/flood/quarantine?include_rejected=true", w.token("admin"), None).await;
    assert_eq!(list[0]["state"], "rejected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_connection_is_throttled_and_cut_while_another_station_is_confirmed() {
    let (w, addr) = world(5).await;
    let (a, b) = (station(11), station(12));
    register(&w, &[a.clone(), b.clone()]).await;
    let (t, _) = now_minute();
    // A sends 400 reports as fast as it can, never reading.
    let mut flood = Vec::new();
    for i in 0..400u16 {
        let at = to_sl651(t - chrono::Duration::minutes(i64::from(i)), beijing()).unwrap();
        flood.extend(timed(&a, i + 1, at, 3000, Encoding::Hex).encode().unwrap());
    }
    let flooder = tokio::spawn(async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let _ = s.write_all(&flood).await;
        // Wait for the server to close it.
        let mut buf = vec![0; 4096];
        loop {
            match tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    });
    // B reports three times a second and is confirmed within a bound every time.
    let mut link = Link::open(addr).await;
    let mut worst = Duration::ZERO;
    for i in 0..15u16 {
        let at = to_sl651(t - chrono::Duration::minutes(i64::from(i)), beijing()).unwrap();
        let started = Instant::now();
        assert_eq!(link.report(&timed(&b, i + 1, at, 4000, Encoding::Hex)).await, i + 1);
        worst = worst.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(worst < Duration::from_millis(1000), "B waited {worst:?} for a confirm");
    assert!(flooder.await.unwrap(), "the flooding connection was closed");
    assert_eq!(metric(&w, "zhili_flood_sl651_connections_total{kind=\"closed_flood\"}").await, 1.0);
    assert!(metric(&w, "zhili_flood_sl651_frames_throttled_total").await >= 20.0);
    let stored = values(&w, &a, Element::Level).await.len();
    assert!((10..=60).contains(&stored), "the flooder got {stored} reports in, within its rate");
    assert_eq!(values(&w, &b, Element::Level).await.len(), 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_updates_liveness_without_rows() {
    let (w, addr) = world(10).await;
    let s = station(13);
    register(&w, std::slice::from_ref(&s)).await;
    let mut link = Link::open(addr).await;
    let (_, now) = now_minute();
    let before = Utc::now() - chrono::Duration::seconds(1);
    link.send_frame(&keep_alive(&s, 5, now)).await;
    assert_eq!(link.confirm(Duration::from_millis(300)).await, None, "a keep-alive gets no reply");
    eventually("the keep-alive's liveness", || async {
        w.store.last_seen(std::slice::from_ref(&s.code)).await.unwrap()[0].keepalive.is_some_and(|k| k >= before)
    })
    .await;
    let seen = w.store.last_seen(std::slice::from_ref(&s.code)).await.unwrap()[0];
    assert_eq!(seen.report, None, "a keep-alive is no report");
    assert!(w.store.frames(&s.code, before - chrono::Duration::days(1), Utc::now(), 10).await.unwrap().is_empty());
    assert!(w.store.latest(&s.code).await.unwrap().is_empty());
    assert_eq!(metric(&w, "zhili_flood_sl651_frames_total{function=\"2F\",outcome=\"keepalive\"}").await, 1.0);
}

/// Collects what it is told.
#[derive(Default)]
struct Collect(Mutex<Vec<Arc<Ingested>>>);

impl IngestListener for Collect {
    fn ingested(&self, batch: Arc<Ingested>) {
        self.0.lock().unwrap().push(batch);
    }
}

impl Collect {
    fn values(&self) -> Vec<(StationCode, Element, f64)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| b.observations.iter().map(|o| (o.station.clone(), o.element, o.value)))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_hear_each_new_value_once() {
    let (w, addr) = world(10).await;
    let s = station(14);
    register(&w, std::slice::from_ref(&s)).await;
    let heard = Arc::new(Collect::default());
    runtime(&w.state).add_listener(heard.clone());
    let mut link = Link::open(addr).await;
    let (t, now) = now_minute();
    let f = timed(&s, 3, now, 5000, Encoding::Hex);
    link.report(&f).await;
    // Told before the confirm went out.
    assert_eq!(heard.values(), [(s.code.clone(), Element::Level, 5.0), (s.code.clone(), Element::Voltage, 12.2)]);
    let batch = heard.0.lock().unwrap()[0].clone();
    assert_eq!(batch.frames, 1);
    assert!(batch.received_at >= t);
    // A resend: confirmed, not told again.
    link.report(&f).await;
    assert_eq!(heard.values().len(), 2);
    // A keep-alive: nothing to tell.
    link.send_frame(&keep_alive(&s, 4, now)).await;
    // JSON: told once; the same batch again is all duplicates and not told.
    let body = json!({"observations": [{"station": s.code.as_str(), "element": "rain_counter", "time": t.to_rfc3339(), "value": 12.5}]});
    let (status, b) = w.call("POST", "/api/flood/observations", w.token("operator"), Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(heard.values().len(), 3);
    let (_, b) = w.call("POST", "/api/flood/observations", w.token("operator"), Some(body)).await;
    assert_eq!(b["duplicates"], 1);
    assert_eq!(heard.values().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_batches_are_all_or_nothing_with_the_index_and_field_named() {
    let (w, _) = world(10).await;
    let (s, maintained) = (station(15), Station { status: StationStatus::Maintenance, ..station(16) });
    register(&w, &[s.clone(), maintained.clone()]).await;
    let (t, _) = now_minute();
    let time = t.with_timezone(&beijing()).to_rfc3339();
    let item = |element: &str, value: serde_json::Value| json!({"station": s.code.as_str(), "element": element, "time": time, "value": value});
    let good = json!({"observations": [
        item("rain_5min", json!(1.5)),
        item("level", json!(14.2)),
        item("voltage", json!(2.0)),
        {"station": maintained.code.as_str(), "element": "level", "time": time, "value": 3.0},
    ]});
    let (status, b) = w.call("POST", "/api/flood/observations", w.token("operator"), Some(good)).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!((b["received"].as_u64(), b["inserted"].as_u64(), b["suspect"].as_u64()), (Some(4), Some(4), Some(2)));
    assert_eq!(values(&w, &s, Element::RainIncrement { interval_minutes: 5 }).await[0].value, 1.5);
    assert_eq!(values(&w, &s, Element::Voltage).await[0].quality, Quality::Suspect);
    assert_eq!(values(&w, &maintained, Element::Level).await[0].quality, Quality::Suspect);

    let later = (t + chrono::Duration::minutes(5)).to_rfc3339();
    let bad = |i: usize, wrong: serde_json::Value| {
        let mut items = vec![json!({"station": s.code.as_str(), "element": "level", "time": later, "value": 15.0}); 3];
        items[i] = wrong;
        json!({ "observations": items })
    };
    let cases = [
        (
            bad(1, json!({"station": s.code.as_str(), "element": "rainfall", "time": later, "value": 1})),
            "observations[1].element",
        ),
        (
            bad(2, json!({"station": s.code.as_str(), "element": "level", "time": "yesterday", "value": 1})),
            "observations[2].time",
        ),
        (
            bad(0, json!({"station": s.code.as_str(), "element": "rain_5min", "time": later, "value": -3})),
            "observations[0].value",
        ),
        (
            bad(1, json!({"station": s.code.as_str(), "element": "level", "time": later, "value": 12000})),
            "observations[1].value",
        ),
        (
            bad(1, json!({"station": s.code.as_str(), "element": "level", "time": later, "value": "NaN"})),
            "observations[1].value",
        ),
        (
            bad(2, json!({"station": "0000000077", "element": "level", "time": later, "value": 1})),
            "observations[2].station",
        ),
        (bad(0, json!({"element": "level", "time": later, "value": 1})), "observations[0].station"),
        (json!({"observations": []}), "observations"),
        (json!({"observations": [], "extra": 1}), "extra"),
    ];
    for (body, field) in cases {
        let (status, e) = w.call("POST", "/api/flood/observations", w.token("operator"), Some(body)).await;
        assert_eq!((status, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{e}");
    }
    // NaN is no JSON at all.
    let raw = format!(
        r#"{{"observations": [{{"station": "{}", "element": "level", "time": "{later}", "value": NaN}}]}}"#,
        s.code
    );
    let req = crate::world::request("POST", "/api/flood/observations", w.token("operator"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(raw))
        .unwrap();
    let (status, e) = w.send(req).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_body")));
    // Too many values in one request.
    let many = json!({"observations": vec![json!({"station": s.code.as_str(), "element": "level", "time": later, "value": 1}); 10_001]});
    let (status, e) = w.call("POST", "/api/flood/observations", w.token("operator"), Some(many)).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE, "{status} {e}");
    // Nothing of the bad batches was stored.
    assert_eq!(values(&w, &s, Element::Level).await.len(), 1);
    // Who may send: operators and administrators.
    let ok = json!({"observations": [item("level", json!(14.3))]});
    let (status, _) = w.call("POST", "/api/flood/observations", None, Some(ok.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w.call("POST", "/api/flood/observations", w.token("gw"), Some(ok.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, b) = w.call("POST", "/api/flood/observations", w.token("admin"), Some(ok)).await;
    assert_eq!((status, b["corrected"].as_u64()), (StatusCode::OK, Some(1)), "{b}");
    assert!(metric(&w, "zhili_flood_http_values_total").await >= 5.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_messages_are_stored_and_a_malformed_one_stops_nothing() {
    if std::net::TcpStream::connect("127.0.0.1:1883").is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI: nothing listens on 127.0.0.1:1883 (start mosquitto)");
        eprintln!("SKIPPED mqtt test: nothing listens on 127.0.0.1:1883 (start `mosquitto -d`)");
        return;
    }
    let (w, _) = world(10).await;
    // A station code unique to this run, so that no other run's messages meet ours.
    let n = (std::process::id() % 100_000) * 100 + 17;
    let s = station(n);
    register(&w, std::slice::from_ref(&s)).await;
    let broker = zhili_server::flood::settings::MqttBroker { host: "127.0.0.1".into(), port: 1883 };
    zhili_server::flood::mqtt::spawn(&w.state, broker);

    let mut opts = rumqttc::MqttOptions::new(format!("zhili-test-{n}"), "127.0.0.1", 1883);
    opts.set_keep_alive(Duration::from_secs(10));
    let (client, mut events) = rumqttc::AsyncClient::new(opts, 64);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    let topic = format!("zhili/flood/stations/{}/observations", s.code);
    let publish = |payload: String| {
        let (client, topic) = (client.clone(), topic.clone());
        async move { client.publish(topic, rumqttc::QoS::AtLeastOnce, false, payload).await.unwrap() }
    };
    let (t, _) = now_minute();
    // Until the server's subscription is in place, messages may go nowhere: send until one lands.
    let mut landed = false;
    for _ in 0..40 {
        publish(json!({"element": "level", "time": t.to_rfc3339(), "value": 7.25}).to_string()).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        if !values(&w, &s, Element::Level).await.is_empty() {
            landed = true;
            break;
        }
    }
    assert!(landed, "an MQTT observation was stored");
    assert_eq!(values(&w, &s, Element::Level).await[0].value, 7.25);
    // Malformed payloads are counted and acked; the next good message still lands.
    publish("{not json".into()).await;
    publish(json!({"element": "level", "time": "soon", "value": 1}).to_string()).await;
    let t2 = t + chrono::Duration::minutes(5);
    publish(json!([{"element": "level", "time": t2.to_rfc3339(), "value": 7.5}, {"element": "voltage", "time": t2.to_rfc3339(), "value": 12.1}]).to_string()).await;
    eventually("the later good message", || async { values(&w, &s, Element::Level).await.len() == 2 }).await;
    assert_eq!(values(&w, &s, Element::Voltage).await[0].value, 12.1);
    assert!(metric(&w, "zhili_flood_mqtt_messages_total{kind=\"bad\"}").await >= 2.0);
    assert!(metric(&w, "zhili_flood_mqtt_messages_total{kind=\"ok\"}").await >= 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_packet_message_is_naked_for_its_gap_and_confirmed_once_whole() {
    let (w, addr) = world(10).await;
    let s = station(18);
    register(&w, std::slice::from_ref(&s)).await;
    let mut link = Link::open(addr).await;
    let (t, now) = now_minute();
    let whole = timed(&s, 77, now, 6543, Encoding::Hex);
    let parts = whole.split(12);
    assert_eq!(parts.len(), 3);
    link.send_frame(&parts[0]).await;
    link.send_frame(&parts[2]).await;
    let nak = link.next_frame(Duration::from_secs(5)).await.expect("a NAK");
    assert_eq!((nak.end, nak.packet.map(|p| p.seq)), (zhili_sl651::EndChar::Nak, Some(2)), "{nak:?}");
    assert!(values(&w, &s, Element::Level).await.is_empty(), "nothing stored before the message is whole");
    link.send_frame(&parts[1]).await;
    assert_eq!(link.confirm(Duration::from_secs(5)).await, Some(77));
    let level = values(&w, &s, Element::Level).await;
    assert_eq!((level.len(), level[0].value, level[0].observed_at), (1, 6.543, t));
    // The archive holds the packets as received, one after the other.
    let frames = w.store.frames(&s.code, t - chrono::Duration::days(1), Utc::now(), 10).await.unwrap();
    let want: Vec<u8> = parts.iter().flat_map(|p| p.encode().unwrap()).collect();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].1.bytes.len(), want.len());
    assert_eq!(metric(&w, "zhili_flood_sl651_frames_total{function=\"32\",outcome=\"partial\"}").await, 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_refused_and_idle_ones_closed() {
    let (w, addr) = world_with(|c| {
        c.sl651_max_connections = 2;
        c.sl651_idle_timeout = Duration::from_millis(1500);
    })
    .await;
    let s = station(19);
    register(&w, std::slice::from_ref(&s)).await;
    let (_, now) = now_minute();
    let mut a = Link::open(addr).await;
    let _b = Link::open(addr).await;
    assert_eq!(a.report(&timed(&s, 1, now, 1, Encoding::Hex)).await, 1);
    eventually("two connections open", || async { metric(&w, "zhili_flood_sl651_connections_open").await == 2.0 })
        .await;
    let mut c = Link::open(addr).await;
    assert_eq!(c.next_frame(Duration::from_secs(5)).await.map(|f| f.function), None, "closed at once");
    assert_eq!(metric(&w, "zhili_flood_sl651_connections_total{kind=\"rejected_limit\"}").await, 1.0);
    // Silent connections are closed after the idle timeout, which frees their places.
    eventually("the idle connections closed", || async {
        metric(&w, "zhili_flood_sl651_connections_total{kind=\"closed_idle\"}").await == 2.0
    })
    .await;
    let mut d = Link::open(addr).await;
    assert_eq!(d.report(&timed(&s, 2, now, 2, Encoding::Hex)).await, 2);
}

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Throughput (not in CI): `ZHILI_FLOOD_STATIONS` stations (default 1000) connect at once,
/// then each sends `ZHILI_FLOOD_FRAMES` timed reports (default 5), each after the confirm of
/// the one before (M2, as stations do). The stations run in a child process (this test binary
/// again, [`throughput_clients`]) so that each side has its own file descriptors and the RSS
/// printed is the server's alone. Prints frames/s, the frame → confirm latency percentiles, the
/// group commits and the server's RSS.
///
/// `ZHILI_FLOOD_STATIONS=10000 cargo test -p zhili-server --test server throughput_of -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn throughput_of_many_stations() {
    let n: u32 = std::env::var("ZHILI_FLOOD_STATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let m: u16 = std::env::var("ZHILI_FLOOD_FRAMES").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let (w, addr) = world_with(|c| {
        c.sl651_max_connections = 100_000;
        c.sl651_frames_per_second = 100;
    })
    .await;
    let stations: Vec<Station> = (1..=n).map(|i| station(100_000 + i)).collect();
    let started = Instant::now();
    register(&w, &stations).await;
    eprintln!("{n} stations registered in {:.1} s", started.elapsed().as_secs_f64());
    let rss_idle = rss_kib("VmRSS:");
    let child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "flood_ingest::throughput_clients", "--nocapture", "--test-threads=1"])
        .env("ZHILI_FLOOD_TARGET", addr.to_string())
        .env("ZHILI_FLOOD_STATIONS", n.to_string())
        .env("ZHILI_FLOOD_FRAMES", m.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut rss_connected = 0;
    while rss_connected == 0 {
        let open = metric(&w, "zhili_flood_sl651_connections_open").await;
        if open >= f64::from(n) {
            rss_connected = rss_kib("VmRSS:");
        }
        assert!(Instant::now() < deadline, "only {open} of {n} stations connected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = stderr.lines().find(|l| l.starts_with("CLIENTS")).unwrap_or("no report").to_string();
    assert!(out.status.success(), "the stations failed: {stderr}");
    let batches = metric(&w, "zhili_flood_ingest_batch_frames_count").await;
    let frames = metric(&w, "zhili_flood_ingest_batch_frames_sum").await;
    let commit_s = metric(&w, "zhili_flood_ingest_batch_seconds_sum").await;
    eprintln!(
        "N={n} × {m}: {report}; server: {batches} group commits of {:.1} frames, {:.1} ms each on average; RSS idle {} MiB, \
         {n} connected {} MiB, after {} MiB, peak {} MiB",
        frames / batches.max(1.0),
        commit_s * 1000.0 / batches.max(1.0),
        rss_idle / 1024,
        rss_connected / 1024,
        rss_kib("VmRSS:") / 1024,
        rss_kib("VmHWM:") / 1024,
    );
    assert_eq!(frames as u64, u64::from(n) * u64::from(m));
    assert_eq!(values(&w, &stations[0], Element::Level).await.len(), usize::from(m));
}

/// The stations of [`throughput_of_many_stations`], run by it in a child process (does nothing
/// without `ZHILI_FLOOD_TARGET`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn throughput_clients() {
    let Some(addr) = std::env::var("ZHILI_FLOOD_TARGET").ok().and_then(|a| a.parse::<SocketAddr>().ok()) else {
        eprintln!("run by throughput_of_many_stations");
        return;
    };
    let n: u32 = std::env::var("ZHILI_FLOOD_STATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let m: u16 = std::env::var("ZHILI_FLOOD_FRAMES").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let (t, _) = now_minute();
    let go = Arc::new(tokio::sync::Barrier::new(n as usize + 1));
    let mut tasks = tokio::task::JoinSet::new();
    let connecting = Instant::now();
    for i in 1..=n {
        let s = station(100_000 + i);
        let go = go.clone();
        tasks.spawn(async move {
            let mut link = loop {
                match TcpStream::connect(addr).await {
                    Ok(stream) => {
                        stream.set_nodelay(true).unwrap();
                        break Link { stream, decoder: Decoder::new(), buf: vec![0; 512] };
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            };
            go.wait().await;
            let mut latencies = Vec::with_capacity(usize::from(m));
            for k in 0..m {
                let at = to_sl651(t - chrono::Duration::minutes(i64::from(k) * 5), beijing()).unwrap();
                let f = timed(&s, k + 1, at, 1000 + i64::from(k), Encoding::Hex);
                let sent = Instant::now();
                link.send_frame(&f).await;
                match link.confirm(Duration::from_secs(120)).await {
                    Some(serial) if serial == k + 1 => latencies.push(sent.elapsed()),
                    other => panic!("station {}: confirm {other:?} for {}", s.code, k + 1),
                }
            }
            (latencies, link)
        });
    }
    go.wait().await;
    let connected = connecting.elapsed();
    let sending = Instant::now();
    let mut all = Vec::with_capacity(n as usize * usize::from(m));
    let mut links = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (latencies, link) = r.unwrap();
        all.extend(latencies);
        links.push(link);
    }
    let took = sending.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1].as_secs_f64() * 1000.0;
    eprintln!(
        "CLIENTS {} frames in {:.2} s = {:.0} frames/s; frame→confirm p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; all connected in {:.2} s",
        all.len(),
        took.as_secs_f64(),
        all.len() as f64 / took.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
        connected.as_secs_f64(),
    );
    drop(links);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_defined_frames_are_archived_unknown_functions_dropped_and_bad_bodies_kept_raw() {
    let (w, addr) = world(10).await;
    let s = station(20);
    register(&w, std::slice::from_ref(&s)).await;
    let mut link = Link::open(addr).await;
    let (t, now) = now_minute();
    // E5: archived raw, not confirmed (the vendor's protocol).
    let mut body = vec![0x00, 0x09];
    body.extend_from_slice(&now.to_bcd6());
    body.extend_from_slice(b"vendor data");
    let e5 = Frame::uplink(Encoding::Hex, 1, address(&s), 0x1234, FunctionCode::UserDefined(0xE5), body);
    let raw = link.send_frame(&e5).await;
    // 37H from a station (a query answer nobody asked for): counted and dropped.
    let q = Frame::uplink(Encoding::Hex, 1, address(&s), 0x1234, FunctionCode::QueryRealtime, vec![0x00, 0x0A]);
    link.send_frame(&q).await;
    assert_eq!(link.confirm(Duration::from_millis(500)).await, None);
    let frames = w
        .store
        .frames(&s.code, t - chrono::Duration::days(1), Utc::now() + chrono::Duration::days(1), 10)
        .await
        .unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!((frames[0].1.function, frames[0].1.serial, &frames[0].1.bytes), (0xE5, 9, &raw));
    assert_eq!(metric(&w, "zhili_flood_sl651_unknown_function_total").await, 1.0);
    assert_eq!(metric(&w, "zhili_flood_sl651_frames_total{function=\"E5\",outcome=\"archived\"}").await, 1.0);

    // A 32H whose CRC is right but whose second element is no BCD: the first value and the
    // whole frame are kept, and it is confirmed (a resend would be the same bytes).
    let mut body = ReportBuilder::new(10, now, address(&s), StationClass::River, now)
        .number(Identifier::Z, Some(Decimal::new(2500, 3)))
        .unwrap()
        .finish();
    body.extend_from_slice(&[0x38, 0x12, 0x1A, 0xBC]);
    let bad = Frame::uplink(Encoding::Hex, 1, address(&s), 0x1234, FunctionCode::Timed, body);
    assert_eq!(link.report(&bad).await, 10);
    assert_eq!(values(&w, &s, Element::Level).await[0].value, 2.5);
    assert!(values(&w, &s, Element::Voltage).await.is_empty());
    assert_eq!(metric(&w, "zhili_flood_sl651_stream_errors_total{kind=\"bad_body\"}").await, 1.0);
    assert_eq!(metric(&w, "zhili_flood_sl651_frames_total{function=\"32\",outcome=\"bad_body\"}").await, 1.0);
}

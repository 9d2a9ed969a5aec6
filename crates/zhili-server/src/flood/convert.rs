//! SL 651 frames into what the flood store keeps (报文转换): a report's elements into
//! timestamped [`Observation`]s — the 5-minute series (DRP rain, DRZ1 level) and a uniform-interval
//! (31H) series each expanded into one value per time — and the frame itself into a
//! [`RawFrame`] for the archive.
//!
//! What is taken: rain increments PN05, PN10, PN30, P1 (the windows the rainfall engine sums;
//! P2–P12, PD, PJ, PR and PN01 are kept in the raw frame only, as sl651.md asks the server to
//! compute windows itself), the counter PT, level Z and DRZ1, discharge Q, voltage VT, soil
//! moisture M10–M100 and the status word ZT. Keep-alives (2F) give liveness and no rows;
//! pictures (36) and user-defined frames (E0–FF) are archived raw; other functions are not
//! taken. Values are checked by [`check_value`]: an impossible or unlikely value is stored
//! with [`Quality::Suspect`] (kept, shown, not used for warnings), as are values of a station
//! in maintenance and values observed well after the frame arrived.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use zhili_flood::model::{Station, StationStatus};
use zhili_flood::store::{FrameEncoding, Observation, Quality, RawFrame};
use zhili_flood::vocab::Element;
use zhili_sl651::{Body, Decimal, Encoding, Error, FunctionCode, Identifier, Kind, Report, Time};

/// How far past the frame's arrival an observation time may lie before its values are
/// suspect (station clocks drift).
const FUTURE_SLACK_MINUTES: i64 = 10;

/// What a frame is to the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Converted {
    /// A keep-alive (2F): the station is alive; nothing is stored but its liveness.
    KeepAlive,
    /// A frame to archive, with the values it carries (none for pictures and user-defined
    /// frames). `problem` is what stopped the reading of its elements early, if anything:
    /// the values before it are kept and the frame is archived whole.
    Frame {
        /// The frame for the archive.
        frame: RawFrame,
        /// Its values; `frame` indexes are 0 (this frame).
        observations: Vec<Observation>,
        /// Values stored as suspect.
        suspect: usize,
        /// Why its body was not read to the end.
        problem: Option<Error>,
    },
    /// A function this centre does not take (a query answer, a configuration frame, a reserved
    /// code): not stored, not confirmed.
    UnknownFunction,
}

/// What the frame is converted with: its station, where and when it came, the stations' clock.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The registered station the frame's address names.
    pub station: &'a Station,
    /// The peer address.
    pub peer: &'a str,
    /// When the centre received the frame.
    pub received_at: DateTime<Utc>,
    /// The stations' clock.
    pub offset: FixedOffset,
}

/// A message to convert: one frame, or a multi-packet (M3) message reassembled.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    /// Its function code.
    pub function: FunctionCode,
    /// How it came on the wire.
    pub encoding: Encoding,
    /// Its body, read by function (a report, a keep-alive, raw bytes) or why it does not read.
    pub body: Result<Body<'a>, Error>,
    /// Its body in HEX/BCD form, for the serial and time of a raw body.
    pub hex_body: &'a [u8],
    /// The bytes as received (every packet of an M3 message, in order).
    pub raw: Vec<u8>,
}

/// An SL 651 time (in the stations' clock) as UTC; `None` if the clock has no such moment.
pub fn to_utc(t: Time, offset: FixedOffset) -> Option<DateTime<Utc>> {
    let naive = NaiveDate::from_ymd_opt(i32::from(t.full_year()), u32::from(t.month), u32::from(t.day))?.and_hms_opt(
        u32::from(t.hour),
        u32::from(t.minute),
        u32::from(t.second),
    )?;
    offset.from_local_datetime(&naive).single().map(|d| d.with_timezone(&Utc))
}

/// A UTC time in the stations' clock as an SL 651 time (years 2000–2099; else `None`).
pub fn to_sl651(t: DateTime<Utc>, offset: FixedOffset) -> Option<Time> {
    use chrono::{Datelike, Timelike};
    let l = t.with_timezone(&offset);
    let year = u8::try_from(l.year().checked_sub(2000)?).ok().filter(|y| *y <= 99)?;
    Time::new(year, l.month() as u8, l.day() as u8, l.hour() as u8, l.minute() as u8, l.second() as u8)
}

/// The store's element for an SL 651 number identifier, if it takes that element.
pub fn element_of(id: Identifier) -> Option<Element> {
    let rain = |interval_minutes| Some(Element::RainIncrement { interval_minutes });
    let soil = |depth_cm| Some(Element::SoilMoisture { depth_cm });
    match id {
        Identifier::PN05 => rain(5),
        Identifier::PN10 => rain(10),
        Identifier::PN30 => rain(30),
        Identifier::P1 => rain(60),
        Identifier::PT => Some(Element::RainCounter),
        Identifier::Z => Some(Element::Level),
        Identifier::Q => Some(Element::Discharge),
        Identifier::VT => Some(Element::Voltage),
        Identifier::M10 => soil(10),
        Identifier::M20 => soil(20),
        Identifier::M30 => soil(30),
        Identifier::M40 => soil(40),
        Identifier::M50 => soil(50),
        Identifier::M60 => soil(60),
        Identifier::M80 => soil(80),
        Identifier::M100 => soil(100),
        _ => None,
    }
}

/// What the checks say of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Believable.
    Good,
    /// Possible but unlikely (a downpour beyond records, a battery at 2 V): stored as suspect.
    Suspect(&'static str),
    /// Physically impossible (negative rain, a level above Everest): refused over HTTP and
    /// MQTT, stored as suspect from SL 651 (the frame is what the station sent).
    Impossible(&'static str),
}

/// The physical checks of a value of `element`.
pub fn check_value(element: Element, v: f64) -> Check {
    if !v.is_finite() {
        return Check::Impossible("is not a finite number");
    }
    match element {
        Element::RainIncrement { interval_minutes } => {
            let buckets = f64::from(interval_minutes.max(5)) / 5.0;
            if v < 0.0 {
                Check::Impossible("rain cannot be negative")
            } else if v > 2000.0 {
                Check::Impossible("more than 2000 mm of rain in one value")
            } else if v > 50.0 * buckets {
                Check::Suspect("more than 50 mm of rain per 5 minutes")
            } else {
                Check::Good
            }
        }
        Element::RainCounter if v < 0.0 => Check::Impossible("a rain counter cannot be negative"),
        Element::RainCounter if v > 100_000.0 => Check::Impossible("a rain counter holds at most 99999.9 mm"),
        Element::RainCounter => Check::Good,
        Element::Level if !(-500.0..=9000.0).contains(&v) => Check::Impossible("a water level is from -500 to 9000 m"),
        Element::Level => Check::Good,
        Element::Discharge if v.abs() > 1_000_000.0 => Check::Impossible("a discharge is within ±1,000,000 m³/s"),
        Element::Discharge if v < 0.0 => Check::Suspect("negative discharge"),
        Element::Discharge => Check::Good,
        Element::Voltage if !(0.0..=60.0).contains(&v) => Check::Impossible("a supply voltage is 0–60 V"),
        Element::Voltage if !(3.0..=30.0).contains(&v) => Check::Suspect("a supply voltage outside 3–30 V"),
        Element::Voltage => Check::Good,
        Element::SoilMoisture { .. } if !(0.0..=100.0).contains(&v) => Check::Impossible("soil moisture is 0–100 %"),
        Element::SoilMoisture { .. } => Check::Good,
        Element::Status if v < 0.0 || v > f64::from(u32::MAX) || v.fract() != 0.0 => {
            Check::Impossible("a status word is a whole number 0–4294967295")
        }
        Element::Status => Check::Good,
    }
}

fn encoding(e: Encoding) -> FrameEncoding {
    match e {
        Encoding::Hex => FrameEncoding::Hex,
        Encoding::Ascii => FrameEncoding::Ascii,
    }
}

/// The serial and a time of a body this crate does not read (a picture, a user-defined frame):
/// the first two bytes, then the observation time after `F0 F0` at its usual place, else the
/// send time, else when it was received.
fn raw_identity(hex_body: &[u8], ctx: &Context<'_>) -> (u16, DateTime<Utc>) {
    let serial = match hex_body {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    };
    let observed = hex_body
        .get(16..23)
        .filter(|b| b[..2] == [0xF0, 0xF0])
        .and_then(|b| Time::from_bcd(&b[2..], 0).ok())
        .or_else(|| hex_body.get(2..8).and_then(|b| Time::from_bcd(b, 0).ok()))
        .and_then(|t| to_utc(t, ctx.offset))
        .unwrap_or(ctx.received_at);
    (serial, observed)
}

/// Converts one message of a registered station.
pub fn convert(msg: Message<'_>, ctx: &Context<'_>) -> Converted {
    let function = msg.function.normalized();
    let byte = function.byte();
    let archive = |serial: u16, observed_at: DateTime<Utc>, raw: Vec<u8>| RawFrame {
        station: ctx.station.code.clone(),
        received_at: ctx.received_at,
        peer: ctx.peer.to_string(),
        function: byte,
        serial,
        observed_at,
        bytes: raw,
        encoding: encoding(msg.encoding),
    };
    match function {
        FunctionCode::KeepAlive => Converted::KeepAlive,
        f if f.is_report() => match msg.body {
            Ok(Body::Report(report)) => {
                let observed = report
                    .observed
                    .or(Some(report.sent))
                    .and_then(|t| to_utc(t, ctx.offset))
                    .unwrap_or(ctx.received_at);
                let (observations, suspect, problem) = values(&report, f, ctx);
                Converted::Frame { frame: archive(report.serial, observed, msg.raw), observations, suspect, problem }
            }
            Ok(_) => {
                let (serial, observed) = raw_identity(msg.hex_body, ctx);
                Converted::Frame {
                    frame: archive(serial, observed, msg.raw),
                    observations: Vec::new(),
                    suspect: 0,
                    problem: None,
                }
            }
            Err(e) => {
                let (serial, observed) = raw_identity(msg.hex_body, ctx);
                Converted::Frame {
                    frame: archive(serial, observed, msg.raw),
                    observations: Vec::new(),
                    suspect: 0,
                    problem: Some(e),
                }
            }
        },
        FunctionCode::Picture | FunctionCode::UserDefined(_) => {
            let (serial, observed) = raw_identity(msg.hex_body, ctx);
            Converted::Frame {
                frame: archive(serial, observed, msg.raw),
                observations: Vec::new(),
                suspect: 0,
                problem: None,
            }
        }
        _ => Converted::UnknownFunction,
    }
}

/// The values of a report, how many are suspect, and the element error that stopped the
/// reading, if any.
fn values(report: &Report<'_>, function: FunctionCode, ctx: &Context<'_>) -> (Vec<Observation>, usize, Option<Error>) {
    let mut out = Vec::new();
    let mut suspect = 0;
    let base_quality = if function == FunctionCode::Manual { Quality::Manual } else { Quality::Good };
    let latest_believable = ctx.received_at + Duration::minutes(FUTURE_SLACK_MINUTES);
    let mut push = |element: Element, at: DateTime<Utc>, v: f64| {
        let mut quality = base_quality;
        if ctx.station.status == StationStatus::Maintenance || at > latest_believable {
            quality = Quality::Suspect;
        }
        if check_value(element, v) != Check::Good {
            quality = Quality::Suspect;
        }
        if quality == Quality::Suspect {
            suspect += 1;
        }
        out.push(Observation {
            station: ctx.station.code.clone(),
            element,
            observed_at: at,
            value: v,
            quality,
            frame: Some(0),
        });
    };
    let mut at = report.observed.or(Some(report.sent)).and_then(|t| to_utc(t, ctx.offset));
    let mut problem = None;
    for element in report.elements() {
        let el = match element {
            Ok(el) => el,
            Err(e) => {
                problem = Some(e);
                break;
            }
        };
        match el.id.kind() {
            Kind::ObservationTime => {
                at = el.time().and_then(|t| to_utc(t, ctx.offset));
                if at.is_none() {
                    problem = Some(Error::BadTime { offset: el.offset + 2, len: 5 });
                    break;
                }
            }
            _ if at.is_none() => {
                problem = Some(Error::BadTime { offset: 18, len: 5 });
                break;
            }
            Kind::Number => {
                let (Some(element), Some(t0)) = (element_of(el.id), at) else { continue };
                match report.step {
                    Some(step) => {
                        let minutes = i64::from(step.total_minutes());
                        if minutes == 0 {
                            problem = Some(Error::MissingTimeStep { offset: el.offset });
                            break;
                        }
                        for (i, v) in el.values().enumerate() {
                            if let Some(v) = v {
                                push(element, t0 + Duration::minutes(minutes * i as i64), v.to_f64());
                            }
                        }
                    }
                    None => {
                        if let Some(Some(v)) = el.value() {
                            push(element, t0, v.to_f64());
                        }
                    }
                }
            }
            Kind::Status => {
                if let (Some(s), Some(t0)) = (el.status(), at) {
                    push(Element::Status, t0, f64::from(s.0));
                }
            }
            Kind::Rain5Min | Kind::Level5Min => {
                let element = match el.id {
                    Identifier::DRP => Element::RainIncrement { interval_minutes: 5 },
                    Identifier::DRZ1 => Element::Level,
                    // DRZ2–DRZ8 are levels 2–8 of a multi-gauge station: raw frame only.
                    _ => continue,
                };
                let Some(t0) = at else { continue };
                // The first of the twelve values ends 55 minutes before the observation time.
                for (i, v) in el.series().enumerate() {
                    if let Some(v) = v {
                        let end = t0 - Duration::minutes(55 - 5 * i as i64);
                        push(element, end, Decimal::to_f64(v));
                    }
                }
            }
            Kind::TimeStep | Kind::Payload | Kind::Raw => {}
        }
    }
    (out, suspect, problem)
}

#[cfg(test)]
mod tests {
    use zhili_flood::model::{Measures, Position, Protocol, StationKind};
    use zhili_flood::vocab::StationCode;
    use zhili_sl651::{Decoder, Frame, ReportBuilder, StationAddress, StationClass, TimeStep};

    use super::*;

    fn station() -> Station {
        Station {
            code: StationCode::parse("0012345678").unwrap(),
            name: "测试站".into(),
            kind: StationKind::AutomaticLevel,
            measures: Measures { rain: true, level: true },
            position: Position::new(117.86, 36.49).unwrap(),
            watershed: None,
            owner: "博山区水利局".into(),
            division: zhili_core::codes::DivisionCode::parse("370304100").unwrap(),
            protocol: Protocol::Sl651 { centre: 2, address: [0x00, 0x12, 0x34, 0x56, 0x78], password: 0x04D2 },
            report_interval_minutes: 5,
            installed: None,
            status: StationStatus::InService,
            level_datum_m: None,
            dike_crest_m: None,
        }
    }

    fn decode(hex: &str) -> zhili_sl651::Received {
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let mut d = Decoder::new();
        d.feed(&bytes);
        d.decode().unwrap().unwrap()
    }

    fn ctx(station: &Station) -> Context<'_> {
        Context {
            station,
            peer: "203.0.113.5:40211",
            received_at: Utc.with_ymd_and_hms(2014, 12, 5, 3, 5, 0).unwrap(),
            offset: FixedOffset::east_opt(8 * 3600).unwrap(),
        }
    }

    fn run(r: &zhili_sl651::Received, station: &Station) -> Converted {
        let msg = Message {
            function: r.frame.function,
            encoding: r.frame.encoding,
            body: r.frame.body(),
            hex_body: &r.frame.body,
            raw: r.raw.clone(),
        };
        convert(msg, &ctx(station))
    }

    #[test]
    fn a_timed_report_gives_its_values_at_the_observation_time_in_utc() {
        let s = station();
        // sl651.md: 32H, PJ 10.0, PT 10.0, Z 14.42, VT 12.2, observed 2014-12-05 11:00 (+08:00).
        let r = decode("7E7E02001234567804D232002B020012141205110002F1F1001234567848F0F014120511002019000100261900010039230001442038121220039FE1");
        let Converted::Frame { frame, observations, suspect, problem } = run(&r, &s) else { panic!("a frame") };
        assert_eq!((frame.function, frame.serial, suspect, problem), (0x32, 18, 0, None));
        let t = Utc.with_ymd_and_hms(2014, 12, 5, 3, 0, 0).unwrap();
        assert_eq!(frame.observed_at, t);
        assert_eq!(frame.bytes, r.raw);
        let got: Vec<(Element, f64)> = observations.iter().map(|o| (o.element, o.value)).collect();
        // PJ is not taken (the engine sums increments and counters itself).
        assert_eq!(got, [(Element::RainCounter, 10.0), (Element::Level, 14.42), (Element::Voltage, 12.2)]);
        assert!(observations.iter().all(|o| o.observed_at == t && o.quality == Quality::Good && o.frame == Some(0)));
    }

    #[test]
    fn a_keep_alive_is_liveness_and_other_functions_are_not_taken() {
        let s = station();
        let r = decode("7E7E020012345678000A2F000802000C14120509435703FB2D");
        assert_eq!(run(&r, &s), Converted::KeepAlive);
        let query = Frame::uplink(
            Encoding::Hex,
            2,
            StationAddress([0, 0x12, 0x34, 0x56, 0x78]),
            1,
            FunctionCode::QueryRealtime,
            vec![0, 1],
        );
        let r = zhili_sl651::Received { raw: query.encode().unwrap(), frame: query, offset: 0 };
        assert_eq!(run(&r, &s), Converted::UnknownFunction);
    }

    fn t(y: u8, mo: u8, d: u8, h: u8, mi: u8) -> Time {
        Time::new(y, mo, d, h, mi, 0).unwrap()
    }

    fn report(function: FunctionCode, body: Vec<u8>) -> zhili_sl651::Received {
        let f = Frame::uplink(Encoding::Hex, 2, StationAddress([0, 0x12, 0x34, 0x56, 0x78]), 0x04D2, function, body);
        zhili_sl651::Received { raw: f.encode().unwrap(), frame: f, offset: 0 }
    }

    #[test]
    fn series_are_expanded_into_timestamped_values() {
        let s = station();
        let a = StationAddress([0, 0x12, 0x34, 0x56, 0x78]);
        // 34H at 11:00 local: DRP twelve values, the first ending 10:05; DRZ1 likewise.
        let mut drp = [Some(0u8); 12];
        drp[0] = Some(5);
        drp[11] = Some(12);
        drp[6] = None;
        let mut drz = [Some(1442u16); 12];
        drz[3] = None;
        let body = ReportBuilder::new(7, t(14, 12, 5, 11, 0), a, StationClass::River, t(14, 12, 5, 11, 0))
            .rain_5min(drp)
            .level_5min(1, drz)
            .finish();
        let Converted::Frame { observations, problem, .. } = run(&report(FunctionCode::Hourly, body), &s) else {
            panic!()
        };
        assert_eq!(problem, None);
        let rain: Vec<_> =
            observations.iter().filter(|o| o.element == Element::RainIncrement { interval_minutes: 5 }).collect();
        assert_eq!(rain.len(), 11, "the invalid FF is left out");
        assert_eq!(rain[0].observed_at, Utc.with_ymd_and_hms(2014, 12, 5, 2, 5, 0).unwrap());
        assert_eq!(rain[0].value, 0.5);
        assert_eq!(rain[10].observed_at, Utc.with_ymd_and_hms(2014, 12, 5, 3, 0, 0).unwrap());
        assert_eq!(rain[10].value, 1.2);
        let level: Vec<_> = observations.iter().filter(|o| o.element == Element::Level).collect();
        assert_eq!(level.len(), 11);
        assert!(level.iter().all(|o| o.value == 14.42));

        // 31H: PN05 every 5 minutes from 10:00 local, one missing.
        let body = ReportBuilder::new(8, t(14, 12, 5, 11, 0), a, StationClass::Rain, t(14, 12, 5, 10, 0))
            .time_step(TimeStep { days: 0, hours: 0, minutes: 5 })
            .series(Identifier::PN05, &[Some(Decimal::new(10, 1)), None, Some(Decimal::new(25, 1))])
            .unwrap()
            .finish();
        let Converted::Frame { observations, problem, .. } = run(&report(FunctionCode::UniformInterval, body), &s)
        else {
            panic!()
        };
        assert_eq!(problem, None);
        let got: Vec<_> = observations.iter().map(|o| (o.observed_at, o.value)).collect();
        assert_eq!(
            got,
            [
                (Utc.with_ymd_and_hms(2014, 12, 5, 2, 0, 0).unwrap(), 1.0),
                (Utc.with_ymd_and_hms(2014, 12, 5, 2, 10, 0).unwrap(), 2.5)
            ]
        );
    }

    #[test]
    fn suspicious_values_are_kept_as_suspect() {
        let mut s = station();
        let a = StationAddress([0, 0x12, 0x34, 0x56, 0x78]);
        let body = ReportBuilder::new(9, t(14, 12, 5, 11, 0), a, StationClass::River, t(14, 12, 5, 11, 0))
            .number(Identifier::PN05, Some(Decimal::new(-5, 1)))
            .unwrap()
            .number(Identifier::VT, Some(Decimal::new(99, 2)))
            .unwrap()
            .number(Identifier::Z, Some(Decimal::new(99_999_999, 3)))
            .unwrap()
            .number(Identifier::PT, Some(Decimal::new(100, 1)))
            .unwrap()
            .finish();
        let r = report(FunctionCode::Added, body);
        let Converted::Frame { observations, suspect, .. } = run(&r, &s) else { panic!() };
        let q: Vec<_> = observations.iter().map(|o| (o.element, o.quality)).collect();
        assert_eq!(
            q,
            [
                (Element::RainIncrement { interval_minutes: 5 }, Quality::Suspect),
                (Element::Voltage, Quality::Suspect),
                (Element::Level, Quality::Suspect),
                (Element::RainCounter, Quality::Good),
            ]
        );
        assert_eq!(suspect, 3);
        s.status = StationStatus::Maintenance;
        let Converted::Frame { suspect, .. } = run(&r, &s) else { panic!() };
        assert_eq!(suspect, 4, "a station in maintenance: every value suspect");
        // Observed an hour after it arrived: suspect.
        let body = ReportBuilder::new(10, t(14, 12, 5, 12, 5), a, StationClass::River, t(14, 12, 5, 12, 5))
            .number(Identifier::PT, Some(Decimal::new(100, 1)))
            .unwrap()
            .finish();
        let Converted::Frame { observations, .. } = run(&report(FunctionCode::Timed, body), &station()) else {
            panic!()
        };
        assert_eq!(observations[0].quality, Quality::Suspect);
    }

    #[test]
    fn a_bad_element_keeps_the_values_before_it_and_the_raw_frame() {
        let s = station();
        let a = StationAddress([0, 0x12, 0x34, 0x56, 0x78]);
        let mut body = ReportBuilder::new(11, t(14, 12, 5, 11, 0), a, StationClass::River, t(14, 12, 5, 11, 0))
            .number(Identifier::PT, Some(Decimal::new(100, 1)))
            .unwrap()
            .finish();
        let at = body.len();
        body.extend_from_slice(&[0x39, 0x23, 0x00, 0x01, 0x4A, 0x20]); // Z with a non-BCD byte
        let Converted::Frame { observations, problem, frame, .. } = run(&report(FunctionCode::Timed, body), &s) else {
            panic!()
        };
        assert_eq!(observations.len(), 1);
        assert_eq!(problem, Some(Error::BadBcd { offset: at + 4, found: 0x4A }));
        assert_eq!(frame.serial, 11);
    }

    #[test]
    fn user_defined_frames_are_archived_raw() {
        let s = station();
        let f = Frame::uplink(
            Encoding::Hex,
            2,
            StationAddress([0, 0x12, 0x34, 0x56, 0x78]),
            1,
            FunctionCode::UserDefined(0xE5),
            vec![0x00, 0x2A, 0x14, 0x12, 0x05, 0x11, 0x00, 0x00, 0xAB],
        );
        let r = zhili_sl651::Received { raw: f.encode().unwrap(), frame: f, offset: 0 };
        let Converted::Frame { frame, observations, .. } = run(&r, &s) else { panic!() };
        assert!(observations.is_empty());
        assert_eq!((frame.function, frame.serial), (0xE5, 42));
        assert_eq!(frame.observed_at, Utc.with_ymd_and_hms(2014, 12, 5, 3, 0, 0).unwrap());
    }

    #[test]
    fn times_convert_both_ways() {
        let o = FixedOffset::east_opt(8 * 3600).unwrap();
        let u = to_utc(t(14, 12, 5, 11, 0), o).unwrap();
        assert_eq!(u, Utc.with_ymd_and_hms(2014, 12, 5, 3, 0, 0).unwrap());
        assert_eq!(to_sl651(u, o), Some(t(14, 12, 5, 11, 0)));
        assert_eq!(
            to_sl651(Utc.with_ymd_and_hms(1999, 1, 1, 0, 0, 0).unwrap(), FixedOffset::east_opt(0).unwrap()),
            None
        );
        assert_eq!(check_value(Element::Voltage, f64::NAN), Check::Impossible("is not a finite number"));
        assert_eq!(
            check_value(Element::Status, 3.5),
            Check::Impossible("a status word is a whole number 0–4294967295")
        );
        assert_eq!(check_value(Element::RainIncrement { interval_minutes: 60 }, 500.0), Check::Good);
        assert_eq!(
            check_value(Element::RainIncrement { interval_minutes: 5 }, 60.0),
            Check::Suspect("more than 50 mm of rain per 5 minutes")
        );
    }
}

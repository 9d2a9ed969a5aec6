//! The codec against the reference frames of `shared/reference/sl651.md`, the encoder's round
//! trips, the streaming decoder's resynchronisation and M3 reassembly.

use proptest::prelude::*;
use zhili_sl651::*;

/// The reference frames (all with correct CRCs).
const TIMED_32: &str = "7E7E05001122334403E832002B020034170718110016F1F1001122334448F0F01707181100201900004026190000403923000104903812109903A421";
const KEEP_ALIVE: &str = "7E7E020012345678000A2F000802000C14120509435703FB2D";
const TIMED_32_B: &str = "7E7E02001234567804D232002B020012141205110002F1F1001234567848F0F014120511002019000100261900010039230001442038121220039FE1";
const CONFIRM: &str = "7E7E00123456780204D23280080200121412051100021BBD6C";
const ADDED_33: &str =
    "7E7E02001234567804D2330025020008141205105002F1F1001234567848F0F0141205105020190001002619000100381212200317B4";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn t(y: u8, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> Time {
    Time::new(y, mo, d, h, mi, s).unwrap()
}

fn dec(m: i64, scale: u8) -> Option<Decimal> {
    Some(Decimal::new(m, scale))
}

/// Decodes one complete frame with the streaming decoder; panics on anything else.
fn decode_one(bytes: &[u8]) -> Frame {
    let mut d = Decoder::new();
    assert_eq!(d.feed(bytes), bytes.len());
    let got = d.decode().expect("a frame").expect("no error");
    assert_eq!(got.raw, bytes);
    assert_eq!(d.decode(), None);
    assert_eq!(d.finish(), None);
    got.frame
}

/// Every event the decoder gives for `bytes` fed at once, then `finish`.
fn events(d: &mut Decoder, bytes: &[u8]) -> Vec<Result<Frame, Error>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    loop {
        let n = d.feed(rest);
        rest = &rest[n..];
        while let Some(e) = d.decode() {
            out.push(e.map(|r| r.frame));
        }
        if rest.is_empty() {
            break;
        }
    }
    out
}

/// (name, values) of every element of a report, values as f64 text for easy comparison.
fn values(report: &Report<'_>) -> Vec<(Identifier, Vec<Option<Decimal>>)> {
    report
        .elements()
        .map(|e| {
            let e = e.expect("element reads");
            (e.id, e.values().collect())
        })
        .collect()
}

#[test]
fn crc_is_modbus_with_check_value_4b37() {
    assert_eq!(crc16(b"123456789"), 0x4B37);
    // Sent high byte first: the last two bytes of the reference report.
    let frame = hex(TIMED_32);
    let n = frame.len();
    assert_eq!(crc16(&frame[..n - 2]).to_be_bytes(), [frame[n - 2], frame[n - 1]]);
}

#[test]
fn reference_timed_report_decodes_to_its_values() {
    let frame = decode_one(&hex(TIMED_32));
    assert_eq!(frame.encoding, Encoding::Hex);
    assert_eq!(frame.direction, Direction::Up);
    assert_eq!(frame.centre, 5);
    assert_eq!(frame.station, StationAddress([0x00, 0x11, 0x22, 0x33, 0x44]));
    assert_eq!(frame.station.hydrological(), Some(11_223_344));
    assert_eq!(frame.station.to_string(), "0011223344");
    assert_eq!(frame.password, 0x03E8);
    assert_eq!(frame.function, FunctionCode::Timed);
    assert_eq!(frame.packet, None);
    assert_eq!(frame.end, EndChar::Etx);
    assert_eq!(frame.body.len(), 0x2B);
    let Body::Report(report) = frame.body().unwrap() else { panic!("a report") };
    assert_eq!(report.serial, 0x34);
    assert_eq!(report.sent, t(17, 7, 18, 11, 0, 16));
    assert_eq!(report.station, frame.station);
    assert_eq!(report.class, StationClass::River);
    assert_eq!(report.observed, Some(t(17, 7, 18, 11, 0, 0)));
    assert_eq!(
        values(&report),
        vec![
            (Identifier::PJ, vec![dec(40, 1)]),
            (Identifier::PT, vec![dec(40, 1)]),
            (Identifier::Z, vec![dec(10490, 3)]),
            (Identifier::VT, vec![dec(1099, 2)]),
        ]
    );
    let z = report.element(Identifier::Z).unwrap().value().unwrap().unwrap();
    assert_eq!(z.to_string(), "10.490");
    assert_eq!(z.to_f64(), 10.49);
    assert_eq!(Identifier::VT.name(), Some("VT"));
    // And the encoder writes the same bytes back.
    assert_eq!(frame.encode().unwrap(), hex(TIMED_32));
}

#[test]
fn reference_keep_alive_second_report_and_add_report_decode() {
    let ka = decode_one(&hex(KEEP_ALIVE));
    assert_eq!((ka.centre, ka.password, ka.function), (2, 0x000A, FunctionCode::KeepAlive));
    assert_eq!(ka.station.hydrological(), Some(12_345_678));
    assert_eq!(ka.body().unwrap(), Body::KeepAlive { serial: 12, sent: t(14, 12, 5, 9, 43, 57) });

    let b = decode_one(&hex(TIMED_32_B));
    let Body::Report(r) = b.body().unwrap() else { panic!("a report") };
    assert_eq!((r.serial, r.sent, r.observed), (0x12, t(14, 12, 5, 11, 0, 2), Some(t(14, 12, 5, 11, 0, 0))));
    assert_eq!(
        values(&r),
        vec![
            (Identifier::PJ, vec![dec(100, 1)]),
            (Identifier::PT, vec![dec(100, 1)]),
            (Identifier::Z, vec![dec(14420, 3)]),
            (Identifier::VT, vec![dec(1220, 2)]),
        ]
    );

    let added = decode_one(&hex(ADDED_33));
    assert_eq!(added.function, FunctionCode::Added);
    let Body::Report(r) = added.body().unwrap() else { panic!("a report") };
    assert_eq!((r.serial, r.observed), (8, Some(t(14, 12, 5, 10, 50, 0))));
    assert_eq!(
        values(&r),
        vec![
            (Identifier::PJ, vec![dec(100, 1)]),
            (Identifier::PT, vec![dec(100, 1)]),
            (Identifier::VT, vec![dec(1220, 2)]),
        ]
    );
}

#[test]
fn centre_confirm_decodes_as_downlink_and_the_encoder_writes_it_byte_for_byte() {
    let confirm = decode_one(&hex(CONFIRM));
    assert_eq!(confirm.direction, Direction::Down);
    assert_eq!(confirm.centre, 2);
    assert_eq!(confirm.station, StationAddress([0x00, 0x12, 0x34, 0x56, 0x78]));
    assert_eq!(confirm.function, FunctionCode::Timed);
    assert_eq!(confirm.end, EndChar::Esc);
    assert_eq!(confirm.body().unwrap(), Body::Confirm { serial: 0x12, sent: t(14, 12, 5, 11, 0, 2) });

    let report = decode_one(&hex(TIMED_32_B));
    let Body::Report(r) = report.body().unwrap() else { panic!("a report") };
    let ours = report.confirm(r.sent, EndChar::Esc).unwrap();
    assert_eq!(ours, confirm);
    assert_eq!(ours.encode().unwrap(), hex(CONFIRM));
    // EOT instead of ESC changes the end char and the CRC only.
    let eot = report.confirm(r.sent, EndChar::Eot).unwrap().encode().unwrap();
    assert_eq!(eot.len(), hex(CONFIRM).len());
    assert_eq!(eot[eot.len() - 3], 0x04);
}

#[test]
fn ascii_encoding_of_the_reference_report_decodes_to_the_same_values() {
    let hex_frame = decode_one(&hex(TIMED_32));
    let ascii_frame = Frame { encoding: Encoding::Ascii, ..hex_frame.clone() };
    let bytes = ascii_frame.encode().unwrap();
    assert_eq!(bytes[0], SOH);
    // Header fields as hex characters, the body as names and decimal text.
    assert_eq!(&bytes[1..23], b"05001122334403E832004F");
    let text = String::from_utf8(bytes[24..bytes.len() - 5].to_vec()).unwrap();
    assert_eq!(text, "0034170718110016 ST 0011223344 H TT 1707181100 PJ 4.0 PT 4.0 Z 10.490 VT 10.99 ");
    assert_eq!(text.len(), 0x4F);
    let back = decode_one(&bytes);
    assert_eq!(back.encoding, Encoding::Ascii);
    // The HEX form of the body is the reference frame's body, byte for byte.
    assert_eq!(back.body, hex_frame.body);
    let (Body::Report(a), Body::Report(h)) = (back.body().unwrap(), hex_frame.body().unwrap()) else {
        panic!("reports")
    };
    assert_eq!(values(&a), values(&h));
    assert_eq!((a.serial, a.sent, a.station, a.class, a.observed), (h.serial, h.sent, h.station, h.class, h.observed));
    // An ASCII keep-alive and an ASCII confirm.
    let ka = Frame { encoding: Encoding::Ascii, ..decode_one(&hex(KEEP_ALIVE)) };
    let ka_bytes = ka.encode().unwrap();
    assert_eq!(&ka_bytes[24..40], b"000C141205094357");
    assert_eq!(decode_one(&ka_bytes), ka);
    let confirm = Frame { encoding: Encoding::Ascii, ..decode_one(&hex(CONFIRM)) };
    assert_eq!(decode_one(&confirm.encode().unwrap()), confirm);
}

#[test]
fn ascii_body_errors_name_the_offset_in_the_stream() {
    let text = b"0034170718110016 ST 0011223344 H TT 1707181100 PJ 4.x ";
    let mut frame = Vec::new();
    frame.push(SOH);
    frame.extend_from_slice(format!("05001122334403E8320{:03X}", text.len()).as_bytes());
    frame.push(STX);
    frame.extend_from_slice(text);
    frame.push(0x03);
    let crc = crc16(&frame);
    frame.extend_from_slice(format!("{crc:04X}").as_bytes());
    let mut d = Decoder::new();
    let got = events(&mut d, &frame);
    let value_at = 24 + text.iter().position(|&b| b == b'x').unwrap() - 2;
    assert_eq!(got, vec![Err(Error::BadAscii { offset: value_at, expected: "a decimal number or all F (missing)" })]);
    // An unknown element name is refused, not guessed.
    let err = text_to_hex(Direction::Up, FunctionCode::Timed, b"0034170718110016 ST 0011223344 H TT 1707181100 QQ 1 ")
        .unwrap_err();
    assert_eq!(err, Error::UnknownAsciiElement { offset: 47 });
}

fn station() -> StationAddress {
    StationAddress([0x00, 0x12, 0x34, 0x56, 0x78])
}

#[test]
fn uniform_interval_report_with_missing_values() {
    let observed = t(24, 7, 1, 8, 0, 0);
    let series = [dec(10490, 3), dec(10500, 3), None, dec(10525, 3), None];
    let body = ReportBuilder::new(7, t(24, 7, 1, 8, 30, 5), station(), StationClass::River, observed)
        .time_step(TimeStep { days: 0, hours: 0, minutes: 5 })
        .series(Identifier::Z, &series)
        .unwrap()
        .finish();
    // The time-step code and the missing value on the wire.
    let at = body.windows(2).position(|w| w == [0x04, 0x18]).unwrap();
    assert_eq!(&body[at..at + 7], &[0x04, 0x18, 0x00, 0x00, 0x05, 0x39, 0x23]);
    assert_eq!(&body[at + 7 + 8..at + 7 + 12], &[0xFF; 4]);
    for encoding in [Encoding::Hex, Encoding::Ascii] {
        let frame = Frame::uplink(encoding, 1, station(), 0, FunctionCode::UniformInterval, body.clone());
        let back = decode_one(&frame.encode().unwrap());
        assert_eq!(back, frame, "{encoding:?}");
        let Body::Report(r) = back.body().unwrap() else { panic!("a report") };
        assert_eq!(r.step, Some(TimeStep { days: 0, hours: 0, minutes: 5 }));
        assert_eq!(r.step.unwrap().total_minutes(), 5);
        assert_eq!(values(&r), vec![(Identifier::Z, series.to_vec())]);
    }
    let ascii = Frame::uplink(Encoding::Ascii, 1, station(), 0, FunctionCode::UniformInterval, body).encode().unwrap();
    let text = String::from_utf8_lossy(&ascii[24..ascii.len() - 5]).into_owned();
    assert!(text.ends_with("TT 2407010800 DRN05 Z 10.490 10.500 FFFFFFFF 10.525 FFFFFFFF "), "{text}");
    // Values that do not divide into whole values are refused at their offset.
    let mut ragged = ReportBuilder::new(7, t(24, 7, 1, 8, 30, 5), station(), StationClass::River, observed)
        .time_step(TimeStep { days: 0, hours: 1, minutes: 0 })
        .series(Identifier::Z, &series)
        .unwrap()
        .finish();
    ragged.pop();
    let r = parse_body(FunctionCode::UniformInterval, Direction::Up, &ragged).unwrap();
    let Body::Report(r) = r else { panic!("a report") };
    assert_eq!(r.elements().next(), Some(Err(Error::RaggedSeries { offset: 30, len: 19, size: 4 })));
}

#[test]
fn hourly_report_with_drp_and_drz() {
    let mut rain = [Some(0u8); 12];
    rain[3] = Some(5);
    rain[4] = Some(12);
    rain[11] = None;
    let mut level = [Some(1049u16); 12];
    level[0] = None;
    level[6] = Some(1100);
    let body = ReportBuilder::new(0x7E7E, t(24, 7, 1, 9, 0, 5), station(), StationClass::River, t(24, 7, 1, 9, 0, 0))
        .rain_5min(rain)
        .number(Identifier::PT, dec(1234, 1))
        .unwrap()
        .level_5min(1, level)
        .number(Identifier::VT, dec(1250, 2))
        .unwrap()
        .finish();
    assert_eq!(&body[23..25], &[0xF4, 0x60]);
    for encoding in [Encoding::Hex, Encoding::Ascii] {
        let frame = Frame::uplink(encoding, 1, station(), 0, FunctionCode::Hourly, body.clone());
        let back = decode_one(&frame.encode().unwrap());
        assert_eq!(back, frame);
        let Body::Report(r) = back.body().unwrap() else { panic!("a report") };
        let drp: Vec<_> = r.element(Identifier::DRP).unwrap().series().collect();
        assert_eq!(drp.len(), 12);
        assert_eq!((drp[3], drp[4], drp[11]), (dec(5, 1), dec(12, 1), None));
        let drz: Vec<_> = r.element(Identifier::DRZ1).unwrap().series().collect();
        assert_eq!((drz[0], drz[1], drz[6]), (None, dec(1049, 2), dec(1100, 2)));
        assert_eq!(r.element(Identifier::PT).unwrap().value(), Some(dec(1234, 1)));
        assert_eq!(r.element(Identifier::VT).unwrap().value(), Some(dec(1250, 2)));
    }
}

#[test]
fn status_negative_user_and_unknown_elements() {
    let body = ReportBuilder::new(1, t(24, 1, 2, 3, 4, 5), station(), StationClass::Reservoir, t(24, 1, 2, 3, 0, 0))
        .status(Status(0b1100_0011))
        .number(Identifier::Z, dec(-1250, 3))
        .unwrap()
        .raw(Identifier::User(0x12), 0, &[1, 2, 3])
        .unwrap()
        .raw(Identifier::Standard(0xA7), 2, &[0x12, 0x34])
        .unwrap()
        .observed(t(24, 1, 2, 3, 5, 0))
        .number(Identifier::PJ, None)
        .unwrap()
        .finish();
    let Body::Report(r) = parse_body(FunctionCode::Timed, Direction::Up, &body).unwrap() else { panic!("a report") };
    let items: Vec<Element<'_>> = r.elements().map(Result::unwrap).collect();
    assert_eq!(items.len(), 6);
    let zt = items[0].status().unwrap();
    assert_eq!(
        zt.flags().collect::<Vec<_>>(),
        vec![StatusFlag::AcOutage, StatusFlag::BatteryLow, StatusFlag::LevelMeterFault, StatusFlag::CabinetDoorOpen]
    );
    assert_eq!(items[1].value(), Some(dec(-1250, 3)));
    assert_eq!(&body[items[1].offset..items[1].offset + 6], &[0x39, 0x23, 0xFF, 0x00, 0x12, 0x50]);
    assert_eq!((items[2].id, items[2].data, items[2].id.kind()), (Identifier::User(0x12), &[1u8, 2, 3][..], Kind::Raw));
    assert_eq!((items[3].id, items[3].data), (Identifier::Standard(0xA7), &[0x12u8, 0x34][..]));
    assert_eq!(items[4].time(), Some(t(24, 1, 2, 3, 5, 0)));
    assert_eq!(items[5].value(), Some(None));
    // User and unknown identifiers have no ASCII form: the encoder says so.
    let frame = Frame::uplink(Encoding::Ascii, 1, station(), 0, FunctionCode::Timed, body);
    assert_eq!(frame.encode(), Err(Error::NotAscii { what: "an element with no name in the ASCII table" }));
}

#[test]
fn bad_bcd_and_bad_time_name_their_offsets() {
    let mut body = ReportBuilder::new(1, t(24, 1, 2, 3, 4, 5), station(), StationClass::Rain, t(24, 1, 2, 3, 0, 0))
        .number(Identifier::PJ, dec(40, 1))
        .unwrap()
        .finish();
    body[27] = 0x4A;
    let Body::Report(r) = parse_body(FunctionCode::Timed, Direction::Up, &body).unwrap() else { panic!() };
    assert_eq!(r.elements().collect::<Vec<_>>(), vec![Err(Error::BadBcd { offset: 27, found: 0x4A })]);
    body[3] = 0x13; // month 13
    assert_eq!(parse_body(FunctionCode::Timed, Direction::Up, &body), Err(Error::BadTime { offset: 2, len: 6 }));
    body[3] = 0x01;
    body[16] = 0xF1;
    let err = parse_body(FunctionCode::Timed, Direction::Up, &body).unwrap_err();
    assert_eq!(err, Error::MissingMarker { offset: 16, expected: 0xF0, found: vec![0xF1, 0xF0] });
    assert_eq!(err.code(), "sl651_missing_marker");
    assert_eq!(
        parse_body(FunctionCode::Timed, Direction::Up, &body[..12]),
        Err(Error::BodyTooShort { offset: 10, need: 3 })
    );
}

#[test]
fn multi_packet_reassembly_reports_the_gap_for_a_nak() {
    let body = ReportBuilder::new(9, t(24, 7, 1, 9, 0, 5), station(), StationClass::River, t(24, 7, 1, 9, 0, 0))
        .rain_5min([Some(1); 12])
        .level_5min(2, [Some(500); 12])
        .finish();
    let whole = Frame::uplink(Encoding::Hex, 1, station(), 0, FunctionCode::Hourly, body.clone());
    let parts = whole.split(16);
    assert_eq!(parts.len(), body.len().div_ceil(16));
    assert_eq!(parts.len(), 4);
    assert!(parts[..3].iter().all(|p| p.end == EndChar::Etb) && parts[3].end == EndChar::Etx);
    // Through the wire: SYN and the packet field survive.
    let decoded: Vec<Frame> = parts.iter().map(|p| decode_one(&p.encode().unwrap())).collect();
    assert_eq!(decoded, parts);
    assert_eq!(decoded[1].packet, Packet::new(4, 2));

    let mut r = Reassembler::default();
    assert_eq!(r.push(&decoded[0]), Ok(Progress::Pending { count: 4, received: 1 }));
    assert_eq!(r.push(&decoded[2]), Ok(Progress::Pending { count: 4, received: 2 }));
    assert_eq!(r.push(&decoded[3]), Ok(Progress::Gap { missing: 2, count: 4 }));
    // The NAK the server sends names packet 2.
    let nak = Frame::nak(&decoded[3], 2, 9, t(24, 7, 1, 9, 0, 6)).unwrap();
    let nak = decode_one(&nak.encode().unwrap());
    assert_eq!((nak.direction, nak.end, nak.packet), (Direction::Down, EndChar::Nak, Packet::new(4, 2)));
    // A duplicate does not count twice; the resent packet completes the message.
    assert_eq!(r.push(&decoded[0]), Ok(Progress::Gap { missing: 2, count: 4 }));
    let Ok(Progress::Complete(done)) = r.push(&decoded[1]) else { panic!("complete") };
    assert_eq!(done.hex_body().unwrap(), body);
    assert_eq!(done.frame.serial(), Some(9));
    assert_eq!(r.pending(), 0);
    // A single-packet frame is no part; a part of another count is refused.
    assert_eq!(r.push(&whole), Err(Error::NotMultiPacket));
    r.push(&decoded[0]).unwrap();
    let mut other = decoded[1].clone();
    other.packet = Packet::new(5, 2);
    assert_eq!(r.push(&other), Err(Error::PacketMismatch { count: 5, seq: 2, held: 4 }));
    // Bounded: a message over the byte limit is dropped.
    let mut small = Reassembler::new(2, 20);
    assert_eq!(small.push(&decoded[0]), Ok(Progress::Pending { count: 4, received: 1 }));
    assert_eq!(small.push(&decoded[1]), Err(Error::MessageTooLarge { max: 20 }));
    assert_eq!(small.pending(), 0);
    // ASCII parts keep their text and are transcoded once whole.
    let ascii = Frame { encoding: Encoding::Ascii, ..whole };
    let text = ascii.encode().unwrap();
    let text_body = text[24..text.len() - 5].to_vec();
    let ascii_whole = Frame { body: text_body, ..ascii };
    let mut r = Reassembler::default();
    let mut last = None;
    for part in ascii_whole.split(50) {
        last = Some(r.push(&decode_one(&part.encode().unwrap())).unwrap());
    }
    let Some(Progress::Complete(done)) = last else { panic!("complete") };
    assert_eq!(done.hex_body().unwrap(), body);
}

#[test]
fn garbage_between_frames_is_reported_and_skipped() {
    let mut stream = b"hello".to_vec();
    stream.extend(hex(KEEP_ALIVE));
    stream.extend([0x00, 0x7E, 0x11, 0x01, 0x02]);
    stream.extend(hex(TIMED_32));
    let mut d = Decoder::new();
    let got = events(&mut d, &stream);
    let ka = hex(KEEP_ALIVE).len();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], Err(Error::Garbage { offset: 0, len: 5 }));
    assert_eq!(got[1].as_ref().unwrap().function, FunctionCode::KeepAlive);
    assert_eq!(got[2], Err(Error::Garbage { offset: 5 + ka, len: 5 }));
    assert_eq!(got[3].as_ref().unwrap().function, FunctionCode::Timed);
    let s = d.stats();
    assert_eq!((s.frames, s.errors, s.skipped_bytes, s.resyncs), (2, 2, 10, 2));
    assert_eq!(d.finish(), None);
}

#[test]
fn a_7e_inside_a_frame_and_a_false_start_before_one() {
    // Serial 7E7E: the start bytes occur inside the body.
    let body = ReportBuilder::new(0x7E7E, t(24, 7, 1, 9, 0, 5), station(), StationClass::Rain, t(24, 7, 1, 9, 0, 0))
        .number(Identifier::PJ, dec(7, 1))
        .unwrap()
        .finish();
    let frame = Frame::uplink(Encoding::Hex, 0x7E, station(), 0x7E7E, FunctionCode::Timed, body);
    let bytes = frame.encode().unwrap();
    assert!(bytes[2..].windows(2).any(|w| w == [0x7E, 0x7E]));
    assert_eq!(decode_one(&bytes), frame);
    // A false 7E 7E that announces a long body does not hold up the good frame behind it.
    let mut stream = vec![0x7E, 0x7E, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x32, 0x0F, 0xA0, 0x02];
    stream.extend(&bytes);
    let mut d = Decoder::new();
    let got = events(&mut d, &stream);
    assert_eq!(got, vec![Err(Error::Garbage { offset: 0, len: 14 }), Ok(frame.clone())]);
}

#[test]
fn bad_crc_then_a_good_frame() {
    let mut bad = hex(TIMED_32);
    let n = bad.len();
    bad[n - 1] ^= 0xFF;
    let mut stream = bad.clone();
    stream.extend(hex(KEEP_ALIVE));
    let mut d = Decoder::new();
    let got = events(&mut d, &stream);
    assert_eq!(got[0], Err(Error::BadCrc { offset: 0, found: 0xA4DE, computed: 0xA421 }));
    assert_eq!(got[0].as_ref().unwrap_err().code(), "sl651_bad_crc");
    // The rest of the bad frame is garbage (one byte was skipped, then the scan went on).
    assert_eq!(got[1], Err(Error::Garbage { offset: 1, len: n - 1 }));
    assert_eq!(got[2].as_ref().unwrap().function, FunctionCode::KeepAlive);
    assert_eq!(got.len(), 3);
    assert_eq!(d.stats().resyncs, 2);
}

#[test]
fn truncated_input_waits_then_finishes_or_reports() {
    let whole = hex(TIMED_32);
    let mut d = Decoder::new();
    d.feed(&whole[..30]);
    assert_eq!(d.decode(), None);
    assert_eq!(d.buffered(), 30);
    d.feed(&whole[30..]);
    assert_eq!(d.decode().unwrap().unwrap().frame.function, FunctionCode::Timed);
    // Cut off for good: finish reports what the header announced.
    d.feed(&whole[..20]);
    assert_eq!(d.decode(), None);
    let at = whole.len();
    assert_eq!(d.finish(), Some(Error::Truncated { offset: at, have: 20, need: at }));
    assert_eq!(d.buffered(), 0);
}

#[test]
fn over_long_length_is_refused_and_the_next_frame_decodes() {
    let big = ReportBuilder::new(1, t(24, 1, 2, 3, 4, 5), station(), StationClass::Rain, t(24, 1, 2, 3, 0, 0))
        .series(Identifier::PJ, &[dec(1, 1); 40])
        .unwrap()
        .finish();
    let big = Frame::uplink(Encoding::Hex, 1, station(), 0, FunctionCode::Test, big).encode().unwrap();
    let mut stream = big.clone();
    stream.extend(hex(KEEP_ALIVE));
    let mut d = Decoder::with_max_body(64);
    let got = events(&mut d, &stream);
    assert_eq!(got[0], Err(Error::LengthOverMax { offset: 11, length: big.len() - 17, max: 64 }));
    assert_eq!(got[1], Err(Error::Garbage { offset: 1, len: big.len() - 1 }));
    assert_eq!(got[2].as_ref().unwrap().function, FunctionCode::KeepAlive);
    // A bad direction nibble and a zero length are refused the same way.
    let mut bad = hex(KEEP_ALIVE);
    bad[11] = 0x40;
    assert_eq!(events(&mut Decoder::new(), &bad)[0], Err(Error::BadDirection { offset: 11, nibble: 4 }));
    bad[11] = 0x00;
    bad[12] = 0x00;
    assert_eq!(events(&mut Decoder::new(), &bad)[0], Err(Error::LengthTooShort { offset: 11, length: 0, min: 1 }));
    // The buffer is bounded: feed takes no more than twice the largest frame.
    let mut d = Decoder::with_max_body(64);
    assert_eq!(d.feed(&[0x7E; 10_000]), 2 * (24 + 64 + 5));
}

#[test]
fn error_codes_are_unique() {
    let errors = [
        Error::Garbage { offset: 0, len: 0 },
        Error::BadDirection { offset: 0, nibble: 0 },
        Error::LengthTooShort { offset: 0, length: 0, min: 0 },
        Error::LengthOverMax { offset: 0, length: 0, max: 0 },
        Error::BadBodyStart { offset: 0, found: 0 },
        Error::BadEnd { offset: 0, found: 0 },
        Error::BadCrc { offset: 0, found: 0, computed: 0 },
        Error::BadHexDigit { offset: 0, found: 0 },
        Error::BadPacket { offset: 0, count: 0, seq: 0 },
        Error::Truncated { offset: 0, have: 0, need: 0 },
        Error::BodyTooShort { offset: 0, need: 0 },
        Error::BadBcd { offset: 0, found: 0 },
        Error::BadTime { offset: 0, len: 0 },
        Error::MissingMarker { offset: 0, expected: 0, found: vec![] },
        Error::BadElementLength { offset: 0, id: Identifier::Z, len: 0, expected: "" },
        Error::ValueTooLong { offset: 0, digits: 0 },
        Error::RaggedSeries { offset: 0, len: 0, size: 0 },
        Error::MissingTimeStep { offset: 0 },
        Error::BadAscii { offset: 0, expected: "" },
        Error::UnknownAsciiElement { offset: 0 },
        Error::BodyTooLong { length: 0 },
        Error::NotAscii { what: "" },
        Error::ValueDoesNotFit { mantissa: 0, scale: 0, bytes: 0 },
        Error::PacketMismatch { count: 0, seq: 0, held: 0 },
        Error::MessageTooLarge { max: 0 },
        Error::NotMultiPacket,
    ];
    let mut codes: Vec<_> = errors.iter().map(Error::code).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
    assert_eq!(
        Error::BadCrc { offset: 3, found: 1, computed: 2 }.to_string(),
        "frame at offset 3: CRC 0001 sent, 0002 computed"
    );
}

#[test]
fn station_address_rules_and_codes() {
    let admin = StationAddress([0x37, 0x03, 0x04, 0x01, 0x2C]);
    assert_eq!(admin.admin_coded(), Some((370_304, 300)));
    assert_eq!(admin.hydrological(), None);
    assert_eq!(FunctionCode::from_byte(0xE5), FunctionCode::UserDefined(0xE5));
    assert_eq!(FunctionCode::from_byte(0x52), FunctionCode::Other(0x52));
    assert_eq!(FunctionCode::from_byte(0x4A), FunctionCode::SetClock);
    assert_eq!(FunctionCode::SetClock.byte(), 0x4A);
    assert_eq!(StationClass::from_byte(0x50), StationClass::Rain);
    assert_eq!(StationClass::Outfall.byte(), b'O');
}

// ---- properties ---------------------------------------------------------------------------

fn time() -> impl Strategy<Value = Time> {
    (0u8..100, 1u8..13, 1u8..29, 0u8..24, 0u8..60, 0u8..60).prop_map(|(y, mo, d, h, mi, s)| t(y, mo, d, h, mi, s))
}

fn minute_time() -> impl Strategy<Value = Time> {
    time().prop_map(|t| Time { second: 0, ..t })
}

#[derive(Debug, Clone)]
enum Item {
    Number(Identifier, Option<Decimal>),
    Status(u32),
    Rain([Option<u8>; 12]),
    Level(u8, [Option<u16>; 12]),
    Observed(Time),
}

fn number_id() -> impl Strategy<Value = Identifier> {
    prop::sample::select(vec![
        Identifier::PJ,
        Identifier::PT,
        Identifier::P1,
        Identifier::PD,
        Identifier::Z,
        Identifier::ZU,
        Identifier::VT,
        Identifier::Q,
        Identifier::M10,
    ])
}

fn value() -> impl Strategy<Value = Option<Decimal>> {
    prop::option::weighted(0.85, (-99_999_999i64..99_999_999, 0u8..4).prop_map(|(m, s)| Decimal::new(m, s)))
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (number_id(), value()).prop_map(|(id, v)| Item::Number(id, v)),
        1 => any::<u32>().prop_map(Item::Status),
        1 => prop::array::uniform12(prop::option::of(0u8..255)).prop_map(Item::Rain),
        1 => (1u8..9, prop::array::uniform12(prop::option::of(0u16..65535))).prop_map(|(n, v)| Item::Level(n, v)),
        1 => minute_time().prop_map(Item::Observed),
    ]
}

fn class() -> impl Strategy<Value = StationClass> {
    prop::sample::select(vec![0x50u8, 0x48, 0x4B, 0x5A, 0x44, 0x54, 0x4D, 0x47, 0x51, 0x49, 0x4F])
        .prop_map(StationClass::from_byte)
}

fn report_frame() -> impl Strategy<Value = (Frame, Vec<Item>)> {
    (
        any::<u16>(),
        time(),
        any::<[u8; 5]>(),
        class(),
        minute_time(),
        prop::collection::vec(item(), 0..12),
        prop::sample::select(vec![0x30u8, 0x32, 0x33, 0x34]),
        any::<bool>(),
        any::<u8>(),
        any::<u16>(),
    )
        .prop_map(|(serial, sent, addr, class, observed, items, function, ascii, centre, password)| {
            let station = StationAddress(addr);
            let mut b = ReportBuilder::new(serial, sent, station, class, observed);
            for item in &items {
                b = match item {
                    Item::Number(id, v) => b.number(*id, *v).unwrap(),
                    Item::Status(s) => b.status(Status(*s)),
                    Item::Rain(r) => b.rain_5min(*r),
                    Item::Level(n, v) => b.level_5min(*n, *v),
                    Item::Observed(t) => b.observed(*t),
                };
            }
            let encoding = if ascii { Encoding::Ascii } else { Encoding::Hex };
            let frame =
                Frame::uplink(encoding, centre, station, password, FunctionCode::from_byte(function), b.finish());
            (frame, items)
        })
}

proptest! {
    #[test]
    fn reports_round_trip_through_both_encodings((frame, items) in report_frame()) {
        let bytes = frame.encode().unwrap();
        let back = decode_one(&bytes);
        prop_assert_eq!(&back, &frame);
        let Body::Report(r) = back.body().unwrap() else { panic!("a report") };
        let elements: Vec<Element<'_>> = r.elements().map(Result::unwrap).collect();
        prop_assert_eq!(elements.len(), items.len());
        for (e, item) in elements.iter().zip(&items) {
            match item {
                Item::Number(id, v) => {
                    prop_assert_eq!(e.id, *id);
                    // Minus zero is zero.
                    let v = v.map(|v| if v.mantissa == 0 { Decimal::new(0, v.scale) } else { v });
                    prop_assert_eq!(e.value(), Some(v));
                }
                Item::Status(s) => prop_assert_eq!(e.status(), Some(Status(*s))),
                Item::Rain(r) => {
                    let want: Vec<_> = r.iter().map(|v| v.map(|v| Decimal::new(i64::from(v), 1))).collect();
                    prop_assert_eq!(e.series().collect::<Vec<_>>(), want);
                }
                Item::Level(n, l) => {
                    prop_assert_eq!(e.id, Identifier::Standard(0xF4 + n));
                    let want: Vec<_> = l.iter().map(|v| v.map(|v| Decimal::new(i64::from(v), 2))).collect();
                    prop_assert_eq!(e.series().collect::<Vec<_>>(), want);
                }
                Item::Observed(t) => prop_assert_eq!(e.time(), Some(*t)),
            }
        }
    }

    #[test]
    fn any_chunking_of_a_stream_gives_the_same_frames(
        frames in prop::collection::vec(report_frame(), 1..5),
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 5),
        cuts in prop::collection::vec(1usize..200, 1..40),
    ) {
        let mut stream = Vec::new();
        for (i, (f, _)) in frames.iter().enumerate() {
            stream.extend(&garbage[i]);
            stream.extend(f.encode().unwrap());
        }
        let mut d = Decoder::new();
        let mut got = Vec::new();
        let mut rest = &stream[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            let taken = d.feed(&rest[..n]);
            rest = &rest[taken..];
            while let Some(e) = d.decode() {
                if let Ok(r) = e {
                    got.push(r.frame);
                }
            }
        }
        d.finish();
        let want: Vec<Frame> = frames.into_iter().map(|(f, _)| f).collect();
        // Garbage may hide nothing: every frame comes out, in order.
        prop_assert_eq!(got, want);
    }
}

#[test]
fn the_fuzz_seeds_are_frames_the_decoder_reads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/sl651_frame");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        // The first byte is the target's chunk-size seed.
        let got = events(&mut Decoder::new(), &bytes[1..]);
        let frames: Vec<&Frame> = got.iter().filter_map(|e| e.as_ref().ok()).collect();
        assert!(!frames.is_empty(), "{path:?}");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("stream-") {
            assert!(got.iter().all(Result::is_ok), "{name}: {got:?}");
            for f in frames {
                match f.body().unwrap() {
                    Body::Report(r) => assert!(r.elements().all(|e| e.is_ok()), "{name}"),
                    Body::Raw(_) => assert!(f.packet.is_some(), "{name}"),
                    _ => {}
                }
            }
        }
        seen += 1;
    }
    assert!(seen >= 10);
}

// ---- allocations --------------------------------------------------------------------------

/// The system allocator, counting this thread's allocations (tests run on several threads).
struct Counting;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(|n| n.get())
}

#[test]
fn decoding_allocates_per_frame_not_per_value() {
    let body = ReportBuilder::new(1, t(24, 7, 1, 9, 0, 5), station(), StationClass::River, t(24, 7, 1, 9, 0, 0))
        .rain_5min([Some(3); 12])
        .number(Identifier::PT, dec(1234, 1))
        .unwrap()
        .level_5min(1, [Some(1049); 12])
        .number(Identifier::VT, dec(1250, 2))
        .unwrap()
        .finish();
    let bytes = Frame::uplink(Encoding::Hex, 1, station(), 0, FunctionCode::Hourly, body).encode().unwrap();
    let mut d = Decoder::new();
    d.feed(&bytes);
    let before = allocations();
    let received = d.decode().unwrap().unwrap();
    // The frame's body and its raw bytes: two allocations, whatever the number of values.
    assert_eq!(allocations() - before, 2);
    let before = allocations();
    let Body::Report(r) = received.frame.body().unwrap() else { panic!("a report") };
    let mut n = 0;
    let mut sum = 0;
    for e in r.elements() {
        let e = e.unwrap();
        for v in e.values().chain(e.series()).flatten() {
            n += 1;
            sum += v.mantissa;
        }
    }
    assert_eq!((n, sum), (26, 12 * 3 + 1234 + 12 * 1049 + 1250));
    assert_eq!(allocations() - before, 0, "reading the body allocated");
}

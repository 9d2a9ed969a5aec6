//! Frame decoding throughput: a typical 32H timed report (the reference frame: PJ, PT, Z, VT)
//! and a 34H hourly report (DRP, PT, DRZ1, VT: 12 + 1 + 12 + 1 values), each through the
//! streaming decoder and the body view down to every value, one frame at a time and as a
//! stream of 1,000 frames fed in 4 KiB reads.
//!
//! `cargo bench -p zhili-sl651 --bench decode`. Throughput is printed as bytes/s (criterion's
//! `Throughput::Bytes`); frames/s is 1 / the time per frame (or 1,000 / the time of a stream).

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use zhili_sl651::{
    Body, Decimal, Decoder, Encoding, Frame, FunctionCode, Identifier, ReportBuilder, StationAddress, StationClass,
    Time,
};

const TIMED_32: &str = "7E7E05001122334403E832002B020034170718110016F1F1001122334448F0F01707181100201900004026190000403923000104903812109903A421";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn hourly() -> Vec<u8> {
    let t = |h, m, s| Time::new(24, 7, 1, h, m, s).unwrap();
    let station = StationAddress([0x00, 0x12, 0x34, 0x56, 0x78]);
    let body = ReportBuilder::new(42, t(10, 0, 5), station, StationClass::River, t(10, 0, 0))
        .rain_5min([
            Some(0),
            Some(0),
            Some(5),
            Some(12),
            Some(30),
            Some(41),
            Some(22),
            Some(9),
            Some(3),
            Some(0),
            None,
            Some(0),
        ])
        .number(Identifier::PT, Some(Decimal::new(12345, 1)))
        .unwrap()
        .level_5min(
            1,
            [
                Some(1049),
                Some(1050),
                Some(1052),
                Some(1055),
                Some(1061),
                Some(1070),
                Some(1082),
                Some(1090),
                Some(1094),
                Some(1095),
                Some(1093),
                None,
            ],
        )
        .number(Identifier::VT, Some(Decimal::new(1250, 2)))
        .unwrap()
        .finish();
    Frame::uplink(Encoding::Hex, 1, station, 0x000A, FunctionCode::Hourly, body).encode().unwrap()
}

/// Decodes every frame in `bytes` and reads every value; returns a checksum of the values.
fn decode_all(decoder: &mut Decoder, bytes: &[u8], chunk: usize) -> i64 {
    let mut sum = 0i64;
    for part in bytes.chunks(chunk) {
        let mut rest = part;
        while !rest.is_empty() {
            let n = decoder.feed(rest);
            rest = &rest[n..];
            while let Some(got) = decoder.decode() {
                let received = got.expect("valid frame");
                if let Ok(Body::Report(report)) = received.frame.body() {
                    for element in report.elements() {
                        let element = element.expect("valid element");
                        sum += element.values().flatten().map(|v| v.mantissa).sum::<i64>();
                        sum += element.series().flatten().map(|v| v.mantissa).sum::<i64>();
                    }
                }
            }
        }
    }
    sum
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for (name, frame) in [("32h_timed", hex(TIMED_32)), ("34h_hourly", hourly())] {
        let mut group = c.benchmark_group(format!("decode_{name}"));
        group.throughput(Throughput::Bytes(frame.len() as u64));
        group.bench_function("one_frame", |b| {
            let mut decoder = Decoder::new();
            b.iter(|| black_box(decode_all(&mut decoder, black_box(&frame), frame.len())))
        });
        let stream: Vec<u8> = std::iter::repeat_n(&frame, 1000).flatten().copied().collect();
        group.throughput(Throughput::Bytes(stream.len() as u64));
        group.bench_function("stream_1000_frames_4k_reads", |b| {
            let mut decoder = Decoder::new();
            b.iter(|| black_box(decode_all(&mut decoder, black_box(&stream), 4096)))
        });
        group.finish();
        println!("{name}: {} bytes per frame", frame.len());
    }
    c.final_summary();
}

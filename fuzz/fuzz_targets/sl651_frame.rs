//! `zhili_sl651::Decoder` on arbitrary bytes: what a station (or anyone) sends to the SL 651
//! port. The first byte picks the chunk sizes the rest is fed in, so that frames split across
//! reads are exercised. It must never panic and never stall (every call returns, the buffer
//! stays bounded, all input is taken), and every frame it decodes must encode again (in the
//! same encoding) to bytes that decode to the same frame; so must its body views.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zhili_sl651::{Body, Decoder, Frame, Parsed, MAX_BODY};

fuzz_target!(|data: &[u8]| {
    let Some((&seed, input)) = data.split_first() else { return };
    let mut decoder = Decoder::new();
    let capacity = decoder.room();
    let mut rest = input;
    let mut step = 0usize;
    let mut frames = Vec::new();
    while !rest.is_empty() {
        // Chunk sizes 1..=64 cycling from the seed.
        let n = (1 + (usize::from(seed) * 7 + step * 13) % 64).min(rest.len());
        step += 1;
        let taken = decoder.feed(&rest[..n]);
        rest = &rest[taken..];
        let mut events = 0;
        while let Some(event) = decoder.decode() {
            events += 1;
            assert!(events <= 2 * input.len() + 2, "the decoder keeps answering without consuming");
            if let Ok(received) = event {
                frames.push(received.frame);
            }
        }
        assert!(decoder.buffered() <= capacity, "the buffer grew past its bound");
        if taken == 0 {
            panic!("the decoder took nothing after decode() returned None: it stalls");
        }
    }
    decoder.finish();
    assert_eq!(decoder.buffered(), 0);

    for frame in frames {
        let bytes = frame.encode().expect("a decoded frame encodes");
        let again = match Frame::parse(&bytes, MAX_BODY) {
            Ok(Parsed::Frame { frame, len }) => {
                assert_eq!(len, bytes.len());
                frame
            }
            other => panic!("re-encoded frame does not decode: {other:?}"),
        };
        assert_eq!(again, frame);
        // Body views must not panic; a report's elements read the same both times.
        match (frame.body(), again.body()) {
            (Ok(Body::Report(a)), Ok(Body::Report(b))) => {
                assert!(a.elements().eq(b.elements()));
                for e in a.elements().flatten() {
                    let _ = (e.values().count(), e.series().count(), e.status(), e.time_step(), e.time());
                }
            }
            (a, b) => assert_eq!(a, b),
        }
    }
});

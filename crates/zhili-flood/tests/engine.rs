//! The rainfall and water engine and station health: examples and properties.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use zhili_flood::health::{
    station_health, HealthConfig, HealthConfigError, HealthInput, Liveness, Problem, StatusAlarm,
};
use zhili_flood::level::{
    level_trend, LevelConfig, LevelConfigError, LevelFlagReason, LevelObservation, RateMethod, Trend,
};
use zhili_flood::rain::{Accumulation, FlagReason, Inserted, RainConfig, RainConfigError, RainError, RainSeries};
use zhili_flood::soil::{
    antecedent_index, daily_rain, soil_state, ApiConfig, DepthThresholds, MoistureConfig, SoilConfig, SoilError,
    SoilExplanation, SoilInputs,
};
use zhili_flood::vocab::{Element, SoilState, Window};

const RAIN5: Element = Element::RainIncrement { interval_minutes: 5 };
const RAIN30: Element = Element::RainIncrement { interval_minutes: 30 };
const RAIN60: Element = Element::RainIncrement { interval_minutes: 60 };
const PT: Element = Element::RainCounter;

/// 2026-07-18 00:00 UTC plus `minutes`.
fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 18, 0, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn hm(h: i64, m: i64) -> DateTime<Utc> {
    t(h * 60 + m)
}

fn w(minutes: u32) -> Window {
    Window::minutes(minutes).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Property settings: no regression files are written next to the tests.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------- rain

#[test]
fn five_minute_values_fill_their_windows() {
    let mut s = RainSeries::default();
    for i in 1..=12 {
        assert_eq!(s.insert(RAIN5, hm(10, 5 * i), 1.5).unwrap(), Inserted::New);
    }
    let a = s.accumulation(Window::H1, hm(11, 0));
    assert_eq!(a, Accumulation { window: Window::H1, at: hm(11, 0), mm: 18.0, complete: true, missing_minutes: 0 });
    let b = s.accumulation(Window::H3, hm(11, 0));
    assert!(close(b.mm, 18.0) && !b.complete && b.missing_minutes == 120, "{b:?}");
    // The value stamped 10:05 covers 10:00–10:05: in the window ending 10:05, not in the one ending 10:00.
    assert!(close(s.accumulation(w(5), hm(10, 5)).mm, 1.5));
    assert_eq!(s.accumulation(w(5), hm(10, 0)).missing_minutes, 5);
    // A time between boundaries is rounded down to the last one.
    let c = s.accumulation(w(10), hm(10, 14));
    assert_eq!(c.at, hm(10, 10));
    assert!(close(c.mm, 3.0) && c.complete);
    assert_eq!(s.latest(), Some(hm(11, 0)));
    assert_eq!(s.len(), 12);
}

#[test]
fn duplicates_change_nothing_and_corrections_replace() {
    let mut s = RainSeries::default();
    s.insert(RAIN5, hm(10, 5), 2.0).unwrap();
    s.insert(RAIN5, hm(10, 10), 3.0).unwrap();
    assert_eq!(s.insert(RAIN5, hm(10, 5), 2.0).unwrap(), Inserted::Duplicate);
    assert!(close(s.accumulation(w(10), hm(10, 10)).mm, 5.0));
    assert_eq!(s.insert(RAIN5, hm(10, 5), 4.5).unwrap(), Inserted::Corrected { previous_mm: 2.0 });
    assert!(close(s.accumulation(w(10), hm(10, 10)).mm, 7.5));
    assert_eq!(s.len(), 2);
}

#[test]
fn a_late_value_updates_every_window_it_falls_in() {
    let mut s = RainSeries::default();
    for i in 1..=36 {
        if i != 7 {
            s.insert(RAIN5, hm(9, 5 * i), 1.0).unwrap();
        }
    }
    let before = s.accumulations(&[Window::H1, Window::H3, w(30)], hm(12, 0));
    assert!(!before[1].complete && before[1].missing_minutes == 5);
    s.insert(RAIN5, hm(9, 35), 10.0).unwrap(); // late
    let after = s.accumulations(&[Window::H1, Window::H3, w(30)], hm(12, 0));
    assert!(close(after[1].mm, before[1].mm + 10.0) && after[1].complete);
    // Outside the 1 h and 30 min windows: unchanged.
    assert_eq!(after[0], before[0]);
    assert_eq!(after[2], before[2]);
    assert!(close(s.accumulation(Window::H1, hm(10, 0)).mm, 21.0));
}

#[test]
fn counter_differences_are_rain_and_a_drop_is_a_reset() {
    let mut s = RainSeries::default();
    for (m, v) in [(0, 100.0), (5, 101.5), (10, 104.0), (15, 104.0), (20, 2.0), (25, 3.0)] {
        s.insert(PT, hm(10, m), v).unwrap();
    }
    // 10:05 +1.5, 10:10 +2.5, 10:15 0, 10:20 reset: 2.0 since the reset, 10:25 +1.
    let a = s.accumulation(w(25), hm(10, 25));
    assert!(close(a.mm, 7.0) && a.complete, "{a:?}");
    assert!(close(s.accumulation(w(5), hm(10, 20)).mm, 2.0));
    assert_eq!(s.counter_resets(), vec![hm(10, 20)]);
    // The first reading only starts the counter: its bucket is not known.
    let b = s.accumulation(w(30), hm(10, 25));
    assert!(!b.complete && b.missing_minutes == 5);
    assert!(s.flags().is_empty());
}

#[test]
fn counter_readings_between_boundaries_fall_in_the_bucket_ending_after_them() {
    let mut s = RainSeries::default();
    s.insert(PT, hm(10, 3), 10.0).unwrap(); // bucket 10:00–10:05
    s.insert(PT, hm(10, 4), 10.5).unwrap(); // same bucket: the last reading stands
    s.insert(PT, hm(10, 12), 12.5).unwrap(); // bucket 10:10–10:15
                                             // +2.0 covering the buckets ending 10:10 and 10:15, assigned to 10:15.
    let a = s.accumulation(w(10), hm(10, 15));
    assert!(close(a.mm, 2.0) && a.complete, "{a:?}");
    assert!(close(s.accumulation(w(5), hm(10, 15)).mm, 2.0));
    // A window ending before the report does not know the 10:05–10:10 rain yet.
    let b = s.accumulation(w(5), hm(10, 10));
    assert!(close(b.mm, 0.0) && !b.complete);
}

#[test]
fn a_span_counts_at_its_last_bucket() {
    // Hourly PT: the hour's rain is exact for the hour, all of it for a shorter window
    // ending at the report, unknown for a window ending before it.
    let mut s = RainSeries::default();
    s.insert(PT, hm(10, 0), 50.0).unwrap();
    s.insert(PT, hm(11, 0), 70.0).unwrap();
    s.insert(PT, hm(12, 0), 71.0).unwrap();
    let h = s.accumulations(&[Window::H1, w(30), Window::H3], hm(11, 0));
    assert!(close(h[0].mm, 20.0) && h[0].complete);
    assert!(close(h[1].mm, 20.0) && h[1].complete);
    assert!(!h[2].complete && h[2].missing_minutes == 120);
    let early = s.accumulation(w(30), hm(10, 30));
    assert!(close(early.mm, 0.0) && !early.complete && early.missing_minutes == 30);
    assert!(close(s.accumulation(Window::H1, hm(12, 0)).mm, 1.0));
    let two = s.accumulation(w(120), hm(12, 0));
    assert!(close(two.mm, 21.0) && two.complete);
}

#[test]
fn coarse_increments_where_that_is_all_a_station_sends() {
    let mut s = RainSeries::default();
    s.insert(RAIN60, hm(11, 0), 12.0).unwrap();
    s.insert(RAIN60, hm(12, 0), 8.0).unwrap();
    s.insert(RAIN30, hm(12, 30), 3.0).unwrap();
    let a = s.accumulations(&[w(150), w(30), Window::H1], hm(12, 30));
    assert!(close(a[0].mm, 23.0) && a[0].complete);
    assert!(close(a[1].mm, 3.0) && a[1].complete);
    // 12:00–12:30 from the 30-min value, 11:30–12:00 known only as part of the hour ending 12:00.
    assert!(close(a[2].mm, 11.0) && a[2].complete);
}

#[test]
fn finer_values_win_over_coarser_ones_for_the_same_rain() {
    // An automatic station sends both DRP (5-min) and the PT counter for the same hour.
    let mut s = RainSeries::default();
    s.insert(PT, hm(10, 0), 200.0).unwrap();
    for i in 1..=12 {
        s.insert(RAIN5, hm(10, 5 * i), 0.5).unwrap();
    }
    s.insert(PT, hm(11, 0), 206.0).unwrap();
    s.insert(RAIN60, hm(11, 0), 6.0).unwrap();
    let a = s.accumulation(Window::H1, hm(11, 0));
    assert!(close(a.mm, 6.0) && a.complete, "counted once: {a:?}");
    // One DRP value missing: the counter cannot fill it (it overlaps finer values), the bucket stays missing.
    let mut s = RainSeries::default();
    s.insert(PT, hm(10, 0), 200.0).unwrap();
    for i in (1..=12).filter(|i| *i != 4) {
        s.insert(RAIN5, hm(10, 5 * i), 0.5).unwrap();
    }
    s.insert(PT, hm(11, 0), 206.0).unwrap();
    let b = s.accumulation(Window::H1, hm(11, 0));
    assert!(close(b.mm, 5.5) && !b.complete && b.missing_minutes == 5, "{b:?}");
    // Without the DRP values the counter alone gives the hour.
    let mut s = RainSeries::default();
    s.insert(PT, hm(10, 0), 200.0).unwrap();
    s.insert(PT, hm(11, 0), 206.0).unwrap();
    assert!(close(s.accumulation(Window::H1, hm(11, 0)).mm, 6.0));
}

#[test]
fn suspicious_values_are_flagged_and_count_for_nothing() {
    let mut s = RainSeries::default();
    s.insert(RAIN5, hm(10, 5), -1.0).unwrap();
    s.insert(RAIN5, hm(10, 10), 60.0).unwrap();
    s.insert(RAIN5, hm(10, 15), 50.0).unwrap(); // at the limit: believed
    s.insert(RAIN60, hm(12, 0), 700.0).unwrap(); // above 12 × 50
    let a = s.accumulation(w(15), hm(10, 15));
    assert!(close(a.mm, 50.0) && !a.complete && a.missing_minutes == 10, "{a:?}");
    let flags = s.flags();
    assert_eq!(flags.len(), 3, "{flags:?}");
    assert_eq!((flags[0].element, flags[0].time, flags[0].reason), (RAIN5, hm(10, 5), FlagReason::Negative));
    assert_eq!(flags[1].reason, FlagReason::AboveLimit { minutes: 5, limit_mm: 50.0 });
    assert!(close(flags[1].mm, 60.0));
    assert_eq!(flags[2].reason, FlagReason::AboveLimit { minutes: 60, limit_mm: 600.0 });
    // A correction of a flagged value clears its flag.
    s.insert(RAIN5, hm(10, 10), 6.0).unwrap();
    assert_eq!(s.flags().len(), 2);
    assert!(close(s.accumulation(w(15), hm(10, 15)).mm, 56.0));
    // The limit is configurable.
    let mut strict = RainSeries::new(RainConfig { max_mm_per_5min: 5.0, ..RainConfig::default() }).unwrap();
    strict.insert(RAIN5, hm(10, 5), 6.0).unwrap();
    assert_eq!(strict.flags()[0].reason, FlagReason::AboveLimit { minutes: 5, limit_mm: 5.0 });
}

#[test]
fn impossible_counter_jumps_and_long_gaps_are_flagged() {
    let mut s = RainSeries::default();
    for (m, v) in [(0, 10.0), (5, 11.0), (10, 511.0), (15, 512.0), (20, 513.0)] {
        s.insert(PT, hm(10, m), v).unwrap();
    }
    // +500 in 5 minutes is flagged; the counter goes on from the new reading.
    let a = s.accumulation(w(20), hm(10, 20));
    assert!(close(a.mm, 3.0) && a.missing_minutes == 5, "{a:?}");
    let flags = s.flags();
    assert_eq!(flags.len(), 1);
    assert_eq!((flags[0].time, flags[0].mm), (hm(10, 10), 511.0));
    assert_eq!(flags[0].reason, FlagReason::CounterJump { increment_mm: 500.0, minutes: 5, limit_mm: 50.0 });

    // A spike and back: the spike is flagged, the way back is a reset to a value too big for 5 min.
    let mut s = RainSeries::default();
    for (m, v) in [(0, 100.0), (5, 900.0), (10, 101.0), (15, 102.0)] {
        s.insert(PT, hm(10, m), v).unwrap();
    }
    assert_eq!(s.flags().len(), 2);
    assert!(close(s.accumulation(w(5), hm(10, 15)).mm, 1.0));
    assert_eq!(s.counter_resets(), vec![hm(10, 10)]);

    // Readings three hours apart: the difference cannot be placed in time.
    let mut s = RainSeries::default();
    s.insert(PT, hm(6, 0), 10.0).unwrap();
    s.insert(PT, hm(9, 0), 40.0).unwrap();
    let a = s.accumulation(Window::H3, hm(9, 0));
    assert!(close(a.mm, 0.0) && !a.complete && a.missing_minutes == 180);
    assert_eq!(s.flags()[0].reason, FlagReason::CounterGap { increment_mm: 30.0, minutes: 180 });
    // A longer gap may be allowed.
    let mut s = RainSeries::new(RainConfig { max_counter_gap_minutes: 180, ..RainConfig::default() }).unwrap();
    s.insert(PT, hm(6, 0), 10.0).unwrap();
    s.insert(PT, hm(9, 0), 40.0).unwrap();
    assert!(close(s.accumulation(Window::H3, hm(9, 0)).mm, 30.0));
    // A negative reading after a positive one is a reset to a negative value: flagged.
    let mut s = RainSeries::default();
    s.insert(PT, hm(10, 0), 5.0).unwrap();
    s.insert(PT, hm(10, 5), -3.0).unwrap();
    assert_eq!(s.flags()[0].reason, FlagReason::Negative);
}

#[test]
fn bad_input_is_refused_precisely() {
    let mut s = RainSeries::default();
    assert_eq!(s.insert(Element::Level, hm(10, 0), 1.0), Err(RainError::NotRain(Element::Level)));
    assert_eq!(s.insert(RAIN5, hm(10, 3), 1.0), Err(RainError::OffGrid { element: RAIN5, time: hm(10, 3) }));
    let odd = hm(10, 5) + Duration::seconds(30);
    assert_eq!(s.insert(PT, odd, 1.0), Err(RainError::NotWholeMinute { element: PT, time: odd }));
    let pn01 = Element::RainIncrement { interval_minutes: 1 };
    assert_eq!(s.insert(pn01, hm(10, 5), 1.0), Err(RainError::UnsupportedInterval { minutes: 1, max: 60 }));
    let p3 = Element::RainIncrement { interval_minutes: 180 };
    assert_eq!(s.insert(p3, hm(10, 0), 1.0), Err(RainError::UnsupportedInterval { minutes: 180, max: 60 }));
    assert!(matches!(s.insert(RAIN5, hm(10, 5), f64::NAN), Err(RainError::NotFinite { .. })));
    assert!(s.insert(RAIN5, hm(10, 5), f64::INFINITY).unwrap_err().to_string().contains("rain_5min"));
    // Absurd but finite values are stored and flagged, without overflow.
    assert_eq!(s.insert(RAIN5, hm(10, 5), 1e300).unwrap(), Inserted::New);
    assert_eq!(s.insert(PT, hm(10, 0), -1e300).unwrap(), Inserted::New);
    assert_eq!(s.insert(PT, hm(10, 5), 1e300).unwrap(), Inserted::New);
    assert_eq!(s.flags().len(), 2);
    assert_eq!(s.accumulation(w(5), hm(10, 5)).mm, 0.0);
    assert!(!s.is_empty() && s.len() == 3);
}

#[test]
fn settings_are_checked() {
    let bad = |c: RainConfig| RainSeries::new(c).unwrap_err();
    let d = RainConfig::default();
    assert_eq!(bad(RainConfig { retention_minutes: 7, ..d.clone() }), RainConfigError::Retention(7));
    assert_eq!(bad(RainConfig { max_mm_per_5min: 0.0, ..d.clone() }), RainConfigError::Limit(0.0));
    assert_eq!(bad(RainConfig { max_increment_minutes: 61, ..d.clone() }), RainConfigError::MaxIncrement(61));
    assert_eq!(bad(RainConfig { max_counter_gap_minutes: 0, ..d.clone() }), RainConfigError::CounterGap(0));
    assert!(matches!(bad(RainConfig { max_mm_per_5min: f64::NAN, ..d }), RainConfigError::Limit(_)));
    let c: RainConfig = serde_json::from_str(r#"{"max_mm_per_5min": 30}"#).unwrap();
    assert_eq!(c, RainConfig { max_mm_per_5min: 30.0, ..RainConfig::default() });
    assert!(serde_json::from_str::<RainConfig>(r#"{"max_mm": 30}"#).is_err());
}

#[test]
fn memory_is_bounded_by_the_retention() {
    let mut s = RainSeries::new(RainConfig { retention_minutes: 1440, ..RainConfig::default() }).unwrap();
    for i in 1..=(12 * 24 * 5) {
        s.insert(RAIN5, t(5 * i), 0.1).unwrap();
        s.insert(PT, t(5 * i), 0.1 * i as f64).unwrap();
    }
    // A day plus the look-back counters need (2 × 120 min + 10 min), in both elements.
    assert!(s.len() <= 2 * (288 + 50 + 2), "{}", s.len());
    let newest = t(5 * 12 * 24 * 5);
    assert_eq!(s.insert(RAIN5, newest - Duration::days(2), 1.0).unwrap(), Inserted::Expired);
    let a = s.accumulation(Window::H24, newest);
    assert!(close(a.mm, 28.8) && a.complete, "{a:?}");
    assert!(!s.accumulation(w(1800), newest).complete);
}

#[test]
fn several_windows_in_one_pass_match_one_at_a_time() {
    let mut s = RainSeries::default();
    for i in 1..=400 {
        if i % 7 != 0 {
            s.insert(RAIN5, t(5 * i), (i % 5) as f64 * 0.7).unwrap();
        }
    }
    let windows = [Window::H24, w(10), Window::H1, Window::H6, Window::H3, Window::H12, Window::H1];
    let at = t(5 * 390 + 2);
    let all = s.accumulations(&windows, at);
    assert_eq!(all.len(), windows.len());
    for (a, win) in all.iter().zip(windows) {
        assert_eq!(*a, s.accumulation(win, at));
        assert_eq!(a.window, win);
    }
    assert!(s.accumulations(&[], at).is_empty());
}

#[test]
fn daily_totals_for_the_index() {
    let mut s = RainSeries::default();
    for i in 1..=(12 * 48) {
        s.insert(RAIN5, t(5 * i), if i <= 288 { 0.1 } else { 0.2 }).unwrap();
    }
    let days = s.daily_totals(t(48 * 60), 3);
    assert_eq!(days.len(), 3);
    assert!(!days[0].complete && close(days[0].mm, 0.0));
    assert!(days[1].complete && close(days[1].mm, 28.8));
    assert!(days[2].complete && close(days[2].mm, 57.6));
    assert_eq!(days[2].at, t(48 * 60));
}

/// One generated rain value.
#[derive(Debug, Clone)]
struct Obs {
    element: Element,
    minute: i64,
    mm: f64,
}

fn obs_strategy() -> impl Strategy<Value = Obs> {
    prop_oneof![
        (1i64..=72, 0u32..=120).prop_map(|(i, v)| Obs { element: RAIN5, minute: 5 * i, mm: f64::from(v) / 10.0 }),
        (1i64..=12, 0u32..=300).prop_map(|(i, v)| Obs { element: RAIN30, minute: 30 * i, mm: f64::from(v) / 10.0 }),
        (1i64..=6, 0u32..=400).prop_map(|(i, v)| Obs { element: RAIN60, minute: 60 * i, mm: f64::from(v) / 10.0 }),
        (0i64..=360, 0u32..=3000).prop_map(|(m, v)| Obs { element: PT, minute: m, mm: f64::from(v) / 10.0 }),
        (1i64..=72, -50i32..=800).prop_map(|(i, v)| Obs { element: RAIN5, minute: 5 * i, mm: f64::from(v) / 10.0 }),
    ]
}

/// A set: one value per element and time (the first generated wins).
fn dedup(obs: Vec<Obs>) -> Vec<Obs> {
    let mut seen = std::collections::HashSet::new();
    obs.into_iter().filter(|o| seen.insert((o.element, o.minute))).collect()
}

fn feed(obs: &[Obs]) -> RainSeries {
    let mut s = RainSeries::default();
    for o in obs {
        s.insert(o.element, t(o.minute), o.mm).unwrap();
    }
    s
}

/// Everything the series answers over the generated range.
fn answers(s: &RainSeries) -> (Vec<Accumulation>, usize, Vec<DateTime<Utc>>) {
    let mut all = Vec::new();
    for at in (0..=380).step_by(25) {
        all.extend(s.accumulations(&[w(5), w(15), Window::H1, Window::H3, Window::H6], t(at)));
    }
    (all, s.flags().len(), s.counter_resets())
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn any_order_gives_the_same_accumulations(
        (obs, shuffled) in prop::collection::vec(obs_strategy(), 0..80)
            .prop_map(dedup)
            .prop_flat_map(|o| { let s = Just(o.clone()).prop_shuffle(); (Just(o), s) })
    ) {
        prop_assert_eq!(answers(&feed(&obs)), answers(&feed(&shuffled)));
    }

    #[test]
    fn duplicates_change_nothing(
        obs in prop::collection::vec(obs_strategy(), 0..80).prop_map(dedup),
        repeat in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let once = feed(&obs);
        let mut twice = feed(&obs);
        if !obs.is_empty() {
            for i in repeat {
                let o = &obs[i.index(obs.len())];
                prop_assert_eq!(twice.insert(o.element, t(o.minute), o.mm).unwrap(), Inserted::Duplicate);
            }
        }
        prop_assert_eq!(answers(&once), answers(&twice));
    }

    #[test]
    fn complete_windows_add_up(obs in prop::collection::vec(obs_strategy(), 0..80).prop_map(dedup), end in 36i64..=72) {
        let s = feed(&obs);
        let at = t(5 * end);
        let h3 = s.accumulation(Window::H3, at);
        let h1: Vec<Accumulation> = (0..3).map(|i| s.accumulation(Window::H1, at - Duration::hours(i))).collect();
        if h1.iter().all(|a| a.complete) {
            prop_assert!(h3.complete);
            prop_assert!(close(h3.mm, h1.iter().map(|a| a.mm).sum::<f64>()), "{:?} vs {:?}", h3, h1);
        }
        // The longer window knows at least as much: a span across an hour's boundary is known
        // to it but not to the earlier hour.
        prop_assert!(h3.missing_minutes <= h1.iter().map(|a| a.missing_minutes).sum::<u32>());
        prop_assert!(h3.mm >= 0.0 && h3.missing_minutes <= 180);
    }

    #[test]
    fn dense_five_minute_rain_matches_a_plain_sum(
        values in prop::collection::vec(prop::option::weighted(0.9, -20i32..=700), 72),
        end in 12i64..=72,
    ) {
        let mut s = RainSeries::default();
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                s.insert(RAIN5, t(5 * (i as i64 + 1)), f64::from(*v) / 10.0).unwrap();
            }
        }
        // The model: buckets end-11 ..= end, valid when 0 ≤ v ≤ 50 mm.
        let window = &values[(end - 12) as usize..end as usize];
        let valid = |v: &&Option<i32>| matches!(v, Some(v) if (0..=500).contains(v));
        let sum: i32 = window.iter().filter(valid).map(|v| v.unwrap_or(0)).sum();
        let missing = window.iter().filter(|v| !valid(v)).count() as u32 * 5;
        let a = s.accumulation(Window::H1, t(5 * end));
        prop_assert!(close(a.mm, f64::from(sum) / 10.0), "{:?} vs {}", a, sum);
        prop_assert_eq!(a.missing_minutes, missing);
        prop_assert_eq!(a.complete, missing == 0);
        // The same rain as a counter, read every 5 minutes, gives the same hour.
        let mut c = RainSeries::default();
        let mut total = 0i32;
        c.insert(PT, t(0), 0.0).unwrap();
        for (i, v) in values.iter().enumerate() {
            total += v.filter(|v| (0..=500).contains(v)).unwrap_or(0);
            if v.is_some_and(|v| (0..=500).contains(&v)) {
                c.insert(PT, t(5 * (i as i64 + 1)), f64::from(total) / 10.0).unwrap();
            }
        }
        let b = c.accumulation(Window::H1, t(5 * end));
        if missing == 0 {
            prop_assert!(b.complete && close(b.mm, a.mm), "{:?} vs {:?}", b, a);
        }
        // Both sources of the same rain together count it once: the counter never fills a
        // bucket next to a 5-minute value, so the answer is the 5-minute one.
        for i in 1..=72i64 {
            if let Some(v) = values[(i - 1) as usize] {
                c.insert(RAIN5, t(5 * i), f64::from(v) / 10.0).unwrap();
            }
        }
        for win in [w(5), w(30), Window::H1, Window::H3, Window::H6] {
            prop_assert_eq!(c.accumulation(win, t(5 * end)), s.accumulation(win, t(5 * end)));
        }
    }
}

// ---------------------------------------------------------------- soil

fn api(k: f64, wm: f64) -> ApiConfig {
    ApiConfig { k, wm_mm: wm, dry_fraction: 0.3, wet_fraction: 0.7, days: 15 }
}

#[test]
fn the_antecedent_index_decays_and_is_capped() {
    let c = api(0.9, 100.0);
    // 0.9·10 = 9; 0.9·9 = 8.1; 0.9·(8.1 + 20) = 25.29.
    let pa = antecedent_index(&c, &[Some(10.0), Some(0.0), Some(20.0)]).unwrap();
    assert!((pa - 25.29).abs() < 1e-9, "{pa}");
    assert_eq!(antecedent_index(&c, &[Some(200.0)]).unwrap(), 100.0);
    assert_eq!(antecedent_index(&c, &[]).unwrap(), 0.0);
    let a = soil_state(
        &SoilConfig::Api(c.clone()),
        &SoilInputs { daily_rain_mm: &[Some(10.0), None, Some(20.0)], ..Default::default() },
    )
    .unwrap();
    assert_eq!(a.state, SoilState::Dry);
    match a.explanation {
        SoilExplanation::Api { pa_mm, wm_mm, dry_below_mm, wet_above_mm, days_used, days_missing } => {
            assert!((pa_mm - 25.29).abs() < 1e-9, "a missing day is no rain: {pa_mm}");
            assert_eq!((wm_mm, dry_below_mm, wet_above_mm, days_used, days_missing), (100.0, 30.0, 70.0, 3, 1));
        }
        other => panic!("{other:?}"),
    }
    let state = |rain: &[Option<f64>]| {
        soil_state(&SoilConfig::Api(c.clone()), &SoilInputs { daily_rain_mm: rain, ..Default::default() })
            .unwrap()
            .state
    };
    assert_eq!(state(&[Some(50.0)]), SoilState::Normal); // 45
    assert_eq!(state(&[Some(90.0)]), SoilState::Wet); // 81
    assert_eq!(state(&[Some(300.0), Some(0.0), Some(0.0)]), SoilState::Wet); // 100 → 90 → 81
}

#[test]
fn only_the_last_days_count() {
    let c = ApiConfig { days: 2, ..api(0.5, 100.0) };
    let rain = [Some(90.0), Some(0.0), Some(0.0)];
    let a = soil_state(&SoilConfig::Api(c), &SoilInputs { daily_rain_mm: &rain, ..Default::default() }).unwrap();
    assert_eq!(a.state, SoilState::Dry);
    assert!(matches!(a.explanation, SoilExplanation::Api { pa_mm, days_used: 2, .. } if pa_mm == 0.0));
    // A bad total is named by its position in what was given.
    let c = ApiConfig { days: 2, ..api(0.5, 100.0) };
    let err = soil_state(
        &SoilConfig::Api(c),
        &SoilInputs { daily_rain_mm: &[Some(1.0), Some(2.0), Some(-3.0)], ..Default::default() },
    );
    assert_eq!(err.unwrap_err(), SoilError::DailyRain { day: 3, value: -3.0 });
}

#[test]
fn soil_settings_and_inputs_are_checked() {
    let check = |c: ApiConfig| SoilConfig::Api(c).validate().unwrap_err();
    assert_eq!(check(api(1.0, 100.0)), SoilError::K(1.0));
    assert_eq!(check(api(0.9, 0.0)), SoilError::Wm(0.0));
    assert_eq!(check(ApiConfig { dry_fraction: 0.8, ..api(0.9, 100.0) }), SoilError::Fractions { dry: 0.8, wet: 0.7 });
    assert_eq!(check(ApiConfig { days: 0, ..api(0.9, 100.0) }), SoilError::Days(0));
    let none = soil_state(&SoilConfig::Api(ApiConfig::default()), &SoilInputs::default());
    assert_eq!(none.unwrap_err(), SoilError::NoDailyRain);
    assert!(matches!(
        antecedent_index(&ApiConfig::default(), &[Some(f64::NAN)]),
        Err(SoilError::DailyRain { day: 1, .. })
    ));
    let m = |depths: Vec<DepthThresholds>| SoilConfig::Moisture(MoistureConfig { depths }).validate();
    assert_eq!(m(vec![]), Err(SoilError::NoDepths));
    let d = |depth_cm, dry, wet| DepthThresholds { depth_cm, dry_below_pct: dry, wet_above_pct: wet };
    assert_eq!(m(vec![d(10, 10.0, 30.0), d(10, 10.0, 30.0)]), Err(SoilError::DuplicateDepth { depth_cm: 10 }));
    assert_eq!(m(vec![d(20, 40.0, 30.0)]), Err(SoilError::DepthThresholds { depth_cm: 20, dry: 40.0, wet: 30.0 }));
    let c: SoilConfig = serde_json::from_str(r#"{"method":"api","k":0.9,"wm_mm":120}"#).unwrap();
    assert_eq!(c, SoilConfig::Api(ApiConfig { k: 0.9, wm_mm: 120.0, ..ApiConfig::default() }));
}

#[test]
fn soil_moisture_by_depth_the_wettest_decides() {
    let d = |depth_cm, dry, wet| DepthThresholds { depth_cm, dry_below_pct: dry, wet_above_pct: wet };
    let c =
        SoilConfig::Moisture(MoistureConfig { depths: vec![d(10, 15.0, 35.0), d(20, 18.0, 38.0), d(40, 20.0, 40.0)] });
    let judge = |m: &[(u16, f64)]| soil_state(&c, &SoilInputs { moisture: m, ..Default::default() });
    assert_eq!(judge(&[(10, 12.0), (20, 10.0)]).unwrap().state, SoilState::Dry);
    assert_eq!(judge(&[(10, 12.0), (20, 25.0)]).unwrap().state, SoilState::Normal);
    let a = judge(&[(10, 12.0), (20, 25.0), (40, 41.0), (100, 99.0)]).unwrap();
    assert_eq!(a.state, SoilState::Wet);
    match a.explanation {
        SoilExplanation::Moisture { depths, missing_depths } => {
            assert_eq!(
                depths.iter().map(|d| (d.depth_cm, d.state)).collect::<Vec<_>>(),
                vec![(10, SoilState::Dry), (20, SoilState::Normal), (40, SoilState::Wet)]
            );
            assert!(missing_depths.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match judge(&[(40, 30.0), (40, 10.0)]).unwrap().explanation {
        SoilExplanation::Moisture { depths, missing_depths } => {
            assert_eq!(
                (depths.len(), depths[0].pct, depths[0].state),
                (1, 10.0, SoilState::Dry),
                "the last reading stands"
            );
            assert_eq!(missing_depths, vec![10, 20]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(judge(&[(30, 20.0)]).unwrap_err(), SoilError::NoReadings { configured: vec![10, 20, 40] });
    assert_eq!(judge(&[(20, 120.0)]).unwrap_err(), SoilError::MoistureValue { depth_cm: 20, value: 120.0 });
}

#[test]
fn the_index_from_the_rain_engine() {
    let mut s = RainSeries::default();
    // Day 1 (ending 24:00 UTC, 08:00 Beijing time): 72 mm, day 2: nothing, day 3: half a day of 0.5 mm / 5 min.
    for i in 1..=288 {
        s.insert(RAIN5, t(5 * i), 0.25).unwrap();
        s.insert(RAIN5, t(1440 + 5 * i), 0.0).unwrap();
        if i <= 144 {
            s.insert(RAIN5, t(2880 + 5 * i), 0.5).unwrap();
        }
    }
    let days = s.daily_totals(t(4320), 4);
    let rain = daily_rain(&days);
    assert_eq!(rain.len(), 4);
    assert_eq!(rain[0], None, "nothing known of the first day");
    assert_eq!(&rain[1..], &[Some(72.0), Some(0.0), Some(72.0)]);
    let c = SoilConfig::Api(api(0.9, 100.0));
    let a = soil_state(&c, &SoilInputs { daily_rain_mm: &rain, ..Default::default() }).unwrap();
    // 0 → 0.9·72 = 64.8 → 58.32 → 0.9·(58.32 + 72) = 117.3, capped at 100.
    assert_eq!(a.state, SoilState::Wet);
    assert!(matches!(a.explanation, SoilExplanation::Api { pa_mm, days_missing: 1, .. } if pa_mm == 100.0));
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn the_index_stays_within_capacity_and_grows_with_rain(
        k in 0.5f64..0.99,
        wm in 10f64..300.0,
        rain in prop::collection::vec(prop::option::of(0f64..150.0), 1..30),
        day in any::<prop::sample::Index>(),
        extra in 0f64..100.0,
    ) {
        let c = ApiConfig { k, wm_mm: wm, ..ApiConfig::default() };
        let pa = antecedent_index(&c, &rain).unwrap();
        prop_assert!((0.0..=wm).contains(&pa));
        let mut more = rain.clone();
        let i = day.index(more.len());
        more[i] = Some(more[i].unwrap_or(0.0) + extra);
        prop_assert!(antecedent_index(&c, &more).unwrap() >= pa - 1e-9);
    }
}

// ---------------------------------------------------------------- level

fn lv(minute: i64, level_m: f64) -> LevelObservation {
    LevelObservation { time: t(minute), level_m }
}

#[test]
fn rising_steady_and_falling() {
    let c = LevelConfig::default();
    let rising: Vec<_> = (0..=12).map(|i| lv(5 * i, 10.0 + 0.1 * i as f64)).collect();
    let r = level_trend(&rising, t(60), &c).unwrap();
    assert_eq!(r.trend, Some(Trend::Rising));
    assert!((r.rate_m_per_h.unwrap() - 1.2).abs() < 1e-9, "{r:?}");
    assert_eq!(r.latest, Some(lv(60, 11.2)));
    assert_eq!(r.points_used, 12, "the span is (at − 60 min, at]");
    let steady: Vec<_> = (0..=12).map(|i| lv(5 * i, 10.0 + if i % 2 == 0 { 0.01 } else { 0.0 })).collect();
    assert_eq!(level_trend(&steady, t(60), &c).unwrap().trend, Some(Trend::Steady));
    let falling: Vec<_> = (0..=12).map(|i| lv(5 * i, 10.0 - 0.02 * i as f64)).collect();
    let f = level_trend(&falling, t(60), &c).unwrap();
    assert_eq!(f.trend, Some(Trend::Falling));
    assert!((f.rate_m_per_h.unwrap() + 0.24).abs() < 1e-9);
    assert_eq!((Trend::Falling.as_str(), Trend::Rising.zh()), ("falling", "涨"));
}

#[test]
fn readings_in_any_order_deduplicated_and_not_after_the_time_asked() {
    let c = LevelConfig { span_minutes: 30, ..LevelConfig::default() };
    let obs = [lv(30, 3.0), lv(10, 1.0), lv(20, 2.0), lv(20, 2.0), lv(40, 9.9), lv(0, 0.5), lv(10, 1.0)];
    let r = level_trend(&obs, t(30), &c).unwrap();
    assert_eq!(r.latest, Some(lv(30, 3.0)));
    assert_eq!(r.points_used, 3);
    assert!((r.rate_m_per_h.unwrap() - 6.0).abs() < 1e-9, "{r:?}");
    // A later reading for the same time is a correction: the last in the slice stands.
    let corrected = [lv(0, 1.0), lv(10, 1.0), lv(10, 1.6)];
    let r = level_trend(&corrected, t(10), &c).unwrap();
    assert_eq!(r.latest, Some(lv(10, 1.6)));
    assert!((r.rate_m_per_h.unwrap() - 3.6).abs() < 1e-9);
}

#[test]
fn the_rate_from_the_end_points() {
    let obs = [lv(0, 10.0), lv(10, 10.5), lv(20, 10.2), lv(30, 10.3)];
    let ends = LevelConfig { method: RateMethod::EndPoints, ..LevelConfig::default() };
    let r = level_trend(&obs, t(30), &ends).unwrap();
    assert!((r.rate_m_per_h.unwrap() - 0.6).abs() < 1e-9, "{r:?}");
    // Least squares: slope of (0, 10.0), (10, 10.5), (20, 10.2), (30, 10.3) is 0.006 m/min.
    let ls = level_trend(&obs, t(30), &LevelConfig::default()).unwrap();
    assert!((ls.rate_m_per_h.unwrap() - 0.36).abs() < 1e-9, "{ls:?}");
    let c: LevelConfig = serde_json::from_str(r#"{"method":"end_points","span_minutes":30}"#).unwrap();
    assert_eq!(c, LevelConfig { span_minutes: 30, ..ends });
}

#[test]
fn too_few_readings_give_no_rate() {
    let c = LevelConfig { min_points: 3, ..LevelConfig::default() };
    let r = level_trend(&[lv(0, 1.0), lv(30, 1.5)], t(30), &c).unwrap();
    assert_eq!((r.rate_m_per_h, r.trend, r.points_used), (None, None, 0));
    assert_eq!(r.latest, Some(lv(30, 1.5)));
    let r = level_trend(&[], t(30), &c).unwrap();
    assert_eq!((r.latest, r.rate_m_per_h), (None, None));
    // Readings older than the span do not count.
    let r = level_trend(&[lv(0, 1.0), lv(5, 1.0)], t(120), &LevelConfig::default()).unwrap();
    assert_eq!(r.rate_m_per_h, None);
    assert_eq!(r.latest, Some(lv(5, 1.0)));
}

#[test]
fn jumps_are_flagged_and_kept_out() {
    let c = LevelConfig::default();
    let obs = [lv(0, 10.0), lv(5, 10.1), lv(10, 13.0), lv(15, 10.2), lv(20, f64::NAN), lv(25, 10.3)];
    let r = level_trend(&obs, t(25), &c).unwrap();
    assert_eq!(r.flags.len(), 2, "{:?}", r.flags);
    assert_eq!(r.flags[0].time, t(10));
    match r.flags[0].reason {
        LevelFlagReason::Jump { from_m, change_m, minutes, limit_m } => {
            assert_eq!((from_m, minutes, limit_m), (10.1, 5.0, 2.0));
            assert!((change_m - 2.9).abs() < 1e-9);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.flags[1].reason, LevelFlagReason::NotFinite);
    assert_eq!(r.latest, Some(lv(25, 10.3)));
    // Least squares through (0, 10.0), (5, 10.1), (15, 10.2), (25, 10.3): 4.25 / 368.75 m/min.
    assert!((r.rate_m_per_h.unwrap() - 4.25 / 368.75 * 60.0).abs() < 1e-9, "{r:?}");
    assert_eq!(r.points_used, 4);
    // The allowance grows with the time between readings: 3 m over 10 minutes is believable.
    let r = level_trend(&[lv(0, 10.0), lv(10, 13.0)], t(10), &c).unwrap();
    assert!(r.flags.is_empty());
    // A level that stays at a new value is accepted once time explains it.
    let r = level_trend(&[lv(0, 10.0), lv(5, 13.0), lv(10, 13.0), lv(15, 13.0)], t(15), &c).unwrap();
    assert_eq!(r.flags.len(), 1);
    assert_eq!(r.latest, Some(lv(15, 13.0)));
    // Stricter limits by configuration.
    let strict = LevelConfig { max_jump_m: 0.05, ..c };
    assert_eq!(level_trend(&[lv(0, 10.0), lv(5, 10.1)], t(5), &strict).unwrap().flags.len(), 1);
}

#[test]
fn level_settings_are_checked() {
    let check = |c: LevelConfig| level_trend(&[], t(0), &c).unwrap_err();
    assert_eq!(check(LevelConfig { span_minutes: 0, ..LevelConfig::default() }), LevelConfigError::Span(0));
    assert_eq!(check(LevelConfig { min_points: 1, ..LevelConfig::default() }), LevelConfigError::MinPoints(1));
    assert_eq!(
        check(LevelConfig { steady_tolerance_m_per_h: -1.0, ..LevelConfig::default() }),
        LevelConfigError::Tolerance(-1.0)
    );
    assert_eq!(check(LevelConfig { max_jump_m: 0.0, ..LevelConfig::default() }), LevelConfigError::MaxJump(0.0));
    assert_eq!(check(LevelConfig { jump_minutes: 0, ..LevelConfig::default() }), LevelConfigError::JumpMinutes(0));
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn level_trend_ignores_order_and_finds_a_straight_line(
        rate in -1.5f64..1.5,
        start in 0f64..100.0,
        minutes in prop::collection::btree_set(0i64..=60, 2..30),
        seed in any::<u64>(),
    ) {
        let obs: Vec<LevelObservation> = minutes.iter().map(|m| lv(*m, start + rate * *m as f64 / 60.0)).collect();
        let mut shuffled = obs.clone();
        // A deterministic shuffle from the seed.
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) >> 33) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        let c = LevelConfig { span_minutes: 61, ..LevelConfig::default() };
        let a = level_trend(&obs, t(60), &c).unwrap();
        let b = level_trend(&shuffled, t(60), &c).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert!(a.flags.is_empty());
        prop_assert!((a.rate_m_per_h.unwrap() - rate).abs() < 1e-6, "{:?} vs {}", a.rate_m_per_h, rate);
    }
}

// ---------------------------------------------------------------- health

fn heard(report: Option<i64>, keepalive: Option<i64>) -> HealthInput {
    HealthInput { last_report: report.map(t), last_keepalive: keepalive.map(t), ..HealthInput::default() }
}

#[test]
fn online_late_offline_after_missed_reports() {
    let c = HealthConfig::default(); // hourly, 3 missed, 2 min grace
    let at = |now: i64| station_health(&heard(Some(0), None), &c, t(now)).unwrap();
    assert_eq!(at(0).liveness, Liveness::Online);
    assert!(at(0).healthy());
    assert_eq!(at(61).liveness, Liveness::Online, "within the grace");
    let late = at(62);
    assert_eq!((late.liveness, late.missed_reports), (Liveness::Late, 1));
    assert_eq!(late.problems, vec![Problem::ReportsMissed { last_report: t(0), missed: 1 }]);
    assert_eq!(at(181).liveness, Liveness::Late);
    let off = at(182);
    assert_eq!((off.liveness, off.missed_reports), (Liveness::Offline, 3));
    assert_eq!(off.last_seen, Some(t(0)));
    // N is configurable.
    let five = HealthConfig { expected_interval_minutes: 5, missed_reports_offline: 6, grace_minutes: 1, ..c };
    assert_eq!(station_health(&heard(Some(0), None), &five, t(30)).unwrap().liveness, Liveness::Late);
    assert_eq!(station_health(&heard(Some(0), None), &five, t(31)).unwrap().liveness, Liveness::Offline);
    assert_eq!((Liveness::Late.as_str(), Liveness::Offline.zh()), ("late", "离线"));
}

#[test]
fn keep_alives_are_liveness_not_data() {
    let c = HealthConfig::default();
    let h = station_health(&heard(Some(0), Some(300)), &c, t(301)).unwrap();
    assert_eq!(h.liveness, Liveness::Online);
    assert_eq!(h.last_seen, Some(t(300)));
    assert_eq!(h.problems, vec![Problem::ReportsMissed { last_report: t(0), missed: 4 }]);
    let only = station_health(&heard(None, Some(10)), &c, t(20)).unwrap();
    assert_eq!((only.liveness, only.problems), (Liveness::Online, vec![Problem::NoReportYet]));
    let never = station_health(&HealthInput::default(), &c, t(0)).unwrap();
    assert_eq!((never.liveness, never.last_seen, never.problems), (Liveness::Offline, None, vec![Problem::NeverHeard]));
}

#[test]
fn power_alarms_values_and_clocks() {
    let c = HealthConfig::default();
    let input = HealthInput {
        voltage_v: Some(10.9),
        status_bits: Some(0b1100_0101 | 1 << 4 | 1 << 9),
        suspicious_values: 3,
        ..heard(Some(0), None)
    };
    let h = station_health(&input, &c, t(1)).unwrap();
    assert_eq!(h.liveness, Liveness::Online);
    assert_eq!(
        h.problems,
        vec![
            Problem::LowVoltage { volts: 10.9, threshold: 11.0 },
            Problem::Alarm { alarm: StatusAlarm::AcOutage },
            Problem::Alarm { alarm: StatusAlarm::LevelOverLimit },
            Problem::Alarm { alarm: StatusAlarm::LevelMeterFault },
            Problem::Alarm { alarm: StatusAlarm::CabinetDoor },
            Problem::SuspiciousValues { count: 3 },
        ]
    );
    assert_eq!(StatusAlarm::from_bits(0b1010), vec![StatusAlarm::BatteryLow, StatusAlarm::FlowAlarm]);
    assert_eq!(StatusAlarm::from_bits(u32::MAX).len(), 6);
    assert!(StatusAlarm::ALL.iter().all(|a| StatusAlarm::from_bits(1 << a.bit()) == vec![*a]));
    let fine = HealthInput { voltage_v: Some(12.4), status_bits: Some(0), ..heard(Some(0), None) };
    assert!(station_health(&fine, &c, t(1)).unwrap().healthy());
    let nan = HealthInput { voltage_v: Some(f64::NAN), ..heard(Some(0), None) };
    assert!(matches!(station_health(&nan, &c, t(1)).unwrap().problems[..], [Problem::VoltageUnreadable { .. }]));
    let ahead = station_health(&heard(Some(30), None), &c, t(0)).unwrap();
    assert_eq!((ahead.liveness, ahead.problems), (Liveness::Online, vec![Problem::AheadOfClock { last_seen: t(30) }]));
}

#[test]
fn health_settings_are_checked() {
    let check = |c: HealthConfig| station_health(&HealthInput::default(), &c, t(0)).unwrap_err();
    let d = HealthConfig::default();
    assert_eq!(check(HealthConfig { expected_interval_minutes: 0, ..d.clone() }), HealthConfigError::Interval(0));
    assert_eq!(check(HealthConfig { missed_reports_offline: 0, ..d.clone() }), HealthConfigError::Offline(0));
    assert_eq!(
        check(HealthConfig { grace_minutes: 60, ..d.clone() }),
        HealthConfigError::Grace { grace: 60, interval: 60 }
    );
    assert!(matches!(check(HealthConfig { low_voltage_v: f64::NAN, ..d }), HealthConfigError::Voltage(_)));
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn liveness_only_worsens_with_time(report in 0i64..1000, gap1 in 0i64..500, gap2 in 0i64..500, keep in prop::option::of(0i64..1000)) {
        let c = HealthConfig::default();
        let input = heard(Some(report), keep);
        let base = report.max(keep.unwrap_or(0));
        let a = station_health(&input, &c, t(base + gap1)).unwrap();
        let b = station_health(&input, &c, t(base + gap1 + gap2)).unwrap();
        prop_assert!(a.liveness <= b.liveness && a.missed_reports <= b.missed_reports);
    }
}

//! Suite cases for the flood ports (山洪数据存储): the network model and its indicators, the
//! quarantine of unknown stations, and telemetry (frames, values, liveness).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use zhili_core::store::{verify_audit_chain, Page, Store, StoreError};
use zhili_flood::indicator::{LevelIndicators, RainIndicators, RainThreshold};
use zhili_flood::model::{
    Area, ControlSection, EvacuationRoute, FacilityKind, Phone, Position, Protocol, QuarantineState, ResponsiblePerson,
    SectionCode, Shelter, Station, StationKind, StationStatus, UnknownContact, Village, WarningFacility, Watershed,
    WatershedCode,
};
use zhili_flood::store::{
    FloodModelStore, FrameEncoding, FrameOutcome, InsertCounts, LastSeen, Observation, ObservationBatch,
    ObservationStore, Quality, QuarantineStore, RawFrame, StationFilter,
};
use zhili_flood::vocab::{Channel, Element, Scheme, SoilState, StationCode, Tier, Window};

use crate::{actor, audit_count, c, SQUARE};

pub mod warning;

/// What the flood cases need of a backend.
pub trait FloodBackend: Store + FloodModelStore + QuarantineStore + ObservationStore {}
impl<T: Store + FloodModelStore + QuarantineStore + ObservationStore> FloodBackend for T {}

/// The flood cases, one `#[tokio::test]` each (see [`crate::suite_cases!`]).
#[macro_export]
macro_rules! flood_suite {
    ($run:path) => {
        $crate::suite_cases!($run; flood;
            flood_watersheds_nest_without_cycles, flood_stations_are_stored_and_found,
            flood_villages_sections_and_indicators, flood_quarantine_accept_and_reject,
            flood_frames_and_values_are_deduplicated, flood_ingest_is_all_or_nothing,
            flood_liveness_moves_forward, flood_large_ingest);
    };
}

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 18, 3, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn code(s: &str) -> StationCode {
    StationCode::parse(s).unwrap()
}

fn shed(code: &str, parent: Option<&str>) -> Watershed {
    Watershed {
        code: WatershedCode::parse(code).unwrap(),
        name: format!("{code}小流域"),
        parent: parent.map(|p| WatershedCode::parse(p).unwrap()),
        area_km2: 42.7,
        boundary: Some(Area::parse(SQUARE).unwrap()),
    }
}

/// An SL 651 rain station at address `[0, 0, 0, 0, n]` in watershed `WFG1`.
fn station(n: u8) -> Station {
    let address = [0, 0, 0, 0, n];
    Station {
        code: StationCode::from_sl651_address(address),
        name: format!("雨量站{n}"),
        kind: StationKind::AutomaticRain,
        measures: StationKind::AutomaticRain.default_measures(),
        position: Position::new(117.8612345678901, 36.4912345678901).unwrap(),
        watershed: Some(WatershedCode::parse("WFG1").unwrap()),
        owner: "博山区水利局".into(),
        division: c("370304100201"),
        protocol: Protocol::Sl651 { centre: 1, address, password: 1234 },
        report_interval_minutes: 60,
        installed: NaiveDate::from_ymd_opt(2014, 6, 1),
        status: StationStatus::InService,
        level_datum_m: None,
        dike_crest_m: None,
    }
}

fn level_station() -> Station {
    Station {
        code: code("41A02305"),
        name: "上庄水位站".into(),
        kind: StationKind::AutomaticLevel,
        measures: StationKind::AutomaticLevel.default_measures(),
        watershed: None,
        division: c("370304001001"),
        protocol: Protocol::Json,
        owner: "博山区水文局".into(),
        level_datum_m: Some(300.0),
        dike_crest_m: Some(305.5),
        ..station(99)
    }
}

fn village(code: &str, stations: &[StationCode]) -> Village {
    Village {
        code: c(code),
        name: format!("村{code}"),
        danger_zone: Area::parse(SQUARE).unwrap(),
        households: 86,
        population: 312,
        stations: stations.to_vec(),
        watershed: Some(WatershedCode::parse("WFG1").unwrap()),
        persons: vec![ResponsiblePerson {
            name: "张三".into(),
            tier: Tier::Village,
            phone: Phone::parse("13812345678").unwrap(),
            duty: "村支部书记".into(),
            channels: vec![Channel::Sms, Channel::Voice],
            user_id: None,
        }],
        facilities: vec![WarningFacility { kind: FacilityKind::Gong, count: 3, endpoint: None }],
        routes: vec![EvacuationRoute {
            text: "沿村东路向北至村委会".into(),
            line: vec![Position::new(117.865, 36.495).unwrap(), Position::new(117.866, 36.51).unwrap()],
        }],
        shelters: vec![Shelter {
            name: "村委会".into(),
            position: Position::new(117.866, 36.51).unwrap(),
            capacity: 400,
        }],
    }
}

fn indicators(village: &str, one_hour: f64) -> RainIndicators {
    let mut thresholds = Vec::new();
    for (window, mm) in [(Window::H1, one_hour), (Window::H3, one_hour * 1.5)] {
        for (soil, less) in [(SoilState::Dry, 0.0), (SoilState::Normal, 2.0), (SoilState::Wet, 4.0)] {
            thresholds.push(RainThreshold { window, soil, mm: vec![mm - less, mm + 20.0 - less] });
        }
    }
    RainIndicators::new(c(village), Scheme::TwoLevel, thresholds).unwrap()
}

/// The network a telemetry case needs: watershed `WFG1` and stations 1 and 2.
async fn network(s: &dyn FloodBackend) {
    s.upsert_watersheds(&actor(), &[shed("WFG1", None)]).await.unwrap();
    s.upsert_stations(&actor(), &[station(1), station(2)]).await.unwrap();
}

/// Watersheds: parents in the store or the same call, a missing parent and a cycle refused
/// with nothing written, replacement by code, audit rows.
pub async fn flood_watersheds_nest_without_cycles(s: &dyn FloodBackend) {
    let a = actor();
    let before = audit_count(s).await;
    // A child before its parent in one call.
    s.upsert_watersheds(&a, &[shed("WFG2", Some("WFG1")), shed("WFG1", None)]).await.unwrap();
    assert_eq!(audit_count(s).await, before + 2);
    assert_eq!(s.watersheds().await.unwrap(), vec![shed("WFG1", None), shed("WFG2", Some("WFG1"))]);
    let e = s.upsert_watersheds(&a, &[shed("WFG3", None), shed("WFG4", Some("NOPE"))]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "parent" }), "{e:?}");
    // WFG1 in WFG2 in WFG1.
    let e = s.upsert_watersheds(&a, &[shed("WFG1", Some("WFG2"))]).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "parent" }), "{e:?}");
    assert_eq!(s.watersheds().await.unwrap().len(), 2, "nothing of a refused call is written");
    assert_eq!(audit_count(s).await, before + 2);
    let renamed = Watershed { name: "岳阳河".into(), boundary: None, ..shed("WFG2", None) };
    s.upsert_watersheds(&a, std::slice::from_ref(&renamed)).await.unwrap();
    assert_eq!(s.watersheds().await.unwrap()[1], renamed);
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), audit_count(s).await);
}

/// Stations: read back exactly, by code and by SL 651 address, filtered, replaced by code;
/// a taken address and a missing watershed refused.
pub async fn flood_stations_are_stored_and_found(s: &dyn FloodBackend) {
    let a = actor();
    let e = s.upsert_stations(&a, &[station(1)]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "watershed" }), "{e:?}");
    network(s).await;
    let level = level_station();
    s.upsert_stations(&a, std::slice::from_ref(&level)).await.unwrap();
    assert_eq!(s.station(&station(1).code).await.unwrap(), station(1));
    assert_eq!(s.station(&level.code).await.unwrap(), level);
    assert!(matches!(s.station(&code("0000000009")).await, Err(StoreError::NotFound)));
    assert_eq!(s.station_by_sl651_address([0, 0, 0, 0, 2]).await.unwrap(), station(2));
    assert!(matches!(s.station_by_sl651_address([9, 0, 0, 0, 2]).await, Err(StoreError::NotFound)));

    // Another station with station 1's address.
    let thief = Station { code: code("X1"), ..station(1) };
    let e = s.upsert_stations(&a, &[station(3), thief]).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "protocol.address" }), "{e:?}");
    assert!(matches!(s.station(&station(3).code).await, Err(StoreError::NotFound)), "nothing of the call written");

    let codes = |v: Vec<Station>| v.into_iter().map(|s| s.code.to_string()).collect::<Vec<_>>();
    let all = StationFilter::default();
    assert_eq!(codes(s.stations(&all, Page::default()).await.unwrap()), ["0000000001", "0000000002", "41A02305"]);
    let f = StationFilter { kinds: vec![StationKind::AutomaticLevel, StationKind::Video], ..all.clone() };
    assert_eq!(codes(s.stations(&f, Page::default()).await.unwrap()), ["41A02305"]);
    let f = StationFilter { division: Some(c("370304100")), measures_rain: Some(true), ..all.clone() };
    assert_eq!(codes(s.stations(&f, Page::default()).await.unwrap()), ["0000000001", "0000000002"]);
    let f = StationFilter {
        watershed: Some(WatershedCode::parse("WFG1").unwrap()),
        owner: Some("博山区水利局".into()),
        measures_level: Some(false),
        status: Some(StationStatus::InService),
        ..all.clone()
    };
    assert_eq!(codes(s.stations(&f, Page { offset: 1, limit: 5 }).await.unwrap()), ["0000000002"]);
    let f = StationFilter { status: Some(StationStatus::Retired), ..all.clone() };
    assert!(s.stations(&f, Page::default()).await.unwrap().is_empty());

    // Replaced by code: a new address frees the old one.
    let moved = Station {
        status: StationStatus::Maintenance,
        protocol: Protocol::Sl651 { centre: 1, address: [0, 0, 0, 0, 7], password: 1 },
        ..station(2)
    };
    s.upsert_stations(&a, std::slice::from_ref(&moved)).await.unwrap();
    assert_eq!(s.station_by_sl651_address([0, 0, 0, 0, 7]).await.unwrap(), moved);
    assert!(matches!(s.station_by_sl651_address([0, 0, 0, 0, 2]).await, Err(StoreError::NotFound)));
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), audit_count(s).await);
}

/// Villages, control sections and rainfall indicators: references checked, replacement of a
/// whole set, reads by prefix.
pub async fn flood_villages_sections_and_indicators(s: &dyn FloodBackend) {
    let a = actor();
    network(s).await;
    s.upsert_stations(&a, &[level_station()]).await.unwrap();
    let one = village("370304100201", &[station(1).code]);
    let two = village("370304001001", &[station(2).code, station(1).code]);
    let e = s.upsert_villages(&a, &[one.clone(), village("370304100202", &[code("NOSTATION")])]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "stations" }), "{e:?}");
    let e =
        s.upsert_villages(&a, &[Village { watershed: Some(WatershedCode::parse("W9").unwrap()), ..one.clone() }]).await;
    assert!(matches!(e, Err(StoreError::MissingReference { field: "watershed" })), "{e:?}");
    assert!(matches!(s.village(&one.code).await, Err(StoreError::NotFound)));
    let before = audit_count(s).await;
    s.upsert_villages(&a, &[one.clone(), two.clone()]).await.unwrap();
    assert_eq!(audit_count(s).await, before + 2);
    assert_eq!(s.village(&one.code).await.unwrap(), one);
    assert_eq!(s.villages(None, Page::default()).await.unwrap(), vec![two.clone(), one.clone()]);
    assert_eq!(s.villages(Some(&c("370304100")), Page::default()).await.unwrap(), vec![one.clone()]);
    assert_eq!(s.villages(None, Page { offset: 1, limit: 1 }).await.unwrap(), vec![one.clone()]);
    let fewer = Village { stations: vec![station(2).code], population: 400, ..one.clone() };
    s.upsert_villages(&a, std::slice::from_ref(&fewer)).await.unwrap();
    assert_eq!(s.village(&one.code).await.unwrap(), fewer);

    let section = ControlSection {
        code: SectionCode::parse("DM001").unwrap(),
        name: "上庄桥断面".into(),
        river: "岳阳河".into(),
        level_station: level_station().code,
        indicators: LevelIndicators::new(Scheme::TwoLevel, vec![301.2, 302.0], vec![None, Some(0.5)]).unwrap(),
        dike_crest_m: Some(302.5),
        villages: vec![one.code.clone(), two.code.clone()],
    };
    let e = s.upsert_sections(&a, &[ControlSection { level_station: code("NOPE"), ..section.clone() }]).await;
    assert!(matches!(e, Err(StoreError::MissingReference { field: "level_station" })), "{e:?}");
    let e = s.upsert_sections(&a, &[ControlSection { villages: vec![c("370304100299")], ..section.clone() }]).await;
    assert!(matches!(e, Err(StoreError::MissingReference { field: "villages" })), "{e:?}");
    assert!(matches!(s.section(&section.code).await, Err(StoreError::NotFound)));
    s.upsert_sections(&a, std::slice::from_ref(&section)).await.unwrap();
    assert_eq!(s.section(&section.code).await.unwrap(), section);
    let narrower = ControlSection { villages: vec![two.code.clone()], ..section.clone() };
    s.upsert_sections(&a, std::slice::from_ref(&narrower)).await.unwrap();
    assert_eq!(s.sections().await.unwrap(), vec![narrower]);

    // Indicators: all or nothing, a whole set replaced.
    let before = audit_count(s).await;
    let e = s
        .replace_rain_indicators(&a, &[indicators("370304100201", 30.0), indicators("370304100299", 30.0)])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "village" }), "{e:?}");
    assert!(matches!(s.rain_indicators(&one.code).await, Err(StoreError::NotFound)));
    assert_eq!(audit_count(s).await, before);
    s.replace_rain_indicators(&a, &[indicators("370304100201", 30.0), indicators("370304001001", 40.0)]).await.unwrap();
    assert_eq!(audit_count(s).await, before + 2);
    assert_eq!(s.rain_indicators(&one.code).await.unwrap(), indicators("370304100201", 30.0));
    let only_1h = RainIndicators::new(
        one.code.clone(),
        Scheme::TwoLevel,
        SoilState::ALL.iter().map(|&soil| RainThreshold { window: Window::H1, soil, mm: vec![25.0, 45.0] }).collect(),
    )
    .unwrap();
    s.replace_rain_indicators(&a, std::slice::from_ref(&only_1h)).await.unwrap();
    assert_eq!(s.rain_indicators(&one.code).await.unwrap().windows(), vec![Window::H1], "the 3 h window is gone");
    assert_eq!(s.all_rain_indicators(None).await.unwrap(), vec![indicators("370304001001", 40.0), only_1h.clone()]);
    assert_eq!(s.all_rain_indicators(Some(&c("370304100"))).await.unwrap(), vec![only_1h]);
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), audit_count(s).await);
}

fn contact(n: u8, minute: i64, peer: &str) -> UnknownContact {
    let address = [0, 0, 0, 0, n];
    UnknownContact {
        code: StationCode::from_sl651_address(address),
        protocol: Protocol::Sl651 { centre: 1, address, password: 0 },
        peer: peer.into(),
        at: t(minute),
    }
}

/// The quarantine: contacts counted by the rule of `QuarantineEntry::record`, listed latest
/// first, rejected entries hidden unless asked for, acceptance makes the station.
pub async fn flood_quarantine_accept_and_reject(s: &dyn FloodBackend) {
    let a = actor();
    network(s).await;
    let first = s.quarantine_contact(&contact(5, 10, "198.51.100.7:4000")).await.unwrap();
    assert_eq!((first.frames, first.first_seen, first.state), (1, t(10), QuarantineState::Pending));
    s.quarantine_contact(&contact(5, 20, "198.51.100.7:4001")).await.unwrap();
    let late = s.quarantine_contact(&contact(5, 5, "198.51.100.7:3999")).await.unwrap();
    assert_eq!(
        (late.frames, late.first_seen, late.last_seen, late.peer.as_str()),
        (3, t(5), t(20), "198.51.100.7:4001")
    );
    s.quarantine_contact(&contact(6, 30, "203.0.113.5:40211")).await.unwrap();
    let listed = s.quarantine(false, Page::default()).await.unwrap();
    assert_eq!(listed.iter().map(|e| e.code.to_string()).collect::<Vec<_>>(), ["0000000006", "0000000005"]);
    assert_eq!(listed[1], late);

    let before = audit_count(s).await;
    s.reject_quarantined(&a, &contact(6, 0, "").code).await.unwrap();
    assert!(matches!(s.reject_quarantined(&a, &code("0000000042")).await, Err(StoreError::NotFound)));
    assert_eq!(s.quarantine(false, Page::default()).await.unwrap(), vec![late.clone()]);
    let all = s.quarantine(true, Page::default()).await.unwrap();
    assert_eq!((all.len(), all[0].state), (2, QuarantineState::Rejected));
    // A rejected entry is still counted, and stays rejected.
    let again = s.quarantine_contact(&contact(6, 40, "203.0.113.5:40212")).await.unwrap();
    assert_eq!((again.frames, again.state), (2, QuarantineState::Rejected));

    // Accept: the station exists, the entry is gone; errors named.
    let e = s.accept_quarantined(&a, &station(42)).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    s.quarantine_contact(&contact(1, 50, "x")).await.unwrap();
    let e = s.accept_quarantined(&a, &station(1)).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "code" }), "{e:?}");
    s.accept_quarantined(&a, &station(5)).await.unwrap();
    assert_eq!(s.station(&station(5).code).await.unwrap(), station(5));
    assert_eq!(s.station_by_sl651_address([0, 0, 0, 0, 5]).await.unwrap(), station(5));
    let left: Vec<String> =
        s.quarantine(true, Page::default()).await.unwrap().iter().map(|e| e.code.to_string()).collect();
    assert_eq!(left, ["0000000001", "0000000006"]);
    assert_eq!(audit_count(s).await, before + 2, "one reject and one accept");
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), audit_count(s).await);
}

fn frame(n: u8, serial: u16, minute: i64) -> RawFrame {
    RawFrame {
        station: station(n).code,
        received_at: t(minute) + Duration::seconds(20),
        peer: "198.51.100.7:4000".into(),
        function: 0x32,
        serial,
        observed_at: t(minute),
        bytes: vec![0x7E, 0x7E, n, (serial >> 8) as u8, serial as u8],
        encoding: FrameEncoding::Hex,
    }
}

fn value(n: u8, element: Element, minute: i64, value: f64, frame: Option<usize>) -> Observation {
    Observation { station: station(n).code, element, observed_at: t(minute), value, quality: Quality::Good, frame }
}

const RAIN: Element = Element::RainIncrement { interval_minutes: 5 };

/// Frames deduplicated by (station, function, serial, observation time) in the store and in
/// one call; values: the same again a duplicate, another value or quality a correction.
pub async fn flood_frames_and_values_are_deduplicated(s: &dyn FloodBackend) {
    network(s).await;
    let audits = audit_count(s).await;
    let frames = [frame(1, 10, 60), frame(2, 10, 60)];
    let values = [
        value(1, RAIN, 55, 1.5, Some(0)),
        value(1, RAIN, 60, 2.0, Some(0)),
        value(1, Element::Level, 60, 301.25, Some(0)),
        value(2, RAIN, 60, 0.5, Some(1)),
    ];
    let first = s.ingest(&frames, &values).await.unwrap();
    assert_eq!(first.observations, InsertCounts { inserted: 4, duplicates: 0, corrected: 0 });
    assert!(first.frames.iter().all(|f| !f.duplicate) && first.frames[0].id != first.frames[1].id);
    // The resend: the same frames, the same values.
    let again = s.ingest(&frames, &values).await.unwrap();
    assert_eq!(again.frames, first.frames.iter().map(|f| FrameOutcome { duplicate: true, ..*f }).collect::<Vec<_>>());
    assert_eq!(again.observations, InsertCounts { inserted: 0, duplicates: 4, corrected: 0 });
    // Each part of the key tells frames apart.
    let others = [
        RawFrame { serial: 11, ..frame(1, 10, 60) },
        RawFrame { function: 0x33, ..frame(1, 10, 60) },
        RawFrame { observed_at: t(65), ..frame(1, 10, 60) },
        RawFrame { station: station(2).code, ..frame(1, 10, 60) },
        frame(1, 10, 60),
        // The same frame twice in one call: stored once.
        RawFrame { serial: 11, ..frame(1, 10, 60) },
    ];
    let out = s.ingest(&others, &[]).await.unwrap();
    let dup: Vec<bool> = out.frames.iter().map(|f| f.duplicate).collect();
    assert_eq!(dup, [false, false, false, true, true, true]);
    assert_eq!(out.frames[3].id, first.frames[1].id, "station 2's frame of serial 10 at 60");
    assert_eq!(out.frames[4].id, first.frames[0].id);
    assert_eq!(out.frames[5].id, out.frames[0].id);
    assert!(s.archive_frame(&frame(1, 10, 60)).await.unwrap());
    assert!(!s.archive_frame(&frame(1, 12, 60)).await.unwrap());

    // Corrections: another value, another quality; within one call a value after another.
    let fixed = [
        value(1, RAIN, 60, 2.5, None),
        Observation { quality: Quality::Suspect, ..value(1, RAIN, 55, 1.5, None) },
        value(2, RAIN, 60, 0.5, None),
        value(2, RAIN, 65, 1.0, None),
        value(2, RAIN, 65, 1.0, None),
        value(2, RAIN, 65, 1.25, None),
    ];
    let counts = s.insert_observations(&ObservationBatch { observations: fixed.to_vec() }).await.unwrap();
    assert_eq!(counts, InsertCounts { inserted: 1, duplicates: 2, corrected: 3 });
    let read = s.observations(&station(1).code, RAIN, t(0), t(60), 10).await.unwrap();
    assert_eq!(
        read.iter().map(|o| (o.observed_at, o.value, o.quality)).collect::<Vec<_>>(),
        [(t(55), 1.5, Quality::Suspect), (t(60), 2.5, Quality::Good)]
    );
    assert_eq!(read[0].station, station(1).code);
    // (from, to]: the value at `from` is not in, the one at `to` is; `limit` the oldest.
    assert_eq!(s.observations(&station(1).code, RAIN, t(55), t(60), 10).await.unwrap().len(), 1);
    assert_eq!(s.observations(&station(1).code, RAIN, t(0), t(90), 1).await.unwrap()[0].observed_at, t(55));
    assert!(s.observations(&station(1).code, Element::Voltage, t(0), t(90), 10).await.unwrap().is_empty());
    assert!(s.observations(&code("NOPE"), RAIN, t(0), t(90), 10).await.unwrap().is_empty());
    let read = s.observations(&station(2).code, RAIN, t(0), t(90), 10).await.unwrap();
    assert_eq!(read.iter().map(|o| o.value).collect::<Vec<_>>(), [0.5, 1.25]);

    // Latest of each element, by element.
    let latest = s.latest(&station(1).code).await.unwrap();
    assert_eq!(
        latest.iter().map(|o| (o.element, o.observed_at, o.value)).collect::<Vec<_>>(),
        [(RAIN, t(60), 2.5), (Element::Level, t(60), 301.25)]
    );
    assert!(s.latest(&station(2).code).await.unwrap().iter().all(|o| o.element == RAIN));
    assert!(s.latest(&code("NOPE")).await.unwrap().is_empty());

    // The archive: newest first, in (from, to], with ids and bytes as received.
    let listed = s.frames(&station(1).code, t(0), t(120), 10).await.unwrap();
    assert_eq!(listed.len(), 5);
    assert!(listed.windows(2).all(|w| w[0].1.received_at >= w[1].1.received_at));
    let (id, stored) = listed.iter().find(|(id, _)| *id == first.frames[0].id).unwrap();
    assert_eq!((*id, stored), (first.frames[0].id, &frame(1, 10, 60)));
    assert_eq!(s.frames(&station(1).code, t(0), t(120), 2).await.unwrap().len(), 2);
    assert!(s.frames(&station(1).code, t(65) + Duration::seconds(20), t(120), 10).await.unwrap().is_empty());
    assert_eq!(audit_count(s).await, audits, "telemetry is not audited row by row");
}

/// One ingest is one transaction: a value the database refuses (not a finite number, past the
/// first chunk of values) leaves none of its frames, values or liveness stored; unknown
/// stations and bad frame indexes are named.
pub async fn flood_ingest_is_all_or_nothing(s: &dyn FloodBackend) {
    network(s).await;
    let frames = [frame(1, 1, 0), frame(2, 1, 0)];
    let mut values: Vec<Observation> =
        (0..3000).map(|i| value(1 + (i % 2) as u8, RAIN, i64::from(i), 0.5, Some((i % 2) as usize))).collect();
    values[2500].value = f64::NAN;
    let e = s.ingest(&frames, &values).await.unwrap_err();
    let StoreError::Other(m) = &e else { panic!("expected the refused value named, got {e:?}") };
    assert!(m.contains("observations[2500].value"), "{m}");
    values[2500].value = f64::INFINITY;
    let e = s.ingest(&frames, &values).await.unwrap_err();
    assert!(e.to_string().contains("observations[2500].value = inf"), "{e}");
    let e = s.ingest(&frames, &[value(1, RAIN, 1, 1.0, None), value(9, RAIN, 1, 1.0, None)]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "station" }), "{e:?}");
    let e = s.ingest(&[frame(1, 1, 0), frame(9, 1, 0)], &[]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "station" }), "{e:?}");
    let e = s.ingest(&frames, &[value(1, RAIN, 1, 1.0, Some(2))]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "frame" }), "{e:?}");
    for n in [1, 2] {
        assert!(s.frames(&station(n).code, t(-1000), t(5000), 10).await.unwrap().is_empty());
        assert!(s.observations(&station(n).code, RAIN, t(-1000), t(5000), 10).await.unwrap().is_empty());
    }
    assert_eq!(s.last_seen(&[station(1).code]).await.unwrap(), vec![LastSeen::default()]);
    // The same batch without the bad value is stored whole.
    values[2500].value = 0.5;
    let out = s.ingest(&frames, &values).await.unwrap();
    assert_eq!(out.observations, InsertCounts { inserted: 3000, duplicates: 0, corrected: 0 });
    assert_eq!(s.observations(&station(1).code, RAIN, t(-1), t(5000), 5000).await.unwrap().len(), 1500);
}

/// Keep-alives move a station's keep-alive time forward only and store no value; data frames
/// move its report time to their latest reception.
pub async fn flood_liveness_moves_forward(s: &dyn FloodBackend) {
    network(s).await;
    let (one, two) = (station(1).code, station(2).code);
    assert_eq!(s.last_seen(&[one.clone(), two.clone()]).await.unwrap(), vec![LastSeen::default(); 2]);
    s.station_liveness(&one, t(10)).await.unwrap();
    s.station_liveness(&one, t(5)).await.unwrap();
    assert!(matches!(s.station_liveness(&code("NOPE"), t(5)).await, Err(StoreError::NotFound)));
    assert!(s.latest(&one).await.unwrap().is_empty(), "a keep-alive stores no value");
    s.ingest(&[frame(1, 1, 30), frame(1, 2, 20), frame(2, 1, 40)], &[]).await.unwrap();
    s.ingest(&[frame(2, 1, 10)], &[]).await.unwrap();
    let seen = s.last_seen(&[two.clone(), code("NOPE"), one.clone()]).await.unwrap();
    let after = Duration::seconds(20);
    assert_eq!(
        seen,
        vec![
            LastSeen { keepalive: None, report: Some(t(40) + after) },
            LastSeen::default(),
            LastSeen { keepalive: Some(t(10)), report: Some(t(30) + after) },
        ]
    );
    s.station_liveness(&two, t(50)).await.unwrap();
    assert_eq!(s.last_seen(&[two]).await.unwrap()[0].keepalive, Some(t(50)));
}

/// A large ingest (12,000 values of 200 stations) stores every value and counts its resend.
pub async fn flood_large_ingest(s: &dyn FloodBackend) {
    s.upsert_watersheds(&actor(), &[shed("WFG1", None)]).await.unwrap();
    let stations: Vec<Station> = (0..200u8).map(station).collect();
    s.upsert_stations(&actor(), &stations).await.unwrap();
    let frames: Vec<RawFrame> = (0..200u8).map(|n| frame(n, 1, 0)).collect();
    let values: Vec<Observation> = (0..12_000usize)
        .map(|i| {
            let n = (i % 200) as u8;
            let element = if i % 3 == 0 { Element::Level } else { RAIN };
            value(n, element, (i / 200) as i64, i as f64 / 100.0, Some(usize::from(n)))
        })
        .collect();
    let out = s.ingest(&frames, &values).await.unwrap();
    assert_eq!(out.observations, InsertCounts { inserted: 12_000, duplicates: 0, corrected: 0 });
    let again = s.ingest(&frames, &values).await.unwrap();
    assert_eq!(again.observations, InsertCounts { inserted: 0, duplicates: 12_000, corrected: 0 });
    assert!(again.frames.iter().zip(&out.frames).all(|(a, b)| a.duplicate && a.id == b.id));
    // New, unchanged and corrected values (another value, another quality) mixed in every
    // statement, no key twice: each counted as what it is.
    let mixed: Vec<Observation> = values
        .iter()
        .enumerate()
        .map(|(i, o)| match (i % 3, i % 2) {
            (0, _) => Observation { observed_at: o.observed_at + Duration::minutes(1000), ..o.clone() },
            (1, 0) => Observation { value: o.value + 1.0, ..o.clone() },
            (1, _) => Observation { quality: Quality::Suspect, ..o.clone() },
            _ => o.clone(),
        })
        .collect();
    let out = s.ingest(&frames, &mixed).await.unwrap();
    assert_eq!(out.observations, InsertCounts { inserted: 4_000, duplicates: 4_000, corrected: 4_000 });
    let good = Quality::Good;
    for (i, element, minute, want) in [
        (1, RAIN, 0, (0.01, Quality::Suspect)),
        (2, RAIN, 0, (0.02, good)),
        (3, Element::Level, 1000, (0.03, good)),
        (4, RAIN, 0, (4.0 / 100.0 + 1.0, good)),
    ] {
        let got = s.observations(&station(i).code, element, t(minute - 1), t(minute), 1).await.unwrap();
        assert_eq!(got.iter().map(|o| (o.value, o.quality)).collect::<Vec<_>>(), [want], "values[{i}]");
    }
    let level = s.observations(&station(7).code, Element::Level, t(-1), t(100), 100).await.unwrap();
    let rain = s.observations(&station(7).code, RAIN, t(-1), t(100), 100).await.unwrap();
    assert_eq!(level.len() + rain.len(), 60);
}

//! The flood model's records and their validation, and the observation port's provided methods.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use zhili_core::codes::DivisionCode;
use zhili_core::store::{StoreError, StoreResult};
use zhili_flood::indicator::LevelIndicators;
use zhili_flood::model::*;
use zhili_flood::store::{
    FrameEncoding, FrameOutcome, IngestOutcome, InsertCounts, LastSeen, Observation, ObservationBatch,
    ObservationStore, Quality, RawFrame,
};
use zhili_flood::vocab::{Channel, Element, Scheme, StationCode, Tier};

const ZONE: &str = r#"{"type":"Polygon","coordinates":[[[117.86,36.49],[117.87,36.49],[117.87,36.50],[117.86,36.50],[117.86,36.49]]]}"#;

fn division(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn station_code(s: &str) -> StationCode {
    StationCode::parse(s).unwrap()
}

fn rain_station() -> Station {
    Station {
        code: StationCode::from_sl651_address([0x00, 0x12, 0x34, 0x56, 0x78]),
        name: "上庄雨量站".into(),
        kind: StationKind::AutomaticRain,
        measures: StationKind::AutomaticRain.default_measures(),
        position: Position::new(117.865, 36.495).unwrap(),
        watershed: Some(WatershedCode::parse("wfg3a01").unwrap()),
        owner: "博山区水利局".into(),
        division: division("370304100201"),
        protocol: Protocol::Sl651 { centre: 2, address: [0x00, 0x12, 0x34, 0x56, 0x78], password: 0x04D2 },
        report_interval_minutes: 60,
        installed: NaiveDate::from_ymd_opt(2014, 6, 1),
        status: StationStatus::InService,
        level_datum_m: None,
        dike_crest_m: None,
    }
}

fn person(name: &str, tier: Tier, phone: &str, channels: &[Channel]) -> ResponsiblePerson {
    ResponsiblePerson {
        name: name.into(),
        tier,
        phone: Phone::parse(phone).unwrap(),
        duty: "村支部书记".into(),
        channels: channels.to_vec(),
        user_id: Some(7),
    }
}

fn village() -> Village {
    Village {
        code: division("370304100201"),
        name: "上庄村".into(),
        danger_zone: Area::parse(ZONE).unwrap(),
        households: 86,
        population: 312,
        stations: vec![rain_station().code],
        watershed: Some(WatershedCode::parse("WFG3A01").unwrap()),
        persons: vec![
            person("张三", Tier::Village, "138 1234 5678", &[Channel::Sms, Channel::Voice, Channel::InApp]),
            person("李四", Tier::Township, "(0533) 4123456", &[Channel::Voice]),
        ],
        facilities: vec![
            WarningFacility { kind: FacilityKind::Broadcast, count: 2, endpoint: Some("bc-370304100201".into()) },
            WarningFacility { kind: FacilityKind::Gong, count: 5, endpoint: None },
        ],
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

fn fields(problems: Vec<FieldProblem>) -> Vec<String> {
    problems.into_iter().map(|p| p.field).collect()
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

#[test]
fn phones_normalise_and_refuse_precisely() {
    for (text, normal, kind) in [
        ("13812345678", "13812345678", PhoneKind::Mobile),
        ("+86 138-1234-5678", "13812345678", PhoneKind::Mobile),
        ("8613812345678", "13812345678", PhoneKind::Mobile),
        ("0533-4123456", "0533-4123456", PhoneKind::Landline),
        ("05334123456", "0533-4123456", PhoneKind::Landline),
        ("(010) 62345678", "010-62345678", PhoneKind::Landline),
        ("02087654321", "020-87654321", PhoneKind::Landline),
        ("（0533）41234567", "0533-41234567", PhoneKind::Landline),
    ] {
        let p = Phone::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!((p.as_str(), p.kind()), (normal, kind), "{text}");
    }
    for (text, reason) in [
        ("1381234567", "a mobile number has 11 digits"),
        ("12812345678", "a mobile number begins 13–19"),
        ("4123456", "a landline needs its area code, beginning with 0"),
        ("0533-123", "a landline number has 7 or 8 digits after its area code"),
        ("0533-0123456", "a landline number does not begin with 0 or 1"),
        ("+1 2025550100", "only Chinese numbers (+86) are accepted"),
        ("138x2345678", "it holds a character other than digits, spaces, - and ()"),
        ("", "a landline needs its area code, beginning with 0"),
    ] {
        assert_eq!(Phone::parse(text).unwrap_err().reason, reason, "{text}");
    }
    assert_eq!(
        Phone::parse("123").unwrap_err().to_string(),
        "\"123\" is not a Chinese phone number: a mobile number has 11 digits; write a mobile number (13812345678) or a landline with its area code (0533-1234567)"
    );
    assert_eq!(serde_json::to_string(&Phone::parse("0533 4123456").unwrap()).unwrap(), "\"0533-4123456\"");
    assert!(serde_json::from_str::<Phone>("\"5551234\"").is_err());
}

#[test]
fn positions_codes_and_areas() {
    assert!(Position::new(117.86, 36.49).is_ok());
    let e = Position::new(181.0, 36.0).unwrap_err();
    assert_eq!(e.to_string(), "lon = 181: longitude must be a number from -180 to 180 (WGS-84)");
    assert_eq!(Position::new(117.0, f64::NAN).unwrap_err().field, "lat");

    assert_eq!(WatershedCode::parse("wfg3a01").unwrap().as_str(), "WFG3A01");
    assert_eq!(SectionCode::parse("").unwrap_err().to_string(), "a section code is 1–24 characters, got 0");
    assert_eq!(
        WatershedCode::parse("WFG-1").unwrap_err().to_string(),
        "a watershed code has only letters A–Z and digits, got '-' at character 4"
    );

    let area = Area::parse(&format!(r#"{{"type":"Feature","properties":{{}},"geometry":{ZONE}}}"#)).unwrap();
    assert_eq!(area, Area::parse(ZONE).unwrap());
    assert!(area.as_geojson().starts_with(r#"{"type":"Polygon","coordinates":[[[117.86,36.49],"#));
    let open = r#"{"type":"Polygon","coordinates":[[[117.86,36.49],[117.87,36.49],[117.87,36.50],[117.86,36.50]]]}"#;
    assert_eq!(
        Area::parse(open).unwrap_err().to_string(),
        "coordinates[0]: a ring must be closed: its last position must equal its first"
    );
    let json = serde_json::to_string(&area).unwrap();
    assert_eq!(serde_json::from_str::<Area>(&json).unwrap(), area);
    assert!(serde_json::from_str::<Area>("\"{\\\"type\\\":\\\"Point\\\"}\"").is_err());
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

#[test]
fn watersheds() {
    let w = Watershed {
        code: WatershedCode::parse("WFG3A01").unwrap(),
        name: "岳阳河小流域".into(),
        parent: None,
        area_km2: 42.7,
        boundary: Some(Area::parse(ZONE).unwrap()),
    };
    assert_eq!(w.validate(), Ok(()));
    let bad = Watershed { parent: Some(w.code.clone()), area_km2: 0.0, name: " ".into(), ..w };
    assert_eq!(fields(bad.validate().unwrap_err()), ["name", "parent", "area_km2"]);
}

#[test]
fn a_good_station_validates_and_a_bad_one_lists_every_problem() {
    let s = rain_station();
    assert_eq!(s.validate(), Ok(()));
    assert_eq!(s.sl651_address(), Some([0x00, 0x12, 0x34, 0x56, 0x78]));
    assert_eq!(s.code.as_str(), "0012345678");

    let bad = Station {
        name: String::new(),
        measures: Measures { rain: false, level: false },
        position: Position { lon: 200.0, lat: -91.0 },
        division: division("370304"),
        protocol: Protocol::Sl651 { centre: 0, address: [0; 5], password: 0 },
        report_interval_minutes: 0,
        level_datum_m: Some(100.0),
        ..rain_station()
    };
    let problems = bad.validate().unwrap_err();
    assert_eq!(
        fields(problems.clone()),
        [
            "name",
            "position.lon",
            "position.lat",
            "measures",
            "division",
            "protocol.centre",
            "report_interval_minutes",
            "level_datum_m"
        ]
    );
    assert_eq!(problems[0].to_string(), "name = (empty): is required");
    assert_eq!(problems[3].message, "a 自动雨量站 measures rain");

    // A level station with its datum and crest; the crest must be above the datum.
    let level = Station {
        kind: StationKind::AutomaticLevel,
        measures: Measures { rain: true, level: true },
        level_datum_m: Some(300.0),
        dike_crest_m: Some(299.5),
        ..rain_station()
    };
    let problems = level.validate().unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].to_string(), "dike_crest_m = 299.5: the dike crest must be above the gauge datum 300 m");

    // Video stations measure nothing and need no protocol; shared ones say what they share.
    let video = Station {
        kind: StationKind::Video,
        measures: Measures::default(),
        protocol: Protocol::NotConnected,
        ..rain_station()
    };
    assert_eq!(video.validate(), Ok(()));
    let shared = Station { kind: StationKind::Shared, measures: Measures::default(), ..rain_station() };
    assert_eq!(fields(shared.validate().unwrap_err()), ["measures"]);
    let silent = Station { protocol: Protocol::NotConnected, ..rain_station() };
    assert_eq!(silent.validate().unwrap_err()[0].message, "a 自动雨量站 reports to the platform: give its protocol");
}

#[test]
fn station_serde_is_stable() {
    let s = rain_station();
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["kind"], "automatic_rain");
    assert_eq!(json["status"], "in_service");
    assert_eq!(
        json["protocol"],
        serde_json::json!({"protocol": "sl651", "centre": 2, "address": [0, 18, 52, 86, 120], "password": 1234})
    );
    assert_eq!(json["installed"], "2014-06-01");
    assert_eq!(serde_json::from_value::<Station>(json).unwrap(), s);
    for k in StationKind::ALL {
        assert_eq!(StationKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(StationStatus::parse("maintenance"), Some(StationStatus::Maintenance));
    assert_eq!(StationStatus::parse("broken"), None);
}

#[test]
fn a_good_village_validates_and_a_bad_one_lists_every_problem() {
    let v = village();
    assert_eq!(v.validate(), Ok(()));
    assert_eq!(v.persons_of(Tier::Township).map(|p| p.name.as_str()).collect::<Vec<_>>(), ["李四"]);
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(serde_json::from_str::<Village>(&json).unwrap(), v);

    let mut bad = village();
    bad.code = division("370304100");
    bad.households = 400;
    bad.stations.push(bad.stations[0].clone());
    bad.persons[0].channels = vec![Channel::Sms, Channel::Broadcast, Channel::Sms];
    bad.persons[1].channels = vec![Channel::Sms, Channel::InApp];
    bad.persons[1].user_id = None;
    bad.facilities[1].endpoint = Some("x".into());
    bad.facilities[0].count = 0;
    bad.routes[0].line.truncate(1);
    bad.routes[0].line[0].lat = 95.0;
    bad.shelters[0].capacity = 0;
    bad.shelters[0].name = "村委会\n二楼".into();
    let problems = bad.validate().unwrap_err();
    assert_eq!(
        fields(problems.clone()),
        [
            "code",
            "households",
            "stations[1]",
            "persons[0].channels[1]",
            "persons[0].channels[2]",
            "persons[1].channels[0]",
            "persons[1].channels[1]",
            "facilities[0].count",
            "facilities[1].endpoint",
            "routes[0].line",
            "routes[0].line[0].lat",
            "shelters[0].name",
            "shelters[0].capacity",
        ]
    );
    assert_eq!(problems[5].message, "SMS needs a mobile number, 0533-4123456 is a landline");
    assert_eq!(
        problems[11].to_string(),
        "shelters[0].name = 村委会\\n二楼: must not hold control characters (line breaks, tabs)"
    );

    let empty = Village { population: 0, stations: vec![], persons: vec![], ..village() };
    assert_eq!(fields(empty.validate().unwrap_err()), ["population", "stations", "persons"]);
}

#[test]
fn a_village_needs_a_rain_station_among_its_stations() {
    let v = village();
    let rain = rain_station();
    let lookup = |code: &StationCode| (code == &rain.code).then_some(&rain);
    assert_eq!(v.check_stations(lookup), Ok(()));

    let level = Station {
        kind: StationKind::SimpleLevel,
        measures: StationKind::SimpleLevel.default_measures(),
        ..rain_station()
    };
    let problems = v.check_stations(|_| Some(&level)).unwrap_err();
    assert_eq!(problems[0].to_string(), "stations = 0012345678: at least one representative station must measure rain");

    let retired = Station { status: StationStatus::Retired, ..rain_station() };
    let mut two = village();
    two.stations.push(station_code("X1"));
    let problems = two.check_stations(|c| (c == &retired.code).then_some(&retired)).unwrap_err();
    let text: Vec<_> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text, ["stations[0] = 0012345678: the station is retired", "stations[1] = X1: no such station"]);
}

#[test]
fn control_sections() {
    let level = Station {
        code: station_code("41A02305"),
        kind: StationKind::AutomaticLevel,
        measures: StationKind::AutomaticLevel.default_measures(),
        ..rain_station()
    };
    let section = ControlSection {
        code: SectionCode::parse("DM001").unwrap(),
        name: "上庄桥断面".into(),
        river: "岳阳河".into(),
        level_station: level.code.clone(),
        indicators: LevelIndicators::new(Scheme::TwoLevel, vec![301.2, 302.0], vec![None, Some(0.5)]).unwrap(),
        dike_crest_m: Some(302.5),
        villages: vec![division("370304100201")],
    };
    assert_eq!(section.validate(), Ok(()));
    assert_eq!(section.check_station(Some(&level)), Ok(()));
    assert_eq!(section.check_station(Some(&rain_station())).unwrap_err().message, "the station does not measure level");
    assert_eq!(section.check_station(None).unwrap_err().to_string(), "level_station = 41A02305: no such station");

    let bad = ControlSection {
        dike_crest_m: Some(301.5),
        villages: vec![division("370304100"), division("370304100201"), division("370304100201")],
        river: String::new(),
        ..section.clone()
    };
    let problems = bad.validate().unwrap_err();
    let text: Vec<_> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "river = (empty): is required",
            "indicators.levels.immediate = 302: above the dike crest 301.5 m: the river is over the dike before this warns",
            "villages[0] = 370304100: a 12-digit village code",
            "villages[2] = 370304100201: listed twice",
        ]
    );
    let none = ControlSection { villages: vec![], ..section };
    assert_eq!(fields(none.validate().unwrap_err()), ["villages"]);
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 18, 3, 0, 0).unwrap() + chrono::Duration::minutes(i64::from(minute))
}

#[test]
fn quarantine_entries_count_contacts() {
    let contact = |minute, peer: &str| UnknownContact {
        code: StationCode::from_sl651_address([0, 0, 0, 0, 9]),
        protocol: Protocol::Sl651 { centre: 1, address: [0, 0, 0, 0, 9], password: 0 },
        peer: peer.into(),
        at: at(minute),
    };
    let first = QuarantineEntry::record(None, &contact(10, "198.51.100.7:4000"));
    assert_eq!((first.frames, first.first_seen, first.state), (1, at(10), QuarantineState::Pending));
    let later = QuarantineEntry::record(Some(first.clone()), &contact(20, "198.51.100.7:4001"));
    assert_eq!((later.frames, later.last_seen, later.peer.as_str()), (2, at(20), "198.51.100.7:4001"));
    // A late contact (out of order) moves first_seen back but not the latest peer.
    let late = QuarantineEntry::record(Some(later), &contact(5, "198.51.100.7:3999"));
    assert_eq!(
        (late.frames, late.first_seen, late.last_seen, late.peer.as_str()),
        (3, at(5), at(20), "198.51.100.7:4001")
    );
    let rejected = QuarantineEntry { state: QuarantineState::Rejected, ..late };
    assert_eq!(QuarantineEntry::record(Some(rejected), &contact(30, "x")).state, QuarantineState::Rejected);
}

proptest! {
    /// Every 11-digit number 13x–19x is a mobile number and reads back to itself.
    #[test]
    fn mobile_numbers(second in 3u8..10, rest in 0u64..1_000_000_000) {
        let text = format!("1{second}{rest:09}");
        let p = Phone::parse(&text).unwrap();
        prop_assert_eq!(p.as_str(), text.as_str());
        prop_assert_eq!(p.kind(), PhoneKind::Mobile);
        prop_assert_eq!(Phone::parse(p.as_str()).unwrap(), p);
    }

    /// No text makes the phone reader panic, and whatever it accepts it accepts again.
    #[test]
    fn any_phone_text(text in "[0-9+()（） -]{0,16}|\\PC{0,12}") {
        if let Ok(p) = Phone::parse(&text) {
            prop_assert_eq!(Phone::parse(p.as_str()).unwrap(), p);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The observation port's provided methods, over a minimal in-memory store that follows the
// documented dedup rules.
// ---------------------------------------------------------------------------------------------

/// The identity of a stored value, and the value with its quality.
type Values = BTreeMap<(StationCode, Element, DateTime<Utc>), (f64, Quality)>;

#[derive(Default)]
struct Memory {
    frames: Mutex<Vec<RawFrame>>,
    values: Mutex<Values>,
}

#[async_trait]
impl ObservationStore for Memory {
    async fn ingest(&self, frames: &[RawFrame], observations: &[Observation]) -> StoreResult<IngestOutcome> {
        if observations.iter().any(|o| o.frame.is_some_and(|i| i >= frames.len())) {
            return Err(StoreError::MissingReference { field: "frame" });
        }
        let mut stored = self.frames.lock().unwrap();
        let mut outcome = IngestOutcome::default();
        for f in frames {
            match stored.iter().position(|s| s.dedup_key() == f.dedup_key()) {
                Some(i) => outcome.frames.push(FrameOutcome { id: i as i64 + 1, duplicate: true }),
                None => {
                    stored.push(f.clone());
                    outcome.frames.push(FrameOutcome { id: stored.len() as i64, duplicate: false });
                }
            }
        }
        let mut values = self.values.lock().unwrap();
        for o in observations {
            let key = (o.station.clone(), o.element, o.observed_at);
            match values.insert(key, (o.value, o.quality)) {
                None => outcome.observations.inserted += 1,
                Some(old) if old == (o.value, o.quality) => outcome.observations.duplicates += 1,
                Some(_) => outcome.observations.corrected += 1,
            }
        }
        Ok(outcome)
    }

    async fn observations(
        &self,
        station: &StationCode,
        element: Element,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<Observation>> {
        let values = self.values.lock().unwrap();
        Ok(values
            .iter()
            .filter(|((s, e, t), _)| s == station && *e == element && *t > from && *t <= to)
            .take(usize::try_from(limit).unwrap_or(0))
            .map(|((s, e, t), (v, q))| Observation {
                station: s.clone(),
                element: *e,
                observed_at: *t,
                value: *v,
                quality: *q,
                frame: None,
            })
            .collect())
    }

    async fn latest(&self, _station: &StationCode) -> StoreResult<Vec<Observation>> {
        Err(StoreError::Other("not needed by these tests".into()))
    }

    async fn frames(
        &self,
        _station: &StationCode,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
        _limit: i64,
    ) -> StoreResult<Vec<(i64, RawFrame)>> {
        Err(StoreError::Other("not needed by these tests".into()))
    }

    async fn station_liveness(&self, _station: &StationCode, _at: DateTime<Utc>) -> StoreResult<()> {
        Err(StoreError::Other("not needed by these tests".into()))
    }

    async fn last_seen(&self, _stations: &[StationCode]) -> StoreResult<Vec<LastSeen>> {
        Err(StoreError::Other("not needed by these tests".into()))
    }
}

fn rain(minute: u32, value: f64, frame: Option<usize>) -> Observation {
    Observation {
        station: station_code("0012345678"),
        element: Element::RainIncrement { interval_minutes: 5 },
        observed_at: at(minute),
        value,
        quality: Quality::Good,
        frame,
    }
}

#[test]
fn resends_count_once_and_corrections_replace() {
    futures::executor::block_on(async {
        let store = Memory::default();
        let frame = RawFrame {
            station: station_code("0012345678"),
            received_at: at(61),
            peer: "198.51.100.7:4000".into(),
            function: 0x34,
            serial: 1234,
            observed_at: at(60),
            bytes: vec![0x7E, 0x7E],
            encoding: FrameEncoding::Hex,
        };
        let values = [rain(55, 1.5, Some(0)), rain(60, 2.0, Some(0))];
        let first = store.ingest(std::slice::from_ref(&frame), &values).await.unwrap();
        assert_eq!(first.frames, [FrameOutcome { id: 1, duplicate: false }]);
        assert_eq!(first.observations, InsertCounts { inserted: 2, duplicates: 0, corrected: 0 });
        // The station resends (M2 without our confirm): nothing counts twice.
        let again = store.ingest(std::slice::from_ref(&frame), &values).await.unwrap();
        assert_eq!(again.frames, [FrameOutcome { id: 1, duplicate: true }]);
        assert_eq!(again.observations, InsertCounts { inserted: 0, duplicates: 2, corrected: 0 });
        assert!(store.archive_frame(&frame).await.unwrap());
        assert!(!store.archive_frame(&RawFrame { serial: 1235, ..frame }).await.unwrap());

        // JSON ingest: no frames, so no frame references.
        let batch = ObservationBatch { observations: vec![rain(60, 2.5, None), rain(65, 0.5, None)] };
        let counts = store.insert_observations(&batch).await.unwrap();
        assert_eq!(counts, InsertCounts { inserted: 1, duplicates: 0, corrected: 1 });
        let with_frame = ObservationBatch { observations: vec![rain(70, 0.5, Some(0))] };
        let refused = store.insert_observations(&with_frame).await;
        assert!(matches!(refused, Err(StoreError::MissingReference { field: "frame" })), "{refused:?}");

        let read = store
            .observations(
                &station_code("0012345678"),
                Element::RainIncrement { interval_minutes: 5 },
                at(55),
                at(65),
                10,
            )
            .await
            .unwrap();
        assert_eq!(read.iter().map(|o| (o.observed_at, o.value)).collect::<Vec<_>>(), [(at(60), 2.5), (at(65), 0.5)]);
    });
}

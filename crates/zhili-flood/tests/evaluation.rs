//! The evaluation (预警研判): rain over windows against a village's thresholds, levels of the
//! sections that protect it, suspect values kept out, the raise it leads to.

use chrono::{DateTime, Duration, TimeZone, Utc};
use zhili_core::codes::DivisionCode;
use zhili_flood::evaluation::{recipient_id, Engine, EngineConfig};
use zhili_flood::indicator::{LevelIndicators, RainIndicators, RainThreshold};
use zhili_flood::model::*;
use zhili_flood::store::{Observation, Quality};
use zhili_flood::vocab::{Channel, Element, Grade, Scheme, SoilState, StationCode, Tier, Window};
use zhili_flood::warning::Trigger;

const ZONE: &str = r#"{"type":"Polygon","coordinates":[[[117.86,36.49],[117.87,36.49],[117.87,36.50],[117.86,36.50],[117.86,36.49]]]}"#;

fn division(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn station(n: u8) -> StationCode {
    StationCode::from_sl651_address([0, 0x37, 0x03, 0x04, n])
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 20, 2, 0, 0).unwrap()
}

fn village(code: &str, stations: Vec<StationCode>) -> Village {
    let person = |name: &str, tier, user_id| ResponsiblePerson {
        name: name.into(),
        tier,
        phone: Phone::parse("13812345678").unwrap(),
        duty: "责任人".into(),
        channels: vec![Channel::InApp, Channel::Sms],
        user_id,
    };
    Village {
        code: division(code),
        name: "上庄村".into(),
        danger_zone: Area::parse(ZONE).unwrap(),
        households: 86,
        population: 312,
        stations,
        watershed: None,
        persons: vec![person("张三", Tier::Village, Some(7)), person("李四", Tier::Township, None)],
        facilities: vec![
            WarningFacility { kind: FacilityKind::Siren, count: 1, endpoint: Some("s-1".into()) },
            WarningFacility { kind: FacilityKind::Gong, count: 5, endpoint: None },
            WarningFacility { kind: FacilityKind::Broadcast, count: 2, endpoint: Some("bc-1".into()) },
        ],
        routes: vec![],
        shelters: vec![],
    }
}

/// 1 h: 30 / 50 mm, 3 h: 60 / 90 mm (normal soil); wetter soil lower.
fn indicators(code: &str) -> RainIndicators {
    let mut thresholds = Vec::new();
    for (soil, f) in [(SoilState::Dry, 1.2), (SoilState::Normal, 1.0), (SoilState::Wet, 0.8)] {
        thresholds.push(RainThreshold { window: Window::H1, soil, mm: vec![30.0 * f, 50.0 * f] });
        thresholds.push(RainThreshold { window: Window::H3, soil, mm: vec![60.0 * f, 90.0 * f] });
    }
    RainIndicators::new(division(code), Scheme::TwoLevel, thresholds).unwrap()
}

fn rain(station: StationCode, minutes: i64, mm: f64, quality: Quality) -> Observation {
    Observation {
        station,
        element: Element::RainIncrement { interval_minutes: 5 },
        observed_at: t0() + Duration::minutes(minutes),
        value: mm,
        quality,
        frame: None,
    }
}

fn level(station: StationCode, minutes: i64, m: f64) -> Observation {
    Observation {
        station,
        element: Element::Level,
        observed_at: t0() + Duration::minutes(minutes),
        value: m,
        quality: Quality::Good,
        frame: None,
    }
}

const V: &str = "370304100201";

fn engine() -> Engine {
    let mut e = Engine::new(EngineConfig::default()).unwrap();
    e.set_village(village(V, vec![station(1), station(2)]), Some(indicators(V)));
    e
}

#[test]
fn rain_over_a_window_reaches_prepare_then_immediate_from_the_wetter_station() {
    let mut e = engine();
    // Station 1: 3 mm every 5 minutes; station 2: 1 mm. After 50 min station 1 has 30 mm.
    let mut batch = Vec::new();
    for k in 1..=10 {
        batch.push(rain(station(1), 5 * k, 3.0, Quality::Good));
        batch.push(rain(station(2), 5 * k, 1.0, Quality::Good));
    }
    let observed = e.observe(&batch);
    assert_eq!((observed.used, observed.ignored, observed.refused), (20, 0, 0));
    assert_eq!(observed.villages.into_iter().collect::<Vec<_>>(), vec![division(V)]);
    let a = e.assess(&division(V), t0() + Duration::minutes(50)).unwrap();
    assert_eq!(a.soil, SoilState::Normal);
    assert!(!a.soil_judged);
    let h1 = &a.rain[0];
    assert_eq!(
        (h1.window, h1.mm, h1.station.clone(), h1.lowest_threshold_mm),
        (Window::H1, 30.0, Some(station(1)), Some(30.0))
    );
    let (grade, trigger) = a.verdict.clone().unwrap();
    assert_eq!(grade, Grade::Prepare);
    match trigger {
        Trigger::Rain { window, value_mm, threshold_mm, station: s, soil } => {
            assert_eq!(
                (window, value_mm, threshold_mm, s, soil),
                (Window::H1, 30.0, 30.0, Some(station(1)), Some(SoilState::Normal))
            );
        }
        other => panic!("{other:?}"),
    }
    // Out of order and repeated: the same set gives the same sums; 20 mm more in 10 minutes.
    let more = vec![
        rain(station(1), 60, 10.0, Quality::Good),
        rain(station(1), 55, 10.0, Quality::Good),
        rain(station(1), 60, 10.0, Quality::Good),
    ];
    e.observe(&more);
    let a = e.assess(&division(V), t0() + Duration::minutes(60)).unwrap();
    assert_eq!(a.rain[0].mm, 50.0);
    assert_eq!(a.verdict.as_ref().map(|v| v.0), Some(Grade::Immediate));
    // The raise names the recipients and the remote facilities in order.
    let raise = e.raise(&a, "博山区池上镇").unwrap();
    assert_eq!(raise.village_name, "博山区池上镇上庄村");
    assert_eq!(raise.grade, Grade::Immediate);
    let ids: Vec<&str> = raise.recipients.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["user:7", "370304100201/2"]);
    assert_eq!(recipient_id(&division(V), 1, None), "370304100201/2");
    assert_eq!(raise.public_channels, vec![Channel::Broadcast, Channel::Siren]);
}

#[test]
fn suspect_values_count_for_nothing_and_quiet_is_no_verdict() {
    let mut e = engine();
    let observed = e.observe(&[
        rain(station(1), 5, 45.0, Quality::Suspect),
        rain(station(1), 10, f64::NAN, Quality::Good),
        rain(station(1), 15, 2.0, Quality::Good),
        Observation { element: Element::Voltage, ..rain(station(1), 15, 12.1, Quality::Good) },
        // Off the 5-minute grid: refused by the rain series.
        Observation { observed_at: t0() + Duration::minutes(17), ..rain(station(1), 0, 1.0, Quality::Good) },
    ]);
    assert_eq!((observed.used, observed.ignored, observed.refused), (1, 3, 1));
    let a = e.assess(&division(V), t0() + Duration::minutes(15)).unwrap();
    assert_eq!(a.rain[0].mm, 2.0);
    assert!(a.quiet());
    assert!(e.raise(&a, "").is_none());
    // An unknown village is not assessed; a station no village watches concerns none.
    assert!(e.assess(&division("370304100299"), t0()).is_none());
    assert!(e.observe(&[rain(station(9), 5, 1.0, Quality::Good)]).villages.is_empty());
}

#[test]
fn a_section_level_or_its_rise_warns_the_villages_it_protects() {
    let mut e = engine();
    let section = ControlSection {
        code: SectionCode::parse("S01").unwrap(),
        name: "上庄桥".into(),
        river: "孝妇河".into(),
        level_station: station(3),
        indicators: LevelIndicators::new(Scheme::TwoLevel, vec![101.0, 102.0], vec![Some(0.5), Some(1.5)]).unwrap(),
        dike_crest_m: None,
        villages: vec![division(V)],
    };
    e.set_section(section);
    let observed = e.observe(&[level(station(3), 0, 100.0), level(station(3), 30, 100.2)]);
    assert_eq!(observed.villages.len(), 1, "the level station now concerns the village");
    let a = e.assess(&division(V), t0() + Duration::minutes(30)).unwrap();
    assert_eq!(a.sections[0].level_m, Some(100.2));
    assert!(a.quiet(), "{a:?}");
    // Rising 1.0 m in 30 minutes: 2 m/h reaches the immediate rise; the level only prepare.
    e.observe(&[level(station(3), 60, 101.2)]);
    let a = e.assess(&division(V), t0() + Duration::minutes(60)).unwrap();
    let (grade, trigger) = a.verdict.unwrap();
    assert_eq!(grade, Grade::Immediate);
    assert!(matches!(trigger, Trigger::Rise { ref section_name, .. } if section_name == "上庄桥"), "{trigger:?}");
    // A village the section does not list is not protected by it; one it lists that joins
    // the engine later is.
    let (other, later) = ("370304100202", "370304100203");
    e.set_section(ControlSection {
        code: SectionCode::parse("S02").unwrap(),
        name: "下庄桥".into(),
        river: "孝妇河".into(),
        level_station: station(4),
        indicators: LevelIndicators::new(Scheme::TwoLevel, vec![101.0, 102.0], vec![None, None]).unwrap(),
        dike_crest_m: None,
        villages: vec![division(later)],
    });
    e.set_village(village(other, vec![station(1)]), Some(indicators(other)));
    e.set_village(village(later, vec![station(1)]), Some(indicators(later)));
    assert!(e.assess(&division(other), t0() + Duration::minutes(60)).unwrap().sections.is_empty());
    let observed = e.observe(&[level(station(4), 60, 102.5)]);
    assert_eq!(observed.villages.into_iter().collect::<Vec<_>>(), vec![division(later)]);
    let a = e.assess(&division(later), t0() + Duration::minutes(60)).unwrap();
    assert!(matches!(a.verdict, Some((Grade::Immediate, Trigger::Level { .. }))), "{a:?}");
}

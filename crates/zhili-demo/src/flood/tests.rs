//! Tests of the flood demo: the network at the Boshan counts and valid, inside the district;
//! the storm's crossings, CSV and determinism; seeding through the port; the simulator's plan
//! and its frames over real TCP against a small centre that decodes and confirms.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use geo::{Area as _, BooleanOps, Contains, MultiPolygon, Point};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::model::Division;
use zhili_core::store::{Page, StoreError, StoreResult};
use zhili_flood::indicator::{evaluate_rain, RainIndicators};
use zhili_flood::model::{
    ControlSection, PhoneKind, Protocol, Station, StationKind, Village, Watershed, WatershedCode,
};
use zhili_flood::rain::RainSeries;
use zhili_flood::store::{FloodModelStore, StationFilter};
use zhili_flood::vocab::{Element, Grade, Scheme, SoilState, StationCode, Tier, Window};
use zhili_sl651::{Body, Decoder, Encoding, EndChar, FunctionCode, Identifier, StationAddress, Time};

use super::network::{self, distance_km, Network, NetworkOptions};
use super::simulator::{self, Content, SimConfig, SimStation};
use super::storm::{self, Storm, StormConfig, StormValue};

fn divisions() -> &'static [Division] {
    static D: OnceLock<Vec<Division>> = OnceLock::new();
    D.get_or_init(|| crate::district("h").batch.divisions)
}

fn boshan() -> &'static Network {
    static N: OnceLock<Network> = OnceLock::new();
    N.get_or_init(|| network::network(divisions(), &NetworkOptions::default()).expect("the demo network builds"))
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 18, 0, 0, 0).unwrap()
}

fn storm() -> &'static Storm {
    static S: OnceLock<Storm> = OnceLock::new();
    S.get_or_init(|| Storm::new(boshan(), &StormConfig::new(start())).expect("the storm builds"))
}

fn shape(text: &str) -> MultiPolygon<f64> {
    zhili_geo::geometry::parse_area_text(text).expect("valid area")
}

// ---------------------------------------------------------------------------------------------
// The network
// ---------------------------------------------------------------------------------------------

#[test]
fn network_counts_equal_the_boshan_case() {
    let n = boshan();
    let count = |k| n.stations_of(k).count();
    assert_eq!(n.watersheds.len(), 8);
    assert_eq!(count(StationKind::AutomaticRain), 25);
    assert_eq!(count(StationKind::AutomaticLevel), 23);
    assert_eq!(count(StationKind::SimpleRain), 144);
    assert_eq!(count(StationKind::SimpleLevel), 219);
    assert_eq!(count(StationKind::Video), 27);
    assert_eq!(count(StationKind::Shared), 11);
    assert_eq!(n.stations.len(), 449);
    assert_eq!(n.villages.len(), crate::VILLAGES);
    assert_eq!(n.sections.len(), 23);
    assert_eq!(n.rain_indicators.len(), crate::VILLAGES);
    // Every village division is a village at risk.
    let divisions: BTreeSet<_> = divisions()
        .iter()
        .filter(|d| d.code.level() == zhili_core::DivisionLevel::Village)
        .map(|d| d.code.clone())
        .collect();
    let at_risk: BTreeSet<_> = n.villages.iter().map(|v| v.code.clone()).collect();
    assert_eq!(divisions, at_risk);
}

#[test]
fn automatic_stations_have_sl651_identities_and_the_others_their_protocols() {
    let n = boshan();
    let mut addresses = BTreeSet::new();
    for s in &n.stations {
        match (s.kind, s.protocol) {
            (StationKind::AutomaticRain | StationKind::AutomaticLevel, Protocol::Sl651 { centre, address, .. }) => {
                assert_eq!(centre, network::CENTRE, "{}", s.code);
                assert_eq!(address[..4], network::ADDRESS_PREFIX, "{}", s.code);
                assert!(StationAddress(address).hydrological().is_some(), "BCD address: {}", s.code);
                assert_eq!(s.code, StationCode::from_sl651_address(address));
                assert!(addresses.insert(address), "address twice: {}", s.code);
            }
            (StationKind::Video, Protocol::NotConnected) => {}
            (StationKind::SimpleRain | StationKind::SimpleLevel | StationKind::Shared, Protocol::Json) => {}
            (kind, protocol) => panic!("{}: a {kind:?} with {protocol:?}", s.code),
        }
    }
    assert_eq!(addresses.len(), 48);
    let shared: BTreeMap<&str, usize> = n.stations_of(StationKind::Shared).fold(BTreeMap::new(), |mut m, s| {
        *m.entry(s.owner.as_str()).or_default() += 1;
        m
    });
    assert_eq!(shared.get(network::WEATHER_BUREAU), Some(&8));
    assert_eq!(shared.get(network::HYDROLOGY_CENTRE), Some(&3));
}

#[test]
fn every_record_validates_in_both_schemes() {
    for (options, scheme) in
        [(NetworkOptions::default(), Scheme::TwoLevel), (NetworkOptions::four_colour(), Scheme::FourColour)]
    {
        let n = if scheme == Scheme::TwoLevel {
            boshan().clone()
        } else {
            network::network(divisions(), &options).unwrap()
        };
        assert_eq!(n.validate(), Ok(()));
        let by_code: HashMap<&StationCode, &Station> = n.stations.iter().map(|s| (&s.code, s)).collect();
        for w in &n.watersheds {
            assert_eq!(w.validate(), Ok(()), "{}", w.code);
        }
        for s in &n.stations {
            assert_eq!(s.validate(), Ok(()), "{}", s.code);
        }
        for v in &n.villages {
            assert_eq!(v.validate(), Ok(()), "{}", v.code);
            assert_eq!(v.check_stations(|c| by_code.get(c).copied()), Ok(()), "{}", v.code);
        }
        for s in &n.sections {
            assert_eq!(s.validate(), Ok(()), "{}", s.code);
            assert_eq!(s.check_station(by_code.get(&s.level_station).copied()), Ok(()), "{}", s.code);
            assert_eq!(s.indicators.scheme(), scheme);
        }
        for r in &n.rain_indicators {
            assert_eq!(r.scheme(), scheme);
            assert!(r.missing_standard_windows().is_empty(), "{}", r.village());
            // Round trip through the serialised form, which checks the set again.
            let back: RainIndicators = serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap();
            assert_eq!(&back, r);
        }
    }
}

#[test]
fn validate_names_the_record_and_field_at_fault() {
    let mut n = boshan().clone();
    n.villages[3].stations = vec![StationCode::parse("NOSUCH").unwrap()];
    n.stations[30].report_interval_minutes = 0;
    let problems = n.validate().unwrap_err();
    let village = format!("village {}", n.villages[3].code);
    assert!(problems.iter().any(|p| p.record == village && p.problem.field == "stations[0]"), "{problems:?}");
    let station = format!("station {}", n.stations[30].code);
    assert!(problems.iter().any(|p| p.record == station && p.problem.field == "report_interval_minutes"));
}

#[test]
fn the_network_is_deterministic_and_the_seed_matters() {
    let again = network::network(divisions(), &NetworkOptions::default()).unwrap();
    assert_eq!(&again, boshan());
    let other = network::network(divisions(), &NetworkOptions { seed: 7, ..NetworkOptions::default() }).unwrap();
    assert_ne!(other.stations[0].position, boshan().stations[0].position);
}

#[test]
fn stations_danger_zones_and_shelters_lie_in_the_district() {
    let n = boshan();
    let by_code: HashMap<&DivisionCode, MultiPolygon<f64>> =
        divisions().iter().filter_map(|d| Some((&d.code, shape(d.boundary.as_deref()?)))).collect();
    let county = &by_code[&DivisionCode::parse(crate::COUNTY).unwrap()];
    let pt = |p: zhili_flood::model::Position| Point::new(p.lon, p.lat);
    for s in &n.stations {
        assert!(county.contains(&pt(s.position)), "station {} outside the district", s.code);
        assert!(
            by_code[&s.division].contains(&pt(s.position)),
            "station {} outside its village {}",
            s.code,
            s.division
        );
        assert!(s.watershed.is_some(), "station {} in no watershed", s.code);
    }
    for v in &n.villages {
        let zone = shape(v.danger_zone.as_geojson());
        // Inside its village (which lies in the district), every vertex in the district too.
        let vertices = zone.0[0].exterior().points();
        assert!(vertices.into_iter().all(|p| county.contains(&p)), "danger zone of {} outside the district", v.code);
        assert!(by_code[&v.code].contains(&zone), "danger zone of {} outside its village", v.code);
        let area_m2 = zone.geodesic_area_unsigned_m2();
        assert!((20_000.0..300_000.0).contains(&area_m2), "{}: {area_m2} m²", v.code);
        for s in &v.shelters {
            assert!(by_code[&v.code].contains(&pt(s.position)), "shelter of {}", v.code);
            assert!(!zone.contains(&pt(s.position)), "the shelter of {} is in its danger zone", v.code);
            assert!(s.capacity >= v.population);
        }
        assert_eq!(v.routes.len(), 1);
        assert_eq!(v.routes[0].line.last(), v.shelters.first().map(|s| &s.position));
        assert!(v.watershed.is_some());
    }
    // The watersheds tile the district.
    let total: f64 =
        n.watersheds.iter().map(|w| shape(w.boundary.as_ref().unwrap().as_geojson()).unsigned_area()).sum();
    assert!((total - county.unsigned_area()).abs() < 1e-9, "{total} vs {}", county.unsigned_area());
    for w in &n.watersheds {
        let s = shape(w.boundary.as_ref().unwrap().as_geojson());
        assert!(s.difference(county).unsigned_area() < 1e-12, "{} outside the district", w.code);
        assert!((50.0..150.0).contains(&w.area_km2), "{}: {} km²", w.code, w.area_km2);
    }
}

trait GeodesicM2 {
    fn geodesic_area_unsigned_m2(&self) -> f64;
}

impl GeodesicM2 for MultiPolygon<f64> {
    fn geodesic_area_unsigned_m2(&self) -> f64 {
        geo::GeodesicArea::geodesic_area_unsigned(self)
    }
}

#[test]
fn villages_have_their_chain_of_persons_and_their_nearest_rain_station() {
    let n = boshan();
    let automatic: Vec<&Station> = n.stations_of(StationKind::AutomaticRain).collect();
    let mut phone_owner: HashMap<String, String> = HashMap::new();
    for v in &n.villages {
        for tier in [Tier::County, Tier::Township, Tier::Village, Tier::Group] {
            assert!(v.persons_of(tier).next().is_some(), "{} has no {tier:?} person", v.code);
        }
        for p in &v.persons {
            assert_eq!(p.phone.kind(), PhoneKind::Mobile);
            assert!(p.phone.as_str().starts_with("139"));
            // One phone, one person (county and township persons serve several villages).
            let owner = phone_owner.entry(p.phone.to_string()).or_insert_with(|| format!("{}/{}", p.name, p.duty));
            assert_eq!(owner, &format!("{}/{}", p.name, p.duty));
        }
        let centre = shape(v.danger_zone.as_geojson());
        let c = geo::Centroid::centroid(&centre).unwrap();
        let c = zhili_flood::model::Position { lon: c.x(), lat: c.y() };
        let first = n.station(&v.stations[0]).unwrap();
        assert_eq!(first.kind, StationKind::AutomaticRain);
        let nearest = automatic.iter().map(|s| distance_km(s.position, c)).fold(f64::MAX, f64::min);
        // The zone's centre of mass is within a few metres of the centre it was drawn around.
        assert!(distance_km(first.position, c) <= nearest + 0.2, "{}", v.code);
        assert_eq!(v.stations.len(), 2);
    }
    let county_persons: BTreeSet<_> =
        n.villages.iter().flat_map(|v| v.persons_of(Tier::County).map(|p| p.phone.clone())).collect();
    assert_eq!(county_persons.len(), 10, "one county leader per township");
}

#[test]
fn rain_indicators_lie_around_the_published_village() {
    let n = boshan();
    let mut factors = BTreeSet::new();
    for r in &n.rain_indicators {
        let p = r.threshold(Window::H1, SoilState::Normal, Grade::Prepare).unwrap();
        let i = r.threshold(Window::H1, SoilState::Normal, Grade::Immediate).unwrap();
        assert!((35.0 * 0.85 - 0.5..=35.0 * 1.15 + 0.5).contains(&p), "{}: {p}", r.village());
        assert!((50.0 * 0.85 - 0.5..=50.0 * 1.15 + 0.5).contains(&i), "{}: {i}", r.village());
        let dry = r.threshold(Window::H3, SoilState::Dry, Grade::Prepare).unwrap();
        let wet = r.threshold(Window::H3, SoilState::Wet, Grade::Prepare).unwrap();
        assert!(dry > wet);
        factors.insert((p * 10.0) as i64);
    }
    assert!(factors.len() > 5, "varied per village: {factors:?}");
    let four = network::rain_indicators(&n.villages[0].code, Scheme::FourColour, 1.0).unwrap();
    assert_eq!(four.threshold(Window::H24, SoilState::Wet, Grade::Red), Some(200.0));
    assert!(four.soil_independent());
}

// ---------------------------------------------------------------------------------------------
// Seeding through the port
// ---------------------------------------------------------------------------------------------

/// A store that holds what it is given and checks the references the port promises to check.
#[derive(Default)]
struct Recording {
    calls: Mutex<Vec<&'static str>>,
    watersheds: Mutex<BTreeSet<WatershedCode>>,
    stations: Mutex<HashMap<StationCode, Station>>,
    villages: Mutex<BTreeSet<DivisionCode>>,
    indicators: Mutex<usize>,
}

#[async_trait::async_trait]
impl FloodModelStore for Recording {
    async fn upsert_watersheds(&self, _: &Actor, watersheds: &[Watershed]) -> StoreResult<()> {
        self.calls.lock().unwrap().push("watersheds");
        self.watersheds.lock().unwrap().extend(watersheds.iter().map(|w| w.code.clone()));
        Ok(())
    }
    async fn watersheds(&self) -> StoreResult<Vec<Watershed>> {
        Ok(Vec::new())
    }
    async fn upsert_stations(&self, _: &Actor, stations: &[Station]) -> StoreResult<()> {
        self.calls.lock().unwrap().push("stations");
        let w = self.watersheds.lock().unwrap();
        if stations.iter().any(|s| s.watershed.as_ref().is_some_and(|c| !w.contains(c))) {
            return Err(StoreError::MissingReference { field: "watershed" });
        }
        self.stations.lock().unwrap().extend(stations.iter().map(|s| (s.code.clone(), s.clone())));
        Ok(())
    }
    async fn station(&self, code: &StationCode) -> StoreResult<Station> {
        self.stations.lock().unwrap().get(code).cloned().ok_or(StoreError::NotFound)
    }
    async fn station_by_sl651_address(&self, _: [u8; 5]) -> StoreResult<Station> {
        Err(StoreError::NotFound)
    }
    async fn stations(&self, _: &StationFilter, _: Page) -> StoreResult<Vec<Station>> {
        Ok(Vec::new())
    }
    async fn upsert_villages(&self, _: &Actor, villages: &[Village]) -> StoreResult<()> {
        self.calls.lock().unwrap().push("villages");
        let s = self.stations.lock().unwrap();
        if villages.iter().any(|v| v.stations.iter().any(|c| !s.contains_key(c))) {
            return Err(StoreError::MissingReference { field: "stations" });
        }
        self.villages.lock().unwrap().extend(villages.iter().map(|v| v.code.clone()));
        Ok(())
    }
    async fn village(&self, _: &DivisionCode) -> StoreResult<Village> {
        Err(StoreError::NotFound)
    }
    async fn villages(&self, _: Option<&DivisionCode>, _: Page) -> StoreResult<Vec<Village>> {
        Ok(Vec::new())
    }
    async fn upsert_sections(&self, _: &Actor, sections: &[ControlSection]) -> StoreResult<()> {
        self.calls.lock().unwrap().push("sections");
        let (s, v) = (self.stations.lock().unwrap(), self.villages.lock().unwrap());
        if sections.iter().any(|x| !s.contains_key(&x.level_station) || x.villages.iter().any(|c| !v.contains(c))) {
            return Err(StoreError::MissingReference { field: "level_station" });
        }
        Ok(())
    }
    async fn section(&self, _: &zhili_flood::model::SectionCode) -> StoreResult<ControlSection> {
        Err(StoreError::NotFound)
    }
    async fn sections(&self) -> StoreResult<Vec<ControlSection>> {
        Ok(Vec::new())
    }
    async fn replace_rain_indicators(&self, _: &Actor, sets: &[RainIndicators]) -> StoreResult<()> {
        self.calls.lock().unwrap().push("rain indicators");
        let v = self.villages.lock().unwrap();
        if sets.iter().any(|r| !v.contains(r.village())) {
            return Err(StoreError::MissingReference { field: "village" });
        }
        *self.indicators.lock().unwrap() += sets.len();
        Ok(())
    }
    async fn rain_indicators(&self, _: &DivisionCode) -> StoreResult<RainIndicators> {
        Err(StoreError::NotFound)
    }
    async fn all_rain_indicators(&self, _: Option<&DivisionCode>) -> StoreResult<Vec<RainIndicators>> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn seed_writes_through_the_port_in_reference_order() {
    let store = Recording::default();
    let counts = network::seed(&store, &Actor::system(), boshan()).await.unwrap();
    assert_eq!(*store.calls.lock().unwrap(), ["watersheds", "stations", "villages", "sections", "rain indicators"]);
    assert_eq!((counts.stations, counts.villages, counts.sections, counts.rain_indicators), (449, 214, 23, 214));
    assert_eq!(store.stations.lock().unwrap().len(), 449);
    assert_eq!(*store.indicators.lock().unwrap(), 214);
    // An invalid network writes nothing.
    let mut bad = boshan().clone();
    bad.villages[0].population = 0;
    let empty = Recording::default();
    let err = network::seed(&empty, &Actor::system(), &bad).await.unwrap_err();
    assert!(matches!(err, network::SeedError::Invalid(ref p) if p[0].problem.field == "population"), "{err}");
    assert!(empty.calls.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// The storm
// ---------------------------------------------------------------------------------------------

/// The highest grade a village's 1-hour rain reaches during the storm, with normal soil, fed
/// through the rain engine from its first representative station.
fn highest_grade(n: &Network, s: &Storm, v: &Village) -> Option<Grade> {
    let indicators = n.indicators_of(&v.code)?;
    let mut series = RainSeries::default();
    let mut best: Option<Grade> = None;
    for (t, mm) in s.values_of(&v.stations[0], Element::RainIncrement { interval_minutes: 5 }) {
        series.insert(Element::RainIncrement { interval_minutes: 5 }, t, mm).unwrap();
        let acc = series.accumulation(Window::H1, t);
        if let Some(e) = evaluate_rain(indicators, SoilState::Normal, &[(Window::H1, acc.mm)]) {
            if best.is_none_or(|b| e.grade.rank() > b.rank()) {
                best = Some(e.grade);
            }
        }
    }
    best
}

#[test]
fn the_storm_warns_villages_to_prepare_and_to_evacuate() {
    let (n, s) = (boshan(), storm());
    assert!((60.0..=90.0).contains(&s.peak_mm_per_h()), "{}", s.peak_mm_per_h());
    let grades: Vec<Option<Grade>> = n.villages.iter().map(|v| highest_grade(n, s, v)).collect();
    let prepare = grades.iter().filter(|g| **g == Some(Grade::Prepare)).count();
    let immediate = grades.iter().filter(|g| **g == Some(Grade::Immediate)).count();
    let quiet = grades.iter().filter(|g| g.is_none()).count();
    assert!(prepare >= 1, "no village reaches prepare: {grades:?}");
    assert!(immediate >= 1, "no village reaches immediate");
    assert!(quiet >= 1, "the storm should not warn every village");
    // Other seeds too.
    for seed in [1, 2, 3] {
        let s = Storm::new(n, &StormConfig { seed, ..StormConfig::new(start()) }).unwrap();
        let grades: Vec<_> = n.villages.iter().map(|v| highest_grade(n, &s, v)).collect();
        assert!(grades.contains(&Some(Grade::Prepare)) || grades.contains(&Some(Grade::Immediate)), "seed {seed}");
    }
}

#[test]
fn the_storm_gives_every_reporting_station_its_series() {
    let (n, s) = (boshan(), storm());
    let steps = 8 * 12;
    let reporting = n.stations.iter().filter(|st| !matches!(st.protocol, Protocol::NotConnected));
    let series = reporting.map(|st| usize::from(st.measures.rain) + usize::from(st.measures.level)).sum::<usize>();
    assert_eq!(s.len(), series * steps);
    let values: Vec<StormValue> = s.values().collect();
    assert_eq!(values.len(), s.len());
    assert!(values.windows(2).all(|w| w[0].time <= w[1].time), "by time");
    assert_eq!(values[0].time, start() + Duration::minutes(5));
    assert_eq!(s.end(), start() + Duration::hours(8));
    for v in &values {
        match v.element {
            Element::RainIncrement { interval_minutes: 5 } => {
                assert!((0.0..=25.4).contains(&v.value));
                assert_eq!((v.value * 10.0).round() / 10.0, v.value, "0.1 mm");
            }
            Element::Level => {}
            other => panic!("{other:?}"),
        }
    }
    // The first hour is dry; level stations rise and fall where it rained.
    assert!(values
        .iter()
        .filter(|v| v.time <= start() + Duration::hours(1))
        .all(|v| v.element == Element::Level || v.value == 0.0));
    let mut rose = 0;
    for st in n.stations_of(StationKind::AutomaticLevel) {
        let h = s.values_of(&st.code, Element::Level);
        let first = h[0].1;
        let (peak_at, peak) =
            h.iter().fold((0, f64::MIN), |(k, m), (_, v)| if *v > m { (k + 1, *v) } else { (k + 1, m) });
        assert!(h.iter().all(|(_, v)| *v < st.dike_crest_m.unwrap()), "{} over the dike", st.code);
        assert!(h.iter().all(|(_, v)| *v > st.level_datum_m.unwrap()), "{} dry", st.code);
        if peak > first + 0.5 {
            rose += 1;
            assert!(h.last().unwrap().1 < peak, "{} falls again", st.code);
        }
        let _ = peak_at;
    }
    assert!(rose >= 3, "only {rose} level stations rose");
    let crossed = n.sections.iter().filter(|sec| {
        let h = s.values_of(&sec.level_station, Element::Level);
        let max = h.iter().map(|(_, v)| *v).fold(f64::MIN, f64::max);
        zhili_flood::indicator::evaluate_level(&sec.indicators, max, None).is_some()
    });
    assert!(crossed.count() >= 1, "some section reaches a level indicator");
    assert!(!s.track().is_empty());
}

#[test]
fn the_storm_is_deterministic_from_its_seed() {
    let again = Storm::new(boshan(), &StormConfig::new(start())).unwrap();
    assert!(again.values().eq(storm().values()));
    let other = Storm::new(boshan(), &StormConfig { seed: 99, ..StormConfig::new(start()) }).unwrap();
    assert!(!other.values().eq(storm().values()));
    // Start times are rounded down to 5 minutes.
    let odd = Storm::new(boshan(), &StormConfig::new(start() + Duration::seconds(7 * 60 + 13))).unwrap();
    assert_eq!(odd.start(), start() + Duration::minutes(5));
    assert_eq!(
        Storm::new(boshan(), &StormConfig { hours: 0, ..StormConfig::new(start()) }).unwrap_err(),
        storm::StormError::Hours(0)
    );
    assert_eq!(
        Storm::new(boshan(), &StormConfig { peak_mm_per_h: Some(f64::NAN), ..StormConfig::new(start()) })
            .unwrap_err()
            .to_string(),
        "peak_mm_per_h = NaN: the peak is 1–200 mm/h"
    );
}

#[test]
fn the_storm_round_trips_through_csv() {
    let s = storm();
    let mut bytes = Vec::new();
    let rows = storm::write_csv(s.values(), &mut bytes).unwrap();
    assert_eq!(rows as usize, s.len());
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("station,time,element,value\n"), "{}", &text[..60]);
    let second = text.lines().nth(1).unwrap();
    assert!(second.starts_with("0037030401,2025-07-18T00:05:00Z,rain_5min,"), "{second}");
    let back = storm::read_csv(bytes.as_slice()).unwrap();
    assert_eq!(back.len(), s.len());
    for (a, b) in back.iter().zip(s.values()) {
        assert_eq!((&a.station, a.time, a.element), (&b.station, b.time, b.element));
        assert!((a.value - b.value).abs() < 1e-9, "{a:?} vs {b:?}");
    }
}

#[test]
fn a_bad_storm_csv_is_named_by_line_and_column() {
    let read = |t: &str| storm::read_csv(t.as_bytes()).unwrap_err();
    let head = "station,time,element,value\n";
    let e = read(&format!("{head}0037030401,2025-07-18T00:05:00Z,rain_5min,1.5\nA-1,2025-07-18T00:05:00Z,level,2\n"));
    assert_eq!((e.line, e.column, e.value.as_str()), (3, "station", "A-1"));
    let e = read(&format!("{head}S1,yesterday,level,2\n"));
    assert_eq!((e.line, e.column), (2, "time"));
    let e = read(&format!("{head}S1,2025-07-18T00:05:00Z,snow,2\n"));
    assert_eq!((e.line, e.column, e.value.as_str()), (2, "element", "snow"));
    let e = read(&format!("{head}S1,2025-07-18T00:05:00Z,level,inf\n"));
    assert_eq!((e.line, e.column), (2, "value"));
    let e = read(&format!("{head}S1,2025-07-18T00:05:00Z,level\n"));
    assert_eq!((e.line, e.column), (2, "row"));
    let e = read("stcd,tm,drp\n");
    assert_eq!((e.line, e.column), (1, "row"));
    assert_eq!(read("").line, 1);
    // A BOM and upper-case header are fine.
    assert_eq!(storm::read_csv("\u{feff}STATION,Time,element,value\n".as_bytes()).unwrap(), vec![]);
}

#[test]
fn element_names_read_back() {
    for e in [
        Element::RainIncrement { interval_minutes: 5 },
        Element::RainIncrement { interval_minutes: 60 },
        Element::RainCounter,
        Element::Level,
        Element::Discharge,
        Element::Voltage,
        Element::SoilMoisture { depth_cm: 20 },
        Element::Status,
    ] {
        assert_eq!(Element::from_name(&e.name()), Some(e));
    }
    for bad in ["rain_min", "rain_0min", "rain_+5min", "soil_moisture_", "Level", ""] {
        assert_eq!(Element::from_name(bad), None, "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// The simulator
// ---------------------------------------------------------------------------------------------

fn station_values(s: &Storm, code: &StationCode) -> Vec<(DateTime<Utc>, Element, f64)> {
    s.values().filter(|v| &v.station == code).map(|v| (v.time, v.element, v.value)).collect()
}

fn config(target: std::net::SocketAddr) -> SimConfig {
    SimConfig::new(target, 60.0)
}

#[test]
fn the_plan_reports_the_storm_hour_by_hour_with_add_reports_and_timed_levels() {
    let (n, s) = (boshan(), storm());
    let cfg = config("127.0.0.1:9".parse().unwrap());
    let stations = SimStation::of_network(n);
    assert_eq!(stations.len(), 48);
    // The rain station with most rain.
    let wettest = stations
        .iter()
        .filter(|st| st.rain)
        .max_by(|a, b| {
            let sum = |st: &SimStation| station_values(s, &st.code).iter().map(|v| v.2).sum::<f64>();
            sum(a).total_cmp(&sum(b))
        })
        .unwrap();
    let values = station_values(s, &wettest.code);
    let plan = simulator::plan(wettest, &values, &cfg);
    let hourly: Vec<_> = plan.iter().filter(|p| p.function() == FunctionCode::Hourly).collect();
    assert_eq!(hourly.len(), 8, "one 34H per hour");
    let mut counter = (wettest.counter_start_mm * 10.0).round() as i64;
    for p in &hourly {
        let Content::Hourly { drp, pt_tenths } = p.content else { unreachable!() };
        for (i, tenths) in drp.iter().enumerate() {
            let at = p.observed - Duration::minutes(55 - 5 * i as i64);
            let v = values.iter().find(|(t, _, _)| *t == at).unwrap().2;
            assert_eq!(*tenths, Some((v * 10.0).round() as u8), "{at}");
            counter += (v * 10.0).round() as i64;
        }
        assert_eq!(pt_tenths, counter, "PT at {}", p.observed);
        assert!(p.due > p.observed && p.due < p.observed + Duration::minutes(1));
    }
    let added: Vec<_> = plan.iter().filter(|p| p.function() == FunctionCode::Added).collect();
    let heavy = values.iter().filter(|v| v.2 >= cfg.add_threshold_mm).count();
    assert_eq!(added.len(), heavy);
    assert!(heavy > 0, "the wettest station sees heavy rain");
    assert!(plan.windows(2).all(|w| w[0].due <= w[1].due));
    // A level station: a 32H every 5 minutes with its level.
    let level = stations.iter().find(|st| st.level).unwrap();
    let plan = simulator::plan(level, &station_values(s, &level.code), &cfg);
    assert_eq!(plan.len(), 96);
    assert!(plan.iter().all(|p| p.function() == FunctionCode::Timed));
    // The frames encode and decode to what was planned.
    let frame = simulator::report_frame(level, &plan[10], 77, plan[10].due, cfg.utc_offset).unwrap();
    let bytes = frame.encode().unwrap();
    let mut d = Decoder::new();
    d.feed(&bytes);
    let got = d.decode().unwrap().unwrap();
    let Ok(Body::Report(r)) = got.frame.body() else { panic!("a report") };
    assert_eq!(r.serial, 77);
    // 00:55 UTC is 08:55 at the stations.
    assert_eq!(r.observed, Time::new(25, 7, 18, 8, 55, 0));
    let Content::Timed { z_mm } = plan[10].content else { unreachable!() };
    assert_eq!(r.element(Identifier::Z).unwrap().value().unwrap().unwrap().mantissa, z_mm);
}

#[test]
fn a_bad_simulator_setting_is_refused_before_connecting() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut cfg = config("127.0.0.1:9".parse().unwrap());
    cfg.speed = 0.0;
    let e = rt.block_on(simulator::run(cfg, &[], Vec::new())).unwrap_err();
    assert!(matches!(e, simulator::SimError::Config { field: "speed", .. }), "{e}");
    for (speed, ok) in [(f64::INFINITY, false), (1e8, false), (0.001, true), (1e7, true)] {
        let mut cfg = config("127.0.0.1:9".parse().unwrap());
        cfg.speed = speed;
        let r = rt.block_on(simulator::run(cfg, &[], Vec::new()));
        assert_eq!(r.is_ok(), ok, "speed {speed}: {r:?}");
    }
    let mut cfg = config("127.0.0.1:9".parse().unwrap());
    cfg.keepalive = StdDuration::from_secs(256);
    assert!(rt.block_on(simulator::run(cfg, &[], Vec::new())).is_err(), "keep-alive over 255 s");
    // Times at the ends of time plan nothing rather than panic.
    let st = SimStation::of_network(boshan()).remove(0);
    let ends = [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC]
        .map(|t| (t, Element::RainIncrement { interval_minutes: 5 }, 9.0));
    let planned = simulator::plan(&st, &ends, &config("127.0.0.1:9".parse().unwrap()));
    assert!(planned.iter().all(|p| p.observed == DateTime::<Utc>::MIN_UTC), "{planned:?}");
    assert!(matches!(
        Storm::new(boshan(), &StormConfig::new(DateTime::<Utc>::MAX_UTC)),
        Err(storm::StormError::Start(_))
    ));
    // A time SL 651 cannot carry.
    let st = SimStation::of_network(boshan()).remove(0);
    let late = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
    let v = vec![StormValue {
        station: st.code.clone(),
        time: late,
        element: Element::RainIncrement { interval_minutes: 5 },
        value: 1.0,
    }];
    let e = rt.block_on(simulator::run(config("127.0.0.1:9".parse().unwrap()), &[st], v)).unwrap_err();
    assert!(matches!(e, simulator::SimError::Time { .. }), "{e}");
}

/// One frame the test centre received.
#[derive(Debug, Clone)]
struct Got {
    station: StationAddress,
    function: FunctionCode,
    serial: Option<u16>,
    encoding: Encoding,
    raw: Vec<u8>,
    confirmed: bool,
}

#[derive(Default)]
struct CentreLog {
    frames: Vec<Got>,
    decode_errors: Vec<String>,
    body_errors: Vec<String>,
}

/// A small SL 651 centre: decodes every connection's stream with the codec's decoder and
/// confirms reports, except the first copy of each station's first report and every report
/// of the `deaf` station.
async fn centre(listener: tokio::net::TcpListener, deaf: StationAddress, log: Arc<Mutex<CentreLog>>) {
    let dropped = Arc::new(Mutex::new(HashSet::new()));
    loop {
        let Ok((mut socket, _)) = listener.accept().await else { return };
        let (log, dropped) = (log.clone(), dropped.clone());
        tokio::spawn(async move {
            let mut decoder = Decoder::new();
            let mut buf = vec![0u8; 2048];
            loop {
                let n = match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let mut rest = &buf[..n];
                while !rest.is_empty() {
                    let took = decoder.feed(rest);
                    rest = &rest[took..];
                    while let Some(item) = decoder.decode() {
                        let received = match item {
                            Ok(r) => r,
                            Err(e) => {
                                log.lock().unwrap().decode_errors.push(e.to_string());
                                continue;
                            }
                        };
                        let f = &received.frame;
                        let mut confirm = None;
                        match f.body() {
                            Ok(Body::Report(r)) => {
                                if let Some(e) = r.elements().find_map(Result::err) {
                                    log.lock().unwrap().body_errors.push(e.to_string());
                                }
                                let first = dropped.lock().unwrap().insert(f.station);
                                if f.station != deaf && !first {
                                    confirm = f.confirm(Time::new(25, 7, 18, 9, 0, 0).unwrap(), EndChar::Eot);
                                }
                            }
                            Ok(Body::KeepAlive { .. }) => {}
                            Ok(other) => log.lock().unwrap().body_errors.push(format!("unexpected {other:?}")),
                            Err(e) => log.lock().unwrap().body_errors.push(e.to_string()),
                        }
                        log.lock().unwrap().frames.push(Got {
                            station: f.station,
                            function: f.function,
                            serial: f.serial(),
                            encoding: f.encoding,
                            raw: received.raw.clone(),
                            confirmed: confirm.is_some(),
                        });
                        if let Some(c) = confirm {
                            let _ = socket.write_all(&c.encode().unwrap()).await;
                        }
                    }
                    if took == 0 {
                        break;
                    }
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_speaks_sl651_over_tcp_and_resends_without_a_confirm() {
    let n = boshan();
    let s = Storm::new(n, &StormConfig { hours: 3, ..StormConfig::new(start()) }).unwrap();
    let all = SimStation::of_network(n);
    let mut stations: Vec<SimStation> = all.iter().filter(|x| x.rain).take(3).cloned().collect();
    stations.extend(all.iter().filter(|x| x.level).take(2).cloned());
    stations[1].encoding = Encoding::Ascii;
    let deaf = stations[2].address;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(CentreLog::default()));
    let server = tokio::spawn(centre(listener, deaf, log.clone()));
    let mut cfg = SimConfig::new(addr, 3.0 * 3600.0 / 2.0); // three hours in two seconds
    cfg.keepalive = StdDuration::from_millis(60);
    cfg.confirm_timeout = StdDuration::from_millis(80);
    cfg.reconnect_delay = StdDuration::from_millis(20);
    let summary = simulator::run(cfg, &stations, s.values()).await.unwrap();
    server.abort();
    let log = log.lock().unwrap();
    assert!(log.decode_errors.is_empty(), "{:?}", log.decode_errors);
    assert!(log.body_errors.is_empty(), "{:?}", log.body_errors);

    for (st, sum) in stations.iter().zip(&summary.stations) {
        assert_eq!(sum.code.as_ref(), Some(&st.code));
        assert_eq!(sum.error, None, "{}", st.code);
        assert!(sum.reports > 0, "{} has reports", st.code);
        let frames: Vec<&Got> = log.frames.iter().filter(|g| g.station == st.address).collect();
        let reports: Vec<&&Got> = frames.iter().filter(|g| g.function != FunctionCode::KeepAlive).collect();
        assert_eq!(reports.len() as u64, sum.sent, "{}: every report sent arrived", st.code);
        assert!(frames.iter().all(|g| g.encoding == st.encoding));
        // HEX frames carry a right CRC-16/MODBUS, high byte first.
        for g in frames.iter().filter(|g| g.encoding == Encoding::Hex) {
            let (body, crc) = g.raw.split_at(g.raw.len() - 2);
            assert_eq!(zhili_sl651::crc16(body).to_be_bytes(), crc);
        }
        // Copies of one serial are the same bytes (a resend reuses serial and send time).
        let mut by_serial: BTreeMap<u16, Vec<&Got>> = BTreeMap::new();
        for g in &reports {
            by_serial.entry(g.serial.unwrap()).or_default().push(g);
        }
        assert!(by_serial.values().all(|c| c.iter().all(|g| g.raw == c[0].raw)));
        if st.address == deaf {
            // Never confirmed: each report three times, then given up.
            assert!(by_serial.values().all(|c| c.len() == 3), "{by_serial:?}");
            assert_eq!(sum.unconfirmed, sum.reports);
            assert_eq!(sum.resends, 2 * sum.reports);
            assert_eq!(sum.confirmed, 0);
        } else {
            // The first report's first copy went unconfirmed: it came again.
            let first = by_serial.values().next().unwrap();
            assert_eq!(first.len(), 2, "{}: resent once", st.code);
            assert!(!first[0].confirmed && first[1].confirmed);
            assert!(by_serial.values().skip(1).all(|c| c.len() == 1));
            assert_eq!((sum.confirmed, sum.unconfirmed, sum.resends), (sum.reports, 0, 1), "{}", st.code);
        }
        let expected = if st.rain { FunctionCode::Hourly } else { FunctionCode::Timed };
        assert!(reports.iter().any(|g| g.function == expected), "{}", st.code);
    }
    let totals = summary.totals();
    assert!(totals.keepalives > 0, "keep-alives while idle");
    let keepalives = log.frames.iter().filter(|g| g.function == FunctionCode::KeepAlive).count() as u64;
    assert_eq!(keepalives, totals.keepalives);
    // The decoded DRP of an hourly report is the storm's rain.
    let rain = &stations[0];
    // 02:00 UTC is 10:00 at the stations.
    let report_at = |g: &Got| {
        let mut d = Decoder::new();
        d.feed(&g.raw);
        d.decode().and_then(Result::ok).map(|r| r.frame)
    };
    let frame = log
        .frames
        .iter()
        .filter(|g| g.station == rain.address && g.function == FunctionCode::Hourly)
        .filter_map(report_at)
        .find(|f| matches!(f.body(), Ok(Body::Report(r)) if r.observed == Time::new(25, 7, 18, 10, 0, 0)))
        .expect("the 02:00 hourly report");
    let Ok(Body::Report(r)) = frame.body() else { panic!() };
    let drp: Vec<Option<i64>> = r.element(Identifier::DRP).unwrap().series().map(|v| v.map(|d| d.mantissa)).collect();
    let expected: Vec<Option<i64>> = (0..12)
        .map(|i| {
            let at = start() + Duration::hours(2) - Duration::minutes(55 - 5 * i);
            s.values_of(&rain.code, Element::RainIncrement { interval_minutes: 5 })
                .iter()
                .find(|(t, _)| *t == at)
                .map(|(_, v)| (v * 10.0).round() as i64)
        })
        .collect();
    assert_eq!(drp, expected);
}

#[tokio::test]
async fn a_station_that_cannot_connect_says_so() {
    // A port nobody listens on: bind, take the address, close.
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let st = SimStation::of_network(boshan()).remove(0);
    let mut cfg = SimConfig::new(addr, 1e6);
    cfg.connect_attempts = 2;
    cfg.reconnect_delay = StdDuration::from_millis(10);
    let values: Vec<StormValue> = storm().values().filter(|v| v.station == st.code).take(12).collect();
    let summary = simulator::run(cfg, &[st], values).await.unwrap();
    let e = summary.stations[0].error.as_deref().unwrap_or_default();
    assert!(e.contains("could not connect") && e.contains("2 attempts"), "{e}");
    assert_eq!(summary.stations[0].sent, 0);
}

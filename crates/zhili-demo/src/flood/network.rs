//! The Boshan station network (博山区山洪灾害监测站网) over the demo district, deterministic
//! from a seed.
//!
//! What it holds, at the Boshan case's counts:
//! - **8 small watersheds** (小流域): the county's lattice split into 8 cells (the same warped
//!   lattice the divisions sit on, so each boundary lies inside the district and the 8 tile
//!   it), each named after a river of Boshan; areas are geodesic.
//! - **449 stations**: 25 automatic rain (自动雨量站) and 23 automatic level (自动水位站) stations
//!   that report in SL 651 to the demo centre ([`CENTRE`]) with 5-byte BCD addresses
//!   `00 37 03 04 nn` (nn = 01–48) and a password each; 144 simple rain and 219 simple level
//!   stations (简易雨量站/简易水位站) that report as JSON through the alarm gateway; 27 video
//!   stations (视频站, not connected); 11 shared stations of the weather bureau (rain) and the
//!   hydrology centre (rain and level), JSON. Every station stands in a village: a random
//!   point inside that village's boundary; its `division` is that village. Automatic and
//!   video stations are spread evenly over the villages, simple rain gauges are in 144 of
//!   them, simple level gauges in every village (5 have two).
//! - **214 villages at risk** (危险区村落): one per village division of the district (the
//!   district has exactly 214; with other divisions there is one per village division
//!   given). Each has a danger-zone polygon (10 vertices, 120–300 m across, inside the
//!   village), households and population, representative stations (the nearest automatic
//!   rain station first, then its own simple rain gauge if it has one, else the second
//!   nearest automatic rain station), responsible persons (a county leader per township, the
//!   township's head and deputy, the village's secretary and observer, one or two group
//!   leaders; phones 139xxxxxxxx, SMS and voice), warning facilities (broadcast, sirens,
//!   gongs, whistles), one shelter outside the zone and one route to it.
//! - **23 control sections** (控制断面), one on each automatic level station, protecting the
//!   villages whose danger zones lie within 3 km of it (at most 4, at least the nearest), with
//!   level indicators from the station's gauge datum and dike crest.
//! - **Rainfall indicators** for every village: by default the two-level scheme with the five
//!   standard windows around flood.md's published village (1 h 40/35/30 mm to prepare for
//!   dry/normal/wet soil, 55/50/45 mm to evacuate, and so on up to 24 h), scaled per village by
//!   a factor 0.85–1.15; with [`NetworkOptions::four_colour`] the four-colour scheme around
//!   flood.md's example (soil-independent, as published), scaled the same way.
//!
//! [`network`] builds it from the district's divisions and checks every record with its own
//! `validate()` and the cross-record checks ([`Network::validate`]); [`seed`] writes it through
//! the [`FloodModelStore`] port in reference order.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use geo::{BoundingRect, Contains, GeodesicArea, LineString, MultiPolygon, Point, Polygon};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zhili_core::audit::Actor;
use zhili_core::codes::{DivisionCode, DivisionLevel};
use zhili_core::model::Division;
use zhili_core::store::StoreError;
use zhili_flood::indicator::{LevelIndicators, RainIndicators, RainThreshold};
use zhili_flood::model::{
    Area, ControlSection, EvacuationRoute, FacilityKind, FieldProblem, Measures, Phone, Position, Protocol,
    ResponsiblePerson, SectionCode, Shelter, Station, StationKind, StationStatus, Village, WarningFacility, Watershed,
    WatershedCode,
};
use zhili_flood::store::FloodModelStore;
use zhili_flood::vocab::{Channel, Scheme, SoilState, StationCode, Tier, Window};

use crate::grid::Cell;

/// Small watersheds (小流域).
pub const WATERSHEDS: usize = 8;
/// Automatic rain stations (自动雨量站).
pub const AUTOMATIC_RAIN: usize = 25;
/// Automatic water-level stations (自动水位站).
pub const AUTOMATIC_LEVEL: usize = 23;
/// Simple rain stations (简易雨量站).
pub const SIMPLE_RAIN: usize = 144;
/// Simple water-level stations (简易水位站).
pub const SIMPLE_LEVEL: usize = 219;
/// Video stations (视频站).
pub const VIDEO: usize = 27;
/// Shared stations of other agencies (共享站).
pub const SHARED: usize = 11;
/// Of the shared stations, those of the hydrology centre (rain and level); the rest are the
/// weather bureau's (rain).
pub const SHARED_HYDROLOGY: usize = 3;
/// The demo centre's SL 651 address (中心站地址).
pub const CENTRE: u8 = 1;
/// The first four bytes of every demo SL 651 station address: `00` (a hydrological station)
/// then 370304 in BCD; the last byte is the station's number in BCD (01–48).
pub const ADDRESS_PREFIX: [u8; 4] = [0x00, 0x37, 0x03, 0x04];

/// The agency that owns the demo's own stations.
pub const WATER_BUREAU: &str = "博山区水利局";
/// Owner of the shared rain stations.
pub const WEATHER_BUREAU: &str = "博山区气象局";
/// Owner of the shared hydrological stations.
pub const HYDROLOGY_CENTRE: &str = "淄博市水文中心";

/// Rivers of Boshan, one per small watershed.
const RIVERS: [&str; WATERSHEDS] = ["孝妇河", "岳阳河", "白杨河", "青杨河", "淄河", "石马河", "池上河", "源泉河"];

const SURNAMES: [&str; 30] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧",
];
const GIVEN: [&str; 40] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞",
    "平", "刚", "桂", "英", "华", "建", "国", "志", "红", "文", "波", "海", "燕", "鹏", "辉", "玲", "斌", "宇", "浩",
    "凯", "东",
];
const SHELTER_PLACES: [&str; 5] = ["村委会", "小学", "文化广场", "卫生室", "党群服务中心"];

/// Which indicators the network gets and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkOptions {
    /// Two levels (default) or four colours.
    pub scheme: Scheme,
    /// The seed (default [`crate::SEED`]).
    pub seed: u64,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions { scheme: Scheme::TwoLevel, seed: crate::SEED }
    }
}

impl NetworkOptions {
    /// The four-colour scheme (SL 758-2018) instead of the two levels, same seed.
    pub fn four_colour() -> Self {
        NetworkOptions { scheme: Scheme::FourColour, ..Self::default() }
    }
}

/// The whole network, ready for [`seed`].
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// The scheme of every indicator.
    pub scheme: Scheme,
    /// The 8 small watersheds.
    pub watersheds: Vec<Watershed>,
    /// Every station: automatic rain, automatic level, simple rain, simple level, video,
    /// shared, in that order.
    pub stations: Vec<Station>,
    /// The villages at risk, in the district's order.
    pub villages: Vec<Village>,
    /// One control section per automatic level station.
    pub sections: Vec<ControlSection>,
    /// One set of rainfall indicators per village at risk, in the villages' order.
    pub rain_indicators: Vec<RainIndicators>,
}

/// One problem of a record of the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{record}: {problem}")]
pub struct NetworkProblem {
    /// Which record: `station 0037030401`, `village 370304100201`, `section KZDM01` …
    pub record: String,
    /// The field, the value and the rule.
    pub problem: FieldProblem,
}

/// Why the network could not be built from the divisions given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetworkError {
    /// No village division.
    #[error("the divisions have no village (12-digit code) to place the network in")]
    NoVillages,
    /// A village has no boundary.
    #[error("village {code} has no boundary")]
    NoBoundary {
        /// The village.
        code: String,
    },
    /// A boundary is not a valid area.
    #[error("division {code}: boundary is not a valid area: {message}")]
    BadBoundary {
        /// The division.
        code: String,
        /// What is wrong.
        message: String,
    },
    /// Nothing could be placed in a village (it is too small).
    #[error("village {code}: found no room for {what} after {tries} tries")]
    NoRoom {
        /// The village.
        code: String,
        /// What was being placed.
        what: &'static str,
        /// Attempts made.
        tries: usize,
    },
    /// The records built fail their checks (a bug in the generator).
    #[error("{} problems, the first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<NetworkProblem>),
}

/// Kilometres per degree of latitude, and of longitude at the district's latitude.
const KM_PER_DEG_LAT: f64 = 110.574;
fn km_per_deg_lon() -> f64 {
    111.320 * (36.4f64).to_radians().cos()
}

/// Distance in km between two positions (flat earth: fine over a district).
pub fn distance_km(a: Position, b: Position) -> f64 {
    let dx = (a.lon - b.lon) * km_per_deg_lon();
    let dy = (a.lat - b.lat) * KM_PER_DEG_LAT;
    (dx * dx + dy * dy).sqrt()
}

/// A village division and its geometry, as the generator uses it.
struct Place {
    code: DivisionCode,
    name: String,
    shape: MultiPolygon<f64>,
}

impl Place {
    /// The name without 村/社区: 上庄村 → 上庄.
    fn stem(&self) -> &str {
        self.name.strip_suffix("社区").or_else(|| self.name.strip_suffix('村')).unwrap_or(&self.name)
    }

    fn community(&self) -> bool {
        self.name.ends_with("社区")
    }

    /// A random point inside, at least `margin_m` metres from the boundary in the four axis
    /// directions.
    fn point(&self, rng: &mut ChaCha8Rng, margin_m: f64, what: &'static str) -> Result<Position, NetworkError> {
        const TRIES: usize = 500;
        let rect = self.shape.bounding_rect().ok_or_else(|| self.no_room(what, 0))?;
        let (mx, my) = (margin_m / 1000.0 / km_per_deg_lon(), margin_m / 1000.0 / KM_PER_DEG_LAT);
        for _ in 0..TRIES {
            let lon = rng.random_range(rect.min().x..=rect.max().x);
            let lat = rng.random_range(rect.min().y..=rect.max().y);
            let inside = [(0.0, 0.0), (mx, 0.0), (-mx, 0.0), (0.0, my), (0.0, -my)]
                .iter()
                .all(|(dx, dy)| self.shape.contains(&Point::new(lon + dx, lat + dy)));
            if inside {
                return Ok(Position { lon: round6(lon), lat: round6(lat) });
            }
        }
        Err(self.no_room(what, TRIES))
    }

    fn no_room(&self, what: &'static str, tries: usize) -> NetworkError {
        NetworkError::NoRoom { code: self.code.to_string(), what, tries }
    }
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn parse_shape(code: &DivisionCode, text: &str) -> Result<MultiPolygon<f64>, NetworkError> {
    zhili_geo::geometry::parse_area_text(text)
        .map_err(|e| NetworkError::BadBoundary { code: code.to_string(), message: e.to_string() })
}

/// A random Chinese name.
fn person_name(rng: &mut ChaCha8Rng) -> String {
    let mut n = SURNAMES.choose(rng).copied().unwrap_or("王").to_string();
    for _ in 0..rng.random_range(1..=2) {
        n.push_str(GIVEN.choose(rng).copied().unwrap_or("伟"));
    }
    n
}

/// Unique mobile numbers 139xxxxxxxx, rising.
struct Phones(u64);

impl Phones {
    fn next(&mut self, rng: &mut ChaCha8Rng) -> Phone {
        self.0 += rng.random_range(1..3_000);
        Phone::parse(&self.0.to_string()).unwrap_or_else(|_| Phone::parse("13900000000").expect("a mobile number"))
    }
}

/// The SL 651 address of automatic station number `n` (1–99; taken modulo 100).
pub fn sl651_address(n: u8) -> [u8; 5] {
    let [a, b, c, d] = ADDRESS_PREFIX;
    [a, b, c, d, zhili_sl651::to_bcd(n % 100)]
}

/// A danger-zone polygon around `centre` with radius about `radius_m`, inside `place`.
fn danger_zone(place: &Place, rng: &mut ChaCha8Rng) -> Result<(Position, f64, Area, Polygon<f64>), NetworkError> {
    const TRIES: usize = 60;
    for _ in 0..TRIES {
        let radius_m = rng.random_range(120.0..300.0);
        let centre = place.point(rng, radius_m * 1.2, "a danger zone")?;
        let mut ring = Vec::with_capacity(11);
        for i in 0..10 {
            let angle = (f64::from(i) + rng.random_range(-0.3..0.3)) * std::f64::consts::TAU / 10.0;
            let r = radius_m * rng.random_range(0.65..1.0) / 1000.0;
            ring.push((
                round6(centre.lon + r * angle.cos() / km_per_deg_lon()),
                round6(centre.lat + r * angle.sin() / KM_PER_DEG_LAT),
            ));
        }
        ring.push(ring[0]);
        let polygon = Polygon::new(LineString::from(ring.clone()), vec![]);
        if !place.shape.contains(&polygon) {
            continue;
        }
        let coords: Vec<String> = ring.iter().map(|(x, y)| format!("[{x:.6},{y:.6}]")).collect();
        let text = format!("{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}", coords.join(","));
        let Ok(area) = Area::parse(&text) else { continue };
        return Ok((centre, radius_m, area, polygon));
    }
    Err(place.no_room("a danger zone", TRIES))
}

/// Two-level thresholds (prepare, immediate) per window and soil state, dry/normal/wet, mm:
/// flood.md's published village for 1/3/6 h (read as the 准备转移 values), ours above them.
const TWO_LEVEL: [(Window, [(f64, f64); 3]); 5] = [
    (Window::H1, [(40.0, 55.0), (35.0, 50.0), (30.0, 45.0)]),
    (Window::H3, [(65.0, 85.0), (60.0, 80.0), (50.0, 70.0)]),
    (Window::H6, [(95.0, 120.0), (90.0, 115.0), (80.0, 105.0)]),
    (Window::H12, [(120.0, 150.0), (110.0, 140.0), (100.0, 130.0)]),
    (Window::H24, [(150.0, 190.0), (140.0, 180.0), (125.0, 165.0)]),
];

/// Four-colour thresholds (blue, yellow, orange, red) per window, soil-independent: flood.md's
/// example for 1/3/6/24 h, 12 h between.
const FOUR_COLOUR: [(Window, [f64; 4]); 5] = [
    (Window::H1, [35.0, 45.0, 60.0, 80.0]),
    (Window::H3, [55.0, 75.0, 100.0, 120.0]),
    (Window::H6, [70.0, 95.0, 120.0, 150.0]),
    (Window::H12, [85.0, 112.0, 140.0, 175.0]),
    (Window::H24, [100.0, 130.0, 160.0, 200.0]),
];

/// The rainfall indicators of a village: the scheme's table scaled by `factor`, to whole mm.
pub fn rain_indicators(
    village: &DivisionCode,
    scheme: Scheme,
    factor: f64,
) -> Result<RainIndicators, Vec<zhili_flood::indicator::IndicatorProblem>> {
    let scale = |mm: f64| (mm * factor).round();
    let mut rows = Vec::new();
    match scheme {
        Scheme::TwoLevel => {
            for (window, soils) in TWO_LEVEL {
                for (soil, (p, i)) in SoilState::ALL.into_iter().zip(soils) {
                    rows.push(RainThreshold { window, soil, mm: vec![scale(p), scale(i)] });
                }
            }
        }
        Scheme::FourColour => {
            for (window, mm) in FOUR_COLOUR {
                for soil in SoilState::ALL {
                    rows.push(RainThreshold { window, soil, mm: mm.iter().map(|v| scale(*v)).collect() });
                }
            }
        }
    }
    RainIndicators::new(village.clone(), scheme, rows)
}

/// Level indicators of a section from its gauge: `datum` the gauge zero and `crest` the dike
/// crest (m): two levels at 55 % and 75 % of the bank height, four colours at 45/60/75/90 %;
/// rates of rise 0.5/1.0 m/h (two levels) or 0.3/0.5/0.8/1.2 m/h.
pub fn level_indicators(scheme: Scheme, datum: f64, crest: f64) -> Result<LevelIndicators, Vec<FieldProblem>> {
    let h = crest - datum;
    let at = |share: f64| ((datum + share * h) * 100.0).round() / 100.0;
    match scheme {
        Scheme::TwoLevel => LevelIndicators::new(scheme, vec![at(0.55), at(0.75)], vec![Some(0.5), Some(1.0)]),
        Scheme::FourColour => LevelIndicators::new(
            scheme,
            vec![at(0.45), at(0.60), at(0.75), at(0.90)],
            vec![Some(0.3), Some(0.5), Some(0.8), Some(1.2)],
        ),
    }
}

/// Where each kind of station goes: `count` village indices, spread evenly with a random
/// offset inside each stride (repeating villages when `count` exceeds them).
fn spread(rng: &mut ChaCha8Rng, villages: usize, count: usize) -> Vec<usize> {
    (0..count)
        .map(|i| {
            let from = i * villages / count;
            let to = ((i + 1) * villages / count).max(from + 1);
            rng.random_range(from..to) % villages
        })
        .collect()
}

/// Build the network from the district's divisions (the county and its villages with their
/// boundaries, as [`crate::district`] makes them).
pub fn network(divisions: &[Division], options: &NetworkOptions) -> Result<Network, NetworkError> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x00F1_00D0);
    let names: HashMap<&DivisionCode, &str> = divisions.iter().map(|d| (&d.code, d.name.as_str())).collect();
    let mut places = Vec::new();
    for d in divisions.iter().filter(|d| d.code.level() == DivisionLevel::Village) {
        let text = d.boundary.as_deref().ok_or_else(|| NetworkError::NoBoundary { code: d.code.to_string() })?;
        places.push(Place { code: d.code.clone(), name: d.name.clone(), shape: parse_shape(&d.code, text)? });
    }
    if places.is_empty() {
        return Err(NetworkError::NoVillages);
    }
    let n = places.len();

    // Watersheds: the county's lattice in 8 cells.
    let mut watersheds = Vec::new();
    let mut watershed_shapes = Vec::new();
    for (i, cell) in Cell::county().split(WATERSHEDS).into_iter().enumerate() {
        let shape = cell.area();
        let code = WatershedCode::parse(&format!("XLY37030400{}", i + 1)).map_err(|e| bad("watershed", e))?;
        let boundary = Area::parse(&cell.geojson()).map_err(|e| bad(code.as_str(), e))?;
        let area_km2 = (shape.geodesic_area_unsigned() / 1e6 * 100.0).round() / 100.0;
        watersheds.push(Watershed {
            code,
            name: format!("{}小流域", RIVERS[i]),
            parent: None,
            area_km2,
            boundary: Some(boundary),
        });
        watershed_shapes.push(shape);
    }
    let watershed_of = |p: Position| {
        watershed_shapes.iter().position(|s| s.contains(&Point::new(p.lon, p.lat))).map(|i| watersheds[i].code.clone())
    };

    // Stations.
    let mut stations = Vec::new();
    let installed = |rng: &mut ChaCha8Rng| {
        NaiveDate::from_ymd_opt(2013, 5, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new(rng.random_range(0..1200))))
    };
    let mut used_names = BTreeSet::new();
    let mut add = |rng: &mut ChaCha8Rng,
                   stations: &mut Vec<Station>,
                   vi: usize,
                   kind: StationKind,
                   code: String,
                   suffix: &str,
                   owner: &str,
                   measures: Measures,
                   protocol: Protocol,
                   interval: u32|
     -> Result<(), NetworkError> {
        let place = &places[vi];
        let position = place.point(rng, 30.0, "a station")?;
        let mut name = format!("{}{suffix}", place.stem());
        let mut k = 1;
        while !used_names.insert(name.clone()) {
            k += 1;
            name = format!("{}{suffix}{k}", place.stem());
        }
        let (datum, crest) = if measures.level {
            let datum = (rng.random_range(180.0..480.0f64) * 10.0).round() / 10.0;
            (Some(datum), Some(datum + (rng.random_range(4.0..6.0f64) * 10.0).round() / 10.0))
        } else {
            (None, None)
        };
        stations.push(Station {
            code: StationCode::parse(&code).map_err(|e| bad(&code, e))?,
            name,
            kind,
            measures,
            position,
            watershed: watershed_of(position),
            owner: owner.into(),
            division: place.code.clone(),
            protocol,
            report_interval_minutes: interval,
            installed: installed(rng),
            status: StationStatus::InService,
            level_datum_m: datum,
            dike_crest_m: crest,
        });
        Ok(())
    };
    let rain = Measures { rain: true, level: false };
    let level = Measures { rain: false, level: true };
    let mut number = 0u8;
    for vi in spread(&mut rng, n, AUTOMATIC_RAIN) {
        number += 1;
        let address = sl651_address(number);
        let protocol = Protocol::Sl651 { centre: CENTRE, address, password: rng.random_range(1..=0xFFFF) };
        let code = StationCode::from_sl651_address(address).to_string();
        add(&mut rng, &mut stations, vi, StationKind::AutomaticRain, code, "雨量站", WATER_BUREAU, rain, protocol, 60)?;
    }
    for vi in spread(&mut rng, n, AUTOMATIC_LEVEL) {
        number += 1;
        let address = sl651_address(number);
        let protocol = Protocol::Sl651 { centre: CENTRE, address, password: rng.random_range(1..=0xFFFF) };
        let code = StationCode::from_sl651_address(address).to_string();
        add(
            &mut rng,
            &mut stations,
            vi,
            StationKind::AutomaticLevel,
            code,
            "水位站",
            WATER_BUREAU,
            level,
            protocol,
            5,
        )?;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let mut simple_rain_of = HashMap::new();
    let mut simple_rain_villages: Vec<usize> = order.iter().copied().cycle().take(SIMPLE_RAIN).collect();
    simple_rain_villages.sort_unstable();
    for (i, vi) in simple_rain_villages.into_iter().enumerate() {
        let code = format!("JYYL{:03}", i + 1);
        simple_rain_of.entry(vi).or_insert_with(|| code.clone());
        add(
            &mut rng,
            &mut stations,
            vi,
            StationKind::SimpleRain,
            code,
            "简易雨量站",
            WATER_BUREAU,
            rain,
            Protocol::Json,
            60,
        )?;
    }
    order.shuffle(&mut rng);
    let mut simple_level_villages: Vec<usize> = (0..n).cycle().take(SIMPLE_LEVEL.min(n)).collect();
    simple_level_villages.extend(order.iter().copied().cycle().take(SIMPLE_LEVEL.saturating_sub(n)));
    simple_level_villages.sort_unstable();
    for (i, vi) in simple_level_villages.into_iter().enumerate() {
        let code = format!("JYSW{:03}", i + 1);
        add(
            &mut rng,
            &mut stations,
            vi,
            StationKind::SimpleLevel,
            code,
            "简易水位站",
            WATER_BUREAU,
            level,
            Protocol::Json,
            60,
        )?;
    }
    for (i, vi) in spread(&mut rng, n, VIDEO).into_iter().enumerate() {
        let code = format!("SP{:03}", i + 1);
        let none = Measures::default();
        add(
            &mut rng,
            &mut stations,
            vi,
            StationKind::Video,
            code,
            "视频站",
            WATER_BUREAU,
            none,
            Protocol::NotConnected,
            60,
        )?;
    }
    for (i, vi) in spread(&mut rng, n, SHARED).into_iter().enumerate() {
        let (code, suffix, owner, measures) = if i < SHARED_HYDROLOGY {
            (format!("SWZ{:03}", i + 1), "水文站", HYDROLOGY_CENTRE, Measures { rain: true, level: true })
        } else {
            (format!("QXZ{:03}", i + 1 - SHARED_HYDROLOGY), "区域气象站", WEATHER_BUREAU, rain)
        };
        add(&mut rng, &mut stations, vi, StationKind::Shared, code, suffix, owner, measures, Protocol::Json, 60)?;
    }

    // Villages at risk.
    let automatic_rain: Vec<&Station> = stations.iter().filter(|s| s.kind == StationKind::AutomaticRain).collect();
    let mut phones = Phones(13_900_000_000);
    let mut township_persons: HashMap<DivisionCode, Vec<ResponsiblePerson>> = HashMap::new();
    let mut villages = Vec::new();
    let mut rain_sets = Vec::new();
    let mut zone_centres = Vec::new();
    for place in &places {
        let (centre, radius_m, danger_zone, zone) = danger_zone(place, &mut rng)?;
        zone_centres.push(centre);
        let mut nearest: Vec<&&Station> = automatic_rain.iter().collect();
        nearest.sort_by(|a, b| distance_km(a.position, centre).total_cmp(&distance_km(b.position, centre)));
        let mut reps: Vec<StationCode> = nearest.first().map(|s| s.code.clone()).into_iter().collect();
        let vi = villages.len();
        match simple_rain_of.get(&vi).and_then(|c| StationCode::parse(c).ok()) {
            Some(own) => reps.push(own),
            None => reps.extend(nearest.get(1).map(|s| s.code.clone())),
        }
        let households = rng.random_range(20..350u32);
        let population = (f64::from(households) * rng.random_range(2.4..3.4)).round() as u32;
        let township = place.code.parent().unwrap_or_else(|| place.code.clone());
        let township_name = names.get(&township).copied().unwrap_or("乡镇").to_string();
        let street = township_name.ends_with("街道");
        let mut persons = township_persons
            .entry(township.clone())
            .or_insert_with(|| {
                let sms = vec![Channel::Sms, Channel::Voice];
                let (head, deputy) = if street {
                    ("街道办事处主任", "街道分管副主任")
                } else {
                    ("镇长", "分管副镇长")
                };
                [
                    (Tier::County, format!("区级包保责任人（{township_name}）")),
                    (Tier::Township, format!("{township_name}{head}")),
                    (Tier::Township, format!("{township_name}{deputy}")),
                ]
                .into_iter()
                .map(|(tier, duty)| ResponsiblePerson {
                    name: person_name(&mut rng),
                    tier,
                    phone: phones.next(&mut rng),
                    duty,
                    channels: sms.clone(),
                    user_id: None,
                })
                .collect()
            })
            .clone();
        let secretary = if place.community() { "社区党委书记" } else { "村党支部书记" };
        let mut local = vec![(Tier::Village, secretary.to_string()), (Tier::Village, "监测预警员".to_string())];
        for g in 0..rng.random_range(1..=2) {
            local.push((Tier::Group, format!("第{}村民小组组长", ["一", "二"][g])));
        }
        for (tier, duty) in local {
            persons.push(ResponsiblePerson {
                name: person_name(&mut rng),
                tier,
                phone: phones.next(&mut rng),
                duty,
                channels: vec![Channel::Sms, Channel::Voice],
                user_id: None,
            });
        }
        let facilities = vec![
            WarningFacility {
                kind: FacilityKind::Broadcast,
                count: rng.random_range(1..=3),
                endpoint: Some(format!("GB{}", place.code)),
            },
            WarningFacility {
                kind: FacilityKind::Siren,
                count: rng.random_range(1..=2),
                endpoint: rng.random_bool(0.5).then(|| format!("BJ{}", place.code)),
            },
            WarningFacility { kind: FacilityKind::Gong, count: rng.random_range(2..=6), endpoint: None },
            WarningFacility { kind: FacilityKind::Whistle, count: rng.random_range(5..=20), endpoint: None },
        ];
        // The shelter: outside the zone, 1.5–6 radii from its centre.
        let mut shelter_at = None;
        for _ in 0..200 {
            let p = place.point(&mut rng, 20.0, "a shelter")?;
            let d = distance_km(p, centre) * 1000.0;
            if d > 1.5 * radius_m && d < 6.0 * radius_m.max(200.0) && !zone.contains(&Point::new(p.lon, p.lat)) {
                shelter_at = Some(p);
                break;
            }
        }
        let shelter_at = shelter_at.ok_or_else(|| place.no_room("a shelter", 200))?;
        let shelter_name =
            format!("{}{}避险点", place.stem(), SHELTER_PLACES.choose(&mut rng).copied().unwrap_or("村委会"));
        let dx = shelter_at.lon - centre.lon;
        let dy = shelter_at.lat - centre.lat;
        let bend =
            Position { lon: round6(centre.lon + dx * 0.5 - dy * 0.15), lat: round6(centre.lat + dy * 0.5 + dx * 0.15) };
        let direction = match (dx.abs() > dy.abs(), dx > 0.0, dy > 0.0) {
            (true, true, _) => "东",
            (true, false, _) => "西",
            (false, _, true) => "北",
            (false, _, false) => "南",
        };
        let route = EvacuationRoute {
            text: format!(
                "出危险区沿村路向{direction}约{:.0}米至{shelter_name}",
                distance_km(centre, shelter_at) * 1000.0
            ),
            line: vec![centre, bend, shelter_at],
        };
        let capacity = (population * 6 / 5).div_ceil(10) * 10;
        villages.push(Village {
            code: place.code.clone(),
            name: place.name.clone(),
            danger_zone,
            households,
            population,
            stations: reps,
            watershed: watershed_of(centre),
            persons,
            facilities,
            routes: vec![route],
            shelters: vec![Shelter { name: shelter_name, position: shelter_at, capacity }],
        });
        let factor = (rng.random_range(0.85..=1.15f64) * 100.0).round() / 100.0;
        rain_sets.push(rain_indicators(&place.code, options.scheme, factor).map_err(|p| {
            NetworkError::Invalid(
                p.into_iter()
                    .map(|p| NetworkProblem {
                        record: format!("rain indicators {}", place.code),
                        problem: FieldProblem::new("thresholds", factor, p.to_string()),
                    })
                    .collect(),
            )
        })?);
    }

    // Control sections.
    let mut sections = Vec::new();
    for (i, s) in stations.iter().filter(|s| s.kind == StationKind::AutomaticLevel).enumerate() {
        let (Some(datum), Some(crest)) = (s.level_datum_m, s.dike_crest_m) else { continue };
        let mut near: Vec<(f64, usize)> =
            zone_centres.iter().enumerate().map(|(vi, c)| (distance_km(*c, s.position), vi)).collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        let protected: Vec<DivisionCode> = near
            .iter()
            .enumerate()
            .take_while(|(k, (d, _))| *k == 0 || *d <= 3.0)
            .take(4)
            .map(|(_, (_, vi))| villages[*vi].code.clone())
            .collect();
        let code = format!("KZDM{:02}", i + 1);
        let indicators = level_indicators(options.scheme, datum, crest).map_err(|p| {
            NetworkError::Invalid(
                p.into_iter().map(|problem| NetworkProblem { record: format!("section {code}"), problem }).collect(),
            )
        })?;
        let river = s
            .watershed
            .as_ref()
            .and_then(|w| watersheds.iter().position(|x| &x.code == w))
            .map_or(RIVERS[0], |k| RIVERS[k]);
        sections.push(ControlSection {
            code: SectionCode::parse(&code).map_err(|e| bad(&code, e))?,
            name: format!("{}控制断面", s.name.trim_end_matches("水位站")),
            river: river.into(),
            level_station: s.code.clone(),
            indicators,
            dike_crest_m: Some(crest),
            villages: protected,
        });
    }

    let network =
        Network { scheme: options.scheme, watersheds, stations, villages, sections, rain_indicators: rain_sets };
    network.validate().map_err(NetworkError::Invalid)?;
    Ok(network)
}

fn bad(record: &str, e: impl std::fmt::Display) -> NetworkError {
    NetworkError::Invalid(vec![NetworkProblem {
        record: record.to_string(),
        problem: FieldProblem::new("code", record, e.to_string()),
    }])
}

impl Network {
    /// Every problem of every record: each record's own `validate()`, the villages'
    /// representative stations and the sections' level stations against the network's
    /// stations, unique codes and SL 651 addresses, references to watersheds and villages,
    /// and one rainfall indicator set of the network's scheme per village.
    pub fn validate(&self) -> Result<(), Vec<NetworkProblem>> {
        let mut out = Vec::new();
        let mut push = |record: String, problems: Vec<FieldProblem>| {
            out.extend(problems.into_iter().map(|problem| NetworkProblem { record: record.clone(), problem }));
        };
        let watersheds: BTreeSet<&WatershedCode> = self.watersheds.iter().map(|w| &w.code).collect();
        for w in &self.watersheds {
            push(format!("watershed {}", w.code), w.validate().err().unwrap_or_default());
        }
        if watersheds.len() != self.watersheds.len() {
            push("watersheds".into(), vec![FieldProblem::new("code", "", "watershed codes repeat")]);
        }
        let by_code: HashMap<&StationCode, &Station> = self.stations.iter().map(|s| (&s.code, s)).collect();
        let mut addresses = BTreeSet::new();
        for s in &self.stations {
            let record = format!("station {}", s.code);
            let mut problems = s.validate().err().unwrap_or_default();
            if let Some(a) = s.sl651_address() {
                if !addresses.insert(a) {
                    problems.push(FieldProblem::new("protocol.address", s.code.as_str(), "another station has it"));
                }
            }
            if let Some(w) = &s.watershed {
                if !watersheds.contains(w) {
                    problems.push(FieldProblem::new("watershed", w, "no such watershed"));
                }
            }
            push(record, problems);
        }
        if by_code.len() != self.stations.len() {
            push("stations".into(), vec![FieldProblem::new("code", "", "station codes repeat")]);
        }
        let mut village_codes = BTreeSet::new();
        for v in &self.villages {
            let record = format!("village {}", v.code);
            let mut problems = v.validate().err().unwrap_or_default();
            problems.extend(v.check_stations(|c| by_code.get(c).copied()).err().unwrap_or_default());
            if let Some(w) = &v.watershed {
                if !watersheds.contains(w) {
                    problems.push(FieldProblem::new("watershed", w, "no such watershed"));
                }
            }
            if !village_codes.insert(&v.code) {
                problems.push(FieldProblem::new("code", &v.code, "listed twice"));
            }
            push(record, problems);
        }
        for s in &self.sections {
            let record = format!("section {}", s.code);
            let mut problems = s.validate().err().unwrap_or_default();
            problems.extend(s.check_station(by_code.get(&s.level_station).copied()).err());
            for (i, v) in s.villages.iter().enumerate() {
                if !village_codes.contains(v) {
                    problems.push(FieldProblem::new(format!("villages[{i}]"), v, "not a village at risk"));
                }
            }
            if s.indicators.scheme() != self.scheme {
                problems.push(FieldProblem::new(
                    "indicators.scheme",
                    format!("{:?}", s.indicators.scheme()),
                    "not the network's scheme",
                ));
            }
            push(record, problems);
        }
        let mut with_indicators = BTreeSet::new();
        for r in &self.rain_indicators {
            let mut problems = Vec::new();
            if !village_codes.contains(r.village()) {
                problems.push(FieldProblem::new("village", r.village(), "not a village at risk"));
            }
            if !with_indicators.insert(r.village()) {
                problems.push(FieldProblem::new("village", r.village(), "two sets for one village"));
            }
            if r.scheme() != self.scheme {
                problems.push(FieldProblem::new("scheme", format!("{:?}", r.scheme()), "not the network's scheme"));
            }
            push(format!("rain indicators {}", r.village()), problems);
        }
        for v in &village_codes {
            if !with_indicators.contains(v) {
                push(
                    format!("village {v}"),
                    vec![FieldProblem::new("rain_indicators", "none", "every village has a set")],
                );
            }
        }
        if out.is_empty() {
            Ok(())
        } else {
            Err(out)
        }
    }
    /// Give the demo's accounts to the warning chain, so that warnings reach people in the
    /// app and can be acknowledged there: each village's 监测预警员 (its second village-tier
    /// person) is the village's first grid worker, and every county-tier person is the county
    /// leader; both are told in the app first, then by SMS and voice.
    pub fn link_accounts(&mut self, village_workers: &HashMap<DivisionCode, i64>, county_leader: Option<i64>) {
        for v in &mut self.villages {
            let worker = village_workers.get(&v.code).copied();
            let mut village_tier = 0;
            for p in &mut v.persons {
                let user = match p.tier {
                    Tier::Village => {
                        village_tier += 1;
                        if village_tier == 2 {
                            worker
                        } else {
                            None
                        }
                    }
                    Tier::County => county_leader,
                    _ => None,
                };
                if let Some(id) = user {
                    p.user_id = Some(id);
                    if !p.channels.contains(&Channel::InApp) {
                        p.channels.insert(0, Channel::InApp);
                    }
                }
            }
        }
    }

    /// The stations of one kind, in order.
    pub fn stations_of(&self, kind: StationKind) -> impl Iterator<Item = &Station> + '_ {
        self.stations.iter().filter(move |s| s.kind == kind)
    }

    /// The station with this code.
    pub fn station(&self, code: &StationCode) -> Option<&Station> {
        self.stations.iter().find(|s| &s.code == code)
    }

    /// The rainfall indicators of a village.
    pub fn indicators_of(&self, village: &DivisionCode) -> Option<&RainIndicators> {
        self.rain_indicators.iter().find(|r| r.village() == village)
    }
}

/// What [`seed`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedCounts {
    /// Watersheds.
    pub watersheds: usize,
    /// Stations.
    pub stations: usize,
    /// Villages at risk.
    pub villages: usize,
    /// Control sections.
    pub sections: usize,
    /// Rainfall indicator sets.
    pub rain_indicators: usize,
}

/// Why [`seed`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The network fails its checks; nothing was written.
    #[error("the network is not valid ({} problems), the first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<NetworkProblem>),
    /// A store call failed; the steps before it are written (each is one transaction, and an
    /// upsert: seeding again completes it).
    #[error("writing {step}: {error}")]
    Store {
        /// `watersheds`, `stations`, `villages`, `sections` or `rain indicators`.
        step: &'static str,
        /// The store's error.
        error: StoreError,
    },
}

/// Write the network through the port, in reference order — watersheds, stations, villages,
/// control sections, rainfall indicators — each as one upsert call (so seeding twice changes
/// nothing), after [`Network::validate`].
pub async fn seed(store: &dyn FloodModelStore, actor: &Actor, network: &Network) -> Result<SeedCounts, SeedError> {
    network.validate().map_err(SeedError::Invalid)?;
    let at = |step| move |error| SeedError::Store { step, error };
    store.upsert_watersheds(actor, &network.watersheds).await.map_err(at("watersheds"))?;
    store.upsert_stations(actor, &network.stations).await.map_err(at("stations"))?;
    store.upsert_villages(actor, &network.villages).await.map_err(at("villages"))?;
    store.upsert_sections(actor, &network.sections).await.map_err(at("sections"))?;
    store.replace_rain_indicators(actor, &network.rain_indicators).await.map_err(at("rain indicators"))?;
    Ok(SeedCounts {
        watersheds: network.watersheds.len(),
        stations: network.stations.len(),
        villages: network.villages.len(),
        sections: network.sections.len(),
        rain_indicators: network.rain_indicators.len(),
    })
}

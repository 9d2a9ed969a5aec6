//! The flood pages (山洪预警页面): the duty screen (`/flood`), stations (`/flood/stations`, one
//! station with its chart and raw frames), villages at risk (`/flood/villages`, one village with
//! its indicators against the current rain and its warnings) and one warning with its trail.
//! Pages render what they know on the server; the station chart and the duty officer's buttons
//! are `flood.js`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, FixedOffset, Utc};
use zhili_core::policy::{authorize, Action};
use zhili_core::store::Page;
use zhili_flood::evaluation::Assessment;
use zhili_flood::vocab::{Grade, SoilState};
use zhili_flood::warning::store::{StoredTrail, WarningFilter, WarningStore};
use zhili_flood::warning::{duty_summary, DutySummary, Warning};

use super::network_api::{self, StationView};
use crate::web::caller::Caller;
use crate::web::error::AppResult;
use crate::web::page::*;
use crate::AppState;

/// A time as the deployment reads it (`07-20 10:05`).
fn local(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset).format("%m-%d %H:%M").to_string()
}

fn en(caller: &Caller) -> bool {
    matches!(caller.locale, zhili_core::model::Locale::En)
}

/// A window as people say it (`1小时`, `1 h`).
fn window_label(w: zhili_flood::vocab::Window, en: bool) -> String {
    let m = w.as_minutes();
    match (m.is_multiple_of(60), en) {
        (true, false) => format!("{}小时", m / 60),
        (true, true) => format!("{} h", m / 60),
        (false, false) => format!("{m}分钟"),
        (false, true) => format!("{m} min"),
    }
}

/// An element as people say it (`5分钟雨量`, `level`).
fn element_label(e: zhili_flood::vocab::Element, en: bool) -> String {
    use zhili_flood::vocab::Element::*;
    match (e, en) {
        (RainIncrement { interval_minutes }, false) => format!("{interval_minutes}分钟雨量"),
        (RainIncrement { interval_minutes }, true) => format!("{interval_minutes}-min rain"),
        (RainCounter, false) => "累计雨量".into(),
        (RainCounter, true) => "rain counter".into(),
        (Level, false) => "水位".into(),
        (Level, true) => "level".into(),
        (Discharge, false) => "流量".into(),
        (Discharge, true) => "discharge".into(),
        (Voltage, false) => "电压".into(),
        (Voltage, true) => "voltage".into(),
        (SoilMoisture { depth_cm }, false) => format!("{depth_cm}厘米土壤含水量"),
        (SoilMoisture { depth_cm }, true) => format!("soil moisture at {depth_cm} cm"),
        (Status, false) => "状态".into(),
        (Status, true) => "status".into(),
    }
}

/// A value with its unit.
fn value_label(e: zhili_flood::vocab::Element, v: f64) -> String {
    use zhili_flood::vocab::Element::*;
    match e {
        RainIncrement { .. } | RainCounter => format!("{v:.1} mm"),
        Level => format!("{v:.2} m"),
        Discharge => format!("{v:.2} m³/s"),
        Voltage => format!("{v:.2} V"),
        SoilMoisture { .. } => format!("{v:.1}%"),
        Status => format!("{v}"),
    }
}

/// A station's problem in words.
fn problem_label(p: &zhili_flood::health::Problem, en: bool, offset: FixedOffset) -> String {
    use zhili_flood::health::Problem::*;
    match (p, en) {
        (NeverHeard, false) => "从未收到报文".into(),
        (NeverHeard, true) => "never heard from".into(),
        (NoReportYet, false) => "只收到链路维持报，尚无数据".into(),
        (NoReportYet, true) => "keep-alives only, no data yet".into(),
        (ReportsMissed { last_report, missed }, false) => {
            format!("缺报 {missed} 次（最后报文 {}）", local(*last_report, offset))
        }
        (ReportsMissed { last_report, missed }, true) => {
            format!("{missed} reports missed (last {})", local(*last_report, offset))
        }
        (LowVoltage { volts, threshold }, false) => format!("电压低：{volts:.2} V（低于 {threshold:.1} V）"),
        (LowVoltage { volts, threshold }, true) => format!("low voltage: {volts:.2} V (below {threshold:.1} V)"),
        (VoltageUnreadable { .. }, false) => "电压值无法读取".into(),
        (VoltageUnreadable { .. }, true) => "voltage unreadable".into(),
        (Alarm { alarm }, false) => format!("报警：{}", alarm.zh()),
        (Alarm { alarm }, true) => format!("alarm: {}", alarm.as_str().replace('_', " ")),
        (SuspiciousValues { count }, false) => format!("可疑数据 {count} 个"),
        (SuspiciousValues { count }, true) => format!("{count} suspicious values"),
        (AheadOfClock { .. }, false) => "测站时钟超前".into(),
        (AheadOfClock { .. }, true) => "the station's clock is ahead".into(),
    }
}

fn kind_label(k: zhili_flood::model::StationKind, en: bool) -> &'static str {
    use zhili_flood::model::StationKind::*;
    if !en {
        return k.zh();
    }
    match k {
        AutomaticRain => "automatic rain station",
        AutomaticLevel => "automatic level station",
        SimpleRain => "simple rain gauge",
        SimpleLevel => "simple level gauge",
        Video => "video station",
        Shared => "shared station",
    }
}

fn grade_label(g: Grade, en: bool) -> String {
    if en {
        g.as_str().to_string()
    } else {
        g.zh().to_string()
    }
}

async fn offset(state: &AppState) -> FixedOffset {
    crate::web::clock::local_offset(&state.ports).await
}

// ---------------------------------------------------------------------------------------------
// Duty screen
// ---------------------------------------------------------------------------------------------

struct DutyRow {
    id: i64,
    village: String,
    name: String,
    grade: String,
    grade_class: &'static str,
    status: String,
    opened: String,
    public: bool,
    unacknowledged: usize,
    escalations: usize,
    lines: Vec<String>,
}

struct RisingRow {
    village: String,
    window: String,
    mm: String,
    threshold: String,
    share: u32,
}

#[derive(Template)]
#[template(path = "flood/templates/duty.html")]
struct DutyPage {
    l: Layout,
    warnings: Vec<DutyRow>,
    rising: Vec<RisingRow>,
    may_decide: bool,
    /// The demo's synthetic storm can be started here.
    demo_storm: bool,
    cap_feed: &'static str,
}

fn grade_class(g: Grade) -> &'static str {
    match g {
        Grade::Immediate | Grade::Red => "grade-red",
        Grade::Orange => "grade-orange",
        Grade::Prepare | Grade::Yellow => "grade-yellow",
        Grade::Blue => "grade-blue",
    }
}

fn duty_row(s: &DutySummary, offset: FixedOffset, en: bool) -> DutyRow {
    DutyRow {
        id: s.warning,
        village: s.village.to_string(),
        name: s.village_name.clone(),
        grade: grade_label(s.grade, en),
        grade_class: grade_class(s.grade),
        status: if en { s.status.as_str().to_string() } else { s.status.zh().to_string() },
        opened: local(s.opened_at, offset),
        public: s.public_at.is_some(),
        unacknowledged: s.unacknowledged,
        escalations: s.escalations,
        lines: s.lines_zh(),
    }
}

fn rising_row(a: &Assessment, en: bool) -> Option<RisingRow> {
    let r = a
        .rain
        .iter()
        .filter_map(|r| r.lowest_threshold_mm.map(|t| (r, t)))
        .max_by(|x, y| (x.0.mm / x.1).total_cmp(&(y.0.mm / y.1)))?;
    Some(RisingRow {
        village: a.village.to_string(),
        window: window_label(r.0.window, en),
        mm: format!("{:.1}", r.0.mm),
        threshold: format!("{:.1}", r.1),
        share: ((r.0.mm / r.1) * 100.0).round().clamp(0.0, 999.0) as u32,
    })
}

/// `/flood`: what is warned, who has not acknowledged, what is rising.
pub(crate) async fn duty_page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadFlood, "/flood") {
        return Ok(r);
    }
    let offset = offset(&state).await;
    let filter =
        WarningFilter { active_only: true, village_prefix: caller.principal.jurisdiction.clone(), opened_since: None };
    let active = state.port::<dyn WarningStore>().warnings(&filter, Page { offset: 0, limit: 1000 }).await?;
    let now = Utc::now();
    let mut summaries: Vec<DutySummary> = active.iter().map(|w| duty_summary(w, now)).collect();
    summaries.sort_by(|a, b| b.grade.rank().cmp(&a.grade.rank()).then(b.unacknowledged.cmp(&a.unacknowledged)));
    let warned: std::collections::HashSet<_> = active.iter().map(|w| w.village.clone()).collect();
    let en = en(&caller);
    let mut rising: Vec<RisingRow> = super::warnings(&state)
        .assessments()
        .iter()
        .filter(|a| !warned.contains(&a.village) && caller.principal.concerns(&a.village))
        .filter_map(|a| rising_row(a, en))
        .filter(|r| r.share >= 50)
        .collect();
    rising.sort_by_key(|r| std::cmp::Reverse(r.share));
    rising.truncate(50);
    html(DutyPage {
        l: Layout::new(&caller, "flood.duty.title", "/flood"),
        warnings: summaries.iter().map(|s| duty_row(s, offset, en)).collect(),
        rising,
        may_decide: authorize(&caller.principal, Action::ManageFloodWarnings, None).is_ok(),
        demo_storm: state.ports.get::<dyn super::demo::StormDemo>().is_some(),
        cap_feed: "/cap/alerts.atom",
    })
}

// ---------------------------------------------------------------------------------------------
// Stations
// ---------------------------------------------------------------------------------------------

struct StationRow {
    code: String,
    name: String,
    kind: String,
    liveness: &'static str,
    liveness_label: &'static str,
    last_seen: String,
    latest: String,
    rain: String,
    problems: usize,
}

fn station_row(v: &StationView, offset: FixedOffset, en: bool) -> StationRow {
    let latest = v
        .latest
        .iter()
        .filter(|o| !matches!(o.element, zhili_flood::vocab::Element::Status))
        .map(|o| format!("{} {}", element_label(o.element, en), value_label(o.element, o.value)))
        .collect::<Vec<_>>()
        .join(" · ");
    StationRow {
        code: v.station.code.as_str().to_string(),
        name: v.station.name.clone(),
        kind: kind_label(v.station.kind, en).to_string(),
        liveness: v.health.liveness.as_str(),
        liveness_label: if en { v.health.liveness.as_str() } else { v.health.liveness.zh() },
        last_seen: v.health.last_seen.map(|t| local(t, offset)).unwrap_or_default(),
        latest,
        rain: v.rain.as_ref().map(|r| format!("{:.1} / {:.1} / {:.1}", r.h1, r.h3, r.h24)).unwrap_or_default(),
        problems: v.health.problems.len(),
    }
}

#[derive(Template)]
#[template(path = "flood/templates/stations.html")]
struct StationsPage {
    l: Layout,
    rows: Vec<StationRow>,
    prev: Option<i64>,
    next: Option<i64>,
}

/// `/flood/stations`: every station with its health and latest values.
pub(crate) async fn stations_page(
    State(state): State<AppState>,
    caller: Caller,
    crate::web::extract::ApiQuery(q): crate::web::extract::ApiQuery<OffsetQuery>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadFlood, "/flood/stations") {
        return Ok(r);
    }
    let offset_rows = q.offset.unwrap_or(0).max(0);
    let filter =
        zhili_flood::store::StationFilter { division: caller.principal.jurisdiction.clone(), ..Default::default() };
    let model = state.port::<dyn zhili_flood::store::FloodModelStore>();
    let stations = model.stations(&filter, Page { offset: offset_rows, limit: PAGE_SIZE + 1 }).await?;
    let more = stations.len() as i64 > PAGE_SIZE;
    let stations: Vec<_> = stations.into_iter().take(PAGE_SIZE as usize).collect();
    let views = network_api::station_views(&state, stations).await?;
    let offset = offset(&state).await;
    let en = en(&caller);
    html(StationsPage {
        l: Layout::new(&caller, "flood.stations.title", "/flood/stations"),
        rows: views.iter().map(|v| station_row(v, offset, en)).collect(),
        prev: (offset_rows > 0).then(|| (offset_rows - PAGE_SIZE).max(0)),
        next: more.then_some(offset_rows + PAGE_SIZE),
    })
}

#[derive(Template)]
#[template(path = "flood/templates/station.html")]
struct StationPage {
    l: Layout,
    s: StationRow,
    owner: String,
    position: String,
    protocol: String,
    interval: u32,
    problems: Vec<String>,
    /// (name, label) of each element the chart can show.
    elements: Vec<(String, String)>,
}

/// `/flood/stations/{code}`: one station, its time series (ECharts) and raw frames.
pub(crate) async fn station_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadFlood, "/flood/stations") {
        return Ok(r);
    }
    let code = zhili_flood::vocab::StationCode::parse(&code)
        .map_err(|e| crate::web::error::AppError::field("code", e.to_string()))?;
    let station =
        state.port::<dyn zhili_flood::store::FloodModelStore>().station(&code).await.map_err(network_api::not_found)?;
    let view = network_api::station_views(&state, vec![station])
        .await?
        .pop()
        .ok_or_else(|| crate::web::error::AppError::new(zhili_core::ErrorCode::NotFound))?;
    let offset = offset(&state).await;
    let en = en(&caller);
    let mut shown: Vec<zhili_flood::vocab::Element> = Vec::new();
    if view.station.measures.rain {
        shown.push(zhili_flood::vocab::Element::RainIncrement { interval_minutes: 5 });
    }
    if view.station.measures.level {
        shown.push(zhili_flood::vocab::Element::Level);
    }
    for o in &view.latest {
        if !shown.contains(&o.element) && !matches!(o.element, zhili_flood::vocab::Element::Status) {
            shown.push(o.element);
        }
    }
    let elements = shown.iter().map(|e| (e.name(), element_label(*e, en))).collect();
    html(StationPage {
        l: Layout::new(&caller, "flood.station.title", "/flood/stations"),
        owner: view.station.owner.clone(),
        position: format!("{:.5}, {:.5}", view.station.position.lon, view.station.position.lat),
        protocol: match &view.station.protocol {
            zhili_flood::model::Protocol::Sl651 { centre, address, .. } => format!(
                "SL 651 · {} {centre:02X} · {}",
                if en { "centre" } else { "中心站" },
                address.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
            ),
            zhili_flood::model::Protocol::Json => "JSON (HTTP/MQTT)".into(),
            zhili_flood::model::Protocol::NotConnected => if en { "not connected" } else { "未接入" }.into(),
        },
        interval: view.station.report_interval_minutes,
        problems: view.health.problems.iter().map(|p| problem_label(p, en, offset)).collect(),
        elements,
        s: station_row(&view, offset, en),
    })
}

// ---------------------------------------------------------------------------------------------
// Villages
// ---------------------------------------------------------------------------------------------

struct VillageRow {
    code: String,
    name: String,
    households: u32,
    population: u32,
    grade: String,
    grade_class: &'static str,
    warning: Option<i64>,
}

#[derive(Template)]
#[template(path = "flood/templates/villages.html")]
struct VillagesPage {
    l: Layout,
    rows: Vec<VillageRow>,
    may_import: bool,
}

/// `/flood/villages`: the villages at risk with their warning grade.
pub(crate) async fn villages_page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadFlood, "/flood/villages") {
        return Ok(r);
    }
    let within = caller.principal.jurisdiction.clone();
    let villages = state
        .port::<dyn zhili_flood::store::FloodModelStore>()
        .villages(within.as_ref(), Page { offset: 0, limit: 10_000 })
        .await?;
    let filter = WarningFilter { active_only: true, village_prefix: within, opened_since: None };
    let active: std::collections::HashMap<_, _> = state
        .port::<dyn WarningStore>()
        .warnings(&filter, Page { offset: 0, limit: 10_000 })
        .await?
        .into_iter()
        .map(|w| (w.village.clone(), w))
        .collect();
    let en = en(&caller);
    html(VillagesPage {
        l: Layout::new(&caller, "flood.villages.title", "/flood/villages"),
        may_import: authorize(&caller.principal, Action::ManageFloodNetwork, None).is_ok(),
        rows: villages
            .iter()
            .map(|v| {
                let w = active.get(&v.code);
                VillageRow {
                    code: v.code.to_string(),
                    name: v.name.clone(),
                    households: v.households,
                    population: v.population,
                    grade: w.map(|w| grade_label(w.grade, en)).unwrap_or_default(),
                    grade_class: w.map_or("", |w| grade_class(w.grade)),
                    warning: w.map(|w| w.id),
                }
            })
            .collect(),
    })
}

struct IndicatorRow {
    window: String,
    soil: String,
    current: bool,
    thresholds: Vec<String>,
    rain: String,
    reached: bool,
}

struct PersonRow {
    name: String,
    tier: String,
    duty: String,
    phone: String,
}

struct WarningRow {
    id: i64,
    grade: String,
    grade_class: &'static str,
    status: String,
    opened: String,
}

#[derive(Template)]
#[template(path = "flood/templates/village.html")]
struct VillagePage {
    l: Layout,
    code: String,
    name: String,
    households: u32,
    population: u32,
    stations: Vec<String>,
    soil: String,
    assessed_at: String,
    grades: Vec<String>,
    indicators: Vec<IndicatorRow>,
    sections: Vec<(String, String, String)>,
    persons: Vec<PersonRow>,
    facilities: Vec<String>,
    routes: Vec<String>,
    shelters: Vec<String>,
    warnings: Vec<WarningRow>,
}

fn facility_label(k: zhili_flood::model::FacilityKind, en: bool) -> &'static str {
    use zhili_flood::model::FacilityKind::*;
    match (k, en) {
        (Broadcast, false) => "无线预警广播",
        (Siren, false) => "报警器",
        (Gong, false) => "铜锣",
        (Whistle, false) => "口哨",
        (Broadcast, true) => "Broadcast loudspeakers",
        (Siren, true) => "Sirens",
        (Gong, true) => "Gongs",
        (Whistle, true) => "Whistles",
    }
}

fn soil_label(s: SoilState, en: bool) -> String {
    if en {
        s.as_str().to_string()
    } else {
        s.zh().to_string()
    }
}

/// `/flood/villages/{code}`: a village's indicators against the current rain, its people and
/// its warnings.
pub(crate) async fn village_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadFlood, "/flood/villages") {
        return Ok(r);
    }
    let d = network_api::village_detail(&state, &caller, &code).await?;
    let offset = offset(&state).await;
    let en = en(&caller);
    // The record itself (the detail's copy has its phones masked as text).
    let village_code = zhili_core::codes::DivisionCode::parse(&code)
        .map_err(|e| crate::web::error::AppError::field("code", e.to_string()))?;
    let v = state
        .port::<dyn zhili_flood::store::FloodModelStore>()
        .village(&village_code)
        .await
        .map_err(network_api::not_found)?;
    let soil_now = d.assessment.as_ref().map(|a| a.soil);
    let mut indicators = Vec::new();
    let mut grades = Vec::new();
    if let Some(i) = &d.indicators {
        grades = Grade::of(i.scheme()).iter().map(|g| grade_label(*g, en)).collect();
        for t in i.thresholds() {
            let rain = d.assessment.as_ref().and_then(|a| a.rain.iter().find(|r| r.window == t.window));
            let current = soil_now == Some(t.soil);
            indicators.push(IndicatorRow {
                window: window_label(t.window, en),
                soil: soil_label(t.soil, en),
                current,
                thresholds: t.mm.iter().map(|m| format!("{m:.1}")).collect(),
                rain: rain.map(|r| format!("{:.1}", r.mm)).unwrap_or_default(),
                reached: current && rain.is_some_and(|r| t.mm.first().is_some_and(|m| r.mm >= *m)),
            });
        }
    }
    let sections = match &d.assessment {
        Some(a) => a
            .sections
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    s.level_m.map(|l| format!("{l:.2} m")).unwrap_or_default(),
                    s.rise_m_per_h.map(|r| format!("{r:+.2} m/h")).unwrap_or_default(),
                )
            })
            .collect(),
        None => d.sections.iter().map(|s| (s.name.clone(), String::new(), String::new())).collect(),
    };
    let phones: Vec<String> = d.village["persons"]
        .as_array()
        .map(|a| a.iter().map(|p| p["phone"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default();
    html(VillagePage {
        l: Layout::new(&caller, "flood.village.title", "/flood/villages"),
        code: v.code.to_string(),
        name: v.name.clone(),
        households: v.households,
        population: v.population,
        stations: v.stations.iter().map(|s| s.as_str().to_string()).collect(),
        soil: soil_now.map(|s| soil_label(s, en)).unwrap_or_default(),
        assessed_at: d.assessment.as_ref().map(|a| local(a.at, offset)).unwrap_or_default(),
        grades,
        indicators,
        sections,
        persons: v
            .persons
            .iter()
            .zip(phones)
            .map(|(p, phone)| PersonRow {
                name: p.name.clone(),
                tier: p.tier.zh().to_string(),
                duty: p.duty.clone(),
                phone,
            })
            .collect(),
        facilities: v.facilities.iter().map(|f| format!("{} × {}", facility_label(f.kind, en), f.count)).collect(),
        routes: v.routes.iter().map(|r| r.text.clone()).collect(),
        shelters: v.shelters.iter().map(|s| format!("{}（{}人）", s.name, s.capacity)).collect(),
        warnings: d
            .warnings
            .iter()
            .map(|w| WarningRow {
                id: w.id,
                grade: grade_label(w.grade, en),
                grade_class: grade_class(w.grade),
                status: if en { w.status.as_str().to_string() } else { w.status.zh().to_string() },
                opened: local(w.opened_at, offset),
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// One warning
// ---------------------------------------------------------------------------------------------

struct RecipientRow {
    name: String,
    tier: String,
    channel: String,
    notified: String,
    ack: String,
    unreachable: bool,
    me: bool,
}

struct TrailRow {
    at: String,
    kind: String,
    who: String,
    channel: String,
    text: String,
    outcome: String,
}

#[derive(Template)]
#[template(path = "flood/templates/warning.html")]
struct WarningPage {
    l: Layout,
    w: WarningRow,
    village: String,
    name: String,
    trigger: String,
    public: String,
    decisions: Vec<&'static str>,
    may_decide: bool,
    may_ack: bool,
    recipients: Vec<RecipientRow>,
    trail: Vec<TrailRow>,
    caps: Vec<(String, String, String)>,
}

fn trail_row(t: &StoredTrail, offset: FixedOffset, tr: crate::web::i18n::Tr) -> TrailRow {
    let e = &t.entry;
    let name = serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    TrailRow {
        at: local(e.at, offset),
        kind: tr.get(&format!("flood.trail.{name}")).to_string(),
        who: match (e.name.clone(), e.who.as_deref()) {
            (Some(name), _) => name,
            (None, Some("duty")) => tr.get("flood.duty_officer").to_string(),
            (None, who) => who.unwrap_or_default().to_string(),
        },
        channel: e.channel.map(|c| zhili_flood::warning::text::channel_zh(c).to_string()).unwrap_or_default(),
        text: e.text.clone().unwrap_or_default(),
        outcome: e.outcome.clone().unwrap_or_default(),
    }
}

/// `/flood/warnings/{id}`: the warning, who acknowledged, its trail and CAP documents, and the
/// duty officer's decisions.
pub(crate) async fn warning_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadFlood, "/flood") {
        return Ok(r);
    }
    let store = state.port::<dyn WarningStore>();
    let w: Warning = store.warning(id).await.map_err(network_api::not_found)?;
    if !caller.principal.concerns(&w.village) {
        return Err(crate::web::error::AppError::new(zhili_core::ErrorCode::NotFound));
    }
    let offset = offset(&state).await;
    let en = en(&caller);
    let me = caller.user.as_ref().map(|u| format!("user:{}", u.id));
    let trail = store.trail(w.id).await?;
    let caps = store
        .caps(w.id)
        .await?
        .into_iter()
        .map(|c| (c.identifier.clone(), c.msg_type.as_str().to_string(), local(c.sent, offset)))
        .collect();
    let recipients: Vec<RecipientRow> = w
        .recipients
        .iter()
        .map(|r| RecipientRow {
            name: r.person.name.clone(),
            tier: r.person.tier.zh().to_string(),
            channel: zhili_flood::warning::text::channel_zh(r.current_channel()).to_string(),
            notified: r.notified_at.map(|t| local(t, offset)).unwrap_or_default(),
            ack: r.ack.as_ref().map(|a| format!("{} {}", local(a.at, offset), a.text)).unwrap_or_default(),
            unreachable: r.unreachable,
            me: me.as_deref() == Some(r.person.id.as_str()),
        })
        .collect();
    let may_ack = !w.is_lifted() && recipients.iter().any(|r| r.me && r.ack.is_empty());
    html(WarningPage {
        l: Layout::new(&caller, "flood.warning.title", "/flood"),
        village: w.village.to_string(),
        name: w.village_name.clone(),
        trigger: zhili_flood::warning::text::trigger_detail(&w.trigger),
        public: w.public.as_ref().map(|p| local(p.at, offset)).unwrap_or_default(),
        decisions: zhili_flood::warning::decisions(&w).into_iter().map(|k| k.as_str()).collect(),
        may_decide: authorize(&caller.principal, Action::ManageFloodWarnings, Some(&w.village)).is_ok(),
        may_ack,
        recipients,
        trail: trail.iter().map(|t| trail_row(t, offset, crate::web::i18n::Tr(caller.locale))).collect(),
        caps,
        w: WarningRow {
            id: w.id,
            grade: grade_label(w.grade, en),
            grade_class: grade_class(w.grade),
            status: if en { w.status.as_str().to_string() } else { w.status.zh().to_string() },
            opened: local(w.opened_at, offset),
        },
    })
}

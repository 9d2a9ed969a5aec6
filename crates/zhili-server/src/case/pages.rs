//! The case loop's pages (案件页面): worklist, case, hotline intake, the phone report page,
//! the dashboard and the case settings.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use zhili_core::model::Locale;
use zhili_core::policy::{authorize, Action, Role};
use zhili_core::store::Page;
use zhili_core::ErrorCode;

use crate::map::pages::{basemap_fields, with_map_csp};
use crate::web::caller::Caller;
use crate::web::error::AppResult;
use crate::web::extract::ApiQuery;
use crate::web::i18n::Tr;
use crate::web::page::*;
use crate::AppState;
struct CaseRow {
    id: i64,
    version: i64,
    class: String,
    state: &'static str,
    address: String,
    /// The department dispatched to: (name, code).
    department: Option<(String, String)>,
    deadline: String,
    overdue: bool,
    reported: String,
}

#[derive(Template)]
#[template(path = "case/templates/cases.html")]
struct CasesPage {
    l: Layout,
    rows: Vec<CaseRow>,
    /// The count, or "10000+" past the worklist's counting cap.
    total: String,
    prev: Option<String>,
    next: Option<String>,
    states: Vec<(&'static str, &'static str, bool)>,
    overdue: bool,
    may_intake: bool,
    /// The filters as given (class, department, grid, from, to), for the form and the pager.
    q: CasesPageQuery,
    /// Major classes with their minor classes.
    classes: Vec<MajorOption>,
    /// Departments: (code, name).
    departments: Vec<(String, String)>,
    /// The bulk commands the caller may give from here (批量立案/派遣/签收).
    bulk: Vec<(&'static str, &'static str)>,
    /// A bad filter, named.
    /// A bad filter: the field at fault and what is wrong, in the caller's language.
    error: Option<(String, String)>,
    /// The orders to choose from: (value, label).
    sorts: Vec<(&'static str, &'static str)>,
    /// The current filter as a query (`state=…&class=…`), carried by the export links.
    export_query: String,
    /// The division the list is narrowed to (`within`) by name, and the list without it: a
    /// chip with its ✕.
    within: Option<(String, String)>,
}

/// A major class in the worklist's class filter: (code, name, its minor classes as (code, name)).
type MajorOption = (String, String, Vec<(String, String)>);

/// Query of the worklist page.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct CasesPageQuery {
    state: Option<String>,
    overdue: Option<String>,
    class: Option<String>,
    department: Option<String>,
    grid: Option<String>,
    /// A division subtree (the dashboard's drill-down by township or village).
    within: Option<String>,
    from: Option<String>,
    to: Option<String>,
    mine: Option<String>,
    due_soon: Option<String>,
    closed_from: Option<String>,
    sort: Option<String>,
    offset: Option<i64>,
}

/// The worklist query of the page's query (flags as `1`, blanks as absent): what the page lists
/// and what a home tile linking to it counts.
pub(crate) fn worklist_query(q: &CasesPageQuery) -> crate::case::api::CaseQuery {
    let given = |v: &Option<String>| v.clone().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let flag = |v: &Option<String>| Some(v.as_deref() == Some("1"));
    crate::case::api::CaseQuery {
        state: given(&q.state),
        overdue: flag(&q.overdue),
        mine: flag(&q.mine),
        due_soon: flag(&q.due_soon),
        class: given(&q.class),
        department: given(&q.department),
        grid: given(&q.grid),
        within: given(&q.within),
        from: given(&q.from),
        to: given(&q.to),
        closed_from: given(&q.closed_from),
        sort: given(&q.sort),
        ..crate::case::api::CaseQuery::default()
    }
}

pub(crate) async fn cases_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CasesPageQuery>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadCases, "/cases") {
        return Ok(r);
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let query = worklist_query(&q);
    let (overdue, mine, due_soon) =
        (query.overdue == Some(true), query.mine == Some(true), query.due_soon == Some(true));
    let st = query.state.clone();
    let tr = Tr(caller.locale);
    let mut error = None;
    let (cases, (total, exact)) = match crate::case::api::scoped_filter(&state, &caller, &query).await {
        Ok(Some(f)) => {
            let page = Page { offset, limit: PAGE_SIZE };
            tokio::try_join!(
                state.port::<dyn zhili_case::store::CaseStore>().cases(&f, page),
                crate::case::api::count_upto(&state, &f)
            )?
        }
        Ok(None) => (vec![], (0, true)),
        // A bad filter is shown on the page, naming the field; the list is empty.
        Err(e) if e.code == ErrorCode::InvalidQuery || e.code == ErrorCode::InvalidField => {
            error = Some((e.field.clone().unwrap_or_default(), e.text(tr)));
            (vec![], (0, true))
        }
        Err(e) => return Err(e),
    };
    let catalogue =
        crate::case::cases(&state).catalogue(state.port::<dyn zhili_platform::settings::SettingStore>()).await?;
    let calendar =
        crate::case::cases(&state).calendar(state.port::<dyn zhili_platform::settings::SettingStore>()).await?;
    let en = caller.locale == Locale::En;
    let now = chrono::Utc::now();
    let local =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&calendar.offset()).format("%Y-%m-%d %H:%M").to_string();
    // Departments by name (codes only in the tooltip), for the rows and the filter.
    let departments: Vec<(String, String)> = crate::case::cases(&state)
        .departments(state.store.as_ref())
        .await?
        .iter()
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect();
    let department_name = |code: &str| {
        departments.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone()).unwrap_or_else(|| code.to_string())
    };
    // The division a drill-down narrowed the list to, by name.
    let within_name = match query.within.as_deref().map(zhili_core::codes::DivisionCode::parse) {
        Some(Ok(code)) => Some(match state.store.division(&code).await {
            Ok(d) => d.name,
            Err(zhili_core::store::StoreError::NotFound) => code.to_string(),
            Err(e) => return Err(e.into()),
        }),
        _ => query.within.clone(),
    };
    let rows = cases
        .iter()
        .map(|c| CaseRow {
            id: c.id,
            version: c.version,
            class: catalogue.get(&c.class_code).map(|k| k.name.clone()).unwrap_or_else(|| c.class_code.to_string()),
            state: if en { c.status.state.label_en() } else { c.status.state.label_zh() },
            address: c.address.clone(),
            department: c.status.department.as_deref().map(|d| (department_name(d), d.to_string())),
            deadline: c.clock.deadline.map(local).unwrap_or_default(),
            overdue: c.overdue(now),
            reported: local(c.reported_at),
        })
        .collect();
    // Past the counting cap there is always a next page (up to the cap).
    let (prev, next) = pager(offset, if exact { total } else { total + 1 });
    let mut keep = String::new();
    for (name, v) in [
        ("state", &st),
        ("class", &query.class),
        ("department", &query.department),
        ("grid", &query.grid),
        ("within", &query.within),
        ("from", &query.from),
        ("to", &query.to),
        ("closed_from", &query.closed_from),
        ("sort", &query.sort),
    ] {
        if let Some(v) = v {
            keep.push_str(&format!("&{name}={}", urlencode(v)));
        }
    }
    for (name, on) in [("overdue", overdue), ("mine", mine), ("due_soon", due_soon)] {
        if on {
            keep.push_str(&format!("&{name}=1"));
        }
    }
    // The same list without the division: the chip's ✕.
    let within_clear = format!(
        "/cases?{}",
        keep.split('&').filter(|p| !p.is_empty() && !p.starts_with("within=")).collect::<Vec<_>>().join("&")
    );
    let states = zhili_case::workflow::CaseState::ALL
        .iter()
        .map(|s| (s.as_str(), if en { s.label_en() } else { s.label_zh() }, st.as_deref() == Some(s.as_str())))
        .collect();
    let mut classes: Vec<MajorOption> = Vec::new();
    for c in catalogue.classes.iter().filter(|c| c.active) {
        let major = c.major_code.to_string();
        match classes.iter_mut().find(|m| m.0 == major) {
            Some(m) => m.2.push((c.code.to_string(), c.name.clone())),
            None => classes.push((major, c.major_name.clone(), vec![(c.code.to_string(), c.name.clone())])),
        }
    }
    let role = caller.principal.role;
    let bulk = [("file", "cases.bulk_file"), ("dispatch", "cases.bulk_dispatch"), ("accept", "cases.bulk_accept")]
        .into_iter()
        .filter(|(kind, _)| {
            zhili_case::workflow::CaseState::ALL.iter().any(|s| {
                let status =
                    zhili_case::workflow::CaseStatus { state: *s, ..zhili_case::workflow::CaseStatus::reported(0) };
                zhili_case::workflow::allowed(&status, role).iter().any(|k| k.as_str() == *kind)
            })
        })
        .map(|(kind, key)| (kind, tr.get(key)))
        .collect();
    html(CasesPage {
        l: Layout::new(&caller, "cases.title", "/cases"),
        rows,
        total: if exact { total.to_string() } else { format!("{total}+") },
        export_query: keep.trim_start_matches('&').to_string(),
        prev: prev.map(|p| format!("/cases?offset={p}{keep}")),
        next: next.map(|n| format!("/cases?offset={n}{keep}")),
        states,
        overdue,
        may_intake: may_intake(&caller),
        q: CasesPageQuery {
            state: st,
            overdue: q.overdue.clone(),
            class: query.class,
            department: query.department,
            grid: query.grid,
            within: query.within.clone(),
            from: query.from,
            to: query.to,
            mine: mine.then(|| "1".into()),
            due_soon: due_soon.then(|| "1".into()),
            closed_from: query.closed_from,
            sort: query.sort,
            offset: None,
        },
        sorts: [
            ("upcoming", "cases.sort_upcoming"),
            ("deadline", "cases.sort_deadline"),
            ("newest", "cases.sort_newest"),
        ]
        .into_iter()
        .map(|(v, key)| (v, tr.get(key)))
        .collect(),
        classes,
        departments,
        bulk,
        error,
        within: within_name.map(|name| (name, within_clear)),
    })
}

#[derive(Template)]
#[template(path = "case/templates/case.html")]
struct CasePage {
    l: Layout,
    id: i64,
    basemap_url: String,
    basemap_crs: &'static str,
    basemap_attribution: String,
    /// The deployment's UTC offset in minutes (`web::clock`): the page shows instants in it.
    utc_offset: i32,
}

pub(crate) async fn case_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadCases, "/cases") {
        return Ok(r);
    }
    let Some(id) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return Ok(error_page(&caller, StatusCode::NOT_FOUND, Tr(caller.locale).get("error.not_found").into()));
    };
    let (basemap_url, basemap_crs, basemap_attribution) = basemap_fields(&state);
    let utc_offset = crate::web::clock::local_offset(&state.ports).await.local_minus_utc() / 60;
    let page = CasePage {
        l: Layout::new(&caller, "case.title", "/cases"),
        id,
        basemap_url,
        basemap_crs,
        basemap_attribution,
        utc_offset,
    };
    // Photos are shown as images from our own API; the mini-map uses MapLibre's worker.
    with_map_csp(html(page)?, &state)
}

/// Operators taking calls (12345 热线) enter cases here; grid workers use the phone page.
fn may_intake(caller: &Caller) -> bool {
    authorize(&caller.principal, Action::ReportCase, None).is_ok() && caller.principal.role != Role::GridWorker
}

#[derive(Template)]
#[template(path = "case/templates/intake.html")]
struct IntakePage {
    l: Layout,
    sources: Vec<(&'static str, &'static str)>,
    basemap_url: String,
    basemap_crs: &'static str,
    basemap_attribution: String,
}

/// The hotline operator's intake (热线录入): the case's fields and a map to click its position.
pub(crate) async fn intake_page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReportCase, "/cases/new") {
        return Ok(r);
    }
    if !may_intake(&caller) {
        return Ok(redirect("/report"));
    }
    use zhili_case::model::Source;
    let en = caller.locale == Locale::En;
    let sources = [Source::Hotline, Source::Superior, Source::Machine, Source::Public]
        .into_iter()
        .map(|s| (s.as_str(), if en { s.as_str() } else { s.label_zh() }))
        .collect();
    let (basemap_url, basemap_crs, basemap_attribution) = basemap_fields(&state);
    let page = IntakePage {
        l: Layout::new(&caller, "intake.title", "/cases"),
        sources,
        basemap_url,
        basemap_crs,
        basemap_attribution,
    };
    with_map_csp(html(page)?, &state)
}

#[derive(Template)]
#[template(path = "case/templates/report.html")]
struct ReportPage {
    l: Layout,
    basemap_url: String,
    basemap_crs: &'static str,
    basemap_attribution: String,
}

pub(crate) async fn report_page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReportCase, "/report") {
        return Ok(r);
    }
    let (basemap_url, basemap_crs, basemap_attribution) = basemap_fields(&state);
    let page = ReportPage {
        l: Layout::new(&caller, "report.title", "/report"),
        basemap_url,
        basemap_crs,
        basemap_attribution,
    };
    with_map_csp(html(page)?, &state)
}

#[derive(Template)]
#[template(path = "case/templates/dashboard.html")]
struct DashboardPage {
    l: Layout,
}

pub(crate) async fn dashboard_page(caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadCases, "/dashboard") {
        return Ok(r);
    }
    let mut r = html(DashboardPage { l: Layout::new(&caller, "dashboard.title", "/dashboard") })?;
    // ECharts sets inline styles (tooltips).
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    );
    Ok(r)
}

#[derive(Template)]
#[template(path = "case/templates/settings_classes.html")]
struct CaseClassesPage {
    l: Layout,
    /// Administrators (`ManageCaseSettings`) edit; every other case role reads.
    may_edit: bool,
}

/// The catalogue of case classes (案件分类): a searchable table, a form editing one class,
/// spreadsheet export and import. Data and writes go through `/api/case-classes`.
pub(crate) async fn case_classes_page(caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadCases, "/settings/case-classes") {
        return Ok(r);
    }
    let may_edit = authorize(&caller.principal, Action::ManageCaseSettings, None).is_ok();
    let l = Layout::new(&caller, "classes.title", "/settings/case-classes");
    html(CaseClassesPage { l, may_edit })
}

#[derive(Template)]
#[template(path = "case/templates/settings_calendar.html")]
struct CalendarPage {
    l: Layout,
    /// Administrators (`ManageCaseSettings`) edit; every other case role reads.
    may_edit: bool,
}

/// The working-time calendar (工作日历): periods, rest days, the UTC offset and a year of
/// holidays and make-up days. Data and writes go through `/api/work-calendar`.
pub(crate) async fn calendar_page(caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadCases, "/settings/calendar") {
        return Ok(r);
    }
    let may_edit = authorize(&caller.principal, Action::ManageCaseSettings, None).is_ok();
    let l = Layout::new(&caller, "calendar.title", "/settings/calendar");
    html(CalendarPage { l, may_edit })
}

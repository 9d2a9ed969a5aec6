//! The web shell (网页外壳): server-rendered pages in zh-CN (default) or English, a login
//! page, the navigation frame, and embedded assets. Forms carry CSRF tokens.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use zhili_core::codes::DivisionCode;
use zhili_core::model::{Locale, User};
use zhili_core::policy::{authorize, Action, Role};
use zhili_core::store::{Page, UserFilter};
use zhili_core::{password, ErrorCode};

use crate::auth::{self, Caller, LOCALE_COOKIE, LOGIN_CSRF_COOKIE};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiQuery, ClientIp, FormBody};
use crate::i18n::Tr;
use crate::AppState;

/// The page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
        .route("/locale", post(locale_submit))
        .route("/divisions", get(divisions_page))
        .route("/map", get(map_page))
        .route("/grids", get(grids_page))
        .route("/cases", get(cases_page))
        .route("/cases/new", get(intake_page))
        .route("/cases/{id}", get(case_page))
        .route("/report", get(report_page))
        .route("/assets/vendor/maplibre-gl/{file}", get(vendor_asset))
        .route("/assets/vendor/echarts/{file}", get(echarts_asset))
        .route("/dashboard", get(dashboard_page))
        .route("/departments", get(departments_page))
        .route("/users", get(users_page))
        .route("/audit", get(audit_page))
        .route("/settings/case-classes", get(case_classes_page))
        .route("/settings/calendar", get(calendar_page))
        .route("/assets/{file}", get(asset))
        .merge(crate::public::routes())
}

/// One entry of the navigation.
pub struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) active: bool,
}

/// What every page's frame needs.
pub struct Layout {
    pub(crate) t: Tr,
    pub(crate) title: &'static str,
    pub(crate) user: Option<(String, &'static str)>,
    pub(crate) csrf: String,
    pub(crate) nav: Vec<NavItem>,
    pub(crate) path: String,
}

impl Layout {
    pub(crate) fn new(caller: &Caller, title_key: &str, path: &str) -> Layout {
        let t = Tr(caller.locale);
        let p = &caller.principal;
        let mut nav = Vec::new();
        let mut add = |href: &'static str, key: &str, allowed: bool| {
            if allowed {
                nav.push(NavItem { href, label: t.get(key), active: href == path });
            }
        };
        let may = |a| authorize(p, a, None).is_ok();
        add("/", "nav.home", caller.user.is_some());
        add("/map", "nav.map", may(Action::ReadGrids));
        add("/report", "nav.report", may(Action::ReportCase));
        add("/cases", "nav.cases", may(Action::ReadCases));
        add("/dashboard", "nav.dashboard", may(Action::ReadCases));
        add("/settings/case-classes", "nav.case_classes", may(Action::ReadCases));
        add("/settings/calendar", "nav.calendar", may(Action::ReadCases));
        add("/grids", "nav.grids", may(Action::ReadGrids));
        add("/divisions", "nav.divisions", may(Action::ReadDivisions));
        add("/departments", "nav.departments", may(Action::ReadDepartments));
        add("/users", "nav.users", may(Action::ReadUsers));
        add("/audit", "nav.audit", may(Action::ReadAudit));
        Layout {
            t,
            title: t.get(title_key),
            user: caller.user.as_ref().map(|u| (u.display_name.clone(), role_label(u.role, caller.locale))),
            csrf: caller.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
            nav,
            path: path.into(),
        }
    }
}

fn role_label(r: Role, l: Locale) -> &'static str {
    match l {
        Locale::ZhCn => r.label_zh(),
        Locale::En => r.label_en(),
    }
}

pub(crate) fn html(t: impl Template) -> AppResult<Response> {
    html_status(StatusCode::OK, t)
}

pub(crate) fn html_status(status: StatusCode, t: impl Template) -> AppResult<Response> {
    let mut r = (status, Html(t.render()?)).into_response();
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    );
    Ok(r)
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(LOCATION, HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")));
    r
}

/// Only same-site relative paths may be redirect targets.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && n.len() < 512 => n,
        _ => "/",
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    status: u16,
    message: String,
}

/// `None` if the caller may open the page; else the answer: log in first, or why not.
pub(crate) fn denied(caller: &Caller, action: Action, path: &str) -> Option<Response> {
    match authorize(&caller.principal, action, None) {
        Ok(()) => None,
        Err(_) if caller.user.is_none() => Some(redirect(&format!("/login?next={}", urlencode(path)))),
        Err(_) => Some(error_page(caller, StatusCode::FORBIDDEN, Tr(caller.locale).get("error.forbidden").into())),
    }
}

fn error_page(caller: &Caller, status: StatusCode, message: String) -> Response {
    let page = ErrorPage { l: Layout::new(caller, "app.short", ""), status: status.as_u16(), message };
    html_status(status, page).unwrap_or_else(IntoResponse::into_response)
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|v| v[1..].to_string()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    jurisdiction: String,
    divisions: i64,
    departments: usize,
    users: Option<i64>,
}

async fn home(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadOwnProfile, "/") {
        return Ok(r);
    }
    let j = caller.principal.jurisdiction.clone().ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
    let jd = state.store.division(&j).await?;
    let departments = state
        .store
        .departments(None, Page { offset: 0, limit: 10_000 })
        .await?
        .iter()
        .filter(|d| caller.principal.concerns(&d.division))
        .count();
    let users = if authorize(&caller.principal, Action::ReadUsers, None).is_ok() {
        Some(state.store.count_users(&UserFilter { within: Some(j.clone()), ..Default::default() }).await?)
    } else {
        None
    };
    html(HomePage {
        l: Layout::new(&caller, "home.title", "/"),
        jurisdiction: format!("{} ({})", jd.name, jd.code),
        divisions: state.store.count_divisions(Some(&j)).await?,
        departments,
        users,
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    csrf: String,
    next: String,
    error: Option<&'static str>,
    username: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn login_form(
    caller: &Caller,
    next: &str,
    error: Option<&'static str>,
    username: String,
    status: StatusCode,
) -> AppResult<Response> {
    let csrf = password::random_token();
    let page = LoginPage {
        l: Layout::new(caller, "login.title", "/login"),
        csrf: csrf.clone(),
        next: next.into(),
        error,
        username,
    };
    let mut r = html_status(status, page)?;
    let cookie = format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600");
    r.headers_mut().append(SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII"));
    Ok(r)
}

async fn login_page(caller: Caller, ApiQuery(q): ApiQuery<NextQuery>) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref()).to_string();
    if caller.user.is_some() {
        return Ok(redirect(&next));
    }
    login_form(&caller, &next, None, String::new(), StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(f.next.as_deref()).to_string();
    let t = Tr(caller.locale);
    // Double-submit check: the form's token must equal the cookie set with the form.
    let cookie = auth::cookie(&headers, LOGIN_CSRF_COOKIE);
    if cookie.is_none() || cookie != Some(f.csrf.as_str()) {
        return login_form(&caller, &next, Some(t.get("login.expired")), f.username, StatusCode::FORBIDDEN);
    }
    match auth::authenticate(&state, &f.username, &f.password, &ip).await {
        Ok(l) => {
            let mut r = redirect(&next);
            let max_age = (l.session.expires_at - l.session.created_at).num_seconds();
            r.headers_mut().insert(
                SET_COOKIE,
                auth::session_cookie(Some(&l.token), max_age, auth::secure_cookies(&state, &headers)),
            );
            Ok(r)
        }
        Err(e) if e.code == ErrorCode::BadCredentials => {
            login_form(&caller, &next, Some(t.get("login.failed")), f.username, StatusCode::UNAUTHORIZED)
        }
        Err(e) if e.code == ErrorCode::TooManyRequests => {
            login_form(&caller, &next, Some(t.get("login.throttled")), f.username, StatusCode::TOO_MANY_REQUESTS)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

fn check_form_csrf(caller: &Caller, token: &str) -> AppResult<()> {
    match &caller.session {
        Some(s) if !token.is_empty() && s.csrf_token == token => Ok(()),
        _ => Err(AppError::new(ErrorCode::CsrfFailed)),
    }
}

async fn logout_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    FormBody(f): FormBody<CsrfForm>,
) -> AppResult<Response> {
    if let Some(s) = &caller.session {
        check_form_csrf(&caller, &f.csrf)?;
        state.store.delete_session(&caller.actor(), &s.token_hash).await?;
    }
    let mut r = redirect("/login");
    r.headers_mut().insert(SET_COOKIE, auth::session_cookie(None, 0, auth::secure_cookies(&state, &headers)));
    Ok(r)
}

#[derive(Deserialize)]
struct LocaleForm {
    locale: String,
    csrf: Option<String>,
    next: Option<String>,
}

async fn locale_submit(
    State(state): State<AppState>,
    caller: Caller,
    FormBody(f): FormBody<LocaleForm>,
) -> AppResult<Response> {
    let locale = Locale::from_tag(&f.locale).ok_or_else(|| AppError::field("locale", "locale must be zh-CN or en"))?;
    if let Some(u) = &caller.user {
        check_form_csrf(&caller, f.csrf.as_deref().unwrap_or(""))?;
        state.store.set_locale(&caller.actor(), u.id, locale).await?;
    }
    let mut r = redirect(safe_next(f.next.as_deref()));
    let cookie = format!("{LOCALE_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000", locale.as_str());
    r.headers_mut().insert(SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII"));
    Ok(r)
}

/// A division row on the divisions page.
struct DivisionRow {
    code: String,
    name: String,
    level: &'static str,
    has_children: bool,
}

#[derive(Template)]
#[template(path = "divisions.html")]
struct DivisionsPage {
    l: Layout,
    current: Option<(String, String)>,
    up: Option<String>,
    rows: Vec<DivisionRow>,
}

async fn divisions_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<crate::api::DivisionQuery>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadDivisions, "/divisions") {
        return Ok(r);
    }
    let t = Tr(caller.locale);
    let parent = match q.parent.as_deref() {
        Some(p) => Some(
            DivisionCode::parse(p).map_err(|e| AppError::msg(ErrorCode::InvalidQuery, e.to_string()).at("parent"))?,
        ),
        None => caller.principal.jurisdiction.clone(),
    };
    let (current, up) = match &parent {
        Some(p) => {
            let d = state.store.division(p).await?;
            (Some((d.code.to_string(), d.name.clone())), d.parent().map(|c| c.to_string()))
        }
        None => (None, None),
    };
    let children = state.store.child_divisions(parent.as_ref()).await?;
    let rows = children
        .iter()
        .map(|d| DivisionRow {
            code: d.code.to_string(),
            name: d.name.clone(),
            level: t.get(&format!("level.{}", d.level().as_str())),
            has_children: d.level() != zhili_core::DivisionLevel::Village,
        })
        .collect();
    html(DivisionsPage { l: Layout::new(&caller, "divisions.title", "/divisions"), current, up, rows })
}

#[derive(Template)]
#[template(path = "departments.html")]
struct DepartmentsPage {
    l: Layout,
    rows: Vec<zhili_core::model::Department>,
}

async fn departments_page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadDepartments, "/departments") {
        return Ok(r);
    }
    let rows = state
        .store
        .departments(None, Page { offset: 0, limit: 10_000 })
        .await?
        .into_iter()
        .filter(|d| caller.principal.concerns(&d.division))
        .collect();
    html(DepartmentsPage { l: Layout::new(&caller, "departments.title", "/departments"), rows })
}

/// A user row on the users page (phone masked).
struct UserRow {
    username: String,
    name: String,
    role: &'static str,
    jurisdiction: String,
    phone: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    l: Layout,
    rows: Vec<UserRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

#[derive(Deserialize)]
struct OffsetQuery {
    offset: Option<i64>,
}

const PAGE_SIZE: i64 = 50;

fn user_row(u: &User, l: Locale) -> UserRow {
    UserRow {
        username: u.username.clone(),
        name: u.display_name.clone(),
        role: role_label(u.role, l),
        jurisdiction: u.jurisdiction.to_string(),
        phone: u.phone.as_deref().map(zhili_core::mask::mask_phone).unwrap_or_default(),
    }
}

fn pager(offset: i64, total: i64) -> (Option<i64>, Option<i64>) {
    let prev = (offset > 0).then(|| (offset - PAGE_SIZE).max(0));
    let next = (offset + PAGE_SIZE < total).then_some(offset + PAGE_SIZE);
    (prev, next)
}

async fn users_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OffsetQuery>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadUsers, "/users") {
        return Ok(r);
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let filter = UserFilter { within: caller.principal.jurisdiction.clone(), ..Default::default() };
    let users = state.store.users(&filter, Page { offset, limit: PAGE_SIZE }).await?;
    let total = state.store.count_users(&filter).await?;
    state
        .store
        .audit(
            &zhili_core::audit::AuditEvent::success(&caller.actor(), "user.list", "users")
                .with_detail(serde_json::json!({"within": filter.within, "returned": users.len(), "page": "/users"})),
        )
        .await?;
    let (prev, next) = pager(offset, total);
    html(UsersPage {
        l: Layout::new(&caller, "users.title", "/users"),
        rows: users.iter().map(|u| user_row(u, caller.locale)).collect(),
        total,
        prev,
        next,
    })
}

struct GridRow {
    code: String,
    name: String,
    level: String,
    parent: String,
    village: String,
}

#[derive(Template)]
#[template(path = "grids.html")]
struct GridsPage {
    l: Layout,
    rows: Vec<GridRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
    may_import: bool,
}

async fn grids_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OffsetQuery>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadGrids, "/grids") {
        return Ok(r);
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let (grids, total) = match crate::grids::visible(&state, &caller, None).await? {
        crate::grids::Visible::Listed(mine) => {
            let n = mine.len() as i64;
            (mine.into_iter().skip(offset as usize).take(PAGE_SIZE as usize).collect(), n)
        }
        crate::grids::Visible::Within(w) => (
            state.store.grids(Some(&w), Page { offset, limit: PAGE_SIZE }).await?,
            state.store.count_grids(Some(&w)).await?,
        ),
        crate::grids::Visible::Nothing => (vec![], 0),
    };
    let (prev, next) = pager(offset, total);
    html(GridsPage {
        l: Layout::new(&caller, "grids.title", "/grids"),
        rows: grids
            .iter()
            .map(|g| GridRow {
                code: g.code.to_string(),
                name: g.name.clone(),
                level: state.grid_rules.levels.name(g.level).unwrap_or("").to_string(),
                parent: g.parent.as_ref().map(ToString::to_string).unwrap_or_default(),
                village: g.village().to_string(),
            })
            .collect(),
        total,
        prev,
        next,
        may_import: authorize(&caller.principal, Action::ManageGrids, None).is_ok(),
    })
}

struct CaseRow {
    id: i64,
    version: i64,
    class: String,
    state: &'static str,
    address: String,
    department: String,
    deadline: String,
    overdue: bool,
    reported: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
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
    error: Option<String>,
}

/// A major class in the worklist's class filter: (code, name, its minor classes as (code, name)).
type MajorOption = (String, String, Vec<(String, String)>);

/// Query of the worklist page.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct CasesPageQuery {
    state: Option<String>,
    overdue: Option<String>,
    class: Option<String>,
    department: Option<String>,
    grid: Option<String>,
    from: Option<String>,
    to: Option<String>,
    offset: Option<i64>,
}

async fn cases_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CasesPageQuery>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadCases, "/cases") {
        return Ok(r);
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let overdue = q.overdue.as_deref() == Some("1");
    let given = |v: &Option<String>| v.clone().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let st = given(&q.state);
    let query = crate::cases::CaseQuery {
        state: st.clone(),
        overdue: Some(overdue),
        class: given(&q.class),
        department: given(&q.department),
        grid: given(&q.grid),
        from: given(&q.from),
        to: given(&q.to),
        ..crate::cases::CaseQuery::default()
    };
    let tr = Tr(caller.locale);
    let mut error = None;
    let (cases, (total, exact)) = match crate::cases::scoped_filter(&state, &caller, &query).await {
        Ok(Some(f)) => {
            let page = Page { offset, limit: PAGE_SIZE };
            tokio::try_join!(state.store.cases(&f, page), crate::cases::count_upto(&state, &f))?
        }
        Ok(None) => (vec![], (0, true)),
        // A bad filter is shown on the page, naming the field; the list is empty.
        Err(e) if e.code == ErrorCode::InvalidQuery || e.code == ErrorCode::InvalidField => {
            let d = e.detail();
            error = Some(format!("{}: {}", d.field.unwrap_or_default(), d.message));
            (vec![], (0, true))
        }
        Err(e) => return Err(e),
    };
    let catalogue = state.cases.catalogue(state.store.as_ref()).await?;
    let calendar = state.cases.calendar(state.store.as_ref()).await?;
    let en = caller.locale == Locale::En;
    let now = chrono::Utc::now();
    let local =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&calendar.offset()).format("%Y-%m-%d %H:%M").to_string();
    let rows = cases
        .iter()
        .map(|c| CaseRow {
            id: c.id,
            version: c.version,
            class: catalogue.get(&c.class_code).map(|k| k.name.clone()).unwrap_or_else(|| c.class_code.to_string()),
            state: if en { c.status.state.label_en() } else { c.status.state.label_zh() },
            address: c.address.clone(),
            department: c.status.department.clone().unwrap_or_default(),
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
        ("from", &query.from),
        ("to", &query.to),
    ] {
        if let Some(v) = v {
            keep.push_str(&format!("&{name}={}", urlencode(v)));
        }
    }
    if overdue {
        keep.push_str("&overdue=1");
    }
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
    let departments =
        state.cases.departments(state.store.as_ref()).await?.iter().map(|d| (d.code.clone(), d.name.clone())).collect();
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
            from: query.from,
            to: query.to,
            offset: None,
        },
        classes,
        departments,
        bulk,
        error,
    })
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    l: Layout,
    id: i64,
    basemap_url: String,
    basemap_crs: &'static str,
    basemap_attribution: String,
}

async fn case_page(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadCases, "/cases") {
        return Ok(r);
    }
    let Some(id) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return Ok(error_page(&caller, StatusCode::NOT_FOUND, Tr(caller.locale).get("error.not_found").into()));
    };
    let (basemap_url, basemap_crs, basemap_attribution) = basemap_fields(&state);
    let page =
        CasePage { l: Layout::new(&caller, "case.title", "/cases"), id, basemap_url, basemap_crs, basemap_attribution };
    // Photos are shown as images from our own API; the mini-map uses MapLibre's worker.
    with_map_csp(html(page)?, &state)
}

/// Operators taking calls (12345 热线) enter cases here; grid workers use the phone page.
fn may_intake(caller: &Caller) -> bool {
    authorize(&caller.principal, Action::ReportCase, None).is_ok() && caller.principal.role != Role::GridWorker
}

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    l: Layout,
    sources: Vec<(&'static str, &'static str)>,
    basemap_url: String,
    basemap_crs: &'static str,
    basemap_attribution: String,
}

/// The hotline operator's intake (热线录入): the case's fields and a map to click its position.
async fn intake_page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
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

/// The configured basemap as a page passes it to its map: URL, CRS and attribution.
fn basemap_fields(state: &AppState) -> (String, &'static str, String) {
    let basemap = state.config.basemap.as_ref();
    (
        basemap.map(|b| b.url.clone()).unwrap_or_default(),
        basemap.map(|b| b.crs.as_str()).unwrap_or("wgs84"),
        basemap.map(|b| b.attribution.clone()).unwrap_or_default(),
    )
}

/// The Content-Security-Policy of a page with a map: MapLibre's CSP build (its worker is our own
/// file, its styles are inline); a configured basemap's origin is the one other place the page
/// may fetch from.
fn with_map_csp(mut r: Response, state: &AppState) -> AppResult<Response> {
    let extra = state.config.basemap.as_ref().map(|b| format!(" {}", b.origin())).unwrap_or_default();
    let csp = format!(
        "default-src 'self'; img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    );
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_str(&csp).map_err(|_| AppError::new(ErrorCode::Internal))?,
    );
    Ok(r)
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    l: Layout,
}

async fn report_page(caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReportCase, "/report") {
        return Ok(r);
    }
    html(ReportPage { l: Layout::new(&caller, "report.title", "/report") })
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    rows: Vec<zhili_core::audit::AuditRecord>,
    prev: Option<i64>,
    next: Option<i64>,
    total: i64,
}

async fn audit_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OffsetQuery>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadAudit, "/audit") {
        return Ok(r);
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let rows = state.store.recent_audit(Page { offset, limit: PAGE_SIZE }).await?;
    let total = state.store.audit_head().await?.map(|h| h.0).unwrap_or(0);
    let (prev, next) = pager(offset, total);
    html(AuditPage { l: Layout::new(&caller, "audit.title", "/audit"), rows, prev, next, total })
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    l: Layout,
    basemap_url: String,
    basemap_crs: &'static str,
    basemap_attribution: String,
    /// Whether the cases layer (案件图层) is offered: to those who may read cases.
    show_cases: bool,
}

async fn map_page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadGrids, "/map") {
        return Ok(r);
    }
    let (basemap_url, basemap_crs, basemap_attribution) = basemap_fields(&state);
    let page = MapPage {
        l: Layout::new(&caller, "map.title", "/map"),
        basemap_url,
        basemap_crs,
        basemap_attribution,
        show_cases: authorize(&caller.principal, Action::ReadCases, None).is_ok(),
    };
    with_map_csp(html(page)?, &state)
}

/// MapLibre GL JS, vendored with its licence (see assets/vendor/maplibre-gl/README.md).
const VENDOR: &[(&str, &str, &[u8])] = &[
    (
        "maplibre-gl-csp.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/maplibre-gl/maplibre-gl-csp.js"),
    ),
    (
        "maplibre-gl-csp-worker.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/maplibre-gl/maplibre-gl-csp-worker.js"),
    ),
    ("maplibre-gl.css", "text/css; charset=utf-8", include_bytes!("../assets/vendor/maplibre-gl/maplibre-gl.css")),
    ("LICENSE.txt", "text/plain; charset=utf-8", include_bytes!("../assets/vendor/maplibre-gl/LICENSE.txt")),
];

/// Apache ECharts, vendored with its licence (see assets/vendor/echarts/README.md).
const ECHARTS: &[(&str, &str, &[u8])] = &[
    (
        "echarts.common.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/echarts/echarts.common.min.js"),
    ),
    ("LICENSE", "text/plain; charset=utf-8", include_bytes!("../assets/vendor/echarts/LICENSE")),
    ("NOTICE", "text/plain; charset=utf-8", include_bytes!("../assets/vendor/echarts/NOTICE")),
];

async fn echarts_asset(Path(file): Path<String>) -> Response {
    serve_vendored(ECHARTS, &file)
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
}

async fn dashboard_page(caller: Caller) -> AppResult<Response> {
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
#[template(path = "settings_classes.html")]
struct CaseClassesPage {
    l: Layout,
    /// Administrators (`ManageCaseSettings`) edit; every other case role reads.
    may_edit: bool,
}

/// The catalogue of case classes (案件分类): a searchable table, a form editing one class,
/// spreadsheet export and import. Data and writes go through `/api/case-classes`.
async fn case_classes_page(caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadCases, "/settings/case-classes") {
        return Ok(r);
    }
    let may_edit = authorize(&caller.principal, Action::ManageCaseSettings, None).is_ok();
    let l = Layout::new(&caller, "classes.title", "/settings/case-classes");
    html(CaseClassesPage { l, may_edit })
}

#[derive(Template)]
#[template(path = "settings_calendar.html")]
struct CalendarPage {
    l: Layout,
    /// Administrators (`ManageCaseSettings`) edit; every other case role reads.
    may_edit: bool,
}

/// The working-time calendar (工作日历): periods, rest days, the UTC offset and a year of
/// holidays and make-up days. Data and writes go through `/api/work-calendar`.
async fn calendar_page(caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadCases, "/settings/calendar") {
        return Ok(r);
    }
    let may_edit = authorize(&caller.principal, Action::ManageCaseSettings, None).is_ok();
    let l = Layout::new(&caller, "calendar.title", "/settings/calendar");
    html(CalendarPage { l, may_edit })
}

fn serve_vendored(table: &[(&str, &'static str, &'static [u8])], file: &str) -> Response {
    match table.iter().find(|a| a.0 == file) {
        Some((_, ty, body)) => {
            let mut r = (*body).into_response();
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ty));
            r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
            r
        }
        None => AppError::new(ErrorCode::NotFound).into_response(),
    }
}

async fn vendor_asset(Path(file): Path<String>) -> Response {
    serve_vendored(VENDOR, &file)
}

/// Files embedded in the binary: no CDN, nothing fetched at run time.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../assets/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../assets/app.js")),
    ("map.js", "text/javascript; charset=utf-8", include_str!("../assets/map.js")),
    ("map-cases.js", "text/javascript; charset=utf-8", include_str!("../assets/map-cases.js")),
    ("minimap.js", "text/javascript; charset=utf-8", include_str!("../assets/minimap.js")),
    ("intake.js", "text/javascript; charset=utf-8", include_str!("../assets/intake.js")),
    ("grids.js", "text/javascript; charset=utf-8", include_str!("../assets/grids.js")),
    ("worklist.js", "text/javascript; charset=utf-8", include_str!("../assets/worklist.js")),
    ("case.js", "text/javascript; charset=utf-8", include_str!("../assets/case.js")),
    ("report.js", "text/javascript; charset=utf-8", include_str!("../assets/report.js")),
    ("dashboard.js", "text/javascript; charset=utf-8", include_str!("../assets/dashboard.js")),
    ("notify.js", "text/javascript; charset=utf-8", include_str!("../assets/notify.js")),
    ("settings-classes.js", "text/javascript; charset=utf-8", include_str!("../assets/settings-classes.js")),
    ("settings-calendar.js", "text/javascript; charset=utf-8", include_str!("../assets/settings-calendar.js")),
    ("public-report.js", "text/javascript; charset=utf-8", include_str!("../assets/public-report.js")),
];

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.0 == file) {
        Some((_, ty, body)) => {
            let mut r = (*body).into_response();
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ty));
            r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            r
        }
        None => AppError::new(ErrorCode::NotFound).into_response(),
    }
}

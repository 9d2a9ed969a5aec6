//! The platform core's pages (平台页面): home, login and logout, language, divisions,
//! departments, users and the audit log.

use askama::Template;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use zhili_core::codes::DivisionCode;
use zhili_core::model::{Locale, User};
use zhili_core::policy::{Action, Role};
use zhili_core::store::{Page, UserFilter};
use zhili_core::{password, ErrorCode};

use crate::core::auth;
use crate::web::caller::{Caller, LOCALE_COOKIE, LOGIN_CSRF_COOKIE};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ApiQuery, ClientIp, FormBody};
use crate::web::i18n::Tr;
use crate::web::module::{BoxFuture, HomeSection, HomeTile};
use crate::web::page::*;
use crate::AppState;

#[derive(Template)]
#[template(path = "core/templates/home.html")]
struct HomePage {
    l: Layout,
    jurisdiction: String,
    /// Every module's sections for the caller, in order.
    sections: Vec<HomeSection>,
}

/// The home page (工作台): every module's part for the caller (`Module::home`) — their queues
/// with counts — in the sections' order.
pub(crate) async fn home(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadOwnProfile, "/") {
        return Ok(r);
    }
    let j = caller.principal.jurisdiction.clone().ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
    let jd = state.store.division(&j).await?;
    let mut sections = Vec::new();
    for parts in crate::web::module::homes() {
        sections.extend(parts(&state, &caller).await?);
    }
    sections.sort_by_key(|s| s.order);
    html(HomePage {
        l: Layout::new(&caller, "home.title", "/"),
        jurisdiction: format!("{} ({})", jd.name, jd.code),
        sections,
    })
}

/// The core's part of the home page: for administrators, the platform's size (divisions,
/// departments, users in their jurisdiction).
pub(crate) fn home_parts<'a>(state: &'a AppState, caller: &'a Caller) -> BoxFuture<'a, AppResult<Vec<HomeSection>>> {
    Box::pin(async move {
        if caller.principal.role != Role::Admin {
            return Ok(vec![]);
        }
        let Some(j) = caller.principal.jurisdiction.clone() else { return Ok(vec![]) };
        let t = Tr(caller.locale);
        let departments = state
            .store
            .departments(None, Page { offset: 0, limit: 10_000 })
            .await?
            .iter()
            .filter(|d| caller.principal.concerns(&d.division))
            .count();
        let divisions = state.store.count_divisions(Some(&j)).await?;
        let users = state.store.count_users(&UserFilter { within: Some(j.clone()), ..Default::default() }).await?;
        let tile = |id, key: &str, n: i64, href: &str| HomeTile {
            id,
            label: t.get(key).into(),
            figure: n.to_string(),
            href: href.into(),
            alert: false,
        };
        Ok(vec![HomeSection {
            id: "platform",
            order: 50,
            title: t.get("home.platform").into(),
            tiles: vec![
                tile("divisions", "home.divisions", divisions, "/divisions"),
                tile("departments", "home.departments", departments as i64, "/departments"),
                tile("users", "home.users", users, "/users"),
            ],
        }])
    })
}

#[derive(Template)]
#[template(path = "core/templates/login.html")]
struct LoginPage {
    l: Layout,
    csrf: String,
    next: String,
    error: Option<&'static str>,
    username: String,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
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

pub(crate) async fn login_page(caller: Caller, ApiQuery(q): ApiQuery<NextQuery>) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref()).to_string();
    if caller.user.is_some() {
        return Ok(redirect(&next));
    }
    login_form(&caller, &next, None, String::new(), StatusCode::OK)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(f.next.as_deref()).to_string();
    let t = Tr(caller.locale);
    // Double-submit check: the form's token must equal the cookie set with the form.
    let cookie = crate::web::caller::cookie(&headers, LOGIN_CSRF_COOKIE);
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
pub(crate) struct CsrfForm {
    csrf: String,
}

fn check_form_csrf(caller: &Caller, token: &str) -> AppResult<()> {
    match &caller.session {
        Some(s) if !token.is_empty() && s.csrf_token == token => Ok(()),
        _ => Err(AppError::new(ErrorCode::CsrfFailed)),
    }
}

pub(crate) async fn logout_submit(
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
pub(crate) struct LocaleForm {
    locale: String,
    csrf: Option<String>,
    next: Option<String>,
}

pub(crate) async fn locale_submit(
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
#[template(path = "core/templates/divisions.html")]
struct DivisionsPage {
    l: Layout,
    current: Option<(String, String)>,
    up: Option<String>,
    rows: Vec<DivisionRow>,
}

pub(crate) async fn divisions_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<crate::core::api::DivisionQuery>,
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
#[template(path = "core/templates/departments.html")]
struct DepartmentsPage {
    l: Layout,
    /// Each department with its division's name (the code in the tooltip).
    rows: Vec<(zhili_core::model::Department, String)>,
}

/// The names of the divisions `codes` name (each looked up once); a code that names no division
/// stays as it is.
async fn division_names(
    state: &AppState,
    codes: Vec<zhili_core::codes::DivisionCode>,
) -> AppResult<std::collections::HashMap<String, String>> {
    let mut names = std::collections::HashMap::new();
    for code in codes {
        if names.contains_key(code.as_str()) {
            continue;
        }
        let name = match state.store.division(&code).await {
            Ok(d) => d.name,
            Err(zhili_core::store::StoreError::NotFound) => code.to_string(),
            Err(e) => return Err(e.into()),
        };
        names.insert(code.to_string(), name);
    }
    Ok(names)
}

pub(crate) async fn departments_page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadDepartments, "/departments") {
        return Ok(r);
    }
    let rows: Vec<_> = state
        .store
        .departments(None, Page { offset: 0, limit: 10_000 })
        .await?
        .into_iter()
        .filter(|d| caller.principal.concerns(&d.division))
        .collect();
    let names = division_names(&state, rows.iter().map(|d| d.division.clone()).collect()).await?;
    let rows = rows
        .into_iter()
        .map(|d| {
            let name = names.get(d.division.as_str()).cloned().unwrap_or_default();
            (d, name)
        })
        .collect();
    html(DepartmentsPage { l: Layout::new(&caller, "departments.title", "/departments"), rows })
}

/// A user row on the users page (phone masked).
struct UserRow {
    username: String,
    name: String,
    role: &'static str,
    /// The jurisdiction: (name, code).
    jurisdiction: (String, String),
    phone: String,
}

#[derive(Template)]
#[template(path = "core/templates/users.html")]
struct UsersPage {
    l: Layout,
    /// The search, as typed (for the form and the pager's links).
    q: String,
    /// The search, URL-encoded.
    q_url: String,
    rows: Vec<UserRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

fn user_row(u: &User, l: Locale, names: &std::collections::HashMap<String, String>) -> UserRow {
    let code = u.jurisdiction.to_string();
    UserRow {
        username: u.username.clone(),
        name: u.display_name.clone(),
        role: role_label(u.role, l),
        jurisdiction: (names.get(&code).cloned().unwrap_or_else(|| code.clone()), code),
        phone: u.phone.as_deref().map(zhili_core::mask::mask_phone).unwrap_or_default(),
    }
}

/// Query of `/users`: a page, and a search by username or name.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UsersQuery {
    offset: Option<i64>,
    q: Option<String>,
}

pub(crate) async fn users_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UsersQuery>,
) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadUsers, "/users") {
        return Ok(r);
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let text = crate::core::api::user_text(q.q.as_deref())?;
    let filter = UserFilter { within: caller.principal.jurisdiction.clone(), text, ..Default::default() };
    let users = state.store.users(&filter, Page { offset, limit: PAGE_SIZE }).await?;
    let total = state.store.count_users(&filter).await?;
    state
        .store
        .audit(&zhili_core::audit::AuditEvent::success(&caller.actor(), "user.list", "users").with_detail(
            serde_json::json!({"within": filter.within, "q": filter.text, "returned": users.len(), "page": "/users"}),
        ))
        .await?;
    let (prev, next) = pager(offset, total);
    let names = division_names(&state, users.iter().map(|u| u.jurisdiction.clone()).collect()).await?;
    html(UsersPage {
        l: Layout::new(&caller, "users.title", "/users"),
        q_url: urlencode(filter.text.as_deref().unwrap_or("")),
        q: filter.text.unwrap_or_default(),
        rows: users.iter().map(|u| user_row(u, caller.locale, &names)).collect(),
        total,
        prev,
        next,
    })
}

#[derive(Template)]
#[template(path = "core/templates/audit.html")]
struct AuditPage {
    l: Layout,
    rows: Vec<zhili_core::audit::AuditRecord>,
    prev: Option<i64>,
    next: Option<i64>,
    total: i64,
    /// The deployment's local time (`web::clock`): instants are shown in it, the zone in a tooltip.
    offset: chrono::FixedOffset,
}

impl AuditPage {
    /// An action's or outcome's label (`audit.action.<code>`, `audit.outcome.<code>`,
    /// registered by the module that writes it); the code itself when none is registered.
    fn label<'a>(&self, kind: &str, code: &'a str) -> std::borrow::Cow<'a, str> {
        match self.l.t.try_get(&format!("audit.{kind}.{code}")) {
            Some(label) => label.into(),
            None => code.into(),
        }
    }
}

impl AuditPage {
    /// An instant in the deployment's local time, as every page shows one.
    fn at(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.with_timezone(&self.offset).format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// The zone of the local times, for their tooltip: `UTC+08:00`.
    fn zone(&self) -> String {
        format!("UTC{}", self.offset)
    }

    /// The label of an actor that is not a user (`system`, `anonymous`); a user's name is
    /// shown as it is.
    fn actor(&self, name: &str) -> Option<&'static str> {
        self.l.t.try_get(&format!("audit.actor.{name}"))
    }
}

pub(crate) async fn audit_page(
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
    let offset = crate::web::clock::local_offset(&state.ports).await;
    html(AuditPage { l: Layout::new(&caller, "audit.title", "/audit"), rows, prev, next, total, offset })
}

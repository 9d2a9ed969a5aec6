//! The platform core (平台核心): login and sessions, the caller's profile, divisions,
//! departments, users and the audit log — their API and pages.

pub mod api;
pub mod auth;
pub mod pages;
pub mod views;

use axum::routing::{get, post, put};
use axum::Router;

use crate::AppState;
use zhili_core::policy::Action;

use crate::web::module::{Module, NavEntry, Needs};

/// The core's routes: login and logout, the caller's profile, divisions, departments, users,
/// the audit log, health and metrics, and their pages.
pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(api::me))
        .route("/api/me/locale", put(api::set_my_locale))
        .route("/api/me/password", put(api::change_my_password))
        .route("/api/divisions", get(api::list_divisions))
        .route("/api/divisions/{code}", get(api::get_division).put(api::put_division))
        .route("/api/departments", get(api::list_departments).post(api::create_department))
        .route("/api/departments/{id}", get(api::get_department))
        .route("/api/users", get(api::list_users).post(api::create_user))
        .route("/api/users/{id}", get(api::get_user).patch(api::update_user))
        .route("/api/users/{id}/personal", get(api::get_user_personal))
        .route("/api/users/{id}/password", put(api::set_user_password))
        .route("/api/audit", get(api::list_audit))
        .route("/api/audit/verify", get(api::verify_audit))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/", get(pages::home))
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/logout", post(pages::logout_submit))
        .route("/locale", post(pages::locale_submit))
        .route("/divisions", get(pages::divisions_page))
        .route("/departments", get(pages::departments_page))
        .route("/users", get(pages::users_page))
        .route("/audit", get(pages::audit_page))
}

/// The core module (平台核心): its routes, navigation and messages.
pub static MODULE: Module = Module {
    routes,
    nav: &[
        NavEntry { href: "/", key: "nav.home", needs: Needs::LoggedIn, order: 10 },
        NavEntry { href: "/divisions", key: "nav.divisions", needs: Needs::Action(Action::ReadDivisions), order: 90 },
        NavEntry {
            href: "/departments",
            key: "nav.departments",
            needs: Needs::Action(Action::ReadDepartments),
            order: 100,
        },
        NavEntry { href: "/users", key: "nav.users", needs: Needs::Action(Action::ReadUsers), order: 110 },
        NavEntry { href: "/audit", key: "nav.audit", needs: Needs::Action(Action::ReadAudit), order: 120 },
    ],
    messages: MESSAGES,
    openapi: <Doc as utoipa::OpenApi>::openapi,
    home: Some(pages::home_parts),
    ..Module::named("core")
};

/// This module's part of the OpenAPI document (merged by `crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        auth::login, auth::logout, api::me, api::set_my_locale, api::change_my_password,
        api::list_divisions, api::get_division, api::put_division,
        api::list_departments, api::get_department, api::create_department,
        api::list_users, api::get_user, api::get_user_personal, api::create_user, api::update_user, api::set_user_password,
        api::list_audit, api::verify_audit, api::healthz, api::metrics,
    ),
    components(schemas(views::Paged<views::UserView>)),
)]
struct Doc;

/// This module's UI messages (key, zh-CN, English).
const MESSAGES: &[crate::web::module::Message] = &[
    ("audit.outcome.success", "成功", "Success"),
    ("audit.actor.system", "系统", "System"),
    ("audit.actor.anonymous", "匿名", "Anonymous"),
    ("audit.outcome.denied", "拒绝", "Denied"),
    ("audit.outcome.failed", "失败", "Failed"),
    ("audit.action.auth.login", "登录", "Log in"),
    ("audit.action.auth.logout", "退出登录", "Log out"),
    ("audit.action.batch.load", "批量导入", "Batch load"),
    ("audit.action.department.create", "新建部门", "Department created"),
    ("audit.action.division.upsert", "保存行政区划", "Division saved"),
    ("audit.action.user.create", "新建用户", "User created"),
    ("audit.action.user.list", "查看用户列表", "Users listed"),
    ("audit.action.user.read", "查看用户", "User read"),
    ("audit.action.user.read_personal", "查看个人信息", "Personal data read"),
    ("audit.action.user.set_locale", "设置界面语言", "Language set"),
    ("audit.action.user.set_password", "修改密码", "Password changed"),
    ("audit.action.user.update", "修改用户", "User changed"),
    ("field.username", "用户名", "username"),
    ("field.code", "编码", "code"),
    ("field.name", "名称", "name"),
    ("field.version", "版本", "version"),
    ("nav.home", "首页", "Home"),
    ("nav.divisions", "行政区划", "Divisions"),
    ("nav.departments", "部门", "Departments"),
    ("nav.users", "用户", "Users"),
    ("nav.audit", "审计日志", "Audit log"),
    ("login.title", "登录", "Log in"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Log in"),
    ("login.failed", "用户名或密码错误", "Wrong username or password"),
    ("login.throttled", "尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    ("login.expired", "表单已过期，请重试", "The form expired; please try again"),
    ("home.title", "工作台", "Overview"),
    ("home.welcome", "欢迎", "Welcome"),
    ("home.jurisdiction", "辖区", "Jurisdiction"),
    ("home.role", "角色", "Role"),
    ("home.divisions", "行政区划数", "Divisions"),
    ("home.departments", "部门数", "Departments"),
    ("home.users", "用户数", "Users"),
    ("home.platform", "平台概况", "Platform"),
    ("divisions.title", "行政区划", "Administrative divisions"),
    ("divisions.code", "代码", "Code"),
    ("divisions.name", "名称", "Name"),
    ("divisions.level", "层级", "Level"),
    ("divisions.children", "下级", "Children"),
    ("divisions.up", "上一级", "Up one level"),
    ("departments.title", "部门与机构", "Departments and agencies"),
    ("departments.code", "编码", "Code"),
    ("departments.name", "名称", "Name"),
    ("departments.division", "所在区划", "Division"),
    ("departments.command", "指挥中心", "Command centre"),
    ("users.title", "用户", "Users"),
    ("users.search", "查找用户", "Find users"),
    ("users.search_hint", "用户名或姓名", "Username or name"),
    ("users.search_go", "查找", "Find"),
    ("users.username", "用户名", "Username"),
    ("users.name", "姓名", "Name"),
    ("users.role", "角色", "Role"),
    ("users.jurisdiction", "辖区", "Jurisdiction"),
    ("users.phone", "手机", "Phone"),
    ("audit.title", "审计日志", "Audit log"),
    ("audit.seq", "序号", "No."),
    ("audit.at", "时间", "Time"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.action", "操作", "Action"),
    ("audit.target", "对象", "Target"),
    ("audit.ip", "来源地址", "From"),
    ("audit.outcome", "结果", "Outcome"),
    ("audit.chain_ok", "哈希链校验通过", "Hash chain verified"),
    ("audit.chain_broken", "哈希链已被篡改", "Hash chain broken"),
];

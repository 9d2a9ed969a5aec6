//! Platform services every module uses (平台服务): in-app notifications, their audiences and
//! the webhook outbox and sender.

pub mod notify;

use axum::routing::{get, post};
use axum::Router;

use crate::web::module::{Module, Needs, PageScript};
use crate::AppState;

/// The platform's routes: notifications (API, page, the bell's script) and the outbox.
pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/notifications", get(notify::list))
        .route("/api/notifications/count", get(notify::count))
        .route("/api/notifications/read", post(notify::mark_read))
        .route("/api/webhooks/deliveries", get(notify::deliveries))
        .route("/notifications", get(notify::page))
        .merge(crate::web::page::assets(&[(
            "notify.js",
            "text/javascript; charset=utf-8",
            include_str!("assets/notify.js"),
        )]))
}

/// Start the platform's background work: the webhook sender.
pub fn start(state: &AppState) {
    notify::start(state);
}

/// The platform module (平台服务): its routes, messages and the bell's script on every page.
pub static MODULE: Module = Module {
    routes,
    start,
    nav: &[],
    messages: MESSAGES,
    openapi: <Doc as utoipa::OpenApi>::openapi,
    page_scripts: &[PageScript { src: "/assets/notify.js", needs: Needs::LoggedIn }],
    ..Module::named("platform")
};

/// This module's part of the OpenAPI document (merged by `crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        notify::list, notify::count, notify::mark_read, notify::deliveries,
    ),
    components(schemas(crate::core::views::Paged<notify::NotificationView>)),
)]
struct Doc;

/// This module's UI messages (key, zh-CN, English).
const MESSAGES: &[crate::web::module::Message] = &[
    ("audit.action.notification.create", "发送通知", "Notifications sent"),
    ("audit.action.notification.read", "标记通知已读", "Notifications read"),
    ("audit.action.attachment.put", "上传文件", "File uploaded"),
    ("audit.action.setting.put", "修改设置", "Setting changed"),
    ("notifications.title", "消息通知", "Notifications"),
    ("notifications.unread", "未读", "Unread"),
    ("notifications.none", "暂无通知", "No notifications"),
    ("notifications.mark_all", "全部标为已读", "Mark all read"),
    ("notifications.kind", "类型", "Kind"),
    ("notifications.at", "时间", "Time"),
];

//! Notifications, audiences and outgoing webhooks (通知、受众与外发): platform services any
//! module uses.
//!
//! Who is told (audiences), what (notifications and deliveries about a subject) and the
//! retry schedule are the platform crate's (`zhili_platform`); this module sends and shows them.
//! - [`delivery_pass`] (every few seconds) takes due rows of the durable outbox, POSTs them
//!   signed with HMAC-SHA256, and records delivery or the next retry ([`retry_delay`]).
//! - The API (`/api/notifications…`, `/api/webhooks/deliveries`) and the `/notifications` page.
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zhili_core::audit::Actor;
use zhili_core::model::Locale;
use zhili_core::policy::{authorize, Action};
use zhili_core::store::Page;
use zhili_platform::notify::{retry_delay, Delivery, DeliveryOutcome, DeliveryStatus, Notification, NotificationStore};

use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::{ApiJson, ApiQuery};
use crate::AppState;

/// Deliveries taken per sender pass (sent concurrently).
const DELIVERY_BATCH: i64 = 32;
/// How often the sender looks for due deliveries.
const DELIVERY_INTERVAL: Duration = Duration::from_secs(5);
/// Longest a receiver may take to answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a taken delivery is reserved for this process (longer than any attempt).
const DELIVERY_LEASE: chrono::Duration = chrono::Duration::seconds(120);

/// An outgoing webhook (`[[webhooks]]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Unique name, stored with each delivery.
    pub name: String,
    /// Where to POST (`http://` or `https://`).
    pub url: String,
    /// Key of the HMAC-SHA256 signature of each body.
    pub secret: String,
    /// The events sent to it: stable names some module raises (`crate::webhook_events`).
    pub events: Vec<String>,
}

impl Webhook {
    /// A receiver URL, checked: absolute `http://` or `https://` with a host; normalised.
    pub fn parse_url(text: &str) -> Result<String, String> {
        let url = reqwest::Url::parse(text.trim()).map_err(|e| format!("is not a URL ({e}): {text:?}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("must be an http:// or https:// URL with a host, got {text:?}"));
        }
        Ok(url.to_string())
    }
}

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`, as sent in `X-Zhili-Signature`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub(crate) fn system() -> Actor {
    Actor::system()
}

/// A new delivery id (128 random bits, hex).
pub(crate) fn delivery_id() -> String {
    zhili_core::password::random_token()[..32].to_string()
}

// ---------------------------------------------------------------------------------------------
// Webhook sender

/// The HTTP client of the sender: 10 s timeout, no redirects; `https://` URLs are checked
/// against the system's trust store and the certificate authorities in `extra_ca_pem` (one
/// or more PEM certificates). Fails on a PEM that holds no certificate.
pub fn http_client(extra_ca_pem: Option<&[u8]>) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("zhili/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = extra_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err("no certificate in the PEM file".into());
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    b.build().map_err(|e| format!("cannot build the webhook client: {e}"))
}

/// POST one delivery; `Err` says why it failed.
async fn send(client: &reqwest::Client, hook: &Webhook, d: &Delivery) -> Result<(), String> {
    let r = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("x-zhili-event", &d.event)
        .header("x-zhili-delivery", &d.id)
        .header("x-zhili-signature", signature(&hook.secret, d.payload.as_bytes()))
        .body(d.payload.clone())
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", r.status().as_u16()))
    }
}

/// One sender pass at `now`: take due deliveries, send them concurrently, and record each
/// outcome (delivered, or the next attempt after [`retry_delay`], or given up). Returns how
/// many were delivered.
pub async fn delivery_pass(state: &AppState, client: &reqwest::Client, now: DateTime<Utc>) -> AppResult<usize> {
    let due = state.port::<dyn NotificationStore>().claim_deliveries(now, now + DELIVERY_LEASE, DELIVERY_BATCH).await?;
    let attempts = due.iter().map(|d| async move {
        let outcome = match state.config.webhooks.iter().find(|w| w.name == d.webhook) {
            None => DeliveryOutcome::Failed {
                error: format!("webhook {:?} is no longer configured", d.webhook),
                retry_at: None,
            },
            Some(hook) => match send(client, hook, d).await {
                Ok(()) => DeliveryOutcome::Delivered(now),
                Err(error) => {
                    tracing::warn!(delivery = %d.id, webhook = %d.webhook, attempt = d.attempts, %error, "webhook delivery failed");
                    DeliveryOutcome::Failed { error, retry_at: retry_delay(d.attempts).map(|x| now + x) }
                }
            },
        };
        (d, outcome)
    });
    let mut delivered = 0;
    for (d, outcome) in futures::future::join_all(attempts).await {
        delivered += usize::from(matches!(outcome, DeliveryOutcome::Delivered(_)));
        state.port::<dyn NotificationStore>().finish_delivery(&d.id, &outcome).await?;
    }
    Ok(delivered)
}

/// Start this process's webhook sender (every process may run it: deliveries are leased).
pub fn start(state: &AppState) {
    let s = state.clone();
    tokio::spawn(async move {
        let client = match http_client(s.config.webhook_ca_pem.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhook sender not started");
                return;
            }
        };
        let mut tick = tokio::time::interval(DELIVERY_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = delivery_pass(&s, &client, Utc::now()).await {
                tracing::error!(error = ?e, "webhook sender pass failed");
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// API

/// A notification as shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    /// Id.
    pub id: i64,
    /// The raising module's name for it (the case loop's: `dispatched`, `overdue`, `escalated`).
    pub kind: String,
    /// The kind in the caller's language.
    pub kind_label: String,
    /// What it is about, `kind:id` (`case:200001`).
    pub subject: Option<String>,
    /// The case concerned, when the subject is a case.
    pub case_id: Option<i64>,
    /// Level within the kind (escalation level, 1 = the first).
    pub level: Option<i32>,
    /// Short text (zh-CN).
    pub title: String,
    /// Longer text (zh-CN).
    pub body: String,
    /// Where it leads (the subject's page, e.g. `/cases/{id}`).
    pub url: Option<String>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When read; absent while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// The subject kind whose id the API also answers as `case_id` (the field predates subjects;
/// `subject` is the general one).
const CASE_SUBJECT: &str = "case";

/// A notification kind in the caller's language: the message `notification.kind.<kind>` its
/// module registers, else the kind's name.
fn kind_label(kind: &str, l: Locale) -> String {
    let key = format!("notification.kind.{kind}");
    match crate::web::module::message(&key) {
        Some((zh, en)) => match l {
            Locale::ZhCn => zh.to_string(),
            Locale::En => en.to_string(),
        },
        None => kind.to_string(),
    }
}

fn view(n: Notification, l: Locale) -> NotificationView {
    let url = n.subject.as_ref().and_then(crate::web::module::subject_href);
    NotificationView {
        id: n.id,
        kind_label: kind_label(&n.kind, l),
        kind: n.kind,
        case_id: n.subject.as_ref().and_then(|s| s.id_of(CASE_SUBJECT)),
        subject: n.subject.map(|s| s.to_string()),
        level: n.level,
        title: n.title,
        body: n.body,
        url,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

/// The logged-in user's id (notifications are always the caller's own).
fn me(caller: &Caller) -> AppResult<i64> {
    authorize(&caller.principal, Action::ReadOwnProfile, None)?;
    Ok(caller.require_user()?.id)
}

/// Query of `GET /api/notifications`.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
    /// Items to skip.
    pub offset: Option<i64>,
    /// Items to return, 1–1000.
    pub limit: Option<i64>,
}

/// The caller's own notifications, newest first (站内通知).
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = crate::core::views::Paged<NotificationView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> AppResult<Json<crate::core::views::Paged<NotificationView>>> {
    let user = me(&caller)?;
    let page = crate::core::api::PageQuery { offset: q.offset, limit: q.limit }.page()?;
    let unread = q.unread.unwrap_or(false);
    let (items, total) = tokio::try_join!(
        state.port::<dyn NotificationStore>().notifications(user, unread, page),
        state.port::<dyn NotificationStore>().count_notifications(user, unread)
    )?;
    Ok(Json(crate::core::views::Paged {
        items: items.into_iter().map(|n| view(n, caller.locale)).collect(),
        total,
        total_exact: true,
        offset: page.offset,
        limit: page.limit,
    }))
}

/// Answer of `GET /api/notifications/count`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UnreadCount {
    /// Unread notifications of the caller.
    pub unread: i64,
}

/// How many of the caller's notifications are unread (the bell).
#[utoipa::path(get, path = "/api/notifications/count", tag = "notifications",
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)))]
pub async fn count(State(state): State<AppState>, caller: Caller) -> AppResult<Json<UnreadCount>> {
    let user = me(&caller)?;
    Ok(Json(UnreadCount { unread: state.port::<dyn NotificationStore>().count_notifications(user, true).await? }))
}

/// Body of `POST /api/notifications/read`: `{"ids": [1, 2]}` or `{"all": true}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// These of the caller's notifications (others' are ignored).
    pub ids: Option<Vec<i64>>,
    /// All of the caller's notifications.
    pub all: Option<bool>,
}

/// Answer of `POST /api/notifications/read`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReadAnswer {
    /// How many changed from unread to read.
    pub marked: u64,
}

/// Mark the caller's own notifications read.
#[utoipa::path(post, path = "/api/notifications/read", tag = "notifications", request_body = ReadBody,
    responses((status = 200, body = ReadAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ReadBody>,
) -> AppResult<Json<ReadAnswer>> {
    let user = me(&caller)?;
    let marked = match (b.ids, b.all) {
        (Some(ids), None | Some(false)) => {
            if ids.is_empty() || ids.len() > 1000 {
                return Err(AppError::field("ids", "ids must list 1–1000 notification ids"));
            }
            state.port::<dyn NotificationStore>().mark_read(&caller.actor(), user, Some(&ids), Utc::now()).await?
        }
        (None, Some(true)) => {
            state.port::<dyn NotificationStore>().mark_read(&caller.actor(), user, None, Utc::now()).await?
        }
        _ => return Err(AppError::field("ids", "give either ids (a list) or all: true")),
    };
    Ok(Json(ReadAnswer { marked }))
}

/// An outbox row as shown to administrators.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// Delivery id (sent as `X-Zhili-Delivery`).
    pub id: String,
    /// Webhook name.
    pub webhook: String,
    /// Event name.
    pub event: String,
    /// What it is about, `kind:id`.
    pub subject: Option<String>,
    /// The case concerned, when the subject is a case.
    pub case_id: Option<i64>,
    /// `pending`, `delivered` or `failed` (given up).
    #[schema(value_type = String)]
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i32,
    /// When queued.
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// Recent webhook deliveries with their status, newest first (administrators; troubleshooting).
#[utoipa::path(get, path = "/api/webhooks/deliveries", tag = "notifications", params(crate::core::api::PageQuery),
    responses((status = 200, body = Vec<DeliveryView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<crate::core::api::PageQuery>,
) -> AppResult<Json<Vec<DeliveryView>>> {
    authorize(&caller.principal, Action::ReadAudit, None)?;
    let rows = state.port::<dyn NotificationStore>().deliveries(q.page()?).await?;
    Ok(Json(
        rows.into_iter()
            .map(|d| DeliveryView {
                status: d.status(),
                id: d.id,
                webhook: d.webhook,
                event: d.event,
                case_id: d.subject.as_ref().and_then(|s| s.id_of(CASE_SUBJECT)),
                subject: d.subject.map(|s| s.to_string()),
                attempts: d.attempts,
                created_at: d.created_at,
                next_attempt_at: d.next_attempt_at,
                delivered_at: d.delivered_at,
                last_error: d.last_error,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Page

/// One row of the notifications page.
struct Row {
    id: i64,
    kind: String,
    kind_label: String,
    title: String,
    body: String,
    href: String,
    at: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "platform/templates/notifications.html")]
struct NotificationsPage {
    l: crate::web::page::Layout,
    rows: Vec<Row>,
    unread: i64,
}

/// `/notifications`: the caller's latest notifications; opening one marks it read (JS).
pub async fn page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = crate::web::page::denied(&caller, Action::ReadOwnProfile, "/notifications") {
        return Ok(r);
    }
    let user = caller.require_user()?.id;
    let (items, unread) = tokio::try_join!(
        state.port::<dyn NotificationStore>().notifications(user, false, Page { offset: 0, limit: 200 }),
        state.port::<dyn NotificationStore>().count_notifications(user, true)
    )?;
    let offset = crate::web::clock::local_offset(&state.ports).await;
    let rows = items
        .into_iter()
        .map(|n| Row {
            id: n.id,
            kind_label: kind_label(&n.kind, caller.locale),
            href: n
                .subject
                .as_ref()
                .and_then(crate::web::module::subject_href)
                .unwrap_or_else(|| "/notifications".into()),
            kind: n.kind,
            at: n.created_at.with_timezone(&offset).format("%Y-%m-%d %H:%M").to_string(),
            unread: n.read_at.is_none(),
            title: n.title,
            body: n.body,
        })
        .collect();
    let l = crate::web::page::Layout::new(&caller, "notifications.title", "/notifications");
    crate::web::page::html(NotificationsPage { l, rows, unread })
}

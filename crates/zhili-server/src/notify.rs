//! Notifications, overdue escalation and outgoing webhooks (通知、超期督办与外发).
//!
//! - On dispatch, [`after_transition`] tells the department's staff and queues `case.dispatched`.
//! - [`escalation_pass`] (every `case.escalation_check_seconds`) pages through overdue running
//!   cases, works out which levels of the [`EscalationPolicy`] are due, and claims each
//!   (case, level, deadline) in the store together with its notifications and webhook events:
//!   one transaction per page, and a level the store has recorded already is never claimed
//!   again, by this or any other process. After its first complete pass a process reads only
//!   the clocks that may have a level newly due and the cases changed since ([`EscalationMark`]).
//! - [`delivery_pass`] (every few seconds) takes due rows of the durable outbox, POSTs them
//!   signed with HMAC-SHA256, and records delivery or the next retry ([`retry_delay`]).
//! - The API (`/api/notifications…`, `/api/webhooks/deliveries`) and the `/notifications` page.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use zhili_case::calendar::WorkCalendar;
use zhili_case::model::Case;
use zhili_case::notify::{
    dispatch_notice, escalation_notice, retry_delay, Audience, Delivery, DeliveryStatus, EscalationPolicy, NewDelivery,
    NewNotification, Notification, NotificationKind, WebhookEvent,
};
use zhili_case::store::{DeliveryOutcome, Escalation};
use zhili_case::workflow::CaseState;
use zhili_core::audit::Actor;
use zhili_core::codes::{DivisionCode, DivisionLevel};
use zhili_core::model::Locale;
use zhili_core::policy::{authorize, Action, Role};
use zhili_core::store::{Page, StoreError, UserFilter};

use crate::auth::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::AppState;

/// Overdue cases read per page of an escalation pass.
const ESCALATION_PAGE: i64 = 500;
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
    /// The events sent to it.
    pub events: Vec<WebhookEvent>,
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

fn system() -> Actor {
    Actor::system()
}

/// A new delivery id (128 random bits, hex).
fn delivery_id() -> String {
    zhili_core::password::random_token()[..32].to_string()
}

/// What webhooks receive about a case: its state and place, never personal data.
fn case_json(case: &Case) -> serde_json::Value {
    json!({
        "id": case.id,
        "state": case.status.state.as_str(),
        "class_code": case.class_code.to_string(),
        "department": case.status.department,
        "division": case.division.as_str(),
        "grid": case.grid,
        "address": case.address,
        "lon": case.lon,
        "lat": case.lat,
        "step": case.clock.step.map(|s| s.as_str()),
        "deadline": case.clock.deadline,
        "reported_at": case.reported_at,
        "dispatched_at": case.dispatched_at,
    })
}

/// One outbox row per webhook subscribed to `event`.
fn deliveries_for(
    state: &AppState,
    event: WebhookEvent,
    case: &Case,
    level: Option<i32>,
    at: DateTime<Utc>,
) -> Vec<NewDelivery> {
    state
        .config
        .webhooks
        .iter()
        .filter(|w| w.events.contains(&event))
        .map(|w| {
            let id = delivery_id();
            let mut body = json!({"event": event.as_str(), "id": id, "at": at, "case": case_json(case)});
            if let Some(l) = level {
                body["level"] = json!(l);
            }
            NewDelivery {
                id,
                webhook: w.name.clone(),
                event: event.as_str().into(),
                case_id: Some(case.id),
                payload: body.to_string(),
                created_at: at,
            }
        })
        .collect()
}

/// Active users matching a filter (first 1,000), keeping those `keep` accepts.
async fn users_where(
    state: &AppState,
    filter: UserFilter,
    keep: impl Fn(&zhili_core::model::User) -> bool,
) -> AppResult<Vec<i64>> {
    let users = state.store.users(&filter, Page { offset: 0, limit: 1000 }).await?;
    Ok(users.into_iter().filter(|u| u.active && keep(u)).map(|u| u.id).collect())
}

/// The department's staff, by department code.
async fn department_staff(state: &AppState, code: &str) -> AppResult<Vec<i64>> {
    let deps = state.cases.departments(state.store.as_ref()).await?;
    let Some(d) = deps.iter().find(|d| d.code == code) else { return Ok(Vec::new()) };
    let filter = UserFilter { role: Some(Role::DepartmentStaff), department_id: Some(d.id), within: None };
    users_where(state, filter, |_| true).await
}

/// The township (乡级) a division lies in, if it lies below a county.
fn township_of(d: &DivisionCode) -> Option<DivisionCode> {
    match d.level() {
        DivisionLevel::County => None,
        DivisionLevel::Township => Some(d.clone()),
        DivisionLevel::Village => d.parent(),
    }
}

/// The county (县级) a division lies in.
fn county_of(d: &DivisionCode) -> DivisionCode {
    let mut c = d.clone();
    while let Some(p) = c.parent() {
        c = p;
    }
    c
}

/// Who an audience is for a case (user ids), memoised per pass.
async fn audience(
    state: &AppState,
    memo: &mut HashMap<(Audience, String), Vec<i64>>,
    who: Audience,
    case: &Case,
) -> AppResult<Vec<i64>> {
    let key = match who {
        Audience::Department => case.status.department.clone().unwrap_or_default(),
        Audience::Township => township_of(&case.division).map(|t| t.to_string()).unwrap_or_default(),
        Audience::District => county_of(&case.division).to_string(),
        Audience::Leaders => case.division.to_string(),
    };
    if key.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(ids) = memo.get(&(who, key.clone())) {
        return Ok(ids.clone());
    }
    let ids = match who {
        Audience::Department => department_staff(state, &key).await?,
        Audience::Township => {
            let t = township_of(&case.division).expect("key is set");
            let f = UserFilter { within: Some(t.clone()), role: Some(Role::Operator), department_id: None };
            users_where(state, f, |u| u.jurisdiction == t).await?
        }
        Audience::District => {
            let c = county_of(&case.division);
            let f = UserFilter { within: Some(c.clone()), role: Some(Role::Operator), department_id: None };
            users_where(state, f, |u| u.jurisdiction == c).await?
        }
        Audience::Leaders => {
            let f =
                UserFilter { within: Some(county_of(&case.division)), role: Some(Role::Leader), department_id: None };
            users_where(state, f, |u| u.jurisdiction.contains(&case.division)).await?
        }
    };
    memo.insert((who, key), ids.clone());
    Ok(ids)
}

// ---------------------------------------------------------------------------------------------
// Dispatch

/// After a stored transition: if it dispatched the case, tell the department's staff and queue
/// `case.dispatched`. Never fails: the transition is stored; a failure here is logged.
pub async fn after_transition(state: &AppState, before: &Case, after: &Case) {
    let dispatched = after.status.state == CaseState::Dispatched
        && after.status.counters.dispatches > before.status.counters.dispatches;
    if !dispatched {
        return;
    }
    if let Err(e) = notify_dispatch(state, after, Utc::now()).await {
        tracing::error!(case = after.id, error = ?e, "could not notify the dispatch");
    }
}

async fn notify_dispatch(state: &AppState, case: &Case, now: DateTime<Utc>) -> AppResult<()> {
    let Some(dept) = case.status.department.as_deref() else { return Ok(()) };
    let (title, body) = dispatch_notice(case, dept);
    let notes: Vec<NewNotification> = department_staff(state, dept)
        .await?
        .into_iter()
        .map(|recipient_id| NewNotification {
            recipient_id,
            kind: NotificationKind::Dispatched,
            case_id: Some(case.id),
            level: None,
            title: title.clone(),
            body: body.clone(),
            created_at: now,
        })
        .collect();
    let deliveries = deliveries_for(state, WebhookEvent::CaseDispatched, case, None, now);
    state.store.notify(&system(), Some(case.id), &notes, &deliveries).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Escalation

/// What one escalation pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EscalationReport {
    /// Overdue running cases looked at (those with a level still to fire, and changed cases).
    pub overdue: usize,
    /// Levels fired now (claimed by this pass).
    pub fired: usize,
    /// Whether the pass read every overdue running case (else only those that may have a level
    /// newly due since this process's last complete pass, and the cases changed since).
    pub full: bool,
}

/// Where this process's last complete escalation pass stood (督办水位): at `at` it claimed every
/// level due for every running clock it read. So the next pass need read only the clocks whose
/// last level fell due after `at`, and the cases changed since (their audit rows after
/// `audit_seq`: a clock resumed after 缓办 may have a deadline in the past).
#[derive(Default)]
pub struct EscalationMark(std::sync::Mutex<Option<Mark>>);

#[derive(Clone)]
struct Mark {
    at: DateTime<Utc>,
    audit_seq: i64,
    calendar: std::sync::Arc<WorkCalendar>,
}

/// Most audit rows a pass reads for changed cases; past this the pass reads every overdue case.
const MARK_AUDIT_ROWS: usize = 20_000;
/// Most changed cases a pass reads one by one; past this it reads every overdue case.
const MARK_CASES: usize = 2_000;

/// One escalation pass at `now`: overdue running cases, page by page; for each level due and not
/// recorded for the case's current deadline, claim it with its notifications and webhook events.
/// After a complete pass of this process ([`EscalationMark`]) only the clocks that may have a
/// level newly due and the cases changed since are read; the first pass, a pass after a calendar
/// change or a bulk load, and a pass at an earlier time read every overdue case. Safe to run in
/// several processes at once and to repeat.
pub async fn escalation_pass(state: &AppState, now: DateTime<Utc>) -> AppResult<EscalationReport> {
    let policy: &EscalationPolicy = &state.config.escalation;
    let mut report = EscalationReport::default();
    if policy.levels().is_empty() {
        return Ok(report);
    }
    let calendar = state.cases.calendar(state.store.as_ref()).await?;
    let levels = i32::try_from(policy.levels().len()).unwrap_or(i32::MAX);
    // Taken before reading: whatever changes from here on is read by the next pass.
    let head = state.store.audit_head().await?.map_or(0, |(seq, _)| seq);
    let mark = state.escalation_mark.0.lock().expect("not poisoned").clone();
    let settled = match mark {
        Some(m) if m.at <= now && *m.calendar == *calendar => match settled_before(policy, &calendar, m.at) {
            Some(settled) => changed_cases(state, m.audit_seq, head).await?.map(|ids| (settled, ids)),
            None => None,
        },
        _ => None,
    };
    let mut memo = HashMap::new();
    let mut after = None;
    report.full = settled.is_none();
    if let Some((settled, ids)) = settled {
        // Changed cases whose deadline the scan below does not reach.
        let mut changed = Vec::new();
        for id in ids {
            match state.store.case(id).await {
                Ok(c) if c.clock.deadline.is_some_and(|d| d <= settled && d < now) => changed.push(c),
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        escalate(state, policy, &calendar, &mut memo, &changed, now, &mut report).await?;
        // Deadlines after `settled` (the keyset reads `deadline > settled`).
        after = Some((settled, i64::MIN));
    }
    loop {
        // Only cases with a level still to fire for their deadline, paged by (deadline, id): a
        // case whose clock changes meanwhile may be skipped and is found by the next pass (its
        // audit row comes after `head`). A case is never fired twice: the store's claim decides.
        let page = state.store.cases_to_escalate(now, levels, after, ESCALATION_PAGE).await?;
        let next = page.last().and_then(|c| Some((c.clock.deadline?, c.id)));
        escalate(state, policy, &calendar, &mut memo, &page, now, &mut report).await?;
        if (page.len() as i64) < ESCALATION_PAGE || next.is_none() {
            break;
        }
        after = next;
    }
    *state.escalation_mark.0.lock().expect("not poisoned") = Some(Mark { at: now, audit_seq: head, calendar });
    Ok(report)
}

/// The latest deadline whose every level fell due before `at` (to the second), if within a
/// year and a half: a pass at `at` has fired all levels of the clocks up to it.
fn settled_before(policy: &EscalationPolicy, calendar: &WorkCalendar, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let levels = i32::try_from(policy.levels().len()).ok()?;
    // The last level's due time grows with the deadline (working time is added to it).
    let all_due_before = |d: DateTime<Utc>| (1..=levels).all(|l| policy.due_at(l, d, calendar).is_some_and(|t| t < at));
    let (mut lo, mut hi) = (at - chrono::Duration::days(550), at);
    if !all_due_before(lo) {
        return None;
    }
    while hi - lo > chrono::Duration::seconds(1) {
        let mid = lo + (hi - lo) / 2;
        if all_due_before(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

/// The cases whose clock may have changed after audit row `seq` (up to `head`): every audited
/// case command but reports (a new clock starts at its report, after any earlier pass) and
/// escalations (which change no clock). None when there are too many, or when a change does not
/// name its case (a bulk load): then the pass reads every overdue case.
async fn changed_cases(state: &AppState, mut seq: i64, head: i64) -> AppResult<Option<BTreeSet<i64>>> {
    let mut ids = BTreeSet::new();
    let mut read = 0;
    while seq < head {
        let rows = state.store.audit_rows(seq, 1000).await?;
        let Some(last) = rows.last() else { break };
        read += rows.len();
        for r in rows.iter().take_while(|r| r.seq <= head) {
            let Some(command) = r.action.strip_prefix("case.") else { continue };
            if command == "report" || command == "escalate" {
                continue;
            }
            match r.target.strip_prefix("case:").and_then(|id| id.parse().ok()) {
                Some(id) => ids.insert(id),
                None => return Ok(None),
            };
        }
        if read > MARK_AUDIT_ROWS || ids.len() > MARK_CASES {
            return Ok(None);
        }
        seq = last.seq;
    }
    Ok(Some(ids))
}

/// Claim the levels due at `now` for these cases, with their notifications and webhook events.
async fn escalate(
    state: &AppState,
    policy: &EscalationPolicy,
    calendar: &WorkCalendar,
    memo: &mut HashMap<(Audience, String), Vec<i64>>,
    page: &[Case],
    now: DateTime<Utc>,
    report: &mut EscalationReport,
) -> AppResult<()> {
    report.overdue += page.len();
    let ids: Vec<i64> = page.iter().map(|c| c.id).collect();
    let recorded: HashSet<(i64, i32, DateTime<Utc>)> =
        if ids.is_empty() { HashSet::new() } else { state.store.escalations(&ids).await?.into_iter().collect() };
    let mut items = Vec::new();
    for case in page {
        let Some(deadline) = case.clock.deadline else { continue };
        for level in policy.due_levels(case, calendar, now) {
            if recorded.contains(&(case.id, level, deadline)) {
                continue;
            }
            let Some(rule) = policy.level(level) else { continue };
            let mut recipients = Vec::new();
            for who in &rule.notify {
                for id in audience(state, memo, *who, case).await? {
                    if !recipients.contains(&id) {
                        recipients.push(id);
                    }
                }
            }
            let (kind, title, body) = escalation_notice(case, level);
            let event = if level <= 1 { WebhookEvent::CaseOverdue } else { WebhookEvent::CaseEscalated };
            items.push(Escalation {
                case_id: case.id,
                level,
                deadline,
                at: now,
                notifications: recipients
                    .into_iter()
                    .map(|recipient_id| NewNotification {
                        recipient_id,
                        kind,
                        case_id: Some(case.id),
                        level: Some(level),
                        title: title.clone(),
                        body: body.clone(),
                        created_at: now,
                    })
                    .collect(),
                deliveries: deliveries_for(state, event, case, Some(level), now),
            });
        }
    }
    if !items.is_empty() {
        let claimed = state.store.record_escalations(&system(), &items).await?;
        report.fired += claimed.into_iter().filter(|c| *c).count();
    }
    Ok(())
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
    let due = state.store.claim_deliveries(now, now + DELIVERY_LEASE, DELIVERY_BATCH).await?;
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
        state.store.finish_delivery(&d.id, &outcome).await?;
    }
    Ok(delivered)
}

/// Start the escalation and sender loops of this process (every process may run them: the
/// store's claims keep them from doing anything twice).
pub fn start(state: &AppState) {
    let s = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(s.config.escalation_check_seconds.max(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let start = std::time::Instant::now();
            match escalation_pass(&s, Utc::now()).await {
                Ok(r) => {
                    let ms = start.elapsed().as_millis();
                    if r.fired > 0 {
                        tracing::info!(overdue = r.overdue, fired = r.fired, full = r.full, ms, "escalation pass");
                    } else {
                        tracing::debug!(overdue = r.overdue, full = r.full, ms, "escalation pass");
                    }
                }
                Err(e) => tracing::error!(error = ?e, "escalation pass failed"),
            }
        }
    });
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
    /// `dispatched`, `overdue` or `escalated`.
    pub kind: &'static str,
    /// The kind in the caller's language.
    pub kind_label: &'static str,
    /// The case concerned.
    pub case_id: Option<i64>,
    /// Escalation level (1 = the first).
    pub level: Option<i32>,
    /// Short text (zh-CN).
    pub title: String,
    /// Longer text (zh-CN).
    pub body: String,
    /// Where it leads (`/cases/{id}`).
    pub url: Option<String>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When read; absent while unread.
    pub read_at: Option<DateTime<Utc>>,
}

fn kind_label(k: NotificationKind, l: Locale) -> &'static str {
    match l {
        Locale::ZhCn => k.label_zh(),
        Locale::En => k.label_en(),
    }
}

fn view(n: Notification, l: Locale) -> NotificationView {
    NotificationView {
        id: n.id,
        kind: n.kind.as_str(),
        kind_label: kind_label(n.kind, l),
        case_id: n.case_id,
        level: n.level,
        title: n.title,
        body: n.body,
        url: n.case_id.map(|c| format!("/cases/{c}")),
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
    responses((status = 200, body = crate::views::Paged<NotificationView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> AppResult<Json<crate::views::Paged<NotificationView>>> {
    let user = me(&caller)?;
    let page = crate::api::PageQuery { offset: q.offset, limit: q.limit }.page()?;
    let unread = q.unread.unwrap_or(false);
    let (items, total) =
        tokio::try_join!(state.store.notifications(user, unread, page), state.store.count_notifications(user, unread))?;
    Ok(Json(crate::views::Paged {
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
    Ok(Json(UnreadCount { unread: state.store.count_notifications(user, true).await? }))
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
            state.store.mark_read(&caller.actor(), user, Some(&ids), Utc::now()).await?
        }
        (None, Some(true)) => state.store.mark_read(&caller.actor(), user, None, Utc::now()).await?,
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
    /// The case concerned.
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
#[utoipa::path(get, path = "/api/webhooks/deliveries", tag = "notifications", params(crate::api::PageQuery),
    responses((status = 200, body = Vec<DeliveryView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<crate::api::PageQuery>,
) -> AppResult<Json<Vec<DeliveryView>>> {
    authorize(&caller.principal, Action::ReadAudit, None)?;
    let rows = state.store.deliveries(q.page()?).await?;
    Ok(Json(
        rows.into_iter()
            .map(|d| DeliveryView {
                status: d.status(),
                id: d.id,
                webhook: d.webhook,
                event: d.event,
                case_id: d.case_id,
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
    kind: &'static str,
    kind_label: &'static str,
    title: String,
    body: String,
    href: String,
    at: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    l: crate::pages::Layout,
    rows: Vec<Row>,
    unread: i64,
}

/// `/notifications`: the caller's latest notifications; opening one marks it read (JS).
pub async fn page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = crate::pages::denied(&caller, Action::ReadOwnProfile, "/notifications") {
        return Ok(r);
    }
    let user = caller.require_user()?.id;
    let (items, unread) = tokio::try_join!(
        state.store.notifications(user, false, Page { offset: 0, limit: 200 }),
        state.store.count_notifications(user, true)
    )?;
    let calendar = state.cases.calendar(state.store.as_ref()).await?;
    let rows = items
        .into_iter()
        .map(|n| Row {
            id: n.id,
            kind: n.kind.as_str(),
            kind_label: kind_label(n.kind, caller.locale),
            href: n.case_id.map(|c| format!("/cases/{c}")).unwrap_or_else(|| "/notifications".into()),
            at: n.created_at.with_timezone(&calendar.offset()).format("%Y-%m-%d %H:%M").to_string(),
            unread: n.read_at.is_none(),
            title: n.title,
            body: n.body,
        })
        .collect();
    let l = crate::pages::Layout::new(&caller, "notifications.title", "/notifications");
    crate::pages::html(NotificationsPage { l, rows, unread })
}

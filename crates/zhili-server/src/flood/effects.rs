//! Carrying out a warning's effects (预警动作执行): the channel adapters, the follow-up case
//! and the CAP documents.
//!
//! Channels: **in-app** is a platform notification to the person's account (no account: the
//! channel fails); **SMS** and **voice** go to the SMS gateway and **broadcast** and **siren**
//! to the broadcast system, each through the platform's durable webhook outbox as the events
//! `flood.sms`, `flood.voice`, `flood.broadcast` (a `[[webhooks]]` entry subscribes to them);
//! when no webhook takes the event the channel fails. A failed channel is reported back to the
//! lifecycle as a failed delivery, which falls back to the person's next channel. The duty
//! officer is told in the app (operators of the village's township and county) and, on SMS,
//! through the gateway with the operators' phones.
//!
//! Each effect is idempotent where it can be: webhook deliveries carry a fixed id per warning,
//! message and webhook; the follow-up case is opened with the external id
//! `flood_warning:<id>`; a CAP document is stored once per (warning, sequence).

use chrono::Utc;
use geo::Centroid;
use serde_json::json;
use zhili_case::intake::{CaseIntake, CaseRequest};
use zhili_core::audit::Actor;
use zhili_core::store::StoreError;
use zhili_flood::model::{FacilityKind, Village};
use zhili_flood::vocab::Channel;
use zhili_flood::warning::store::StoredEffect;
use zhili_flood::warning::{Addressee, Effect, Event, Warning};
use zhili_platform::audience::{self, Audience};
use zhili_platform::notify::{NewDelivery, NewNotification, NotificationStore};
use zhili_platform::subject::Subject;

use crate::AppState;

/// The subject kind of a flood warning (`flood_warning:12`).
pub const SUBJECT_KIND: &str = "flood_warning";
/// The notification kind of a flood warning message.
pub const NOTIFICATION_KIND: &str = "flood_warning";
/// Webhook events the flood module raises.
pub const EVENTS: [&str; 3] = ["flood.sms", "flood.voice", "flood.broadcast"];

/// A transient failure: the effect stays in the outbox and is tried again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Retry(String);

impl From<StoreError> for Retry {
    fn from(e: StoreError) -> Self {
        Retry(e.to_string())
    }
}

/// Carry out one effect; the event to apply back (a delivery result), if any. A permanent
/// failure (a case class the catalogue lacks, an invalid CAP document) is logged and the
/// effect counts as done; only transient ones are `Err`.
pub async fn execute(
    state: &AppState,
    warning: &Warning,
    village: Option<&Village>,
    effect: &StoredEffect,
) -> Result<Option<Event>, Retry> {
    match &effect.effect {
        Effect::Send { message, to, channel, text } => {
            let outcome = send(state, warning, village, *message, to, *channel, text).await?;
            let (ok, error) = match outcome {
                Ok(()) => (true, String::new()),
                Err(e) => (false, e),
            };
            super::ingest::runtime(state).metrics.warning_effect(if ok { "sent" } else { "send_failed" });
            Ok(Some(Event::Deliver { message: *message, ok, error }))
        }
        Effect::OpenCase { title, description, .. } => {
            open_case(state, warning, village, title, description).await?;
            super::ingest::runtime(state).metrics.warning_effect("case");
            Ok(None)
        }
        Effect::PublishCap { cap, response, grade, references } => {
            match super::cap::document(super::settings(state), warning, village, cap, *response, *grade, references) {
                Ok(doc) => {
                    state.port::<dyn zhili_flood::warning::store::WarningStore>().store_cap(&doc).await?;
                    super::ingest::runtime(state).metrics.warning_effect("cap");
                }
                Err(e) => {
                    super::ingest::runtime(state).metrics.warning_effect("cap_invalid");
                    tracing::error!(warning = warning.id, error = %e, "CAP document invalid; not published");
                }
            }
            Ok(None)
        }
        Effect::ScheduleTick { .. } => Ok(None),
    }
}

fn subject(warning: &Warning) -> Option<Subject> {
    Subject::new(SUBJECT_KIND, warning.id).ok()
}

/// Send one message; the inner `Err` is the channel's failure (reported to the lifecycle).
async fn send(
    state: &AppState,
    warning: &Warning,
    village: Option<&Village>,
    message: zhili_flood::warning::MessageId,
    to: &Addressee,
    channel: Channel,
    text: &str,
) -> Result<Result<(), String>, Retry> {
    let title = format!("{}：{}", warning.village_name, zhili_flood::warning::text::grade_warning(warning.grade));
    match to {
        Addressee::Person(id) => {
            let person = village.and_then(|v| person(v, id));
            match channel {
                Channel::InApp => {
                    let Some(user) = id.strip_prefix("user:").and_then(|u| u.parse::<i64>().ok()) else {
                        return Ok(Err("没有平台账号，无法站内通知".into()));
                    };
                    notify(state, warning, &[user], &title, text).await
                }
                Channel::Sms | Channel::Voice => {
                    let Some(p) = person else {
                        return Ok(Err(format!("责任人 {id} 不在村落记录中")));
                    };
                    let payload = json!({
                        "warning": warning.id, "message": message.0, "village": warning.village.to_string(),
                        "to": [{"name": p.name, "phone": p.phone.as_str()}], "text": text,
                        "grade": warning.grade.as_str(),
                    });
                    webhook(state, warning, message, event_of(channel), payload).await
                }
                Channel::Broadcast | Channel::Siren => Ok(Err("广播和报警器不能发给个人".into())),
            }
        }
        Addressee::Village(_) => {
            let kind = if channel == Channel::Siren { FacilityKind::Siren } else { FacilityKind::Broadcast };
            let endpoints: Vec<String> = village
                .map(|v| v.facilities.iter().filter(|f| f.kind == kind).filter_map(|f| f.endpoint.clone()).collect())
                .unwrap_or_default();
            if endpoints.is_empty() {
                return Ok(Err(format!("该村没有{}终端", zhili_flood::warning::text::channel_zh(channel))));
            }
            let payload = json!({
                "warning": warning.id, "message": message.0, "village": warning.village.to_string(),
                "channel": channel.as_str(), "endpoints": endpoints, "text": text, "grade": warning.grade.as_str(),
            });
            webhook(state, warning, message, "flood.broadcast", payload).await
        }
        Addressee::Duty => {
            let mut users = Vec::new();
            let county = audience::county_of(&warning.village);
            let mut places = vec![county];
            places.extend(audience::township_of(&warning.village));
            for place in places {
                users.extend(audience::recipients(state.store.as_ref(), &Audience::OperatorsOf(place)).await?);
            }
            users.sort_unstable();
            users.dedup();
            if users.is_empty() {
                return Ok(Err("乡镇和区县均没有值班受理员账号".into()));
            }
            match channel {
                Channel::Sms | Channel::Voice => {
                    let mut to = Vec::new();
                    for id in &users {
                        if let Ok(u) = state.store.user(*id).await {
                            if let Some(phone) = u.phone {
                                to.push(json!({"name": u.display_name, "phone": phone}));
                            }
                        }
                    }
                    let payload = json!({
                        "warning": warning.id, "message": message.0, "village": warning.village.to_string(),
                        "to": to, "text": text, "grade": warning.grade.as_str(), "duty": true,
                    });
                    webhook(state, warning, message, event_of(channel), payload).await
                }
                _ => notify(state, warning, &users, &title, text).await,
            }
        }
    }
}

fn event_of(channel: Channel) -> &'static str {
    match channel {
        Channel::Voice => "flood.voice",
        Channel::Broadcast | Channel::Siren => "flood.broadcast",
        Channel::Sms | Channel::InApp => "flood.sms",
    }
}

/// The village's responsible person a recipient id names (`user:<id>` or `<village>/<n>`).
fn person<'a>(village: &'a Village, id: &str) -> Option<&'a zhili_flood::model::ResponsiblePerson> {
    village
        .persons
        .iter()
        .enumerate()
        .find_map(|(i, p)| (zhili_flood::evaluation::recipient_id(&village.code, i, p.user_id) == id).then_some(p))
}

async fn notify(
    state: &AppState,
    warning: &Warning,
    users: &[i64],
    title: &str,
    text: &str,
) -> Result<Result<(), String>, Retry> {
    let subject = subject(warning);
    let now = Utc::now();
    let notifications: Vec<NewNotification> = users
        .iter()
        .map(|u| NewNotification {
            recipient_id: *u,
            kind: NOTIFICATION_KIND.into(),
            subject: subject.clone(),
            level: Some(i32::from(warning.grade.rank())),
            title: title.to_string(),
            body: text.to_string(),
            created_at: now,
        })
        .collect();
    match state.port::<dyn NotificationStore>().notify(&Actor::system(), subject.as_ref(), &notifications, &[]).await {
        Ok(()) => Ok(Ok(())),
        Err(StoreError::MissingReference { .. }) => Ok(Err("责任人的平台账号不存在".into())),
        Err(e) => Err(e.into()),
    }
}

async fn webhook(
    state: &AppState,
    warning: &Warning,
    message: zhili_flood::warning::MessageId,
    event: &str,
    mut payload: serde_json::Value,
) -> Result<Result<(), String>, Retry> {
    let hooks: Vec<_> = state.config.webhooks.iter().filter(|w| w.events.iter().any(|e| e == event)).collect();
    if hooks.is_empty() {
        let gateway = match event {
            "flood.voice" => "语音外呼网关",
            "flood.broadcast" => "预警广播系统接口",
            _ => "短信网关",
        };
        return Ok(Err(format!("未配置{gateway}")));
    }
    payload["event"] = json!(event);
    let now = Utc::now();
    let deliveries: Vec<NewDelivery> = hooks
        .iter()
        .map(|h| NewDelivery {
            id: format!("flood-{}-{}-{}", warning.id, message.0, h.name),
            webhook: h.name.clone(),
            event: event.to_string(),
            subject: subject(warning),
            payload: payload.to_string(),
            created_at: now,
        })
        .collect();
    match state
        .port::<dyn NotificationStore>()
        .notify(&Actor::system(), subject(warning).as_ref(), &[], &deliveries)
        .await
    {
        // Queued (durably, with retries): the gateway has it. A repeat after a crash finds the
        // same ids stored.
        Ok(()) | Err(StoreError::Conflict { .. }) => Ok(Ok(())),
        Err(e) => Err(e.into()),
    }
}

async fn open_case(
    state: &AppState,
    warning: &Warning,
    village: Option<&Village>,
    title: &str,
    description: &str,
) -> Result<(), Retry> {
    let Some(village) = village else {
        tracing::error!(warning = warning.id, "follow-up case not opened: the village is not in the network");
        return Ok(());
    };
    let Some((lon, lat)) = zhili_geo::geometry::parse_area_text(village.danger_zone.as_geojson())
        .ok()
        .and_then(|shape| shape.centroid())
        .map(|p| (p.x(), p.y()))
    else {
        tracing::error!(warning = warning.id, "follow-up case not opened: the danger zone has no centre");
        return Ok(());
    };
    let settings = super::settings(state);
    let request = CaseRequest {
        source: zhili_case::model::Source::Machine,
        class_code: settings.case_class.clone(),
        lon,
        lat,
        description: format!("{title}\n{description}").chars().take(2000).collect(),
        address: None,
        external_id: Some(format!("{SUBJECT_KIND}:{}", warning.id)),
        photos: Vec::new(),
    };
    match state.port::<dyn CaseIntake>().open_case(&Actor::system(), request).await {
        Ok(opened) => tracing::info!(warning = warning.id, case = opened.case.id, "flood follow-up case opened"),
        Err(e) if e.code == zhili_core::ErrorCode::StorageUnavailable => return Err(Retry(e.message)),
        Err(e) => tracing::error!(warning = warning.id, error = %e, field = ?e.field, "follow-up case refused"),
    }
    Ok(())
}

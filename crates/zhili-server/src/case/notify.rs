//! Dispatch notices and overdue escalation (派遣通知与超期督办): the case loop's use of the
//! platform's notifications, audiences and webhook outbox.
//!
//! - On dispatch, [`after_transition`] tells the department's staff and queues `case.dispatched`.
//! - [`escalation_pass`] (every `case.escalation_check_seconds`) pages through overdue running
//!   cases, works out which levels of the [`EscalationPolicy`] are due, and claims each
//!   (case, level, deadline) in the store together with its notifications and webhook events:
//!   one transaction per page, and a level the store has recorded already is never claimed
//!   again, by this or any other process. After its first complete pass a process reads only
//!   the clocks that may have a level newly due and the cases changed since ([`EscalationMark`]).
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use zhili_case::calendar::WorkCalendar;
use zhili_case::model::Case;
use zhili_case::notify::{
    dispatch_notice, escalation_notice, subject, EscalationPolicy, NoticeNames, NotificationKind, WebhookEvent,
};
use zhili_case::store::{Escalation, EscalationStore};
use zhili_case::workflow::CaseState;
use zhili_core::store::StoreError;
use zhili_platform::audience::{county_of, recipients, township_of, Audience};
use zhili_platform::notify::{NewDelivery, NewNotification, NotificationStore};

use crate::platform::notify::{delivery_id, system};
use crate::web::error::AppResult;
use crate::AppState;

/// The platform audience a case's escalation audience (`zhili_case::notify::CaseAudience`) names:
/// its department's staff, its township's or county's operators, the leaders over it. None when
/// the case has no such place (no department yet, a county-level case has no township).
async fn audience_of(
    state: &AppState,
    who: zhili_case::notify::CaseAudience,
    case: &Case,
) -> AppResult<Option<Audience>> {
    use zhili_case::notify::CaseAudience as Who;
    Ok(match who {
        Who::Department => {
            let Some(code) = case.status.department.as_deref() else { return Ok(None) };
            let deps = crate::case::cases(state).departments(state.store.as_ref()).await?;
            deps.iter().find(|d| d.code == code).map(|d| Audience::DepartmentStaff(d.id))
        }
        Who::Township => township_of(&case.division).map(Audience::OperatorsOf),
        Who::District => Some(Audience::OperatorsOf(county_of(&case.division))),
        Who::Leaders => Some(Audience::LeadersOver(case.division.clone())),
    })
}

/// Who an audience is (user ids), memoised per pass.
async fn audience(
    state: &AppState,
    memo: &mut HashMap<Audience, Vec<i64>>,
    who: Option<Audience>,
) -> AppResult<Vec<i64>> {
    let Some(who) = who else { return Ok(Vec::new()) };
    if let Some(ids) = memo.get(&who) {
        return Ok(ids.clone());
    }
    let ids = recipients(state.store.as_ref(), &who).await?;
    memo.insert(who, ids.clone());
    Ok(ids)
}

/// Overdue cases read per page of an escalation pass.
const ESCALATION_PAGE: i64 = 500;
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
        .filter(|w| w.events.iter().any(|e| e == event.as_str()))
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
                subject: Some(subject(case.id)),
                payload: body.to_string(),
                created_at: at,
            }
        })
        .collect()
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
    let settings = state.port::<dyn zhili_platform::settings::SettingStore>();
    let (catalogue, calendar) =
        tokio::try_join!(crate::case::cases(state).catalogue(settings), crate::case::cases(state).calendar(settings))?;
    let departments = crate::case::cases(state).departments(state.store.as_ref()).await?;
    let department = departments.iter().find(|d| d.code == dept).map_or(dept, |d| d.name.as_str());
    let class = catalogue.get(case.class_code.as_str()).map_or(case.class_code.as_str(), |c| c.name.as_str());
    let (title, body) = dispatch_notice(case, &NoticeNames { class, department, offset: calendar.offset() });
    let staff = audience_of(state, zhili_case::notify::CaseAudience::Department, case).await?;
    let notes: Vec<NewNotification> = audience(state, &mut HashMap::new(), staff)
        .await?
        .into_iter()
        .map(|recipient_id| NewNotification {
            recipient_id,
            kind: NotificationKind::Dispatched.as_str().into(),
            subject: Some(subject(case.id)),
            level: None,
            title: title.clone(),
            body: body.clone(),
            created_at: now,
        })
        .collect();
    let deliveries = deliveries_for(state, WebhookEvent::CaseDispatched, case, None, now);
    state.port::<dyn NotificationStore>().notify(&system(), Some(&subject(case.id)), &notes, &deliveries).await?;
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
    let calendar =
        crate::case::cases(state).calendar(state.port::<dyn zhili_platform::settings::SettingStore>()).await?;
    let levels = i32::try_from(policy.levels().len()).unwrap_or(i32::MAX);
    // Taken before reading: whatever changes from here on is read by the next pass.
    let head = state.store.audit_head().await?.map_or(0, |(seq, _)| seq);
    let mark = state.port::<EscalationMark>().0.lock().expect("not poisoned").clone();
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
            match state.port::<dyn zhili_case::store::CaseStore>().case(id).await {
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
        let page = state.port::<dyn EscalationStore>().cases_to_escalate(now, levels, after, ESCALATION_PAGE).await?;
        let next = page.last().and_then(|c| Some((c.clock.deadline?, c.id)));
        escalate(state, policy, &calendar, &mut memo, &page, now, &mut report).await?;
        if (page.len() as i64) < ESCALATION_PAGE || next.is_none() {
            break;
        }
        after = next;
    }
    *state.port::<EscalationMark>().0.lock().expect("not poisoned") = Some(Mark { at: now, audit_seq: head, calendar });
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
    memo: &mut HashMap<Audience, Vec<i64>>,
    page: &[Case],
    now: DateTime<Utc>,
    report: &mut EscalationReport,
) -> AppResult<()> {
    report.overdue += page.len();
    let catalogue =
        crate::case::cases(state).catalogue(state.port::<dyn zhili_platform::settings::SettingStore>()).await?;
    let ids: Vec<i64> = page.iter().map(|c| c.id).collect();
    let recorded: HashSet<(i64, i32, DateTime<Utc>)> = if ids.is_empty() {
        HashSet::new()
    } else {
        state.port::<dyn EscalationStore>().escalations(&ids).await?.into_iter().collect()
    };
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
                let who = audience_of(state, *who, case).await?;
                for id in audience(state, memo, who).await? {
                    if !recipients.contains(&id) {
                        recipients.push(id);
                    }
                }
            }
            let class = catalogue.get(case.class_code.as_str()).map_or(case.class_code.as_str(), |c| c.name.as_str());
            let names = NoticeNames { class, department: "", offset: calendar.offset() };
            let (kind, title, body) = escalation_notice(case, level, &names);
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
                        kind: kind.as_str().into(),
                        subject: Some(subject(case.id)),
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
        let claimed = state.port::<dyn EscalationStore>().record_escalations(&system(), &items).await?;
        report.fired += claimed.into_iter().filter(|c| *c).count();
    }
    Ok(())
}

/// Start this process's escalation loop (every process may run it: the store's claims keep it
/// from firing a level twice).
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
}

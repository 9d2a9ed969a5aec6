//! What each write of the core, the platform, grids, the case loop and the flood model records in the audit log (审计事件),
//! for both backends: the action, the target and the detail, so a chain written by either
//! database says the same of the same change. The SQL that appends them is each backend's.

use serde_json::json;
use zhili_case::model::{Case, TimelineEntry};
use zhili_case::store::Escalation;
use zhili_case::workflow::CaseState;
use zhili_core::audit::{Actor, AuditEvent, Outcome};
use zhili_core::model::{Division, Locale, NewDepartment, NewUser};
use zhili_core::store::{CoreBatch, UserUpdate};
use zhili_flood::indicator::RainIndicators;
use zhili_flood::model::{ControlSection, Station, Village, Watershed};
use zhili_flood::vocab::StationCode;
use zhili_grid::{GridCode, GridDuty};
use zhili_platform::attachment::Attachment;
use zhili_platform::Subject;

/// A division created or renamed (`division.upsert`).
pub fn division_upsert(actor: &Actor, d: &Division) -> AuditEvent {
    AuditEvent::success(actor, "division.upsert", format!("division:{}", d.code)).with_detail(json!({"name": d.name}))
}

/// A department created (`department.create`).
pub fn department_create(actor: &Actor, id: i64, d: &NewDepartment) -> AuditEvent {
    AuditEvent::success(actor, "department.create", format!("department:{id}"))
        .with_detail(json!({"code": d.code, "name": d.name, "division": d.division}))
}

/// A user created (`user.create`).
pub fn user_create(actor: &Actor, id: i64, u: &NewUser) -> AuditEvent {
    AuditEvent::success(actor, "user.create", format!("user:{id}"))
        .with_detail(json!({"username": u.username, "role": u.role, "jurisdiction": u.jurisdiction}))
}

/// A user changed (`user.update`); of the phone only whether it changed.
pub fn user_update(actor: &Actor, user_id: i64, change: &UserUpdate) -> AuditEvent {
    AuditEvent::success(actor, "user.update", format!("user:{user_id}")).with_detail(json!({
        "display_name": change.display_name, "role": change.role, "jurisdiction": change.jurisdiction,
        "department_id": change.department_id, "phone_changed": change.phone.is_some(), "active": change.active,
    }))
}

/// A password set (`user.set_password`).
pub fn user_set_password(actor: &Actor, user_id: i64) -> AuditEvent {
    AuditEvent::success(actor, "user.set_password", format!("user:{user_id}"))
}

/// A user's language set (`user.set_locale`).
pub fn user_set_locale(actor: &Actor, user_id: i64, locale: Locale) -> AuditEvent {
    AuditEvent::success(actor, "user.set_locale", format!("user:{user_id}")).with_detail(json!({"locale": locale}))
}

/// A session opened (`auth.login`).
pub fn login(actor: &Actor, user_id: i64) -> AuditEvent {
    AuditEvent::success(actor, "auth.login", format!("user:{user_id}"))
}

/// A failed login (`auth.login`, denied), by the name given.
pub fn login_failed(actor: &Actor, username: &str) -> AuditEvent {
    AuditEvent::success(actor, "auth.login", format!("username:{username}")).with_outcome(Outcome::Denied)
}

/// A session ended (`auth.logout`).
pub fn logout(actor: &Actor, user_id: i64) -> AuditEvent {
    AuditEvent::success(actor, "auth.logout", format!("user:{user_id}"))
}

/// A core batch loaded (`batch.load`), with what it held and how many rows were new.
pub fn core_batch_load(actor: &Actor, b: &CoreBatch, inserted: u64) -> AuditEvent {
    AuditEvent::success(actor, "batch.load", "core").with_detail(json!({
        "divisions": b.divisions.len(), "departments": b.departments.len(),
        "users": b.users.len(), "inserted": inserted,
    }))
}

/// Grids imported (`grid.import`).
pub fn grid_import(actor: &Actor, grids: usize) -> AuditEvent {
    AuditEvent::success(actor, "grid.import", "grids").with_detail(json!({"grids": grids}))
}

/// A worker assigned to a grid (`grid.assign`).
pub fn grid_assign(actor: &Actor, user_id: i64, grid: &GridCode, d: GridDuty) -> AuditEvent {
    AuditEvent::success(actor, "grid.assign", format!("grid:{grid}"))
        .with_detail(json!({"user_id": user_id, "duty": d.as_str()}))
}

/// A worker taken off a grid (`grid.unassign`).
pub fn grid_unassign(actor: &Actor, user_id: i64, grid: &GridCode) -> AuditEvent {
    AuditEvent::success(actor, "grid.unassign", format!("grid:{grid}")).with_detail(json!({"user_id": user_id}))
}

/// Assignments loaded (`grid.assign_batch`).
pub fn grid_assign_batch(actor: &Actor, rows: usize) -> AuditEvent {
    AuditEvent::success(actor, "grid.assign_batch", "grid_workers").with_detail(json!({"rows": rows}))
}

/// A case reported (`case.report`), as stored.
pub fn case_report(actor: &Actor, c: &Case) -> AuditEvent {
    AuditEvent::success(actor, "case.report", format!("case:{}", c.id)).with_detail(json!({
        "class_code": c.class_code.as_str(), "division": c.division.as_str(),
        "source": c.source.as_str(), "external_id": c.external_id,
    }))
}

/// A case moved by a command (`case.<command>`): its new version, the timeline entry's number
/// and the states from and to.
pub fn case_transition(actor: &Actor, c: &Case, entry: &TimelineEntry, seq: i64) -> AuditEvent {
    AuditEvent::success(actor, &format!("case.{}", entry.command), format!("case:{}", c.id)).with_detail(json!({
        "version": c.version, "seq": seq,
        "from": entry.from_state.map(CaseState::as_str), "to": entry.to_state.as_str(),
    }))
}

/// Cases `first..=last` loaded in bulk (`case.bulk_load`).
pub fn case_bulk_load(actor: &Actor, count: usize, first: i64, last: i64) -> AuditEvent {
    AuditEvent::success(actor, "case.bulk_load", format!("case:{first}..{last}"))
        .with_detail(json!({"count": count, "first": first, "last": last}))
}

/// The case rollups rebuilt for an offset (`case.rollup_rebuild`), with the rows written.
pub fn case_rollup_rebuild(actor: &Actor, utc_offset_minutes: i32, rows: u64) -> AuditEvent {
    AuditEvent::success(actor, "case.rollup_rebuild", "case_daily")
        .with_detail(json!({"utc_offset_minutes": utc_offset_minutes, "rows": rows}))
}

/// Notifications stored and deliveries queued about a subject, or about nothing
/// (`notification.create`).
pub fn notification_create(
    actor: &Actor,
    subject: Option<&Subject>,
    notifications: usize,
    deliveries: usize,
) -> AuditEvent {
    let target = subject.map(Subject::to_string).unwrap_or_else(|| "notification".into());
    AuditEvent::success(actor, "notification.create", target).with_detail(json!({
        "subject": subject.map(Subject::to_string), "notifications": notifications, "deliveries": deliveries,
    }))
}

/// A user's notifications marked read (`notification.read`).
pub fn notification_read(actor: &Actor, recipient_id: i64, ids: Option<&[i64]>, count: u64) -> AuditEvent {
    AuditEvent::success(actor, "notification.read", format!("user:{recipient_id}"))
        .with_detail(json!({"ids": ids, "count": count}))
}

/// A file uploaded (`attachment.put`).
pub fn attachment_put(actor: &Actor, meta: &Attachment) -> AuditEvent {
    AuditEvent::success(actor, "attachment.put", format!("attachment:{}", meta.id))
        .with_detail(json!({"content_type": meta.content_type, "size": meta.size, "sha256": meta.sha256}))
}

/// A setting replaced (`setting.put`); of the value only its length.
pub fn setting_put(actor: &Actor, key: &str, value: &str) -> AuditEvent {
    AuditEvent::success(actor, "setting.put", format!("setting:{key}"))
        .with_detail(json!({"key": key, "bytes": value.len()}))
}

/// An escalation level claimed, with what it told (`case.escalate`).
pub fn case_escalate(actor: &Actor, e: &Escalation) -> AuditEvent {
    AuditEvent::success(actor, "case.escalate", format!("case:{}", e.case_id)).with_detail(json!({
        "level": e.level, "deadline": e.deadline, "notifications": e.notifications.len(),
        "deliveries": e.deliveries.len(),
    }))
}

/// A small watershed inserted or replaced (`flood.watershed.upsert`).
pub fn flood_watershed_upsert(actor: &Actor, w: &Watershed) -> AuditEvent {
    AuditEvent::success(actor, "flood.watershed.upsert", format!("flood_watershed:{}", w.code))
        .with_detail(json!({"name": w.name, "parent": w.parent.as_ref().map(|p| p.as_str())}))
}

/// A station inserted or replaced (`flood.station.upsert`).
pub fn flood_station_upsert(actor: &Actor, s: &Station) -> AuditEvent {
    AuditEvent::success(actor, "flood.station.upsert", format!("flood_station:{}", s.code)).with_detail(json!({
        "name": s.name, "kind": s.kind.as_str(), "status": s.status.as_str(), "division": s.division.as_str(),
    }))
}

/// A village at risk inserted or replaced (`flood.village.upsert`); of its responsible persons
/// only how many (their phones are personal data).
pub fn flood_village_upsert(actor: &Actor, v: &Village) -> AuditEvent {
    AuditEvent::success(actor, "flood.village.upsert", format!("flood_village:{}", v.code)).with_detail(json!({
        "name": v.name, "population": v.population, "persons": v.persons.len(),
        "stations": v.stations.iter().map(StationCode::as_str).collect::<Vec<_>>(),
    }))
}

/// A control section inserted or replaced (`flood.section.upsert`).
pub fn flood_section_upsert(actor: &Actor, c: &ControlSection) -> AuditEvent {
    AuditEvent::success(actor, "flood.section.upsert", format!("flood_section:{}", c.code))
        .with_detail(json!({"name": c.name, "level_station": c.level_station.as_str()}))
}

/// A village's rainfall indicators replaced (`flood.rain_indicators.replace`).
pub fn flood_rain_indicators_replace(actor: &Actor, r: &RainIndicators) -> AuditEvent {
    AuditEvent::success(actor, "flood.rain_indicators.replace", format!("flood_village:{}", r.village())).with_detail(
        json!({"scheme": r.scheme(), "windows": r.windows().iter().map(|w| w.label()).collect::<Vec<_>>()}),
    )
}

/// A quarantined station accepted: it is a station now (`flood.quarantine.accept`).
pub fn flood_quarantine_accept(actor: &Actor, s: &Station) -> AuditEvent {
    AuditEvent::success(actor, "flood.quarantine.accept", format!("flood_station:{}", s.code))
        .with_detail(json!({"name": s.name, "kind": s.kind.as_str()}))
}

/// A quarantined station rejected (`flood.quarantine.reject`).
pub fn flood_quarantine_reject(actor: &Actor, code: &StationCode) -> AuditEvent {
    AuditEvent::success(actor, "flood.quarantine.reject", format!("flood_quarantine:{code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_action_target_and_detail() {
        let a = Actor::system();
        let e = grid_assign_batch(&a, 3);
        assert_eq!(
            (e.action.as_str(), e.target.as_str(), e.detail.as_str()),
            ("grid.assign_batch", "grid_workers", r#"{"rows":3}"#)
        );
        let e = login_failed(&a, "wang");
        assert_eq!((e.action.as_str(), e.target.as_str(), e.outcome), ("auth.login", "username:wang", Outcome::Denied));
        assert_eq!(case_bulk_load(&a, 2, 7, 8).target, "case:7..8");
    }
}

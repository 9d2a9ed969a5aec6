//! Rows to models (行映射), for both backends. A backend selects the columns in its own SQL,
//! decodes what its dialect stores its own way (times, flags, small integers) and passes those
//! values in; everything else is read and validated here, so a bad stored value gives the same
//! error on either database.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Row, Type};
use zhili_case::metrics::Tally;
use zhili_case::model::TimelineEntry;
use zhili_case::store::{CasePoint, DensityCell};
use zhili_case::workflow::CaseState;
use zhili_core::audit::AuditRecord;
use zhili_core::codes::DivisionCode;
use zhili_core::model::{Department, Division, Locale, Session, User};
use zhili_core::policy::Role;
use zhili_core::store::{Change, StoreError, StoreResult};
use zhili_grid::{Grid, GridCode, GridDuty};
use zhili_platform::attachment::Attachment;
use zhili_platform::notify::{Delivery, Notification};
use zhili_platform::Subject;

/// A column that could not be read. Both backends' error mappings turn every `try_get` error
/// (no such column, index out of bounds, a value of another type) into
/// `StoreError::Other(message)`; this is that mapping.
fn column_err(e: sqlx::Error) -> StoreError {
    StoreError::Other(e.to_string())
}

/// The columns every dialect decodes alike, read by name from a row of either backend.
pub trait Columns {
    /// A `TEXT` column.
    fn text(&self, column: &str) -> StoreResult<String>;
    /// A `TEXT` column, borrowed from the row.
    fn str(&self, column: &str) -> StoreResult<&str>;
    /// A nullable `TEXT` column.
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    /// A 64-bit integer column (`INTEGER`, `bigint`).
    fn int(&self, column: &str) -> StoreResult<i64>;
    /// A nullable 64-bit integer column.
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;
    /// A double precision column (`REAL`, `float8`).
    fn float(&self, column: &str) -> StoreResult<f64>;
}

impl<R> Columns for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> &'r str: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> StoreResult<String> {
        self.try_get(column).map_err(column_err)
    }
    fn str(&self, column: &str) -> StoreResult<&str> {
        self.try_get(column).map_err(column_err)
    }
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        self.try_get(column).map_err(column_err)
    }
    fn int(&self, column: &str) -> StoreResult<i64> {
        self.try_get(column).map_err(column_err)
    }
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        self.try_get(column).map_err(column_err)
    }
    fn float(&self, column: &str) -> StoreResult<f64> {
        self.try_get(column).map_err(column_err)
    }
}

/// A stored division code.
pub fn division_code(s: String) -> StoreResult<DivisionCode> {
    DivisionCode::parse(&s).map_err(|e| StoreError::Other(format!("bad stored division code {s:?}: {e}")))
}

/// The `LIKE … ESCAPE '\'` pattern of a text search: lower-cased, its `%`, `_` and `\` taken
/// literally, anywhere in the value (`None` for no search).
pub fn contains_pattern(text: Option<&str>) -> Option<String> {
    text.map(|t| {
        let mut p = String::from("%");
        for c in t.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('%');
        p
    })
}

/// The `LIKE` pattern of the codes within a division (every code for `None`).
pub fn within_pattern(within: Option<&DivisionCode>) -> String {
    format!("{}%", within.map(|c| c.as_str()).unwrap_or(""))
}

/// A division from a row of `code, name, boundary` (the boundary as GeoJSON text, or NULL).
pub fn division(r: &impl Columns) -> StoreResult<Division> {
    Ok(Division { code: division_code(r.text("code")?)?, name: r.text("name")?, boundary: r.opt_text("boundary")? })
}

/// A department from a row of `id, code, name, division_code`; its flag decoded by the backend.
pub fn department(r: &impl Columns, is_command_centre: bool) -> StoreResult<Department> {
    Ok(Department {
        id: r.int("id")?,
        code: r.text("code")?,
        name: r.text("name")?,
        division: division_code(r.text("division_code")?)?,
        is_command_centre,
    })
}

/// A user from a row of the user columns (`id, username, display_name, role, jurisdiction,
/// department_id, phone, locale`); `active` and `created_at` decoded by the backend.
pub fn user(r: &impl Columns, active: bool, created_at: DateTime<Utc>) -> StoreResult<User> {
    let role = r.text("role")?;
    let locale = r.text("locale")?;
    Ok(User {
        id: r.int("id")?,
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        role: Role::from_name(&role).ok_or_else(|| StoreError::Other(format!("bad stored role {role:?}")))?,
        jurisdiction: division_code(r.text("jurisdiction")?)?,
        department_id: r.opt_int("department_id")?,
        phone: r.opt_text("phone")?,
        locale: Locale::from_tag(&locale).unwrap_or_default(),
        active,
        created_at,
    })
}

/// A session from a row of `token_hash, user_id, csrf_token`; its times decoded by the backend.
pub fn session(r: &impl Columns, created_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> StoreResult<Session> {
    Ok(Session {
        token_hash: r.text("token_hash")?,
        user_id: r.int("user_id")?,
        csrf_token: r.text("csrf_token")?,
        created_at,
        expires_at,
    })
}

/// An audit record from a row of the audit columns; `at` decoded by the backend.
pub fn audit_record(r: &impl Columns, at: DateTime<Utc>) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        seq: r.int("seq")?,
        at,
        actor_id: r.opt_int("actor_id")?,
        actor: r.text("actor")?,
        role: r.text("role")?,
        action: r.text("action")?,
        target: r.text("target")?,
        ip: r.opt_text("ip")?,
        outcome: r.text("outcome")?,
        detail: r.text("detail")?,
        prev_hash: r.text("prev_hash")?,
        hash: r.text("hash")?,
    })
}

/// A stored grid code (either deployment's length).
pub fn grid_code(s: &str) -> StoreResult<GridCode> {
    GridCode::parse_any(s).map_err(|e| StoreError::Other(format!("bad stored grid code {s:?}: {e}")))
}

/// A stored duty of a grid worker.
pub fn duty(s: &str) -> StoreResult<GridDuty> {
    GridDuty::from_name(s).ok_or_else(|| StoreError::Other(format!("bad stored duty {s:?}")))
}

/// A grid from a row of `code, name, parent_code, boundary` (GeoJSON text); its level decoded
/// by the backend.
pub fn grid(r: &impl Columns, level: u8) -> StoreResult<Grid> {
    let boundary = r.str("boundary")?;
    Ok(Grid {
        code: grid_code(r.str("code")?)?,
        name: r.text("name")?,
        level,
        parent: r.opt_text("parent_code")?.as_deref().map(grid_code).transpose()?,
        boundary: zhili_geo::geometry::read_stored_area(boundary)
            .map_err(|e| StoreError::Other(format!("bad stored grid boundary: {e}")))?,
    })
}

/// A worker's grids, from `(grid_code, duty)` rows.
pub fn user_grids(rows: &[(String, String)]) -> StoreResult<Vec<(GridCode, GridDuty)>> {
    rows.iter().map(|(g, d)| Ok((grid_code(g)?, duty(d)?))).collect()
}

/// A grid's workers, from `(user_id, duty)` rows.
pub fn grid_workers(rows: &[(i64, String)]) -> StoreResult<Vec<(i64, GridDuty)>> {
    rows.iter().map(|(u, d)| Ok((*u, duty(d)?))).collect()
}

/// What followers are told after `grids` were imported: the one grid, or everything.
pub fn grids_changed(grids: &[Grid]) -> Option<Change> {
    match grids {
        [] => None,
        [one] => Some(Change::record("grid", &one.code)),
        _ => Some(Change::All),
    }
}

/// A stored case state.
pub fn case_state(s: &str) -> StoreResult<CaseState> {
    CaseState::from_name(s).ok_or_else(|| StoreError::Other(format!("bad stored case state {s:?}")))
}

/// A case point from a row of `id, lon, lat, state, class_code`; its deadline decoded by the
/// backend.
pub fn case_point(r: &impl Columns, deadline: Option<DateTime<Utc>>) -> StoreResult<CasePoint> {
    let state = r.str("state")?;
    Ok(CasePoint {
        id: r.int("id")?,
        lon: r.float("lon")?,
        lat: r.float("lat")?,
        state: case_state(state)?,
        class_code: r.text("class_code")?,
        deadline,
    })
}

/// A density cell from a row of `lon, lat, n`.
pub fn density_cell(r: &impl Columns) -> StoreResult<DensityCell> {
    Ok(DensityCell { lon: r.float("lon")?, lat: r.float("lat")?, count: r.int("n")? })
}

/// A timeline entry from a row of `actor_id, actor, command, from_state, to_state`; `seq`,
/// `at` and the parsed `data` from the backend (their encodings differ).
pub fn timeline_entry(
    r: &impl Columns,
    seq: i64,
    at: DateTime<Utc>,
    data: serde_json::Value,
) -> StoreResult<TimelineEntry> {
    Ok(TimelineEntry {
        seq,
        at,
        actor_id: r.opt_int("actor_id")?,
        actor: r.text("actor")?,
        command: r.text("command")?,
        from_state: r.opt_text("from_state")?.as_deref().map(case_state).transpose()?,
        to_state: case_state(r.str("to_state")?)?,
        data,
    })
}

/// A group key and its tally from a row of `k, reported, filed, dispatched, <due>, closed,
/// on_time, reworked, extended, deferred, right_first`; the handling time (stored as
/// microseconds or as seconds) converted by the backend.
pub fn tally(r: &impl Columns, due: &str, handling_seconds: f64) -> StoreResult<(String, Tally)> {
    Ok((
        r.text("k")?,
        Tally {
            reported: r.int("reported")?,
            filed: r.int("filed")?,
            dispatched: r.int("dispatched")?,
            due: r.int(due)?,
            closed: r.int("closed")?,
            closed_on_time: r.int("on_time")?,
            reworked: r.int("reworked")?,
            extended: r.int("extended")?,
            deferred: r.int("deferred")?,
            dispatched_right: r.int("right_first")?,
            handling_seconds,
        },
    ))
}

/// A stored subject (`subject_kind`, `subject_id`): both halves or neither.
pub fn subject(r: &impl Columns) -> StoreResult<Option<Subject>> {
    match (r.opt_text("subject_kind")?, r.opt_int("subject_id")?) {
        (Some(k), Some(id)) => {
            Subject::new(&k, id).map(Some).map_err(|e| StoreError::Other(format!("bad stored subject: {e}")))
        }
        _ => Ok(None),
    }
}

/// A notification row; the backend decodes its level and times.
pub fn notification(
    r: &impl Columns,
    level: Option<i32>,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
) -> StoreResult<Notification> {
    Ok(Notification {
        id: r.int("id")?,
        recipient_id: r.int("recipient_id")?,
        kind: r.text("kind")?,
        subject: subject(r)?,
        level,
        title: r.text("title")?,
        body: r.text("body")?,
        created_at,
        read_at,
    })
}

/// An outbox row; the backend decodes its attempt count and times.
pub fn delivery(
    r: &impl Columns,
    attempts: i32,
    created_at: DateTime<Utc>,
    next_attempt_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
) -> StoreResult<Delivery> {
    Ok(Delivery {
        id: r.text("id")?,
        webhook: r.text("webhook")?,
        event: r.text("event")?,
        subject: subject(r)?,
        payload: r.text("payload")?,
        attempts,
        created_at,
        next_attempt_at,
        delivered_at,
        last_error: r.opt_text("last_error")?,
    })
}

/// An attachment's metadata; the backend decodes its time.
pub fn attachment(r: &impl Columns, created_at: DateTime<Utc>) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: r.text("id")?,
        content_type: r.text("content_type")?,
        size: r.int("size")?,
        sha256: r.text("sha256")?,
        uploaded_by: r.opt_int("uploaded_by")?,
        created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_are_validated_with_their_names() {
        assert!(
            matches!(division_code("x".into()), Err(StoreError::Other(m)) if m.contains("bad stored division code \"x\""))
        );
        assert!(matches!(case_state("gone"), Err(StoreError::Other(m)) if m == "bad stored case state \"gone\""));
        assert!(matches!(duty("boss"), Err(StoreError::Other(m)) if m == "bad stored duty \"boss\""));
        assert!(grid_code("12").is_err());
        assert_eq!(within_pattern(None), "%");
        assert_eq!(grids_changed(&[]), None);
    }
}

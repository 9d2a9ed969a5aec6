//! The JSON shapes of the API (接口数据结构), separate from the domain types so that the
//! API can stay stable while the model grows.

use serde::Serialize;
use zhili_core::audit::AuditRecord;
use zhili_core::mask::mask_phone;
use zhili_core::model::{Department, Division, User};

/// A division as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DivisionView {
    /// Code (6, 9 or 12 digits).
    pub code: String,
    /// Name.
    pub name: String,
    /// `county`, `township` or `village`.
    pub level: &'static str,
    /// Parent code.
    pub parent: Option<String>,
    /// Boundary as a GeoJSON geometry, when asked for one division.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
}

impl DivisionView {
    /// View of a division, with its boundary if `with_boundary`.
    pub fn of(d: &Division, with_boundary: bool) -> DivisionView {
        DivisionView {
            code: d.code.to_string(),
            name: d.name.clone(),
            level: d.level().as_str(),
            parent: d.parent().map(|p| p.to_string()),
            boundary: if with_boundary {
                d.boundary.as_deref().and_then(|b| serde_json::from_str(b).ok())
            } else {
                None
            },
        }
    }
}

/// A department as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DepartmentView {
    /// Id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Division served.
    pub division: String,
    /// Whether this is the command centre.
    pub is_command_centre: bool,
}

impl From<&Department> for DepartmentView {
    fn from(d: &Department) -> Self {
        DepartmentView {
            id: d.id,
            code: d.code.clone(),
            name: d.name.clone(),
            division: d.division.to_string(),
            is_command_centre: d.is_command_centre,
        }
    }
}

/// A user as the API shows it; the phone is masked unless revealed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role name.
    pub role: &'static str,
    /// Jurisdiction code.
    pub jurisdiction: String,
    /// Department id.
    pub department_id: Option<i64>,
    /// Phone, masked as `138****1999` unless revealed.
    pub phone: Option<String>,
    /// Whether `phone` is shown in full.
    pub phone_revealed: bool,
    /// UI language.
    pub locale: &'static str,
    /// Whether the account can log in.
    pub active: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

impl UserView {
    /// View of a user; personal data in full only if `reveal`.
    pub fn of(u: &User, reveal: bool) -> UserView {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.as_str(),
            jurisdiction: u.jurisdiction.to_string(),
            department_id: u.department_id,
            phone: u.phone.as_deref().map(|p| if reveal { p.to_string() } else { mask_phone(p) }),
            phone_revealed: reveal && u.phone.is_some(),
            locale: u.locale.as_str(),
            active: u.active,
            created_at: u.created_at.to_rfc3339(),
        }
    }
}

/// One audit row.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditView {
    /// Sequence number.
    pub seq: i64,
    /// Time (RFC 3339).
    pub at: String,
    /// Actor name.
    pub actor: String,
    /// Actor role.
    pub role: String,
    /// Action.
    pub action: String,
    /// Target.
    pub target: String,
    /// Client address.
    pub ip: Option<String>,
    /// Outcome.
    pub outcome: String,
    /// Detail (JSON).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Row hash.
    pub hash: String,
}

impl From<&AuditRecord> for AuditView {
    fn from(r: &AuditRecord) -> Self {
        AuditView {
            seq: r.seq,
            at: r.at.to_rfc3339(),
            actor: r.actor.clone(),
            role: r.role.clone(),
            action: r.action.clone(),
            target: r.target.clone(),
            ip: r.ip.clone(),
            outcome: r.outcome.clone(),
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
            hash: r.hash.clone(),
        }
    }
}

/// A page of items with the total.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    /// The items.
    pub items: Vec<T>,
    /// Total matching (when `total_exact` is false: at least this many).
    pub total: i64,
    /// Whether `total` is exact. Case worklists count up to 10,000 matches; beyond that
    /// `total` is 10,000 and this is false.
    pub total_exact: bool,
    /// Offset of the first item.
    pub offset: i64,
    /// Page size.
    pub limit: i64,
}

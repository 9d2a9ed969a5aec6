//! The core model: divisions, departments, users and sessions (行政区划、部门、用户、会话).

use crate::codes::{DivisionCode, DivisionLevel};
use crate::policy::{Principal, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The user interface language. Chinese first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Locale {
    /// 简体中文 (default).
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// Stable tag (BCP 47).
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
    /// Parse a tag; anything unknown is `None`.
    pub fn from_tag(s: &str) -> Option<Locale> {
        match s {
            "zh-CN" | "zh" | "zh-Hans" => Some(Locale::ZhCn),
            "en" | "en-US" | "en-GB" => Some(Locale::En),
            _ => None,
        }
    }
}

/// A geometry carried as GeoJSON text (RFC 7946, WGS-84/CGCS2000 longitude-latitude).
/// Backends store it natively (PostGIS geometry) or as text (SQLite).
pub type GeoJsonText = String;

/// An administrative division (行政区划): county, township or village/community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Division {
    /// The validated code.
    pub code: DivisionCode,
    /// Official name, e.g. 山头街道.
    pub name: String,
    /// Boundary as a GeoJSON (Multi)Polygon, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary: Option<GeoJsonText>,
}

impl Division {
    /// Level derived from the code.
    pub fn level(&self) -> DivisionLevel {
        self.code.level()
    }
    /// Parent code derived from the code.
    pub fn parent(&self) -> Option<DivisionCode> {
        self.code.parent()
    }
}

/// A department or agency (部门/机构), seated in a division.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    /// Surrogate id.
    pub id: i64,
    /// Short stable code, unique per deployment, e.g. `cgj` for 城管局.
    pub code: String,
    /// Name, e.g. 区城市管理局.
    pub name: String,
    /// The division whose territory the department serves.
    pub division: DivisionCode,
    /// Whether the department is the command centre (指挥中心).
    pub is_command_centre: bool,
}

/// What a caller supplies to create a department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDepartment {
    /// Short stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Division served.
    pub division: DivisionCode,
    /// Command centre flag.
    #[serde(default)]
    pub is_command_centre: bool,
}

/// A user account (用户). Personal data (phone) is shown masked unless the role needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Surrogate id.
    pub id: i64,
    /// Unique login name.
    pub username: String,
    /// Display name (姓名).
    pub display_name: String,
    /// The one role held.
    pub role: Role,
    /// Jurisdiction root (辖区).
    pub jurisdiction: DivisionCode,
    /// Department, if any.
    pub department_id: Option<i64>,
    /// Mobile phone (personal data).
    pub phone: Option<String>,
    /// UI language.
    pub locale: Locale,
    /// Disabled users cannot log in.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// The principal this user acts as.
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: Some(self.id),
            username: self.username.clone(),
            role: self.role,
            jurisdiction: Some(self.jurisdiction.clone()),
            department_id: self.department_id,
        }
    }
}

/// What a caller supplies to create a user; the password is already hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// Unique login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Jurisdiction root.
    pub jurisdiction: DivisionCode,
    /// Department, if any.
    pub department_id: Option<i64>,
    /// Mobile phone.
    pub phone: Option<String>,
    /// PHC string from [`crate::password::hash`].
    pub password_hash: String,
}

/// A login session or API token (会话). Only the SHA-256 of the secret is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Hex SHA-256 of the secret token.
    pub token_hash: String,
    /// The user.
    pub user_id: i64,
    /// Token for CSRF-protected browser forms.
    pub csrf_token: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry time.
    pub expires_at: DateTime<Utc>,
}

/// Validate a username: 3–64 characters of letters, digits, `_`, `-`, `.`.
pub fn validate_username(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if !(3..=64).contains(&n) {
        return Err(format!("username must have 3–64 characters, got {n}"));
    }
    if let Some((i, c)) =
        s.chars().enumerate().find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!("username character {} ({c:?}) is not a letter, digit, _, - or .", i + 1));
    }
    Ok(())
}

/// Validate a display or department name: 1–100 characters, no control characters.
pub fn validate_name(field: &str, s: &str) -> Result<(), String> {
    let n = s.trim().chars().count();
    if n == 0 || n > 100 {
        return Err(format!("{field} must have 1–100 characters, got {n}"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(())
}

/// Validate a department code: 2–32 lower-case letters, digits or `_`.
pub fn validate_department_code(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if !(2..=32).contains(&n) || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err("department code must be 2–32 characters of a–z, 0–9 or _".into());
    }
    Ok(())
}

/// Validate a mainland mobile number: 11 digits starting with 1.
pub fn validate_phone(s: &str) -> Result<(), String> {
    if s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("phone must be an 11-digit mobile number starting with 1".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators() {
        assert!(validate_username("admin").is_ok());
        assert!(validate_username("ab").is_err());
        assert!(validate_username("张三丰").unwrap_err().contains("character 1"));
        assert!(validate_name("name", "城管局").is_ok());
        assert!(validate_name("name", " ").is_err());
        assert!(validate_department_code("cgj").is_ok());
        assert!(validate_department_code("CGJ").is_err());
        assert!(validate_phone("13812341999").is_ok());
        assert!(validate_phone("2381234199").is_err());
    }
}

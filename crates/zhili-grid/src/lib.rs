//! Grids (网格): the hierarchy of small areas under each village or community in which grid
//! workers (网格员) walk, report and verify, and the validation of grid imports.
//!
//! Grids form a hierarchy of any depth under a village/community (default: 大网格 large,
//! 中网格 medium, 小网格 small). A grid's code is its village's 12-digit code followed by a
//! serial (CJ/T 213: 2 digits, 14 in all; Beijing's variant: 3 digits, 15 in all), so every
//! grid belongs to exactly one village, and a grid never crosses a village boundary.
//! Nothing here knows HTTP or SQL.

pub mod validate;

use serde::{Deserialize, Serialize};
use std::fmt;
use zhili_core::codes::{DivisionCode, DivisionLevel};

/// How grid codes are formed in a deployment (网格编码规则).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum GridCodeScheme {
    /// CJ/T 213 unit grid: village (12) + serial (2) = 14 digits; serial 01–99.
    #[default]
    #[serde(rename = "cjt213")]
    CjT213,
    /// Beijing's variant: village (12) + serial (3) = 15 digits; serial 001–999.
    #[serde(rename = "beijing15")]
    Beijing15,
}

impl GridCodeScheme {
    /// Digits of the serial after the village code.
    pub fn serial_digits(self) -> usize {
        match self {
            GridCodeScheme::CjT213 => 2,
            GridCodeScheme::Beijing15 => 3,
        }
    }
    /// Total length of a code.
    pub fn len(self) -> usize {
        12 + self.serial_digits()
    }
    /// Never empty; present for clippy's sake.
    pub fn is_empty(self) -> bool {
        false
    }
}

/// Why a grid code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridCodeError {
    /// Wrong length for the scheme.
    #[error("grid code must have {expected} digits (village 12 + serial {serial}), got {got}")]
    Length {
        /// Expected length.
        expected: usize,
        /// Serial digits.
        serial: usize,
        /// Length found.
        got: usize,
    },
    /// A non-digit.
    #[error("grid code character {position} ({found:?}) is not a digit")]
    NotDigit {
        /// 1-based position.
        position: usize,
        /// Character found.
        found: char,
    },
    /// The first 12 digits are not a valid village/community code.
    #[error("grid code digits 1–12 are not a village code: {0}")]
    Village(zhili_core::CodeError),
    /// Serial zero denotes the community itself, not a grid.
    #[error("grid serial (digits 13–{end}) must not be all zeros: that denotes the community itself")]
    ZeroSerial {
        /// Last digit position.
        end: usize,
    },
}

/// A validated grid code (网格编码).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct GridCode(String);

impl GridCode {
    /// Validate under a scheme; the error names the wrong part.
    pub fn parse(s: &str, scheme: GridCodeScheme) -> Result<GridCode, GridCodeError> {
        let n = s.chars().count();
        if n != scheme.len() {
            return Err(GridCodeError::Length { expected: scheme.len(), serial: scheme.serial_digits(), got: n });
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(GridCodeError::NotDigit { position: i + 1, found: c });
        }
        DivisionCode::parse(&s[..12]).map_err(GridCodeError::Village)?;
        if s[12..].bytes().all(|b| b == b'0') {
            return Err(GridCodeError::ZeroSerial { end: scheme.len() });
        }
        Ok(GridCode(s.to_string()))
    }

    /// Validate a code of either scheme, telling them apart by length (for stored codes).
    pub fn parse_any(s: &str) -> Result<GridCode, GridCodeError> {
        let scheme =
            if s.len() == GridCodeScheme::Beijing15.len() { GridCodeScheme::Beijing15 } else { GridCodeScheme::CjT213 };
        GridCode::parse(s, scheme)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The village/community the grid belongs to.
    pub fn village(&self) -> DivisionCode {
        let v = DivisionCode::parse(&self.0[..12]).expect("validated on construction");
        debug_assert_eq!(v.level(), DivisionLevel::Village);
        v
    }

    /// Build `village` + `serial` under a scheme.
    pub fn new(village: &DivisionCode, serial: u32, scheme: GridCodeScheme) -> Result<GridCode, GridCodeError> {
        let w = scheme.serial_digits();
        GridCode::parse(&format!("{village}{serial:0w$}"), scheme)
    }
}

impl fmt::Display for GridCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The levels of a deployment's grid hierarchy, top first (网格层级).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridLevels(pub Vec<String>);

impl Default for GridLevels {
    fn default() -> Self {
        GridLevels(vec!["大网格".into(), "中网格".into(), "小网格".into()])
    }
}

impl GridLevels {
    /// Number of levels.
    pub fn depth(&self) -> u8 {
        self.0.len() as u8
    }
    /// The name of a 1-based level.
    pub fn name(&self, level: u8) -> Option<&str> {
        self.0.get(usize::from(level).checked_sub(1)?).map(String::as_str)
    }
}

/// A grid worker's duty in a grid (网格职责).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridDuty {
    /// 网格长 grid leader.
    Leader,
    /// 专职网格员 full-time grid worker.
    FullTime,
    /// 兼职网格员 part-time grid worker.
    PartTime,
}

impl GridDuty {
    /// Stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            GridDuty::Leader => "leader",
            GridDuty::FullTime => "full_time",
            GridDuty::PartTime => "part_time",
        }
    }
    /// Parse the stored name.
    pub fn from_name(s: &str) -> Option<GridDuty> {
        [GridDuty::Leader, GridDuty::FullTime, GridDuty::PartTime].into_iter().find(|d| d.as_str() == s)
    }
}

/// A grid (网格).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The code.
    pub code: GridCode,
    /// Name, e.g. 西冶社区第3网格.
    pub name: String,
    /// 1-based level (1 = 大网格 by default). A grid without a parent is at the top of its
    /// village's hierarchy, whatever its level (a small community may have no 大网格).
    pub level: u8,
    /// The enclosing grid, none at the top level.
    pub parent: Option<GridCode>,
    /// The area, WGS-84/CGCS2000 longitude-latitude.
    pub boundary: geo::MultiPolygon<f64>,
}

impl Grid {
    /// The village/community the grid belongs to.
    pub fn village(&self) -> DivisionCode {
        self.code.village()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        let g = GridCode::parse("37030410020103", GridCodeScheme::CjT213).unwrap();
        assert_eq!(g.village().as_str(), "370304100201");
        assert_eq!(GridCode::new(&g.village(), 7, GridCodeScheme::Beijing15).unwrap().as_str(), "370304100201007");
        assert_eq!(
            GridCode::parse("3703041002010", GridCodeScheme::CjT213),
            Err(GridCodeError::Length { expected: 14, serial: 2, got: 13 })
        );
        assert_eq!(
            GridCode::parse("37030410020100", GridCodeScheme::CjT213),
            Err(GridCodeError::ZeroSerial { end: 14 })
        );
        assert!(matches!(GridCode::parse("37030460020101", GridCodeScheme::CjT213), Err(GridCodeError::Village(_))));
        assert_eq!(
            GridCode::parse("3703041002010x", GridCodeScheme::CjT213),
            Err(GridCodeError::NotDigit { position: 14, found: 'x' })
        );
        assert_eq!(GridLevels::default().name(3), Some("小网格"));
        assert_eq!(GridLevels::default().name(0), None);
        assert_eq!(GridDuty::from_name("full_time"), Some(GridDuty::FullTime));
    }
}

pub use store::GridStore;

/// The storage port for grids, implemented by each backend crate.
pub mod store {
    use async_trait::async_trait;
    use zhili_core::audit::Actor;
    use zhili_core::codes::DivisionCode;
    use zhili_core::store::{Page, StoreResult};

    use crate::{Grid, GridCode, GridDuty};

    /// What the grid module stores (网格存储接口). Every write appends its audit row in the same
    /// transaction and announces `Change::record("grid", code)` (or `Change::All` for a bulk
    /// import) on the store's change feed.
    #[async_trait]
    pub trait GridStore: Send + Sync + 'static {
        /// Insert or replace grids (parents before children) in one transaction with one
        /// audit row. Returns grids written.
        async fn import_grids(&self, actor: &Actor, grids: &[Grid]) -> StoreResult<u64>;
        /// One grid.
        async fn grid(&self, code: &GridCode) -> StoreResult<Grid>;
        /// Grids whose village lies inside `within` (all if `None`), ordered by code.
        async fn grids(&self, within: Option<&DivisionCode>, page: Page) -> StoreResult<Vec<Grid>>;
        /// Number of grids inside `within`.
        async fn count_grids(&self, within: Option<&DivisionCode>) -> StoreResult<i64>;
        /// Give a user a duty in a grid (replacing a previous duty there).
        async fn assign_grid(&self, actor: &Actor, user_id: i64, grid: &GridCode, duty: GridDuty) -> StoreResult<()>;
        /// Take a user off a grid.
        async fn unassign_grid(&self, actor: &Actor, user_id: i64, grid: &GridCode) -> StoreResult<()>;
        /// The grids a user works in, ordered by code.
        async fn user_grids(&self, user_id: i64) -> StoreResult<Vec<(GridCode, GridDuty)>>;
        /// The users working in a grid, ordered by user id.
        async fn grid_workers(&self, grid: &GridCode) -> StoreResult<Vec<(i64, GridDuty)>>;
        /// Bulk assignments by username (demo seeding, imports), one transaction, one audit
        /// row; unknown usernames are an error naming the first. Returns rows written.
        async fn load_assignments(&self, actor: &Actor, rows: &[(String, GridCode, GridDuty)]) -> StoreResult<u64>;
    }
}

//! The case catalogue (案件分类 / 立案标准): which classes of case exist, who handles each one, how
//! urgent it is, its time limit for every step, and when a report may be filed and closed.
//!
//! Every case belongs to one minor class (小类) under a major class (大类) of one of two kinds
//! (GB/T 30428): an **event** (事件, something that happens: exposed rubbish, street vending) or a
//! **component** (部件, a piece of public infrastructure that is broken: a manhole cover, a lamp).
//! Each city edits its catalogue; [`Catalogue::national`] seeds one after the national classes.
//!
//! # Codes
//!
//! The standards number majors and minors with two digits each (上水井盖 is component 01 01,
//! 暴露垃圾 is event 01 02), so event and component numbers overlap. Our codes carry the kind as a
//! prefix, as many deployed systems do: `SJ` (事件) or `BJ` (部件), then the 2-digit major number,
//! then the 2-digit minor number, each from 01 to 99. A major code is `SJ01`; a minor (class) code is
//! `SJ0102`, and its first four characters are its major code. [`MajorCode`] and [`ClassCode`] hold
//! only codes of that form.
//!
//! # Spreadsheets
//!
//! Cities hand catalogues over as spreadsheets, so a catalogue reads and writes one table
//! ([`Catalogue::from_csv`], [`Catalogue::to_csv`], [`Catalogue::from_xlsx`], [`Catalogue::to_xlsx`]):
//! a header row of column names ([`COLUMNS`]: Chinese, or the English names), then one class per
//! row. Columns may come in any order and unknown columns are ignored; 立案条件, 结案条件 and 启用 may
//! be left out. Rows above the header that name fewer than two known columns (a title row) are
//! skipped, as are wholly empty rows. In code cells the bare standard digits are accepted and take
//! the prefix of the row's 类型, left-padded with zeros because spreadsheet programs drop leading
//! zeros: `101` in a 部件 row is `BJ0101`, `1` as a 部件 major is `BJ01`. CSV is written as UTF-8
//! with a byte-order mark so that Excel shows Chinese; it is read as UTF-8 (with or without the mark)
//! or, failing that, as GB18030, the encoding of Excel's plain "CSV" on Chinese Windows.
//!
//! An import is all or nothing: with any problem, [`ImportError::Invalid`] lists every bad cell with
//! its row as the spreadsheet shows it (header on row 1), and every catalogue-level problem of
//! [`Catalogue::validate`] with the rows involved.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use zhili_sheet::{Cell as RawCell, Row as RawRow};

use rust_xlsxwriter::{DataValidation, Format, Workbook, XlsxError};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkDuration;

/// Most classes (data rows) an import accepts.
pub const MAX_IMPORT_ROWS: usize = 10_000;
/// Largest file, in bytes, an import accepts (a full catalogue is a few hundred kilobytes).
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;
/// Cells right of this many columns are ignored on import.
const MAX_IMPORT_COLUMNS: usize = 256;
/// How many leading non-empty rows are searched for the header row.
const HEADER_SEARCH_ROWS: usize = 10;
/// Longest name (大类名称, 小类名称), in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// Longest condition text (立案条件, 结案条件), in characters.
pub const MAX_CONDITION_CHARS: usize = 1_000;
/// Largest number a time limit may show in its text form (as [`WorkDuration::parse`] reads).
const MAX_LIMIT_NUMBER: u32 = 100_000;

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

/// A text that is not a valid value of a catalogue field, with what is expected instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a valid {what}: {expected}")]
pub struct ValueError {
    /// What was being read, e.g. "case kind".
    pub what: &'static str,
    /// The text as given.
    pub text: String,
    /// What would have been accepted.
    pub expected: &'static str,
}

impl ValueError {
    fn new(what: &'static str, text: &str, expected: &'static str) -> ValueError {
        ValueError { what, text: text.to_string(), expected }
    }
}

/// The kind of a case (案件类型): event or component (GB/T 30428.3 and .2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// 事件: something that happens or is done in public space (rubbish, vending, parking, fire).
    Event,
    /// 部件: a piece of public infrastructure that is missing, broken or out of order.
    Component,
}

impl CaseKind {
    /// Both kinds, events first.
    pub const ALL: [CaseKind; 2] = [CaseKind::Event, CaseKind::Component];

    /// Stable name, as stored and sent: `event` or `component`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Event => "event",
            CaseKind::Component => "component",
        }
    }

    /// Chinese label, as in spreadsheets: 事件 or 部件.
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseKind::Event => "事件",
            CaseKind::Component => "部件",
        }
    }

    /// Prefix of this kind's codes: `SJ` (事件) or `BJ` (部件).
    pub fn prefix(self) -> &'static str {
        match self {
            CaseKind::Event => "SJ",
            CaseKind::Component => "BJ",
        }
    }

    /// Read `事件`/`event` or `部件`/`component` (English in any case).
    pub fn parse(text: &str) -> Result<CaseKind, ValueError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "事件" | "event" => Ok(CaseKind::Event),
            "部件" | "component" => Ok(CaseKind::Component),
            _ => Err(ValueError::new("case kind", text, "use 事件 or 部件")),
        }
    }

    fn from_prefix(prefix: &str) -> Option<CaseKind> {
        CaseKind::ALL.into_iter().find(|k| k.prefix() == prefix)
    }
}

impl fmt::Display for CaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

/// How urgent cases of a class are (紧急程度). Urgent classes run on natural time with short limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 一般: the ordinary case.
    Normal,
    /// 紧急: a danger to people or property; filed and dispatched within minutes.
    Urgent,
}

impl Urgency {
    /// Stable name, as stored and sent: `normal` or `urgent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
        }
    }

    /// Chinese label, as in spreadsheets: 一般 or 紧急.
    pub fn label_zh(self) -> &'static str {
        match self {
            Urgency::Normal => "一般",
            Urgency::Urgent => "紧急",
        }
    }

    /// Read `一般`/`普通`/`normal` or `紧急`/`urgent` (English in any case).
    pub fn parse(text: &str) -> Result<Urgency, ValueError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "一般" | "普通" | "normal" => Ok(Urgency::Normal),
            "紧急" | "urgent" => Ok(Urgency::Urgent),
            _ => Err(ValueError::new("urgency", text, "use 一般 or 紧急")),
        }
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

/// Who is responsible for cases of a class (责任主体唯一): one department, or the territory.
///
/// Text form (spreadsheets): the department code, or `属地`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "rule", content = "department", rename_all = "snake_case")]
pub enum DepartmentRule {
    /// A department of the deployment, by its code (e.g. `cgj` for 城管).
    Department(String),
    /// 属地: the township or street government of the case's location (属地兜底).
    Territorial,
}

impl DepartmentRule {
    /// The text form of [`DepartmentRule::Territorial`].
    pub const TERRITORIAL: &'static str = "属地";

    /// Read `属地` or a department code (2–32 characters of a–z, 0–9 or `_`).
    pub fn parse(text: &str) -> Result<DepartmentRule, ValueError> {
        let t = text.trim();
        if t == Self::TERRITORIAL {
            return Ok(DepartmentRule::Territorial);
        }
        zhili_core::validate_department_code(t)
            .map(|()| DepartmentRule::Department(t.to_string()))
            .map_err(|_| ValueError::new("department", text, "use 属地 or a department code of 2–32 a–z, 0–9 or _"))
    }
}

impl fmt::Display for DepartmentRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepartmentRule::Department(code) => f.write_str(code),
            DepartmentRule::Territorial => f.write_str(Self::TERRITORIAL),
        }
    }
}

/// Reads exactly two ASCII digits as a number from 1 to 99.
fn two_digits(s: &str) -> Option<u8> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok().filter(|n| *n >= 1)
    } else {
        None
    }
}

const MAJOR_CODE_FORM: &str = "use SJ (事件) or BJ (部件) and a 2-digit major number from 01, e.g. SJ01";
const CLASS_CODE_FORM: &str =
    "use SJ (事件) or BJ (部件), a 2-digit major and a 2-digit minor number from 01, e.g. SJ0102";

/// A major class code (大类代码): kind prefix and 2-digit number, e.g. `SJ01` (事件 市容环境).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MajorCode(String);

impl MajorCode {
    /// The code of major number `major` (1–99) of `kind`.
    pub fn new(kind: CaseKind, major: u8) -> Result<MajorCode, ValueError> {
        let text = format!("{}{major:02}", kind.prefix());
        if (1..=99).contains(&major) {
            Ok(MajorCode(text))
        } else {
            Err(ValueError::new("major class code", &text, MAJOR_CODE_FORM))
        }
    }

    /// Read the text form, e.g. `SJ01` (the prefix in either case; stored upper-case).
    pub fn parse(text: &str) -> Result<MajorCode, ValueError> {
        let t = text.trim().to_ascii_uppercase();
        match (t.get(..2).and_then(CaseKind::from_prefix), t.get(2..).and_then(two_digits)) {
            (Some(_), Some(_)) if t.len() == 4 => Ok(MajorCode(t)),
            _ => Err(ValueError::new("major class code", text, MAJOR_CODE_FORM)),
        }
    }

    /// The kind, from the prefix.
    pub fn kind(&self) -> CaseKind {
        CaseKind::from_prefix(&self.0[..2]).unwrap_or(CaseKind::Event)
    }

    /// The major number (1–99).
    pub fn number(&self) -> u8 {
        two_digits(&self.0[2..4]).unwrap_or(0)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A minor class code (小类代码), unique across the catalogue: kind prefix, major number and minor
/// number, e.g. `BJ0101` (部件 公用设施 上水井盖). Its first four characters are its [`MajorCode`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClassCode(String);

impl ClassCode {
    /// The code of minor number `minor` under major number `major` of `kind` (both 1–99).
    pub fn new(kind: CaseKind, major: u8, minor: u8) -> Result<ClassCode, ValueError> {
        let text = format!("{}{major:02}{minor:02}", kind.prefix());
        if (1..=99).contains(&major) && (1..=99).contains(&minor) {
            Ok(ClassCode(text))
        } else {
            Err(ValueError::new("class code", &text, CLASS_CODE_FORM))
        }
    }

    /// Read the text form, e.g. `SJ0102` (the prefix in either case; stored upper-case).
    pub fn parse(text: &str) -> Result<ClassCode, ValueError> {
        let t = text.trim().to_ascii_uppercase();
        let ok = t.len() == 6
            && t.get(..2).and_then(CaseKind::from_prefix).is_some()
            && t.get(2..4).and_then(two_digits).is_some()
            && t.get(4..).and_then(two_digits).is_some();
        if ok {
            Ok(ClassCode(t))
        } else {
            Err(ValueError::new("class code", text, CLASS_CODE_FORM))
        }
    }

    /// The kind, from the prefix.
    pub fn kind(&self) -> CaseKind {
        CaseKind::from_prefix(&self.0[..2]).unwrap_or(CaseKind::Event)
    }

    /// The major class this code belongs to (its first four characters).
    pub fn major(&self) -> MajorCode {
        MajorCode(self.0[..4].to_string())
    }

    /// The minor number (1–99).
    pub fn minor_number(&self) -> u8 {
        two_digits(&self.0[4..6]).unwrap_or(0)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! code_text_impls {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::borrow::Borrow<str> for $t {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
        impl TryFrom<String> for $t {
            type Error = ValueError;
            fn try_from(s: String) -> Result<$t, ValueError> {
                $t::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(c: $t) -> String {
                c.0
            }
        }
        impl std::str::FromStr for $t {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<$t, ValueError> {
                $t::parse(s)
            }
        }
    };
}
code_text_impls!(MajorCode);
code_text_impls!(ClassCode);

/// The time limits (时限) of one class, one per timed step of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepLimits {
    /// 立案时限: from the report until it is accepted and filed (受理 + 立案).
    pub file: WorkDuration,
    /// 派遣时限: from filing until dispatch to the responsible department.
    pub dispatch: WorkDuration,
    /// 处置时限: from dispatch until the department reports back (the handling clock).
    pub handle: WorkDuration,
    /// 核查时限: from the department's report until on-site verification.
    pub verify: WorkDuration,
}

impl StepLimits {
    /// The national seed's limits around a class's handling limit: filing and dispatch 30 min each
    /// (urgent: 10 min), verification 1 working hour (urgent: 1 hour of natural time).
    pub fn standard(urgency: Urgency, handle: WorkDuration) -> StepLimits {
        match urgency {
            Urgency::Normal => StepLimits {
                file: WorkDuration::Minutes(30),
                dispatch: WorkDuration::Minutes(30),
                handle,
                verify: WorkDuration::WorkingMinutes(60),
            },
            Urgency::Urgent => StepLimits {
                file: WorkDuration::Minutes(10),
                dispatch: WorkDuration::Minutes(10),
                handle,
                verify: WorkDuration::Minutes(60),
            },
        }
    }
}

/// One minor class of the catalogue (案件小类) with its major class, rules and standards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClass {
    /// Event or component.
    pub kind: CaseKind,
    /// Major class code (大类代码), e.g. `SJ01`.
    pub major_code: MajorCode,
    /// Major class name (大类名称), e.g. 市容环境.
    pub major_name: String,
    /// Minor class code (小类代码), unique across the catalogue, e.g. `SJ0102`.
    pub code: ClassCode,
    /// Minor class name (小类名称), e.g. 暴露垃圾.
    pub name: String,
    /// Who handles cases of this class (责任部门).
    pub department: DepartmentRule,
    /// Urgency (紧急程度).
    pub urgency: Urgency,
    /// Time limits per step.
    pub limits: StepLimits,
    /// 立案条件: what must be seen for a report to be filed as this class.
    pub filing_condition: String,
    /// 结案条件: what must be seen on verification for the case to be closed.
    pub closing_condition: String,
    /// Whether new cases may be filed in this class (启用); inactive classes keep their history.
    pub active: bool,
}

/// A major class (大类) as listed by [`Catalogue::majors`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MajorClass {
    /// Event or component.
    pub kind: CaseKind,
    /// Major class code, e.g. `BJ01`.
    pub code: MajorCode,
    /// Major class name, e.g. 公用设施.
    pub name: String,
}

/// Something wrong with a catalogue as a whole or with one of its classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum CatalogueProblem {
    /// Two or more classes share a minor class code.
    #[error("class code {code} is used more than once")]
    DuplicateCode {
        /// The shared code.
        code: ClassCode,
    },
    /// A class's minor or major code has the other kind's prefix.
    #[error("class {class}: code {code} is a {} code but the class is a {kind}", code_kind(.code))]
    KindMismatch {
        /// The class.
        class: ClassCode,
        /// The code with the wrong prefix (the class code or its major code).
        code: String,
        /// The class's kind.
        kind: CaseKind,
    },
    /// A minor class code does not start with its major class code.
    #[error("class {code} is not under its major class {major_code} (a class code starts with its major code)")]
    NotUnderMajor {
        /// The minor class code.
        code: ClassCode,
        /// The major class code given with it.
        major_code: MajorCode,
    },
    /// The same major code is given two different names.
    #[error("major class {major_code} has two names: {name:?} and {other_name:?}")]
    MajorNameConflict {
        /// The major class code.
        major_code: MajorCode,
        /// The name given first.
        name: String,
        /// The other name.
        other_name: String,
    },
    /// A required text (name) is empty.
    #[error("class {code}: {field} is empty")]
    EmptyText {
        /// The class.
        code: ClassCode,
        /// The column, e.g. 小类名称.
        field: &'static str,
    },
    /// A text is longer than allowed.
    #[error("class {code}: {field} is longer than {max} characters")]
    TextTooLong {
        /// The class.
        code: ClassCode,
        /// The column.
        field: &'static str,
        /// The most characters allowed.
        max: usize,
    },
    /// A text starts with a character that spreadsheet programs read as a formula.
    #[error("class {code}: {field} starts with =, +, - or @, which spreadsheet programs run as a formula")]
    FormulaText {
        /// The class.
        code: ClassCode,
        /// The column.
        field: &'static str,
    },
    /// The department code is not a valid code.
    #[error("class {code}: department code {department:?} must be 2–32 characters of a–z, 0–9 or _ (or 属地)")]
    BadDepartment {
        /// The class.
        code: ClassCode,
        /// The department code as given.
        department: String,
    },
    /// A time limit is zero or larger than its text form can say.
    #[error("class {code}: {field} {limit} must be a whole number from 1 to 100000 of its unit")]
    LimitOutOfRange {
        /// The class.
        code: ClassCode,
        /// The column, e.g. 处置时限.
        field: &'static str,
        /// The limit.
        limit: WorkDuration,
    },
}

fn code_kind(code: &str) -> &'static str {
    code.get(..2).and_then(CaseKind::from_prefix).map_or("?", CaseKind::label_zh)
}

/// The number a limit shows in its text form (as [`WorkDuration`]'s `Display` writes it).
fn limit_number(d: WorkDuration) -> u32 {
    match d {
        WorkDuration::Minutes(m) | WorkDuration::WorkingMinutes(m) if m % 60 == 0 => m / 60,
        WorkDuration::Minutes(n) | WorkDuration::WorkingMinutes(n) | WorkDuration::WorkingDays(n) => n,
    }
}

/// The catalogue of a deployment (案件分类目录): every class, in display order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Catalogue {
    /// The minor classes, grouped by major class in display order.
    pub classes: Vec<CaseClass>,
}

impl Catalogue {
    /// The class with this minor class code (in its stored, upper-case form), if any.
    pub fn get(&self, code: &str) -> Option<&CaseClass> {
        self.classes.iter().find(|c| c.code.as_str() == code)
    }

    /// The major classes of one kind, in order of first appearance.
    pub fn majors(&self, kind: CaseKind) -> Vec<MajorClass> {
        let mut out: Vec<MajorClass> = Vec::new();
        for c in self.classes.iter().filter(|c| c.kind == kind) {
            if !out.iter().any(|m| m.code == c.major_code) {
                out.push(MajorClass { kind, code: c.major_code.clone(), name: c.major_name.clone() });
            }
        }
        out
    }

    /// The minor classes under one major class code, in order.
    pub fn minors<'a>(&'a self, major_code: &'a str) -> impl Iterator<Item = &'a CaseClass> + 'a {
        self.classes.iter().filter(move |c| c.major_code.as_str() == major_code)
    }

    /// Check the catalogue as a whole: unique codes, codes of the class's kind, each minor under
    /// its major, one name per major, non-empty names, texts of sensible length that no spreadsheet
    /// reads as a formula, valid department codes and time limits from 1 to 100000 units.
    pub fn validate(&self) -> Result<(), Vec<CatalogueProblem>> {
        let problems: Vec<CatalogueProblem> = self.located_problems().into_iter().map(|(_, p)| p).collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Every problem with the positions (indexes into `classes`) of the classes involved.
    fn located_problems(&self) -> Vec<(Vec<usize>, CatalogueProblem)> {
        let mut out = Vec::new();
        let mut by_code: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, c) in self.classes.iter().enumerate() {
            by_code.entry(c.code.as_str()).or_default().push(i);
        }
        let mut duplicates: Vec<(Vec<usize>, CatalogueProblem)> = by_code
            .into_values()
            .filter(|at| at.len() > 1)
            .map(|at| {
                let code = self.classes[at[0]].code.clone();
                (at, CatalogueProblem::DuplicateCode { code })
            })
            .collect();
        duplicates.sort_by_key(|(at, _)| at[0]);
        out.extend(duplicates);

        let mut major_names: HashMap<&MajorCode, (usize, &str)> = HashMap::new();
        let mut reported_names: Vec<(&MajorCode, &str)> = Vec::new();
        for (i, c) in self.classes.iter().enumerate() {
            let code = || c.code.clone();
            for other in [c.code.as_str(), c.major_code.as_str()] {
                if code_kind(other) != c.kind.label_zh() {
                    out.push((
                        vec![i],
                        CatalogueProblem::KindMismatch { class: code(), code: other.to_string(), kind: c.kind },
                    ));
                }
            }
            if c.code.major() != c.major_code {
                out.push((vec![i], CatalogueProblem::NotUnderMajor { code: code(), major_code: c.major_code.clone() }));
            }
            for (field, text, max, required) in [
                ("大类名称", &c.major_name, MAX_NAME_CHARS, true),
                ("小类名称", &c.name, MAX_NAME_CHARS, true),
                ("立案条件", &c.filing_condition, MAX_CONDITION_CHARS, false),
                ("结案条件", &c.closing_condition, MAX_CONDITION_CHARS, false),
            ] {
                if text.trim().is_empty() {
                    if required {
                        out.push((vec![i], CatalogueProblem::EmptyText { code: code(), field }));
                    }
                } else if text.chars().count() > max {
                    out.push((vec![i], CatalogueProblem::TextTooLong { code: code(), field, max }));
                } else if text.starts_with(['=', '+', '-', '@']) {
                    out.push((vec![i], CatalogueProblem::FormulaText { code: code(), field }));
                }
            }
            if let DepartmentRule::Department(d) = &c.department {
                if zhili_core::validate_department_code(d).is_err() {
                    out.push((vec![i], CatalogueProblem::BadDepartment { code: code(), department: d.clone() }));
                }
            }
            for (field, limit) in [
                ("立案时限", c.limits.file),
                ("派遣时限", c.limits.dispatch),
                ("处置时限", c.limits.handle),
                ("核查时限", c.limits.verify),
            ] {
                if !(1..=MAX_LIMIT_NUMBER).contains(&limit_number(limit)) {
                    out.push((vec![i], CatalogueProblem::LimitOutOfRange { code: code(), field, limit }));
                }
            }
            match major_names.get(&c.major_code) {
                None => {
                    major_names.insert(&c.major_code, (i, c.major_name.as_str()));
                }
                Some(&(first, name)) if name != c.major_name => {
                    if !reported_names.contains(&(&c.major_code, c.major_name.as_str())) {
                        reported_names.push((&c.major_code, c.major_name.as_str()));
                        out.push((
                            vec![first, i],
                            CatalogueProblem::MajorNameConflict {
                                major_code: c.major_code.clone(),
                                name: name.to_string(),
                                other_name: c.major_name.clone(),
                            },
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Spreadsheet columns
// ---------------------------------------------------------------------------------------------

/// One column of the spreadsheet form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The Chinese header, as written on export.
    pub zh: &'static str,
    /// The English header, also accepted on import.
    pub en: &'static str,
    /// Other headers accepted on import.
    pub aliases: &'static [&'static str],
    /// Whether an import needs the column.
    pub required: bool,
    /// Export width in Excel character units.
    width: u8,
}

const fn col(
    zh: &'static str,
    en: &'static str,
    aliases: &'static [&'static str],
    required: bool,
    width: u8,
) -> Column {
    Column { zh, en, aliases, required, width }
}

/// The columns of the spreadsheet form, in export order.
pub const COLUMNS: [Column; 14] = [
    col("类型", "kind", &["type"], true, 7),
    col("大类代码", "major_code", &[], true, 10),
    col("大类名称", "major_name", &["大类", "major"], true, 12),
    col("小类代码", "code", &["minor_code", "class_code"], true, 10),
    col("小类名称", "name", &["小类", "minor_name", "class_name"], true, 20),
    col("责任部门", "department", &["责任单位"], true, 10),
    col("紧急程度", "urgency", &[], true, 10),
    col("立案时限", "file_limit", &["filing_limit"], true, 10),
    col("派遣时限", "dispatch_limit", &[], true, 10),
    col("处置时限", "handle_limit", &["handling_limit"], true, 10),
    col("核查时限", "verify_limit", &["verification_limit"], true, 10),
    col("立案条件", "filing_condition", &["立案标准"], false, 60),
    col("结案条件", "closing_condition", &["结案标准"], false, 50),
    col("启用", "active", &["是否启用", "enabled"], false, 6),
];

const KIND: usize = 0;
const MAJOR_CODE: usize = 1;
const MAJOR_NAME: usize = 2;
const CODE: usize = 3;
const NAME: usize = 4;
const DEPARTMENT: usize = 5;
const URGENCY: usize = 6;
const FILE_LIMIT: usize = 7;
const DISPATCH_LIMIT: usize = 8;
const HANDLE_LIMIT: usize = 9;
const VERIFY_LIMIT: usize = 10;
const FILING_CONDITION: usize = 11;
const CLOSING_CONDITION: usize = 12;
const ACTIVE: usize = 13;

/// Normalise a header for matching: trimmed, without `*` marks, lower-case, `_` for spaces and `-`.
fn normalise_header(text: &str) -> String {
    text.trim()
        .trim_matches(|c| c == '*' || c == '＊')
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

fn column_of_header(text: &str) -> Option<usize> {
    let h = normalise_header(text);
    COLUMNS.iter().position(|c| c.zh == h || c.en == h || c.aliases.contains(&h.as_str()))
}

/// Spreadsheet column letters for a 0-based column index (0 → A, 26 → AA).
fn column_letters(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn row_texts(c: &CaseClass) -> [String; 14] {
    [
        c.kind.label_zh().to_string(),
        c.major_code.to_string(),
        c.major_name.clone(),
        c.code.to_string(),
        c.name.clone(),
        c.department.to_string(),
        c.urgency.label_zh().to_string(),
        c.limits.file.to_string(),
        c.limits.dispatch.to_string(),
        c.limits.handle.to_string(),
        c.limits.verify.to_string(),
        c.filing_condition.clone(),
        c.closing_condition.clone(),
        if c.active { "是" } else { "否" }.to_string(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Import and export
// ---------------------------------------------------------------------------------------------

/// Why a spreadsheet was not imported. Nothing is imported when any problem is found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file is larger than [`MAX_IMPORT_BYTES`].
    #[error("the file has {bytes} bytes; at most {max} are accepted")]
    FileTooLarge {
        /// The file's size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The sheet has more than [`MAX_IMPORT_ROWS`] rows of classes.
    #[error("the sheet has more than {max} rows of classes")]
    TooManyRows {
        /// The limit.
        max: usize,
    },
    /// The bytes are not a CSV or XLSX file of the expected form.
    #[error("the file could not be read: {0}")]
    Unreadable(String),
    /// No header row: the file or its first worksheet is empty.
    #[error("the file is empty: there is no header row")]
    Empty,
    /// A header row but no classes.
    #[error("the file has a header row but no classes")]
    NoClasses,
    /// Every problem found in the header, the rows and the catalogue as a whole.
    #[error("the catalogue was not imported: {}", list_problems(.0))]
    Invalid(Vec<ImportProblem>),
}

/// One problem of a rejected import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportProblem {
    /// The header row lacks a required column.
    #[error("missing required column {column} ({english})")]
    MissingColumn {
        /// The Chinese column name.
        column: &'static str,
        /// The English column name.
        english: &'static str,
    },
    /// Two header cells name the same column.
    #[error("column {column} appears twice (columns {first} and {second})")]
    DuplicateColumn {
        /// The Chinese column name.
        column: &'static str,
        /// The first spreadsheet column letter, e.g. `C`.
        first: String,
        /// The second spreadsheet column letter.
        second: String,
    },
    /// A cell is empty where a value is required, or holds an invalid value.
    #[error("row {row}, {column}: {message}")]
    Cell {
        /// The row as the spreadsheet shows it (the header is row 1 when it is the first row).
        row: u32,
        /// The column's header as written in the file.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A problem of the catalogue as a whole ([`Catalogue::validate`]), with the rows involved.
    #[error("{} {}: {problem}", if .rows.len() == 1 { "row" } else { "rows" }, join_rows(.rows))]
    Catalogue {
        /// The rows of the classes involved.
        rows: Vec<u32>,
        /// The problem.
        problem: CatalogueProblem,
    },
}

fn join_rows(rows: &[u32]) -> String {
    rows.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// How many problems [`ImportError::Invalid`]'s message lists before summarising the rest.
const LISTED_PROBLEMS: usize = 100;

fn list_problems(problems: &[ImportProblem]) -> String {
    let mut out = format!("{} problem{}", problems.len(), if problems.len() == 1 { "" } else { "s" });
    for p in problems.iter().take(LISTED_PROBLEMS) {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    if problems.len() > LISTED_PROBLEMS {
        out.push_str(&format!("\n  … and {} more", problems.len() - LISTED_PROBLEMS));
    }
    out
}

/// Why a catalogue could not be written as a spreadsheet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The XLSX writer refused the content (e.g. more rows or longer texts than Excel allows).
    #[error("could not write the XLSX workbook: {0}")]
    Xlsx(String),
}

impl From<XlsxError> for ExportError {
    fn from(e: XlsxError) -> ExportError {
        ExportError::Xlsx(e.to_string())
    }
}

impl Catalogue {
    /// Read a catalogue from CSV (UTF-8 with or without BOM, or GB18030), checking every row and
    /// the whole catalogue; see the [module documentation](self) for the form.
    pub fn from_csv(bytes: &[u8]) -> Result<Catalogue, ImportError> {
        import(read_csv(bytes)?)
    }

    /// Write the catalogue as CSV: UTF-8 with a byte-order mark, Chinese header, CRLF line ends.
    pub fn to_csv(&self) -> Vec<u8> {
        const MEMORY: &str = "writing CSV to memory cannot fail";
        let bom = "\u{feff}".as_bytes().to_vec();
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(bom);
        w.write_record(COLUMNS.iter().map(|c| c.zh)).expect(MEMORY);
        for c in &self.classes {
            w.write_record(row_texts(c)).expect(MEMORY);
        }
        w.into_inner().expect(MEMORY)
    }

    /// Read a catalogue from the first worksheet of an XLSX workbook, checking every row and the
    /// whole catalogue; see the [module documentation](self) for the form.
    pub fn from_xlsx(bytes: &[u8]) -> Result<Catalogue, ImportError> {
        import(read_xlsx(bytes)?)
    }

    /// Write the catalogue as an XLSX workbook of one sheet (案件分类): bold, frozen header with a
    /// filter, sized columns, every value as text, and drop-down lists for 类型, 紧急程度 and 启用.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, ExportError> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name("案件分类")?;
        let bold = Format::new().set_bold();
        for (i, c) in COLUMNS.iter().enumerate() {
            let i = i as u16;
            sheet.write_string_with_format(0, i, c.zh, &bold)?;
            sheet.set_column_width(i, c.width)?;
        }
        for (r, class) in self.classes.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(|_| ExportError::Xlsx("too many classes".into()))?;
            for (i, text) in row_texts(class).iter().enumerate() {
                sheet.write_string(r, i as u16, text)?;
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        let last_row = u32::try_from(self.classes.len()).unwrap_or(u32::MAX).max(1);
        sheet.autofilter(0, 0, last_row, (COLUMNS.len() - 1) as u16)?;
        const LAST_EXCEL_ROW: u32 = 1_048_575;
        for (column, values) in [(KIND, ["事件", "部件"]), (URGENCY, ["一般", "紧急"]), (ACTIVE, ["是", "否"])]
        {
            let list = DataValidation::new().allow_list_strings(&values)?;
            sheet.add_data_validation(1, column as u16, LAST_EXCEL_ROW, column as u16, &list)?;
        }
        Ok(workbook.save_to_buffer()?)
    }
}

/// How much an uploaded file may hold ([`zhili_sheet`] reads it).
const LIMITS: zhili_sheet::Limits = zhili_sheet::Limits {
    max_bytes: MAX_IMPORT_BYTES,
    max_rows: MAX_IMPORT_ROWS + HEADER_SEARCH_ROWS,
    max_columns: MAX_IMPORT_COLUMNS,
};

impl From<zhili_sheet::SheetError> for ImportError {
    fn from(e: zhili_sheet::SheetError) -> ImportError {
        use zhili_sheet::SheetError as E;
        match e {
            E::FileTooLarge { bytes, max } => ImportError::FileTooLarge { bytes, max },
            E::TooManyRows { .. } => ImportError::TooManyRows { max: MAX_IMPORT_ROWS },
            E::Unreadable(why) => ImportError::Unreadable(why),
            E::Empty => ImportError::Empty,
        }
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<RawRow>, ImportError> {
    Ok(zhili_sheet::read_csv(bytes, &LIMITS)?)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<RawRow>, ImportError> {
    Ok(zhili_sheet::read_xlsx(bytes, &LIMITS)?)
}

/// Where each column is in the file, and its header as written.
struct HeaderMap {
    index: [Option<usize>; 14],
    text: [String; 14],
}

fn read_header(row: &RawRow) -> (HeaderMap, Vec<ImportProblem>) {
    let mut map = HeaderMap { index: [None; 14], text: COLUMNS.map(|c| c.zh.to_string()) };
    let mut problems = Vec::new();
    for (i, cell) in row.cells.iter().enumerate() {
        let RawCell::Text(text) = cell else { continue };
        let Some(c) = column_of_header(text) else { continue };
        match map.index[c] {
            None => {
                map.index[c] = Some(i);
                map.text[c] = text.trim().to_string();
            }
            Some(first) => problems.push(ImportProblem::DuplicateColumn {
                column: COLUMNS[c].zh,
                first: column_letters(first),
                second: column_letters(i),
            }),
        }
    }
    for (c, spec) in COLUMNS.iter().enumerate() {
        if spec.required && map.index[c].is_none() {
            problems.push(ImportProblem::MissingColumn { column: spec.zh, english: spec.en });
        }
    }
    (map, problems)
}

fn known_headers(row: &RawRow) -> usize {
    row.cells.iter().filter(|c| matches!(c, RawCell::Text(t) if column_of_header(t).is_some())).count()
}

fn import(rows: Vec<RawRow>) -> Result<Catalogue, ImportError> {
    if rows.is_empty() {
        return Err(ImportError::Empty);
    }
    let header_at = rows.iter().take(HEADER_SEARCH_ROWS).position(|r| known_headers(r) >= 2).unwrap_or(0);
    let (header, mut problems) = read_header(&rows[header_at]);
    if !problems.is_empty() {
        return Err(ImportError::Invalid(problems));
    }
    let data = &rows[header_at + 1..];
    if data.len() > MAX_IMPORT_ROWS {
        return Err(ImportError::TooManyRows { max: MAX_IMPORT_ROWS });
    }
    if data.is_empty() {
        return Err(ImportError::NoClasses);
    }
    let mut classes = Vec::with_capacity(data.len());
    let mut class_rows = Vec::with_capacity(data.len());
    for row in data {
        match parse_row(row, &header) {
            Ok(class) => {
                classes.push(class);
                class_rows.push(row.row);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    let catalogue = Catalogue { classes };
    for (at, problem) in catalogue.located_problems() {
        problems.push(ImportProblem::Catalogue { rows: at.into_iter().map(|i| class_rows[i]).collect(), problem });
    }
    if problems.is_empty() {
        Ok(catalogue)
    } else {
        Err(ImportError::Invalid(problems))
    }
}

/// The text of a cell: `None` when empty; numbers without a needless `.0`.
fn cell_text(cell: &RawCell) -> Result<Option<String>, String> {
    match cell {
        RawCell::Empty => Ok(None),
        RawCell::Text(t) => Ok(Some(t.trim().to_string()).filter(|t| !t.is_empty())),
        RawCell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(Some(format!("{}", *n as i64))),
        RawCell::Number(n) => Ok(Some(n.to_string())),
        RawCell::Bool(b) => Ok(Some(if *b { "TRUE" } else { "FALSE" }.to_string())),
        RawCell::Unsupported(what) => Err(format!("the cell holds {what}; expected text")),
    }
}

fn required_text(cell: &RawCell) -> Result<String, String> {
    cell_text(cell)?.ok_or_else(|| "empty; this column is required".to_string())
}

/// The full text of a code cell, or `None` when bare digits cannot be prefixed (unknown kind).
///
/// Bare digits (a number cell, or text of digits only) are left-padded with zeros to `digits` and
/// take `kind`'s prefix; other text is upper-cased and left for the code parser to judge.
fn code_text(cell: &RawCell, kind: Option<CaseKind>, digits: usize) -> Result<Option<String>, String> {
    let bare = match cell {
        RawCell::Number(n) => {
            if n.fract() != 0.0 || *n < 0.0 || *n >= 10f64.powi(digits as i32) {
                return Err(format!("the number {n} is not a code of {digits} digits"));
            }
            format!("{:0digits$}", *n as u32)
        }
        _ => {
            let text = required_text(cell)?.to_ascii_uppercase();
            if text.len() > digits || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(Some(text));
            }
            format!("{text:0>digits$}")
        }
    };
    Ok(kind.map(|k| format!("{}{bare}", k.prefix())))
}

fn parse_limit(cell: &RawCell) -> Result<WorkDuration, String> {
    WorkDuration::parse(&required_text(cell)?).map_err(|e| e.to_string())
}

fn parse_active(cell: &RawCell) -> Result<bool, String> {
    match cell {
        RawCell::Bool(b) => Ok(*b),
        RawCell::Number(n) if *n == 1.0 => Ok(true),
        RawCell::Number(n) if *n == 0.0 => Ok(false),
        _ => match cell_text(cell)?.map(|t| t.to_lowercase()).as_deref() {
            None => Ok(true),
            Some("是" | "启用" | "true" | "yes" | "y" | "1") => Ok(true),
            Some("否" | "停用" | "禁用" | "false" | "no" | "n" | "0") => Ok(false),
            Some(other) => Err(format!("{other:?} is not yes or no: use 是 or 否")),
        },
    }
}

/// Reads the cells of one row, collecting a problem per bad cell.
struct RowReader<'a> {
    row: &'a RawRow,
    header: &'a HeaderMap,
    problems: Vec<ImportProblem>,
}

static EMPTY_CELL: RawCell = RawCell::Empty;

impl RowReader<'_> {
    fn take<T>(&mut self, column: usize, read: impl FnOnce(&RawCell) -> Result<T, String>) -> Option<T> {
        let cell = self.header.index[column].and_then(|i| self.row.cells.get(i)).unwrap_or(&EMPTY_CELL);
        match read(cell) {
            Ok(value) => Some(value),
            Err(message) => {
                let column = self.header.text[column].clone();
                self.problems.push(ImportProblem::Cell { row: self.row.row, column, message });
                None
            }
        }
    }
}

fn parse_with<T>(cell: &RawCell, parse: fn(&str) -> Result<T, ValueError>) -> Result<T, String> {
    parse(&required_text(cell)?).map_err(|e| e.to_string())
}

/// Read a code cell of `digits` bare digits; `None` when the kind needed for bare digits is unknown.
fn parse_code<T: fmt::Display>(
    cell: &RawCell,
    kind: Option<CaseKind>,
    digits: usize,
    parse: fn(&str) -> Result<T, ValueError>,
    kind_of: fn(&T) -> CaseKind,
) -> Result<Option<T>, String> {
    let Some(text) = code_text(cell, kind, digits)? else { return Ok(None) };
    let code = parse(&text).map_err(|e| e.to_string())?;
    match kind {
        Some(k) if kind_of(&code) != k => Err(format!(
            "{code} is a {} code, but 类型 is {k} (codes of {k} start with {})",
            kind_of(&code),
            k.prefix()
        )),
        _ => Ok(Some(code)),
    }
}

fn parse_row(row: &RawRow, header: &HeaderMap) -> Result<CaseClass, Vec<ImportProblem>> {
    let mut r = RowReader { row, header, problems: Vec::new() };
    let kind = r.take(KIND, |c| parse_with(c, CaseKind::parse));
    let major_code = r.take(MAJOR_CODE, |c| parse_code(c, kind, 2, MajorCode::parse, MajorCode::kind)).flatten();
    let major_name = r.take(MAJOR_NAME, required_text);
    let code = r.take(CODE, |c| parse_code(c, kind, 4, ClassCode::parse, ClassCode::kind)).flatten();
    let name = r.take(NAME, required_text);
    let department = r.take(DEPARTMENT, |c| parse_with(c, DepartmentRule::parse));
    let urgency = r.take(URGENCY, |c| parse_with(c, Urgency::parse));
    let file = r.take(FILE_LIMIT, parse_limit);
    let dispatch = r.take(DISPATCH_LIMIT, parse_limit);
    let handle = r.take(HANDLE_LIMIT, parse_limit);
    let verify = r.take(VERIFY_LIMIT, parse_limit);
    let filing_condition = r.take(FILING_CONDITION, cell_text);
    let closing_condition = r.take(CLOSING_CONDITION, cell_text);
    let active = r.take(ACTIVE, parse_active);
    let (
        Some(kind),
        Some(major_code),
        Some(major_name),
        Some(code),
        Some(name),
        Some(department),
        Some(urgency),
        Some(limits),
        Some(filing_condition),
        Some(closing_condition),
        Some(active),
    ) = (
        kind,
        major_code,
        major_name,
        code,
        name,
        department,
        urgency,
        file.zip(dispatch).zip(handle).zip(verify).map(|(((file, dispatch), handle), verify)| StepLimits {
            file,
            dispatch,
            handle,
            verify,
        }),
        filing_condition,
        closing_condition,
        active,
    )
    else {
        return Err(r.problems);
    };
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    Ok(CaseClass {
        kind,
        major_code,
        major_name,
        code,
        name,
        department,
        urgency,
        limits,
        filing_condition: filing_condition.unwrap_or_default(),
        closing_condition: closing_condition.unwrap_or_default(),
        active,
    })
}

// ---------------------------------------------------------------------------------------------
// The national seed
// ---------------------------------------------------------------------------------------------

/// One seeded minor class: minor number, name, department code (or 属地), urgent, handling limit,
/// filing condition and closing condition (empty: the generic text for a component).
type Seed = (u8, &'static str, &'static str, bool, WorkDuration, &'static str, &'static str);
/// One seeded major class: kind, major number, name and its minor classes.
type MajorSeed = (CaseKind, u8, &'static str, &'static [Seed]);

const fn wh(hours: u32) -> WorkDuration {
    WorkDuration::WorkingMinutes(hours * 60)
}
const fn wd(days: u32) -> WorkDuration {
    WorkDuration::WorkingDays(days)
}
const fn hours(hours: u32) -> WorkDuration {
    WorkDuration::Minutes(hours * 60)
}
const fn minutes(minutes: u32) -> WorkDuration {
    WorkDuration::Minutes(minutes)
}

const U: bool = true;
const N: bool = false;

const COVER_FILING: &str = "井盖丢失、破损、移位，或凹凸、与路面高差明显，存在安全隐患";
const COVER_CLOSING: &str = "井盖补齐、更换或复位，平稳牢固，无安全隐患";

/// The national classes, numbered after GB/T 30428.2 (部件) and GB/T 30428.3 (事件) as deployed
/// systems commonly number them (with gaps where a city drops a class); 99 is "other" in a major.
#[rustfmt::skip]
const NATIONAL: &[MajorSeed] = &[
    (CaseKind::Event, 1, "市容环境", &[
        (1, "违法建设", "cgj", N, wd(15),
            "未经规划许可新建、改建、扩建建（构）筑物，或在屋顶、庭院、公共空间私搭乱建",
            "违法建设已拆除或依法处理完毕，现场恢复原状"),
        (2, "暴露垃圾", "cgj", N, wh(4),
            "道路、广场、绿地等公共区域有散落或成袋、成堆的生活垃圾",
            "垃圾清理干净，现场无残留"),
        (3, "积存垃圾渣土", "cgj", N, wd(1),
            "公共区域积存建筑垃圾、渣土或长期未清运的垃圾，约1立方米以上",
            "垃圾渣土清运完毕，地面清扫干净"),
        (4, "道路不洁", "cgj", N, wh(5),
            "道路、人行道有明显污渍、泥土、油污、积尘或散落杂物",
            "路面清扫、冲洗干净，无明显污渍杂物"),
        (5, "水域不洁", "slj", N, wd(1),
            "河道、湖泊等水面有漂浮垃圾、油污、死鱼，或岸坡有垃圾",
            "水面漂浮物及岸坡垃圾打捞清理干净"),
        (6, "绿地脏乱", "cgj", N, wd(1),
            "绿地内有垃圾、杂物、枯枝落叶堆积，或被踩踏裸露",
            "绿地垃圾杂物清理干净，整洁无脏乱"),
        (7, "废弃车辆", "cgj", N, wd(5),
            "道路、小区公共区域长期停放无牌、破损、积尘的废弃机动车或非机动车",
            "废弃车辆拖离或由车主自行处理"),
        (8, "废弃家具设备", "属地", N, wd(1),
            "公共区域随意丢弃家具、家电、床垫等大件废弃物",
            "废弃物清运完毕，现场无残留"),
        (10, "道路破损", "zjj", N, wd(3),
            "城市道路、人行道路面坑洼、破损、沉陷或铺装缺失，影响通行",
            "破损路面修复平整，通行安全"),
        (11, "油烟污染", "hbj", N, wd(5),
            "餐饮单位未安装或未正常使用油烟净化设施，油烟直排影响周边",
            "油烟净化设施安装并正常使用，油烟达标排放"),
        (13, "动物尸体", "cgj", N, wh(4),
            "道路、绿地、水域等公共区域有动物尸体",
            "动物尸体清理并无害化处理，现场消杀"),
        (15, "垃圾满溢", "cgj", N, wh(4),
            "垃圾桶（箱）、垃圾收集点垃圾满溢，桶外有散落垃圾",
            "垃圾清运完毕，桶体及周边清洁"),
        (99, "其他市容环境问题", "属地", N, wd(3),
            "不属于以上小类的市容环境问题",
            "问题处置完毕，现场恢复整洁"),
    ]),
    (CaseKind::Event, 2, "宣传广告", &[
        (1, "非法小广告", "cgj", N, wd(1),
            "在建（构）筑物、公共设施、树木上乱张贴、乱涂写、乱刻画、乱喷涂小广告",
            "小广告清除干净，无明显痕迹"),
        (2, "违规户外广告", "cgj", N, wd(5),
            "未经批准或超出许可设置户外广告、招牌，或广告设施破损、有安全隐患",
            "违规广告拆除或补办手续，破损设施修复"),
        (3, "占道广告牌", "cgj", N, wd(1),
            "在道路、人行道上擅自摆放落地广告牌、灯箱、展板",
            "占道广告牌撤除，道路恢复通行"),
        (4, "街头散发广告", "cgj", N, wh(4),
            "在道路、广场等公共场所散发广告传单、名片",
            "散发行为制止，散落传单清理干净"),
        (5, "违规标语横幅", "cgj", N, wd(1),
            "未经批准悬挂、张贴横幅标语，或过期、破损未及时撤除",
            "横幅标语撤除或规范设置"),
        (6, "广告招牌破损", "cgj", N, wd(2),
            "广告牌匾、招牌破损、缺字、松动，存在坠落风险",
            "破损招牌修复或拆除，无安全隐患"),
    ]),
    (CaseKind::Event, 3, "施工管理", &[
        (1, "施工扰民", "cgj", N, wd(1),
            "夜间（22时至次日6时）未经批准施工，或施工噪声、强光扰民",
            "违规施工停止或已取得夜间施工许可，扰民消除"),
        (2, "工地扬尘", "zjj", N, wd(1),
            "施工工地裸土未覆盖、未洒水降尘，扬尘明显",
            "裸土覆盖、降尘措施落实，无明显扬尘"),
        (3, "道路遗撒", "cgj", N, wh(4),
            "运输车辆沿途遗撒渣土、砂石、泥浆，污染路面",
            "遗撒物清理干净，路面冲洗洁净"),
        (4, "施工废弃料", "zjj", N, wd(2),
            "施工结束后未清理废弃建材、渣土，或工地外乱堆施工废料",
            "施工废弃料清运完毕，场地平整干净"),
        (5, "施工占道", "cgj", N, wd(2),
            "施工超范围占用道路、人行道，或未经批准占道施工",
            "占道物撤除或补办手续，道路恢复通行"),
        (6, "无证掘路", "cgj", N, wd(1),
            "未经批准擅自挖掘城市道路",
            "掘路停止并依法处理，路面按标准恢复"),
        (7, "无证施工", "zjj", N, wd(3),
            "未取得施工许可擅自开工建设",
            "施工停止并依法处理，或补办施工许可"),
        (9, "渣土车未密闭运输", "cgj", N, wh(4),
            "渣土运输车辆未密闭、超载，或未按规定路线、时间行驶",
            "违规车辆查处，密闭运输落实"),
        (99, "其他施工管理问题", "zjj", N, wd(3),
            "不属于以上小类的施工管理问题",
            "问题处置完毕，施工行为规范"),
    ]),
    (CaseKind::Event, 4, "突发事件", &[
        (1, "路面塌陷", "zjj", U, hours(2),
            "道路、人行道路面塌陷或出现空洞，危及通行安全",
            "塌陷处围挡警示并修复，通行安全"),
        (2, "自来水管破裂", "slj", U, hours(2),
            "供水管道破裂、跑水，影响道路通行或周边供水",
            "关阀止水并修复，路面恢复"),
        (3, "燃气泄漏", "zjj", U, hours(1),
            "燃气管道或设施破损泄漏，现场有明显燃气味",
            "泄漏点封堵修复，经检测无泄漏"),
        (4, "下水道堵塞或破损", "slj", N, wd(1),
            "排水管道、检查井堵塞、冒溢或破损",
            "管道疏通或修复，排水通畅无冒溢"),
        (5, "热力管道破裂", "zjj", U, hours(2),
            "供热管道破裂、冒汽、漏水",
            "漏点修复，供热恢复"),
        (6, "道路积水", "slj", U, hours(2),
            "降雨后道路、下穿通道积水约15厘米以上，影响通行",
            "积水排除，道路恢复通行"),
        (7, "道路积雪结冰", "cgj", U, hours(4),
            "降雪后道路、人行道、桥梁积雪结冰未清除，影响通行安全",
            "积雪清除，结冰处融化或撒布融雪剂"),
        (8, "架空线缆损坏", "属地", N, wd(1),
            "架空线缆断落、低垂、杂乱，或线杆倾斜，存在安全隐患",
            "线缆规整、固定或撤除，无安全隐患"),
        (9, "火灾", "yjj", U, minutes(30),
            "建（构）筑物、车辆、绿地等发生火情或冒烟",
            "明火扑灭，现场无复燃风险"),
        (10, "群体性事件", "gaj", U, hours(1),
            "人员聚集、围堵、冲突等影响社会秩序的群体性事件",
            "人员疏散，秩序恢复"),
        (99, "其他突发事件", "yjj", U, hours(2),
            "不属于以上小类、危及人身或财产安全的突发事件",
            "险情排除，现场安全"),
    ]),
    (CaseKind::Event, 5, "街面秩序", &[
        (1, "无照经营游商", "cgj", N, wh(4),
            "在道路、广场等公共场所流动兜售，无固定经营场所",
            "游商劝离或依法处理，现场无经营行为"),
        (2, "流浪乞讨", "mzj", N, wd(1),
            "公共场所有流浪乞讨人员",
            "救助站接回或劝导离开，现场无流浪乞讨人员"),
        (3, "占道废品收购", "cgj", N, wd(1),
            "占用道路、人行道收购、堆放、分拣废品",
            "占道收购停止，废品清理干净"),
        (4, "店外经营", "cgj", N, wh(4),
            "临街门店超出门窗、外墙摆放商品或设施经营",
            "商品设施收回店内，店外无经营"),
        (5, "机动车乱停放", "gaj", N, wh(4),
            "机动车在人行道、绿地、消防通道等非停车区域停放",
            "车辆驶离或依法处理"),
        (6, "非机动车乱停放", "属地", N, wh(4),
            "自行车、电动自行车、共享单车在非停放区域乱停乱放，影响通行",
            "车辆摆放整齐或清离"),
        (7, "乱堆物堆料", "cgj", N, wd(1),
            "在道路、人行道、公共场地乱堆物料、杂物",
            "堆物堆料清除，场地恢复整洁"),
        (8, "占道经营", "cgj", N, wh(4),
            "固定摊点占用道路、人行道、广场经营",
            "占道摊点撤离，现场无经营行为"),
        (9, "商业噪音", "cgj", N, wh(4),
            "商户用高音喇叭、音响招揽顾客等商业噪声扰民",
            "噪声源停止或音量降至标准以内"),
        (10, "黑车拉客", "jtj", N, wd(1),
            "无营运资质车辆在车站、医院、景区等地非法揽客",
            "非法营运车辆驶离或依法查处"),
        (11, "露天烧烤", "cgj", N, wh(4),
            "在道路、广场、居民区等公共场所露天烧烤",
            "烧烤停止，设施撤除，现场清理干净"),
        (12, "沿街晾挂", "属地", N, wd(1),
            "临街门窗、阳台外或道路两侧树木、护栏、设施上晾晒衣物杂物",
            "晾挂物收回，无沿街晾挂"),
        (13, "违章接坡", "cgj", N, wd(3),
            "在道路、人行道边沿擅自设置接坡（坡道）",
            "违章接坡拆除，路面恢复"),
        (14, "社会生活噪声扰民", "gaj", N, wd(1),
            "广场舞、娱乐活动、装修等社会生活噪声扰民",
            "噪声源停止或降至规定标准以内"),
        (99, "其他街面秩序问题", "属地", N, wd(3),
            "不属于以上小类的街面秩序问题",
            "问题处置完毕，街面秩序恢复"),
    ]),
    (CaseKind::Event, 6, "其他事件", &[
        (1, "群租", "属地", N, wd(10),
            "住宅按床位出租或分隔群租，人均居住面积低于规定或有消防隐患",
            "群租整治完毕，房屋恢复原结构和用途"),
        (2, "违法用地", "zrzyj", N, wd(15),
            "未经批准占用土地，或擅自改变土地用途",
            "违法用地依法处理，土地恢复原状或补办手续"),
        (3, "非法行医", "wjj", N, wd(5),
            "未取得医疗机构执业许可开展诊疗活动",
            "非法行医取缔，依法处理"),
        (4, "乱倒乱排污水", "hbj", N, wd(3),
            "向道路、雨水管网或水体乱倒乱排污水、废水",
            "乱排停止，污染清理，排水规范接入"),
        (5, "河湖“四乱”", "slj", N, wd(10),
            "河湖管理范围内乱占、乱采、乱堆、乱建",
            "“四乱”问题清理整治到位"),
        (6, "公共安全隐患", "yjj", N, wd(3),
            "高空坠物、电动自行车违规充电、消防通道堵塞等公共安全隐患",
            "隐患消除或管控措施落实"),
        (7, "矛盾纠纷", "属地", N, wd(5),
            "邻里、物业、婚姻家庭等矛盾纠纷需要调解",
            "纠纷调解完毕或依法导入相应程序"),
        (8, "困难群众求助", "mzj", N, wd(5),
            "困难群众、孤寡老人、留守儿童等需要救助帮扶",
            "救助帮扶措施落实，结果反馈当事人"),
        (99, "其他事件", "属地", N, wd(5),
            "不属于以上各类的事件",
            "问题处置完毕"),
    ]),
    (CaseKind::Component, 1, "公用设施", &[
        (1, "上水井盖", "slj", U, hours(2), COVER_FILING, COVER_CLOSING),
        (2, "污水井盖", "slj", U, hours(2), COVER_FILING, COVER_CLOSING),
        (3, "雨水井盖", "slj", U, hours(2), COVER_FILING, COVER_CLOSING),
        (4, "雨水箅子", "slj", U, hours(2),
            "雨水箅子丢失、破损、移位或堵塞",
            "雨水箅子补齐、更换或复位，排水通畅"),
        (5, "电力井盖", "zjj", U, hours(2), COVER_FILING, COVER_CLOSING),
        (6, "路灯井盖", "cgj", U, hours(2), COVER_FILING, COVER_CLOSING),
        (7, "通讯井盖", "zjj", U, hours(2), COVER_FILING, COVER_CLOSING),
        (10, "热力井盖", "zjj", U, hours(2), COVER_FILING, COVER_CLOSING),
        (11, "燃气井盖", "zjj", U, hours(2), COVER_FILING, COVER_CLOSING),
        (12, "公安井盖", "gaj", U, hours(2), COVER_FILING, COVER_CLOSING),
        (13, "消防设施", "yjj", N, wd(1),
            "消火栓等消防设施损坏、漏水，或被圈占、遮挡",
            "消防设施修复可用，周边无圈占遮挡"),
        (14, "无主井盖", "属地", U, hours(2), COVER_FILING, COVER_CLOSING),
        (16, "电力设施", "zjj", N, wd(2),
            "变压器、配电箱等电力设施破损、箱门敞开或有漏电隐患",
            "电力设施修复，箱门关闭上锁，无安全隐患"),
        (17, "立杆", "zjj", N, wd(3), "", ""),
        (18, "路灯", "cgj", N, wd(1),
            "路灯连续3盏及以上不亮，或灯具破损、灯杆倾斜、线路外露",
            "路灯恢复照明，灯具灯杆完好"),
        (20, "景观灯", "cgj", N, wd(2), "", ""),
        (26, "健身设施", "属地", N, wd(3),
            "公共健身器材破损、松动或缺失，存在安全隐患",
            "健身器材修复或更换，安全可用"),
        (36, "监控电子眼", "gaj", N, wd(3), "", ""),
    ]),
    (CaseKind::Component, 2, "道路交通", &[
        (1, "停车场", "jtj", N, wd(3),
            "停车场设施破损、标线不清，或收费公示、标志缺失",
            "设施修复，标线标志清晰完整"),
        (3, "公交站亭", "jtj", N, wd(2), "", ""),
        (5, "过街天桥", "zjj", N, wd(2), "", ""),
        (6, "地下通道", "zjj", N, wd(2), "", ""),
        (8, "跨河桥", "zjj", N, wd(2), "", ""),
        (9, "交通标志牌", "gaj", N, wd(2), "", ""),
        (10, "交通信号灯", "gaj", U, hours(2),
            "交通信号灯不亮、显示异常或灯杆倾斜",
            "信号灯恢复正常运行"),
        (11, "交通护栏", "jtj", N, wd(2),
            "道路护栏、隔离栏缺失、倾倒或破损",
            "护栏补齐、扶正或更换"),
        (13, "路名牌", "mzj", N, wd(5),
            "路名牌缺失、破损、倾斜或内容错误",
            "路名牌补齐、修复或更正"),
    ]),
    (CaseKind::Component, 3, "市容环境", &[
        (1, "公共厕所", "cgj", N, wd(1),
            "公共厕所设施损坏、堵塞、不洁或未按时开放",
            "设施修复，卫生达标，正常开放"),
        (2, "化粪池", "cgj", N, wd(1),
            "化粪池满溢，或盖板破损、缺失",
            "化粪池清掏，盖板补齐或修复"),
        (4, "垃圾间（楼）", "cgj", N, wd(1), "", ""),
        (5, "垃圾箱", "cgj", N, wd(1),
            "垃圾箱（桶）缺失、破损、倾倒或脏污",
            "垃圾箱补齐、修复、扶正或清洗干净"),
        (7, "广告牌匾", "cgj", N, wd(3), "", ""),
        (8, "环保监测站", "hbj", N, wd(3), "", ""),
    ]),
    (CaseKind::Component, 4, "园林绿化", &[
        (1, "古树名木", "zrzyj", N, wd(2),
            "古树名木枝干折断、病虫害、长势衰弱，或保护设施损坏",
            "保护救治措施落实，保护设施修复"),
        (2, "行道树", "cgj", N, wd(2),
            "行道树缺株、死亡、倾斜、断枝，或影响通行、遮挡信号灯",
            "补植、扶正或修剪，无安全隐患"),
        (3, "护树设施", "cgj", N, wd(3), "", ""),
        (5, "绿地", "cgj", N, wd(3),
            "绿地植物缺失、枯死、被毁，或绿地被侵占、黄土裸露",
            "补植恢复，绿地完整"),
        (7, "街头座椅", "cgj", N, wd(3), "", ""),
        (8, "绿地护栏", "cgj", N, wd(3), "", ""),
    ]),
    (CaseKind::Component, 5, "房屋土地", &[
        (1, "宣传栏", "属地", N, wd(3), "", ""),
        (2, "人防工事", "zjj", N, wd(5),
            "人防工事出入口、通风口破损、被占用或积水",
            "设施修复，占用清除，积水排除"),
    ]),
    (CaseKind::Component, 6, "其他设施", &[
        (1, "重大危险源", "yjj", N, wd(1),
            "重大危险源警示标志、防护设施缺失或损坏",
            "警示标志、防护设施补齐修复"),
        (2, "工地", "zjj", N, wd(3),
            "工地围挡、出入口冲洗设施等附属设施缺失或破损",
            "附属设施补齐修复"),
        (3, "水域附属设施", "slj", N, wd(3), "", ""),
        (4, "水域护栏", "slj", N, wd(2), "", ""),
        (99, "其他设施", "属地", N, wd(5), "", ""),
    ]),
];

impl Catalogue {
    /// The national seed: the six event and six component major classes of GB/T 30428.2/.3 with
    /// the common minor classes, codes as in our scheme (see the module documentation), demo
    /// department codes (`cgj`, `slj`, `zjj`, `jtj`, `gaj`, `hbj`, `yjj`, `zrzyj`, `wjj`, `mzj`) or
    /// 属地, and time limits after the national examples. Each city adjusts it to its own rules.
    pub fn national() -> Catalogue {
        let mut classes = Vec::new();
        for &(kind, major, major_name, seeds) in NATIONAL {
            let major_code = MajorCode::new(kind, major).expect("seeded major numbers are 01–99");
            for &(minor, name, department, urgent, handle, filing, closing) in seeds {
                let urgency = if urgent { Urgency::Urgent } else { Urgency::Normal };
                let (filing_condition, closing_condition) = if filing.is_empty() {
                    (format!("{name}缺失、破损、倾斜、移位或功能异常"), format!("{name}修复、补齐或更换，恢复完好可用"))
                } else {
                    (filing.to_string(), closing.to_string())
                };
                classes.push(CaseClass {
                    kind,
                    major_code: major_code.clone(),
                    major_name: major_name.to_string(),
                    code: ClassCode::new(kind, major, minor).expect("seeded minor numbers are 01–99"),
                    name: name.to_string(),
                    department: if department == DepartmentRule::TERRITORIAL {
                        DepartmentRule::Territorial
                    } else {
                        DepartmentRule::Department(department.to_string())
                    },
                    urgency,
                    limits: StepLimits::standard(urgency, handle),
                    filing_condition,
                    closing_condition,
                    active: true,
                });
            }
        }
        Catalogue { classes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: [&str; 14] = [
        "类型",
        "大类代码",
        "大类名称",
        "小类代码",
        "小类名称",
        "责任部门",
        "紧急程度",
        "立案时限",
        "派遣时限",
        "处置时限",
        "核查时限",
        "立案条件",
        "结案条件",
        "启用",
    ];
    const GOOD: [&str; 14] = [
        "事件",
        "SJ01",
        "市容环境",
        "SJ0102",
        "暴露垃圾",
        "cgj",
        "一般",
        "30分钟",
        "30分钟",
        "4工作时",
        "1工作时",
        "有垃圾",
        "清理干净",
        "是",
    ];

    fn csv_of(rows: &[Vec<&str>]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
        for r in rows {
            w.write_record(r).unwrap();
        }
        w.into_inner().unwrap()
    }

    /// A CSV of the header and rows made from [`GOOD`] with some cells replaced.
    fn csv_with(changes: &[&[(usize, &str)]]) -> Vec<u8> {
        let mut rows = vec![HEADER.to_vec()];
        for (i, change) in changes.iter().enumerate() {
            let mut row = GOOD.to_vec();
            let code = format!("SJ01{:02}", i + 1);
            row[CODE] = Box::leak(code.into_boxed_str());
            for &(c, v) in change.iter() {
                row[c] = v;
            }
            rows.push(row);
        }
        csv_of(&rows)
    }

    fn problems(result: Result<Catalogue, ImportError>) -> Vec<ImportProblem> {
        match result {
            Err(ImportError::Invalid(p)) => p,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn cell(row: u32, column: &str, message: &str) -> ImportProblem {
        ImportProblem::Cell { row, column: column.into(), message: message.into() }
    }

    fn good_class() -> CaseClass {
        Catalogue::from_csv(&csv_with(&[&[]])).unwrap().classes.remove(0)
    }

    #[test]
    fn national_seed_validates_and_has_the_twelve_major_classes() {
        let national = Catalogue::national();
        assert_eq!(national.validate(), Ok(()));
        let names = |kind| national.majors(kind).into_iter().map(|m| m.name).collect::<Vec<_>>();
        assert_eq!(names(CaseKind::Event), ["市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "其他事件"]);
        assert_eq!(
            names(CaseKind::Component),
            ["公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施"]
        );
        let codes: Vec<_> = national.majors(CaseKind::Component).into_iter().map(|m| m.code.to_string()).collect();
        assert_eq!(codes, ["BJ01", "BJ02", "BJ03", "BJ04", "BJ05", "BJ06"]);
        assert!((60..=120).contains(&national.classes.len()), "{}", national.classes.len());
        let demo = ["cgj", "slj", "zjj", "jtj", "gaj", "hbj", "yjj", "zrzyj", "wjj", "mzj"];
        for c in &national.classes {
            if let DepartmentRule::Department(d) = &c.department {
                assert!(demo.contains(&d.as_str()), "{} {d}", c.code);
            }
            assert!(c.active && !c.filing_condition.is_empty() && !c.closing_condition.is_empty(), "{}", c.code);
        }
        assert!(national.classes.iter().any(|c| c.department == DepartmentRule::Territorial));
        assert_eq!(national.minors("BJ05").map(|c| c.name.as_str()).collect::<Vec<_>>(), ["宣传栏", "人防工事"]);
    }

    #[test]
    fn national_seed_limits_follow_the_national_examples() {
        let national = Catalogue::national();
        let class = |code: &str| national.get(code).unwrap_or_else(|| panic!("{code}"));
        let cover = class("BJ0101");
        assert_eq!((cover.name.as_str(), cover.urgency), ("上水井盖", Urgency::Urgent));
        assert_eq!(
            cover.limits,
            StepLimits {
                file: WorkDuration::Minutes(10),
                dispatch: WorkDuration::Minutes(10),
                handle: WorkDuration::Minutes(120),
                verify: WorkDuration::Minutes(60),
            }
        );
        assert_eq!(class("BJ0118").name, "路灯");
        assert_eq!(class("BJ0118").limits.handle, WorkDuration::WorkingDays(1));
        assert_eq!(class("SJ0102").name, "暴露垃圾");
        assert_eq!(class("SJ0102").limits.handle.to_string(), "4工作时");
        assert_eq!(class("SJ0104").limits.handle.to_string(), "5工作时");
        assert_eq!(class("SJ0101").limits.handle.to_string(), "15工作日");
        let normal = class("SJ0102").limits;
        assert_eq!((normal.file, normal.dispatch), (WorkDuration::Minutes(30), WorkDuration::Minutes(30)));
        assert_eq!(normal.verify, WorkDuration::WorkingMinutes(60));
        assert_eq!(class("BJ0114").department, DepartmentRule::Territorial);
        assert!(national.get("BJ0199").is_none());
        assert!(national.get("bj0101").is_none(), "get takes the stored form");
    }

    #[test]
    fn csv_round_trips_with_a_bom() {
        let national = Catalogue::national();
        let bytes = national.to_csv();
        assert!(bytes.starts_with("\u{feff}类型,大类代码,".as_bytes()));
        assert!(bytes.windows(2).any(|w| w == b"\r\n"));
        assert_eq!(Catalogue::from_csv(&bytes), Ok(national));
    }

    #[test]
    fn xlsx_round_trips() {
        let national = Catalogue::national();
        let bytes = national.to_xlsx().unwrap();
        assert!(bytes.starts_with(b"PK"));
        assert_eq!(Catalogue::from_xlsx(&bytes), Ok(national));
        let empty = Catalogue::default().to_xlsx().unwrap();
        assert_eq!(Catalogue::from_xlsx(&empty), Err(ImportError::NoClasses));
    }

    #[test]
    fn english_headers_other_order_no_bom_and_unknown_columns() {
        let text = "note,Name,CODE,major_name,Major-Code,kind,department,urgency,handle_limit,file_limit,\
                    dispatch_limit,verify_limit,active\n\
                    x,路灯,BJ0118,公用设施,BJ01,component,属地,normal,1wd,30min,30min,1wh,no\n";
        let catalogue = Catalogue::from_csv(text.as_bytes()).unwrap();
        let lamp = &catalogue.classes[0];
        assert_eq!((lamp.kind, lamp.code.as_str(), lamp.name.as_str()), (CaseKind::Component, "BJ0118", "路灯"));
        assert_eq!(lamp.department, DepartmentRule::Territorial);
        assert_eq!(lamp.limits.handle, WorkDuration::WorkingDays(1));
        assert_eq!((lamp.filing_condition.as_str(), lamp.active), ("", false));
    }

    #[test]
    fn columns_in_any_order() {
        let national = Catalogue::national();
        let bytes = national.to_csv();
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[3..]);
        let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
        for record in reader.records() {
            let record = record.unwrap();
            writer.write_record(record.iter().rev()).unwrap();
        }
        assert_eq!(Catalogue::from_csv(&writer.into_inner().unwrap()), Ok(national));
    }

    #[test]
    fn optional_columns_may_be_left_out() {
        let rows: Vec<Vec<&str>> = [HEADER, GOOD].iter().map(|r| r[..11].to_vec()).collect();
        let class = &Catalogue::from_csv(&csv_of(&rows)).unwrap().classes[0];
        assert_eq!((class.filing_condition.as_str(), class.closing_condition.as_str(), class.active), ("", "", true));
    }

    #[test]
    fn every_bad_cell_is_reported_with_its_row_and_column() {
        let bytes = csv_with(&[
            &[],
            &[(HANDLE_LIMIT, "3周")],
            &[(KIND, "设施")],
            &[(NAME, "")],
            &[(KIND, "部件"), (MAJOR_CODE, "BJ01")],
            &[(DEPARTMENT, "城管局"), (URGENCY, "特急")],
            &[(ACTIVE, "maybe"), (FILE_LIMIT, "0分钟"), (CODE, "SJ01X")],
        ]);
        let found = problems(Catalogue::from_csv(&bytes));
        assert_eq!(
            found,
            vec![
                cell(3, "处置时限", "time limit \"3周\": unknown unit (use 分钟, 小时, 工作分钟, 工作时 or 工作日)"),
                cell(4, "类型", "\"设施\" is not a valid case kind: use 事件 or 部件"),
                cell(5, "小类名称", "empty; this column is required"),
                cell(6, "小类代码", "SJ0105 is a 事件 code, but 类型 is 部件 (codes of 部件 start with BJ)"),
                cell(
                    7,
                    "责任部门",
                    "\"城管局\" is not a valid department: use 属地 or a department code of 2–32 a–z, 0–9 or _"
                ),
                cell(7, "紧急程度", "\"特急\" is not a valid urgency: use 一般 or 紧急"),
                cell(8, "小类代码", &format!("\"SJ01X\" is not a valid class code: {CLASS_CODE_FORM}")),
                cell(8, "立案时限", "time limit \"0分钟\": the number must be a whole number from 1 to 100000"),
                cell(8, "启用", "\"maybe\" is not yes or no: use 是 or 否"),
            ]
        );
        let message = ImportError::Invalid(found).to_string();
        assert!(message.starts_with("the catalogue was not imported: 9 problems\n  row 3, 处置时限: "), "{message}");
        assert!(message.contains("unknown unit") && message.contains("\"3周\""), "{message}");
    }

    #[test]
    fn catalogue_problems_name_their_rows() {
        let bytes = csv_with(&[
            &[],
            &[(CODE, "SJ0101")],
            &[(CODE, "SJ0201")],
            &[(MAJOR_NAME, "市容")],
            &[(MAJOR_NAME, "市容")],
        ]);
        let found = problems(Catalogue::from_csv(&bytes));
        let code = |c: &str| ClassCode::parse(c).unwrap();
        let major = MajorCode::parse("SJ01").unwrap();
        assert_eq!(
            found,
            vec![
                ImportProblem::Catalogue {
                    rows: vec![2, 3],
                    problem: CatalogueProblem::DuplicateCode { code: code("SJ0101") }
                },
                ImportProblem::Catalogue {
                    rows: vec![4],
                    problem: CatalogueProblem::NotUnderMajor { code: code("SJ0201"), major_code: major.clone() },
                },
                ImportProblem::Catalogue {
                    rows: vec![2, 5],
                    problem: CatalogueProblem::MajorNameConflict {
                        major_code: major,
                        name: "市容环境".into(),
                        other_name: "市容".into(),
                    },
                },
            ]
        );
        assert_eq!(found[0].to_string(), "rows 2, 3: class code SJ0101 is used more than once");
        assert_eq!(
            found[1].to_string(),
            "row 4: class SJ0201 is not under its major class SJ01 (a class code starts with its major code)"
        );
    }

    #[test]
    fn missing_and_duplicate_columns_are_named() {
        let header: Vec<&str> =
            HEADER.iter().copied().filter(|h| *h != "处置时限" && *h != "小类代码").chain(["name"]).collect();
        let found = problems(Catalogue::from_csv(&csv_of(&[header, GOOD.to_vec()])));
        assert_eq!(
            found,
            vec![
                ImportProblem::DuplicateColumn { column: "小类名称", first: "D".into(), second: "M".into() },
                ImportProblem::MissingColumn { column: "小类代码", english: "code" },
                ImportProblem::MissingColumn { column: "处置时限", english: "handle_limit" },
            ]
        );
        assert_eq!(found[2].to_string(), "missing required column 处置时限 (handle_limit)");
        assert_eq!(found[0].to_string(), "column 小类名称 appears twice (columns D and M)");
    }

    #[test]
    fn empty_inputs() {
        assert_eq!(Catalogue::from_csv(b""), Err(ImportError::Empty));
        assert_eq!(Catalogue::from_csv("\u{feff}".as_bytes()), Err(ImportError::Empty));
        assert_eq!(Catalogue::from_csv(b"\r\n\r\n,,,\r\n"), Err(ImportError::Empty));
        assert_eq!(Catalogue::from_csv(&csv_of(&[HEADER.to_vec()])), Err(ImportError::NoClasses));
        let mut workbook = Workbook::new();
        workbook.add_worksheet();
        assert_eq!(Catalogue::from_xlsx(&workbook.save_to_buffer().unwrap()), Err(ImportError::Empty));
    }

    #[test]
    fn oversized_inputs_are_refused() {
        let mut text = String::from_utf8(csv_with(&[])).unwrap();
        let row = GOOD.join(",");
        for _ in 0..=MAX_IMPORT_ROWS {
            text.push_str(&row);
            text.push('\n');
        }
        assert_eq!(Catalogue::from_csv(text.as_bytes()), Err(ImportError::TooManyRows { max: MAX_IMPORT_ROWS }));
        let big = vec![b'a'; MAX_IMPORT_BYTES + 1];
        let too_large = ImportError::FileTooLarge { bytes: MAX_IMPORT_BYTES + 1, max: MAX_IMPORT_BYTES };
        assert_eq!(Catalogue::from_csv(&big), Err(too_large.clone()));
        assert_eq!(Catalogue::from_xlsx(&big), Err(too_large));
    }

    #[test]
    fn exactly_the_row_limit_is_accepted() {
        let mut rows = vec![HEADER.to_vec()];
        let codes: Vec<String> =
            (0..MAX_IMPORT_ROWS).map(|i| format!("SJ{:02}{:02}", i / 99 % 99 + 1, i % 99 + 1)).collect();
        // 99 × 99 codes are fewer than the limit: the rest repeat, which only validation rejects.
        for code in &codes {
            let mut row = GOOD.to_vec();
            row[CODE] = code;
            rows.push(row);
        }
        match Catalogue::from_csv(&csv_of(&rows)) {
            Err(ImportError::Invalid(p)) => assert!(p.iter().all(|p| matches!(p, ImportProblem::Catalogue { .. }))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn xlsx_number_cells_for_codes_are_padded_and_dates_refused() {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        for (c, h) in HEADER.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        let rows: [(&str, f64, f64); 3] = [("部件", 1.0, 101.0), ("部件", 1.0, 1.5), ("事件", 1.0, 10201.0)];
        for (r, (kind, major, code)) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, text) in GOOD.iter().enumerate() {
                sheet.write_string(r, c as u16, *text).unwrap();
            }
            sheet.write_string(r, KIND as u16, *kind).unwrap();
            sheet.write_number(r, MAJOR_CODE as u16, *major).unwrap();
            sheet.write_number(r, CODE as u16, *code).unwrap();
            sheet.write_boolean(r, ACTIVE as u16, r == 1).unwrap();
        }
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 1).unwrap();
        let date_format = Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_datetime_with_format(2, HANDLE_LIMIT as u16, &date, &date_format).unwrap();
        let bytes = workbook.save_to_buffer().unwrap();
        let found = problems(Catalogue::from_xlsx(&bytes));
        assert_eq!(
            found,
            vec![
                cell(3, "小类代码", "the number 1.5 is not a code of 4 digits"),
                cell(3, "处置时限", "the cell holds a date; expected text"),
                cell(4, "小类代码", "the number 10201 is not a code of 4 digits"),
            ]
        );

        // Without the bad rows, the number cells read as codes of the row's kind.
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        for (c, h) in HEADER.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        for (c, text) in GOOD.iter().enumerate() {
            sheet.write_string(1, c as u16, *text).unwrap();
        }
        sheet.write_string(1, KIND as u16, "部件").unwrap();
        sheet.write_number(1, MAJOR_CODE as u16, 1).unwrap();
        sheet.write_number(1, CODE as u16, 101).unwrap();
        sheet.write_boolean(1, ACTIVE as u16, false).unwrap();
        let catalogue = Catalogue::from_xlsx(&workbook.save_to_buffer().unwrap()).unwrap();
        let class = &catalogue.classes[0];
        assert_eq!((class.major_code.as_str(), class.code.as_str(), class.active), ("BJ01", "BJ0101", false));
    }

    #[test]
    fn bare_digits_in_csv_take_the_kind_prefix() {
        let class = &Catalogue::from_csv(&csv_with(&[&[(MAJOR_CODE, "1"), (CODE, "102")]])).unwrap().classes[0];
        assert_eq!((class.major_code.as_str(), class.code.as_str()), ("SJ01", "SJ0102"));
        let class = &Catalogue::from_csv(&csv_with(&[&[(MAJOR_CODE, "sj01"), (CODE, "sj0102")]])).unwrap().classes[0];
        assert_eq!(class.code.as_str(), "SJ0102");
        // With the kind unknown, only the kind is reported, not the bare codes.
        let found = problems(Catalogue::from_csv(&csv_with(&[&[(KIND, ""), (CODE, "0102")]])));
        assert_eq!(found, vec![cell(2, "类型", "empty; this column is required")]);
    }

    #[test]
    fn title_rows_blank_lines_and_multi_line_cells_keep_spreadsheet_row_numbers() {
        let mut text = String::from("博山区案件分类表,,\r\n");
        text.push_str(&String::from_utf8(csv_with(&[&[(FILING_CONDITION, "第一行\n第二行\n第三行")]])).unwrap());
        text.push_str("\r\n");
        let mut bad = GOOD.to_vec();
        bad[CODE] = "SJ0199";
        bad[VERIFY_LIMIT] = "1周";
        text.push_str(&bad.join(","));
        text.push('\n');
        // Spreadsheet rows: 1 title, 2 header, 3 the multi-line class, 4 empty, 5 the bad class.
        let found = problems(Catalogue::from_csv(text.as_bytes()));
        assert_eq!(found.len(), 1);
        assert!(matches!(&found[0], ImportProblem::Cell { row: 5, column, .. } if column == "核查时限"), "{found:?}");

        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "博山区案件分类表").unwrap();
        for (c, h) in HEADER.iter().enumerate() {
            sheet.write_string(2, c as u16, *h).unwrap();
        }
        for (c, v) in bad.iter().enumerate() {
            sheet.write_string(4, c as u16, *v).unwrap();
        }
        let found = problems(Catalogue::from_xlsx(&workbook.save_to_buffer().unwrap()));
        assert!(matches!(&found[..], [ImportProblem::Cell { row: 5, .. }]), "{found:?}");
    }

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        let rows = |text: &str| read_csv(text.as_bytes()).unwrap().iter().map(|r| r.row).collect::<Vec<_>>();
        assert_eq!(rows("a\nb\n\nc\n"), [1, 2, 4]);
        assert_eq!(rows("a\r\nb\r\n\r\nc\r\n"), [1, 2, 4]);
        assert_eq!(rows("\n\na\n\"x\ny\"\n\nc"), [3, 4, 6]);
        assert_eq!(rows("a\r\n\"x\r\ny\"\r\n,,\r\nc\r\n"), [1, 2, 4]);
        assert_eq!(rows("\u{feff}a\n\n\n\nb\n"), [1, 5]);
    }

    #[test]
    fn gb18030_csv_from_excel_is_read() {
        let utf8 = csv_with(&[&[]]);
        let (gbk, _, had_errors) = encoding_rs::GB18030.encode(std::str::from_utf8(&utf8).unwrap());
        assert!(!had_errors && std::str::from_utf8(&gbk).is_err());
        assert_eq!(Catalogue::from_csv(&gbk).unwrap().classes[0].name, "暴露垃圾");
    }

    #[test]
    fn unreadable_files() {
        assert!(matches!(Catalogue::from_xlsx(b"not a zip"), Err(ImportError::Unreadable(_))));
        assert!(matches!(Catalogue::from_xlsx(&Catalogue::national().to_csv()), Err(ImportError::Unreadable(_))));
        let utf16: Vec<u8> = [0xFF, 0xFE, b'a', 0].to_vec();
        let err = Catalogue::from_csv(&utf16).unwrap_err();
        assert!(err.to_string().contains("CSV UTF-8"), "{err}");
    }

    #[test]
    fn validate_reports_limits_departments_formulas_names_and_kinds() {
        let mut class = good_class();
        class.limits.handle = WorkDuration::WorkingMinutes(0);
        class.limits.verify = WorkDuration::Minutes(100_001);
        class.department = DepartmentRule::Department("城管".into());
        class.name = "=HYPERLINK(\"x\")".into();
        class.major_name = " ".into();
        class.kind = CaseKind::Component;
        class.closing_condition = "很长".repeat(MAX_CONDITION_CHARS);
        let code = class.code.clone();
        let found = Catalogue { classes: vec![class] }.validate().unwrap_err();
        assert_eq!(
            found,
            vec![
                CatalogueProblem::KindMismatch {
                    class: code.clone(),
                    code: "SJ0101".into(),
                    kind: CaseKind::Component
                },
                CatalogueProblem::KindMismatch { class: code.clone(), code: "SJ01".into(), kind: CaseKind::Component },
                CatalogueProblem::EmptyText { code: code.clone(), field: "大类名称" },
                CatalogueProblem::FormulaText { code: code.clone(), field: "小类名称" },
                CatalogueProblem::TextTooLong { code: code.clone(), field: "结案条件", max: MAX_CONDITION_CHARS },
                CatalogueProblem::BadDepartment { code: code.clone(), department: "城管".into() },
                CatalogueProblem::LimitOutOfRange {
                    code: code.clone(),
                    field: "处置时限",
                    limit: WorkDuration::WorkingMinutes(0),
                },
                CatalogueProblem::LimitOutOfRange {
                    code, field: "核查时限", limit: WorkDuration::Minutes(100_001)
                },
            ]
        );
        assert_eq!(found[0].to_string(), "class SJ0101: code SJ0101 is a 事件 code but the class is a 部件");
        assert_eq!(
            found[6].to_string(),
            "class SJ0101: 处置时限 0工作时 must be a whole number from 1 to 100000 of its unit"
        );
        // 6,000,000 minutes is written as 100000小时, which reads back: in range.
        let mut class = good_class();
        class.limits.handle = WorkDuration::Minutes(6_000_000);
        assert_eq!(Catalogue { classes: vec![class] }.validate(), Ok(()));
    }

    #[test]
    fn codes_parse_and_normalise() {
        let code = ClassCode::parse(" bj0101 ").unwrap();
        assert_eq!((code.as_str(), code.kind(), code.minor_number()), ("BJ0101", CaseKind::Component, 1));
        assert_eq!(code.major(), MajorCode::new(CaseKind::Component, 1).unwrap());
        assert_eq!(code.major().number(), 1);
        assert_eq!(ClassCode::new(CaseKind::Event, 5, 99).unwrap(), "SJ0599");
        for bad in ["SJ102", "XX0101", "SJ0001", "SJ0100", "SJ01021", "0101", "SJ０１０１", "", "SJ-101"] {
            assert!(ClassCode::parse(bad).is_err(), "{bad}");
        }
        for bad in ["SJ1", "SJ00", "BJ001", "01"] {
            assert!(MajorCode::parse(bad).is_err(), "{bad}");
        }
        assert!(ClassCode::new(CaseKind::Event, 0, 1).is_err());
        assert!(MajorCode::new(CaseKind::Event, 100).is_err());
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27 * 26), "AAA");
    }

    #[test]
    fn serde_forms() {
        assert_eq!(serde_json::to_string(&CaseKind::Event).unwrap(), "\"event\"");
        assert_eq!(serde_json::to_string(&CaseKind::Component).unwrap(), "\"component\"");
        assert_eq!(serde_json::to_string(&Urgency::Urgent).unwrap(), "\"urgent\"");
        assert_eq!(
            serde_json::to_string(&DepartmentRule::Department("cgj".into())).unwrap(),
            r#"{"rule":"department","department":"cgj"}"#
        );
        assert_eq!(serde_json::to_string(&DepartmentRule::Territorial).unwrap(), r#"{"rule":"territorial"}"#);
        let national = Catalogue::national();
        let json = serde_json::to_string(&national).unwrap();
        assert_eq!(serde_json::from_str::<Catalogue>(&json).unwrap(), national);
        assert!(serde_json::from_str::<ClassCode>("\"SJ0001\"").is_err());
        assert_eq!(serde_json::from_str::<ClassCode>("\"sj0102\"").unwrap(), "SJ0102");
    }

    #[test]
    fn text_values_accept_chinese_and_english() {
        assert_eq!(CaseKind::parse(" Event "), Ok(CaseKind::Event));
        assert_eq!(CaseKind::parse("部件"), Ok(CaseKind::Component));
        assert_eq!(Urgency::parse("普通"), Ok(Urgency::Normal));
        assert_eq!(Urgency::parse("URGENT"), Ok(Urgency::Urgent));
        assert_eq!(DepartmentRule::parse("属地"), Ok(DepartmentRule::Territorial));
        assert_eq!(DepartmentRule::parse("zrzyj"), Ok(DepartmentRule::Department("zrzyj".into())));
        assert!(DepartmentRule::parse("CGJ").is_err());
        assert_eq!(DepartmentRule::Territorial.to_string(), "属地");
    }
}

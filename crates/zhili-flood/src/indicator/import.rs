//! Rainfall indicators from and to a spreadsheet (预警指标导入导出), as counties hand them over.
//!
//! # The table
//!
//! A header row, then one row per village × window × soil state:
//!
//! | 村编码 | 村名 | 时段 | 土壤状态 | 准备转移 | 立即转移 |
//! | --- | --- | --- | --- | --- | --- |
//! | 370304100201 | 上庄村 | 1h | 较干 | 40 | 55 |
//!
//! or, for the four-colour scheme, the columns 蓝, 黄, 橙, 红 instead of 准备转移, 立即转移. The
//! English headers `village_code, village, window, soil, prepare, immediate, blue, yellow,
//! orange, red` are accepted too (and a few common variants, e.g. 准备转移(mm)); columns come in
//! any order and unknown columns are ignored. The grade columns decide the scheme of the whole
//! file: both sets of columns in one header is an error.
//! - 村编码: the 12-digit village code (a number cell is fine); the village must be known to the
//!   caller (a closure decides).
//! - 村名: optional; kept with the set, and one village must have one name throughout.
//! - 时段: `1h`, `1小时`, `3 h`, `30min`, `30分钟`, or a bare number of minutes (`60`).
//! - 土壤状态: 较干/一般/较湿 (also 干/中/湿), dry/normal/wet, or empty — empty means the same
//!   values for all three states. The column may be left out entirely: every row is then for
//!   all three. A window must end up with all three states, each once.
//! - Grade columns: mm, a number cell or text such as `40`, `40.5`, `40mm`.
//!
//! Rows above the header that name fewer than two known columns (a title) are skipped, and so
//! are wholly empty rows. CSV is read as UTF-8 (with or without BOM) or else GB18030 (what
//! Excel writes as "CSV" on Chinese Windows); XLSX from its first worksheet.
//!
//! An import is all or nothing: any problem rejects the file with every problem listed, each
//! with its row as the spreadsheet shows it, the column as written in the header and the
//! value ([`ImportProblem`]). Accepted files may still carry notices
//! ([`IndicatorNotice`], with their rows).
//!
//! # Export
//!
//! [`to_csv`] (UTF-8 with BOM, Chinese header, CRLF) and [`to_xlsx`] write the same table, one
//! row per window with empty 土壤状态 where a window's values do not depend on the soil, and
//! re-import to the same sets.

use std::collections::BTreeMap;
use zhili_sheet::{Cell as RawCell, Row as RawRow};

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Serialize;
use zhili_core::codes::{DivisionCode, DivisionLevel};

use super::{IndicatorNotice, IndicatorProblem, RainIndicators, RainThreshold};
use crate::vocab::{Grade, Scheme, SoilState, Window};

/// Most data rows an import accepts (214 villages × 5 windows × 3 states is 3,210).
pub const MAX_IMPORT_ROWS: usize = 50_000;
/// Largest file, in bytes, an import accepts.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;
/// Cells right of this many columns are ignored.
const MAX_IMPORT_COLUMNS: usize = 64;
/// How many leading non-empty rows are searched for the header.
const HEADER_SEARCH_ROWS: usize = 10;
/// Longest village name, in characters.
const MAX_NAME_CHARS: usize = crate::model::MAX_NAME_CHARS;

/// A village's set with the name the file gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VillageIndicators {
    /// 村名 as written in the file (export writes it; `None` leaves the cell empty).
    pub name: Option<String>,
    /// The thresholds.
    pub indicators: RainIndicators,
}

/// An accepted import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RainImport {
    /// The scheme of the file.
    pub scheme: Scheme,
    /// One set per village, in village code order.
    pub sets: Vec<VillageIndicators>,
    /// Odd but accepted features, with the village and the rows involved.
    pub notices: Vec<ImportNotice>,
}

/// A notice of an accepted import.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{} {}, village {village}: {notice}", if .rows.len() == 1 { "row" } else { "rows" }, join_rows(.rows))]
pub struct ImportNotice {
    /// The village.
    pub village: DivisionCode,
    /// The rows involved.
    pub rows: Vec<u32>,
    /// What.
    pub notice: IndicatorNotice,
}

/// Why a file was not imported. Nothing is imported when any problem is found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// The file is larger than [`MAX_IMPORT_BYTES`].
    #[error("the file has {bytes} bytes; at most {max} are accepted")]
    FileTooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// More than [`MAX_IMPORT_ROWS`] data rows.
    #[error("the sheet has more than {max} rows of indicators")]
    TooManyRows {
        /// The limit.
        max: usize,
    },
    /// Not a CSV or XLSX file that can be read.
    #[error("the file could not be read: {0}")]
    Unreadable(String),
    /// No header row.
    #[error("the file is empty: there is no header row")]
    Empty,
    /// A header but no rows.
    #[error("the file has a header row but no indicators")]
    NoRows,
    /// Every problem found.
    #[error("the indicators were not imported: {}", list_problems(.0))]
    Invalid(Vec<ImportProblem>),
}

/// One problem of a rejected import.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportProblem {
    /// A required column is missing.
    #[error("missing required column {column} ({english})")]
    MissingColumn {
        /// Chinese name.
        column: &'static str,
        /// English name.
        english: &'static str,
    },
    /// The header has neither scheme's grade columns complete.
    #[error("no grade columns: give 准备转移 and 立即转移 (prepare, immediate) or 蓝, 黄, 橙, 红 (blue, yellow, orange, red)")]
    NoGradeColumns,
    /// The header names grade columns of both schemes.
    #[error("the header has grade columns of both schemes ({two_level} and {four_colour}); a file is in one scheme")]
    BothSchemes {
        /// The two-level column found.
        two_level: String,
        /// The four-colour column found.
        four_colour: String,
    },
    /// Two header cells name the same column.
    #[error("column {column} appears twice (columns {first} and {second})")]
    DuplicateColumn {
        /// Chinese name.
        column: &'static str,
        /// First column letter.
        first: String,
        /// Second column letter.
        second: String,
    },
    /// A cell is empty where required, or its value is not valid.
    #[error("row {row}, {column} {value:?}: {message}")]
    Cell {
        /// The row as the spreadsheet shows it.
        row: u32,
        /// The column's header as written.
        column: String,
        /// The value as read (empty for an empty cell).
        value: String,
        /// What is wrong.
        message: String,
    },
    /// One village is given two names.
    #[error("rows {first_row} and {row}: village {village} is named {name:?} and {other_name:?}")]
    NameConflict {
        /// The village.
        village: DivisionCode,
        /// The row of the first name.
        first_row: u32,
        /// The first name.
        name: String,
        /// The row of the other name.
        row: u32,
        /// The other name.
        other_name: String,
    },
    /// A problem of a village's set as a whole, with the rows involved (none for a window
    /// that lacks a soil state only when the village has no row of that window at all).
    #[error("{} {}, village {village}: {problem}", if .rows.len() == 1 { "row" } else { "rows" }, join_rows(.rows))]
    Set {
        /// The village.
        village: DivisionCode,
        /// The rows involved.
        rows: Vec<u32>,
        /// What.
        problem: IndicatorProblem,
    },
}

fn join_rows(rows: &[u32]) -> String {
    rows.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// How many problems [`ImportError::Invalid`]'s message lists before summarising.
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

/// Why a table could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// A set is in another scheme than the table.
    #[error("village {village} uses the {} scheme, the table the {}", scheme_name(*.set_scheme), scheme_name(*.scheme))]
    SchemeMismatch {
        /// The village.
        village: DivisionCode,
        /// Its scheme.
        set_scheme: Scheme,
        /// The table's.
        scheme: Scheme,
    },
    /// The XLSX writer refused.
    #[error("could not write the XLSX workbook: {0}")]
    Xlsx(String),
}

impl From<XlsxError> for ExportError {
    fn from(e: XlsxError) -> ExportError {
        ExportError::Xlsx(e.to_string())
    }
}

fn scheme_name(s: Scheme) -> &'static str {
    match s {
        Scheme::TwoLevel => "two-level",
        Scheme::FourColour => "four-colour",
    }
}

// ---------------------------------------------------------------------------------------------
// Columns
// ---------------------------------------------------------------------------------------------

struct Column {
    zh: &'static str,
    en: &'static str,
    aliases: &'static [&'static str],
}

const COLUMNS: [Column; 10] = [
    Column {
        zh: "村编码", en: "village_code", aliases: &["村代码", "村庄编码", "行政区划代码", "区划代码", "code"]
    },
    Column { zh: "村名", en: "village", aliases: &["村名称", "村庄名称", "村庄", "village_name", "name"] },
    Column { zh: "时段", en: "window", aliases: &["时段长", "预警时段", "累计时段", "duration"] },
    Column {
        zh: "土壤状态", en: "soil", aliases: &["土壤含水量", "前期土壤含水量", "土壤含水量状态", "soil_state"]
    },
    Column { zh: "准备转移", en: "prepare", aliases: &["准备转移指标"] },
    Column { zh: "立即转移", en: "immediate", aliases: &["立即转移指标"] },
    Column { zh: "蓝", en: "blue", aliases: &["蓝色", "蓝色预警"] },
    Column { zh: "黄", en: "yellow", aliases: &["黄色", "黄色预警"] },
    Column { zh: "橙", en: "orange", aliases: &["橙色", "橙色预警"] },
    Column { zh: "红", en: "red", aliases: &["红色", "红色预警"] },
];

const VILLAGE: usize = 0;
const NAME: usize = 1;
const WINDOW: usize = 2;
const SOIL: usize = 3;

/// The column of a grade.
fn grade_column(grade: Grade) -> usize {
    match grade {
        Grade::Prepare => 4,
        Grade::Immediate => 5,
        Grade::Blue => 6,
        Grade::Yellow => 7,
        Grade::Orange => 8,
        Grade::Red => 9,
    }
}

/// Trimmed, without `*` marks and a trailing unit in parentheses (`准备转移(mm)`), lower-case,
/// `_` for spaces and `-`.
fn normalise_header(text: &str) -> String {
    let mut t = text.trim().trim_matches(|c| c == '*' || c == '＊').trim();
    if t.ends_with([')', '）']) {
        if let Some(open) = t.rfind(['(', '（']) {
            t = t[..open].trim_end();
        }
    }
    t.to_lowercase().chars().map(|c| if c == ' ' || c == '-' { '_' } else { c }).collect()
}

fn column_of_header(text: &str) -> Option<usize> {
    let h = normalise_header(text);
    COLUMNS.iter().position(|c| c.zh == h || c.en == h || c.aliases.contains(&h.as_str()))
}

/// Spreadsheet column letters for a 0-based index (0 → A, 26 → AA).
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

// ---------------------------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Header and rows
// ---------------------------------------------------------------------------------------------

struct Header {
    index: [Option<usize>; 10],
    text: [String; 10],
    scheme: Scheme,
}

fn read_header(row: &RawRow) -> Result<Header, Vec<ImportProblem>> {
    let mut index: [Option<usize>; 10] = [None; 10];
    let mut text: [String; 10] = COLUMNS.map(|c| c.zh.to_string());
    let mut problems = Vec::new();
    for (i, cell) in row.cells.iter().enumerate() {
        let RawCell::Text(t) = cell else { continue };
        let Some(c) = column_of_header(t) else { continue };
        match index[c] {
            None => {
                index[c] = Some(i);
                text[c] = t.trim().to_string();
            }
            Some(first) => problems.push(ImportProblem::DuplicateColumn {
                column: COLUMNS[c].zh,
                first: column_letters(first),
                second: column_letters(i),
            }),
        }
    }
    for c in [VILLAGE, WINDOW] {
        if index[c].is_none() {
            problems.push(ImportProblem::MissingColumn { column: COLUMNS[c].zh, english: COLUMNS[c].en });
        }
    }
    let present =
        |scheme| Grade::of(scheme).iter().map(|g| grade_column(*g)).filter(|c| index[*c].is_some()).collect::<Vec<_>>();
    let (two, four) = (present(Scheme::TwoLevel), present(Scheme::FourColour));
    let scheme = match (two.is_empty(), four.is_empty()) {
        (true, true) => {
            problems.push(ImportProblem::NoGradeColumns);
            Scheme::TwoLevel
        }
        (false, false) => {
            problems.push(ImportProblem::BothSchemes {
                two_level: text[two[0]].clone(),
                four_colour: text[four[0]].clone(),
            });
            Scheme::TwoLevel
        }
        (false, true) => Scheme::TwoLevel,
        (true, false) => Scheme::FourColour,
    };
    for grade in Grade::of(scheme) {
        let c = grade_column(*grade);
        if index[c].is_none()
            && !problems.iter().any(|p| matches!(p, ImportProblem::NoGradeColumns | ImportProblem::BothSchemes { .. }))
        {
            problems.push(ImportProblem::MissingColumn { column: COLUMNS[c].zh, english: COLUMNS[c].en });
        }
    }
    if problems.is_empty() {
        Ok(Header { index, text, scheme })
    } else {
        Err(problems)
    }
}

fn known_headers(row: &RawRow) -> usize {
    row.cells.iter().filter(|c| matches!(c, RawCell::Text(t) if column_of_header(t).is_some())).count()
}

/// A cell's text: `None` when empty; whole numbers without `.0`.
fn cell_text(cell: &RawCell) -> Result<Option<String>, String> {
    match cell {
        RawCell::Empty => Ok(None),
        RawCell::Text(t) => Ok(Some(t.trim().to_string()).filter(|t| !t.is_empty())),
        RawCell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(Some(format!("{}", *n as i64))),
        RawCell::Number(n) => Ok(Some(n.to_string())),
        RawCell::Bool(b) => Ok(Some(if *b { "TRUE" } else { "FALSE" }.to_string())),
        RawCell::Unsupported(what) => Err(format!("the cell holds {what}; expected text or a number")),
    }
}

fn shown(cell: &RawCell) -> String {
    match cell {
        RawCell::Unsupported(what) => format!("({what})"),
        other => cell_text(other).ok().flatten().unwrap_or_default(),
    }
}

/// Read `1h`, `1小时`, `3 h`, `30min`, `30分钟`, `30分` or a number of minutes.
pub fn parse_window(text: &str) -> Result<Window, String> {
    let t = text.trim().to_lowercase().replace(' ', "");
    let t = t.replace("小时", "h").replace("分钟", "min").replace('分', "min");
    Window::parse_label(&t).map_err(|_| format!("a window is written 1h, 1小时, 30min or a number of minutes; {text:?} is not one of 5–{} minutes in steps of 5", Window::MAX_MINUTES))
}

/// Read a soil state: 较干/干/dry, 一般/中/normal, 较湿/湿/wet; `None` for empty (all three).
pub fn parse_soil(text: &str) -> Result<Option<SoilState>, String> {
    match text.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "较干" | "干" | "偏干" | "dry" => Ok(Some(SoilState::Dry)),
        "一般" | "中" | "正常" | "normal" => Ok(Some(SoilState::Normal)),
        "较湿" | "湿" | "偏湿" | "wet" => Ok(Some(SoilState::Wet)),
        _ => Err("use 较干, 一般 or 较湿 (dry, normal, wet), or leave empty for all three".to_string()),
    }
}

fn parse_mm(cell: &RawCell) -> Result<f64, String> {
    if let RawCell::Number(n) = cell {
        return Ok(*n);
    }
    let text = cell_text(cell)?.ok_or_else(|| "empty; this column is required".to_string())?;
    let t = text.to_lowercase();
    let t = t.trim_end_matches("毫米").trim_end_matches("mm").trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err("expected a number of mm, e.g. 40 or 42.5".to_string()),
    }
}

fn parse_village(cell: &RawCell, known: &dyn Fn(&DivisionCode) -> bool) -> Result<DivisionCode, String> {
    let text = cell_text(cell)?.ok_or_else(|| "empty; this column is required".to_string())?;
    let code = DivisionCode::parse(&text).map_err(|e| e.to_string())?;
    if code.level() != DivisionLevel::Village {
        return Err("a 12-digit village code is needed".to_string());
    }
    if !known(&code) {
        return Err("no village at risk has this code".to_string());
    }
    Ok(code)
}

struct Row {
    row: u32,
    village: DivisionCode,
    name: Option<String>,
    window: Window,
    soil: Option<SoilState>,
    mm: Vec<f64>,
}

static EMPTY_CELL: RawCell = RawCell::Empty;

/// Reads the cells of one row, collecting a problem per bad cell.
struct RowReader<'a> {
    raw: &'a RawRow,
    header: &'a Header,
    problems: &'a mut Vec<ImportProblem>,
}

impl RowReader<'_> {
    fn cell(&self, column: usize) -> &RawCell {
        self.header.index[column].and_then(|i| self.raw.cells.get(i)).unwrap_or(&EMPTY_CELL)
    }

    fn take<T>(&mut self, column: usize, read: impl FnOnce(&RawCell) -> Result<T, String>) -> Option<T> {
        let cell = self.cell(column);
        match read(cell) {
            Ok(v) => Some(v),
            Err(message) => {
                let problem = ImportProblem::Cell {
                    row: self.raw.row,
                    column: self.header.text[column].clone(),
                    value: shown(cell),
                    message,
                };
                self.problems.push(problem);
                None
            }
        }
    }
}

fn parse_name(cell: &RawCell) -> Result<Option<String>, String> {
    match cell_text(cell)? {
        Some(n) if n.chars().count() > MAX_NAME_CHARS => Err(format!("at most {MAX_NAME_CHARS} characters")),
        Some(n) if n.chars().any(char::is_control) => Err("a name is one line of text".to_string()),
        other => Ok(other),
    }
}

fn parse_row(
    raw: &RawRow,
    header: &Header,
    known: &dyn Fn(&DivisionCode) -> bool,
    problems: &mut Vec<ImportProblem>,
) -> Option<Row> {
    let before = problems.len();
    let mut r = RowReader { raw, header, problems };
    let village = r.take(VILLAGE, |c| parse_village(c, known));
    let name = r.take(NAME, parse_name);
    let window = r.take(WINDOW, |c| match cell_text(c)? {
        None => Err("empty; this column is required".to_string()),
        Some(t) => parse_window(&t),
    });
    let soil = r.take(SOIL, |c| cell_text(c).and_then(|t| parse_soil(&t.unwrap_or_default())));
    let mut mm = Vec::new();
    for grade in Grade::of(header.scheme) {
        if let Some(v) = r.take(grade_column(*grade), parse_mm) {
            mm.push(v);
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Row { row: raw.row, village: village?, name: name?, window: window?, soil: soil?, mm })
}

/// Read indicators from CSV; `known` says whether a village code is a village at risk.
pub fn from_csv(bytes: &[u8], known: impl Fn(&DivisionCode) -> bool) -> Result<RainImport, ImportError> {
    import(read_csv(bytes)?, &known)
}

/// Read indicators from the first worksheet of an XLSX workbook; `known` as for [`from_csv`].
pub fn from_xlsx(bytes: &[u8], known: impl Fn(&DivisionCode) -> bool) -> Result<RainImport, ImportError> {
    import(read_xlsx(bytes)?, &known)
}

fn import(rows: Vec<RawRow>, known: &dyn Fn(&DivisionCode) -> bool) -> Result<RainImport, ImportError> {
    if rows.is_empty() {
        return Err(ImportError::Empty);
    }
    let header_at = rows.iter().take(HEADER_SEARCH_ROWS).position(|r| known_headers(r) >= 2).unwrap_or(0);
    let header = read_header(&rows[header_at]).map_err(ImportError::Invalid)?;
    let data = &rows[header_at + 1..];
    if data.len() > MAX_IMPORT_ROWS {
        return Err(ImportError::TooManyRows { max: MAX_IMPORT_ROWS });
    }
    if data.is_empty() {
        return Err(ImportError::NoRows);
    }
    let mut problems = Vec::new();
    // Per village: its name with the row it came from, and its thresholds with their rows.
    struct Gathered {
        name: Option<(u32, String)>,
        thresholds: Vec<RainThreshold>,
        rows: BTreeMap<(Window, SoilState), Vec<u32>>,
        /// The values each row gave, to tell which of two rows of one window and soil is bad.
        values: BTreeMap<u32, Vec<f64>>,
    }
    let mut villages: BTreeMap<DivisionCode, Gathered> = BTreeMap::new();
    for raw in data {
        let Some(row) = parse_row(raw, &header, known, &mut problems) else { continue };
        let g = villages.entry(row.village.clone()).or_insert_with(|| Gathered {
            name: None,
            thresholds: Vec::new(),
            rows: BTreeMap::new(),
            values: BTreeMap::new(),
        });
        if let Some(name) = row.name {
            match &g.name {
                None => g.name = Some((row.row, name)),
                Some((first_row, first)) if *first != name => problems.push(ImportProblem::NameConflict {
                    village: row.village.clone(),
                    first_row: *first_row,
                    name: first.clone(),
                    row: row.row,
                    other_name: name,
                }),
                Some(_) => {}
            }
        }
        let soils = match row.soil {
            Some(s) => vec![s],
            None => SoilState::ALL.to_vec(),
        };
        g.values.insert(row.row, row.mm.clone());
        for soil in soils {
            g.rows.entry((row.window, soil)).or_default().push(row.row);
            g.thresholds.push(RainThreshold { window: row.window, soil, mm: row.mm.clone() });
        }
    }
    let mut sets = Vec::new();
    let mut notices = Vec::new();
    for (village, g) in villages {
        let rows_of = |window: Window, soils: &[SoilState]| {
            let mut rows: Vec<u32> =
                soils.iter().flat_map(|s| g.rows.get(&(window, *s)).cloned().unwrap_or_default()).collect();
            if soils.len() == SoilState::ALL.len() {
                rows = g.rows.iter().filter(|((w, _), _)| *w == window).flat_map(|(_, r)| r.clone()).collect();
            }
            rows.sort_unstable();
            rows.dedup();
            rows
        };
        match RainIndicators::new(village.clone(), header.scheme, g.thresholds) {
            Ok(indicators) => {
                for notice in indicators.notices() {
                    let IndicatorNotice::WindowOrder { soil, shorter, longer, .. } = &notice;
                    let mut rows = rows_of(*shorter, &[*soil]);
                    rows.extend(rows_of(*longer, &[*soil]));
                    rows.sort_unstable();
                    rows.dedup();
                    notices.push(ImportNotice { village: village.clone(), rows, notice });
                }
                sets.push(VillageIndicators { name: g.name.map(|(_, n)| n), indicators });
            }
            Err(found) => {
                let mut reported_duplicates = Vec::new();
                for problem in found {
                    if let IndicatorProblem::Duplicate { window, soil } = &problem {
                        if reported_duplicates.contains(&(*window, *soil)) {
                            continue;
                        }
                        reported_duplicates.push((*window, *soil));
                    }
                    let mut rows = problem.place().map(|(w, soils)| rows_of(w, &soils)).unwrap_or_default();
                    // A problem of one row's values names only the rows with those values.
                    let has = |row: &u32, grade: Grade, mm: f64| {
                        g.values.get(row).and_then(|v| v.get(usize::from(grade.rank()) - 1)).map(|v| v.to_bits())
                            == Some(mm.to_bits())
                    };
                    match &problem {
                        IndicatorProblem::OutOfRange { grade, mm, .. } => rows.retain(|r| has(r, *grade, *mm)),
                        IndicatorProblem::GradeOrder { lower, lower_mm, higher, higher_mm, .. } => {
                            rows.retain(|r| has(r, *lower, *lower_mm) && has(r, *higher, *higher_mm))
                        }
                        _ => {}
                    }
                    problems.push(ImportProblem::Set { village: village.clone(), rows, problem });
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(RainImport { scheme: header.scheme, sets, notices })
    } else {
        Err(ImportError::Invalid(problems))
    }
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

/// The header of a table in a scheme (Chinese names).
fn header_texts(scheme: Scheme) -> Vec<&'static str> {
    let mut h = vec![COLUMNS[VILLAGE].zh, COLUMNS[NAME].zh, COLUMNS[WINDOW].zh, COLUMNS[SOIL].zh];
    h.extend(Grade::of(scheme).iter().map(|g| COLUMNS[grade_column(*g)].zh));
    h
}

/// One exported row: village, name, window, soil (empty = all three) and the values.
type ExportRow = (String, String, String, String, Vec<f64>);

fn export_rows(scheme: Scheme, sets: &[VillageIndicators]) -> Result<Vec<ExportRow>, ExportError> {
    let mut sorted: Vec<&VillageIndicators> = sets.iter().collect();
    sorted.sort_by(|a, b| a.indicators.village().cmp(b.indicators.village()));
    let mut out = Vec::new();
    for set in sorted {
        let ind = &set.indicators;
        if ind.scheme() != scheme {
            return Err(ExportError::SchemeMismatch {
                village: ind.village().clone(),
                set_scheme: ind.scheme(),
                scheme,
            });
        }
        let name = set.name.clone().unwrap_or_default();
        for window in ind.windows() {
            let soils: Vec<Option<SoilState>> = if ind.window_soil_independent(window) {
                vec![None]
            } else {
                SoilState::ALL.iter().map(|s| Some(*s)).collect()
            };
            for soil in soils {
                let values = ind.grades_of(window, soil.unwrap_or(SoilState::Dry)).unwrap_or_default().to_vec();
                out.push((
                    ind.village().to_string(),
                    name.clone(),
                    window.label(),
                    soil.map_or("", SoilState::zh).to_string(),
                    values,
                ));
            }
        }
    }
    Ok(out)
}

/// Write sets as CSV in `scheme`: UTF-8 with BOM, Chinese header, CRLF, villages in code order.
pub fn to_csv(scheme: Scheme, sets: &[VillageIndicators]) -> Result<Vec<u8>, ExportError> {
    let rows = export_rows(scheme, sets)?;
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer("\u{feff}".as_bytes().to_vec());
    let memory = |e: csv::Error| ExportError::Xlsx(format!("writing CSV to memory: {e}"));
    w.write_record(header_texts(scheme)).map_err(memory)?;
    for (village, name, window, soil, values) in rows {
        let mut record = vec![village, name, window, soil];
        record.extend(values.iter().map(f64::to_string));
        w.write_record(record).map_err(memory)?;
    }
    w.into_inner().map_err(|e| ExportError::Xlsx(format!("writing CSV to memory: {e}")))
}

/// Write sets as an XLSX workbook of one sheet (预警指标): bold frozen header with a filter,
/// codes and labels as text, thresholds as numbers.
pub fn to_xlsx(scheme: Scheme, sets: &[VillageIndicators]) -> Result<Vec<u8>, ExportError> {
    let rows = export_rows(scheme, sets)?;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("预警指标")?;
    let bold = Format::new().set_bold();
    let header = header_texts(scheme);
    for (i, h) in header.iter().enumerate() {
        let i = i as u16;
        sheet.write_string_with_format(0, i, *h, &bold)?;
        sheet.set_column_width(i, if i == 0 { 16 } else { 10 })?;
    }
    for (r, (village, name, window, soil, values)) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| ExportError::Xlsx("too many rows".into()))?;
        for (c, text) in [village, name, window, soil].into_iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r, c as u16, text)?;
            }
        }
        for (c, v) in values.iter().enumerate() {
            sheet.write_number(r, (c + 4) as u16, *v)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_row = u32::try_from(rows.len()).unwrap_or(u32::MAX).max(1);
    sheet.autofilter(0, 0, last_row, (header.len() - 1) as u16)?;
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        let rows = |text: &str| read_csv(text.as_bytes()).unwrap().iter().map(|r| r.row).collect::<Vec<_>>();
        assert_eq!(rows("a\nb\n\nc\n"), [1, 2, 4]);
        assert_eq!(rows("a\r\n\"x\r\ny\"\r\n,,\r\nc\r\n"), [1, 2, 4]);
        assert_eq!(rows("\u{feff}a\n\n\n\nb\n"), [1, 5]);
    }

    #[test]
    fn headers_normalise() {
        assert_eq!(column_of_header(" 准备转移(mm) "), Some(4));
        assert_eq!(column_of_header("*村编码"), Some(VILLAGE));
        assert_eq!(column_of_header("Village Code"), Some(VILLAGE));
        assert_eq!(column_of_header("红色预警（毫米）"), Some(9));
        assert_eq!(column_of_header("备注"), None);
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(27), "AB");
    }

    #[test]
    fn windows_and_soils_in_their_written_forms() {
        for (text, minutes) in
            [("1h", 60), ("1小时", 60), ("3 h", 180), ("30min", 30), ("30分钟", 30), ("60", 60), ("24小时", 1440)]
        {
            assert_eq!(parse_window(text).map(Window::as_minutes), Ok(minutes), "{text}");
        }
        for bad in ["1", "1天", "h", "-60"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_soil("较干"), Ok(Some(SoilState::Dry)));
        assert_eq!(parse_soil(" Normal "), Ok(Some(SoilState::Normal)));
        assert_eq!(parse_soil("湿"), Ok(Some(SoilState::Wet)));
        assert_eq!(parse_soil(""), Ok(None));
        assert!(parse_soil("潮").is_err());
        assert_eq!(parse_mm(&RawCell::Text("40mm".into())), Ok(40.0));
        assert_eq!(parse_mm(&RawCell::Text("42.5 毫米".into())), Ok(42.5));
        assert!(parse_mm(&RawCell::Text("四十".into())).is_err());
        assert!(parse_mm(&RawCell::Empty).is_err());
    }
}

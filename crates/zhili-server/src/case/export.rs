//! The worklist export (案件导出): every case a worklist filter matches, as CSV or XLSX, for the
//! spreadsheets the command centre and leaders keep.
//!
//! The filter and the caller's scope are the worklist's own (`api::scoped_filter`), so a
//! department exports what it may see and nothing more. Cases are read newest first in pages
//! keyed by number (`CaseFilter::id_below`), never all at once: CSV is streamed as the pages
//! come (UTF-8 with a BOM, so Excel reads the Chinese right); XLSX is written by
//! `rust_xlsxwriter` in its constant-memory mode (rows go to a temporary file as they are
//! written) and the finished file streamed. A filter matching more than
//! `case.export_max_rows` cases is refused before anything is read.

use std::io::{Read, Seek, SeekFrom};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use serde::Deserialize;
use zhili_case::catalogue::Catalogue;
use zhili_case::model::{Case, CaseFilter, CaseOrder};
use zhili_case::store::CaseStore;
use zhili_core::model::{Department, Locale};
use zhili_core::store::Page;
use zhili_core::ErrorCode;
use zhili_platform::settings::SettingStore;

use crate::case::api::{scoped_filter, CaseQuery};
use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::ApiQuery;
use crate::web::i18n::Tr;
use crate::AppState;

/// Cases read from the store at a time.
const PAGE: i64 = 2000;
/// Bytes of the finished XLSX file sent at a time.
const CHUNK: usize = 256 * 1024;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Query of `GET /api/cases/export`: the format and the worklist's filters (as `/api/cases`
/// takes them; flags also as the worklist page writes them, `1`/`0`). An order (`sort`) is
/// accepted and has no effect: an export is by case number, newest first.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
    /// States, comma-separated.
    pub state: Option<String>,
    /// Class code or major code prefix.
    pub class: Option<String>,
    /// Division subtree.
    pub within: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Department code.
    pub department: Option<String>,
    /// Channel.
    pub source: Option<String>,
    /// Reported on or after (YYYY-MM-DD, local, or RFC 3339).
    pub from: Option<String>,
    /// Reported before.
    pub to: Option<String>,
    /// Closed on or after.
    pub closed_from: Option<String>,
    /// Only overdue (`true`/`1`).
    pub overdue: Option<String>,
    /// Only the caller's reports (`true`/`1`).
    pub mine: Option<String>,
    /// Only running clocks due within 4 working hours (`true`/`1`).
    pub due_soon: Option<String>,
    /// Ignored (the worklist's order).
    pub sort: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Xlsx,
}

fn bad(field: &str, message: String) -> AppError {
    AppError::msg(ErrorCode::InvalidQuery, message).at(field)
}

fn flag(name: &str, v: &Option<String>) -> AppResult<Option<bool>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("1" | "true") => Ok(Some(true)),
        Some("0" | "false") => Ok(Some(false)),
        Some(other) => Err(bad(name, format!("{name} must be true or false, got {other:?}"))),
    }
}

impl ExportQuery {
    fn format(&self) -> AppResult<Format> {
        match self.format.as_deref().map(str::trim) {
            None | Some("") | Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some(other) => Err(bad("format", format!("format must be csv or xlsx, not {other:?}"))
                .key("case.error.export_format")
                .arg("format", other)),
        }
    }

    /// The worklist query it stands for (blanks as absent, like the worklist page).
    fn worklist(&self) -> AppResult<CaseQuery> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        Ok(CaseQuery {
            state: given(&self.state),
            class: given(&self.class),
            within: given(&self.within),
            grid: given(&self.grid),
            department: given(&self.department),
            source: given(&self.source),
            from: given(&self.from),
            to: given(&self.to),
            closed_from: given(&self.closed_from),
            overdue: flag("overdue", &self.overdue)?,
            mine: flag("mine", &self.mine)?,
            due_soon: flag("due_soon", &self.due_soon)?,
            ..CaseQuery::default()
        })
    }
}

/// What a row needs besides the case: names for codes, the local offset, the language.
struct Names {
    catalogue: std::sync::Arc<Catalogue>,
    departments: std::sync::Arc<Vec<Department>>,
    spatial: crate::grid::spatial::Spatial,
    offset: FixedOffset,
    tr: Tr,
    now: DateTime<Utc>,
}

/// The columns, by message key (the header in the caller's language).
const COLUMNS: &[&str] = &[
    "export.col.id",
    "export.col.class",
    "export.col.major",
    "export.col.state",
    "export.col.source",
    "export.col.grid",
    "export.col.township",
    "export.col.department",
    "export.col.reported",
    "export.col.filed",
    "export.col.handle_deadline",
    "export.col.closed",
    "export.col.overdue",
    "export.col.address",
    "export.col.description",
    "export.col.lon",
    "export.col.lat",
];

/// One cell of a row.
enum Cell {
    Int(i64),
    Num(f64),
    Text(String),
    Time(Option<DateTime<FixedOffset>>),
}

impl Names {
    fn label(&self, key: &str) -> String {
        self.tr.get(key).to_string()
    }

    /// A place's name from the spatial index, else its code.
    fn place(&self, code: &str) -> String {
        let (_, name) = self.spatial.label(code);
        if name.is_empty() {
            code.to_string()
        } else {
            name
        }
    }

    fn row(&self, c: &Case) -> Vec<Cell> {
        let en = self.tr.0 == Locale::En;
        let class = self.catalogue.get(&c.class_code);
        let class_name = class.map(|k| k.name.clone()).unwrap_or_else(|| c.class_code.to_string());
        let major = class.map(|k| k.major_name.clone()).unwrap_or_default();
        let kind = self.label(&format!("export.kind.{}", c.kind.as_str()));
        let st = c.status.state;
        let department = c.status.department.as_deref().map(|code| {
            self.departments.iter().find(|d| d.code == code).map(|d| d.name.clone()).unwrap_or_else(|| code.to_string())
        });
        let township = c.division.as_str().get(..9).unwrap_or(c.division.as_str());
        let late = c.overdue(self.now) || c.handled_on_time == Some(false);
        let local = |t: Option<DateTime<Utc>>| t.map(|t| t.with_timezone(&self.offset));
        vec![
            Cell::Int(c.id),
            Cell::Text(class_name),
            Cell::Text(if major.is_empty() { kind } else { format!("{kind} · {major}") }),
            Cell::Text(if en { st.label_en() } else { st.label_zh() }.to_string()),
            Cell::Text(self.label(&format!("case.source.{}", c.source.as_str()))),
            Cell::Text(c.grid.as_deref().map(|g| self.place(g)).unwrap_or_default()),
            Cell::Text(self.place(township)),
            Cell::Text(department.unwrap_or_default()),
            Cell::Time(local(Some(c.reported_at))),
            Cell::Time(local(c.filed_at)),
            Cell::Time(local(c.clock.handle_deadline)),
            Cell::Time(local(c.closed_at)),
            Cell::Text(self.label(if late { "export.yes" } else { "export.no" })),
            Cell::Text(c.address.clone()),
            Cell::Text(c.description.clone()),
            Cell::Num(c.lon),
            Cell::Num(c.lat),
        ]
    }
}

/// A CSV field: quoted when it must be; text that a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@`, tab, CR at its start) is prefixed with `'` (OWASP's advice against CSV injection).
fn csv_text(out: &mut String, s: &str) {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula || s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn csv_row(out: &mut String, cells: &[Cell]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match cell {
            Cell::Int(n) => out.push_str(&n.to_string()),
            Cell::Num(x) => out.push_str(&format!("{x:.6}")),
            Cell::Text(s) => csv_text(out, s),
            Cell::Time(Some(t)) => out.push_str(&t.format("%Y-%m-%d %H:%M").to_string()),
            Cell::Time(None) => {}
        }
    }
    out.push_str("\r\n");
}

/// The file's name: `案件导出-2026-12-03.csv` (English: `cases-2026-12-03.csv`), as
/// `Content-Disposition` with an ASCII fallback and the RFC 5987 UTF-8 name.
fn disposition(tr: Tr, today: chrono::NaiveDate, ext: &str) -> HeaderValue {
    let name = format!("{}-{today}.{ext}", tr.get("export.file_name"));
    let ascii = format!("cases-{today}.{ext}");
    let mut encoded = String::new();
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => encoded.push(b as char),
            _ => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")).expect("ASCII only")
}

/// Read the filter's cases page after page, newest first (keyed by number, no offset), and
/// send each page on `tx` until `max` cases were read, none are left or the reader went away.
async fn walk(
    state: &AppState,
    filter: &CaseFilter,
    max: usize,
    tx: tokio::sync::mpsc::Sender<Vec<Case>>,
) -> AppResult<()> {
    let mut f = CaseFilter { order: CaseOrder::Newest, ..filter.clone() };
    let mut read = 0usize;
    while read < max {
        let limit = PAGE.min((max - read) as i64);
        let page = state.port::<dyn CaseStore>().cases(&f, Page { offset: 0, limit }).await?;
        let Some(last) = page.last() else { break };
        f.id_below = Some(last.id);
        read += page.len();
        let short = (page.len() as i64) < limit;
        if tx.send(page).await.is_err() || short {
            break;
        }
    }
    Ok(())
}

/// Every case the worklist filter matches (the caller's scope, as `/api/cases`), as CSV
/// (UTF-8 with BOM, default) or XLSX: case number, class and major class, state, channel,
/// grid, township, department (names, not codes), report, filing, handling deadline and
/// closing times in local time, whether overdue, address, description, position. More matches
/// than `case.export_max_rows` is 400 `invalid_query` (narrow the filter).
#[utoipa::path(get, path = "/api/cases/export", tag = "cases", params(ExportQuery),
    responses((status = 200, description = "CSV or XLSX file", content_type = "text/csv"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> AppResult<Response> {
    let format = q.format()?;
    let query = q.worklist()?;
    let filter = scoped_filter(&state, &caller, &query).await?;
    let max = state.config.export_max_rows;
    if let Some(f) = &filter {
        let n = state.port::<dyn CaseStore>().count_cases_upto(f, max as i64 + 1).await?;
        if n > max as i64 {
            return Err(AppError::msg(
                ErrorCode::InvalidQuery,
                format!("more than {max} cases match; narrow the filter to export them"),
            )
            .key("case.error.export_cap")
            .arg("max", max));
        }
    }
    let settings = state.port::<dyn SettingStore>();
    let calendar = crate::case::cases(&state).calendar(settings).await?;
    let names = Names {
        catalogue: crate::case::cases(&state).catalogue(settings).await?,
        departments: crate::case::cases(&state).departments(state.store.as_ref()).await?,
        spatial: state.spatial.clone(),
        offset: calendar.offset(),
        tr: Tr(caller.locale),
        now: Utc::now(),
    };
    let today = names.now.with_timezone(&names.offset).date_naive();
    let (ty, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (XLSX, "xlsx"),
    };
    // The pages come from a task reading the store; the body is made from them as they come.
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Case>>(2);
    if let Some(f) = filter {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = walk(&state, &f, max, tx).await {
                tracing::error!(error = ?e.message, "case export: reading the cases failed");
            }
        });
    }
    let body = match format {
        Format::Csv => csv_body(names, rx),
        Format::Xlsx => xlsx_body(names, rx),
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(ty));
    h.insert(CONTENT_DISPOSITION, disposition(Tr(caller.locale), today, ext));
    h.insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(r)
}

/// The CSV body: BOM and header, then each page's rows as it comes.
fn csv_body(names: Names, rx: tokio::sync::mpsc::Receiver<Vec<Case>>) -> Body {
    let mut head = String::from("\u{feff}");
    let header: Vec<Cell> = COLUMNS.iter().map(|k| Cell::Text(names.label(k))).collect();
    csv_row(&mut head, &header);
    let first = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(head)) });
    let rows = futures::stream::unfold((rx, names), |(mut rx, names)| async move {
        let page = rx.recv().await?;
        let mut out = String::with_capacity(page.len() * 256);
        for c in &page {
            csv_row(&mut out, &names.row(c));
        }
        Some((Ok(Bytes::from(out)), (rx, names)))
    });
    Body::from_stream(futures::StreamExt::chain(first, rows))
}

/// The XLSX body: the workbook is written on a blocking thread in constant-memory mode as the
/// pages come, saved to a temporary file, and that file streamed. The answer starts at once
/// (the request's time limit is for its start); a failure ends the body early, so the
/// download fails instead of delivering a partial sheet.
fn xlsx_body(names: Names, mut rx: tokio::sync::mpsc::Receiver<Vec<Case>>) -> Body {
    let built = tokio::task::spawn_blocking(move || -> Result<std::fs::File, String> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let time_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm");
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let ws = wb.add_worksheet_with_constant_memory().map_err(|e| e.to_string())?;
        ws.set_name(names.label("export.sheet_name")).map_err(|e| e.to_string())?;
        for (i, k) in COLUMNS.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, names.label(k), &bold).map_err(|e| e.to_string())?;
        }
        let widths =
            [10.0, 18.0, 18.0, 10.0, 12.0, 20.0, 14.0, 20.0, 17.0, 17.0, 17.0, 17.0, 8.0, 30.0, 40.0, 12.0, 12.0];
        for (i, w) in widths.iter().enumerate() {
            ws.set_column_width(i as u16, *w).map_err(|e| e.to_string())?;
        }
        let mut row: u32 = 1;
        while let Some(page) = rx.blocking_recv() {
            for c in &page {
                for (col, cell) in names.row(c).into_iter().enumerate() {
                    let col = col as u16;
                    let r = match cell {
                        Cell::Int(n) => ws.write_number(row, col, n as f64).map(|_| ()),
                        Cell::Num(x) => ws.write_number(row, col, x).map(|_| ()),
                        Cell::Text(s) if s.is_empty() => Ok(()),
                        Cell::Text(s) => ws.write_string(row, col, s).map(|_| ()),
                        Cell::Time(None) => Ok(()),
                        Cell::Time(Some(t)) => excel_time(t)
                            .and_then(|d| ws.write_datetime_with_format(row, col, d, &time_format).map(|_| ())),
                    };
                    r.map_err(|e| e.to_string())?;
                }
                row += 1;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
        let mut file = tempfile::tempfile().map_err(|e| e.to_string())?;
        wb.save_to_writer(&mut file).map_err(|e| e.to_string())?;
        file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        Ok(file)
    });
    let stream = futures::stream::unfold(Some(Reading::Building(built)), |st| async move {
        let mut file = match st? {
            Reading::Building(built) => match built.await {
                Ok(Ok(f)) => f,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "case export: the workbook could not be written");
                    return Some((Err(std::io::Error::other(e)), None));
                }
                Err(e) => return Some((Err(std::io::Error::other(e)), None)),
            },
            Reading::File(f) => f,
        };
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; CHUNK];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((buf, file))
        })
        .await;
        match read {
            Ok(Ok((buf, _))) if buf.is_empty() => None,
            Ok(Ok((buf, file))) => Some((Ok(Bytes::from(buf)), Some(Reading::File(file)))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    });
    Body::from_stream(stream)
}

enum Reading {
    Building(tokio::task::JoinHandle<Result<std::fs::File, String>>),
    File(std::fs::File),
}

fn excel_time(t: DateTime<FixedOffset>) -> Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    rust_xlsxwriter::ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)?.and_hms(
        t.hour() as u16,
        t.minute() as u8,
        t.second() as f64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        let mut s = String::new();
        csv_row(
            &mut s,
            &[
                Cell::Int(7),
                Cell::Text("a,b".into()),
                Cell::Text("say \"hi\"".into()),
                Cell::Text("=1+1".into()),
                Cell::Num(-1.5),
            ],
        );
        assert_eq!(s, "7,\"a,b\",\"say \"\"hi\"\"\",\"'=1+1\",-1.500000\r\n");
    }

    #[test]
    fn the_file_name_is_rfc5987_encoded() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        crate::web::module::register(crate::MODULES);
        let v = disposition(Tr(Locale::ZhCn), d, "csv");
        assert_eq!(
            v.to_str().unwrap(),
            "attachment; filename=\"cases-2026-12-03.csv\"; filename*=UTF-8''%E6%A1%88%E4%BB%B6%E5%AF%BC%E5%87%BA-2026-12-03.csv"
        );
    }
}

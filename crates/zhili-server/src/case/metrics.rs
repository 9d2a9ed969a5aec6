//! The evaluation figures API (考核统计): 立案数 … 准确派遣率 by department, grid (any level),
//! village, township, class, reporter or period, with month-on-month and year-on-year totals,
//! as JSON, CSV or XLSX.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use zhili_case::metrics::{GroupBy, Rates, Tally};
use zhili_case::model::CaseFilter;
use zhili_core::model::Locale;
use zhili_core::ErrorCode;

use crate::case::api::{scoped_filter, CaseQuery};
use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult, ErrorBody};
use crate::web::extract::ApiQuery;
use crate::AppState;

/// Query of `GET /api/case-metrics`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    /// First day (YYYY-MM-DD, local); default: the first of this month.
    pub from: Option<String>,
    /// Day after the last (YYYY-MM-DD); default: tomorrow.
    pub to: Option<String>,
    /// `none` (default), `department`, `township`, `village`, `grid`, `class`, `major`,
    /// `reporter`, `month` or `day`.
    pub group: Option<String>,
    /// With `group=grid`: roll the figures up to this grid level (1 = 大网格).
    pub grid_level: Option<u8>,
    /// Division subtree.
    pub within: Option<String>,
    /// Class or major code prefix.
    pub class: Option<String>,
    /// Department code.
    pub department: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

/// One group's figures.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MetricRow {
    /// The group key (a code, a month…); empty for "none".
    pub key: String,
    /// A readable name for the key.
    pub label: String,
    /// The counts.
    #[schema(value_type = Object)]
    pub tally: Tally,
    /// The rates.
    #[schema(value_type = Object)]
    pub rates: Rates,
}

/// A period's total.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PeriodTotal {
    /// First day.
    pub from: NaiveDate,
    /// Day after the last.
    pub to: NaiveDate,
    /// The counts.
    #[schema(value_type = Object)]
    pub tally: Tally,
    /// The rates.
    #[schema(value_type = Object)]
    pub rates: Rates,
}

/// Answer of `GET /api/case-metrics`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MetricsAnswer {
    /// The grouping.
    pub group: &'static str,
    /// The period asked for, with its total.
    pub total: PeriodTotal,
    /// The period just before, as long (环比).
    pub previous: PeriodTotal,
    /// The same period a year earlier (同比).
    pub last_year: PeriodTotal,
    /// One row per group key.
    pub rows: Vec<MetricRow>,
}

fn bad(name: &str, m: impl Into<String>) -> AppError {
    AppError::msg(ErrorCode::InvalidQuery, m).at(name)
}

fn day(name: &str, v: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| bad(name, format!("{name} must be a date YYYY-MM-DD, got {v:?}")).key("case.error.bad_date"))
}

/// Tallies of one period, grouped.
async fn tallies(
    state: &AppState,
    base: &CaseFilter,
    (from, to): (NaiveDate, NaiveDate),
    group: GroupBy,
    offset: chrono::FixedOffset,
) -> AppResult<Vec<(String, Tally)>> {
    let at = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_local_timezone(offset)
            .single()
            .expect("fixed")
            .with_timezone(&Utc)
    };
    let f = CaseFilter { from: Some(at(from)), to: Some(at(to)), ..base.clone() };
    let due_at: DateTime<Utc> = at(to).min(Utc::now());
    Ok(state
        .port::<dyn zhili_case::store::CaseMetricsStore>()
        .case_tallies(&f, group, due_at, offset.local_minus_utc() / 60)
        .await?)
}

fn sum(rows: &[(String, Tally)]) -> Tally {
    let mut t = Tally::default();
    for (_, x) in rows {
        t += *x;
    }
    t
}

/// The figures (考核指标) of the cases the caller may see, reported in the period.
#[utoipa::path(get, path = "/api/case-metrics", tag = "cases", params(MetricsQuery),
    responses((status = 200, body = MetricsAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn case_metrics(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> AppResult<Response> {
    let calendar =
        crate::case::cases(&state).calendar(state.port::<dyn zhili_platform::settings::SettingStore>()).await?;
    let offset = calendar.offset();
    let today = Utc::now().with_timezone(&offset).date_naive();
    let from = match &q.from {
        Some(v) => day("from", v)?,
        None => today.with_day(1).expect("day 1 exists"),
    };
    let to = match &q.to {
        Some(v) => day("to", v)?,
        None => today.succ_opt().expect("tomorrow exists"),
    };
    if to <= from {
        return Err(bad("to", "to must be after from").key("case.error.period_order"));
    }
    if (to - from).num_days() > 366 * 5 {
        return Err(bad("to", "a period is at most five years").key("case.error.period_long"));
    }
    let group = match q.group.as_deref() {
        None => GroupBy::None,
        Some(g) => GroupBy::from_name(g).ok_or_else(|| {
            bad(
                "group",
                "group must be none, department, township, village, grid, class, major, reporter, month or day",
            )
        })?,
    };
    if q.grid_level.is_some() && group != GroupBy::Grid {
        return Err(bad("grid_level", "grid_level goes with group=grid"));
    }
    if let Some(l) = q.grid_level {
        if l == 0 || l > state.grid_rules.levels.depth() {
            return Err(bad("grid_level", format!("grid_level must be 1–{}", state.grid_rules.levels.depth())));
        }
    }
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        return Err(bad("format", "format must be json, csv or xlsx"));
    }
    let query = CaseQuery {
        within: q.within.clone(),
        class: q.class.clone(),
        department: q.department.clone(),
        ..CaseQuery::default()
    };
    let Some(base) = scoped_filter(&state, &caller, &query).await? else {
        return Err(AppError::new(ErrorCode::NotFound));
    };
    let len = to - from;
    let previous = (from - len, from);
    let last_year = (
        from.checked_sub_months(Months::new(12)).unwrap_or(from),
        to.checked_sub_months(Months::new(12)).unwrap_or(to),
    );
    let (rows, prev, ly) = tokio::try_join!(
        tallies(&state, &base, (from, to), group, offset),
        tallies(&state, &base, previous, GroupBy::None, offset),
        tallies(&state, &base, last_year, GroupBy::None, offset),
    )?;
    let rows = match q.grid_level {
        Some(level) => roll_up(&state, rows, level),
        None => rows,
    };
    let period = |(from, to): (NaiveDate, NaiveDate), t: Tally| PeriodTotal { from, to, tally: t, rates: t.rates() };
    let labels = labels(&state, group, caller.locale).await?;
    let answer = MetricsAnswer {
        group: group.as_str(),
        total: period((from, to), sum(&rows)),
        previous: period(previous, sum(&prev)),
        last_year: period(last_year, sum(&ly)),
        rows: rows
            .into_iter()
            .map(|(key, tally)| MetricRow {
                label: label_of(&state, group, &key, &labels),
                key,
                rates: tally.rates(),
                tally,
            })
            .collect(),
    };
    match format {
        "csv" => Ok(download(to_csv(&answer).into_bytes(), "text/csv; charset=utf-8", "case-metrics.csv")),
        "xlsx" => Ok(download(
            to_xlsx(&answer)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "case-metrics.xlsx",
        )),
        _ => Ok(axum::Json(answer).into_response()),
    }
}

/// Sum finest-grid tallies up to their ancestor at `level` (grids at a coarser level than
/// asked, e.g. a village with no small grids, keep their own key).
fn roll_up(state: &AppState, rows: Vec<(String, Tally)>, level: u8) -> Vec<(String, Tally)> {
    let mut out: BTreeMap<String, Tally> = BTreeMap::new();
    for (key, t) in rows {
        let mut k = key.clone();
        // Grid features sit three levels below the county in the spatial index.
        while let Some((l, parent)) = state.spatial.parent_of(&k) {
            if l <= level + 3 {
                break;
            }
            match parent {
                Some(p) if p.len() > 12 => k = p,
                _ => break,
            }
        }
        *out.entry(k).or_default() += t;
    }
    out.into_iter().collect()
}

/// Readable names for group keys.
async fn labels(state: &AppState, group: GroupBy, locale: Locale) -> AppResult<BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    match group {
        GroupBy::Department => {
            let mut all = Vec::new();
            loop {
                let page = state
                    .store
                    .departments(None, zhili_core::store::Page { offset: all.len() as i64, limit: 1000 })
                    .await?;
                if page.is_empty() {
                    break;
                }
                all.extend(page);
            }
            m.extend(all.into_iter().map(|d| (d.code, d.name)));
        }
        GroupBy::Class | GroupBy::Major => {
            let c =
                crate::case::cases(state).catalogue(state.port::<dyn zhili_platform::settings::SettingStore>()).await?;
            for k in &c.classes {
                m.insert(k.code.to_string(), k.name.clone());
                // Event and component major classes may share a name (市容环境): say which.
                let kind = match locale {
                    Locale::ZhCn => k.kind.label_zh(),
                    Locale::En => k.kind.as_str(),
                };
                let major = match locale {
                    Locale::ZhCn => format!("{}（{kind}）", k.major_name),
                    Locale::En => format!("{} ({kind})", k.major_name),
                };
                m.insert(k.major_code.to_string(), major);
            }
        }
        _ => {}
    }
    Ok(m)
}

/// Division and grid names come from the spatial index, looked up per key.
fn label_of(state: &AppState, group: GroupBy, key: &str, known: &BTreeMap<String, String>) -> String {
    if let Some(l) = known.get(key) {
        return l.clone();
    }
    match group {
        GroupBy::Township | GroupBy::Village | GroupBy::Grid => {
            let (_, name) = state.spatial.label(key);
            if name.is_empty() {
                key.to_string()
            } else {
                name
            }
        }
        _ => key.to_string(),
    }
}

fn download(bytes: Vec<u8>, ty: &'static str, name: &str) -> Response {
    let mut r = bytes.into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ty));
    r.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).expect("ASCII"),
    );
    r
}

const COLUMNS: [&str; 17] = [
    "分组",
    "名称",
    "上报数",
    "立案数",
    "派遣数",
    "应结案数",
    "结案数",
    "按期结案数",
    "返工数",
    "延期数",
    "缓办数",
    "准确派遣数",
    "结案率",
    "按期结案率",
    "返工率",
    "延期率",
    "准确派遣率",
];

fn cells(r: &MetricRow) -> Vec<String> {
    let t = &r.tally;
    let p = |x: Option<f64>| x.map(|v| format!("{:.2}%", v * 100.0)).unwrap_or_default();
    let rt = &r.rates;
    vec![
        r.key.clone(),
        r.label.clone(),
        t.reported.to_string(),
        t.filed.to_string(),
        t.dispatched.to_string(),
        t.due.to_string(),
        t.closed.to_string(),
        t.closed_on_time.to_string(),
        t.reworked.to_string(),
        t.extended.to_string(),
        t.deferred.to_string(),
        t.dispatched_right.to_string(),
        p(rt.closure_rate),
        p(rt.on_time_rate),
        p(rt.rework_rate),
        p(rt.extension_rate),
        p(rt.accurate_dispatch_rate),
    ]
}

fn csv_field(s: &str) -> String {
    // Quote always; a leading formula character is neutralised so spreadsheets show text.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn to_csv(a: &MetricsAnswer) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&COLUMNS.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for r in &a.rows {
        out.push_str(&cells(r).iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn to_xlsx(a: &MetricsAnswer) -> AppResult<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::msg(ErrorCode::Internal, e.to_string());
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (i, c) in COLUMNS.iter().enumerate() {
        ws.write_with_format(0, i as u16, *c, &bold).map_err(fail)?;
    }
    for (ri, r) in a.rows.iter().enumerate() {
        for (ci, v) in cells(r).iter().enumerate() {
            let row = ri as u32 + 1;
            match v.parse::<i64>() {
                Ok(n) if ci >= 2 => ws.write_number(row, ci as u16, n as f64).map_err(fail)?,
                _ => ws.write_string(row, ci as u16, v).map_err(fail)?,
            };
        }
    }
    wb.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_neutralises_formulas() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=SUM(A1)"), "\"'=SUM(A1)\"");
    }
}

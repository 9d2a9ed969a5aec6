//! The case loop's part of the home page (我的待办): each role's queue with its counts, each
//! count leading to the worklist filtered to exactly those cases.
//!
//! - grid worker: 待核实 (new reports in their grids), 待核查 (responded cases in their grids,
//!   which they verify on site), 我的上报 (their reports);
//! - department staff: 待签收, 处置中, 即将超时 (the handling clock runs out within 4 working
//!   hours), 已超时;
//! - operator (and administrator, who may act as one): 待立案, 待派遣, 待结案, 已超时;
//! - leader: the day's figures — reported today and this month's on-time rate from the figures
//!   (`CaseMetricsStore::case_tallies`), closed today and overdue now counted on the worklist.
//!
//! Every count goes through the worklist's `scoped_filter`, so it is the count of the list
//! its link opens.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use zhili_case::metrics::GroupBy;
use zhili_case::store::CaseMetricsStore;
use zhili_core::policy::{authorize, Action, Role};
use zhili_platform::settings::SettingStore;

use crate::case::api::{count_upto, scoped_filter, CaseQuery};
use crate::case::pages::{worklist_query, CasesPageQuery};
use crate::web::caller::Caller;
use crate::web::error::AppResult;
use crate::web::i18n::Tr;
use crate::web::module::{BoxFuture, HomeSection, HomeTile};
use crate::AppState;

/// The case loop's home sections for `caller` ([`crate::web::module::Module::home`]).
pub(crate) fn parts<'a>(state: &'a AppState, caller: &'a Caller) -> BoxFuture<'a, AppResult<Vec<HomeSection>>> {
    Box::pin(async move {
        if authorize(&caller.principal, Action::ReadCases, None).is_err() {
            return Ok(vec![]);
        }
        let t = Tr(caller.locale);
        let role = caller.principal.role;
        if role == Role::Leader {
            return Ok(vec![leader(state, caller, t).await?]);
        }
        // (tile id, label key, worklist query, asks for attention)
        let queue: &[(&'static str, &str, &str, bool)] = match role {
            Role::GridWorker => &[
                ("to-check", "home.to_check", "state=responded", false),
                ("to-verify", "home.to_verify", "state=reported", false),
                ("my-reports", "home.my_reports", "mine=1", false),
            ],
            Role::DepartmentStaff => &[
                ("to-accept", "home.to_accept", "state=dispatched", false),
                ("handling", "home.handling", "state=handling", false),
                ("due-soon", "home.due_soon", "state=dispatched,handling&due_soon=1", true),
                ("overdue", "home.overdue", "state=dispatched,handling&overdue=1", true),
            ],
            Role::Operator | Role::Admin => &[
                ("to-file", "home.to_file", "state=reported", false),
                ("to-dispatch", "home.to_dispatch", "state=filed", false),
                ("to-close", "home.to_close", "state=verified", false),
                ("overdue", "home.overdue", "overdue=1", true),
            ],
            Role::Leader | Role::Public => &[],
        };
        let mut tiles = Vec::with_capacity(queue.len());
        for &(id, key, query, alert) in queue {
            let n = count(state, caller, query).await?;
            tiles.push(tile(id, t.get(key), n, query, alert));
        }
        Ok(vec![HomeSection { id: "queue", order: 10, title: t.get("home.queue").into(), tiles }])
    })
}

/// The worklist page's query `q` (`a=b&c=d`, as in the link) as the [`CaseQuery`] it lists.
fn query(q: &str) -> CaseQuery {
    let page: CasesPageQuery = serde_urlencoded::from_str(q).expect("the home queries are valid worklist queries");
    worklist_query(&page)
}

/// How many cases the worklist `q` lists for the caller, as shown: `12`, `10000+`.
async fn count(state: &AppState, caller: &Caller, q: &str) -> AppResult<String> {
    Ok(match scoped_filter(state, caller, &query(q)).await? {
        None => "0".into(),
        Some(f) => match count_upto(state, &f).await? {
            (n, true) => n.to_string(),
            (n, false) => format!("{n}+"),
        },
    })
}

fn tile(id: &'static str, label: &str, figure: String, query: &str, alert: bool) -> HomeTile {
    let alert = alert && figure != "0";
    HomeTile { id, label: label.into(), figure, href: format!("/cases?{query}"), alert }
}

/// A leader's day: reported today, closed today, overdue now, this month's on-time rate.
async fn leader(state: &AppState, caller: &Caller, t: Tr) -> AppResult<HomeSection> {
    let calendar = crate::case::cases(state).calendar(state.port::<dyn SettingStore>()).await?;
    let offset = calendar.offset();
    let now = Utc::now();
    let today = now.with_timezone(&offset).date_naive();
    let midnight = |d: NaiveDate| -> DateTime<Utc> {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_local_timezone(offset)
            .single()
            .expect("fixed")
            .with_timezone(&Utc)
    };
    let tomorrow = today.succ_opt().unwrap_or(today);
    let month = today.with_day(1).unwrap_or(today);
    let day = today.format("%Y-%m-%d").to_string();
    let base = scoped_filter(state, caller, &CaseQuery::default()).await?;
    let (reported, on_time) = match &base {
        None => (0, None),
        Some(f) => {
            let metrics = state.port::<dyn CaseMetricsStore>();
            let minutes = offset.local_minus_utc() / 60;
            let sum = |rows: Vec<(String, zhili_case::metrics::Tally)>| {
                rows.into_iter().fold(zhili_case::metrics::Tally::default(), |mut a, (_, x)| {
                    a += x;
                    a
                })
            };
            let period = |from: NaiveDate| zhili_case::model::CaseFilter {
                from: Some(midnight(from)),
                to: Some(midnight(tomorrow)),
                ..f.clone()
            };
            let day_tally = sum(metrics.case_tallies(&period(today), GroupBy::None, now, minutes).await?);
            let month_tally = sum(metrics.case_tallies(&period(month), GroupBy::None, now, minutes).await?);
            (day_tally.reported, month_tally.rates().on_time_rate)
        }
    };
    let closed_q = format!("state=closed,evaluated&closed_from={day}");
    let closed = count(state, caller, &closed_q).await?;
    let overdue = count(state, caller, "overdue=1").await?;
    let tiles = vec![
        tile("reported-today", t.get("home.reported_today"), reported.to_string(), &format!("from={day}"), false),
        tile("closed-today", t.get("home.closed_today"), closed, &closed_q, false),
        tile("overdue-now", t.get("home.overdue_now"), overdue, "overdue=1", true),
        HomeTile {
            id: "on-time-rate",
            label: t.get("home.on_time_rate").into(),
            figure: on_time.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into()),
            href: "/dashboard".into(),
            alert: false,
        },
    ];
    Ok(HomeSection { id: "today", order: 10, title: t.get("home.today").into(), tiles })
}

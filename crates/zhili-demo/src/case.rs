//! A year of synthetic cases (演示案件) over the demo district, so that dashboards and worklists
//! are alive from the first start.
//!
//! Every case is driven through the real closed loop — [`workflow::apply`] for each command and
//! [`advance`] for the clock, counters and timeline, in working time of
//! [`WorkCalendar::china`] with the limits of [`Catalogue::national`] — at simulated instants:
//! filing within minutes, dispatch to the catalogue's department (属地 → the township
//! government `t{NNN}`), acceptance and handling in the department's working hours, on-site
//! verification by a grid worker of the case's grid, closing by the command centre. Side paths
//! come at plausible rates: voided reports (作废), returns to the centre and re-dispatch (回退),
//! extensions (延期), rework after a failed check (返工, some twice), deferral (缓办), shelving
//! (挂账), reopening (重新打开), and a backlog of cases a department never finished. A case
//! whose next step would fall after `end` stays where it is, so the last days' cases are open
//! in every state and worklists have fresh and overdue items.
//!
//! Reports spread over the 365 days before `end`: fewer at night, at weekends and on public
//! holidays; more in summer; a class mix after the national catalogue with seasons (积水 in the
//! rainy season, 积雪 in winter, 露天烧烤 in summer, 落叶 in autumn). Positions are random points
//! inside a small grid (more in the communities of the three street offices than in villages;
//! some grids are hot spots); reporters are mostly a grid worker of that grid, then hotline
//! operators, the public and higher authorities.
//!
//! Same district, user ids, `end`, count and seed: same cases, on every machine. Each case
//! depends only on its index ([`CaseGenerator::case`]), so chunks can be made in parallel.

use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use geo::{BoundingRect, Contains, MultiPolygon, Point};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use zhili_case::calendar::{WorkCalendar, WorkDuration};
use zhili_case::catalogue::{CaseClass, Catalogue, DepartmentRule, Urgency};
use zhili_case::metrics::Tally;
use zhili_case::model::{advance, apply_clock, Case, CaseClock, Source, TimelineEntry};
use zhili_case::workflow::{self, CaseState, CaseStatus, Command};
use zhili_core::codes::DivisionCode;
use zhili_core::policy::Role;
use zhili_grid::GridDuty;
use zhili_platform::attachment::Attachment;

use crate::District;

/// How many cases `zhili demo` loads by default: a year of a busy district.
pub const DEFAULT_CASES: usize = 200_000;

/// Usernames → user ids, as stored (reporters and timeline actors are named by username).
pub type UserIds = HashMap<String, i64>;

/// A case and its whole timeline, ready for [`zhili_case::store::CaseStore::load_cases`].
pub type History = (Case, Vec<TimelineEntry>);

/// `n` cases over the 365 days before `end`, in order of report (so ids grow with time).
pub fn year_of_cases(
    district: &District,
    users: UserIds,
    end: DateTime<Utc>,
    n: usize,
    seed: u64,
) -> impl Iterator<Item = History> {
    let g = CaseGenerator::new(district, users, end, n, 1, seed);
    (0..n).map(move |i| g.case(i))
}

// ---------------------------------------------------------------------------------------------
// Rates of the loop (per case unless said otherwise)

/// Voided at filing (invalid or duplicate report).
const VOID_AT_REPORT: f64 = 0.014;
/// Voided after filing (found to be a duplicate before dispatch).
const VOID_AFTER_FILING: f64 = 0.006;
/// Filed under a corrected class (same major class).
const RECLASSIFIED: f64 = 0.01;
/// First dispatched to the wrong department, which returns it (回退).
const RETURNED: f64 = 0.03;
/// The department asks for more time (延期申请); most are approved.
const EXTENSION: f64 = 0.022;
const EXTENSION_APPROVED: f64 = 0.85;
/// Deferred (缓办), and then resumed.
const DEFERRED: f64 = 0.005;
const RESUMED: f64 = 0.75;
/// Shelved (挂账), and then taken off the list again.
const SHELVED: f64 = 0.005;
const UNSHELVED: f64 = 0.25;
/// Never finished by the department (backlog): never accepted or never reported back.
const STUCK: f64 = 0.055;
/// Reported back weeks late.
const LONG_DELAY: f64 = 0.03;
/// Failed verification (返工); the share of reworked cases that fail a second time.
const REWORK: f64 = 0.025;
const REWORK_AGAIN: f64 = 0.12;
/// Reported back but never verified.
const NEVER_VERIFIED: f64 = 0.003;
/// Reopened after closing (重新打开).
const REOPENED: f64 = 0.003;

/// Share of first reports back after the handling deadline, by department.
fn late_rate(department: &str) -> f64 {
    match department {
        "cgj" => 0.13,
        "slj" => 0.15,
        "zjj" => 0.19,
        "gaj" => 0.11,
        "jtj" => 0.16,
        "hbj" => 0.17,
        "yjj" => 0.09,
        "zrzyj" => 0.22,
        "wjj" => 0.12,
        "mzj" => 0.12,
        _ => 0.17, // township governments (属地)
    }
}

/// Classes that are hard to finish (违法建设, 违法用地, 群租, 河湖“四乱”): many stay open.
fn hard(code: &str) -> bool {
    matches!(code, "SJ0101" | "SJ0602" | "SJ0601" | "SJ0605")
}

// ---------------------------------------------------------------------------------------------
// The mix

/// How a class's frequency moves over the year.
#[derive(Clone, Copy)]
enum Season {
    Flat,
    /// 汛期: June to September.
    Rain,
    /// December to February only.
    Snow,
    /// Evenings outdoors: May to September.
    Summer,
    /// Falling leaves: October and November.
    Autumn,
    /// Construction dust: March to June.
    Dust,
}

impl Season {
    fn factor(self, month: u32) -> f64 {
        match (self, month) {
            (Season::Flat, _) => 1.0,
            (Season::Rain, 7 | 8) => 4.0,
            (Season::Rain, 6 | 9) => 2.0,
            (Season::Rain, 11 | 12 | 1 | 2) => 0.3,
            (Season::Rain, _) => 0.8,
            (Season::Snow, 12 | 1 | 2) => 1.0,
            (Season::Snow, 3 | 11) => 0.1,
            (Season::Snow, _) => 0.0,
            (Season::Summer, 6..=8) => 2.5,
            (Season::Summer, 5 | 9) => 1.5,
            (Season::Summer, 12 | 1 | 2) => 0.2,
            (Season::Summer, _) => 0.6,
            (Season::Autumn, 10 | 11) => 2.5,
            (Season::Autumn, _) => 0.8,
            (Season::Dust, 3..=6) => 1.8,
            (Season::Dust, _) => 0.8,
        }
    }
}

/// Relative frequencies of the common classes (per mille of a year, roughly); every other
/// class of the catalogue gets [`RARE`].
#[rustfmt::skip]
const MIX: &[(&str, f64, Season)] = &[
    // 市容环境
    ("SJ0102", 120.0, Season::Flat),   // 暴露垃圾
    ("SJ0104", 70.0, Season::Flat),    // 道路不洁
    ("SJ0115", 40.0, Season::Summer),  // 垃圾满溢
    ("SJ0103", 25.0, Season::Flat),    // 积存垃圾渣土
    ("SJ0106", 15.0, Season::Autumn),  // 绿地脏乱
    ("SJ0110", 12.0, Season::Flat),    // 道路破损
    ("SJ0108", 6.0, Season::Flat),     // 废弃家具设备
    ("SJ0105", 4.0, Season::Summer),   // 水域不洁
    ("SJ0107", 4.0, Season::Flat),     // 废弃车辆
    ("SJ0111", 4.0, Season::Flat),     // 油烟污染
    ("SJ0113", 3.0, Season::Flat),     // 动物尸体
    ("SJ0101", 3.0, Season::Flat),     // 违法建设 (rare)
    // 宣传广告
    ("SJ0201", 90.0, Season::Flat),    // 非法小广告
    ("SJ0203", 8.0, Season::Flat),     // 占道广告牌
    ("SJ0204", 4.0, Season::Flat),     // 街头散发广告
    ("SJ0202", 3.0, Season::Flat),     // 违规户外广告
    ("SJ0206", 3.0, Season::Flat),     // 广告招牌破损
    ("SJ0205", 2.0, Season::Flat),     // 违规标语横幅
    // 施工管理
    ("SJ0303", 12.0, Season::Dust),    // 道路遗撒
    ("SJ0302", 10.0, Season::Dust),    // 工地扬尘
    ("SJ0301", 8.0, Season::Summer),   // 施工扰民
    ("SJ0305", 4.0, Season::Dust),     // 施工占道
    ("SJ0309", 3.0, Season::Dust),     // 渣土车未密闭运输
    // 突发事件
    ("SJ0404", 10.0, Season::Rain),    // 下水道堵塞或破损
    ("SJ0406", 6.0, Season::Rain),     // 道路积水
    ("SJ0408", 4.0, Season::Flat),     // 架空线缆损坏
    ("SJ0407", 8.0, Season::Snow),     // 道路积雪结冰 (winter only)
    ("SJ0402", 2.0, Season::Flat),     // 自来水管破裂
    // 街面秩序
    ("SJ0508", 90.0, Season::Summer),  // 占道经营
    ("SJ0507", 80.0, Season::Flat),    // 乱堆物堆料
    ("SJ0505", 60.0, Season::Flat),    // 机动车乱停放
    ("SJ0504", 45.0, Season::Flat),    // 店外经营
    ("SJ0506", 30.0, Season::Flat),    // 非机动车乱停放
    ("SJ0501", 20.0, Season::Summer),  // 无照经营游商
    ("SJ0511", 12.0, Season::Summer),  // 露天烧烤
    ("SJ0512", 10.0, Season::Summer),  // 沿街晾挂
    ("SJ0503", 8.0, Season::Flat),     // 占道废品收购
    ("SJ0514", 8.0, Season::Summer),   // 社会生活噪声扰民
    ("SJ0509", 6.0, Season::Flat),     // 商业噪音
    ("SJ0510", 3.0, Season::Flat),     // 黑车拉客
    ("SJ0502", 2.0, Season::Flat),     // 流浪乞讨
    ("SJ0513", 2.0, Season::Flat),     // 违章接坡
    // 其他事件
    ("SJ0607", 6.0, Season::Flat),     // 矛盾纠纷
    ("SJ0606", 6.0, Season::Flat),     // 公共安全隐患
    ("SJ0608", 3.0, Season::Flat),     // 困难群众求助
    ("SJ0604", 3.0, Season::Flat),     // 乱倒乱排污水
    // 部件: covers and lamps are frequent
    ("BJ0103", 10.0, Season::Rain),    // 雨水井盖
    ("BJ0102", 10.0, Season::Flat),    // 污水井盖
    ("BJ0104", 8.0, Season::Rain),     // 雨水箅子
    ("BJ0101", 6.0, Season::Flat),     // 上水井盖
    ("BJ0107", 5.0, Season::Flat),     // 通讯井盖
    ("BJ0105", 4.0, Season::Flat),     // 电力井盖
    ("BJ0106", 3.0, Season::Flat),     // 路灯井盖
    ("BJ0114", 3.0, Season::Flat),     // 无主井盖
    ("BJ0110", 2.0, Season::Flat),     // 热力井盖
    ("BJ0111", 2.0, Season::Flat),     // 燃气井盖
    ("BJ0118", 35.0, Season::Flat),    // 路灯
    ("BJ0120", 6.0, Season::Flat),     // 景观灯
    ("BJ0126", 5.0, Season::Flat),     // 健身设施
    ("BJ0117", 4.0, Season::Flat),     // 立杆
    ("BJ0113", 3.0, Season::Flat),     // 消防设施
    ("BJ0116", 3.0, Season::Flat),     // 电力设施
    ("BJ0211", 6.0, Season::Flat),     // 交通护栏
    ("BJ0209", 4.0, Season::Flat),     // 交通标志牌
    ("BJ0210", 3.0, Season::Flat),     // 交通信号灯
    ("BJ0203", 3.0, Season::Flat),     // 公交站亭
    ("BJ0213", 3.0, Season::Flat),     // 路名牌
    ("BJ0305", 15.0, Season::Flat),    // 垃圾箱
    ("BJ0301", 5.0, Season::Flat),     // 公共厕所
    ("BJ0402", 8.0, Season::Autumn),   // 行道树
    ("BJ0405", 5.0, Season::Flat),     // 绿地
];
/// The frequency of every class not in [`MIX`].
const RARE: f64 = 0.6;

/// How busy a month is overall (summer peak, Spring Festival trough).
fn month_factor(month: u32) -> f64 {
    [0.85, 0.8, 0.95, 1.0, 1.05, 1.1, 1.2, 1.2, 1.05, 0.95, 0.95, 0.85][month as usize - 1]
}

/// Reports per local hour, by channel: grid workers on patrol in working hours, the hotline
/// round the clock, the public into the evening.
#[rustfmt::skip]
fn hours(source: Source) -> [f64; 24] {
    match source {
        Source::GridWorker => [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 1.5, 4.0, 6.0, 6.0, 5.0,
                               2.0, 2.0, 4.0, 5.5, 5.0, 3.0, 1.0, 0.5, 0.2, 0.1, 0.0, 0.0],
        Source::Public => [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.5, 1.5, 2.5, 3.0, 3.0, 3.0,
                           2.5, 2.5, 3.0, 3.0, 3.0, 3.0, 3.5, 4.0, 4.0, 3.0, 2.0, 1.0],
        Source::Superior => [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 4.0, 4.0, 3.0,
                             0.5, 0.5, 3.0, 4.0, 4.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        _ => [0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 2.0, 3.5, 4.0, 4.0, 3.5,
              2.5, 2.5, 3.5, 3.8, 3.5, 3.0, 2.5, 2.5, 2.0, 1.5, 1.0, 0.6],
    }
}

/// Channels and their shares.
const SOURCES: [(Source, f64); 4] =
    [(Source::GridWorker, 0.72), (Source::Hotline, 0.17), (Source::Public, 0.08), (Source::Superior, 0.03)];

const PLACES: [&str; 18] = [
    "小区门口",
    "小区内主路",
    "菜市场旁",
    "学校门口",
    "公交站旁",
    "路口东北角",
    "路口西南侧",
    "公园入口",
    "商业街",
    "村委会附近",
    "主干道人行道",
    "河道沿岸",
    "广场东侧",
    "医院门口",
    "超市门前",
    "老旧小区楼道口",
    "农贸市场出口",
    "背街小巷",
];

/// Description templates of the common classes; `{p}` is a place, `{n}` a small number.
fn templates(code: &str) -> &'static [&'static str] {
    match code {
        "SJ0102" => &["{p}有散落生活垃圾，约{n}袋", "{p}堆放成袋垃圾无人清运", "{p}绿化带内有暴露垃圾"],
        "SJ0104" => &["{p}路面有泥土和油污", "{p}人行道积尘严重、杂物散落"],
        "SJ0115" => &["{p}垃圾桶满溢，周边散落垃圾", "{p}垃圾收集点垃圾满溢"],
        "SJ0508" => &["{p}有{n}个摊点占道经营", "{p}早市摊贩占用人行道经营", "{p}水果摊占道经营，影响通行"],
        "SJ0507" => &["{p}堆放砖块、沙石等杂物", "{p}有居民堆放杂物占用公共空间", "{p}乱堆建材约{n}立方"],
        "SJ0201" => &["{p}墙面张贴多张小广告", "{p}电线杆上贴满办证小广告", "{p}有喷涂的小广告"],
        "SJ0505" => &["{p}有{n}辆机动车停放在人行道上", "{p}车辆占用消防通道停放"],
        "SJ0506" => &["{p}共享单车乱停乱放，堵塞通道", "{p}电动自行车乱停放"],
        "SJ0504" => &["{p}商铺在店外摆放商品经营", "{p}餐馆在门前摆桌经营"],
        "SJ0511" => &["{p}夜间有露天烧烤摊，烟气扰民"],
        "SJ0406" => &["{p}降雨后积水约{n}0厘米，影响通行"],
        "SJ0407" => &["{p}路面积雪结冰，行人易滑倒"],
        "SJ0101" => &["{p}楼顶私搭乱建彩钢房", "{p}有居民私自扩建院墙"],
        "BJ0118" => &["{p}连续{n}盏路灯不亮", "{p}路灯灯杆倾斜、线路外露"],
        "BJ0101" | "BJ0102" | "BJ0103" | "BJ0105" | "BJ0106" | "BJ0107" | "BJ0110" | "BJ0111" | "BJ0112" | "BJ0114" => {
            &["{p}井盖破损", "{p}井盖缺失，已临时围挡", "{p}井盖移位，存在安全隐患"]
        }
        _ => &[],
    }
}

const VOID_REASONS: [&str; 4] =
    ["重复上报，该问题已有案件在办", "现场核实无此问题", "不属于受理范围，已告知上报人", "上报信息不全，无法核实位置"];
const SHELVE_REASONS: [&str; 2] =
    ["涉及历史遗留问题，需纳入年度改造计划，暂时无法解决", "需多部门协调且资金未落实，暂列问题清单"];
const DEFER_REASONS: [&str; 3] = ["当事人外出，待其返回后处理", "需等待天气条件具备后施工", "需待相关审批手续完成"];
const REWORK_NOTES: [&str; 2] = ["现场复核仍有残留，未达到结案标准", "处置不彻底，问题反弹"];
const REOPEN_REASONS: [&str; 2] = ["群众反映问题反弹，未彻底解决", "回访不满意，问题仍然存在"];

// ---------------------------------------------------------------------------------------------
// The generator

/// A small grid where cases happen.
struct SmallGrid {
    code: String,
    village: DivisionCode,
    address: String,
    area: MultiPolygon<f64>,
    bbox: [f64; 4],
    /// Its grid workers (full-time first).
    workers: Vec<String>,
}

/// One planned report: when and by which channel (the rest is drawn per case).
#[derive(Clone, Copy)]
struct Planned {
    at: DateTime<Utc>,
    source: Source,
}

/// Makes the cases of one district, year and seed; [`CaseGenerator::case`] is a pure function of
/// the index. Owns what it needs, so it can be moved to another thread.
pub struct CaseGenerator {
    seed: u64,
    end: DateTime<Utc>,
    calendar: WorkCalendar,
    catalogue: Catalogue,
    grids: Vec<SmallGrid>,
    /// Cumulative weights of `grids`.
    grid_weights: Vec<f64>,
    /// Cumulative weights of the catalogue's classes, per month (index 0 = January).
    class_weights: Vec<Vec<f64>>,
    /// Every department a case can be dispatched to (for wrong first dispatches).
    departments: Vec<String>,
    plan: Vec<Planned>,
    users: UserIds,
}

/// Index of a draw `u` in [0, 1) from cumulative weights.
fn pick(cumulative: &[f64], u: f64) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    cumulative.partition_point(|&w| w <= u * total).min(cumulative.len().saturating_sub(1))
}

fn cumulate(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .into_iter()
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random::<f64>().max(1e-12);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// An exponential draw with this mean.
fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    -(1.0 - rng.random::<f64>()).ln() * mean
}

fn minutes(m: f64) -> Duration {
    Duration::seconds((m * 60.0).round().max(60.0) as i64)
}

impl CaseGenerator {
    /// Prepare `n` cases over the `years` × 365 days before `end` (their report instants are
    /// planned here; `years` ≥ 1: more than one for a store at scale, e.g. ten million cases
    /// over ten years).
    pub fn new(
        district: &District,
        users: UserIds,
        end: DateTime<Utc>,
        n: usize,
        years: u32,
        seed: u64,
    ) -> CaseGenerator {
        let calendar = WorkCalendar::china();
        let catalogue = Catalogue::national();
        let end = Utc.timestamp_opt(end.timestamp(), 0).single().expect("whole seconds are valid");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);

        let names: HashMap<&str, &str> =
            district.batch.divisions.iter().map(|d| (d.code.as_str(), d.name.as_str())).collect();
        let mut workers: HashMap<&str, Vec<(bool, &str)>> = HashMap::new();
        for (user, grid, duty) in &district.assignments {
            if matches!(duty, GridDuty::FullTime | GridDuty::PartTime) {
                workers.entry(grid.as_str()).or_default().push((*duty == GridDuty::PartTime, user.as_str()));
            }
        }
        let mut grids = Vec::new();
        let mut weights = Vec::new();
        for g in district.grids.iter().filter(|g| g.level == 3) {
            let Some(mut ws) = workers.remove(g.code.as_str()) else { continue };
            let Some(rect) = g.boundary.bounding_rect() else { continue };
            ws.sort();
            let village = g.village();
            let town = village.parent().expect("a village has a township");
            let name = |c: &DivisionCode| names.get(c.as_str()).copied().unwrap_or_default();
            let address = format!("{} {} {} {}", crate::COUNTY_NAME, name(&town), name(&village), g.name);
            // The communities of the three street offices are busier than villages; some grids
            // are hot spots (markets, schools, old estates).
            let urban = town.as_str()[6..9].parse::<u32>().is_ok_and(|t| t < 100);
            weights.push(if urban { 3.0 } else { 1.0 } * (0.7 * normal(&mut rng)).exp());
            grids.push(SmallGrid {
                code: g.code.to_string(),
                village,
                address,
                area: g.boundary.clone(),
                bbox: [rect.min().x, rect.min().y, rect.max().x, rect.max().y],
                workers: ws.into_iter().map(|(_, u)| u.to_string()).collect(),
            });
        }
        assert!(!grids.is_empty(), "the district has small grids with workers");
        let mix: HashMap<&str, (f64, Season)> = MIX.iter().map(|&(c, w, s)| (c, (w, s))).collect();
        let class_weights = (1..=12)
            .map(|month| {
                cumulate(catalogue.classes.iter().map(|c| {
                    if !c.active {
                        return 0.0;
                    }
                    let (w, s) = mix.get(c.code.as_str()).copied().unwrap_or((RARE, Season::Flat));
                    w * s.factor(month)
                }))
            })
            .collect();
        let mut departments: Vec<String> = catalogue
            .classes
            .iter()
            .filter_map(|c| match &c.department {
                DepartmentRule::Department(d) => Some(d.clone()),
                DepartmentRule::Territorial => None,
            })
            .collect();
        departments.sort();
        departments.dedup();

        // Report instants: a day by weight (season, weekend, holiday), a channel, an hour by the
        // channel's profile, then sorted so that case numbers grow with time.
        let offset = calendar.offset();
        let span = 365 * i64::from(years.max(1));
        let start = end - Duration::days(span);
        let first = start.with_timezone(&offset).date_naive();
        let days: Vec<NaiveDate> = first.iter_days().take(span as usize + 2).collect();
        let day_weights = cumulate(days.iter().map(|d| {
            let kind = if calendar.holidays.contains(d) {
                0.45
            } else if calendar.is_working_day(*d) {
                1.0
            } else {
                0.6
            };
            month_factor(d.month()) * kind
        }));
        let source_weights = cumulate(SOURCES.iter().map(|s| s.1));
        let hour_weights: Vec<Vec<f64>> = SOURCES.iter().map(|s| cumulate(hours(s.0))).collect();
        let mut plan = Vec::with_capacity(n);
        while plan.len() < n {
            let day = days[pick(&day_weights, rng.random())];
            let s = pick(&source_weights, rng.random());
            let hour = pick(&hour_weights[s], rng.random()) as u32;
            let local = day.and_hms_opt(hour, rng.random_range(0..60), rng.random_range(0..60)).expect("valid time");
            let at = offset.from_local_datetime(&local).single().expect("fixed offset").with_timezone(&Utc);
            if at >= start && at < end {
                plan.push(Planned { at, source: SOURCES[s].0 });
            }
        }
        plan.sort_by_key(|p| p.at);
        CaseGenerator {
            seed,
            end,
            calendar,
            catalogue,
            grids,
            grid_weights: cumulate(weights),
            class_weights,
            departments,
            plan,
            users,
        }
    }

    /// How many cases.
    pub fn len(&self) -> usize {
        self.plan.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.plan.is_empty()
    }

    /// The instant the histories run up to.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// The cases with these indexes.
    pub fn chunk(&self, range: Range<usize>) -> Vec<History> {
        range.map(|i| self.case(i)).collect()
    }

    /// Case number `i` (from 0) with its timeline: the same for the same generator, whatever was
    /// made before.
    pub fn case(&self, i: usize) -> History {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(i as u64 + 1);
        let Planned { at, source } = self.plan[i];
        let month = at.with_timezone(&self.calendar.offset()).month() as usize;
        let class = &self.catalogue.classes[pick(&self.class_weights[month - 1], rng.random())];
        let grid = &self.grids[pick(&self.grid_weights, rng.random())];
        let mut sim = Sim::report(self, rng, at, source, class, grid);
        let _ = sim.run();
        (sim.case, sim.timeline)
    }

    fn user(&self, name: &str) -> (Option<i64>, String) {
        (self.users.get(name).copied(), name.to_string())
    }
}

/// The case being simulated.
struct Sim<'a> {
    g: &'a CaseGenerator,
    rng: ChaCha8Rng,
    case: Case,
    timeline: Vec<TimelineEntry>,
    class: &'a CaseClass,
    grid: &'a SmallGrid,
    /// The grid worker who reported it, if one did (verifies it too).
    reporter: Option<String>,
}

/// `None`: the simulation stops here (the next step is after `end`, or never comes).
type Step = Option<()>;

impl<'a> Sim<'a> {
    /// The report (上报), as intake stores it.
    fn report(
        g: &'a CaseGenerator,
        mut rng: ChaCha8Rng,
        at: DateTime<Utc>,
        source: Source,
        class: &'a CaseClass,
        grid: &'a SmallGrid,
    ) -> Sim<'a> {
        let (lon, lat) = point_in(&mut rng, grid);
        let place = *PLACES.choose(&mut rng).expect("non-empty");
        let n = rng.random_range(2..6).to_string();
        let text = match templates(class.code.as_str()).choose(&mut rng) {
            Some(t) => t.replace("{p}", place).replace("{n}", &n),
            None => format!("{place}发现{}问题，请及时处置", class.name),
        };
        let phone = |rng: &mut ChaCha8Rng| {
            let prefix = ["35", "38", "39", "58", "86", "87"].choose(rng).expect("non-empty");
            format!("1{prefix}{:08}", rng.random_range(0..100_000_000u32))
        };
        let photo = |rng: &mut ChaCha8Rng| format!("demophoto{:02}", rng.random_range(1..=BEFORE));
        let (actor, reporter, description, contact, photos) = match source {
            Source::GridWorker => {
                // The full-time worker most often.
                let w = if rng.random_bool(0.75) {
                    &grid.workers[0]
                } else {
                    grid.workers.choose(&mut rng).expect("workers")
                };
                let k = rng.random_range(1..=2);
                (g.user(w), Some(w.clone()), text, None, (0..k).map(|_| photo(&mut rng)).collect())
            }
            Source::Hotline => {
                let op = operator(g, at);
                (op, None, format!("市民来电反映：{text}"), Some(phone(&mut rng)), vec![])
            }
            Source::Superior => (operator(g, at), None, format!("上级交办：{text}"), None, vec![]),
            _ => {
                let contact = rng.random_bool(0.6).then(|| phone(&mut rng));
                let photos = if rng.random_bool(0.5) { vec![photo(&mut rng)] } else { vec![] };
                ((None, "anonymous".to_string()), None, text, contact, photos)
            }
        };
        let mut clock = CaseClock::default();
        apply_clock(&mut clock, &workflow::report_clock(), class, &g.calendar, at);
        let case = Case {
            id: 0,
            version: 1,
            status: CaseStatus::reported(0),
            kind: class.kind,
            class_code: class.code.clone(),
            urgency: class.urgency,
            source,
            description: description.clone(),
            address: grid.address.clone(),
            lon,
            lat,
            grid: Some(grid.code.clone()),
            division: grid.village.clone(),
            reporter_id: actor.0,
            contact,
            external_id: None,
            // A citizen's report gets its tracking code, drawn from its own generator (seeded by
            // the report's time and place) so the district's other draws stay as they were.
            tracking_code: source.is_public().then(|| {
                let mut own = ChaCha8Rng::seed_from_u64(at.timestamp_micros() as u64 ^ lon.to_bits() ^ lat.to_bits());
                zhili_case::model::TrackingCode::from_random(own.random())
            }),
            photos: photos.clone(),
            clock,
            handled_on_time: None,
            score: None,
            reported_at: at,
            filed_at: None,
            dispatched_at: None,
            closed_at: None,
            updated_at: at,
        };
        let entry = TimelineEntry {
            seq: 1,
            at,
            actor_id: actor.0,
            actor: actor.1,
            command: "report".into(),
            from_state: None,
            to_state: CaseState::Reported,
            data: serde_json::json!({"command": "report", "source": source.as_str(), "description": description, "photos": photos}),
        };
        Sim { g, rng, case, timeline: vec![entry], class, grid, reporter }
    }

    fn now(&self) -> DateTime<Utc> {
        self.case.updated_at
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.rng.random::<f64>()
    }

    /// Apply `command` as `user` (in `role`) at `at` through the state machine and the clock.
    fn act(&mut self, at: DateTime<Utc>, role: Role, user: &str, command: Command) -> Step {
        let at = at.max(self.now() + Duration::seconds(30));
        if at > self.g.end {
            return None;
        }
        let outcome = workflow::apply(&self.case.status, role, &command)
            .unwrap_or_else(|e| panic!("the demo follows the loop: {e} ({:?})", command.kind()));
        if let Command::File { class_code: Some(c), .. } = &command {
            self.class = self.g.catalogue.get(c).expect("a catalogue class");
        }
        let (id, name) = if user == "anonymous" { (None, user.to_string()) } else { self.g.user(user) };
        let seq = self.timeline.len() as i64 + 1;
        let (next, entry) = advance(&self.case, &outcome, self.class, &self.g.calendar, at, (id, &name), seq);
        self.case = next;
        self.timeline.push(entry);
        Some(())
    }

    /// The first working instant at or after `t` (working time of the calendar).
    fn working(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        (self.g.calendar.add(t, WorkDuration::WorkingMinutes(1)) - Duration::minutes(1)).max(t)
    }

    /// `t` plus working minutes.
    fn plus_working(&self, t: DateTime<Utc>, m: f64) -> DateTime<Utc> {
        self.g.calendar.add(t, WorkDuration::WorkingMinutes(m.round().max(1.0) as u32))
    }

    /// Whether the class's handling limit runs in natural time (urgent classes).
    fn natural(&self) -> bool {
        matches!(self.class.limits.handle, WorkDuration::Minutes(_))
    }

    /// The handling limit in (working or natural) minutes.
    fn limit_minutes(&self) -> f64 {
        match self.class.limits.handle {
            WorkDuration::Minutes(m) | WorkDuration::WorkingMinutes(m) => f64::from(m),
            WorkDuration::WorkingDays(d) => f64::from(d * self.g.calendar.day_minutes()),
        }
    }

    /// An instant a share `f` of the way from `from` to the running deadline (in working time
    /// unless the limit is natural time); `from` if the deadline has passed.
    fn before_deadline(&self, from: DateTime<Utc>, f: f64) -> DateTime<Utc> {
        let Some(d) = self.case.clock.deadline.filter(|d| *d > from) else { return from };
        if self.natural() {
            from + Duration::seconds(((d - from).num_seconds() as f64 * f) as i64)
        } else {
            let w = self.g.calendar.working_minutes_between(from, d) as f64;
            if w < 2.0 {
                from
            } else {
                self.plus_working(from, w * f)
            }
        }
    }

    /// An instant after the running deadline by a typical overrun.
    fn after_deadline(&mut self, from: DateTime<Utc>) -> DateTime<Utc> {
        let d = self.case.clock.deadline.unwrap_or(from).max(from);
        let mean = 0.6 * self.limit_minutes();
        let over = exponential(&mut self.rng, mean) + 10.0;
        if self.natural() {
            d + minutes(over)
        } else {
            self.plus_working(d, over.min(20.0 * 450.0))
        }
    }

    /// When the command centre acts on something that reached it at `t`: it is staffed from 07:00
    /// to 23:00 (urgent classes round the clock), so the night's reports wait for the morning.
    fn centre(&mut self, t: DateTime<Utc>) -> DateTime<Utc> {
        let local = t.with_timezone(&self.g.calendar.offset());
        if self.case.urgency == Urgency::Urgent || (7..23).contains(&local.hour()) {
            return t;
        }
        let day = if local.hour() < 7 { local.date_naive() } else { local.date_naive() + Duration::days(1) };
        let seven = day.and_hms_opt(7, 0, 0).expect("valid time");
        let morning = self.g.calendar.offset().from_local_datetime(&seven).single().expect("fixed offset");
        morning.with_timezone(&Utc) + minutes(self.uniform(1.0, 50.0))
    }

    fn operator(&self, at: DateTime<Utc>) -> String {
        operator(self.g, at).1
    }

    /// The department the catalogue names for this case (属地: the township government).
    fn department(&self) -> String {
        match &self.class.department {
            DepartmentRule::Department(d) => d.clone(),
            DepartmentRule::Territorial => format!("t{}", &self.case.division.as_str()[6..9]),
        }
    }

    /// A grid worker of the case's grid: the reporter when a grid worker reported it.
    fn verifier(&mut self) -> String {
        match &self.reporter {
            Some(r) => r.clone(),
            None => self.grid.workers.choose(&mut self.rng).expect("workers").clone(),
        }
    }

    /// The whole life of the case, up to `end`.
    fn run(&mut self) -> Step {
        let u: f64 = self.rng.random();
        let urgent = self.case.urgency == Urgency::Urgent;
        // Filing (立案) within minutes (urgent: within 10), a few late.
        let delay = if self.chance(0.05) {
            self.uniform(20.0, 120.0)
        } else if urgent {
            self.uniform(1.0, 9.0)
        } else {
            self.uniform(2.0, 25.0)
        };
        let at = self.centre(self.now() + minutes(delay));
        let op = self.operator(at);
        if u < VOID_AT_REPORT {
            let reason = VOID_REASONS.choose(&mut self.rng).expect("non-empty").to_string();
            return self.act(at, Role::Operator, &op, Command::Void { reason, duplicate_of: None });
        }
        let class_code = if self.chance(RECLASSIFIED) {
            let same: Vec<&CaseClass> = self
                .g
                .catalogue
                .minors(self.class.major_code.as_str())
                .filter(|c| c.code != self.class.code && c.active)
                .collect();
            same.choose(&mut self.rng).map(|c| c.code.to_string())
        } else {
            None
        };
        let note = if class_code.is_some() {
            "上报分类有误，已更正小类"
        } else {
            "经核实属实，予以立案"
        };
        self.act(at, Role::Operator, &op, Command::File { class_code, note: note.into() })?;
        if u < VOID_AT_REPORT + VOID_AFTER_FILING {
            let wait = self.uniform(3.0, 40.0);
            let at = self.centre(self.now() + minutes(wait));
            return self.act(
                at,
                Role::Operator,
                &op,
                Command::Void { reason: VOID_REASONS[0].into(), duplicate_of: None },
            );
        }
        let path = (u - VOID_AT_REPORT - VOID_AFTER_FILING) / (1.0 - VOID_AT_REPORT - VOID_AFTER_FILING);
        let stuck = if hard(self.class.code.as_str()) { 0.25 } else { STUCK };
        let fate = if path < SHELVED {
            Fate::Shelve
        } else if path < SHELVED + DEFERRED {
            Fate::Defer
        } else if path < SHELVED + DEFERRED + stuck {
            Fate::Stuck
        } else if path < SHELVED + DEFERRED + stuck + LONG_DELAY {
            Fate::Long
        } else {
            Fate::Normal
        };
        let returned = self.chance(RETURNED);
        self.handle(fate, returned, false)?;
        self.after_close()
    }

    /// Dispatch, handling, report back, verification and closing (one round of the loop).
    fn handle(&mut self, fate: Fate, returned: bool, again: bool) -> Step {
        let right = self.department();
        let urgent_dispatch = self.case.urgency == Urgency::Urgent;
        let mut delay = if urgent_dispatch { self.uniform(1.0, 8.0) } else { self.uniform(2.0, 20.0) };
        if self.chance(0.03) {
            delay += self.uniform(20.0, 120.0);
        }
        let at = self.centre(self.now() + minutes(delay));
        let op = self.operator(at);
        if returned {
            // To the wrong department first, which returns it (回退); then to the right one.
            let wrong = loop {
                let d = self.g.departments.choose(&mut self.rng).expect("departments").clone();
                if d != right {
                    break d;
                }
            };
            self.act(at, Role::Operator, &op, Command::Dispatch { department: wrong.clone(), note: String::new() })?;
            let (wait, work) = (self.uniform(10.0, 60.0), self.uniform(10.0, 180.0));
            let back = self.plus_working(self.working(self.now() + minutes(wait)), work);
            let reason = format!("不属于本单位职责，请改派{right}");
            self.act(back, Role::DepartmentStaff, &format!("{wrong}01"), Command::Return { reason })?;
            let wait = self.uniform(3.0, 40.0);
            let at = self.centre(self.now() + minutes(wait));
            let op = self.operator(at);
            self.act(at, Role::Operator, &op, Command::Dispatch { department: right.clone(), note: String::new() })?;
        } else {
            let note = if urgent_dispatch { "紧急，请立即处置" } else { "" };
            self.act(at, Role::Operator, &op, Command::Dispatch { department: right.clone(), note: note.into() })?;
        }
        let staff = format!("{right}01");
        let dispatched = self.now();
        if fate == Fate::Stuck && self.chance(0.2) {
            return None; // never accepted
        }
        // Acceptance (签收): at once for urgent classes, else in the department's working hours.
        let accept = if self.natural() {
            dispatched + minutes(self.uniform(3.0, 25.0))
        } else {
            let (wait, more) = (self.uniform(2.0, 20.0), self.uniform(0.0, 45.0));
            self.working(dispatched + minutes(wait)) + minutes(more)
        };
        self.act(accept, Role::DepartmentStaff, &staff, Command::Accept { note: String::new() })?;
        let mut late = self.chance(late_rate(&right) + if self.natural() { 0.06 } else { 0.0 });
        if again {
            late = self.chance(0.1);
        }
        if self.chance(EXTENSION) {
            late = self.extension(&staff)? || self.chance(0.1);
        }
        match fate {
            Fate::Stuck => return None,
            Fate::Shelve => {
                let at = self.now() + Duration::hours(self.rng.random_range(24..240));
                let reason = SHELVE_REASONS.choose(&mut self.rng).expect("non-empty").to_string();
                self.act(at, Role::Leader, "leader", Command::Shelve { reason })?;
                if !self.chance(UNSHELVED) {
                    return None;
                }
                let days = self.rng.random_range(10..90);
                let at = self.working(self.now() + Duration::days(days));
                self.act(at, Role::Leader, "leader", Command::Unshelve { note: "改造资金已落实，重新派遣".into() })?;
                return self.handle(Fate::Normal, false, true);
            }
            Fate::Defer => {
                let at = self.now() + Duration::hours(self.rng.random_range(2..72));
                let reason = DEFER_REASONS.choose(&mut self.rng).expect("non-empty").to_string();
                self.act(at, Role::Leader, "leader", Command::Defer { reason })?;
                if !self.chance(RESUMED) {
                    return None;
                }
                let days = self.rng.random_range(1..21);
                let at = self.working(self.now() + Duration::days(days));
                self.act(at, Role::Leader, "leader", Command::Resume { note: "条件已具备，恢复办理".into() })?;
            }
            _ => {}
        }
        // Report back (反馈), on time or late; then verification (核查), maybe rework (返工).
        let mut rework = self.chance(REWORK);
        let mut round = 0;
        loop {
            let from = self.now();
            let at = if fate == Fate::Long && round == 0 {
                let d = self.case.clock.deadline.unwrap_or(from).max(from);
                let days = self.rng.random_range(3..60);
                self.working(d + Duration::days(days))
            } else if late {
                self.after_deadline(from)
            } else {
                let f = self.uniform(0.1, 0.95);
                self.before_deadline(from, f)
            };
            let note = format!("已处置：{}", self.class.closing_condition);
            let photos = (0..self.rng.random_range(1..=2)).map(|_| self.after_photo()).collect();
            self.act(at, Role::DepartmentStaff, &staff, Command::Respond { note, photos })?;
            if self.chance(NEVER_VERIFIED) {
                return None;
            }
            let verifier = self.verifier();
            let at = self.verify_time();
            if rework {
                let note = REWORK_NOTES.choose(&mut self.rng).expect("non-empty").to_string();
                self.act(at, Role::GridWorker, &verifier, Command::Verify { passed: false, note, photos: vec![] })?;
                rework = round == 0 && self.chance(REWORK_AGAIN);
                late = self.chance(0.15);
                round += 1;
                continue;
            }
            let photos = if self.chance(0.3) { vec![self.after_photo()] } else { vec![] };
            self.act(
                at,
                Role::GridWorker,
                &verifier,
                Command::Verify { passed: true, note: "现场核查合格".into(), photos },
            )?;
            break;
        }
        // Closing (结案) by the command centre.
        let delay = if self.chance(0.05) { self.uniform(60.0, 720.0) } else { self.uniform(3.0, 60.0) };
        let at = self.centre(self.now() + minutes(delay));
        let op = self.operator(at);
        self.act(at, Role::Operator, &op, Command::Close { note: String::new() })
    }

    /// An extension request and its decision; whether the department will still be late.
    fn extension(&mut self, staff: &str) -> Option<bool> {
        let f = self.uniform(0.3, 0.8);
        let at = self.before_deadline(self.now(), f) + minutes(self.uniform(1.0, 20.0));
        let extra = if self.natural() {
            self.rng.random_range(60..=240)
        } else {
            self.g.calendar.day_minutes() * self.rng.random_range(1..=3)
        };
        let reason = "需协调相关单位配合，申请延期".to_string();
        self.act(at, Role::DepartmentStaff, staff, Command::RequestExtension { extra_minutes: extra, reason })?;
        let at = self.now() + minutes(self.uniform(10.0, 120.0));
        let approve = self.chance(EXTENSION_APPROVED);
        let note = if approve { "同意延期" } else { "理由不充分，请按原时限办结" };
        self.act(at, Role::Leader, "leader", Command::DecideExtension { approve, note: note.into() })?;
        Some(!approve && self.chance(0.5))
    }

    fn verify_time(&mut self) -> DateTime<Utc> {
        let from = self.now();
        if self.natural() {
            let m = if self.chance(0.1) { self.uniform(60.0, 180.0) } else { self.uniform(10.0, 50.0) };
            from + minutes(m)
        } else {
            let m = if self.chance(0.08) { self.uniform(60.0, 360.0) } else { self.uniform(5.0, 55.0) };
            self.plus_working(self.working(from), m)
        }
    }

    fn after_photo(&mut self) -> String {
        format!("demophoto{:02}", BEFORE + self.rng.random_range(1..=AFTER))
    }

    /// Evaluation (评价) and the odd reopening (重新打开) after closing.
    fn after_close(&mut self) -> Step {
        let evaluate = match self.case.source {
            Source::Public => 0.5,
            Source::Hotline => 0.6,
            _ => 0.05,
        };
        let mut score = 5;
        if self.chance(evaluate) {
            let s = self.uniform(0.0, 1.0);
            score = if s < 0.7 {
                5
            } else if s < 0.9 {
                4
            } else if s < 0.96 {
                3
            } else if s < 0.99 {
                2
            } else {
                1
            };
            let at = self.now() + Duration::hours(self.rng.random_range(2..72));
            let (role, user) = match self.case.source {
                Source::Public => (Role::Public, "anonymous".to_string()),
                _ => (Role::Operator, self.operator(at)),
            };
            let note = if score >= 4 { "处理及时，满意" } else { "处理较慢" };
            self.act(at, role, &user, Command::Evaluate { score: Some(score), note: note.into() })?;
        }
        if self.chance(if score <= 2 { 0.3 } else { REOPENED }) {
            let at = self.now() + Duration::hours(self.rng.random_range(24..120));
            let op = self.operator(at);
            let reason = REOPEN_REASONS.choose(&mut self.rng).expect("non-empty").to_string();
            self.act(at, Role::Operator, &op, Command::Reopen { reason })?;
            self.handle(Fate::Normal, false, true)?;
        }
        Some(())
    }
}

/// What happens to a case in the department.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Normal,
    /// Reported back weeks late.
    Long,
    /// Never finished.
    Stuck,
    Shelve,
    Defer,
}

/// The operator on shift at `at`: two shifts from 07:00 to 23:00, one on call at night.
fn operator(g: &CaseGenerator, at: DateTime<Utc>) -> (Option<i64>, String) {
    let hour = at.with_timezone(&g.calendar.offset()).hour();
    g.user(match hour {
        7..=14 => "operator1",
        15..=22 => "operator2",
        _ => "operator3",
    })
}

/// A random point inside the grid, to the 6th decimal (≈ 0.1 m).
fn point_in(rng: &mut ChaCha8Rng, grid: &SmallGrid) -> (f64, f64) {
    let [x0, y0, x1, y1] = grid.bbox;
    let round = |v: f64| (v * 1e6).round() / 1e6;
    for _ in 0..1000 {
        let (x, y) = (round(rng.random_range(x0..x1)), round(rng.random_range(y0..y1)));
        if grid.area.contains(&Point::new(x, y)) {
            return (x, y);
        }
    }
    let c = grid.area.0[0].exterior().0[0];
    (c.x, c.y)
}

// ---------------------------------------------------------------------------------------------
// Figures

/// The evaluation figures of these cases at `due_at`, by the definitions of
/// [`zhili_case::metrics`] (as the stores compute them).
pub fn tally<'c>(cases: impl IntoIterator<Item = &'c Case>, due_at: DateTime<Utc>) -> Tally {
    let mut t = Tally::default();
    for c in cases {
        let n = &c.status.counters;
        let closed = matches!(c.status.state, CaseState::Closed | CaseState::Evaluated);
        t.reported += 1;
        t.filed += i64::from(c.filed_at.is_some());
        t.dispatched += i64::from(c.dispatched_at.is_some());
        t.due += i64::from(
            c.dispatched_at.is_some()
                && (c.closed_at.is_some() || c.clock.handle_deadline.is_some_and(|d| d <= due_at)),
        );
        t.closed += i64::from(closed);
        t.closed_on_time += i64::from(closed && c.handled_on_time == Some(true));
        t.reworked += i64::from(n.reworks > 0);
        t.extended += i64::from(n.extensions > 0);
        t.deferred += i64::from(n.deferrals > 0);
        t.dispatched_right += i64::from(c.dispatched_at.is_some() && n.returns == 0);
        if let (true, Some(d), Some(x)) = (closed, c.dispatched_at, c.closed_at) {
            t.handling_seconds += (x - d).num_microseconds().unwrap_or(0) as f64 / 1e6;
        }
    }
    t
}

// ---------------------------------------------------------------------------------------------
// Photos

/// Photos of problems (`demophoto01`…) referenced by reports.
const BEFORE: u32 = 4;
/// Photos of results (after the "before" ones) referenced by reports back and checks.
const AFTER: u32 = 4;

/// The photos the demo cases refer to: small generated PNGs (a street with litter, then clean),
/// ids `demophoto01`…`demophoto08`. Store them before the cases.
pub fn demo_photos() -> Vec<(Attachment, Vec<u8>)> {
    let created_at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("valid");
    (1..=BEFORE + AFTER)
        .map(|k| {
            let bytes = street_png(k, k <= BEFORE);
            let meta = Attachment {
                id: format!("demophoto{k:02}"),
                content_type: "image/png".into(),
                size: bytes.len() as i64,
                sha256: Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect(),
                uploaded_by: None,
                created_at,
            };
            (meta, bytes)
        })
        .collect()
}

/// A 160×120 picture: grey pavement with a kerb and lane marks; with litter when `dirty`.
fn street_png(k: u32, dirty: bool) -> Vec<u8> {
    const W: usize = 160;
    const H: usize = 120;
    let mut rng = ChaCha8Rng::seed_from_u64(u64::from(k));
    let blobs: Vec<(f64, f64, f64, [u8; 3])> = if dirty {
        (0..rng.random_range(6..14))
            .map(|_| {
                let colour = *[[120, 84, 50], [40, 120, 60], [200, 200, 190], [30, 30, 35], [170, 40, 40]]
                    .choose(&mut rng)
                    .expect("non-empty");
                (rng.random_range(20.0..140.0), rng.random_range(60.0..110.0), rng.random_range(3.0..11.0), colour)
            })
            .collect()
    } else {
        vec![]
    };
    let mut raw = Vec::with_capacity(H * (1 + 3 * W));
    for y in 0..H {
        raw.push(0); // filter: none
        for x in 0..W {
            let noise = ((x * 7 + y * 13 + (x * y) % 17) % 11) as u8;
            let mut px = if y < 40 {
                [150 + noise, 190 + noise, 225] // sky
            } else if y < 48 {
                [90 + noise, 90 + noise, 95 + noise] // kerb
            } else {
                [120 + noise, 120 + noise, 118 + noise] // pavement
            };
            if y > 100 && y < 104 && (x / 16) % 2 == 0 {
                px = [235, 235, 235]; // lane mark
            }
            for &(bx, by, r, c) in &blobs {
                let (dx, dy) = (x as f64 - bx, y as f64 - by);
                if dx * dx + dy * dy * 2.0 < r * r {
                    px = c;
                }
            }
            raw.extend_from_slice(&px);
        }
    }
    png(W as u32, H as u32, &raw)
}

/// Encode filtered RGB rows as a PNG with stored (uncompressed) deflate blocks.
fn png(width: u32, height: u32, raw: &[u8]) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = b.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(b);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in raw {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids for every demo user, as a store would number them.
    fn ids(d: &District) -> UserIds {
        d.batch.users.iter().enumerate().map(|(i, (u, _))| (u.username.clone(), i as i64 + 2)).collect()
    }

    fn end() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap()
    }

    /// The role a timeline's actor acts in, from the demo's usernames.
    fn role(actor: &str) -> Role {
        match actor {
            "anonymous" => Role::Public,
            "leader" => Role::Leader,
            a if a.starts_with("operator") => Role::Operator,
            a if a.starts_with("gw") => Role::GridWorker,
            _ => Role::DepartmentStaff,
        }
    }

    #[test]
    fn photos_are_pngs_with_their_hashes() {
        let photos = demo_photos();
        assert_eq!(photos.len(), 8);
        for (meta, bytes) in &photos {
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() as i64 == meta.size);
            assert!(meta.id.chars().all(|c| c.is_ascii_alphanumeric()));
            assert_eq!(meta.sha256.len(), 64);
        }
        assert_eq!(crc32(b"IEND"), 0xAE42_6082, "the CRC of PNG's IEND chunk");
        assert_ne!(photos[0].1, photos[1].1);
    }

    #[test]
    fn deterministic_counted_realistic_and_true_to_the_loop() {
        let district = crate::district("h");
        let users = ids(&district);
        let n = 20_000;
        let started = std::time::Instant::now();
        let all: Vec<History> = year_of_cases(&district, users.clone(), end(), n, 7).collect();
        eprintln!("{n} cases in {:?}", started.elapsed());
        assert_eq!(all.len(), n);
        // Deterministic, case by case and in any order.
        let g = CaseGenerator::new(&district, users.clone(), end(), n, 1, 7);
        assert_eq!(g.case(12_345), all[12_345]);
        assert_eq!(g.chunk(100..103), all[100..103].to_vec());
        let other = CaseGenerator::new(&district, users, end(), n, 1, 8);
        assert_ne!(other.case(0), all[0]);

        // Spread over the year before `end`, in report order.
        let start = end() - Duration::days(365);
        assert!(all.iter().all(|(c, _)| c.reported_at >= start && c.reported_at < end()));
        assert!(all.windows(2).all(|w| w[0].0.reported_at <= w[1].0.reported_at));
        let cases: Vec<&Case> = all.iter().map(|(c, _)| c).collect();
        let share = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count() as f64 / n as f64;
        let offset = WorkCalendar::china().offset();
        let local = |c: &Case| c.reported_at.with_timezone(&offset);
        let night = share(&|c| local(c).hour() < 6);
        assert!(night < 0.03, "few reports at night: {night}");
        let weekend = share(&|c| local(c).weekday().number_from_monday() >= 6);
        assert!((0.12..0.24).contains(&weekend), "fewer at weekends: {weekend}");
        let july = share(&|c| local(c).month() == 7);
        let january = share(&|c| local(c).month() == 1);
        assert!(july > january * 1.2, "summer is busier: {july} vs {january}");
        // The class mix: the common classes lead; illegal building is rare; snow only in winter.
        let class = |code: &str| share(&|c| c.class_code.as_str() == code);
        assert!(class("SJ0102") > 0.07, "暴露垃圾 {}", class("SJ0102"));
        for code in ["SJ0104", "SJ0508", "SJ0507", "SJ0201", "SJ0505", "BJ0118"] {
            assert!(class(code) > 0.02, "{code} is common: {}", class(code));
        }
        assert!(class("SJ0101") < 0.006, "违法建设 is rare");
        let snow: Vec<u32> =
            cases.iter().filter(|c| c.class_code.as_str() == "SJ0407").map(|c| local(c).month()).collect();
        let winter = snow.iter().filter(|m| matches!(m, 12 | 1 | 2)).count();
        assert!(!snow.is_empty() && winter * 10 > snow.len() * 9, "积雪 in winter: {snow:?}");
        let catalogue = Catalogue::national();
        let covers = share(&|c| catalogue.get(c.class_code.as_str()).unwrap().name.contains("井盖"));
        assert!(covers > 0.03, "井盖 {covers}");
        // Channels: mostly grid workers of the grid.
        let gw = share(&|c| c.source == Source::GridWorker);
        assert!((0.68..0.76).contains(&gw), "grid workers {gw}");
        for (c, tl) in &all {
            if c.source == Source::GridWorker {
                let g = c.grid.as_deref().unwrap();
                assert!(tl[0].actor.starts_with(&format!("gw{g}")), "{} reports in {g}", tl[0].actor);
                assert_eq!(c.reporter_id, tl[0].actor_id);
            }
            assert_eq!(c.division.as_str(), &c.grid.as_deref().unwrap()[..12]);
        }

        // The figures, by the national definitions, are those of a real city.
        let t = tally(cases.iter().copied(), end());
        let r = t.rates();
        let closure = r.closure_rate.unwrap();
        let on_time = r.on_time_rate.unwrap();
        eprintln!("{t:?}\n{r:?}");
        assert!((0.91..0.96).contains(&closure), "结案率 {closure}");
        assert!((0.75..0.81).contains(&on_time), "按期结案率 {on_time}");
        let closed_on_time = t.closed_on_time as f64 / t.closed as f64;
        assert!((0.75..0.88).contains(&closed_on_time), "on time among closed {closed_on_time}");
        let rework = r.rework_rate.unwrap();
        assert!((0.015..0.04).contains(&rework), "返工率 {rework}");
        let twice = share(&|c| c.status.counters.reworks >= 2);
        assert!(twice > 0.0005, "some reworked twice: {twice}");
        let extension = r.extension_rate.unwrap();
        assert!((0.01..0.03).contains(&extension), "延期率 {extension}");
        let with = |command: &str, data: &dyn Fn(&serde_json::Value) -> bool| {
            all.iter().filter(|(_, tl)| tl.iter().any(|e| e.command == command && data(&e.data))).count()
        };
        assert!(with("decide_extension", &|d| d["approve"] == false) > 0, "some extensions are rejected");
        assert!(with("return", &|_| true) as f64 / n as f64 > 0.02, "回退 then re-dispatched");
        assert!(with("file", &|d| d["class_code"].is_string()) > 0, "some classes corrected at filing");
        let accurate = r.accurate_dispatch_rate.unwrap();
        assert!((0.95..0.985).contains(&accurate), "准确派遣率 {accurate}");
        let state = |s: CaseState| share(&|c| c.status.state == s);
        assert!((0.015..0.03).contains(&state(CaseState::Voided)), "作废 {}", state(CaseState::Voided));
        assert!((0.002..0.008).contains(&state(CaseState::Shelved)), "挂账 {}", state(CaseState::Shelved));
        let deferred = share(&|c| c.status.counters.deferrals > 0);
        assert!((0.002..0.008).contains(&deferred), "缓办 {deferred}");
        assert!(share(&|c| c.status.counters.reopens > 0) > 0.001, "some reopened");
        // The last two weeks: open cases in every working state, some overdue, some fresh.
        let recent: Vec<&Case> = cases.iter().copied().filter(|c| c.reported_at > end() - Duration::days(14)).collect();
        for s in
            [CaseState::Reported, CaseState::Filed, CaseState::Dispatched, CaseState::Handling, CaseState::Responded]
        {
            assert!(recent.iter().any(|c| c.status.state == s), "a recent case is {s:?}");
        }
        assert!(recent.iter().filter(|c| c.overdue(end())).count() > 20, "overdue items");
        assert!(recent.iter().filter(|c| c.status.state.is_open() && !c.overdue(end())).count() > 20, "fresh items");

        // Every case is exactly what replaying its timeline through the loop gives.
        let calendar = WorkCalendar::china();
        for (c, tl) in &all {
            assert_eq!(tl[0].command, "report");
            assert_eq!(tl.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=tl.len() as i64).collect::<Vec<_>>());
            assert!(tl.windows(2).all(|w| w[0].at <= w[1].at), "time runs forward");
            assert!(tl.last().unwrap().at <= end());
            // The class it was reported in: before any correction at filing.
            let corrected = tl.iter().any(|e| e.command == "file" && e.data["class_code"].is_string());
            let mut clock = CaseClock::default();
            let mut class = catalogue.get(c.class_code.as_str()).unwrap();
            let reported_class = if corrected {
                None
            } else {
                apply_clock(&mut clock, &workflow::report_clock(), class, &calendar, c.reported_at);
                Some(c.class_code.clone())
            };
            let mut replay = Case {
                version: 1,
                status: CaseStatus::reported(0),
                clock,
                handled_on_time: None,
                score: None,
                filed_at: None,
                dispatched_at: None,
                closed_at: None,
                updated_at: c.reported_at,
                ..c.clone()
            };
            for e in &tl[1..] {
                let command: Command = serde_json::from_value(e.data.clone()).unwrap();
                if let Command::File { class_code: Some(code), .. } = &command {
                    class = catalogue.get(code).unwrap();
                }
                let outcome = workflow::apply(&replay.status, role(&e.actor), &command).unwrap();
                assert_eq!((Some(outcome.record.from), outcome.record.to), (e.from_state, e.to_state));
                let (next, entry) = advance(&replay, &outcome, class, &calendar, e.at, (e.actor_id, &e.actor), e.seq);
                assert_eq!(&entry, e);
                if command.kind().requires_assigned_department() {
                    assert_eq!(e.actor.strip_suffix("01"), replay.status.department.as_deref());
                }
                replay = next;
            }
            if reported_class.is_some() {
                assert_eq!(&replay, c, "the case is its replayed timeline");
            } else {
                assert_eq!(replay.status, c.status);
            }
            // Consistent milestones.
            let closed = matches!(c.status.state, CaseState::Closed | CaseState::Evaluated);
            assert_eq!(closed, c.closed_at.is_some());
            assert!(!closed || c.handled_on_time.is_some(), "a closed case was reported back");
            assert_eq!(c.dispatched_at.is_some(), c.status.counters.dispatches > 0);
            assert_eq!(c.version, tl.len() as i64);
            assert_eq!(c.updated_at, tl.last().unwrap().at);
        }
    }
}

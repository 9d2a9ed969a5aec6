//! The demo district (演示数据): a deterministic synthetic county-level district modelled on
//! 博山区 (code 370304) from the source document — 10 townships, 214 villages and
//! communities with boundaries that tile the district without gaps or overlaps, the
//! departments of a district government, and users of every role.
//!
//! Same seed, same district, on every machine. Later modules add their own data through
//! this crate.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zhili_core::codes::DivisionCode;
use zhili_core::model::{Division, NewDepartment, NewUser};
use zhili_core::policy::Role;
use zhili_core::store::CoreBatch;
use zhili_grid::{Grid, GridCode, GridCodeScheme, GridDuty};

pub mod case;
pub mod flood;
pub mod grid;
use grid::Cell;

/// The district's code (博山区).
pub const COUNTY: &str = "370304";
/// The district's name.
pub const COUNTY_NAME: &str = "博山区";
/// Villages and communities at risk in the source (214).
pub const VILLAGES: usize = 214;
/// The seed every demo uses.
pub const SEED: u64 = 370_304;

/// Townships: (number, name, villages or communities inside).
const TOWNSHIPS: [(u32, &str, usize); 10] = [
    (1, "城西街道", 12),
    (2, "城东街道", 14),
    (3, "山头街道", 16),
    (100, "域城镇", 20),
    (101, "白塔镇", 22),
    (102, "八陡镇", 24),
    (103, "石马镇", 26),
    (104, "源泉镇", 28),
    (105, "池上镇", 26),
    (106, "博山镇", 26),
];

/// Departments of the district: (code, name, command centre).
const DEPARTMENTS: [(&str, &str, bool); 11] = [
    ("zhzx", "区社会治理综合指挥中心", true),
    ("cgj", "区综合行政执法局（城管）", false),
    ("slj", "区水利局", false),
    ("mzj", "区民政局", false),
    ("wjj", "区卫生健康局", false),
    ("zrzyj", "市自然资源和规划局博山分局", false),
    ("yjj", "区应急管理局", false),
    ("zjj", "区住房和城乡建设局", false),
    ("gaj", "市公安局博山分局", false),
    ("hbj", "市生态环境局博山分局", false),
    ("jtj", "区交通运输局", false),
];

const NAME_HEADS: [&str; 40] = [
    "东", "西", "南", "北", "上", "下", "前", "后", "大", "小", "石", "山", "河", "泉", "峪", "岭", "庄", "林", "柳",
    "杨", "李", "王", "张", "赵", "孙", "青", "龙", "凤", "白", "黑", "红", "金", "银", "马", "牛", "羊", "桃", "杏",
    "梨", "枣",
];
const NAME_TAILS: [&str; 24] = [
    "家", "峪", "庄", "坡", "沟", "崖", "台", "泉", "河", "岭", "湾", "店", "园", "门", "坪", "营", "窑", "寨", "谷",
    "林", "头", "口", "桥", "洼",
];

/// Large grids (大网格) in the demo, as in Shanwei.
pub const LARGE_GRIDS: usize = 56;
/// Medium grids (中网格).
pub const MEDIUM_GRIDS: usize = 864;
/// Small grids (小网格).
pub const SMALL_GRIDS: usize = 4_509;
/// Grid workers (网格员).
pub const GRID_WORKERS: usize = 9_311;

/// One login the demo prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// What the account is for.
    pub note: String,
}

/// The demo district, ready to load.
pub struct District {
    /// Divisions, departments and users (except the administrator).
    pub batch: CoreBatch,
    /// Grids: 56 large, 864 medium, 4,509 small, nested, tiling every village.
    pub grids: Vec<Grid>,
    /// Grid duties by username: every grid worker in a small grid, leaders of the larger ones.
    pub assignments: Vec<(String, GridCode, GridDuty)>,
    /// The logins to print (one per role, the administrator first).
    pub logins: Vec<DemoLogin>,
}

/// The password of every demo account except `admin`.
pub const DEMO_PASSWORD: &str = "zhili-demo";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).expect("demo codes are valid")
}

/// Build the district. `password_hash` is the Argon2id hash every demo user (but the
/// administrator) gets.
pub fn district(password_hash: &str) -> District {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut b = CoreBatch::default();
    let county = code(COUNTY);
    b.divisions.push(Division {
        code: county.clone(),
        name: COUNTY_NAME.into(),
        boundary: Some(Cell::county().geojson()),
    });

    let blocks = Cell::county().split(TOWNSHIPS.len());
    let mut used = std::collections::HashSet::new();
    let mut villages = Vec::new();
    for ((num, name, count), block) in TOWNSHIPS.iter().zip(blocks) {
        let t = county.child(*num).expect("valid township");
        b.divisions.push(Division { code: t.clone(), name: (*name).into(), boundary: Some(block.geojson()) });
        let street = *num < 100;
        for (i, cell) in block.split(*count).into_iter().enumerate() {
            // Communities (居委会) are 001–199 under street offices, villages (村委会) 200–399.
            let v = t.child(if street { 1 + i as u32 } else { 201 + i as u32 }).expect("valid village");
            let vname = loop {
                let n = format!(
                    "{}{}",
                    NAME_HEADS.choose(&mut rng).expect("non-empty"),
                    NAME_TAILS.choose(&mut rng).expect("non-empty")
                );
                if used.insert(n.clone()) {
                    break if street { format!("{n}社区") } else { format!("{n}村") };
                }
            };
            b.divisions.push(Division { code: v.clone(), name: vname.clone(), boundary: Some(cell.geojson()) });
            villages.push((v, vname, cell));
        }
    }

    for (c, name, cc) in DEPARTMENTS {
        b.departments.push(NewDepartment {
            code: c.into(),
            name: name.into(),
            division: county.clone(),
            is_command_centre: cc,
        });
    }
    for (num, name, _) in TOWNSHIPS {
        b.departments.push(NewDepartment {
            code: format!("t{num:03}"),
            name: format!("{name}{}", if num < 100 { "办事处" } else { "人民政府" }),
            division: county.child(num).expect("valid township"),
            is_command_centre: false,
        });
    }

    let mut phone = 13_800_000_000u64;
    let mut user = |username: String, display: String, role: Role, j: DivisionCode, dept: Option<&str>| {
        phone += rng.random_range(1..5_000);
        b.users.push((
            NewUser {
                username,
                display_name: display,
                role,
                jurisdiction: j,
                department_id: None,
                phone: Some(phone.to_string()),
                password_hash: password_hash.into(),
            },
            dept.map(str::to_string),
        ));
    };
    let mut logins =
        vec![DemoLogin {
            username: "admin".into(), role: Role::Admin, note: "系统管理员 system administrator".into()
        }];
    user("leader".into(), "区领导".into(), Role::Leader, county.clone(), None);
    logins.push(DemoLogin { username: "leader".into(), role: Role::Leader, note: "区领导 district leader".into() });
    user("leader_shantou".into(), "山头街道领导".into(), Role::Leader, county.child(3).expect("valid"), Some("t003"));
    for i in 1..=3 {
        user(format!("operator{i}"), format!("指挥中心受理员{i}"), Role::Operator, county.clone(), Some("zhzx"));
    }
    logins.push(DemoLogin {
        username: "operator1".into(),
        role: Role::Operator,
        note: "指挥中心受理/派遣员 command-centre operator".into(),
    });
    for (c, name, cc) in DEPARTMENTS {
        if !cc {
            user(format!("{c}01"), format!("{name}工作人员"), Role::DepartmentStaff, county.clone(), Some(c));
        }
    }
    logins.push(DemoLogin {
        username: "slj01".into(),
        role: Role::DepartmentStaff,
        note: "区水利局工作人员 water-bureau staff".into(),
    });
    let (grids, assignments, workers) = grids_of(&villages);
    for (username, village, k) in &workers {
        user(
            username.clone(),
            format!("网格员{}-{k}", &village.as_str()[6..]),
            Role::GridWorker,
            village.clone(),
            None,
        );
    }
    // Staff of each township government (属地 cases are dispatched there), after the grid
    // workers so that everyone created before keeps their phone number.
    for (num, name, _) in TOWNSHIPS {
        let unit = format!("{name}{}", if num < 100 { "办事处" } else { "人民政府" });
        let j = county.child(num).expect("valid township");
        let dept = format!("t{num:03}");
        user(format!("{dept}01"), format!("{unit}工作人员"), Role::DepartmentStaff, j, Some(&dept));
    }
    logins.push(DemoLogin {
        username: workers[0].0.clone(),
        role: Role::GridWorker,
        note: "网格员（一个小网格） grid worker of one small grid".into(),
    });
    District { batch: b, grids, assignments, logins }
}

/// Grids, duties and workers (username, village, number in grid) for the villages.
#[allow(clippy::type_complexity)]
fn grids_of(
    villages: &[(DivisionCode, String, Cell)],
) -> (Vec<Grid>, Vec<(String, GridCode, GridDuty)>, Vec<(String, DivisionCode, usize)>) {
    let n = villages.len();
    let (mut grids, mut duties, mut workers) = (Vec::new(), Vec::new(), Vec::new());
    let mut mediums_seen = 0;
    let mut smalls_seen = 0;
    for (vi, (v, vname, cell)) in villages.iter().enumerate() {
        let mut serial = 0;
        let mut next_code = || {
            serial += 1;
            GridCode::new(v, serial, GridCodeScheme::CjT213).expect("fewer than 100 grids per village")
        };
        // 864 = 4 per village, plus one more in the first 864 − 4n villages.
        let mediums = MEDIUM_GRIDS / n + usize::from(vi < MEDIUM_GRIDS % n);
        // 56 large grids: two each in the 28 villages where (28·i mod n) < 28.
        let with_large = (vi * (LARGE_GRIDS / 2)) % n < LARGE_GRIDS / 2;
        let parts: Vec<(Option<(GridCode, Cell)>, Vec<Cell>)> = if with_large {
            let [w, e] = cell.halves();
            let (mw, me) = (mediums.div_ceil(2), mediums / 2);
            vec![(Some((next_code(), w)), w.split(mw)), (Some((next_code(), e)), e.split(me))]
        } else {
            vec![(None, cell.split(mediums))]
        };
        let mut mk = 0;
        let mut sk = 0;
        for (li, (large, mcells)) in parts.into_iter().enumerate() {
            let large_code = large.map(|(code, c)| {
                grids.push(Grid {
                    code: code.clone(),
                    name: format!("{vname}大网格{}", li + 1),
                    level: 1,
                    parent: None,
                    boundary: c.area(),
                });
                code
            });
            let mut large_leader_done = false;
            for mc in mcells {
                mk += 1;
                let mcode = next_code();
                grids.push(Grid {
                    code: mcode.clone(),
                    name: format!("{vname}中网格{mk}"),
                    level: 2,
                    parent: large_code.clone(),
                    boundary: mc.area(),
                });
                // 4,509 = 5 per medium grid, plus one more in the first 4,509 − 5·864.
                let smalls = SMALL_GRIDS / MEDIUM_GRIDS + usize::from(mediums_seen < SMALL_GRIDS % MEDIUM_GRIDS);
                mediums_seen += 1;
                for (si, sc) in mc.split(smalls).into_iter().enumerate() {
                    sk += 1;
                    let scode = next_code();
                    grids.push(Grid {
                        code: scode.clone(),
                        name: format!("{vname}网格{sk}"),
                        level: 3,
                        parent: Some(mcode.clone()),
                        boundary: sc.area(),
                    });
                    // 9,311 = 2 per small grid, plus a third in the first 9,311 − 2·4,509.
                    let count = GRID_WORKERS / SMALL_GRIDS + usize::from(smalls_seen < GRID_WORKERS % SMALL_GRIDS);
                    smalls_seen += 1;
                    for k in 1..=count {
                        let username = format!("gw{scode}{k}");
                        let duty = if k == 1 { GridDuty::FullTime } else { GridDuty::PartTime };
                        duties.push((username.clone(), scode.clone(), duty));
                        if k == 1 && si == 0 {
                            duties.push((username.clone(), mcode.clone(), GridDuty::Leader));
                            if let (Some(l), false) = (&large_code, large_leader_done) {
                                duties.push((username.clone(), l.clone(), GridDuty::Leader));
                                large_leader_done = true;
                            }
                        }
                        workers.push((username, v.clone(), k));
                    }
                }
            }
        }
    }
    (grids, duties, workers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_complete() {
        let a = district("h");
        let b = district("h");
        assert_eq!(a.batch.divisions, b.batch.divisions);
        let villages =
            a.batch.divisions.iter().filter(|d| d.code.level() == zhili_core::DivisionLevel::Village).count();
        assert_eq!(villages, VILLAGES);
        assert_eq!(a.batch.divisions.len(), 1 + 10 + VILLAGES);
        let mut names: Vec<_> = a.batch.divisions.iter().map(|d| &d.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), a.batch.divisions.len(), "names are unique");
        for role in [Role::Leader, Role::Operator, Role::DepartmentStaff, Role::GridWorker] {
            assert!(a.batch.users.iter().any(|(u, _)| u.role == role), "{role:?}");
        }
        // Every linked department exists in the batch.
        for (_, d) in &a.batch.users {
            if let Some(d) = d {
                assert!(a.batch.departments.iter().any(|x| &x.code == d), "{d}");
            }
        }
    }

    #[test]
    fn grids_at_shanwei_counts_pass_validation() {
        let d = district("h");
        let count = |l| d.grids.iter().filter(|g| g.level == l).count();
        assert_eq!((count(1), count(2), count(3)), (LARGE_GRIDS, MEDIUM_GRIDS, SMALL_GRIDS));
        let workers = d.batch.users.iter().filter(|(u, _)| u.role == Role::GridWorker).count();
        assert_eq!(workers, GRID_WORKERS);
        assert!(d.grids.iter().all(|g| g.boundary.0[0].exterior().0.len() > 50), "≥ 50 vertices per grid");
        // The import validator accepts the whole demo with no gaps.
        let mut ctx = zhili_grid::validate::Context::default();
        for v in &d.batch.divisions {
            if v.code.level() == zhili_core::DivisionLevel::Village {
                let area = zhili_geo::geometry::parse_area_text(v.boundary.as_deref().unwrap()).unwrap();
                ctx.villages.insert(v.code.clone(), Some(area));
            }
        }
        let features: Vec<serde_json::Value> = d
            .grids
            .iter()
            .map(|g| {
                serde_json::json!({"type": "Feature", "geometry": zhili_geo::geometry::area_to_geojson(&g.boundary),
                    "properties": {"code": g.code, "name": g.name, "level": g.level, "parent": g.parent}})
            })
            .collect();
        let doc = serde_json::json!({"type": "FeatureCollection", "features": features});
        let r = zhili_grid::validate::validate_geojson(&doc, &zhili_grid::validate::Rules::default(), &ctx);
        assert!(r.errors.is_empty(), "{:?}", &r.errors[..r.errors.len().min(5)]);
        assert!(r.warnings.is_empty(), "{:?}", &r.warnings[..r.warnings.len().min(5)]);
        assert_eq!(r.grids.len(), d.grids.len());
    }
}

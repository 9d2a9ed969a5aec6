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

/// West, south, east, north edges of the demo district (WGS-84 degrees).
pub const BBOX: [f64; 4] = [117.75, 36.30, 118.05, 36.55];

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
    /// The logins to print (one per role, the administrator first).
    pub logins: Vec<DemoLogin>,
}

fn rect(w: f64, s: f64, e: f64, n: f64) -> String {
    serde_json::json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}).to_string()
}

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).expect("demo codes are valid")
}

/// Tile `[w, s, e, n]` with `n` cells: full rows of `cols` cells, the last row's cells
/// widened so that the row is filled. Returns cells west→east, north→south.
fn tile(b: [f64; 4], n: usize) -> Vec<[f64; 4]> {
    let cols = (n as f64).sqrt().ceil() as usize;
    let rows = n.div_ceil(cols);
    let h = (b[3] - b[1]) / rows as f64;
    let mut out = Vec::with_capacity(n);
    for r in 0..rows {
        let in_row = if r + 1 == rows { n - cols * (rows - 1) } else { cols };
        let w = (b[2] - b[0]) / in_row as f64;
        let top = b[3] - h * r as f64;
        let bottom = if r + 1 == rows { b[1] } else { top - h };
        for c in 0..in_row {
            let west = b[0] + w * c as f64;
            let east = if c + 1 == in_row { b[2] } else { west + w };
            out.push([west, bottom, east, top]);
        }
    }
    out
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
        boundary: Some(rect(BBOX[0], BBOX[1], BBOX[2], BBOX[3])),
    });

    let blocks = tile(BBOX, TOWNSHIPS.len());
    let mut used = std::collections::HashSet::new();
    let mut villages = Vec::new();
    for ((num, name, count), block) in TOWNSHIPS.iter().zip(blocks) {
        let t = county.child(*num).expect("valid township");
        b.divisions.push(Division {
            code: t.clone(),
            name: (*name).into(),
            boundary: Some(rect(block[0], block[1], block[2], block[3])),
        });
        let street = *num < 100;
        for (i, cell) in tile(block, *count).into_iter().enumerate() {
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
            b.divisions.push(Division {
                code: v.clone(),
                name: vname,
                boundary: Some(rect(cell[0], cell[1], cell[2], cell[3])),
            });
            villages.push(v);
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
    for v in &villages {
        user(format!("gw{v}"), format!("网格员{}", &v.as_str()[6..]), Role::GridWorker, v.clone(), None);
    }
    logins.push(DemoLogin {
        username: format!("gw{}", villages[0]),
        role: Role::GridWorker,
        note: "网格员（一个社区） grid worker of one community".into(),
    });
    District { batch: b, logins }
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
    fn cells_tile_the_block_exactly() {
        for n in [1, 2, 7, 12, 26, 28] {
            let b = [0.0, 0.0, 10.0, 5.0];
            let cells = tile(b, n);
            assert_eq!(cells.len(), n);
            let area: f64 = cells.iter().map(|c| (c[2] - c[0]) * (c[3] - c[1])).sum();
            assert!((area - 50.0).abs() < 1e-9, "n={n} area={area}");
            for c in &cells {
                assert!(c[0] >= b[0] && c[2] <= b[2] + 1e-12 && c[1] >= b[1] && c[3] <= b[3] + 1e-12);
            }
        }
    }
}

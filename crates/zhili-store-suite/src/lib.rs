//! The behavioural test suite (存储行为测试) that every storage backend must pass.
//!
//! Each case takes a freshly migrated, empty store. A backend's tests call [`store_suite!`]
//! with an async constructor; the macro expands to one `#[tokio::test]` per case, so the
//! SQLite and PostgreSQL crates run exactly the same checks.

use chrono::{Duration, Utc};
use futures::future::BoxFuture;
use zhili_case::store::{CaseMapStore, CaseMetricsStore, CaseStore, NotificationStore};
use zhili_core::audit::{Actor, AuditEvent};
use zhili_core::codes::DivisionCode;
use zhili_core::model::{Division, Locale, NewDepartment, NewUser, Session};
use zhili_core::policy::Role;
use zhili_core::store::{verify_audit_chain, Change, CoreBatch, Page, Store, StoreError, UserFilter, UserUpdate};
use zhili_grid::{Grid, GridCode, GridDuty, GridStore};

mod case_map;
mod cases;
mod notify;
pub use case_map::*;
pub use cases::*;
pub use notify::*;

/// Everything a backend implements: the core store and every domain's storage port.
pub trait Backend: Store + GridStore + CaseStore + CaseMetricsStore + CaseMapStore + NotificationStore {}
impl<T: Store + GridStore + CaseStore + CaseMetricsStore + CaseMapStore + NotificationStore> Backend for T {}

/// One suite case: an async check over a freshly migrated, empty store.
pub type Case = for<'a> fn(&'a dyn Backend) -> BoxFuture<'a, ()>;

/// Expand to one `#[tokio::test]` per suite case. `$run` is an `async fn(Case)` that makes a
/// fresh, migrated store, runs the case on it and cleans up (the one list of cases is here, so
/// no backend can miss one).
#[macro_export]
macro_rules! store_suite {
    ($run:path) => {
        $crate::store_suite!(@cases $run;
            migrate_is_idempotent, divisions, departments, users, user_updates, sessions, login_failures,
            audit_chain_covers_every_write, failed_writes_leave_no_trace, batch_load_is_idempotent,
            concurrent_writes_keep_the_chain, changes_are_announced, grids_and_workers,
            cases_are_stored_and_versioned, case_reports_are_idempotent, case_filters_and_order,
            open_cases_near_a_point, attachments_and_settings, case_batches_are_all_or_nothing,
            case_tallies_by_group, case_rollup_matches_the_cases, cases_are_bulk_loaded, case_points_in_a_box,
            case_density_sums_to_the_count, escalation_levels_fire_once, cases_to_escalate_skip_the_fully_escalated,
            notifications_are_per_recipient,
            webhook_outbox_claims_and_retries);
    };
    (@cases $run:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $run(|s| Box::pin($crate::$case(s))).await;
            }
        )*
    };
}

fn c(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn actor() -> Actor {
    Actor { user_id: None, name: "suite".into(), role: "admin".into(), ip: Some("127.0.0.1".into()) }
}

fn division(code: &str, name: &str) -> Division {
    Division { code: c(code), name: name.into(), boundary: None }
}

const SQUARE: &str =
    r#"{"type":"Polygon","coordinates":[[[117.8,36.4],[117.9,36.4],[117.9,36.5],[117.8,36.5],[117.8,36.4]]]}"#;

/// Seed a county with two townships and a village in each.
async fn seed(s: &dyn Store) {
    let a = actor();
    s.upsert_division(&a, &Division { code: c("370304"), name: "博山区".into(), boundary: Some(SQUARE.into()) })
        .await
        .unwrap();
    for (code, name) in
        [("370304001", "城西街道"), ("370304100", "域城镇"), ("370304001001", "西冶社区"), ("370304100201", "南域城村")]
    {
        s.upsert_division(&a, &division(code, name)).await.unwrap();
    }
}

fn new_user(username: &str, role: Role, j: &str, dept: Option<i64>) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: format!("用户{username}"),
        role,
        jurisdiction: c(j),
        department_id: dept,
        phone: Some("13812341999".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
    }
}

async fn audit_count(s: &dyn Store) -> i64 {
    s.audit_head().await.unwrap().map(|h| h.0).unwrap_or(0)
}

/// Migrating twice changes nothing.
pub async fn migrate_is_idempotent(s: &dyn Store) {
    s.migrate().await.unwrap();
    s.migrate().await.unwrap();
    s.ping().await.unwrap();
    assert_eq!(s.count_divisions(None).await.unwrap(), 0);
    assert!(s.integrity_check().await.unwrap().is_empty());
}

/// Divisions: hierarchy, parents required, updates, geometry round trip.
pub async fn divisions(s: &dyn Store) {
    seed(s).await;
    let county = s.division(&c("370304")).await.unwrap();
    assert_eq!(county.name, "博山区");
    let geom: serde_json::Value = serde_json::from_str(county.boundary.as_deref().unwrap()).unwrap();
    assert_eq!(geom, serde_json::from_str::<serde_json::Value>(SQUARE).unwrap(), "boundary must round-trip");
    let roots = s.child_divisions(None).await.unwrap();
    assert_eq!(roots.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(), ["370304"]);
    let towns = s.child_divisions(Some(&c("370304"))).await.unwrap();
    assert_eq!(towns.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(), ["370304001", "370304100"]);
    assert_eq!(s.count_divisions(None).await.unwrap(), 5);
    assert_eq!(s.count_divisions(Some(&c("370304100"))).await.unwrap(), 2);
    // Orphan: the parent township does not exist.
    let e = s.upsert_division(&actor(), &division("370304101201", "孤村")).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "parent" }), "{e:?}");
    // Update keeps the code, changes the name.
    s.upsert_division(&actor(), &division("370304100201", "南域城村委会")).await.unwrap();
    assert_eq!(s.division(&c("370304100201")).await.unwrap().name, "南域城村委会");
    assert!(matches!(s.division(&c("370304599")).await, Err(StoreError::NotFound)));
}

/// Departments: unique codes, existing divisions, listing bounded by jurisdiction.
pub async fn departments(s: &dyn Store) {
    seed(s).await;
    let a = actor();
    let cg = s
        .create_department(
            &a,
            &NewDepartment {
                code: "cgj".into(),
                name: "区城管局".into(),
                division: c("370304"),
                is_command_centre: false,
            },
        )
        .await
        .unwrap();
    let town = s
        .create_department(
            &a,
            &NewDepartment {
                code: "yc_zf".into(),
                name: "域城镇政府".into(),
                division: c("370304100"),
                is_command_centre: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(s.department(cg.id).await.unwrap(), cg);
    assert!(s.department(town.id).await.unwrap().is_command_centre);
    let e = s
        .create_department(
            &a,
            &NewDepartment {
                code: "cgj".into(), name: "重复".into(), division: c("370304"), is_command_centre: false
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "code" }), "{e:?}");
    let e = s
        .create_department(
            &a,
            &NewDepartment {
                code: "x1".into(),
                name: "无区划".into(),
                division: c("370304555"),
                is_command_centre: false,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "division" }), "{e:?}");
    let all = s.departments(None, Page::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let within = s.departments(Some(&c("370304100")), Page::default()).await.unwrap();
    assert_eq!(within, vec![town]);
    let paged = s.departments(None, Page { offset: 1, limit: 1 }).await.unwrap();
    assert_eq!(paged.len(), 1);
    assert!(matches!(s.department(9999).await, Err(StoreError::NotFound)));
}

/// Users: unique names, references checked, filters, passwords and locales.
pub async fn users(s: &dyn Store) {
    seed(s).await;
    let a = actor();
    let d = s
        .create_department(
            &a,
            &NewDepartment {
                code: "slj".into(),
                name: "区水利局".into(),
                division: c("370304"),
                is_command_centre: false,
            },
        )
        .await
        .unwrap();
    let admin = s.create_user(&a, &new_user("admin", Role::Admin, "370304", None)).await.unwrap();
    let staff = s.create_user(&a, &new_user("water1", Role::DepartmentStaff, "370304", Some(d.id))).await.unwrap();
    let gw = s.create_user(&a, &new_user("gw1", Role::GridWorker, "370304100201", None)).await.unwrap();
    assert_eq!(s.user(gw.id).await.unwrap(), gw);
    assert_eq!(gw.locale, Locale::ZhCn);
    let (u, hash) = s.user_credentials("water1").await.unwrap();
    assert_eq!(u, staff);
    assert!(hash.starts_with("$argon2id$"));
    assert!(matches!(s.user_credentials("nobody").await, Err(StoreError::NotFound)));
    let e = s.create_user(&a, &new_user("admin", Role::Leader, "370304", None)).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { field: "username" }), "{e:?}");
    let e = s.create_user(&a, &new_user("lost", Role::Leader, "370304555", None)).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "jurisdiction" }), "{e:?}");
    let e = s.create_user(&a, &new_user("lost", Role::Leader, "370304", Some(424242))).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "department_id" }), "{e:?}");

    let all = s.users(&UserFilter::default(), Page::default()).await.unwrap();
    assert_eq!(all.iter().map(|u| u.id).collect::<Vec<_>>(), vec![admin.id, staff.id, gw.id]);
    let in_town = UserFilter { within: Some(c("370304100")), ..Default::default() };
    assert_eq!(s.users(&in_town, Page::default()).await.unwrap(), vec![gw.clone()]);
    assert_eq!(s.count_users(&in_town).await.unwrap(), 1);
    let by_role = UserFilter { role: Some(Role::DepartmentStaff), ..Default::default() };
    assert_eq!(s.users(&by_role, Page::default()).await.unwrap(), vec![staff.clone()]);
    let by_dept = UserFilter { department_id: Some(d.id), ..Default::default() };
    assert_eq!(s.count_users(&by_dept).await.unwrap(), 1);

    s.set_locale(&a, gw.id, Locale::En).await.unwrap();
    assert_eq!(s.user(gw.id).await.unwrap().locale, Locale::En);
    s.set_password(&a, gw.id, "$argon2id$new").await.unwrap();
    assert_eq!(s.user_credentials("gw1").await.unwrap().1, "$argon2id$new");
    assert!(matches!(s.set_password(&a, 9999, "x").await, Err(StoreError::NotFound)));
    assert!(matches!(s.set_locale(&a, 9999, Locale::En).await, Err(StoreError::NotFound)));
}

/// Account changes: fields, references checked, disabling ends sessions, audited.
pub async fn user_updates(s: &dyn Store) {
    seed(s).await;
    let a = actor();
    let d = s
        .create_department(
            &a,
            &NewDepartment {
                code: "mzj".into(),
                name: "民政局".into(),
                division: c("370304"),
                is_command_centre: false,
            },
        )
        .await
        .unwrap();
    let u = s.create_user(&a, &new_user("gw9", Role::GridWorker, "370304100201", None)).await.unwrap();
    let change = UserUpdate {
        display_name: Some("王五".into()),
        role: Some(Role::DepartmentStaff),
        jurisdiction: Some(c("370304")),
        department_id: Some(Some(d.id)),
        phone: Some(None),
        active: None,
    };
    let got = s.update_user(&a, u.id, &change).await.unwrap();
    assert_eq!(s.user(u.id).await.unwrap(), got);
    assert_eq!(
        (got.display_name.as_str(), got.role, got.department_id, got.phone.clone()),
        ("王五", Role::DepartmentStaff, Some(d.id), None)
    );
    assert_eq!(got.jurisdiction, c("370304"));
    let before = audit_count(s).await;
    let e = s
        .update_user(&a, u.id, &UserUpdate { jurisdiction: Some(c("370304599")), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "jurisdiction" }), "{e:?}");
    let e = s
        .update_user(&a, u.id, &UserUpdate { department_id: Some(Some(4242)), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "department_id" }), "{e:?}");
    assert!(matches!(s.update_user(&a, 9999, &UserUpdate::default()).await, Err(StoreError::NotFound)));
    assert_eq!(audit_count(s).await, before, "refused changes leave no audit row");
    assert_eq!(s.user(u.id).await.unwrap(), got, "refused changes leave the user as it was");
    // Disabling ends the sessions and hides the account from login.
    s.create_session(&a, &session("ccc", u.id, Duration::hours(1))).await.unwrap();
    let off = s.update_user(&a, u.id, &UserUpdate { active: Some(false), ..Default::default() }).await.unwrap();
    assert!(!off.active);
    assert!(matches!(s.session("ccc", Utc::now()).await, Err(StoreError::NotFound)));
    assert!(!s.user_credentials("gw9").await.unwrap().0.active);
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), audit_count(s).await);
}

fn session(token: &str, user_id: i64, ttl: Duration) -> Session {
    let now = zhili_core::audit::audit_time(Utc::now());
    Session {
        token_hash: token.into(),
        user_id,
        csrf_token: format!("csrf-{token}"),
        created_at: now,
        expires_at: now + ttl,
    }
}

/// Sessions: live ones are found, expired ones are not, a new password ends them.
pub async fn sessions(s: &dyn Store) {
    seed(s).await;
    let a = actor();
    let u = s.create_user(&a, &new_user("op1", Role::Operator, "370304", None)).await.unwrap();
    let live = session("aaa", u.id, Duration::hours(8));
    s.create_session(&a, &live).await.unwrap();
    let (got, user) = s.session("aaa", Utc::now()).await.unwrap();
    assert_eq!(got, live);
    assert_eq!(user, u);
    assert!(matches!(s.session("aaa", Utc::now() + Duration::hours(9)).await, Err(StoreError::NotFound)));
    assert!(matches!(s.session("zzz", Utc::now()).await, Err(StoreError::NotFound)));
    s.delete_session(&a, "aaa").await.unwrap();
    assert!(matches!(s.session("aaa", Utc::now()).await, Err(StoreError::NotFound)));
    assert!(matches!(s.delete_session(&a, "aaa").await, Err(StoreError::NotFound)));
    s.create_session(&a, &session("bbb", u.id, Duration::hours(8))).await.unwrap();
    s.set_password(&a, u.id, "$argon2id$other").await.unwrap();
    assert!(matches!(s.session("bbb", Utc::now()).await, Err(StoreError::NotFound)));
}

/// Login failures are counted per account and per address inside the window.
pub async fn login_failures(s: &dyn Store) {
    let now = Utc::now();
    let from = |ip: &str| Actor { ip: Some(ip.into()), ..actor() };
    for _ in 0..3 {
        s.record_login_failure(&from("10.0.0.1"), "alice", now).await.unwrap();
    }
    s.record_login_failure(&from("10.0.0.2"), "alice", now).await.unwrap();
    s.record_login_failure(&from("10.0.0.1"), "bob", now - Duration::minutes(5)).await.unwrap();
    let f = s.login_failures("alice", "10.0.0.1", now - Duration::minutes(1)).await.unwrap();
    assert_eq!((f.by_account, f.by_address), (4, 3));
    let f = s.login_failures("bob", "10.0.0.1", now - Duration::minutes(10)).await.unwrap();
    assert_eq!((f.by_account, f.by_address), (1, 4));
    assert_eq!(audit_count(s).await, 5, "each failure is audited");
}

/// Every write leaves exactly one audit row, and the chain verifies.
pub async fn audit_chain_covers_every_write(s: &dyn Store) {
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), 0);
    seed(s).await;
    assert_eq!(audit_count(s).await, 5);
    let a = actor();
    let u = s.create_user(&a, &new_user("lead", Role::Leader, "370304", None)).await.unwrap();
    s.set_locale(&a, u.id, Locale::En).await.unwrap();
    let read = s.audit(&AuditEvent::success(&a, "user.read_personal", format!("user:{}", u.id))).await.unwrap();
    assert_eq!(read.seq, 8);
    assert_eq!(read.action, "user.read_personal");
    let rows = s.audit_rows(0, 100).await.unwrap();
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[5].action, "user.create");
    assert_eq!(rows[5].target, format!("user:{}", u.id));
    assert_eq!(rows[5].ip.as_deref(), Some("127.0.0.1"));
    let recent = s.recent_audit(Page { offset: 0, limit: 2 }).await.unwrap();
    assert_eq!(recent.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![8, 7]);
    assert_eq!(s.audit_rows(6, 100).await.unwrap().len(), 2);
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), 8);
}

async fn next(feed: &mut zhili_core::store::ChangeStream) -> Change {
    use futures::StreamExt;
    tokio::time::timeout(std::time::Duration::from_secs(10), feed.next())
        .await
        .expect("a change within 10 s")
        .expect("the feed stays open")
}

/// Committed changes reach subscribers (in another process too, on PostgreSQL); a bulk
/// load says "reload everything".
pub async fn changes_are_announced(s: &dyn Store) {
    let mut feed = s.changes().await.unwrap();
    seed(s).await;
    assert_eq!(next(&mut feed).await, Change::record("division", "370304"));
    for code in ["370304001", "370304100", "370304001001", "370304100201"] {
        assert_eq!(next(&mut feed).await, Change::record("division", code));
    }
    // A refused write announces nothing; the next change is the batch.
    assert!(s.upsert_division(&actor(), &division("370304102201", "孤村")).await.is_err());
    let mut b = CoreBatch::default();
    b.divisions.push(division("370304002", "城东街道"));
    s.load_batch(&actor(), &b).await.unwrap();
    assert_eq!(next(&mut feed).await, Change::All);
    let all = s.all_divisions().await.unwrap();
    assert_eq!(all.len(), 6);
    assert!(all[0].boundary.is_some(), "all_divisions carries boundaries");
    assert_eq!(
        Change::from_payload(&Change::record("grid", "37030410020101").to_payload()),
        Change::record("grid", "37030410020101")
    );
    assert_eq!(Change::from_payload("nonsense"), Change::All);
}

/// A refused write changes neither data nor the audit log.
pub async fn failed_writes_leave_no_trace(s: &dyn Store) {
    seed(s).await;
    let a = actor();
    s.create_user(&a, &new_user("dup", Role::Leader, "370304", None)).await.unwrap();
    let before = audit_count(s).await;
    assert!(s.create_user(&a, &new_user("dup", Role::Leader, "370304", None)).await.is_err());
    assert!(s.create_user(&a, &new_user("new", Role::Leader, "370304599", None)).await.is_err());
    assert!(s.upsert_division(&a, &division("370304102201", "孤村")).await.is_err());
    assert_eq!(audit_count(s).await, before);
    assert_eq!(s.count_users(&UserFilter::default()).await.unwrap(), 1);
    assert_eq!(s.count_divisions(None).await.unwrap(), 5);
}

/// Loading the same batch twice inserts nothing the second time.
pub async fn batch_load_is_idempotent(s: &dyn Store) {
    let mut b = CoreBatch::default();
    b.divisions.push(division("370304", "博山区"));
    b.divisions.push(division("370304003", "山头街道"));
    b.departments.push(NewDepartment {
        code: "mzj".into(),
        name: "区民政局".into(),
        division: c("370304"),
        is_command_centre: false,
    });
    b.users.push((new_user("mz1", Role::DepartmentStaff, "370304", None), Some("mzj".into())));
    b.users.push((new_user("lead1", Role::Leader, "370304003", None), None));
    let a = actor();
    assert_eq!(s.load_batch(&a, &b).await.unwrap(), 5);
    assert_eq!(s.load_batch(&a, &b).await.unwrap(), 0);
    let (u, _) = s.user_credentials("mz1").await.unwrap();
    let dept = s.department(u.department_id.expect("department linked by code")).await.unwrap();
    assert_eq!(dept.code, "mzj");
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), 2);
}

/// Many writers at once: all succeed and the chain stays whole.
pub async fn concurrent_writes_keep_the_chain(s: &dyn Store) {
    seed(s).await;
    let a = actor();
    let futs = (0..40).map(|i| {
        let a = a.clone();
        async move {
            s.create_department(
                &a,
                &NewDepartment {
                    code: format!("d{i}"),
                    name: format!("部门{i}"),
                    division: c("370304"),
                    is_command_centre: false,
                },
            )
            .await
        }
    });
    for r in futures::future::join_all(futs).await {
        r.unwrap();
    }
    assert_eq!(s.departments(None, Page { offset: 0, limit: 1000 }).await.unwrap().len(), 40);
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), 45);
}

fn grid(code: &str, level: u8, parent: Option<&str>, w: f64, s: f64, e: f64, n: f64) -> Grid {
    let ring = geo::LineString::from(vec![(w, s), (e, s), (e, n), (w, n), (w, s)]);
    Grid {
        code: GridCode::parse_any(code).unwrap(),
        name: format!("网格{code}"),
        level,
        parent: parent.map(|p| GridCode::parse_any(p).unwrap()),
        boundary: geo::MultiPolygon::new(vec![geo::Polygon::new(ring, vec![])]),
    }
}

/// Grids: import (replacing by code), reads bounded by division, worker duties, and the
/// all-or-nothing rule.
pub async fn grids_and_workers(s: &dyn Backend) {
    seed(s).await;
    let a = actor();
    let mut feed = s.changes().await.unwrap();
    let big = grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42);
    let small = grid("37030410020111", 2, Some("37030410020101"), 117.80, 36.40, 117.81, 36.41);
    let other = grid("37030400100101", 1, None, 117.85, 36.40, 117.86, 36.42);
    // Children may come before parents in the input.
    assert_eq!(s.import_grids(&a, &[small.clone(), big.clone(), other.clone()]).await.unwrap(), 3);
    assert_eq!(next(&mut feed).await, Change::All);
    assert_eq!(s.grid(&small.code).await.unwrap(), small);
    assert_eq!(s.count_grids(None).await.unwrap(), 3);
    assert_eq!(s.count_grids(Some(&c("370304100"))).await.unwrap(), 2);
    let listed = s.grids(Some(&c("370304100201")), Page::default()).await.unwrap();
    assert_eq!(listed, vec![big.clone(), small.clone()]);
    assert!(matches!(s.grid(&GridCode::parse_any("37030410020199").unwrap()).await, Err(StoreError::NotFound)));
    // Re-import one grid: replaced in place, announced by code.
    let renamed = Grid { name: "改名网格".into(), ..small.clone() };
    s.import_grids(&a, std::slice::from_ref(&renamed)).await.unwrap();
    assert_eq!(next(&mut feed).await, Change::record("grid", "37030410020111"));
    assert_eq!(s.grid(&small.code).await.unwrap().name, "改名网格");
    // All or nothing: a grid in a village that does not exist stops the whole import.
    let before = audit_count(s).await;
    let orphan = grid("37030410120101", 1, None, 117.9, 36.4, 117.91, 36.41);
    let e =
        s.import_grids(&a, &[grid("37030410020102", 1, None, 117.81, 36.40, 117.82, 36.42), orphan]).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "village" }), "{e:?}");
    assert_eq!(s.count_grids(None).await.unwrap(), 3);
    assert_eq!(audit_count(s).await, before);
    // Duties.
    let u = s.create_user(&a, &new_user("gwx", Role::GridWorker, "370304100201", None)).await.unwrap();
    s.assign_grid(&a, u.id, &small.code, GridDuty::PartTime).await.unwrap();
    s.assign_grid(&a, u.id, &small.code, GridDuty::FullTime).await.unwrap();
    s.assign_grid(&a, u.id, &other.code, GridDuty::Leader).await.unwrap();
    assert_eq!(
        s.user_grids(u.id).await.unwrap(),
        vec![(other.code.clone(), GridDuty::Leader), (small.code.clone(), GridDuty::FullTime)]
    );
    assert_eq!(s.grid_workers(&small.code).await.unwrap(), vec![(u.id, GridDuty::FullTime)]);
    let e =
        s.assign_grid(&a, u.id, &GridCode::parse_any("37030410020199").unwrap(), GridDuty::Leader).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "grid" }), "{e:?}");
    let e = s.assign_grid(&a, 4242, &small.code, GridDuty::Leader).await.unwrap_err();
    assert!(matches!(e, StoreError::MissingReference { field: "user_id" }), "{e:?}");
    s.unassign_grid(&a, u.id, &other.code).await.unwrap();
    assert!(matches!(s.unassign_grid(&a, u.id, &other.code).await, Err(StoreError::NotFound)));
    // Bulk assignments by username, all or nothing.
    let rows = vec![
        ("gwx".to_string(), big.code.clone(), GridDuty::Leader),
        ("nobody".to_string(), big.code.clone(), GridDuty::Leader),
    ];
    assert!(matches!(s.load_assignments(&a, &rows).await, Err(StoreError::MissingReference { field: "username" })));
    assert_eq!(s.grid_workers(&big.code).await.unwrap(), vec![]);
    assert_eq!(s.load_assignments(&a, &rows[..1]).await.unwrap(), 1);
    assert_eq!(s.grid_workers(&big.code).await.unwrap(), vec![(u.id, GridDuty::Leader)]);
    assert_eq!(verify_audit_chain(s, |_| {}).await.unwrap(), audit_count(s).await);
}

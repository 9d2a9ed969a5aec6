//! Suite cases for the platform core (平台核心存储): divisions, departments, users, sessions,
//! login failures, the audit chain and the change feed.

use chrono::{Duration, Utc};
use zhili_core::audit::{Actor, AuditEvent};
use zhili_core::model::{Locale, NewDepartment, Session};
use zhili_core::policy::Role;
use zhili_core::store::{verify_audit_chain, Change, CoreBatch, Page, Store, StoreError, UserFilter, UserUpdate};

use crate::{actor, audit_count, c, division, new_user, seed, SQUARE};

/// The core's cases, one `#[tokio::test]` each (see [`crate::suite_cases!`]).
#[macro_export]
macro_rules! core_suite {
    ($run:path) => {
        $crate::suite_cases!($run; core;
            migrate_is_idempotent, divisions, departments, users, user_updates, sessions, login_failures,
            audit_chain_covers_every_write, failed_writes_leave_no_trace, batch_load_is_idempotent,
            concurrent_writes_keep_the_chain, changes_are_announced);
    };
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
    // Text: part of the username or the display name (用户water1), any case; % and _ literal.
    let text = |t: &str| UserFilter { text: Some(t.into()), ..Default::default() };
    assert_eq!(s.users(&text("ATER"), Page::default()).await.unwrap(), vec![staff.clone()]);
    assert_eq!(s.count_users(&text("用户")).await.unwrap(), 3);
    assert_eq!(s.count_users(&text("户gw")).await.unwrap(), 1);
    assert_eq!(s.count_users(&text("%")).await.unwrap(), 0);
    assert_eq!(s.count_users(&text("_")).await.unwrap(), 0);
    let both = UserFilter { text: Some("用户".into()), role: Some(Role::Admin), ..Default::default() };
    assert_eq!(s.users(&both, Page::default()).await.unwrap(), vec![admin.clone()]);

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

pub(crate) async fn next(feed: &mut zhili_core::store::ChangeStream) -> Change {
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

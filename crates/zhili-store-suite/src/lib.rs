//! The behavioural test suite (存储行为测试) that every storage backend must pass.
//!
//! Each case takes a freshly migrated, empty store. The cases sit in one folder per domain
//! (`core`, `platform`, `grid`, `case`, `flood`), each with its macro ([`core_suite!`], [`platform_suite!`], [`grid_suite!`],
//! [`case_suite!`], [`flood_suite!`]) listing them through [`suite_cases!`]. A backend's tests call each macro
//! once with an async constructor; it expands to one `#[tokio::test]` per case, so the SQLite
//! and PostgreSQL crates run exactly the same checks.

use futures::future::BoxFuture;
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::model::{Division, NewUser};
use zhili_core::policy::Role;
use zhili_core::store::Store;

// One folder per domain, as in every layer.
pub mod case;
pub mod core;
pub mod flood;
pub mod grid;
pub mod platform;

/// One suite case: an async check over a freshly migrated, empty store of type `S`.
pub type Case<S> = for<'a> fn(&'a S) -> BoxFuture<'a, ()>;

/// Expand to one `#[tokio::test]` per named case of `$domain` (a module of this crate).
/// `$run` is an `async fn(Case<Store>)` that makes a fresh, migrated store, runs the case on it
/// and cleans up. Each domain has its own list (`core_suite!`, `grid_suite!`, `case_suite!`,
/// next to its cases, so no backend can miss one); a backend's test calls each once.
#[macro_export]
macro_rules! suite_cases {
    ($run:path; $domain:ident; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $run(|s| Box::pin($crate::$domain::$case(s))).await;
            }
        )*
    };
}

pub(crate) fn c(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

pub(crate) fn actor() -> Actor {
    Actor { user_id: None, name: "suite".into(), role: "admin".into(), ip: Some("127.0.0.1".into()) }
}

pub(crate) fn division(code: &str, name: &str) -> Division {
    Division { code: c(code), name: name.into(), boundary: None }
}

pub(crate) const SQUARE: &str =
    r#"{"type":"Polygon","coordinates":[[[117.8,36.4],[117.9,36.4],[117.9,36.5],[117.8,36.5],[117.8,36.4]]]}"#;

/// Seed a county with two townships and a village in each.
pub(crate) async fn seed(s: &dyn Store) {
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

pub(crate) fn new_user(username: &str, role: Role, j: &str, dept: Option<i64>) -> NewUser {
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

pub(crate) async fn audit_count(s: &dyn Store) -> i64 {
    s.audit_head().await.unwrap().map(|h| h.0).unwrap_or(0)
}

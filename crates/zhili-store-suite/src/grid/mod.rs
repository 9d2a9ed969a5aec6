//! Suite cases for grids (网格存储).

use zhili_core::policy::Role;
use zhili_core::store::{verify_audit_chain, Change, Page, Store, StoreError};
use zhili_grid::{Grid, GridCode, GridDuty, GridStore};

use crate::core::next;
use crate::{actor, audit_count, c, new_user, seed};

/// What the grid cases need of a backend.
pub trait GridBackend: Store + GridStore {}
impl<T: Store + GridStore> GridBackend for T {}

/// The grid cases, one `#[tokio::test]` each (see [`crate::suite_cases!`]).
#[macro_export]
macro_rules! grid_suite {
    ($run:path) => {
        $crate::suite_cases!($run; grid; grids_and_workers);
    };
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
pub async fn grids_and_workers(s: &dyn GridBackend) {
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

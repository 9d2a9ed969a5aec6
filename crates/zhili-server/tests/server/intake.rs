//! Case intake as a port: another module opens a case through `dyn CaseIntake` with the checks
//! and group commit of `POST /api/cases`, idempotently by its `external_id`.

use axum::http::StatusCode;
use zhili_case::intake::{CaseRequest, IntakeError};
use zhili_case::model::Source;
use zhili_core::audit::Actor;
use zhili_core::policy::Role;
use zhili_core::ErrorCode;

use crate::world::ports::CaseIntake;
use zhili_grid::Grid;

use crate::world::grid;

fn request(lon: f64, external_id: &str) -> CaseRequest {
    CaseRequest {
        source: Source::Machine,
        class_code: "SJ0102".into(),
        lon,
        lat: 36.405,
        description: "山洪预警后续处置：沟道堵塞".into(),
        address: None,
        external_id: Some(external_id.into()),
        photos: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_modules_open_cases_through_the_intake_port() {
    let g = Grid { name: "网格一".into(), ..grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42) };
    let w = crate::world::World::builder()
        .divisions(3)
        .grids(vec![g])
        .users(&[("operator", Role::Operator, "370304")])
        .build()
        .await;
    let intake = w.state.ports.port::<dyn CaseIntake>().clone();
    let actor = Actor::system();

    let opened = intake.open_case(&actor, request(117.805, "flood_warning:12")).await.unwrap();
    let case = &opened.case;
    assert!(case.id > 0);
    assert_eq!((case.source, case.class_code.as_str()), (Source::Machine, "SJ0102"));
    assert_eq!(case.grid.as_deref(), Some("37030410020101"));
    assert_eq!(case.division.as_str(), "370304100201");
    assert!(!case.address.is_empty(), "the address comes from the grid chain");
    // The case is in the loop like any other: the operator sees it.
    let (s, b) = w.call("GET", &format!("/api/cases/{}", case.id), w.token("operator"), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["case"]["source"], "machine");

    // The same raising record again: the stored case, not a second one.
    let again = intake.open_case(&actor, request(117.805, "flood_warning:12")).await.unwrap();
    assert_eq!(again.case.id, case.id);
    // A second record nearby: a new case, with the first suggested as a duplicate.
    let other = intake.open_case(&actor, request(117.8051, "flood_warning:13")).await.unwrap();
    assert_ne!(other.case.id, case.id);
    assert_eq!(other.duplicates, [case.id]);

    // Refusals name the field and store nothing.
    let before = total(&w).await;
    let e: IntakeError = intake.open_case(&actor, request(120.0, "flood_warning:14")).await.unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), (ErrorCode::InvalidField, Some("lon")));
    assert!(e.message.contains("outside the district"), "{}", e.message);
    let mut bad = request(117.805, "flood_warning:15");
    bad.class_code = "XX9999".into();
    let e = intake.open_case(&actor, bad).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("class_code"));
    let mut bad = request(117.805, "flood_warning:16");
    bad.description = String::new();
    assert_eq!(intake.open_case(&actor, bad).await.unwrap_err().field.as_deref(), Some("description"));
    let mut bad = request(117.805, "flood_warning:17");
    bad.photos = vec!["nope".into()];
    assert_eq!(intake.open_case(&actor, bad).await.unwrap_err().field.as_deref(), Some("photos[0]"));
    assert_eq!(total(&w).await, before);
}

async fn total(w: &crate::world::World) -> i64 {
    w.call("GET", "/api/cases?limit=1", w.token("operator"), None).await.1["total"].as_i64().unwrap()
}

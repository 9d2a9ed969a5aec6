//! Rainfall indicators as spreadsheets over the API: a county's CSV imported (dry run first),
//! a bad file refused whole with every problem's row and column, exported back the same.

use axum::body::Body;
use serde_json::Value;
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::policy::Role;
use zhili_flood::model::{Area, Phone, ResponsiblePerson, Village};
use zhili_flood::store::FloodModelStore;
use zhili_flood::vocab::{Channel, Tier};

use crate::flood_ingest::station;
use crate::world::{request, World};

const ZONE: &str = r#"{"type":"Polygon","coordinates":[[[117.801,36.401],[117.808,36.401],[117.808,36.408],[117.801,36.408],[117.801,36.401]]]}"#;

async fn world() -> World {
    let w = World::builder()
        .users(&[("admin", Role::Admin, "370304"), ("operator", Role::Operator, "370304")])
        .build()
        .await;
    let s = station(0x37_03_04_09);
    w.store.upsert_stations(&Actor::system(), std::slice::from_ref(&s)).await.unwrap();
    let village = |code: &str, name: &str| Village {
        code: DivisionCode::parse(code).unwrap(),
        name: name.into(),
        danger_zone: Area::parse(ZONE).unwrap(),
        households: 10,
        population: 30,
        stations: vec![s.code.clone()],
        watershed: None,
        persons: vec![ResponsiblePerson {
            name: "张三".into(),
            tier: Tier::Village,
            phone: Phone::parse("13812345678").unwrap(),
            duty: "村支书".into(),
            channels: vec![Channel::Sms],
            user_id: None,
        }],
        facilities: vec![],
        routes: vec![],
        shelters: vec![],
    };
    w.store
        .upsert_villages(&Actor::system(), &[village("370304100201", "甲村"), village("370304101201", "乙村")])
        .await
        .unwrap();
    w
}

async fn put(w: &World, query: &str, who: &str, csv: &str) -> (u16, Value) {
    let req = request("PUT", &format!("/api/flood/indicators{query}"), w.token(who))
        .header("content-type", "text/csv")
        .body(Body::from(csv.to_string()))
        .unwrap();
    let (s, b) = w.send(req).await;
    (s.as_u16(), b)
}

const GOOD: &str = "村编码,村名,时段,土壤状态,准备转移,立即转移\n\
370304100201,甲村,1h,,30,45\n\
370304100201,甲村,3h,较干,60,80\n\
370304100201,甲村,3h,一般,55,75\n\
370304100201,甲村,3h,较湿,50,70\n\
370304101201,乙村,1小时,,28,40\n";

#[tokio::test]
async fn a_spreadsheet_of_indicators_is_checked_imported_and_exported_back() {
    let w = world().await;
    let village = DivisionCode::parse("370304100201").unwrap();
    // Only administrators import.
    assert_eq!(put(&w, "", "operator", GOOD).await.0, 403);
    // A dry run stores nothing.
    let (s, b) = put(&w, "?dry_run=true", "admin", GOOD).await;
    assert_eq!((s, b["villages"].as_u64(), b["dry_run"].as_bool()), (200, Some(2), Some(true)), "{b}");
    assert!(w.store.rain_indicators(&village).await.is_err());
    let (s, b) = put(&w, "", "admin", GOOD).await;
    assert_eq!((s, b["villages"].as_u64(), b["scheme"].as_str()), (200, Some(2), Some("two_level")), "{b}");
    let stored = w.store.rain_indicators(&village).await.unwrap();
    assert_eq!(
        stored.threshold(
            zhili_flood::vocab::Window::H3,
            zhili_flood::vocab::SoilState::Wet,
            zhili_flood::vocab::Grade::Immediate
        ),
        Some(70.0)
    );

    // A bad file: every problem named by row and column; nothing changes.
    let bad = "村编码,村名,时段,土壤状态,准备转移,立即转移\n\
370304100201,甲村,1h,,30,20\n\
370304199999,无此村,1h,,30,45\n\
370304101201,乙村,2天,,28,40\n";
    let (s, b) = put(&w, "", "admin", bad).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["field"], "file");
    let problems = b["problems"].as_array().unwrap();
    let rows: Vec<u64> = problems
        .iter()
        .flat_map(|p| {
            p["row"].as_u64().into_iter().chain(p["rows"].as_array().into_iter().flatten().filter_map(Value::as_u64))
        })
        .collect();
    for row in [2, 3, 4] {
        assert!(rows.contains(&row), "row {row} not named: {b}");
    }
    assert!(problems.iter().all(|p| p["message"].as_str().is_some_and(|m| !m.is_empty())), "{b}");
    assert_eq!(w.store.rain_indicators(&village).await.unwrap(), stored, "a refused file changed nothing");
    // Neither CSV nor XLSX.
    let req = request("PUT", "/api/flood/indicators", w.token("admin"))
        .header("content-type", "application/pdf")
        .body(Body::from("x"))
        .unwrap();
    assert_eq!(w.send(req).await.0.as_u16(), 415);

    // Export: the same table, which imports back to the same sets.
    let got = w
        .answer(request("GET", "/api/flood/indicators?format=csv", w.token("operator")).body(Body::empty()).unwrap())
        .await;
    assert_eq!(got.status, 200);
    let csv = String::from_utf8(got.body.to_vec()).unwrap();
    assert!(csv.contains("370304101201") && csv.contains("乙村"), "{csv}");
    let (s, b) = put(&w, "", "admin", csv.trim_start_matches('\u{feff}')).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(w.store.rain_indicators(&village).await.unwrap(), stored);
    let got = w
        .answer(request("GET", "/api/flood/indicators?format=xlsx", w.token("operator")).body(Body::empty()).unwrap())
        .await;
    assert_eq!(got.status, 200);
    assert!(got.body.starts_with(b"PK"), "an XLSX is a zip");
    let got = w
        .answer(request("GET", "/api/flood/indicators?format=pdf", w.token("operator")).body(Body::empty()).unwrap())
        .await;
    assert_eq!(got.status, 422);
}

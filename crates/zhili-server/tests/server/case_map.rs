//! Cases on the One Map through the router: points and density in the caller's jurisdiction,
//! bad boxes and limits refused naming the parameter, the limit cap, and GCJ-02 output.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{json, Value};
use zhili_case::model::TimelineEntry;
use zhili_case::workflow::CaseState;
use zhili_core::audit::Actor;
use zhili_core::policy::Role;
use zhili_grid::GridDuty;

use crate::world::ports::*;
use crate::world::{self, grid};

/// A box around both villages' grids.
const BOX: &str = "117.7,36.3,118.0,36.5";

/// The shared world and the cases its seeding reported.
struct World {
    base: world::World,
    /// Case ids: three in village 甲 (one closed), one in village 乙.
    cases: Vec<i64>,
}
world::extends_world!(World);

impl World {
    /// GET as the user `who` (anonymous with none).
    async fn get(&self, uri: &str, who: Option<&str>) -> (StatusCode, Value) {
        self.call("GET", uri, who.and_then(|w| self.token(w)), None).await
    }

    async fn post(&self, uri: &str, who: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", uri, Some(&self.tokens[who]), Some(body)).await
    }
}

fn ids(fc: &Value) -> BTreeSet<i64> {
    fc["features"].as_array().unwrap().iter().map(|f| f["properties"]["id"].as_i64().unwrap()).collect()
}

/// County 370304, villages 甲 (town 100) and 乙 (town 101) with a grid each, a grid worker in
/// each, a county and a township operator; cases reported through the API.
async fn world() -> World {
    let base = world::World::builder()
        .users(&[
            ("operator", Role::Operator, "370304"),
            ("town_operator", Role::Operator, "370304100"),
            ("gridworker", Role::GridWorker, "370304100201"),
            ("other_gw", Role::GridWorker, "370304101201"),
        ])
        .grids(vec![
            grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42),
            grid("37030410120101", 1, None, 117.90, 36.40, 117.91, 36.42),
        ])
        .assign("gridworker", "37030410020101", GridDuty::Leader)
        .assign("other_gw", "37030410120101", GridDuty::FullTime)
        .build()
        .await;
    let mut w = World { base, cases: Vec::new() };
    for (lon, lat) in [(117.803, 36.405), (117.806, 36.41), (117.808, 36.415), (117.905, 36.41)] {
        let body = json!({"class_code": "SJ0102", "lon": lon, "lat": lat, "description": "路边暴露垃圾"});
        let (s, b) = w.post("/api/cases", "operator", body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        w.cases.push(b["case"]["id"].as_i64().unwrap());
    }
    // Close the third case (straight in the store: the loop itself is tested elsewhere).
    let mut k = w.store.case(w.cases[2]).await.unwrap();
    k.version += 1;
    k.status.state = CaseState::Closed;
    k.clock = Default::default();
    k.closed_at = Some(Utc::now());
    let e = TimelineEntry {
        seq: 0,
        at: Utc::now(),
        actor_id: None,
        actor: "test".into(),
        command: "close".into(),
        from_state: Some(CaseState::Reported),
        to_state: CaseState::Closed,
        data: json!({"command": "close"}),
    };
    w.store.update_case(&Actor::system(), &k, &e).await.unwrap();
    w
}

#[tokio::test]
async fn points_follow_the_jurisdiction_and_the_filters() {
    let w = world().await;
    let [a1, a2, a3, b1]: [i64; 4] = w.cases.clone().try_into().unwrap();
    let url = format!("/api/case-points?bbox={BOX}");
    let (s, fc) = w.get(&url, Some("operator")).await;
    assert_eq!(s, StatusCode::OK, "{fc}");
    assert_eq!(ids(&fc), BTreeSet::from([a1, a2, a3, b1]));
    assert_eq!(fc["truncated"], false);
    let first = &fc["features"][0];
    assert_eq!(first["geometry"]["type"], "Point");
    let p = &first["properties"];
    assert_eq!((p["class"].as_str(), p["class_name"].as_str()), (Some("SJ0102"), Some("暴露垃圾")));
    assert_eq!((p["open"].as_bool(), p["overdue"].as_bool()), (Some(true), Some(false)), "{p}");
    assert!(p.get("description").is_none() && p.get("contact").is_none(), "slim: {p}");
    let closed = fc["features"].as_array().unwrap().iter().find(|f| f["id"] == a3).unwrap();
    assert_eq!(
        (closed["properties"]["state"].as_str(), closed["properties"]["open"].as_bool()),
        (Some("closed"), Some(false))
    );
    // Open / closed.
    let (_, fc) = w.get(&format!("{url}&state=open"), Some("operator")).await;
    assert_eq!(ids(&fc), BTreeSet::from([a1, a2, b1]));
    let (_, fc) = w.get(&format!("{url}&state=closed"), Some("operator")).await;
    assert_eq!(ids(&fc), BTreeSet::from([a3]));
    // The box: only village 乙's grid.
    let (_, fc) = w.get("/api/case-points?bbox=117.9,36.4,117.91,36.42", Some("operator")).await;
    assert_eq!(ids(&fc), BTreeSet::from([b1]));
    // Jurisdiction exactly as the worklist: a grid worker sees their grid, a township operator
    // their township.
    for (who, want) in [
        ("gridworker", BTreeSet::from([a1, a2, a3])),
        ("other_gw", BTreeSet::from([b1])),
        ("town_operator", BTreeSet::from([a1, a2, a3])),
    ] {
        let (s, fc) = w.get(&url, Some(who)).await;
        assert_eq!((s, ids(&fc)), (StatusCode::OK, want), "{who}");
        let (_, list) = w.get("/api/cases?limit=100", Some(who)).await;
        assert_eq!(list["total"].as_i64().unwrap() as usize, ids(&fc).len(), "{who}: same as the worklist");
    }
    // Anonymous: refused.
    let (s, b) = w.get(&url, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    let (s, _) = w.get(&format!("/api/case-density?bbox={BOX}"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The period: last 30 days by default; an old period holds nothing.
    let (_, fc) = w.get(&format!("{url}&from=2020-01-01&to=2020-02-01"), Some("operator")).await;
    assert!(ids(&fc).is_empty());
    assert!(fc["from"].as_str().unwrap().starts_with("2019-12-31T16:00:00"), "local midnight: {}", fc["from"]);
    let (_, fc) = w.get(&url, Some("operator")).await;
    let from: chrono::DateTime<Utc> = fc["from"].as_str().unwrap().parse().unwrap();
    assert!((Utc::now() - from - chrono::Duration::days(30)).num_seconds().abs() < 60, "{from}");
    // Class filter.
    let (_, fc) = w.get(&format!("{url}&class=BJ01"), Some("operator")).await;
    assert!(ids(&fc).is_empty());
}

#[tokio::test]
async fn limits_and_bad_queries_are_refused_naming_the_parameter() {
    let w = world().await;
    let (s, fc) = w.get(&format!("/api/case-points?bbox={BOX}&limit=2"), Some("operator")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((fc["features"].as_array().unwrap().len(), fc["truncated"].as_bool()), (2, Some(true)));
    // The newest first.
    assert_eq!(ids(&fc), BTreeSet::from([w.cases[2], w.cases[3]]));
    let (_, fc) = w.get(&format!("/api/case-points?bbox={BOX}&limit=5000"), Some("operator")).await;
    assert_eq!(fc["truncated"], false);
    for (query, field) in [
        ("/api/case-points", "bbox"),
        ("/api/case-points?bbox=118,36,117,37", "bbox"),
        ("/api/case-points?bbox=117,36,118", "bbox"),
        ("/api/case-points?bbox=a,36,118,37", "bbox"),
        ("/api/case-points?bbox=117,36,190,37", "bbox"),
        ("/api/case-points?bbox=117,36,118,37&limit=5001", "limit"),
        ("/api/case-points?bbox=117,36,118,37&limit=0", "limit"),
        ("/api/case-points?bbox=117,36,118,37&limit=many", "limit"),
        ("/api/case-points?bbox=117,36,118,37&state=shut", "state"),
        ("/api/case-points?bbox=117,36,118,37&crs=bd09", "crs"),
        ("/api/case-points?bbox=117,36,118,37&from=yesterday", "from"),
        ("/api/case-points?bbox=117,36,118,37&class=SJ-01", "class"),
        ("/api/case-density?bbox=117,36,118", "bbox"),
        ("/api/case-density?bbox=117,36,118,37&cell=0", "cell"),
        ("/api/case-density?bbox=117,36,118,37&cell=0.0001", "cell"),
        ("/api/case-density?bbox=117,36,118,37&cell=x", "cell"),
    ] {
        let (s, b) = w.get(query, Some("operator")).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{query}: {b}");
    }
    // An unknown parameter is refused too.
    let (s, b) = w.get("/api/case-points?bbox=117,36,118,37&cell=0.1", Some("operator")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
}

#[tokio::test]
async fn density_is_counted_per_cell_and_sums_to_the_points() {
    let w = world().await;
    let (s, fc) = w.get(&format!("/api/case-density?bbox={BOX}&cell=0.05"), Some("operator")).await;
    assert_eq!(s, StatusCode::OK, "{fc}");
    assert_eq!(fc["total"], 4);
    // 甲's three cases share a cell; 乙's is another.
    let counts: BTreeSet<i64> =
        fc["features"].as_array().unwrap().iter().map(|f| f["properties"]["count"].as_i64().unwrap()).collect();
    assert_eq!(counts, BTreeSet::from([1, 3]));
    assert_eq!(fc["max"], 3);
    let (_, fc) = w.get(&format!("/api/case-density?bbox={BOX}&state=open"), Some("operator")).await;
    assert_eq!(fc["total"], 3);
    assert!(fc["cell"].as_f64().unwrap() > 0.0, "a default cell");
    let (_, fc) = w.get(&format!("/api/case-density?bbox={BOX}"), Some("other_gw")).await;
    assert_eq!(fc["total"], 1, "a grid worker's heat is their grid's cases only");
}

#[tokio::test]
async fn gcj02_shifts_the_answer_and_reads_the_box_in_gcj02() {
    let w = world().await;
    let (_, wgs) = w.get(&format!("/api/case-points?bbox={BOX}"), Some("operator")).await;
    let (s, gcj) = w.get(&format!("/api/case-points?bbox={BOX}&crs=gcj02"), Some("operator")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(gcj["crs"], "gcj02");
    assert_eq!(ids(&wgs), ids(&gcj));
    for f in wgs["features"].as_array().unwrap() {
        let g = gcj["features"].as_array().unwrap().iter().find(|x| x["id"] == f["id"]).unwrap();
        let c = |v: &Value, i: usize| v["geometry"]["coordinates"][i].as_f64().unwrap();
        let (lon, lat) = zhili_geo::gcj02::wgs84_to_gcj02(c(f, 0), c(f, 1));
        assert!((c(g, 0) - lon).abs() < 1e-6 && (c(g, 1) - lat).abs() < 1e-6, "{f} → {g}");
        assert!((c(g, 0) - c(f, 0)).abs() > 1e-3, "really shifted");
    }
    // A box drawn on a GCJ-02 map around 乙's case, as the map sends it.
    let b1 = &wgs["features"].as_array().unwrap().iter().find(|f| f["id"] == w.cases[3]).unwrap()["geometry"];
    let (lon, lat) = zhili_geo::gcj02::wgs84_to_gcj02(
        b1["coordinates"][0].as_f64().unwrap(),
        b1["coordinates"][1].as_f64().unwrap(),
    );
    let q = format!("/api/case-points?crs=gcj02&bbox={},{},{},{}", lon - 1e-4, lat - 1e-4, lon + 1e-4, lat + 1e-4);
    let (_, fc) = w.get(&q, Some("operator")).await;
    assert_eq!(ids(&fc), BTreeSet::from([w.cases[3]]));
    let (_, d) = w.get(&format!("/api/case-density?bbox={BOX}&crs=gcj02&cell=0.05"), Some("operator")).await;
    assert_eq!((d["total"].as_i64(), d["crs"].as_str()), (Some(4), Some("gcj02")));
}

/// The One Map page lists every registered layer in order (the map module's divisions and
/// grids, the case module's cases with its controls) and loads each layer's script after
/// `map.js`; only layers with features are OGC collections.
#[tokio::test]
async fn the_map_page_and_the_collections_follow_the_registered_layers() {
    let w = world().await;
    let got =
        w.answer(world::request("GET", "/map", w.token("operator")).body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(got.status, StatusCode::OK);
    let html = got.text();
    let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("{needle} missing from the map page:\n{html}"));
    assert!(at("id=\"toggle-divisions\" checked") < at("id=\"toggle-grids\" checked"));
    assert!(at("id=\"toggle-grids\"") < at("网格在放大到 10 级以上时显示。"));
    assert!(at("网格在放大到 10 级以上时显示。") < at("id=\"toggle-cases\">"));
    assert!(at("id=\"toggle-cases\"") < at("id=\"cases-controls\""));
    assert!(html.contains("<option value=\"30\" selected>近30天</option>") && html.contains("id=\"cases-msg\""));
    // Scripts are linked by their content-hashed names (`/assets/map.<hash>.js`).
    let script = |name: &str| format!("<script src=\"{}\">", zhili_server::web::asset::url(name));
    assert!(at(&script("map.js")) < at(&script("map-cases.js")));
    // The platform's bell script is on every page of a logged-in caller, not on the login page.
    assert!(html.contains(&script("notify.js")));
    let login = w.answer(world::request("GET", "/login", None).body(axum::body::Body::empty()).unwrap()).await;
    assert!(!login.text().contains("notify.js"), "{}", login.text());

    let (s, cols) = w.get("/ogc/collections", Some("operator")).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = cols["collections"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["divisions", "grids"]);
    for uri in ["/ogc/collections/cases", "/ogc/collections/cases/items", "/tiles/cases.json", "/tiles/cases/0/0/0.mvt"]
    {
        assert_eq!(w.get(uri, Some("operator")).await.0, StatusCode::NOT_FOUND, "{uri}");
    }
}

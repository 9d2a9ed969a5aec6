//! The citizens' public pages (群众随手拍) through the router without a socket: the report page
//! and the status page answer anonymously (no redirect to /login), in zh-CN by default and in
//! English with `?lang=en`, under a Content-Security-Policy without inline scripts; an unknown
//! number is a 404 page; a report posted through Open311 shows on its status page with its status
//! and without the reporter's phone. Runs on SQLite in a temporary directory.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use zhili_case::catalogue::Catalogue;
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::model::Division;
use zhili_grid::{Grid, GridCode};
use zhili_server::{app, AppState, ServerConfig};

mod common;

/// A point in village 甲's grid.
const HERE: (&str, &str) = ("36.405", "117.805");
const PHONE: &str = "13812345678";

fn c(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn grid(code: &str, w: f64, s: f64, e: f64, n: f64) -> Grid {
    let rect = json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]});
    Grid {
        code: GridCode::parse_any(code).unwrap(),
        name: format!("网格{code}"),
        level: 1,
        parent: None,
        boundary: zhili_geo::geometry::parse_area(&rect).unwrap(),
    }
}

struct World {
    app: Router,
    _dir: tempfile::TempDir,
}

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Got {
    fn csp(&self) -> &str {
        self.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// County 370304 with one township and village, one grid, the national catalogue.
async fn world() -> World {
    let (dir, store) = common::sqlite_store().await;
    let a = Actor::system();
    for (code, name) in [("370304", "博山区"), ("370304100", "域城镇"), ("370304100201", "甲村")] {
        store.upsert_division(&a, &Division { code: c(code), name: name.into(), boundary: None }).await.unwrap();
    }
    store.import_grids(&a, &[grid("37030410020101", 117.80, 36.40, 117.81, 36.42)]).await.unwrap();
    let catalogue = Catalogue::national();
    store.put_setting(&a, "case.catalogue", &serde_json::to_string(&catalogue).unwrap()).await.unwrap();
    let spatial = zhili_server::spatial::Spatial::start(store.clone()).await.unwrap();
    let app = app(AppState::new(store.clone(), ServerConfig::default()).with_spatial(spatial));
    World { app, _dir: dir }
}

impl World {
    async fn send(&self, req: Request<Body>) -> Got {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Got { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
    }

    async fn get(&self, uri: &str) -> Got {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    /// Report through Open311 as the public page does; answers the request id.
    async fn report(&self) -> i64 {
        let body = serde_urlencoded::to_string([
            ("service_code", "SJ0102"),
            ("lat", HERE.0),
            ("long", HERE.1),
            ("description", "小区门口暴露垃圾"),
            ("phone", PHONE),
            ("device_id", "0123456789abcdef"),
        ])
        .unwrap();
        let req = Request::post("/open311/v2/requests.json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let got = self.send(req).await;
        assert_eq!(got.status, StatusCode::CREATED, "{}", got.body);
        let v: Value = serde_json::from_str(&got.body).unwrap();
        v[0]["service_request_id"].as_i64().unwrap()
    }
}

/// A page's CSP allows scripts only from the site itself.
fn assert_strict_csp(got: &Got) {
    let csp = got.csp();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(!got.body.contains("<script>"), "inline script");
}

#[tokio::test]
async fn public_pages_answer_anonymously_in_chinese_with_a_strict_csp() {
    let w = world().await;

    let got = w.get("/public/report").await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_strict_csp(&got);
    assert!(got.body.contains("<html lang=\"zh-CN\">"), "{}", got.body);
    assert!(got.body.contains("群众随手拍"));
    assert!(got.body.contains("仅工作人员可见"), "the phone note");
    assert!(got.body.contains("<script src=\"/assets/public-report.js\"></script>"));
    assert!(got.body.contains("action=\"/public/requests\""), "the lookup box");
    assert!(!got.body.contains("type=\"file\""), "no anonymous photo upload");

    let got = w.get("/public/report?lang=en").await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body.contains("<html lang=\"en\">") && got.body.contains("Report a problem"));

    let got = w.get("/assets/public-report.js").await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body.contains("/open311/v2/requests.json"));

    // The login page shows citizens the way in.
    let got = w.get("/login").await;
    assert!(got.body.contains("href=\"/public/report\""), "{}", got.body);

    // An unknown number: the 404 page, not a login redirect.
    for uri in ["/public/requests/999999", "/public/requests/abc", "/public/requests/0"] {
        let got = w.get(uri).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{uri}: {}", got.body);
        assert_strict_csp(&got);
        assert!(got.body.contains("没有这个编号的诉求"), "{uri}: {}", got.body);
    }

    // The lookup box leads to the status page.
    let got = w.get("/public/requests?id=%2042").await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(got.headers["location"], "/public/requests/42");
    let got = w.get("/public/requests?id=x").await;
    assert_eq!(got.headers["location"], "/public/report");
}

#[tokio::test]
async fn a_public_report_shows_on_its_status_page_without_personal_data() {
    let w = world().await;
    let id = w.report().await;

    let got = w.get(&format!("/public/requests/{id}")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_strict_csp(&got);
    assert!(got.body.contains(&format!("<dd id=\"status-id\">{id}</dd>")), "{}", got.body);
    assert!(got.body.contains("data-status=\"open\""));
    assert!(got.body.contains("已受理 (open)"));
    assert!(got.body.contains("已提交，待立案"), "status detail");
    assert!(got.body.contains("暴露垃圾"), "the class name");
    assert!(!got.body.contains(PHONE), "the reporter's phone is never shown");

    let got = w.get(&format!("/public/requests/{id}?lang=en")).await;
    assert!(got.body.contains("Open (open)") && got.body.contains("Submitted, awaiting filing"), "{}", got.body);
}

//! The citizens' public pages (群众随手拍) through the router without a socket: the report page
//! and the status page answer anonymously (no redirect to /login), in zh-CN by default and in
//! English with `?lang=en`, under a Content-Security-Policy without inline scripts; an unknown
//! number is a 404 page; a report posted through Open311 shows on its status page with its status
//! and without the reporter's phone. Runs on SQLite in a temporary directory.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use zhili_case::catalogue::Catalogue;

use crate::world::{self, grid, Answer};

/// A point in village 甲's grid.
const HERE: (&str, &str) = ("36.405", "117.805");
const PHONE: &str = "13812345678";

/// The shared world, with no users.
struct World {
    base: world::World,
}
world::extends_world!(World);

/// County 370304 with one township and village, one grid, the national catalogue.
async fn world() -> World {
    let base = world::World::builder()
        .divisions(3)
        .grids(vec![grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42)])
        .catalogue(Catalogue::national())
        .build()
        .await;
    World { base }
}

impl World {
    async fn get(&self, uri: &str) -> Answer {
        self.answer(Request::get(uri).body(Body::empty()).unwrap()).await
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
        let got = self.answer(req).await;
        assert_eq!(got.status, StatusCode::CREATED, "{}", got.text());
        let v: Value = serde_json::from_str(&got.text()).unwrap();
        v[0]["service_request_id"].as_i64().unwrap()
    }
}

/// A page's CSP allows scripts only from the site itself.
fn assert_strict_csp(got: &Answer) {
    let csp = got.header("content-security-policy").unwrap_or("");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(!got.text().contains("<script>"), "inline script");
}

#[tokio::test]
async fn public_pages_answer_anonymously_in_chinese_with_a_strict_csp() {
    let w = world().await;

    let got = w.get("/public/report").await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_strict_csp(&got);
    assert!(got.text().contains("<html lang=\"zh-CN\">"), "{}", got.text());
    assert!(got.text().contains("群众随手拍"));
    assert!(got.text().contains("仅工作人员可见"), "the phone note");
    let script = format!("<script src=\"{}\"></script>", zhili_server::web::asset::url("public-report.js"));
    assert!(got.text().contains(&script));
    assert!(got.text().contains("action=\"/public/requests\""), "the lookup box");
    assert!(!got.text().contains("type=\"file\""), "no anonymous photo upload");

    let got = w.get("/public/report?lang=en").await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.text().contains("<html lang=\"en\">") && got.text().contains("Report a problem"));

    let got = w.get("/assets/public-report.js").await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.text().contains("/open311/v2/requests.json"));

    // The login page shows citizens the way in.
    let got = w.get("/login").await;
    assert!(got.text().contains("href=\"/public/report\""), "{}", got.text());

    // An unknown number: the 404 page, not a login redirect.
    for uri in ["/public/requests/999999", "/public/requests/abc", "/public/requests/0"] {
        let got = w.get(uri).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{uri}: {}", got.text());
        assert_strict_csp(&got);
        assert!(got.text().contains("没有这个编号的诉求"), "{uri}: {}", got.text());
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
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_strict_csp(&got);
    assert!(got.text().contains(&format!("<dd id=\"status-id\">{id}</dd>")), "{}", got.text());
    assert!(got.text().contains("data-status=\"open\""));
    assert!(got.text().contains("已受理") && !got.text().contains("(open)"), "{}", got.text());
    assert!(got.text().contains("已提交，待立案"), "status detail");
    assert!(got.text().contains("暴露垃圾"), "the class name");
    assert!(!got.text().contains(PHONE), "the reporter's phone is never shown");

    let got = w.get(&format!("/public/requests/{id}?lang=en")).await;
    assert!(got.text().contains("Open") && got.text().contains("Submitted, awaiting filing"), "{}", got.text());
    assert!(!got.text().contains("已受理") && !got.text().contains("(open)"), "{}", got.text());
}

//! The citizens' public pages (群众随手拍) through the router without a socket: the report page
//! and the status page answer anonymously (no redirect to /login), in zh-CN by default and in
//! English with `?lang=en`, under a Content-Security-Policy without inline scripts; an unknown
//! tracking code, and any case number, is a 404 page; a report posted through Open311 shows on
//! its status page (by its tracking code) with its status, without the reporter's phone, and once
//! handled with the department's result and when it was closed. Runs on SQLite in a temporary
//! directory.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use zhili_case::catalogue::Catalogue;
use zhili_core::policy::Role;

use crate::world::{self, grid, Answer};

/// A point in village 甲's grid.
const HERE: (&str, &str) = ("36.405", "117.805");
const PHONE: &str = "13812345678";

/// The shared world: an operator, a department's staff and a grid worker.
struct World {
    base: world::World,
}
world::extends_world!(World);

/// County 370304 with one township and village, one grid, the national catalogue.
async fn world() -> World {
    let base = world::World::builder()
        .divisions(3)
        .department("cgj", "城管局", "370304")
        .users(&[
            ("op", Role::Operator, "370304"),
            ("staff", Role::DepartmentStaff, "370304"),
            ("gw", Role::GridWorker, "370304100201"),
        ])
        .in_department(&["staff"], "cgj")
        .assign("gw", "37030410020101", zhili_grid::GridDuty::FullTime)
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

    /// Report through Open311 as the public page does; answers the request id (tracking code).
    async fn report(&self) -> String {
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
        v[0]["service_request_id"].as_str().unwrap().to_string()
    }

    /// Give a command to a case (by number or tracking code) as `who`.
    async fn step(&self, who: &str, id: &str, mut command: Value) {
        let token = self.token(who).unwrap().to_string();
        let (status, got) = self.call("GET", &format!("/api/cases/{id}"), Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{who} {command}: {got}");
        command["version"] = got["case"]["version"].clone();
        let (status, got) =
            self.call("POST", &format!("/api/cases/{id}/transitions"), Some(&token), Some(command)).await;
        assert_eq!(status, StatusCode::OK, "{got}");
    }
}

/// A page's CSP allows scripts only from the site itself.
fn assert_strict_csp(got: &Answer) {
    let csp = got.header("content-security-policy").unwrap_or("");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    // Inline styles only, for the map (MapLibre sets them); never inline scripts.
    assert!(
        csp.split(';').filter(|d| !d.trim().starts_with("style-src")).all(|d| !d.contains("unsafe-inline")),
        "{csp}"
    );
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
    assert!(got.text().contains("type=\"file\" id=\"photos\""), "photos");
    assert!(got.text().contains("最多 3 张，每张不超过"), "the photo limits, said");
    assert!(got.text().contains(&zhili_server::web::asset::url("pin-picker.js")), "the map pin");

    let got = w.get("/public/report?lang=en").await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.text().contains("<html lang=\"en\">") && got.text().contains("Report a problem"));

    let got = w.get("/assets/public-report.js").await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.text().contains("/open311/v2/requests.json"));

    // The login page shows citizens the way in.
    let got = w.get("/login").await;
    assert!(got.text().contains("href=\"/public/report\""), "{}", got.text());

    // An unknown code or a number: the 404 page, not a login redirect.
    for uri in
        ["/public/requests/999999", "/public/requests/1", "/public/requests/abc", "/public/requests/ZZZZZZZZZZZZZZZZ"]
    {
        let got = w.get(uri).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{uri}: {}", got.text());
        assert_strict_csp(&got);
        assert!(got.text().contains("没有这个查询码的诉求"), "{uri}: {}", got.text());
    }

    // The lookup box leads to the status page, the code read as typed.
    let got = w.get("/public/requests?id=%20abcd-efgh-jkmn-pqro%20").await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(got.headers["location"], "/public/requests/ABCDEFGHJKMNPQR0");
    let got = w.get("/public/requests?id=%2342").await;
    assert_eq!(got.headers["location"], "/public/requests/42");
    let got = w.get("/public/requests?id=").await;
    assert_eq!(got.headers["location"], "/public/report");
}

#[tokio::test]
async fn a_public_report_shows_on_its_status_page_without_personal_data() {
    let w = world().await;
    let id = w.report().await;

    let got = w.get(&format!("/public/requests/{id}")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_strict_csp(&got);
    assert!(
        got.text().contains(&format!("<dd id=\"status-id\" class=\"mono tracking-code\">{id}</dd>")),
        "{}",
        got.text()
    );
    assert!(!got.text().contains("status-result") && !got.text().contains("status-closed"), "not handled yet");
    // Typed in lower case, the code opens the same page; the case's number opens none.
    assert_eq!(w.get(&format!("/public/requests/{}", id.to_lowercase())).await.status, StatusCode::OK);
    let (_, case) = w.call("GET", &format!("/api/cases/{id}"), w.token("op"), None).await;
    let number = case["case"]["id"].as_i64().unwrap();
    assert_eq!(case["case"]["tracking_code"], id.as_str());
    let by_number = w.get(&format!("/public/requests/{number}")).await;
    assert_eq!(by_number.status, StatusCode::NOT_FOUND);
    assert!(!by_number.text().contains("暴露垃圾"), "{}", by_number.text());
    assert!(got.text().contains("data-status=\"open\""));
    assert!(got.text().contains("已受理") && !got.text().contains("(open)"), "{}", got.text());
    assert!(got.text().contains("已提交，待立案"), "status detail");
    assert!(got.text().contains("暴露垃圾"), "the class name");
    assert!(!got.text().contains(PHONE), "the reporter's phone is never shown");

    let got = w.get(&format!("/public/requests/{id}?lang=en")).await;
    assert!(got.text().contains("Open") && got.text().contains("Submitted, awaiting filing"), "{}", got.text());
    assert!(!got.text().contains("已受理") && !got.text().contains("(open)"), "{}", got.text());
}

/// Once the department has reported back, the status page shows its note (personal data masked)
/// and, once closed, when: in local time (the calendar's UTC+8), in both languages.
#[tokio::test]
async fn the_status_page_shows_the_handling_result_and_when_it_was_closed() {
    let w = world().await;
    let id = w.report().await;
    // A photo for the report-back, as the department uploads it.
    let png = b"\x89PNG\r\n\x1a\n0123456789abcdef".to_vec();
    let req = world::request("POST", "/api/attachments", w.token("staff")).header("content-type", "image/png");
    let got = w.answer(req.body(Body::from(png)).unwrap()).await;
    assert_eq!(got.status, StatusCode::CREATED, "{}", got.text());
    let photo = got.value()["id"].as_str().unwrap().to_string();

    w.step("op", &id, json!({"command": "file"})).await;
    w.step("op", &id, json!({"command": "dispatch", "department": "cgj"})).await;
    w.step("staff", &id, json!({"command": "accept"})).await;
    let page = w.get(&format!("/public/requests/{id}")).await.text();
    assert!(!page.contains("status-result"), "no result while handled: {page}");
    let note = "已清运垃圾两车，联系人 13912345678";
    w.step("staff", &id, json!({"command": "respond", "note": note, "photos": [photo]})).await;
    let page = w.get(&format!("/public/requests/{id}")).await.text();
    assert!(page.contains("<dd id=\"status-result\">已清运垃圾两车，联系人 139****5678</dd>"), "{page}");
    assert!(page.contains("处理结果") && !page.contains("13912345678"), "{page}");
    assert!(!page.contains("status-closed"), "not closed yet");

    w.step("gw", &id, json!({"command": "verify", "passed": true, "photos": [photo]})).await;
    w.step("op", &id, json!({"command": "close"})).await;
    let (_, case) = w.call("GET", &format!("/api/cases/{id}"), w.token("op"), None).await;
    let closed: chrono::DateTime<chrono::Utc> = case["case"]["closed_at"].as_str().unwrap().parse().unwrap();
    let local =
        closed.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).format("%Y-%m-%d %H:%M").to_string();
    let page = w.get(&format!("/public/requests/{id}")).await.text();
    assert!(page.contains(&format!("<dd id=\"status-closed\">{local}</dd>")), "{local}: {page}");
    assert!(page.contains("办结时间") && page.contains("data-status=\"closed\""), "{page}");
    assert!(page.contains("已清运垃圾两车"), "the result stays once closed");
    let page = w.get(&format!("/public/requests/{id}?lang=en")).await.text();
    assert!(page.contains("<dt>Result</dt>") && page.contains("<dt>Closed</dt>"), "{page}");
    assert!(!page.contains("处理结果") && !page.contains("办结时间"), "{page}");
}

//! Errors as people and programs meet them: an unknown route answers a browser that navigates
//! (`Accept: text/html`) with the HTML 404 page in the frame and a JSON client with the JSON
//! error; every JSON error keeps `code`, `message` and `field` and adds `text` in the caller's
//! language, with the message `key` and its `params` when the message is specific.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use zhili_case::catalogue::Catalogue;
use zhili_core::policy::Role;

use crate::world::{grid, request, with_json, Answer, World};

async fn get(w: &World, uri: &str, accept: &str, lang: Option<&str>) -> Answer {
    let mut r = Request::get(uri).header("accept", accept);
    if let Some(l) = lang {
        r = r.header("accept-language", l);
    }
    w.answer(r.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn an_unknown_route_is_an_html_page_for_a_browser_and_json_for_a_client() {
    let w = World::builder().divisions(1).build().await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    let got = get(&w, "/no/such/page", browser, None).await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    assert!(got.header("content-type").unwrap().starts_with("text/html"), "{:?}", got.headers);
    let html = got.text();
    assert!(html.contains("<html lang=\"zh-CN\"") && html.contains("页面不存在"), "{html}");
    assert!(!html.contains("route_not_found") && !html.contains("{\""), "no JSON in the page: {html}");

    let got = get(&w, "/no/such/page", browser, Some("en-GB,en;q=0.9")).await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    assert!(got.text().contains("<html lang=\"en\"") && got.text().contains("No such page"), "{}", got.text());

    // A JSON client (or a page's fetch, which accepts */*) keeps the JSON error.
    for accept in ["application/json", "*/*"] {
        let got = get(&w, "/no/such/page", accept, None).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND);
        let e = &got.value()["error"];
        assert_eq!(e["code"], "route_not_found", "{e}");
        assert_eq!(e["message"], "接口不存在");
        assert_eq!(e["text"], "接口不存在");
    }
    let got = get(&w, "/api/nothing-here", "application/json", Some("en")).await;
    assert_eq!(got.value()["error"]["text"], "No such route");
}

#[tokio::test]
async fn a_specific_error_has_its_key_params_and_text_in_the_callers_language() {
    let w = World::builder()
        .divisions(3)
        .users(&[("operator", Role::Operator, "370304")])
        .grids(vec![grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42)])
        .catalogue(Catalogue::national())
        .build()
        .await;
    let body = json!({"class_code": "SJ0102", "lon": 116.4, "lat": 39.9, "description": "路边暴露垃圾"});
    let (s, b) = w.call("POST", "/api/cases", w.token("operator"), Some(body.clone())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let e = &b["error"];
    // What API clients relied on is unchanged.
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("invalid_field"), Some("lon")));
    assert!(e["message"].as_str().unwrap().contains("outside the district"), "{e}");
    // What people read: the user's language (zh-CN by default).
    assert_eq!(e["key"], "case.error.outside_district");
    assert_eq!(e["params"], json!({"lon": "116.400000", "lat": "39.900000"}));
    assert_eq!(e["text"], "位置 116.400000, 39.900000 不在本辖区范围内");

    let (_, b) = w.call("PUT", "/api/me/locale", w.token("operator"), Some(json!({"locale": "en"}))).await;
    assert!(b.get("error").is_none(), "{b}");
    let (_, b) = w.call("POST", "/api/cases", w.token("operator"), Some(body)).await;
    assert_eq!(b["error"]["text"], "The position 116.400000, 39.900000 is outside the district");

    // A transition refused by the state machine names the command and field in the language.
    let ok = json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "路边暴露垃圾"});
    let (s, b) = w.call("POST", "/api/cases", w.token("operator"), Some(ok)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["case"]["id"].as_i64().unwrap();
    let version = b["case"]["version"].as_i64().unwrap();
    let t = json!({"command": "void", "version": version});
    let req = with_json(request("POST", &format!("/api/cases/{id}/transitions"), w.token("operator")), Some(t));
    let (s, b) = w.send(req).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["key"], "case.error.missing_field", "{b}");
    assert_eq!(b["error"]["text"], "“Void” needs the reason", "{b}");
}

//! The settings pages (设置) for the case catalogue and the work calendar: who sees them, who
//! may edit, and the optimistic check (`If-Match` / 409 `stale_version`) on their PUTs.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use zhili_core::policy::Role;

use crate::world;

/// The shared world and its three users' tokens.
struct World {
    base: world::World,
    admin: String,
    leader: String,
    operator: String,
}
world::extends_world!(World);

/// One county, one department, an administrator, a leader and an operator.
async fn world() -> World {
    let base = world::World::builder()
        .divisions(1)
        .department("cgj", "城管局", "370304")
        .users(&[
            ("admin", Role::Admin, "370304"),
            ("leader", Role::Leader, "370304"),
            ("operator", Role::Operator, "370304"),
        ])
        .without_spatial()
        .build()
        .await;
    let token = |name: &str| base.tokens[name].clone();
    World { admin: token("admin"), leader: token("leader"), operator: token("operator"), base }
}

impl World {
    /// Status, ETag and body (JSON, or the text as a JSON string).
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: &str,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let mut req = world::request(method, uri, Some(token));
        if let Some(v) = if_match {
            req = req.header("if-match", v);
        }
        let got = self.answer(world::with_json(req, body)).await;
        (got.status, got.header("etag").map(String::from), got.value())
    }

    async fn page(&self, path: &str, token: &str) -> (StatusCode, String) {
        let (s, _, b) = self.call("GET", path, token, None, None).await;
        (s, b.as_str().unwrap_or_default().to_string())
    }
}

#[tokio::test]
async fn pages_answer_every_case_role_and_only_administrators_get_edit_controls() {
    let w = world().await;
    let (s, admin) = w.page("/settings/case-classes", &w.admin).await;
    assert_eq!(s, StatusCode::OK);
    assert!(admin.contains("id=\"class-form\"") && admin.contains("id=\"import-form\""), "{admin}");
    assert!(admin.contains("data-edit=\"true\"") && !admin.contains("id=\"read-only\""));
    assert!(admin.contains("href=\"/settings/calendar\""), "the nav links the pages");
    for token in [&w.leader, &w.operator] {
        let (s, page) = w.page("/settings/case-classes", token).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!page.contains("id=\"class-form\"") && !page.contains("id=\"import-form\""), "{page}");
        assert!(page.contains("data-edit=\"false\"") && page.contains("id=\"read-only\""));
        assert!(page.contains("/api/case-classes/export?format=xlsx"), "export stays for readers");
    }

    let (s, admin) = w.page("/settings/calendar", &w.admin).await;
    assert_eq!(s, StatusCode::OK);
    assert!(admin.contains("id=\"calendar-save\"") && admin.contains("id=\"text-import\""), "{admin}");
    assert!(!admin.contains("<fieldset disabled"));
    let (s, leader) = w.page("/settings/calendar", &w.leader).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!leader.contains("id=\"calendar-save\"") && !leader.contains("id=\"text-import\""), "{leader}");
    assert!(leader.contains("<fieldset disabled") && leader.contains("data-edit=\"false\""));

    // Not logged in: to the login page.
    let got = w.answer(Request::get("/settings/calendar").body(Body::empty()).unwrap()).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn only_administrators_put_and_a_stale_version_is_refused() {
    let w = world().await;
    let (s, etag, classes) = w.call("GET", "/api/case-classes", &w.leader, None, None).await;
    assert_eq!(s, StatusCode::OK);
    let etag = etag.expect("the catalogue has a version");
    let mut edited = classes.clone();
    edited[0]["limits"]["handle"] = json!({"unit": "working_days", "value": 3});
    edited[0]["department"] = json!({"rule": "department", "department": "cgj"});
    let body = json!({ "classes": edited });

    for token in [&w.leader, &w.operator] {
        let (s, _, b) = w.call("PUT", "/api/case-classes", token, Some(&etag), Some(body.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let cal = serde_json::to_value(zhili_case::calendar::WorkCalendar::china()).unwrap();
        let (s, _, _) = w.call("PUT", "/api/work-calendar", token, None, Some(cal)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }

    // A dry run checks and writes nothing.
    let (s, _, b) = w.call("PUT", "/api/case-classes?dry_run=true", &w.admin, Some(&etag), Some(body.clone())).await;
    assert_eq!((s, b["dry_run"].as_bool()), (StatusCode::OK, Some(true)), "{b}");
    let (_, same, _) = w.call("GET", "/api/case-classes", &w.admin, None, None).await;
    assert_eq!(same.as_deref(), Some(etag.as_str()));

    // The administrator saves against the version read …
    let (s, new_etag, b) = w.call("PUT", "/api/case-classes", &w.admin, Some(&etag), Some(body.clone())).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["classes"].as_u64(), Some(edited.as_array().unwrap().len() as u64));
    let new_etag = new_etag.unwrap();
    assert_ne!(new_etag, etag);
    let (_, got_etag, got) = w.call("GET", "/api/case-classes", &w.leader, None, None).await;
    assert_eq!(got_etag.as_deref(), Some(new_etag.as_str()));
    assert_eq!(got[0]["limits"]["handle"], json!({"unit": "working_days", "value": 3}));
    assert_eq!(got[0]["department"], json!({"rule": "department", "department": "cgj"}));

    // … and a second edit based on the old version is refused, not silently applied.
    let mut other = classes.clone();
    other[0]["name"] = json!("别人的修改");
    let (s, _, b) = w.call("PUT", "/api/case-classes", &w.admin, Some(&etag), Some(json!({ "classes": other }))).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!((b["error"]["code"].as_str(), b["error"]["field"].as_str()), (Some("stale_version"), Some("version")));
    let (_, _, got) = w.call("GET", "/api/case-classes", &w.leader, None, None).await;
    assert_ne!(got[0]["name"], json!("别人的修改"));

    // Problems name the class and the column.
    let mut bad = got.clone();
    bad[1]["name"] = json!("");
    let (s, _, b) =
        w.call("PUT", "/api/case-classes", &w.admin, Some(&new_etag), Some(json!({ "classes": bad }))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "classes");
    assert_eq!(b["problems"][0]["code"], got[1]["code"]);
    assert_eq!(b["problems"][0]["field"], "小类名称");
    assert!(b["problems"][0]["message"].as_str().unwrap().contains("empty"), "{b}");

    // The calendar: the same check.
    let (s, cal_etag, cal) = w.call("GET", "/api/work-calendar", &w.operator, None, None).await;
    assert_eq!(s, StatusCode::OK);
    let cal_etag = cal_etag.unwrap();
    let mut holiday = cal.clone();
    holiday["holidays"].as_array_mut().unwrap().push(json!("2026-03-11"));
    let (s, _, b) = w.call("PUT", "/api/work-calendar", &w.admin, Some(&cal_etag), Some(holiday.clone())).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _, b) = w.call("PUT", "/api/work-calendar", &w.admin, Some(&cal_etag), Some(cal.clone())).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("stale_version")), "{b}");
    let (_, _, now) = w.call("GET", "/api/work-calendar", &w.leader, None, None).await;
    assert!(now["holidays"].as_array().unwrap().contains(&json!("2026-03-11")));

    // Validation names the calendar's field.
    let mut overlap = now.clone();
    overlap["periods"] = json!([{"start": "08:30", "end": "12:00"}, {"start": "11:00", "end": "17:30"}]);
    let (s, _, b) = w.call("PUT", "/api/work-calendar", &w.admin, None, Some(overlap)).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("periods")), "{b}");
}

#[tokio::test]
async fn holiday_text_round_trips_and_names_the_bad_line() {
    let w = world().await;
    let body = json!({"holidays": ["2026-10-01", "2026-10-02", "2026-10-03"], "workdays": ["2026-10-10"]});
    let (s, _, b) = w.call("POST", "/api/work-calendar/holiday-text", &w.leader, None, Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let text = b["text"].as_str().unwrap();
    assert!(text.contains("2026-10-01..2026-10-03 休") && text.contains("2026-10-10 班"), "{text}");
    let (s, _, back) =
        w.call("POST", "/api/work-calendar/holiday-text", &w.leader, None, Some(json!({"text": text}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(back["holidays"], json!(["2026-10-01", "2026-10-02", "2026-10-03"]));
    assert_eq!(back["workdays"], json!(["2026-10-10"]));
    let (s, _, b) = w
        .call(
            "POST",
            "/api/work-calendar/holiday-text",
            &w.admin,
            None,
            Some(json!({"text": "2026-10-01 休\n2026-13-01 休"})),
        )
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("text")), "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("line 2"), "{b}");
}

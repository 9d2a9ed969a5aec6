//! The home page's queues (我的待办): each role's counts, each the count of the worklist its link
//! opens; the worklist's default order (new work first) with overdue rows highlighted; and the
//! login that returns to the link that was followed.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use zhili_core::policy::Role;
use zhili_grid::GridDuty;

use crate::world::ports::CaseStore;
use crate::world::{self, grid, World, PASSWORD};

/// County 370304 with the department 城管局, one user per role, a grid worker over two grids.
async fn world() -> World {
    World::builder()
        .department("cgj", "城管局", "370304")
        .users(&[
            ("admin", Role::Admin, "370304"),
            ("leader", Role::Leader, "370304"),
            ("operator", Role::Operator, "370304"),
            ("staff", Role::DepartmentStaff, "370304"),
            ("gridworker", Role::GridWorker, "370304100201"),
        ])
        .in_department(&["staff"], "cgj")
        .grids(vec![
            grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42),
            grid("37030410020111", 2, Some("37030410020101"), 117.80, 36.40, 117.81, 36.41),
        ])
        .assign("gridworker", "37030410020101", GridDuty::Leader)
        .build()
        .await
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 31, 21, 196,
    137, 0, 0, 0, 13, 73, 68, 65, 84, 120, 218, 99, 100, 248, 207, 80, 15, 0, 3, 134, 1, 128, 90, 52, 125, 107, 0, 0,
    0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

async fn report(w: &World, who: &str) -> i64 {
    let body = json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "路边暴露垃圾一堆"});
    let (s, b) = w.call("POST", "/api/cases", w.token(who), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["case"]["id"].as_i64().unwrap()
}

async fn act(w: &World, who: &str, id: i64, cmd: Value) {
    let (_, c) = w.call("GET", &format!("/api/cases/{id}"), w.token(who), None).await;
    let mut body = cmd;
    body["version"] = c["case"]["version"].clone();
    let (s, b) = w.call("POST", &format!("/api/cases/{id}/transitions"), w.token(who), Some(body.clone())).await;
    assert_eq!(s, StatusCode::OK, "{who} {body} → {b}");
}

/// The home page of `who`, as HTML.
async fn home(w: &World, who: &str) -> String {
    let (s, b) = w.call("GET", "/", w.token(who), None).await;
    assert_eq!(s, StatusCode::OK);
    b.as_str().unwrap().to_string()
}

/// The figure and link of the tile `id` on a home page.
fn tile(html: &str, id: &str) -> (String, String) {
    let at = html.find(&format!("id=\"tile-{id}\"")).unwrap_or_else(|| panic!("no tile {id} in {html}"));
    let rest = &html[at..];
    let href = rest.split("href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&#38;", "&");
    let figure = rest.split("<b>").nth(1).unwrap().split("</b>").next().unwrap().to_string();
    (figure, href)
}

/// How many cases the worklist at `href` (a `/cases?…` link) lists for `who`.
async fn listed(w: &World, who: &str, href: &str) -> usize {
    let (s, b) = w.call("GET", href, w.token(who), None).await;
    assert_eq!(s, StatusCode::OK, "{href}");
    b.as_str().unwrap().matches("<tr data-id=").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_its_queue_and_each_count_is_its_list() {
    let w = world().await;
    // Six reports by the hotline and one by the grid worker; then along the loop: two filed,
    // two dispatched (one accepted), one responded, one verified.
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(report(&w, "operator").await);
    }
    let mine = report(&w, "gridworker").await;
    for &id in &ids[..5] {
        act(&w, "operator", id, json!({"command": "file"})).await;
    }
    for &id in &ids[..4] {
        act(&w, "operator", id, json!({"command": "dispatch", "department": "cgj"})).await;
    }
    for &id in &ids[..3] {
        act(&w, "staff", id, json!({"command": "accept"})).await;
    }
    let req = world::request("POST", "/api/attachments", w.token("staff"))
        .header("content-type", "image/png")
        .body(Body::from(PNG.to_vec()))
        .unwrap();
    let (s, b) = w.send(req).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let photo = b["id"].as_str().unwrap().to_string();
    for &id in &ids[..2] {
        act(&w, "staff", id, json!({"command": "respond", "note": "已清运", "photos": [photo]})).await;
    }
    act(&w, "gridworker", ids[0], json!({"command": "verify", "passed": true})).await;
    // Now: ids[0] verified, ids[1] responded, ids[2] handling, ids[3] dispatched, ids[4] filed,
    // ids[5] and the grid worker's reported.

    let expect: &[(&str, &[(&str, &str)])] = &[
        ("gridworker", &[("to-check", "1"), ("to-verify", "2"), ("my-reports", "1")]),
        ("staff", &[("to-accept", "1"), ("handling", "1"), ("due-soon", "0"), ("overdue", "0")]),
        ("operator", &[("to-file", "2"), ("to-dispatch", "1"), ("to-close", "1"), ("overdue", "0")]),
        ("admin", &[("to-file", "2"), ("to-dispatch", "1"), ("to-close", "1"), ("divisions", "")]),
        ("leader", &[("reported-today", "7"), ("closed-today", "0"), ("overdue-now", "0")]),
    ];
    for &(who, tiles) in expect {
        let html = home(&w, who).await;
        for &(id, figure) in tiles {
            let (got, href) = tile(&html, id);
            if figure.is_empty() {
                continue;
            }
            assert_eq!(got, figure, "{who}: {id}");
            if href.starts_with("/cases?") {
                assert_eq!(listed(&w, who, &href).await.to_string(), figure, "{who}: {id} → {href}");
            }
        }
        // The old tiles are the administrator's alone.
        assert_eq!(html.contains("id=\"tile-divisions\""), who == "admin", "{who}");
    }
    let (_, href) = tile(&home(&w, "gridworker").await, "to-check");
    assert_eq!(href, "/cases?state=responded");
    let (s, b) = w.call("GET", "/api/cases?mine=true", w.token("gridworker"), None).await;
    assert_eq!((s, b["items"][0]["id"].as_i64()), (StatusCode::OK, Some(mine)));

    // The leader's on-time rate links to the figures; the day's tiles to their lists.
    let html = home(&w, "leader").await;
    assert_eq!(tile(&html, "on-time-rate").1, "/dashboard");
    assert!(tile(&html, "closed-today").1.starts_with("/cases?state=closed,evaluated&closed_from="));
    // Closing one: closed today counts it, and the list shows it.
    act(&w, "operator", ids[0], json!({"command": "close"})).await;
    let (figure, href) = tile(&home(&w, "leader").await, "closed-today");
    assert_eq!((figure.as_str(), listed(&w, "leader", &href).await), ("1", 1));

    // English on request.
    let (s, _) = w.call("PUT", "/api/me/locale", w.token("staff"), Some(json!({"locale": "en"}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let html = home(&w, "staff").await;
    assert!(html.contains("To accept") && html.contains("My to-do"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_work_is_not_buried_under_old_overdue_cases() {
    let w = world().await;
    let id = report(&w, "operator").await;
    act(&w, "operator", id, json!({"command": "file"})).await;
    act(&w, "operator", id, json!({"command": "dispatch", "department": "cgj"})).await;
    // Many year-old cases, dispatched to the department and long overdue.
    let new = w.store.case(id).await.unwrap();
    let timeline = w.store.timeline(id).await.unwrap();
    let year_ago = Utc::now() - Duration::days(365);
    let old: Vec<_> = (0..60)
        .map(|i| {
            let mut c = new.clone();
            c.external_id = None;
            c.reported_at = year_ago + Duration::minutes(i);
            c.clock.started_at = Some(c.reported_at);
            c.clock.deadline = Some(c.reported_at + Duration::days(3));
            c.clock.handle_deadline = c.clock.deadline;
            c.dispatched_at = Some(c.reported_at);
            c.filed_at = Some(c.reported_at);
            c.updated_at = c.reported_at;
            let mut tl = timeline.clone();
            for e in &mut tl {
                e.at = c.reported_at;
            }
            (c, tl)
        })
        .collect();
    w.store.load_cases(&zhili_core::audit::Actor::system(), &old).await.unwrap();

    // The department's worklist leads with the new dispatch; the old order with the oldest.
    let first = |b: &Value| b["items"][0]["id"].as_i64().unwrap();
    let (_, b) = w.call("GET", "/api/cases?limit=5", w.token("staff"), None).await;
    assert_eq!(first(&b), id, "{b}");
    let (_, b) = w.call("GET", "/api/cases?limit=5&sort=deadline", w.token("staff"), None).await;
    assert_ne!(first(&b), id);
    assert_eq!(b["items"][0]["clock"]["overdue"], true, "{b}");
    let (_, b) = w.call("GET", "/api/cases?limit=5&sort=newest", w.token("operator"), None).await;
    assert_eq!(first(&b), id + 60, "newest first: the last loaded");
    let (s, b) = w.call("GET", "/api/cases?sort=sideways", w.token("staff"), None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("sort")));

    // The page: the new case first, the overdue ones highlighted after it, and the order kept
    // by the pager.
    let (_, html) = w.call("GET", "/cases", w.token("staff"), None).await;
    let html = html.as_str().unwrap();
    let rows: Vec<&str> = html.split("<tr data-id=\"").skip(1).collect();
    assert!(rows[0].starts_with(&format!("{id}\"")), "{}", rows[0]);
    assert!(!rows[0].split('>').next().unwrap().contains("overdue"));
    assert!(rows[1].split('>').next().unwrap().contains("class=\"overdue\""), "{}", rows[1]);
    let (_, html) = w.call("GET", "/cases?sort=deadline", w.token("staff"), None).await;
    assert!(html.as_str().unwrap().contains("offset=50&#38;sort=deadline"), "the pager keeps the order");

    // 即将超时: a clock that runs out within 4 working hours.
    let mut soon = w.store.case(id).await.unwrap();
    let entry = w.store.timeline(id).await.unwrap().pop().unwrap();
    soon.version += 1;
    soon.clock.deadline = Some(Utc::now() + Duration::minutes(30));
    w.store.update_case(&zhili_core::audit::Actor::system(), &soon, &entry).await.unwrap();
    let (figure, href) = tile(&home(&w, "staff").await, "due-soon");
    assert_eq!((figure.as_str(), href.as_str()), ("1", "/cases?state=dispatched,handling&due_soon=1"));
    assert_eq!(listed(&w, "staff", &href).await, 1);
    assert_eq!(tile(&home(&w, "staff").await, "overdue").0, "60");
}

/// Post the login form with `next`; answer where it sends the browser.
async fn login_to(w: &World, next: &str) -> String {
    let got = w.answer(Request::get("/login").body(Body::empty()).unwrap()).await;
    let set = got.header("set-cookie").unwrap().to_string();
    let csrf = set.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    let form = serde_urlencoded::to_string([
        ("username", "staff"),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
        ("next", next),
    ])
    .unwrap();
    let req = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("zhili_login_csrf={csrf}"))
        .body(Body::from(form))
        .unwrap();
    let got = w.answer(req).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    got.header("location").unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_returns_to_the_link_followed() {
    let w = world().await;
    // A link followed without a session: to the login, remembering the whole link.
    let got = w.answer(Request::get("/cases/200001?x=1").body(Body::empty()).unwrap()).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    let to_login = got.header("location").unwrap().to_string();
    assert_eq!(to_login, "/login?next=%2Fcases%2F200001%3Fx%3D1");
    let got = w.answer(Request::get(to_login.as_str()).body(Body::empty()).unwrap()).await;
    let form = got.text();
    let login_form = form.split("action=\"/login\"").nth(1).unwrap();
    let next = login_form.split("name=\"next\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(next, "/cases/200001?x=1");
    assert_eq!(login_to(&w, "/cases/200001?x=1").await, "/cases/200001?x=1");
    let got = w.answer(Request::get("/cases?state=dispatched&due_soon=1").body(Body::empty()).unwrap()).await;
    assert_eq!(got.header("location"), Some("/login?next=%2Fcases%3Fstate%3Ddispatched%26due_soon%3D1"));
    // Non-ASCII in the link survives, percent-encoded.
    assert_eq!(login_to(&w, "/cases?grid=网格").await, "/cases?grid=%E7%BD%91%E6%A0%BC");
    // Never to another site.
    for evil in [
        "//evil.example/x",
        "http://evil.example/",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil",
        "/\t/evil.example",
        "evil",
        "",
    ] {
        assert_eq!(login_to(&w, evil).await, "/", "{evil:?}");
    }
}

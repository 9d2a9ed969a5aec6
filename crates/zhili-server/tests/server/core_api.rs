//! The router without a socket: every role against every route, jurisdictions, and bad
//! input. Runs on SQLite in a temporary directory.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use zhili_core::audit::Actor;
use zhili_core::policy::Role;
use zhili_core::store::{Page, UserFilter, UserUpdate};
use zhili_grid::GridDuty;

use crate::world::ports::*;
use crate::world::{self, grid, rect, PASSWORD};

/// The shared world and the photo its seeding uploaded.
struct World {
    base: world::World,
    photo: String,
}
world::extends_world!(World);

/// County 370304 with towns 100 and 101, a village in each, two departments, and one user
/// per role (plus a township leader and a township operator for jurisdiction checks).
async fn world() -> World {
    let mut base = world::World::builder()
        .department("cgj", "城管局", "370304")
        .department("t101", "白塔镇政府", "370304101")
        .users(&[
            ("admin", Role::Admin, "370304"),
            ("leader", Role::Leader, "370304"),
            ("operator", Role::Operator, "370304"),
            ("staff", Role::DepartmentStaff, "370304"),
            ("gridworker", Role::GridWorker, "370304100201"),
            ("town_leader", Role::Leader, "370304100"),
            ("town_operator", Role::Operator, "370304100"),
            ("town_admin", Role::Admin, "370304100"),
            ("other_gw", Role::GridWorker, "370304101201"),
        ])
        .in_department(&["staff"], "cgj")
        .not_logged_in(&["other_gw"])
        .phone("13812341999")
        // Grids: two levels in village 甲, one grid in village 乙.
        .grids(vec![
            grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42),
            grid("37030410020111", 2, Some("37030410020101"), 117.80, 36.40, 117.81, 36.41),
            grid("37030410120101", 1, None, 117.90, 36.40, 117.91, 36.42),
        ])
        .assign("gridworker", "37030410020101", GridDuty::Leader)
        .assign("other_gw", "37030410120101", GridDuty::FullTime)
        .config(|c| {
            c.body_limit_bytes = 4096;
            c.photo_max_bytes = 1024;
        })
        .build()
        .await;
    base.ids.insert("dept_county", base.ids["cgj"]);
    base.ids.insert("dept_other_town", base.ids["t101"]);
    // A photo and a case reported by the operator in 甲's small grid.
    let req = world::request("POST", "/api/attachments", base.token("operator"))
        .header("content-type", "image/png")
        .body(Body::from(PNG.to_vec()))
        .unwrap();
    let (s, b) = base.send(req).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let photo = b["id"].as_str().unwrap().to_string();
    let (s, b) = base.call("POST", "/api/cases", base.token("operator"), Some(report_body(0))).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    base.ids.insert("case", b["case"]["id"].as_i64().unwrap());
    World { base, photo }
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 31, 21, 196,
    137, 0, 0, 0, 13, 73, 68, 65, 84, 120, 218, 99, 100, 248, 207, 80, 15, 0, 3, 134, 1, 128, 90, 52, 125, 107, 0, 0,
    0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// A report of exposed rubbish (暴露垃圾) in village 甲's small grid.
fn report_body(_: usize) -> Value {
    json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "路边暴露垃圾一堆"})
}

impl World {
    async fn domain_counts(&self) -> (i64, usize, i64) {
        (
            self.store.count_users(&UserFilter::default()).await.unwrap(),
            self.store.departments(None, Page { offset: 0, limit: 1000 }).await.unwrap().len(),
            self.store.count_divisions(None).await.unwrap(),
        )
    }
}

const ROLES: [&str; 6] = ["admin", "leader", "operator", "staff", "gridworker", "public"];

/// One route: method, path (`{gw}` etc. replaced by ids), body, and the expected status for
/// admin, leader, operator, staff, grid worker, public.
struct Case {
    method: &'static str,
    path: &'static str,
    openapi: &'static str,
    body: Option<fn(usize) -> Value>,
    expect: [u16; 6],
}

fn cases() -> Vec<Case> {
    let c = |method, path, openapi, body, expect| Case { method, path, openapi, body, expect };
    vec![
        c("GET", "/healthz", "/healthz", None, [200; 6]),
        c("GET", "/metrics", "/metrics", None, [200; 6]),
        c("GET", "/api/openapi.json", "/api/openapi.json", None, [200; 6]),
        c("GET", "/api/me", "/api/me", None, [200, 200, 200, 200, 200, 401]),
        c(
            "PUT",
            "/api/me/locale",
            "/api/me/locale",
            Some(|_| json!({"locale": "zh-CN"})),
            [204, 204, 204, 204, 204, 401],
        ),
        c("GET", "/api/divisions", "/api/divisions", None, [200; 6]),
        c("GET", "/api/divisions/370304100201", "/api/divisions/{code}", None, [200; 6]),
        c(
            "PUT",
            "/api/divisions/370304100202",
            "/api/divisions/{code}",
            Some(
                |_| json!({"name": "新村", "boundary": {"type": "Polygon", "coordinates": [[[117.8, 36.4], [117.81, 36.4], [117.81, 36.41], [117.8, 36.4]]]}}),
            ),
            [200, 403, 403, 403, 403, 401],
        ),
        c("GET", "/api/departments", "/api/departments", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/departments/{dept_county}", "/api/departments/{id}", None, [200, 200, 200, 200, 200, 401]),
        // A town department is outside the grid worker's jurisdiction (and not above it).
        c("GET", "/api/departments/{dept_other_town}", "/api/departments/{id}", None, [200, 200, 200, 200, 404, 401]),
        c(
            "POST",
            "/api/departments",
            "/api/departments",
            Some(|i| json!({"code": format!("dep{i}"), "name": "新部门", "division": "370304"})),
            [201, 403, 403, 403, 403, 401],
        ),
        c("GET", "/api/users", "/api/users", None, [200, 200, 200, 403, 403, 401]),
        c("GET", "/api/users/{gridworker}", "/api/users/{id}", None, [200, 200, 200, 403, 403, 401]),
        c("GET", "/api/users/{gridworker}/personal", "/api/users/{id}/personal", None, [200, 403, 200, 403, 403, 401]),
        c(
            "POST",
            "/api/users",
            "/api/users",
            Some(|i| {
                json!({"username": format!("new{i}"), "display_name": "新用户", "role": "grid_worker",
                       "jurisdiction": "370304100201", "password": "another-pass-1"})
            }),
            [201, 403, 403, 403, 403, 401],
        ),
        c(
            "PATCH",
            "/api/users/{other_gw}",
            "/api/users/{id}",
            Some(|_| json!({"display_name": "改名"})),
            [200, 403, 403, 403, 403, 401],
        ),
        c(
            "PUT",
            "/api/me/password",
            "/api/me/password",
            Some(|_| json!({"current_password": "not-it", "new_password": "whatever-123"})),
            [422, 422, 422, 422, 422, 401],
        ),
        c(
            "PUT",
            "/api/users/{other_gw}/password",
            "/api/users/{id}/password",
            Some(|_| json!({"password": "reset-pass-123"})),
            [204, 403, 403, 403, 403, 401],
        ),
        c("GET", "/api/grids", "/api/grids", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/grids/export", "/api/grids/export", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/grids", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/cases", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/cases?state=reported&overdue=1", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/cases/{case}", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/report", "", None, [200, 403, 200, 403, 200, 303]),
        c("GET", "/dashboard", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/open311/v2/services.json", "", None, [200; 6]),
        // The world's case is a grid worker's report: not public, so not found by anyone on Open311.
        c("GET", "/open311/v2/requests/{case}.json", "", None, [404; 6]),
        c("GET", "/assets/vendor/echarts/echarts.common.min.js", "", None, [200; 6]),
        // The grid worker leads 01 and so sees 11 below it, but not village 乙's grid.
        c("GET", "/api/grids/37030410020111", "/api/grids/{code}", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/grids/37030410120101", "/api/grids/{code}", None, [200, 200, 200, 200, 404, 401]),
        c(
            "POST",
            "/api/grids/import?dry_run=true",
            "/api/grids/import",
            Some(|_| {
                json!({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"code": "37030410020102", "name": "新网格", "level": 1},
                 "geometry": rect(117.81, 36.40, 117.82, 36.42)}]})
            }),
            [200, 403, 403, 403, 403, 401],
        ),
        c(
            "PUT",
            "/api/grids/37030410020111/workers/{gridworker}",
            "/api/grids/{code}/workers/{user_id}",
            Some(|_| json!({"duty": "full_time"})),
            [204, 403, 403, 403, 403, 401],
        ),
        c(
            "DELETE",
            "/api/grids/37030410120101/workers/{other_gw}",
            "/api/grids/{code}/workers/{user_id}",
            None,
            [204, 403, 403, 403, 403, 401],
        ),
        c("GET", "/api/locate?lon=117.805&lat=36.405", "/api/locate", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/cases", "/api/cases", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/cases/export?format=csv", "/api/cases/export", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/cases/export?format=xlsx", "", None, [200, 200, 200, 200, 200, 401]),
        c("POST", "/api/cases", "/api/cases", Some(report_body), [201, 403, 201, 403, 201, 401]),
        // The case is in 甲 (the grid worker's grid), not yet dispatched to the staff's department.
        c("GET", "/api/cases/{case}", "/api/cases/{id}", None, [200, 200, 200, 404, 200, 401]),
        c(
            "POST",
            "/api/cases/{case}/transitions",
            "/api/cases/{id}/transitions",
            // The administrator files it (version 1 → 2); then: a leader may not file, an
            // operator finds it filed already, the staff cannot see it, a grid worker may not.
            Some(|n| json!({"version": if (n - 1) % 6 == 0 { 1 } else { 2 }, "command": "file"})),
            [200, 403, 409, 404, 403, 401],
        ),
        // Not a bulk command: refused whole, after authentication.
        c(
            "POST",
            "/api/cases/bulk-transitions",
            "/api/cases/bulk-transitions",
            Some(|_| json!({"cases": [{"id": 1, "version": 1}], "command": "close"})),
            [422, 422, 422, 422, 422, 401],
        ),
        c("POST", "/api/attachments", "/api/attachments", Some(report_body), [415, 415, 415, 415, 415, 401]),
        c("GET", "/api/attachments/{photo}", "/api/attachments/{id}", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/case-classes", "/api/case-classes", None, [200, 200, 200, 200, 200, 401]),
        c("PUT", "/api/case-classes", "/api/case-classes", Some(report_body), [400, 403, 403, 403, 403, 401]),
        c("GET", "/api/case-classes/export", "/api/case-classes/export", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/work-calendar", "/api/work-calendar", None, [200, 200, 200, 200, 200, 401]),
        // Flood telemetry: operators and administrators send values (none of these stations
        // exists: 422 naming it); only administrators decide on quarantined stations (none here: 404).
        c(
            "POST",
            "/api/flood/observations",
            "/api/flood/observations",
            Some(
                |_| json!({"observations": [{"station": "0000000001", "element": "level", "time": "2024-07-18T11:05:00+08:00", "value": 1.0}]}),
            ),
            [422, 403, 422, 403, 403, 401],
        ),
        c("GET", "/api/flood/quarantine", "/api/flood/quarantine", None, [200, 403, 403, 403, 403, 401]),
        c(
            "POST",
            "/api/flood/quarantine/0000000001/accept",
            "/api/flood/quarantine/{code}/accept",
            Some(|_| {
                json!({"code": "0000000001", "name": "测站", "kind": "automatic_rain", "measures": {"rain": true, "level": false},
                       "position": {"lon": 117.86, "lat": 36.49}, "watershed": null, "owner": "水利局", "division": "370304100",
                       "protocol": {"protocol": "sl651", "centre": 1, "address": [0, 0, 0, 0, 1], "password": 0},
                       "report_interval_minutes": 5, "installed": null, "status": "in_service", "level_datum_m": null, "dike_crest_m": null})
            }),
            [404, 403, 403, 403, 403, 401],
        ),
        c(
            "POST",
            "/api/flood/quarantine/0000000001/reject",
            "/api/flood/quarantine/{code}/reject",
            None,
            [404, 403, 403, 403, 403, 401],
        ),
        // The flood network, warnings and CAP: every staff role reads (nothing of these exists:
        // 404); duty officers (administrators, leaders, operators) decide; CAP is public.
        c("GET", "/api/flood/stations", "/api/flood/stations", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/flood/stations/0000000001", "/api/flood/stations/{code}", None, [404, 404, 404, 404, 404, 401]),
        c(
            "GET",
            "/api/flood/stations/0000000001/observations",
            "/api/flood/stations/{code}/observations",
            None,
            [404, 404, 404, 404, 404, 401],
        ),
        c(
            "GET",
            "/api/flood/stations/0000000001/frames",
            "/api/flood/stations/{code}/frames",
            None,
            [404, 404, 404, 404, 404, 401],
        ),
        c(
            "GET",
            "/api/flood/villages/370304100201",
            "/api/flood/villages/{code}",
            None,
            [404, 404, 404, 404, 404, 401],
        ),
        c(
            "GET",
            "/api/flood/villages/370304100201/assessment",
            "/api/flood/villages/{code}/assessment",
            None,
            [404, 404, 404, 404, 404, 401],
        ),
        c("GET", "/api/flood/map/stations", "/api/flood/map/stations", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/flood/map/villages", "/api/flood/map/villages", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/flood/warnings", "/api/flood/warnings", None, [200, 200, 200, 200, 200, 401]),
        c(
            "POST",
            "/api/flood/warnings",
            "/api/flood/warnings",
            Some(|_| json!({"village": "370304100201", "grade": "prepare", "note": "村里报告山洪"})),
            [422, 422, 422, 403, 403, 401],
        ),
        c("GET", "/api/flood/warnings/1", "/api/flood/warnings/{id}", None, [404, 404, 404, 404, 404, 401]),
        c(
            "POST",
            "/api/flood/warnings/1/ack",
            "/api/flood/warnings/{id}/ack",
            Some(|_| json!({})),
            [404, 404, 404, 404, 404, 401],
        ),
        c(
            "POST",
            "/api/flood/warnings/1/public",
            "/api/flood/warnings/{id}/public",
            Some(|_| json!({})),
            [404, 404, 404, 404, 404, 401],
        ),
        c(
            "POST",
            "/api/flood/warnings/1/lift",
            "/api/flood/warnings/{id}/lift",
            Some(|_| json!({})),
            [404, 404, 404, 404, 404, 401],
        ),
        c("GET", "/api/flood/duty", "/api/flood/duty", None, [200, 200, 200, 200, 200, 401]),
        // Indicators: every staff role exports; only administrators import (an empty CSV: 422).
        c("GET", "/api/flood/indicators", "/api/flood/indicators", None, [200, 200, 200, 200, 200, 401]),
        // A JSON body is neither CSV nor XLSX.
        c("PUT", "/api/flood/indicators", "/api/flood/indicators", Some(|_| json!({})), [415, 403, 403, 403, 403, 401]),
        // Not the demo: no synthetic storm.
        c(
            "POST",
            "/api/flood/demo/storm",
            "/api/flood/demo/storm",
            Some(|_| json!({})),
            [404, 404, 404, 403, 403, 401],
        ),
        c("GET", "/cap/alerts.atom", "/cap/alerts.atom", None, [200; 6]),
        c("GET", "/cap/alerts/370304000000000_20260720100500_0.xml", "/cap/alerts/{file}", None, [404; 6]),
        c("GET", "/flood", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/flood/stations", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/flood/villages", "", None, [200, 200, 200, 200, 200, 303]),
        c(
            "POST",
            "/api/work-calendar/holiday-text",
            "/api/work-calendar/holiday-text",
            Some(|_| json!({"text": "2026-10-01..2026-10-03 休"})),
            [200, 200, 200, 200, 200, 401],
        ),
        c("GET", "/api/case-metrics?group=department", "/api/case-metrics", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/case-points?bbox=117,36,118,37", "/api/case-points", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/case-density?bbox=117,36,118,37", "/api/case-density", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/notifications", "/api/notifications", None, [200, 200, 200, 200, 200, 401]),
        c("GET", "/api/notifications/count", "/api/notifications/count", None, [200, 200, 200, 200, 200, 401]),
        c(
            "POST",
            "/api/notifications/read",
            "/api/notifications/read",
            Some(|_| json!({"all": true})),
            [200, 200, 200, 200, 200, 401],
        ),
        c("GET", "/api/webhooks/deliveries", "/api/webhooks/deliveries", None, [200, 403, 403, 403, 403, 401]),
        c(
            "PUT",
            "/api/work-calendar",
            "/api/work-calendar",
            Some(|_| serde_json::to_value(zhili_case::calendar::WorkCalendar::china()).unwrap()),
            [200, 403, 403, 403, 403, 401],
        ),
        c("GET", "/ogc", "/ogc", None, [200; 6]),
        c("GET", "/ogc/conformance", "/ogc/conformance", None, [200; 6]),
        c("GET", "/ogc/collections", "/ogc/collections", None, [200; 6]),
        c("GET", "/ogc/collections/grids", "/ogc/collections/{id}", None, [200, 200, 200, 200, 200, 404]),
        c(
            "GET",
            "/ogc/collections/divisions/items?bbox=117.7,36.3,118.0,36.6",
            "/ogc/collections/{id}/items",
            None,
            [200; 6],
        ),
        c(
            "GET",
            "/ogc/collections/grids/items/37030410120101",
            "/ogc/collections/{id}/items/{fid}",
            None,
            [200, 200, 200, 200, 404, 404],
        ),
        c(
            "GET",
            "/tiles/grids/14/13556/6405.mvt",
            "/tiles/{layer}/{z}/{x}/{y}.mvt",
            None,
            [200, 200, 200, 200, 200, 404],
        ),
        c("GET", "/tiles/grids.json", "/tiles/{layer}.json", None, [200, 200, 200, 200, 200, 404]),
        c("GET", "/api/audit", "/api/audit", None, [200, 403, 403, 403, 403, 401]),
        c("GET", "/api/audit/verify", "/api/audit/verify", None, [200, 403, 403, 403, 403, 401]),
        c(
            "POST",
            "/api/auth/login",
            "/api/auth/login",
            Some(|_| json!({"username": "nobody", "password": "x"})),
            [401; 6],
        ),
        // Pages: the public is sent to the login page.
        c("GET", "/", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/divisions", "", None, [200; 6]),
        c("GET", "/departments", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/users", "", None, [200, 200, 200, 403, 403, 303]),
        c("GET", "/audit", "", None, [200, 403, 403, 403, 403, 303]),
        c("GET", "/login", "", None, [303, 303, 303, 303, 303, 200]),
        c("GET", "/assets/app.css", "", None, [200; 6]),
        c("GET", "/map", "", None, [200, 200, 200, 200, 200, 303]),
        c("GET", "/assets/vendor/maplibre-gl/maplibre-gl-csp.js", "", None, [200; 6]),
        c("POST", "/api/auth/logout", "/api/auth/logout", None, [204, 204, 204, 204, 204, 401]),
    ]
}

fn fill(w: &World, path: &str) -> String {
    let mut p = path.replace("{photo}", &w.photo);
    for (k, v) in &w.ids {
        p = p.replace(&format!("{{{k}}}"), &v.to_string());
    }
    p
}

#[tokio::test]
async fn every_role_against_every_route() {
    let w = world().await;
    let mut failures = Vec::new();
    let mut n = 0;
    for case in cases() {
        for (ri, role) in ROLES.iter().enumerate() {
            n += 1;
            let body = case.body.map(|f| f(n));
            let (status, resp) = w.call(case.method, &fill(&w, case.path), w.token(role), body).await;
            if status.as_u16() != case.expect[ri] {
                failures.push(format!(
                    "{role} {} {}: got {status}, expected {} — {resp}",
                    case.method, case.path, case.expect[ri]
                ));
            }
            // Every JSON error has the one shape.
            if status.is_client_error() && resp.is_object() {
                assert!(resp["error"]["code"].is_string() && resp["error"]["message"].is_string(), "{resp}");
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn openapi_covers_every_json_route() {
    let w = world().await;
    let (s, doc) = w.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| ops.as_object().unwrap().keys().map(move |m| format!("{} {p}", m.to_uppercase())))
        .collect();
    let routed: BTreeSet<String> =
        cases().iter().filter(|c| !c.openapi.is_empty()).map(|c| format!("{} {}", c.method, c.openapi)).collect();
    assert_eq!(documented, routed);
}

#[tokio::test]
async fn jurisdiction_bounds_what_users_see() {
    let w = world().await;
    let lead = w.token("town_leader");
    // Inside: a grid worker of a village in town 100.
    let (s, _) = w.call("GET", &format!("/api/users/{}", w.ids["gridworker"]), lead, None).await;
    assert_eq!(s, StatusCode::OK);
    // Outside: a grid worker of town 101 — not found, never the data.
    let (s, body) = w.call("GET", &format!("/api/users/{}", w.ids["other_gw"]), lead, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert!(!body.to_string().contains("other_gw"));
    let (s, body) =
        w.call("GET", &format!("/api/users/{}/personal", w.ids["other_gw"]), w.token("town_operator"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    // Lists are bounded too, whatever `within` asks for.
    let (_, body) = w.call("GET", "/api/users", lead, None).await;
    let names: BTreeSet<&str> =
        body["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["gridworker", "town_admin", "town_leader", "town_operator"]));
    let (_, body) = w.call("GET", "/api/users?within=370304101", lead, None).await;
    assert_eq!(body["total"], 0);
    let (_, body) = w.call("GET", "/api/users?within=370304", lead, None).await;
    assert_eq!(body["total"], 4);
    // Lists mask phones; the personal view shows them and is audited.
    assert_eq!(body["items"][0]["phone"], "138****1999");
    let (s, body) =
        w.call("GET", &format!("/api/users/{}/personal", w.ids["gridworker"]), w.token("town_operator"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["phone"], "13812341999");
    let last = w.store.recent_audit(Page { offset: 0, limit: 1 }).await.unwrap();
    assert_eq!(last[0].action, "user.read_personal");
    assert_eq!(last[0].actor, "town_operator");
    // A township administrator cannot create users or departments elsewhere.
    let (s, body) = w
        .call(
            "POST",
            "/api/users",
            w.token("town_admin"),
            Some(json!({"username": "x_out", "display_name": "x", "role": "leader", "jurisdiction": "370304101", "password": "password-123"})),
        )
        .await;
    assert_eq!((s, body["error"]["field"].as_str()), (StatusCode::FORBIDDEN, Some("jurisdiction")));
    let (s, _) = w
        .call(
            "POST",
            "/api/departments",
            w.token("town_admin"),
            Some(json!({"code": "out", "name": "外", "division": "370304101"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = w
        .call(
            "PUT",
            &format!("/api/users/{}/password", w.ids["other_gw"]),
            w.token("town_admin"),
            Some(json!({"password": "abcdefgh1"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_is_refused_precisely_and_writes_nothing() {
    let w = world().await;
    let admin = w.token("admin");
    let before = w.domain_counts().await;

    // Malformed JSON: wrong type names the field; truncated JSON is 400; missing field named.
    let (s, b) = w.call("POST", "/api/users", admin, Some(json!({"username": 5}))).await;
    assert_eq!(
        (s, b["error"]["code"].as_str(), b["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_body"), Some("username"))
    );
    let req = world::request("POST", "/api/departments", admin)
        .header("content-type", "application/json")
        .body(Body::from("{\"code\": \"x\", "))
        .unwrap();
    let (s, b) = w.send(req).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_body")), "{b}");
    let (s, b) = w.call("POST", "/api/departments", admin, Some(json!({"code": "abc", "division": "370304"}))).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("name")), "{b}");
    // Invalid values: 422 naming the field.
    for (body, field) in [
        (json!({"code": "ABC", "name": "x", "division": "370304"}), "code"),
        (json!({"code": "abc", "name": "x", "division": "37030"}), "division"),
        (json!({"code": "abc", "name": "x", "division": "370304555"}), "division"),
    ] {
        let (s, b) = w.call("POST", "/api/departments", admin, Some(body)).await;
        assert_eq!(b["error"]["field"].as_str(), Some(field), "{b}");
        assert!(s == StatusCode::UNPROCESSABLE_ENTITY, "{s} {b}");
    }
    let (s, b) = w
        .call("POST", "/api/users", admin, Some(json!({"username": "ok_name", "display_name": "x", "role": "grid_worker", "jurisdiction": "370304100201", "password": "short"})))
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));
    let (s, b) = w
        .call("POST", "/api/users", admin, Some(json!({"username": "gridworker", "display_name": "x", "role": "grid_worker", "jurisdiction": "370304100201", "password": "longenough1"})))
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str(), b["error"]["field"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"), Some("username"))
    );
    // Divisions: a bad geometry names the vertex; a missing parent names the code.
    let (s, b) = w
        .call(
            "PUT",
            "/api/divisions/370304100203",
            admin,
            Some(json!({"name": "坏村", "boundary": {"type": "Polygon", "coordinates": [[[117.8, 36.4], [117.9, 95.0], [117.9, 36.5], [117.8, 36.4]]]}})),
        )
        .await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("boundary.coordinates[0][1]")),
        "{b}"
    );
    assert!(b["error"]["message"].as_str().unwrap().contains("latitude 95"), "{b}");
    let (s, b) = w
        .call(
            "PUT",
            "/api/divisions/370304100204",
            admin,
            Some(json!({"name": "自交村", "boundary": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}})),
        )
        .await;
    assert!(b["error"]["message"].as_str().unwrap().contains("self-intersection"), "{s} {b}");
    let (s, b) = w.call("PUT", "/api/divisions/370304102201", admin, Some(json!({"name": "孤村"}))).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code")));
    assert!(b["error"]["message"].as_str().unwrap().contains("370304102"), "{b}");
    let (s, _) =
        w.call("PUT", "/api/divisions/370304101201", w.token("town_admin"), Some(json!({"name": "越权"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Wrong content type, bad query, unknown route, wrong method.
    let req = world::request("POST", "/api/departments", admin).body(Body::from("code=x")).unwrap();
    assert_eq!(w.send(req).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, b) = w.call("GET", "/api/users?limit=5000", admin, None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("limit")));
    let (s, b) = w.call("GET", "/api/nope", admin, None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("route_not_found")));
    let (s, b) = w.call("DELETE", "/api/users", admin, None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")));
    // Oversized body: 413 in our shape.
    let big = json!({"code": "big", "name": "x".repeat(10_000), "division": "370304"});
    let (s, b) = w.call("POST", "/api/departments", admin, Some(big)).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
    // A bad bearer token is 401, not silently anonymous.
    let (s, b) = w.call("GET", "/api/me", Some("not-a-token"), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));

    assert_eq!(w.domain_counts().await, before, "bad input changed stored data");
}

#[tokio::test]
async fn wrong_passwords_are_vague_then_throttled() {
    let w = world().await;
    let before = w.domain_counts().await;
    let (s1, b1) =
        w.call("POST", "/api/auth/login", None, Some(json!({"username": "leader", "password": "wrong"}))).await;
    let (_, b2) =
        w.call("POST", "/api/auth/login", None, Some(json!({"username": "no_such_user", "password": "wrong"}))).await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(b1, b2, "the answer must not say which part was wrong");
    for _ in 0..9 {
        let (s, _) =
            w.call("POST", "/api/auth/login", None, Some(json!({"username": "leader", "password": "wrong"}))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // Ten failures within the minute: now even the right password is refused.
    let req = Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(json!({"username": "leader", "password": PASSWORD}).to_string()))
        .unwrap();
    let got = w.answer(req).await;
    assert_eq!(got.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(got.headers["retry-after"], "60");
    // Another account is not locked by this one's failures.
    let (s, _) =
        w.call("POST", "/api/auth/login", None, Some(json!({"username": "operator", "password": PASSWORD}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(w.domain_counts().await, before);
}

#[tokio::test]
async fn browser_login_sets_a_safe_cookie_and_forms_need_csrf() {
    let w = world().await;
    // The login form sets a double-submit cookie; posting without it fails.
    let got = w.answer(Request::get("/login").body(Body::empty()).unwrap()).await;
    let set = got.header("set-cookie").unwrap().to_string();
    let csrf = set.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    let html = got.text();
    assert!(html.contains("lang=\"zh-CN\"") && html.contains("登录"), "Chinese by default");
    let form = format!("username=leader&password={PASSWORD}&csrf={csrf}&next=%2Fusers");
    let no_cookie = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.clone()))
        .unwrap();
    assert_eq!(w.answer(no_cookie).await.status, StatusCode::FORBIDDEN);
    let ok = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("zhili_login_csrf={csrf}"))
        .body(Body::from(form))
        .unwrap();
    let got = w.answer(ok).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(got.headers["location"], "/users");
    let cookie = got.header("set-cookie").unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_string();
    // The cookie works on pages and on the API.
    let req = Request::get("/api/me").header("cookie", &session).body(Body::empty()).unwrap();
    let (s, me) = w.send(req).await;
    assert_eq!((s, me["username"].as_str()), (StatusCode::OK, Some("leader")));
    // Switching language without the session's CSRF token is refused…
    let req = Request::post("/locale")
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("locale=en&csrf=wrong"))
        .unwrap();
    assert_eq!(w.send(req).await.0, StatusCode::FORBIDDEN);
    // …and a cross-origin API write riding on the cookie is refused.
    let req = Request::put("/api/me/locale")
        .header("cookie", &session)
        .header("origin", "http://evil.example")
        .header("host", "zhili.local")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"locale":"en"}"#))
        .unwrap();
    assert_eq!(w.send(req).await.0, StatusCode::FORBIDDEN);
    // With the token the user switches to English and the pages follow.
    let (s, _) = w.call("PUT", "/api/me/locale", w.token("leader"), Some(json!({"locale": "en"}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let req = Request::get("/").header("cookie", &session).body(Body::empty()).unwrap();
    let (_, html) = w.send(req).await;
    let html = html.as_str().unwrap();
    assert!(html.contains("lang=\"en\"") && html.contains("Overview"), "{html}");
}

#[tokio::test]
async fn admin_manages_accounts_and_users_their_password() {
    let w = world().await;
    let admin = w.token("admin");
    let gw = w.ids["gridworker"];
    // Change role, jurisdiction, department and phone; the answer and the store agree.
    let (s, b) = w
        .call(
            "PATCH",
            &format!("/api/users/{gw}"),
            admin,
            Some(json!({"role": "department_staff", "jurisdiction": "370304", "department_id": w.ids["dept_county"], "phone": null})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["role"].as_str(), b["jurisdiction"].as_str(), b["phone"].is_null()),
        (Some("department_staff"), Some("370304"), true)
    );
    // The change applies to the user's live session at once: staff may not list users.
    let (s, _) = w.call("GET", "/api/users", w.token("gridworker"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Precise refusals, nothing changed.
    for (body, field, status) in [
        (json!({"role": "public"}), "role", 422),
        (json!({"jurisdiction": "370304599"}), "jurisdiction", 422),
        (json!({"department_id": 4242}), "department_id", 422),
        (json!({"phone": "12"}), "phone", 422),
        (json!({"nickname": "x"}), "nickname", 400),
    ] {
        let (s, b) = w.call("PATCH", &format!("/api/users/{gw}"), admin, Some(body)).await;
        assert_eq!(s.as_u16(), status, "{b}");
        assert!(
            b["error"]["field"].as_str().unwrap_or("").contains(field)
                || b["error"]["message"].as_str().unwrap().contains(field),
            "{b}"
        );
    }
    let (s, b) =
        w.call("PATCH", &format!("/api/users/{}", w.ids["admin"]), admin, Some(json!({"active": false}))).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("active")));
    let (s, b) =
        w.call("PATCH", &format!("/api/users/{}", w.ids["admin"]), admin, Some(json!({"role": "leader"}))).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("role")));
    // Disabling ends the sessions and stops logins, with the same vague answer.
    let (s, _) = w.call("PATCH", &format!("/api/users/{gw}"), admin, Some(json!({"active": false}))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = w.call("GET", "/api/me", w.token("gridworker"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) =
        w.call("POST", "/api/auth/login", None, Some(json!({"username": "gridworker", "password": PASSWORD}))).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
    // A user changes their own password: the old one and the old sessions stop working.
    let (s, _) = w
        .call(
            "PUT",
            "/api/me/password",
            w.token("leader"),
            Some(json!({"current_password": PASSWORD, "new_password": "brand-new-pass-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = w.call("GET", "/api/me", w.token("leader"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = w
        .call("POST", "/api/auth/login", None, Some(json!({"username": "leader", "password": "brand-new-pass-1"})))
        .await;
    assert_eq!(s, StatusCode::OK);
}

/// Sessions are cached per process; a change made past this server's handlers (straight to the
/// store, as another process or the command line would) reaches it through the change feed.
#[tokio::test]
async fn cached_sessions_follow_changes_made_elsewhere() {
    let w = world().await;
    let leader = w.token("leader");
    let (s, b) = w.call("GET", "/api/users", leader, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // A role change in the store: the leader's next request is judged by the new role.
    let change = UserUpdate { role: Some(Role::DepartmentStaff), ..UserUpdate::default() };
    w.store.update_user(&Actor::system(), w.ids["leader"], &change).await.unwrap();
    let start = std::time::Instant::now();
    while w.call("GET", "/api/users", leader, None).await.0 == StatusCode::OK {
        assert!(start.elapsed() < std::time::Duration::from_secs(3), "the cached session kept the old role");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(w.call("GET", "/api/users", leader, None).await.0, StatusCode::FORBIDDEN);
    // Disabled in the store: the token stops working.
    let (s, _) = w.call("GET", "/api/me", leader, None).await;
    assert_eq!(s, StatusCode::OK);
    let change = UserUpdate { active: Some(false), ..UserUpdate::default() };
    w.store.update_user(&Actor::system(), w.ids["leader"], &change).await.unwrap();
    let start = std::time::Instant::now();
    while w.call("GET", "/api/me", leader, None).await.0 != StatusCode::UNAUTHORIZED {
        assert!(start.elapsed() < std::time::Duration::from_secs(3), "the cached session outlived its user");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn grids_are_bounded_and_imports_are_all_or_nothing() {
    let w = world().await;
    // A grid worker lists only their grids and those below; a township leader only theirs.
    let (_, b) = w.call("GET", "/api/grids", w.token("gridworker"), None).await;
    let codes: Vec<&str> = b["items"].as_array().unwrap().iter().map(|g| g["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["37030410020101", "37030410020111"]);
    let (_, b) = w.call("GET", "/api/grids", w.token("town_leader"), None).await;
    assert_eq!(b["total"], 2);
    let (_, b) = w.call("GET", "/api/grids/37030410020111", w.token("admin"), None).await;
    assert_eq!((b["level_name"].as_str(), b["parent"].as_str()), (Some("中网格"), Some("37030410020101")));
    assert_eq!(b["boundary"]["type"], "Polygon");
    // Export: what the caller may see, in the import format.
    for (who, q, n) in
        [("admin", "", 3), ("gridworker", "", 2), ("town_leader", "", 2), ("admin", "?within=370304101", 1)]
    {
        let (s, b) = w.call("GET", &format!("/api/grids/export{q}"), w.token(who), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(b["type"], "FeatureCollection");
        assert_eq!(b["features"].as_array().unwrap().len(), n, "{who}{q}: {b}");
    }
    let (_, b) = w.call("GET", "/api/grids/export?within=370304101", w.token("town_leader"), None).await;
    assert_eq!(b["features"].as_array().unwrap().len(), 0, "another township is outside the jurisdiction");
    let (s, b) = w.call("GET", "/api/grids/export?within=37x", w.token("admin"), None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("within")));
    // A bad import: every problem named, nothing written.
    let before = w.store.count_grids(None).await.unwrap();
    let doc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "37030410020102", "name": "好", "level": 1}, "geometry": rect(117.81, 36.40, 117.82, 36.42)},
        {"type": "Feature", "properties": {"code": "37030410020103", "name": "叠", "level": 1}, "geometry": rect(117.805, 36.40, 117.815, 36.41)},
        {"type": "Feature", "properties": {"code": "3703041002010", "name": "短", "level": 1}, "geometry": rect(117.8, 36.4, 117.81, 36.41)},
        {"type": "Feature", "properties": {"code": "37030410020104", "name": "坏", "level": 1},
         "geometry": {"type": "Polygon", "coordinates": [[[117.8, 36.4], [117.81, 36.41], [117.81, 36.4], [117.8, 36.41], [117.8, 36.4]]]}},
    ]});
    let (s, b) = w.call("POST", "/api/grids/import", w.token("admin"), Some(doc.clone())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "invalid_field");
    let errors = b["report"]["errors"].as_array().unwrap();
    let text = serde_json::to_string(errors).unwrap();
    assert!(text.contains("overlaps its sibling 37030410020101"), "{text}");
    assert!(text.contains("grid code must have 14 digits"), "{text}");
    assert!(text.contains("self-intersection"), "{text}");
    assert_eq!(w.store.count_grids(None).await.unwrap(), before);
    // Each problem keeps its machine-readable kind and values, and says itself in the user's
    // language (zh-CN by default), with no English words but codes and positions.
    let by_feature = |errors: &[Value], n: u64| errors.iter().find(|e| e["feature"] == n).unwrap().clone();
    let stored_overlap = |errors: &[Value]| errors.iter().find(|e| e["kind"] == "overlap_stored").unwrap().clone();
    let overlap = stored_overlap(errors);
    assert_eq!(overlap["feature"], 2);
    assert_eq!(
        (overlap["kind"].as_str(), overlap["params"]["other"].as_str()),
        (Some("overlap_stored"), Some("37030410020101"))
    );
    let area = overlap["params"]["area"].as_str().unwrap().to_string();
    assert_eq!(overlap["text"], format!("与已入库的同级网格 37030410020101 重叠 {area} 平方米"));
    let short = by_feature(errors, 3);
    assert_eq!(
        (short["kind"].as_str(), short["text"].as_str()),
        (
            Some("code_invalid"),
            Some("网格编码 3703041002010 应为 14 位数字（村/社区编码 12 位 + 序号 2 位），实为 13 位")
        )
    );
    let bad = by_feature(errors, 4);
    assert_eq!(bad["kind"], "geometry_invalid");
    assert!(bad["text"].as_str().unwrap().starts_with("几何图形在 geometry."), "{bad}");
    let n = errors.len();
    assert_eq!(b["error"]["text"], format!("发现 {n} 处问题，未导入任何数据"));
    // In English on request.
    let (s, _) = w.call("PUT", "/api/me/locale", w.token("admin"), Some(json!({"locale": "en"}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, b) = w.call("POST", "/api/grids/import", w.token("admin"), Some(doc)).await;
    let errors = b["report"]["errors"].as_array().unwrap();
    assert_eq!(stored_overlap(errors)["text"], format!("Overlaps its stored sibling 37030410020101 by {area} m²"));
    assert_eq!(
        by_feature(errors, 3)["text"],
        "The grid code 3703041002010 must have 14 digits (village 12 + serial 2); it has 13"
    );
    assert_eq!(b["error"]["text"], format!("{n} problem(s) found; nothing was imported"));
    let (s, _) = w.call("PUT", "/api/me/locale", w.token("admin"), Some(json!({"locale": "zh-CN"}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // A township administrator cannot import into another township.
    let doc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "37030410120102", "name": "越界", "level": 1}, "geometry": rect(117.91, 36.40, 117.92, 36.42)}]});
    let (s, b) = w.call("POST", "/api/grids/import", w.token("town_admin"), Some(doc.clone())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["report"]["errors"][0]["message"].as_str().unwrap().contains("outside your jurisdiction"), "{b}");
    // The county administrator may; the report counts it, with a gap warning for 乙.
    let (s, b) = w.call("POST", "/api/grids/import", w.token("admin"), Some(doc)).await;
    assert_eq!((s, b["imported"].as_u64()), (StatusCode::OK, Some(1)), "{b}");
    assert_eq!(w.store.count_grids(None).await.unwrap(), before + 1);
    // Assigning: a bad duty and an unknown grid are refused precisely.
    let gw = w.ids["other_gw"];
    let (s, b) = w
        .call(
            "PUT",
            &format!("/api/grids/37030410120102/workers/{gw}"),
            w.token("admin"),
            Some(json!({"duty": "boss"})),
        )
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("duty")));
    let (s, _) = w
        .call(
            "PUT",
            &format!("/api/grids/37030410120199/workers/{gw}"),
            w.token("admin"),
            Some(json!({"duty": "leader"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = w.call("GET", "/api/grids/3703041", w.token("admin"), None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code")));
}

#[tokio::test]
async fn locate_follows_changes() {
    let w = world().await;
    let t = w.token("operator");
    let chain = |b: &Value| -> Vec<String> {
        b.as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap().to_string()).collect()
    };
    // Village boundaries are unknown in this world, so the chain climbs by parent links.
    let (s, b) = w.call("GET", "/api/locate?lon=117.805&lat=36.405", t, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(chain(&b), ["37030410020111", "37030410020101", "370304100201", "370304100", "370304"]);
    // On the shared edge of two top grids the smaller code wins.
    let doc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "37030410020102", "name": "东", "level": 1}, "geometry": rect(117.81, 36.40, 117.82, 36.42)}]});
    let (s, _) = w.call("POST", "/api/grids/import", w.token("admin"), Some(doc)).await;
    assert_eq!(s, StatusCode::OK);
    let mut found = Vec::new();
    for _ in 0..50 {
        let (_, b) = w.call("GET", "/api/locate?lon=117.815&lat=36.415", t, None).await;
        found = chain(&b);
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(found.first().map(String::as_str), Some("37030410020102"), "the index follows an import");
    let (_, b) = w.call("GET", "/api/locate?lon=117.81&lat=36.415", t, None).await;
    assert_eq!(chain(&b).first().map(String::as_str), Some("37030410020101"));
    // Outside everything: an empty chain. Bad input: precise.
    let (_, b) = w.call("GET", "/api/locate?lon=100&lat=20", t, None).await;
    assert_eq!(b, json!([]));
    let (s, b) = w.call("GET", "/api/locate?lon=200&lat=20", t, None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("lon")));
    let (s, b) = w.call("GET", "/api/locate?lon=117&lat=20&crs=bd09", t, None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("crs")));
    let (s, _) = w.call("GET", "/api/locate?lon=abc&lat=20", t, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn ogc_features_and_vector_tiles() {
    let w = world().await;
    let t = w.token("admin");
    // Collections: the public sees divisions only; users see grids too.
    let (_, b) = w.call("GET", "/ogc/collections", None, None).await;
    let ids: Vec<&str> = b["collections"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["divisions"]);
    let (_, b) = w.call("GET", "/ogc/collections", t, None).await;
    assert_eq!(b["collections"].as_array().unwrap().len(), 2);
    // Items with bbox, paging links and a property filter.
    let (s, b) = w.call("GET", "/ogc/collections/grids/items?limit=2", t, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((b["numberMatched"].as_u64(), b["numberReturned"].as_u64()), (Some(3), Some(2)));
    let next = b["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next").expect("a next link");
    assert!(next["href"].as_str().unwrap().contains("offset=2"));
    let (_, b) = w.call("GET", "/ogc/collections/grids/items?bbox=117.85,36.3,118.0,36.5", t, None).await;
    let codes: Vec<&str> = b["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(codes, ["37030410120101"]);
    let (_, b) = w.call("GET", "/ogc/collections/grids/items?level=2", t, None).await;
    assert_eq!(b["features"][0]["properties"]["code"], "37030410020111");
    assert_eq!(b["features"][0]["geometry"]["type"], "Polygon");
    // Free text: a part of the name or the start of the code; within what the caller sees.
    let found = |b: &Value| -> Vec<String> {
        b["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect()
    };
    let (_, b) = w.call("GET", "/ogc/collections/grids/items?q=020111", t, None).await;
    assert_eq!(found(&b), ["37030410020111"], "part of the name 网格37030410020111");
    let (_, b) = w.call("GET", "/ogc/collections/grids/items?q=3703041002", t, None).await;
    assert_eq!(found(&b), ["37030410020101", "37030410020111"], "the start of the code");
    let (_, b) = w.call("GET", "/ogc/collections/grids/items?q=%E7%BD%91%E6%A0%BC&level=1", t, None).await;
    assert_eq!(found(&b), ["37030410020101", "37030410120101"], "网格, with a filter beside it");
    let (_, b) = w.call("GET", "/ogc/collections/grids/items?q=%E7%BD%91%E6%A0%BC", w.token("gridworker"), None).await;
    assert_eq!(b["numberMatched"], 2, "a grid worker finds only their own grids");
    let (_, b) = w.call("GET", "/ogc/collections/grids/items?q=nothing", t, None).await;
    assert_eq!(b["numberMatched"], 0);
    for q in ["q=", "q=%20", &format!("q={}", "x".repeat(51))] {
        let (s, b) = w.call("GET", &format!("/ogc/collections/grids/items?{q}"), t, None).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("q")), "{q}: {b}");
    }
    // A grid worker sees their own grids only; a township leader their township's.
    let (_, b) = w.call("GET", "/ogc/collections/grids/items", w.token("gridworker"), None).await;
    assert_eq!(b["numberMatched"], 2);
    let (_, b) = w.call("GET", "/ogc/collections/grids/items", w.token("town_leader"), None).await;
    assert_eq!(b["numberMatched"], 2);
    // Bad input: precise, never a crash.
    for (q, field) in [
        ("bbox=118,36,117,37", "bbox"),
        ("bbox=1,2,3", "bbox"),
        ("limit=0", "limit"),
        ("limit=20000", "limit"),
        ("colour=red", "colour"),
    ] {
        let (s, b) = w.call("GET", &format!("/ogc/collections/grids/items?{q}"), t, None).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{q}: {b}");
    }
    let (s, _) = w.call("GET", "/ogc/collections/nope/items", t, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Tiles: a real MVT with our features; ETag and 304; out-of-range tiles refused.
    let tile = zhili_geo::tile::TileId::containing(117.805, 36.405, 14).unwrap();
    let uri = format!("/tiles/grids/{}/{}/{}.mvt", tile.z, tile.x, tile.y);
    let got = w.answer(world::request("GET", &uri, t).body(Body::empty()).unwrap()).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.headers["content-type"], "application/vnd.mapbox-vector-tile");
    let etag = got.header("etag").unwrap().to_string();
    let layers = zhili_geo::mvt::decode(&got.body).unwrap();
    assert_eq!(layers[0].name, "grids");
    assert!(layers[0].features.len() >= 2, "both grids of village 甲 are in the tile");
    let req = world::request("GET", &uri, t).header("if-none-match", &etag).body(Body::empty()).unwrap();
    assert_eq!(w.answer(req).await.status, StatusCode::NOT_MODIFIED);
    for (uri, field) in [
        ("/tiles/grids/14/99999/6405.mvt", "x"),
        ("/tiles/grids/30/0/0.mvt", "z"),
        ("/tiles/grids/3/1/9.mvt", "y"),
        ("/tiles/grids/a/1/1.mvt", "z"),
    ] {
        let (s, b) = w.call("GET", uri, t, None).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{uri}: {b}");
    }
    let (_, tj) = w.call("GET", "/tiles/grids.json", t, None).await;
    assert_eq!(tj["tilejson"], "3.0.0");
    assert!(tj["tiles"][0].as_str().unwrap().ends_with("/tiles/grids/{z}/{x}/{y}.mvt"));

    // GCJ-02 for Chinese commercial basemaps: the same features, every vertex shifted.
    let (_, plain) = w.call("GET", "/ogc/collections/grids/items/37030410120101", t, None).await;
    let (s, shifted) = w.call("GET", "/ogc/collections/grids/items/37030410120101?crs=gcj02", t, None).await;
    assert_eq!(s, StatusCode::OK);
    let ring = |f: &Value| f["geometry"]["coordinates"][0].as_array().unwrap().clone();
    for (p, g) in ring(&plain).iter().zip(ring(&shifted).iter()) {
        let (lon, lat) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
        let want = zhili_geo::gcj02::wgs84_to_gcj02(lon, lat);
        assert!((g[0].as_f64().unwrap() - want.0).abs() < 1e-9 && (g[1].as_f64().unwrap() - want.1).abs() < 1e-9);
        assert!((want.0 - lon).abs() > 1e-4, "the offset is hundreds of metres");
    }
    // A GCJ-02 bbox around the shifted grid finds it; items' bbox follows the output CRS.
    let r = ring(&plain);
    let mid = |i: usize| r[..r.len() - 1].iter().map(|p| p[i].as_f64().unwrap()).sum::<f64>() / (r.len() - 1) as f64;
    let (gx, gy) = zhili_geo::gcj02::wgs84_to_gcj02(mid(0), mid(1));
    let q =
        format!("/ogc/collections/grids/items?crs=gcj02&bbox={},{},{},{}", gx - 1e-4, gy - 1e-4, gx + 1e-4, gy + 1e-4);
    let (_, b) = w.call("GET", &q, t, None).await;
    assert_eq!(b["features"][0]["id"], "37030410120101", "{b}");
    // Tiles in GCJ-02: the tile that holds the shifted point has the grid, with its own ETag.
    let gtile = zhili_geo::tile::TileId::containing(gx, gy, 14).unwrap();
    let guri = format!("/tiles/grids/{}/{}/{}.mvt?crs=gcj02", gtile.z, gtile.x, gtile.y);
    let got = w.answer(world::request("GET", &guri, t).body(Body::empty()).unwrap()).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.header("etag").unwrap().contains("gcj02"));
    assert!(!zhili_geo::mvt::decode(&got.body).unwrap()[0].features.is_empty());
    let (_, tj) = w.call("GET", "/tiles/grids.json?crs=gcj02", t, None).await;
    assert!(tj["tiles"][0].as_str().unwrap().ends_with(".mvt?crs=gcj02"), "{tj}");
    for uri in [
        "/tiles/grids/14/13556/6405.mvt?crs=bd09",
        "/ogc/collections/grids/items?crs=EPSG:3857",
        "/ogc/collections/grids/items/37030410120101?crs=x",
        "/tiles/grids.json?crs=",
    ] {
        let (s, b) = w.call("GET", uri, t, None).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("crs")), "{uri}: {b}");
    }
    let (s, b) = w.call("GET", "/tiles/grids/14/13556/6405.mvt?zoom=3", t, None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("zoom")));
}

/// A worklist files, dispatches and accepts many cases at once: each case is its own checked
/// transition, refusals are reported per case and change nothing, a malformed request is refused
/// whole.
#[tokio::test]
async fn bulk_transitions_from_a_worklist() {
    let w = world().await;
    let (op, staff, leader) = (w.token("operator"), w.token("staff"), w.token("leader"));
    let mut ids = Vec::new();
    for i in 0..4 {
        let (s, r) = w.call("POST", "/api/cases", op, Some(report_body(i + 1))).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        ids.push(r["case"]["id"].as_i64().unwrap());
    }
    let bulk = |items: Vec<(i64, i64)>, cmd: Value| {
        let mut body = cmd;
        body["cases"] = json!(items.iter().map(|(id, v)| json!({"id": id, "version": v})).collect::<Vec<_>>());
        body
    };
    // 批量立案: the last at a stale version is refused alone.
    let items = vec![(ids[0], 1), (ids[1], 1), (ids[2], 1), (ids[3], 7)];
    let (s, b) = w.call("POST", "/api/cases/bulk-transitions", op, Some(bulk(items, json!({"command": "file"})))).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!((b["done"].as_u64(), b["refused"].as_u64()), (Some(3), Some(1)), "{b}");
    assert_eq!(b["results"][0]["state"], "filed");
    assert_eq!(b["results"][0]["version"], 2);
    assert_eq!(b["results"][3]["ok"], false);
    assert_eq!(b["results"][3]["error"]["code"], "stale_version");
    assert_eq!(b["results"][3]["error"]["field"], "version");
    let (_, c3) = w.call("GET", &format!("/api/cases/{}", ids[3]), op, None).await;
    assert_eq!((c3["case"]["state"].as_str(), c3["case"]["version"].as_i64()), (Some("reported"), Some(1)));

    // 批量派遣 by someone who may not (a leader): refused per case, nothing written.
    let items = vec![(ids[0], 2), (ids[1], 2)];
    let cmd = json!({"command": "dispatch", "department": "cgj"});
    let (s, b) = w.call("POST", "/api/cases/bulk-transitions", leader, Some(bulk(items.clone(), cmd.clone()))).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["done"], 0);
    assert_eq!(b["results"][0]["error"]["code"], "forbidden", "{b}");
    // The operator dispatches them, with the wrong-state one (still reported) refused, naming
    // the state.
    let mut with_unfiled = items.clone();
    with_unfiled.push((ids[3], 1));
    let (s, b) = w.call("POST", "/api/cases/bulk-transitions", op, Some(bulk(with_unfiled, cmd.clone()))).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!((b["done"].as_u64(), b["refused"].as_u64()), (Some(2), Some(1)), "{b}");
    assert!(b["results"][2]["error"]["message"].as_str().unwrap().contains("reported"), "{b}");
    // An unknown department is refused per case with the field named.
    let (_, b) = w
        .call(
            "POST",
            "/api/cases/bulk-transitions",
            op,
            Some(bulk(vec![(ids[2], 2)], json!({"command": "dispatch", "department": "nobody"}))),
        )
        .await;
    assert_eq!(b["results"][0]["error"]["field"], "department", "{b}");
    // 批量签收 by the department.
    let (s, b) = w
        .call(
            "POST",
            "/api/cases/bulk-transitions",
            staff,
            Some(bulk(vec![(ids[0], 3), (ids[1], 3)], json!({"command": "accept"}))),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["done"], 2, "{b}");
    let (_, c0) = w.call("GET", &format!("/api/cases/{}", ids[0]), op, None).await;
    let commands: Vec<&str> =
        c0["timeline"].as_array().unwrap().iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert_eq!(commands, ["report", "file", "dispatch", "accept"]);

    // Malformed requests are refused whole, naming the field.
    for (body, field) in [
        (bulk(vec![], json!({"command": "file"})), "cases"),
        (bulk(vec![(ids[2], 2), (ids[2], 2)], json!({"command": "file"})), "cases"),
        (bulk(vec![(ids[2], 2)], json!({"command": "void", "reason": "x"})), "command"),
    ] {
        let (s, b) = w.call("POST", "/api/cases/bulk-transitions", op, Some(body)).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{b}");
    }
    let (_, c2) = w.call("GET", &format!("/api/cases/{}", ids[2]), op, None).await;
    assert_eq!(c2["case"]["version"], 2, "nothing written by refused requests");
}

/// One case through every path of the closed loop, over HTTP: the normal loop, 回退, 返工
/// twice, 延期, 挂账, 缓办, 作废 as a duplicate and reopening; the timeline, the clock in working
/// time across a holiday, and precise refusals that write nothing.
#[tokio::test]
async fn case_story_through_every_path() {
    use chrono::{DateTime, Utc};
    use zhili_case::calendar::{WorkCalendar, WorkDuration};
    let w = world().await;
    let (admin, op, staff, gw) = (w.token("admin"), w.token("operator"), w.token("staff"), w.token("gridworker"));

    // Today and the five days after it are a holiday: every working-time limit starts after them.
    let mut cal = WorkCalendar::china();
    let today = Utc::now().with_timezone(&cal.offset()).date_naive();
    for d in 0..6 {
        cal.holidays.insert(today + chrono::Duration::days(d));
        cal.workdays.remove(&(today + chrono::Duration::days(d)));
    }
    let (s, b) = w.call("PUT", "/api/work-calendar", admin, Some(serde_json::to_value(&cal).unwrap())).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let step = |id: i64, version: i64, cmd: Value| {
        let mut body = cmd;
        body["version"] = json!(version);
        (format!("/api/cases/{id}/transitions"), body)
    };
    async fn go(w: &World, token: Option<&str>, (uri, body): (String, Value)) -> Value {
        let (s, b) = w.call("POST", &uri, token, Some(body.clone())).await;
        assert_eq!(s, StatusCode::OK, "{body} → {b}");
        b
    }
    let t = |v: &Value| v.as_str().unwrap().parse::<DateTime<Utc>>().unwrap();

    // Report with a photo: the chain, the duplicate suggestion (the world's case is at the
    // same spot, same class) and the department the catalogue points to.
    let mut body = report_body(0);
    body["photos"] = json!([w.photo]);
    let (s, r) = w.call("POST", "/api/cases", op, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let a = r["case"]["id"].as_i64().unwrap();
    assert_eq!(r["case"]["state"], "reported");
    assert_eq!(r["case"]["grid"], "37030410020111");
    assert_eq!(r["case"]["division"], "370304100201");
    assert_eq!(r["case"]["source"], "hotline");
    assert_eq!(r["case"]["photos"][0], format!("/api/attachments/{}", w.photo));
    assert!(r["duplicates"].as_array().unwrap().iter().any(|d| d["id"] == w.ids["case"]), "{r}");
    assert_eq!(r["suggested_department"], "cgj");
    assert_eq!(r["case"]["clock"]["step"], "dispatch");

    // The normal loop.
    let b = go(&w, op, step(a, 1, json!({"command": "file", "note": "属实"}))).await;
    assert_eq!(b["allowed"], json!(["void", "dispatch", "shelve"]));
    let b = go(&w, op, step(a, 2, json!({"command": "dispatch", "department": "cgj"}))).await;
    let dispatched = t(&b["case"]["dispatched_at"]);
    let deadline = t(&b["case"]["clock"]["deadline"]);
    assert_eq!(b["case"]["clock"]["step"], "handle");
    // 暴露垃圾: 4 working hours, counted after the six days off.
    assert_eq!(deadline, cal.add(dispatched, WorkDuration::WorkingMinutes(240)));
    assert!(deadline - dispatched > chrono::Duration::days(5), "{dispatched} → {deadline}");
    assert_eq!(b["case"]["clock"]["remaining_working_minutes"], 240);
    go(&w, staff, step(a, 3, json!({"command": "accept"}))).await;
    go(&w, staff, step(a, 4, json!({"command": "respond", "note": "已清运", "photos": [w.photo]}))).await;
    go(&w, gw, step(a, 5, json!({"command": "verify", "passed": true}))).await;
    let b = go(&w, op, step(a, 6, json!({"command": "close"}))).await;
    assert_eq!(b["case"]["handled_on_time"], true);
    let b = go(&w, op, step(a, 7, json!({"command": "evaluate", "score": 5}))).await;
    assert_eq!((b["case"]["state"].as_str(), b["case"]["score"].as_u64()), (Some("evaluated"), Some(5)));
    let commands: Vec<&str> =
        b["timeline"].as_array().unwrap().iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert_eq!(commands, ["report", "file", "dispatch", "accept", "respond", "verify", "close", "evaluate"]);
    assert_eq!(b["timeline"][2]["data"]["department"], "cgj");
    assert_eq!(b["timeline"][4]["data"]["photos"][0], w.photo.as_str());
    assert_eq!(b["timeline"][4]["actor"], "staff");

    // 回退, re-dispatch, 返工 twice, 延期 approved.
    let (_, r) = w.call("POST", "/api/cases", gw, Some(report_body(0))).await;
    let bid = r["case"]["id"].as_i64().unwrap();
    assert_eq!(r["case"]["source"], "grid_worker");
    go(&w, op, step(bid, 1, json!({"command": "file"}))).await;
    go(&w, op, step(bid, 2, json!({"command": "dispatch", "department": "cgj"}))).await;
    let b = go(&w, staff, step(bid, 3, json!({"command": "return", "reason": "不属本部门"}))).await;
    assert_eq!((b["case"]["state"].as_str(), b["case"]["counters"]["returns"].as_u64()), (Some("filed"), Some(1)));
    go(&w, op, step(bid, 4, json!({"command": "dispatch", "department": "cgj"}))).await;
    go(&w, staff, step(bid, 5, json!({"command": "accept"}))).await;
    let mut v = 6;
    for round in 1..=2 {
        go(&w, staff, step(bid, v, json!({"command": "respond", "note": "已处理", "photos": [w.photo]}))).await;
        let b = go(&w, gw, step(bid, v + 1, json!({"command": "verify", "passed": false, "note": "仍有垃圾"}))).await;
        assert_eq!(
            (b["case"]["state"].as_str(), b["case"]["counters"]["reworks"].as_u64()),
            (Some("handling"), Some(round))
        );
        v += 2;
    }
    let b =
        go(&w, staff, step(bid, v, json!({"command": "request_extension", "extra_minutes": 240, "reason": "需机械"})))
            .await;
    let before = t(&b["case"]["clock"]["deadline"]);
    let b = go(&w, op, step(bid, v + 1, json!({"command": "decide_extension", "approve": true}))).await;
    assert_eq!(t(&b["case"]["clock"]["deadline"]), cal.add(before, WorkDuration::WorkingMinutes(240)));
    assert_eq!(b["case"]["counters"]["extensions"], 1);
    go(&w, staff, step(bid, v + 2, json!({"command": "respond", "note": "已清运", "photos": [w.photo]}))).await;
    go(&w, gw, step(bid, v + 3, json!({"command": "verify", "passed": true}))).await;
    let b = go(&w, op, step(bid, v + 4, json!({"command": "close"}))).await;
    assert_eq!(
        b["case"]["counters"],
        json!({"dispatches": 2, "returns": 1, "reworks": 2, "extensions": 1, "reopens": 0, "deferrals": 0})
    );

    // 挂账 and back; 缓办 and back (the clock pauses with its working minutes left).
    let (_, r) = w.call("POST", "/api/cases", op, Some(report_body(0))).await;
    let c = r["case"]["id"].as_i64().unwrap();
    go(&w, op, step(c, 1, json!({"command": "file"}))).await;
    let b = go(&w, op, step(c, 2, json!({"command": "shelve", "reason": "需规划调整"}))).await;
    assert_eq!(b["case"]["state"], "shelved");
    go(&w, op, step(c, 3, json!({"command": "unshelve"}))).await;
    go(&w, op, step(c, 4, json!({"command": "dispatch", "department": "cgj"}))).await;
    let b = go(&w, op, step(c, 5, json!({"command": "defer", "reason": "待天气好转"}))).await;
    assert_eq!(
        (b["case"]["state"].as_str(), b["case"]["clock"]["paused_remaining"].as_i64()),
        (Some("deferred"), Some(240))
    );
    assert!(b["case"]["clock"]["deadline"].is_null());
    let b = go(&w, op, step(c, 6, json!({"command": "resume"}))).await;
    assert_eq!(
        (b["case"]["state"].as_str(), b["case"]["clock"]["remaining_working_minutes"].as_i64()),
        (Some("handling"), Some(240))
    );

    // 作废 as a duplicate of the first case; reopen the first.
    let (_, r) = w.call("POST", "/api/cases", op, Some(report_body(0))).await;
    let d = r["case"]["id"].as_i64().unwrap();
    let b = go(&w, op, step(d, 1, json!({"command": "void", "duplicate_of": a}))).await;
    assert_eq!((b["case"]["state"].as_str(), b["case"]["duplicate_of"].as_i64()), (Some("voided"), Some(a)));
    let b = go(&w, op, step(a, 8, json!({"command": "reopen", "reason": "群众反映未清理干净"}))).await;
    assert_eq!((b["case"]["state"].as_str(), b["case"]["counters"]["reopens"].as_u64()), (Some("filed"), Some(1)));
    assert!(b["case"]["closed_at"].is_null());

    // Refusals: precise, and nothing written.
    let cases_before = w.store.count_cases(&Default::default()).await.unwrap();
    let tl_before = w.store.timeline(a).await.unwrap().len();
    fn refuse<'a>(
        uri: String,
        body: Value,
        token: Option<&'a str>,
        status: u16,
        field: Option<&'static str>,
        says: &'static str,
    ) -> (String, Value, Option<&'a str>, u16, Option<&'static str>, &'static str) {
        (uri, body, token, status, field, says)
    }
    let ta = format!("/api/cases/{a}/transitions");
    let checks = vec![
        refuse(
            ta.clone(),
            json!({"version": 3, "command": "dispatch", "department": "cgj"}),
            op,
            409,
            Some("version"),
            "version 9",
        ),
        refuse(
            ta.clone(),
            json!({"version": 9, "command": "dispatch", "department": "cgj"}),
            gw,
            403,
            Some("command"),
            "dispatch",
        ),
        refuse(ta.clone(), json!({"version": 9, "command": "close"}), op, 409, Some("command"), "已立案"),
        refuse(
            ta.clone(),
            json!({"version": 9, "command": "dispatch", "department": "nope"}),
            op,
            422,
            Some("department"),
            "nope",
        ),
        refuse(ta.clone(), json!({"version": 9, "command": "dispatch"}), op, 422, Some("department"), "department"),
        refuse(ta.clone(), json!({"version": 9, "command": "fly"}), op, 400, None, "fly"),
        refuse(
            format!("/api/cases/{bid}/transitions"),
            json!({"version": 99, "command": "close"}),
            op,
            409,
            Some("version"),
            "version",
        ),
        refuse(
            "/api/cases".into(),
            json!({"class_code": "SJ9999", "lon": 117.805, "lat": 36.405, "description": "x"}),
            op,
            422,
            Some("class_code"),
            "SJ9999",
        ),
        refuse(
            "/api/cases".into(),
            json!({"class_code": "SJ0102", "lon": 120.0, "lat": 30.0, "description": "x"}),
            op,
            422,
            Some("lon"),
            "outside",
        ),
        refuse(
            "/api/cases".into(),
            json!({"class_code": "SJ0102", "lat": 36.405, "description": "x"}),
            op,
            400,
            Some("lon"),
            "lon",
        ),
        refuse(
            "/api/cases".into(),
            json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": ""}),
            op,
            422,
            Some("description"),
            "description",
        ),
        refuse(
            "/api/cases".into(),
            json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "x", "photos": ["nope"]}),
            op,
            422,
            Some("photos[0]"),
            "nope",
        ),
        refuse(
            "/api/cases".into(),
            json!({"class_code": "SJ0102", "lon": 117.905, "lat": 36.405, "description": "x"}),
            gw,
            422,
            Some("lon"),
            "jurisdiction",
        ),
        refuse(
            "/api/cases".into(),
            json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "x", "source": "machine"}),
            gw,
            422,
            Some("source"),
            "grid worker",
        ),
    ];
    for (uri, body, token, status, field, says) in checks {
        // (Case `a` is at version 9 after its reopening.)
        let (s, b) = w.call("POST", &uri, token, Some(body.clone())).await;
        assert_eq!(s.as_u16(), status, "{uri} {body}: {b}");
        if field.is_some() {
            assert_eq!(b["error"]["field"].as_str(), field, "{uri} {body}: {b}");
        }
        assert!(b["error"]["message"].as_str().unwrap().contains(says), "{uri} {body}: {b}");
    }
    // Photos: not an image, and too large.
    for (ct, bytes, status, says) in [
        ("image/jpeg", b"GIF89a not a jpeg at all".to_vec(), 422, "image/jpeg"),
        ("application/pdf", b"%PDF-1.7".to_vec(), 415, "image/jpeg"),
        ("image/png", [PNG, &[0u8; 2000]].concat(), 413, ""),
    ] {
        let req =
            world::request("POST", "/api/attachments", gw).header("content-type", ct).body(Body::from(bytes)).unwrap();
        let (s, b) = w.send(req).await;
        assert_eq!(s.as_u16(), status, "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains(says), "{b}");
    }
    assert_eq!(w.store.count_cases(&Default::default()).await.unwrap(), cases_before);
    assert_eq!(w.store.timeline(a).await.unwrap().len(), tl_before);

    // Worklists: the department sees its cases only, overdue first; the grid worker those in
    // their grids; a filter by state.
    let (_, b) = w.call("GET", "/api/cases?state=handling", staff, None).await;
    assert_eq!(b["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect::<Vec<_>>(), vec![c]);
    let (_, b) = w.call("GET", "/api/cases", gw, None).await;
    assert_eq!(b["total"].as_i64().unwrap(), cases_before);
    let (s, b) = w.call("GET", "/api/cases?state=flying", op, None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("state")));

    // The figures these cases produce (this month): five reported (the world's, a, b, c, d);
    // a, b and c filed and dispatched; b closed on time after a return, two reworks and an
    // extension; c deferred; d voided before filing; a reopened (not closed any more).
    let (s, m) = w.call("GET", "/api/case-metrics", op, None).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    let t = &m["total"]["tally"];
    let got: Vec<i64> = [
        "reported",
        "filed",
        "dispatched",
        "due",
        "closed",
        "closed_on_time",
        "reworked",
        "extended",
        "deferred",
        "dispatched_right",
    ]
    .iter()
    .map(|k| t[k].as_i64().unwrap())
    .collect();
    assert_eq!(got, vec![5, 3, 3, 1, 1, 1, 1, 1, 1, 2], "{m}");
    // 结案率 = 结案数 / (应结案数 − 缓办数) = 1 / 0: undefined, not a division by zero.
    assert!(m["total"]["rates"]["closure_rate"].is_null(), "{m}");
    assert_eq!(m["total"]["rates"]["accurate_dispatch_rate"].as_f64().unwrap(), 2.0 / 3.0);
    let (_, m) = w.call("GET", "/api/case-metrics?group=department", op, None).await;
    let depts: Vec<(&str, &str, i64)> = m["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["label"].as_str().unwrap(), r["tally"]["dispatched"].as_i64().unwrap()))
        .collect();
    assert_eq!(depts, vec![("", "", 0), ("cgj", "城管局", 3)]);
    let (_, m) = w.call("GET", "/api/case-metrics?group=grid&grid_level=1", op, None).await;
    assert_eq!(m["rows"][0]["key"], "37030410020101", "small grids roll up to their large grid: {m}");
    assert_eq!(m["rows"][0]["tally"]["reported"], 5);
    // The department sees its own figures only.
    let (_, m) = w.call("GET", "/api/case-metrics", staff, None).await;
    assert_eq!(m["total"]["tally"]["reported"], 3);
    // Major classes say their kind: event and component majors may share a name (市容环境).
    let (_, m) = w.call("GET", "/api/case-metrics?group=major", op, None).await;
    assert_eq!(
        (m["rows"][0]["key"].as_str(), m["rows"][0]["label"].as_str()),
        (Some("SJ01"), Some("市容环境（事件）")),
        "{m}"
    );
    let (s, csv) = w.call("GET", "/api/case-metrics?group=class&format=csv", op, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(csv.as_str().unwrap().contains("\"SJ0102\",\"暴露垃圾\",\"5\""), "{csv}");
    for (q, field) in [
        ("group=colour", "group"),
        ("from=2026-13-01", "from"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("grid_level=2", "grid_level"),
        ("format=pdf", "format"),
    ] {
        let (s, b) = w.call("GET", &format!("/api/case-metrics?{q}"), op, None).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{q}: {b}");
    }
}

/// The grid page (网格详情): names first (codes beside them), the grid's staff with their duties
/// and masked phones, links to the One Map and the grid's cases; a grid the caller may not see is
/// an HTML 404, as unknown codes are. The grids list links to it and names parent and village.
#[tokio::test]
async fn grid_pages_show_names_and_staff() {
    let w = world().await;
    let page = |uri: &str, who: &str| {
        let req = world::request("GET", uri, w.token(who)).header("accept", "text/html");
        w.answer(req.body(Body::empty()).unwrap())
    };
    let a = page("/grids/37030410020111", "admin").await;
    assert_eq!(a.status, StatusCode::OK);
    let html = a.text();
    for want in [
        "网格37030410020111",
        "网格37030410020101",
        "甲村",
        "/map?q=37030410020111",
        "/cases?grid=37030410020111",
        "/grids/37030410020101",
    ] {
        assert!(html.contains(want), "the page lacks {want:?}");
    }
    assert!(html.contains("尚未配备网格员"), "nobody is assigned to the child grid");
    let html = page("/grids/37030410020101", "admin").await.text();
    assert!(html.contains("gridworker") && html.contains("网格长"), "the leader and their duty");
    assert!(html.contains("138****1999") && !html.contains("13812341999"), "the phone is masked");
    // The grid worker sees their grids; another village's grid is not found, nor is nonsense.
    assert_eq!(page("/grids/37030410020111", "gridworker").await.status, StatusCode::OK);
    for (uri, who) in
        [("/grids/37030410120101", "gridworker"), ("/grids/12345", "admin"), ("/grids/37030410099901", "admin")]
    {
        let a = page(uri, who).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri} as {who}");
        assert!(a.text().contains("没有这个网格"), "{uri}: {}", a.text());
    }
    // The list links each grid to its page and shows parent and village by name.
    let html = page("/grids", "admin").await.text();
    assert!(html.contains("href=\"/grids/37030410020111\"") && html.contains("甲村") && html.contains("乙村"));
    assert!(!html.contains("/api/grids/3703"), "no link to raw JSON");
}

/// Users are found by part of the username or the name, within the caller's jurisdiction, in the
/// API and on the users page (whose pager keeps the search); a search over 50 characters is
/// refused naming `q`.
#[tokio::test]
async fn users_are_found_by_name() {
    let w = world().await;
    let names = |b: &Value| -> Vec<String> {
        b["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect()
    };
    let (s, b) = w.call("GET", "/api/users?q=TOWN_", w.token("admin"), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(names(&b), ["town_leader", "town_operator", "town_admin"]);
    assert_eq!(b["total"], 3);
    let (_, b) = w.call("GET", "/api/users?q=town&role=leader", w.token("admin"), None).await;
    assert_eq!(names(&b), ["town_leader"]);
    let (_, b) = w.call("GET", "/api/users?q=_gw", w.token("admin"), None).await;
    assert_eq!(names(&b), ["other_gw"], "_ is taken literally");
    let (_, b) = w.call("GET", "/api/users?q=_gw", w.token("town_admin"), None).await;
    assert_eq!(names(&b), Vec::<String>::new(), "the other township's grid worker is outside the jurisdiction");
    let (s, b) = w.call("GET", &format!("/api/users?q={}", "x".repeat(51)), w.token("admin"), None).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("q")), "{b}");
    let req = world::request("GET", "/users?q=town", w.token("admin")).header("accept", "text/html");
    let html = w.answer(req.body(Body::empty()).unwrap()).await.text();
    assert!(html.contains("town_operator") && !html.contains(">gridworker<"), "{html}");
    assert!(html.contains("value=\"town\"") && html.contains("<label for=\"users-q\">"), "the form keeps the search");
    // Jurisdictions by name, the code only in the tooltip.
    assert!(html.contains("<span title=\"370304100\">域城镇</span>"), "{html}");
    assert!(!html.contains(">370304100<"), "{html}");
}

//! Open311 GeoReport v2 through the router without a socket: services and definitions in JSON and
//! XML, a public report followed through the loop, listings with their filters and window, the
//! 1,000-request limit, every bad input answered as a GeoReport error that names the field and
//! writes nothing (photos included, in the language asked for), and requests known only by their
//! tracking codes (a case number opens nothing). Runs on SQLite in a temporary directory.

use axum::body::Body;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use zhili_case::catalogue::Catalogue;
use zhili_case::model::{CaseFilter, Source, TrackingCode};
use zhili_core::audit::Actor;
use zhili_core::policy::Role;

use crate::world::ports::*;
use crate::world::{self, grid};

/// Form fields of a report.
type Fields = Vec<(&'static str, String)>;
/// The class the world takes out of service.
const INACTIVE: &str = "SJ0103";
/// A point in village 甲's small grid.
const HERE: (&str, &str) = ("36.405", "117.805");

/// The shared world, whose one user is the operator.
struct World {
    base: world::World,
    operator: String,
}
world::extends_world!(World);

/// An answer: status, Content-Type and body text.
struct Got {
    /// Whether it answers an Open311 path (whose JSON says its charset).
    open311: bool,
    status: StatusCode,
    ty: String,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        let want = if self.open311 { "application/json; charset=utf-8" } else { "application/json" };
        assert_eq!(self.ty, want, "{}", self.body);
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn xml(&self) -> El {
        assert_eq!(self.ty, "text/xml; charset=utf-8", "{}", self.body);
        parse_xml(&self.body)
    }
}

/// County 370304 with two towns and a village in each, the county's 城管局, an operator, and
/// grids in both villages; the catalogue is the national one with one class out of service.
async fn world() -> World {
    let mut catalogue = Catalogue::national();
    catalogue.classes.iter_mut().find(|c| c.code.as_str() == INACTIVE).unwrap().active = false;
    let base = world::World::builder()
        .department("cgj", "城管局", "370304")
        .users(&[("operator", Role::Operator, "370304")])
        .grids(vec![
            grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42),
            grid("37030410020111", 2, Some("37030410020101"), 117.80, 36.40, 117.81, 36.41),
            grid("37030410120101", 1, None, 117.90, 36.40, 117.91, 36.42),
        ])
        .catalogue(catalogue)
        .build()
        .await;
    let operator = base.tokens["operator"].clone();
    World { base, operator }
}

impl World {
    async fn send(&self, method: &str, uri: &str, ty: &str, body: &str, token: Option<&str>) -> Got {
        let mut req = world::request(method, uri, token);
        if !ty.is_empty() {
            req = req.header("content-type", ty);
        }
        let got = self.answer(req.body(Body::from(body.to_string())).unwrap()).await;
        let ty = got.header("content-type").unwrap_or_default().to_string();
        Got { open311: uri.starts_with("/open311/"), status: got.status, ty, body: got.text() }
    }

    async fn get(&self, uri: &str) -> Got {
        self.send("GET", uri, "", "", None).await
    }

    /// POST a form-encoded report, as GeoReport clients do.
    async fn post_form(&self, format: &str, fields: &[(&str, &str)]) -> Got {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send("POST", &format!("/open311/v2/requests.{format}"), "application/x-www-form-urlencoded", &body, None)
            .await
    }

    async fn count(&self) -> i64 {
        self.store.count_cases(&CaseFilter::default()).await.unwrap()
    }

    /// Move a case through the loop as the operator.
    /// Move a case (by number or tracking code) through the loop as the operator.
    async fn step(&self, id: &str, command: Value) {
        let got = self.get_case(id).await;
        let mut body = command;
        body["version"] = got["case"]["version"].clone();
        let uri = format!("/api/cases/{id}/transitions");
        let got = self.send("POST", &uri, "application/json", &body.to_string(), Some(&self.operator)).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    }

    async fn get_case(&self, id: &str) -> Value {
        self.send("GET", &format!("/api/cases/{id}"), "", "", Some(&self.operator)).await.json()
    }

    /// Report exposed rubbish at `HERE` and answer its id (its tracking code).
    async fn report(&self, description: &str) -> String {
        let got = self
            .post_form(
                "json",
                &[("service_code", "SJ0102"), ("lat", HERE.0), ("long", HERE.1), ("description", description)],
            )
            .await;
        assert_eq!(got.status, StatusCode::CREATED, "{}", got.body);
        let code = got.json()[0]["service_request_id"].as_str().unwrap().to_string();
        assert!(TrackingCode::parse(&code).is_some_and(|c| c.as_str() == code), "{code}");
        code
    }

    /// The stored case of a tracking code.
    async fn case_of(&self, code: &str) -> zhili_case::model::Case {
        self.store.case_by_tracking_code(&TrackingCode::parse(code).unwrap()).await.unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal XML reader: elements, text and the five entities; anything else fails the test.

#[derive(Debug)]
struct El {
    name: String,
    children: Vec<El>,
    text: String,
}

impl El {
    fn get(&self, name: &str) -> &El {
        self.children.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no <{name}> in <{}>", self.name))
    }
    fn all(&self, name: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn text_of(&self, name: &str) -> &str {
        &self.get(name).text
    }
}

fn parse_xml(doc: &str) -> El {
    let rest = doc.strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>").expect("XML declaration");
    let (el, rest) = element(rest.trim_start());
    assert!(rest.trim().is_empty(), "after the root: {rest:?}");
    el
}

fn element(s: &str) -> (El, &str) {
    let s = s.strip_prefix('<').expect("<");
    let end = s.find(['>', '/']).expect("tag end");
    let name = s[..end].to_string();
    assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "tag {name:?}");
    let mut el = El { name, children: vec![], text: String::new() };
    if let Some(rest) = s[end..].strip_prefix("/>") {
        return (el, rest);
    }
    let mut s = s[end..].strip_prefix('>').expect(">");
    loop {
        if let Some(r) = s.strip_prefix("</") {
            let close = format!("{}>", el.name);
            let r = r.strip_prefix(close.as_str()).unwrap_or_else(|| panic!("</{close} expected at {s:?}"));
            return (el, r);
        } else if s.starts_with('<') {
            let (child, rest) = element(s);
            el.children.push(child);
            s = rest;
        } else {
            let i = s.find('<').expect("unclosed element");
            el.text.push_str(&unescape(&s[..i]));
            s = &s[i..];
        }
    }
}

fn unescape(t: &str) -> String {
    assert!(!t.contains('>'), "raw > in {t:?}");
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let (entity, after) = rest[i..].split_once(';').expect("entity end");
        out.push(match entity {
            "&amp" => '&',
            "&lt" => '<',
            "&gt" => '>',
            "&quot" => '"',
            "&apos" => '\'',
            other => panic!("unknown entity {other}"),
        });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The one GeoReport error of an answer, checked in its form: `[{"code", "description"}]`
/// with the code equal to the HTTP status.
fn error_of(got: &Got) -> String {
    let v = got.json();
    let list = v.as_array().unwrap_or_else(|| panic!("not an error list: {v}"));
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["code"], got.status.as_u16(), "{v}");
    list[0]["description"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn services_definitions_and_discovery() {
    let w = world().await;
    let active: Vec<_> = Catalogue::national().classes.into_iter().filter(|c| c.code.as_str() != INACTIVE).collect();

    let got = w.get("/open311/v2/services.json").await;
    assert_eq!(got.status, StatusCode::OK);
    let list = got.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), active.len());
    assert!(list.iter().all(|s| s["service_code"] != INACTIVE));
    let rubbish = list.iter().find(|s| s["service_code"] == "SJ0102").unwrap();
    let class = active.iter().find(|c| c.code.as_str() == "SJ0102").unwrap();
    assert_eq!(rubbish["service_name"], class.name.as_str());
    assert_eq!(rubbish["description"], class.filing_condition.as_str());
    assert_eq!(rubbish["metadata"], false);
    assert_eq!(rubbish["type"], "realtime");
    assert_eq!(rubbish["group"], class.major_name.as_str());
    assert!(rubbish["keywords"].as_str().unwrap().contains(&class.major_name));

    let xml = w.get("/open311/v2/services.xml").await.xml();
    assert_eq!(xml.name, "services");
    let services = xml.all("service");
    assert_eq!(services.len(), active.len());
    for (x, j) in services.iter().zip(list) {
        for field in ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"] {
            let want = match &j[field] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(x.text_of(field), want, "{field}");
        }
    }

    let got = w.get("/open311/v2/services/SJ0102.json").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json(), json!({"service_code": "SJ0102", "attributes": []}));
    let xml = w.get("/open311/v2/services/sj0102.xml").await.xml();
    assert_eq!(xml.name, "service_definition");
    assert_eq!(xml.text_of("service_code"), "SJ0102");
    assert!(xml.get("attributes").children.is_empty());

    for (uri, status, description) in [
        ("/open311/v2/services/SJ9999.json", 404, "service_code: unknown service \"SJ9999\""),
        (&format!("/open311/v2/services/{INACTIVE}.json"), 404, "service_code: service SJ0103 is no longer offered"),
        ("/open311/v2/services.yaml", 404, "format: unknown format \"yaml\"; use .json or .xml"),
        ("/open311/v2/services/SJ0102", 404, "format: \"SJ0102\" needs .json or .xml"),
        ("/open311/v2/requests/1.csv", 404, "format: unknown format \"csv\"; use .json or .xml"),
        ("/open311/v2/requests/999.json", 404, "service_request_id: no request \"999\""),
        ("/open311/v2/requests/abc.json", 404, "service_request_id: no request \"abc\""),
    ] {
        let got = w.get(uri).await;
        assert_eq!(got.status.as_u16(), status, "{uri}: {}", got.body);
        assert_eq!(error_of(&got), description, "{uri}");
    }
    let xml = w.get("/open311/v2/services/SJ9999.xml").await;
    assert_eq!(xml.status, StatusCode::NOT_FOUND);
    let errors = xml.xml();
    assert_eq!(errors.name, "errors");
    assert_eq!(errors.get("error").text_of("code"), "404");
    assert_eq!(errors.get("error").text_of("description"), "service_code: unknown service \"SJ9999\"");

    for uri in ["/open311/discovery.json", "/open311/v2/discovery.json"] {
        let d = w.get(uri).await.json();
        assert_eq!(d["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2");
        assert!(d["endpoints"][0]["url"].as_str().unwrap().ends_with("/open311/v2"), "{d}");
        assert_eq!(d["endpoints"][0]["formats"], json!(["text/xml", "application/json"]));
    }
    let d = w.get("/open311/v2/discovery.xml").await.xml();
    let formats: Vec<_> =
        d.get("endpoints").get("endpoint").get("formats").all("format").iter().map(|f| f.text.clone()).collect();
    assert_eq!(formats, ["text/xml", "application/json"]);
}

#[tokio::test]
async fn a_public_report_is_followed_through_the_loop() {
    let w = world().await;
    let before = w.count().await;
    let fields = [
        ("api_key", "anything"),
        ("jurisdiction_id", "zhili.example"),
        ("service_code", "SJ0102"),
        ("lat", HERE.0),
        ("long", HERE.1),
        ("address_string", "甲村东口 <菜市场> & 路口"),
        ("email", "zhang.san@example.com"),
        ("device_id", "phone-1"),
        ("account_id", "42"),
        ("first_name", "三"),
        ("last_name", "张"),
        ("phone", "13812345678"),
        ("description", "路边暴露垃圾一堆\r\n请尽快清理，电话 13812345678"),
        ("media_url", "https://img.example.com/a.jpg?x=1&y=2"),
        ("attribute[WHISPAWN]", "123456"),
    ];
    let got = w.post_form("json", &fields).await;
    assert_eq!(got.status, StatusCode::CREATED, "{}", got.body);
    let answer = got.json();
    let id = answer[0]["service_request_id"].as_str().unwrap().to_string();
    assert_eq!(answer.as_array().unwrap().len(), 1);
    assert!(answer[0]["service_notice"].as_str().unwrap().starts_with("结案条件"), "{answer}");
    assert_eq!(answer[0]["account_id"], Value::Null);
    assert_eq!(w.count().await, before + 1);

    // Stored through the common intake: the Open311 channel, no reporter, the phone kept.
    let case = w.case_of(&id).await;
    assert_eq!(case.tracking_code.as_ref().map(TrackingCode::as_str), Some(id.as_str()));
    assert_eq!(case.source, Source::Open311);
    assert_eq!(case.reporter_id, None);
    assert_eq!(case.contact.as_deref(), Some("13812345678"));
    assert_eq!(case.grid.as_deref(), Some("37030410020111"));
    assert_eq!(case.address, "甲村东口 <菜市场> & 路口");
    let timeline = w.store.timeline(case.id).await.unwrap();
    assert_eq!(timeline[0].actor, "anonymous");
    // A retry from the same device is the same request; nothing more is stored.
    let again = w.post_form("json", &fields).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json()[0]["service_request_id"], id);
    assert_eq!(w.count().await, before + 1);

    // Read back: open / submitted, no personal data.
    let got = w.get(&format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(!got.body.contains("12345678") && !got.body.contains("zhang.san"), "{}", got.body);
    let r = &got.json()[0];
    assert_eq!(r["service_request_id"], id);
    assert_eq!(r["status"], "open");
    assert_eq!(r["extended_attributes"], json!({"status_detail": "submitted", "state": "reported"}));
    assert_eq!(r["service_code"], "SJ0102");
    assert_eq!(r["service_name"], "暴露垃圾");
    assert_eq!(r["description"], "路边暴露垃圾一堆\n请尽快清理，电话 138****5678");
    assert_eq!(r["media_url"], "https://img.example.com/a.jpg?x=1&y=2");
    assert_eq!(r["address"], "甲村东口 <菜市场> & 路口");
    assert_eq!(r["lat"], 36.405);
    assert_eq!(r["long"], 117.805);
    assert_eq!(r["agency_responsible"], Value::Null);
    let requested = r["requested_datetime"].as_str().unwrap();
    assert!(requested.ends_with("+08:00"), "{requested}");
    assert_eq!(requested.parse::<DateTime<Utc>>().unwrap().timestamp(), case.reported_at.timestamp());
    assert!(r["expected_datetime"].as_str().unwrap().ends_with("+08:00"), "the dispatch clock runs");

    // The same in XML, element for element.
    let xml = w.get(&format!("/open311/v2/requests/{id}.xml")).await.xml();
    assert_eq!(xml.name, "service_requests");
    let x = xml.get("request");
    for (k, v) in r.as_object().unwrap() {
        match v {
            Value::Object(m) => {
                for (k2, v2) in m {
                    assert_eq!(x.get(k).text_of(k2), v2.as_str().unwrap(), "{k}.{k2}");
                }
            }
            Value::Null => assert!(x.get(k).text.is_empty() && x.get(k).children.is_empty(), "{k}"),
            Value::String(s) => assert_eq!(x.text_of(k), s, "{k}"),
            other => assert_eq!(x.text_of(k), other.to_string(), "{k}"),
        }
    }

    // The same report as JSON, answered in XML.
    let body = json!({"service_code": "SJ0102", "lat": 36.415, "long": 117.805, "attribute": {"x": 1}});
    let got = w.send("POST", "/open311/v2/requests.xml", "application/json", &body.to_string(), None).await;
    assert_eq!(got.status, StatusCode::CREATED, "{}", got.body);
    let other = got.xml().get("request").text_of("service_request_id").to_string();
    assert_ne!(other, id);
    let r = &w.get(&format!("/open311/v2/requests/{other}.json")).await.json()[0];
    assert_eq!(r["description"], "暴露垃圾", "the service name stands in for a missing description");
    assert_eq!(r["media_url"], Value::Null);

    // The loop moves on: filed, dispatched (agency, handling deadline), then the second report
    // voided as a duplicate of the first.
    w.step(&id, json!({"command": "file"})).await;
    let r = &w.get(&format!("/open311/v2/requests/{id}.json")).await.json()[0];
    assert_eq!(r["extended_attributes"]["status_detail"], "acknowledged");
    w.step(&id, json!({"command": "dispatch", "department": "cgj"})).await;
    let r = &w.get(&format!("/open311/v2/requests/{id}.json")).await.json()[0];
    assert_eq!(r["status"], "open");
    assert_eq!(r["extended_attributes"], json!({"status_detail": "action_scheduled", "state": "dispatched"}));
    assert_eq!(r["agency_responsible"], "城管局");
    let deadline =
        w.get_case(&id).await["case"]["clock"]["deadline"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    assert_eq!(
        r["expected_datetime"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap().timestamp(),
        deadline.timestamp()
    );
    w.step(&other, json!({"command": "void", "duplicate_of": case.id})).await;
    let r = &w.get(&format!("/open311/v2/requests/{other}.json")).await.json()[0];
    assert_eq!(r["status"], "closed");
    assert_eq!(r["extended_attributes"], json!({"status_detail": "duplicate", "state": "voided"}));
    assert!(r["status_notes"].as_str().unwrap().contains(&format!("duplicate of request {id}")), "{r}");
    assert_eq!(r["expected_datetime"], Value::Null);

    // Listings: by status, by service, by id list, in a window.
    let ids = |got: Got| -> Vec<String> {
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        got.json().as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_string()).collect()
    };
    let none = Vec::<String>::new();
    assert_eq!(ids(w.get("/open311/v2/requests.json").await), [&*other, &*id], "newest first");
    assert_eq!(ids(w.get("/open311/v2/requests.json?status=open").await), [&*id]);
    assert_eq!(ids(w.get("/open311/v2/requests.json?status=closed").await), [&*other]);
    assert_eq!(ids(w.get("/open311/v2/requests.json?status=open,closed").await), [&*other, &*id]);
    assert_eq!(ids(w.get("/open311/v2/requests.json?status=open&status=closed").await), [&*other, &*id]);
    assert_eq!(ids(w.get("/open311/v2/requests.json?service_code=SJ0101").await), none.clone());
    assert_eq!(ids(w.get("/open311/v2/requests.json?service_code=SJ0101,sj0102").await), [&*other, &*id]);
    assert_eq!(
        ids(w.get(&format!("/open311/v2/requests.json?service_request_id={id},ZZZZZZZZZZZZZZZZ&status=closed")).await),
        [&*id]
    );
    let now = Utc::now();
    let window = |from: DateTime<Utc>, to: DateTime<Utc>| {
        let q =
            serde_urlencoded::to_string([("start_date", from.to_rfc3339()), ("end_date", to.to_rfc3339())]).unwrap();
        format!("/open311/v2/requests.json?{q}")
    };
    assert_eq!(ids(w.get(&window(now - Duration::days(89), now + Duration::hours(1))).await), [&*other, &*id]);
    assert_eq!(ids(w.get(&window(now - Duration::days(60), now - Duration::days(1))).await), none.clone());
    let until_yesterday =
        format!("/open311/v2/requests.json?end_date={}", (now - Duration::days(1)).format("%Y-%m-%d"));
    assert_eq!(ids(w.get(&until_yesterday).await), none.clone());
    let from_today = format!("/open311/v2/requests.json?start_date={}", now.format("%Y-%m-%dT00:00:00Z"));
    assert_eq!(ids(w.get(&from_today).await).len(), 2);
    // An unencoded + in the offset arrives as a space, and is read as meant.
    let plus =
        format!("/open311/v2/requests.json?start_date={}", (now - Duration::days(1)).format("%Y-%m-%dT%H:%M:%S+08:00"));
    assert_eq!(ids(w.get(&plus).await).len(), 2);
    let xml = w.get("/open311/v2/requests.xml?status=open").await.xml();
    assert_eq!(xml.all("request").len(), 1);
    assert_eq!(xml.get("request").text_of("status"), "open");
}

#[tokio::test]
async fn bad_input_is_named_and_writes_nothing() {
    let w = world().await;
    w.report("先有一件").await;
    let before = w.count().await;
    let long = "长".repeat(2001);
    let ok = [("service_code", "SJ0102"), ("lat", HERE.0), ("long", HERE.1)];
    // The good report with some fields changed (an empty value: the field left out).
    let with = |changes: &[(&'static str, &str)]| -> Fields {
        let mut v: Fields = ok.iter().map(|(k, v)| (*k, v.to_string())).collect();
        for (k, val) in changes {
            v.retain(|(kk, _)| kk != k);
            if !val.is_empty() {
                v.push((k, val.to_string()));
            }
        }
        v
    };
    let cases: Vec<(Fields, u16, &str)> = vec![
        (with(&[("service_code", "")]), 400, "service_code: required (see services.json)"),
        (with(&[("service_code", "SJ9999")]), 404, "service_code: unknown service \"SJ9999\""),
        (with(&[("service_code", INACTIVE)]), 404, "service_code: service SJ0103 is no longer offered"),
        (with(&[("lat", ""), ("long", "")]), 400, "lat, long: required (the WGS-84 position of the problem)"),
        (
            with(&[("lat", ""), ("long", ""), ("address_string", "甲村东口")]),
            400,
            "lat, long: required; reports are placed by their position (it decides the grid and who handles \
             them), so address_string or address_id alone cannot be accepted",
        ),
        (with(&[("long", "")]), 400, "long: required with lat"),
        (with(&[("lat", "")]), 400, "lat: required with long"),
        (with(&[("lat", "91")]), 400, "lat: must be within -90..90, got 91"),
        (with(&[("long", "-180.5")]), 400, "long: must be within -180..180, got -180.5"),
        (with(&[("lat", "north")]), 400, "lat: must be a number (WGS-84 degrees), got \"north\""),
        (with(&[("lat", "NaN")]), 400, "lat: must be within -90..90, got NaN"),
        (
            with(&[("lat", "36.0"), ("long", "118.5")]),
            400,
            "lat, long: the position (lat 36, long 118.5) is outside the district served here",
        ),
        (with(&[("description", &long)]), 400, "description: must have at most 2000 characters, has 2001"),
        (with(&[("media_url", "ftp://x/y.jpg")]), 400, "media_url: must be an http(s) URL"),
        (with(&[("phone", "call me")]), 400, "phone: must be a phone number"),
        (with(&[("email", "nobody")]), 400, "email: must be an e-mail address"),
        (with(&[("description", "a\u{7}b")]), 400, "description: contains control characters"),
    ];
    for (fields, status, description) in cases {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let got = w.post_form("json", &pairs).await;
        assert_eq!(got.status.as_u16(), status, "{fields:?}: {}", got.body);
        let d = error_of(&got);
        assert!(d.starts_with(description), "{fields:?}: {d}");
    }
    // Every problem at once, in XML too.
    let got = w.post_form("xml", &[("lat", "100"), ("long", "x"), ("description", "ok")]).await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    let errors = got.xml();
    let descriptions: Vec<_> = errors.all("error").iter().map(|e| e.text_of("description").to_string()).collect();
    assert_eq!(
        descriptions,
        [
            "service_code: required (see services.json)",
            "lat: must be within -90..90, got 100",
            "long: must be a number (WGS-84 degrees), got \"x\""
        ]
    );
    let got = w
        .post_form("json", &[("service_code", "SJ0102"), ("lat", "36"), ("long", "118.5"), ("description", &long)])
        .await;
    let v = got.json();
    let descriptions: Vec<_> = v.as_array().unwrap().iter().map(|e| e["description"].as_str().unwrap()).collect();
    assert_eq!(
        descriptions,
        [
            "description: must have at most 2000 characters, has 2001",
            "lat, long: the position (lat 36, long 118.5) is outside the district served here"
        ]
    );
    // Bodies that are not a form or a JSON object.
    for (ty, body, description) in [
        ("text/plain", "service_code=SJ0102", "Content-Type: send application/x-www-form-urlencoded"),
        ("application/json", "{\"service_code\":", "body: malformed JSON"),
        ("application/json", "[1]", "body: send a JSON object"),
        ("application/json", "{\"lat\": [1]}", "lat: must be a string or a number"),
    ] {
        let got = w.send("POST", "/open311/v2/requests.json", ty, body, None).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error_of(&got).starts_with(description), "{body}: {}", got.body);
    }
    let got = w.send("POST", "/open311/v2/requests.yaml", "", "service_code=SJ0102", None).await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    assert_eq!(w.count().await, before, "nothing was stored");

    // Listings: every bad parameter named.
    for (query, description) in [
        (
            "start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z",
            "start_date, end_date: the range may not span more than 90 days (asked for 91 days)",
        ),
        (
            "start_date=2026-01-01&end_date=2026-04-01",
            "start_date, end_date: the range may not span more than 90 days (asked for 90 days)",
        ),
        ("start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "end_date: must not be before start_date"),
        ("start_date=yesterday", "start_date: \"yesterday\" is not a W3C date-time"),
        ("end_date=2026-01-01T08:00:00", "end_date: \"2026-01-01T08:00:00\" is not a W3C date-time"),
        ("status=pending", "status: must be open or closed, got \"pending\""),
        ("service_code=SJ9999", "service_code: unknown service \"SJ9999\""),
        ("service_request_id=1", "service_request_id: \"1\" is not a request id"),
        ("service_request_id=ZZZZZZZZZZZZZZZZ,x", "service_request_id: \"x\" is not a request id"),
    ] {
        let got = w.get(&format!("/open311/v2/requests.json?{query}")).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{query}: {}", got.body);
        let d = error_of(&got);
        assert!(d.starts_with(description), "{query}: {d}");
    }
    // A window of exactly 90 days, by dates, is accepted.
    let got = w.get("/open311/v2/requests.json?start_date=2026-01-01&end_date=2026-03-31").await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
}

/// More than 1,000 requests in the window: the newest are answered, newest first, none skipped,
/// at most 1,000 and at least 90% of that.
#[tokio::test]
async fn listings_stop_at_the_newest_thousand() {
    let w = world().await;
    let id = w.report("模板").await;
    let template = w.case_of(&id).await;
    let entry = w.store.timeline(template.id).await.unwrap().remove(0);
    let now = Utc::now();
    let rows: Vec<_> = (1..=1005)
        .map(|i| {
            let mut case = template.clone();
            case.id = 0;
            case.description = format!("第{i}件");
            case.tracking_code = Some(TrackingCode::from_random([1, 2, 3, 4, 5, 6, 7, 8, (i >> 8) as u8, i as u8]));
            case.reported_at = now - Duration::hours(i);
            case.updated_at = case.reported_at;
            let mut e = entry.clone();
            e.at = case.reported_at;
            (Actor::system(), case, e)
        })
        .collect();
    w.store.create_cases(&rows).await.unwrap();
    let got = w.get("/open311/v2/requests.json").await;
    assert_eq!(got.status, StatusCode::OK);
    let list = got.json();
    let list = list.as_array().unwrap();
    assert!((900..=1000).contains(&list.len()), "{}", list.len());
    assert_eq!(list[0]["service_request_id"], id, "the newest first");
    for (i, r) in list.iter().enumerate().skip(1) {
        assert_eq!(r["description"], format!("第{i}件"));
    }
    let times: Vec<DateTime<Utc>> =
        list.iter().map(|r| r["requested_datetime"].as_str().unwrap().parse().unwrap()).collect();
    assert!(times.windows(2).all(|p| p[0] >= p[1]));
}

/// Only what was reported publicly is public: a case the operator took by phone (or a grid
/// worker's, or a sensor's) is not listed, not found by id, alone or in a list, and has no
/// public status page; the citizen's report beside it is all of these.
#[tokio::test]
async fn internal_reports_are_not_public() {
    let w = world().await;
    let public = w.report("路边暴露垃圾，公众上报").await;
    let body = json!({"class_code": "SJ0102", "lat": HERE.0.parse::<f64>().unwrap(), "lon": HERE.1.parse::<f64>().unwrap(),
        "description": "热线来电：楼道堆物，来电人 13812345678"});
    let got = w.send("POST", "/api/cases", "application/json", &body.to_string(), Some(&w.operator)).await;
    assert_eq!(got.status, StatusCode::CREATED, "{}", got.body);
    let internal = got.json()["case"]["id"].as_i64().unwrap();
    assert_eq!(got.json()["case"]["tracking_code"], Value::Null, "an internal case has no tracking code");
    let ids = |v: Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(w.get("/open311/v2/requests.json").await.json()), vec![public.clone()], "the listing");
    let both = format!("/open311/v2/requests.json?service_request_id={public},ZZZZZZZZZZZZZZZZ");
    assert_eq!(ids(w.get(&both).await.json()), vec![public.clone()], "by ids");
    let numbered = format!("/open311/v2/requests.json?service_request_id={internal}");
    assert_eq!(w.get(&numbered).await.status, StatusCode::BAD_REQUEST, "a case number names no request");
    assert_eq!(w.get(&format!("/open311/v2/requests/{internal}.json")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(w.get(&format!("/open311/v2/requests/{public}.json")).await.status, StatusCode::OK);
    let page = w.get(&format!("/public/requests/{internal}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("楼道堆物"), "nothing of the internal case leaks");
    assert_eq!(w.get(&format!("/public/requests/{public}")).await.status, StatusCode::OK);
    // The public case's own number opens nothing either: numbers are sequential, so guessable.
    let number = w.case_of(&public).await.id;
    assert_eq!(w.get(&format!("/open311/v2/requests/{number}.json")).await.status, StatusCode::NOT_FOUND);
    let page = w.get(&format!("/public/requests/{number}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("路边暴露垃圾"), "{}", page.body);
    // Staff find it by either: the citizen quotes the code on the phone.
    assert_eq!(w.get_case(&public.to_lowercase()).await["case"]["id"], number);
}

/// A multipart report (what the citizens' page sends): text parts and `media` files.
fn multipart(fields: &[(&str, &str)], media: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "zhili-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    for (i, (ty, bytes)) in media.iter().enumerate() {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"p{i}\"\r\nContent-Type: {ty}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Photos of a public report pass the staff uploads' checks (type sent, the bytes, the size
/// limit, and at most three), each refusal naming the photo; a refused report stores no photo
/// and no case. Accepted, the photos are stored with the report. Problems are said in the
/// language asked for (`Accept-Language`), the field's name staying the code.
#[tokio::test]
async fn public_photos_are_checked_like_staff_uploads_and_stored_with_the_report() {
    let base = world::World::builder()
        .grids(vec![grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42)])
        .catalogue(Catalogue::national())
        .config(|c| c.photo_max_bytes = 64)
        .build()
        .await;
    let w = World { base, operator: String::new() };
    let png: &[u8] = b"\x89PNG\r\n\x1a\n0123456789abcdef";
    let jpeg: &[u8] = b"\xFF\xD8\xFF\xE0 a small jpeg....";
    let big = [png, &[0u8; 64][..]].concat();
    let ok = [("service_code", "SJ0102"), ("lat", HERE.0), ("long", HERE.1), ("description", "垃圾满溢")];
    let post = |ty: String, body: Vec<u8>, lang: Option<&str>| {
        let mut req = world::request("POST", "/open311/v2/requests.json", None).header("content-type", ty);
        if let Some(l) = lang {
            req = req.header("accept-language", l);
        }
        w.answer(req.body(Body::from(body)).unwrap())
    };
    let before = (w.count().await, w.store.audit_head().await.unwrap());
    type Media<'a> = Vec<(&'a str, &'a [u8])>;
    let refused: Vec<(Media, u16, Vec<&str>)> = vec![
        (
            vec![("image/gif", png)],
            415,
            vec!["media[0]: photos must be image/jpeg, image/png or image/webp, not \"image/gif\""],
        ),
        (
            vec![("image/png", png), ("image/png", &big)],
            413,
            vec!["media[1]: photos are limited to 64 bytes; this one has 88"],
        ),
        (vec![("image/png", jpeg)], 422, vec!["media[0]: the bytes are not a image/png image"]),
        (vec![("image/jpeg", jpeg), ("image/webp", png)], 422, vec!["media[1]: the bytes are not a image/webp image"]),
        (vec![("image/png", png); 4], 400, vec!["media: at most 3 photos, got 4"]),
        (
            vec![("text/plain", png), ("image/jpeg", png)],
            415,
            vec!["media[0]: photos must be", "media[1]: the bytes are not a image/jpeg image"],
        ),
    ];
    for (media, status, descriptions) in refused {
        let (ty, body) = multipart(&ok, &media);
        let got = post(ty, body, None).await;
        assert_eq!(got.status.as_u16(), status, "{}", got.text());
        let list: Value = serde_json::from_str(&got.text()).unwrap();
        let said: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["description"].as_str().unwrap()).collect();
        assert_eq!(said.len(), descriptions.len(), "{said:?}");
        for (d, want) in said.iter().zip(&descriptions) {
            assert!(d.starts_with(want), "{d} / {want}");
        }
    }
    // With a bad photo and a bad phone, in Chinese: every problem, the fields as codes.
    let (ty, body) = multipart(&[("phone", "12"), ok[0], ok[1], ok[2]], &[("image/gif", png)]);
    let got = post(ty, body, Some("zh-CN,zh;q=0.9")).await;
    let list: Value = serde_json::from_str(&got.text()).unwrap();
    let said: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["description"].as_str().unwrap()).collect();
    assert_eq!(
        said,
        [
            "phone: 请填写有效的电话号码（3–20 位数字，可含空格和 + - ( )），现为 \"12\"",
            "media[0]: 照片须为 JPEG、PNG 或 WebP 格式，现为 \"image/gif\""
        ]
    );
    let (ty, body) = multipart(&[ok[0], ("lat", "36.0"), ("long", "118.5")], &[]);
    let got = post(ty, body, Some("zh-CN")).await;
    assert!(got.text().contains("lat, long: 位置（纬度 36，经度 118.5）不在本辖区范围内"), "{}", got.text());
    let got = post("multipart/form-data; boundary=x".into(), b"--x--\r\n".to_vec(), Some("en")).await;
    assert!(got.text().contains("service_code: required (see services.json)"), "{}", got.text());
    assert_eq!((w.count().await, w.store.audit_head().await.unwrap()), before, "nothing was stored");

    // Two good photos: stored, and named by the case.
    let (ty, body) = multipart(&ok, &[("image/png", png), ("image/jpeg; charset=binary", jpeg)]);
    let got = post(ty, body, None).await;
    assert_eq!(got.status, StatusCode::CREATED, "{}", got.text());
    let code =
        serde_json::from_str::<Value>(&got.text()).unwrap()[0]["service_request_id"].as_str().unwrap().to_string();
    let case = w.case_of(&code).await;
    assert_eq!(case.photos.len(), 2);
    let (meta, bytes) = w.store.attachment(&case.photos[0]).await.unwrap();
    assert_eq!((meta.content_type.as_str(), bytes.as_slice(), meta.uploaded_by), ("image/png", png, None));
    assert_eq!(w.store.attachment(&case.photos[1]).await.unwrap().0.content_type, "image/jpeg");
    assert_eq!(w.count().await, before.0 + 1);
}

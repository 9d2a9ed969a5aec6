//! Notifications, escalation and webhooks end to end: the router over SQLite, and a real HTTP
//! receiver on a local socket for the webhooks. The passes are called with explicit instants,
//! so nothing here waits for a timer.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use zhili_case::notify::{EscalationPolicy, WebhookEvent};

use zhili_core::policy::Role;
use zhili_grid::Grid;
use zhili_server::case::notify::escalation_pass;
use zhili_server::platform::notify::{delivery_pass, http_client, Webhook};

use crate::world::{self, grid};

const SECRET: &str = "webhook-secret-0123456789";

/// What the receiver saw: (event header, delivery header, signature header, body).
type Seen = Arc<Mutex<Vec<(String, String, String, Bytes)>>>;

#[derive(Clone)]
struct Receiver {
    seen: Seen,
    /// Answer 500 to this many requests before answering 200.
    fail: Arc<Mutex<u32>>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    r.seen.lock().unwrap().push((h("x-zhili-event"), h("x-zhili-delivery"), h("x-zhili-signature"), body));
    let mut fail = r.fail.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

/// Start the webhook receiver on a free local port; returns its URL.
async fn receiver(r: Receiver) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/hook", axum::routing::post(hook)).with_state(r);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

/// The shared world, whose users are named in [`World::ok`] and [`World::kinds`].
struct World {
    base: world::World,
}
world::extends_world!(World);

impl World {
    async fn ok(&self, method: &str, uri: &str, who: &str, body: Option<Value>) -> Value {
        let (s, b) = self.call(method, uri, Some(&self.tokens[who]), body).await;
        assert!(s.is_success(), "{method} {uri} as {who}: {s} {b}");
        b
    }

    /// The kinds of a user's notifications, newest first.
    async fn kinds(&self, who: &str) -> Vec<String> {
        let b = self.ok("GET", "/api/notifications", who, None).await;
        b["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_string()).collect()
    }
}

/// County 370304, town 100 with village 201 (and one grid in it), department cgj; an operator
/// and a leader of the county, an operator of the town, two staff of cgj, an admin.
async fn world(hook_url: String) -> World {
    let grid = Grid { name: "网格一".into(), ..grid("37030410020101", 1, None, 117.80, 36.40, 117.81, 36.42) };
    let base = world::World::builder()
        .divisions(3)
        .department("cgj", "城管局", "370304")
        .grids(vec![grid])
        .users(&[
            ("admin", Role::Admin, "370304"),
            ("operator", Role::Operator, "370304"),
            ("leader", Role::Leader, "370304"),
            ("town_operator", Role::Operator, "370304100"),
            ("staff", Role::DepartmentStaff, "370304"),
            ("staff2", Role::DepartmentStaff, "370304"),
        ])
        .in_department(&["staff", "staff2"], "cgj")
        .config(|c| {
            c.escalation = EscalationPolicy::default();
            c.webhooks = vec![Webhook {
                name: "ops".into(),
                url: hook_url,
                secret: SECRET.into(),
                events: WebhookEvent::ALL.iter().map(|e| e.as_str().to_string()).collect(),
            }];
        })
        .build()
        .await;
    World { base }
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_escalation_and_webhooks() {
    let rx = Receiver { seen: Arc::default(), fail: Arc::default() };
    let w = world(receiver(rx.clone()).await).await;
    let client = http_client(None).unwrap();

    // Report, file and dispatch to cgj.
    let report = json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "路边暴露垃圾一堆"});
    let (s, r) = w.call("POST", "/api/cases", w.token("operator"), Some(report)).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["case"]["id"].as_i64().unwrap();
    let go = |v: i64, cmd: Value| {
        let mut b = cmd;
        b["version"] = json!(v);
        b
    };
    let path = format!("/api/cases/{id}/transitions");
    w.ok("POST", &path, "operator", Some(go(1, json!({"command": "file"})))).await;
    let b = w.ok("POST", &path, "operator", Some(go(2, json!({"command": "dispatch", "department": "cgj"})))).await;
    let deadline: DateTime<Utc> = b["case"]["clock"]["deadline"].as_str().unwrap().parse().unwrap();

    // Both staff of cgj are told, and nobody else.
    for who in ["staff", "staff2"] {
        assert_eq!(w.kinds(who).await, ["dispatched"], "{who}");
    }
    assert!(w.kinds("operator").await.is_empty());
    let n = w.ok("GET", "/api/notifications", "staff", None).await;
    assert_eq!(n["items"][0]["case_id"], id);
    assert_eq!(n["items"][0]["url"], format!("/cases/{id}"));
    assert_eq!(n["items"][0]["kind_label"], "派遣");
    assert_eq!(n["items"][0]["subject"], format!("case:{id}"));
    // Names and local time, as people read them: not the department's code, not UTC.
    let body = n["items"][0]["body"].as_str().unwrap();
    assert!(body.contains("已派遣至 城管局") && body.contains("暴露垃圾") && !body.contains("UTC"), "{body}");
    assert_eq!(w.ok("GET", "/api/notifications/count", "staff", None).await["unread"], 1);

    // The sender posts case.dispatched, signed.
    assert_eq!(delivery_pass(&w.state, &client, Utc::now()).await.unwrap(), 1);
    {
        let seen = rx.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (event, delivery, signature, body) = &seen[0];
        assert_eq!(event, "case.dispatched");
        assert_eq!(signature, &sign(body), "HMAC-SHA256 of the body");
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!((v["event"].as_str(), v["id"].as_str()), (Some("case.dispatched"), Some(delivery.as_str())));
        assert_eq!(v["case"]["id"], id);
        assert_eq!(v["case"]["department"], "cgj");
        assert_eq!(v["case"]["state"], "dispatched");
        assert_eq!(v["case"]["class_code"], "SJ0102");
        assert!(v["case"].get("contact").is_none(), "no personal data");
    }
    assert_eq!(delivery_pass(&w.state, &client, Utc::now()).await.unwrap(), 0, "delivered once");

    // At the deadline nothing is due; just after it, level 1: cgj's staff and the town's operator.
    let r = escalation_pass(&w.state, deadline).await.unwrap();
    assert_eq!(r.fired, 0);
    let t1 = deadline + Duration::seconds(1);
    let r = escalation_pass(&w.state, t1).await.unwrap();
    assert_eq!((r.overdue, r.fired), (1, 1));
    assert_eq!(w.kinds("staff").await, ["overdue", "dispatched"]);
    assert_eq!(w.kinds("town_operator").await, ["overdue"]);
    assert!(w.kinds("operator").await.is_empty(), "level 2 is not due yet");
    // Again: nothing new.
    assert_eq!(escalation_pass(&w.state, t1 + Duration::seconds(1)).await.unwrap().fired, 0);
    assert_eq!(w.kinds("staff").await.len(), 2);
    assert_eq!(w.kinds("town_operator").await.len(), 1);

    // The receiver fails once: the overdue event is retried after the backoff, then delivered.
    *rx.fail.lock().unwrap() = 1;
    assert_eq!(delivery_pass(&w.state, &client, t1).await.unwrap(), 0);
    let d = w.ok("GET", "/api/webhooks/deliveries", "admin", None).await;
    assert_eq!(d[0]["event"], "case.overdue");
    assert_eq!((d[0]["status"].as_str(), d[0]["attempts"].as_i64()), (Some("pending"), Some(1)));
    assert_eq!(d[0]["last_error"], "HTTP 500");
    assert_eq!(delivery_pass(&w.state, &client, t1 + Duration::seconds(20)).await.unwrap(), 0, "backing off");
    assert_eq!(rx.seen.lock().unwrap().len(), 2);
    assert_eq!(delivery_pass(&w.state, &client, t1 + Duration::seconds(31)).await.unwrap(), 1);
    {
        let seen = rx.seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[1].1, seen[2].1, "a retry repeats the delivery id");
        assert_eq!(seen[2].0, "case.overdue");
        assert_eq!(seen[2].2, sign(&seen[2].3));
    }
    let d = w.ok("GET", "/api/webhooks/deliveries", "admin", None).await;
    assert_eq!((d[0]["status"].as_str(), d[0]["attempts"].as_i64()), (Some("delivered"), Some(2)));
    assert_eq!(d[1]["status"], "delivered");

    // Much later, level 2: the county's operators and leaders; again only once.
    let t2 = deadline + Duration::days(30);
    assert_eq!(escalation_pass(&w.state, t2).await.unwrap().fired, 1);
    assert_eq!(escalation_pass(&w.state, t2).await.unwrap().fired, 0);
    assert_eq!(w.kinds("operator").await, ["escalated"]);
    assert_eq!(w.kinds("leader").await, ["escalated"]);
    assert_eq!(w.kinds("staff").await.len(), 2, "level 2 does not notify the department again");
    assert_eq!(delivery_pass(&w.state, &client, t2).await.unwrap(), 1);
    assert_eq!(rx.seen.lock().unwrap().last().unwrap().0, "case.escalated");

    // Reading: only one's own. town_operator cannot mark staff's notification read.
    let mine = w.ok("GET", "/api/notifications?unread=true", "staff", None).await;
    let first = mine["items"][0]["id"].as_i64().unwrap();
    let b = w.ok("POST", "/api/notifications/read", "town_operator", Some(json!({"ids": [first]}))).await;
    assert_eq!(b["marked"], 0);
    assert_eq!(w.ok("GET", "/api/notifications/count", "staff", None).await["unread"], 2);
    let b = w.ok("POST", "/api/notifications/read", "staff", Some(json!({"ids": [first]}))).await;
    assert_eq!(b["marked"], 1);
    let unread = w.ok("GET", "/api/notifications?unread=true", "staff", None).await;
    assert_eq!(unread["total"], 1);
    assert_eq!(w.ok("POST", "/api/notifications/read", "staff", Some(json!({"all": true}))).await["marked"], 1);
    assert_eq!(w.ok("GET", "/api/notifications/count", "staff", None).await["unread"], 0);
    assert_eq!(w.ok("GET", "/api/notifications/count", "staff2", None).await["unread"], 2, "staff2's stay unread");

    // Bad bodies name the field; no login is 401; the outbox is for administrators.
    let (s, b) = w.call("POST", "/api/notifications/read", w.token("staff"), Some(json!({}))).await;
    assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("ids")), "{b}");
    let (s, _) = w.call("POST", "/api/notifications/read", w.token("staff"), Some(json!({"ids": "1"}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    for (m, uri) in [
        ("GET", "/api/notifications"),
        ("GET", "/api/notifications/count"),
        ("POST", "/api/notifications/read"),
        ("GET", "/api/webhooks/deliveries"),
    ] {
        let (s, b) = w.call(m, uri, None, Some(json!({"all": true}))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{m} {uri}: {b}");
    }
    let (s, _) = w.call("GET", "/api/webhooks/deliveries", w.token("operator"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The page lists them (zh-CN by default) and the bell's script is served.
    let got = w.answer(world::request("GET", "/notifications", w.token("staff")).body(Body::empty()).unwrap()).await;
    assert_eq!(got.status, StatusCode::OK);
    let html = got.text();
    assert!(html.contains("消息通知") && html.contains("超期") && html.contains(&format!("/cases/{id}")), "{html}");
    assert!(html.contains(&zhili_server::web::asset::url("notify.js")) && html.contains("id=\"bell\""));
    assert_eq!(w.answer(Request::get("/assets/notify.js").body(Body::empty()).unwrap()).await.status, StatusCode::OK);
}

/// After a complete pass, a process reads only the clocks that may have a level newly due and
/// the cases changed since. A case whose new clock ran out long before the last pass's time
/// (here the passes run a month ahead of the wall clock) is found through its audit row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_after_the_first_find_changed_clocks() {
    let rx = Receiver { seen: Arc::default(), fail: Arc::default() };
    let w = world(receiver(rx).await).await;
    let levels = w.state.config.escalation.levels().len();
    let report = json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "路边暴露垃圾一堆"});
    let (s, r) = w.call("POST", "/api/cases", w.token("operator"), Some(report)).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["case"]["id"].as_i64().unwrap();
    let later = Utc::now() + Duration::days(30);
    // The first pass reads every overdue case: the report's clock fires every level.
    let r = escalation_pass(&w.state, later).await.unwrap();
    assert_eq!((r.overdue, r.fired, r.full), (1, levels, true));
    let r = escalation_pass(&w.state, later + Duration::seconds(1)).await.unwrap();
    assert_eq!((r.overdue, r.fired, r.full), (0, 0, false), "nothing changed");
    // Filing keeps the clock (立案派遣 is one step); dispatching starts the handling clock, whose
    // deadline (now + the handling limit) is weeks before the last pass: only the dispatch's
    // audit row leads the next pass to it, which fires every level for the new deadline.
    let path = format!("/api/cases/{id}/transitions");
    w.ok("POST", &path, "operator", Some(json!({"command": "file", "version": 1}))).await;
    let r = escalation_pass(&w.state, later + Duration::seconds(2)).await.unwrap();
    assert_eq!((r.overdue, r.fired), (1, 0), "the same clock: read, as changed, and nothing to fire");
    let b =
        w.ok("POST", &path, "operator", Some(json!({"command": "dispatch", "department": "cgj", "version": 2}))).await;
    let deadline: DateTime<Utc> = b["case"]["clock"]["deadline"].as_str().unwrap().parse().unwrap();
    assert!(deadline < later - Duration::days(20), "{deadline}");
    let r = escalation_pass(&w.state, later + Duration::seconds(3)).await.unwrap();
    assert_eq!((r.overdue, r.fired), (1, levels));
    let r = escalation_pass(&w.state, later + Duration::seconds(4)).await.unwrap();
    assert_eq!((r.overdue, r.fired, r.full), (0, 0, false));
    // A pass at an earlier time reads every overdue case again (and finds nothing to fire).
    let r = escalation_pass(&w.state, later).await.unwrap();
    assert_eq!((r.fired, r.full), (0, true));
}

/// A receiver over TLS (rustls) with the certificate in `tests/fixtures/tls` (issued for
/// 127.0.0.1 by a test CA): it records each request's signature header and body and answers 204.
async fn tls_receiver(seen: Seen) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let certs: Vec<rustls::pki_types::CertificateDer<'static>> =
        rustls::pki_types::pem::PemObject::pem_file_iter(dir.join("server.pem")).unwrap().map(|c| c.unwrap()).collect();
    let key =
        <rustls::pki_types::PrivateKeyDer as rustls::pki_types::pem::PemObject>::from_pem_file(dir.join("server.key"))
            .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate gives up during the handshake.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = tls.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed mid-request");
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse::<usize>().unwrap())
                            .unwrap_or(0);
                        break (i + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = tls.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed mid-body");
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)))
                        .map(|(_, v)| v.trim().to_string())
                        .unwrap_or_default()
                };
                let body = Bytes::copy_from_slice(&buf[head_end..head_end + length]);
                seen.lock().unwrap().push((
                    header("x-zhili-event"),
                    header("x-zhili-delivery"),
                    header("x-zhili-signature"),
                    body,
                ));
                tls.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await
                    .unwrap();
                tls.shutdown().await.ok();
            });
        }
    });
    format!("https://127.0.0.1:{}/hook", addr.port())
}

/// https:// webhooks: refused (and retried later) while the receiver's certificate is not
/// trusted; delivered, signed, once the configured CA file vouches for it. A CA file with no
/// certificate is an error, not an empty trust list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_over_https() {
    let seen: Seen = Arc::default();
    let w = world(tls_receiver(seen.clone()).await).await;
    let report = json!({"class_code": "SJ0102", "lon": 117.805, "lat": 36.405, "description": "路边暴露垃圾一堆"});
    let (s, r) = w.call("POST", "/api/cases", w.token("operator"), Some(report)).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let path = format!("/api/cases/{}/transitions", r["case"]["id"]);
    w.ok("POST", &path, "operator", Some(json!({"command": "file", "version": 1}))).await;
    w.ok("POST", &path, "operator", Some(json!({"command": "dispatch", "department": "cgj", "version": 2}))).await;

    // The system's roots alone do not know the test CA.
    let now = Utc::now();
    assert_eq!(delivery_pass(&w.state, &http_client(None).unwrap(), now).await.unwrap(), 0);
    let d = w.ok("GET", "/api/webhooks/deliveries", "admin", None).await;
    assert_eq!((d[0]["status"].as_str(), d[0]["attempts"].as_i64()), (Some("pending"), Some(1)), "{d}");
    assert!(d[0]["last_error"].as_str().unwrap().starts_with("request failed"), "{d}");
    assert!(seen.lock().unwrap().is_empty());

    // With the CA configured, the retry goes through.
    let ca = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem")).unwrap();
    let client = http_client(Some(&ca)).unwrap();
    assert_eq!(delivery_pass(&w.state, &client, now + Duration::seconds(31)).await.unwrap(), 1);
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (event, _, signature, body) = &seen[0];
        assert_eq!(event, "case.dispatched");
        assert_eq!(signature, &sign(body));
    }
    let d = w.ok("GET", "/api/webhooks/deliveries", "admin", None).await;
    assert_eq!((d[0]["status"].as_str(), d[0]["attempts"].as_i64()), (Some("delivered"), Some(2)), "{d}");

    assert!(http_client(Some(b"not a certificate")).is_err());
    assert!(http_client(Some(b"")).is_err());
}

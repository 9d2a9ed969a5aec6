//! End-to-end stories over the real `zhili` binary and real sockets: the demo, SIGKILL while
//! clients write, audit tampering, start-up failures, and two servers on one PostgreSQL.
//!
//! The PostgreSQL story needs `ZHILI_TEST_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); it creates and drops its own database.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use zhili_core::store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_zhili");
const ADMIN_PW: &str = "admin-pass-2026";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `zhili` process, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn zhili(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("ZHILI_DATABASE_URL").env("RUST_LOG", "warn");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    zhili(args, env).stdin(Stdio::null()).output().unwrap()
}

async fn wait_healthy(base: &str, child: &mut Child, limit: Duration) {
    let start = Instant::now();
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("zhili exited early with {status}");
        }
        assert!(start.elapsed() < limit, "no healthy answer within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--listen", &listen]);
    let mut child = zhili(&all, env).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let base = format!("http://{listen}");
    wait_healthy(&base, &mut child, Duration::from_secs(60)).await;
    Server { child, base }
}

async fn login(base: &str, user: &str, pw: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login {user}");
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

fn seed_demo(dir: &Path) {
    let out = run(
        &["demo", "--cases", "2000", "--no-serve", "--data-dir", dir.to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    );
    assert!(out.status.success(), "demo seeding failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn demo_serves_the_district_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let started = Instant::now();
    let mut s = start(
        &["demo", "--cases", "2000", "--data-dir", data.to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(60));
    let token = login(&s.base, "admin", ADMIN_PW).await;
    let c = reqwest::Client::new();
    let towns: Value = c
        .get(format!("{}/api/divisions?parent=370304", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(towns.as_array().unwrap().len(), 10);
    let users: Value = c
        .get(format!("{}/api/users?role=grid_worker", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users["total"], 9311, "Shanwei's count of grid workers");
    // Every demo role can log in with the printed password.
    for u in ["leader", "operator1", "slj01", "gw370304001001041"] {
        login(&s.base, u, "zhili-demo").await;
    }
    // SIGTERM: the server finishes and exits cleanly.
    let pid = s.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let t = Instant::now();
    loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            assert!(status.success(), "exit after SIGTERM: {status}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The data directory is reused; the password stays unless given again.
    let s2 = start(&["demo", "--cases", "2000", "--data-dir", data.to_str().unwrap()], &[]).await;
    login(&s2.base, "admin", ADMIN_PW).await;
}

#[tokio::test]
async fn sigkill_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    seed_demo(dir.path());
    let db = dir.path().join("zhili.db");
    let url = format!("sqlite://{}", db.display());
    let env = [("ZHILI_DATABASE_URL", url.as_str())];
    let mut server = start(&["serve"], &env).await;
    let token = login(&server.base, "admin", ADMIN_PW).await;

    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (base, token, acked, stop) = (server.base.clone(), token.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let c = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 10_000 {
                i += 1;
                let code = format!("k{w}_{i}");
                let r = c
                    .post(format!("{base}/api/departments"))
                    .bearer_auth(&token)
                    .json(&json!({"code": code, "name": format!("压测部门{w}-{i}"), "division": "370304"}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let v: Value = match r.json().await {
                            Ok(v) => v,
                            Err(_) => break,
                        };
                        acked.lock().unwrap().push((v["id"].as_i64().unwrap(), code));
                    }
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child.kill().unwrap(); // SIGKILL on Unix
    server.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "too few writes acknowledged before the kill: {}", acked.len());

    // The database passes its integrity check, and every acknowledged write is there.
    let store = zhili_store_sqlite::SqliteStore::open(&db).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
    for (id, code) in &acked {
        let d = store.department(*id).await.unwrap_or_else(|e| panic!("acknowledged department {id} lost: {e}"));
        assert_eq!(&d.code, code);
    }
    drop(store);
    let out = run(&["audit", "verify"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // And the server starts again on the same file.
    let s2 = start(&["serve"], &env).await;
    login(&s2.base, "admin", ADMIN_PW).await;
}

/// Copy the seeded database, tamper with the copy via raw SQL, and run `zhili audit verify`.
async fn tamper(seeded: &Path, sql: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("zhili.db");
    std::fs::copy(seeded, &db).unwrap();
    let url = format!("sqlite://{}", db.display());
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for s in sql {
            sqlx::query(s).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    }
    run(&["audit", "verify"], &[("ZHILI_DATABASE_URL", &url)])
}

#[tokio::test]
async fn audit_verify_detects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    seed_demo(dir.path());
    // A few more audited writes so there is a middle to tamper with.
    let db = dir.path().join("zhili.db");
    let url = format!("sqlite://{}", db.display());
    for i in 0..3 {
        let out = zhili(
            &["user", "add", "--username", &format!("extra{i}"), "--role", "leader", "--jurisdiction", "370304"],
            &[("ZHILI_DATABASE_URL", &url), ("ZHILI_USER_PASSWORD", "extra-pass-1")],
        )
        .output()
        .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // Checkpoint the WAL into the main file so a plain copy carries everything.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
    let ok = run(&["audit", "verify"], &[("ZHILI_DATABASE_URL", &url)]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact"));

    let unlock = ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"];
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("modified", vec!["UPDATE audit_log SET target = 'user:999' WHERE seq = 2"], "modified"),
        ("deleted", vec!["DELETE FROM audit_log WHERE seq = 2"], "deleted"),
        (
            "reordered",
            vec![
                "UPDATE audit_log SET seq = -2 WHERE seq = 2",
                "UPDATE audit_log SET seq = 2 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = -2",
            ],
            "audit row 2",
        ),
        ("tail removed", vec!["DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)"], "truncated"),
    ];
    for (name, sql, expect) in cases {
        let all: Vec<&str> = unlock.iter().copied().chain(sql).collect();
        let out = tamper(&db, &all).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: verify passed on a tampered log");
        assert!(err.contains("BROKEN") && err.contains(expect), "{name}: {err}");
    }
    // The triggers refuse edits through the ordinary path.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let e = sqlx::query("UPDATE audit_log SET target = 'x' WHERE seq = 1").execute(&mut conn).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }
}

#[test]
fn unreachable_database_is_one_clear_line_and_a_failure() {
    let t = Instant::now();
    let out = run(
        &["serve", "--listen", "127.0.0.1:0"],
        &[("ZHILI_DATABASE_URL", "postgres://zhili:secret@127.0.0.1:1/zhili")],
    );
    assert!(!out.status.success());
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("zhili: cannot connect to the database"), "{err}");
    assert!(!err.contains("secret"), "the password leaked: {err}");

    let out = run(&["migrate"], &[("ZHILI_DATABASE_URL", "sqlite:///nonexistent/dir/zhili.db")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/dir"), "{err}");
}

#[test]
fn cli_refuses_bad_input_precisely() {
    let dir = tempfile::tempdir().unwrap();
    seed_demo(dir.path());
    let url = format!("sqlite://{}", dir.path().join("zhili.db").display());
    let add = |args: &[&str]| {
        let mut all = vec!["user", "add"];
        all.extend(args);
        zhili(&all, &[("ZHILI_DATABASE_URL", &url), ("ZHILI_USER_PASSWORD", "a-good-password")]).output().unwrap()
    };
    let out = add(&["--username", "ok_user", "--role", "mayor", "--jurisdiction", "370304"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role"));
    let out = add(&["--username", "ok_user", "--role", "leader", "--jurisdiction", "37030x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jurisdiction: division code character 6"));
    let out = add(&["--username", "ok_user", "--role", "leader", "--jurisdiction", "370304555"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such division"));
    let out = add(&["--username", "admin", "--role", "leader", "--jurisdiction", "370304"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
    let out = add(&["--username", "ok_user", "--role", "leader", "--jurisdiction", "370304"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["serve"], &[("ZHILI_DATABASE_URL", &url), ("ZHILI_SERVER_SESSION_TTL_HOURS", "forever")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("ZHILI_SERVER_SESSION_TTL_HOURS"));
    let out = run(&["config", "example"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[database]") && text.contains("# env: ZHILI_SERVER_LISTEN"));
}

/// Names a fresh PostgreSQL database and drops it at the end.
struct PgDb {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDb {
    async fn create() -> Option<PgDb> {
        let admin_url = match std::env::var("ZHILI_TEST_POSTGRES_URL") {
            Ok(u) => u,
            Err(_) if std::env::var_os("CI").is_some() => panic!("CI must set ZHILI_TEST_POSTGRES_URL"),
            Err(_) => {
                eprintln!("skipped: set ZHILI_TEST_POSTGRES_URL to run the two-server PostgreSQL story");
                return None;
            }
        };
        use sqlx::Connection;
        let name = format!("zhili_e2e_{}_{}", std::process::id(), free_port());
        let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        Some(PgDb { url: format!("{base}/{name}"), admin_url, name })
    }

    async fn drop_db(&self) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut conn).await.unwrap();
    }
}

#[tokio::test]
async fn two_servers_share_one_postgres_database() {
    let Some(db) = PgDb::create().await else { return };
    let result = tokio::spawn(two_servers_story(db.url.clone())).await;
    db.drop_db().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn two_servers_story(url: String) {
    let out =
        run(&["demo", "--cases", "2000", "--no-serve", "--database-url", &url], &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let env = [("ZHILI_DATABASE_URL", url.as_str())];
    let a = start(&["serve"], &env).await;
    let b = start(&["serve"], &env).await;
    let c = reqwest::Client::new();
    // A session made through A works on B.
    let token = login(&a.base, "admin", ADMIN_PW).await;
    let me: Value = c.get(format!("{}/api/me", b.base)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["username"], "admin");
    // A write through A is visible through B at once.
    let r = c
        .post(format!("{}/api/departments", a.base))
        .bearer_auth(&token)
        .json(&json!({"code": "via_a", "name": "经由甲服务器", "division": "370304"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let d: Value = c
        .get(format!("{}/api/departments/{id}", b.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["code"], "via_a");
    // The spatial index of B follows a grid changed through A (LISTEN/NOTIFY).
    let at = "lon=117.9&lat=36.425";
    let chain: Value =
        c.get(format!("{}/api/locate?{at}", b.base)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(chain.as_array().unwrap().len() >= 5, "small → medium → (large →) village → township → county: {chain}");
    let code = chain[0]["code"].as_str().unwrap().to_string();
    let g: Value =
        c.get(format!("{}/api/grids/{code}", a.base)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let doc = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": g["boundary"],
        "properties": {"code": code, "name": "经甲改名", "level": g["level"], "parent": g["parent"]}}]});
    let r = c.post(format!("{}/api/grids/import", a.base)).bearer_auth(&token).json(&doc).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let t = Instant::now();
    loop {
        let chain: Value = c
            .get(format!("{}/api/locate?{at}", b.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if chain[0]["name"] == "经甲改名" {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "server B never saw the change: {chain}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Login throttling counts failures on both servers together.
    for i in 0..10 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let r = c
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": "leader", "password": "nope"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = c
        .post(format!("{}/api/auth/login", a.base))
        .json(&json!({"username": "leader", "password": "zhili-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // Logging out through B ends the session on A too: A has the session cached (it served the
    // requests above) and drops it when B's change arrives, well before the cache's 10 s.
    let r = c.get(format!("{}/api/me", a.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c.post(format!("{}/api/auth/logout", b.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let t = Instant::now();
    loop {
        let r = c.get(format!("{}/api/me", a.base)).bearer_auth(&token).send().await.unwrap();
        if r.status() == 401 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(3), "server A still takes the session B ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Concurrent writes through both servers keep one unbroken audit chain.
    let token = login(&b.base, "admin", ADMIN_PW).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{base}/api/departments"))
                .bearer_auth(&token)
                .json(&json!({"code": format!("both{i}"), "name": "并发", "division": "370304"}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let v: Value =
        c.get(format!("{}/api/audit/verify", a.base)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["ok"], true, "{v}");
    drop((a, b));
    let out = run(&["audit", "verify"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    seed_demo(dir.path());
    let url = format!("sqlite://{}", dir.path().join("zhili.db").display());
    let env = [("ZHILI_DATABASE_URL", url.as_str())];
    // A machine token from the CLI works like a login token.
    let out = run(&["token", "create", "--username", "admin", "--days", "1"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let out = run(&["token", "create", "--username", "nobody"], &env);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--username: no user"));
    let mut s = start(&["serve"], &env).await;
    let me: Value = reqwest::Client::new()
        .get(format!("{}/api/me", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");

    // Send half a request, SIGTERM the server, then the rest: the request still completes.
    let body = json!({"code": "inflight", "name": "关停中写入", "division": "370304"}).to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "POST /api/departments HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        body.len()
    );
    conn.write_all(req.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(Command::new("kill").args(["-TERM", &s.child.id().to_string()]).status().unwrap().success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.write_all(tail.as_bytes()).await.unwrap();
    let mut resp = String::new();
    conn.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status}");
    // It was stored.
    let store = zhili_store_sqlite::SqliteStore::open(&dir.path().join("zhili.db")).await.unwrap();
    let all = store.departments(None, zhili_core::store::Page { offset: 0, limit: 1000 }).await.unwrap();
    assert!(all.iter().any(|d| d.code == "inflight"));
}

#[tokio::test]
async fn owslib_reads_the_demo_through_ogc_api_features() {
    let has_owslib =
        Command::new("python3").args(["-c", "import owslib"]).status().map(|s| s.success()).unwrap_or(false);
    if !has_owslib {
        assert!(std::env::var_os("CI").is_none(), "CI must install OWSLib (pip install OWSLib)");
        eprintln!("skipped: pip install OWSLib to run the OWSLib story");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "2000", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    let token = login(&s.base, "admin", ADMIN_PW).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/owslib_check.py");
    let out = Command::new("python3").args([script, &format!("{}/ogc", s.base), &token]).output().unwrap();
    assert!(
        out.status.success(),
        "OWSLib failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}

/// Browser stories (`tests/browser/*.js`) run by node with playwright-core, and where they leave
/// their screenshots.
struct Browser {
    /// playwright-core's node_modules.
    modules: std::path::PathBuf,
    /// `target/screenshots`, created.
    shots: std::path::PathBuf,
}

impl Browser {
    /// Ready if Chromium and playwright-core are installed; without them a browser test is
    /// skipped on a developer's machine and fails in CI.
    fn ready() -> Option<Browser> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let modules = root.join("target/browser/node_modules");
        let ready = modules.join("playwright-core").exists()
            && Path::new(&std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())).exists();
        if !ready {
            assert!(std::env::var_os("CI").is_none(), "CI must install chromium and playwright-core (see .ci/run)");
            eprintln!("skipped: apt-get install chromium; npm install --prefix target/browser playwright-core@1");
            return None;
        }
        let shots = root.join("target/screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Some(Browser { modules, shots })
    }

    /// Run `tests/browser/{script}` with `args`; it must succeed. Its output is printed.
    fn story(&self, script: &str, args: &[&str]) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser").join(script);
        let out = Command::new("node").arg(&path).args(args).env("NODE_PATH", &self.modules).output().unwrap();
        assert!(
            out.status.success(),
            "browser story {script} {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    }

    fn shots(&self) -> &str {
        self.shots.to_str().unwrap()
    }
}

#[tokio::test]
async fn browser_opens_the_one_map_and_clicks_a_grid() {
    let Some(b) = Browser::ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "2000", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    b.story("onemap.js", &[&s.base, ADMIN_PW, b.shots()]);
    assert!(b.shots.join("onemap-desktop.png").exists() && b.shots.join("onemap-phone.png").exists());

    // The case loop on a phone: report with a photo (through the offline queue), then file,
    // dispatch, handle, verify and close as the other roles.
    b.story("case.js", &[&s.base, zhili_demo::DEMO_PASSWORD, b.shots()]);
    assert!(b.shots.join("case-closed-phone.png").exists());
    drop(s);

    // Again with a raster basemap in GCJ-02 (served here, as a city's tile server would be): the
    // page may fetch from it (CSP), draws it, and asks for our layers shifted onto it.
    let (tiles, served) = tile_server();
    let url = format!("{tiles}/{{z}}/{{x}}/{{y}}.png");
    let s = start(
        &["demo", "--cases", "2000", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[
            ("ZHILI_ADMIN_PASSWORD", ADMIN_PW),
            ("ZHILI_MAP_BASEMAP_URL", &url),
            ("ZHILI_MAP_BASEMAP_CRS", "gcj02"),
            ("ZHILI_MAP_BASEMAP_ATTRIBUTION", "测试底图"),
        ],
    )
    .await;
    b.story("onemap.js", &[&s.base, ADMIN_PW, b.shots(), "gcj02"]);
    assert!(served.load(Ordering::SeqCst) > 0, "the browser fetched no basemap tile");
}

#[tokio::test]
async fn browser_shows_before_and_after_photos_the_countdown_and_finds_places() {
    let Some(b) = Browser::ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "2000", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    b.story("photos.js", &[&s.base, zhili_demo::DEMO_PASSWORD, b.shots()]);
    for shot in ["case-desktop", "case-phone", "viewer-desktop", "viewer-phone", "intake-picked", "map-popup"] {
        assert!(b.shots.join(format!("photos-{shot}.png")).exists(), "{shot}");
    }
}

#[tokio::test]
async fn browser_shows_each_role_its_queue_and_returns_to_the_link_after_login() {
    let Some(b) = Browser::ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "2000", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    let keys_file = message_keys(dir.path());
    b.story("home.js", &[&s.base, zhili_demo::DEMO_PASSWORD, b.shots(), &keys_file]);
    // Every page each role visited was checked (lib/checks.js) and shot, on both screens.
    let pages = [
        "login-operator1",
        "operator",
        "operator-to-file",
        "operator-case",
        "operator-bulk-confirm",
        "operator-bulk-done",
        "operator-to-dispatch",
        "operator-dispatch",
        "login-cgj01",
        "department",
        "department-worklist",
        "department-case",
        "department-respond",
        "gridworker",
        "gridworker-to-check",
        "gridworker-case",
        "gridworker-my-reports",
        "login-leader",
        "leader",
        "leader-dashboard",
        "leader-reported-today",
        "leader-case",
        "leader-map",
        "leader-overdue",
    ];
    for name in pages {
        for screen in ["phone", "desktop"] {
            assert!(b.shots.join(format!("home-{name}-{screen}.png")).exists(), "{name} {screen}");
        }
    }
    assert!(b.shots.join("home-login-return.png").exists());
}

/// A grid worker's report is never lost: GPS refused → a pin on the map; a refused report keeps
/// its draft (and a reload keeps it too); a photo removed before sending is not uploaded.
#[tokio::test]
async fn browser_reports_by_pin_and_keeps_a_refused_draft() {
    let Some(b) = Browser::ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "200", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    b.story("report.js", &[&s.base, zhili_demo::DEMO_PASSWORD, b.shots()]);
    assert!(
        b.shots.join("report-gps-refused-pin.png").exists() && b.shots.join("report-refused-keeps-draft.png").exists()
    );
}

#[tokio::test]
async fn browser_edits_the_catalogue_and_the_calendar() {
    let Some(b) = Browser::ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "200", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    b.story("settings.js", &[&s.base, ADMIN_PW, zhili_demo::DEMO_PASSWORD, b.shots()]);
    assert!(b.shots.join("settings-classes.png").exists() && b.shots.join("settings-calendar.png").exists());
}

#[tokio::test]
async fn browser_reports_a_problem_on_the_public_page() {
    let Some(b) = Browser::ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "2000", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    // Where the citizen stands: the middle of a grid's bounding box (inside the district).
    let token = login(&s.base, "admin", ADMIN_PW).await;
    let client = reqwest::Client::new();
    let get = |path: String| client.get(format!("{}{path}", s.base)).bearer_auth(&token).send();
    let list: Value = get("/api/grids?limit=1".into()).await.unwrap().json().await.unwrap();
    let code = list["items"][0]["code"].as_str().unwrap().to_string();
    let g: Value = get(format!("/api/grids/{code}")).await.unwrap().json().await.unwrap();
    let ring = if g["boundary"]["type"] == "Polygon" {
        &g["boundary"]["coordinates"][0]
    } else {
        &g["boundary"]["coordinates"][0][0]
    };
    let (xs, ys): (Vec<f64>, Vec<f64>) =
        ring.as_array().unwrap().iter().map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())).unzip();
    let mid =
        |v: &[f64]| (v.iter().cloned().fold(f64::MAX, f64::min) + v.iter().cloned().fold(f64::MIN, f64::max)) / 2.0;
    let (lon, lat) = (mid(&xs), mid(&ys));

    b.story("public.js", &[&s.base, &lon.to_string(), &lat.to_string(), b.shots()]);
    assert!(b.shots.join("public-report.png").exists());
    // The citizen's report, as staff see it: its photo, its tracking code; its number opens no
    // public page (a browser gets the HTML 404 page), its code does.
    let list: Value = get("/api/cases?source=open311&sort=newest&limit=1".into()).await.unwrap().json().await.unwrap();
    let case = &list["items"][0];
    assert_eq!(case["photos"].as_array().map(Vec::len), Some(1), "{case}");
    let code = case["tracking_code"].as_str().unwrap();
    let page = |path: String| client.get(format!("{}{path}", s.base)).header("accept", "text/html").send();
    let by_number = page(format!("/public/requests/{}", case["id"])).await.unwrap();
    assert_eq!(by_number.status(), 404);
    assert!(by_number.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(page(format!("/public/requests/{code}")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn browser_runs_a_storm_from_the_duty_screen_and_acknowledges_on_a_phone() {
    let Some(b) = Browser::ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "500", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    let keys_file = message_keys(dir.path());
    b.story("flood.js", &[&s.base, ADMIN_PW, zhili_demo::DEMO_PASSWORD, &keys_file, b.shots()]);
    for shot in
        ["zh-CN-duty-storm", "zh-CN-warning", "zh-CN-station", "zh-CN-warning-acknowledged-phone", "en-duty", "map"]
    {
        assert!(b.shots.join(format!("flood-{shot}.png")).exists(), "{shot}");
    }
}

#[tokio::test]
async fn browser_sees_every_page_in_one_language() {
    let Some(b) = Browser::ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "200", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    let keys_file = message_keys(dir.path());
    b.story("language.js", &[&s.base, ADMIN_PW, &keys_file, b.shots()]);
    for lang in ["zh-CN", "en"] {
        for page in ["login", "home", "report", "case", "dashboard", "status", "unknown", "audit"] {
            assert!(b.shots.join(format!("language-{lang}-{page}.png")).exists(), "{lang} {page}");
        }
    }
}

/// The registered message keys in `dir/keys.json` (its path answered), so the page checks
/// (`tests/browser/lib/checks.js`) can tell an untranslated key from other text.
fn message_keys(dir: &Path) -> String {
    let keys: Vec<&str> = zhili_server::messages().map(|m| m.0).collect();
    let file = dir.join("keys.json");
    std::fs::write(&file, serde_json::to_vec(&keys).unwrap()).unwrap();
    file.to_str().unwrap().to_string()
}

/// A raster tile server on a free port: every request gets a 1×1 PNG; counts requests.
fn tile_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    const PNG: [u8; 70] = [
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 31, 21,
        196, 137, 0, 0, 0, 13, 73, 68, 65, 84, 120, 218, 99, 100, 248, 207, 80, 15, 0, 3, 134, 1, 128, 90, 52, 125,
        107, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
    ];
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = served.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            if got.starts_with(b"GET ") {
                count.fetch_add(1, Ordering::SeqCst);
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\
                 Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
                PNG.len()
            );
            let _ = conn.write_all(head.as_bytes()).and_then(|_| conn.write_all(&PNG));
        }
    });
    (base, served)
}

#[tokio::test]
async fn grids_export_and_import_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed_demo(&data);
    let db = format!("sqlite://{}", data.join("zhili.db").display());
    let env = [("ZHILI_DATABASE_URL", db.as_str())];
    let file = dir.path().join("town.geojson");
    let out = run(&["export", "grids", "--within", "370304100", "--out", file.to_str().unwrap()], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first = std::fs::read_to_string(&file).unwrap();
    let doc: Value = serde_json::from_str(&first).unwrap();
    let features = doc["features"].as_array().unwrap();
    assert!(features.len() > 100, "a township has hundreds of grids: {}", features.len());
    assert!(features.iter().all(|f| f["properties"]["code"].as_str().unwrap().starts_with("370304100")));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{} grids exported", features.len())));

    // The export validates as an import, writes, and exports again byte for byte.
    let out = run(&["import", "grids", file.to_str().unwrap(), "--dry-run"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{} grids valid", features.len())));
    let out = run(&["import", "grids", file.to_str().unwrap()], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["export", "grids", "--within", "370304100"], &env);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), first);

    // The same grids as a GeoPackage written by GDAL (pyogrio): by CLI and by upload.
    let gpkg = dir.path().join("town.gpkg");
    let writer = "import sys, pyogrio.raw as raw\n\
                  meta, _f, g, fields = raw.read(sys.argv[1])\n\
                  raw.write(sys.argv[2], g, fields, fields=meta['fields'], crs='EPSG:4490', geometry_type='Polygon', \
                  driver='GPKG', layer='grids', promote_to_multi=False)\n";
    match Command::new("python3").args(["-c", writer]).arg(&file).arg(&gpkg).output() {
        Ok(o) if o.status.success() => {
            let out = run(&["import", "grids", gpkg.to_str().unwrap(), "--dry-run"], &env);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{} grids valid", features.len())));
            let out = run(&["import", "grids", gpkg.to_str().unwrap(), "--layer", "nope", "--dry-run"], &env);
            assert!(String::from_utf8_lossy(&out.stderr).contains("nope"), "{}", String::from_utf8_lossy(&out.stderr));
            let s = start(&["serve"], &env).await;
            let token = login(&s.base, "admin", ADMIN_PW).await;
            let c = reqwest::Client::new();
            let r = c
                .post(format!("{}/api/grids/import?dry_run=true", s.base))
                .bearer_auth(&token)
                .header("content-type", "application/geopackage+sqlite3")
                .body(std::fs::read(&gpkg).unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.json::<Value>().await.unwrap()["valid"], features.len());
            // Not a GeoPackage: named as such, nothing written.
            let r = c
                .post(format!("{}/api/grids/import", s.base))
                .bearer_auth(&token)
                .header("content-type", "application/geopackage+sqlite3")
                .body(b"SQLite format 3\0 but not really".to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422);
            let b = r.json::<Value>().await.unwrap();
            assert_eq!(b["error"]["field"], "file", "{b}");
        }
        other => {
            let help = "writing a GeoPackage needs GDAL's Python binding: pip install pyogrio";
            assert!(std::env::var_os("CI").is_none(), "{help}: {other:?}");
            eprintln!("GeoPackage part skipped: {help}");
        }
    }

    // Bad input: a bad division code; an unwritable destination leaves nothing behind.
    let out = run(&["export", "grids", "--within", "37030x"], &env);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--within"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["export", "grids", "--out", "/nonexistent-dir/x.geojson"], &env);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"));
}

#[tokio::test]
async fn open311_clients_report_and_follow_requests() {
    let has_georeport =
        Command::new("python3").args(["-c", "import georeport"]).status().map(|s| s.success()).unwrap_or(false);
    if !has_georeport {
        assert!(std::env::var_os("CI").is_none(), "CI must install georeport (pip install georeport)");
        eprintln!("skipped: pip install georeport to run the Open311 story");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &["demo", "--cases", "2000", "--data-dir", dir.path().join("d").to_str().unwrap()],
        &[("ZHILI_ADMIN_PASSWORD", ADMIN_PW)],
    )
    .await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/open311_check.py");
    let out = Command::new("python3").args([script, &s.base]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "georeport failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("{stdout}");
    // Both reports are cases of the Open311 channel, reported by nobody, with the phone kept
    // for the operators (who see it masked unless they may read personal data).
    let ids = stdout.lines().find_map(|l| l.strip_prefix("open311 ids: ")).expect("the script names its requests");
    let token = login(&s.base, "admin", ADMIN_PW).await;
    for id in ids.split_whitespace() {
        let r =
            reqwest::Client::new().get(format!("{}/api/cases/{id}", s.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200, "case {id}");
        let case = r.json::<Value>().await.unwrap()["case"].clone();
        assert_eq!(case["source"], "open311", "{case}");
        assert_eq!(case["state"], "reported", "{case}");
        assert_eq!(case["reporter_id"], Value::Null, "{case}");
        assert!(case["contact"].as_str().unwrap().ends_with("5678"), "{case}");
    }
}

/// One station's link in the kill test: its frames in order, sent one at a time, each waited
/// for its confirm (a station resends what was not confirmed).
struct FloodStation {
    sim: zhili_demo::flood::simulator::SimStation,
    frames: Vec<(chrono::DateTime<chrono::Utc>, Vec<u8>)>,
    next: usize,
}

/// Send `station`'s frames from `next` on to `target` until `stop` or a failure (the server
/// gone); the observation times of the frames confirmed.
async fn flood_send(
    target: std::net::SocketAddr,
    station: &mut FloodStation,
    stop: &AtomicBool,
) -> Vec<chrono::DateTime<chrono::Utc>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut confirmed = Vec::new();
    let Ok(mut stream) = tokio::net::TcpStream::connect(target).await else { return confirmed };
    let mut decoder = zhili_sl651::Decoder::new();
    let mut buf = vec![0u8; 4096];
    while station.next < station.frames.len() && !stop.load(Ordering::Relaxed) {
        let (observed, bytes) = &station.frames[station.next];
        if stream.write_all(bytes).await.is_err() {
            return confirmed;
        }
        let got = loop {
            if let Some(item) = decoder.decode() {
                if let Ok(r) = item {
                    if matches!(r.frame.body(), Ok(zhili_sl651::Body::Confirm { .. })) {
                        break true;
                    }
                }
                continue;
            }
            match tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => {
                    decoder.feed(&buf[..n]);
                }
                _ => break false,
            }
        };
        if !got {
            return confirmed;
        }
        confirmed.push(*observed);
        station.next += 1;
    }
    confirmed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_sigkill_mid_storm_loses_no_confirmed_frame_and_warns_no_village_twice() {
    use zhili_demo::flood::{network, simulator, storm};
    use zhili_flood::store::{FloodModelStore, ObservationStore, StationFilter};
    use zhili_flood::warning::store::{WarningFilter, WarningStore};

    let dir = tempfile::tempdir().unwrap();
    seed_demo(dir.path());
    let db = dir.path().join("zhili.db");
    let url = format!("sqlite://{}", db.display());
    let sl651 = format!("127.0.0.1:{}", free_port());
    let env = [
        ("ZHILI_DATABASE_URL", url.as_str()),
        ("ZHILI_FLOOD_SL651_ENABLED", "true"),
        ("ZHILI_FLOOD_SL651_LISTEN", sl651.as_str()),
    ];
    let target: std::net::SocketAddr = sl651.parse().unwrap();

    // The demo network's automatic stations and a 4-hour storm that has just passed, as frames.
    let district = zhili_demo::district("");
    let net = network::network(&district.batch.divisions, &network::NetworkOptions::default()).unwrap();
    let now = chrono::Utc::now();
    let begin = now - chrono::Duration::hours(6);
    let begin = begin - chrono::Duration::seconds(begin.timestamp().rem_euclid(300));
    let config = storm::StormConfig { hours: 4, peak_mm_per_h: Some(90.0), ..storm::StormConfig::new(begin) };
    let values: Vec<storm::StormValue> = storm::Storm::new(&net, &config).unwrap().values().collect();
    let sim_config = simulator::SimConfig::new(target, 1.0);
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let mut stations: Vec<FloodStation> = simulator::SimStation::of_network(&net)
        .into_iter()
        .map(|sim| {
            let mine: Vec<_> =
                values.iter().filter(|v| v.station == sim.code).map(|v| (v.time, v.element, v.value)).collect();
            let frames = simulator::plan(&sim, &mine, &sim_config)
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let f = simulator::report_frame(&sim, p, (i + 1) as u16, p.due, offset).unwrap();
                    (p.observed, f.encode().unwrap())
                })
                .collect();
            FloodStation { sim, frames, next: 0 }
        })
        .collect();
    let total: usize = stations.iter().map(|s| s.frames.len()).sum();
    assert!(stations.len() >= 40 && total > 400, "{} stations, {total} frames", stations.len());

    // Mid-storm: every station sends while the server is SIGKILLed.
    let mut server = start(&["serve"], &env).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for mut s in std::mem::take(&mut stations) {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let confirmed = flood_send(target, &mut s, &stop).await;
            (s, confirmed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut confirmed: Vec<(zhili_flood::vocab::StationCode, chrono::DateTime<chrono::Utc>)> = Vec::new();
    for t in tasks {
        let (s, c) = t.await.unwrap();
        confirmed.extend(c.into_iter().map(|t| (s.sim.code.clone(), t)));
        stations.push(s);
    }
    let sent: usize = stations.iter().map(|s| s.next).sum();
    assert!(sent > 20 && sent < total, "the kill should fall mid-storm: {sent} of {total} confirmed");
    eprintln!("killed after {sent} of {total} frames confirmed by {} stations", stations.len());

    // Every confirmed frame is in the archive, with its values.
    let store = zhili_store_sqlite::SqliteStore::open(&db).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
    let (from, to) = (begin - chrono::Duration::days(1), now + chrono::Duration::days(1));
    for (code, observed) in &confirmed {
        let frames = store.frames(code, from, to, 10_000).await.unwrap();
        assert!(
            frames.iter().any(|(_, f)| f.observed_at == *observed),
            "confirmed frame of {code} observed {observed} lost"
        );
    }
    let warned_before = store
        .warnings(&WarningFilter::default(), zhili_core::store::Page { offset: 0, limit: 10_000 })
        .await
        .unwrap()
        .len();
    drop(store);

    // The server again: the stations send the rest (from the first unconfirmed frame, as
    // stations resend), the runtime re-evaluates every village, and no village is warned twice.
    let _server = start(&["serve"], &env).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for mut s in stations {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut tries = 0;
            while s.next < s.frames.len() && tries < 5 {
                flood_send(target, &mut s, &stop).await;
                tries += 1;
            }
            s.next == s.frames.len()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap(), "a station could not send its storm after the restart");
    }
    let store = zhili_store_sqlite::SqliteStore::open(&db).await.unwrap();
    let stations_stored =
        store.stations(&StationFilter::default(), zhili_core::store::Page { offset: 0, limit: 1000 }).await.unwrap();
    assert!(stations_stored.len() > 400);
    // Let the runtime catch up, then count warnings per village.
    let mut last = usize::MAX;
    let mut warnings = Vec::new();
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        warnings = store
            .warnings(&WarningFilter::default(), zhili_core::store::Page { offset: 0, limit: 10_000 })
            .await
            .unwrap();
        if warnings.len() == last && !warnings.is_empty() {
            break;
        }
        last = warnings.len();
    }
    assert!(warnings.len() >= warned_before && !warnings.is_empty(), "the storm warned no village");
    eprintln!("{warned_before} warnings before the kill, {} after the restart", warnings.len());
    let mut villages: Vec<_> = warnings.iter().map(|w| w.village.clone()).collect();
    villages.sort();
    let n = villages.len();
    villages.dedup();
    assert_eq!(villages.len(), n, "a village was warned twice");
    for w in &warnings {
        let raised = store
            .trail(w.id)
            .await
            .unwrap()
            .iter()
            .filter(|t| t.entry.kind == zhili_flood::warning::TrailKind::Raised)
            .count();
        assert_eq!(raised, 1, "warning {} raised {raised} times", w.id);
    }
}

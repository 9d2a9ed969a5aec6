//! Durable intake benchmark (上报吞吐): many concurrent clients report cases through the HTTP API
//! of a running server; prints reports per second and latency percentiles. Every answered
//! report is on disk (the server answers after its group commit).
//!
//! usage: cargo run --release -p zhili --example intake_bench -- BASE_URL PASSWORD [CLIENTS] [SECONDS]
//! (logs in as `operator1` of the demo; see bench/intake.sh, which runs SQLite and PostgreSQL)

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let password = args.get(2).cloned().unwrap_or_else(|| "zhili-demo".into());
    let clients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(64);
    let seconds: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(20);
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().unwrap();
    let login: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "operator1", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("login as operator1").to_string();
    // Points inside the district: the middles of 200 grids.
    let grids: Value = http
        .get(format!("{base}/ogc/collections/grids/items?limit=200&level=3"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let points: Vec<(f64, f64)> = grids["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let ring = &f["geometry"]["coordinates"][0];
            let ring = if ring[0][0].is_array() { &ring[0] } else { ring };
            let xs: Vec<f64> = ring.as_array().unwrap().iter().map(|p| p[0].as_f64().unwrap()).collect();
            let ys: Vec<f64> = ring.as_array().unwrap().iter().map(|p| p[1].as_f64().unwrap()).collect();
            let mid = |v: &[f64]| {
                (v.iter().cloned().fold(f64::MAX, f64::min) + v.iter().cloned().fold(f64::MIN, f64::max)) / 2.0
            };
            (mid(&xs), mid(&ys))
        })
        .collect();
    assert!(!points.is_empty(), "no grids: is this the demo?");
    let classes = ["SJ0102", "SJ0103", "SJ0501", "BJ0101", "BJ0118"];
    let points = Arc::new(points);
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, token, points) = (http.clone(), base.clone(), token.clone(), points.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat_us = Vec::new();
            let mut errors = 0u64;
            let mut i = c;
            while Instant::now() < end {
                // Spread over the grid around its middle (a cheap deterministic jitter of up to
                // ±150 m), as reports are spread in a real district.
                let (lon, lat) = points[i % points.len()];
                let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let jx = ((h >> 11) % 2001) as f64 / 1000.0 - 1.0;
                let jy = ((h >> 33) % 2001) as f64 / 1000.0 - 1.0;
                let (lon, lat) = (lon + jx * 0.0017, lat + jy * 0.0013);
                let body = json!({
                    "class_code": classes[i % classes.len()],
                    "lon": lon, "lat": lat,
                    "description": format!("压测上报 {c}-{i}"),
                });
                let t = Instant::now();
                let r = http.post(format!("{base}/api/cases")).bearer_auth(&token).json(&body).send().await;
                match r {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        lat_us.push(t.elapsed().as_micros() as u64);
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors < 3 {
                            eprintln!("status {}: {}", r.status(), r.text().await.unwrap_or_default());
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors < 3 {
                            eprintln!("error: {e}");
                        }
                    }
                }
                i += clients;
            }
            (lat_us, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0) as f64
            / 1000.0
    };
    println!(
        "{} reports in {secs:.1} s = {:.0} reports/s with {clients} clients; latency median {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; {errors} errors",
        all.len(),
        all.len() as f64 / secs,
        pct(0.50),
        pct(0.95),
        pct(0.99)
    );
}

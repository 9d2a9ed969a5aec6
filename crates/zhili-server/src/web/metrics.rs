//! Prometheus metrics (监控指标): request counts and latencies by route, method and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// The metrics this process exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    /// Cases reported (stored) by this process.
    pub cases_reported: Counter,
    /// Case transitions made by this process.
    pub case_transitions: Counter,
    /// Registries modules keep of their own (`zhili_flood_*`), rendered after this one.
    modules: std::sync::RwLock<Vec<std::sync::Arc<Registry>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("zhili");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
        });
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency", latency.clone());
        let cases_reported = Counter::default();
        let case_transitions = Counter::default();
        registry.register("cases_reported", "Cases reported and stored", cases_reported.clone());
        registry.register("case_transitions", "Case transitions made", case_transitions.clone());
        Metrics { registry, requests, latency, cases_reported, case_transitions, modules: Default::default() }
    }
}

impl Metrics {
    /// Render in the Prometheus text format: this registry, then the modules'.
    pub fn render(&self) -> String {
        use prometheus_client::encoding::text::{encode_eof, encode_registry};
        let mut out = String::new();
        encode_registry(&mut out, &self.registry).expect("writing to a String cannot fail");
        for r in self.modules.read().expect("not poisoned").iter() {
            encode_registry(&mut out, r).expect("writing to a String cannot fail");
        }
        encode_eof(&mut out).expect("writing to a String cannot fail");
        out
    }

    /// Render a module's own registry too (once: the same registry again is ignored).
    pub fn add_registry(&self, registry: std::sync::Arc<Registry>) {
        let mut modules = self.modules.write().expect("not poisoned");
        if !modules.iter().any(|r| std::sync::Arc::ptr_eq(r, &registry)) {
            modules.push(registry);
        }
    }
}

/// Middleware: count and time each request by its route template (not its raw path).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let m = &state.metrics;
    m.latency
        .get_or_create(&RouteLabels { method: method.clone(), route: route.clone() })
        .observe(start.elapsed().as_secs_f64());
    m.requests.get_or_create(&RequestLabels { method, route, status: resp.status().as_u16() }).inc();
    resp
}

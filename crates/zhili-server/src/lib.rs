//! Zhili's HTTP server (服务端): the axum router, its middleware, and `serve`.
//!
//! The server keeps no state of its own beyond metrics: sessions, rate-limit counters and
//! all data live in the store, so any number of server processes can share one PostgreSQL
//! database behind a load balancer.

// One folder per domain (its routes, handlers, pages, templates and assets), over `web`, the
// shared pieces that use no domain. Dependencies point one way:
// case, flood → map, grid, platform, core → web.
pub mod case;
pub mod core;
pub mod flood;
pub mod grid;
pub mod map;
pub mod openapi;
pub mod platform;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use zhili_core::ports::Ports;
use zhili_core::store::Store;
use zhili_core::ErrorCode;

use crate::web::error::AppError;

/// Server settings (the `[server]` section of the configuration).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Hours a login session lasts.
    pub session_ttl_hours: u32,
    /// Always mark cookies `Secure` (set when serving over TLS directly).
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` (only behind your own proxy).
    pub trust_forwarded_headers: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Longest a request may run, in seconds.
    pub request_timeout_secs: u64,
    /// Failed logins per account per minute before 429.
    pub login_failures_per_account: i64,
    /// Failed logins per client address per minute before 429.
    pub login_failures_per_address: i64,
    /// Seconds to let in-flight requests finish on shutdown.
    pub shutdown_grace_secs: u64,
    /// Largest import body (GeoJSON of a city's grids), in bytes.
    pub import_body_limit_bytes: usize,
    /// The One Map's raster basemap (底图), if any.
    pub basemap: Option<Basemap>,
    /// Open cases of the same class within this distance of a new report are suggested as
    /// duplicates (metres).
    pub case_duplicate_radius_m: f64,
    /// Largest photo upload, in bytes.
    pub photo_max_bytes: usize,
    /// Most cases one worklist export may hold.
    pub export_max_rows: usize,
    /// Compress JSON, tiles and pages by `Accept-Encoding` (off behind a compressing proxy).
    pub compress: bool,
    /// Overdue escalation levels (超期督办).
    pub escalation: zhili_case::notify::EscalationPolicy,
    /// Seconds between escalation passes.
    pub escalation_check_seconds: u64,
    /// Outgoing webhooks.
    pub webhooks: Vec<platform::notify::Webhook>,
    /// Certificate authorities (PEM) trusted for https:// webhooks besides the system's.
    pub webhook_ca_pem: Option<Vec<u8>>,
    /// Flood telemetry ingest (SL 651 listener, MQTT).
    pub flood: flood::FloodConfig,
}

/// A raster XYZ basemap (底图) for the One Map.
#[derive(Debug, Clone, PartialEq)]
pub struct Basemap {
    /// Tile URL with `{z}`, `{x}`, `{y}`.
    pub url: String,
    /// The basemap's coordinate system; with GCJ-02 our layers are shifted onto it.
    pub crs: zhili_geo::gcj02::MapCrs,
    /// Attribution text shown on the map.
    pub attribution: String,
}

impl Basemap {
    /// The scheme and host the browser fetches tiles from, for the page's Content-Security-Policy.
    pub fn origin(&self) -> &str {
        let rest = self.url.split_once("://").map(|(_, r)| r).unwrap_or("");
        let host_len = rest.find('/').unwrap_or(rest.len());
        &self.url[..self.url.len() - rest.len() + host_len]
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".parse().expect("valid address"),
            session_ttl_hours: 12,
            secure_cookies: false,
            trust_forwarded_headers: false,
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            login_failures_per_account: 10,
            login_failures_per_address: 50,
            shutdown_grace_secs: 30,
            import_body_limit_bytes: 64 * 1024 * 1024,
            basemap: None,
            case_duplicate_radius_m: 50.0,
            photo_max_bytes: 10 * 1024 * 1024,
            export_max_rows: 200_000,
            compress: true,
            escalation: zhili_case::notify::EscalationPolicy::default(),
            escalation_check_seconds: 60,
            webhooks: Vec::new(),
            webhook_ca_pem: None,
            flood: flood::FloodConfig::default(),
        }
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The platform core's store.
    pub store: Arc<dyn Store>,
    /// Every domain's storage ports (the core's among them), looked up by trait.
    pub ports: Arc<Ports>,
    /// The deployment's grid rules (code scheme, level names, tolerance).
    pub grid_rules: Arc<zhili_grid::validate::Rules>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Metrics of this process.
    pub metrics: Arc<web::metrics::Metrics>,
    /// The spatial index of divisions and grids (empty until [`grid::spatial::Spatial::start`]).
    pub spatial: grid::spatial::Spatial,
    /// Sessions recently read.
    pub sessions: Arc<web::caller::SessionCache>,
    /// Whether the modules' services are among the ports ([`AppState::with_services`]).
    services: bool,
}

impl AppState {
    /// State over a backend's ports with settings and the default grid rules. Panics if the
    /// ports lack the core's `dyn Store`.
    pub fn new(mut ports: Ports, config: ServerConfig) -> AppState {
        for m in MODULES {
            (m.runtime)(&mut ports);
        }
        AppState {
            store: ports.port::<dyn Store>().clone(),
            ports: Arc::new(ports),
            grid_rules: Arc::new(zhili_grid::validate::Rules::default()),
            config: Arc::new(config),
            metrics: Arc::new(web::metrics::Metrics::default()),
            spatial: grid::spatial::Spatial::default(),
            sessions: Arc::new(web::caller::SessionCache::default()),
            services: false,
        }
    }

    /// Add the services the modules offer each other (case intake…) to the ports, each built
    /// over this state as it stands (so call it last; [`app`] and [`serve`] do). Once only.
    pub fn with_services(mut self) -> AppState {
        if self.services {
            return self;
        }
        let mut ports = Ports::clone(&self.ports);
        for m in MODULES {
            (m.provide)(&self, &mut ports);
        }
        self.ports = Arc::new(ports);
        self.services = true;
        self
    }

    /// A storage port of the backend, by its trait (`state.port::<dyn CaseStore>()`). Panics
    /// naming the port if the backend has none (a wiring error, met at the first request).
    pub fn port<P: ?Sized + Send + Sync + 'static>(&self) -> &P {
        self.ports.port::<P>().as_ref()
    }

    /// Use this spatial index.
    pub fn with_spatial(mut self, spatial: grid::spatial::Spatial) -> AppState {
        self.spatial = spatial;
        self
    }

    /// Use these grid rules.
    pub fn with_grid_rules(mut self, rules: zhili_grid::validate::Rules) -> AppState {
        self.grid_rules = Arc::new(rules);
        self
    }
}

async fn route_not_found() -> AppError {
    AppError::new(ErrorCode::RouteNotFound)
}

async fn method_not_allowed() -> AppError {
    AppError::new(ErrorCode::MethodNotAllowed)
}

/// Bound every request's running time; a slow one gets our 503 `timeout`.
async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = Duration::from_secs(state.config.request_timeout_secs);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => AppError::new(ErrorCode::Timeout).into_response(),
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    AppError::new(ErrorCode::Internal).into_response()
}

/// Baseline security headers on every response.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert("x-content-type-options", "nosniff".parse().expect("static"));
    h.insert("x-frame-options", "DENY".parse().expect("static"));
    h.insert("referrer-policy", "same-origin".parse().expect("static"));
    r
}

/// The server's domain modules: the one list a new module joins (one line).
pub static MODULES: &[&web::module::Module] =
    &[&core::MODULE, &platform::MODULE, &grid::MODULE, &map::MODULE, &case::MODULE, &flood::MODULE];

/// Every UI message (key, zh-CN, English): the frame's and every module's.
pub fn messages() -> impl Iterator<Item = &'static web::module::Message> {
    web::i18n::MESSAGES.iter().chain(MODULES.iter().flat_map(|m| m.messages.iter()))
}

/// Every webhook event some module raises (what `[[webhooks]]` may subscribe to).
pub fn webhook_events() -> impl Iterator<Item = &'static str> {
    MODULES.iter().flat_map(|m| m.events.iter().copied())
}

/// The shared routes and every module's, with the modules' navigation and messages registered.
fn modules(state: &AppState) -> Router<AppState> {
    web::module::register(MODULES);
    MODULES.iter().fold(web::page::routes(), |r, m| r.merge((m.routes)(state)))
}

/// The whole application router (over the state with its modules' services).
pub fn app(state: AppState) -> Router {
    let state = state.with_services();
    Router::new()
        .route("/api/openapi.json", get(openapi::serve))
        .merge(modules(&state))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn_with_state(state.clone(), web::metrics::track))
        .layer(middleware::from_fn(security_headers))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(state.clone(), web::localize::localize))
        // Outside `localize`, which makes error bodies anew: compress what is finally sent.
        .layer(middleware::from_fn(web::compress::mark_encoded))
        .layer(web::compress::layer(state.config.compress))
        .layer(middleware::from_fn(web::compress::weaken_etag))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(tower_http::trace::DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

/// Serve until `shutdown` resolves, then finish in-flight requests (bounded by the grace
/// period) and return.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = state.with_services();
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    for m in MODULES {
        (m.start)(&state);
    }
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    // Compress the embedded assets now, off the async workers, so no visitor waits for it.
    tokio::task::spawn_blocking(|| {
        let started = std::time::Instant::now();
        let (files, bytes) = web::asset::precompress();
        tracing::info!(files, bytes, ms = started.elapsed().as_millis() as u64, "embedded assets compressed");
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = tx.send(());
    });
    let server = tokio::spawn(async move { server.await });
    // Once shutdown starts, give in-flight requests at most `grace` to finish.
    let _ = rx.await;
    match tokio::time::timeout(grace, server).await {
        Ok(r) => r.map_err(std::io::Error::other)?,
        Err(_) => {
            tracing::warn!("shutdown grace period over; dropping remaining connections");
            Ok(())
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    use zhili_core::model::Locale;

    use super::*;
    use crate::web::i18n::Tr;

    #[test]
    fn every_key_in_both_languages_and_unique() {
        web::module::register(MODULES);
        let mut keys = std::collections::HashSet::new();
        let all = MODULES.iter().flat_map(|m| m.messages.iter()).chain(web::i18n::MESSAGES.iter());
        for (k, zh, en) in all {
            assert!(keys.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(Tr(Locale::En).get("nav.home"), "Home");
        assert_eq!(Tr(Locale::ZhCn).get("nav.home"), "首页");
    }
}

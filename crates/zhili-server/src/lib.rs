//! Zhili's HTTP server (服务端): the axum router, its middleware, and `serve`.
//!
//! The server keeps no state of its own beyond metrics: sessions, rate-limit counters and
//! all data live in the store, so any number of server processes can share one PostgreSQL
//! database behind a load balancer.

pub mod api;
pub mod auth;
pub mod case_map;
pub mod cases;
pub mod error;
pub mod extract;
pub mod grids;
pub mod i18n;
pub mod layers;
pub mod metrics;
pub mod metrics_api;
pub mod notify;
pub mod open311;
pub mod openapi;
pub mod pages;
pub mod public;
pub mod spatial;
pub mod views;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use zhili_core::store::Store;
use zhili_core::ErrorCode;
use zhili_grid::GridStore;

use crate::error::AppError;

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
    /// Overdue escalation levels (超期督办).
    pub escalation: zhili_case::notify::EscalationPolicy,
    /// Seconds between escalation passes.
    pub escalation_check_seconds: u64,
    /// Outgoing webhooks.
    pub webhooks: Vec<notify::Webhook>,
    /// Certificate authorities (PEM) trusted for https:// webhooks besides the system's.
    pub webhook_ca_pem: Option<Vec<u8>>,
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
            escalation: zhili_case::notify::EscalationPolicy::default(),
            escalation_check_seconds: 60,
            webhooks: Vec::new(),
            webhook_ca_pem: None,
        }
    }
}

/// A storage backend: the core store and every domain's storage port.
pub trait Backend:
    Store
    + GridStore
    + zhili_case::store::CaseStore
    + zhili_case::store::CaseMetricsStore
    + zhili_case::store::CaseMapStore
    + zhili_case::store::NotificationStore
{
}
impl<
        T: Store
            + GridStore
            + zhili_case::store::CaseStore
            + zhili_case::store::CaseMetricsStore
            + zhili_case::store::CaseMapStore
            + zhili_case::store::NotificationStore,
    > Backend for T
{
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Backend>,
    /// The deployment's grid rules (code scheme, level names, tolerance).
    pub grid_rules: Arc<zhili_grid::validate::Rules>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Metrics of this process.
    pub metrics: Arc<metrics::Metrics>,
    /// The spatial index of divisions and grids (empty until [`spatial::Spatial::start`]).
    pub spatial: spatial::Spatial,
    /// Case intake (group commit) and cached case settings.
    pub cases: Arc<cases::Runtime>,
    /// Sessions recently read.
    pub sessions: Arc<auth::SessionCache>,
    /// Where this process's last complete escalation pass stood.
    pub escalation_mark: Arc<notify::EscalationMark>,
}

impl AppState {
    /// State over a store with settings and the default grid rules.
    pub fn new(store: Arc<dyn Backend>, config: ServerConfig) -> AppState {
        AppState {
            store,
            grid_rules: Arc::new(zhili_grid::validate::Rules::default()),
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::default()),
            spatial: spatial::Spatial::default(),
            cases: Arc::new(cases::Runtime::default()),
            sessions: Arc::new(auth::SessionCache::default()),
            escalation_mark: Arc::new(notify::EscalationMark::default()),
        }
    }

    /// Use this spatial index.
    pub fn with_spatial(mut self, spatial: spatial::Spatial) -> AppState {
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

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(api::me))
        .route("/api/me/locale", put(api::set_my_locale))
        .route("/api/me/password", put(api::change_my_password))
        .route("/api/divisions", get(api::list_divisions))
        .route("/api/divisions/{code}", get(api::get_division).put(api::put_division))
        .route("/api/departments", get(api::list_departments).post(api::create_department))
        .route("/api/departments/{id}", get(api::get_department))
        .route("/api/users", get(api::list_users).post(api::create_user))
        .route("/api/users/{id}", get(api::get_user).patch(api::update_user))
        .route("/api/users/{id}/personal", get(api::get_user_personal))
        .route("/api/users/{id}/password", put(api::set_user_password))
        .route("/api/audit", get(api::list_audit))
        .route("/api/audit/verify", get(api::verify_audit))
        .route("/api/grids", get(grids::list_grids))
        .route("/api/locate", get(spatial::locate))
        .route(
            "/api/grids/import",
            post(grids::import_grids).layer(DefaultBodyLimit::max(state.config.import_body_limit_bytes)),
        )
        .route("/api/grids/export", get(grids::export_grids))
        .route("/api/cases", get(cases::list).post(cases::report))
        .route("/api/cases/{id}", get(cases::get))
        .route("/api/cases/bulk-transitions", post(cases::bulk_transition))
        .route("/api/cases/{id}/transitions", post(cases::transition))
        .route("/api/attachments", post(cases::upload).layer(DefaultBodyLimit::max(state.config.photo_max_bytes)))
        .route("/api/attachments/{id}", get(cases::download))
        .route(
            "/api/case-classes",
            get(cases::classes).put(cases::import_classes).layer(DefaultBodyLimit::max(8 * 1024 * 1024)),
        )
        .route("/api/case-classes/export", get(cases::export_classes))
        .route("/api/work-calendar", get(cases::get_calendar).put(cases::put_calendar))
        .route("/api/work-calendar/holiday-text", post(cases::holiday_text))
        .route("/api/case-metrics", get(metrics_api::case_metrics))
        .route("/api/case-points", get(case_map::points))
        .route("/api/case-density", get(case_map::density))
        .route("/api/notifications", get(notify::list))
        .route("/api/notifications/count", get(notify::count))
        .route("/api/notifications/read", post(notify::mark_read))
        .route("/api/webhooks/deliveries", get(notify::deliveries))
        .route("/notifications", get(notify::page))
        .route("/api/grids/{code}", get(grids::get_grid))
        .route("/api/grids/{code}/workers/{user_id}", put(grids::assign_worker).delete(grids::unassign_worker))
        .route("/ogc", get(layers::landing))
        .route("/ogc/conformance", get(layers::conformance))
        .route("/ogc/collections", get(layers::collections))
        .route("/ogc/collections/{id}", get(layers::collection))
        .route("/ogc/collections/{id}/items", get(layers::items))
        .route("/ogc/collections/{id}/items/{fid}", get(layers::item))
        .route("/tiles/{file}", get(layers::tilejson))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(layers::tile))
        .route("/open311/discovery.{format}", get(open311::discovery))
        .route("/open311/v2/discovery.{format}", get(open311::discovery))
        .route("/open311/v2/services.{format}", get(open311::services))
        .route("/open311/v2/services/{file}", get(open311::service_definition))
        .route("/open311/v2/requests.{format}", get(open311::list_requests).post(open311::create_request))
        .route("/open311/v2/requests/{file}", get(open311::get_request))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics));
    api.merge(pages::routes())
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(middleware::from_fn(security_headers))
        .layer(CatchPanicLayer::custom(panic_response))
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
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    notify::start(&state);
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
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

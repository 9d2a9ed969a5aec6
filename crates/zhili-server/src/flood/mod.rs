//! Flash-flood monitoring (山洪监测): telemetry taken in — SL 651 frames over TCP (`sl651`,
//! converted by `convert`), JSON over HTTP (`json`) and MQTT (`mqtt`), all stored through one
//! group-commit writer whose listeners the warning engine joins (`ingest`) — with its metrics
//! (`metrics`), its settings (`settings`) and the quarantine of unknown stations
//! (`quarantine`).

pub mod convert;
pub mod ingest;
pub mod json;
pub mod metrics;
pub mod mqtt;
pub mod quarantine;
pub mod settings;
pub mod sl651;

use axum::routing::{get, post};
use axum::Router;

use crate::web::module::Module;
use crate::AppState;

pub use settings::FloodConfig;

/// The flood module's routes: observations in, the quarantine.
pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/flood/observations", post(json::post_observations))
        .route("/api/flood/quarantine", get(quarantine::list))
        .route("/api/flood/quarantine/{code}/accept", post(quarantine::accept))
        .route("/api/flood/quarantine/{code}/reject", post(quarantine::reject))
}

/// Start the SL 651 listener (if `flood.sl651_enabled`) and the MQTT client (if
/// `flood.mqtt_url` is set). A listener that cannot bind is logged as an error and the rest of
/// the server runs on.
pub fn start(state: &AppState) {
    let cfg = &state.config.flood;
    if cfg.sl651_enabled {
        match sl651::bind(cfg.sl651_listen) {
            Ok(listener) => {
                let addr = listener.local_addr().unwrap_or(cfg.sl651_listen);
                tracing::info!(listen = %addr, "SL 651 listener started");
                sl651::spawn(state, listener);
            }
            Err(e) => tracing::error!(listen = %cfg.sl651_listen, error = %e, "cannot listen for SL 651 stations"),
        }
    }
    if let Some(broker) = cfg.mqtt.clone() {
        mqtt::spawn(state, broker);
    }
}

/// The flood module (山洪): telemetry ingest and the quarantine.
pub static MODULE: Module = Module {
    routes,
    start,
    messages: MESSAGES,
    openapi: <Doc as utoipa::OpenApi>::openapi,
    provide,
    runtime,
    ..Module::named("flood")
};

/// The per-process machinery: the writer, the liveness, the listeners, the metrics.
fn runtime(ports: &mut zhili_core::ports::Ports) {
    ports.add::<ingest::FloodRuntime>(std::sync::Arc::new(ingest::FloodRuntime::default()));
}

/// Once the state is built: its `/metrics` renders the flood metrics too.
fn provide(state: &AppState, _: &mut zhili_core::ports::Ports) {
    state.metrics.add_registry(ingest::runtime(state).metrics.registry());
}

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(json::post_observations, quarantine::list, quarantine::accept, quarantine::reject))]
struct Doc;

/// This module's UI messages (key, zh-CN, English).
const MESSAGES: &[crate::web::module::Message] = &[
    ("audit.action.flood.watershed.upsert", "保存小流域", "Watershed saved"),
    ("audit.action.flood.station.upsert", "保存测站", "Station saved"),
    ("audit.action.flood.village.upsert", "保存危险区村庄", "Village at risk saved"),
    ("audit.action.flood.section.upsert", "保存控制断面", "Control section saved"),
    ("audit.action.flood.rain_indicators.replace", "更新雨量预警指标", "Rainfall indicators replaced"),
    ("audit.action.flood.quarantine.accept", "确认待确认测站", "Quarantined station accepted"),
    ("audit.action.flood.quarantine.reject", "拒绝待确认测站", "Quarantined station rejected"),
    ("field.observations", "观测数据", "observations"),
    ("field.station", "测站", "station"),
    ("field.element", "要素", "element"),
];

//! Flash-flood monitoring and early warning (山洪监测预警): telemetry taken in — SL 651 frames
//! over TCP (`sl651`, converted by `convert`), JSON over HTTP (`json`) and MQTT (`mqtt`), all
//! stored through one group-commit writer whose listeners the warning runtime joins (`ingest`)
//! — with its metrics (`metrics`), its settings (`settings`) and the quarantine of unknown
//! stations (`quarantine`); the warning runtime, the one writer of warnings, evaluating every
//! village on every ingest (`warning`), carrying out the warnings' effects (`effects`) and
//! publishing CAP 1.2 (`cap`); the APIs (`warning_api`, `network_api`), the pages (`pages`),
//! the One Map's layers (`layers`) and the messages (`messages`).

pub mod cap;
pub mod convert;
pub mod demo;
pub mod effects;
pub mod indicators;
pub mod ingest;
pub mod json;
pub mod layers;
pub mod messages;
pub mod metrics;
pub mod mqtt;
pub mod network_api;
pub mod pages;
pub mod quarantine;
pub mod settings;
pub mod sl651;
pub mod warning;
pub mod warning_api;

use axum::routing::{get, post};
use axum::Router;

use crate::web::module::{Module, NavEntry, Needs};
use crate::AppState;

pub use settings::FloodConfig;

const JS: &str = "text/javascript";

/// The flood module's routes: observations in, the quarantine, the network, the warnings, CAP,
/// the pages and their scripts.
pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/flood/observations", post(json::post_observations))
        .route("/api/flood/quarantine", get(quarantine::list))
        .route("/api/flood/quarantine/{code}/accept", post(quarantine::accept))
        .route("/api/flood/quarantine/{code}/reject", post(quarantine::reject))
        .route("/api/flood/stations", get(network_api::stations))
        .route("/api/flood/stations/{code}", get(network_api::station))
        .route("/api/flood/stations/{code}/observations", get(network_api::observations))
        .route("/api/flood/stations/{code}/frames", get(network_api::frames))
        .route("/api/flood/villages/{code}", get(network_api::village))
        .route("/api/flood/villages/{code}/assessment", get(warning_api::assessment))
        .route("/api/flood/map/stations", get(network_api::map_stations))
        .route("/api/flood/map/villages", get(network_api::map_villages))
        .route("/api/flood/warnings", get(warning_api::list).post(warning_api::raise))
        .route("/api/flood/warnings/{id}", get(warning_api::get))
        .route("/api/flood/warnings/{id}/ack", post(warning_api::ack))
        .route("/api/flood/warnings/{id}/public", post(warning_api::issue_public))
        .route("/api/flood/warnings/{id}/lift", post(warning_api::lift))
        .route("/api/flood/indicators", get(indicators::export).put(indicators::import))
        .route("/api/flood/duty", get(warning_api::duty))
        .route("/api/flood/demo/storm", post(demo::start_storm))
        .route("/cap/alerts.atom", get(cap::feed))
        .route("/cap/alerts/{file}", get(cap::alert))
        .route("/flood", get(pages::duty_page))
        .route("/flood/stations", get(pages::stations_page))
        .route("/flood/stations/{code}", get(pages::station_page))
        .route("/flood/villages", get(pages::villages_page))
        .route("/flood/villages/{code}", get(pages::village_page))
        .route("/flood/warnings/{id}", get(pages::warning_page))
        .merge(crate::web::page::assets(&[
            ("flood.js", JS, include_str!("assets/flood.js")),
            ("map-flood.js", JS, include_str!("assets/map-flood.js")),
        ]))
}

/// Start the SL 651 listener (if `flood.sl651_enabled`) and the MQTT client (if
/// `flood.mqtt_url` is set). A listener that cannot bind is logged as an error and the rest of
/// the server runs on.
pub fn start(state: &AppState) {
    // The warning runtime listens to every ingest, then starts.
    let listener: std::sync::Arc<dyn ingest::IngestListener> = state.ports.port::<warning::Warnings>().clone();
    ingest::runtime(state).add_listener(listener);
    warning::start(state);
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

/// The flood module (山洪): telemetry ingest, the quarantine, the warnings, their pages and
/// layers.
pub static MODULE: Module = Module {
    routes,
    start,
    nav: &[NavEntry {
        href: "/flood",
        key: "nav.flood",
        needs: Needs::Action(zhili_core::policy::Action::ReadFlood),
        order: 45,
    }],
    messages: messages::MESSAGES,
    openapi: <Doc as utoipa::OpenApi>::openapi,
    events: &effects::EVENTS,
    subjects: &[crate::web::module::SubjectLink {
        kind: effects::SUBJECT_KIND,
        href: |id| format!("/flood/warnings/{id}"),
    }],
    provide,
    runtime,
    layers: &[layers::STATIONS, layers::VILLAGES, layers::RAIN],
    ..Module::named("flood")
};

/// The per-process machinery: the writer, the liveness, the listeners, the metrics; the
/// warning runtime.
fn runtime(ports: &mut zhili_core::ports::Ports) {
    ports.add::<ingest::FloodRuntime>(std::sync::Arc::new(ingest::FloodRuntime::default()));
    ports.add::<warning::Warnings>(std::sync::Arc::new(warning::Warnings::default()));
}

/// The warning runtime of this process.
pub fn warnings(state: &AppState) -> &warning::Warnings {
    state.port::<warning::Warnings>()
}

/// The warning runtime's settings (`[flood]`).
pub fn settings(state: &AppState) -> &warning::WarningSettings {
    &state.config.flood.warnings
}

/// Once the state is built: its `/metrics` renders the flood metrics too.
fn provide(state: &AppState, _: &mut zhili_core::ports::Ports) {
    state.metrics.add_registry(ingest::runtime(state).metrics.registry());
}

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    json::post_observations,
    quarantine::list,
    quarantine::accept,
    quarantine::reject,
    network_api::stations,
    network_api::station,
    network_api::observations,
    network_api::frames,
    network_api::village,
    network_api::map_stations,
    network_api::map_villages,
    warning_api::list,
    warning_api::get,
    warning_api::ack,
    warning_api::issue_public,
    warning_api::lift,
    warning_api::raise,
    warning_api::duty,
    warning_api::assessment,
    cap::alert,
    cap::feed,
    demo::start_storm,
    indicators::import,
    indicators::export,
))]
struct Doc;

//! The flood ingest's Prometheus metrics (`zhili_flood_*`), in a registry of their own that
//! the process's `/metrics` renders after its own (`web::metrics::Metrics::add_registry`).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// A frame's function code and what became of it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FrameLabels {
    /// The function code as two hex digits (`32`, `2F`, `E5`).
    pub function: String,
    /// `stored`, `duplicate`, `keepalive`, `archived`, `unknown_station`, `unknown_function`,
    /// `bad_body`, `partial` (an M3 packet held), `failed` (the store refused or was down).
    pub outcome: &'static str,
}

/// One label: a kind or an outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// The kind.
    pub kind: &'static str,
}

/// The flood ingest's counters, gauges and histograms.
pub struct FloodMetrics {
    registry: Arc<Registry>,
    /// SL 651 frames by function and outcome.
    pub frames: Family<FrameLabels, Counter>,
    /// SL 651 stream errors by kind: `bad_crc`, `truncated`, `oversized` (a length over the
    /// maximum or under the minimum), `garbage` (a run of bytes that start no frame),
    /// `bad_header` (direction, body start, end char, hex digit, packet field), `bad_body`, `m3`
    /// (a packet that fits no message).
    pub stream_errors: Family<KindLabel, Counter>,
    /// Bytes skipped to find the next frame (garbage and failed candidates).
    pub garbage_bytes: Counter,
    /// Frames of a function this centre does not take (neither 2F–36 nor E0–FF).
    pub unknown_function: Counter,
    /// Frames and messages from stations not registered (sent to the quarantine).
    pub unknown_station: Counter,
    /// Observed values by outcome: `stored` (new), `duplicate`, `corrected`, `suspect` (stored
    /// with the suspect flag).
    pub values: Family<KindLabel, Counter>,
    /// SL 651 connections open now.
    pub connections_open: Gauge,
    /// SL 651 connection events: `opened`, `rejected_limit` (over the cap), `closed_peer`,
    /// `closed_idle`, `closed_flood`, `closed_error`.
    pub connections: Family<KindLabel, Counter>,
    /// Frames held back by a connection's rate limit.
    pub frames_throttled: Counter,
    /// Frames per group commit.
    pub batch_frames: Histogram,
    /// Seconds one group commit (`ObservationStore::ingest`) took.
    pub batch_seconds: Histogram,
    /// Seconds from a frame's last byte to its confirm written.
    pub confirm_seconds: Histogram,
    /// MQTT messages by outcome: `ok`, `bad` (malformed), `unknown_station`, `failed`.
    pub mqtt_messages: Family<KindLabel, Counter>,
    /// Values taken over HTTP (`POST /api/flood/observations`).
    pub http_values: Counter,
    /// Warning lifecycle events stored, by kind (`raise`, `upgrade`, `ack`, `tick`, `deliver`,
    /// `issue_public`, `calm`, `lift`).
    pub warning_events: Family<KindLabel, Counter>,
    /// Warning effects carried out, by outcome (`sent`, `send_failed`, `case`, `cap`,
    /// `cap_invalid`, `retry`).
    pub warning_effects: Family<KindLabel, Counter>,
    /// Seconds from an ingest's commit to the warning it raised or upgraded being stored.
    pub warning_seconds: Histogram,
}

impl Default for FloodMetrics {
    fn default() -> Self {
        let mut r = Registry::with_prefix("zhili_flood");
        let frames = Family::<FrameLabels, Counter>::default();
        r.register("sl651_frames", "SL 651 frames by function and outcome", frames.clone());
        let stream_errors = Family::<KindLabel, Counter>::default();
        r.register("sl651_stream_errors", "SL 651 stream errors by kind", stream_errors.clone());
        let garbage_bytes = Counter::default();
        r.register("sl651_garbage_bytes", "Bytes skipped to find the next SL 651 frame", garbage_bytes.clone());
        let unknown_function = Counter::default();
        r.register("sl651_unknown_function", "SL 651 frames of a function not taken", unknown_function.clone());
        let unknown_station = Counter::default();
        r.register("unknown_station", "Frames and messages from unregistered stations", unknown_station.clone());
        let values = Family::<KindLabel, Counter>::default();
        r.register("values", "Observed values by outcome", values.clone());
        let connections_open = Gauge::default();
        r.register("sl651_connections_open", "SL 651 connections open", connections_open.clone());
        let connections = Family::<KindLabel, Counter>::default();
        r.register("sl651_connections", "SL 651 connection events", connections.clone());
        let frames_throttled = Counter::default();
        r.register("sl651_frames_throttled", "SL 651 frames held back by the rate limit", frames_throttled.clone());
        let batch_frames = Histogram::new([1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]);
        r.register("ingest_batch_frames", "Frames per group commit", batch_frames.clone());
        let seconds = || Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]);
        let batch_seconds = seconds();
        r.register("ingest_batch_seconds", "Seconds per group commit", batch_seconds.clone());
        let confirm_seconds = seconds();
        r.register("sl651_confirm_seconds", "Seconds from a frame to its confirm", confirm_seconds.clone());
        let mqtt_messages = Family::<KindLabel, Counter>::default();
        r.register("mqtt_messages", "MQTT messages by outcome", mqtt_messages.clone());
        let http_values = Counter::default();
        r.register("http_values", "Values taken over HTTP", http_values.clone());
        let warning_events = Family::<KindLabel, Counter>::default();
        r.register("warning_events", "Warning lifecycle events stored, by kind", warning_events.clone());
        let warning_effects = Family::<KindLabel, Counter>::default();
        r.register("warning_effects", "Warning effects carried out, by outcome", warning_effects.clone());
        let warning_seconds = seconds();
        r.register(
            "warning_seconds",
            "Seconds from an ingest to the warning it raised stored",
            warning_seconds.clone(),
        );
        FloodMetrics {
            registry: Arc::new(r),
            frames,
            stream_errors,
            garbage_bytes,
            unknown_function,
            unknown_station,
            values,
            connections_open,
            connections,
            frames_throttled,
            batch_frames,
            batch_seconds,
            confirm_seconds,
            mqtt_messages,
            http_values,
            warning_events,
            warning_effects,
            warning_seconds,
        }
    }
}

impl FloodMetrics {
    /// The registry holding them all.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// Count a frame of `function` with `outcome`.
    pub fn frame(&self, function: u8, outcome: &'static str) {
        self.frames.get_or_create(&FrameLabels { function: format!("{function:02X}"), outcome }).inc();
    }

    /// Count a warning event of `kind`.
    pub fn warning_event(&self, kind: &'static str) {
        self.warning_events.get_or_create(&KindLabel { kind }).inc();
    }

    /// Count a warning effect's outcome.
    pub fn warning_effect(&self, kind: &'static str) {
        self.warning_effects.get_or_create(&KindLabel { kind }).inc();
    }

    /// Count a stream error of `kind`.
    pub fn stream_error(&self, kind: &'static str) {
        self.stream_errors.get_or_create(&KindLabel { kind }).inc();
    }

    /// Count `n` values of `kind`.
    pub fn values(&self, kind: &'static str, n: u64) {
        if n > 0 {
            self.values.get_or_create(&KindLabel { kind }).inc_by(n);
        }
    }

    /// Count a connection event.
    pub fn connection(&self, kind: &'static str) {
        self.connections.get_or_create(&KindLabel { kind }).inc();
    }

    /// Count an MQTT message.
    pub fn mqtt(&self, kind: &'static str) {
        self.mqtt_messages.get_or_create(&KindLabel { kind }).inc();
    }
}

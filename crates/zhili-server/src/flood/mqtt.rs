//! Observations over MQTT (MQTT 接入): an rumqttc client of the configured broker subscribes
//! to [`SUBSCRIPTION`], a shared subscription (`$share/zhili/…`), so that several servers split
//! the stations' messages between them. A station publishes to
//! `zhili/flood/stations/{code}/observations` with QoS 1; the payload is one item or an array
//! of items as `POST /api/flood/observations` takes them, without `station` (the topic names
//! it): `{"element": "rain_5min", "time": "2026-07-18T11:05:00+08:00", "value": 1.5}`.
//!
//! Acknowledgement is manual: a message is acked (PUBACK) only once its values are stored
//! through the group-commit writer. A malformed message (bad topic, JSON, element, time or
//! value) is counted, logged and acked — redelivering it would not mend it — and never stops
//! the client; a message of an unknown station goes to the quarantine and is acked; one the
//! store could not take is not acked (the broker delivers it again when the session resumes).
//! The client reconnects by itself, every second, and subscribes again on each connection.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use serde_json::Value;
use tokio::sync::Semaphore;
use zhili_flood::model::{Protocol, UnknownContact};
use zhili_flood::store::{Observation, QuarantineStore};
use zhili_flood::vocab::StationCode;

use crate::flood::ingest::{self, runtime};
use crate::flood::json::{parse_item, Stations};
use crate::flood::settings::MqttBroker;
use crate::AppState;

/// The subscription: shared by every server of the group `zhili`.
pub const SUBSCRIPTION: &str = "$share/zhili/zhili/flood/stations/+/observations";
/// Most values in one message.
const MAX_ITEMS: usize = 1000;
/// Messages being stored at once.
const IN_FLIGHT: usize = 64;

/// What a message holds.
enum Parsed {
    /// Values of a registered station.
    Values(Vec<Observation>),
    /// A station not registered.
    Unknown(StationCode),
}

/// The station code of a topic `zhili/flood/stations/{code}/observations`.
pub fn topic_station(topic: &str) -> Result<StationCode, String> {
    let code = topic
        .strip_prefix("zhili/flood/stations/")
        .and_then(|r| r.strip_suffix("/observations"))
        .ok_or_else(|| format!("topic {topic:?} is not zhili/flood/stations/{{code}}/observations"))?;
    StationCode::parse(code).map_err(|e| format!("topic {topic:?}: {e}"))
}

async fn parse(state: &AppState, p: &Publish) -> Result<Result<Parsed, String>, zhili_core::store::StoreError> {
    let code = match topic_station(&p.topic) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let payload: Value = match serde_json::from_slice(&p.payload) {
        Ok(v) => v,
        Err(e) => return Ok(Err(format!("payload is not JSON: {e}"))),
    };
    let items = match payload {
        Value::Array(a) => a,
        v => vec![v],
    };
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Ok(Err(format!("a message holds 1–{MAX_ITEMS} observations (got {})", items.len())));
    }
    let now = Utc::now();
    let mut out = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        match parse_item(v, &[], now) {
            Ok((item, _)) => out.push(item),
            Err((field, why)) => return Ok(Err(format!("[{i}].{field}: {why}"))),
        }
    }
    let Some(station) = Stations::new(state).get(&code).await? else { return Ok(Ok(Parsed::Unknown(code))) };
    let suspect = station.status == zhili_flood::model::StationStatus::Maintenance;
    let values = out
        .into_iter()
        .map(|item| Observation {
            station: station.code.clone(),
            element: item.element,
            observed_at: item.time,
            value: item.value,
            quality: if suspect { zhili_flood::store::Quality::Suspect } else { item.quality },
            frame: None,
        })
        .collect();
    Ok(Ok(Parsed::Values(values)))
}

async fn message(state: AppState, client: AsyncClient, p: Publish) {
    let rt = runtime(&state);
    let ack = |why: &'static str| {
        rt.metrics.mqtt(why);
        let client = client.clone();
        let p = p.clone();
        async move {
            if let Err(e) = client.ack(&p).await {
                tracing::warn!(error = %e, "MQTT ack not sent");
            }
        }
    };
    match parse(&state, &p).await {
        Ok(Ok(Parsed::Values(values))) => match ingest::submit(&state, Vec::new(), values).await {
            Ok(_) => ack("ok").await,
            Err(e) => {
                rt.metrics.mqtt("failed");
                tracing::warn!(topic = %p.topic, error = %e, "MQTT observations not stored; not acknowledged");
            }
        },
        Ok(Ok(Parsed::Unknown(code))) => {
            rt.metrics.unknown_station.inc();
            let contact =
                UnknownContact { code, protocol: Protocol::Json, peer: format!("mqtt:{}", p.topic), at: Utc::now() };
            if let Err(e) = state.port::<dyn QuarantineStore>().quarantine_contact(&contact).await {
                tracing::warn!(error = %e, "quarantine contact not stored");
            }
            ack("unknown_station").await
        }
        Ok(Err(why)) => {
            tracing::warn!(topic = %p.topic, problem = %why, "malformed MQTT observation message");
            ack("bad").await
        }
        Err(e) => {
            rt.metrics.mqtt("failed");
            tracing::warn!(topic = %p.topic, error = %e, "MQTT message not handled (store); not acknowledged");
        }
    }
}

/// Run the client of `broker` until the process ends (call within the tokio runtime).
pub fn spawn(state: &AppState, broker: MqttBroker) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let configured = state.config.flood.mqtt_client_id.clone();
        let (id, clean) = if configured.is_empty() {
            (format!("zhili-{}", &zhili_core::password::random_token()[..12]), true)
        } else {
            (configured, false)
        };
        let mut opts = MqttOptions::new(id, broker.host.clone(), broker.port);
        opts.set_keep_alive(Duration::from_secs(30));
        opts.set_manual_acks(true);
        opts.set_clean_session(clean);
        let (client, mut events) = AsyncClient::new(opts, 256);
        let limit = Arc::new(Semaphore::new(IN_FLIGHT));
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    tracing::info!(host = %broker.host, port = broker.port, "MQTT connected; subscribing to {SUBSCRIPTION}");
                    if let Err(e) = client.try_subscribe(SUBSCRIPTION, QoS::AtLeastOnce) {
                        tracing::warn!(error = %e, "MQTT subscribe not sent");
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let Ok(permit) = limit.clone().acquire_owned().await else { return };
                    let (state, client) = (state.clone(), client.clone());
                    tokio::spawn(async move {
                        message(state, client, p).await;
                        drop(permit);
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "MQTT connection lost; reconnecting in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_name_their_station() {
        assert_eq!(topic_station("zhili/flood/stations/0012345678/observations").unwrap().as_str(), "0012345678");
        for bad in ["zhili/flood/stations//observations", "zhili/flood/stations/a-b/observations", "x/observations"] {
            assert!(topic_station(bad).is_err(), "{bad}");
        }
    }
}

//! The flood ingest's settings (山洪数据接入配置), the `[flood]` section of the configuration as
//! the server takes it (`ServerConfig::flood`).

use std::net::SocketAddr;
use std::time::Duration;

use chrono::FixedOffset;

/// How the flood module takes telemetry in.
#[derive(Debug, Clone, PartialEq)]
pub struct FloodConfig {
    /// Whether `serve` opens the SL 651 TCP listener.
    pub sl651_enabled: bool,
    /// Where the SL 651 listener listens.
    pub sl651_listen: SocketAddr,
    /// A connection that sends nothing for this long is closed (stations report every 5
    /// minutes and send keep-alives in between).
    pub sl651_idle_timeout: Duration,
    /// Most SL 651 connections open at once; more are refused (and counted).
    pub sl651_max_connections: usize,
    /// Frames (and decoding errors) one connection may send per second on average; a faster
    /// sender is slowed down, then disconnected (and counted).
    pub sl651_frames_per_second: u32,
    /// The stations' clock: SL 651 times carry no zone (Beijing time, UTC+8, in China).
    pub sl651_utc_offset: FixedOffset,
    /// The MQTT broker, if observations are taken from one.
    pub mqtt: Option<MqttBroker>,
    /// The MQTT client id; empty: a random one with a clean session.
    pub mqtt_client_id: String,
    /// The warning runtime's settings: the evaluation, the policy, CAP and the follow-up case.
    pub warnings: super::warning::WarningSettings,
}

/// An MQTT broker reached over plain TCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttBroker {
    /// Host name or address.
    pub host: String,
    /// Port (1883 by default).
    pub port: u16,
}

impl MqttBroker {
    /// Reads `mqtt://host[:port]` (or `tcp://`); the error says what is wrong.
    pub fn parse(url: &str) -> Result<MqttBroker, String> {
        let rest = url
            .strip_prefix("mqtt://")
            .or_else(|| url.strip_prefix("tcp://"))
            .ok_or_else(|| format!("must start with mqtt:// (TLS is not supported), got {url:?}"))?;
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains(['/', '@', '?', '#', ' ']) {
            return Err(format!("must be mqtt://host or mqtt://host:port, got {url:?}"));
        }
        let port_of =
            |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("bad port {p:?} in {url:?}"));
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| format!("unclosed [ in {url:?}"))?;
            match after.strip_prefix(':') {
                Some(p) => (host, port_of(p)?),
                None if after.is_empty() => (host, 1883),
                None => return Err(format!("must be mqtt://host or mqtt://host:port, got {url:?}")),
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, port_of(p)?),
                None => (rest, 1883),
            }
        };
        if host.is_empty() {
            return Err(format!("no host in {url:?}"));
        }
        Ok(MqttBroker { host: host.to_string(), port })
    }
}

impl Default for FloodConfig {
    fn default() -> Self {
        FloodConfig {
            sl651_enabled: false,
            sl651_listen: "0.0.0.0:5651".parse().expect("valid address"),
            sl651_idle_timeout: Duration::from_secs(600),
            sl651_max_connections: 20_000,
            sl651_frames_per_second: 10,
            sl651_utc_offset: FixedOffset::east_opt(8 * 3600).expect("in range"),
            mqtt: None,
            mqtt_client_id: String::new(),
            warnings: super::warning::WarningSettings::default(),
        }
    }
}

/// Reads a UTC offset `+08:00`, `-05:30` or `Z`.
pub fn parse_utc_offset(text: &str) -> Result<FixedOffset, String> {
    let bad = || format!("a UTC offset is written +HH:MM or -HH:MM (e.g. +08:00), got {text:?}");
    if text == "Z" {
        return Ok(FixedOffset::east_opt(0).expect("zero"));
    }
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if h > 14 || m > 59 {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_and_offsets_read() {
        assert_eq!(
            MqttBroker::parse("mqtt://127.0.0.1:1883").unwrap(),
            MqttBroker { host: "127.0.0.1".into(), port: 1883 }
        );
        assert_eq!(MqttBroker::parse("tcp://broker").unwrap().port, 1883);
        assert_eq!(MqttBroker::parse("mqtt://[::1]:1884").unwrap(), MqttBroker { host: "::1".into(), port: 1884 });
        for bad in ["mqtts://x", "mqtt://", "mqtt://x:0", "mqtt://x:99999", "http://x", "mqtt://u@x", "mqtt://x/y"] {
            assert!(MqttBroker::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_utc_offset("+08:00").unwrap().local_minus_utc(), 8 * 3600);
        assert_eq!(parse_utc_offset("-05:30").unwrap().local_minus_utc(), -(5 * 3600 + 1800));
        assert_eq!(parse_utc_offset("Z").unwrap().local_minus_utc(), 0);
        for bad in ["8", "+8:00", "+15:00", "+08:60", "08:00", ""] {
            assert!(parse_utc_offset(bad).is_err(), "{bad}");
        }
    }
}

//! Typed configuration (配置): a TOML file, then `ZHILI_<SECTION>_<KEY>` environment
//! overrides. Every option is declared once in [`OPTIONS`], with its default and its
//! documentation; `zhili config example` prints that table as a commented TOML file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;
use zhili_case::notify::{CaseAudience, EscalationLevel, EscalationPolicy};
use zhili_server::ServerConfig;

/// (section, key, default as TOML, documentation)
pub const OPTIONS: &[(&str, &str, &str, &str)] = &[
    ("database", "url", "\"sqlite://zhili-data/zhili.db\"",
     "Where data lives. `sqlite://PATH` (embedded, the default) or\n`postgres://USER@HOST:PORT/DB` (production; needs the PostGIS extension available)."),
    ("database", "max_connections", "16", "Most connections to PostgreSQL from this process."),
    ("server", "listen", "\"127.0.0.1:8080\"", "Address and port to serve HTTP on."),
    ("server", "session_ttl_hours", "12", "Hours a login session (cookie or bearer token) lasts."),
    ("server", "secure_cookies", "false", "Mark cookies `Secure`. Set true when users reach the server over HTTPS."),
    ("server", "trust_forwarded_headers", "false",
     "Trust X-Forwarded-For / X-Forwarded-Proto. Only behind your own reverse proxy or load balancer."),
    ("server", "body_limit_bytes", "1048576", "Largest request body accepted, in bytes (larger gets 413)."),
    ("server", "request_timeout_secs", "30", "Longest a request may run, in seconds."),
    ("server", "login_failures_per_account", "10", "Failed logins per account within a minute before logins are refused (429)."),
    ("server", "login_failures_per_address", "50", "Failed logins per client address within a minute before logins are refused (429)."),
    ("server", "shutdown_grace_secs", "30", "Seconds in-flight requests get to finish after SIGTERM."),
    ("server", "import_body_limit_bytes", "67108864", "Largest import upload (e.g. a city's grids as GeoJSON), in bytes."),
    ("server", "compress", "true",
     "Compress JSON, vector tiles and pages (gzip or brotli, as the browser accepts) of 1 KiB or more.\n\
      Set false only behind a reverse proxy that compresses them itself."),
    ("grid", "code_scheme", "\"cjt213\"",
     "Grid codes: `cjt213` (CJ/T 213: village 12 digits + serial 2 = 14) or\n`beijing15` (village 12 + serial 3 = 15)."),
    ("grid", "levels", "[\"大网格\", \"中网格\", \"小网格\"]", "Names of the grid levels, top first; their number is the hierarchy's depth."),
    ("grid", "tolerance_m2", "1.0", "Overlaps, gaps and overhangs smaller than this (m²) are digitising noise, not errors."),
    ("case", "duplicate_radius_m", "50.0", "Open cases of the same class within this many metres of a new report are suggested as duplicates."),
    ("case", "photo_max_bytes", "10485760", "Largest photo upload, in bytes (larger gets 413)."),
    ("case", "export_max_rows", "200000",
     "Most cases one worklist export (CSV/XLSX) may hold; a filter matching more is refused (narrow it)."),
    ("case", "escalation",
     "[{ after_working_minutes = 0, notify = [\"department\", \"township\"] }, { after_working_minutes = 240, notify = [\"district\", \"leaders\"] }]",
     "Overdue escalation (超期督办), level 1 first: each level is due `after_working_minutes` of working time past\n\
      the deadline and notifies (in-app, and webhooks get case.overdue / case.escalated) some of:\n\
      `department` (staff of the assigned department), `township` (operators of the case's township),\n\
      `district` (operators of the county: the command centre), `leaders` (leaders over the case).\n\
      Each level fires once per case and deadline. `[]` turns escalation off."),
    ("case", "escalation_check_seconds", "60", "Seconds between checks for overdue cases to escalate."),
    ("case", "webhook_ca_file", "\"\"",
     "PEM file of certificate authorities trusted for https:// webhooks besides the system's (e.g. your\n\
      organisation's internal CA). Empty: the system's trust store only."),
    ("flood", "sl651_enabled", "false",
     "Listen for SL 651-2014 telemetry stations (遥测站) over TCP: HEX and ASCII frames, confirms sent once stored.\n\
      `zhili demo` turns it on at 127.0.0.1 on a free port."),
    ("flood", "sl651_listen", "\"0.0.0.0:5651\"", "Address and port the SL 651 listener listens on (stations connect here)."),
    ("flood", "sl651_idle_timeout_secs", "600",
     "Seconds a station connection may stay silent before it is closed (stations report every 5 minutes\nand send keep-alives in between)."),
    ("flood", "sl651_max_connections", "20000", "Most SL 651 connections open at once; more are refused and counted."),
    ("flood", "sl651_frames_per_second_per_connection", "10",
     "Frames one connection may send per second on average (burst twice that). A faster station is slowed down,\n\
      then disconnected and counted (zhili_flood_sl651_connections_total{kind=\"closed_flood\"}); others never wait for it."),
    ("flood", "sl651_utc_offset", "\"+08:00\"", "The stations' clock: SL 651 times carry no zone (Beijing time, +08:00, in China)."),
    ("flood", "mqtt_url", "\"\"",
     "MQTT broker to take station observations from, `mqtt://host:port` (plain TCP). Empty: no MQTT.\n\
      Stations publish JSON to zhili/flood/stations/{code}/observations (QoS 1); servers share the subscription."),
    ("flood", "mqtt_client_id", "\"\"",
     "MQTT client id of this server (unique per process; with one, the broker keeps its session across restarts).\n\
      Empty: a random id with a clean session."),
    ("flood", "warning_case_class", "\"SJ0499\"",
     "Case class (小类代码) of the follow-up case each flash-flood warning opens in the closed loop\n\
      (default 其他突发事件); it must be active in the case catalogue."),
    ("flood", "ack_minutes_county", "20", "Minutes the county's responsible persons have to acknowledge a warning before it escalates."),
    ("flood", "ack_minutes_township", "15", "Minutes for the township's responsible persons (乡镇级)."),
    ("flood", "ack_minutes_village", "10", "Minutes for the village's and groups' responsible persons (村级、组级)."),
    ("flood", "max_escalations", "3", "How many times one tier is escalated for one grade (1–10)."),
    ("flood", "lift_quiet_minutes", "120",
     "Minutes every window must stay below the lowest threshold before the lift is proposed to the duty officer."),
    ("flood", "auto_lift", "false", "Lift a warning automatically after the quiet time instead of proposing it."),
    ("flood", "cap_sender", "\"zhili-flood@localhost\"",
     "CAP 1.2 `sender` of the warnings' documents (no spaces, commas, < or &), e.g. fxb@boshan.gov.cn."),
    ("flood", "cap_sender_name", "\"防汛抗旱指挥部\"", "CAP `senderName`: the issuing authority in words."),
    ("flood", "cap_agency", "\"000\"",
     "The issuing agency's 3-digit code (GB/T 4657) in the CAP identifiers (GB/T 35965.1: county + agency + unit)."),
    ("flood", "public_url", "\"\"",
     "The server's public base URL (https://zhili.example.gov.cn) that CAP documents and the Atom feed link to.\n\
      Empty: links relative to http://localhost."),
    ("map", "basemap_url", "\"\"",
     "Raster XYZ basemap tile URL with {z}, {x}, {y} (e.g. a tile server on your network). Empty: no basemap\n(the One Map works offline). The browser fetches these tiles itself."),
    ("map", "basemap_crs", "\"wgs84\"",
     "Coordinate system of the basemap: `wgs84` (also CGCS2000, e.g. 天地图) or `gcj02` (高德, 腾讯).\nWith `gcj02` our layers are shifted onto it."),
    ("map", "basemap_attribution", "\"\"", "Attribution shown on the map for the basemap (e.g. its copyright and review number)."),
    ("log", "level", "\"info\"", "Log filter, e.g. `info` or `zhili_server=debug,info` (RUST_LOG overrides)."),
    ("log", "format", "\"text\"", "`text` for people, `json` for log collectors."),
];

/// `[database]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    /// See [`OPTIONS`].
    pub url: String,
    /// See [`OPTIONS`].
    pub max_connections: u32,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// See [`OPTIONS`].
    pub listen: std::net::SocketAddr,
    /// See [`OPTIONS`].
    pub session_ttl_hours: u32,
    /// See [`OPTIONS`].
    pub secure_cookies: bool,
    /// See [`OPTIONS`].
    pub trust_forwarded_headers: bool,
    /// See [`OPTIONS`].
    pub body_limit_bytes: usize,
    /// See [`OPTIONS`].
    pub request_timeout_secs: u64,
    /// See [`OPTIONS`].
    pub login_failures_per_account: i64,
    /// See [`OPTIONS`].
    pub login_failures_per_address: i64,
    /// See [`OPTIONS`].
    pub shutdown_grace_secs: u64,
    /// See [`OPTIONS`].
    pub import_body_limit_bytes: usize,
    /// See [`OPTIONS`].
    pub compress: bool,
}

/// `[grid]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GridSection {
    /// See [`OPTIONS`].
    pub code_scheme: zhili_grid::GridCodeScheme,
    /// See [`OPTIONS`].
    pub levels: Vec<String>,
    /// See [`OPTIONS`].
    pub tolerance_m2: f64,
}

/// `[case]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaseSection {
    /// See [`OPTIONS`].
    pub duplicate_radius_m: f64,
    /// See [`OPTIONS`].
    pub photo_max_bytes: usize,
    /// See [`OPTIONS`].
    pub export_max_rows: usize,
    /// See [`OPTIONS`].
    pub escalation: Vec<EscalationLevelSection>,
    /// See [`OPTIONS`].
    pub escalation_check_seconds: u64,
    /// See [`OPTIONS`].
    pub webhook_ca_file: String,
}

/// One level of `case.escalation`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EscalationLevelSection {
    /// Working minutes past the deadline.
    pub after_working_minutes: u32,
    /// Who is told: `department`, `township`, `district`, `leaders`.
    pub notify: Vec<String>,
}

/// One `[[webhooks]]` table: an outgoing webhook.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    /// Unique name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Where to POST: an `http://` or `https://` URL.
    pub url: String,
    /// Key of the HMAC-SHA256 signature (`X-Zhili-Signature: sha256=<hex>`), at least 16 characters.
    pub secret: String,
    /// Events to send: `case.dispatched`, `case.overdue`, `case.escalated`.
    pub events: Vec<String>,
}

/// `[flood]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FloodSection {
    /// See [`OPTIONS`].
    pub sl651_enabled: bool,
    /// See [`OPTIONS`].
    pub sl651_listen: std::net::SocketAddr,
    /// See [`OPTIONS`].
    pub sl651_idle_timeout_secs: u64,
    /// See [`OPTIONS`].
    pub sl651_max_connections: usize,
    /// See [`OPTIONS`].
    pub sl651_frames_per_second_per_connection: u32,
    /// See [`OPTIONS`].
    pub sl651_utc_offset: String,
    /// See [`OPTIONS`].
    pub mqtt_url: String,
    /// See [`OPTIONS`].
    pub mqtt_client_id: String,
    /// See [`OPTIONS`].
    pub warning_case_class: String,
    /// See [`OPTIONS`].
    pub ack_minutes_county: u32,
    /// See [`OPTIONS`].
    pub ack_minutes_township: u32,
    /// See [`OPTIONS`].
    pub ack_minutes_village: u32,
    /// See [`OPTIONS`].
    pub max_escalations: u8,
    /// See [`OPTIONS`].
    pub lift_quiet_minutes: u32,
    /// See [`OPTIONS`].
    pub auto_lift: bool,
    /// See [`OPTIONS`].
    pub cap_sender: String,
    /// See [`OPTIONS`].
    pub cap_sender_name: String,
    /// See [`OPTIONS`].
    pub cap_agency: String,
    /// See [`OPTIONS`].
    pub public_url: String,
}

/// `[map]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MapSection {
    /// See [`OPTIONS`].
    pub basemap_url: String,
    /// See [`OPTIONS`].
    pub basemap_crs: String,
    /// See [`OPTIONS`].
    pub basemap_attribution: String,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// See [`OPTIONS`].
    pub level: String,
    /// See [`OPTIONS`].
    pub format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[database]`
    pub database: DatabaseSection,
    /// `[server]`
    pub server: ServerSection,
    /// `[grid]`
    pub grid: GridSection,
    /// `[case]`
    pub case: CaseSection,
    /// `[flood]`
    pub flood: FloodSection,
    /// `[map]`
    pub map: MapSection,
    /// `[log]`
    pub log: LogSection,
    /// `[[webhooks]]`
    #[serde(default)]
    pub webhooks: Vec<WebhookSection>,
}

impl Config {
    /// Defaults, then the file (if any), then `ZHILI_*` environment variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let text = match file {
            Some(p) => {
                Some(std::fs::read_to_string(p).with_context(|| format!("cannot read config file {}", p.display()))?)
            }
            None => None,
        };
        Config::from_parts(text.as_deref(), &env).with_context(|| match file {
            Some(p) => format!("invalid configuration (file {} and ZHILI_* variables)", p.display()),
            None => "invalid configuration (ZHILI_* variables)".to_string(),
        })
    }

    /// Merge defaults, an optional TOML text and environment pairs.
    pub fn from_parts(file: Option<&str>, env: &[(String, String)]) -> anyhow::Result<Config> {
        let mut doc: toml::Table = toml::from_str(&example()).expect("the example is valid TOML");
        if let Some(text) = file {
            let user: toml::Table = toml::from_str(text).context("config file is not valid TOML")?;
            for (section, values) in user {
                if section == "webhooks" {
                    if !values.as_array().is_some_and(|a| a.iter().all(toml::Value::is_table)) {
                        bail!("config: `webhooks` must be [[webhooks]] tables");
                    }
                    doc.insert(section, values);
                    continue;
                }
                let Some(values) = values.as_table() else { bail!("config: `{section}` must be a [section]") };
                let Some(target) = doc.get_mut(&section).and_then(|t| t.as_table_mut()) else {
                    bail!("config: unknown section [{section}]")
                };
                for (k, v) in values {
                    if !target.contains_key(k) {
                        bail!("config: unknown option `{k}` in [{section}]");
                    }
                    target.insert(k.clone(), v.clone());
                }
            }
        }
        for (name, value) in env {
            let Some((section, key, default, _)) = OPTIONS.iter().find(|o| env_name(o.0, o.1) == *name) else {
                continue;
            };
            // Strings are taken as they are; other types are parsed as TOML values.
            let default: toml::Value =
                toml::from_str::<toml::Table>(&format!("v = {default}")).expect("defaults are valid")["v"].clone();
            let v = if default.is_str() {
                toml::Value::String(value.clone())
            } else {
                toml::from_str::<toml::Table>(&format!("v = {value}"))
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .with_context(|| format!("{name}={value:?} is not a valid {}", default.type_str()))?
            };
            doc.get_mut(*section).and_then(|t| t.as_table_mut()).expect("known section").insert((*key).into(), v);
        }
        // Re-parse the merged text so that an error quotes the offending line and option.
        let merged = toml::to_string(&doc).expect("a table serializes");
        let cfg: Config = toml::from_str(&merged).map_err(|e| anyhow::anyhow!("{e}"))?;
        if cfg.server.body_limit_bytes < 1024 {
            bail!("server.body_limit_bytes must be at least 1024");
        }
        if cfg.grid.levels.is_empty() || cfg.grid.levels.len() > 9 {
            bail!("grid.levels must name 1–9 levels");
        }
        cfg.basemap()?;
        if !(cfg.case.duplicate_radius_m.is_finite() && (0.0..=10_000.0).contains(&cfg.case.duplicate_radius_m)) {
            bail!("case.duplicate_radius_m must be 0–10000 metres");
        }
        if !(1024..=100 * 1024 * 1024).contains(&cfg.case.photo_max_bytes) {
            bail!("case.photo_max_bytes must be 1 KiB–100 MiB");
        }
        if !(1..=1_048_575).contains(&cfg.case.export_max_rows) {
            bail!("case.export_max_rows must be 1–1048575 (an XLSX sheet holds 1,048,576 rows with its header)");
        }
        if cfg.server.session_ttl_hours == 0 {
            bail!("server.session_ttl_hours must be at least 1");
        }
        cfg.escalation()?;
        if !(1..=86_400).contains(&cfg.case.escalation_check_seconds) {
            bail!("case.escalation_check_seconds must be 1–86400");
        }
        cfg.webhooks()?;
        cfg.webhook_ca_pem()?;
        cfg.flood()?;
        Ok(cfg)
    }

    /// The server crate's settings.
    pub fn server_config(&self) -> ServerConfig {
        let s = &self.server;
        ServerConfig {
            listen: s.listen,
            session_ttl_hours: s.session_ttl_hours,
            secure_cookies: s.secure_cookies,
            trust_forwarded_headers: s.trust_forwarded_headers,
            body_limit_bytes: s.body_limit_bytes,
            request_timeout_secs: s.request_timeout_secs,
            login_failures_per_account: s.login_failures_per_account,
            login_failures_per_address: s.login_failures_per_address,
            shutdown_grace_secs: s.shutdown_grace_secs,
            import_body_limit_bytes: s.import_body_limit_bytes,
            basemap: self.basemap().expect("checked when loaded"),
            case_duplicate_radius_m: self.case.duplicate_radius_m,
            photo_max_bytes: self.case.photo_max_bytes,
            export_max_rows: self.case.export_max_rows,
            compress: s.compress,
            escalation: self.escalation().expect("checked when loaded"),
            escalation_check_seconds: self.case.escalation_check_seconds,
            webhooks: self.webhooks().expect("checked when loaded"),
            webhook_ca_pem: self.webhook_ca_pem().expect("checked when loaded"),
            flood: self.flood().expect("checked when loaded"),
        }
    }

    /// The flood ingest's settings of `[flood]`, checked.
    pub fn flood(&self) -> anyhow::Result<zhili_server::flood::FloodConfig> {
        use zhili_server::flood::settings::{parse_utc_offset, MqttBroker};
        let f = &self.flood;
        if !(10..=86_400).contains(&f.sl651_idle_timeout_secs) {
            bail!("flood.sl651_idle_timeout_secs must be 10–86400");
        }
        if !(1..=1_000_000).contains(&f.sl651_max_connections) {
            bail!("flood.sl651_max_connections must be 1–1000000");
        }
        if !(1..=10_000).contains(&f.sl651_frames_per_second_per_connection) {
            bail!("flood.sl651_frames_per_second_per_connection must be 1–10000");
        }
        let offset =
            parse_utc_offset(&f.sl651_utc_offset).map_err(|e| anyhow::anyhow!("flood.sl651_utc_offset: {e}"))?;
        let url = f.mqtt_url.trim();
        let mqtt = if url.is_empty() {
            None
        } else {
            Some(MqttBroker::parse(url).map_err(|e| anyhow::anyhow!("flood.mqtt_url {e}"))?)
        };
        let id = f.mqtt_client_id.trim();
        if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            bail!("flood.mqtt_client_id must be at most 64 letters, digits, `-`, `_` or `.`, got {id:?}");
        }
        let class = zhili_case::catalogue::ClassCode::parse(f.warning_case_class.trim())
            .map_err(|e| anyhow::anyhow!("flood.warning_case_class: {e}"))?;
        let policy = zhili_flood::warning::Policy {
            ack_minutes: zhili_flood::warning::AckMinutes {
                county: f.ack_minutes_county,
                township: f.ack_minutes_township,
                village: f.ack_minutes_village,
                group: f.ack_minutes_village,
            },
            max_escalations: f.max_escalations,
            lift_quiet_minutes: f.lift_quiet_minutes,
            auto_lift: f.auto_lift,
            ..zhili_flood::warning::Policy::default()
        };
        policy.validate().map_err(|e| anyhow::anyhow!("flood: {}", e.to_string().replace("policy.", "")))?;
        let sender = f.cap_sender.trim();
        if sender.is_empty() || sender.contains([' ', ',', '<', '&']) {
            bail!("flood.cap_sender must be non-empty without spaces, commas, < or &, got {sender:?}");
        }
        if f.cap_sender_name.trim().is_empty() {
            bail!("flood.cap_sender_name must not be empty");
        }
        if f.cap_agency.len() != 3 || !f.cap_agency.bytes().all(|b| b.is_ascii_digit()) {
            bail!("flood.cap_agency must be 3 digits (GB/T 4657), got {:?}", f.cap_agency);
        }
        let public_url = f.public_url.trim().trim_end_matches('/');
        if !(public_url.is_empty() || public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("flood.public_url must be an http:// or https:// URL, got {public_url:?}");
        }
        let warnings = zhili_server::flood::warning::WarningSettings {
            policy,
            case_class: class.as_str().to_string(),
            cap_sender: sender.to_string(),
            cap_sender_name: f.cap_sender_name.trim().to_string(),
            cap_agency: f.cap_agency.clone(),
            public_url: public_url.to_string(),
            ..zhili_server::flood::warning::WarningSettings::default()
        };
        Ok(zhili_server::flood::FloodConfig {
            warnings,
            sl651_enabled: f.sl651_enabled,
            sl651_listen: f.sl651_listen,
            sl651_idle_timeout: std::time::Duration::from_secs(f.sl651_idle_timeout_secs),
            sl651_max_connections: f.sl651_max_connections,
            sl651_frames_per_second: f.sl651_frames_per_second_per_connection,
            sl651_utc_offset: offset,
            mqtt,
            mqtt_client_id: id.to_string(),
        })
    }

    /// The certificate authorities of `case.webhook_ca_file`, read and checked.
    pub fn webhook_ca_pem(&self) -> anyhow::Result<Option<Vec<u8>>> {
        let path = self.case.webhook_ca_file.trim();
        if path.is_empty() {
            return Ok(None);
        }
        let pem = std::fs::read(path).with_context(|| format!("case.webhook_ca_file: cannot read {path}"))?;
        zhili_server::platform::notify::http_client(Some(&pem))
            .map_err(|e| anyhow::anyhow!("case.webhook_ca_file {path}: {e}"))?;
        Ok(Some(pem))
    }

    /// The escalation policy of `case.escalation`, checked.
    pub fn escalation(&self) -> anyhow::Result<EscalationPolicy> {
        let mut levels = Vec::new();
        for (i, l) in self.case.escalation.iter().enumerate() {
            let mut notify = Vec::new();
            for who in &l.notify {
                let a = CaseAudience::from_name(who).with_context(|| {
                    format!(
                        "case.escalation[{i}].notify: unknown audience {who:?} (use department, township, district, leaders)"
                    )
                })?;
                if !notify.contains(&a) {
                    notify.push(a);
                }
            }
            levels.push(EscalationLevel { after_working_minutes: l.after_working_minutes, notify });
        }
        EscalationPolicy::new(levels).map_err(|e| anyhow::anyhow!("case.escalation: {e}"))
    }

    /// The outgoing webhooks of `[[webhooks]]`, checked: unique names, http(s) URLs, secrets of
    /// at least 16 characters, known events.
    pub fn webhooks(&self) -> anyhow::Result<Vec<zhili_server::platform::notify::Webhook>> {
        let mut out: Vec<zhili_server::platform::notify::Webhook> = Vec::new();
        for (i, w) in self.webhooks.iter().enumerate() {
            let at = format!("webhooks[{i}]");
            if w.name.is_empty()
                || w.name.len() > 64
                || !w.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                bail!("{at}.name must be 1–64 letters, digits, `-`, `_` or `.`, got {:?}", w.name);
            }
            if out.iter().any(|o| o.name == w.name) {
                bail!("{at}.name {:?} is used by another webhook", w.name);
            }
            let url = zhili_server::platform::notify::Webhook::parse_url(&w.url)
                .map_err(|e| anyhow::anyhow!("{at}.url {e}"))?;
            if w.secret.chars().count() < 16 {
                bail!("{at}.secret must be at least 16 characters");
            }
            let known: Vec<&str> = zhili_server::webhook_events().collect();
            if w.events.is_empty() {
                bail!("{at}.events must name at least one event ({})", known.join(", "));
            }
            let mut events: Vec<String> = Vec::new();
            for e in &w.events {
                if !known.contains(&e.as_str()) {
                    bail!("{at}.events: unknown event {e:?} (use {})", known.join(", "));
                }
                if !events.contains(e) {
                    events.push(e.clone());
                }
            }
            out.push(zhili_server::platform::notify::Webhook {
                name: w.name.clone(),
                url,
                secret: w.secret.clone(),
                events,
            });
        }
        Ok(out)
    }

    /// The One Map's basemap, checked: an http(s) URL with `{z}`, `{x}` and `{y}`, and a known CRS.
    pub fn basemap(&self) -> anyhow::Result<Option<zhili_server::Basemap>> {
        let m = &self.map;
        let crs = zhili_geo::gcj02::MapCrs::parse(&m.basemap_crs)
            .with_context(|| format!("map.basemap_crs must be wgs84 or gcj02, got {:?}", m.basemap_crs))?;
        let url = m.basemap_url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("map.basemap_url must start with http:// or https://, got {url:?}");
        }
        for p in ["{z}", "{x}", "{y}"] {
            if !url.contains(p) {
                bail!("map.basemap_url must contain {p}, got {url:?}");
            }
        }
        if url.chars().any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == ';') {
            bail!("map.basemap_url must not contain spaces, quotes or semicolons");
        }
        Ok(Some(zhili_server::Basemap { url: url.into(), crs, attribution: m.basemap_attribution.clone() }))
    }

    /// The grid module's rules.
    pub fn grid_rules(&self) -> zhili_grid::validate::Rules {
        zhili_grid::validate::Rules {
            scheme: self.grid.code_scheme,
            levels: zhili_grid::GridLevels(self.grid.levels.clone()),
            tolerance_m2: self.grid.tolerance_m2,
        }
    }

    /// The SQLite file path, when the database is SQLite.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let u = &self.database.url;
        if u.starts_with("postgres://") || u.starts_with("postgresql://") {
            return None;
        }
        let p = u.strip_prefix("sqlite://").or_else(|| u.strip_prefix("sqlite:")).unwrap_or(u);
        Some(PathBuf::from(p.split('?').next().unwrap_or(p)))
    }
}

/// The environment variable for an option: `ZHILI_SERVER_LISTEN`, and `ZHILI_DATABASE_URL`.
pub fn env_name(section: &str, key: &str) -> String {
    format!("ZHILI_{}_{}", section.to_uppercase(), key.to_uppercase())
}

/// The commented example configuration, with every option at its default.
pub fn example() -> String {
    let mut out = String::from(
        "# Zhili (治理) configuration. Every option is shown at its default.\n\
         # Each can also be set by an environment variable, named in its comment.\n",
    );
    let mut section = "";
    for (s, k, default, doc) in OPTIONS {
        if *s != section {
            out.push_str(&format!("\n[{s}]\n"));
            section = s;
        }
        for line in doc.lines() {
            out.push_str(&format!("# {line}\n"));
        }
        out.push_str(&format!("# env: {}\n{k} = {default}\n", env_name(s, k)));
    }
    out.push_str(
        "\n# Outgoing webhooks (外发): none by default. Repeat the table for each receiver. Each event is\n\
         # POSTed as JSON {event, id, at, case: {...}} with the headers X-Zhili-Event, X-Zhili-Delivery\n\
         # (unique per delivery; retries repeat it) and X-Zhili-Signature: sha256=<HMAC-SHA256 of the body\n\
         # under `secret`, hex>. A receiver that fails (not 2xx within 10 s) is retried after 30 s, 2 min,\n\
         # 10 min, 1 h, 2 h, 6 h and 12 h (8 attempts). Admins see the outbox at /api/webhooks/deliveries.\n\
         # [[webhooks]]\n\
         # name = \"command-centre\"\n\
         # url = \"https://hooks.example.cn/zhili\"\n\
         # secret = \"at least 16 random characters\"\n\
         # events = [\"case.dispatched\", \"case.overdue\", \"case.escalated\"]\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn example_is_the_default_and_covers_every_field() {
        let cfg = Config::from_parts(Some(&example()), &[]).unwrap();
        assert_eq!(cfg, Config::from_parts(None, &[]).unwrap());
        assert_eq!(cfg.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cfg.server_config().login_failures_per_account, 10);
    }

    #[test]
    fn file_then_env() {
        let file = "[server]\nlisten = \"0.0.0.0:9000\"\nsession_ttl_hours = 4\n";
        let cfg = Config::from_parts(
            Some(file),
            &env(&[("ZHILI_SERVER_SESSION_TTL_HOURS", "6"), ("ZHILI_DATABASE_URL", "postgres://x@y/z")]),
        )
        .unwrap();
        assert_eq!(cfg.server.listen.port(), 9000);
        assert_eq!(cfg.server.session_ttl_hours, 6);
        assert_eq!(cfg.database.url, "postgres://x@y/z");
        assert_eq!(cfg.sqlite_path(), None);
    }

    #[test]
    fn errors_name_the_option() {
        let e = Config::from_parts(Some("[server]\nlisen = 1\n"), &[]).unwrap_err();
        assert!(format!("{e:#}").contains("unknown option `lisen`"), "{e:#}");
        let e = Config::from_parts(None, &env(&[("ZHILI_SERVER_SESSION_TTL_HOURS", "many")])).unwrap_err();
        assert!(format!("{e:#}").contains("ZHILI_SERVER_SESSION_TTL_HOURS"), "{e:#}");
        let e = Config::from_parts(Some("[server]\nlisten = \"nowhere\"\n"), &[]).unwrap_err();
        assert!(format!("{e:#}").contains("listen"), "{e:#}");
        assert!(Config::from_parts(Some("[nope]\n"), &[]).is_err());
    }

    #[test]
    fn escalation_and_webhooks_are_checked() {
        let cfg = Config::from_parts(None, &[]).unwrap();
        assert_eq!(cfg.server_config().escalation, EscalationPolicy::default());
        assert!(cfg.server_config().webhooks.is_empty());
        let file = "[case]\nescalation = [{ after_working_minutes = 0, notify = [\"department\"] }]\n\
            [[webhooks]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"0123456789abcdef\"\n\
            events = [\"case.dispatched\", \"case.overdue\"]\n";
        let s = Config::from_parts(Some(file), &[]).unwrap().server_config();
        assert_eq!(s.escalation.levels().len(), 1);
        assert_eq!(s.webhooks[0].events, ["case.dispatched", "case.overdue"]);
        let off = Config::from_parts(None, &env(&[("ZHILI_CASE_ESCALATION", "[]")])).unwrap();
        assert!(off.server_config().escalation.levels().is_empty());
        for (text, says) in [
            ("[case]\nescalation = [{ after_working_minutes = 0, notify = [\"mayor\"] }]\n", "case.escalation[0].notify"),
            ("[case]\nescalation = [{ after_working_minutes = 0, notify = [] }]\n", "case.escalation: escalation level 1"),
            ("[case]\nescalation = [{ after = 0, notify = [\"department\"] }]\n", "after"),
            ("[[webhooks]]\nname = \"a\"\nurl = \"ftp://x/\"\nsecret = \"0123456789abcdef\"\nevents = [\"case.overdue\"]\n", "webhooks[0].url"),
            ("[[webhooks]]\nname = \"a\"\nurl = \"not a url\"\nsecret = \"0123456789abcdef\"\nevents = [\"case.overdue\"]\n", "webhooks[0].url"),
            ("[[webhooks]]\nname = \"a\"\nurl = \"https://x/\"\nsecret = \"short\"\nevents = [\"case.overdue\"]\n", "webhooks[0].secret"),
            ("[[webhooks]]\nname = \"a\"\nurl = \"https://x/\"\nsecret = \"0123456789abcdef\"\nevents = [\"case.closed\"]\n", "webhooks[0].events"),
            ("[[webhooks]]\nname = \"a\"\nurl = \"https://x/\"\nsecret = \"0123456789abcdef\"\nevents = [\"case.overdue\"]\n\
              [[webhooks]]\nname = \"a\"\nurl = \"https://y/\"\nsecret = \"0123456789abcdef\"\nevents = [\"case.overdue\"]\n", "webhooks[1].name"),
            ("[[webhooks]]\nname = \"a\"\nurl = \"https://x/\"\nsecret = \"0123456789abcdef\"\nevents = [\"case.overdue\"]\nretries = 3\n", "retries"),
        ] {
            let e = Config::from_parts(Some(text), &[]).unwrap_err();
            assert!(format!("{e:#}").contains(says), "{text}: {e:#}");
        }
    }

    #[test]
    fn flood_is_checked() {
        let f = Config::from_parts(None, &[]).unwrap().server_config().flood;
        assert_eq!(f, zhili_server::flood::FloodConfig::default());
        let on =
            "[flood]\nsl651_enabled = true\nsl651_listen = \"127.0.0.1:5000\"\nmqtt_url = \"mqtt://127.0.0.1:1883\"\n";
        let f = Config::from_parts(Some(on), &env(&[("ZHILI_FLOOD_SL651_UTC_OFFSET", "+07:00")]))
            .unwrap()
            .server_config()
            .flood;
        assert!(f.sl651_enabled);
        assert_eq!((f.sl651_listen.port(), f.sl651_utc_offset.local_minus_utc()), (5000, 7 * 3600));
        assert_eq!(f.mqtt.unwrap().port, 1883);
        for (text, says) in [
            ("[flood]\nsl651_idle_timeout_secs = 1\n", "sl651_idle_timeout_secs"),
            ("[flood]\nsl651_max_connections = 0\n", "sl651_max_connections"),
            ("[flood]\nsl651_frames_per_second_per_connection = 0\n", "sl651_frames_per_second_per_connection"),
            ("[flood]\nsl651_utc_offset = \"Asia/Shanghai\"\n", "sl651_utc_offset"),
            ("[flood]\nmqtt_url = \"mqtts://broker:8883\"\n", "flood.mqtt_url"),
            ("[flood]\nmqtt_client_id = \"a b\"\n", "mqtt_client_id"),
            ("[flood]\nsl651_listen = \"nowhere\"\n", "sl651_listen"),
            ("[flood]\nwarning_case_class = \"SJ01X\"\n", "warning_case_class"),
            ("[flood]\nack_minutes_township = 0\n", "ack_minutes.township"),
            ("[flood]\nmax_escalations = 11\n", "max_escalations"),
            ("[flood]\ncap_sender = \"a b\"\n", "cap_sender"),
            ("[flood]\ncap_agency = \"12\"\n", "cap_agency"),
            ("[flood]\npublic_url = \"ftp://x\"\n", "public_url"),
        ] {
            let e = Config::from_parts(Some(text), &[]).unwrap_err();
            assert!(format!("{e:#}").contains(says), "{text}: {e:#}");
        }
    }

    #[test]
    fn basemap_is_checked() {
        assert_eq!(Config::from_parts(None, &[]).unwrap().server_config().basemap, None);
        let ok = "[map]\nbasemap_url = \"https://tiles.example.cn/{z}/{x}/{y}.png\"\nbasemap_crs = \"gcj02\"\n";
        let b = Config::from_parts(Some(ok), &[]).unwrap().server_config().basemap.unwrap();
        assert_eq!((b.crs.as_str(), b.origin()), ("gcj02", "https://tiles.example.cn"));
        for (url, crs, says) in [
            ("ftp://x/{z}/{x}/{y}", "wgs84", "http"),
            ("https://x/{z}/{x}.png", "wgs84", "{y}"),
            ("https://x/{z}/{x}/{y}.png;evil", "wgs84", "semicolons"),
            ("https://x/{z}/{x}/{y}.png", "bd09", "basemap_crs"),
        ] {
            let e = Config::from_parts(None, &env(&[("ZHILI_MAP_BASEMAP_URL", url), ("ZHILI_MAP_BASEMAP_CRS", crs)]))
                .unwrap_err();
            assert!(format!("{e:#}").contains(says), "{url} {crs}: {e:#}");
        }
    }
}

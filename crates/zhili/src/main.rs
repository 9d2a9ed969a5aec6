//! `zhili`: the one binary. It parses the command line and configuration, opens the store,
//! and wires the library crates together; it decides nothing itself.

mod config;
mod flood;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use zhili_case::metrics::GroupBy;
use zhili_case::model::CaseFilter;
use zhili_core::audit::Actor;
use zhili_core::codes::DivisionCode;
use zhili_core::model::NewUser;
use zhili_core::policy::Role;
use zhili_core::ports::Ports;
use zhili_core::store::{verify_audit_chain, Page, Store, StoreError};
use zhili_core::{model, password};

use crate::config::{Config, LogFormat};

/// Zhili (治理): digital social governance on one server and one map.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML); see `zhili config example`.
    #[arg(long, global = true, env = "ZHILI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and the API.
    Serve {
        /// Override `server.listen`.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Run a full synthetic district on embedded SQLite (nothing else needed).
    Demo {
        /// Address to serve on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Data directory (created or reused).
        #[arg(long, default_value = "zhili-data")]
        data_dir: PathBuf,
        /// Set the `admin` password (otherwise a new district gets a random one, printed once).
        #[arg(long, env = "ZHILI_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: Option<String>,
        /// Load the data and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Load the demo into this database instead of SQLite in the data directory
        /// (e.g. a PostgreSQL URL, to try production settings with demo data).
        #[arg(long)]
        database_url: Option<String>,
        /// Synthetic cases to load, a year of them (only into a database without cases; 0: none).
        #[arg(long, default_value_t = zhili_demo::case::DEFAULT_CASES)]
        cases: usize,
        /// Spread the synthetic cases over this many years before today (a store at scale, e.g.
        /// `--cases 10000000 --case-years 10` for the benchmarks).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
        case_years: u32,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export data to files.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Bearer tokens for machines (other systems, scripts, devices).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Flash floods (山洪): a synthetic storm, the replay of a storm through the ingest.
    Flood {
        #[command(subcommand)]
        command: flood::FloodCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password is read from ZHILI_USER_PASSWORD or the first line of stdin.
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// admin, leader, operator, department_staff or grid_worker.
        #[arg(long)]
        role: String,
        /// Jurisdiction: a division code (6, 9 or 12 digits).
        #[arg(long)]
        jurisdiction: String,
        /// Display name (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
        /// 11-digit mobile number.
        #[arg(long)]
        phone: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import grids from a GeoJSON FeatureCollection or a GeoPackage (`.gpkg`) layer
    /// (properties: code, name, level, parent; lon/lat in EPSG:4326 or 4490).
    /// Everything is validated first; with any error nothing is written.
    Grids {
        /// The GeoJSON or GeoPackage file.
        file: PathBuf,
        /// Validate and report only.
        #[arg(long)]
        dry_run: bool,
        /// The GeoPackage layer to read, when the file has several.
        #[arg(long)]
        layer: Option<String>,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Export grids as a GeoJSON FeatureCollection in the import format (properties: code, name,
    /// level, parent, village), so the file imports back unchanged.
    Grids {
        /// Where to write (default: standard output). Written whole, then renamed into place.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Only grids within this division (6, 9 or 12 digits).
        #[arg(long)]
        within: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a bearer token acting as an existing user; prints it once.
    Create {
        /// The user the token acts as (its role and jurisdiction apply).
        #[arg(long)]
        username: String,
        /// Days until the token expires (1–3650).
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit hash chain; exits non-zero if it was tampered with.
    Verify,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration with every option.
    Example,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        // One clear line, then a non-zero exit.
        eprintln!("zhili: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config { command: ConfigCommand::Example } = cli.command {
        print!("{}", config::example());
        return Ok(());
    }
    let mut cfg = Config::load(cli.config.as_deref())?;
    if let Command::Demo { data_dir, listen, database_url, .. } = &cli.command {
        cfg.database.url = match database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", data_dir.join("zhili.db").display()),
        };
        cfg.server.listen = *listen;
        // The demo takes SL 651 stations on a free local port unless the configuration says where.
        if !cfg.flood.sl651_enabled {
            cfg.flood.sl651_enabled = true;
            cfg.flood.sl651_listen = free_local_port().context("cannot find a free port for the SL 651 listener")?;
        }
    }
    if let Command::Serve { listen: Some(l) } = &cli.command {
        cfg.server.listen = *l;
    }
    init_logging(&cfg);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve { .. } => {
                let ports = open_store(&cfg).await?;
                serve(ports, &cfg).await
            }
            Command::Demo { data_dir, admin_password, no_serve, database_url, cases, case_years, .. } => {
                if database_url.is_none() {
                    std::fs::create_dir_all(&data_dir)
                        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
                }
                let mut ports = open_store(&cfg).await?;
                let admin = seed_demo(&ports, admin_password, (cases, case_years)).await?;
                if no_serve {
                    return Ok(());
                }
                // The duty screen's storm button: the demo's stations send a storm here.
                let storm = flood::DemoStorm::new(&ports).await?;
                ports.add::<dyn zhili_server::flood::demo::StormDemo>(std::sync::Arc::new(storm));
                print_demo_banner(&cfg, &admin);
                serve(ports, &cfg).await
            }
            Command::Migrate => {
                open_store(&cfg).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::User { command: UserCommand::Add { username, role, jurisdiction, display_name, phone } } => {
                let ports = open_store(&cfg).await?;
                user_add(ports.port::<dyn Store>().as_ref(), username, role, jurisdiction, display_name, phone).await
            }
            Command::Import { command: ImportCommand::Grids { file, dry_run, layer } } => {
                let ports = open_store(&cfg).await?;
                import_grids(&ports, &cfg, &file, dry_run, layer).await
            }
            Command::Export { command: ExportCommand::Grids { out, within } } => {
                let within = within
                    .map(|w| DivisionCode::parse(&w).map_err(|e| anyhow::anyhow!("--within: {e}")))
                    .transpose()?;
                let ports = open_store(&cfg).await?;
                export_grids(&ports, within.as_ref(), out.as_deref()).await
            }
            Command::Token { command: TokenCommand::Create { username, days } } => {
                let ports = open_store(&cfg).await?;
                let store = ports.port::<dyn Store>();
                let (user, _) = store.user_credentials(&username).await.map_err(|e| match e {
                    StoreError::NotFound => anyhow::anyhow!("--username: no user {username:?}"),
                    e => e.into(),
                })?;
                if !user.active {
                    bail!("--username: the account {username:?} is disabled");
                }
                let (token, session) =
                    zhili_server::core::auth::new_session(user.id, chrono::Duration::days(days.into()));
                store.create_session(&Actor::system(), &session).await?;
                eprintln!(
                    "token for {username} ({}), expires {}:",
                    user.role.as_str(),
                    session.expires_at.to_rfc3339()
                );
                println!("{token}");
                Ok(())
            }
            Command::Audit { command: AuditCommand::Verify } => {
                let ports = open_store(&cfg).await?;
                audit_verify(ports.port::<dyn Store>().as_ref()).await
            }
            Command::Flood { command: flood::FloodCommand::Storm { out, target, hours, speed, peak } } => {
                let ports = open_store(&cfg).await?;
                flood::storm_command(&ports, out, target, hours, speed, peak).await
            }
            Command::Flood { command: flood::FloodCommand::Replay { file, speed } } => {
                let ports = open_store(&cfg).await?;
                flood::replay_command(ports, &cfg, file, speed).await
            }
            Command::Config { .. } => unreachable!("handled above"),
        }
    })
}

/// A local address with a port free now (the demo's SL 651 listener binds it a moment later).
fn free_local_port() -> std::io::Result<std::net::SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log.level));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cfg.log.format {
        LogFormat::Json => b.json().init(),
        LogFormat::Text => b.init(),
    }
}

/// The database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Open the configured store and apply migrations.
async fn open_store(cfg: &Config) -> anyhow::Result<Ports> {
    let url = &cfg.database.url;
    let ports = if let Some(path) = cfg.sqlite_path() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                bail!("the SQLite database directory {} does not exist", dir.display());
            }
        }
        zhili_store_sqlite::SqliteStore::open(&path).await.map_err(|e| anyhow::anyhow!("{e}"))?.ports()
    } else {
        let s = zhili_store_postgres::PgStore::connect_with(url, cfg.database.max_connections)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to the database at {}: {e}", redact(url)))?;
        s.ports()
    };
    ports
        .port::<dyn Store>()
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate the database at {}: {e}", redact(url)))?;
    Ok(ports)
}

async fn serve(ports: Ports, cfg: &Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(cfg.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.server.listen))?;
    tracing::info!(listen = %cfg.server.listen, backend = ports.port::<dyn Store>().backend(), "serving");
    let spatial = zhili_server::grid::spatial::Spatial::start(&ports).await?;
    let (features, bytes) = spatial.stats();
    tracing::info!(features, memory_mib = bytes as f64 / 1048576.0, "spatial index loaded");
    let state =
        zhili_server::AppState::new(ports, cfg.server_config()).with_grid_rules(cfg.grid_rules()).with_spatial(spatial);
    zhili_server::serve(state, listener, zhili_server::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// What the demo tells about the administrator's password.
enum AdminPassword {
    /// Set now to this value (print it).
    Set(String),
    /// Left as it was.
    Unchanged,
}

fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"));
    pb.enable_steady_tick(Duration::from_millis(100));
    pb.set_message(msg.to_string());
    pb
}

async fn seed_demo(
    ports: &Ports,
    admin_password: Option<String>,
    (cases, years): (usize, u32),
) -> anyhow::Result<AdminPassword> {
    let store = ports.port::<dyn Store>().as_ref();
    let grids = ports.port::<dyn zhili_grid::GridStore>().as_ref();
    if let Some(p) = &admin_password {
        password::validate(p).context("admin password")?;
    }
    let pb = spinner("生成演示区县 building the demo district");
    let hash = tokio::task::spawn_blocking(|| password::hash(DEMO_PASSWORD)).await?;
    let district = zhili_demo::district(&hash);
    pb.set_message(format!(
        "写入 loading {} divisions, {} departments, {} users",
        district.batch.divisions.len(),
        district.batch.departments.len(),
        district.batch.users.len()
    ));
    let inserted = store.load_batch(&Actor::system(), &district.batch).await?;
    // Grids are written once; a reused data directory keeps what it has.
    if grids.count_grids(None).await? == 0 {
        pb.set_message(format!("写入网格 loading {} grids", district.grids.len()));
        grids.import_grids(&Actor::system(), &district.grids).await?;
        pb.set_message(format!("分配网格员 assigning {} grid duties", district.assignments.len()));
        grids.load_assignments(&Actor::system(), &district.assignments).await?;
    }
    pb.finish_with_message(format!("演示数据就绪 demo data ready ({inserted} rows new)"));

    let county = DivisionCode::parse(zhili_demo::COUNTY).expect("valid");
    let result = match store.user_credentials("admin").await {
        Ok((admin, _)) => match admin_password {
            Some(p) => {
                let h = tokio::task::spawn_blocking(move || (password::hash(&p), p)).await?;
                store.set_password(&Actor::system(), admin.id, &h.0).await?;
                AdminPassword::Set(h.1)
            }
            None => AdminPassword::Unchanged,
        },
        Err(StoreError::NotFound) => {
            let p = admin_password.unwrap_or_else(|| password::random_token()[..16].to_string());
            let h = tokio::task::spawn_blocking(move || (password::hash(&p), p)).await?;
            store
                .create_user(
                    &Actor::system(),
                    &NewUser {
                        username: "admin".into(),
                        display_name: "系统管理员".into(),
                        role: Role::Admin,
                        jurisdiction: county,
                        department_id: None,
                        phone: None,
                        password_hash: h.0,
                    },
                )
                .await?;
            AdminPassword::Set(h.1)
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(counts) = flood::seed_network(ports, &district.batch.divisions).await? {
        tracing::info!(?counts, "demo flood network seeded");
    }
    seed_demo_cases(ports, &district, cases, years).await?;
    Ok(result)
}

/// Cases per `load_cases` call (one transaction each).
const DEMO_CASE_CHUNK: usize = 5_000;

/// Load a year of synthetic cases (`n`, 0 for none) into a database that has no cases yet.
///
/// The server starts only after this (simplest, and no dashboard is computed over half a year):
/// on SQLite, 200,000 cases take about 13 s on two cores (the demo serves after about 16 s), a
/// cost paid once per data directory; a reused directory starts in about a second. The cases
/// are made on a blocking thread, a chunk ahead of the store, so generating and writing overlap.
/// An interrupted load keeps the chunks written so far (the next start sees cases and loads no
/// more; remove the data directory to start afresh).
async fn seed_demo_cases(ports: &Ports, district: &zhili_demo::District, n: usize, years: u32) -> anyhow::Result<()> {
    let store = ports.port::<dyn Store>().as_ref();
    let cases = ports.port::<dyn zhili_case::store::CaseStore>().as_ref();
    if n == 0 || cases.count_cases(&CaseFilter::default()).await? > 0 {
        return Ok(());
    }
    let started = std::time::Instant::now();
    for (meta, bytes) in zhili_demo::case::demo_photos() {
        match ports
            .port::<dyn zhili_platform::attachment::AttachmentStore>()
            .put_attachment(&Actor::system(), &meta, &bytes)
            .await
        {
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut users = std::collections::HashMap::new();
    loop {
        let page = Page { offset: users.len() as i64, limit: 1000 };
        let batch = store.users(&zhili_core::store::UserFilter::default(), page).await?;
        if batch.is_empty() {
            break;
        }
        users.extend(batch.into_iter().map(|u| (u.username, u.id)));
    }
    let pb = ProgressBar::new(n as u64);
    pb.set_style(
        ProgressStyle::with_template("生成并写入案件 loading cases {bar:40} {pos}/{len} [{elapsed}]")
            .expect("valid template"),
    );
    let generator =
        zhili_demo::case::CaseGenerator::new(district, users, chrono::Utc::now(), n, years, zhili_demo::SEED);
    let end = generator.end();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let producer = tokio::task::spawn_blocking(move || {
        let mut busy = Duration::ZERO;
        for start in (0..generator.len()).step_by(DEMO_CASE_CHUNK) {
            let t = std::time::Instant::now();
            let chunk = generator.chunk(start..(start + DEMO_CASE_CHUNK).min(generator.len()));
            busy += t.elapsed();
            if tx.blocking_send(chunk).is_err() {
                break;
            }
        }
        busy
    });
    let mut loaded = 0u64;
    while let Some(chunk) = rx.recv().await {
        loaded += cases.load_cases(&Actor::system(), &chunk).await?;
        pb.set_position(loaded);
    }
    let generating = producer.await?;
    pb.finish_and_clear();
    let took = started.elapsed();
    let figures = ports
        .port::<dyn zhili_case::store::CaseMetricsStore>()
        .case_tallies(&CaseFilter::default(), GroupBy::None, end, 480)
        .await?
        .into_iter()
        .next()
        .map(|(_, t)| t.rates())
        .unwrap_or_default();
    let pct = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0));
    println!(
        "演示案件 demo cases: {loaded} over the past {years} year(s) in {:.1} s (made in {:.1} s alongside); 结案率 closed {}, \
         按期 on time {}, 返工 rework {}, 延期 extended {}",
        took.as_secs_f64(),
        generating.as_secs_f64(),
        pct(figures.closure_rate),
        pct(figures.on_time_rate),
        pct(figures.rework_rate),
        pct(figures.extension_rate)
    );
    Ok(())
}

use zhili_demo::DEMO_PASSWORD;

fn print_demo_banner(cfg: &Config, admin: &AdminPassword) {
    let district = zhili_demo::district("");
    println!();
    println!("  治理 Zhili demo · {} ({})", zhili_demo::COUNTY_NAME, zhili_demo::COUNTY);
    println!("  打开 Open:  http://{}/", cfg.server.listen);
    if cfg.flood.sl651_enabled {
        println!("  SL 651:     {}", cfg.flood.sl651_listen);
        println!("  山洪 Flood: http://{}/flood  (模拟暴雨 storm: the button there, or", cfg.server.listen);
        println!("              zhili flood storm --target {})", cfg.flood.sl651_listen);
    }
    println!("  数据 Data:  {}", cfg.database.url);
    println!();
    println!("  演示账号 Demo logins:");
    for l in &district.logins {
        let pw = match (l.role, admin) {
            (Role::Admin, AdminPassword::Set(p)) => p.clone(),
            (Role::Admin, AdminPassword::Unchanged) => "(unchanged; reset with --admin-password)".into(),
            _ => DEMO_PASSWORD.into(),
        };
        println!("    {:<22} {:<28} {}", l.username, pw, l.note);
    }
    println!();
}

async fn user_add(
    store: &dyn Store,
    username: String,
    role: String,
    jurisdiction: String,
    display_name: Option<String>,
    phone: Option<String>,
) -> anyhow::Result<()> {
    model::validate_username(&username).map_err(|m| anyhow::anyhow!("--username: {m}"))?;
    let role = Role::from_name(&role)
        .filter(|r| *r != Role::Public)
        .ok_or_else(|| anyhow::anyhow!("--role must be admin, leader, operator, department_staff or grid_worker"))?;
    let jurisdiction = DivisionCode::parse(&jurisdiction).map_err(|e| anyhow::anyhow!("--jurisdiction: {e}"))?;
    if let Some(p) = &phone {
        model::validate_phone(p).map_err(|m| anyhow::anyhow!("--phone: {m}"))?;
    }
    let pw = match std::env::var("ZHILI_USER_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            if std::io::stdin().is_terminal() {
                eprint!("password for {username}: ");
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    password::validate(&pw).context("password")?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw)).await?;
    let u = store
        .create_user(
            &Actor::system(),
            &NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                role,
                jurisdiction,
                department_id: None,
                phone,
                password_hash: hash,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::MissingReference { .. } => anyhow::anyhow!("--jurisdiction: no such division in the database"),
            StoreError::Conflict { .. } => anyhow::anyhow!("--username: a user with this name exists already"),
            e => e.into(),
        })?;
    println!("user {} created (id {}, role {})", u.username, u.id, u.role.as_str());
    Ok(())
}

async fn import_grids(
    ports: &Ports,
    cfg: &Config,
    file: &std::path::Path,
    dry_run: bool,
    layer: Option<String>,
) -> anyhow::Result<()> {
    let store = ports.port::<dyn Store>().as_ref();
    let grids = ports.port::<dyn zhili_grid::GridStore>().as_ref();
    let gpkg = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("gpkg"));
    if layer.is_some() && !gpkg {
        bail!("--layer applies to GeoPackage (.gpkg) files only");
    }
    let doc: serde_json::Value = if gpkg {
        let opts = zhili_gpkg::Options { layer, ..Default::default() };
        zhili_gpkg::read_features(file, &opts).await.map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
    } else {
        let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        serde_json::from_slice(&text).map_err(|e| {
            anyhow::anyhow!("{}: not valid JSON at line {}, column {}: {e}", file.display(), e.line(), e.column())
        })?
    };
    let ctx = zhili_grid::validate::load_context(store, grids, None).await?;
    let n = doc.get("features").and_then(|f| f.as_array()).map_or(0, Vec::len);
    let pb = ProgressBar::new(n as u64);
    pb.set_style(
        ProgressStyle::with_template("校验 validating {bar:40} {pos}/{len} [{elapsed}]").expect("valid template"),
    );
    let rules = cfg.grid_rules();
    let report = zhili_grid::validate::validate_geojson_with_progress(&doc, &rules, &ctx, &mut |done, _| {
        pb.set_position(done as u64)
    });
    pb.finish_and_clear();
    for w in &report.warnings {
        eprintln!("warning: {}: {}", w.code.as_deref().unwrap_or("-"), w.message);
    }
    if !report.errors.is_empty() {
        for e in &report.errors {
            let at = e.feature.map(|f| format!("feature {f}")).unwrap_or_else(|| "file".into());
            eprintln!("error: {at} ({}): {}", e.code.as_deref().unwrap_or("-"), e.message);
        }
        bail!("{} problem(s) in {}; nothing was imported", report.errors.len(), file.display());
    }
    if dry_run {
        println!("{} grids valid ({} warnings); dry run, nothing written", report.grids.len(), report.warnings.len());
        return Ok(());
    }
    let pb = spinner(&format!("写入 writing {} grids", report.grids.len()));
    let n = grids.import_grids(&Actor::system(), &report.grids).await?;
    pb.finish_and_clear();
    println!("{n} grids imported ({} warnings)", report.warnings.len());
    Ok(())
}

async fn export_grids(
    ports: &Ports,
    within: Option<&DivisionCode>,
    out: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let grids = ports.port::<dyn zhili_grid::GridStore>().as_ref();
    let store = grids;
    let total = store.count_grids(within).await?;
    let pb = ProgressBar::new(total.max(0) as u64);
    pb.set_style(
        ProgressStyle::with_template("导出 exporting {bar:40} {pos}/{len} [{elapsed}]").expect("valid template"),
    );
    let mut grids = Vec::with_capacity(total.max(0) as usize);
    loop {
        let page = store.grids(within, Page { offset: grids.len() as i64, limit: 1000 }).await?;
        if page.is_empty() {
            break;
        }
        grids.extend(page);
        pb.set_position(grids.len() as u64);
    }
    pb.finish_and_clear();
    let text = zhili_grid::validate::to_geojson(&grids);
    match out {
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(text.as_bytes()).context("cannot write to standard output")?;
        }
        Some(path) => {
            let tmp = path.with_extension("geojson.part");
            std::fs::write(&tmp, &text).with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", tmp.display()))?;
            eprintln!("{} grids exported to {}", grids.len(), path.display());
        }
    }
    Ok(())
}

async fn audit_verify(store: &dyn Store) -> anyhow::Result<()> {
    let total = store.audit_head().await?.map(|h| h.0).unwrap_or(0);
    let pb = ProgressBar::new(total.max(0) as u64);
    pb.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} rows [{elapsed}]").expect("valid template"));
    let r = verify_audit_chain(store, |n| pb.set_position(n as u64)).await;
    pb.finish_and_clear();
    let rows = r.map_err(|e| anyhow::anyhow!("audit chain BROKEN: {e}"))?;
    println!("audit chain intact: {rows} rows verified");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}

//! The warning runtime (预警运行): evaluates villages on every ingest, and is the one writer of
//! warnings in this process.
//!
//! One task owns the [`Engine`] and the active warnings. It takes, in order, what the ingest
//! paths stored ([`Ingested`], told through [`IngestListener`]), commands from the API (a
//! person's acknowledgement, the duty officer's public warning, upgrade or lift) and a
//! periodic tick. Each change goes through the pure lifecycle (`open`/`apply`) and is stored
//! with its effects and trail in one transaction ([`WarningStore`]); the effects are then
//! carried out from the store's outbox ([`super::effects`]), so a restart neither loses nor
//! repeats a message. At start the task loads the network, the indicators, the active
//! warnings and the last day of observations, so a re-evaluation after a restart finds the
//! warnings it raised before and raises nothing twice (the store also refuses a second
//! active warning for a village).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use zhili_core::codes::DivisionCode;
use zhili_core::store::{Page, StoreError};
use zhili_flood::evaluation::{Assessment, Engine, EngineConfig};
use zhili_flood::store::{FloodModelStore, ObservationStore};
use zhili_flood::vocab::{Element, Window};
use zhili_flood::warning::store::{WarningFilter, WarningStore};
use zhili_flood::warning::{self, Event, Policy, Warning, WarningError};

use super::ingest::{IngestListener, Ingested};
use crate::AppState;

/// How often due ticks (acknowledgement clocks, automatic public warning, lift) are checked.
const TICK: Duration = Duration::from_secs(5);
/// How much history the engine loads per station at start.
const HISTORY_HOURS: i64 = 72;

/// What the API asks the runtime to do to a warning.
#[derive(Debug)]
pub enum Command {
    /// Apply a person's event (ack, public warning, manual upgrade, lift) to warning `id`.
    Apply {
        /// The warning.
        id: i64,
        /// The event.
        event: Event,
        /// The answer: the warning as stored next, or why not.
        reply: oneshot::Sender<Result<Warning, ApplyError>>,
    },
    /// Raise a warning by judgement (人工研判) for a village that has none, or upgrade its own.
    Raise {
        /// What to raise (recipients are filled from the village when empty).
        raise: Box<warning::Raise>,
        /// The answer.
        reply: oneshot::Sender<Result<Warning, ApplyError>>,
    },
    /// Re-read the network and indicators (after an edit or an import).
    Reload,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The lifecycle refused the event.
    #[error(transparent)]
    Warning(#[from] WarningError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runtime is not running (the server was built without starting its modules).
    #[error("the flood warning runtime is not running")]
    NotRunning,
}

/// The runtime's clock: the system's, or one a test moves (acknowledgement times are minutes).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The flood warning runtime of this process: the way into its task and what the pages read.
#[derive(Default)]
pub struct Warnings {
    tx: OnceLock<mpsc::UnboundedSender<Message>>,
    clock: OnceLock<Arc<dyn Clock>>,
    /// The latest assessment of each village (the village page and the duty screen).
    assessments: RwLock<HashMap<DivisionCode, Assessment>>,
    /// The engine's rain per station over the standard windows as of its newest value.
    rain: RwLock<HashMap<zhili_flood::vocab::StationCode, StationRain>>,
}

/// A station's recent rain (the rainfall layer).
#[derive(Debug, Clone, serde::Serialize)]
pub struct StationRain {
    /// As of (the station's newest value).
    pub at: DateTime<Utc>,
    /// mm over 1 h, 3 h, 24 h.
    pub h1: f64,
    /// mm over 3 h.
    pub h3: f64,
    /// mm over 24 h.
    pub h24: f64,
}

enum Message {
    Ingested(Arc<Ingested>),
    Command(Command),
}

impl Warnings {
    /// Use this clock instead of the system's (before the runtime starts; once).
    pub fn set_clock(&self, clock: Arc<dyn Clock>) {
        let _ = self.clock.set(clock);
    }

    /// The runtime's now.
    pub fn now(&self) -> DateTime<Utc> {
        match self.clock.get() {
            Some(c) => c.now(),
            None => SystemClock.now(),
        }
    }

    /// Send a command; `NotRunning` if the task was never started.
    pub async fn command(
        &self,
        build: impl FnOnce(oneshot::Sender<Result<Warning, ApplyError>>) -> Command,
    ) -> Result<Warning, ApplyError> {
        let tx = self.tx.get().ok_or(ApplyError::NotRunning)?;
        let (reply, answer) = oneshot::channel();
        tx.send(Message::Command(build(reply))).map_err(|_| ApplyError::NotRunning)?;
        answer.await.map_err(|_| ApplyError::NotRunning)?
    }

    /// Ask for a reload of the network (no answer).
    pub fn reload(&self) {
        if let Some(tx) = self.tx.get() {
            let _ = tx.send(Message::Command(Command::Reload));
        }
    }

    /// The latest assessment of a village, if it was assessed.
    pub fn assessment(&self, village: &DivisionCode) -> Option<Assessment> {
        self.assessments.read().ok()?.get(village).cloned()
    }

    /// Every village's latest assessment.
    pub fn assessments(&self) -> Vec<Assessment> {
        let map = self.assessments.read().map(|m| m.values().cloned().collect::<Vec<_>>());
        let mut all = map.unwrap_or_default();
        all.sort_by(|a, b| a.village.cmp(&b.village));
        all
    }

    /// Every station's recent rain.
    pub fn station_rain(&self) -> HashMap<zhili_flood::vocab::StationCode, StationRain> {
        self.rain.read().map(|m| m.clone()).unwrap_or_default()
    }
}

impl IngestListener for Warnings {
    fn ingested(&self, batch: Arc<Ingested>) {
        if let Some(tx) = self.tx.get() {
            let _ = tx.send(Message::Ingested(batch));
        }
    }
}

/// Start the runtime's task (once per process; a second call does nothing).
pub fn start(state: &AppState) {
    let warnings = super::warnings(state);
    let (tx, rx) = mpsc::unbounded_channel();
    if warnings.tx.set(tx).is_err() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let mut worker = loop {
            match Worker::load(&state).await {
                Ok(w) => break w,
                Err(e) => {
                    tracing::error!(error = %e, "flood warning runtime cannot load the network; retrying in 10 s");
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
            }
        };
        worker.run(rx).await;
    });
}

/// The task's state.
struct Worker {
    state: AppState,
    engine: Engine,
    policy: Policy,
    /// Active (not lifted) warnings by village.
    active: HashMap<DivisionCode, Warning>,
    /// The place before each village's name in messages (`博山区池上镇`).
    places: HashMap<DivisionCode, String>,
}

impl Worker {
    fn now(&self) -> DateTime<Utc> {
        super::warnings(&self.state).now()
    }

    async fn load(state: &AppState) -> Result<Worker, StoreError> {
        let config = super::settings(state);
        let mut engine =
            Engine::new(config.engine.clone()).map_err(|e| StoreError::Other(format!("flood engine settings: {e}")))?;
        let model = state.port::<dyn FloodModelStore>();
        let all = Page { offset: 0, limit: i64::MAX };
        let villages = model.villages(None, all).await?;
        let indicators: HashMap<DivisionCode, _> =
            model.all_rain_indicators(None).await?.into_iter().map(|i| (i.village().clone(), i)).collect();
        let mut stations = std::collections::BTreeSet::new();
        for v in &villages {
            stations.extend(v.stations.iter().cloned());
            engine.set_village(v.clone(), indicators.get(&v.code).cloned());
        }
        for s in model.sections().await? {
            stations.insert(s.level_station.clone());
            engine.set_section(s);
        }
        // The places of the villages' names: county and township names.
        let divisions = state.store.all_divisions().await?;
        let names: HashMap<DivisionCode, String> = divisions.into_iter().map(|d| (d.code.clone(), d.name)).collect();
        let places = villages
            .iter()
            .map(|v| {
                let county = names.get(&zhili_platform::audience::county_of(&v.code)).cloned().unwrap_or_default();
                let township = zhili_platform::audience::township_of(&v.code)
                    .and_then(|t| names.get(&t).cloned())
                    .unwrap_or_default();
                (v.code.clone(), format!("{county}{township}"))
            })
            .collect();
        // The last days of every station the engine watches.
        let observations = state.port::<dyn ObservationStore>();
        let now = super::warnings(state).now();
        let from = now - chrono::Duration::hours(HISTORY_HOURS);
        let elements = [
            Element::RainIncrement { interval_minutes: 5 },
            Element::RainIncrement { interval_minutes: 10 },
            Element::RainIncrement { interval_minutes: 30 },
            Element::RainIncrement { interval_minutes: 60 },
            Element::RainCounter,
            Element::Level,
        ];
        for station in &stations {
            for element in elements {
                let values = observations.observations(station, element, from, now, 100_000).await?;
                engine.observe(&values);
            }
        }
        let store = state.port::<dyn WarningStore>();
        let active = store
            .warnings(
                &WarningFilter { active_only: true, ..WarningFilter::default() },
                Page { offset: 0, limit: 100_000 },
            )
            .await?
            .into_iter()
            .map(|w| (w.village.clone(), w))
            .collect();
        let mut worker = Worker { state: state.clone(), engine, policy: config.policy.clone(), active, places };
        worker.assess_all().await;
        Ok(worker)
    }

    async fn run(&mut self, mut rx: mpsc::UnboundedReceiver<Message>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut messages = Vec::new();
            tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => messages.push(m),
                    None => return,
                },
                _ = tick.tick() => self.tick().await,
            }
            // Everything already waiting joins: one assessment per village however many
            // frames came at once.
            while let Ok(m) = rx.try_recv() {
                messages.push(m);
            }
            let mut batches = Vec::new();
            let mut commands = Vec::new();
            for m in messages {
                match m {
                    Message::Ingested(b) => batches.push(b),
                    Message::Command(c) => commands.push(c),
                }
            }
            if !batches.is_empty() {
                self.ingested(&batches).await;
            }
            for c in commands {
                self.command(c).await;
            }
            // The outbox, but new values and commands first: a storm's messages never hold
            // up the next village's warning.
            self.run_effects(&|| !rx.is_empty()).await;
        }
    }

    /// Take stored values in and assess the villages they concern.
    async fn ingested(&mut self, batches: &[Arc<Ingested>]) {
        let mut villages = std::collections::BTreeSet::new();
        for b in batches {
            villages.extend(self.engine.observe(&b.observations).villages);
        }
        let now = self.now();
        let committed = batches.iter().map(|b| b.received_at).min();
        for village in villages {
            if self.assess(&village, now).await {
                if let Some(t) = committed {
                    // Wall-clock time from the ingest's commit to the warning stored.
                    let seconds = (Utc::now() - t).num_microseconds().unwrap_or(0) as f64 / 1e6;
                    super::ingest::runtime(&self.state).metrics.warning_seconds.observe(seconds.max(0.0));
                }
            }
        }
        let touched: std::collections::BTreeSet<_> =
            batches.iter().flat_map(|b| b.observations.iter().map(|o| o.station.clone())).collect();
        self.publish_rain(Some(&touched));
    }

    /// Assess every village (at start and after a reload).
    async fn assess_all(&mut self) {
        let now = self.now();
        let codes: Vec<DivisionCode> = self.engine.villages().map(|v| v.code.clone()).collect();
        for village in codes {
            self.assess(&village, now).await;
        }
        self.publish_rain(None);
    }

    /// The time a village is judged at: its stations' newest value, never later than now (a
    /// replayed storm is judged in its own time).
    fn judged_at(&self, village: &DivisionCode, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let v = self.engine.village(village)?;
        let newest = v.stations.iter().filter_map(|s| self.engine.station_newest(s)).max()?;
        Some(newest.min(now))
    }

    /// Assess a village and move its warning; true when a warning was raised or upgraded.
    async fn assess(&mut self, village: &DivisionCode, now: DateTime<Utc>) -> bool {
        let Some(at) = self.judged_at(village, now) else { return false };
        let Some(assessment) = self.engine.assess(village, at) else { return false };
        let warnings = super::warnings(&self.state);
        if let Ok(mut map) = warnings.assessments.write() {
            map.insert(village.clone(), assessment.clone());
        }
        let active = self.active.get(village).cloned();
        let place = self.places.get(village).cloned().unwrap_or_default();
        let result = match (&active, self.engine.raise(&assessment, &place)) {
            (None, Some(raise)) => self.open(raise, now).await.map(|_| true),
            (Some(w), Some(raise))
                if raise.grade.scheme() == w.grade.scheme() && raise.grade.rank() > w.grade.rank() =>
            {
                self.apply(w.id, Event::Raise(raise), now).await.map(|_| true)
            }
            (Some(w), Some(_)) if w.quiet_since.is_some() => {
                // Rain again after a quiet spell: the quiet clock starts anew when it calms.
                let mut w = w.clone();
                w.quiet_since = None;
                self.active.insert(village.clone(), w);
                Ok(false)
            }
            (Some(w), None) if w.quiet_since.is_none() => {
                self.apply(w.id, Event::Calm { since: at.min(now) }, now).await.map(|_| false)
            }
            _ => Ok(false),
        };
        result.unwrap_or_else(|e| {
            tracing::error!(village = %village, error = %e, "flood warning not stored");
            false
        })
    }

    /// The recent rain of the stations given (all the villages' stations when `None`), for the
    /// lists and the map: only what an ingest touched is computed again.
    fn publish_rain(&self, touched: Option<&std::collections::BTreeSet<zhili_flood::vocab::StationCode>>) {
        let windows = [Window::H1, Window::H3, Window::H24];
        let stations: Vec<_> = match touched {
            Some(t) => t.iter().cloned().collect(),
            None => {
                let all: std::collections::BTreeSet<_> =
                    self.engine.villages().flat_map(|v| v.stations.iter().cloned()).collect();
                all.into_iter().collect()
            }
        };
        let mut out = Vec::with_capacity(stations.len());
        for s in stations {
            let Some(at) = self.engine.station_newest(&s) else { continue };
            if let Some(r) = self.engine.station_rain(&s, &windows, at) {
                out.push((s, StationRain { at, h1: r[0].1, h3: r[1].1, h24: r[2].1 }));
            }
        }
        if let Ok(mut map) = super::warnings(&self.state).rain.write() {
            if touched.is_none() {
                map.clear();
            }
            map.extend(out);
        }
    }

    /// Open a new warning and store it with its effects.
    async fn open(&mut self, raise: warning::Raise, now: DateTime<Utc>) -> Result<Warning, ApplyError> {
        let store = self.state.port::<dyn WarningStore>();
        let (w, effects, trail) = warning::open(0, &raise, &self.policy, now)?;
        let id = match store.create_warning(&w, &effects, &trail).await {
            Ok(id) => id,
            Err(StoreError::Conflict { .. }) => {
                // Another process (or an earlier run) holds the village's warning: adopt it.
                if let Some(stored) = store.active_warning(&raise.village).await? {
                    self.active.insert(raise.village.clone(), stored.clone());
                    return Ok(stored);
                }
                return Err(StoreError::Conflict { field: "village" }.into());
            }
            Err(e) => return Err(e.into()),
        };
        let w = Warning { id, ..w };
        super::ingest::runtime(&self.state).metrics.warning_event("raise");
        self.active.insert(w.village.clone(), w.clone());
        Ok(w)
    }

    /// Apply an event to a warning and store the result with its effects and trail.
    async fn apply(&mut self, id: i64, event: Event, now: DateTime<Utc>) -> Result<Warning, ApplyError> {
        let store = self.state.port::<dyn WarningStore>();
        let current = match self.active.values().find(|w| w.id == id) {
            Some(w) => w.clone(),
            None => store.warning(id).await?,
        };
        let kind = event.kind();
        let (next, effects, trail) = warning::apply(&current, event, now)?;
        if next == current && effects.is_empty() && trail.is_empty() {
            return Ok(next);
        }
        match store.save_warning(&next, &effects, &trail).await {
            Ok(()) => {}
            Err(e @ (StoreError::Conflict { .. } | StoreError::Stale { .. })) => {
                // Another process moved it: take the stored state; the caller may try again.
                if let Ok(fresh) = store.warning(id).await {
                    self.keep(fresh);
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }
        super::ingest::runtime(&self.state).metrics.warning_event(kind.as_str());
        Ok(self.keep(next))
    }

    fn keep(&mut self, w: Warning) -> Warning {
        if w.is_lifted() {
            self.active.remove(&w.village);
        } else {
            self.active.insert(w.village.clone(), w.clone());
        }
        w
    }

    async fn command(&mut self, c: Command) {
        let now = self.now();
        match c {
            Command::Apply { id, event, reply } => {
                let _ = reply.send(self.apply(id, event, now).await);
            }
            Command::Raise { raise, reply } => {
                let mut raise = *raise;
                if raise.recipients.is_empty() {
                    if let Some(v) = self.engine.village(&raise.village) {
                        raise.recipients = zhili_flood::evaluation::recipients(v);
                        raise.public_channels = zhili_flood::evaluation::public_channels(v);
                        let place = self.places.get(&v.code).cloned().unwrap_or_default();
                        raise.village_name = format!("{place}{}", v.name);
                    }
                }
                let answer = match self.active.get(&raise.village).cloned() {
                    Some(w) => self.apply(w.id, Event::Raise(raise), now).await,
                    None => self.open(raise, now).await,
                };
                let _ = reply.send(answer);
            }
            Command::Reload => match Worker::load(&self.state).await {
                Ok(w) => *self = w,
                Err(e) => tracing::error!(error = %e, "flood network reload failed; keeping the loaded one"),
            },
        }
    }

    /// Due ticks: acknowledgement clocks, automatic public warnings and lifts.
    async fn tick(&mut self) {
        let now = self.now();
        let store = self.state.port::<dyn WarningStore>();
        let due = match store.due_ticks(now, 1000).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "flood warning ticks unreadable");
                return;
            }
        };
        for id in due {
            if let Err(e) = self.apply(id, Event::Tick, now).await {
                tracing::error!(warning = id, error = %e, "flood warning tick failed");
            }
        }
    }

    /// Carry out the outbox: each effect once, its result (a delivery) applied back. Returns
    /// after an effect when `waiting` says messages have come (the loop comes back at once).
    async fn run_effects(&mut self, waiting: &(dyn Fn() -> bool + Sync)) {
        let state = self.state.clone();
        let store = state.port::<dyn WarningStore>();
        loop {
            let pending = match store.pending_effects(200).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "flood effects unreadable");
                    return;
                }
            };
            if pending.is_empty() {
                return;
            }
            for effect in pending {
                let warning = match self.active.values().find(|w| w.id == effect.warning) {
                    Some(w) => w.clone(),
                    None => match store.warning(effect.warning).await {
                        Ok(w) => w,
                        Err(e) => {
                            tracing::error!(warning = effect.warning, error = %e, "flood effect's warning unreadable");
                            return;
                        }
                    },
                };
                let village = self.engine.village(&warning.village).cloned();
                let follow_up = super::effects::execute(&self.state, &warning, village.as_ref(), &effect).await;
                match follow_up {
                    Ok(Some(event)) => {
                        if let Err(e) = self.apply(effect.warning, event, self.now()).await {
                            tracing::error!(warning = effect.warning, error = %e, "flood delivery result not stored");
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        // Not done: tried again on the next pass.
                        super::ingest::runtime(&state).metrics.warning_effect("retry");
                        tracing::warn!(warning = effect.warning, effect = effect.id, error = %e, "flood effect failed; retrying");
                        return;
                    }
                }
                if let Err(e) = store.mark_effect_done(effect.id).await {
                    tracing::error!(effect = effect.id, error = %e, "flood effect not marked done");
                    return;
                }
                if waiting() {
                    return;
                }
            }
        }
    }
}

/// Settings of the flood warning runtime (`[flood]` in the configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct WarningSettings {
    /// The evaluation engine's settings.
    pub engine: EngineConfig,
    /// The warning policy copied into each new warning.
    pub policy: Policy,
    /// The case class a warning's follow-up case opens under.
    pub case_class: String,
    /// CAP `sender` (e.g. `boshan-fxb@zhili`).
    pub cap_sender: String,
    /// CAP `senderName` (博山区防汛抗旱指挥部).
    pub cap_sender_name: String,
    /// GB/T 4657 code of the issuing agency (3 digits) in CAP identifiers.
    pub cap_agency: String,
    /// The public base URL CAP documents link to (`https://zhili.example.gov.cn`).
    pub public_url: String,
}

impl Default for WarningSettings {
    fn default() -> Self {
        WarningSettings {
            engine: EngineConfig::default(),
            policy: Policy::default(),
            case_class: "SJ0499".into(),
            cap_sender: "zhili-flood@localhost".into(),
            cap_sender_name: "防汛抗旱指挥部".into(),
            cap_agency: "000".into(),
            public_url: String::new(),
        }
    }
}

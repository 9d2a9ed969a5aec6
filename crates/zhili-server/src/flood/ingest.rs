//! The flood ingest's per-process machinery (数据入库): the group-commit writer every path
//! (SL 651 over TCP, MQTT) hands its frames and values to, the direct ingest of an HTTP batch,
//! the coalesced liveness of keep-alives, and the listeners told of what each ingest stored
//! (the warning engine).
//!
//! **Group commit.** A connection's frame becomes a job on a bounded channel; one writer
//! task takes whatever jobs have gathered while the previous commit ran (up to
//! [`MAX_BATCH_FRAMES`] frames) and stores them in ONE `ObservationStore::ingest` — one
//! transaction, one fsync for many stations — then answers each job with its own frames'
//! outcomes, so each connection confirms only its frames and only after they are on disk. A
//! failed batch is retried job by job, so one bad job cannot sink the others.
//!
//! **What listeners get.** After every successful ingest, each [`IngestListener`] is called
//! once with the values that were new or corrected: a frame the store found a duplicate (a
//! resend) contributes none. Values without a frame (HTTP, MQTT) are passed on unless the store
//! counted every value of the ingest a duplicate; a batch mixing new and repeated values passes
//! all of them (the store counts, it does not say which), which the rainfall engine takes
//! without harm since it keeps raw values by element and time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, Notify, OnceCell};
use zhili_core::store::{StoreError, StoreResult};
use zhili_flood::store::{FrameOutcome, InsertCounts, Observation, ObservationStore, Quality, RawFrame};
use zhili_flood::vocab::StationCode;

use crate::flood::metrics::FloodMetrics;
use crate::AppState;

/// Most frames one group commit stores.
pub const MAX_BATCH_FRAMES: usize = 2000;
/// Jobs waiting for the writer before senders wait (backpressure to the connections).
const QUEUE: usize = 8192;
/// How long keep-alives are gathered before their liveness is written.
const LIVENESS_EVERY: Duration = Duration::from_millis(200);

/// What one durable ingest stored, told to whoever listens (the warning engine).
pub struct Ingested {
    /// The new or corrected values (not those of duplicate frames).
    pub observations: Vec<Observation>,
    /// When the ingest committed.
    pub received_at: DateTime<Utc>,
    /// Frames archived or found duplicate in the ingest.
    pub frames: usize,
}

/// Told after every successful ingest from any path; must not block (push into a channel).
pub trait IngestListener: Send + Sync {
    /// One ingest's new values.
    fn ingested(&self, batch: Arc<Ingested>);
}

/// Frames and values of one connection's frame (or one MQTT message) for the writer.
struct Job {
    frames: Vec<RawFrame>,
    observations: Vec<Observation>,
    reply: oneshot::Sender<StoreResult<Vec<FrameOutcome>>>,
}

/// The flood module's per-process machinery, found like a port ([`runtime`]).
#[derive(Default)]
pub struct FloodRuntime {
    /// The `zhili_flood_*` metrics.
    pub metrics: FloodMetrics,
    listeners: RwLock<Vec<Arc<dyn IngestListener>>>,
    writer: OnceCell<mpsc::Sender<Job>>,
    liveness: Mutex<HashMap<StationCode, DateTime<Utc>>>,
    liveness_wake: Notify,
    liveness_task: OnceLock<()>,
    sl651_local: OnceLock<SocketAddr>,
}

/// The flood module's machinery of this state.
pub fn runtime(state: &AppState) -> &FloodRuntime {
    state.port::<FloodRuntime>()
}

fn shared(state: &AppState) -> Arc<FloodRuntime> {
    state.ports.port::<FloodRuntime>().clone()
}

fn store(state: &AppState) -> Arc<dyn ObservationStore> {
    state.ports.port::<dyn ObservationStore>().clone()
}

impl FloodRuntime {
    /// Tell `listener` of every ingest from now on.
    pub fn add_listener(&self, listener: Arc<dyn IngestListener>) {
        self.listeners.write().expect("not poisoned").push(listener);
    }

    /// The address the SL 651 listener is bound to, once it is.
    pub fn sl651_address(&self) -> Option<SocketAddr> {
        self.sl651_local.get().copied()
    }

    pub(crate) fn set_sl651_address(&self, addr: SocketAddr) {
        let _ = self.sl651_local.set(addr);
    }

    fn tell(&self, observations: Vec<Observation>, frames: usize) {
        self.metrics.values("suspect", observations.iter().filter(|o| o.quality == Quality::Suspect).count() as u64);
        if observations.is_empty() {
            return;
        }
        let batch = Arc::new(Ingested { observations, received_at: Utc::now(), frames });
        for l in self.listeners.read().expect("not poisoned").iter() {
            l.ingested(batch.clone());
        }
    }

    fn count(&self, counts: &InsertCounts) {
        self.metrics.values("stored", counts.inserted);
        self.metrics.values("duplicate", counts.duplicates);
        self.metrics.values("corrected", counts.corrected);
    }
}

/// Store frames and their values through the group-commit writer; answers once they are on
/// disk (or the store refused them), with one outcome per frame.
pub async fn submit(
    state: &AppState,
    frames: Vec<RawFrame>,
    observations: Vec<Observation>,
) -> StoreResult<Vec<FrameOutcome>> {
    let rt = shared(state);
    let tx = rt
        .writer
        .get_or_init(|| async {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(writer(store(state), rt.clone(), rx));
            tx
        })
        .await;
    let (reply, answer) = oneshot::channel();
    let gone = || StoreError::Unavailable("the flood ingest writer stopped".into());
    tx.send(Job { frames, observations, reply }).await.map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}

/// Store one batch of values without frames at once, in its own transaction (an HTTP request:
/// its counts are its own), and tell the listeners.
pub async fn ingest_now(state: &AppState, observations: Vec<Observation>) -> StoreResult<InsertCounts> {
    let rt = runtime(state);
    let started = Instant::now();
    let outcome = store(state).ingest(&[], &observations).await?;
    rt.metrics.batch_seconds.observe(started.elapsed().as_secs_f64());
    let counts = outcome.observations;
    rt.count(&counts);
    if counts.inserted + counts.corrected > 0 {
        rt.tell(observations, 0);
    }
    Ok(counts)
}

/// A keep-alive from `station` at `at`: its liveness is written shortly, coalesced with the
/// other stations' (a keep-alive needs no confirm, so it waits for no commit).
pub fn alive(state: &AppState, station: StationCode, at: DateTime<Utc>) {
    let rt = shared(state);
    {
        let mut pending = rt.liveness.lock().expect("not poisoned");
        let e = pending.entry(station).or_insert(at);
        *e = (*e).max(at);
    }
    if rt.liveness_task.set(()).is_ok() {
        tokio::spawn(liveness(store(state), rt.clone()));
    }
    rt.liveness_wake.notify_one();
}

async fn liveness(store: Arc<dyn ObservationStore>, rt: Arc<FloodRuntime>) {
    loop {
        rt.liveness_wake.notified().await;
        tokio::time::sleep(LIVENESS_EVERY).await;
        let pending = std::mem::take(&mut *rt.liveness.lock().expect("not poisoned"));
        for (station, at) in pending {
            if let Err(e) = store.station_liveness(&station, at).await {
                tracing::warn!(station = %station, error = %e, "station liveness not stored");
            }
        }
    }
}

/// The writer: whatever jobs gathered, in one ingest.
async fn writer(store: Arc<dyn ObservationStore>, rt: Arc<FloodRuntime>, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut frames = first.frames.len().max(1);
        let mut batch = vec![first];
        while frames < MAX_BATCH_FRAMES {
            match rx.try_recv() {
                Ok(j) => {
                    frames += j.frames.len().max(1);
                    batch.push(j);
                }
                Err(_) => break,
            }
        }
        if let Err(batch) = commit(&*store, &rt, batch).await {
            // One by one, so that one job the store refuses cannot sink the others.
            // (A single job is always answered, so nothing comes back.)
            for job in batch {
                let _ = commit(&*store, &rt, vec![job]).await;
            }
        }
    }
}

/// Store the jobs in one ingest and answer each. On failure, a single job is answered with the
/// error; several are given back to be tried one by one.
async fn commit(store: &dyn ObservationStore, rt: &FloodRuntime, batch: Vec<Job>) -> Result<(), Vec<Job>> {
    let mut frames = Vec::new();
    let mut observations = Vec::new();
    for job in &batch {
        let base = frames.len();
        frames.extend(job.frames.iter().cloned());
        observations.extend(job.observations.iter().cloned().map(|mut o| {
            o.frame = o.frame.map(|i| i + base);
            o
        }));
    }
    let started = Instant::now();
    let result = store.ingest(&frames, &observations).await;
    rt.metrics.batch_seconds.observe(started.elapsed().as_secs_f64());
    let outcome = match result {
        Ok(o) => o,
        Err(e) if batch.len() == 1 => {
            let job = batch.into_iter().next().expect("one job");
            let _ = job.reply.send(Err(e));
            return Ok(());
        }
        Err(e) => {
            tracing::warn!(error = %e, jobs = batch.len(), "flood ingest batch failed; storing its jobs one by one");
            return Err(batch);
        }
    };
    rt.metrics.batch_frames.observe(frames.len() as f64);
    rt.count(&outcome.observations);
    let anything_new = outcome.observations.inserted + outcome.observations.corrected > 0;
    let mut new = Vec::new();
    let mut replies = Vec::with_capacity(batch.len());
    let mut at = 0;
    for job in batch {
        let mine = outcome.frames.get(at..at + job.frames.len()).map(<[FrameOutcome]>::to_vec).unwrap_or_default();
        at += job.frames.len();
        new.extend(job.observations.into_iter().filter(|o| match o.frame {
            Some(i) => mine.get(i).is_some_and(|f| !f.duplicate),
            None => anything_new,
        }));
        replies.push((job.reply, mine));
    }
    // The listeners first: whoever is confirmed may rely on the engine having been told.
    rt.tell(new, frames.len());
    for (reply, mine) in replies {
        let _ = reply.send(Ok(mine));
    }
    Ok(())
}

//! Telemetry on SQLite (遥测入库): the frame archive, observed values and liveness.
//!
//! One [`ObservationStore::ingest`] is one `BEGIN IMMEDIATE` transaction, committed with
//! `synchronous=FULL` before it returns: station codes resolved to their small integer ids in
//! one lookup, frames archived in multi-row `INSERT … ON CONFLICT DO NOTHING` (a resend finds
//! the id stored first), values sorted by key and written in multi-row statements of up to
//! [`CHUNK`] rows into the integer-keyed `WITHOUT ROWID` table — `DO NOTHING` inserts counted
//! by their changes, upserts sending back a revision per row only where a key was stored
//! already or is given twice (see [`put_values`]) — and liveness moved once per station.
//! Values are not audited row by row (their volume would swamp the chain; the frame archive
//! is their trail).

use std::collections::HashMap;
use zhili_store_sql::flood::encoding_name;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use zhili_core::store::{StoreError, StoreResult};
use zhili_flood::store::{
    element_code, element_from_code, FrameEncoding, FrameOutcome, IngestOutcome, InsertCounts, LastSeen, Observation,
    ObservationStore, Quality, RawFrame,
};
use zhili_flood::vocab::{Element, StationCode};

use super::{json_list, station_ids};
use crate::{err, from_micros, micros, SqliteStore};

/// Most value rows per statement (7 binds each, far below SQLite's 32,766). Statements are
/// powers of two rows, so the writer's statement cache holds few shapes and reuses them.
const CHUNK: usize = 1024;
/// Most frame rows per statement (9 binds each).
const FRAME_CHUNK: usize = 64;

/// Split `n` rows into chunks of at most `max` rows, each a power of two.
fn chunks(mut n: usize, max: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let k = if n >= max { max } else { 1 << n.checked_ilog2()? };
        n -= k;
        Some(k)
    })
}

/// One value row: its index in the call, station id, element code, time, value, quality, frame id.
struct ValueRow {
    index: usize,
    station: i64,
    element: i32,
    at: i64,
    value: f64,
    quality: i16,
    frame: Option<i64>,
}

/// The dedup key of a frame with its station resolved.
type FrameKey = (i64, i64, i64, i64);

/// Archive the distinct frames of the call; the outcome of each, in order.
async fn archive(
    tx: &mut SqliteConnection,
    frames: &[RawFrame],
    ids: &HashMap<String, i64>,
) -> StoreResult<Vec<FrameOutcome>> {
    let key = |f: &RawFrame| -> FrameKey {
        (ids[f.station.as_str()], i64::from(f.function), i64::from(f.serial), micros(f.observed_at))
    };
    // The first frame of each key in the call is the one written.
    let mut first: HashMap<FrameKey, usize> = HashMap::new();
    let mut fresh: Vec<(usize, FrameKey)> = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let k = key(f);
        if let std::collections::hash_map::Entry::Vacant(e) = first.entry(k) {
            e.insert(i);
            fresh.push((i, k));
        }
    }
    let mut stored: HashMap<FrameKey, (i64, bool)> = HashMap::new();
    let mut rest = fresh.as_slice();
    for n in chunks(fresh.len(), FRAME_CHUNK) {
        let (part, more) = rest.split_at(n);
        rest = more;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO flood_frames (station_id, function, serial, observed_at, received_at, peer, encoding, bytes) ",
        );
        q.push_values(part, |mut b, &(i, k)| {
            let f = &frames[i];
            b.push_bind(k.0)
                .push_bind(k.1)
                .push_bind(k.2)
                .push_bind(k.3)
                .push_bind(micros(f.received_at))
                .push_bind(f.peer.as_str())
                .push_bind(encoding_name(f.encoding))
                .push_bind(f.bytes.as_slice());
        });
        q.push(
            " ON CONFLICT (station_id, function, serial, observed_at) DO NOTHING
             RETURNING id, station_id, function, serial, observed_at",
        );
        let rows: Vec<(i64, i64, i64, i64, i64)> = q.build_query_as().fetch_all(&mut *tx).await.map_err(err)?;
        for (id, s, f, n, at) in rows {
            stored.insert((s, f, n, at), (id, false));
        }
    }
    // Keys stored before this call: resends.
    for &(_, k) in &fresh {
        if stored.contains_key(&k) {
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "SELECT id FROM flood_frames WHERE station_id = ? AND function = ? AND serial = ? AND observed_at = ?",
        )
        .bind(k.0)
        .bind(k.1)
        .bind(k.2)
        .bind(k.3)
        .fetch_one(&mut *tx)
        .await
        .map_err(err)?;
        stored.insert(k, (id, true));
    }
    Ok(frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let k = key(f);
            let (id, before) = stored[&k];
            FrameOutcome { id, duplicate: before || first[&k] != i }
        })
        .collect())
}

/// The error for a value the database refused: which one, if it is a value that is not a
/// finite number (what `flood_observations_value_finite` and `NOT NULL` refuse).
fn value_err(e: sqlx::Error, part: &[ValueRow]) -> StoreError {
    let refused = matches!(&e, sqlx::Error::Database(d)
        if d.message().contains("flood_observations_value_finite") || d.message().contains("flood_observations.value"));
    match part.iter().filter(|r| !r.value.is_finite()).min_by_key(|r| r.index) {
        Some(r) if refused => StoreError::Other(format!(
            "observations[{}].value = {}: the store keeps only finite numbers",
            r.index, r.value
        )),
        _ => err(e),
    }
}

/// One multi-row statement over `part`, its `VALUES` list bound, followed by `tail`.
fn values_statement<'a>(part: &'a [ValueRow], tail: &str) -> QueryBuilder<'a, Sqlite> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO flood_observations (station_id, element, observed_at, value, quality, frame_id) ",
    );
    q.push_values(part, |mut b, r| {
        b.push_bind(r.station)
            .push_bind(r.element)
            .push_bind(r.at)
            .push_bind(r.value)
            .push_bind(r.quality)
            .push_bind(r.frame);
    });
    q.push(tail);
    q
}

/// Upsert the value rows one after another (a repeated key sees the row before it); the counts.
async fn upsert_values(tx: &mut SqliteConnection, rows: &[ValueRow]) -> StoreResult<InsertCounts> {
    let mut counts = InsertCounts::default();
    let mut rest = rows;
    for n in chunks(rows.len(), CHUNK) {
        let (part, more) = rest.split_at(n);
        rest = more;
        let (inserted, corrected) = upsert_chunk(tx, part).await?;
        counts.inserted += inserted;
        counts.corrected += corrected;
        counts.duplicates += part.len() as u64 - inserted - corrected;
    }
    Ok(counts)
}

/// Upsert one chunk, a value changed only if its value or quality differs; (inserted, written
/// again) from the revisions sent back, `revision` 0 being a row inserted. Values repeated
/// within the statement are upserted in order, so the counts are those of one after another.
async fn upsert_chunk(tx: &mut SqliteConnection, part: &[ValueRow]) -> StoreResult<(u64, u64)> {
    let mut q = values_statement(
        part,
        " ON CONFLICT (station_id, element, observed_at) DO UPDATE SET value = excluded.value,
             quality = excluded.quality, frame_id = excluded.frame_id,
             revision = flood_observations.revision + 1
         WHERE flood_observations.value IS NOT excluded.value OR flood_observations.quality IS NOT excluded.quality
         RETURNING revision",
    );
    let revisions: Vec<i64> = q.build_query_scalar().fetch_all(&mut *tx).await.map_err(|e| value_err(e, part))?;
    let inserted = revisions.iter().filter(|r| **r == 0).count() as u64;
    Ok((inserted, revisions.len() as u64 - inserted))
}

/// Store the value rows; the counts, as if stored one after another in the order given.
///
/// Rows are sorted by key first (stably: a key given twice keeps its order, and rows of
/// different keys do not interact), so each statement writes neighbouring B-tree pages. When no
/// key is given twice, each chunk is first inserted with `DO NOTHING`, which sends no row back:
/// its count of changes is the rows inserted. Only a chunk where some key was stored already is
/// upserted again, where the rows just inserted find themselves (the same value: unchanged) and
/// each row sent back is a correction. A key given twice takes the upsert, row after row.
async fn put_values(tx: &mut SqliteConnection, mut rows: Vec<ValueRow>) -> StoreResult<InsertCounts> {
    let key = |r: &ValueRow| (r.station, r.element, r.at);
    rows.sort_by_key(key);
    if rows.windows(2).any(|w| key(&w[0]) == key(&w[1])) {
        return upsert_values(tx, &rows).await;
    }
    let mut counts = InsertCounts::default();
    let mut rest = rows.as_slice();
    for n in chunks(rows.len(), CHUNK) {
        let (part, more) = rest.split_at(n);
        rest = more;
        let mut q = values_statement(part, " ON CONFLICT (station_id, element, observed_at) DO NOTHING");
        let inserted = q.build().execute(&mut *tx).await.map_err(|e| value_err(e, part))?.rows_affected();
        // (inserted by the upsert, which finds every key stored: none; corrected)
        let (again, corrected) = if inserted < n as u64 { upsert_chunk(tx, part).await? } else { (0, 0) };
        counts.inserted += inserted + again;
        counts.corrected += corrected;
        counts.duplicates += n as u64 - inserted - again - corrected;
    }
    Ok(counts)
}

fn observation(station: &StationCode, element: Element, at: i64, value: f64, quality: i16) -> StoreResult<Observation> {
    Ok(Observation {
        station: station.clone(),
        element,
        observed_at: from_micros(at)?,
        value,
        quality: Quality::from_code(quality)
            .ok_or_else(|| StoreError::Other(format!("bad stored observation quality {quality}")))?,
        frame: None,
    })
}

#[async_trait]
impl ObservationStore for SqliteStore {
    async fn ingest(&self, frames: &[RawFrame], observations: &[Observation]) -> StoreResult<IngestOutcome> {
        if observations.iter().any(|o| o.frame.is_some_and(|i| i >= frames.len())) {
            return Err(StoreError::MissingReference { field: "frame" });
        }
        if frames.is_empty() && observations.is_empty() {
            return Ok(IngestOutcome::default());
        }
        let mut tx = self.begin().await?;
        let mut codes: Vec<&str> =
            frames.iter().map(|f| f.station.as_str()).chain(observations.iter().map(|o| o.station.as_str())).collect();
        codes.sort_unstable();
        codes.dedup();
        let ids = station_ids(&mut tx, codes.iter().copied()).await?;
        if ids.len() < codes.len() {
            return Err(StoreError::MissingReference { field: "station" });
        }
        let outcomes = archive(&mut tx, frames, &ids).await?;
        let rows: Vec<ValueRow> = observations
            .iter()
            .enumerate()
            .map(|(index, o)| ValueRow {
                index,
                station: ids[o.station.as_str()],
                element: element_code(o.element),
                at: micros(o.observed_at),
                value: o.value,
                quality: o.quality.code(),
                frame: o.frame.map(|i| outcomes[i].id),
            })
            .collect();
        let counts = put_values(&mut tx, rows).await?;
        // Liveness: each station's latest received frame.
        let mut latest: HashMap<i64, DateTime<Utc>> = HashMap::new();
        for f in frames {
            let e = latest.entry(ids[f.station.as_str()]).or_insert(f.received_at);
            *e = (*e).max(f.received_at);
        }
        let latest: Vec<(i64, i64)> = latest.into_iter().map(|(s, t)| (s, micros(t))).collect();
        for part in latest.chunks(256) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO flood_liveness (station_id, report_at) ");
            q.push_values(part, |mut b, (s, t)| {
                b.push_bind(*s).push_bind(*t);
            });
            q.push(
                " ON CONFLICT (station_id) DO UPDATE SET
                     report_at = max(coalesce(report_at, excluded.report_at), excluded.report_at)",
            );
            q.build().execute(&mut *tx).await.map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(IngestOutcome { frames: outcomes, observations: counts })
    }

    async fn observations(
        &self,
        station: &StationCode,
        element: Element,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<Observation>> {
        let rows: Vec<(i64, f64, i16)> = sqlx::query_as(
            "SELECT observed_at, value, quality FROM flood_observations
             WHERE station_id = (SELECT id FROM flood_stations WHERE code = ?) AND element = ?
                 AND observed_at > ? AND observed_at <= ?
             ORDER BY observed_at LIMIT ?",
        )
        .bind(station.as_str())
        .bind(element_code(element))
        .bind(micros(from))
        .bind(micros(to))
        .bind(limit.max(0))
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        rows.into_iter().map(|(at, v, q)| observation(station, element, at, v, q)).collect()
    }

    async fn latest(&self, station: &StationCode) -> StoreResult<Vec<Observation>> {
        // The station's elements one index seek after another (a skip scan), then the last
        // value of each: no walk over the station's history.
        let rows = sqlx::query(
            "WITH RECURSIVE s(id) AS (SELECT id FROM flood_stations WHERE code = ?),
             e(element) AS (
                 SELECT (SELECT min(element) FROM flood_observations WHERE station_id = s.id) FROM s
                 UNION ALL
                 SELECT (SELECT min(element) FROM flood_observations WHERE station_id = s.id AND element > e.element)
                 FROM e, s WHERE e.element IS NOT NULL
             )
             SELECT o.element, o.observed_at, o.value, o.quality FROM e, s
             CROSS JOIN flood_observations AS o ON o.station_id = s.id AND o.element = e.element
                 AND o.observed_at = (SELECT max(observed_at) FROM flood_observations
                                      WHERE station_id = s.id AND element = e.element)
             ORDER BY o.element",
        )
        .bind(station.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        rows.iter()
            .map(|r| {
                let code: i32 = r.try_get("element").map_err(err)?;
                let element = element_from_code(code)
                    .ok_or_else(|| StoreError::Other(format!("bad stored element code {code}")))?;
                observation(
                    station,
                    element,
                    r.try_get("observed_at").map_err(err)?,
                    r.try_get("value").map_err(err)?,
                    r.try_get("quality").map_err(err)?,
                )
            })
            .collect()
    }

    async fn frames(
        &self,
        station: &StationCode,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(i64, RawFrame)>> {
        let rows = sqlx::query(
            "SELECT id, function, serial, observed_at, received_at, peer, encoding, bytes FROM flood_frames
             WHERE station_id = (SELECT id FROM flood_stations WHERE code = ?)
                 AND received_at > ? AND received_at <= ?
             ORDER BY received_at DESC, id DESC LIMIT ?",
        )
        .bind(station.as_str())
        .bind(micros(from))
        .bind(micros(to))
        .bind(limit.max(0))
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        rows.iter()
            .map(|r| {
                let function: i64 = r.try_get("function").map_err(err)?;
                let serial: i64 = r.try_get("serial").map_err(err)?;
                let encoding: String = r.try_get("encoding").map_err(err)?;
                let frame = RawFrame {
                    station: station.clone(),
                    received_at: from_micros(r.try_get("received_at").map_err(err)?)?,
                    peer: r.try_get("peer").map_err(err)?,
                    function: u8::try_from(function)
                        .map_err(|_| StoreError::Other(format!("bad stored frame function {function}")))?,
                    serial: u16::try_from(serial)
                        .map_err(|_| StoreError::Other(format!("bad stored frame serial {serial}")))?,
                    observed_at: from_micros(r.try_get("observed_at").map_err(err)?)?,
                    bytes: r.try_get("bytes").map_err(err)?,
                    encoding: match encoding.as_str() {
                        "hex" => FrameEncoding::Hex,
                        "ascii" => FrameEncoding::Ascii,
                        _ => return Err(StoreError::Other(format!("bad stored frame encoding {encoding:?}"))),
                    },
                };
                Ok((r.try_get("id").map_err(err)?, frame))
            })
            .collect()
    }

    async fn station_liveness(&self, station: &StationCode, at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "INSERT INTO flood_liveness (station_id, keepalive_at) SELECT id, ? FROM flood_stations WHERE code = ?
             ON CONFLICT (station_id) DO UPDATE SET
                 keepalive_at = max(coalesce(keepalive_at, excluded.keepalive_at), excluded.keepalive_at)",
        )
        .bind(micros(at))
        .bind(station.as_str())
        .execute(&mut *tx)
        .await
        .map_err(err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(err)
    }

    async fn last_seen(&self, stations: &[StationCode]) -> StoreResult<Vec<LastSeen>> {
        let rows: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT s.code, l.keepalive_at, l.report_at FROM json_each(?) AS k
             CROSS JOIN flood_stations AS s ON s.code = k.value
             CROSS JOIN flood_liveness AS l ON l.station_id = s.id",
        )
        .bind(json_list(stations.iter().map(StationCode::as_str)))
        .fetch_all(&self.read)
        .await
        .map_err(err)?;
        let mut by_code: HashMap<String, LastSeen> = HashMap::new();
        for (code, keepalive, report) in rows {
            let seen = LastSeen {
                keepalive: keepalive.map(from_micros).transpose()?,
                report: report.map(from_micros).transpose()?,
            };
            by_code.insert(code, seen);
        }
        Ok(stations.iter().map(|s| by_code.get(s.as_str()).copied().unwrap_or_default()).collect())
    }
}

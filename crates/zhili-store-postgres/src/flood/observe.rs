//! Telemetry on PostgreSQL (遥测入库): the frame archive, observed values and liveness.
//!
//! One [`ObservationStore::ingest`] is one transaction, committed (`synchronous_commit` as the
//! server has it, `on` by default) before it returns, in a handful of statements whatever its
//! size: station codes resolved to their integer ids with `= ANY($1)`, frames archived with
//! `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` (a resend finds the id stored
//! first), values from `unnest` arrays, liveness moved once per station. A call whose value
//! keys are all distinct (the bulk case) first tries one plain `INSERT` of them under a
//! savepoint, with no speculative insertion and no row sent back; if a key is stored already
//! it rolls back to the savepoint and upserts, the counts computed in the same statement.
//! PostgreSQL refuses one statement touching a row twice, so a value repeated within a call
//! goes into a second upsert ("rounds"), in order; within a statement rows are sorted by key,
//! so concurrent ingests lock rows in one order and do not deadlock. Values are not audited
//! row by row (their volume would swamp the chain; the frame archive is their trail).

use std::collections::HashMap;
use zhili_store_sql::flood::encoding_name;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use zhili_core::store::{StoreError, StoreResult};
use zhili_flood::store::{
    element_code, element_from_code, FrameEncoding, FrameOutcome, IngestOutcome, InsertCounts, LastSeen, Observation,
    ObservationStore, Quality, RawFrame,
};
use zhili_flood::vocab::{Element, StationCode};

use super::station_ids;
use crate::{err, PgStore};

/// A time as PostgreSQL keeps it (microseconds), so keys sent and keys returned compare equal.
fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// One value row: its index in the call, station id, element code, time, value, quality, frame id.
struct ValueRow {
    index: usize,
    station: i32,
    element: i32,
    at: i64,
    value: f64,
    quality: i16,
    frame: Option<i64>,
}

/// The dedup key of a frame with its station resolved (time in microseconds).
type FrameKey = (i32, i16, i32, i64);

/// Archive the distinct frames of the call; the outcome of each, in order.
async fn archive(
    tx: &mut PgConnection,
    frames: &[RawFrame],
    ids: &HashMap<String, i32>,
) -> StoreResult<Vec<FrameOutcome>> {
    let key = |f: &RawFrame| -> FrameKey {
        (ids[f.station.as_str()], i16::from(f.function), i32::from(f.serial), micros(f.observed_at))
    };
    // The first frame of each key in the call is the one written.
    let mut first: HashMap<FrameKey, usize> = HashMap::new();
    for (i, f) in frames.iter().enumerate() {
        first.entry(key(f)).or_insert(i);
    }
    let mut fresh: Vec<(FrameKey, usize)> = first.iter().map(|(k, i)| (*k, *i)).collect();
    fresh.sort_unstable();
    let mut stored: HashMap<FrameKey, (i64, bool)> = HashMap::new();
    if !fresh.is_empty() {
        let rows: Vec<(i64, i32, i16, i32, DateTime<Utc>)> = sqlx::query_as(
            "INSERT INTO flood_frames (station_id, function, serial, observed_at, received_at, peer, encoding, bytes)
             SELECT * FROM unnest($1::int[], $2::smallint[], $3::int[], $4::timestamptz[], $5::timestamptz[],
                 $6::text[], $7::text[], $8::bytea[])
             ON CONFLICT (station_id, function, serial, observed_at) DO NOTHING
             RETURNING id, station_id, function, serial, observed_at",
        )
        .bind(fresh.iter().map(|(k, _)| k.0).collect::<Vec<_>>())
        .bind(fresh.iter().map(|(k, _)| k.1).collect::<Vec<_>>())
        .bind(fresh.iter().map(|(k, _)| k.2).collect::<Vec<_>>())
        .bind(fresh.iter().map(|(k, _)| from_micros(k.3)).collect::<Vec<_>>())
        .bind(fresh.iter().map(|(_, i)| frames[*i].received_at).collect::<Vec<_>>())
        .bind(fresh.iter().map(|(_, i)| frames[*i].peer.as_str()).collect::<Vec<_>>())
        .bind(fresh.iter().map(|(_, i)| encoding_name(frames[*i].encoding)).collect::<Vec<_>>())
        .bind(fresh.iter().map(|(_, i)| frames[*i].bytes.as_slice()).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        for (id, s, f, n, at) in rows {
            stored.insert((s, f, n, micros(at)), (id, false));
        }
    }
    // Keys stored before this call: resends, found in one lookup.
    let before: Vec<FrameKey> = fresh.iter().map(|(k, _)| *k).filter(|k| !stored.contains_key(k)).collect();
    if !before.is_empty() {
        let rows: Vec<(i64, i32, i16, i32, DateTime<Utc>)> = sqlx::query_as(
            "SELECT f.id, f.station_id, f.function, f.serial, f.observed_at
             FROM unnest($1::int[], $2::smallint[], $3::int[], $4::timestamptz[]) AS k (s, fn, n, t)
             JOIN flood_frames AS f ON f.station_id = k.s AND f.function = k.fn AND f.serial = k.n
                 AND f.observed_at = k.t",
        )
        .bind(before.iter().map(|k| k.0).collect::<Vec<_>>())
        .bind(before.iter().map(|k| k.1).collect::<Vec<_>>())
        .bind(before.iter().map(|k| k.2).collect::<Vec<_>>())
        .bind(before.iter().map(|k| from_micros(k.3)).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        for (id, s, f, n, at) in rows {
            stored.insert((s, f, n, micros(at)), (id, true));
        }
    }
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let k = key(f);
            let &(id, before) = stored
                .get(&k)
                .ok_or_else(|| StoreError::Other(format!("frames[{i}] was neither stored nor found stored")))?;
            Ok(FrameOutcome { id, duplicate: before || first[&k] != i })
        })
        .collect()
}

/// The error for a value the database refused: which one, if it is a value that is not a
/// finite number (what `flood_observations_value_finite` refuses).
fn value_err(e: sqlx::Error, part: &[&ValueRow]) -> StoreError {
    let refused = matches!(&e, sqlx::Error::Database(d) if d.constraint() == Some("flood_observations_value_finite"));
    match part.iter().filter(|r| !r.value.is_finite()).min_by_key(|r| r.index) {
        Some(r) if refused => StoreError::Other(format!(
            "observations[{}].value = {}: the store keeps only finite numbers",
            r.index, r.value
        )),
        _ => err(e),
    }
}

/// Upsert one round of rows (no key twice); (inserted, corrected).
async fn put_round(tx: &mut PgConnection, part: &[&ValueRow]) -> StoreResult<(u64, u64)> {
    let (inserted, corrected): (i64, i64) = sqlx::query_as(
        "WITH written AS (
             INSERT INTO flood_observations AS o (station_id, element, observed_at, value, quality, frame_id)
             SELECT * FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::float8[], $5::smallint[], $6::bigint[])
             ON CONFLICT (station_id, element, observed_at) DO UPDATE SET value = excluded.value,
                 quality = excluded.quality, frame_id = excluded.frame_id, revision = o.revision + 1
             WHERE o.value IS DISTINCT FROM excluded.value OR o.quality IS DISTINCT FROM excluded.quality
             RETURNING o.revision
         )
         SELECT count(*) FILTER (WHERE revision = 0), count(*) FILTER (WHERE revision > 0) FROM written",
    )
    .bind(part.iter().map(|r| r.station).collect::<Vec<_>>())
    .bind(part.iter().map(|r| r.element).collect::<Vec<_>>())
    .bind(part.iter().map(|r| from_micros(r.at)).collect::<Vec<_>>())
    .bind(part.iter().map(|r| r.value).collect::<Vec<_>>())
    .bind(part.iter().map(|r| r.quality).collect::<Vec<_>>())
    .bind(part.iter().map(|r| r.frame).collect::<Vec<_>>())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| value_err(e, part))?;
    Ok((inserted as u64, corrected as u64))
}

/// The fast path for a call whose keys are all distinct: one plain `INSERT` of every row (no
/// speculative insertion, no row sent back), `true` if every key was new. A key already stored
/// (`flood_observations_pkey`, also when a concurrent ingest stored it first) rolls the
/// statement back to its savepoint and gives `false`; [`put_round`] then decides row by row.
async fn insert_new(tx: &mut PgConnection, part: &[&ValueRow]) -> StoreResult<bool> {
    sqlx::query("SAVEPOINT flood_values").execute(&mut *tx).await.map_err(err)?;
    let done = sqlx::query(
        "INSERT INTO flood_observations (station_id, element, observed_at, value, quality, frame_id)
         SELECT * FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::float8[], $5::smallint[], $6::bigint[])",
    )
    .bind(part.iter().map(|r| r.station).collect::<Vec<_>>())
    .bind(part.iter().map(|r| r.element).collect::<Vec<_>>())
    .bind(part.iter().map(|r| from_micros(r.at)).collect::<Vec<_>>())
    .bind(part.iter().map(|r| r.value).collect::<Vec<_>>())
    .bind(part.iter().map(|r| r.quality).collect::<Vec<_>>())
    .bind(part.iter().map(|r| r.frame).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await;
    let all_new = match done {
        Ok(_) => true,
        Err(sqlx::Error::Database(d))
            if d.code().as_deref() == Some("23505") && d.constraint() == Some("flood_observations_pkey") =>
        {
            sqlx::query("ROLLBACK TO SAVEPOINT flood_values").execute(&mut *tx).await.map_err(err)?;
            false
        }
        Err(e) => return Err(value_err(e, part)),
    };
    sqlx::query("RELEASE SAVEPOINT flood_values").execute(&mut *tx).await.map_err(err)?;
    Ok(all_new)
}

/// Store the value rows in order; the counts.
async fn put_values(tx: &mut PgConnection, rows: &[ValueRow]) -> StoreResult<InsertCounts> {
    // The n-th occurrence of a key in the call goes into round n.
    let mut seen: HashMap<(i32, i32, i64), usize> = HashMap::with_capacity(rows.len());
    let mut rounds: Vec<Vec<&ValueRow>> = Vec::new();
    for r in rows {
        let n = seen.entry((r.station, r.element, r.at)).or_insert(0);
        if rounds.len() <= *n {
            rounds.push(Vec::new());
        }
        rounds[*n].push(r);
        *n += 1;
    }
    for round in &mut rounds {
        round.sort_unstable_by_key(|r| (r.station, r.element, r.at));
    }
    // The bulk case: one round of keys none of which is stored.
    if let [round] = rounds.as_slice() {
        if insert_new(tx, round).await? {
            return Ok(InsertCounts { inserted: round.len() as u64, ..InsertCounts::default() });
        }
    }
    let mut counts = InsertCounts::default();
    for round in rounds {
        let (inserted, corrected) = put_round(tx, &round).await?;
        counts.inserted += inserted;
        counts.corrected += corrected;
        counts.duplicates += round.len() as u64 - inserted - corrected;
    }
    Ok(counts)
}

fn observation(
    station: &StationCode,
    element: Element,
    at: DateTime<Utc>,
    value: f64,
    quality: i16,
) -> StoreResult<Observation> {
    Ok(Observation {
        station: station.clone(),
        element,
        observed_at: at,
        value,
        quality: Quality::from_code(quality)
            .ok_or_else(|| StoreError::Other(format!("bad stored observation quality {quality}")))?,
        frame: None,
    })
}

#[async_trait]
impl ObservationStore for PgStore {
    async fn ingest(&self, frames: &[RawFrame], observations: &[Observation]) -> StoreResult<IngestOutcome> {
        if observations.iter().any(|o| o.frame.is_some_and(|i| i >= frames.len())) {
            return Err(StoreError::MissingReference { field: "frame" });
        }
        if frames.is_empty() && observations.is_empty() {
            return Ok(IngestOutcome::default());
        }
        let mut codes: Vec<&str> =
            frames.iter().map(|f| f.station.as_str()).chain(observations.iter().map(|o| o.station.as_str())).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut tx = self.begin().await?;
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
        let counts = put_values(&mut tx, &rows).await?;
        // Liveness: each station's latest received frame.
        let mut latest: HashMap<i32, DateTime<Utc>> = HashMap::new();
        for f in frames {
            let e = latest.entry(ids[f.station.as_str()]).or_insert(f.received_at);
            *e = (*e).max(f.received_at);
        }
        if !latest.is_empty() {
            let mut latest: Vec<(i32, DateTime<Utc>)> = latest.into_iter().collect();
            latest.sort_unstable();
            sqlx::query(
                "INSERT INTO flood_liveness (station_id, report_at)
                 SELECT * FROM unnest($1::int[], $2::timestamptz[])
                 ON CONFLICT (station_id) DO UPDATE SET
                     report_at = GREATEST(flood_liveness.report_at, excluded.report_at)",
            )
            .bind(latest.iter().map(|l| l.0).collect::<Vec<_>>())
            .bind(latest.iter().map(|l| l.1).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
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
        let rows: Vec<(DateTime<Utc>, f64, i16)> = sqlx::query_as(
            "SELECT observed_at, value, quality FROM flood_observations
             WHERE station_id = (SELECT id FROM flood_stations WHERE code = $1) AND element = $2
                 AND observed_at > $3 AND observed_at <= $4
             ORDER BY observed_at LIMIT $5",
        )
        .bind(station.as_str())
        .bind(element_code(element))
        .bind(from)
        .bind(to)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.into_iter().map(|(at, v, q)| observation(station, element, at, v, q)).collect()
    }

    async fn latest(&self, station: &StationCode) -> StoreResult<Vec<Observation>> {
        // The station's elements one index seek after another (a skip scan), then the last
        // value of each: no walk over the station's history.
        let rows = sqlx::query(
            "WITH RECURSIVE s AS (SELECT id FROM flood_stations WHERE code = $1),
             e (element) AS (
                 SELECT (SELECT min(o.element) FROM flood_observations AS o, s WHERE o.station_id = s.id)
                 UNION ALL
                 SELECT (SELECT min(o.element) FROM flood_observations AS o, s
                         WHERE o.station_id = s.id AND o.element > e.element)
                 FROM e WHERE e.element IS NOT NULL
             )
             SELECT l.element, l.observed_at, l.value, l.quality FROM e CROSS JOIN s
             CROSS JOIN LATERAL (
                 SELECT o.element, o.observed_at, o.value, o.quality FROM flood_observations AS o
                 WHERE o.station_id = s.id AND o.element = e.element ORDER BY o.observed_at DESC LIMIT 1
             ) AS l
             ORDER BY l.element",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
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
             WHERE station_id = (SELECT id FROM flood_stations WHERE code = $1)
                 AND received_at > $2 AND received_at <= $3
             ORDER BY received_at DESC, id DESC LIMIT $4",
        )
        .bind(station.as_str())
        .bind(from)
        .bind(to)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter()
            .map(|r| {
                let function: i16 = r.try_get("function").map_err(err)?;
                let serial: i32 = r.try_get("serial").map_err(err)?;
                let encoding: String = r.try_get("encoding").map_err(err)?;
                let frame = RawFrame {
                    station: station.clone(),
                    received_at: r.try_get("received_at").map_err(err)?,
                    peer: r.try_get("peer").map_err(err)?,
                    function: u8::try_from(function)
                        .map_err(|_| StoreError::Other(format!("bad stored frame function {function}")))?,
                    serial: u16::try_from(serial)
                        .map_err(|_| StoreError::Other(format!("bad stored frame serial {serial}")))?,
                    observed_at: r.try_get("observed_at").map_err(err)?,
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
        let n = sqlx::query(
            "INSERT INTO flood_liveness (station_id, keepalive_at) SELECT id, $1 FROM flood_stations WHERE code = $2
             ON CONFLICT (station_id) DO UPDATE SET
                 keepalive_at = GREATEST(flood_liveness.keepalive_at, excluded.keepalive_at)",
        )
        .bind(at)
        .bind(station.as_str())
        .execute(&self.pool)
        .await
        .map_err(err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn last_seen(&self, stations: &[StationCode]) -> StoreResult<Vec<LastSeen>> {
        let rows: Vec<(String, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT s.code, l.keepalive_at, l.report_at FROM flood_stations AS s
             JOIN flood_liveness AS l ON l.station_id = s.id WHERE s.code = ANY($1)",
        )
        .bind(stations.iter().map(StationCode::as_str).collect::<Vec<_>>())
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let by_code: HashMap<String, LastSeen> =
            rows.into_iter().map(|(code, keepalive, report)| (code, LastSeen { keepalive, report })).collect();
        Ok(stations.iter().map(|s| by_code.get(s.as_str()).copied().unwrap_or_default()).collect())
    }
}

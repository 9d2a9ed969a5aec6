//! The flood network and its telemetry on PostgreSQL/PostGIS (山洪数据存储).
//!
//! Model records (watersheds, stations, villages at risk, control sections, rainfall
//! indicators) keep their whole model as `jsonb` in `body`, authoritative on read; the other
//! columns are projections for keys, references, filters and GIS: station positions, danger
//! zones, watershed boundaries, evacuation routes and shelters are PostGIS geometries in
//! EPSG:4326, written from the model on every upsert (a station's longitude and latitude are
//! read back from its point, exact binary64). Every model write appends one audit row per
//! record in its transaction. Telemetry is in [`observe`].

use std::collections::{HashMap, HashSet};
use zhili_store_sql::flood::{address_hex, body, from_body, state_name};

use async_trait::async_trait;
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use zhili_core::audit::{Actor, AuditEvent};
use zhili_core::codes::DivisionCode;
use zhili_core::store::{Page, StoreError, StoreResult};
use zhili_flood::indicator::RainIndicators;
use zhili_flood::model::{
    ControlSection, QuarantineEntry, QuarantineState, SectionCode, Station, UnknownContact, Village, Watershed,
    WatershedCode,
};
use zhili_flood::store::{FloodModelStore, ObservationStore, QuarantineStore, StationFilter};
use zhili_flood::vocab::StationCode;
use zhili_store_sql::audit;

use crate::case::push_prefix;
use crate::{append_audits, err, PgStore};

mod observe;
mod warning;

/// The flood module's tables (network, then telemetry).
pub(crate) static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/flood/migrations");

/// Register the flood ports.
pub(crate) fn register(store: &std::sync::Arc<PgStore>, ports: &mut zhili_core::ports::Ports) {
    ports.add::<dyn FloodModelStore>(store.clone());
    ports.add::<dyn QuarantineStore>(store.clone());
    ports.add::<dyn ObservationStore>(store.clone());
    ports.add::<dyn zhili_flood::warning::WarningStore>(store.clone());
}

/// What a station read needs: the body and the exact coordinates.
const STATION_READ: &str = "ST_X(position) AS lon, ST_Y(position) AS lat, body::text AS body";

fn station_row(r: &PgRow) -> StoreResult<Station> {
    let mut s: Station = from_body("station", r.try_get("body").map_err(err)?)?;
    s.position.lon = r.try_get("lon").map_err(err)?;
    s.position.lat = r.try_get("lat").map_err(err)?;
    Ok(s)
}

/// The ids of the stored stations among `codes`, by code.
pub(crate) async fn station_ids<'a>(
    tx: &mut PgConnection,
    codes: impl IntoIterator<Item = &'a str>,
) -> StoreResult<HashMap<String, i32>> {
    let codes: Vec<&str> = codes.into_iter().collect();
    let rows: Vec<(String, i32)> = sqlx::query_as("SELECT code, id FROM flood_stations WHERE code = ANY($1)")
        .bind(codes)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
    Ok(rows.into_iter().collect())
}

/// The stored keys among `keys` of a table's text primary key `code`.
async fn known(tx: &mut PgConnection, table: &str, keys: &HashSet<&str>) -> StoreResult<HashSet<String>> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT code FROM {table} WHERE code = ANY($1)"))
        .bind(keys.iter().copied().collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
    Ok(rows.into_iter().collect())
}

/// Insert or replace stations by code (keeping their ids), checking their watersheds.
async fn put_stations(tx: &mut PgConnection, stations: &[Station]) -> StoreResult<()> {
    let sheds: HashSet<&str> =
        stations.iter().filter_map(|s| s.watershed.as_ref().map(WatershedCode::as_str)).collect();
    if known(tx, "flood_watersheds", &sheds).await?.len() < sheds.len() {
        return Err(StoreError::MissingReference { field: "watershed" });
    }
    for s in stations {
        sqlx::query(
            "INSERT INTO flood_stations (code, kind, status, watershed, division, owner, measures_rain, measures_level,
                 sl651_address, position, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, ST_SetSRID(ST_MakePoint($10, $11), 4326), $12::jsonb)
             ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, status = excluded.status,
                 watershed = excluded.watershed, division = excluded.division, owner = excluded.owner,
                 measures_rain = excluded.measures_rain, measures_level = excluded.measures_level,
                 sl651_address = excluded.sl651_address, position = excluded.position, body = excluded.body",
        )
        .bind(s.code.as_str())
        .bind(s.kind.as_str())
        .bind(s.status.as_str())
        .bind(s.watershed.as_ref().map(WatershedCode::as_str))
        .bind(s.division.as_str())
        .bind(&s.owner)
        .bind(s.measures.rain)
        .bind(s.measures.level)
        .bind(s.sl651_address().map(address_hex))
        .bind(s.position.lon)
        .bind(s.position.lat)
        .bind(body("station", &s.code, s)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| match err(e) {
            StoreError::Conflict { .. } => StoreError::Conflict { field: "protocol.address" },
            e => e,
        })?;
    }
    Ok(())
}

const QUARANTINE_READ: &str = "code, protocol::text AS protocol, peer, first_seen, last_seen, frames, state";

fn quarantine_row(r: &PgRow) -> StoreResult<QuarantineEntry> {
    let code: String = r.try_get("code").map_err(err)?;
    let state: String = r.try_get("state").map_err(err)?;
    Ok(QuarantineEntry {
        code: StationCode::parse(&code)
            .map_err(|e| StoreError::Other(format!("bad stored station code {code:?}: {e}")))?,
        protocol: from_body("quarantine protocol", r.try_get("protocol").map_err(err)?)?,
        peer: r.try_get("peer").map_err(err)?,
        first_seen: r.try_get("first_seen").map_err(err)?,
        last_seen: r.try_get("last_seen").map_err(err)?,
        frames: u64::try_from(r.try_get::<i64, _>("frames").map_err(err)?).unwrap_or(0),
        state: match state.as_str() {
            "pending" => QuarantineState::Pending,
            "rejected" => QuarantineState::Rejected,
            _ => return Err(StoreError::Other(format!("bad stored quarantine state {state:?}"))),
        },
    })
}

/// A GeoJSON geometry in EPSG:4326 as SQL (`NULL` stays `NULL`), made a MultiPolygon.
const MULTI_AREA: &str = "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($ARG::text), 4326))";

#[async_trait]
impl FloodModelStore for PgStore {
    async fn upsert_watersheds(&self, actor: &Actor, watersheds: &[Watershed]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Every parent link after this call, to check references and cycles as a whole; the
        // lock keeps two concurrent calls from closing a cycle between them.
        sqlx::query("LOCK TABLE flood_watersheds IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await.map_err(err)?;
        let stored: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT code, parent FROM flood_watersheds").fetch_all(&mut *tx).await.map_err(err)?;
        let mut parent: HashMap<String, Option<String>> = stored.into_iter().collect();
        for w in watersheds {
            parent.insert(w.code.to_string(), w.parent.as_ref().map(ToString::to_string));
        }
        for w in watersheds {
            let mut at = w.parent.as_ref().map(ToString::to_string);
            let mut steps = 0;
            while let Some(p) = at {
                match parent.get(&p) {
                    None => return Err(StoreError::MissingReference { field: "parent" }),
                    Some(_) if p == w.code.as_str() || steps > parent.len() => {
                        return Err(StoreError::Conflict { field: "parent" })
                    }
                    Some(next) => at = next.clone(),
                }
                steps += 1;
            }
        }
        for w in watersheds {
            sqlx::query(&format!(
                "INSERT INTO flood_watersheds (code, parent, boundary, body) VALUES ($1, $2, {}, $4::jsonb)
                 ON CONFLICT (code) DO UPDATE SET parent = excluded.parent, boundary = excluded.boundary,
                     body = excluded.body",
                MULTI_AREA.replace("$ARG", "$3")
            ))
            .bind(w.code.as_str())
            .bind(w.parent.as_ref().map(WatershedCode::as_str))
            .bind(w.boundary.as_ref().map(|b| b.as_geojson()))
            .bind(body("watershed", &w.code, w)?)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        let audits: Vec<AuditEvent> = watersheds.iter().map(|w| audit::flood_watershed_upsert(actor, w)).collect();
        append_audits(&mut tx, &audits).await?;
        tx.commit().await.map_err(err)
    }

    async fn watersheds(&self) -> StoreResult<Vec<Watershed>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body::text FROM flood_watersheds ORDER BY code")
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
        rows.iter().map(|b| from_body("watershed", b)).collect()
    }

    async fn upsert_stations(&self, actor: &Actor, stations: &[Station]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        put_stations(&mut tx, stations).await?;
        let audits: Vec<AuditEvent> = stations.iter().map(|s| audit::flood_station_upsert(actor, s)).collect();
        append_audits(&mut tx, &audits).await?;
        tx.commit().await.map_err(err)
    }

    async fn station(&self, code: &StationCode) -> StoreResult<Station> {
        let r = sqlx::query(&format!("SELECT {STATION_READ} FROM flood_stations WHERE code = $1"))
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        station_row(&r)
    }

    async fn station_by_sl651_address(&self, address: [u8; 5]) -> StoreResult<Station> {
        let r = sqlx::query(&format!("SELECT {STATION_READ} FROM flood_stations WHERE sl651_address = $1"))
            .bind(address_hex(address))
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        station_row(&r)
    }

    async fn stations(&self, filter: &StationFilter, page: Page) -> StoreResult<Vec<Station>> {
        let mut q = QueryBuilder::<Postgres>::new(format!("SELECT {STATION_READ} FROM flood_stations WHERE true"));
        if !filter.kinds.is_empty() {
            q.push(" AND kind = ANY(").push_bind(filter.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>()).push(")");
        }
        if let Some(s) = filter.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(w) = &filter.watershed {
            q.push(" AND watershed = ").push_bind(w.to_string());
        }
        if let Some(d) = &filter.division {
            push_prefix(&mut q, "division", d.as_str());
        }
        if let Some(o) = &filter.owner {
            q.push(" AND owner = ").push_bind(o.clone());
        }
        if let Some(r) = filter.measures_rain {
            q.push(" AND measures_rain = ").push_bind(r);
        }
        if let Some(l) = filter.measures_level {
            q.push(" AND measures_level = ").push_bind(l);
        }
        q.push(" ORDER BY code LIMIT ").push_bind(page.limit).push(" OFFSET ").push_bind(page.offset);
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(station_row).collect()
    }

    async fn upsert_villages(&self, actor: &Actor, villages: &[Village]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let sheds: HashSet<&str> =
            villages.iter().filter_map(|v| v.watershed.as_ref().map(WatershedCode::as_str)).collect();
        if known(&mut tx, "flood_watersheds", &sheds).await?.len() < sheds.len() {
            return Err(StoreError::MissingReference { field: "watershed" });
        }
        let ids =
            station_ids(&mut tx, villages.iter().flat_map(|v| v.stations.iter().map(StationCode::as_str))).await?;
        for v in villages {
            if v.stations.iter().any(|s| !ids.contains_key(s.as_str())) {
                return Err(StoreError::MissingReference { field: "stations" });
            }
            sqlx::query(&format!(
                "INSERT INTO flood_villages (code, name, watershed, population, danger_zone, body)
                 VALUES ($1, $2, $3, $4, {}, $6::jsonb)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, watershed = excluded.watershed,
                     population = excluded.population, danger_zone = excluded.danger_zone, body = excluded.body",
                MULTI_AREA.replace("$ARG", "$5")
            ))
            .bind(v.code.as_str())
            .bind(&v.name)
            .bind(v.watershed.as_ref().map(WatershedCode::as_str))
            .bind(i32::try_from(v.population).unwrap_or(i32::MAX))
            .bind(v.danger_zone.as_geojson())
            .bind(body("village", &v.code, v)?)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            for table in ["flood_village_stations", "flood_village_routes", "flood_village_shelters"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE village = $1"))
                    .bind(v.code.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
            }
            let positions = |n: usize| (0..n).map(|i| i as i16).collect::<Vec<_>>();
            sqlx::query(
                "INSERT INTO flood_village_stations (village, position, station_id)
                 SELECT $1, * FROM unnest($2::smallint[], $3::int[])",
            )
            .bind(v.code.as_str())
            .bind(positions(v.stations.len()))
            .bind(v.stations.iter().map(|s| ids[s.as_str()]).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            let lines: Vec<String> = v
                .routes
                .iter()
                .map(|r| {
                    let coordinates: Vec<[f64; 2]> = r.line.iter().map(|p| [p.lon, p.lat]).collect();
                    json!({"type": "LineString", "coordinates": coordinates}).to_string()
                })
                .collect();
            sqlx::query(
                "INSERT INTO flood_village_routes (village, position, text, line)
                 SELECT $1, p, t, ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)
                 FROM unnest($2::smallint[], $3::text[], $4::text[]) AS r (p, t, g)",
            )
            .bind(v.code.as_str())
            .bind(positions(v.routes.len()))
            .bind(v.routes.iter().map(|r| r.text.as_str()).collect::<Vec<_>>())
            .bind(lines)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            sqlx::query(
                "INSERT INTO flood_village_shelters (village, position, name, capacity, location)
                 SELECT $1, p, n, c, ST_SetSRID(ST_MakePoint(x, y), 4326)
                 FROM unnest($2::smallint[], $3::text[], $4::int[], $5::float8[], $6::float8[]) AS s (p, n, c, x, y)",
            )
            .bind(v.code.as_str())
            .bind(positions(v.shelters.len()))
            .bind(v.shelters.iter().map(|s| s.name.as_str()).collect::<Vec<_>>())
            .bind(v.shelters.iter().map(|s| i32::try_from(s.capacity).unwrap_or(i32::MAX)).collect::<Vec<_>>())
            .bind(v.shelters.iter().map(|s| s.position.lon).collect::<Vec<_>>())
            .bind(v.shelters.iter().map(|s| s.position.lat).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        let audits: Vec<AuditEvent> = villages.iter().map(|v| audit::flood_village_upsert(actor, v)).collect();
        append_audits(&mut tx, &audits).await?;
        tx.commit().await.map_err(err)
    }

    async fn village(&self, code: &DivisionCode) -> StoreResult<Village> {
        let b: String = sqlx::query_scalar("SELECT body::text FROM flood_villages WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        from_body("village", &b)
    }

    async fn villages(&self, prefix: Option<&DivisionCode>, page: Page) -> StoreResult<Vec<Village>> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT body::text FROM flood_villages WHERE true");
        if let Some(p) = prefix {
            push_prefix(&mut q, "code", p.as_str());
        }
        q.push(" ORDER BY code LIMIT ").push_bind(page.limit).push(" OFFSET ").push_bind(page.offset);
        let rows: Vec<String> = q.build_query_scalar().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(|b| from_body("village", b)).collect()
    }

    async fn upsert_sections(&self, actor: &Actor, sections: &[ControlSection]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let ids = station_ids(&mut tx, sections.iter().map(|c| c.level_station.as_str())).await?;
        let villages: HashSet<&str> =
            sections.iter().flat_map(|c| c.villages.iter().map(DivisionCode::as_str)).collect();
        let stored = known(&mut tx, "flood_villages", &villages).await?;
        for c in sections {
            let Some(&station_id) = ids.get(c.level_station.as_str()) else {
                return Err(StoreError::MissingReference { field: "level_station" });
            };
            if c.villages.iter().any(|v| !stored.contains(v.as_str())) {
                return Err(StoreError::MissingReference { field: "villages" });
            }
            sqlx::query(
                "INSERT INTO flood_sections (code, level_station_id, body) VALUES ($1, $2, $3::jsonb)
                 ON CONFLICT (code) DO UPDATE SET level_station_id = excluded.level_station_id, body = excluded.body",
            )
            .bind(c.code.as_str())
            .bind(station_id)
            .bind(body("section", &c.code, c)?)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            sqlx::query("DELETE FROM flood_section_villages WHERE section = $1")
                .bind(c.code.as_str())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            let unique: HashSet<&str> = c.villages.iter().map(DivisionCode::as_str).collect();
            sqlx::query("INSERT INTO flood_section_villages (section, village) SELECT $1, * FROM unnest($2::text[])")
                .bind(c.code.as_str())
                .bind(unique.into_iter().collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        let audits: Vec<AuditEvent> = sections.iter().map(|c| audit::flood_section_upsert(actor, c)).collect();
        append_audits(&mut tx, &audits).await?;
        tx.commit().await.map_err(err)
    }

    async fn section(&self, code: &SectionCode) -> StoreResult<ControlSection> {
        let b: String = sqlx::query_scalar("SELECT body::text FROM flood_sections WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        from_body("control section", &b)
    }

    async fn sections(&self) -> StoreResult<Vec<ControlSection>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body::text FROM flood_sections ORDER BY code")
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
        rows.iter().map(|b| from_body("control section", b)).collect()
    }

    async fn replace_rain_indicators(&self, actor: &Actor, sets: &[RainIndicators]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let villages: HashSet<&str> = sets.iter().map(|r| r.village().as_str()).collect();
        if known(&mut tx, "flood_villages", &villages).await?.len() < villages.len() {
            return Err(StoreError::MissingReference { field: "village" });
        }
        for r in sets {
            let scheme = serde_json::to_value(r.scheme()).map_err(|e| StoreError::Other(e.to_string()))?;
            sqlx::query(
                "INSERT INTO flood_rain_indicators (village, scheme, body) VALUES ($1, $2, $3::jsonb)
                 ON CONFLICT (village) DO UPDATE SET scheme = excluded.scheme, body = excluded.body",
            )
            .bind(r.village().as_str())
            .bind(scheme.as_str().unwrap_or_default())
            .bind(body("rain indicators", r.village(), r)?)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        let audits: Vec<AuditEvent> = sets.iter().map(|r| audit::flood_rain_indicators_replace(actor, r)).collect();
        append_audits(&mut tx, &audits).await?;
        tx.commit().await.map_err(err)
    }

    async fn rain_indicators(&self, village: &DivisionCode) -> StoreResult<RainIndicators> {
        let b: String = sqlx::query_scalar("SELECT body::text FROM flood_rain_indicators WHERE village = $1")
            .bind(village.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?
            .ok_or(StoreError::NotFound)?;
        from_body("rain indicators", &b)
    }

    async fn all_rain_indicators(&self, prefix: Option<&DivisionCode>) -> StoreResult<Vec<RainIndicators>> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT body::text FROM flood_rain_indicators WHERE true");
        if let Some(p) = prefix {
            push_prefix(&mut q, "village", p.as_str());
        }
        q.push(" ORDER BY village");
        let rows: Vec<String> = q.build_query_scalar().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(|b| from_body("rain indicators", b)).collect()
    }
}

#[async_trait]
impl QuarantineStore for PgStore {
    async fn quarantine_contact(&self, contact: &UnknownContact) -> StoreResult<QuarantineEntry> {
        let mut tx = self.begin().await?;
        // A first contact inserts; a concurrent first contact finds the row at the second try.
        for _ in 0..2 {
            let stored =
                sqlx::query(&format!("SELECT {QUARANTINE_READ} FROM flood_quarantine WHERE code = $1 FOR UPDATE"))
                    .bind(contact.code.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
            let first = stored.is_none();
            let entry = QuarantineEntry::record(stored.as_ref().map(quarantine_row).transpose()?, contact);
            let sql = if first {
                "INSERT INTO flood_quarantine (code, protocol, peer, first_seen, last_seen, frames, state)
                 VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING"
            } else {
                "UPDATE flood_quarantine SET protocol = $2::jsonb, peer = $3, first_seen = $4, last_seen = $5,
                     frames = $6, state = $7 WHERE code = $1"
            };
            let n = sqlx::query(sql)
                .bind(entry.code.as_str())
                .bind(body("quarantine protocol", &entry.code, &entry.protocol)?)
                .bind(&entry.peer)
                .bind(entry.first_seen)
                .bind(entry.last_seen)
                .bind(i64::try_from(entry.frames).unwrap_or(i64::MAX))
                .bind(state_name(entry.state))
                .execute(&mut *tx)
                .await
                .map_err(err)?
                .rows_affected();
            if n == 1 {
                tx.commit().await.map_err(err)?;
                return Ok(entry);
            }
        }
        Err(StoreError::Unavailable(format!("the quarantine entry {} changed twice under this contact", contact.code)))
    }

    async fn quarantine(&self, include_rejected: bool, page: Page) -> StoreResult<Vec<QuarantineEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {QUARANTINE_READ} FROM flood_quarantine WHERE state = 'pending' OR $1
             ORDER BY last_seen DESC, code LIMIT $2 OFFSET $3"
        ))
        .bind(include_rejected)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter().map(quarantine_row).collect()
    }

    async fn accept_quarantined(&self, actor: &Actor, station: &Station) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM flood_quarantine WHERE code = $1")
            .bind(station.code.as_str())
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if !station_ids(&mut tx, [station.code.as_str()]).await?.is_empty() {
            return Err(StoreError::Conflict { field: "code" });
        }
        put_stations(&mut tx, std::slice::from_ref(station)).await?;
        append_audits(&mut tx, &[audit::flood_quarantine_accept(actor, station)]).await?;
        tx.commit().await.map_err(err)
    }

    async fn reject_quarantined(&self, actor: &Actor, code: &StationCode) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE flood_quarantine SET state = 'rejected' WHERE code = $1")
            .bind(code.as_str())
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        append_audits(&mut tx, &[audit::flood_quarantine_reject(actor, code)]).await?;
        tx.commit().await.map_err(err)
    }
}

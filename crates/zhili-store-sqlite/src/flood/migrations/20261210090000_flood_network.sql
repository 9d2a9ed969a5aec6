-- The flood network (山洪监测预警): small watersheds, stations, villages at risk, control
-- sections, rainfall indicators and the quarantine of unknown stations. Each record's whole
-- model is `body` (JSON, authoritative on read); the other columns are projections for keys,
-- references and filters. Times are INTEGER microseconds since the epoch (UTC).

CREATE TABLE flood_watersheds (
    code   TEXT PRIMARY KEY,
    parent TEXT REFERENCES flood_watersheds(code) DEFERRABLE INITIALLY DEFERRED,
    body   TEXT NOT NULL
) STRICT;

-- `id` is the small integer observations and frames are keyed by (never reused: stations
-- are never deleted; an upsert keeps it). `sl651_address` is the 10 hex digits of the
-- station address, unique: the ingest finds a connection's station by it.
CREATE TABLE flood_stations (
    id             INTEGER PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    watershed      TEXT REFERENCES flood_watersheds(code),
    division       TEXT NOT NULL,
    owner          TEXT NOT NULL,
    measures_rain  INTEGER NOT NULL CHECK (measures_rain IN (0, 1)),
    measures_level INTEGER NOT NULL CHECK (measures_level IN (0, 1)),
    sl651_address  TEXT,
    lon            REAL NOT NULL,
    lat            REAL NOT NULL,
    body           TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX flood_stations_sl651_address ON flood_stations(sl651_address) WHERE sl651_address IS NOT NULL;
CREATE INDEX flood_stations_division ON flood_stations(division);

CREATE TABLE flood_villages (
    code      TEXT PRIMARY KEY,
    watershed TEXT REFERENCES flood_watersheds(code),
    body      TEXT NOT NULL
) STRICT;

-- A village's representative stations, in order.
CREATE TABLE flood_village_stations (
    village    TEXT NOT NULL REFERENCES flood_villages(code) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    station_id INTEGER NOT NULL REFERENCES flood_stations(id),
    PRIMARY KEY (village, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX flood_village_stations_station ON flood_village_stations(station_id);

CREATE TABLE flood_sections (
    code             TEXT PRIMARY KEY,
    level_station_id INTEGER NOT NULL REFERENCES flood_stations(id),
    body             TEXT NOT NULL
) STRICT;

CREATE TABLE flood_section_villages (
    section TEXT NOT NULL REFERENCES flood_sections(code) ON DELETE CASCADE,
    village TEXT NOT NULL REFERENCES flood_villages(code),
    PRIMARY KEY (section, village)
) STRICT, WITHOUT ROWID;
CREATE INDEX flood_section_villages_village ON flood_section_villages(village);

-- One village's whole set of rainfall indicators (RainIndicators as JSON).
CREATE TABLE flood_rain_indicators (
    village TEXT PRIMARY KEY REFERENCES flood_villages(code),
    scheme  TEXT NOT NULL,
    body    TEXT NOT NULL
) STRICT;

CREATE TABLE flood_quarantine (
    code       TEXT PRIMARY KEY,
    protocol   TEXT NOT NULL, -- Protocol as JSON
    peer       TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    frames     INTEGER NOT NULL CHECK (frames >= 1),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'rejected'))
) STRICT;
CREATE INDEX flood_quarantine_latest ON flood_quarantine(last_seen DESC, code);

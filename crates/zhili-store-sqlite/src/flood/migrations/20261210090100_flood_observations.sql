-- Telemetry (遥测数据): raw frames, observed values and station liveness.

-- The frame archive (原始报文), one row per distinct (station, function, serial,
-- observation time): a resend finds the row stored first.
CREATE TABLE flood_frames (
    id          INTEGER PRIMARY KEY,
    station_id  INTEGER NOT NULL REFERENCES flood_stations(id),
    function    INTEGER NOT NULL,
    serial      INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    peer        TEXT NOT NULL,
    encoding    TEXT NOT NULL CHECK (encoding IN ('hex', 'ascii')),
    bytes       BLOB NOT NULL,
    UNIQUE (station_id, function, serial, observed_at)
) STRICT;
CREATE INDEX flood_frames_received ON flood_frames(station_id, received_at);

-- Observed values, keyed (station, element, time) in a clustered B-tree of integers only:
-- `station_id` is flood_stations.id, `element` the element code (zhili_flood::store::
-- element_code), `observed_at` microseconds, `quality` Quality::code. `revision` counts
-- corrections (0: as first stored). No foreign key (volume): the ingest resolves station
-- codes to ids in its transaction and refuses unknown ones; stations are never deleted.
-- A value that is not a finite number is refused here (NaN binds as NULL).
CREATE TABLE flood_observations (
    station_id  INTEGER NOT NULL,
    element     INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    value       REAL NOT NULL
                CONSTRAINT flood_observations_value_finite
                CHECK (value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308),
    quality     INTEGER NOT NULL,
    revision    INTEGER NOT NULL DEFAULT 0,
    frame_id    INTEGER,
    PRIMARY KEY (station_id, element, observed_at)
) STRICT, WITHOUT ROWID;

-- When each station was last heard from: keep-alives and data frames (no rows of data).
CREATE TABLE flood_liveness (
    station_id   INTEGER PRIMARY KEY REFERENCES flood_stations(id),
    keepalive_at INTEGER,
    report_at    INTEGER
) STRICT;

-- Flood warnings (山洪预警): each village's warnings, the outbox of their effects, their review
-- trail and the CAP documents they published. A warning's whole state is `body` (JSON of
-- zhili_flood::warning::Warning, authoritative on read); the other columns are projections for
-- keys, filters and the scheduler. Times are microseconds since the epoch, UTC. No foreign key
-- to the network: a warning names its village by code and outlives any edit of the network.

-- `version` is the optimistic lock of a save; `next_tick` is NULL once lifted. A village has at
-- most one warning that is not lifted (the partial unique index).
CREATE TABLE flood_warnings (
    id         INTEGER PRIMARY KEY,
    village    TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('internal', 'public', 'lifted')),
    grade      TEXT NOT NULL,
    opened_at  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    next_tick  INTEGER,
    body       TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX flood_warnings_active_village ON flood_warnings(village) WHERE status <> 'lifted';
CREATE INDEX flood_warnings_village ON flood_warnings(village, opened_at);
CREATE INDEX flood_warnings_opened ON flood_warnings(opened_at, id);
CREATE INDEX flood_warnings_due ON flood_warnings(next_tick, id) WHERE next_tick IS NOT NULL;

-- The outbox (待执行动作): each effect a transition asked for, stored with that transition's
-- state; `done_at` is set once it has been carried out. Ids grow in the order stored.
CREATE TABLE flood_warning_effects (
    id         INTEGER PRIMARY KEY,
    warning_id INTEGER NOT NULL REFERENCES flood_warnings(id),
    created_at INTEGER NOT NULL,
    done_at    INTEGER,
    body       TEXT NOT NULL
) STRICT;
CREATE INDEX flood_warning_effects_pending ON flood_warning_effects(id) WHERE done_at IS NULL;
CREATE INDEX flood_warning_effects_warning ON flood_warning_effects(warning_id);

-- The trail (预警过程记录): `seq` counts from 1 per warning, appended with each transition.
CREATE TABLE flood_warning_trail (
    warning_id INTEGER NOT NULL REFERENCES flood_warnings(id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (warning_id, seq)
) STRICT, WITHOUT ROWID;

-- CAP 1.2 documents as published: one per (warning, sequence), identifiers unique.
CREATE TABLE flood_warning_caps (
    warning_id INTEGER NOT NULL REFERENCES flood_warnings(id),
    sequence   INTEGER NOT NULL,
    identifier TEXT NOT NULL,
    msg_type   TEXT NOT NULL CHECK (msg_type IN ('Alert', 'Update', 'Cancel')),
    sent       INTEGER NOT NULL,
    village    TEXT NOT NULL,
    xml        TEXT NOT NULL,
    PRIMARY KEY (warning_id, sequence),
    CONSTRAINT flood_warning_caps_identifier UNIQUE (identifier)
) STRICT;
CREATE INDEX flood_warning_caps_sent ON flood_warning_caps(sent, warning_id, sequence);

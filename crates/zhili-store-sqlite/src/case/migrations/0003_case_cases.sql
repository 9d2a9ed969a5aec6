-- Cases (案件): the case record, its append-only timeline, uploaded files and deployment settings.
--
-- `cases.body` is the whole case as JSON and is authoritative on read; every other column of
-- `cases` is a projection of it for filtering, sorting and metrics, rewritten from the case on
-- every insert and update. Times are INTEGER microseconds since the Unix epoch (UTC), like the
-- times the server compares in 0001_core.sql: exact, fast to compare and sort, and the same
-- resolution as PostgreSQL's timestamptz (and `zhili_core::audit::audit_time`).

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY, -- assigned by the store (max + 1 under the write lock)
    version         INTEGER NOT NULL,
    state           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    class_code      TEXT NOT NULL,
    source          TEXT NOT NULL,
    department      TEXT, -- department code; NULL until dispatched (and after a return)
    division        TEXT NOT NULL REFERENCES divisions(code),
    grid            TEXT, -- grid code; no foreign key: grids can be re-imported
    reporter_id     INTEGER REFERENCES users(id),
    external_id     TEXT UNIQUE, -- idempotency key of machine and Open311 reports
    lon             REAL NOT NULL,
    lat             REAL NOT NULL,
    reported_at     INTEGER NOT NULL,
    filed_at        INTEGER,
    dispatched_at   INTEGER,
    closed_at       INTEGER,
    updated_at      INTEGER NOT NULL,
    deadline        INTEGER, -- the running clock's deadline; NULL while paused or idle
    handle_deadline INTEGER,
    handled_on_time INTEGER CHECK (handled_on_time IN (0, 1)),
    dispatches      INTEGER NOT NULL,
    returns         INTEGER NOT NULL,
    reworks         INTEGER NOT NULL,
    extensions      INTEGER NOT NULL,
    reopens         INTEGER NOT NULL,
    deferrals       INTEGER NOT NULL,
    score           INTEGER,
    body            TEXT NOT NULL -- the whole case, JSON
) STRICT;

-- The worklist order is `deadline ASC NULLS LAST, id DESC` (running deadlines earliest first, then
-- cases without a running clock, newest first). With `id DESC` in the index, a list of one state
-- (or one department and state) is read in that order straight from the index, with no sort, and
-- stops after the page; several states are sorted on the index alone (ids, never bodies).
-- `division` at the end makes the jurisdiction check (every non-admin list has one) and counts
-- covered by the index: no table row is read to filter, only the page's rows are read.
-- The worklist by state (待立案, 待派遣…); overdue lists and counts per state.
CREATE INDEX cases_state_deadline ON cases(state, deadline, id DESC, division);
-- A department's worklist (待签收, 处置中…). Partial: undispatched cases have no department and
-- are never looked up by it.
CREATE INDEX cases_department ON cases(department, state, deadline, id DESC, division)
    WHERE department IS NOT NULL;
-- A division subtree is the code range [prefix, prefix') (LIKE cannot use an index): a village's
-- or township's cases in any state, filtered and counted on the index alone.
CREATE INDEX cases_division ON cases(division, state, deadline);
-- Reports in a period (statistics, exports).
CREATE INDEX cases_reported ON cases(reported_at);
-- A grid's cases (grid worker's own grids). Partial: many positions lie in no grid.
CREATE INDEX cases_grid ON cases(grid) WHERE grid IS NOT NULL;
-- "My reports". Partial: public, hotline and machine reports have no reporting user.
CREATE INDEX cases_reporter ON cases(reporter_id) WHERE reporter_id IS NOT NULL;
-- Duplicate suggestion: open cases of one class inside a small lon/lat box (lon as a range, lat
-- checked in the index before any row is read).
CREATE INDEX cases_class_lon ON cases(class_code, lon, lat);
-- (external_id has the unique index of its constraint: the idempotency lookup on report.)

-- The timeline (处置记录): one row per report and transition, numbered per case from 1.
CREATE TABLE case_events (
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    actor_id   INTEGER,
    actor      TEXT NOT NULL,
    command    TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    data       TEXT NOT NULL, -- the command with its fields, JSON
    PRIMARY KEY (case_id, seq)
) STRICT, WITHOUT ROWID;

-- Append-only, like the audit log: a case's history is never rewritten.
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;

-- Uploaded files (附件), e.g. photos, with their bytes.
CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    uploaded_by  INTEGER REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    bytes        BLOB NOT NULL
) STRICT;

-- Deployment settings (JSON text), e.g. `case.catalogue`, `case.calendar`.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Core model: divisions, departments, users, sessions, login throttling, audit log.
-- Times the server compares are INTEGER microseconds since the Unix epoch (UTC);
-- times people read are TEXT, RFC 3339 with microseconds.

CREATE TABLE divisions (
    code        TEXT PRIMARY KEY CHECK (length(code) IN (6, 9, 12)),
    parent_code TEXT REFERENCES divisions(code),
    level       TEXT NOT NULL CHECK (level IN ('county', 'township', 'village')),
    name        TEXT NOT NULL,
    boundary    TEXT -- GeoJSON geometry, WGS-84/CGCS2000 lon/lat
) STRICT;
CREATE INDEX divisions_parent ON divisions(parent_code);

CREATE TABLE departments (
    id                INTEGER PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    division_code     TEXT NOT NULL REFERENCES divisions(code),
    is_command_centre INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX departments_division ON departments(division_code);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    jurisdiction  TEXT NOT NULL REFERENCES divisions(code),
    department_id INTEGER REFERENCES departments(id),
    phone         TEXT,
    locale        TEXT NOT NULL DEFAULT 'zh-CN',
    active        INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX users_jurisdiction ON users(jurisdiction);
CREATE INDEX users_department ON users(department_id);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_us    INTEGER NOT NULL,
    expires_us    INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    ip       TEXT NOT NULL,
    at_us    INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_username ON login_failures(username, at_us);
CREATE INDEX login_failures_ip ON login_failures(ip, at_us);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor_id  INTEGER,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    ip        TEXT,
    outcome   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;

-- The chain head, updated in the same transaction as each append: a truncated tail shows.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;

-- Append-only: the application never updates or deletes audit rows.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

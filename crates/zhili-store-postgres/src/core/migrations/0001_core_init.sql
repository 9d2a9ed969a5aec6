-- Core model: divisions, departments, users, sessions, login throttling, audit log.
-- Same tables as the SQLite backend, with native types: timestamptz (microseconds, UTC),
-- bigint identity ids, booleans, and PostGIS geometry for boundaries.
-- Codes use the "C" collation: byte order as in SQLite, and LIKE 'prefix%' can use the index.
-- CREATE EXTENSION needs a role allowed to create PostGIS (a superuser, or the database owner
-- once an administrator has installed it).

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE divisions (
    code        text COLLATE "C" PRIMARY KEY CHECK (length(code) IN (6, 9, 12)),
    parent_code text COLLATE "C" REFERENCES divisions(code),
    level       text NOT NULL CHECK (level IN ('county', 'township', 'village')),
    name        text NOT NULL,
    -- WGS-84/CGCS2000 lon/lat; kept as given (Polygon or MultiPolygon) so GeoJSON round-trips.
    boundary    geometry(Geometry, 4326)
                CHECK (boundary IS NULL OR GeometryType(boundary) IN ('POLYGON', 'MULTIPOLYGON'))
);
CREATE INDEX divisions_parent ON divisions(parent_code);
CREATE INDEX divisions_boundary ON divisions USING gist (boundary);

CREATE TABLE departments (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code              text COLLATE "C" NOT NULL CONSTRAINT departments_code_key UNIQUE,
    name              text NOT NULL,
    division_code     text COLLATE "C" NOT NULL REFERENCES divisions(code),
    is_command_centre boolean NOT NULL DEFAULT false
);
CREATE INDEX departments_division ON departments(division_code);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text COLLATE "C" NOT NULL CONSTRAINT users_username_key UNIQUE,
    display_name  text NOT NULL,
    role          text NOT NULL,
    jurisdiction  text COLLATE "C" NOT NULL REFERENCES divisions(code),
    department_id bigint REFERENCES departments(id),
    phone         text,
    locale        text NOT NULL DEFAULT 'zh-CN',
    active        boolean NOT NULL DEFAULT true,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX users_jurisdiction ON users(jurisdiction);
CREATE INDEX users_department ON users(department_id);

CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE login_failures (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username text NOT NULL,
    ip       text NOT NULL,
    at       timestamptz NOT NULL
);
CREATE INDEX login_failures_username ON login_failures(username, at);
CREATE INDEX login_failures_ip ON login_failures(ip, at);

-- seq is assigned by the store under an advisory lock; the primary key also refuses a fork.
CREATE TABLE audit_log (
    seq       bigint PRIMARY KEY CHECK (seq > 0),
    at        timestamptz NOT NULL,
    actor_id  bigint,
    actor     text NOT NULL,
    role      text NOT NULL,
    action    text NOT NULL,
    target    text NOT NULL,
    ip        text,
    outcome   text NOT NULL,
    detail    text NOT NULL,
    prev_hash text NOT NULL,
    hash      text NOT NULL
);

-- The chain head, updated in the same transaction as each append: a truncated tail shows.
CREATE TABLE audit_head (
    id   smallint PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);

-- Append-only: the application never updates, deletes or truncates audit rows.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The daily rollup of the evaluation figures (考核统计日汇总), kept by triggers, and an index for
-- listings by state and period.
--
-- The figures of a district-year are sums over a million cases; summing their daily tallies by
-- township, department and class reads a few hundred thousand narrow rows instead. Each row holds
-- the additive counts of `zhili_case::metrics::Tally` for the cases reported on one local day in
-- one township, dispatched to one department ('' for none), of one class. The triggers below
-- add a case's contribution when it is inserted and move it (subtract the old row's, add the new
-- row's) when it is updated, in the same transaction as the write, so the rollup always equals a
-- scan of `cases`. 应结案数 depends on the evaluation instant, so the rollup keeps its fixed part
-- (`due_closed`: dispatched and closed) and the store counts the open dispatched cases whose
-- handling deadline has passed from `cases` (the partial index `cases_open_dispatched`).
--
-- Local days are taken at `case_rollup_meta.utc_offset_minutes` (China: +480); a query at another
-- offset is answered by the scan until the rollup is rebuilt at that offset.

CREATE TABLE case_rollup_meta (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    utc_offset_minutes INTEGER NOT NULL
) STRICT;
INSERT INTO case_rollup_meta VALUES (1, 480);

CREATE TABLE case_daily (
    day         TEXT NOT NULL,    -- YYYY-MM-DD, local, of the report
    township    TEXT NOT NULL,    -- the first 9 digits of the case's division
    department  TEXT NOT NULL,    -- '' while not dispatched
    class_code  TEXT NOT NULL,
    reported    INTEGER NOT NULL,
    filed       INTEGER NOT NULL,
    dispatched  INTEGER NOT NULL,
    due_closed  INTEGER NOT NULL, -- dispatched and closed (the fixed part of 应结案数)
    closed      INTEGER NOT NULL,
    on_time     INTEGER NOT NULL,
    reworked    INTEGER NOT NULL,
    extended    INTEGER NOT NULL,
    deferred    INTEGER NOT NULL,
    right_first INTEGER NOT NULL,
    handling_us INTEGER NOT NULL, -- sum over closed cases of closed_at − dispatched_at
    PRIMARY KEY (day, township, department, class_code)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER cases_rollup_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO case_daily VALUES (
        strftime('%Y-%m-%d', NEW.reported_at / 1000000
            + (SELECT utc_offset_minutes * 60 FROM case_rollup_meta), 'unixepoch'),
        substr(NEW.division, 1, 9), COALESCE(NEW.department, ''), NEW.class_code,
        1, NEW.filed_at IS NOT NULL, NEW.dispatched_at IS NOT NULL,
        NEW.dispatched_at IS NOT NULL AND NEW.closed_at IS NOT NULL,
        NEW.state IN ('closed', 'evaluated'),
        NEW.state IN ('closed', 'evaluated') AND NEW.handled_on_time IS 1,
        NEW.reworks > 0, NEW.extensions > 0, NEW.deferrals > 0,
        NEW.dispatched_at IS NOT NULL AND NEW.returns = 0,
        CASE WHEN NEW.state IN ('closed', 'evaluated')
            THEN COALESCE(NEW.closed_at - NEW.dispatched_at, 0) ELSE 0 END)
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, filed = filed + excluded.filed,
        dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
        closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
        reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
        deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
        handling_us = handling_us + excluded.handling_us;
END;

CREATE TRIGGER cases_rollup_update AFTER UPDATE ON cases
BEGIN
    INSERT INTO case_daily VALUES (
        strftime('%Y-%m-%d', OLD.reported_at / 1000000
            + (SELECT utc_offset_minutes * 60 FROM case_rollup_meta), 'unixepoch'),
        substr(OLD.division, 1, 9), COALESCE(OLD.department, ''), OLD.class_code,
        -1, -(OLD.filed_at IS NOT NULL), -(OLD.dispatched_at IS NOT NULL),
        -(OLD.dispatched_at IS NOT NULL AND OLD.closed_at IS NOT NULL),
        -(OLD.state IN ('closed', 'evaluated')),
        -(OLD.state IN ('closed', 'evaluated') AND OLD.handled_on_time IS 1),
        -(OLD.reworks > 0), -(OLD.extensions > 0), -(OLD.deferrals > 0),
        -(OLD.dispatched_at IS NOT NULL AND OLD.returns = 0),
        -(CASE WHEN OLD.state IN ('closed', 'evaluated')
            THEN COALESCE(OLD.closed_at - OLD.dispatched_at, 0) ELSE 0 END))
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, filed = filed + excluded.filed,
        dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
        closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
        reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
        deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
        handling_us = handling_us + excluded.handling_us;
    INSERT INTO case_daily VALUES (
        strftime('%Y-%m-%d', NEW.reported_at / 1000000
            + (SELECT utc_offset_minutes * 60 FROM case_rollup_meta), 'unixepoch'),
        substr(NEW.division, 1, 9), COALESCE(NEW.department, ''), NEW.class_code,
        1, NEW.filed_at IS NOT NULL, NEW.dispatched_at IS NOT NULL,
        NEW.dispatched_at IS NOT NULL AND NEW.closed_at IS NOT NULL,
        NEW.state IN ('closed', 'evaluated'),
        NEW.state IN ('closed', 'evaluated') AND NEW.handled_on_time IS 1,
        NEW.reworks > 0, NEW.extensions > 0, NEW.deferrals > 0,
        NEW.dispatched_at IS NOT NULL AND NEW.returns = 0,
        CASE WHEN NEW.state IN ('closed', 'evaluated')
            THEN COALESCE(NEW.closed_at - NEW.dispatched_at, 0) ELSE 0 END)
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, filed = filed + excluded.filed,
        dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
        closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
        reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
        deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
        handling_us = handling_us + excluded.handling_us;
END;

-- 应结案数's moving part: dispatched cases not closed, by handling deadline. Small: only the
-- open dispatched cases.
CREATE INDEX cases_open_dispatched ON cases(handle_deadline)
    WHERE dispatched_at IS NOT NULL AND closed_at IS NULL;

-- Listings by state and period (Open311 `status` with `start_date`/`end_date`, exports): the
-- planner otherwise walks a whole state (a year's closed cases) through `cases_state_deadline`.
CREATE INDEX cases_state_reported ON cases(state, reported_at);

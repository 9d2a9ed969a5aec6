-- Monthly rollups (考核统计月汇总): figures by village and grid, and whole months, from rollups.
--
-- `case_daily` is keyed by day and township: figures by village or grid (at ten million cases a
-- district-year is a million of them) were one grouped scan of the period's cases (seconds), and
-- a district-year summed about 200,000 daily rows, three times per figure (period, 环比, 同比).
-- Two monthly rollups hold the same additive counts:
-- - `case_monthly` (月汇总): `case_daily`'s keys by local month;
-- - `case_monthly_place` (月网格汇总): local month × division (the case's own, township or
--   village) × grid ('' for none).
-- A period's whole months are summed from one of them, the parts of months at its ends from
-- `case_daily` or, by village and grid, scanned (`zhili_case::metrics::rollup_plan`).
--
-- Kept like `case_daily`: the store adds each intake batch in one grouped upsert per rollup, and
-- an update moves the case's contribution out (BEFORE) and in (AFTER). Both update triggers now
-- go through `case_rollup_change`, a view whose INSTEAD OF trigger applies a signed contribution
-- to every rollup, so each rollup's upsert is written once here.

CREATE TABLE case_monthly_place (
    month       TEXT NOT NULL,    -- YYYY-MM, local, of the report
    division    TEXT NOT NULL,    -- the case's division (township or village code)
    grid        TEXT NOT NULL,    -- '' for none
    reported    INTEGER NOT NULL,
    filed       INTEGER NOT NULL,
    dispatched  INTEGER NOT NULL,
    due_closed  INTEGER NOT NULL,
    closed      INTEGER NOT NULL,
    on_time     INTEGER NOT NULL,
    reworked    INTEGER NOT NULL,
    extended    INTEGER NOT NULL,
    deferred    INTEGER NOT NULL,
    right_first INTEGER NOT NULL,
    handling_us INTEGER NOT NULL,
    PRIMARY KEY (month, division, grid)
) STRICT, WITHOUT ROWID;

CREATE TABLE case_monthly (
    month       TEXT NOT NULL,    -- YYYY-MM, local, of the report
    township    TEXT NOT NULL,
    department  TEXT NOT NULL,
    class_code  TEXT NOT NULL,
    reported    INTEGER NOT NULL,
    filed       INTEGER NOT NULL,
    dispatched  INTEGER NOT NULL,
    due_closed  INTEGER NOT NULL,
    closed      INTEGER NOT NULL,
    on_time     INTEGER NOT NULL,
    reworked    INTEGER NOT NULL,
    extended    INTEGER NOT NULL,
    deferred    INTEGER NOT NULL,
    right_first INTEGER NOT NULL,
    handling_us INTEGER NOT NULL,
    PRIMARY KEY (month, township, department, class_code)
) STRICT, WITHOUT ROWID;

DROP TRIGGER cases_rollup_out;
DROP TRIGGER cases_rollup_in;
DROP VIEW case_contribution;

CREATE VIEW case_contribution AS
SELECT id,
    strftime('%Y-%m-%d', reported_at / 1000000
        + (SELECT utc_offset_minutes * 60 FROM case_rollup_meta), 'unixepoch') AS day,
    strftime('%Y-%m', reported_at / 1000000
        + (SELECT utc_offset_minutes * 60 FROM case_rollup_meta), 'unixepoch') AS month,
    substr(division, 1, 9) AS township,
    division,
    COALESCE(grid, '') AS grid,
    COALESCE(department, '') AS department,
    class_code,
    1 AS reported,
    filed_at IS NOT NULL AS filed,
    dispatched_at IS NOT NULL AS dispatched,
    dispatched_at IS NOT NULL AND closed_at IS NOT NULL AS due_closed,
    state IN ('closed', 'evaluated') AS closed,
    state IN ('closed', 'evaluated') AND handled_on_time IS 1 AS on_time,
    reworks > 0 AS reworked,
    extensions > 0 AS extended,
    deferrals > 0 AS deferred,
    dispatched_at IS NOT NULL AND returns = 0 AS right_first,
    CASE WHEN state IN ('closed', 'evaluated') THEN COALESCE(closed_at - dispatched_at, 0) ELSE 0 END AS handling_us
FROM cases;

-- Insert (sign, id): add (1) or take away (-1) case `id`'s current contribution to every rollup.
CREATE VIEW case_rollup_change AS SELECT 0 AS sign, 0 AS id WHERE false;

CREATE TRIGGER case_rollup_change INSTEAD OF INSERT ON case_rollup_change
BEGIN
    INSERT INTO case_daily
    SELECT day, township, department, class_code, NEW.sign * reported, NEW.sign * filed,
           NEW.sign * dispatched, NEW.sign * due_closed, NEW.sign * closed, NEW.sign * on_time,
           NEW.sign * reworked, NEW.sign * extended, NEW.sign * deferred, NEW.sign * right_first,
           NEW.sign * handling_us
      FROM case_contribution WHERE id = NEW.id
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, filed = filed + excluded.filed,
        dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
        closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
        reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
        deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
        handling_us = handling_us + excluded.handling_us;
    INSERT INTO case_monthly
    SELECT month, township, department, class_code, NEW.sign * reported, NEW.sign * filed,
           NEW.sign * dispatched, NEW.sign * due_closed, NEW.sign * closed, NEW.sign * on_time,
           NEW.sign * reworked, NEW.sign * extended, NEW.sign * deferred, NEW.sign * right_first,
           NEW.sign * handling_us
      FROM case_contribution WHERE id = NEW.id
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, filed = filed + excluded.filed,
        dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
        closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
        reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
        deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
        handling_us = handling_us + excluded.handling_us;
    INSERT INTO case_monthly_place
    SELECT month, division, grid, NEW.sign * reported, NEW.sign * filed,
           NEW.sign * dispatched, NEW.sign * due_closed, NEW.sign * closed, NEW.sign * on_time,
           NEW.sign * reworked, NEW.sign * extended, NEW.sign * deferred, NEW.sign * right_first,
           NEW.sign * handling_us
      FROM case_contribution WHERE id = NEW.id
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, filed = filed + excluded.filed,
        dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
        closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
        reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
        deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
        handling_us = handling_us + excluded.handling_us;
END;

CREATE TRIGGER cases_rollup_out BEFORE UPDATE ON cases
BEGIN
    INSERT INTO case_rollup_change VALUES (-1, OLD.id);
END;

CREATE TRIGGER cases_rollup_in AFTER UPDATE ON cases
BEGIN
    INSERT INTO case_rollup_change VALUES (1, NEW.id);
END;

INSERT INTO case_monthly_place
SELECT month, division, grid, sum(reported), sum(filed), sum(dispatched), sum(due_closed), sum(closed),
       sum(on_time), sum(reworked), sum(extended), sum(deferred), sum(right_first), sum(handling_us)
  FROM case_contribution GROUP BY 1, 2, 3;

INSERT INTO case_monthly
SELECT substr(day, 1, 7), township, department, class_code, sum(reported), sum(filed), sum(dispatched),
       sum(due_closed), sum(closed), sum(on_time), sum(reworked), sum(extended), sum(deferred),
       sum(right_first), sum(handling_us)
  FROM case_daily GROUP BY 1, 2, 3, 4;

-- 应结案数's moving part by grid: the partial index of open dispatched cases carries the grid.
DROP INDEX cases_open_dispatched;
CREATE INDEX cases_open_dispatched
    ON cases(reported_at, handle_deadline, division, grid, department, class_code, dispatched_at, closed_at)
    WHERE dispatched_at IS NOT NULL AND closed_at IS NULL;

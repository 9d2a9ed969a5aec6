-- The daily rollup, kept per batch on intake (考核统计日汇总, 批量维护).
--
-- 0004 added each new case to `case_daily` with a row trigger: one upsert per report, a tenth of
-- the cost of a report at thousands per second. SQLite has no statement triggers, so the store
-- now adds a whole intake batch (or bulk load) in one grouped upsert after inserting its rows;
-- updates (one case per transition) still move a case's contribution by trigger.
--
-- A case's contribution is defined once, by the view `case_contribution`: the batch upsert, the
-- rebuild and both update triggers read it. The update moves the old contribution out before the
-- row changes and the new one in after, each read from the view by the case's id.

DROP TRIGGER cases_rollup_insert;
DROP TRIGGER cases_rollup_update;

CREATE VIEW case_contribution AS
SELECT id,
    strftime('%Y-%m-%d', reported_at / 1000000
        + (SELECT utc_offset_minutes * 60 FROM case_rollup_meta), 'unixepoch') AS day,
    substr(division, 1, 9) AS township,
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

CREATE TRIGGER cases_rollup_out BEFORE UPDATE ON cases
BEGIN
    INSERT INTO case_daily
    SELECT day, township, department, class_code, -reported, -filed, -dispatched, -due_closed, -closed,
           -on_time, -reworked, -extended, -deferred, -right_first, -handling_us
      FROM case_contribution WHERE id = OLD.id
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, filed = filed + excluded.filed,
        dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
        closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
        reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
        deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
        handling_us = handling_us + excluded.handling_us;
END;

CREATE TRIGGER cases_rollup_in AFTER UPDATE ON cases
BEGIN
    INSERT INTO case_daily
    SELECT day, township, department, class_code, reported, filed, dispatched, due_closed, closed,
           on_time, reworked, extended, deferred, right_first, handling_us
      FROM case_contribution WHERE id = NEW.id
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, filed = filed + excluded.filed,
        dispatched = dispatched + excluded.dispatched, due_closed = due_closed + excluded.due_closed,
        closed = closed + excluded.closed, on_time = on_time + excluded.on_time,
        reworked = reworked + excluded.reworked, extended = extended + excluded.extended,
        deferred = deferred + excluded.deferred, right_first = right_first + excluded.right_first,
        handling_us = handling_us + excluded.handling_us;
END;

-- The monthly rollup (考核统计月汇总): `case_daily`'s keys by local month.
--
-- A district-year from `case_daily` sums about 200,000 rows (a day × township × department ×
-- class each): a third of a second in SQLite's VM for twelve sums, three times per figure
-- (period, 环比, 同比). `case_monthly` holds the same counts per month: a period's whole months
-- are summed from it and only the parts of months at its ends from `case_daily`
-- (`zhili_case::metrics::rollup_plan`). Kept with the others: the intake batch upsert, and the
-- signed contribution of `case_rollup_change` (its trigger now upserts into all three).

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

INSERT INTO case_monthly
SELECT substr(day, 1, 7), township, department, class_code, sum(reported), sum(filed), sum(dispatched),
       sum(due_closed), sum(closed), sum(on_time), sum(reworked), sum(extended), sum(deferred),
       sum(right_first), sum(handling_us)
  FROM case_daily GROUP BY 1, 2, 3, 4;

DROP TRIGGER case_rollup_change;

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

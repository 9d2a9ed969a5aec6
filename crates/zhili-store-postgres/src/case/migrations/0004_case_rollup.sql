-- The daily rollup of the evaluation figures (考核统计日汇总), kept by a trigger, and an index for
-- listings by state and period. The same design as SQLite's 0004_case_rollup.sql:
--
-- `case_daily` holds the additive counts of `zhili_case::metrics::Tally` for the cases reported
-- on one local day in one township, dispatched to one department ('' for none), of one class.
-- The trigger adds a case's contribution on insert and moves it (old row's out, new row's in) on
-- update, in the writing transaction, so the rollup always equals a scan of `cases`. 应结案数
-- depends on the evaluation instant: the rollup keeps its fixed part (`due_closed`) and the store
-- counts open dispatched cases past their handling deadline from `cases_open_dispatched`.
-- Local days are taken at `case_rollup_meta.utc_offset_minutes` (China: +480).

CREATE TABLE case_rollup_meta (
    id                 integer PRIMARY KEY CHECK (id = 1),
    utc_offset_minutes integer NOT NULL
);
INSERT INTO case_rollup_meta VALUES (1, 480);

CREATE TABLE case_daily (
    day         date NOT NULL,
    township    text COLLATE "C" NOT NULL,
    department  text COLLATE "C" NOT NULL,
    class_code  text COLLATE "C" NOT NULL,
    reported    bigint NOT NULL,
    filed       bigint NOT NULL,
    dispatched  bigint NOT NULL,
    due_closed  bigint NOT NULL,
    closed      bigint NOT NULL,
    on_time     bigint NOT NULL,
    reworked    bigint NOT NULL,
    extended    bigint NOT NULL,
    deferred    bigint NOT NULL,
    right_first bigint NOT NULL,
    handling_us bigint NOT NULL,
    PRIMARY KEY (day, township, department, class_code)
);

-- Add `sign` times a case row's contribution to its day's row.
CREATE FUNCTION case_daily_add(c cases, sign integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO case_daily VALUES (
        (c.reported_at AT TIME ZONE 'UTC'
            + make_interval(mins => (SELECT utc_offset_minutes FROM case_rollup_meta)))::date,
        left(c.division, 9), COALESCE(c.department, ''), c.class_code,
        sign,
        sign * (c.filed_at IS NOT NULL)::int,
        sign * (c.dispatched_at IS NOT NULL)::int,
        sign * (c.dispatched_at IS NOT NULL AND c.closed_at IS NOT NULL)::int,
        sign * (c.state IN ('closed', 'evaluated'))::int,
        sign * (c.state IN ('closed', 'evaluated') AND c.handled_on_time IS TRUE)::int,
        sign * (c.reworks > 0)::int,
        sign * (c.extensions > 0)::int,
        sign * (c.deferrals > 0)::int,
        sign * (c.dispatched_at IS NOT NULL AND c.returns = 0)::int,
        sign * CASE WHEN c.state IN ('closed', 'evaluated')
            THEN COALESCE((EXTRACT(EPOCH FROM c.closed_at - c.dispatched_at) * 1000000)::bigint, 0)
            ELSE 0 END)
    ON CONFLICT (day, township, department, class_code) DO UPDATE SET
        reported = case_daily.reported + excluded.reported,
        filed = case_daily.filed + excluded.filed,
        dispatched = case_daily.dispatched + excluded.dispatched,
        due_closed = case_daily.due_closed + excluded.due_closed,
        closed = case_daily.closed + excluded.closed,
        on_time = case_daily.on_time + excluded.on_time,
        reworked = case_daily.reworked + excluded.reworked,
        extended = case_daily.extended + excluded.extended,
        deferred = case_daily.deferred + excluded.deferred,
        right_first = case_daily.right_first + excluded.right_first,
        handling_us = case_daily.handling_us + excluded.handling_us;
$$;

CREATE FUNCTION cases_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM case_daily_add(OLD, -1);
    END IF;
    PERFORM case_daily_add(NEW, 1);
    RETURN NULL;
END;
$$;

CREATE TRIGGER cases_rollup AFTER INSERT OR UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_rollup();

-- 应结案数's moving part: dispatched cases not closed, by handling deadline.
CREATE INDEX cases_open_dispatched ON cases (handle_deadline)
    WHERE dispatched_at IS NOT NULL AND closed_at IS NULL;

-- Listings by state and period (Open311 `status` with dates, exports).
CREATE INDEX cases_state_reported ON cases (state, reported_at);

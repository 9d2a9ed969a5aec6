-- The daily rollup, kept per statement (考核统计日汇总, 按语句维护).
--
-- 0004 kept `case_daily` with a row trigger: one PL/pgSQL call and one upsert per report, which
-- halved intake throughput. Statement triggers with transition tables add a whole intake batch
-- (or move a transition's case) in one grouped upsert.
--
-- A case's contribution is defined once, by `case_daily_merge_sql(source)`: the text of the
-- grouped upsert over a source of rows (`sign`, then the columns of `cases`). The triggers run
-- it over their transition tables (only visible to statements the trigger function itself runs,
-- hence the text and EXECUTE); the rebuild runs it over `cases`. Groups are upserted in key
-- order, so two concurrent writers lock rollup rows in the same order and cannot deadlock.

DROP TRIGGER cases_rollup ON cases;
DROP FUNCTION cases_rollup();
DROP FUNCTION case_daily_add(cases, integer);

CREATE FUNCTION case_daily_merge_sql(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
SELECT format($q$
    INSERT INTO case_daily
    SELECT (c.reported_at AT TIME ZONE 'UTC' + make_interval(mins => m.utc_offset_minutes))::date,
           left(c.division, 9), COALESCE(c.department, ''), c.class_code,
           sum(c.sign),
           sum(c.sign * (c.filed_at IS NOT NULL)::int),
           sum(c.sign * (c.dispatched_at IS NOT NULL)::int),
           sum(c.sign * (c.dispatched_at IS NOT NULL AND c.closed_at IS NOT NULL)::int),
           sum(c.sign * (c.state IN ('closed', 'evaluated'))::int),
           sum(c.sign * (c.state IN ('closed', 'evaluated') AND c.handled_on_time IS TRUE)::int),
           sum(c.sign * (c.reworks > 0)::int),
           sum(c.sign * (c.extensions > 0)::int),
           sum(c.sign * (c.deferrals > 0)::int),
           sum(c.sign * (c.dispatched_at IS NOT NULL AND c.returns = 0)::int),
           sum(c.sign * CASE WHEN c.state IN ('closed', 'evaluated')
               THEN COALESCE((EXTRACT(EPOCH FROM c.closed_at - c.dispatched_at) * 1000000)::bigint, 0)
               ELSE 0 END)
      FROM (%s) AS c CROSS JOIN case_rollup_meta AS m
     GROUP BY 1, 2, 3, 4
     ORDER BY 1, 2, 3, 4
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
        handling_us = case_daily.handling_us + excluded.handling_us
$q$, source)
$f$;

CREATE FUNCTION cases_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE case_daily_merge_sql('SELECT 1 AS sign, * FROM new_rows');
    ELSE
        EXECUTE case_daily_merge_sql(
            'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1 AS sign, * FROM old_rows');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER cases_rollup_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cases_rollup();

CREATE TRIGGER cases_rollup_update AFTER UPDATE ON cases
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cases_rollup();

-- Monthly rollups (考核统计月汇总), as SQLite's 0013_monthly_rollups.sql: `case_monthly`
-- (`case_daily`'s keys by local month) and `case_monthly_place` (local month × division × grid,
-- '' for none). A period's whole months are summed from one of them instead of a year's daily
-- rows or, by village and grid, a scan of its cases.
--
-- Every rollup is kept by the same statement triggers. A rollup's upsert is one text, made by
-- `case_rollup_merge_sql(target, keys, source)` from its key expressions; a case's contribution
-- (the counts) is written once, there. `case_rollup_merge_sqls(source)` lists the upserts of
-- every rollup, in a fixed order (so concurrent writers lock rollup rows in the same order).

CREATE TABLE case_monthly_place (
    month       date NOT NULL,    -- first day of the local month of the report
    division    text COLLATE "C" NOT NULL,
    grid        text COLLATE "C" NOT NULL,
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
    PRIMARY KEY (month, division, grid)
);

CREATE TABLE case_monthly (
    month       date NOT NULL,    -- first day of the local month of the report
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
    PRIMARY KEY (month, township, department, class_code)
);

CREATE FUNCTION case_rollup_merge_sql(target text, keys text[], source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$
SELECT format($q$
    INSERT INTO %1$I
    SELECT %2$s,
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
      FROM (%3$s) AS c CROSS JOIN case_rollup_meta AS m
     GROUP BY %4$s
     ORDER BY %4$s
    ON CONFLICT ON CONSTRAINT %5$I DO UPDATE SET
        reported = %1$I.reported + excluded.reported,
        filed = %1$I.filed + excluded.filed,
        dispatched = %1$I.dispatched + excluded.dispatched,
        due_closed = %1$I.due_closed + excluded.due_closed,
        closed = %1$I.closed + excluded.closed,
        on_time = %1$I.on_time + excluded.on_time,
        reworked = %1$I.reworked + excluded.reworked,
        extended = %1$I.extended + excluded.extended,
        deferred = %1$I.deferred + excluded.deferred,
        right_first = %1$I.right_first + excluded.right_first,
        handling_us = %1$I.handling_us + excluded.handling_us
$q$, target, array_to_string(keys, ', '), source,
    (SELECT string_agg(i::text, ', ') FROM generate_series(1, cardinality(keys)) AS i),
    target || '_pkey')
$f$;

CREATE FUNCTION case_rollup_merge_sqls(source text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $f$
SELECT ARRAY[
    case_rollup_merge_sql('case_daily', ARRAY[
        $$(c.reported_at AT TIME ZONE 'UTC' + make_interval(mins => m.utc_offset_minutes))::date$$,
        'left(c.division, 9)', $$COALESCE(c.department, '')$$, 'c.class_code'], source),
    case_rollup_merge_sql('case_monthly', ARRAY[
        $$date_trunc('month', c.reported_at AT TIME ZONE 'UTC' + make_interval(mins => m.utc_offset_minutes))::date$$,
        'left(c.division, 9)', $$COALESCE(c.department, '')$$, 'c.class_code'], source),
    case_rollup_merge_sql('case_monthly_place', ARRAY[
        $$date_trunc('month', c.reported_at AT TIME ZONE 'UTC' + make_interval(mins => m.utc_offset_minutes))::date$$,
        'c.division', $$COALESCE(c.grid, '')$$], source)
]
$f$;

CREATE OR REPLACE FUNCTION cases_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    merge text;
BEGIN
    FOREACH merge IN ARRAY case_rollup_merge_sqls(CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
        ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1 AS sign, * FROM old_rows' END)
    LOOP
        EXECUTE merge;
    END LOOP;
    RETURN NULL;
END;
$$;

DROP FUNCTION case_daily_merge_sql(text);

INSERT INTO case_monthly
SELECT date_trunc('month', day)::date, township, department, class_code, sum(reported), sum(filed),
       sum(dispatched), sum(due_closed), sum(closed), sum(on_time), sum(reworked), sum(extended),
       sum(deferred), sum(right_first), sum(handling_us)
  FROM case_daily GROUP BY 1, 2, 3, 4;

-- The place rollup's rows come from the cases (its upsert is the list's third).
DO $$
BEGIN
    EXECUTE (case_rollup_merge_sqls('SELECT 1 AS sign, * FROM cases'))[3];
END;
$$;

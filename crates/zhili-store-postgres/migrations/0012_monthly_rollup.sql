-- The monthly rollup (考核统计月汇总), as SQLite's 0014_monthly_rollup.sql: `case_daily`'s keys
-- by local month, so a period's whole months sum a twentieth of the daily rows; the parts of
-- months at its ends are summed from `case_daily`. Kept by the same statement triggers: it joins
-- the list of `case_rollup_merge_sqls` (after the daily one, before the place one).

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

INSERT INTO case_monthly
SELECT date_trunc('month', day)::date, township, department, class_code, sum(reported), sum(filed),
       sum(dispatched), sum(due_closed), sum(closed), sum(on_time), sum(reworked), sum(extended),
       sum(deferred), sum(right_first), sum(handling_us)
  FROM case_daily GROUP BY 1, 2, 3, 4;

CREATE OR REPLACE FUNCTION case_rollup_merge_sqls(source text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $f$
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

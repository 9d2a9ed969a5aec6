-- 应结案数's moving part (open dispatched cases past their handling deadline) is counted by
-- period, jurisdiction and group for every figure. At scale there are hundreds of thousands of
-- open dispatched cases: with the report time, division, department and class in the partial
-- index, that count never reads a case row (it took seconds for a district-year at ten million).
-- (SQLite re-checks a partial index's own condition on the row unless its columns are in the
-- index: they are, so the scan stays on the index.)
DROP INDEX cases_open_dispatched;
CREATE INDEX cases_open_dispatched
    ON cases(handle_deadline, reported_at, division, department, class_code, dispatched_at, closed_at)
    WHERE dispatched_at IS NOT NULL AND closed_at IS NULL;

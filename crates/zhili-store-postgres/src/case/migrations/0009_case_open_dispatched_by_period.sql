-- 应结案数's moving part is always counted within a period: key the partial index of open
-- dispatched cases by report time, carrying what the count filters and groups on
-- (as SQLite's 0012_open_dispatched_by_period.sql).
DROP INDEX cases_open_dispatched;
CREATE INDEX cases_open_dispatched ON cases (reported_at)
    INCLUDE (handle_deadline, division, department, class_code, grid)
    WHERE dispatched_at IS NOT NULL AND closed_at IS NULL;

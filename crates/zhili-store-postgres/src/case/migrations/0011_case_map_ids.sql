-- A period's worklist (cases reported in the last week, a month's closed cases) picks its page's
-- ids from `cases_map` (0006), then reads only that page's bodies. Without `id` in the index it
-- read every matching case's heap row for its id; with it, the pick is an index-only scan.
DROP INDEX cases_map;
CREATE INDEX cases_map ON cases (reported_at)
    INCLUDE (lon, lat, state, class_code, deadline, division, grid, department, id);

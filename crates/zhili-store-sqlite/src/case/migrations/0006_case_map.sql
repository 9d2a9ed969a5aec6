-- Cases on the One Map (案件图层): points in a box and density cells over a period.
--
-- The map asks "cases reported in this period, in this box, of these states, in my jurisdiction"
-- and reads only these columns. With all of them in one index, both the newest-first points
-- (read backwards from the period's end, stopping at the limit) and the grouped density of a
-- district-year are answered from the index alone: no case row (with its JSON body) is read.
CREATE INDEX cases_map ON cases(reported_at, lon, lat, state, class_code, deadline, division, grid, department);
-- It leads with reported_at, so it also serves every period filter: the plain period index of
-- 0003 is one more entry to write per case for nothing.
DROP INDEX cases_reported;

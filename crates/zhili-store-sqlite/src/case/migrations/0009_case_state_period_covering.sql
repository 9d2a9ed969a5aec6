-- A list of one state within a period (a closed month a year ago: tens of thousands of cases)
-- is sorted in the worklist order; with the deadline, division and class in the index, the sort
-- and the jurisdiction and class checks read no case row.
DROP INDEX cases_state_reported;
CREATE INDEX cases_state_reported ON cases(state, reported_at, deadline, division, class_code);

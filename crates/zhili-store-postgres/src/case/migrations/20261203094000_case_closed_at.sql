-- Cases closed since an instant (a leader's 今日结案 and its worklist, `CaseFilter::closed_from`):
-- a range of this index instead of every closed case's row. Partial: open cases have no
-- closing time.
CREATE INDEX cases_closed ON cases (closed_at) WHERE closed_at IS NOT NULL;

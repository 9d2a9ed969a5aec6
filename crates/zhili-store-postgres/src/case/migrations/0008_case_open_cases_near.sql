-- Duplicate suggestions on intake (重复案件提示): the open cases of one class in a small box.
-- As on SQLite (0011_open_cases_near.sql): an index of open cases only, carrying what the answer
-- needs, instead of every case's (class, lon). The query states the index's condition.
DROP INDEX cases_class_lon;
CREATE INDEX cases_open_near ON cases (class_code, lon, lat) INCLUDE (state, deadline)
    WHERE state NOT IN ('closed', 'evaluated', 'voided');

-- Duplicate suggestions on intake (重复案件提示): the open cases of one class in a small box.
--
-- Every report asks this once. `cases_class_lon` (0003) found the box's cases but read each
-- case row (with its JSON body) for the state and the deadline, closed cases included. This
-- index holds only open cases, with everything the answer needs, so the lookup never leaves it.
-- The query repeats the index's condition word for word, which is how SQLite knows it applies.
DROP INDEX cases_class_lon;
CREATE INDEX cases_open_near ON cases(class_code, lon, lat, state, deadline)
    WHERE state NOT IN ('closed', 'evaluated', 'voided');

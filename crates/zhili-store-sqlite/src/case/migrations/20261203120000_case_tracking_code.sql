-- The citizen's tracking code (查询码) of a publicly reported case: the public finds a case by it
-- alone (its sequential number stays internal). A projection of the body like every column, here
-- computed from it (a virtual column costs no space); the unique index answers the lookup and
-- refuses a second case with the same code. NULLs (internal cases) do not collide.
ALTER TABLE cases ADD COLUMN tracking_code TEXT GENERATED ALWAYS AS (json_extract(body, '$.tracking_code')) VIRTUAL;
CREATE UNIQUE INDEX cases_tracking_code ON cases(tracking_code);

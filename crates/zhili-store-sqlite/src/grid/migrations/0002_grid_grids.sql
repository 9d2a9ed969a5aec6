-- Grids (网格) under villages/communities, and the grid workers assigned to them.

CREATE TABLE grids (
    code         TEXT PRIMARY KEY,
    village_code TEXT NOT NULL REFERENCES divisions(code),
    level        INTEGER NOT NULL CHECK (level >= 1),
    parent_code  TEXT REFERENCES grids(code),
    name         TEXT NOT NULL,
    boundary     TEXT NOT NULL -- GeoJSON (Multi)Polygon, WGS-84/CGCS2000 lon/lat
) STRICT;
CREATE INDEX grids_village ON grids(village_code);
CREATE INDEX grids_parent ON grids(parent_code);

CREATE TABLE grid_workers (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    grid_code TEXT NOT NULL REFERENCES grids(code) ON DELETE CASCADE,
    duty      TEXT NOT NULL CHECK (duty IN ('leader', 'full_time', 'part_time')),
    PRIMARY KEY (user_id, grid_code)
) STRICT;
CREATE INDEX grid_workers_grid ON grid_workers(grid_code);

-- Grids (网格) under villages/communities, and the grid workers assigned to them.
-- Boundaries are PostGIS geometries so GIS staff can open the table in QGIS.

CREATE TABLE grids (
    code         text COLLATE "C" PRIMARY KEY,
    village_code text COLLATE "C" NOT NULL REFERENCES divisions(code),
    level        smallint NOT NULL CHECK (level >= 1),
    parent_code  text COLLATE "C" REFERENCES grids(code),
    name         text NOT NULL,
    boundary     geometry(Geometry, 4326) NOT NULL
                 CHECK (GeometryType(boundary) IN ('POLYGON', 'MULTIPOLYGON'))
);
CREATE INDEX grids_village ON grids(village_code);
CREATE INDEX grids_parent ON grids(parent_code);
CREATE INDEX grids_boundary ON grids USING gist (boundary);

CREATE TABLE grid_workers (
    user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    grid_code text COLLATE "C" NOT NULL REFERENCES grids(code) ON DELETE CASCADE,
    duty      text NOT NULL CHECK (duty IN ('leader', 'full_time', 'part_time')),
    PRIMARY KEY (user_id, grid_code)
);
CREATE INDEX grid_workers_grid ON grid_workers(grid_code);

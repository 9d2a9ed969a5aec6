//! Reading GeoPackages: hand-built fixtures with hand-encoded geometry blobs, every error a GIS
//! technician can meet, and a file written by real GIS software (GDAL via ogr2ogr, pyogrio or fiona).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use tempfile::TempDir;
use zhili_gpkg::{layers, read_features, GpkgError, Layer, Options};

// ---------------------------------------------------------------------------------------------
// Geometry blobs, encoded by hand.

#[derive(Clone, Copy)]
enum Order {
    Big,
    Little,
}

struct Bytes(Vec<u8>, Order);

impl Bytes {
    fn new(order: Order) -> Bytes {
        Bytes(Vec::new(), order)
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend(match self.1 {
            Order::Big => v.to_be_bytes(),
            Order::Little => v.to_le_bytes(),
        });
        self
    }
    fn f64(&mut self, v: f64) -> &mut Self {
        self.0.extend(match self.1 {
            Order::Big => v.to_be_bytes(),
            Order::Little => v.to_le_bytes(),
        });
        self
    }
    /// A WKB header: byte order and type code.
    fn wkb(order: Order, code: u32) -> Bytes {
        let mut b = Bytes::new(order);
        b.0.push(matches!(order, Order::Little) as u8);
        b.u32(code);
        b
    }
}

/// WKB Polygon with `type_code` (3, 1003, 0x80000003, …); ordinates after x and y are written as 99.
fn polygon(order: Order, type_code: u32, dims: usize, rings: &[&[[f64; 2]]]) -> Vec<u8> {
    let mut b = Bytes::wkb(order, type_code);
    b.u32(rings.len() as u32);
    for ring in rings {
        b.u32(ring.len() as u32);
        for [x, y] in ring.iter() {
            b.f64(*x).f64(*y);
            for _ in 2..dims {
                b.f64(99.0);
            }
        }
    }
    b.0
}

fn multipolygon(order: Order, members: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Bytes::wkb(order, 6);
    b.u32(members.len() as u32);
    for m in members {
        b.0.extend(m);
    }
    b.0
}

/// A GeoPackage blob: header (`envelope` of 0, 4, 6 or 8 doubles), srs_id, WKB.
fn gp(order: Order, envelope: &[f64], srs_id: i32, wkb: &[u8]) -> Vec<u8> {
    let indicator = match envelope.len() {
        0 => 0,
        4 => 1,
        6 => 2,
        8 => 4,
        n => panic!("no envelope has {n} values"),
    };
    let mut b = Bytes::new(order);
    b.0.extend([b'G', b'P', 0, (indicator << 1) | matches!(order, Order::Little) as u8]);
    b.u32(srs_id as u32);
    for v in envelope {
        b.f64(*v);
    }
    b.0.extend(wkb);
    b.0
}

fn square(x: f64, y: f64, size: f64) -> Vec<[f64; 2]> {
    vec![[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
}

fn le_square_blob() -> Vec<u8> {
    gp(Order::Little, &[], 4326, &polygon(Order::Little, 3, 2, &[&square(117.0, 36.0, 0.01)]))
}

// ---------------------------------------------------------------------------------------------
// A GeoPackage built with sqlx: the three required tables (OGC 12-128r18 §1.1.2, §1.1.3, §2.1.5)
// and feature tables of grids.

struct Fixture {
    _dir: TempDir,
    path: PathBuf,
    conn: SqliteConnection,
}

const GRID_COLUMNS: &str = "fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom BLOB, code TEXT, name TEXT, \
                            level INTEGER, parent TEXT";

impl Fixture {
    /// An empty SQLite file (no tables).
    async fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.gpkg");
        // Foreign keys off, so a layer can point at an srs_id that gpkg_spatial_ref_sys lacks.
        let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true).foreign_keys(false);
        let conn = SqliteConnection::connect_with(&options).await.unwrap();
        Fixture { _dir: dir, path, conn }
    }

    /// A GeoPackage without layers; spatial reference systems -1, 0, 4326, 4490, 3857, and 100001
    /// (CGCS2000 again, under a private srs_id and a lower-case organisation).
    async fn new() -> Fixture {
        let mut f = Fixture::sqlite().await;
        f.exec(&format!("PRAGMA application_id = {}", 0x4750_4B47)).await;
        f.exec(
            "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, \
             organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, \
             description TEXT)",
        )
        .await;
        f.exec(
            "INSERT INTO gpkg_spatial_ref_sys VALUES \
             ('Undefined Cartesian SRS', -1, 'NONE', -1, 'undefined', NULL), \
             ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL), \
             ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS[\"WGS 84\"]', NULL), \
             ('China Geodetic Coordinate System 2000', 4490, 'EPSG', 4490, 'GEOGCS[\"China 2000\"]', NULL), \
             ('WGS 84 / Pseudo-Mercator', 3857, 'EPSG', 3857, 'PROJCS[\"WGS 84 / Pseudo-Mercator\"]', NULL), \
             ('CGCS2000 (private id)', 100001, 'epsg', 4490, 'GEOGCS[\"China 2000\"]', NULL)",
        )
        .await;
        f.exec(
            "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, \
             identifier TEXT UNIQUE, description TEXT DEFAULT '', \
             last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), \
             min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, \
             CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
        )
        .await;
        f.exec(
            "CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, \
             geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, \
             CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), \
             CONSTRAINT uk_gc_table_name UNIQUE (table_name), \
             CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), \
             CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))",
        )
        .await;
        f
    }

    async fn exec(&mut self, sql: &str) {
        sqlx::raw_sql(sql).execute(&mut self.conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Registers a feature layer in gpkg_contents and gpkg_geometry_columns (column `geom`).
    async fn register(&mut self, table: &str, srs_id: i64) {
        sqlx::query(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?1, 'features', ?1, ?2)",
        )
        .bind(table)
        .bind(srs_id)
        .execute(&mut self.conn)
        .await
        .unwrap();
        sqlx::query("INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', 'GEOMETRY', ?2, 0, 0)")
            .bind(table)
            .bind(srs_id)
            .execute(&mut self.conn)
            .await
            .unwrap();
    }

    /// A registered grid feature table.
    async fn layer(&mut self, table: &str, srs_id: i64) {
        self.exec(&format!("CREATE TABLE \"{}\" ({GRID_COLUMNS})", table.replace('"', "\"\""))).await;
        self.register(table, srs_id).await;
    }

    /// A row of a grid table.
    async fn insert(&mut self, table: &str, fid: i64, geom: Option<Vec<u8>>, code: &str, level: i64) {
        let sql = format!(
            "INSERT INTO \"{}\" (fid, geom, code, name, level, parent) VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            table.replace('"', "\"\"")
        );
        sqlx::query(&sql)
            .bind(fid)
            .bind(geom)
            .bind(code)
            .bind(format!("网格{fid}"))
            .bind(level)
            .execute(&mut self.conn)
            .await
            .unwrap();
    }

    async fn read(&self, layer: Option<&str>) -> Result<Value, GpkgError> {
        read_features(&self.path, &Options { layer: layer.map(str::to_string), ..Options::default() }).await
    }

    /// The error reading `layer` and its message (which must not name the file: callers do).
    async fn error(&self, layer: Option<&str>) -> (GpkgError, String) {
        let e = self.read(layer).await.expect_err("reading should fail");
        let message = e.to_string();
        assert!(!message.contains(&self.path.display().to_string()), "{message}");
        (e, message)
    }
}

/// A GeoPackage with one grid layer holding one row with this geometry; the error reading it.
async fn geometry_error(geom: Vec<u8>) -> String {
    let mut f = Fixture::new().await;
    f.layer("grids", 4326).await;
    f.insert("grids", 1, Some(le_square_blob()), "37030400100101", 1).await;
    f.insert("grids", 7, Some(geom), "37030400100102", 1).await;
    f.error(None).await.1
}

/// The properties of a row written by [`Fixture::insert`] (with the `area_m2` column added).
fn props(code: &str, fid: i64, level: i64) -> Value {
    json!({"code": code, "name": format!("网格{fid}"), "level": level, "parent": null, "area_m2": null})
}

fn feature(fid: i64, geometry: Value, properties: Value) -> Value {
    json!({"type": "Feature", "id": fid, "geometry": geometry, "properties": properties})
}

fn expect_err(path: &Path, result: Result<Value, GpkgError>) -> String {
    let message = result.expect_err("reading should fail").to_string();
    assert!(!message.contains(&path.display().to_string()), "{message}");
    message
}

// ---------------------------------------------------------------------------------------------
// Reading.

#[tokio::test]
async fn reads_every_encoding_to_exact_geojson() {
    let mut f = Fixture::new().await;
    f.layer("grids", 4326).await;
    f.exec("ALTER TABLE grids ADD COLUMN area_m2 REAL; ALTER TABLE grids ADD COLUMN photo BLOB").await;
    let outer = square(117.0, 36.0, 0.1);
    let hole = vec![[117.02, 36.02], [117.02, 36.04], [117.04, 36.04], [117.04, 36.02], [117.02, 36.02]];
    let a = square(118.0, 36.0, 0.05);
    let b = square(118.2, 36.0, 0.05);

    // Inserted out of order: features come back in fid order.
    // fid 4: big-endian header with envelope, big-endian polygon with a hole.
    let env = [117.0, 117.1, 36.0, 36.1];
    f.insert("grids", 4, Some(gp(Order::Big, &env, 4326, &polygon(Order::Big, 3, 2, &[&outer, &hole]))), "c4", 1).await;
    // fid 2: little-endian, no envelope, simple polygon.
    f.insert("grids", 2, Some(le_square_blob()), "c2", 1).await;
    // fid 9: MultiPolygon whose members differ in byte order, with an envelope.
    let multi = multipolygon(Order::Little, &[polygon(Order::Big, 3, 2, &[&a]), polygon(Order::Little, 3, 2, &[&b])]);
    f.insert("grids", 9, Some(gp(Order::Little, &[118.0, 118.25, 36.0, 36.05], 4326, &multi)), "c9", 2).await;
    // fid 11: Polygon Z (ISO 1003) with an xyz envelope, big-endian header, little-endian WKB.
    let z = polygon(Order::Little, 1003, 3, &[&outer]);
    f.insert("grids", 11, Some(gp(Order::Big, &[117.0, 117.1, 36.0, 36.1, 99.0, 99.0], 4326, &z)), "c11", 2).await;
    // fid 12: MultiPolygon ZM with EWKB flags and an xyzm envelope.
    let zm = multipolygon(Order::Big, &[polygon(Order::Big, 0xC000_0003, 4, &[&a])]);
    let env = [118.0, 118.05, 36.0, 36.05, 99.0, 99.0, 99.0, 99.0];
    f.insert("grids", 12, Some(gp(Order::Little, &env, 4326, &zm)), "c12", 2).await;
    // Columns declared BLOB (photo) are left out. fid 13: NULL geometry; fid 14: an empty polygon flagged empty.
    f.insert("grids", 13, None, "c13", 2).await;
    let mut empty = gp(Order::Little, &[], 4326, &polygon(Order::Little, 3, 2, &[]));
    empty[3] |= 0b1_0000;
    f.insert("grids", 14, Some(empty), "c14", 2).await;
    f.exec("UPDATE grids SET parent = 'c4', area_m2 = 12.5, photo = x'ffd8' WHERE fid = 9").await;

    let ring = |r: &[[f64; 2]]| r.iter().map(|[x, y]| json!([x, y])).collect::<Vec<_>>();
    let expected = json!({"type": "FeatureCollection", "features": [
        feature(2, json!({"type": "Polygon", "coordinates": [ring(&square(117.0, 36.0, 0.01))]}), props("c2", 2, 1)),
        feature(4, json!({"type": "Polygon", "coordinates": [ring(&outer), ring(&hole)]}), props("c4", 4, 1)),
        feature(
            9,
            json!({"type": "MultiPolygon", "coordinates": [[ring(&a)], [ring(&b)]]}),
            json!({"code": "c9", "name": "网格9", "level": 2, "parent": "c4", "area_m2": 12.5}),
        ),
        feature(11, json!({"type": "Polygon", "coordinates": [ring(&outer)]}), props("c11", 11, 2)),
        feature(12, json!({"type": "MultiPolygon", "coordinates": [[ring(&a)]]}), props("c12", 12, 2)),
        feature(13, Value::Null, props("c13", 13, 2)),
        feature(14, Value::Null, props("c14", 14, 2)),
    ]});
    assert_eq!(f.read(None).await.unwrap(), expected);
    assert_eq!(f.read(Some("grids")).await.unwrap(), expected);

    assert_eq!(
        layers(&f.path).await.unwrap(),
        vec![Layer {
            name: "grids".into(),
            geometry_column: "geom".into(),
            geometry_type: "GEOMETRY".into(),
            srs_id: 4326,
            crs: Some("EPSG:4326".into()),
            crs_name: Some("WGS 84 geodetic".into()),
            features: Some(7),
        }]
    );
}

#[tokio::test]
async fn accepts_older_application_ids_cgcs2000_and_quoted_names() {
    for id in [0, 0x4750_3130, 0x4750_3131] {
        let mut f = Fixture::new().await;
        f.exec(&format!("PRAGMA application_id = {id}")).await;
        // CGCS2000 under a private srs_id whose organisation is written in lower case.
        f.layer("网格 \"2024\"", 100001).await;
        let blob = gp(Order::Little, &[], 100001, &polygon(Order::Little, 3, 2, &[&square(117.0, 36.0, 0.01)]));
        f.insert("网格 \"2024\"", 1, Some(blob), "c1", 1).await;
        let doc = f.read(None).await.unwrap();
        assert_eq!(doc["features"][0]["id"], 1, "application_id {id:#x}");
        assert_eq!(doc["features"][0]["geometry"]["coordinates"][0][2], json!([117.01, 36.01]));
    }
    let mut f = Fixture::new().await;
    f.layer("grids", 4490).await;
    let blob = gp(Order::Little, &[], 4490, &polygon(Order::Little, 3, 2, &[&square(117.0, 36.0, 0.01)]));
    f.insert("grids", 1, Some(blob), "c1", 1).await;
    assert_eq!(f.read(None).await.unwrap()["features"].as_array().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Files that are not GeoPackages, and layer choice.

#[tokio::test]
async fn files_that_are_not_geopackages() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.gpkg");
    let e = read_features(&missing, &Options::default()).await.unwrap_err();
    assert!(matches!(&e, GpkgError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound), "{e}");
    assert!(e.to_string().starts_with("cannot read "), "{e}");

    let random = dir.path().join("random.gpkg");
    std::fs::write(&random, (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(
        expect_err(&random, read_features(&random, &Options::default()).await),
        "the file is not a GeoPackage: it is not a SQLite database (its first 16 bytes are not \"SQLite format 3\"); \
         a GeoPackage is a SQLite file, usually named .gpkg"
    );

    let damaged = dir.path().join("damaged.gpkg");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend((0..=255u8).cycle().take(2048));
    std::fs::write(&damaged, bytes).unwrap();
    let e = read_features(&damaged, &Options::default()).await.unwrap_err();
    assert!(matches!(e, GpkgError::NotSqlite { .. }), "{e}");
    assert!(e.to_string().contains("file is not a database"), "{e}");

    let empty = dir.path().join("empty.gpkg");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(
        expect_err(&empty, read_features(&empty, &Options::default()).await),
        "the file is a SQLite database but not a GeoPackage: it has no gpkg_spatial_ref_sys table"
    );

    let mut f = Fixture::sqlite().await;
    f.exec("CREATE TABLE gpkg_spatial_ref_sys (srs_id INTEGER); CREATE TABLE grids (fid INTEGER PRIMARY KEY)").await;
    assert_eq!(
        f.error(None).await.1,
        "the file is a SQLite database but not a GeoPackage: it has no gpkg_contents table"
    );

    let mut f = Fixture::new().await;
    f.exec(&format!("PRAGMA application_id = {}", 0x4D50_4258)).await;
    assert_eq!(
        f.error(None).await.1,
        "the file is a SQLite database with application_id 0x4d504258 ('MPBX'), not a GeoPackage ('GPKG')"
    );
    assert!(layers(&f.path).await.is_err());

    let f = Fixture::new().await;
    assert_eq!(
        f.error(None).await.1,
        "the GeoPackage has no feature layers (no gpkg_contents row with data_type 'features' and a \
         gpkg_geometry_columns row)"
    );
    assert_eq!(layers(&f.path).await.unwrap(), vec![]);
    assert_eq!(
        f.error(Some("grids")).await.1,
        "the GeoPackage has no feature layer \"grids\"; its feature layers are none"
    );
}

#[tokio::test]
async fn choosing_a_layer() {
    let mut f = Fixture::new().await;
    f.layer("grids", 4326).await;
    f.insert("grids", 1, Some(le_square_blob()), "c1", 1).await;
    f.insert("grids", 2, Some(le_square_blob()), "c2", 1).await;
    f.layer("roads \"old\"", 4326).await;
    let mut line = Bytes::wkb(Order::Little, 2);
    line.u32(2).f64(117.0).f64(36.0).f64(117.1).f64(36.1);
    f.insert("roads \"old\"", 5, Some(gp(Order::Little, &[], 4326, &line.0)), "r5", 1).await;
    // Listed in gpkg_contents, but the table was never created.
    f.register("ghost", 3857).await;

    let listing = "\"ghost\" (GEOMETRY, EPSG:3857, table unreadable), \"grids\" (GEOMETRY, EPSG:4326, 2 features), \
                   \"roads \"old\"\" (GEOMETRY, EPSG:4326, 1 feature)";
    let (e, message) = f.error(None).await;
    assert!(matches!(&e, GpkgError::SeveralLayers { layers, .. } if layers.len() == 3));
    assert_eq!(message, format!("the GeoPackage has 3 feature layers; choose one of {listing}"));
    assert_eq!(
        f.error(Some("Grids")).await.1,
        format!("the GeoPackage has no feature layer \"Grids\"; its feature layers are {listing}")
    );
    assert_eq!(f.read(Some("grids")).await.unwrap()["features"].as_array().unwrap().len(), 2);
    assert_eq!(
        f.error(Some("roads \"old\"")).await.1,
        "row 1 (fid 5) of layer \"roads \"old\"\": geometry type LineString (WKB type 2 at byte 9) is not an area; \
         grids need Polygon or MultiPolygon"
    );
    // The CRS is checked first; then the missing table.
    assert_eq!(
        f.error(Some("ghost")).await.1,
        "layer \"ghost\" is in EPSG:3857 (WGS 84 / Pseudo-Mercator); reproject it to EPSG:4326 (WGS 84) or \
         EPSG:4490 (CGCS2000) lon/lat first, e.g. `ogr2ogr -t_srs EPSG:4490 out.gpkg in.gpkg`"
    );
    f.exec("UPDATE gpkg_geometry_columns SET srs_id = 4326 WHERE table_name = 'ghost'").await;
    assert_eq!(
        f.error(Some("ghost")).await.1,
        "layer \"ghost\" is listed in gpkg_contents, but the file has no table \"ghost\""
    );
}

#[tokio::test]
async fn layers_outside_lon_lat_are_refused() {
    let mut f = Fixture::new().await;
    for (table, srs) in [("undefined", 0), ("cartesian", -1), ("unknown", 999), ("gauss_kruger", 4547)] {
        f.layer(table, srs).await;
    }
    f.exec(
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('CGCS2000 / 3-degree Gauss-Kruger CM 114E', 4547, 'EPSG', 4547, \
         'PROJCS[\"CGCS2000 / 3-degree Gauss-Kruger CM 114E\"]', NULL)",
    )
    .await;
    assert_eq!(
        f.error(Some("undefined")).await.1,
        "layer \"undefined\" has srs_id 0, an undefined CRS; assign EPSG:4326 or EPSG:4490 (lon/lat) if its \
         coordinates are longitudes and latitudes, or reproject it from its real CRS"
    );
    let (e, _) = f.error(Some("cartesian")).await;
    assert!(matches!(e, GpkgError::UndefinedCrs { srs_id: -1, .. }), "{e}");
    assert_eq!(
        f.error(Some("unknown")).await.1,
        "layer \"unknown\" has srs_id 999, which gpkg_spatial_ref_sys does not define"
    );
    assert_eq!(
        f.error(Some("gauss_kruger")).await.1,
        "layer \"gauss_kruger\" is in EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E); reproject it to \
         EPSG:4326 (WGS 84) or EPSG:4490 (CGCS2000) lon/lat first, e.g. `ogr2ogr -t_srs EPSG:4490 out.gpkg in.gpkg`"
    );
}

#[tokio::test]
async fn malformed_feature_tables() {
    let mut f = Fixture::new().await;
    f.exec("CREATE TABLE no_key (fid INTEGER, geom BLOB, code TEXT)").await;
    f.register("no_key", 4326).await;
    f.exec("CREATE TABLE text_key (fid TEXT PRIMARY KEY, geom BLOB, code TEXT)").await;
    f.register("text_key", 4326).await;
    f.exec("CREATE TABLE other_geom (fid INTEGER PRIMARY KEY, shape BLOB, code TEXT)").await;
    f.register("other_geom", 4326).await;
    assert_eq!(
        f.error(Some("no_key")).await.1,
        "layer \"no_key\" has no INTEGER PRIMARY KEY column (GeoPackage requirement 29; GDAL calls it fid), so its \
         features cannot be numbered"
    );
    assert!(matches!(f.error(Some("text_key")).await.0, GpkgError::NoPrimaryKey { .. }));
    assert_eq!(
        f.error(Some("other_geom")).await.1,
        "layer \"other_geom\": gpkg_geometry_columns names column \"geom\", but the table has no such column"
    );

    // A gpkg_geometry_columns table without its srs_id column.
    let mut f = Fixture::sqlite().await;
    f.exec(
        "CREATE TABLE gpkg_spatial_ref_sys (srs_id INTEGER); CREATE TABLE gpkg_contents (table_name TEXT); \
         CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT)",
    )
    .await;
    let (e, message) = f.error(None).await;
    assert!(matches!(e, GpkgError::Sql { .. }), "{e}");
    assert!(
        message.starts_with(
            "listing feature layers in gpkg_contents and gpkg_geometry_columns failed: error returned from \
             database: (code: 1) no such column"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn too_many_features() {
    let mut f = Fixture::new().await;
    f.layer("grids", 4326).await;
    for fid in 1..=3 {
        f.insert("grids", fid, Some(le_square_blob()), "c", 1).await;
    }
    let opts = Options { layer: None, max_features: 2 };
    assert_eq!(
        expect_err(&f.path, read_features(&f.path, &opts).await),
        "layer \"grids\" has 3 features; at most 2 can be imported at once"
    );
    assert_eq!(read_features(&f.path, &Options { max_features: 3, ..opts }).await.unwrap()["features"][2]["id"], 3);
}

// ---------------------------------------------------------------------------------------------
// Bad rows: each message names the row, the fid, and for blobs the byte.

#[tokio::test]
async fn bad_geometry_blobs() {
    let square = square(117.0, 36.0, 0.01);
    let le = polygon(Order::Little, 3, 2, &[&square]);
    let prefix = "row 2 (fid 7) of layer \"grids\": ";

    let plain_wkb = le.clone();
    let mut bad_envelope = le_square_blob();
    bad_envelope[3] = 0b0000_1101; // indicator 6
    let mut extended = le_square_blob();
    extended[3] |= 0b10_0000;
    let full = gp(Order::Little, &[117.0, 117.01, 36.0, 36.01], 4326, &le);
    let in_envelope = full[..20].to_vec();
    let in_points = full[..full.len() - 4].to_vec();
    let mut absurd_rings = le_square_blob();
    absurd_rings[13..17].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut absurd_points = le_square_blob();
    absurd_points[17..21].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    let mut line = Bytes::wkb(Order::Big, 1002);
    line.u32(2).f64(117.0).f64(36.0).f64(1.0).f64(117.1).f64(36.1).f64(1.0);
    let line = gp(Order::Little, &[], 4326, &line.0);
    let point = gp(Order::Little, &[], 4326, &[1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut nan = le_square_blob();
    nan[8 + 13 + 16 * 2 + 8..8 + 13 + 16 * 2 + 16].copy_from_slice(&f64::NAN.to_le_bytes());
    let mut multi_line = Bytes::wkb(Order::Little, 6);
    multi_line.u32(1);
    multi_line.0.extend(&gp(Order::Little, &[], 4326, &[1, 2, 0, 0, 0, 0, 0, 0, 0])[8..]);
    let multi_line = gp(Order::Little, &[], 4326, &multi_line.0);
    let curve = gp(Order::Little, &[], 4326, &[1, 10, 0, 0, 0, 0, 0, 0, 0]);
    let bad_order = gp(Order::Little, &[], 4326, &[2, 3, 0, 0, 0, 0, 0, 0, 0]);
    let unknown = gp(Order::Little, &[], 4326, &[1, 99, 0, 0, 0, 0, 0, 0, 0]);
    let mut version = le_square_blob();
    version[2] = 1;
    let mut trailing = le_square_blob();
    trailing.extend([0; 3]);

    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            plain_wkb,
            "the geometry blob starts with 0x01 0x03 instead of the GeoPackage magic \"GP\" (0x47 0x50) at byte 0; \
             is it plain WKB or a SpatiaLite geometry?",
        ),
        (version, "GeoPackage binary version 1 at byte 2 is not supported (only 0, meaning version 1)"),
        (bad_envelope, "envelope indicator 6 in the flags byte (byte 3) is invalid; only 0–4 are defined"),
        (
            extended,
            "the flags byte (byte 3) marks an ExtendedGeoPackageBinary geometry, which is not supported; save the \
             layer with standard geometry types",
        ),
        (in_envelope, "the geometry blob ends at byte 20, but the envelope at byte 8 needs 32 bytes"),
        (in_points, "the point count at byte 49 is 5, which needs at least 80 bytes, but only 76 remain in the blob"),
        (
            absurd_rings,
            "the ring count at byte 13 is 4294967295, which needs at least 17179869180 bytes, but only 84 remain in \
             the blob",
        ),
        (
            absurd_points,
            "the point count at byte 17 is 1073741824, which needs at least 17179869184 bytes, but only 80 remain \
             in the blob",
        ),
        (bad_order, "WKB byte order 2 at byte 8 is invalid; it must be 0 (big-endian) or 1 (little-endian)"),
        (
            line,
            "geometry type LineString Z (WKB type 1002 at byte 9) is not an area; grids need Polygon or MultiPolygon",
        ),
        (point, "geometry type Point (WKB type 1 at byte 9) is not an area; grids need Polygon or MultiPolygon"),
        (multi_line, "a MultiPolygon member must be a Polygon, but the one at byte 18 is a LineString"),
        (
            curve,
            "geometry type CurvePolygon (WKB type 10 at byte 9) is not supported; grids need Polygon or \
             MultiPolygon (convert curves and surfaces to polygons first, e.g. ogr2ogr -nlt MULTIPOLYGON)",
        ),
        (unknown, "WKB geometry type 99 (0x00000063) at byte 9 is unknown"),
        (nan, "coordinate y at byte 61 is NaN; coordinates must be finite numbers"),
        (trailing, "3 unexpected bytes follow the end of the geometry at byte 101"),
    ];
    for (blob, expected) in cases {
        assert_eq!(geometry_error(blob).await, format!("{prefix}{expected}"));
    }

    let other_srs = gp(Order::Little, &[], 3857, &le);
    assert_eq!(
        geometry_error(other_srs).await,
        format!("{prefix}the geometry's header has srs_id 3857, but the layer's geometry column has srs_id 4326")
    );
}

#[tokio::test]
async fn bad_values_in_columns() {
    let mut f = Fixture::new().await;
    f.layer("grids", 4326).await;
    f.insert("grids", 1, Some(le_square_blob()), "c1", 1).await;
    f.insert("grids", 2, Some(le_square_blob()), "c2", 1).await;
    f.insert("grids", 3, Some(le_square_blob()), "c3", 1).await;

    f.exec("UPDATE grids SET geom = 'POLYGON((117 36, 117.1 36, 117.1 36.1, 117 36))' WHERE fid = 2").await;
    assert_eq!(
        f.error(None).await.1,
        "row 2 (fid 2) of layer \"grids\": column \"geom\" holds TEXT, not a geometry blob"
    );
    f.exec("UPDATE grids SET geom = NULL WHERE fid = 2").await;

    f.exec("UPDATE grids SET name = CAST(x'e7bd91ff' AS TEXT) WHERE fid = 3").await;
    assert_eq!(
        f.error(None).await.1,
        "row 3 (fid 3) of layer \"grids\", column \"name\": the TEXT value is not valid UTF-8"
    );
    f.exec("UPDATE grids SET name = 'ok', level = 9e999 WHERE fid = 3").await;
    assert_eq!(
        f.error(None).await.1,
        "row 3 (fid 3) of layer \"grids\", column \"level\": the REAL value inf has no JSON form"
    );

    // A BLOB value in a TEXT column leaves the property out.
    f.exec("UPDATE grids SET level = 1, parent = x'0102' WHERE fid = 3").await;
    let doc = f.read(None).await.unwrap();
    assert_eq!(doc["features"][2]["properties"], json!({"code": "c3", "name": "ok", "level": 1}));
}

// ---------------------------------------------------------------------------------------------
// A GeoPackage written by real GIS software.

const INTEROP_GEOJSON: &str = r#"{"type": "FeatureCollection", "features": [
{"type": "Feature", "properties": {"code": "37030400100101", "name": "东城网格", "level": 1, "parent": null},
 "geometry": {"type": "Polygon", "coordinates": [
   [[117.85, 36.49], [117.87, 36.49], [117.87, 36.51], [117.85, 36.51], [117.85, 36.49]],
   [[117.855, 36.495], [117.855, 36.5], [117.86, 36.5], [117.86, 36.495], [117.855, 36.495]]]}},
{"type": "Feature", "properties": {"code": "37030400100102", "name": "西城网格（含飞地）", "level": 2,
 "parent": "37030400100101"},
 "geometry": {"type": "MultiPolygon", "coordinates": [
   [[[117.87, 36.49], [117.89, 36.49], [117.89, 36.51], [117.87, 36.49]]],
   [[[117.9, 36.49], [117.91, 36.49], [117.91, 36.5], [117.9, 36.49]]]]}},
{"type": "Feature", "properties": {"code": "37030400100103", "name": "南山网格", "level": 2,
 "parent": "37030400100101"},
 "geometry": {"type": "Polygon", "coordinates": [
   [[117.85, 36.47], [117.87, 36.47], [117.86, 36.49], [117.85, 36.47]]]}}
]}"#;

/// Writes `src` (GeoJSON) into `dst` (GeoPackage) as layers grids (EPSG:4326), grids_cgcs2000
/// (EPSG:4490) and grids_3857 (labelled EPSG:3857, coordinates unchanged).
const PYTHON_WRITER: &str = r#"
import sys
src, dst = sys.argv[1], sys.argv[2]
layers = [("grids", "EPSG:4326"), ("grids_cgcs2000", "EPSG:4490"), ("grids_3857", "EPSG:3857")]
try:
    import pyogrio.raw as raw
    meta, _fids, geometry, fields = raw.read(src)
    for layer, crs in layers:
        raw.write(dst, geometry, fields, fields=meta["fields"], crs=crs, geometry_type="Unknown",
                  driver="GPKG", layer=layer, promote_to_multi=False)
except ImportError:
    import fiona
    with fiona.open(src) as s:
        schema = dict(s.schema)
        schema["geometry"] = "Unknown"
        records = list(s)
    for layer, crs in layers:
        with fiona.open(dst, "w", driver="GPKG", layer=layer, schema=schema, crs=crs) as d:
            d.writerecords(records)
"#;

fn succeeds(cmd: &mut Command) -> bool {
    cmd.output().map(|o| o.status.success()).unwrap_or(false)
}

/// Writes the GeoPackage with the first GIS tool found; `None` if there is none.
fn write_with_gis_software(src: &Path, dst: &Path) -> Option<&'static str> {
    if succeeds(Command::new("ogr2ogr").arg("--version")) {
        for (i, (layer, crs)) in
            [("grids", "EPSG:4326"), ("grids_cgcs2000", "EPSG:4490"), ("grids_3857", "EPSG:3857")].iter().enumerate()
        {
            let mut cmd = Command::new("ogr2ogr");
            cmd.args(["-f", "GPKG"]);
            if i > 0 {
                cmd.arg("-update");
            }
            cmd.arg(dst).arg(src).args(["-nln", layer, "-a_srs", crs]);
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "ogr2ogr failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        return Some("ogr2ogr");
    }
    for module in ["pyogrio", "fiona"] {
        if succeeds(Command::new("python3").args(["-c", &format!("import {module}")])) {
            let out = Command::new("python3").args(["-c", PYTHON_WRITER]).arg(src).arg(dst).output().unwrap();
            assert!(out.status.success(), "{module} failed: {}", String::from_utf8_lossy(&out.stderr));
            return Some(module);
        }
    }
    None
}

#[tokio::test]
async fn reads_a_geopackage_written_by_gdal() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("grids.geojson");
    let dst = dir.path().join("grids.gpkg");
    std::fs::write(&src, INTEROP_GEOJSON).unwrap();
    let Some(tool) = write_with_gis_software(&src, &dst) else {
        let help = "no GIS software to write a GeoPackage with: install GDAL's ogr2ogr or `pip install pyogrio`";
        if std::env::var_os("CI").is_some() {
            panic!("{help}");
        }
        eprintln!("skipped: {help}");
        return;
    };
    eprintln!("GeoPackage written with {tool}");

    let mut expected: Value = serde_json::from_str(INTEROP_GEOJSON).unwrap();
    for (i, feature) in expected["features"].as_array_mut().unwrap().iter_mut().enumerate() {
        feature["id"] = json!(i + 1);
    }
    for layer in ["grids", "grids_cgcs2000"] {
        let doc = read_features(&dst, &Options { layer: Some(layer.into()), ..Options::default() }).await.unwrap();
        assert_eq!(doc, expected, "layer {layer}");
    }
    let found = layers(&dst).await.unwrap();
    let summary: Vec<_> = found.iter().map(|l| (l.name.as_str(), l.crs.as_deref(), l.features)).collect();
    assert_eq!(
        summary,
        [
            ("grids", Some("EPSG:4326"), Some(3)),
            ("grids_3857", Some("EPSG:3857"), Some(3)),
            ("grids_cgcs2000", Some("EPSG:4490"), Some(3)),
        ]
    );
    let e = read_features(&dst, &Options::default()).await.unwrap_err();
    assert!(matches!(e, GpkgError::SeveralLayers { .. }), "{e}");
    let e = read_features(&dst, &Options { layer: Some("grids_3857".into()), ..Options::default() }).await.unwrap_err();
    assert!(e.to_string().starts_with("layer \"grids_3857\" is in EPSG:3857 (WGS 84 / Pseudo-Mercator); reproject"));
}

//! GeoPackage (OGC 12-128r18) reader for imports: the polygon features of one layer of a `.gpkg`
//! file, returned as a GeoJSON FeatureCollection so that the grid import, which validates GeoJSON,
//! accepts GeoPackages unchanged.
//!
//! The file is opened read-only. Only lon/lat layers are read (EPSG:4326 or EPSG:4490 CGCS2000);
//! anything projected is refused with a hint to reproject, because guessing a projection would
//! move every boundary. Errors name the layer, the row and fid, and for geometries the byte.
//!
//! Choices: a NULL or empty geometry becomes a feature with `"geometry": null`, which the import's
//! validator reports with the feature's number (the same number as `row` here); Extended
//! GeoPackage geometries, curves and surfaces are refused. Columns declared BLOB are left out;
//! other values map by their stored type: INTEGER and REAL to numbers, TEXT to strings, NULL to
//! null, and a stray BLOB value leaves its property out. The primary key (usually `fid`) becomes
//! the feature's `id`.

pub mod geometry;

use std::fmt;
use std::io::Read;
use std::path::Path;

use futures::TryStreamExt;
use serde_json::{json, Map, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Connection, Row, SqliteConnection, TypeInfo, ValueRef};

pub use geometry::GeometryError;

/// Default for [`Options::max_features`]: the grid import's own limit.
pub const DEFAULT_MAX_FEATURES: usize = 100_000;

/// `PRAGMA application_id` values of GeoPackages: 'GPKG', and 'GP10' / 'GP11' of older files.
const APPLICATION_IDS: [u32; 3] = [0x4750_4B47, 0x4750_3130, 0x4750_3131];

/// EPSG codes of the accepted lon/lat CRSs: WGS 84 and CGCS2000.
const LON_LAT_EPSG: [i64; 2] = [4326, 4490];

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The feature layer (table) to read; `None` when the file has exactly one.
    pub layer: Option<String>,
    /// A layer with more rows than this is refused before any row is read.
    pub max_features: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { layer: None, max_features: DEFAULT_MAX_FEATURES }
    }
}

/// A feature layer of a GeoPackage, as listed in `gpkg_contents` and `gpkg_geometry_columns`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The table's name.
    pub name: String,
    /// The geometry column.
    pub geometry_column: String,
    /// The declared geometry type (`POLYGON`, `MULTIPOLYGON`, `GEOMETRY`, …).
    pub geometry_type: String,
    /// The `srs_id` of the geometry column.
    pub srs_id: i64,
    /// The CRS as `ORGANIZATION:code` (e.g. `EPSG:4490`), `None` if `gpkg_spatial_ref_sys` lacks it.
    pub crs: Option<String>,
    /// The CRS's name in `gpkg_spatial_ref_sys` (e.g. `WGS 84 geodetic`).
    pub crs_name: Option<String>,
    /// The number of rows, `None` if the table could not be counted (e.g. it does not exist).
    pub features: Option<u64>,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\" ({}, ", self.name, self.geometry_type)?;
        match (&self.crs, self.srs_id) {
            (_, 0 | -1) => write!(f, "undefined CRS")?,
            (Some(crs), _) => write!(f, "{crs}")?,
            (None, id) => write!(f, "unknown srs_id {id}")?,
        }
        match self.features {
            Some(1) => write!(f, ", 1 feature)"),
            Some(n) => write!(f, ", {n} features)"),
            None => write!(f, ", table unreadable)"),
        }
    }
}

fn list(layers: &[Layer]) -> String {
    if layers.is_empty() {
        return "none".into();
    }
    layers.iter().map(Layer::to_string).collect::<Vec<_>>().join(", ")
}

/// Why a GeoPackage could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GpkgError {
    /// The file cannot be read at all (missing, no permission).
    #[error("cannot read the file: {source}")]
    Io {
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not a SQLite database.
    #[error("the file is not a GeoPackage: {reason}")]
    NotSqlite {
        /// What is wrong (e.g. the first bytes are not "SQLite format 3").
        reason: String,
    },
    /// A SQLite database whose `application_id` belongs to another format.
    #[error(
        "the file is a SQLite database with application_id {id:#010x} ({}), not a GeoPackage ('GPKG')",
        ascii(*.id)
    )]
    ApplicationId {
        /// The `PRAGMA application_id` value.
        id: u32,
    },
    /// A SQLite database without the GeoPackage tables.
    #[error("the file is a SQLite database but not a GeoPackage: it has no {table} table")]
    NotGeoPackage {
        /// The first required table that is missing.
        table: &'static str,
    },
    /// A GeoPackage without feature layers (tiles only, attributes only, or empty).
    #[error(
        "the GeoPackage has no feature layers (no gpkg_contents row with data_type 'features' and a \
         gpkg_geometry_columns row)"
    )]
    NoLayers,
    /// Several feature layers and none chosen.
    #[error("the GeoPackage has {} feature layers; choose one of {}", .layers.len(), list(.layers))]
    SeveralLayers {
        /// Its feature layers.
        layers: Vec<Layer>,
    },
    /// The chosen layer does not exist.
    #[error("the GeoPackage has no feature layer \"{layer}\"; its feature layers are {}", list(.available))]
    UnknownLayer {
        /// The name asked for.
        layer: String,
        /// The feature layers there are.
        available: Vec<Layer>,
    },
    /// The layer's `srs_id` is 0 or -1, GeoPackage's undefined CRSs.
    #[error(
        "layer \"{layer}\" has srs_id {srs_id}, an undefined CRS; assign EPSG:4326 or EPSG:4490 (lon/lat) if its \
         coordinates are longitudes and latitudes, or reproject it from its real CRS"
    )]
    UndefinedCrs {
        /// The layer.
        layer: String,
        /// 0 or -1.
        srs_id: i64,
    },
    /// The layer's `srs_id` has no row in `gpkg_spatial_ref_sys`.
    #[error("layer \"{layer}\" has srs_id {srs_id}, which gpkg_spatial_ref_sys does not define")]
    UnknownSrs {
        /// The layer.
        layer: String,
        /// The `srs_id`.
        srs_id: i64,
    },
    /// The layer is in a CRS other than EPSG:4326 or EPSG:4490.
    #[error(
        "layer \"{layer}\" is in {crs} ({crs_name}); reproject it to EPSG:4326 (WGS 84) or EPSG:4490 (CGCS2000) \
         lon/lat first, e.g. `ogr2ogr -t_srs EPSG:4490 out.gpkg in.gpkg`"
    )]
    UnsupportedCrs {
        /// The layer.
        layer: String,
        /// The CRS as `ORGANIZATION:code`, e.g. `EPSG:3857`.
        crs: String,
        /// The CRS's name.
        crs_name: String,
    },
    /// `gpkg_contents` names a table that does not exist.
    #[error("layer \"{layer}\" is listed in gpkg_contents, but the file has no table \"{layer}\"")]
    MissingTable {
        /// The layer.
        layer: String,
    },
    /// The geometry column named in `gpkg_geometry_columns` is not in the table.
    #[error("layer \"{layer}\": gpkg_geometry_columns names column \"{column}\", but the table has no such column")]
    MissingGeometryColumn {
        /// The layer.
        layer: String,
        /// The column named.
        column: String,
    },
    /// The table lacks the single INTEGER PRIMARY KEY column a feature table must have.
    #[error(
        "layer \"{layer}\" has no INTEGER PRIMARY KEY column (GeoPackage requirement 29; GDAL calls it fid), \
         so its features cannot be numbered"
    )]
    NoPrimaryKey {
        /// The layer.
        layer: String,
    },
    /// More rows than [`Options::max_features`].
    #[error("layer \"{layer}\" has {count} features; at most {max} can be imported at once")]
    TooManyFeatures {
        /// The layer.
        layer: String,
        /// Its rows.
        count: u64,
        /// The limit.
        max: usize,
    },
    /// The geometry column holds a value that is not a BLOB.
    #[error("row {row} (fid {fid}) of layer \"{layer}\": column \"{column}\" holds {found}, not a geometry blob")]
    GeometryNotBlob {
        /// The layer.
        layer: String,
        /// 1-based row number in fid order (the feature's number in the result).
        row: usize,
        /// The row's primary key.
        fid: i64,
        /// The geometry column.
        column: String,
        /// The SQLite storage class found (TEXT, INTEGER, REAL).
        found: String,
    },
    /// A geometry blob that cannot be decoded or is not an area.
    #[error("row {row} (fid {fid}) of layer \"{layer}\": {source}")]
    Geometry {
        /// The layer.
        layer: String,
        /// 1-based row number in fid order (the feature's number in the result).
        row: usize,
        /// The row's primary key.
        fid: i64,
        /// What is wrong, with the byte offset in the blob.
        source: GeometryError,
    },
    /// A geometry whose header names another SRS than its column.
    #[error(
        "row {row} (fid {fid}) of layer \"{layer}\": the geometry's header has srs_id {found}, but the layer's \
         geometry column has srs_id {expected}"
    )]
    SrsMismatch {
        /// The layer.
        layer: String,
        /// 1-based row number in fid order (the feature's number in the result).
        row: usize,
        /// The row's primary key.
        fid: i64,
        /// The srs_id in the blob header.
        found: i32,
        /// The column's srs_id.
        expected: i64,
    },
    /// A property value that has no JSON form (text that is not UTF-8, an infinite REAL).
    #[error("row {row} (fid {fid}) of layer \"{layer}\", column \"{column}\": {reason}")]
    Property {
        /// The layer.
        layer: String,
        /// 1-based row number in fid order (the feature's number in the result).
        row: usize,
        /// The row's primary key.
        fid: i64,
        /// The column.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// A query failed for another reason (a damaged file, a malformed GeoPackage table).
    #[error("{what} failed: {source}")]
    Sql {
        /// What was being read.
        what: String,
        /// SQLite's error.
        source: sqlx::Error,
    },
}

fn ascii(id: u32) -> String {
    let bytes = id.to_be_bytes();
    if bytes.iter().all(|b| b.is_ascii_graphic()) {
        format!("'{}'", String::from_utf8_lossy(&bytes))
    } else {
        "not ASCII".into()
    }
}

/// A layer's description before its rows are counted.
struct LayerInfo {
    layer: Layer,
    organization: Option<String>,
    code: Option<i64>,
}

/// An open GeoPackage.
struct Gpkg {
    conn: SqliteConnection,
}

impl Gpkg {
    async fn open(path: &Path) -> Result<Gpkg, GpkgError> {
        check_sqlite_header(path)?;
        let not_sqlite = |e: sqlx::Error, what: &str| match e.as_database_error().and_then(|d| d.code()) {
            // SQLITE_NOTADB: a valid header over a damaged or encrypted file.
            Some(code) if code == "26" => GpkgError::NotSqlite { reason: e.to_string() },
            _ => GpkgError::Sql { what: what.into(), source: e },
        };
        let options = SqliteConnectOptions::new().filename(path).read_only(true).create_if_missing(false);
        let mut conn = SqliteConnection::connect_with(&options).await.map_err(|e| not_sqlite(e, "opening"))?;
        let id: i64 = sqlx::query_scalar("PRAGMA application_id")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| not_sqlite(e, "reading PRAGMA application_id"))?;
        let id = id as u32;
        if id != 0 && !APPLICATION_IDS.contains(&id) {
            return Err(GpkgError::ApplicationId { id });
        }
        let mut gpkg = Gpkg { conn };
        for table in ["gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns"] {
            let found: Option<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1")
                    .bind(table)
                    .fetch_optional(&mut gpkg.conn)
                    .await
                    .map_err(|e| sql(e, "listing tables"))?;
            if found.is_none() {
                return Err(GpkgError::NotGeoPackage { table });
            }
        }
        Ok(gpkg)
    }

    /// The feature layers, by name, without their row counts.
    async fn layer_infos(&mut self) -> Result<Vec<LayerInfo>, GpkgError> {
        let rows = sqlx::query(
            "SELECT c.table_name, g.column_name, g.geometry_type_name, g.srs_id, \
                    s.organization, s.organization_coordsys_id, s.srs_name \
             FROM gpkg_contents c \
             JOIN gpkg_geometry_columns g ON g.table_name = c.table_name \
             LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id \
             WHERE lower(c.data_type) = 'features' \
             ORDER BY c.table_name",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(|e| sql(e, "listing feature layers in gpkg_contents and gpkg_geometry_columns"))?;
        rows.iter()
            .map(|row| {
                let get = || -> Result<LayerInfo, sqlx::Error> {
                    let organization: Option<String> = row.try_get(4)?;
                    let code: Option<i64> = row.try_get(5)?;
                    Ok(LayerInfo {
                        layer: Layer {
                            name: row.try_get(0)?,
                            geometry_column: row.try_get(1)?,
                            geometry_type: row.try_get(2)?,
                            srs_id: row.try_get(3)?,
                            crs: organization.as_ref().zip(code).map(|(o, c)| format!("{o}:{c}")),
                            crs_name: row.try_get(6)?,
                            features: None,
                        },
                        organization,
                        code,
                    })
                };
                get().map_err(|e| sql(e, "reading gpkg_geometry_columns"))
            })
            .collect()
    }

    async fn count(&mut self, table: &str) -> Result<u64, sqlx::Error> {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", quote(table))).fetch_one(&mut self.conn).await?;
        Ok(n as u64)
    }

    /// Every feature layer with its row count (`None` where counting fails).
    async fn layers(&mut self) -> Result<Vec<Layer>, GpkgError> {
        let mut layers = Vec::new();
        for info in self.layer_infos().await? {
            let mut layer = info.layer;
            layer.features = self.count(&layer.name).await.ok();
            layers.push(layer);
        }
        Ok(layers)
    }
}

fn sql(source: sqlx::Error, what: impl Into<String>) -> GpkgError {
    GpkgError::Sql { what: what.into(), source }
}

/// Refuse a file whose first bytes are not SQLite's, before SQLite sees it. An empty file is a
/// valid empty database to SQLite and is reported as lacking the GeoPackage tables.
fn check_sqlite_header(path: &Path) -> Result<(), GpkgError> {
    let io = |source| GpkgError::Io { source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut header = Vec::with_capacity(16);
    file.take(16).read_to_end(&mut header).map_err(io)?;
    if !header.is_empty() && header != b"SQLite format 3\0" {
        let reason = format!(
            "it is not a SQLite database (its first {} bytes are not \"SQLite format 3\"); a GeoPackage is a SQLite \
             file, usually named .gpkg",
            header.len()
        );
        return Err(GpkgError::NotSqlite { reason });
    }
    Ok(())
}

/// A SQL identifier in double quotes, with any `"` inside doubled.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The feature layers of a GeoPackage with their geometry column, CRS and feature count.
pub async fn layers(path: &Path) -> Result<Vec<Layer>, GpkgError> {
    let mut gpkg = Gpkg::open(path).await?;
    let layers = gpkg.layers().await;
    let _ = gpkg.conn.close().await;
    layers
}

/// Read one feature layer of a GeoPackage as a GeoJSON FeatureCollection of Polygon and
/// MultiPolygon features in fid order, each with `id` = fid and the other columns as properties.
pub async fn read_features(path: &Path, opts: &Options) -> Result<Value, GpkgError> {
    let mut gpkg = Gpkg::open(path).await?;
    let result = read_layer(&mut gpkg, opts).await;
    let _ = gpkg.conn.close().await;
    result
}

async fn read_layer(gpkg: &mut Gpkg, opts: &Options) -> Result<Value, GpkgError> {
    let mut infos = gpkg.layer_infos().await?;
    let index = match &opts.layer {
        None if infos.is_empty() => return Err(GpkgError::NoLayers),
        None if infos.len() == 1 => 0,
        None => return Err(GpkgError::SeveralLayers { layers: gpkg.layers().await? }),
        Some(name) => match infos.iter().position(|i| i.layer.name == *name) {
            Some(i) => i,
            None => {
                let available = gpkg.layers().await?;
                return Err(GpkgError::UnknownLayer { layer: name.clone(), available });
            }
        },
    };
    let info = infos.swap_remove(index);
    check_crs(&info)?;
    let layer = info.layer;
    let name = layer.name.clone();

    // Columns in table order; the primary key and geometry found by name as SQLite compares them.
    let columns = sqlx::query("SELECT name, type, pk FROM pragma_table_info(?1)")
        .bind(&name)
        .fetch_all(&mut gpkg.conn)
        .await
        .map_err(|e| sql(e, format!("reading the columns of layer \"{name}\"")))?;
    if columns.is_empty() {
        return Err(GpkgError::MissingTable { layer: name });
    }
    let mut names = Vec::with_capacity(columns.len());
    let mut blobs = Vec::new();
    let mut keys = Vec::new();
    for c in &columns {
        let column: String = c.get(0);
        let declared: String = c.get(1);
        if declared.to_ascii_uppercase().contains("BLOB") {
            blobs.push(names.len());
        }
        if c.get::<i64, _>(2) > 0 {
            keys.push((column.clone(), declared));
        }
        names.push(column);
    }
    let pk = match keys.as_slice() {
        [(column, declared)] if declared.eq_ignore_ascii_case("INTEGER") => column.clone(),
        _ => return Err(GpkgError::NoPrimaryKey { layer: name }),
    };
    let Some(geom) = names.iter().position(|c| c.eq_ignore_ascii_case(&layer.geometry_column)) else {
        return Err(GpkgError::MissingGeometryColumn { layer: name, column: layer.geometry_column });
    };
    let pk = names.iter().position(|c| *c == pk).expect("the key is one of the columns");

    let count = gpkg.count(&name).await.map_err(|e| sql(e, format!("counting the rows of layer \"{name}\"")))?;
    if count > opts.max_features as u64 {
        return Err(GpkgError::TooManyFeatures { layer: name, count, max: opts.max_features });
    }

    let select = format!(
        "SELECT {} FROM {} ORDER BY {}",
        names.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
        quote(&name),
        quote(&names[pk])
    );
    let mut features = Vec::with_capacity(count as usize);
    let mut rows = sqlx::query(&select).fetch(&mut gpkg.conn);
    let reading = |e| sql(e, format!("reading layer \"{name}\""));
    while let Some(row) = rows.try_next().await.map_err(reading)? {
        let at = At { layer: &name, row: features.len() + 1, fid: row.try_get(pk).map_err(reading)? };
        let geometry = read_geometry(&row, geom, &names[geom], layer.srs_id, &at)?;
        let mut properties = Map::new();
        for (i, column) in names.iter().enumerate() {
            if i != pk && i != geom && !blobs.contains(&i) {
                if let Some(value) = property(&row, i, column, &at)? {
                    properties.insert(column.clone(), value);
                }
            }
        }
        features.push(json!({"type": "Feature", "id": at.fid, "geometry": geometry, "properties": properties}));
    }
    Ok(json!({"type": "FeatureCollection", "features": features}))
}

fn check_crs(info: &LayerInfo) -> Result<(), GpkgError> {
    let layer = &info.layer;
    match (&info.organization, info.code) {
        _ if matches!(layer.srs_id, 0 | -1) => {
            Err(GpkgError::UndefinedCrs { layer: layer.name.clone(), srs_id: layer.srs_id })
        }
        (Some(org), Some(code)) if org.eq_ignore_ascii_case("EPSG") && LON_LAT_EPSG.contains(&code) => Ok(()),
        _ if LON_LAT_EPSG.contains(&layer.srs_id) => Ok(()),
        (Some(_), Some(_)) => Err(GpkgError::UnsupportedCrs {
            layer: layer.name.clone(),
            crs: layer.crs.clone().unwrap_or_default(),
            crs_name: layer.crs_name.clone().unwrap_or_default(),
        }),
        _ => Err(GpkgError::UnknownSrs { layer: layer.name.clone(), srs_id: layer.srs_id }),
    }
}

/// Where a row is, for errors.
struct At<'a> {
    layer: &'a str,
    row: usize,
    fid: i64,
}

fn read_geometry(row: &SqliteRow, i: usize, column: &str, srs_id: i64, at: &At) -> Result<Value, GpkgError> {
    let raw = row.try_get_raw(i).expect("the column index is in range");
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let found = raw.type_info().name().to_string();
    if found != "BLOB" {
        return Err(GpkgError::GeometryNotBlob {
            layer: at.layer.into(),
            row: at.row,
            fid: at.fid,
            column: column.into(),
            found,
        });
    }
    let blob: &[u8] = row.try_get_unchecked(i).expect("a BLOB decodes to bytes");
    let decoded = geometry::decode(blob).map_err(|source| GpkgError::Geometry {
        layer: at.layer.into(),
        row: at.row,
        fid: at.fid,
        source,
    })?;
    if i64::from(decoded.srs_id) != srs_id {
        return Err(GpkgError::SrsMismatch {
            layer: at.layer.into(),
            row: at.row,
            fid: at.fid,
            found: decoded.srs_id,
            expected: srs_id,
        });
    }
    Ok(decoded.area.map_or(Value::Null, |a| a.to_geojson()))
}

/// A column's value as JSON by its stored type; `None` for BLOBs, which are left out.
fn property(row: &SqliteRow, i: usize, column: &str, at: &At) -> Result<Option<Value>, GpkgError> {
    let fail = |reason: String| GpkgError::Property {
        layer: at.layer.into(),
        row: at.row,
        fid: at.fid,
        column: column.into(),
        reason,
    };
    let raw = row.try_get_raw(i).expect("the column index is in range");
    if raw.is_null() {
        return Ok(Some(Value::Null));
    }
    let kind = raw.type_info().name().to_string();
    Ok(match kind.as_str() {
        "INTEGER" => Some(Value::from(row.try_get_unchecked::<i64, _>(i).map_err(|e| fail(e.to_string()))?)),
        "REAL" => {
            let x: f64 = row.try_get_unchecked(i).map_err(|e| fail(e.to_string()))?;
            let n =
                serde_json::Number::from_f64(x).ok_or_else(|| fail(format!("the REAL value {x} has no JSON form")))?;
            Some(Value::Number(n))
        }
        "TEXT" => Some(Value::String(
            row.try_get_unchecked::<String, _>(i).map_err(|_| fail("the TEXT value is not valid UTF-8".into()))?,
        )),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("grids"), "\"grids\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn application_ids_print_as_ascii() {
        assert_eq!(ascii(0x4D50_4258), "'MPBX'");
        assert_eq!(ascii(1), "not ASCII");
    }
}

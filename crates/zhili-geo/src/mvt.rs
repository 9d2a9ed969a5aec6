//! Mapbox Vector Tile 2.1 encoding (矢量瓦片编码): lon/lat features in, protobuf bytes out.
//!
//! The One Map serves its layers as MVT (`application/vnd.mapbox-vector-tile`) so that web and
//! mobile clients draw grid polygons, cases and rivers with their own styling, at any zoom,
//! without the server rendering images. This module turns the features a tile request found (the
//! caller asks an R-tree for the features whose bounding boxes meet the tile) into the bytes of
//! that tile.
//!
//! # Shape of the API
//!
//! A [`Layer`] collects features with their lon/lat geometry and properties; a [`TileBuilder`]
//! (extent, buffer, simplification tolerance) encodes any number of layers for one [`TileId`].
//! Layers do not know their tile: geometry is projected to Web Mercator once when it is added
//! (stored as *world* coordinates, see [`crate::tile::lonlat_to_world`]), and everything that
//! depends on the tile — the affine map to tile units, clipping, simplification, snapping — runs
//! in [`TileBuilder::encode`]. A layer built for one request is therefore the natural unit, but a
//! layer of a small data set can also be kept and encoded for many tiles; features outside the
//! tile are rejected by their bounding box, so the cost is proportional to the features near the
//! tile.
//!
//! # Geometry pipeline
//!
//! For each feature that meets the tile (including the buffer around it):
//! 1. **Project** world coordinates to tile units: `0..extent` across the tile, y down.
//! 2. **Clip** to the tile plus buffer (`-buffer..extent+buffer`, 64 units by default as in
//!    Martin, so strokes and labels at tile edges are not cut). Polygon rings use
//!    Sutherland–Hodgman; lines use Liang–Barsky and may split into several pieces. Rings that lie
//!    wholly inside are not touched. Clipping comes first because it is linear and shrinks a
//!    large polygon to the part that matters before anything costlier runs.
//! 3. **Simplify** with Douglas–Peucker at a tolerance in tile units (default 1 unit, 1/4096 of
//!    the tile). Because the tolerance is measured in tile units it is zoom-dependent by
//!    construction: a county boundary keeps a handful of vertices at z6 and all of them at z16.
//!    Rings and lines smaller than the tolerance disappear.
//! 4. **Snap** to integers (MVT coordinates are integers) and drop consecutive duplicates.
//! 5. **Validate and orient**: a ring with fewer than 3 distinct points or zero area is dropped
//!    (a polygon whose exterior vanished loses its holes too); exterior rings are turned
//!    clockwise and holes counter-clockwise *in tile coordinates (y down)*, i.e. exteriors have
//!    positive area by the surveyor's formula, as MVT 2.1 requires. Input may come in either
//!    orientation (GeoJSON's RFC 7946 counter-clockwise exteriors or the opposite).
//! 6. **Encode** as MoveTo/LineTo/ClosePath commands with zigzag-encoded deltas.
//!
//! Features whose geometry vanishes are left out, layers without features are left out, and key
//! and value tables hold only what the surviving features use (deduplicated). A tile with nothing
//! in it encodes as zero bytes, which is a valid empty `Tile` message.
//!
//! Known limits: Sutherland–Hodgman leaves zero-width edges along the clip boundary where a
//! concave polygon leaves and re-enters the tile (they lie in the buffer and do not render);
//! Douglas–Peucker and snapping can make a ring touch or cross itself at low zoom, which is not
//! repaired; geometry is not wrapped across the antimeridian; points are not thinned (drop or
//! cluster them before adding when a low-zoom tile would be too large).
//!
//! # Why a hand-written protobuf encoder
//!
//! MVT uses four protobuf primitives — varints, zigzag, length-delimited fields and packed
//! `uint32` — and a fixed schema of four messages. Writing them takes less code than wiring a
//! protobuf code generator into the build, and the bytes are produced straight from the geometry
//! buffers without an intermediate message tree. The small [`decode`] parser exists for tests
//! and tools (e.g. inspecting a tile from the command line); the server never needs it.

use std::collections::HashMap;
use std::fmt;

use geo::{Coord, LineString, MultiLineString, MultiPoint, MultiPolygon, Point};

use crate::tile::{lonlat_to_world, mercator_to_lonlat, TileId, DEFAULT_EXTENT, ORIGIN_SHIFT};

/// Tile units of geometry kept around the tile on every side (Martin's default), so symbols and
/// strokes that straddle a tile edge are drawn whole from either tile.
pub const DEFAULT_BUFFER: u32 = 64;

/// Default Douglas–Peucker tolerance in tile units: one unit, 1/4096 of the tile's width.
pub const DEFAULT_TOLERANCE: f64 = 1.0;

/// The MVT specification version written into every layer.
pub const MVT_VERSION: u32 = 2;

/// Largest extent or buffer accepted, keeping every coordinate and delta within `i32`.
const MAX_UNITS: u32 = 1 << 28;

/// A feature property value, as MVT can carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A UTF-8 string.
    String(String),
    /// A signed integer (encoded as `uint_value` when non-negative, `sint_value` otherwise).
    Int(i64),
    /// A double-precision float.
    Double(f64),
    /// A boolean.
    Bool(bool),
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::String(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Double(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

/// The geometry type of an MVT feature (`Feature.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeomType {
    /// Type 0: not specified (only seen when decoding foreign tiles).
    Unknown,
    /// Type 1: one or more points.
    Point,
    /// Type 2: one or more linestrings.
    LineString,
    /// Type 3: one or more polygons (each an exterior ring followed by its holes).
    Polygon,
}

impl GeomType {
    fn code(self) -> u64 {
        match self {
            GeomType::Unknown => 0,
            GeomType::Point => 1,
            GeomType::LineString => 2,
            GeomType::Polygon => 3,
        }
    }

    fn from_code(code: u64) -> GeomType {
        match code {
            1 => GeomType::Point,
            2 => GeomType::LineString,
            3 => GeomType::Polygon,
            _ => GeomType::Unknown,
        }
    }
}

/// One stored feature; its geometry and tags live in the layer's flat buffers.
#[derive(Debug, Clone)]
struct Feature {
    id: u64,
    kind: GeomType,
    /// Range into `Layer::parts`.
    parts: (usize, usize),
    /// Range into `Layer::tags` (key, value index pairs).
    tags: (usize, usize),
    /// World-coordinate bounding box `[min_x, min_y, max_x, max_y]`.
    bbox: [f64; 4],
}

/// One ring, linestring or point list: a range into `Layer::coords`.
#[derive(Debug, Clone, Copy)]
struct Part {
    start: usize,
    end: usize,
    /// For polygons: this ring starts a new polygon.
    exterior: bool,
}

/// A named set of features to encode as one MVT layer.
///
/// Geometry is given in longitude/latitude (degrees, WGS-84/CGCS2000) and stored projected to
/// Web Mercator; the tile-specific work happens in [`TileBuilder::encode`]. Property keys and
/// values are interned as they are added, so repeated values (a class, a state) are stored once.
/// Rings, lines or points with non-finite coordinates are ignored; a feature left with no
/// geometry is not added.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    name: String,
    keys: Vec<String>,
    key_index: HashMap<String, u32>,
    values: Vec<Value>,
    string_index: HashMap<String, u32>,
    int_index: HashMap<i64, u32>,
    double_index: HashMap<u64, u32>,
    bool_index: [Option<u32>; 2],
    features: Vec<Feature>,
    parts: Vec<Part>,
    coords: Vec<[f64; 2]>,
    tags: Vec<u32>,
}

impl Layer {
    /// An empty layer; `name` becomes the MVT layer name clients style by.
    pub fn new(name: impl Into<String>) -> Layer {
        Layer { name: name.into(), ..Layer::default() }
    }

    /// The layer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of features added (before any are clipped away by a tile).
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether no feature has been added.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Adds a (multi)polygon feature. Rings may be closed (first point repeated) or not and may
    /// wind either way; exteriors with fewer than three points drop their polygon, such holes
    /// are dropped. When a key appears twice in `properties` the first wins.
    pub fn add_polygon(&mut self, id: u64, geometry: &MultiPolygon<f64>, properties: &[(&str, Value)]) {
        let parts_start = self.parts.len();
        let mut bbox = EMPTY_BBOX;
        for polygon in geometry {
            if !self.push_part(&polygon.exterior().0, true, true, 3, &mut bbox) {
                continue;
            }
            for hole in polygon.interiors() {
                self.push_part(&hole.0, true, false, 3, &mut bbox);
            }
        }
        self.finish_feature(id, GeomType::Polygon, parts_start, bbox, properties);
    }

    /// Adds a single-point feature (e.g. a case location).
    pub fn add_point(&mut self, id: u64, point: Point<f64>, properties: &[(&str, Value)]) {
        let parts_start = self.parts.len();
        let mut bbox = EMPTY_BBOX;
        self.push_part(&[point.0], false, false, 1, &mut bbox);
        self.finish_feature(id, GeomType::Point, parts_start, bbox, properties);
    }

    /// Adds a multi-point feature.
    pub fn add_multipoint(&mut self, id: u64, points: &MultiPoint<f64>, properties: &[(&str, Value)]) {
        let parts_start = self.parts.len();
        let mut bbox = EMPTY_BBOX;
        let coords: Vec<Coord<f64>> =
            points.iter().map(|p| p.0).filter(|c| c.x.is_finite() && c.y.is_finite()).collect();
        self.push_part(&coords, false, false, 1, &mut bbox);
        self.finish_feature(id, GeomType::Point, parts_start, bbox, properties);
    }

    /// Adds a linestring feature (e.g. a river); lines with fewer than two points are ignored.
    pub fn add_linestring(&mut self, id: u64, line: &LineString<f64>, properties: &[(&str, Value)]) {
        let parts_start = self.parts.len();
        let mut bbox = EMPTY_BBOX;
        self.push_part(&line.0, false, false, 2, &mut bbox);
        self.finish_feature(id, GeomType::LineString, parts_start, bbox, properties);
    }

    /// Adds a multi-linestring feature.
    pub fn add_multilinestring(&mut self, id: u64, lines: &MultiLineString<f64>, properties: &[(&str, Value)]) {
        let parts_start = self.parts.len();
        let mut bbox = EMPTY_BBOX;
        for line in lines {
            self.push_part(&line.0, false, false, 2, &mut bbox);
        }
        self.finish_feature(id, GeomType::LineString, parts_start, bbox, properties);
    }

    /// Stores one part in world coordinates; returns whether it was kept.
    fn push_part(
        &mut self,
        coords: &[Coord<f64>],
        closed: bool,
        exterior: bool,
        min_points: usize,
        bbox: &mut [f64; 4],
    ) -> bool {
        let mut coords = coords;
        if closed && coords.len() >= 2 && coords[0] == coords[coords.len() - 1] {
            coords = &coords[..coords.len() - 1];
        }
        if coords.len() < min_points || coords.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
            return false;
        }
        let start = self.coords.len();
        for c in coords {
            let w = lonlat_to_world(c.x, c.y);
            extend_bbox(bbox, w);
            self.coords.push(w);
        }
        self.parts.push(Part { start, end: self.coords.len(), exterior });
        true
    }

    fn finish_feature(
        &mut self,
        id: u64,
        kind: GeomType,
        parts_start: usize,
        bbox: [f64; 4],
        properties: &[(&str, Value)],
    ) {
        if self.parts.len() == parts_start {
            return;
        }
        let tags_start = self.tags.len();
        for (i, (key, value)) in properties.iter().enumerate() {
            if properties[..i].iter().any(|(k, _)| k == key) {
                continue;
            }
            let k = self.intern_key(key);
            let v = self.intern_value(value);
            self.tags.push(k);
            self.tags.push(v);
        }
        self.features.push(Feature {
            id,
            kind,
            parts: (parts_start, self.parts.len()),
            tags: (tags_start, self.tags.len()),
            bbox,
        });
    }

    fn intern_key(&mut self, key: &str) -> u32 {
        if let Some(&i) = self.key_index.get(key) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(key.to_owned());
        self.key_index.insert(key.to_owned(), i);
        i
    }

    fn intern_value(&mut self, value: &Value) -> u32 {
        let next = self.values.len() as u32;
        let found = match value {
            Value::String(s) => self.string_index.get(s.as_str()).copied(),
            Value::Int(v) => self.int_index.get(v).copied(),
            Value::Double(v) => self.double_index.get(&v.to_bits()).copied(),
            Value::Bool(b) => self.bool_index[usize::from(*b)],
        };
        if let Some(i) = found {
            return i;
        }
        match value {
            Value::String(s) => {
                self.string_index.insert(s.clone(), next);
            }
            Value::Int(v) => {
                self.int_index.insert(*v, next);
            }
            Value::Double(v) => {
                self.double_index.insert(v.to_bits(), next);
            }
            Value::Bool(b) => self.bool_index[usize::from(*b)] = Some(next),
        }
        self.values.push(value.clone());
        next
    }
}

const EMPTY_BBOX: [f64; 4] = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];

fn extend_bbox(bbox: &mut [f64; 4], p: [f64; 2]) {
    bbox[0] = bbox[0].min(p[0]);
    bbox[1] = bbox[1].min(p[1]);
    bbox[2] = bbox[2].max(p[0]);
    bbox[3] = bbox[3].max(p[1]);
}

/// Encodes layers into MVT 2.1 tiles: extent (units across the tile, default 4096), buffer
/// (units kept beyond each edge, default 64) and simplification tolerance (tile units, default
/// 1). Cheap to construct and immutable, so one instance can serve all requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileBuilder {
    extent: u32,
    buffer: u32,
    tolerance: f64,
}

impl Default for TileBuilder {
    fn default() -> TileBuilder {
        TileBuilder { extent: DEFAULT_EXTENT, buffer: DEFAULT_BUFFER, tolerance: DEFAULT_TOLERANCE }
    }
}

impl TileBuilder {
    /// A builder with extent 4096, buffer 64 and tolerance 1.
    pub fn new() -> TileBuilder {
        TileBuilder::default()
    }

    /// Sets the extent.
    ///
    /// # Panics
    /// If `extent` is 0 or above 2^28.
    pub fn with_extent(mut self, extent: u32) -> TileBuilder {
        assert!(extent > 0 && extent <= MAX_UNITS, "MVT extent must be in 1..=2^28, got {extent}");
        self.extent = extent;
        self
    }

    /// Sets the buffer in tile units.
    ///
    /// # Panics
    /// If `buffer` is above 2^28.
    pub fn with_buffer(mut self, buffer: u32) -> TileBuilder {
        assert!(buffer <= MAX_UNITS, "MVT buffer must be at most 2^28, got {buffer}");
        self.buffer = buffer;
        self
    }

    /// Sets the Douglas–Peucker tolerance in tile units; 0 (or any non-positive or NaN value)
    /// turns simplification off, leaving only snapping to the integer grid.
    pub fn with_tolerance(mut self, tolerance: f64) -> TileBuilder {
        self.tolerance = if tolerance > 0.0 { tolerance } else { 0.0 };
        self
    }

    /// The extent in use.
    pub fn extent(&self) -> u32 {
        self.extent
    }

    /// The buffer in use.
    pub fn buffer(&self) -> u32 {
        self.buffer
    }

    /// The simplification tolerance in use.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }

    /// The tile's bounds grown by the buffer, as `[west, south, east, north]` in degrees: the
    /// box to query the spatial index with, so that features lying only in the buffer are found
    /// too.
    pub fn query_bounds_lonlat(&self, tile: TileId) -> [f64; 4] {
        let [x0, y0, x1, y1] = tile.bounds_mercator();
        let pad = (x1 - x0) * f64::from(self.buffer) / f64::from(self.extent);
        let [west, south] = mercator_to_lonlat((x0 - pad).max(-ORIGIN_SHIFT), (y0 - pad).max(-ORIGIN_SHIFT));
        let [east, north] = mercator_to_lonlat((x1 + pad).min(ORIGIN_SHIFT), (y1 + pad).min(ORIGIN_SHIFT));
        [west.max(-180.0), south, east.min(180.0), north]
    }

    /// Encodes `layers` for `tile` as an MVT 2.1 `Tile` message. Layers that end up without
    /// features are omitted; when none remain the result is empty (zero bytes is a valid, empty
    /// tile — send it or a 204).
    pub fn encode(&self, tile: TileId, layers: &[Layer]) -> Vec<u8> {
        let n = f64::from(1u32 << tile.z);
        let extent = f64::from(self.extent);
        let buffer = f64::from(self.buffer);
        let frame = Frame {
            scale: n * extent,
            ox: f64::from(tile.x) * extent,
            oy: f64::from(tile.y) * extent,
            lo: -buffer,
            hi: extent + buffer,
            tol2: self.tolerance * self.tolerance,
        };
        let pad = buffer / extent;
        let world_box = [
            (f64::from(tile.x) - pad) / n,
            (f64::from(tile.y) - pad) / n,
            (f64::from(tile.x) + 1.0 + pad) / n,
            (f64::from(tile.y) + 1.0 + pad) / n,
        ];
        let mut out = Vec::new();
        let mut body = Vec::new();
        let mut s = Scratch::default();
        for layer in layers {
            body.clear();
            if self.encode_layer(&frame, world_box, layer, &mut s, &mut body) {
                pb::bytes(&mut out, 3, &body);
            }
        }
        out
    }

    /// Writes one `Layer` message body into `buf`; returns false (leaving junk) if no feature
    /// survived.
    fn encode_layer(
        &self,
        frame: &Frame,
        world_box: [f64; 4],
        layer: &Layer,
        s: &mut Scratch,
        buf: &mut Vec<u8>,
    ) -> bool {
        pb::bytes(buf, 1, layer.name.as_bytes());
        let mut key_map = vec![u32::MAX; layer.keys.len()];
        let mut value_map = vec![u32::MAX; layer.values.len()];
        let mut used_keys: Vec<u32> = Vec::new();
        let mut used_values: Vec<u32> = Vec::new();
        let mut written = 0usize;
        for f in &layer.features {
            let b = f.bbox;
            if b[2] < world_box[0] || b[0] > world_box[2] || b[3] < world_box[1] || b[1] > world_box[3] {
                continue;
            }
            s.geom.clear();
            s.cursor = [0, 0];
            let parts = &layer.parts[f.parts.0..f.parts.1];
            match f.kind {
                GeomType::Polygon => encode_polygons(frame, &layer.coords, parts, s),
                GeomType::LineString => encode_lines(frame, &layer.coords, parts, s),
                GeomType::Point => encode_points(frame, &layer.coords, parts, s),
                GeomType::Unknown => {}
            }
            if s.geom.is_empty() {
                continue;
            }
            s.tags.clear();
            for pair in layer.tags[f.tags.0..f.tags.1].chunks_exact(2) {
                s.tags.push(remap(&mut key_map, &mut used_keys, pair[0]));
                s.tags.push(remap(&mut value_map, &mut used_values, pair[1]));
            }
            write_feature(buf, f.id, &s.tags, f.kind, &s.geom);
            written += 1;
        }
        if written == 0 {
            return false;
        }
        for &k in &used_keys {
            pb::bytes(buf, 3, layer.keys[k as usize].as_bytes());
        }
        let mut value_buf = Vec::new();
        for &v in &used_values {
            value_buf.clear();
            write_value(&mut value_buf, &layer.values[v as usize]);
            pb::bytes(buf, 4, &value_buf);
        }
        pb::key(buf, 5, pb::VARINT);
        pb::varint(buf, u64::from(self.extent));
        pb::key(buf, 15, pb::VARINT);
        pb::varint(buf, u64::from(MVT_VERSION));
        true
    }
}

/// Maps a layer-wide key/value index to its index in the tile, assigning the next free one on
/// first use.
fn remap(map: &mut [u32], used: &mut Vec<u32>, index: u32) -> u32 {
    let slot = &mut map[index as usize];
    if *slot == u32::MAX {
        *slot = used.len() as u32;
        used.push(index);
    }
    *slot
}

fn write_feature(buf: &mut Vec<u8>, id: u64, tags: &[u32], kind: GeomType, geom: &[u32]) {
    let tags_len = pb::packed_len(tags);
    let geom_len = pb::packed_len(geom);
    let mut len = 1 + pb::varint_len(id) + 2 + 1 + pb::varint_len(geom_len as u64) + geom_len;
    if !tags.is_empty() {
        len += 1 + pb::varint_len(tags_len as u64) + tags_len;
    }
    pb::key(buf, 2, pb::LEN);
    pb::varint(buf, len as u64);
    pb::key(buf, 1, pb::VARINT);
    pb::varint(buf, id);
    if !tags.is_empty() {
        pb::packed(buf, 2, tags, tags_len);
    }
    pb::key(buf, 3, pb::VARINT);
    pb::varint(buf, kind.code());
    pb::packed(buf, 4, geom, geom_len);
}

fn write_value(buf: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(s) => pb::bytes(buf, 1, s.as_bytes()),
        Value::Double(d) => {
            pb::key(buf, 3, pb::I64);
            buf.extend_from_slice(&d.to_le_bytes());
        }
        Value::Int(i) if *i >= 0 => {
            pb::key(buf, 5, pb::VARINT);
            pb::varint(buf, *i as u64);
        }
        Value::Int(i) => {
            pb::key(buf, 6, pb::VARINT);
            pb::varint(buf, ((*i << 1) ^ (*i >> 63)) as u64);
        }
        Value::Bool(b) => {
            pb::key(buf, 7, pb::VARINT);
            pb::varint(buf, u64::from(*b));
        }
    }
}

/// The map from world coordinates to tile units for one tile, with the clip box and tolerance.
#[derive(Debug, Clone, Copy)]
struct Frame {
    scale: f64,
    ox: f64,
    oy: f64,
    /// Clip box `lo..hi` on both axes (tile units).
    lo: f64,
    hi: f64,
    /// Squared simplification tolerance; 0 disables simplification.
    tol2: f64,
}

impl Frame {
    fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        [p[0] * self.scale - self.ox, p[1] * self.scale - self.oy]
    }

    /// Projects `src` into `out`, returning the bounding box in tile units.
    fn project(&self, src: &[[f64; 2]], out: &mut Vec<[f64; 2]>) -> [f64; 4] {
        out.clear();
        let mut bb = EMPTY_BBOX;
        for &p in src {
            let q = self.apply(p);
            extend_bbox(&mut bb, q);
            out.push(q);
        }
        bb
    }

    fn disjoint(&self, bb: [f64; 4]) -> bool {
        bb[2] < self.lo || bb[0] > self.hi || bb[3] < self.lo || bb[1] > self.hi
    }

    fn contains(&self, bb: [f64; 4]) -> bool {
        bb[0] >= self.lo && bb[2] <= self.hi && bb[1] >= self.lo && bb[3] <= self.hi
    }
}

/// Buffers reused across features and rings within one `encode` call.
#[derive(Debug, Default)]
struct Scratch {
    pts: Vec<[f64; 2]>,
    clip: Vec<[f64; 2]>,
    clip_tmp: Vec<[f64; 2]>,
    keep: Vec<bool>,
    stack: Vec<(usize, usize)>,
    pieces: Vec<(usize, usize)>,
    snapped: Vec<[i32; 2]>,
    geom: Vec<u32>,
    tags: Vec<u32>,
    cursor: [i32; 2],
}

const CMD_MOVE_TO: u32 = 1;
const CMD_LINE_TO: u32 = 2;
const CMD_CLOSE_PATH: u32 = 7;

fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

impl Scratch {
    fn push_point(&mut self, p: [i32; 2]) {
        self.geom.push(zigzag(p[0] - self.cursor[0]));
        self.geom.push(zigzag(p[1] - self.cursor[1]));
        self.cursor = p;
    }

    /// Emits `snapped` as MoveTo + LineTo (+ ClosePath for rings).
    fn emit_path(&mut self, close: bool) {
        let n = self.snapped.len();
        self.geom.push(command(CMD_MOVE_TO, 1));
        let first = self.snapped[0];
        self.push_point(first);
        self.geom.push(command(CMD_LINE_TO, (n - 1) as u32));
        for i in 1..n {
            let p = self.snapped[i];
            self.push_point(p);
        }
        if close {
            self.geom.push(command(CMD_CLOSE_PATH, 1));
        }
    }

    /// Rounds `pts[range]` (only the kept points when `simplified`) into `snapped`, dropping
    /// consecutive duplicates.
    fn snap(&mut self, range: (usize, usize), simplified: bool) {
        self.snapped.clear();
        for i in range.0..range.1 {
            if simplified && !self.keep[i - range.0] {
                continue;
            }
            let p = self.pts[i];
            let q = [p[0].round() as i32, p[1].round() as i32];
            if self.snapped.last() != Some(&q) {
                self.snapped.push(q);
            }
        }
    }
}

/// Twice the signed area of a ring by the surveyor's formula in tile coordinates (y down):
/// positive for rings that look clockwise on screen.
fn area2(ring: &[[i32; 2]]) -> i64 {
    let mut sum = 0i64;
    let mut prev = ring[ring.len() - 1];
    for &p in ring {
        sum += i64::from(prev[0]) * i64::from(p[1]) - i64::from(p[0]) * i64::from(prev[1]);
        prev = p;
    }
    sum
}

/// Projects, clips, simplifies and snaps one ring into `s.snapped`; returns twice its signed
/// area, 0 when the ring vanished.
fn prepare_ring(frame: &Frame, src: &[[f64; 2]], s: &mut Scratch) -> i64 {
    let bb = frame.project(src, &mut s.pts);
    if frame.disjoint(bb) {
        return 0;
    }
    if !frame.contains(bb) {
        clip_ring(&s.pts, frame.lo, frame.hi, &mut s.clip, &mut s.clip_tmp);
        std::mem::swap(&mut s.pts, &mut s.clip);
    }
    if s.pts.len() < 3 {
        return 0;
    }
    let n = s.pts.len();
    let simplify = frame.tol2 > 0.0 && n > 3;
    if simplify {
        // Close the ring for Douglas–Peucker: the degenerate first segment makes it split at
        // the point farthest from the start, the usual treatment of closed rings.
        let first = s.pts[0];
        s.pts.push(first);
        douglas_peucker(&s.pts, frame.tol2, &mut s.keep, &mut s.stack);
        s.pts.pop();
    }
    s.snap((0, n), simplify);
    while s.snapped.len() > 1 && s.snapped.first() == s.snapped.last() {
        s.snapped.pop();
    }
    if s.snapped.len() < 3 {
        return 0;
    }
    area2(&s.snapped)
}

fn encode_polygons(frame: &Frame, coords: &[[f64; 2]], parts: &[Part], s: &mut Scratch) {
    let mut i = 0;
    while i < parts.len() {
        let mut j = i + 1;
        while j < parts.len() && !parts[j].exterior {
            j += 1;
        }
        let ext = parts[i];
        let area = prepare_ring(frame, &coords[ext.start..ext.end], s);
        if area != 0 {
            if area < 0 {
                s.snapped.reverse();
            }
            s.emit_path(true);
            for hole in &parts[i + 1..j] {
                let area = prepare_ring(frame, &coords[hole.start..hole.end], s);
                if area == 0 {
                    continue;
                }
                if area > 0 {
                    s.snapped.reverse();
                }
                s.emit_path(true);
            }
        }
        i = j;
    }
}

fn encode_lines(frame: &Frame, coords: &[[f64; 2]], parts: &[Part], s: &mut Scratch) {
    for part in parts {
        let bb = frame.project(&coords[part.start..part.end], &mut s.pts);
        if frame.disjoint(bb) {
            continue;
        }
        s.pieces.clear();
        if frame.contains(bb) {
            s.pieces.push((0, s.pts.len()));
        } else {
            clip_line(&s.pts, frame.lo, frame.hi, &mut s.clip, &mut s.pieces);
            std::mem::swap(&mut s.pts, &mut s.clip);
        }
        for k in 0..s.pieces.len() {
            let (a, b) = s.pieces[k];
            let simplify = frame.tol2 > 0.0 && b - a > 2;
            if simplify {
                douglas_peucker(&s.pts[a..b], frame.tol2, &mut s.keep, &mut s.stack);
            }
            s.snap((a, b), simplify);
            if s.snapped.len() >= 2 {
                s.emit_path(false);
            }
        }
    }
}

fn encode_points(frame: &Frame, coords: &[[f64; 2]], parts: &[Part], s: &mut Scratch) {
    s.snapped.clear();
    for part in parts {
        for &p in &coords[part.start..part.end] {
            let [x, y] = frame.apply(p);
            if x >= frame.lo && x <= frame.hi && y >= frame.lo && y <= frame.hi {
                s.snapped.push([x.round() as i32, y.round() as i32]);
            }
        }
    }
    if s.snapped.is_empty() {
        return;
    }
    s.geom.push(command(CMD_MOVE_TO, s.snapped.len() as u32));
    for i in 0..s.snapped.len() {
        let p = s.snapped[i];
        s.push_point(p);
    }
}

/// Sutherland–Hodgman: clips the closed ring `pts` to the square `lo..hi` into `out`.
fn clip_ring(pts: &[[f64; 2]], lo: f64, hi: f64, out: &mut Vec<[f64; 2]>, tmp: &mut Vec<[f64; 2]>) {
    out.clear();
    out.extend_from_slice(pts);
    for (axis, bound, keep_above) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        if out.is_empty() {
            return;
        }
        let inside = |p: [f64; 2]| if keep_above { p[axis] >= bound } else { p[axis] <= bound };
        tmp.clear();
        let mut prev = out[out.len() - 1];
        let mut prev_in = inside(prev);
        for &cur in out.iter() {
            let cur_in = inside(cur);
            if cur_in != prev_in {
                tmp.push(intersect(prev, cur, axis, bound));
            }
            if cur_in {
                tmp.push(cur);
            }
            prev = cur;
            prev_in = cur_in;
        }
        std::mem::swap(out, tmp);
    }
}

/// The point of segment `a`–`b` where coordinate `axis` equals `bound` (the ends straddle it).
fn intersect(a: [f64; 2], b: [f64; 2], axis: usize, bound: f64) -> [f64; 2] {
    let t = (bound - a[axis]) / (b[axis] - a[axis]);
    let other = 1 - axis;
    let mut p = [0.0; 2];
    p[axis] = bound;
    p[other] = a[other] + t * (b[other] - a[other]);
    p
}

/// Liang–Barsky: the parameter interval of segment `a`–`b` inside the square `lo..hi`.
fn clip_segment(a: [f64; 2], b: [f64; 2], lo: f64, hi: f64) -> Option<(f64, f64)> {
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for axis in 0..2 {
        let d = b[axis] - a[axis];
        for (p, q) in [(-d, a[axis] - lo), (d, hi - a[axis])] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    if r > t1 {
                        return None;
                    }
                    t0 = t0.max(r);
                } else {
                    if r < t0 {
                        return None;
                    }
                    t1 = t1.min(r);
                }
            }
        }
    }
    Some((t0, t1))
}

fn lerp(a: [f64; 2], b: [f64; 2], t: f64) -> [f64; 2] {
    if t == 0.0 {
        a
    } else if t == 1.0 {
        b
    } else {
        [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
    }
}

/// Clips the polyline `pts` to the square `lo..hi`; the pieces inside are written to `out`,
/// their ranges to `pieces`.
fn clip_line(pts: &[[f64; 2]], lo: f64, hi: f64, out: &mut Vec<[f64; 2]>, pieces: &mut Vec<(usize, usize)>) {
    out.clear();
    pieces.clear();
    let mut start: Option<usize> = None;
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        match clip_segment(a, b, lo, hi) {
            Some((t0, t1)) => {
                if start.is_none() || t0 > 0.0 {
                    if let Some(s0) = start {
                        pieces.push((s0, out.len()));
                    }
                    start = Some(out.len());
                    out.push(lerp(a, b, t0));
                }
                out.push(lerp(a, b, t1));
                if t1 < 1.0 {
                    if let Some(s0) = start.take() {
                        pieces.push((s0, out.len()));
                    }
                }
            }
            None => {
                if let Some(s0) = start.take() {
                    pieces.push((s0, out.len()));
                }
            }
        }
    }
    if let Some(s0) = start {
        pieces.push((s0, out.len()));
    }
}

/// Squared distance from `p` to the segment `a`–`b` (to `a` when the segment is a point).
fn segment_distance2(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let (mut ex, mut ey) = (p[0] - a[0], p[1] - a[1]);
    if len2 > 0.0 {
        let t = ((ex * dx + ey * dy) / len2).clamp(0.0, 1.0);
        ex -= t * dx;
        ey -= t * dy;
    }
    ex * ex + ey * ey
}

/// Douglas–Peucker on the polyline `pts` (iterative, so deep recursion cannot overflow the
/// stack): sets `keep[i]` for the points to retain, always including both ends.
fn douglas_peucker(pts: &[[f64; 2]], tol2: f64, keep: &mut Vec<bool>, stack: &mut Vec<(usize, usize)>) {
    let n = pts.len();
    keep.clear();
    keep.resize(n, false);
    if n == 0 {
        return;
    }
    keep[0] = true;
    keep[n - 1] = true;
    stack.clear();
    stack.push((0, n - 1));
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (pa, pb) = (pts[a], pts[b]);
        let mut best = (0.0, a);
        for (i, &p) in pts.iter().enumerate().take(b).skip(a + 1) {
            let d = segment_distance2(p, pa, pb);
            if d > best.0 {
                best = (d, i);
            }
        }
        if best.0 > tol2 {
            keep[best.1] = true;
            stack.push((a, best.1));
            stack.push((best.1, b));
        }
    }
}

/// The few protobuf wire-format primitives MVT needs.
mod pb {
    pub const VARINT: u32 = 0;
    pub const I64: u32 = 1;
    pub const LEN: u32 = 2;
    pub const I32: u32 = 5;

    pub fn varint(buf: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        buf.push(v as u8);
    }

    pub fn varint_len(v: u64) -> usize {
        (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
    }

    pub fn key(buf: &mut Vec<u8>, field: u32, wire: u32) {
        varint(buf, u64::from((field << 3) | wire));
    }

    pub fn bytes(buf: &mut Vec<u8>, field: u32, data: &[u8]) {
        key(buf, field, LEN);
        varint(buf, data.len() as u64);
        buf.extend_from_slice(data);
    }

    /// Payload length of a packed repeated `uint32`.
    pub fn packed_len(values: &[u32]) -> usize {
        values.iter().map(|&v| varint_len(u64::from(v))).sum()
    }

    /// Writes a packed repeated `uint32` whose payload length `len` the caller computed.
    pub fn packed(buf: &mut Vec<u8>, field: u32, values: &[u32], len: usize) {
        key(buf, field, LEN);
        varint(buf, len as u64);
        for &v in values {
            varint(buf, u64::from(v));
        }
    }

    /// A cursor over a protobuf message.
    pub struct Reader<'a> {
        buf: &'a [u8],
        pos: usize,
    }

    impl<'a> Reader<'a> {
        pub fn new(buf: &'a [u8]) -> Reader<'a> {
            Reader { buf, pos: 0 }
        }

        pub fn at_end(&self) -> bool {
            self.pos >= self.buf.len()
        }

        pub fn varint(&mut self) -> Result<u64, String> {
            let mut v = 0u64;
            for shift in (0..64).step_by(7) {
                let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
                self.pos += 1;
                v |= u64::from(b & 0x7f) << shift;
                if b < 0x80 {
                    return Ok(v);
                }
            }
            Err("varint longer than 10 bytes".into())
        }

        /// The next field number and wire type.
        pub fn key(&mut self) -> Result<(u32, u32), String> {
            let k = self.varint()?;
            let field = u32::try_from(k >> 3).map_err(|_| "field number out of range")?;
            Ok((field, (k & 7) as u32))
        }

        pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], String> {
            let end = self.pos.checked_add(N).filter(|&e| e <= self.buf.len()).ok_or("truncated fixed-width field")?;
            let mut out = [0u8; N];
            out.copy_from_slice(&self.buf[self.pos..end]);
            self.pos = end;
            Ok(out)
        }

        pub fn bytes(&mut self) -> Result<&'a [u8], String> {
            let len = usize::try_from(self.varint()?).map_err(|_| "length out of range")?;
            let end =
                self.pos.checked_add(len).filter(|&e| e <= self.buf.len()).ok_or("truncated length-delimited field")?;
            let out = &self.buf[self.pos..end];
            self.pos = end;
            Ok(out)
        }

        /// A repeated `uint32`, packed (wire type 2) or a single unpacked element (wire type 0).
        pub fn uint32s(&mut self, wire: u32, out: &mut Vec<u32>) -> Result<(), String> {
            let mut read = |r: &mut Reader<'_>| -> Result<(), String> {
                let v = r.varint()?;
                out.push(u32::try_from(v).map_err(|_| format!("{v} does not fit uint32"))?);
                Ok(())
            };
            match wire {
                VARINT => read(self),
                LEN => {
                    let mut inner = Reader::new(self.bytes()?);
                    while !inner.at_end() {
                        read(&mut inner)?;
                    }
                    Ok(())
                }
                w => Err(format!("wire type {w} for a repeated uint32")),
            }
        }

        pub fn skip(&mut self, wire: u32) -> Result<(), String> {
            match wire {
                VARINT => self.varint().map(drop),
                I64 => self.fixed::<8>().map(drop),
                LEN => self.bytes().map(drop),
                I32 => self.fixed::<4>().map(drop),
                w => Err(format!("unsupported wire type {w}")),
            }
        }
    }
}

/// Why [`decode`] rejected its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid vector tile: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

impl From<String> for DecodeError {
    fn from(message: String) -> DecodeError {
        DecodeError(message)
    }
}

/// A layer parsed by [`decode`] (for tests and tools).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedLayer {
    /// `Layer.version` (1 when absent, as the specification's default).
    pub version: u32,
    /// `Layer.name`.
    pub name: String,
    /// `Layer.extent` (4096 when absent).
    pub extent: u32,
    /// The key table.
    pub keys: Vec<String>,
    /// The value table.
    pub values: Vec<Value>,
    /// The features, in tile order.
    pub features: Vec<DecodedFeature>,
}

impl DecodedLayer {
    /// A feature's tags resolved against the key and value tables, in tag order.
    pub fn properties(&self, feature: &DecodedFeature) -> Result<Vec<(&str, &Value)>, DecodeError> {
        let pairs = feature.tags.chunks_exact(2);
        if !pairs.remainder().is_empty() {
            return Err(DecodeError("odd number of tags".into()));
        }
        pairs
            .map(|pair| {
                let key =
                    self.keys.get(pair[0] as usize).ok_or_else(|| format!("key index {} out of range", pair[0]))?;
                let value =
                    self.values.get(pair[1] as usize).ok_or_else(|| format!("value index {} out of range", pair[1]))?;
                Ok((key.as_str(), value))
            })
            .collect()
    }
}

/// A feature parsed by [`decode`], geometry still as raw command integers.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFeature {
    /// `Feature.id`, if present.
    pub id: Option<u64>,
    /// `Feature.tags`: alternating key and value indices.
    pub tags: Vec<u32>,
    /// `Feature.type`.
    pub geom_type: GeomType,
    /// `Feature.geometry`: command and parameter integers.
    pub geometry: Vec<u32>,
}

/// One drawing command of a decoded geometry, with absolute tile coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Start a new point, line or ring at this position.
    MoveTo([i32; 2]),
    /// Draw a segment to this position.
    LineTo([i32; 2]),
    /// Close the current ring.
    ClosePath,
}

impl DecodedFeature {
    /// Interprets the geometry integers: command ids and counts, zigzag deltas accumulated
    /// into absolute positions.
    pub fn commands(&self) -> Result<Vec<Command>, DecodeError> {
        let mut out = Vec::new();
        let mut cursor = [0i32; 2];
        let g = &self.geometry;
        let mut i = 0;
        while i < g.len() {
            let (id, count) = (g[i] & 7, (g[i] >> 3) as usize);
            i += 1;
            match id {
                CMD_MOVE_TO | CMD_LINE_TO => {
                    if g.len() - i < 2 * count {
                        return Err(DecodeError(format!("command needs {count} positions, geometry ends")));
                    }
                    for _ in 0..count {
                        let dx = ((g[i] >> 1) as i32) ^ -((g[i] & 1) as i32);
                        let dy = ((g[i + 1] >> 1) as i32) ^ -((g[i + 1] & 1) as i32);
                        i += 2;
                        cursor = [cursor[0].wrapping_add(dx), cursor[1].wrapping_add(dy)];
                        out.push(if id == CMD_MOVE_TO { Command::MoveTo(cursor) } else { Command::LineTo(cursor) });
                    }
                }
                CMD_CLOSE_PATH if count == 1 => out.push(Command::ClosePath),
                CMD_CLOSE_PATH => return Err(DecodeError(format!("ClosePath with count {count}"))),
                other => return Err(DecodeError(format!("unknown command id {other}"))),
            }
        }
        Ok(out)
    }

    /// The geometry as paths of absolute positions: for polygons one path per ring (without
    /// repeating the first point), for lines one per linestring, for points a single path
    /// holding all points.
    pub fn paths(&self) -> Result<Vec<Vec<[i32; 2]>>, DecodeError> {
        let mut paths: Vec<Vec<[i32; 2]>> = Vec::new();
        for c in self.commands()? {
            match c {
                Command::MoveTo(p) if self.geom_type == GeomType::Point && !paths.is_empty() => paths[0].push(p),
                Command::MoveTo(p) => paths.push(vec![p]),
                Command::LineTo(p) => {
                    paths.last_mut().ok_or_else(|| DecodeError("LineTo before MoveTo".into()))?.push(p)
                }
                Command::ClosePath => {}
            }
        }
        Ok(paths)
    }
}

/// The signed area of a ring in tile coordinates (y down) by the surveyor's
/// formula. MVT 2.1 exterior rings are positive (clockwise on screen), holes negative.
pub fn ring_area(ring: &[[i32; 2]]) -> f64 {
    if ring.is_empty() {
        return 0.0;
    }
    area2(ring) as f64 / 2.0
}

/// Parses an MVT protobuf into its layers. Meant for tests and tools (checking what a server
/// sends, debugging a style): it is strict about structure but does not validate geometry.
/// Unknown fields are skipped; `uint` values above `i64::MAX` are rejected since [`Value`]
/// cannot hold them.
pub fn decode(bytes: &[u8]) -> Result<Vec<DecodedLayer>, DecodeError> {
    let mut r = pb::Reader::new(bytes);
    let mut layers = Vec::new();
    while !r.at_end() {
        match r.key()? {
            (3, pb::LEN) => layers.push(decode_layer(r.bytes()?)?),
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok(layers)
}

fn decode_layer(bytes: &[u8]) -> Result<DecodedLayer, DecodeError> {
    let mut r = pb::Reader::new(bytes);
    let mut layer = DecodedLayer {
        version: 1,
        name: String::new(),
        extent: DEFAULT_EXTENT,
        keys: Vec::new(),
        values: Vec::new(),
        features: Vec::new(),
    };
    let utf8 = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| DecodeError("string is not UTF-8".into()));
    let small = |v: u64, what: &str| u32::try_from(v).map_err(|_| DecodeError(format!("{what} {v} out of range")));
    while !r.at_end() {
        match r.key()? {
            (15, pb::VARINT) => layer.version = small(r.varint()?, "version")?,
            (1, pb::LEN) => layer.name = utf8(r.bytes()?)?,
            (2, pb::LEN) => layer.features.push(decode_feature(r.bytes()?)?),
            (3, pb::LEN) => layer.keys.push(utf8(r.bytes()?)?),
            (4, pb::LEN) => layer.values.push(decode_value(r.bytes()?)?),
            (5, pb::VARINT) => layer.extent = small(r.varint()?, "extent")?,
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok(layer)
}

fn decode_feature(bytes: &[u8]) -> Result<DecodedFeature, DecodeError> {
    let mut r = pb::Reader::new(bytes);
    let mut f = DecodedFeature { id: None, tags: Vec::new(), geom_type: GeomType::Unknown, geometry: Vec::new() };
    while !r.at_end() {
        match r.key()? {
            (1, pb::VARINT) => f.id = Some(r.varint()?),
            (2, wire) => r.uint32s(wire, &mut f.tags)?,
            (3, pb::VARINT) => f.geom_type = GeomType::from_code(r.varint()?),
            (4, wire) => r.uint32s(wire, &mut f.geometry)?,
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok(f)
}

fn decode_value(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut r = pb::Reader::new(bytes);
    let mut value = None;
    while !r.at_end() {
        value = Some(match r.key()? {
            (1, pb::LEN) => Value::String(
                String::from_utf8(r.bytes()?.to_vec()).map_err(|_| DecodeError("string is not UTF-8".into()))?,
            ),
            (2, pb::I32) => Value::Double(f64::from(f32::from_le_bytes(r.fixed::<4>()?))),
            (3, pb::I64) => Value::Double(f64::from_le_bytes(r.fixed::<8>()?)),
            (4, pb::VARINT) => Value::Int(r.varint()? as i64),
            (5, pb::VARINT) => {
                let v = r.varint()?;
                Value::Int(i64::try_from(v).map_err(|_| DecodeError(format!("uint value {v} exceeds i64")))?)
            }
            (6, pb::VARINT) => {
                let v = r.varint()?;
                Value::Int(((v >> 1) as i64) ^ -((v & 1) as i64))
            }
            (7, pb::VARINT) => Value::Bool(r.varint()? != 0),
            (_, wire) => {
                r.skip(wire)?;
                continue;
            }
        });
    }
    value.ok_or_else(|| DecodeError("value message without a value".into()))
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;
    use std::time::{Duration, Instant};

    use geo::{coord, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

    use super::*;

    /// The z14 tile of the demo county (117.86E, 36.49N).
    fn county_tile() -> TileId {
        TileId::new(14, 13555, 6406).unwrap()
    }

    /// Longitude/latitude of a position given in units of a 4096-extent `tile`.
    fn lonlat(tile: TileId, px: f64, py: f64) -> Coord<f64> {
        let n = f64::from(1u32 << tile.z);
        let wx = (f64::from(tile.x) + px / 4096.0) / n;
        let wy = (f64::from(tile.y) + py / 4096.0) / n;
        coord! { x: wx * 360.0 - 180.0, y: (PI * (1.0 - 2.0 * wy)).sinh().atan().to_degrees() }
    }

    fn ring(tile: TileId, pts: &[(f64, f64)]) -> LineString<f64> {
        LineString(pts.iter().map(|&(x, y)| lonlat(tile, x, y)).collect())
    }

    fn polygon(tile: TileId, exterior: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
        Polygon::new(ring(tile, exterior), holes.iter().map(|h| ring(tile, h)).collect())
    }

    /// Square with corners (a, a) and (b, b), in screen-clockwise order (y down).
    fn square(a: f64, b: f64) -> Vec<(f64, f64)> {
        vec![(a, a), (b, a), (b, b), (a, b), (a, a)]
    }

    fn reversed(mut v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
        v.reverse();
        v
    }

    fn one_layer(bytes: &[u8]) -> DecodedLayer {
        let mut layers = decode(bytes).unwrap();
        assert_eq!(layers.len(), 1);
        layers.pop().unwrap()
    }

    /// Checks the command structure of a polygon feature: each ring MoveTo(1), LineTo(n≥2),
    /// ClosePath; returns the rings.
    fn polygon_rings(f: &DecodedFeature) -> Vec<Vec<[i32; 2]>> {
        assert_eq!(f.geom_type, GeomType::Polygon);
        let mut g = f.geometry.iter();
        while let Some(&c) = g.next() {
            assert_eq!(c, command(CMD_MOVE_TO, 1));
            g.nth(1);
            let line = *g.next().unwrap();
            assert_eq!(line & 7, CMD_LINE_TO);
            assert!(line >> 3 >= 2);
            for _ in 0..2 * (line >> 3) {
                g.next().unwrap();
            }
            assert_eq!(*g.next().unwrap(), command(CMD_CLOSE_PATH, 1));
        }
        f.paths().unwrap()
    }

    #[test]
    fn polygon_with_hole_round_trip() {
        let tile = county_tile();
        let mut layer = Layer::new("grid");
        // Given as MVT wants it (exterior clockwise on a north-up screen, hole anticlockwise); the
        // opposite, GeoJSON's convention, is covered by the winding test.
        let p = polygon(tile, &square(100.0, 900.0), &[&reversed(square(300.0, 500.0))]);
        layer.add_polygon(
            42,
            &MultiPolygon(vec![p]),
            &[("code", Value::from("370102001001")), ("level", Value::Int(5))],
        );
        let bytes = TileBuilder::new().encode(tile, &[layer]);
        let l = one_layer(&bytes);
        assert_eq!((l.name.as_str(), l.version, l.extent), ("grid", 2, 4096));
        assert_eq!(l.features.len(), 1);
        let f = &l.features[0];
        assert_eq!(f.id, Some(42));
        let rings = polygon_rings(f);
        assert_eq!(
            rings,
            vec![
                vec![[100, 100], [900, 100], [900, 900], [100, 900]],
                vec![[300, 300], [300, 500], [500, 500], [500, 300]],
            ]
        );
        assert_eq!(ring_area(&rings[0]), 640_000.0);
        assert_eq!(ring_area(&rings[1]), -40_000.0);
        let props = l.properties(f).unwrap();
        assert_eq!(props, vec![("code", &Value::from("370102001001")), ("level", &Value::Int(5))]);
    }

    #[test]
    fn the_specification_example_point() {
        // MVT 2.1 §4.3.5: a point at (25, 17) encodes as [9, 50, 34].
        let tile = county_tile();
        let mut layer = Layer::new("cases");
        layer.add_point(1, Point(lonlat(tile, 25.0, 17.0)), &[]);
        let l = one_layer(&TileBuilder::new().encode(tile, &[layer]));
        assert_eq!(l.features[0].geometry, vec![9, 50, 34]);
        assert!(l.features[0].tags.is_empty());
        assert_eq!(l.features[0].geom_type, GeomType::Point);
    }

    #[test]
    fn multipolygon_round_trip() {
        let tile = county_tile();
        let mut layer = Layer::new("grid");
        let a = polygon(tile, &square(0.0, 1000.0), &[&square(200.0, 400.0)]);
        let b = polygon(tile, &square(2000.0, 3000.0), &[]);
        layer.add_polygon(7, &MultiPolygon(vec![a, b]), &[]);
        let l = one_layer(&TileBuilder::new().encode(tile, &[layer]));
        let f = &l.features[0];
        let rings = polygon_rings(f);
        let areas: Vec<f64> = rings.iter().map(|r| ring_area(r)).collect();
        assert_eq!(areas, vec![1_000_000.0, -40_000.0, 1_000_000.0]);
        assert_eq!(rings[2][0], [2000, 2000]);
        // The cursor carries across rings: the second MoveTo is relative to the last LineTo.
        let cmds = f.commands().unwrap();
        assert_eq!(cmds.iter().filter(|c| matches!(c, Command::MoveTo(_))).count(), 3);
        assert_eq!(cmds.iter().filter(|c| matches!(c, Command::ClosePath)).count(), 3);
    }

    #[test]
    fn winding_follows_the_specification_whatever_the_input() {
        let tile = county_tile();
        let mut layer = Layer::new("grid");
        let orientations = [(false, false), (false, true), (true, false), (true, true)];
        for (i, &(rev_ext, rev_hole)) in orientations.iter().enumerate() {
            let off = i as f64 * 1000.0;
            let mut ext: Vec<_> = square(0.0, 800.0).into_iter().map(|(x, y)| (x + off, y)).collect();
            let mut hole: Vec<_> = square(100.0, 300.0).into_iter().map(|(x, y)| (x + off, y)).collect();
            if rev_ext {
                ext.reverse();
            }
            if rev_hole {
                hole.reverse();
            }
            layer.add_polygon(i as u64, &MultiPolygon(vec![polygon(tile, &ext, &[&hole])]), &[]);
        }
        // An irregular, concave exterior too.
        let concave = [(0.0, 1000.0), (900.0, 1000.0), (450.0, 1400.0), (900.0, 1800.0), (0.0, 1800.0)];
        layer.add_polygon(9, &MultiPolygon(vec![polygon(tile, &concave, &[])]), &[]);
        let l = one_layer(&TileBuilder::new().encode(tile, &[layer]));
        assert_eq!(l.features.len(), 5);
        for f in &l.features {
            let rings = polygon_rings(f);
            assert!(ring_area(&rings[0]) > 0.0, "exterior of {:?} not clockwise", f.id);
            for hole in &rings[1..] {
                assert!(ring_area(hole) < 0.0, "hole of {:?} not counter-clockwise", f.id);
            }
        }
    }

    #[test]
    fn polygons_larger_than_the_tile_are_clipped_to_the_buffer() {
        let tile = county_tile();
        let mut layer = Layer::new("grid");
        // Covers the tile and its neighbours entirely.
        layer.add_polygon(1, &MultiPolygon(vec![polygon(tile, &square(-5000.0, 9000.0), &[])]), &[]);
        // A concave "U" reaching far outside on three sides, with a hole crossing the edge.
        let u = [
            (-3000.0, -3000.0),
            (7000.0, -3000.0),
            (7000.0, 7000.0),
            (3000.0, 7000.0),
            (3000.0, 1000.0),
            (1000.0, 1000.0),
            (1000.0, 7000.0),
            (-3000.0, 7000.0),
        ];
        let hole = [(-500.0, 200.0), (500.0, 200.0), (500.0, 600.0), (-500.0, 600.0)];
        layer.add_polygon(2, &MultiPolygon(vec![polygon(tile, &u, &[&hole])]), &[]);
        // A polygon entirely in a neighbouring tile, beyond the buffer: dropped.
        layer.add_polygon(3, &MultiPolygon(vec![polygon(tile, &square(4300.0, 5000.0), &[])]), &[]);
        // One only in the buffer: kept.
        layer.add_polygon(4, &MultiPolygon(vec![polygon(tile, &square(4100.0, 4150.0), &[])]), &[]);

        let l = one_layer(&TileBuilder::new().encode(tile, &[layer]));
        let ids: Vec<_> = l.features.iter().map(|f| f.id.unwrap()).collect();
        assert_eq!(ids, vec![1, 2, 4]);
        for f in &l.features {
            for r in polygon_rings(f) {
                for p in &r {
                    assert!((-64..=4160).contains(&p[0]) && (-64..=4160).contains(&p[1]), "{p:?} outside buffer");
                }
            }
        }
        let whole = polygon_rings(&l.features[0]);
        assert_eq!(whole.len(), 1);
        assert_eq!(ring_area(&whole[0]), 4224.0 * 4224.0);
        let u = polygon_rings(&l.features[1]);
        assert_eq!(u.len(), 2);
        assert!(ring_area(&u[0]) > 0.0 && ring_area(&u[1]) < 0.0);
        // The clipped hole runs from the buffer edge to x = 500.
        assert_eq!(u[1].iter().map(|p| p[0]).min(), Some(-64));
        // A builder with a zero buffer clips exactly at the tile edge.
        let mut layer = Layer::new("grid");
        layer.add_polygon(1, &MultiPolygon(vec![polygon(tile, &square(-5000.0, 9000.0), &[])]), &[]);
        let l = one_layer(&TileBuilder::new().with_buffer(0).encode(tile, &[layer]));
        assert_eq!(polygon_rings(&l.features[0])[0].len(), 4);
        assert_eq!(ring_area(&polygon_rings(&l.features[0])[0]), 4096.0 * 4096.0);
    }

    #[test]
    fn keys_and_values_are_deduplicated_per_tile() {
        let tile = county_tile();
        let mut layer = Layer::new("grid");
        let props = |code: &str, state: &str, n: i64| {
            vec![
                ("code", Value::from(code)),
                ("state", Value::from(state)),
                ("count", Value::Int(n)),
                ("share", Value::Double(0.25)),
                ("open", Value::Bool(true)),
            ]
        };
        let sq = MultiPolygon(vec![polygon(tile, &square(10.0, 20.0), &[])]);
        layer.add_polygon(1, &sq, &props("A", "正常", 3));
        layer.add_polygon(2, &sq, &props("B", "正常", -3));
        layer.add_polygon(3, &sq, &props("A", "closed", 3));
        // Far away: its unique key and value must not reach the tile.
        let far = MultiPolygon(vec![polygon(tile, &square(20000.0, 20010.0), &[])]);
        layer.add_polygon(4, &far, &[("only_far", Value::from("nowhere")), ("code", Value::Int(i64::MIN))]);
        // Duplicate key in one feature: the first wins.
        layer.add_polygon(5, &sq, &[("code", Value::from("A")), ("code", Value::from("Z"))]);

        let l = one_layer(&TileBuilder::new().encode(tile, &[layer]));
        assert_eq!(l.keys, vec!["code", "state", "count", "share", "open"]);
        assert_eq!(l.values.len(), 8, "{:?}", l.values);
        for v in [Value::from("A"), Value::from("B"), Value::from("正常"), Value::from("closed")] {
            assert_eq!(l.values.iter().filter(|x| **x == v).count(), 1);
        }
        assert!(l.values.contains(&Value::Int(-3)) && l.values.contains(&Value::Int(3)));
        assert!(!l.values.iter().any(|v| *v == Value::from("nowhere") || *v == Value::Int(i64::MIN)));
        let by_id = |id| l.features.iter().find(|f| f.id == Some(id)).unwrap();
        let p2 = l.properties(by_id(2)).unwrap();
        assert_eq!(
            p2,
            vec![
                ("code", &Value::from("B")),
                ("state", &Value::from("正常")),
                ("count", &Value::Int(-3)),
                ("share", &Value::Double(0.25)),
                ("open", &Value::Bool(true)),
            ]
        );
        assert_eq!(l.properties(by_id(5)).unwrap(), vec![("code", &Value::from("A"))]);
        // Identical tags on features 1 and 3 except two values: same indices where equal.
        assert_eq!(by_id(1).tags[..2], by_id(3).tags[..2]);
        assert_ne!(by_id(1).tags[3], by_id(3).tags[3]);
    }

    #[test]
    fn extreme_values_round_trip() {
        let tile = county_tile();
        let mut layer = Layer::new("v");
        let values = [
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Int(0),
            Value::Double(-1.5e300),
            Value::Bool(false),
            Value::from(""),
        ];
        let props: Vec<(String, Value)> =
            values.iter().enumerate().map(|(i, v)| (format!("k{i}"), v.clone())).collect();
        let props: Vec<(&str, Value)> = props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        layer.add_point(u64::MAX, Point(lonlat(tile, 1.0, 1.0)), &props);
        let l = one_layer(&TileBuilder::new().encode(tile, &[layer]));
        assert_eq!(l.features[0].id, Some(u64::MAX));
        let got: Vec<Value> = l.properties(&l.features[0]).unwrap().into_iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(got, values);
    }

    #[test]
    fn points_and_lines() {
        let tile = county_tile();
        let mut cases = Layer::new("cases");
        cases.add_point(1, Point(lonlat(tile, 100.0, 200.0)), &[("state", Value::from("open"))]);
        cases.add_point(2, Point(lonlat(tile, 5000.0, 200.0)), &[]); // outside: dropped
        cases.add_point(3, Point(lonlat(tile, -60.0, 4150.0)), &[]); // in the buffer: kept
        let mp = MultiPoint(vec![
            Point(lonlat(tile, 10.0, 10.0)),
            Point(lonlat(tile, 9000.0, 0.0)),
            Point(lonlat(tile, 20.0, 30.0)),
        ]);
        cases.add_multipoint(4, &mp, &[]);

        let mut rivers = Layer::new("rivers");
        // Enters from the west, leaves north, comes back in from the north, ends inside.
        let river =
            ring(tile, &[(-1000.0, 2000.0), (2000.0, 2000.0), (2000.0, -1000.0), (3000.0, -1000.0), (3000.0, 1000.0)]);
        rivers.add_linestring(10, &river, &[("name", Value::from("小清河"))]);
        let inside = ring(tile, &[(100.0, 100.0), (200.0, 100.0), (200.0, 200.0)]);
        let far = ring(tile, &[(-9000.0, 100.0), (-8000.0, 100.0)]);
        rivers.add_multilinestring(11, &MultiLineString(vec![inside, far.clone()]), &[]);
        rivers.add_linestring(12, &far, &[]); // outside: dropped
        rivers.add_linestring(13, &LineString(vec![lonlat(tile, 1.0, 1.0)]), &[]); // one point: ignored
        assert_eq!(rivers.len(), 3);

        let layers = decode(&TileBuilder::new().encode(tile, &[cases, rivers])).unwrap();
        assert_eq!(layers.len(), 2);
        let (c, r) = (&layers[0], &layers[1]);
        assert_eq!(c.name, "cases");
        assert_eq!(c.features.iter().map(|f| f.id.unwrap()).collect::<Vec<_>>(), vec![1, 3, 4]);
        assert!(c.features.iter().all(|f| f.geom_type == GeomType::Point));
        assert_eq!(c.features[0].paths().unwrap(), vec![vec![[100, 200]]]);
        assert_eq!(c.features[1].paths().unwrap(), vec![vec![[-60, 4150]]]);
        assert_eq!(c.features[2].paths().unwrap(), vec![vec![[10, 10], [20, 30]]]);
        assert_eq!(c.features[2].geometry[0], command(CMD_MOVE_TO, 2));

        assert_eq!(r.name, "rivers");
        assert_eq!(r.features.len(), 2);
        let f = &r.features[0];
        assert_eq!(f.geom_type, GeomType::LineString);
        assert_eq!(
            f.paths().unwrap(),
            vec![vec![[-64, 2000], [2000, 2000], [2000, -64]], vec![[3000, -64], [3000, 1000]]]
        );
        assert_eq!(r.properties(f).unwrap(), vec![("name", &Value::from("小清河"))]);
        assert_eq!(r.features[1].paths().unwrap(), vec![vec![[100, 100], [200, 100], [200, 200]]]);
    }

    #[test]
    fn an_empty_tile_is_a_valid_empty_message() {
        let tile = county_tile();
        let builder = TileBuilder::new();
        assert!(builder.encode(tile, &[]).is_empty());
        assert!(builder.encode(tile, &[Layer::new("grid")]).is_empty());
        let mut far = Layer::new("grid");
        far.add_polygon(1, &MultiPolygon(vec![polygon(tile, &square(8000.0, 9000.0), &[])]), &[("k", Value::Int(1))]);
        // A ring with NaN coordinates is ignored, leaving nothing.
        far.add_polygon(
            2,
            &MultiPolygon(vec![Polygon::new(LineString::from(vec![(f64::NAN, 1.0), (2.0, 2.0), (3.0, 1.0)]), vec![])]),
            &[],
        );
        assert_eq!(far.len(), 1);
        let bytes = builder.encode(tile, &[far, Layer::new("other")]);
        assert!(bytes.is_empty());
        assert_eq!(decode(&bytes).unwrap(), vec![]);
    }

    /// A star with `n` vertices alternating between radius `r` and `0.8 r` (metres, roughly),
    /// around `centre`.
    fn star(centre: Coord<f64>, r_deg: f64, n: usize) -> MultiPolygon<f64> {
        let mut pts: Vec<Coord<f64>> = (0..n)
            .map(|i| {
                let a = 2.0 * PI * i as f64 / n as f64;
                let r = if i % 2 == 0 { r_deg } else { 0.8 * r_deg };
                coord! { x: centre.x + r * a.cos() / 0.8, y: centre.y + r * a.sin() }
            })
            .collect();
        pts.push(pts[0]);
        MultiPolygon(vec![Polygon::new(LineString(pts), vec![])])
    }

    fn vertex_count(bytes: &[u8]) -> usize {
        decode(bytes)
            .unwrap()
            .iter()
            .flat_map(|l| &l.features)
            .map(|f| f.paths().unwrap().iter().map(Vec::len).sum::<usize>())
            .sum()
    }

    #[test]
    fn simplification_depends_on_zoom() {
        // Centred in its z16 tile, so it is not clipped there.
        let [w, s, e, n] = TileId::containing(117.86, 36.49, 16).unwrap().bounds_lonlat();
        let centre = coord! { x: (w + e) / 2.0, y: (s + n) / 2.0 };
        let mut layer = Layer::new("grid");
        layer.add_polygon(1, &star(centre, 0.001, 100), &[]);
        let builder = TileBuilder::new();
        let count_at = |z: u8| {
            let tile = TileId::containing(centre.x, centre.y, z).unwrap();
            vertex_count(&builder.encode(tile, std::slice::from_ref(&layer)))
        };
        // At z16 the star's radius is ~930 units, at z13 ~116 with spikes ~23 units deep: all kept.
        assert_eq!(count_at(16), 100);
        assert_eq!(count_at(13), 100);
        // At z8 its radius is ~3.6 units: a few vertices remain; at z5 it is gone.
        let z8 = count_at(8);
        assert!((3..30).contains(&z8), "{z8} vertices at z8");
        assert_eq!(count_at(5), 0);
        // With simplification off only snapping reduces it.
        let tile = TileId::containing(centre.x, centre.y, 8).unwrap();
        let unsimplified =
            vertex_count(&TileBuilder::new().with_tolerance(0.0).encode(tile, std::slice::from_ref(&layer)));
        assert!(unsimplified > z8, "{unsimplified} vs {z8}");
    }

    #[test]
    fn query_bounds_include_the_buffer() {
        let tile = county_tile();
        let [w, s, e, n] = tile.bounds_lonlat();
        let [qw, qs, qe, qn] = TileBuilder::new().query_bounds_lonlat(tile);
        assert!(qw < w && qe > e);
        let pad_lon = (e - w) * 64.0 / 4096.0;
        assert!((w - qw - pad_lon).abs() < 1e-12 && (qe - e - pad_lon).abs() < 1e-12);
        assert!(qs < s && qn > n && (qn - n) > (n - s) * 0.015);
        let whole = TileBuilder::new().query_bounds_lonlat(TileId::new(0, 0, 0).unwrap());
        assert_eq!((whole[0], whole[2]), (-180.0, 180.0));
    }

    #[test]
    fn decoder_rejects_malformed_input() {
        let tile = county_tile();
        let mut layer = Layer::new("grid");
        layer.add_polygon(1, &MultiPolygon(vec![polygon(tile, &square(10.0, 20.0), &[])]), &[("k", Value::Int(1))]);
        let bytes = TileBuilder::new().encode(tile, &[layer]);
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&[0x1a, 0x05, 0x0a]).is_err());
        assert!(decode(&[0xff; 11]).is_err());
        let bad = DecodedFeature { id: None, tags: vec![0], geom_type: GeomType::Polygon, geometry: vec![9, 2] };
        assert!(bad.commands().is_err());
        assert!(one_layer(&bytes).properties(&bad).is_err());
        let bad_cmd = DecodedFeature { geometry: vec![3], ..bad };
        assert_eq!(bad_cmd.commands().unwrap_err().to_string(), "invalid vector tile: unknown command id 3");
    }

    /// A tessellation like the demo county's grid: `cols × rows` cells over `bbox`, each edge
    /// with `per_edge` wiggling vertices that neighbouring cells share, so every cell has
    /// `4 × per_edge` vertices.
    fn grid(bbox: [f64; 4], cols: usize, rows: usize, per_edge: usize) -> Vec<MultiPolygon<f64>> {
        let (w, s, e, n) = (bbox[0], bbox[1], bbox[2], bbox[3]);
        let (cw, ch) = ((e - w) / cols as f64, (n - s) / rows as f64);
        let noise = |a: usize, b: usize| {
            let h = (a as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (b as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
            let h = (h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            ((h >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.3
        };
        // Vertex k (0..=per_edge) of the horizontal grid line j between columns; shared.
        let h_point = |j: usize, col: usize, k: usize| {
            let x = w + (col as f64 + k as f64 / per_edge as f64) * cw;
            let wiggle = if k == 0 || k == per_edge { 0.0 } else { noise(j, col * per_edge + k) * ch };
            coord! { x: x, y: s + j as f64 * ch + wiggle }
        };
        let v_point = |i: usize, row: usize, k: usize| {
            let y = s + (row as f64 + k as f64 / per_edge as f64) * ch;
            let wiggle = if k == 0 || k == per_edge { 0.0 } else { noise(i + 100_000, row * per_edge + k) * cw };
            coord! { x: w + i as f64 * cw + wiggle, y: y }
        };
        let mut out = Vec::with_capacity(cols * rows);
        for row in 0..rows {
            for col in 0..cols {
                let mut pts = Vec::with_capacity(4 * per_edge + 1);
                pts.extend((0..per_edge).map(|k| h_point(row, col, k))); // south, west→east
                pts.extend((0..per_edge).map(|k| v_point(col + 1, row, k))); // east, south→north
                pts.extend((0..per_edge).map(|k| h_point(row + 1, col, per_edge - k))); // north, east→west
                pts.extend((0..per_edge).map(|k| v_point(col, row, per_edge - k))); // west, north→south
                pts.push(pts[0]);
                out.push(MultiPolygon(vec![Polygon::new(LineString(pts), vec![])]));
            }
        }
        out
    }

    fn median(mut v: Vec<Duration>) -> Duration {
        v.sort();
        v[v.len() / 2]
    }

    /// A realistic tile: 4,500 cells of 60 vertices over 0.3° × 0.25°, prefiltered by bounding
    /// box as the R-tree would. Prints timings (run with `--release --nocapture` to read them);
    /// asserts only correctness.
    #[test]
    fn realistic_county_tiles() {
        let bbox = [117.71, 36.36, 118.01, 36.61];
        let cells = grid(bbox, 75, 60, 15);
        assert_eq!(cells.len(), 4500);
        let bboxes: Vec<[f64; 4]> = cells
            .iter()
            .map(|mp| {
                let mut b = EMPTY_BBOX;
                for c in mp.0[0].exterior().0.iter() {
                    extend_bbox(&mut b, [c.x, c.y]);
                }
                b
            })
            .collect();
        let builder = TileBuilder::new();
        for (z, runs) in [(14u8, 100usize), (12, 20), (10, 5)] {
            let tile = TileId::containing(117.86, 36.49, z).unwrap();
            let q = builder.query_bounds_lonlat(tile);
            let hits: Vec<usize> = (0..cells.len())
                .filter(|&i| {
                    bboxes[i][0] <= q[2] && bboxes[i][2] >= q[0] && bboxes[i][1] <= q[3] && bboxes[i][3] >= q[1]
                })
                .collect();
            let props = |i: usize| {
                [
                    ("code", Value::from(format!("3701020010{i:02}"))),
                    ("class", Value::from("grid")),
                    ("level", Value::Int(5)),
                ]
            };
            let build = || {
                let mut layer = Layer::new("grid");
                for &i in &hits {
                    layer.add_polygon(i as u64, &cells[i], &props(i));
                }
                layer
            };
            let layer = build();
            let bytes = builder.encode(tile, std::slice::from_ref(&layer));
            let mut build_times = Vec::new();
            let mut encode_times = Vec::new();
            for _ in 0..runs {
                let t = Instant::now();
                let layer = build();
                build_times.push(t.elapsed());
                let t = Instant::now();
                let again = builder.encode(tile, std::slice::from_ref(&layer));
                encode_times.push(t.elapsed());
                assert_eq!(again, bytes);
            }
            let l = one_layer(&bytes);
            let vertices: usize = l.features.iter().map(|f| polygon_rings(f).iter().map(Vec::len).sum::<usize>()).sum();
            println!(
                "z{z} tile {tile}: {} candidate cells ({} input vertices) -> {} features, \
                 {vertices} vertices, {} bytes; median layer build {:?}, encode {:?} over {runs} runs",
                hits.len(),
                hits.len() * 60,
                l.features.len(),
                bytes.len(),
                median(build_times),
                median(encode_times),
            );
            assert!(!l.features.is_empty());
            assert_eq!(l.keys, vec!["code", "class", "level"]);
            for f in &l.features {
                let rings = polygon_rings(f);
                assert!(ring_area(&rings[0]) > 0.0);
                assert!(rings.iter().flatten().all(|p| (-64..=4160).contains(&p[0]) && (-64..=4160).contains(&p[1])));
            }
            if z == 14 {
                // Cells are ~0.004° across, ~750 units at z14: every cell in the tile is kept.
                assert!(l.features.len() >= 30, "{}", l.features.len());
            }
        }

        // A layer holding the whole county, kept and encoded for one z14 tile: features away
        // from the tile cost only a bounding-box test, and the bytes are the same.
        let mut whole = Layer::new("grid");
        for (i, cell) in cells.iter().enumerate() {
            whole.add_polygon(
                i as u64,
                cell,
                &[
                    ("code", Value::from(format!("3701020010{i:02}"))),
                    ("class", Value::from("grid")),
                    ("level", Value::Int(5)),
                ],
            );
        }
        let tile = TileId::containing(117.86, 36.49, 14).unwrap();
        let mut times = Vec::new();
        let mut bytes = Vec::new();
        for _ in 0..100 {
            let t = Instant::now();
            bytes = builder.encode(tile, std::slice::from_ref(&whole));
            times.push(t.elapsed());
        }
        let l = one_layer(&bytes);
        println!(
            "z14 tile {tile} from a prebuilt layer of all {} cells: {} features; median encode {:?}",
            whole.len(),
            l.features.len(),
            median(times)
        );
        assert_eq!(l.features.len(), 35);
    }
}

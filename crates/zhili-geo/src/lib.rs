//! Zhili's spatial engine (空间引擎): in-memory indexes of polygons fed from the store,
//! point-to-feature lookup, coordinate conversion for Chinese basemaps, and vector tiles.
//!
//! Coordinates are longitude/latitude in WGS-84/CGCS2000 (the two agree to centimetres).
//! Nothing here knows HTTP or SQL.

pub mod gcj02;
pub mod geometry;
pub mod index;
pub mod mvt;
pub mod tile;

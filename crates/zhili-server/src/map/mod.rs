//! The One Map (一张图): the layer registry served as OGC API – Features and vector tiles,
//! and the map page.

pub mod layers;
pub mod pages;

use axum::routing::get;
use axum::Router;

use crate::AppState;

/// The map's routes: OGC API – Features, vector tiles and TileJSON, the One Map page and the
/// map scripts other pages share.
pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/ogc", get(layers::landing))
        .route("/ogc/conformance", get(layers::conformance))
        .route("/ogc/collections", get(layers::collections))
        .route("/ogc/collections/{id}", get(layers::collection))
        .route("/ogc/collections/{id}/items", get(layers::items))
        .route("/ogc/collections/{id}/items/{fid}", get(layers::item))
        .route("/tiles/{file}", get(layers::tilejson))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(layers::tile))
        .route("/map", get(pages::map_page))
        .merge(crate::web::page::assets(&[
            ("map.js", "text/javascript; charset=utf-8", include_str!("assets/map.js")),
            ("minimap.js", "text/javascript; charset=utf-8", include_str!("assets/minimap.js")),
        ]))
}

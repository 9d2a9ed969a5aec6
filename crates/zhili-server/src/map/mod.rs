//! The One Map (一张图): every registered layer with features served as OGC API – Features
//! and vector tiles, the map page listing every registered layer, and the map's own layers
//! (divisions and grids, from the spatial index).

pub mod layers;
pub mod pages;
pub mod spatial_layers;

use axum::routing::get;
use axum::Router;

use crate::AppState;
use zhili_core::policy::Action;

use crate::web::module::{Module, NavEntry, Needs};

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
            ("map-locale.js", "text/javascript; charset=utf-8", include_str!("assets/map-locale.js")),
            ("map.js", "text/javascript; charset=utf-8", include_str!("assets/map.js")),
            ("minimap.js", "text/javascript; charset=utf-8", include_str!("assets/minimap.js")),
            ("pin-picker.js", "text/javascript; charset=utf-8", include_str!("assets/pin-picker.js")),
        ]))
}

/// The map module (一张图): its routes, navigation, messages and its own layers.
pub static MODULE: Module = Module {
    routes,
    nav: &[NavEntry { href: "/map", key: "nav.map", needs: Needs::Action(Action::ReadGrids), order: 20 }],
    messages: MESSAGES,
    openapi: <Doc as utoipa::OpenApi>::openapi,
    layers: &[spatial_layers::DIVISIONS, spatial_layers::GRIDS],
    ..Module::named("map")
};

/// This module's part of the OpenAPI document (merged by `crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    layers::landing,
    layers::conformance,
    layers::collections,
    layers::collection,
    layers::items,
    layers::item,
    layers::tile,
    layers::tilejson,
))]
struct Doc;

/// This module's UI messages (key, zh-CN, English).
const MESSAGES: &[crate::web::module::Message] = &[
    ("nav.map", "一张图", "One Map"),
    ("map.title", "社会治理一张图", "One Map"),
    ("map.search", "名称、编码或案件编号", "Name, code or case number"),
    ("map.go", "查找", "Find"),
    ("map.layers", "图层", "Layers"),
    ("map.layer.divisions", "行政区划", "Administrative divisions"),
    ("map.layer.grids", "网格", "Grids"),
    ("map.grids_zoom", "网格在放大到 10 级以上时显示。", "Grids show from zoom 10."),
];

//! The One Map page (一张图) and what map pages share: the basemap and its CSP.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use zhili_core::policy::{authorize, Action};
use zhili_core::ErrorCode;

use crate::web::caller::Caller;
use crate::web::error::{AppError, AppResult};
use crate::web::page::*;
use crate::AppState;
/// The configured basemap as a page passes it to its map: URL, CRS and attribution.
pub(crate) fn basemap_fields(state: &AppState) -> (String, &'static str, String) {
    let basemap = state.config.basemap.as_ref();
    (
        basemap.map(|b| b.url.clone()).unwrap_or_default(),
        basemap.map(|b| b.crs.as_str()).unwrap_or("wgs84"),
        basemap.map(|b| b.attribution.clone()).unwrap_or_default(),
    )
}

/// The Content-Security-Policy of a page with a map: MapLibre's CSP build (its worker is our own
/// file, its styles are inline); a configured basemap's origin is the one other place the page
/// may fetch from.
pub(crate) fn with_map_csp(mut r: Response, state: &AppState) -> AppResult<Response> {
    let extra = state.config.basemap.as_ref().map(|b| format!(" {}", b.origin())).unwrap_or_default();
    let csp = format!(
        "default-src 'self'; img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    );
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_str(&csp).map_err(|_| AppError::new(ErrorCode::Internal))?,
    );
    Ok(r)
}

#[derive(Template)]
#[template(path = "map/templates/map.html")]
struct MapPage {
    l: Layout,
    basemap_url: String,
    basemap_crs: &'static str,
    basemap_attribution: String,
    /// The registered layers the caller may see, in order: toggle, note, own controls.
    layers: Vec<LayerPanel>,
    /// Their client scripts, after `map.js`.
    scripts: Vec<&'static str>,
}

/// A layer's entry in the map page's layer list.
struct LayerPanel {
    id: &'static str,
    label: &'static str,
    on: bool,
    swatch: &'static str,
    note: Option<&'static str>,
    /// HTML its module rendered (empty if none).
    controls: String,
}

pub(crate) async fn map_page(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Some(r) = denied(&caller, Action::ReadGrids, "/map") {
        return Ok(r);
    }
    let (basemap_url, basemap_crs, basemap_attribution) = basemap_fields(&state);
    let l = Layout::new(&caller, "map.title", "/map");
    let visible: Vec<_> = crate::web::module::layers()
        .iter()
        .filter(|layer| authorize(&caller.principal, layer.action, None).is_ok())
        .collect();
    let mut layers = Vec::with_capacity(visible.len());
    for layer in &visible {
        layers.push(LayerPanel {
            id: layer.id,
            label: l.t.get(layer.title),
            on: layer.on,
            swatch: layer.swatch,
            note: layer.note.map(|k| l.t.get(k)),
            controls: layer.controls.map(|c| c(l.t)).transpose()?.unwrap_or_default(),
        });
    }
    let scripts = visible.iter().filter_map(|layer| layer.script).collect();
    let page = MapPage { l, basemap_url, basemap_crs, basemap_attribution, layers, scripts };
    with_map_csp(html(page)?, &state)
}

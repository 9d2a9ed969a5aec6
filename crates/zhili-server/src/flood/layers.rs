//! The flood module's layers of the One Map: stations, villages by warning grade, rainfall.
//! All three are drawn by `map-flood.js` from the GeoJSON of `/api/flood/map/…`.

use crate::web::i18n::Tr;
use crate::web::module::MapLayer;

/// 山洪监测站: stations by liveness.
pub const STATIONS: MapLayer = MapLayer {
    id: "flood-stations",
    title: "flood.layer.stations",
    action: zhili_core::policy::Action::ReadFlood,
    order: 40,
    on: false,
    swatch: "flood-station",
    note: None,
    controls: None,
    script: Some("map-flood.js"),
    features: None,
};

/// 危险区: villages at risk coloured by their warning grade.
pub const VILLAGES: MapLayer = MapLayer {
    id: "flood-villages",
    title: "flood.layer.villages",
    action: zhili_core::policy::Action::ReadFlood,
    order: 41,
    on: false,
    swatch: "flood-village",
    note: None,
    controls: None,
    script: None,
    features: None,
};

/// 累计雨量: rain of the last 1, 3 or 24 hours at the rain stations.
pub const RAIN: MapLayer = MapLayer {
    id: "flood-rain",
    title: "flood.layer.rain",
    action: zhili_core::policy::Action::ReadFlood,
    order: 42,
    on: false,
    swatch: "flood-rain",
    note: None,
    controls: Some(controls),
    script: None,
    features: None,
};

/// The rainfall layer's controls: the window, and the layers' status line.
#[derive(askama::Template)]
#[template(
    ext = "html",
    source = r#"<div id="flood-controls" class="cases-controls" hidden>
      <label>{{ t.get("flood.layer.rain_window") }} <select id="flood-rain-window">
        <option value="1h">1 h</option><option value="3h">3 h</option><option value="24h">24 h</option>
      </select></label>
    </div><p id="flood-msg" class="muted" role="status"></p>"#
)]
struct Controls {
    t: Tr,
}

fn controls(t: Tr) -> askama::Result<String> {
    askama::Template::render(&Controls { t })
}

// A small map (小地图) for a case page and the intake page: grid outlines from our vector tiles
// (from zoom 10; township and village outlines at every zoom, with a hint to zoom in) and a pin, offline unless a basemap is configured (like the One Map). With a GCJ-02 basemap
// the tiles are asked for shifted (`crs=gcj02`) and the pin is shifted here; clicks then come
// back in GCJ-02, which the APIs accept with `crs=gcj02`.
// window.zhiliMiniMap(element, { center: [lon, lat] (WGS 84), zoom, onClick(lon, lat, crs),
//   grids: false (no grid outlines: for the public, who may not read the grid tiles) })
//   → { map, pin(lon, lat, crs) }   (crs: "wgs84" or "gcj02", the system of lon/lat given)
(function () {
  "use strict";
  if (!window.maplibregl) return;
  // The worker's content-hashed URL is on the library's script tag (data-maplibre-worker).
  var lib = document.querySelector("script[data-maplibre-worker]");
  maplibregl.setWorkerUrl(lib ? lib.getAttribute("data-maplibre-worker") : "/assets/vendor/maplibre-gl/maplibre-gl-csp-worker.js");

  // WGS 84 → GCJ-02: the published formula, as in zhili_geo::gcj02.
  var A = 6378245.0, EE = 0.00669342162296594323;
  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function toGcj(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    var x = lon - 105, y = lat - 35, rad = lat / 180 * Math.PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sm = Math.sqrt(magic);
    var dLat = tLat(x, y) * 180 / ((A * (1 - EE)) / (magic * sm) * Math.PI);
    var dLon = tLon(x, y) * 180 / (A / sm * Math.cos(rad) * Math.PI);
    return [lon + dLon, lat + dLat];
  }

  window.zhiliMiniMap = function (el, opts) {
    var basemap = el.dataset.basemap || "";
    var gcj = !!basemap && el.dataset.basemapCrs === "gcj02";
    var crs = gcj ? "gcj02" : "wgs84";
    var suffix = gcj ? "?crs=gcj02" : "";
    var origin = window.location.origin;
    var toMap = function (p) { return gcj ? toGcj(p[0], p[1]) : p; };
    // Without grids (the public): no tiles of ours at all, only the pin (and a basemap if any).
    var grids = opts.grids !== false;
    var sources = { pin: { type: "geojson", data: { type: "FeatureCollection", features: [] } } };
    if (grids) {
      sources.grids = { type: "vector", tiles: [origin + "/tiles/grids/{z}/{x}/{y}.mvt" + suffix], minzoom: 10, maxzoom: 16 };
      sources.divisions = { type: "vector", tiles: [origin + "/tiles/divisions/{z}/{x}/{y}.mvt" + suffix], minzoom: 0, maxzoom: 14 };
    }
    var layers = [{ id: "background", type: "background", paint: { "background-color": "#f4f1ea" } }];
    if (basemap) {
      sources.basemap = { type: "raster", tiles: [basemap], tileSize: 256, maxzoom: 18, attribution: el.dataset.basemapAttribution || "" };
      layers.push({ id: "basemap", type: "raster", source: "basemap" });
    }
    if (grids) layers.push(
      { id: "grids-fill", type: "fill", source: "grids", "source-layer": "grids", paint: { "fill-color": "#bfdbfe", "fill-opacity": 0.15 } },
      { id: "grids-line", type: "line", source: "grids", "source-layer": "grids",
        paint: { "line-color": ["match", ["get", "level"], 1, "#b45309", 2, "#1d4ed8", "#64748b"], "line-width": ["match", ["get", "level"], 1, 2, 1] } },
      // Township and village outlines at every zoom, so the map is readable zoomed out
      // (grid tiles start at zoom 10).
      { id: "divisions-line", type: "line", source: "divisions", "source-layer": "divisions",
        paint: { "line-color": "#b42318", "line-opacity": 0.7, "line-width": ["match", ["get", "level"], "county", 2.5, "township", 1.6, 0.6] } });
    layers.push(
      { id: "pin", type: "circle", source: "pin",
        paint: { "circle-radius": 8, "circle-color": "#dc2626", "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } }
    );
    var map = new maplibregl.Map({
      container: el, center: toMap(opts.center || [117.9, 36.425]), zoom: opts.zoom || 15, maxZoom: 20,
      locale: window.zhiliMapLocale || {},
      attributionControl: basemap && el.dataset.basemapAttribution ? { compact: true } : false,
      style: { version: 8, sources: sources, layers: layers }
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    // Below zoom 10 only the outlines are drawn: say so on the map.
    var zh = (document.documentElement.lang || "zh-CN").indexOf("zh") === 0;
    var hint = document.createElement("div");
    hint.className = "map-hint";
    hint.setAttribute("role", "note");
    hint.textContent = zh ? "放大查看网格" : "Zoom in to see the grids";
    el.appendChild(hint);
    var hintShown = function () { hint.hidden = !grids || map.getZoom() >= 10; };
    map.on("zoomend", hintShown);
    hintShown();
    function pin(lon, lat, given) {
      var p = given === crs ? [lon, lat] : toMap([lon, lat]);
      var data = { type: "FeatureCollection", features: [{ type: "Feature", geometry: { type: "Point", coordinates: p }, properties: {} }] };
      var set = function () { map.getSource("pin").setData(data); };
      if (map.getSource("pin")) set(); else map.once("load", set);
      return p;
    }
    if (opts.onClick) {
      map.getCanvas().style.cursor = "crosshair";
      map.on("click", function (e) { opts.onClick(e.lngLat.lng, e.lngLat.lat, crs); });
    }
    return { map: map, pin: pin, crs: crs };
  };
})();

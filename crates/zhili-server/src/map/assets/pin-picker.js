// A position picker (地图选点) for the report pages: the small map (minimap.js) with a pin that
// a tap places and a drag moves, for when GPS is refused, unavailable or too coarse, or when
// the reporter would rather point. Each placement calls onPick with the pin's position in the
// map's system (crs "wgs84", or "gcj02" over a GCJ-02 basemap), which the APIs accept as given.
// window.zhiliPinPicker(element, { center: [lon, lat] (WGS 84), zoom, grids, onPick(lon, lat, crs) })
//   → { map, crs, set(lon, lat, crs) (moves the pin without calling onPick), clear() }
(function () {
  "use strict";
  if (!window.maplibregl || !window.zhiliMiniMap) return;
  window.zhiliPinPicker = function (el, opts) {
    var marker = null;
    function pick(lngLat) {
      if (opts.onPick) opts.onPick(lngLat.lng, lngLat.lat, mini.crs);
    }
    function place(p) {
      if (!marker) {
        var dot = document.createElement("div");
        dot.className = "pin-picker-pin";
        dot.setAttribute("aria-hidden", "true");
        marker = new maplibregl.Marker({ element: dot, draggable: true, anchor: "bottom" }).setLngLat(p).addTo(mini.map);
        marker.on("dragend", function () { pick(marker.getLngLat()); });
      } else {
        marker.setLngLat(p);
      }
    }
    var mini = window.zhiliMiniMap(el, {
      center: opts.center, zoom: opts.zoom || 15, grids: opts.grids,
      onClick: function (lon, lat) { place([lon, lat]); pick({ lng: lon, lat: lat }); }
    });
    return {
      map: mini.map,
      crs: mini.crs,
      set: function (lon, lat, crs) {
        // minimap.pin shifts a WGS 84 position onto a GCJ-02 basemap; the red dot is not drawn.
        var p = mini.pin(lon, lat, crs);
        var noDot = function () { var s = mini.map.getSource("pin"); if (s) s.setData({ type: "FeatureCollection", features: [] }); };
        if (mini.map.getSource("pin") && mini.map.isStyleLoaded()) noDot(); else mini.map.once("load", noDot);
        place(p);
        mini.map.jumpTo({ center: p });
      },
      clear: function () { if (marker) { marker.remove(); marker = null; } }
    };
  };
})();

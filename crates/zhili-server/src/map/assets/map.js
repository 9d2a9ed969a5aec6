// Zhili One Map (一张图): divisions and grids as vector tiles on MapLibre GL JS (vendored).
// No basemap by default, so it works offline; a configured raster basemap in GCJ-02 (高德,
// 腾讯) makes the server shift our layers onto it (`crs=gcj02` on tiles, items and locate). Click a feature for its card; search by part of a
// name, the start of a code, or (the cases layer's searcher) a case number; the breadcrumbs show the grid chain under the cursor.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.maplibregl) return;
  var zh = el.dataset.lang !== "en";
  var T = zh
    ? { code: "编码", name: "名称", level: "层级", village: "所属村社区", parent: "所属", records: "网格详情", notFound: "未找到", none: "此处无网格",
        grid: "网格", division: "行政区划", searching: "查找中…", choose: "找到 {n} 处，请选择：", loading: "地图加载中…" }
    : { code: "Code", name: "Name", level: "Level", village: "Village", parent: "Within", records: "Grid page", notFound: "Not found", none: "No grid here",
        grid: "Grid", division: "Division", searching: "Searching…", choose: "{n} found, choose one:", loading: "Loading the map…" };
  // The worker's content-hashed URL is on the library's script tag (data-maplibre-worker).
  var lib = document.querySelector("script[data-maplibre-worker]");
  maplibregl.setWorkerUrl(lib ? lib.getAttribute("data-maplibre-worker") : "/assets/vendor/maplibre-gl/maplibre-gl-csp-worker.js");
  var origin = window.location.origin;
  var basemap = el.dataset.basemap || "";
  var gcj = basemap && el.dataset.basemapCrs === "gcj02";
  var crs = gcj ? "crs=gcj02" : "";
  function withCrs(url) { return crs ? url + (url.indexOf("?") < 0 ? "?" : "&") + crs : url; }
  var sources = {
    divisions: { type: "vector", tiles: [withCrs(origin + "/tiles/divisions/{z}/{x}/{y}.mvt")], minzoom: 0, maxzoom: 14 },
    grids: { type: "vector", tiles: [withCrs(origin + "/tiles/grids/{z}/{x}/{y}.mvt")], minzoom: 10, maxzoom: 16 }
  };
  var layers = [{ id: "background", type: "background", paint: { "background-color": "#f4f1ea" } }];
  if (basemap) {
    sources.basemap = { type: "raster", tiles: [basemap], tileSize: 256, maxzoom: 18,
      attribution: el.dataset.basemapAttribution || "" };
    layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  var map = new maplibregl.Map({
    container: "map",
    center: [117.9, 36.425],
    zoom: 10.5,
    maxZoom: 20,
    locale: window.zhiliMapLocale || {},
    attributionControl: basemap && el.dataset.basemapAttribution ? { compact: true } : false,
    style: {
      version: 8,
      sources: sources,
      layers: layers.concat([
        { id: "grids-fill", type: "fill", source: "grids", "source-layer": "grids",
          paint: { "fill-color": ["match", ["get", "level"], 1, "#fde68a", 2, "#bfdbfe", "#ffffff"], "fill-opacity": 0.35 } },
        { id: "grids-line", type: "line", source: "grids", "source-layer": "grids",
          paint: { "line-color": ["match", ["get", "level"], 1, "#b45309", 2, "#1d4ed8", "#64748b"],
                   "line-width": ["match", ["get", "level"], 1, 2.2, 2, 1.4, 0.6] } },
        { id: "divisions-line", type: "line", source: "divisions", "source-layer": "divisions",
          paint: { "line-color": "#b42318", "line-width": ["match", ["get", "level"], "county", 3, "township", 2, 1] } },
        { id: "selected", type: "line", source: "grids", "source-layer": "grids", filter: ["==", ["get", "code"], ""],
          paint: { "line-color": "#dc2626", "line-width": 3 } }
      ])
    }
  });
  // Until the first tiles are drawn (a slow phone waits seconds on a blank map): a spinner
  // over the map, gone at the first idle (everything asked for is loaded and drawn).
  var loading = document.createElement("div");
  loading.id = "map-loading";
  loading.className = "loading map-loading";
  loading.setAttribute("role", "status");
  loading.textContent = T.loading;
  el.parentNode.appendChild(loading);
  el.setAttribute("aria-busy", "true");
  map.once("idle", function () { loading.remove(); el.removeAttribute("aria-busy"); });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }));
  window.zhiliMap = map;

  function toggle(id, layers) {
    document.getElementById(id).addEventListener("change", function (e) {
      layers.forEach(function (l) { map.setLayoutProperty(l, "visibility", e.target.checked ? "visible" : "none"); });
    });
  }
  toggle("toggle-divisions", ["divisions-line"]);
  toggle("toggle-grids", ["grids-fill", "grids-line", "selected"]);

  var card = document.getElementById("card");
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  // A grid's card: its name with the code in a secondary line, its level, and where it lies
  // (the names of the grids and divisions above it, from /api/locate at the clicked point).
  function show(p, at) {
    map.setFilter("selected", ["==", ["get", "code"], p.code]);
    card.hidden = false;
    card.innerHTML = "<h3>" + esc(p.name) + "</h3><p class=\"mono muted\">" + esc(p.code) + "</p><dl>" +
      "<dt>" + T.level + "</dt><dd>" + esc(p.level_name || p.level) + "</dd>" +
      "<dt>" + T.parent + "</dt><dd id=card-chain>…</dd>" +
      "</dl>" + (p.level_name ? "<a href=\"/grids/" + encodeURIComponent(p.code) + "\">" + T.records + "</a>" : "");
    fetch(withCrs("/api/locate?lon=" + at.lng + "&lat=" + at.lat), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (chain) {
        var up = chain.filter(function (c) { return c.code !== p.code; }).map(function (c) { return c.name || c.code; });
        var dd = document.getElementById("card-chain");
        if (dd) dd.textContent = up.length ? up.join(" › ") : "—";
      })
      .catch(function () {});
  }
  map.on("click", "grids-fill", function (e) {
    // The finest grid under the click: the highest level.
    var f = e.features.slice().sort(function (a, b) { return b.properties.level - a.properties.level; })[0];
    if (f) show(f.properties, e.lngLat);
  });
  map.on("mouseenter", "grids-fill", function () { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "grids-fill", function () { map.getCanvas().style.cursor = ""; });

  var crumbs = document.getElementById("crumbs");
  var pending = null, last = 0;
  map.on("mousemove", function (e) {
    var now = Date.now();
    if (pending || now - last < 150) return;
    last = now;
    pending = fetch(withCrs("/api/locate?lon=" + e.lngLat.lng + "&lat=" + e.lngLat.lat), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (chain) {
        crumbs.textContent = chain.length ? chain.slice().reverse().map(function (c) { return c.name || c.code; }).join(" › ") : T.none;
      })
      .catch(function () {})
      .finally(function () { pending = null; });
  });

  function bbox(geom) {
    var b = [180, 90, -180, -90];
    (geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates).forEach(function (poly) {
      poly[0].forEach(function (p) {
        b[0] = Math.min(b[0], p[0]); b[1] = Math.min(b[1], p[1]); b[2] = Math.max(b[2], p[0]); b[3] = Math.max(b[3], p[1]);
      });
    });
    return [[b[0], b[1]], [b[2], b[3]]];
  }
  // Search (查找): every searcher answers a promise of results ({label, sub, go, rank}); the map's own
  // looks for divisions and grids by part of the name or the start of the code; other layers'
  // scripts add theirs to window.zhiliMapSearch (the cases layer: a case number). One result is
  // shown at once; several are listed to choose from.
  var msg = document.getElementById("search-msg");
  var list = document.createElement("ul");
  list.id = "search-results";
  list.className = "search-results";
  msg.parentNode.insertBefore(list, msg.nextSibling);
  function featureSearch(layer, kind) {
    return function (q) {
      var url = "/ogc/collections/" + layer + "/items?limit=8&q=" + encodeURIComponent(q);
      return fetch(withCrs(url), { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.json() : { features: [] };
      }).then(function (fc) {
        return (fc.features || []).map(function (f) {
          return { label: f.properties.name || f.properties.code, sub: kind + " · " + f.properties.code,
            go: function () {
              var b = bbox(f.geometry);
              map.fitBounds(b, { padding: 40, duration: 600 });
              show(f.properties, { lng: (b[0][0] + b[1][0]) / 2, lat: (b[0][1] + b[1][1]) / 2 });
            } };
        });
      });
    };
  }
  var searchers = window.zhiliMapSearch = window.zhiliMapSearch || [];
  searchers.unshift(featureSearch("grids", T.grid), featureSearch("divisions", T.division));
  var form = document.getElementById("search");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = document.getElementById("q").value.trim();
    list.innerHTML = "";
    if (!q) return;
    msg.textContent = T.searching;
    Promise.all(searchers.map(function (s) { return s(q).catch(function () { return []; }); })).then(function (all) {
      // Stable by rank (a searcher's exact hit, like a case number, says rank -1: listed first).
      var found = [].concat.apply([], all).map(function (r, i) { return [r.rank || 0, i, r]; })
        .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; }).map(function (x) { return x[2]; });
      if (!found.length) { msg.textContent = T.notFound + ": " + q; return; }
      if (found.length === 1) { msg.textContent = ""; found[0].go(); return; }
      msg.textContent = T.choose.replace("{n}", found.length);
      found.forEach(function (r) {
        var li = document.createElement("li"), b = document.createElement("button");
        b.type = "button";
        b.innerHTML = esc(r.label) + "<small>" + esc(r.sub) + "</small>";
        b.addEventListener("click", function () { list.innerHTML = ""; msg.textContent = ""; r.go(); });
        li.appendChild(b);
        list.appendChild(li);
      });
    });
  });
  // `/map?q=…` (a grid page's 在一张图上查看) searches once the map and the layers' scripts are up.
  var asked = new URLSearchParams(window.location.search).get("q");
  if (asked) {
    document.getElementById("q").value = asked;
    map.once("load", function () { form.requestSubmit(); });
  }
})();

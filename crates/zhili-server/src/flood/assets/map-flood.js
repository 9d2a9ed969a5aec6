// The flood layers of the One Map (山洪图层): stations coloured by liveness (在线 green, 迟报
// amber, 离线 grey) and sized by their latest rain; villages' danger zones coloured by warning
// grade (准备转移 amber, 立即转移 red; none: outline only); rainfall of the last 1/3/24 h at
// the rain stations, graduated. Data: /api/flood/map/stations and /api/flood/map/villages,
// refreshed every minute while a layer is on. Clicking a feature shows its card with a link
// to its page. Registered by the flood module's layers (`flood::layers`).
(function () {
  "use strict";
  var map = window.zhiliMap, el = document.getElementById("map");
  if (!map || !el) return;
  var boxes = { stations: document.getElementById("toggle-flood-stations"), villages: document.getElementById("toggle-flood-villages"), rain: document.getElementById("toggle-flood-rain") };
  if (!boxes.stations && !boxes.villages && !boxes.rain) return;
  var zh = el.dataset.lang !== "en";
  var T = zh
    ? { liveness: { online: "在线", late: "迟报", offline: "离线" }, open: "查看详情", grade: { prepare: "准备转移", immediate: "立即转移", blue: "蓝色", yellow: "黄色", orange: "橙色", red: "红色" },
        rain: "雨量", level: "水位", households: "户", people: "人", none: "无预警", failed: "山洪图层加载失败：" }
    : { liveness: { online: "online", late: "late", offline: "offline" }, open: "Open", grade: { prepare: "prepare", immediate: "immediate", blue: "blue", yellow: "yellow", orange: "orange", red: "red" },
        rain: "Rain", level: "Level", households: "households", people: "people", none: "No warning", failed: "Flood layers failed to load: " };
  var gcj = el.dataset.basemap && el.dataset.basemapCrs === "gcj02";
  var empty = { type: "FeatureCollection", features: [] };
  var windowSel = document.getElementById("flood-rain-window"), msg = document.getElementById("flood-msg");
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function get(url) {
    return fetch(url + (gcj ? "?crs=gcj02" : ""), { credentials: "same-origin" }).then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); });
  }
  var GRADE = ["match", ["coalesce", ["get", "grade"], "none"], "immediate", "#dc2626", "red", "#dc2626", "orange", "#f97316", "prepare", "#f59e0b", "yellow", "#facc15", "blue", "#3b82f6", "rgba(0,0,0,0)"];
  function setup() {
    if (map.getSource("flood-stations")) return;
    map.addSource("flood-stations", { type: "geojson", data: empty });
    map.addSource("flood-villages", { type: "geojson", data: empty });
    var before = map.getLayer("selected") ? "selected" : undefined;
    map.addLayer({ id: "flood-villages-fill", type: "fill", source: "flood-villages", layout: { visibility: "none" },
      paint: { "fill-color": GRADE, "fill-opacity": 0.45 } }, before);
    map.addLayer({ id: "flood-villages-line", type: "line", source: "flood-villages", layout: { visibility: "none" },
      paint: { "line-color": ["case", ["has", "grade"], "#7f1d1d", "#0f766e"], "line-width": 1.2 } }, before);
    map.addLayer({ id: "flood-rain", type: "circle", source: "flood-stations", filter: ["has", "shown"], layout: { visibility: "none" },
      paint: {
        "circle-radius": ["interpolate", ["linear"], ["get", "shown"], 0, 3, 10, 7, 30, 12, 60, 18],
        "circle-color": ["step", ["get", "shown"], "#e0f2fe", 0.1, "#a5f3fc", 10, "#38bdf8", 25, "#2563eb", 50, "#7c3aed", 100, "#be185d"],
        "circle-stroke-color": "#1e3a8a", "circle-stroke-width": 0.6, "circle-opacity": 0.85
      } }, before);
    map.addLayer({ id: "flood-stations-points", type: "circle", source: "flood-stations", layout: { visibility: "none" },
      paint: {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 3, 15, 6],
        "circle-color": ["match", ["get", "liveness"], "online", "#16a34a", "late", "#f59e0b", "#9ca3af"],
        "circle-stroke-color": ["case", [">", ["get", "problems"], 0], "#b91c1c", "#ffffff"], "circle-stroke-width": 1.5
      } }, before);
    ["flood-stations-points", "flood-rain"].forEach(function (id) {
      map.on("click", id, function (e) { var f = e.features && e.features[0]; if (f) stationCard(e.lngLat, f.properties); });
      map.on("mouseenter", id, function () { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", id, function () { map.getCanvas().style.cursor = ""; });
    });
    map.on("click", "flood-villages-fill", function (e) { var f = e.features && e.features[0]; if (f) villageCard(e.lngLat, f.properties); });
  }
  function stationCard(at, p) {
    var html = "<div class=flood-popup><strong>" + esc(p.name) + "</strong> <small class=mono>" + esc(p.code) + "</small>" +
      "<div>" + esc(T.liveness[p.liveness] || p.liveness) + "</div>" +
      (p.rain_1h != null ? "<div>" + T.rain + " 1h/3h/24h: " + esc(Number(p.rain_1h).toFixed(1)) + " / " + esc(Number(p.rain_3h).toFixed(1)) + " / " + esc(Number(p.rain_24h).toFixed(1)) + " mm</div>" : "") +
      (p.level != null ? "<div>" + T.level + ": " + esc(p.level) + " m</div>" : "") +
      "<a href=\"/flood/stations/" + encodeURIComponent(p.code) + "\">" + T.open + " →</a></div>";
    new maplibregl.Popup({ maxWidth: "280px" }).setLngLat(at).setHTML(html).addTo(map);
  }
  function villageCard(at, p) {
    var g = p.grade ? "<span class='badge grade-" + esc(p.grade) + "'>" + esc(T.grade[p.grade] || p.grade) + "</span>" : "<span class=muted>" + T.none + "</span>";
    var html = "<div class=flood-popup><strong>" + esc(p.name) + "</strong> " + g +
      "<div>" + esc(p.households) + " " + T.households + " · " + esc(p.population) + " " + T.people + "</div>" +
      "<a href=\"/flood/villages/" + encodeURIComponent(p.code) + "\">" + T.open + " →</a>" +
      (p.warning ? " · <a href=\"/flood/warnings/" + encodeURIComponent(p.warning) + "\">#" + esc(p.warning) + "</a>" : "") + "</div>";
    new maplibregl.Popup({ maxWidth: "280px" }).setLngLat(at).setHTML(html).addTo(map);
  }
  function anyOn() { return Object.keys(boxes).some(function (k) { return boxes[k] && boxes[k].checked; }); }
  function load() {
    if (!anyOn()) return;
    var jobs = [];
    if ((boxes.stations && boxes.stations.checked) || (boxes.rain && boxes.rain.checked)) {
      jobs.push(get("/api/flood/map/stations").then(function (fc) {
        var w = windowSel ? windowSel.value : "1h";
        // The rain of the chosen window is what the rain layer draws (`shown`).
        fc.features.forEach(function (f) { if (f.properties["rain_" + w] != null) f.properties.shown = f.properties["rain_" + w]; });
        map.getSource("flood-stations").setData(fc);
      }));
    }
    if (boxes.villages && boxes.villages.checked) {
      jobs.push(get("/api/flood/map/villages").then(function (fc) { map.getSource("flood-villages").setData(fc); }));
    }
    Promise.all(jobs).then(function () { if (msg) { msg.textContent = ""; msg.dataset.loaded = "1"; } }, function (e) { if (msg) msg.textContent = T.failed + window.zhili.error.text(e); });
  }
  function show() {
    setup();
    var vis = function (on) { return on ? "visible" : "none"; };
    map.setLayoutProperty("flood-stations-points", "visibility", vis(boxes.stations && boxes.stations.checked));
    map.setLayoutProperty("flood-rain", "visibility", vis(boxes.rain && boxes.rain.checked));
    ["flood-villages-fill", "flood-villages-line"].forEach(function (l) { map.setLayoutProperty(l, "visibility", vis(boxes.villages && boxes.villages.checked)); });
    var controls = document.getElementById("flood-controls");
    if (controls) controls.hidden = !(boxes.rain && boxes.rain.checked);
    load();
  }
  function start() {
    Object.keys(boxes).forEach(function (k) { if (boxes[k]) boxes[k].addEventListener("change", show); });
    if (windowSel) windowSel.addEventListener("change", load);
    setInterval(load, 60000);
    if (anyOn()) show();
  }
  if (map.loaded()) start(); else map.on("load", start);
})();

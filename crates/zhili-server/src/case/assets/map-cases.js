// The cases layer of the One Map (案件图层): heat at low zooms from the density the database
// counts per cell (/api/case-density), points at high zooms (/api/case-points): open cases
// orange (overdue dark red), closed green with a grey ring. A period (近7天/近30天/今年) and
// open/closed/all; clicking a point shows the case's card (photo, class, state, address,
// department, deadline with its light) with a link to the case.
// Registered by the case module's layer (`case::map::LAYER`): the map page renders its toggle
// and controls and loads this script after map.js, for callers who may read cases.
(function () {
  "use strict";
  var map = window.zhiliMap, el = document.getElementById("map"), box = document.getElementById("toggle-cases");
  if (!map || !el || !box) return;
  var zh = el.dataset.lang !== "en";
  var T = zh
    ? { caseNo: "案件 ", cls: "类别", state: "状态", open: "查看案件", overdue: "已超时", department: "处置部门", deadline: "时限",
        light: { green: "时间充裕", yellow: "即将超时", red: "已超时" }, loading: "加载中…", points: "案件点位 ", heat: "热力：案件 ", truncated: "（仅显示最新 {n} 件，请放大或缩短时段）", failed: "案件加载失败：" }
    : { caseNo: "Case ", cls: "Class", state: "State", open: "Open the case", overdue: "Overdue", department: "Department", deadline: "Deadline",
        light: { green: "On time", yellow: "Due soon", red: "Overdue" }, loading: "Loading…", points: "Case points: ", heat: "Heat: cases ", truncated: " (newest {n} only: zoom in or shorten the period)", failed: "Cases failed to load: " };
  var POINTS_ZOOM = 13;
  var gcj = el.dataset.basemap && el.dataset.basemapCrs === "gcj02";
  var controls = document.getElementById("cases-controls");
  var period = document.getElementById("cases-period"), stateSel = document.getElementById("cases-state");
  var msg = document.getElementById("cases-msg");
  var empty = { type: "FeatureCollection", features: [] };
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }

  // A case's card on the map (案件卡片): its report photo's thumbnail, class, state, address and
  // description, department by name, and the deadline in local time with its traffic light.
  var departments = null;
  function departmentNames() {
    if (!departments) departments = fetch("/api/departments?limit=1000", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; }).then(function (b) {
        var by = {};
        (b.items || b || []).forEach(function (d) { by[d.code] = d.name; });
        return by;
      }, function () { return {}; });
    return departments;
  }
  function card(c, names) {
    var k = c.clock || {};
    return "<div class=case-popup data-id=" + esc(c.id) + "><strong>#" + esc(c.id) + " " + esc(c.class_name || c.class_code) + "</strong>" +
      (c.thumb ? "<img class=popup-thumb src='" + esc(c.thumb) + "' alt='" + esc(c.class_name || "") + "'>" : "") +
      "<div>" + T.state + ": " + esc(c.state_label) + "</div>" +
      (c.address ? "<div>" + esc(c.address) + "</div>" : "") +
      (c.description ? "<div class=muted>" + esc(c.description.length > 60 ? c.description.slice(0, 60) + "…" : c.description) + "</div>" : "") +
      (c.department ? "<div>" + T.department + ": <span title='" + esc(c.department) + "'>" + esc(names[c.department] || c.department) + "</span></div>" : "") +
      (k.deadline_local ? "<div>" + T.deadline + ": <span title='" + esc(k.zone) + "'>" + esc(k.deadline_local) + "</span> " +
        "<span class='countdown light-" + esc(k.light) + "' data-light=" + esc(k.light) + "><span class=light-dot aria-hidden=true></span>" + esc(T.light[k.light] || "") + "</span></div>" : "") +
      "<a href=\"/cases/" + encodeURIComponent(c.id) + "\">" + T.open + " →</a></div>";
  }
  function openCard(at, id) {
    var popup = new maplibregl.Popup({ closeButton: true, maxWidth: "280px" }).setLngLat(at)
      .setHTML("<div class=case-popup>" + T.loading + "</div>").addTo(map);
    Promise.all([fetch("/api/cases/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); }), departmentNames()])
      .then(function (x) { popup.setHTML(card(x[0].case, x[1])); })
      .catch(function (e) { popup.setHTML("<div class=case-popup>" + esc(window.zhili.error.text(e)) + "</div>"); });
    return popup;
  }

  function setup() {
    if (map.getSource("cases")) return;
    map.addSource("case-density", { type: "geojson", data: empty });
    map.addSource("cases", { type: "geojson", data: empty });
    var before = map.getLayer("selected") ? "selected" : undefined;
    map.addLayer({ id: "cases-heat", type: "heatmap", source: "case-density", maxzoom: POINTS_ZOOM,
      layout: { visibility: "none" },
      paint: {
        "heatmap-weight": ["get", "w"],
        "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 8, 0.8, POINTS_ZOOM, 1.6],
        "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 8, 14, POINTS_ZOOM, 40],
        "heatmap-opacity": 0.8,
        "heatmap-color": ["interpolate", ["linear"], ["heatmap-density"],
          0, "rgba(255,255,178,0)", 0.2, "#fed976", 0.4, "#feb24c", 0.6, "#fd8d3c", 0.8, "#f03b20", 1, "#bd0026"]
      } }, before);
    map.addLayer({ id: "cases-points", type: "circle", source: "cases", minzoom: POINTS_ZOOM,
      layout: { visibility: "none" },
      paint: {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], POINTS_ZOOM, 4, 18, 8],
        "circle-color": ["case", ["!", ["get", "open"]], "#16a34a", ["get", "overdue"], "#991b1b", "#f97316"],
        "circle-stroke-color": ["case", ["get", "open"], "#ffffff", "#64748b"],
        "circle-stroke-width": 1.5
      } }, before);
    map.on("click", "cases-points", function (e) {
      var f = e.features && e.features[0];
      if (!f) return;
      openCard(f.geometry.coordinates, f.properties.id);
    });
    map.on("mouseenter", "cases-points", function () { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "cases-points", function () { map.getCanvas().style.cursor = ""; });
    map.on("moveend", schedule);
  }

  function fromParam() {
    var v = period.value;
    if (v === "year") return new Date().getFullYear() + "-01-01";
    return new Date(Date.now() - Number(v) * 864e5).toISOString();
  }
  function bboxParam() {
    var b = map.getBounds(), c = function (v, lim) { return Math.max(-lim, Math.min(lim, v)).toFixed(6); };
    return [c(b.getWest(), 180), c(b.getSouth(), 90), c(b.getEast(), 180), c(b.getNorth(), 90)].join(",");
  }

  var timer = null, inflight = null;
  function schedule() {
    if (!box.checked) return;
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  }
  function load() {
    if (inflight) inflight.abort();
    inflight = new AbortController();
    var z = map.getZoom(), points = z >= POINTS_ZOOM;
    var q = "bbox=" + bboxParam() + "&from=" + encodeURIComponent(fromParam()) + "&state=" + stateSel.value + (gcj ? "&crs=gcj02" : "");
    // Cells of about 16 pixels at the whole zoom level below (stable while panning).
    var cell = Math.min(10, 360 / 512 / Math.pow(2, Math.floor(z)) * 16);
    var url = points ? "/api/case-points?limit=5000&" + q : "/api/case-density?cell=" + cell.toPrecision(6) + "&" + q;
    fetch(url, { credentials: "same-origin", signal: inflight.signal })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); })
      .then(function (fc) {
        if (points) {
          map.getSource("cases").setData(fc);
          msg.textContent = T.points + fc.features.length + (fc.truncated ? T.truncated.replace("{n}", fc.limit) : "");
        } else {
          var max = fc.max || 1;
          fc.features.forEach(function (f) { f.properties.w = Math.sqrt(f.properties.count / max); });
          map.getSource("case-density").setData(fc);
          msg.textContent = T.heat + fc.total;
        }
        msg.dataset.loaded = points ? "points" : "density";
      })
      .catch(function (e) {
        if (e && e.name === "AbortError") return;
        msg.textContent = T.failed + window.zhili.error.text(e);
      });
  }

  function show(on) {
    controls.hidden = !on;
    ["cases-heat", "cases-points"].forEach(function (l) { if (map.getLayer(l)) map.setLayoutProperty(l, "visibility", on ? "visible" : "none"); });
    if (on) load();
  }
  // WGS-84 → GCJ-02 for a case found by number when the basemap is GCJ-02 (the published
  // formula, as zhili_geo::gcj02::wgs84_to_gcj02 on the server, which shifts the tiles).
  function toMap(lon, lat) {
    if (!gcj || lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lon, lat];
    var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI, x = lon - 105, y = lat - 35;
    var tl = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    tl += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    tl += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
    tl += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
    var tn = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    tn += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    tn += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
    tn += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
    var rad = lat / 180 * PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    return [lon + tn * 180 / (A / sq * Math.cos(rad) * PI), lat + tl * 180 / ((A * (1 - EE)) / (magic * sq) * PI)];
  }
  // The One Map's search finds a case by its number (案件编号): fly there and show its card.
  (window.zhiliMapSearch = window.zhiliMapSearch || []).push(function (q) {
    if (!/^[0-9]{1,12}$/.test(q)) return Promise.resolve([]);
    return fetch("/api/cases/" + q, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (b) {
      var c = b && b.case;
      if (!c) return [];
      return [{ rank: -1, label: T.caseNo + c.id, sub: (c.class_name || c.class_code) + " · " + (c.address || ""), go: function () {
        var at = toMap(c.lon, c.lat);
        map.flyTo({ center: at, zoom: Math.max(map.getZoom(), 16), duration: 600 });
        departmentNames().then(function (names) {
          new maplibregl.Popup({ closeButton: true, maxWidth: "280px" }).setLngLat(at).setHTML(card(c, names)).addTo(map);
        });
      } }];
    });
  });
  box.addEventListener("change", function () { show(box.checked); });
  period.addEventListener("change", schedule);
  stateSel.addEventListener("change", schedule);
  if (map.loaded()) setup(); else map.once("load", setup);
  if (box.checked) map.once("idle", function () { show(true); });
})();

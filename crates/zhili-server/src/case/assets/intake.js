// Hotline intake (热线录入): an operator taking a 12345 call enters the case — channel, class,
// description, the caller's contact, an optional address — and clicks its position on the map;
// the grid and address found there (/api/locate) are shown before sending. The API's errors
// are shown next to the field they name.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  if (!form || !window.zhiliMiniMap) return;
  var zh = form.dataset.lang !== "en";
  var T = zh
    ? { sent: "已录入，案件编号 ", open: "查看案件", sending: "提交中…", noPos: "请在地图上点击案件位置", outside: "此处不在辖区网格内", required: "必填" }
    : { sent: "Entered, case number ", open: "Open the case", sending: "Sending…", noPos: "Click the case's position on the map", outside: "No grid here", required: "Required" };
  var $ = function (id) { return document.getElementById(id); };
  var msg = $("intake-msg");
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function clearErrors() { Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (e) { e.textContent = ""; }); }
  // An error shown next to its field: lon/lat/crs next to the map; photos/others in the message.
  function fieldError(field, text) {
    var name = /^(lon|lat|crs)$/.test(field) ? "lon" : field;
    var slot = form.querySelector(".field-error[data-for='" + name + "']");
    if (slot) { slot.textContent = text; return true; }
    return false;
  }

  // Classes: major, then minor.
  var major = $("major"), minor = $("minor"), classes = [];
  function fillMinor() {
    minor.innerHTML = "";
    classes.filter(function (c) { return c.major_code === major.value && c.active; }).forEach(function (c) {
      minor.add(new Option(c.name + " (" + c.code + ")", c.code));
    });
  }
  fetch("/api/case-classes", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (cs) {
    classes = cs;
    var seen = {};
    cs.forEach(function (c) {
      if (!c.active || seen[c.major_code]) return;
      seen[c.major_code] = 1;
      major.add(new Option((c.kind === "event" ? (zh ? "事件·" : "Event·") : (zh ? "部件·" : "Component·")) + c.major_name, c.major_code));
    });
    fillMinor();
  });
  major.addEventListener("change", fillMinor);

  // The map: a click (or a place found by name) sets the position and asks what is there.
  var pos = null;
  var mini = window.zhiliMiniMap($("intake-map"), {
    zoom: 11,
    onClick: function (lon, lat, crs) { place(lon, lat, crs); }
  });
  window.zhiliIntakeMap = mini.map;
  function place(lon, lat, crs) {
    pos = { lon: lon, lat: lat, crs: crs };
    mini.pin(lon, lat, crs);
    $("lon").value = lon.toFixed(7);
    $("lat").value = lat.toFixed(7);
    $("position").textContent = lon.toFixed(6) + ", " + lat.toFixed(6) + (crs === "gcj02" ? " (GCJ-02)" : "");
    fieldError("lon", "");
    var q = "/api/locate?lon=" + lon + "&lat=" + lat + (crs === "gcj02" ? "&crs=gcj02" : "");
    fetch(q, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : []; }).then(function (chain) {
      var grid = chain.filter(function (c) { return c.kind === "grid"; })[0];
      var names = chain.slice().reverse().map(function (c) { return c.name || c.code; });
      $("place").innerHTML = chain.length
        ? (grid ? "<span class=mono>" + esc(grid.code) + "</span> " : "") + esc(names.join(" › "))
        : T.outside;
      $("place").dataset.grid = grid ? grid.code : "";
    });
  }

  // Find a place by name (查找地点): divisions (townships, villages) and grids whose name holds
  // the text or whose code starts with it, ranked — the exact name first, then names starting
  // with it, then the rest; divisions before grids, coarser before finer. Picking one puts the
  // pin inside it and frames it.
  var pq = $("place-q"), results = $("place-results"), pmsg = $("place-msg");
  var crsQ = mini.crs === "gcj02" ? "&crs=gcj02" : "";
  var PT = zh ? { grid: "网格", division: "行政区划", none: "未找到：", found: "找到 {n} 处，请选择" }
    : { grid: "Grid", division: "Division", none: "Not found: ", found: "{n} found: choose one" };
  function items(layer, q) {
    return fetch("/ogc/collections/" + layer + "/items?limit=10&q=" + encodeURIComponent(q) + crsQ, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; }).then(function (fc) { return fc.features || []; }, function () { return []; });
  }
  function rank(f, q, kind) {
    var n = f.properties.name || "", lvl = Number(f.properties.level) || 0;
    var m = n === q || f.properties.code === q ? 0 : n.indexOf(q) === 0 ? 1 : 2;
    return m * 100 + (kind === "division" ? 0 : 50) + lvl;
  }
  // A point inside the feature: the middle of the widest run of its outer ring across the
  // middle latitude (the bbox centre can fall outside a bent outline).
  function inside(geom) {
    var ring = (geom.type === "Polygon" ? geom.coordinates : geom.coordinates[0])[0];
    var ys = ring.map(function (p) { return p[1]; }), y = (Math.min.apply(null, ys) + Math.max.apply(null, ys)) / 2, xs = [];
    for (var i = 0; i + 1 < ring.length; i++) {
      var a = ring[i], b = ring[i + 1];
      if ((a[1] <= y) !== (b[1] <= y)) xs.push(a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
    }
    xs.sort(function (p, q) { return p - q; });
    var best = null;
    for (var j = 0; j + 1 < xs.length; j += 2) if (!best || xs[j + 1] - xs[j] > best[1] - best[0]) best = [xs[j], xs[j + 1]];
    return best ? [(best[0] + best[1]) / 2, y] : ring[0];
  }
  function bounds(geom) {
    var b = [180, 90, -180, -90];
    (geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates).forEach(function (poly) {
      poly[0].forEach(function (p) { b[0] = Math.min(b[0], p[0]); b[1] = Math.min(b[1], p[1]); b[2] = Math.max(b[2], p[0]); b[3] = Math.max(b[3], p[1]); });
    });
    return [[b[0], b[1]], [b[2], b[3]]];
  }
  function findPlace() {
    var q = pq.value.trim();
    results.innerHTML = "";
    results.hidden = true;
    if (!q) { pmsg.textContent = ""; return; }
    Promise.all([items("divisions", q), items("grids", q)]).then(function (two) {
      if (pq.value.trim() !== q) return;
      var found = two[0].map(function (f) { return [rank(f, q, "division"), f, PT.division]; })
        .concat(two[1].map(function (f) { return [rank(f, q, "grid"), f, PT.grid]; }))
        .sort(function (a, b) { return a[0] - b[0]; }).slice(0, 12);
      if (!found.length) { pmsg.textContent = PT.none + q; return; }
      pmsg.textContent = PT.found.replace("{n}", found.length);
      found.forEach(function (x) {
        var f = x[1], li = document.createElement("li"), b = document.createElement("button");
        b.type = "button";
        b.dataset.code = f.properties.code;
        b.innerHTML = esc(f.properties.name || f.properties.code) + "<small>" + esc(x[2] + " · " + (f.properties.level_name || "") + " " + f.properties.code) + "</small>";
        b.addEventListener("click", function () {
          var p = inside(f.geometry);
          results.hidden = true;
          pmsg.textContent = "";
          mini.map.fitBounds(bounds(f.geometry), { padding: 30, duration: 0, maxZoom: 16 });
          place(p[0], p[1], mini.crs);
        });
        li.appendChild(b);
        results.appendChild(li);
      });
      results.hidden = false;
    });
  }
  var typing = null;
  pq.addEventListener("input", function () { clearTimeout(typing); typing = setTimeout(findPlace, 250); });
  pq.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); findPlace(); } });
  $("place-go").addEventListener("click", findPlace);

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearErrors();
    if (!pos) { fieldError("lon", T.noPos); return; }
    var body = { class_code: minor.value, lon: pos.lon, lat: pos.lat, description: $("description").value, source: $("source").value };
    if (pos.crs === "gcj02") body.crs = "gcj02";
    if ($("contact").value.trim()) body.contact = $("contact").value.trim();
    if ($("address").value.trim()) body.address = $("address").value.trim();
    msg.textContent = T.sending;
    msg.className = "";
    $("submit").disabled = true;
    fetch("/api/cases", { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (b) { return { r: r, b: b }; }); })
      .then(function (x) {
        $("submit").disabled = false;
        if (!x.r.ok) {
          var err = (x.b && x.b.error) || {};
          var text = window.zhili.error.text(x.b);
          var shown = err.field && fieldError(err.field, text);
          msg.textContent = shown ? "" : text;
          msg.className = "bad";
          return;
        }
        var id = x.b.case.id;
        msg.innerHTML = T.sent + "<strong class=mono>" + id + "</strong> · <a href=\"/cases/" + id + "\">" + T.open + "</a>";
        msg.className = "good";
        msg.dataset.caseId = id;
        $("description").value = "";
        $("contact").value = "";
        $("address").value = "";
      })
      .catch(function (err) { $("submit").disabled = false; msg.textContent = String(err); msg.className = "bad"; });
  });
})();

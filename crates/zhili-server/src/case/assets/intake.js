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

  // The map: a click sets the position and asks what is there.
  var pos = null;
  var mini = window.zhiliMiniMap($("intake-map"), {
    zoom: 11,
    onClick: function (lon, lat, crs) {
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
  });
  window.zhiliIntakeMap = mini.map;

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

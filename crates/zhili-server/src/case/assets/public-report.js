// The citizens' report page (群众随手拍): pick a category (the Open311 services, grouped by major
// class), describe the problem, add photos (removable before sending), use the phone's position
// or put a pin on the map (offered at once when GPS is refused or coarse), optionally leave a
// phone number, and post it to Open311 GeoReport v2 without an account (multipart, the photos as
// `media`). A random device id kept in localStorage makes a retry of the same report on the same
// day answer the stored request. Errors (the GeoReport error list, each description starting
// with the field) are asked for in the page's language (Accept-Language) and shown next to the
// field; the form keeps everything on a refusal. The answer is the tracking code (查询码), the
// one way to the report's status page.
(function () {
  "use strict";
  var form = document.getElementById("public-report");
  if (!form) return;
  var zh = form.dataset.lang !== "en";
  var lang = zh ? "" : "?lang=en";
  var MAX_PHOTOS = parseInt(form.dataset.maxPhotos || "3", 10), COARSE_M = 50;
  var T = zh
    ? { choose: "请选择问题类别", describe: "请描述问题", locate: "请使用您的位置或在地图上选点", locating: "定位中…",
        noGeo: "无法定位：", sending: "提交中…", sent: "已受理。您的查询码：", follow: "查看办理进度 →",
        network: "网络不可用，请稍后重试", loadFail: "类别加载失败，请刷新页面", failed: "提交失败，请稍后重试",
        geo: { 1: "未允许使用位置", 2: "暂时无法获取位置", 3: "定位超时" }, noGeoApi: "浏览器不支持定位",
        pinNow: "请在地图上点选问题位置，可拖动标记调整。", coarse: "定位精度约 ±{m} 米，请在地图上确认或拖动标记。",
        removeText: "移除", remove: "移除照片 {n}", tooMany: "最多 {max} 张照片", pinned: "地图选点" }
    : { choose: "Choose a category", describe: "Describe the problem", locate: "Use your location or pick the place on the map",
        locating: "Locating…", noGeo: "Cannot locate: ", sending: "Sending…", sent: "Received. Your tracking code: ",
        follow: "Follow its progress →", network: "No network; please try again later",
        loadFail: "Categories could not be loaded; reload the page", failed: "Sending failed; please try again later",
        geo: { 1: "permission denied", 2: "position unavailable", 3: "timed out" }, noGeoApi: "this browser cannot locate",
        pinNow: "Tap the problem's place on the map; drag the marker to adjust.", coarse: "The fix is only about ±{m} m: confirm the place on the map or drag the marker.",
        removeText: "Remove", remove: "Remove photo {n}", tooMany: "At most {max} photos", pinned: "picked on the map" };
  var $ = function (id) { return document.getElementById(id); };
  var msg = $("public-msg");
  function say(text, cls) { msg.textContent = text; msg.className = cls || ""; }

  // Which message slot a GeoReport field's error goes to.
  function slotOf(field) {
    if (field === "service_code" || field === "description" || field === "phone") return "err-" + field;
    if (field === "lat" || field === "long" || field === "lat, long" || field === "address_string") return "err-position";
    if (/^media(\[\d+\])?$/.test(field)) return "err-media";
    return null;
  }
  var SLOTS = ["err-service_code", "err-description", "err-media", "err-position", "err-phone"];
  function clearErrors() {
    SLOTS.forEach(function (id) { $(id).textContent = ""; });
    say("");
  }
  function fieldError(field, text) {
    var slot = slotOf(field);
    if (slot) {
      var el = $(slot);
      el.textContent = el.textContent ? el.textContent + "；" + text : text;
    } else {
      say(text, "bad");
    }
  }

  function deviceId() {
    var key = "zhili-device-id", id = null;
    try { id = localStorage.getItem(key); } catch (e) { id = null; }
    if (!id) {
      var b = new Uint8Array(16);
      crypto.getRandomValues(b);
      id = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
      try { localStorage.setItem(key, id); } catch (e) { /* private mode: a fresh id per visit */ }
    }
    return id;
  }

  // --- categories: the Open311 services, one group per major class ---
  var select = $("service");
  fetch("/open311/v2/services.json").then(function (r) {
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }).then(function (services) {
    var groups = {};
    services.forEach(function (s) {
      var g = groups[s.group];
      if (!g) {
        g = groups[s.group] = document.createElement("optgroup");
        g.label = s.group;
        select.appendChild(g);
      }
      var o = new Option(s.service_name, s.service_code);
      o.title = s.description || "";
      g.appendChild(o);
    });
    select.dataset.loaded = "1";
  }).catch(function () { fieldError("service_code", T.loadFail); });

  // --- photos: a list the citizen adds to and removes from ---
  var files = [];
  function showPhotos() {
    var box = $("previews");
    box.innerHTML = "";
    files.forEach(function (f, i) {
      var fig = document.createElement("figure");
      fig.className = "preview";
      var img = new Image();
      img.alt = f.name || "";
      img.src = URL.createObjectURL(f);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      var b = document.createElement("button");
      b.type = "button";
      b.className = "remove-photo";
      b.textContent = T.removeText;
      b.setAttribute("aria-label", T.remove.replace("{n}", i + 1));
      b.addEventListener("click", function () { files.splice(i, 1); $("err-media").textContent = ""; showPhotos(); });
      fig.appendChild(img);
      fig.appendChild(b);
      box.appendChild(fig);
    });
    box.dataset.count = files.length;
  }
  $("photos").addEventListener("change", function (e) {
    var added = Array.prototype.slice.call(e.target.files), room = MAX_PHOTOS - files.length;
    $("err-media").textContent = added.length > room ? T.tooMany.replace("{max}", MAX_PHOTOS) : "";
    files = files.concat(added.slice(0, Math.max(0, room)));
    e.target.value = "";
    showPhotos();
  });

  // --- the position: GPS, or a pin on the map ---
  var picker = null, pos = null;
  function setPosition(p) {
    pos = p;
    // GeoReport takes WGS-84 only: a pin on a GCJ-02 basemap is sent as picked and named so
    // by no field, so the map without a basemap (WGS-84) is what this page offers.
    $("long").value = p.lon.toFixed(7);
    $("lat").value = p.lat.toFixed(7);
    $("err-position").textContent = "";
    $("position").textContent = p.lat.toFixed(6) + ", " + p.lon.toFixed(6) +
      (p.accuracy != null ? " (±" + Math.round(p.accuracy) + " m)" : "") + (p.how === "pin" ? " · " + T.pinned : "");
  }
  function openMap(hint) {
    var el = $("pin-map");
    el.hidden = false;
    $("pick-on-map").setAttribute("aria-expanded", "true");
    $("pin-hint").hidden = false;
    if (hint) $("pin-hint").textContent = hint;
    if (!picker && window.zhiliPinPicker) {
      picker = window.zhiliPinPicker(el, {
        center: pos ? [pos.lon, pos.lat] : undefined, zoom: 15, grids: false,
        onPick: function (lon, lat) { setPosition({ lon: lon, lat: lat, how: "pin" }); }
      });
      window.zhiliPublicMap = picker.map;
    }
    if (picker && pos) picker.set(pos.lon, pos.lat, "wgs84");
    if (picker) picker.map.resize();
  }
  $("pick-on-map").addEventListener("click", function () { openMap(T.pinNow); });
  function locate() {
    if (!navigator.geolocation) { fieldError("lat", T.noGeo + T.noGeoApi); openMap(T.pinNow); return; }
    $("position").textContent = T.locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      setPosition({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy, how: "gps" });
      if (p.coords.accuracy > COARSE_M) openMap(T.coarse.replace("{m}", Math.round(p.coords.accuracy)));
    }, function (e) {
      $("position").textContent = pos ? $("position").textContent : "—";
      fieldError("lat", T.noGeo + (T.geo[e.code] || ""));
      openMap(T.pinNow);
    }, { enableHighAccuracy: true, timeout: 15000 });
  }
  $("locate").addEventListener("click", locate);

  // --- submit: nothing in the form is cleared unless the report is received ---
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearErrors();
    var ok = true;
    if (!select.value) { fieldError("service_code", T.choose); ok = false; }
    if (!$("description").value.trim()) { fieldError("description", T.describe); ok = false; }
    if (!pos) { fieldError("lat", T.locate); openMap(T.pinNow); ok = false; }
    if (!ok) return;
    var body = new FormData();
    body.set("service_code", select.value);
    body.set("description", $("description").value.trim());
    body.set("lat", $("lat").value);
    body.set("long", $("long").value);
    if ($("phone").value.trim()) body.set("phone", $("phone").value.trim());
    body.set("device_id", deviceId());
    files.forEach(function (f) { body.append("media", f, f.name || "photo"); });
    $("submit").disabled = true;
    say(T.sending);
    fetch("/open311/v2/requests.json", { method: "POST", headers: { "accept-language": zh ? "zh-CN" : "en" }, body: body })
      .then(function (r) { return r.json().then(function (b) { return { r: r, b: b }; }, function () { return { r: r, b: null }; }); })
      .then(function (x) {
        if (!x.r.ok) {
          say("");
          if (!Array.isArray(x.b)) { say(T.failed, "bad"); return; }
          x.b.forEach(function (err) {
            var d = String(err.description || ""), i = d.indexOf(": ");
            if (i > 0) fieldError(d.slice(0, i), d.slice(i + 2)); else fieldError("", d || T.failed);
          });
          return;
        }
        var code = x.b[0] && x.b[0].service_request_id;
        form.hidden = true;
        $("done-text").textContent = T.sent;
        $("done-text").dataset.requestId = code;
        $("done-code").textContent = code;
        var a = $("done-link");
        a.href = "/public/requests/" + encodeURIComponent(code) + lang;
        a.textContent = T.follow;
        $("public-done").hidden = false;
        $("public-done").scrollIntoView();
      }, function () { say(T.network, "bad"); })
      .finally(function () { $("submit").disabled = false; });
  });
})();

// The citizens' report page (群众随手拍): pick a category (the Open311 services, grouped by major
// class), describe the problem, use the phone's position, optionally leave a phone number, and
// post it to Open311 GeoReport v2 without an account. A random device id kept in localStorage
// makes a retry of the same report on the same day answer the stored request. Errors (the
// GeoReport error list, each description starting with the field) are shown next to the field.
(function () {
  "use strict";
  var form = document.getElementById("public-report");
  if (!form) return;
  var zh = form.dataset.lang !== "en";
  var lang = zh ? "" : "?lang=en";
  var T = zh
    ? { choose: "请选择问题类别", describe: "请描述问题", locate: "请先使用您的位置", locating: "定位中…",
        noGeo: "无法定位：", sending: "提交中…", sent: "已受理，诉求编号 ", follow: "查看办理进度 →",
        network: "网络不可用，请稍后重试", loadFail: "类别加载失败，请刷新页面" }
    : { choose: "Choose a category", describe: "Describe the problem", locate: "Use your location first",
        locating: "Locating…", noGeo: "Cannot locate: ", sending: "Sending…", sent: "Received, report number ",
        follow: "Follow its progress →", network: "No network; please try again later",
        loadFail: "Categories could not be loaded; reload the page" };
  var $ = function (id) { return document.getElementById(id); };
  var msg = $("public-msg");
  function say(text, cls) { msg.textContent = text; msg.className = cls || ""; }

  // Which message slot a GeoReport field's error goes to.
  var SLOT = { service_code: "err-service_code", description: "err-description", lat: "err-position",
    long: "err-position", "lat, long": "err-position", phone: "err-phone" };
  function clearErrors() {
    ["err-service_code", "err-description", "err-position", "err-phone"].forEach(function (id) { $(id).textContent = ""; });
    say("");
  }
  function fieldError(field, text) {
    var slot = SLOT[field];
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

  // --- the position ---
  function locate() {
    if (!navigator.geolocation) { fieldError("lat", T.noGeo + "geolocation"); return; }
    $("position").textContent = T.locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      $("long").value = p.coords.longitude.toFixed(7);
      $("lat").value = p.coords.latitude.toFixed(7);
      $("err-position").textContent = "";
      $("position").textContent = $("lat").value + ", " + $("long").value + " (±" + Math.round(p.coords.accuracy) + " m)";
    }, function (e) {
      $("position").textContent = "—";
      fieldError("lat", T.noGeo + ((zh ? { 1: "未允许使用位置", 2: "暂时无法获取位置", 3: "定位超时" }
        : { 1: "permission denied", 2: "position unavailable", 3: "timed out" })[e.code] || ""));
    }, { enableHighAccuracy: true, timeout: 15000 });
  }
  $("locate").addEventListener("click", locate);

  // --- submit ---
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearErrors();
    var ok = true;
    if (!select.value) { fieldError("service_code", T.choose); ok = false; }
    if (!$("description").value.trim()) { fieldError("description", T.describe); ok = false; }
    if (!$("lat").value) { fieldError("lat", T.locate); ok = false; }
    if (!ok) return;
    var body = new URLSearchParams();
    body.set("service_code", select.value);
    body.set("description", $("description").value.trim());
    body.set("lat", $("lat").value);
    body.set("long", $("long").value);
    if ($("phone").value.trim()) body.set("phone", $("phone").value.trim());
    body.set("device_id", deviceId());
    $("submit").disabled = true;
    say(T.sending);
    fetch("/open311/v2/requests.json", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() })
      .then(function (r) { return r.json().then(function (b) { return { r: r, b: b }; }); })
      .then(function (x) {
        if (!x.r.ok) {
          say("");
          (Array.isArray(x.b) ? x.b : []).forEach(function (err) {
            var d = String(err.description || ""), i = d.indexOf(": ");
            if (i > 0) fieldError(d.slice(0, i), d.slice(i + 2)); else fieldError("", d || String(x.r.status));
          });
          if (!Array.isArray(x.b)) say(String(x.r.status), "bad");
          return;
        }
        var id = x.b[0] && x.b[0].service_request_id;
        form.hidden = true;
        $("done-text").textContent = T.sent + id;
        $("done-text").dataset.requestId = id;
        var a = $("done-link");
        a.href = "/public/requests/" + encodeURIComponent(id) + lang;
        a.textContent = T.follow;
        $("public-done").hidden = false;
      }, function () { say(T.network, "bad"); })
      .finally(function () { $("submit").disabled = false; });
  });
})();

// Report a problem (上报) from a phone: class, photos from the camera, the position and a
// description. A grid worker must never lose a report:
// - the unsent draft (class, description, photos, position) is kept in the browser (IndexedDB)
//   as it is typed, so a reload or a dead battery loses nothing;
// - a sent report goes into a queue kept there too, then to the server; one that cannot be sent
//   now (no network) stays queued and is sent when the connection is back. Each carries a random
//   external_id, so a retry never files it twice;
// - the form is cleared only when the server has accepted the report (or it is safely queued
//   offline); a refusal puts the draft back in the form with the error at the field at fault;
// - without GPS (refused, unavailable) or with a coarse fix (worse than 50 m), a map appears on
//   which the worker taps or drags a pin; it is there on demand too (在地图上选点);
// - the grid and the place at the position (/api/locate) are shown before sending, and a
//   position outside the district is said there at once.
(function () {
  "use strict";
  var form = document.getElementById("report");
  if (!form) return;
  var zh = form.dataset.lang !== "en";
  var MAX_PHOTOS = 9, COARSE_M = 50;
  var T = zh
    ? { sent: "已上报，案件编号 ", queued: "网络不可用：已保存，联网后自动发送", waiting: "待发送：", none: "",
        noPos: "请先定位或在地图上选点", locating: "定位中…", noGeo: "无法定位：", sending: "发送中…", dup: "附近有同类未结案件：",
        noGeoApi: "浏览器不支持定位", geo: { 1: "未允许使用位置", 2: "暂时无法获取位置", 3: "定位超时" },
        pinNow: "请在地图上点选问题位置，可拖动红色标记调整。", coarse: "定位精度约 ±{m} 米，请在地图上确认或拖动标记。",
        outside: "此位置不在本辖区范围内，请重新选点", grid: "网格：", noGrid: "（无网格）", looking: "查询中…",
        remove: "移除照片 {n}", removeText: "移除", tooMany: "最多 9 张照片", restored: "已恢复未发送的草稿",
        refusedBack: "上报被退回，草稿已恢复：", pinned: "地图选点", gps: "GPS" }
    : { sent: "Reported, case number ", queued: "Offline: saved, will be sent when back online", waiting: "Waiting to send: ",
        none: "", noPos: "Locate first, or pick the place on the map", locating: "Locating…", noGeo: "Cannot locate: ", sending: "Sending…",
        dup: "Open cases of this kind nearby: ", noGeoApi: "this browser cannot locate",
        geo: { 1: "permission denied", 2: "position unavailable", 3: "timed out" },
        pinNow: "Tap the problem's place on the map; drag the marker to adjust.", coarse: "The fix is only about ±{m} m: confirm the place on the map or drag the marker.",
        outside: "This place is outside the district: pick another", grid: "Grid: ", noGrid: "(no grid)", looking: "Looking up…",
        remove: "Remove photo {n}", removeText: "Remove", tooMany: "At most 9 photos", restored: "The unsent draft is back",
        refusedBack: "The report was refused; its draft is back: ", pinned: "picked on the map", gps: "GPS" };
  var $ = function (id) { return document.getElementById(id); };
  var msg = $("report-msg"), qmsg = $("queue-msg");
  function say(text, cls) { msg.textContent = text; msg.className = cls || ""; }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function rid() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  // --- the browser's store: the queue of sent reports and the draft being written ---
  var dbp = new Promise(function (ok, fail) {
    var r = indexedDB.open("zhili-report", 2);
    r.onupgradeneeded = function () {
      var db = r.result;
      if (!db.objectStoreNames.contains("queue")) db.createObjectStore("queue", { keyPath: "id" });
      if (!db.objectStoreNames.contains("draft")) db.createObjectStore("draft");
    };
    r.onsuccess = function () { ok(r.result); };
    r.onerror = function () { fail(r.error); };
  });
  function tx(store, mode, fn) {
    return dbp.then(function (db) {
      return new Promise(function (ok, fail) {
        var t = db.transaction(store, mode), s = t.objectStore(store), out = fn(s);
        t.oncomplete = function () { ok(out && out.result); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }
  var put = function (item) { return tx("queue", "readwrite", function (s) { return s.put(item); }); };
  var drop = function (id) { return tx("queue", "readwrite", function (s) { return s.delete(id); }); };
  var all = function () { return tx("queue", "readonly", function (s) { return s.getAll(); }); };
  var saveDraft = function (d) { return tx("draft", "readwrite", function (s) { return s.put(d, "current"); }); };
  var readDraft = function () { return tx("draft", "readonly", function (s) { return s.get("current"); }); };
  var clearDraft = function () { return tx("draft", "readwrite", function (s) { return s.delete("current"); }); };

  function showQueue() {
    all().then(function (items) {
      var waiting = items.filter(function (i) { return !i.refused; }).length;
      qmsg.textContent = waiting ? T.waiting + waiting : T.none;
    });
  }

  // --- the form's state ---
  var major = $("major"), minor = $("minor"), classes = [], files = [], pos = null, restoring = false;
  function draft() {
    return { major: major.value, class_code: minor.value, description: $("description").value, photos: files.slice(), pos: pos };
  }
  function empty() { return !$("description").value.trim() && !files.length && !pos; }
  var saveTimer = null;
  function changed() {
    if (restoring) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () { if (empty()) clearDraft(); else saveDraft(draft()); }, 200);
  }

  function fillMinor(selected) {
    minor.innerHTML = "";
    classes.filter(function (c) { return c.major_code === major.value && c.active; }).forEach(function (c) {
      minor.add(new Option(c.name + " (" + c.code + ")", c.code));
    });
    if (selected) minor.value = selected;
  }
  major.addEventListener("change", function () { fillMinor(); changed(); });
  minor.addEventListener("change", changed);
  $("description").addEventListener("input", changed);

  // Photos: added to the list (up to 9), each with its preview and a remove button.
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
      b.addEventListener("click", function () { files.splice(i, 1); showPhotos(); changed(); });
      fig.appendChild(img);
      fig.appendChild(b);
      box.appendChild(fig);
    });
    box.dataset.count = files.length;
  }
  $("photos").addEventListener("change", function (e) {
    var added = Array.prototype.slice.call(e.target.files), room = MAX_PHOTOS - files.length;
    $("photos-error").textContent = added.length > room ? T.tooMany : "";
    files = files.concat(added.slice(0, Math.max(0, room)));
    e.target.value = "";
    showPhotos();
    changed();
  });

  // --- the position: GPS, or a pin on the map ---
  var picker = null;
  function openMap(hint) {
    var el = $("pin-map");
    el.hidden = false;
    $("pick-on-map").setAttribute("aria-expanded", "true");
    $("pin-hint").hidden = false;
    if (hint) $("pin-hint").textContent = hint;
    if (!picker && window.zhiliPinPicker) {
      picker = window.zhiliPinPicker(el, {
        center: pos && pos.crs !== "gcj02" ? [pos.lon, pos.lat] : undefined,
        zoom: 15,
        onPick: function (lon, lat, crs) { setPosition({ lon: lon, lat: lat, crs: crs, how: "pin" }); }
      });
      window.zhiliReportMap = picker.map;
    }
    if (picker && pos) picker.set(pos.lon, pos.lat, pos.crs);
    if (picker) picker.map.resize();
  }
  $("pick-on-map").addEventListener("click", function () { openMap(T.pinNow); });

  var asked = 0;
  function setPosition(p) {
    pos = p;
    $("lon").value = p.lon.toFixed(7);
    $("lat").value = p.lat.toFixed(7);
    $("crs").value = p.crs === "gcj02" ? "gcj02" : "";
    $("position").textContent = p.lon.toFixed(6) + ", " + p.lat.toFixed(6) +
      (p.accuracy != null ? " (±" + Math.round(p.accuracy) + " m)" : "") + (p.how === "pin" ? " · " + T.pinned : "") +
      (p.crs === "gcj02" ? " (GCJ-02)" : "");
    $("position-error").textContent = "";
    changed();
    // What is there: the grid and the divisions, or that it is outside the district.
    var place = $("place"), n = ++asked;
    place.textContent = T.looking;
    place.className = "";
    var q = "/api/locate?lon=" + p.lon + "&lat=" + p.lat + (p.crs === "gcj02" ? "&crs=gcj02" : "");
    fetch(q, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); }).then(function (chain) {
      if (n !== asked) return;
      var grid = chain.filter(function (c) { return c.kind === "grid"; })[0];
      var divisions = chain.filter(function (c) { return c.kind === "division"; }).reverse().map(function (c) { return c.name || c.code; });
      if (!chain.length) {
        place.textContent = T.outside;
        place.className = "bad";
        place.dataset.grid = "";
        place.dataset.outside = "1";
        return;
      }
      place.dataset.outside = "";
      place.dataset.grid = grid ? grid.code : "";
      place.innerHTML = (grid ? esc(T.grid) + "<strong>" + esc(grid.name || grid.code) + "</strong> <span class=\"mono muted\" title=\"" + esc(grid.code) + "\">" + esc(grid.code) + "</span>" : esc(T.noGrid)) +
        (divisions.length ? " · " + esc(divisions.join(" ")) : "");
    }, function () { if (n === asked) { place.textContent = "—"; place.dataset.grid = ""; } });
  }

  function locate() {
    if (!navigator.geolocation) { say(T.noGeo + T.noGeoApi, "bad"); openMap(T.pinNow); return; }
    $("position").textContent = T.locating;
    // A browser that never answers (the permission question left open): the map after 10 s.
    var slow = setTimeout(function () { if (!pos) openMap(T.pinNow); }, 10000);
    navigator.geolocation.getCurrentPosition(function (p) {
      clearTimeout(slow);
      var coarse = p.coords.accuracy > COARSE_M;
      setPosition({ lon: p.coords.longitude, lat: p.coords.latitude, crs: "wgs84", accuracy: p.coords.accuracy, how: "gps" });
      if (coarse) openMap(T.coarse.replace("{m}", Math.round(p.coords.accuracy)));
    }, function (e) {
      clearTimeout(slow);
      if (pos) { $("position").textContent = $("position").textContent.replace(T.locating, ""); } else { $("position").textContent = "—"; }
      say(T.noGeo + (T.geo[e.code] || ""), "bad");
      openMap(T.pinNow);
    }, { enableHighAccuracy: true, timeout: 15000 });
  }
  $("locate").addEventListener("click", locate);

  // --- put a draft (restored, or refused) back into the form ---
  function restore(d) {
    restoring = true;
    if (d.major) { major.value = d.major; fillMinor(d.class_code); }
    $("description").value = d.description || "";
    files = (d.photos || []).slice(0, MAX_PHOTOS);
    showPhotos();
    restoring = false;
    if (d.pos) setPosition(d.pos); else changed();
  }
  function resetForm() {
    restoring = true;
    $("description").value = "";
    files = [];
    showPhotos();
    restoring = false;
    // The position stays: the next report is most likely made in the same place.
    clearDraft();
  }

  // --- sending ---
  var flushing = false, again = false;
  // This page's own reports: a report sent from the form of an earlier load of the page (then
  // closed) is a queued one like any other.
  var PAGE = rid();
  function fromForm(item) { return item.inForm && item.page === PAGE; }
  function send(item) {
    // Photos first (each remembered once uploaded), then the report.
    var i = item.photoIds.length;
    if (i < item.photos.length) {
      var p = item.photos[i];
      return fetch("/api/attachments", { method: "POST", credentials: "same-origin", headers: { "content-type": p.type }, body: p })
        .then(function (r) { return r.json().then(function (b) { return { r: r, b: b }; }); })
        .then(function (x) {
          if (!x.r.ok) {
            // Name the photo at fault by its place in the list.
            var e = x.b && x.b.error;
            if (e && (!e.field || e.field === "file" || e.field === "content-type")) e.field = "photos";
            throw { status: x.r.status, body: x.b };
          }
          item.photoIds.push(x.b.id);
          return put(item).then(function () { return send(item); });
        });
    }
    var body = Object.assign({}, item.body, { photos: item.photoIds, external_id: "web:" + item.id });
    return fetch("/api/cases", { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (b) { return { r: r, b: b }; }); })
      .then(function (x) {
        if (!x.r.ok) throw { status: x.r.status, body: x.b };
        return x.b;
      });
  }
  function refusedForGood(e) {
    return e && e.status && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 408 && e.status !== 429;
  }
  function flush() {
    if (flushing) { again = true; return Promise.resolve(); }
    flushing = true;
    again = false;
    return all().then(function (items) {
      return items.filter(function (i) { return !i.refused; }).reduce(function (chain, item) {
        return chain.then(function () {
          return send(item).then(function (answer) {
            var d = answer.duplicates || [];
            say(T.sent + answer.case.id + (d.length ? "；" + T.dup + d.map(function (x) { return "#" + x.id; }).join(", ") : ""), "good");
            msg.dataset.caseId = answer.case.id;
            if (fromForm(item)) resetForm();
            return drop(item.id).then(restoreRefused);
          }, function (e) {
            if (refusedForGood(e)) {
              // The server refused it: it will not succeed later either. Its draft goes back
              // into the form (unless the form holds another one: then when that one is done),
              // with the text in the user's language under the field at fault.
              if (fromForm(item) || empty()) {
                if (!fromForm(item)) restore(item.draft); else changed();
                window.zhili.error.clear(form);
                if (window.zhili.error.show(form, e.body, msg)) say(fromForm(item) ? "" : T.refusedBack, fromForm(item) ? "" : "bad");
                else say((fromForm(item) ? "" : T.refusedBack) + window.zhili.error.text(e.body), "bad");
                return drop(item.id);
              }
              item.refused = true;
              item.error = e.body;
              return put(item);
            }
            if (fromForm(item)) {
              // Safe in the queue: the form is free for the next report.
              item.page = null;
              resetForm();
              return put(item).then(function () { say(T.queued, "bad"); });
            }
            say(T.queued, "bad");
          });
        });
      }, Promise.resolve());
    }).finally(function () {
      flushing = false;
      showQueue();
      // A report put in the queue during this pass goes now, not in 30 s.
      if (again) flush(); else $("submit").disabled = false;
    });
  }
  // A report refused while the form held another draft comes back once the form is free.
  function restoreRefused() {
    if (!empty()) return;
    return all().then(function (items) {
      var r = items.filter(function (i) { return i.refused; })[0];
      if (!r) return;
      restore(r.draft);
      window.zhili.error.clear(form);
      if (!window.zhili.error.show(form, r.error, msg)) say(T.refusedBack + window.zhili.error.text(r.error), "bad");
      return drop(r.id);
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    window.zhili.error.clear(form);
    if (!pos) { $("position-error").textContent = T.noPos; openMap(T.pinNow); return; }
    var body = { class_code: minor.value, lon: pos.lon, lat: pos.lat, description: $("description").value };
    if (pos.crs === "gcj02") body.crs = "gcj02";
    var item = { id: rid(), body: body, photos: files.slice(), photoIds: [], draft: draft(), inForm: true, page: PAGE };
    say(T.sending);
    $("submit").disabled = true;
    // The draft now lives in the queue's item (a reload sends it, not a second copy); a refusal
    // puts it back.
    clearTimeout(saveTimer);
    put(item).then(clearDraft).then(function () {
      // Older queued reports go first; this one's answer decides whether the form is cleared.
      return flush();
    });
  });

  // --- start: the classes, then the unsent draft (or GPS) ---
  fetch("/api/case-classes", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (cs) {
    classes = cs;
    var seen = {};
    cs.forEach(function (c) {
      if (!c.active || seen[c.major_code]) return;
      seen[c.major_code] = 1;
      major.add(new Option((c.kind === "event" ? (zh ? "事件·" : "Event·") : (zh ? "部件·" : "Component·")) + c.major_name, c.major_code));
    });
    fillMinor();
    return readDraft().then(function (d) {
      if (d && (d.description || (d.photos && d.photos.length) || d.pos)) {
        restore(d);
        say(T.restored, "good");
        if (!d.pos) locate();
      } else {
        locate();
      }
      form.dataset.ready = "1";
    });
    // Reports refused while the page was closed come back now; the rest are sent.
  }).then(restoreRefused).then(flush);
  window.addEventListener("online", flush);
  setInterval(flush, 30000);
})();

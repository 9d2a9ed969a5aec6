// Report a problem (上报) from a phone: class, photos from the camera, GPS position and a
// description. Reports go into a queue kept in the browser (IndexedDB) first, then are sent;
// one that cannot be sent now (no network) stays queued and is sent when the connection is
// back. Each report carries a random external_id, so a retry never files it twice.
(function () {
  "use strict";
  var form = document.getElementById("report");
  if (!form) return;
  var zh = form.dataset.lang !== "en";
  var T = zh
    ? { sent: "已上报，案件编号 ", queued: "网络不可用：已保存，联网后自动发送", waiting: "待发送：", none: "",
        noPos: "请先定位", locating: "定位中…", noGeo: "无法定位：", sending: "发送中…", dup: "附近有同类未结案件：",
        noGeoApi: "浏览器不支持定位", geo: { 1: "未允许使用位置", 2: "暂时无法获取位置", 3: "定位超时" } }
    : { sent: "Reported, case number ", queued: "Offline: saved, will be sent when back online", waiting: "Waiting to send: ",
        none: "", noPos: "Locate first", locating: "Locating…", noGeo: "Cannot locate: ", sending: "Sending…", dup: "Open cases of this kind nearby: ",
        noGeoApi: "this browser cannot locate", geo: { 1: "permission denied", 2: "position unavailable", 3: "timed out" } };
  var $ = function (id) { return document.getElementById(id); };
  var msg = $("report-msg"), qmsg = $("queue-msg");
  function say(text, cls) { msg.textContent = text; msg.className = cls || ""; }
  function rid() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  // --- the queue (IndexedDB) ---
  var dbp = new Promise(function (ok, fail) {
    var r = indexedDB.open("zhili-report", 1);
    r.onupgradeneeded = function () { r.result.createObjectStore("queue", { keyPath: "id" }); };
    r.onsuccess = function () { ok(r.result); };
    r.onerror = function () { fail(r.error); };
  });
  function tx(mode, fn) {
    return dbp.then(function (db) {
      return new Promise(function (ok, fail) {
        var t = db.transaction("queue", mode), s = t.objectStore("queue"), out = fn(s);
        t.oncomplete = function () { ok(out && out.result); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }
  var put = function (item) { return tx("readwrite", function (s) { return s.put(item); }); };
  var drop = function (id) { return tx("readwrite", function (s) { return s.delete(id); }); };
  var all = function () { return tx("readonly", function (s) { return s.getAll(); }); };

  function showQueue() {
    all().then(function (items) { qmsg.textContent = items.length ? T.waiting + items.length : T.none; });
  }

  var flushing = false;
  function send(item) {
    // Photos first (each remembered once uploaded), then the report.
    var i = item.photoIds.length;
    if (i < item.photos.length) {
      var p = item.photos[i];
      return fetch("/api/attachments", { method: "POST", credentials: "same-origin", headers: { "content-type": p.type }, body: p })
        .then(function (r) { return r.json().then(function (b) { return { r: r, b: b }; }); })
        .then(function (x) {
          if (!x.r.ok) throw { status: x.r.status, body: x.b };
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
  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    return all().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          return send(item).then(function (answer) {
            var d = answer.duplicates || [];
            say(T.sent + answer.case.id + (d.length ? "；" + T.dup + d.map(function (x) { return "#" + x.id; }).join(", ") : ""), "good");
            msg.dataset.caseId = answer.case.id;
            return drop(item.id);
          }, function (e) {
            if (e && e.status && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 408 && e.status !== 429) {
              // The server refused it: it will not succeed later either.
              // Its text (in the user's language) under the field at fault, else below the form.
              if (window.zhili.error.show(form, e.body, msg)) say("", "");
              else say(window.zhili.error.text(e.body), "bad");
              return drop(item.id);
            }
            say(T.queued, "bad");
          });
        });
      }, Promise.resolve());
    }).finally(function () { flushing = false; showQueue(); });
  }

  // --- the form ---
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
      if (seen[c.major_code]) return;
      seen[c.major_code] = 1;
      major.add(new Option((c.kind === "event" ? (zh ? "事件·" : "Event·") : (zh ? "部件·" : "Component·")) + c.major_name, c.major_code));
    });
    fillMinor();
  });
  major.addEventListener("change", fillMinor);

  var files = [];
  $("photos").addEventListener("change", function (e) {
    files = Array.prototype.slice.call(e.target.files, 0, 9);
    var box = $("previews");
    box.innerHTML = "";
    files.forEach(function (f) {
      var rd = new FileReader();
      rd.onload = function () { var img = new Image(); img.src = rd.result; img.alt = f.name; box.appendChild(img); };
      rd.readAsDataURL(f);
    });
  });

  function locate() {
    if (!navigator.geolocation) { say(T.noGeo + T.noGeoApi, "bad"); return; }
    $("position").textContent = T.locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      $("lon").value = p.coords.longitude.toFixed(7);
      $("lat").value = p.coords.latitude.toFixed(7);
      $("position").textContent = $("lon").value + ", " + $("lat").value + " (±" + Math.round(p.coords.accuracy) + " m)";
    }, function (e) { $("position").textContent = "—"; say(T.noGeo + (T.geo[e.code] || ""), "bad"); }, { enableHighAccuracy: true, timeout: 15000 });
  }
  $("locate").addEventListener("click", locate);
  locate();

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!$("lon").value) { say(T.noPos, "bad"); return; }
    var item = {
      id: rid(),
      body: { class_code: minor.value, lon: parseFloat($("lon").value), lat: parseFloat($("lat").value), description: $("description").value },
      photos: files,
      photoIds: []
    };
    say(T.sending);
    window.zhili.error.clear(form);
    put(item).then(function () {
      var keep = [$("lon").value, $("lat").value, major.value];
      form.reset();
      $("lon").value = keep[0];
      $("lat").value = keep[1];
      major.value = keep[2];
      files = [];
      $("previews").innerHTML = "";
      fillMinor();
      return flush();
    });
  });
  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  flush();
})();

// A case page (案件详情): summary, clock, photos, timeline, and a form for each command the
// user may give now (the server says which). Every form posts to the transitions API with the
// version read, so a concurrent change is refused rather than overwritten.
(function () {
  "use strict";
  var root = document.getElementById("case");
  if (!root) return;
  var id = root.dataset.id, zh = root.dataset.lang !== "en";
  var L = zh ? {
    file: "立案", void: "作废", dispatch: "派遣", accept: "签收", return: "回退", request_extension: "申请延期",
    decide_extension: "审批延期", respond: "反馈", verify: "核查", close: "结案", evaluate: "评价", reopen: "重新打开",
    shelve: "挂账", unshelve: "解除挂账", defer: "缓办", resume: "恢复办理", report: "上报",
    state: "状态", cls: "类别", address: "地址", position: "位置", grid: "网格", department: "处置部门", source: "来源",
    description: "描述", deadline: "时限", remaining: "剩余", overdue: "已超时", reported: "上报时间",
    before: "处置前", after: "处置后", checked: "核查照片", none: "暂无照片", photo: "照片", viewer: "照片查看",
    prev: "上一张", next: "下一张", closeViewer: "关闭", paused: "非工作时间，暂停计时", startsAt: "{t} 起计时",
    wday: "个工作日", day: "天", hour: "小时", minute: "分钟", underMinute: "不足 1 分钟",
    note: "说明", reason: "原因", photos: "照片", passed: "核查结果", yes: "通过", no: "不通过", approve: "审批",
    agree: "同意", reject: "不同意", minutes: "延长工作分钟", score: "满意度(1–5)", duplicate_of: "重复于案件编号",
    timeline: "处置记录", counters: "计数", contact: "联系方式", nothing: "当前无可执行操作", version: "版本",
    counter: { dispatches: "派遣", returns: "回退", reworks: "返工", extensions: "延期", reopens: "重新打开", deferrals: "缓办" },
    times: "次", done: "已完成",
    // Commands that cannot be taken back: asked again before they are sent (data-confirm).
    confirm: { void: "作废后案件不再处理，且不能恢复。确定作废此案件？", close: "结案后处置流程结束。确定结案？" }
  } : {
    file: "File", void: "Void", dispatch: "Dispatch", accept: "Accept", return: "Return", request_extension: "Request extension",
    decide_extension: "Decide extension", respond: "Respond", verify: "Verify", close: "Close", evaluate: "Evaluate", reopen: "Reopen",
    shelve: "Shelve", unshelve: "Unshelve", defer: "Defer", resume: "Resume", report: "Report",
    state: "State", cls: "Class", address: "Address", position: "Position", grid: "Grid", department: "Department", source: "Source",
    description: "Description", deadline: "Deadline", remaining: "Left:", overdue: "Overdue", reported: "Reported",
    before: "Before", after: "After", checked: "Verification", none: "No photos yet", photo: "Photo", viewer: "Photo viewer",
    prev: "Previous", next: "Next", closeViewer: "Close", paused: "paused outside working hours", startsAt: "counting from {t}",
    wday: "working day(s)", day: "d", hour: "h", minute: "min", underMinute: "under a minute",
    note: "Note", reason: "Reason", photos: "Photos", passed: "Result", yes: "Passed", no: "Failed", approve: "Decision",
    agree: "Approve", reject: "Reject", minutes: "Extra working minutes", score: "Satisfaction (1–5)", duplicate_of: "Duplicate of case",
    timeline: "Timeline", counters: "Counters", contact: "Contact", nothing: "Nothing to do now", version: "Version",
    counter: { dispatches: "dispatches", returns: "returns", reworks: "reworks", extensions: "extensions", reopens: "reopens", deferrals: "deferrals" },
    times: "", done: "done",
    confirm: { void: "A voided case is not handled and cannot be restored. Void this case?", close: "Closing ends the handling of this case. Close it?" }
  };
  // The fields each command takes: [name, kind] (kind: text, textarea, number, department, bool, photos).
  var FIELDS = {
    file: [["note", "text"]], void: [["reason", "textarea"], ["duplicate_of", "number"]],
    dispatch: [["department", "department"], ["note", "text"]], accept: [["note", "text"]], return: [["reason", "textarea"]],
    request_extension: [["extra_minutes", "number"], ["reason", "textarea"]], decide_extension: [["approve", "bool"], ["note", "text"]],
    respond: [["note", "textarea"], ["photos", "photos"]], verify: [["passed", "bool"], ["note", "text"], ["photos", "photos"]],
    close: [["note", "text"]], evaluate: [["score", "number"], ["note", "text"]], reopen: [["reason", "textarea"]],
    shelve: [["reason", "textarea"]], unshelve: [["note", "text"]], defer: [["reason", "textarea"]], resume: [["note", "text"]]
  };
  var $ = function (x) { return document.getElementById(x); };
  var msg = $("case-msg");
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  // Instants in the deployment's local time (data-utc-offset, minutes), one format everywhere:
  // 2026-03-05 09:30, the zone in the tooltip.
  var offset = Number(root.dataset.utcOffset || 0);
  var zone = "UTC" + (offset < 0 ? "-" : "+") + ("0" + Math.floor(Math.abs(offset) / 60)).slice(-2) + ":" + ("0" + Math.abs(offset) % 60).slice(-2);
  function local(s) {
    if (!s) return "";
    var d = new Date(new Date(s).getTime() + offset * 60000), p = function (n) { return ("0" + n).slice(-2); };
    return d.getUTCFullYear() + "-" + p(d.getUTCMonth() + 1) + "-" + p(d.getUTCDate()) + " " + p(d.getUTCHours()) + ":" + p(d.getUTCMinutes());
  }
  function time(s) { return s ? "<time datetime='" + esc(s) + "' title='" + zone + "'>" + local(s) + "</time>" : ""; }

  // A span of minutes as a person says it: working time in working days of day_minutes and
  // hours ("1 个工作日 3 小时"), natural time in days and hours.
  function span(m, basis, dayMinutes) {
    var day = basis === "working" ? dayMinutes || 480 : 1440, parts = [];
    var d = Math.floor(m / day), h = Math.floor((m % day) / 60), mi = m % 60;
    var unit = function (n, u) { return n + " " + u; };
    if (d) parts.push(unit(d, basis === "working" ? L.wday : L.day));
    if (h) parts.push(unit(h, L.hour));
    if (!d && mi) parts.push(unit(mi, L.minute));
    return parts.length ? parts.join(" ") : L.underMinute;
  }
  // The countdown of a running clock (倒计时) with its traffic light, from the case's clock as
  // read at `readAt`; moves on by itself while the clock runs.
  function countdown(k, readAt) {
    if (k.remaining_minutes == null) return null;
    var moved = k.running ? Math.floor((Date.now() - readAt) / 60000) : 0;
    var left = k.remaining_minutes - moved;
    var overdue = k.overdue || Date.now() > new Date(k.deadline).getTime();
    var light = overdue ? "red" : k.allowance_minutes <= 0 || left < 0.25 * k.allowance_minutes ? "yellow" : "green";
    var text = overdue ? L.overdue + (left < 0 ? " " + span(-left, k.basis, k.day_minutes) : "") : (zh ? "剩余 " : "Left: ") + span(Math.max(0, left), k.basis, k.day_minutes);
    var note = !k.running && !overdue ? (k.basis === "working" ? L.paused : L.startsAt.replace("{t}", local(k.changes_at))) : "";
    return { light: light, text: text, note: note };
  }
  var clock = null, clockReadAt = 0, clockTimer = null;
  function showClock() {
    var el = $("case-countdown");
    if (!el || !clock) return;
    var c = countdown(clock, clockReadAt);
    if (!c) return;
    el.className = "countdown light-" + c.light;
    el.dataset.light = c.light;
    el.innerHTML = "<span class=light-dot aria-hidden=true></span>" + esc(c.text) + (c.note ? " <small class=muted>(" + esc(c.note) + ")</small>" : "");
    // Working time starts or stops: read the clock again.
    if (clock.changes_at && Date.now() >= new Date(clock.changes_at).getTime()) {
      clock.changes_at = null;
      api("/api/cases/" + id).then(function (d) { clock = d.case.clock; clockReadAt = Date.now(); showClock(); }, function () {});
    }
  }
  function api(url, opts) {
    return fetch(url, Object.assign({ credentials: "same-origin" }, opts || {})).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw b; return b; });
    });
  }
  var departments = null;
  function loadDepartments() {
    if (!departments) departments = api("/api/departments?limit=1000").then(function (b) { return b.items || b; }).catch(function () { return []; });
    return departments;
  }
  function upload(files) {
    return Array.prototype.reduce.call(files, function (p, f) {
      return p.then(function (ids) {
        return api("/api/attachments", { method: "POST", headers: { "content-type": f.type }, body: f }).then(function (b) { return ids.concat([b.id]); });
      });
    }, Promise.resolve([]));
  }

  // The mini-map (小地图): the case's position on the grid outlines.
  var mini = null;
  function showMap(c) {
    var el = $("case-map");
    if (!el || !window.zhiliMiniMap) return;
    if (!mini) { mini = window.zhiliMiniMap(el, { center: [c.lon, c.lat], zoom: 16 }); window.zhiliCaseMap = mini.map; }
    mini.pin(c.lon, c.lat, "wgs84");
  }

  function render(d) {
    var c = d.case;
    // Names, not codes: the place (grid › village › township), departments and people, each
    // with its code in the tooltip.
    var place = (d.place || []).slice(0, 3);
    function named(code, names) {
      var n = names && names[code];
      return n ? "<span title='" + esc(code) + "'>" + esc(n) + "</span>" : "<span class=mono>" + esc(code) + "</span>";
    }
    showMap(c);
    var k = c.counters;
    $("case-summary").innerHTML = "<dl>" +
      "<dt>" + L.state + "</dt><dd id=case-state data-state=" + esc(c.state) + "><strong>" + esc(c.state_label) + "</strong> <span class=muted>" + L.version + " " + c.version + "</span></dd>" +
      "<dt>" + L.cls + "</dt><dd>" + esc(c.class_name) + " <span class=mono>" + esc(c.class_code) + "</span></dd>" +
      "<dt>" + L.description + "</dt><dd>" + esc(c.description) + "</dd>" +
      "<dt>" + L.address + "</dt><dd>" + esc(c.address) + "</dd>" +
      "<dt>" + L.position + "</dt><dd class=mono>" + c.lon.toFixed(6) + ", " + c.lat.toFixed(6) + "</dd>" +
      (place.length ? "<dt>" + L.grid + "</dt><dd id=case-place title='" + esc(c.grid || "") + "'>" + esc(place.map(function (p) { return p.name || p.code; }).join(" › ")) + "</dd>" :
        c.grid ? "<dt>" + L.grid + "</dt><dd class=mono>" + esc(c.grid) + "</dd>" : "") +
      (c.department ? "<dt>" + L.department + "</dt><dd id=case-department>" + named(c.department, d.department_names) + "</dd>" : "") +
      "<dt>" + L.source + "</dt><dd>" + esc(c.source_label) + "</dd>" +
      (c.contact ? "<dt>" + L.contact + "</dt><dd class=mono>" + esc(c.contact) + "</dd>" : "") +
      (c.clock.deadline ? "<dt>" + L.deadline + "</dt><dd>" + time(c.clock.deadline) + " <span id=case-countdown role=timer></span></dd>" : "") +
      "<dt>" + L.reported + "</dt><dd>" + time(c.reported_at) + "</dd>" +
      "<dt>" + L.counters + "</dt><dd id=case-counters>" + Object.keys(k).map(function (x) {
        return "<span title='" + esc(x) + "'>" + esc(L.counter[x] || x) + " " + k[x] + (L.times ? " " + L.times : "") + "</span>";
      }).join(" · ") + "</dd>" +
      "</dl>";
    clock = c.clock; clockReadAt = Date.now();
    showClock();
    if (!clockTimer) clockTimer = setInterval(showClock, 15000);
    showPhotos(c, d.timeline);
    $("case-timeline").innerHTML = "<h2>" + L.timeline + "</h2><ol class=timeline>" + d.timeline.map(function (e) {
      var extra = ["reason", "note", "department", "score", "extra_minutes"].filter(function (f) { return e.data[f] != null && e.data[f] !== ""; })
        .map(function (f) { return f === "department" ? named(e.data[f], d.department_names) : esc(e.data[f]); }).join(" · ");
      var verdict = e.data.passed === false ? " (" + L.no + ")" : e.data.approve === false ? " (" + L.reject + ")" : "";
      return "<li><strong>" + esc(L[e.command] || e.command) + verdict + "</strong> · " + named(e.actor, d.actor_names) + " · " + time(e.at) + (extra ? "<br>" + extra : "") + "</li>";
    }).join("") + "</ol>";
    var box = $("case-actions");
    box.className = "panel-box actions";
    box.innerHTML = d.allowed.length ? "" : "<p class=muted>" + L.nothing + "</p>";
    d.allowed.forEach(function (cmd) { box.appendChild(actionForm(cmd, c)); });
  }

  // Photos (照片): the report's 处置前, the department's response 处置后 side by side, and the
  // verification's; thumbnails open the viewer on the full image.
  var shown = [];
  function showPhotos(c, timeline) {
    var from = function (cmd) {
      var out = [];
      timeline.forEach(function (e) { if (e.command === cmd) (e.data.photos || []).forEach(function (p) { out.push("/api/attachments/" + p); }); });
      return out;
    };
    var sets = [["before", L.before, c.photos], ["after", L.after, from("respond")], ["verify", L.checked, from("verify")]];
    var box = $("case-photos");
    shown = [];
    box.hidden = !sets.some(function (x) { return x[2].length; });
    box.innerHTML = sets.filter(function (x) { return x[0] !== "verify" || x[2].length; }).map(function (x) {
      return "<figure class=photo-set data-set=" + x[0] + "><figcaption>" + esc(x[1]) + "</figcaption><div class=thumbs>" +
        (x[2].length ? x[2].map(function (u, i) {
          var n = shown.push({ url: u, label: x[1] + " " + (i + 1) + "/" + x[2].length }) - 1;
          return "<button type=button class=thumb data-index=" + n + " aria-label='" + esc(x[1] + " · " + L.photo + " " + (i + 1)) + "'>" +
            "<img src='" + esc(u) + "?size=thumb' alt='" + esc(x[1] + " " + (i + 1)) + "' loading=lazy></button>";
        }).join("") : "<p class=muted>" + L.none + "</p>") + "</div></figure>";
    }).join("");
    Array.prototype.forEach.call(box.querySelectorAll("button.thumb"), function (b) {
      b.addEventListener("click", function () { openViewer(Number(b.dataset.index), b); });
    });
  }
  var viewer = null, at = 0, opener = null;
  function buildViewer() {
    viewer = document.createElement("div");
    viewer.id = "photo-viewer";
    viewer.className = "photo-viewer";
    viewer.hidden = true;
    viewer.setAttribute("role", "dialog");
    viewer.setAttribute("aria-modal", "true");
    viewer.setAttribute("aria-label", L.viewer);
    viewer.innerHTML = "<figure><img alt=''><figcaption id=photo-viewer-caption></figcaption></figure>" +
      "<button type=button class=viewer-prev aria-label='" + L.prev + "'>‹</button>" +
      "<button type=button class=viewer-next aria-label='" + L.next + "'>›</button>" +
      "<button type=button class=viewer-close aria-label='" + L.closeViewer + "'>×</button>";
    document.body.appendChild(viewer);
    viewer.querySelector(".viewer-prev").addEventListener("click", function () { step(-1); });
    viewer.querySelector(".viewer-next").addEventListener("click", function () { step(1); });
    viewer.querySelector(".viewer-close").addEventListener("click", closeViewer);
    viewer.addEventListener("click", function (e) { if (e.target === viewer) closeViewer(); });
    viewer.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); closeViewer(); }
      else if (e.key === "ArrowRight") { e.preventDefault(); step(1); }
      else if (e.key === "ArrowLeft") { e.preventDefault(); step(-1); }
      else if (e.key === "Tab") {
        // Focus stays in the dialog.
        var bs = viewer.querySelectorAll("button"), first = bs[0], last = bs[bs.length - 1];
        if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
        else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
      }
    });
    var x0 = null;
    viewer.addEventListener("touchstart", function (e) { x0 = e.touches[0].clientX; }, { passive: true });
    viewer.addEventListener("touchend", function (e) {
      if (x0 == null) return;
      var dx = e.changedTouches[0].clientX - x0;
      x0 = null;
      if (Math.abs(dx) > 40) step(dx < 0 ? 1 : -1);
    });
  }
  function showAt(i) {
    at = (i + shown.length) % shown.length;
    var p = shown[at], img = viewer.querySelector("img");
    img.src = p.url;
    img.alt = p.label;
    viewer.dataset.index = at;
    $("photo-viewer-caption").textContent = p.label;
  }
  function step(d) { if (shown.length) showAt(at + d); }
  function openViewer(i, from) {
    if (!viewer) buildViewer();
    opener = from;
    showAt(i);
    viewer.hidden = false;
    document.body.classList.add("viewer-open");
    viewer.querySelector(".viewer-close").focus();
  }
  function closeViewer() {
    viewer.hidden = true;
    document.body.classList.remove("viewer-open");
    if (opener) opener.focus();
  }

  function actionForm(cmd, c) {
    var f = document.createElement("form");
    f.dataset.command = cmd;
    if (L.confirm[cmd]) f.dataset.confirm = L.confirm[cmd];
    var html = "";
    var described = function (name) { return " aria-describedby='err-" + cmd + "-" + name + "'"; };
    (FIELDS[cmd] || []).forEach(function (fd) {
      var name = fd[0], kind = fd[1], label = L[name] || L[name.replace("extra_", "")] || name, d = described(name);
      if (name === "extra_minutes") label = L.minutes;
      if (name === "approve") label = L.approve;
      if (kind === "textarea") html += "<textarea name=" + name + d + " rows=1 placeholder='" + esc(label) + "' aria-label='" + esc(label) + "'></textarea>";
      else if (kind === "number") html += "<input type=number name=" + name + d + " min=1 placeholder='" + esc(label) + "' aria-label='" + esc(label) + "'>";
      else if (kind === "bool") html += "<select name=" + name + d + " aria-label='" + esc(label) + "'><option value=true>" + (name === "passed" ? L.yes : L.agree) + "</option><option value=false>" + (name === "passed" ? L.no : L.reject) + "</option></select>";
      else if (kind === "department") html += "<select name=department" + d + " aria-label='" + esc(L.department) + "'></select>";
      else if (kind === "photos") html += "<input type=file name=photos" + d + " accept='image/jpeg,image/png,image/webp' capture=environment multiple aria-label='" + esc(L.photos) + "'>";
      else html += "<input name=" + name + d + " placeholder='" + esc(label) + "' aria-label='" + esc(label) + "'>";
    });
    (FIELDS[cmd] || []).forEach(function (fd) {
      html += "<span class=field-error id='err-" + cmd + "-" + fd[0] + "' data-for='" + fd[0] + "' role=alert></span>";
    });
    html += "<button type=submit name=go value=" + cmd + ">" + esc(L[cmd] || cmd) + "</button>";
    f.innerHTML = html;
    var dep = f.querySelector("select[name=department]");
    if (dep) loadDepartments().then(function (ds) { ds.forEach(function (x) { dep.add(new Option(x.name + " (" + x.code + ")", x.code)); }); });
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { version: c.version, command: cmd };
      var photosInput = f.querySelector("input[type=file]");
      Array.prototype.forEach.call(f.elements, function (el) {
        if (!el.name || el.type === "file" || el.type === "submit" || el.value === "") return;
        body[el.name] = el.tagName === "SELECT" && (el.value === "true" || el.value === "false") ? el.value === "true"
          : el.type === "number" ? Number(el.value) : el.value;
      });
      msg.textContent = "…";
      upload(photosInput ? photosInput.files : []).then(function (ids) {
        if (photosInput) body.photos = ids;
        return api("/api/cases/" + id + "/transitions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      }).then(function (d) { msg.textContent = ""; render(d); window.zhili.toast((L[cmd] || cmd) + (zh ? "：" : ": ") + L.done); }, function (err) {
        // The error's text in the user's language, under the field at fault.
        window.zhili.error.show(f, err, msg);
      });
    });
    return f;
  }

  api("/api/cases/" + id).then(render, function (err) { msg.textContent = window.zhili.error.text(err); });
})();

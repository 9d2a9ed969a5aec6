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
    description: "描述", deadline: "时限", remaining: "剩余工作分钟", overdue: "已超时", reported: "上报时间",
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
    description: "Description", deadline: "Deadline", remaining: "Working minutes left", overdue: "Overdue", reported: "Reported",
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
  function time(s) { return s ? new Date(s).toLocaleString(zh ? "zh-CN" : "en-GB", { hour12: false }) : ""; }
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
    showMap(c);
    var k = c.counters;
    $("case-summary").innerHTML = "<dl>" +
      "<dt>" + L.state + "</dt><dd id=case-state data-state=" + esc(c.state) + "><strong>" + esc(c.state_label) + "</strong> <span class=muted>" + L.version + " " + c.version + "</span></dd>" +
      "<dt>" + L.cls + "</dt><dd>" + esc(c.class_name) + " <span class=mono>" + esc(c.class_code) + "</span></dd>" +
      "<dt>" + L.description + "</dt><dd>" + esc(c.description) + "</dd>" +
      "<dt>" + L.address + "</dt><dd>" + esc(c.address) + "</dd>" +
      "<dt>" + L.position + "</dt><dd class=mono>" + c.lon.toFixed(6) + ", " + c.lat.toFixed(6) + "</dd>" +
      (c.grid ? "<dt>" + L.grid + "</dt><dd class=mono>" + esc(c.grid) + "</dd>" : "") +
      (c.department ? "<dt>" + L.department + "</dt><dd class=mono>" + esc(c.department) + "</dd>" : "") +
      "<dt>" + L.source + "</dt><dd>" + esc(c.source_label) + "</dd>" +
      (c.contact ? "<dt>" + L.contact + "</dt><dd class=mono>" + esc(c.contact) + "</dd>" : "") +
      (c.clock.deadline ? "<dt>" + L.deadline + "</dt><dd>" + time(c.clock.deadline) + " · " + L.remaining + " " + c.clock.remaining_working_minutes +
        (c.clock.overdue ? " <span class='badge bad'>" + L.overdue + "</span>" : "") + "</dd>" : "") +
      "<dt>" + L.reported + "</dt><dd>" + time(c.reported_at) + "</dd>" +
      "<dt>" + L.counters + "</dt><dd id=case-counters>" + Object.keys(k).map(function (x) {
        return "<span title='" + esc(x) + "'>" + esc(L.counter[x] || x) + " " + k[x] + (L.times ? " " + L.times : "") + "</span>";
      }).join(" · ") + "</dd>" +
      "</dl>";
    var photos = c.photos.slice();
    d.timeline.forEach(function (e) { (e.data.photos || []).forEach(function (p) { var u = "/api/attachments/" + p; if (photos.indexOf(u) < 0) photos.push(u); }); });
    $("case-photos").innerHTML = photos.map(function (u) { return "<a href='" + esc(u) + "'><img src='" + esc(u) + "' alt=''></a>"; }).join("");
    $("case-timeline").innerHTML = "<h2>" + L.timeline + "</h2><ol class=timeline>" + d.timeline.map(function (e) {
      var extra = ["reason", "note", "department", "score", "extra_minutes"].filter(function (f) { return e.data[f] != null && e.data[f] !== ""; })
        .map(function (f) { return f === "department" ? "<span class=mono>" + esc(e.data[f]) + "</span>" : esc(e.data[f]); }).join(" · ");
      var verdict = e.data.passed === false ? " (" + L.no + ")" : e.data.approve === false ? " (" + L.reject + ")" : "";
      return "<li><strong>" + esc(L[e.command] || e.command) + verdict + "</strong> · " + esc(e.actor) + " · " + time(e.at) + (extra ? "<br>" + extra : "") + "</li>";
    }).join("") + "</ol>";
    var box = $("case-actions");
    box.className = "panel-box actions";
    box.innerHTML = d.allowed.length ? "" : "<p class=muted>" + L.nothing + "</p>";
    d.allowed.forEach(function (cmd) { box.appendChild(actionForm(cmd, c)); });
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

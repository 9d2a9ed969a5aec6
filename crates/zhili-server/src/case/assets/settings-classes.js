// The case catalogue (案件分类) page: a table of every class grouped by major class, a search
// box, and for administrators a form editing one class. The whole edited catalogue is sent
// with PUT /api/case-classes and If-Match (the version read), so a concurrent edit is refused
// (409 stale_version) instead of lost. Spreadsheet import: a dry run first, then the import;
// every bad row and column the API names is listed. Errors are shown next to their field.
(function () {
  "use strict";
  var root = document.getElementById("settings-classes");
  if (!root) return;
  var zh = root.dataset.lang !== "en";
  var editable = root.dataset.edit === "true";
  var T = zh
    ? { event: "事件", component: "部件", territorial: "属地", normal: "一般", urgent: "紧急", yes: "是", no: "否",
        edit: "编辑", saved: "已保存", saving: "保存中…", stale: "分类已被他人修改，已重新载入，请再次编辑。",
        failed: "请求失败", busy: "处理中…", valid: "校验通过，分类数", imported: "已导入，分类数",
        errors: "错误（未写入任何数据）", row: "行", column: "列", problem: "问题", classes: "个分类",
        min: "分钟", hour: "小时", wmin: "工作分钟", whour: "工作时", wday: "工作日" }
    : { event: "Event", component: "Component", territorial: "Territorial (属地)", normal: "Normal", urgent: "Urgent", yes: "Yes", no: "No",
        edit: "Edit", saved: "Saved", saving: "Saving…", stale: "The catalogue was changed by someone else; reloaded, please edit again.",
        failed: "Request failed", busy: "Working…", valid: "Check passed, classes", imported: "Imported, classes",
        errors: "Errors (nothing was written)", row: "Row", column: "Column", problem: "Problem", classes: "classes",
        min: "min", hour: "h", wmin: "working min", whour: "working h", wday: "working days" };
  // Units of a limit as the form offers them: [key, label, serde unit, factor].
  var UNITS = [["min", T.min, "minutes", 1], ["hour", T.hour, "minutes", 60], ["wmin", T.wmin, "working_minutes", 1],
    ["whour", T.whour, "working_minutes", 60], ["wday", T.wday, "working_days", 1]];
  var STEPS = ["file", "dispatch", "handle", "verify"];
  // Catalogue problems name the column in Chinese; the form's field for each.
  var COLUMN_FIELD = { "小类名称": "name", "大类名称": "name", "立案条件": "filing_condition", "结案条件": "closing_condition",
    "立案时限": "limits.file", "派遣时限": "limits.dispatch", "处置时限": "limits.handle", "核查时限": "limits.verify" };
  var $ = function (id) { return document.getElementById(id); };
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }

  var classes = [], version = null, departments = {}, editing = -1;

  function limitParts(d) {
    if (d.unit === "working_days") return [d.value, "wday"];
    var hours = d.value % 60 === 0;
    if (d.unit === "minutes") return hours ? [d.value / 60, "hour"] : [d.value, "min"];
    return hours ? [d.value / 60, "whour"] : [d.value, "wmin"];
  }
  function limitText(d) {
    var p = limitParts(d);
    var u = UNITS.filter(function (x) { return x[0] === p[1]; })[0];
    return p[0] + (zh ? "" : " ") + u[1];
  }
  function deptText(rule) {
    if (rule.rule === "territorial") return T.territorial;
    return departments[rule.department] || rule.department;
  }

  function load() {
    return fetch("/api/case-classes", { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      version = (r.headers.get("etag") || "").replace(/^W\//, "").replace(/"/g, "") || null;
      return r.json();
    }).then(function (cs) { classes = cs; render(); });
  }

  function render() {
    var q = ($("class-search").value || "").trim().toLowerCase();
    var rows = [], lastMajor = null, shown = 0;
    classes.forEach(function (c, i) {
      var hay = [c.code, c.name, c.major_code, c.major_name, deptText(c.department), c.department.department || ""].join(" ").toLowerCase();
      if (q && hay.indexOf(q) < 0) return;
      shown++;
      if (c.major_code !== lastMajor) {
        lastMajor = c.major_code;
        rows.push("<tr class=major><th colspan=" + (editable ? 11 : 10) + ">" + esc(c.kind === "event" ? T.event : T.component) +
          " · <span class=mono>" + esc(c.major_code) + "</span> " + esc(c.major_name) + "</th></tr>");
      }
      rows.push("<tr data-code=\"" + esc(c.code) + "\"" + (c.active ? "" : " class=inactive") + "><td>" +
        esc(c.kind === "event" ? T.event : T.component) + "</td><td class=mono>" + esc(c.code) + "</td><td>" + esc(c.name) +
        "</td><td class=dept" + (c.department.department ? " title=\"" + esc(c.department.department) + "\"" : "") + ">" +
        esc(deptText(c.department)) + "</td>" +
        STEPS.map(function (s) { return "<td class=\"limit-" + s + "\">" + esc(limitText(c.limits[s])) + "</td>"; }).join("") +
        "<td>" + esc(c.urgency === "urgent" ? T.urgent : T.normal) + "</td><td>" + (c.active ? T.yes : T.no) + "</td>" +
        (editable ? "<td><button type=button class=edit data-index=" + i + ">" + T.edit + "</button></td>" : "") + "</tr>");
    });
    document.querySelector("#classes tbody").innerHTML = rows.join("");
    $("classes-count").textContent = (q ? shown + " / " : "") + classes.length + " " + T.classes;
  }

  $("class-search").addEventListener("input", render);

  // Departments for names in the table and the form's choice.
  var deptsLoaded = fetch("/api/departments?limit=1000", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : []; })
    .then(function (ds) { ds.forEach(function (d) { departments[d.code] = d.name; }); })
    .catch(function () {});
  deptsLoaded.then(load).catch(function (e) { $("classes-count").textContent = T.failed + ": " + e; });

  if (!editable) return;

  var form = $("class-form"), msg = $("class-msg");
  function clearErrors() { Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (e) { e.textContent = ""; }); }
  function fieldError(field, text) {
    var slot = form.querySelector(".field-error[data-for='" + field + "']");
    if (!slot) return false;
    slot.textContent = (slot.textContent ? slot.textContent + " " : "") + text;
    return true;
  }
  function fillSelects() {
    var dep = $("f-department");
    dep.innerHTML = "";
    dep.add(new Option(T.territorial, ""));
    Object.keys(departments).sort().forEach(function (code) { dep.add(new Option(departments[code] + " (" + code + ")", code)); });
    var urg = $("f-urgency");
    urg.innerHTML = "";
    urg.add(new Option(T.normal, "normal"));
    urg.add(new Option(T.urgent, "urgent"));
    STEPS.forEach(function (s) {
      var sel = $("f-unit-" + s);
      sel.innerHTML = "";
      UNITS.forEach(function (u) { sel.add(new Option(u[1], u[0])); });
    });
  }
  function open(i) {
    editing = i;
    var c = classes[i];
    fillSelects();
    clearErrors();
    msg.textContent = "";
    $("f-code").textContent = c.code + " · " + c.major_name;
    $("f-name").value = c.name;
    var dep = $("f-department");
    if (c.department.rule === "department" && !departments[c.department.department]) {
      dep.add(new Option(c.department.department, c.department.department));
    }
    dep.value = c.department.rule === "territorial" ? "" : c.department.department;
    $("f-urgency").value = c.urgency;
    $("f-active").checked = !!c.active;
    STEPS.forEach(function (s) {
      var p = limitParts(c.limits[s]);
      $("f-limit-" + s).value = p[0];
      $("f-unit-" + s).value = p[1];
    });
    $("f-filing").value = c.filing_condition || "";
    $("f-closing").value = c.closing_condition || "";
    form.hidden = false;
    form.scrollIntoView({ block: "nearest" });
    $("f-name").focus();
  }
  document.querySelector("#classes tbody").addEventListener("click", function (e) {
    var b = e.target.closest("button.edit");
    if (b) open(Number(b.dataset.index));
  });
  $("class-cancel").addEventListener("click", function () { form.hidden = true; editing = -1; });

  // The form as a class; a limit the browser cannot read is reported at its field.
  function edited(c) {
    var out = JSON.parse(JSON.stringify(c)), ok = true;
    out.name = $("f-name").value.trim();
    var dep = $("f-department").value;
    out.department = dep ? { rule: "department", department: dep } : { rule: "territorial" };
    out.urgency = $("f-urgency").value;
    out.active = $("f-active").checked;
    out.filing_condition = $("f-filing").value.trim();
    out.closing_condition = $("f-closing").value.trim();
    STEPS.forEach(function (s) {
      var n = Number($("f-limit-" + s).value);
      var u = UNITS.filter(function (x) { return x[0] === $("f-unit-" + s).value; })[0];
      if (!(n >= 1 && n <= 100000 && Math.floor(n) === n) || !u) {
        fieldError("limits." + s, zh ? "请填写 1 到 100000 的整数" : "Enter a whole number from 1 to 100000");
        ok = false;
        return;
      }
      out.limits[s] = { unit: u[2], value: n * u[3] };
    });
    return ok ? out : null;
  }

  // Show the API's problems: at the field they name for this class, else in the message.
  function showProblems(b) {
    var rest = [];
    (b.problems || []).forEach(function (p) {
      var mine = p.code === classes[editing].code || p.class === classes[editing].code;
      var f = p.problem === "bad_department" ? "department" : COLUMN_FIELD[p.field];
      if (!(mine && f && fieldError(f, p.message))) rest.push(p.message);
    });
    var e = b.error || {};
    var text = b.error ? window.zhili.error.text(b) : T.failed;
    if (!b.problems && e.field && fieldError(e.field, text)) return;
    msg.className = "bad";
    msg.textContent = text + (rest.length ? " — " + rest.join("; ") : "");
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (editing < 0) return;
    clearErrors();
    var c = edited(classes[editing]);
    if (!c) return;
    var next = classes.slice();
    next[editing] = c;
    msg.className = "";
    msg.textContent = T.saving;
    var headers = { "content-type": "application/json" };
    if (version) headers["if-match"] = "\"" + version + "\"";
    fetch("/api/case-classes", {
      method: "PUT", credentials: "same-origin", headers: headers, body: JSON.stringify({ classes: next })
    }).then(function (r) {
      return r.json().then(function (b) { return { status: r.status, body: b }; });
    }).then(function (res) {
      if (res.status === 200) {
        classes = next;
        version = res.body.version || version;
        render();
        form.hidden = true;
        var code = c.code;
        editing = -1;
        msg.className = "good";
        msg.textContent = T.saved;
        var row = document.querySelector("#classes tr[data-code='" + code + "']");
        if (row) row.classList.add("just-saved");
        return;
      }
      if (res.status === 409) {
        msg.className = "bad";
        msg.textContent = T.stale;
        var code2 = classes[editing].code;
        load().then(function () {
          var i = classes.map(function (x) { return x.code; }).indexOf(code2);
          if (i >= 0) {
            open(i);
            msg.className = "bad";
            msg.textContent = T.stale;
          } else {
            form.hidden = true;
            editing = -1;
          }
        });
        return;
      }
      showProblems(res.body);
    }).catch(function (err) {
      msg.className = "bad";
      msg.textContent = T.failed + ": " + err;
    });
  });

  // Spreadsheet import: check (dry run), then import.
  var imp = $("import-form"), out = $("import-report");
  imp.addEventListener("submit", function (e) {
    e.preventDefault();
    var file = $("import-file").files[0];
    if (!file) return;
    var dry = !(e.submitter && e.submitter.value === "run");
    var csv = /\.csv$/i.test(file.name);
    var headers = { "content-type": csv ? "text/csv" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" };
    if (version) headers["if-match"] = "\"" + version + "\"";
    out.className = "";
    out.textContent = T.busy;
    fetch("/api/case-classes?dry_run=" + dry, { method: "PUT", credentials: "same-origin", headers: headers, body: file })
      .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); })
      .then(function (res) {
        var b = res.body;
        if (res.status === 200) {
          out.className = "good";
          out.innerHTML = "<p><strong>" + (dry ? T.valid : T.imported) + ": " + esc(b.classes) + "</strong></p>";
          if (!dry) load();
          return;
        }
        out.className = "bad";
        var ps = b.problems || [];
        out.innerHTML = "<p>" + esc(b.error ? window.zhili.error.text(b) : T.failed + " (" + res.status + ")") + "</p>" + (ps.length
          ? "<h3 class=bad>" + T.errors + " (" + ps.length + ")</h3><table><thead><tr><th>" + T.row + "</th><th>" + T.column +
            "</th><th>" + T.problem + "</th></tr></thead><tbody>" + ps.map(function (p) {
              var rowText = p.row != null ? p.row : (p.rows || []).join(", ");
              var col = p.column || (p.problem && p.problem.field) || "";
              var text = p.message || p.kind || "";
              return "<tr><td>" + esc(rowText) + "</td><td>" + esc(col) + "</td><td>" + esc(text) + "</td></tr>";
            }).join("") + "</tbody></table>"
          : "");
      })
      .catch(function (err) { out.className = "bad"; out.textContent = T.failed + ": " + err; });
  });
})();

// The flood pages: the duty screen refreshes itself and raises by judgement; the station page
// draws its series (ECharts) and lists its raw frames; the warning page's acknowledgement and
// the duty officer's decisions. Errors are shown by window.zhili.error.
(function () {
  var zh = (document.documentElement.lang || "zh-CN").indexOf("zh") === 0;
  function $(id) { return document.getElementById(id); }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function api(url, opts) {
    return fetch(url, Object.assign({ credentials: "same-origin" }, opts || {})).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw b; return b; });
    });
  }
  function post(url, body) {
    return api(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });
  }
  // Under the field the error names inside `root`, else in `msg`.
  function showError(err, root, msg) {
    if (window.zhili && window.zhili.error) window.zhili.error.show(root, err, msg || root);
    else if (msg) msg.textContent = (err && err.error && err.error.text) || String(err);
  }

  // Duty screen (值班督办): reload every N seconds unless someone is typing.
  var duty = $("flood-duty");
  if (duty) {
    var seconds = parseInt(duty.dataset.refresh || "30", 10);
    setInterval(function () {
      var a = document.activeElement;
      if (a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA")) return;
      location.reload();
    }, seconds * 1000);
    var form = $("raise-form");
    if (form) form.addEventListener("submit", function (e) {
      e.preventDefault();
      var f = new FormData(form);
      post("/api/flood/warnings", { village: f.get("village"), grade: f.get("grade"), note: f.get("note") || "" })
        .then(function (d) { location.href = "/flood/warnings/" + d.warning.id; }, function (err) { showError(err, form, $("raise-village-error")); });
    });
    var storm = $("storm-form");
    if (storm) storm.addEventListener("submit", function (e) {
      e.preventDefault();
      var f = new FormData(storm), msg = $("storm-msg");
      post("/api/flood/demo/storm", { hours: parseInt(f.get("hours"), 10), speed: parseFloat(f.get("speed")) })
        .then(function (d) { msg.textContent = d.message; }, function (err) { showError(err, storm, msg); });
    });
  }

  // Villages page: indicators imported from a spreadsheet (a check first, or straight in).
  var indForm = $("indicators-form");
  if (indForm) {
    var mode = "check";
    Array.prototype.forEach.call(indForm.querySelectorAll("button[name=mode]"), function (b) {
      b.addEventListener("click", function () { mode = b.value; });
    });
    indForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var file = $("indicators-file").files[0], report = $("indicators-report");
      if (!file) return;
      var type = /\.csv$/i.test(file.name) ? "text/csv" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
      report.className = "";
      report.textContent = zh ? "处理中…" : "Working…";
      fetch("/api/flood/indicators" + (mode === "check" ? "?dry_run=true" : ""), { method: "PUT", credentials: "same-origin", headers: { "content-type": type }, body: file })
        .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, b: b }; }); })
        .then(function (x) {
          if (x.ok) {
            report.className = "good";
            var n = x.b.villages;
            report.innerHTML = "<p>" + esc(mode === "check" ? (zh ? "检查通过：" + n + " 个村" : "Checked: " + n + " villages") : (zh ? "已导入 " + n + " 个村的预警指标" : "Indicators of " + n + " villages imported")) + "</p>" +
              (x.b.notices || []).map(function (t) { return "<p class=muted>" + esc(t) + "</p>"; }).join("");
          } else {
            report.className = "bad";
            var rows = (x.b.problems || []).map(function (p) {
              return "<tr><td>" + esc(p.row || "") + "</td><td>" + esc(p.column || "") + "</td><td>" + esc(p.message) + "</td></tr>";
            }).join("");
            report.innerHTML = "<p>" + esc((x.b.error && (x.b.error.text || x.b.error.message)) || "") + "</p>" + (rows ? "<table><tbody>" + rows + "</tbody></table>" : "");
          }
        }, function (err) { report.className = "bad"; report.textContent = String(err); });
    });
  }

  // Station page: the series of the chosen element and the raw frames.
  var station = $("flood-station");
  if (station && window.echarts) {
    var code = station.dataset.code;
    var chart = echarts.init($("station-chart"));
    var element = $("series-element"), hours = $("series-hours"), msg = $("series-msg");
    function load() {
      var to = new Date(), from = new Date(to.getTime() - parseInt(hours.value, 10) * 3600 * 1000);
      var q = "?element=" + encodeURIComponent(element.value) + "&from=" + encodeURIComponent(from.toISOString()) + "&to=" + encodeURIComponent(to.toISOString());
      api("/api/flood/stations/" + encodeURIComponent(code) + "/observations" + q).then(function (values) {
        var rain = element.value.indexOf("rain_") === 0 && element.value !== "rain_counter";
        var data = values.map(function (o) { return [o.observed_at, o.value]; });
        msg.textContent = values.length ? "" : (zh ? "该时段无数据" : "No values in this span");
        chart.setOption({
          animation: false, grid: { left: 50, right: 20, top: 20, bottom: 40 }, tooltip: { trigger: "axis" },
          xAxis: { type: "time" }, yAxis: { type: "value", name: rain ? "mm" : (element.value === "level" ? "m" : "") },
          series: [{ type: rain ? "bar" : "line", data: data, showSymbol: false, name: element.value }]
        }, true);
      }, function (err) { showError(err, null, msg); });
      api("/api/flood/stations/" + encodeURIComponent(code) + "/frames" + "?from=" + encodeURIComponent(from.toISOString()) + "&to=" + encodeURIComponent(to.toISOString()) + "&limit=100").then(function (frames) {
        var body = document.querySelector("#frames tbody");
        body.innerHTML = frames.map(function (f) {
          return "<tr><td>" + f.id + "</td><td>" + esc(new Date(f.received_at).toLocaleString()) + "</td><td class=mono>" + esc(f.function) +
            "H</td><td>" + f.serial + "</td><td>" + esc(new Date(f.observed_at).toLocaleString()) + "</td><td class=mono>" + esc(f.peer) +
            "</td><td class='mono frame'>" + esc(f.hex) + "</td></tr>";
        }).join("");
      }, function (err) { showError(err, null, msg); });
    }
    element.addEventListener("change", load);
    hours.addEventListener("change", load);
    window.addEventListener("resize", function () { chart.resize(); });
    load();
  }

  // Warning page: acknowledge, issue the public warning, lift.
  var warning = $("flood-warning");
  if (warning) {
    var id = warning.dataset.id, slot = $("action-error");
    Array.prototype.forEach.call(document.querySelectorAll("#warning-actions button[data-action]"), function (b) {
      b.addEventListener("click", function () {
        var action = b.dataset.action;
        var ask = b.dataset.confirm && window.zhili && window.zhili.confirm ? window.zhili.confirm(b.dataset.confirm) : Promise.resolve(true);
        ask.then(function (ok) {
          if (!ok) return;
          b.disabled = true;
          post("/api/flood/warnings/" + id + "/" + action, action === "ack" ? { text: zh ? "收到" : "Received" } : {})
            .then(function () { location.reload(); }, function (err) { b.disabled = false; showError(err, null, slot); });
        });
      });
    });
  }
})();

// The performance dashboard (考核统计): the national figures of the closed loop for a period,
// with month-on-month (环比) and year-on-year (同比) changes, a monthly trend, a breakdown by the
// chosen grouping and by major class, and the table behind them (CSV/XLSX from the same API).
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || !window.echarts) return;
  var zh = root.dataset.lang !== "en";
  var T = zh ? {
    reported: "上报数", filed: "立案数", dispatched: "派遣数", due: "应结案数", closed: "结案数", closed_on_time: "按期结案数",
    reworked: "返工数", extended: "延期数", deferred: "缓办数", dispatched_right: "准确派遣数",
    closure_rate: "结案率", on_time_rate: "按期结案率", rework_rate: "返工率", extension_rate: "延期率",
    accurate_dispatch_rate: "准确派遣率", avg_handling_hours: "平均处置时长(小时)", mom: "环比", yoy: "同比",
    trend: "月度趋势", byGroup: "分组结案率", byMajor: "大类构成", key: "分组", name: "名称", none: "（无）", loading: "数据加载中…", open: "查看这些案件"
  } : {
    reported: "Reported", filed: "Filed", dispatched: "Dispatched", due: "Due", closed: "Closed", closed_on_time: "Closed on time",
    reworked: "Reworked", extended: "Extended", deferred: "Deferred", dispatched_right: "Dispatched right",
    closure_rate: "Closure rate", on_time_rate: "On-time rate", rework_rate: "Rework rate", extension_rate: "Extension rate",
    accurate_dispatch_rate: "Accurate dispatch", avg_handling_hours: "Avg handling (h)", mom: "MoM", yoy: "YoY",
    trend: "Monthly trend", byGroup: "Closure rate by group", byMajor: "By major class", key: "Key", name: "Name", none: "(none)", loading: "Loading…", open: "Open these cases"
  };
  var $ = function (id) { return document.getElementById(id); };
  var charts = {
    trend: echarts.init($("chart-trend")), group: echarts.init($("chart-group")), major: echarts.init($("chart-major"))
  };
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  window.zhiliCharts = charts;
  Object.keys(charts).forEach(function (k) { charts[k].setOption({ animation: false }); });

  function iso(d) { return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0"); }
  var now = new Date();
  $("dash-from").value = iso(new Date(now.getFullYear(), now.getMonth() - 11, 1));
  $("dash-to").value = iso(new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1));

  function pct(x) { return x == null ? "—" : (x * 100).toFixed(2) + "%"; }
  function num(x) { return x == null ? "—" : String(x); }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function params(extra) {
    var g = $("dash-group").value;
    var q = { from: $("dash-from").value, to: $("dash-to").value };
    if (g === "grid1") { q.group = "grid"; q.grid_level = 1; } else { q.group = g; }
    Object.keys(extra || {}).forEach(function (k) { q[k] = extra[k]; });
    return Object.keys(q).map(function (k) { return k + "=" + encodeURIComponent(q[k]); }).join("&");
  }
  function get(q) {
    return fetch("/api/case-metrics?" + q, { credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw b; return b; });
    });
  }
  var MIN_BASE = 20;
  function delta(cur, old, rate) {
    if (cur == null || old == null) return "—";
    if (rate) return ((cur - old) * 100 >= 0 ? "+" : "") + ((cur - old) * 100).toFixed(2) + "pt";
    // Against a base too small for a percentage (an almost empty earlier period), the absolute
    // change says more: "+2037" rather than "+2037244.4%".
    if (old < MIN_BASE) return (cur - old >= 0 ? "+" : "") + (cur - old);
    var d = (cur - old) / old * 100;
    return (d >= 0 ? "+" : "") + d.toFixed(1) + "%";
  }
  function kpis(m) {
    var cards = [["filed", false], ["dispatched", false], ["due", false], ["closed", false], ["closure_rate", true],
      ["on_time_rate", true], ["rework_rate", true], ["extension_rate", true], ["accurate_dispatch_rate", true], ["avg_handling_hours", true]];
    $("kpis").innerHTML = cards.map(function (c) {
      var k = c[0], rate = c[1], hours = k === "avg_handling_hours";
      var pick = function (p) { return rate ? p.rates[k] : p.tally[k]; };
      var v = pick(m.total);
      var shown = hours ? (v == null ? "—" : v.toFixed(1)) : rate ? pct(v) : num(v);
      // A rate of a period with a handful of cases is noise: no change against it.
      var change = function (p) { return hours || (rate && p.tally.filed < MIN_BASE) ? "—" : delta(v, pick(p), rate); };
      return "<div class=kpi data-k=" + k + "><div class=n>" + T[k] + "</div><div class=v>" + shown + "</div><div class=d>" +
        T.mom + " " + change(m.previous) + " · " + T.yoy + " " + change(m.last_year) + "</div></div>";
    }).join("");
  }
  // The worklist behind a row of the table (a leader drills down from a figure to its cases):
  // the same period, narrowed to the row's department, division, grid, class or date. Rows of
  // a grouping the worklist cannot narrow by (reporters, level-1 grid roll-ups) get no link.
  function drill(key) {
    var g = $("dash-group").value, from = $("dash-from").value, to = $("dash-to").value;
    if (!key) return null;
    var q = { from: from, to: to };
    var field = { department: "department", township: "within", village: "within", grid: "grid", major: "class", "class": "class" }[g];
    if (field) {
      q[field] = key;
    } else if (g === "month" || g === "day") {
      var start = g === "month" ? key + "-01" : key;
      var d = new Date(start + "T00:00:00");
      if (isNaN(d.getTime())) return null;
      var next = g === "month" ? new Date(d.getFullYear(), d.getMonth() + 1, 1) : new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1);
      q.from = start > from ? start : from;
      q.to = iso(next) < to ? iso(next) : to;
    } else {
      return null;
    }
    return "/cases?" + Object.keys(q).filter(function (k) { return q[k]; })
      .map(function (k) { return k + "=" + encodeURIComponent(q[k]); }).join("&");
  }
  function table(m) {
    var cols = ["reported", "filed", "dispatched", "due", "closed", "closed_on_time", "reworked", "extended", "deferred", "dispatched_right"];
    var rates = ["closure_rate", "on_time_rate", "rework_rate", "extension_rate", "accurate_dispatch_rate"];
    $("dash-table").innerHTML = "<thead><tr><th>" + T.key + "</th><th>" + T.name + "</th>" +
      cols.concat(rates).map(function (c) { return "<th>" + T[c] + "</th>"; }).join("") + "</tr></thead><tbody>" +
      m.rows.map(function (r) {
        var link = drill(r.key);
        var label = esc(r.label || T.none);
        return "<tr><td class=mono>" + esc(r.key) + "</td><td>" + (link ? "<a class=drill href=\"" + esc(link) + "\" title=\"" + T.open + "\">" + label + "</a>" : label) + "</td>" +
          cols.map(function (c) { return "<td>" + r.tally[c] + "</td>"; }).join("") +
          rates.map(function (c) { return "<td>" + pct(r.rates[c]) + "</td>"; }).join("") + "</tr>";
      }).join("") + "</tbody>";
  }
  // Each figure waits visibly for its data: the charts with ECharts' own spinner, the figures
  // and the table with a line that says so (aria-busy for screen readers).
  function busy(on) {
    Object.keys(charts).forEach(function (k) { if (on) charts[k].showLoading({ text: T.loading, color: "#b42318", textColor: "#616e7c" }); else charts[k].hideLoading(); });
    ["kpis", "dash-table"].forEach(function (id) { if (on) $(id).setAttribute("aria-busy", "true"); else $(id).removeAttribute("aria-busy"); });
    if (on) {
      $("kpis").innerHTML = "<div class='loading kpi-loading' id=kpis-loading>" + T.loading + "</div>";
      $("dash-table").innerHTML = "";
    }
  }
  function show() {
    $("dash-msg").textContent = "";
    busy(true);
    $("dash-csv").href = "/api/case-metrics?" + params({ format: "csv" });
    $("dash-xlsx").href = "/api/case-metrics?" + params({ format: "xlsx" });
    var base = "from=" + $("dash-from").value + "&to=" + $("dash-to").value;
    Promise.all([get(params()), get(base + "&group=month"), get(base + "&group=major")]).then(function (res) {
      var m = res[0], trend = res[1], major = res[2];
      busy(false);
      $("dash-msg").textContent = m.total.from + " – " + m.total.to;
      kpis(m);
      table(m);
      charts.trend.setOption({
        title: { text: T.trend, left: 8, top: 6, textStyle: { fontSize: 14 } }, tooltip: { trigger: "axis" },
        legend: { top: 6, right: 8 }, grid: { left: 48, right: 48, top: 44, bottom: 28 },
        xAxis: { type: "category", data: trend.rows.map(function (r) { return r.key; }) },
        yAxis: [{ type: "value" }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
        series: [
          { name: T.filed, type: "bar", data: trend.rows.map(function (r) { return r.tally.filed; }) },
          { name: T.closed, type: "bar", data: trend.rows.map(function (r) { return r.tally.closed; }) },
          { name: T.closure_rate, type: "line", yAxisIndex: 1, data: trend.rows.map(function (r) { return r.rates.closure_rate == null ? null : +(r.rates.closure_rate * 100).toFixed(2); }) }
        ]
      }, true);
      var top = m.rows.slice().sort(function (a, b) { return b.tally.reported - a.tally.reported; }).slice(0, 15);
      charts.group.setOption({
        title: { text: T.byGroup, left: 8, top: 6, textStyle: { fontSize: 14 } }, tooltip: { trigger: "axis" },
        grid: { left: 110, right: 24, top: 40, bottom: 24 },
        xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        yAxis: { type: "category", data: top.map(function (r) { return r.label || r.key || T.none; }), axisLabel: { width: 100, overflow: "truncate" } },
        series: [{ name: T.closure_rate, type: "bar", data: top.map(function (r) { return r.rates.closure_rate == null ? 0 : +(r.rates.closure_rate * 100).toFixed(2); }) }]
      }, true);
      // A bar opens its cases, as its table row does.
      charts.group.off("click");
      charts.group.on("click", function (p) {
        var link = top[p.dataIndex] && drill(top[p.dataIndex].key);
        if (link) window.location.href = link;
      });
      charts.major.setOption({
        title: { text: T.byMajor, left: 8, top: 6, textStyle: { fontSize: 14 } }, tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "65%"], top: 24, data: major.rows.map(function (r) { return { name: r.label || r.key, value: r.tally.reported }; }) }]
      }, true);
    }, function (err) {
      busy(false);
      $("kpis").innerHTML = "";
      // In the user's language, under the date (or other field) at fault.
      window.zhili.error.show($("dash-form"), err, $("dash-msg"));
    });
  }
  $("dash-form").addEventListener("submit", function (e) { e.preventDefault(); show(); });
  show();
})();

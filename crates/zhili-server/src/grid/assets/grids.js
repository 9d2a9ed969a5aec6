// Grid import (网格导入) from the web: send the chosen file to /api/grids/import, first to
// validate (dry run), then to import; show the report, naming every bad feature.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) return;
  var out = document.getElementById("import-report");
  var zh = document.documentElement.lang !== "en";
  var T = zh
    ? { valid: "校验通过的网格", imported: "已导入", errors: "错误（未写入任何数据）", warnings: "提示",
        feature: "要素", code: "编码", problem: "问题", busy: "处理中…", failed: "请求失败", none: "无" }
    : { valid: "Grids that passed", imported: "Imported", errors: "Errors (nothing was written)", warnings: "Warnings",
        feature: "Feature", code: "Code", problem: "Problem", busy: "Working…", failed: "Request failed", none: "None" };
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function table(title, rows, cls) {
    if (!rows.length) return "";
    return "<h3 class=" + cls + ">" + title + " (" + rows.length + ")</h3><table><thead><tr><th>" + T.feature +
      "</th><th>" + T.code + "</th><th>" + T.problem + "</th></tr></thead><tbody>" +
      rows.map(function (p) {
        return "<tr><td>" + esc(p.feature || "") + "</td><td class=mono>" + esc(p.code || "") + "</td><td>" + esc(p.text || p.message) + "</td></tr>";
      }).join("") + "</tbody></table>";
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var file = document.getElementById("import-file").files[0];
    if (!file) return;
    var dry = !(e.submitter && e.submitter.value === "run");
    var gpkg = /\.gpkg$/i.test(file.name);
    out.className = "";
    out.textContent = T.busy;
    fetch("/api/grids/import?dry_run=" + dry, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": gpkg ? "application/geopackage+sqlite3" : "application/json" },
      body: file
    }).then(function (r) {
      return r.json().then(function (b) { return { status: r.status, body: b }; });
    }).then(function (res) {
      var b = res.body;
      var report = b.report || (res.status === 200 ? b : null);
      if (!report) {
        out.className = "bad";
        out.textContent = T.failed + ": " + window.zhili.error.text(b);
        return;
      }
      out.className = report.errors.length ? "bad" : "good";
      out.innerHTML = "<p><strong>" + T.valid + ": " + report.valid + "</strong>" +
        (report.imported ? " · " + T.imported + ": " + report.imported : "") + "</p>" +
        table(T.errors, report.errors, "bad") + table(T.warnings, report.warnings, "warn");
    }).catch(function (err) {
      out.className = "bad";
      out.textContent = T.failed + ": " + err;
    });
  });
})();

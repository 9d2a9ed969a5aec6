// The worklist (案件工作台): pick cases on the page and file, dispatch or accept them at once.
// Each picked case is sent with the version shown, so a case changed meanwhile is refused on its
// own (the others go through); every refusal is shown on its row with the server's reason.
(function () {
  "use strict";
  var table = document.getElementById("worklist"), form = document.getElementById("bulk");
  if (!table || !form) return;
  var zh = table.dataset.lang !== "en";
  var msg = document.getElementById("bulk-msg"), count = document.getElementById("bulk-count");
  var all = document.getElementById("pick-all");
  var dept = form.elements.department;
  function picks() { return Array.prototype.slice.call(table.querySelectorAll("input.pick:checked")); }
  function refresh() {
    var n = picks().length;
    form.hidden = n === 0;
    count.textContent = zh ? "已选 " + n + " 件" : n + " selected";
    dept.hidden = form.elements.command.value !== "dispatch";
  }
  table.addEventListener("change", refresh);
  form.elements.command.addEventListener("change", refresh);
  if (all) all.addEventListener("change", function () {
    table.querySelectorAll("input.pick").forEach(function (c) { c.checked = all.checked; });
    refresh();
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var rows = picks().map(function (c) { return c.closest("tr"); });
    var body = {
      command: form.elements.command.value,
      note: form.elements.note.value,
      cases: rows.map(function (r) { return { id: Number(r.dataset.id), version: Number(r.dataset.version) }; })
    };
    if (body.command === "dispatch") body.department = dept.value;
    msg.className = "msg";
    msg.textContent = zh ? "提交中…" : "Sending…";
    fetch("/api/cases/bulk-transitions", {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw b; return b; });
    }).then(function (b) {
      b.results.forEach(function (res) {
        var row = table.querySelector('tr[data-id="' + res.id + '"]');
        if (!row) return;
        var old = row.querySelector(".bulk-error");
        if (old) old.remove();
        if (res.ok) {
          row.dataset.version = res.version;
          row.classList.add("done");
          row.querySelector("input.pick").checked = false;
        } else {
          var e = document.createElement("div");
          e.className = "bulk-error bad";
          e.textContent = window.zhili.error.text({ error: res.error });
          row.querySelector(".state").appendChild(e);
        }
      });
      msg.className = b.refused ? "msg bad" : "msg ok";
      msg.textContent = zh ? "完成 " + b.done + " 件，未通过 " + b.refused + " 件" + (b.done ? "；刷新页面查看最新状态" : "")
        : b.done + " done, " + b.refused + " refused" + (b.done ? "; reload for the new states" : "");
      refresh();
    }).catch(function (b) {
      msg.className = "msg bad";
      msg.textContent = window.zhili.error.text(b);
    });
  });
  refresh();
})();

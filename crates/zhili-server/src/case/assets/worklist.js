// The worklist (案件工作台): pick cases on the page and file, dispatch or accept them at once.
// Each picked case is sent with the version shown, so a case changed meanwhile is refused on its
// own (the others go through); every refusal is shown on its row with the server's reason.
// The bulk bar shows only while something is picked; a bulk action is confirmed first, and
// afterwards the list is fetched again in place (same filter and page), so the rows show their
// new states (or leave a queue they no longer belong to) without reloading the page.
(function () {
  "use strict";
  var table = document.getElementById("worklist"), form = document.getElementById("bulk");
  if (!table || !form) return;
  var zh = table.dataset.lang !== "en";
  var msg = document.getElementById("bulk-msg"), count = document.getElementById("bulk-count");
  var region = document.getElementById("worklist-region");
  var dept = form.elements.department;
  function picks() { return Array.prototype.slice.call(table.querySelectorAll("input.pick:checked")); }
  function all() { return document.getElementById("pick-all"); }
  function refresh() {
    var n = picks().length, a = all(), boxes = table.querySelectorAll("input.pick");
    form.hidden = n === 0;
    count.textContent = zh ? "已选 " + n + " 件" : n + " selected";
    dept.hidden = form.elements.command.value !== "dispatch";
    if (a) {
      a.checked = n > 0 && n === boxes.length;
      a.indeterminate = n > 0 && n < boxes.length;
    }
  }
  region.addEventListener("change", function (e) {
    if (e.target && e.target.id === "pick-all") {
      table.querySelectorAll("input.pick").forEach(function (c) { c.checked = e.target.checked; });
    }
    refresh();
  });
  form.elements.command.addEventListener("change", refresh);

  // The list again, as the server renders it now for this address: rows, total, pager.
  function reload() {
    region.classList.add("refreshing");
    region.setAttribute("aria-busy", "true");
    return fetch(window.location.href, { credentials: "same-origin", headers: { accept: "text/html" } }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      ["worklist-region", "worklist-total", "worklist-pager"].forEach(function (id) {
        var now = document.getElementById(id), fresh = doc.getElementById(id);
        if (now && fresh) now.innerHTML = fresh.innerHTML;
      });
      table = document.getElementById("worklist");
    }).finally(function () {
      region.classList.remove("refreshing");
      region.removeAttribute("aria-busy");
    });
  }

  function mark(results) {
    results.forEach(function (res) {
      var row = table.querySelector('tr[data-id="' + res.id + '"]');
      if (!row) return;
      var old = row.querySelector(".bulk-error");
      if (old) old.remove();
      if (res.ok) {
        row.classList.add("done");
      } else {
        var e = document.createElement("div");
        e.className = "bulk-error";
        e.textContent = window.zhili.error.text({ error: res.error });
        row.querySelector(".state").appendChild(e);
      }
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var rows = picks().map(function (c) { return c.closest("tr"); });
    if (!rows.length) return;
    var command = form.elements.command;
    var label = command.options[command.selectedIndex].text;
    var body = {
      command: command.value,
      note: form.elements.note.value,
      cases: rows.map(function (r) { return { id: Number(r.dataset.id), version: Number(r.dataset.version) }; })
    };
    if (body.command === "dispatch") {
      body.department = dept.value;
      label += zh ? "至" + dept.options[dept.selectedIndex].text : " to " + dept.options[dept.selectedIndex].text;
    }
    var ask = zh ? "确定对所选 " + rows.length + " 件案件执行「" + label + "」？" : label + ": " + rows.length + " case(s). Go ahead?";
    window.zhili.confirm(ask).then(function (ok) {
      if (!ok) return;
      msg.className = "msg";
      msg.textContent = zh ? "提交中…" : "Sending…";
      fetch("/api/cases/bulk-transitions", {
        method: "POST", credentials: "same-origin",
        headers: { "content-type": "application/json" }, body: JSON.stringify(body)
      }).then(function (r) {
        return r.json().then(function (b) { if (!r.ok) throw b; return b; });
      }).then(function (b) {
        var said = zh ? "完成 " + b.done + " 件，未通过 " + b.refused + " 件" : b.done + " done, " + b.refused + " refused";
        msg.className = b.refused ? "msg bad" : "msg good";
        msg.textContent = said;
        if (b.done) window.zhili.toast(zh ? label + "：完成 " + b.done + " 件" : label + ": " + b.done + " done");
        else window.zhili.toast(said, "bad");
        form.elements.note.value = "";
        // The list as it is now; the refusals stay on their rows (those still listed).
        return reload().catch(function () {
          msg.textContent = said + (zh ? "；列表未能刷新，请刷新页面" : "; the list could not be refreshed, reload the page");
        }).then(function () { mark(b.results); refresh(); });
      }).catch(function (b) {
        msg.className = "msg bad";
        msg.textContent = window.zhili.error.text(b);
      });
    });
  });
  refresh();
})();

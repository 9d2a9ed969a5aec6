// Zhili web shell: the phone menu and account toggles, how every page shows an API error
// (window.zhili.error), a success message (window.zhili.toast) and the confirmation of an
// irreversible command (data-confirm, window.zhili.confirm). No dependencies.
(function () {
  // A header button opens the panel it controls (the navigation, the account menu); Escape, a
  // tap elsewhere or opening the other panel closes it.
  var toggles = Array.prototype.slice.call(document.querySelectorAll("header.top button[aria-controls]"));
  function panel(b) { return document.getElementById(b.getAttribute("aria-controls")); }
  function set(b, open) {
    var p = panel(b);
    if (!p) return;
    p.classList.toggle("open", open);
    b.setAttribute("aria-expanded", open ? "true" : "false");
  }
  toggles.forEach(function (b) {
    b.addEventListener("click", function (e) {
      e.stopPropagation();
      var open = b.getAttribute("aria-expanded") !== "true";
      toggles.forEach(function (o) { set(o, o === b && open); });
    });
  });
  function closeAll() { toggles.forEach(function (b) { set(b, false); }); }
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") closeAll(); });
  document.addEventListener("click", function (e) {
    if (!toggles.some(function (b) { var p = panel(b); return p && p.contains(e.target); })) closeAll();
  });
  // A <details data-open-wide> (the worklist's filters) is open on wide screens; on a phone
  // it stays as the server sent it (open only when something is filtered) to save the screen.
  if (window.matchMedia && window.matchMedia("(min-width: 721px)").matches) {
    Array.prototype.forEach.call(document.querySelectorAll("details[data-open-wide]"), function (d) { d.open = true; });
  }
})();

// window.zhili.error: an API error (`{"error":{"code","field","text",…}}`) is shown by its
// `text`, which the server says in the caller's language; `message` (English detail for API
// clients) is never shown. The text goes under the field it names: the element
// `.field-error[data-for~=FIELD]` inside the form (data-for may list several fields) (the input points at it with
// aria-describedby), else into the page's message element.
(function () {
  var zh = (document.documentElement.lang || "zh-CN").indexOf("zh") === 0;
  var FAILED = zh ? "操作失败，请稍后重试" : "Something went wrong; please try again";
  var OFFLINE = zh ? "无法连接服务器，请检查网络后重试" : "Cannot reach the server; check the connection and try again";
  function detail(err) {
    if (err && err.error) return err.error;
    if (err && err.body && err.body.error) return err.body.error;
    return null;
  }
  // What to show a person for any failure: the error's text, else a generic line.
  function text(err) {
    var e = detail(err);
    if (e) return e.text || FAILED;
    return err instanceof TypeError ? OFFLINE : FAILED;
  }
  // The slot for `field` in `root`: the exact name, then its first part (`periods[0].start`
  // → `periods`, `extension.note` → `extension`), then its last part.
  function slot(root, field) {
    if (!root || !field) return null;
    var names = [field, field.split(/[.\[]/)[0], field.split(".").pop()];
    for (var i = 0; i < names.length; i++) {
      var s = root.querySelector(".field-error[data-for~='" + names[i].replace(/'/g, "") + "']");
      if (s) return s;
    }
    return null;
  }
  function clear(root) {
    if (!root) return;
    Array.prototype.forEach.call(root.querySelectorAll(".field-error"), function (s) { s.textContent = ""; });
    Array.prototype.forEach.call(root.querySelectorAll("[aria-invalid=true]"), function (el) { el.removeAttribute("aria-invalid"); });
  }
  // Show `err` at its field in `root` (returns true), else in `msg` (returns false).
  function show(root, err, msg) {
    clear(root);
    var e = detail(err), t = text(err), s = e && slot(root, e.field);
    if (s) {
      s.textContent = t;
      var input = root.querySelector("[aria-describedby~='" + s.id + "']");
      if (input) input.setAttribute("aria-invalid", "true");
      if (msg) msg.textContent = "";
      return true;
    }
    if (msg) msg.textContent = t;
    return false;
  }
  window.zhili = window.zhili || {};
  window.zhili.error = { text: text, show: show, clear: clear, slot: slot };
})();

// window.zhili.toast(text, kind): a short message after an action ("已派遣"), in the shared
// status region at the bottom of every page (#toast, role=status, read out by screen
// readers); it goes after a few seconds or when tapped. kind "bad" shows it as a failure.
(function () {
  var el = document.getElementById("toast"), timer = null;
  function toast(text, kind) {
    if (!el) return;
    el.textContent = text;
    el.className = "toast" + (kind === "bad" ? " bad" : " good");
    el.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(function () { el.hidden = true; }, 5000);
  }
  if (el) el.addEventListener("click", function () { el.hidden = true; });
  window.zhili = window.zhili || {};
  window.zhili.toast = toast;
})();

// window.zhili.confirm(text) → a promise of true (confirmed) or false, asked in a modal
// <dialog id="confirm"> with 确定 / 取消 (Escape cancels). Any form (or its submit button) with
// `data-confirm="…"` asks it before the form's own submit handlers run: the submit is held
// back and given again, with the same submit button, once confirmed.
(function () {
  var zh = (document.documentElement.lang || "zh-CN").indexOf("zh") === 0;
  var OK = zh ? "确定" : "Confirm", CANCEL = zh ? "取消" : "Cancel";
  var dialog = null, pending = null;
  function build() {
    dialog = document.createElement("dialog");
    dialog.id = "confirm";
    dialog.className = "confirm";
    dialog.setAttribute("aria-labelledby", "confirm-text");
    dialog.innerHTML = "<form method=dialog><p id=confirm-text></p><div class=confirm-buttons>" +
      "<button type=submit value=cancel class=secondary>" + CANCEL + "</button>" +
      "<button type=submit value=ok class=primary id=confirm-ok>" + OK + "</button></div></form>";
    dialog.addEventListener("close", function () {
      var done = pending;
      pending = null;
      if (done) done(dialog.returnValue === "ok");
    });
    document.body.appendChild(dialog);
  }
  function confirm(text) {
    if (!dialog) build();
    if (pending) { var was = pending; pending = null; was(false); }
    dialog.querySelector("#confirm-text").textContent = text;
    dialog.returnValue = "";
    return new Promise(function (resolve) {
      pending = resolve;
      dialog.showModal();
      dialog.querySelector("#confirm-ok").focus();
    });
  }
  var confirmed = new WeakSet();
  document.addEventListener("submit", function (e) {
    var form = e.target, by = e.submitter || null;
    var text = (by && by.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (!text || form.method === "dialog") return;
    if (confirmed.has(form)) { confirmed.delete(form); return; }
    e.preventDefault();
    e.stopImmediatePropagation();
    confirm(text).then(function (ok) {
      if (!ok) return;
      confirmed.add(form);
      if (form.requestSubmit) form.requestSubmit(by && by.form === form ? by : undefined);
      else form.submit();
    });
  }, true);
  window.zhili = window.zhili || {};
  window.zhili.confirm = confirm;
})();

// Zhili web shell: the phone menu toggle, and how every page shows an API error. No dependencies.
(function () {
  var b = document.querySelector("button.menu");
  var nav = document.getElementById("nav");
  if (!b || !nav) return;
  b.addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    b.setAttribute("aria-expanded", open ? "true" : "false");
  });
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
  window.zhili = { error: { text: text, show: show, clear: clear, slot: slot } };
})();

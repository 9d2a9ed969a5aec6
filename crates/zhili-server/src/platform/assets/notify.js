// Zhili notifications: the unread count on the bell in the header, and on /notifications,
// opening a notification marks it read first. No dependencies.
(function () {
  function api(url, opts) {
    return fetch(url, Object.assign({ credentials: "same-origin", headers: { "content-type": "application/json" } }, opts || {}))
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); });
  }
  function markRead(body) {
    return api("/api/notifications/read", { method: "POST", body: JSON.stringify(body) });
  }
  var badge = document.getElementById("bell-count");
  function refresh() {
    if (!badge) return;
    api("/api/notifications/count").then(function (b) {
      badge.textContent = b.unread > 99 ? "99+" : String(b.unread);
      badge.hidden = !(b.unread > 0);
    }).catch(function () {});
  }
  refresh();
  setInterval(refresh, 60000);

  var list = document.getElementById("notifications");
  if (list) {
    list.addEventListener("click", function (e) {
      var a = e.target.closest ? e.target.closest("a[data-id]") : null;
      if (!a || !a.getAttribute("data-unread")) return;
      e.preventDefault();
      var go = function () { window.location.href = a.getAttribute("href"); };
      markRead({ ids: [Number(a.getAttribute("data-id"))] }).then(go, go);
    });
  }
  var all = document.getElementById("mark-all");
  if (all) {
    all.addEventListener("click", function () {
      markRead({ all: true }).then(function () { window.location.reload(); }).catch(function () {});
    });
  }
})();

// The working-time calendar (工作日历) page: working periods of a day, weekly rest days, the UTC
// offset, and a year of twelve small months where holidays (放假) are red and make-up working
// days (调休上班) marked; administrators click a day to cycle normal → holiday → make-up day.
// The holiday text box uses the calendar's own text form (POST /api/work-calendar/holiday-text).
// Saved with PUT /api/work-calendar and If-Match; the API's errors are shown at their field.
(function () {
  "use strict";
  var form = document.getElementById("settings-calendar");
  if (!form) return;
  var zh = form.dataset.lang !== "en";
  var editable = form.dataset.edit === "true";
  var T = zh
    ? { months: ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
        days: ["一", "二", "三", "四", "五", "六", "日"], saved: "已保存", saving: "保存中…", failed: "请求失败",
        stale: "日历已被他人修改，请刷新页面后重试。", remove: "删除", holiday: "放假", workday: "调休上班", replaced: "已按文本替换，保存后生效",
        start: "开始时间", end: "结束时间" }
    : { months: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        days: ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"], saved: "Saved", saving: "Saving…", failed: "Request failed",
        stale: "The calendar was changed by someone else; reload the page and retry.", remove: "Remove", holiday: "Holiday",
        workday: "Make-up working day", replaced: "Replaced from the text; save to keep it",
        start: "Start time", end: "End time" };
  var WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var $ = function (id) { return document.getElementById(id); };
  var cal = null, version = null, holidays = {}, workdays = {}, year = new Date().getFullYear();
  var msg = $("calendar-msg");

  function clearErrors() { Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (e) { e.textContent = ""; }); }
  function fieldError(field, text) {
    var slot = form.querySelector(".field-error[data-for='" + field + "']");
    if (slot) { slot.textContent = text; return true; }
    return false;
  }
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function iso(y, m, d) { return y + "-" + pad(m + 1) + "-" + pad(d); }
  function toSet(list) { var s = {}; (list || []).forEach(function (d) { s[d] = 1; }); return s; }
  function sorted(set) { return Object.keys(set).sort(); }

  // Working periods: one row of two time inputs each.
  function periodRow(p) {
    var row = document.createElement("div");
    row.className = "period";
    row.innerHTML = "<input type=time class=start step=60 aria-label=\"" + T.start + "\"> – <input type=time class=end step=60 aria-label=\"" + T.end + "\">" +
      (editable ? " <button type=button class=remove>" + T.remove + "</button>" : "");
    row.querySelector(".start").value = p.start;
    row.querySelector(".end").value = p.end;
    return row;
  }
  $("periods").addEventListener("click", function (e) {
    if (e.target.classList.contains("remove")) e.target.parentNode.remove();
  });
  if ($("add-period")) {
    $("add-period").addEventListener("click", function () { $("periods").appendChild(periodRow({ start: "", end: "" })); });
  }

  function renderWeekend() {
    $("weekend").innerHTML = WEEKDAYS.map(function (w, i) {
      return "<label><input type=checkbox value=" + w + (cal.weekend.indexOf(w) >= 0 ? " checked" : "") + "> " + T.days[i] + "</label>";
    }).join(" ");
  }
  function restDays() {
    return Array.prototype.map.call($("weekend").querySelectorAll("input:checked"), function (i) { return i.value; });
  }

  // The year: twelve months, weeks from Monday.
  function renderYear() {
    $("year").textContent = year;
    var rest = restDays(), html = [];
    for (var m = 0; m < 12; m++) {
      var first = new Date(Date.UTC(year, m, 1)), n = new Date(Date.UTC(year, m + 1, 0)).getUTCDate();
      var lead = (first.getUTCDay() + 6) % 7;
      var cells = [];
      for (var k = 0; k < lead; k++) cells.push("<span></span>");
      for (var d = 1; d <= n; d++) {
        var date = iso(year, m, d), wd = (lead + d - 1) % 7;
        var cls = "day";
        var title = date;
        if (holidays[date]) { cls += " holiday"; title += " " + T.holiday; }
        else if (workdays[date]) { cls += " workday"; title += " " + T.workday; }
        else if (rest.indexOf(WEEKDAYS[wd]) >= 0) cls += " rest";
        cells.push("<button type=button class=\"" + cls + "\" data-date=" + date + " title=\"" + title + "\"" +
          (editable ? "" : " disabled") + ">" + d + "</button>");
      }
      html.push("<div class=month><h3>" + T.months[m] + "</h3><div class=dow>" +
        T.days.map(function (x) { return "<span>" + x + "</span>"; }).join("") + "</div><div class=grid>" + cells.join("") + "</div></div>");
    }
    $("months").innerHTML = html.join("");
  }
  $("months").addEventListener("click", function (e) {
    var b = e.target.closest("button.day");
    if (!b || !editable) return;
    var d = b.dataset.date;
    if (holidays[d]) { delete holidays[d]; workdays[d] = 1; }
    else if (workdays[d]) { delete workdays[d]; }
    else { holidays[d] = 1; }
    renderYear();
  });
  $("year-prev").addEventListener("click", function () { year--; renderYear(); });
  $("year-next").addEventListener("click", function () { year++; renderYear(); });
  $("weekend").addEventListener("change", renderYear);

  // Holiday text: the calendar's own form, converted by the server.
  function holidayText(body) {
    return fetch("/api/work-calendar/holiday-text", {
      method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); });
  }
  function exportText() {
    return holidayText({ holidays: sorted(holidays), workdays: sorted(workdays) }).then(function (res) {
      if (res.status === 200) $("holiday-text").value = res.body.text;
    });
  }
  $("text-export").addEventListener("click", function () { clearErrors(); exportText(); });
  if ($("text-import")) {
    $("text-import").addEventListener("click", function () {
      clearErrors();
      holidayText({ text: $("holiday-text").value }).then(function (res) {
        if (res.status !== 200) {
          var e = res.body.error || {};
          var text = window.zhili.error.text(res.body);
          if (!fieldError(e.field || "text", text)) msg.textContent = text;
          return;
        }
        holidays = toSet(res.body.holidays);
        workdays = toSet(res.body.workdays);
        $("holiday-text").value = res.body.text;
        msg.className = "";
        msg.textContent = T.replaced;
        renderYear();
      });
    });
  }

  function render() {
    $("periods").innerHTML = "";
    cal.periods.forEach(function (p) { $("periods").appendChild(periodRow(p)); });
    renderWeekend();
    $("utc-offset").value = cal.utc_offset_minutes;
    holidays = toSet(cal.holidays);
    workdays = toSet(cal.workdays);
    renderYear();
    exportText();
  }

  fetch("/api/work-calendar", { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) throw new Error(r.status);
    version = (r.headers.get("etag") || "").replace(/^W\//, "").replace(/"/g, "") || null;
    return r.json();
  }).then(function (c) { cal = c; render(); }).catch(function (e) { msg.className = "bad"; msg.textContent = T.failed + ": " + e; });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!editable || !cal) return;
    clearErrors();
    var periods = Array.prototype.map.call($("periods").querySelectorAll(".period"), function (row) {
      return { start: row.querySelector(".start").value, end: row.querySelector(".end").value };
    });
    var offset = Number($("utc-offset").value);
    if (!Number.isInteger(offset)) { fieldError("utc_offset_minutes", zh ? "请填写整数分钟" : "Enter whole minutes"); return; }
    var body = { utc_offset_minutes: offset, periods: periods, weekend: restDays(), holidays: sorted(holidays), workdays: sorted(workdays) };
    var headers = { "content-type": "application/json" };
    if (version) headers["if-match"] = "\"" + version + "\"";
    msg.className = "";
    msg.textContent = T.saving;
    fetch("/api/work-calendar", { method: "PUT", credentials: "same-origin", headers: headers, body: JSON.stringify(body) })
      .then(function (r) {
        var etag = r.headers.get("etag");
        return r.json().then(function (b) { return { status: r.status, body: b, etag: etag }; });
      })
      .then(function (res) {
        if (res.status === 200) {
          cal = res.body;
          version = (res.etag || "").replace(/^W\//, "").replace(/"/g, "") || version;
          msg.className = "good";
          msg.textContent = T.saved;
          return;
        }
        var err = res.body.error || {};
        msg.className = "bad";
        if (res.status === 409) { msg.textContent = T.stale; return; }
        // Body errors name a JSON path such as periods[0].start: show it at its section.
        var f = (err.field || "").split(/[.[]/)[0];
        if (f === "workdays") f = "holidays";
        var text = window.zhili.error.text(res.body);
        if (fieldError(f, text)) { msg.textContent = ""; return; }
        msg.textContent = text;
      })
      .catch(function (err) { msg.className = "bad"; msg.textContent = window.zhili.error.text(err); });
  });
})();

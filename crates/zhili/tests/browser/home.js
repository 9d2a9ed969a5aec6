// Each role's day in a real headless Chromium, on a phone (390×844) and a desktop (1440×900),
// from the login to its home queue (我的待办) to acting on the first item, with the page checks
// of lib/checks.js on every page visited (no raw JSON, no untranslated key, no English in the
// zh-CN UI outside names and codes, no horizontal scroll at 360 px, every field labelled, tap
// targets of 44 px on the phone) and a screenshot of each:
// - operator: 待立案 / 待派遣 / 待结案; files the first reported case on its page (success
//   message), then files the next from the worklist's bulk bar — which shows only with a
//   selection, asks first (cancelled: nothing sent), and afterwards lists the queue again in
//   place — and dispatches the first filed case to 城管局;
// - department: 待签收 / 处置中 / 即将超时 / 已超时; the new dispatch is on the first page (new work
//   first, not an overdue case) and signed for (签收); then reports back with a photo;
// - grid worker: 待核查 / 待核实 / 我的上报; verifies (核查) the case the department reported on;
// - leader: the day's figures; opens the dashboard (its figures wait visibly for their data),
//   the day's figures there, drills into today's reports and the first of them, the One Map
//   (a loading overlay until the first tiles are drawn), and the overdue cases, highlighted.
// Last, a link followed without a session returns there, query and all, after the login.
// usage: node home.js BASE_URL DEMO_PASSWORD SCREENSHOT_DIR KEYS_JSON
const { chromium } = require("playwright-core");
const { checker } = require("./lib/checks");
const { acceptConfirm } = require("./lib/confirm");

const [base, password, outDir, keysFile] = process.argv.slice(2);
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
const screens = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "zh-CN" },
  desktop: { viewport: { width: 1440, height: 900 }, locale: "zh-CN" },
};
const checks = checker(keysFile, outDir);

function need(cond, what) {
  if (!cond) throw new Error(what);
}

// The home page's tiles: id → figure (as a number; 10000+ is 10000), with their links.
async function tiles(page) {
  await page.waitForSelector(".home-section .tile");
  return page.$$eval(".home-section .tile", (els) => els.map((a) => ({
    id: a.id.replace(/^tile-/, ""), n: parseInt(a.querySelector("b").textContent, 10), href: a.getAttribute("href"),
    alert: a.classList.contains("alert"),
  })));
}

// The worklist's rows, by case number.
const listed = (page) => page.$$eval("#worklist tbody tr", (rows) => rows.map((r) => r.dataset.id));

// The header on this screen: on a phone at most 56 px high, and 退出登录 on one line (in the
// account menu, opened and closed again); on a desktop in the header itself.
async function header(page, screen) {
  const h = await page.$eval("header.top", (el) => el.getBoundingClientRect().height);
  need(screen !== "phone" || h <= 56, `the phone header is ${h} px high`);
  if (screen === "phone") {
    need(!(await page.isVisible("#logout")), "退出登录 is in the account menu on a phone");
    await page.click("header.top .account-toggle");
  }
  await page.waitForSelector("#logout", { state: "visible" });
  const lines = await page.$eval("#logout", (b) => {
    const r = document.createRange();
    r.selectNodeContents(b);
    return new Set(Array.from(r.getClientRects()).map((x) => Math.round(x.top))).size;
  });
  need(lines === 1, `退出登录 wraps into ${lines} lines`);
  if (screen === "phone") {
    await page.keyboard.press("Escape");
    need(!(await page.isVisible("#logout")), "Escape closes the account menu");
  }
}

async function story(browser, screen) {
  const opts = screens[screen];
  // Every page visited: the checks and its screenshot `home-{name}-{screen}.png`.
  const visit = (page, name) => checks.check(page, "zh-CN", `${name} (${screen})`, `home-${name}-${screen}.png`);
  // A role's browser, logged in through the (checked) login page.
  async function as(user) {
    const ctx = await browser.newContext(opts);
    const page = await ctx.newPage();
    page.on("pageerror", (e) => checks.fail("zh-CN", `${user} (${screen})`, `script error ${e}`));
    await page.goto(`${base}/login`);
    await visit(page, `login-${user}`);
    await page.fill("input[name=username]", user);
    await page.fill("input[name=password]", password);
    await page.click("button[type=submit].primary");
    await page.waitForURL(`${base}/`);
    return { ctx, page };
  }
  // Click the tile, land on its worklist (checked); answer the ids of the rows listed.
  async function open(page, id, name) {
    const href = await page.getAttribute(`#tile-${id}`, "href");
    await page.click(`#tile-${id}`);
    await page.waitForURL((u) => u.pathname + u.search === href);
    await visit(page, name);
    return listed(page);
  }
  // On the case page of `caseId` (opened from the worklist if it is listed), give `command`
  // and wait for `state`; the page is checked before, and the success message after.
  async function act(page, caseId, command, fill, state, name) {
    const link = `#worklist tr[data-id="${caseId}"] .c-id a`;
    if (await page.$(link)) await page.click(link);
    else await page.goto(`${base}/cases/${caseId}`);
    await page.waitForURL(`${base}/cases/${caseId}`);
    const form = `form[data-command=${command}]`;
    await page.waitForSelector(form, { timeout: 15000 });
    await page.waitForSelector("#case-summary dl");
    await visit(page, name);
    if (fill) await fill(page, form);
    const asks = await page.getAttribute(form, "data-confirm");
    await page.evaluate(() => { document.getElementById("toast").hidden = true; });
    await page.click(`${form} button[type=submit]`);
    if (asks) await acceptConfirm(page);
    await page.waitForFunction((s) => {
      const el = document.querySelector("#case-state");
      return el && el.dataset.state === s;
    }, state, { timeout: 15000 }).catch(async (e) => {
      throw new Error(`${command} ${caseId}: not ${state}: ${await page.locator("#case-msg").innerText()} ${e}`);
    });
    await page.waitForSelector("#toast:not([hidden])", { timeout: 5000 });
    const said = await page.locator("#toast").innerText();
    need(/已完成/.test(said), `after ${command} the message is ${JSON.stringify(said)}`);
    return caseId;
  }

  // A grid worker reports two problems in the middle of their first grid (as the phone page does).
  const gw = await as("gw370304001001041");
  const reported = await gw.page.evaluate(async () => {
    const list = await (await fetch("/api/grids?limit=1", { credentials: "same-origin" })).json();
    const g = await (await fetch("/api/grids/" + list.items[0].code, { credentials: "same-origin" })).json();
    const ring = g.boundary.type === "Polygon" ? g.boundary.coordinates[0] : g.boundary.coordinates[0][0];
    const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
    const ids = [];
    for (const description of ["路口垃圾桶满溢", "人行道井盖破损"]) {
      const r = await fetch("/api/cases", {
        method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" },
        body: JSON.stringify({ class_code: "SJ0102", lon: (Math.min(...xs) + Math.max(...xs)) / 2,
          lat: (Math.min(...ys) + Math.max(...ys)) / 2, description }),
      });
      if (!r.ok) throw new Error(`report: ${r.status} ${await r.text()}`);
      ids.push((await r.json()).case.id);
    }
    return ids;
  });

  // Operator: 待立案 / 待派遣 / 待结案; files the first reported case (new work first: a fresh
  // report leads), then dispatches it to 城管局.
  const op = await as("operator1");
  let t = await tiles(op.page);
  need(["to-file", "to-dispatch", "to-close", "overdue"].every((k) => t.some((x) => x.id === k)), `operator tiles ${JSON.stringify(t)}`);
  const toFile = t.find((x) => x.id === "to-file").n;
  need(toFile >= 2, "the demo has reports waiting to be filed");
  await header(op.page, screen);
  await visit(op.page, "operator");
  let rows = await open(op.page, "to-file", "operator-to-file");
  need(rows.length === Math.min(toFile, 50), `待立案 lists ${rows.length}, the tile said ${toFile}`);
  const filed = await act(op.page, rows[0], "file", null, "filed", "operator-case");
  console.log(`${screen}: the grid worker reported ${reported}; the first of 待立案 was ${filed}`);
  await op.page.goto(`${base}/`);
  t = await tiles(op.page);
  need(t.find((x) => x.id === "to-file").n === toFile - 1 || toFile > 10000, "待立案 went down by one");

  // The bulk bar: hidden with nothing picked (at 360 px, this screen and a desktop's width),
  // shown with a pick; the action asks first; cancelled, nothing is sent.
  rows = await open(op.page, "to-file", "operator-to-file-again");
  need(!rows.includes(String(filed)), `the filed case ${filed} left 待立案`);
  const vp = op.page.viewportSize();
  for (const width of [360, vp.width, 1440]) {
    await op.page.setViewportSize({ width, height: vp.height });
    need(!(await op.page.isVisible("#bulk")), `the bulk bar shows without a selection at ${width} px`);
  }
  await op.page.setViewportSize(vp);
  const next = rows[0];
  // The row's pick is tapped through its label area (44 px on a phone).
  await op.page.click(`#worklist tr[data-id="${next}"] .c-pick label`);
  need(await op.page.isChecked(`#worklist tr[data-id="${next}"] input.pick`), "the tap picked the row");
  need(await op.page.isVisible("#bulk"), "the bulk bar shows with a selection");
  need((await op.page.locator("#bulk-count").innerText()) === "已选 1 件", "the bar counts the pick");
  await op.page.selectOption("#bulk select[name=command]", "file");
  let sent = 0;
  op.page.on("request", (r) => { if (r.url().endsWith("/api/cases/bulk-transitions")) sent += 1; });
  await op.page.click("#bulk button[type=submit]");
  await op.page.waitForSelector("dialog#confirm[open]");
  await visit(op.page, "operator-bulk-confirm");
  await op.page.click("dialog#confirm button[value=cancel]");
  await op.page.waitForTimeout(300);
  need(sent === 0, "a cancelled bulk action sends nothing");
  // Confirmed: filed, and the list comes again in place (no page load), without the case.
  await op.page.evaluate(() => { window.__samePage = true; });
  await op.page.click("#bulk button[type=submit]");
  await acceptConfirm(op.page);
  await op.page.waitForFunction((id) => !document.querySelector(`#worklist tr[data-id="${id}"]`), next, { timeout: 15000 })
    .catch(async () => { throw new Error(`bulk file: ${next} still listed: ${await op.page.locator("#bulk-msg").innerText()}`); });
  need(await op.page.evaluate(() => window.__samePage === true), "the worklist refreshed without reloading the page");
  need(sent === 1, `one bulk request (${sent})`);
  need(/批量立案：完成 1 件/.test(await op.page.locator("#toast").innerText()), "the bulk success message");
  need(!(await op.page.isVisible("#bulk")), "the bulk bar hides again with nothing picked");
  await visit(op.page, "operator-bulk-done");
  const state = await op.page.evaluate(async (id) => (await (await fetch(`/api/cases/${id}`, { credentials: "same-origin" })).json()).case.state, next);
  need(state === "filed", `the bulk-filed case ${next} is ${state}`);

  // 待派遣 counts the filed case now; on its page the operator dispatches it to 城管局.
  await op.page.goto(`${base}/`);
  t = await tiles(op.page);
  rows = await open(op.page, "to-dispatch", "operator-to-dispatch");
  need(t.find((x) => x.id === "to-dispatch").n >= 1 && rows.length >= 1, "待派遣 lists the filed case");
  const dispatched = await act(op.page, filed, "dispatch",
    (page, form) => page.selectOption(`${form} select[name=department]`, "cgj"), "dispatched", "operator-dispatch");
  console.log(`${screen}: operator filed ${filed} (and ${next} in bulk) and dispatched ${dispatched}; tiles ${t.map((x) => `${x.id}=${x.n}`).join(" ")}`);
  await op.ctx.close();

  // Department: 待签收 / 处置中 / 即将超时 / 已超时; the new dispatch is on the first page and signed for.
  const dept = await as("cgj01");
  t = await tiles(dept.page);
  need(["to-accept", "handling", "due-soon", "overdue"].every((k) => t.some((x) => x.id === k)), `department tiles ${JSON.stringify(t)}`);
  need(t.find((x) => x.id === "to-accept").n >= 1, "something to sign for");
  await header(dept.page, screen);
  await visit(dept.page, "department");
  rows = await open(dept.page, "to-accept", "department-worklist");
  need(rows.includes(String(dispatched)), `the new dispatch ${dispatched} is on 待签收's first page: ${rows.slice(0, 5)}`);
  const overdueFirst = await dept.page.$eval("#worklist tbody tr", (r) => r.classList.contains("overdue"));
  need(!overdueFirst, "new work leads, not an overdue case");
  const accepted = await act(dept.page, rows[0], "accept", null, "handling", "department-case");
  // And reports back on the operator's case, so that it waits for the grid worker's check.
  if (accepted !== String(dispatched)) await act(dept.page, dispatched, "accept", null, "handling", "department-case-dispatched");
  await act(dept.page, dispatched, "respond", async (page, form) => {
    await page.fill(`${form} textarea[name=note]`, "已清运完毕");
    await page.setInputFiles(`${form} input[type=file]`, { name: "done.png", mimeType: "image/png", buffer: PNG });
  }, "responded", "department-respond");
  console.log(`${screen}: department signed for ${accepted} (the operator's dispatch: ${dispatched}); tiles ${t.map((x) => `${x.id}=${x.n}`).join(" ")}`);
  await dept.ctx.close();

  // Grid worker: 待核查 / 待核实 / 我的上报; verifies the case the department reported on.
  await gw.page.goto(`${base}/`);
  t = await tiles(gw.page);
  need(["to-check", "to-verify", "my-reports"].every((k) => t.some((x) => x.id === k)), `grid worker tiles ${JSON.stringify(t)}`);
  await header(gw.page, screen);
  await visit(gw.page, "gridworker");
  rows = await open(gw.page, "to-check", "gridworker-to-check");
  need(rows.length === Math.min(t.find((x) => x.id === "to-check").n, 50), "待核查 lists what the tile counts");
  need(rows.includes(String(dispatched)), `待核查 lists the case ${dispatched} the department reported back on`);
  const v = await act(gw.page, rows[0], "verify", null, "verified", "gridworker-case");
  console.log(`${screen}: grid worker verified ${v}; tiles ${t.map((x) => `${x.id}=${x.n}`).join(" ")}`);
  await gw.page.goto(`${base}/`);
  rows = await open(gw.page, "my-reports", "gridworker-my-reports");
  need(rows.length === Math.min(t.find((x) => x.id === "my-reports").n, 50), "我的上报 lists what the tile counts");
  need(reported.every((id) => rows.includes(String(id))), `我的上报 lists the reports ${reported}`);
  await gw.ctx.close();

  // Leader: the day's figures on the home page and on the dashboard, drilled into.
  const leader = await as("leader");
  t = await tiles(leader.page);
  need(["reported-today", "closed-today", "overdue-now", "on-time-rate"].every((k) => t.some((x) => x.id === k)), `leader tiles ${JSON.stringify(t)}`);
  need(t.find((x) => x.id === "reported-today").n >= 2, "today's reports count the grid worker's");
  await header(leader.page, screen);
  await visit(leader.page, "leader");
  // The dashboard's figures wait visibly for their data (held back a second here).
  await leader.page.route("**/api/case-metrics?*", async (route) => { await new Promise((r) => setTimeout(r, 1000)); await route.continue(); });
  await leader.page.click("#tile-on-time-rate");
  await leader.page.waitForURL(`${base}/dashboard`);
  await leader.page.waitForSelector("#kpis-loading", { timeout: 5000 });
  need(await leader.page.getAttribute("#kpis", "aria-busy") === "true", "the figures say they are loading");
  await leader.page.waitForSelector(".kpi[data-k=filed]", { timeout: 20000 });
  need(!(await leader.page.$("#kpis-loading")) && !(await leader.page.getAttribute("#kpis", "aria-busy")), "loaded: no loading line");
  await leader.page.unroute("**/api/case-metrics?*");
  // The day: from today to tomorrow.
  const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  const today = new Date(), tomorrow = new Date(today.getTime() + 86400000);
  await leader.page.fill("#dash-from", day(today));
  await leader.page.fill("#dash-to", day(tomorrow));
  await leader.page.click("#dash-form button[type=submit]");
  await leader.page.waitForFunction((from) => document.getElementById("dash-msg").textContent.startsWith(from), day(today), { timeout: 20000 });
  const todayFiled = await leader.page.$eval(".kpi[data-k=filed] .v", (el) => el.textContent);
  need(Number(todayFiled) >= 2, `today's filed cases on the dashboard: ${todayFiled}`);
  await visit(leader.page, "leader-dashboard");
  // Drill down: today's figures by township, a township's name opens its cases of the day.
  await leader.page.selectOption("#dash-group", "township");
  await leader.page.click("#dash-form button[type=submit]");
  await leader.page.waitForSelector("#dash-table a.drill", { timeout: 20000 });
  const drilled = await leader.page.$eval("#dash-table tbody tr", (tr) => {
    const a = tr.querySelector("a.drill");
    return { name: a.textContent, href: a.getAttribute("href"), reported: Number(tr.children[2].textContent) };
  });
  need(/within=\d+/.test(drilled.href) && drilled.href.includes(`from=${day(today)}`), `drill-down link ${drilled.href}`);
  await leader.page.click("#dash-table tbody tr a.drill");
  await leader.page.waitForURL((u) => u.pathname === "/cases" && u.searchParams.has("within"));
  need((await leader.page.locator("#within-chip .chip").innerText()) === drilled.name, `the worklist names the township ${drilled.name}`);
  const inTownship = Number((await leader.page.locator("#worklist-total").innerText()).replace(/\D/g, ""));
  need(inTownship === drilled.reported, `the township's worklist lists what the dashboard counts: ${inTownship} vs ${drilled.reported}`);
  await visit(leader.page, "leader-drilled");
  // Drill into today's reports and the first of them.
  await leader.page.goto(`${base}/`);
  rows = await open(leader.page, "reported-today", "leader-reported-today");
  need(reported.every((id) => rows.includes(String(id))), `today's reports list ${reported}`);
  await leader.page.click(`#worklist tr[data-id="${rows[0]}"] .c-id a`);
  await leader.page.waitForURL(`${base}/cases/${rows[0]}`);
  await leader.page.waitForSelector("#case-summary dl", { timeout: 15000 });
  await visit(leader.page, "leader-case");
  // The One Map: a loading overlay until the first tiles are drawn (tiles held back here).
  await leader.page.route("**/tiles/**", async (route) => { await new Promise((r) => setTimeout(r, 800)); await route.continue(); });
  await leader.page.goto(`${base}/map`);
  await leader.page.waitForSelector("#map-loading", { timeout: 5000 });
  need(/地图加载中/.test(await leader.page.locator("#map-loading").innerText()), "the map says it is loading");
  await leader.page.waitForSelector("#map-loading", { state: "detached", timeout: 30000 });
  await leader.page.unroute("**/tiles/**");
  await visit(leader.page, "leader-map");
  await leader.page.goto(`${base}/`);
  rows = await open(leader.page, "overdue-now", "leader-overdue");
  if (rows.length > 0) {
    need(await leader.page.$eval("#worklist tbody tr", (r) => r.classList.contains("overdue")), "overdue rows are highlighted");
  }
  console.log(`${screen}: leader ${t.map((x) => `${x.id}=${x.n}`).join(" ")}; today filed ${todayFiled}`);
  await leader.ctx.close();

  return dispatched;
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let last;
  for (const screen of ["phone", "desktop"]) last = await story(browser, screen);

  // A link followed without a session: the login, then back to the link with its query.
  const ctx = await browser.newContext(screens.phone);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => checks.fail("zh-CN", "login-return", `script error ${e}`));
  const link = `/cases/${last}?from=home`;
  await page.goto(`${base}${link}`);
  await page.waitForURL((u) => u.pathname === "/login");
  await page.fill("input[name=username]", "cgj01");
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit].primary");
  await page.waitForURL(`${base}${link}`);
  await page.waitForSelector("#case-state", { timeout: 15000 });
  await page.screenshot({ path: `${outDir}/home-login-return.png` });
  console.log(`login returned to ${link}`);
  await browser.close();
  checks.finish("home: every role's pages checked on a phone and a desktop");
}

main().catch((e) => {
  console.error(checks.failures.join("\n"));
  console.error(e);
  process.exit(1);
});

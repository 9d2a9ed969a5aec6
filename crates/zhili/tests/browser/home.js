// Each role's home (我的待办) in a real headless Chromium, on a phone (390×844) and a desktop
// (1440×900): the queue with its counts; a count opens the worklist filtered to it (new work
// first, overdue rows highlighted), the first case is opened and acted on — the operator files
// a reported case and dispatches a filed one to 城管局, the department signs for (签收) what was
// dispatched, the department reports back, the grid worker verifies the case waiting in their grids (待核查), the
// leader opens the overdue cases. Last, a link followed without a session returns there, query
// and all, after the login.
// usage: node home.js BASE_URL DEMO_PASSWORD SCREENSHOT_DIR
const { chromium } = require("playwright-core");
const { loginAs } = require("./login");

const [base, password, outDir] = process.argv.slice(2);
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
const screens = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "zh-CN" },
  desktop: { viewport: { width: 1440, height: 900 }, locale: "zh-CN" },
};

// The home page's tiles: id → figure (as a number; 10000+ is 10000), with their links.
async function tiles(page) {
  await page.waitForSelector(".home-section .tile");
  return page.$$eval(".home-section .tile", (els) => els.map((a) => ({
    id: a.id.replace(/^tile-/, ""), n: parseInt(a.querySelector("b").textContent, 10), href: a.getAttribute("href"),
    alert: a.classList.contains("alert"),
  })));
}

// Click the tile, land on its worklist; answer the ids of the rows listed.
async function open(page, id) {
  const href = await page.getAttribute(`#tile-${id}`, "href");
  await page.click(`#tile-${id}`);
  await page.waitForURL((u) => u.pathname + u.search === href);
  return page.$$eval("#worklist tbody tr", (rows) => rows.map((r) => r.dataset.id));
}

// On the case page of the first listed case, give `command` and wait for `state`.
async function actOnFirst(page, rows, command, fill, state) {
  await page.click(`#worklist tr[data-id="${rows[0]}"] a`);
  await page.waitForURL(`${base}/cases/${rows[0]}`);
  const form = `form[data-command=${command}]`;
  await page.waitForSelector(form, { timeout: 15000 });
  if (fill) await fill(page, form);
  await page.click(`${form} button[type=submit]`);
  await page.waitForFunction((s) => {
    const el = document.querySelector("#case-state");
    return el && el.dataset.state === s;
  }, state, { timeout: 15000 }).catch(async (e) => {
    throw new Error(`${command} ${rows[0]}: not ${state}: ${await page.locator("#case-msg").innerText()} ${e}`);
  });
  return rows[0];
}

function need(cond, what) {
  if (!cond) throw new Error(what);
}

async function story(browser, screen) {
  const opts = screens[screen];
  const as = (user) => loginAs(browser, base, opts, user, password);
  const shot = (page, name) => page.screenshot({ path: `${outDir}/home-${name}-${screen}.png`, fullPage: true });

  // A grid worker reports a problem in the middle of their first grid (as the phone page does).
  const gw = await as("gw370304001001041");
  const reported = await gw.page.evaluate(async () => {
    const list = await (await fetch("/api/grids?limit=1", { credentials: "same-origin" })).json();
    const g = await (await fetch("/api/grids/" + list.items[0].code, { credentials: "same-origin" })).json();
    const ring = g.boundary.type === "Polygon" ? g.boundary.coordinates[0] : g.boundary.coordinates[0][0];
    const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
    const r = await fetch("/api/cases", {
      method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" },
      body: JSON.stringify({ class_code: "SJ0102", lon: (Math.min(...xs) + Math.max(...xs)) / 2,
        lat: (Math.min(...ys) + Math.max(...ys)) / 2, description: "路口垃圾桶满溢" }),
    });
    if (!r.ok) throw new Error(`report: ${r.status} ${await r.text()}`);
    return (await r.json()).case.id;
  });

  // Operator: 待立案 / 待派遣 / 待结案; files the first reported case (new work first: a fresh
  // report leads), then dispatches it to 城管局.
  const op = await as("operator1");
  let t = await tiles(op.page);
  need(["to-file", "to-dispatch", "to-close", "overdue"].every((k) => t.some((x) => x.id === k)), `operator tiles ${JSON.stringify(t)}`);
  const toFile = t.find((x) => x.id === "to-file").n;
  need(toFile > 0, "the demo has reports waiting to be filed");
  await shot(op.page, "operator");
  let rows = await open(op.page, "to-file");
  need(rows.length === Math.min(toFile, 50), `待立案 lists ${rows.length}, the tile said ${toFile}`);
  const filed = await actOnFirst(op.page, rows, "file", null, "filed");
  console.log(`${screen}: the grid worker reported ${reported}; the first of 待立案 was ${filed}`);
  await op.page.goto(`${base}/`);
  t = await tiles(op.page);
  need(t.find((x) => x.id === "to-file").n === toFile - 1 || toFile > 10000, "待立案 went down by one");
  // 待派遣 counts it now; on its page the operator dispatches it to 城管局.
  rows = await open(op.page, "to-dispatch");
  need(t.find((x) => x.id === "to-dispatch").n >= 1 && rows.length >= 1, "待派遣 lists the filed case");
  await op.page.goto(`${base}/cases/${filed}`);
  const form = "form[data-command=dispatch]";
  await op.page.waitForSelector(form, { timeout: 15000 });
  await op.page.selectOption(`${form} select[name=department]`, "cgj");
  await op.page.click(`${form} button[type=submit]`);
  await op.page.waitForFunction(() => document.querySelector("#case-state").dataset.state === "dispatched", null, { timeout: 15000 });
  const dispatched = filed;
  console.log(`${screen}: operator filed and dispatched ${dispatched}; tiles ${t.map((x) => `${x.id}=${x.n}`).join(" ")}`);
  await op.ctx.close();

  // Department: 待签收 / 处置中 / 即将超时 / 已超时; the new dispatch is on the first page and signed for.
  const dept = await as("cgj01");
  t = await tiles(dept.page);
  need(["to-accept", "handling", "due-soon", "overdue"].every((k) => t.some((x) => x.id === k)), `department tiles ${JSON.stringify(t)}`);
  need(t.find((x) => x.id === "to-accept").n >= 1, "something to sign for");
  await shot(dept.page, "department");
  rows = await open(dept.page, "to-accept");
  need(rows.includes(dispatched), `the new dispatch ${dispatched} is on 待签收's first page: ${rows.slice(0, 5)}`);
  const overdueFirst = await dept.page.$eval("#worklist tbody tr", (r) => r.classList.contains("overdue"));
  need(!overdueFirst, "new work leads, not an overdue case");
  await shot(dept.page, "department-worklist");
  const accepted = await actOnFirst(dept.page, rows, "accept", null, "handling");
  // And reports back on the operator's case, so that it waits for the grid worker's check.
  await dept.page.goto(`${base}/cases/${dispatched}`);
  if (accepted !== dispatched) {
    await dept.page.waitForSelector("form[data-command=accept]", { timeout: 15000 });
    await dept.page.click("form[data-command=accept] button[type=submit]");
  }
  const respond = "form[data-command=respond]";
  await dept.page.waitForSelector(respond, { timeout: 15000 });
  await dept.page.fill(`${respond} textarea[name=note]`, "已清运完毕");
  await dept.page.setInputFiles(`${respond} input[type=file]`, { name: "done.png", mimeType: "image/png", buffer: PNG });
  await dept.page.click(`${respond} button[type=submit]`);
  await dept.page.waitForFunction(() => document.querySelector("#case-state").dataset.state === "responded", null, { timeout: 15000 });
  console.log(`${screen}: department signed for ${accepted} (the operator's dispatch: ${dispatched}); tiles ${t.map((x) => `${x.id}=${x.n}`).join(" ")}`);
  await dept.ctx.close();

  // Grid worker: 待核查 / 待核实 / 我的上报; verifies the first responded case if any waits.
  await gw.page.goto(`${base}/`);
  t = await tiles(gw.page);
  need(["to-check", "to-verify", "my-reports"].every((k) => t.some((x) => x.id === k)), `grid worker tiles ${JSON.stringify(t)}`);
  await shot(gw.page, "gridworker");
  rows = await open(gw.page, "to-check");
  need(rows.length === Math.min(t.find((x) => x.id === "to-check").n, 50), "待核查 lists what the tile counts");
  need(rows.includes(String(dispatched)), `待核查 lists the case ${dispatched} the department reported back on`);
  const v = await actOnFirst(gw.page, rows, "verify", null, "verified");
  console.log(`${screen}: grid worker verified ${v}; tiles ${t.map((x) => `${x.id}=${x.n}`).join(" ")}`);
  await gw.page.goto(`${base}/`);
  rows = await open(gw.page, "my-reports");
  need(rows.length === Math.min(t.find((x) => x.id === "my-reports").n, 50), "我的上报 lists what the tile counts");
  need(rows.includes(String(reported)), `我的上报 lists the report ${reported}`);
  await gw.ctx.close();

  // Leader: the day's figures; the overdue ones open highlighted.
  const leader = await as("leader");
  t = await tiles(leader.page);
  need(["reported-today", "closed-today", "overdue-now", "on-time-rate"].every((k) => t.some((x) => x.id === k)), `leader tiles ${JSON.stringify(t)}`);
  await shot(leader.page, "leader");
  rows = await open(leader.page, "overdue-now");
  if (rows.length > 0) {
    need(await leader.page.$eval("#worklist tbody tr", (r) => r.classList.contains("overdue")), "overdue rows are highlighted");
  }
  await shot(leader.page, "leader-overdue");
  console.log(`${screen}: leader ${t.map((x) => `${x.id}=${x.n}`).join(" ")}`);
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
  page.on("pageerror", (e) => { throw e; });
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
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// The case loop in a real headless Chromium on a phone-sized screen: a grid worker reports a
// problem with a photo and a GPS position (first while offline: the report waits in the queue
// and goes out when the connection is back); the operator files and dispatches it; the
// department accepts and responds with a photo; the grid worker verifies; the operator closes.
// usage: node case.js BASE_URL DEMO_PASSWORD SCREENSHOT_DIR
const { chromium } = require("playwright-core");
const { loginAs } = require("./login");
const { acceptConfirm } = require("./lib/confirm");

const [base, password, outDir] = process.argv.slice(2);
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "zh-CN" };

const as = (browser, user, extra) => loginAs(browser, base, Object.assign({}, phone, extra || {}), user, password);

async function act(page, id, command, fill, expectState) {
  await page.goto(`${base}/cases/${id}`);
  const form = `form[data-command=${command}]`;
  await page.waitForSelector(form, { timeout: 15000 });
  if (fill) await fill(page, form);
  // 结案 and 作废 ask first (data-confirm).
  const asks = await page.getAttribute(form, "data-confirm");
  await page.click(`${form} button[type=submit]`);
  if (asks) await acceptConfirm(page);
  await page.waitForFunction((s) => {
    const el = document.querySelector("#case-state");
    return el && el.dataset.state === s;
  }, expectState, { timeout: 15000 }).catch(async (e) => {
    throw new Error(`${command}: state did not become ${expectState}: ${await page.locator("#case-msg").innerText()} ${e}`);
  });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const worker = "gw370304001001041";
  // Where the grid worker's first grid is: the middle of its bounding box.
  const gw = await as(browser, worker, { permissions: ["geolocation"], geolocation: { longitude: 0, latitude: 0 } });
  const spot = await gw.page.evaluate(async () => {
    const list = await (await fetch("/api/grids?limit=1", { credentials: "same-origin" })).json();
    const g = await (await fetch("/api/grids/" + list.items[0].code, { credentials: "same-origin" })).json();
    const ring = g.boundary.type === "Polygon" ? g.boundary.coordinates[0] : g.boundary.coordinates[0][0];
    const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
    return { longitude: (Math.min(...xs) + Math.max(...xs)) / 2, latitude: (Math.min(...ys) + Math.max(...ys)) / 2 };
  });
  await gw.ctx.setGeolocation(spot);
  await gw.page.goto(`${base}/report`);
  await gw.page.waitForFunction(() => document.querySelectorAll("#minor option").length > 0, null, { timeout: 15000 });
  await gw.page.click("#locate");
  await gw.page.waitForFunction(() => document.getElementById("lon").value !== "", null, { timeout: 15000 });
  await gw.page.selectOption("#major", "SJ01");
  await gw.page.selectOption("#minor", "SJ0102");
  await gw.page.setInputFiles("#photos", { name: "rubbish.png", mimeType: "image/png", buffer: PNG });
  await gw.page.fill("#description", "小区门口暴露垃圾，约两立方");
  // Offline: the report waits in the queue.
  await gw.ctx.setOffline(true);
  await gw.page.click("#submit");
  await gw.page.waitForFunction(() => /待发送|Waiting/.test(document.getElementById("queue-msg").textContent), null, { timeout: 15000 });
  // Back online: it goes out by itself.
  await gw.ctx.setOffline(false);
  await gw.page.waitForFunction(() => document.getElementById("report-msg").dataset.caseId, null, { timeout: 30000 });
  const id = await gw.page.evaluate(() => document.getElementById("report-msg").dataset.caseId);
  await gw.page.screenshot({ path: `${outDir}/case-report-phone.png` });
  console.log(`reported case ${id}: ${await gw.page.locator("#report-msg").innerText()}`);

  const op = await as(browser, "operator1");
  await act(op.page, id, "file", null, "filed");
  await act(op.page, id, "dispatch", (p, f) => p.selectOption(`${f} select[name=department]`, "cgj"), "dispatched");
  const dept = await as(browser, "cgj01");
  await act(dept.page, id, "accept", null, "handling");
  await act(dept.page, id, "respond", async (p, f) => {
    await p.fill(`${f} textarea[name=note]`, "已清运完毕");
    await p.setInputFiles(`${f} input[type=file]`, { name: "done.png", mimeType: "image/png", buffer: PNG });
  }, "responded");
  await act(gw.page, id, "verify", null, "verified");
  await act(op.page, id, "close", null, "closed");
  const timeline = await op.page.locator("#case-timeline").innerText();
  for (const step of ["上报", "立案", "派遣", "签收", "反馈", "核查", "结案"]) {
    if (!timeline.includes(step)) throw new Error(`timeline lacks ${step}: ${timeline}`);
  }
  // People, departments and the place by name, their codes only in tooltips.
  if (timeline.includes(worker) || /\bcgj\b/.test(timeline)) throw new Error(`timeline shows codes: ${timeline}`);
  const deptShown = await op.page.locator("#case-department").innerText();
  if (!/[\u4e00-\u9fff]/.test(deptShown)) throw new Error(`the department is not by name: ${deptShown}`);
  const where = await op.page.locator("#case-place").innerText();
  if (!/[\u4e00-\u9fff]/.test(where) || /\d{6}/.test(where)) throw new Error(`the place is not by name: ${where}`);
  const photos = await op.page.locator("#case-photos img").count();
  if (photos < 2) throw new Error(`expected the report's and the response's photos, saw ${photos}`);
  // The case page's mini-map shows the position.
  await op.page.waitForSelector("#case-map canvas.maplibregl-canvas", { timeout: 15000 });
  await op.page.waitForFunction(() => window.zhiliCaseMap && window.zhiliCaseMap.loaded(), null, { timeout: 30000 });
  await op.page.screenshot({ path: `${outDir}/case-closed-phone.png`, fullPage: true });
  console.log(`case ${id} closed; ${photos} photos; timeline: ${timeline.replace(/\s+/g, " ").slice(0, 300)}`);

  await intake(browser);

  // The leader's dashboard shows the figures this case produced, with charts.
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
  const lp = await ctx.newPage();
  lp.on("pageerror", (e) => { throw e; });
  await lp.goto(`${base}/login?next=/dashboard`);
  await lp.fill("input[name=username]", "leader");
  await lp.fill("input[name=password]", password);
  await lp.click("button[type=submit].primary");
  await lp.waitForURL(`${base}/dashboard`);
  await lp.waitForFunction(() => {
    const k = document.querySelector(".kpi[data-k=closed] .v");
    return k && Number(k.textContent) >= 1 && document.querySelectorAll("#chart-trend canvas").length > 0;
  }, null, { timeout: 20000 });
  const kpis = (await lp.locator("#kpis").innerText()).replace(/\s+/g, " ");
  // No percentage of an almost empty base (the change is shown absolute then), and the class
  // donut names each major class once (event and component majors say their kind).
  const huge = (kpis.match(/[+-]\d+(\.\d+)?%/g) || []).filter((p) => Math.abs(parseFloat(p)) > 10000);
  if (huge.length) throw new Error(`dashboard shows percentages of a tiny base: ${huge}`);
  const majors = await lp.evaluate(() => echarts.getInstanceByDom(document.getElementById("chart-major")).getOption().series[0].data.map((d) => d.name));
  if (new Set(majors).size !== majors.length) throw new Error(`the class donut repeats a name: ${majors}`);
  await lp.screenshot({ path: `${outDir}/dashboard.png` });
  console.log(`dashboard: ${kpis}`);
  await browser.close();
}

// The hotline operator enters a case (热线录入) from the worklist: class, description, the
// caller's phone, and the position clicked on the map; an error from the API is shown next to
// the field it names; the stored case opens as reported from the hotline.
async function intake(browser) {
  const op = await as(browser, "operator1", { viewport: { width: 1280, height: 900 }, isMobile: false, hasTouch: false });
  const page = op.page;
  await page.goto(`${base}/cases`);
  await page.click("#new-case");
  await page.waitForURL(`${base}/cases/new`);
  await page.waitForFunction(() => document.querySelectorAll("#minor option").length > 0, null, { timeout: 15000 });
  await page.waitForFunction(() => window.zhiliIntakeMap && window.zhiliIntakeMap.loaded(), null, { timeout: 30000 });
  // Without a position: the map says so.
  await page.click("#submit");
  await page.waitForFunction(() => document.querySelector(".field-error[data-for=lon]").textContent !== "", null, { timeout: 5000 });
  // Click the middle of the map: the grid there is shown.
  await page.locator("#intake-map canvas").click();
  await page.waitForFunction(() => document.getElementById("place").dataset.grid, null, { timeout: 15000 });
  const place = await page.locator("#place").innerText();
  await page.selectOption("#major", "SJ01");
  await page.selectOption("#minor", "SJ0102");
  await page.fill("#contact", "13900001234");
  // No description: the API names the field and the page shows it there.
  await page.click("#submit");
  await page.waitForFunction(() => document.querySelector(".field-error[data-for=description]").textContent !== "", null, { timeout: 15000 });
  await page.fill("#description", "市民来电：小区门口垃圾堆放多日");
  await page.click("#submit");
  await page.waitForFunction(() => document.getElementById("intake-msg").dataset.caseId, null, { timeout: 15000 }).catch(async (e) => {
    throw new Error(`intake failed: ${await page.locator("#intake-msg").innerText()} ${e}`);
  });
  const id = await page.evaluate(() => document.getElementById("intake-msg").dataset.caseId);
  await page.screenshot({ path: `${outDir}/case-intake.png` });
  await page.goto(`${base}/cases/${id}`);
  await page.waitForFunction(() => {
    const el = document.querySelector("#case-state");
    return el && el.dataset.state === "reported";
  }, null, { timeout: 15000 });
  const summary = await page.locator("#case-summary").innerText();
  if (!summary.includes("热线") || !summary.includes("1234")) throw new Error(`intake case ${id}: ${summary}`);
  await page.waitForSelector("#case-map canvas.maplibregl-canvas", { timeout: 15000 });
  console.log(`operator entered case ${id} at ${place.replace(/\s+/g, " ")}`);

  // The worklist filtered by state and class; three cases picked and filed at once (批量立案),
  // then dispatched at once (批量派遣), each confirmed first: the list comes again in place
  // without them.
  // Two more hotline calls about the same spot, so that three are waiting.
  await page.evaluate(async (cid) => {
    const c = (await (await fetch("/api/cases/" + cid, { credentials: "same-origin" })).json()).case;
    for (const n of [1, 2]) {
      const r = await fetch("/api/cases", {
        method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" },
        body: JSON.stringify({ class_code: "SJ0102", lon: c.lon, lat: c.lat, description: `市民来电：垃圾未清运（第${n}通）`, source: "hotline" }),
      });
      if (!r.ok) throw new Error(`report: ${r.status} ${await r.text()}`);
    }
  }, id);
  await page.goto(`${base}/cases?state=reported&class=SJ0102`);
  const picked = await page.$$eval("#worklist tbody tr", (rows) => rows.slice(0, 3).map((r) => r.dataset.id));
  if (picked.length < 3) throw new Error(`worklist: too few reported SJ0102 cases: ${picked}`);
  for (const cid of picked) await page.check(`#worklist tr[data-id="${cid}"] input.pick`);
  await page.waitForFunction(() => !document.getElementById("bulk").hidden, null, { timeout: 5000 });
  await page.selectOption("#bulk select[name=command]", "file");
  await page.click("#bulk button[type=submit]");
  await acceptConfirm(page);
  // The list comes again in place: the filed cases are no longer 已上报.
  const gone = (ids) => ids.every((i) => !document.querySelector(`#worklist tr[data-id="${i}"]`));
  await page.waitForFunction(gone, picked, { timeout: 15000 }).catch(async (e) => {
    throw new Error(`bulk file: ${await page.locator("#bulk-msg").innerText()} ${e}`);
  });
  await page.goto(`${base}/cases?state=filed&class=SJ0102`);
  for (const cid of picked) await page.check(`#worklist tr[data-id="${cid}"] input.pick`);
  await page.selectOption("#bulk select[name=command]", "dispatch");
  await page.selectOption("#bulk select[name=department]", "cgj");
  await page.click("#bulk button[type=submit]");
  await acceptConfirm(page);
  await page.waitForFunction(gone, picked, { timeout: 15000 }).catch(async (e) => {
    throw new Error(`bulk dispatch: ${await page.locator("#bulk-msg").innerText()} ${e}`);
  });
  await page.screenshot({ path: `${outDir}/worklist-bulk.png` });
  const dispatched = await page.evaluate(async (ids) => Promise.all(ids.map(async (i) =>
    (await (await fetch("/api/cases/" + i, { credentials: "same-origin" })).json()).case.state)), picked);
  if (dispatched.some((st) => st !== "dispatched")) throw new Error(`bulk dispatch left ${dispatched}`);
  // A bad filter is named on the page.
  await page.goto(`${base}/cases?from=2026-13-01`);
  // Named by the field's label in the page's language; its code stays in data-field.
  const err = await page.locator("#filter-error").innerText();
  const at = await page.getAttribute("#filter-error", "data-field");
  if (!err.includes("起始日期") || at !== "from") throw new Error(`bad filter not named: ${err} (${at})`);
  console.log(`worklist: filed and dispatched cases ${picked.join(", ")} at once`);
  await op.ctx.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

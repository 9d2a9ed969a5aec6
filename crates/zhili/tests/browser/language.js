// One language at a time, in a real headless Chromium: in zh-CN and then in English the
// administrator meets the pages a user meets — login, home, the report page with a position
// outside the district, a case, the dashboard with the end date before the start, the public
// status page, an unknown address and the audit log — and on each: no raw JSON, no
// untranslated message key, in zh-CN no English word outside the allow-list of names, codes
// and units (and nothing in `.mono`, which shows codes), in English no Chinese in the page's
// own words (headings, labels, buttons, table heads, messages). The bad position's error is
// the text in the page's language under the position field. Every page also gets the shared
// checks of lib/checks.js (no horizontal scroll at 360 px, every field labelled).
// usage: node language.js BASE_URL ADMIN_PASSWORD KEYS_JSON SCREENSHOT_DIR
const { chromium } = require("playwright-core");
const { checker } = require("./lib/checks");
const { acceptConfirm } = require("./lib/confirm");

const [base, password, keysFile, outDir] = process.argv.slice(2);
// Outside the district: Beijing's Tiananmen (the demo district is in Shandong).
const BEIJING = { longitude: 116.4, latitude: 39.9 };
const checks = checker(keysFile, outDir);
const fail = checks.fail;
const check = (page, lang, name) => checks.check(page, lang, name, `language-${lang}-${name}.png`);

async function story(browser, lang) {
  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: lang === "en" ? "en-GB" : "zh-CN",
    permissions: ["geolocation"], geolocation: BEIJING,
  });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => fail(lang, page.url(), `script error ${e}`));
  const zh = lang === "zh-CN";

  // Login (before logging in: the language is the browser's).
  await page.goto(`${base}/login`);
  await check(page, lang, "login");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit].primary");
  await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 15000 });
  // The administrator's own setting wins once logged in: switch it to this story's language.
  if ((await page.getAttribute("html", "lang")) !== lang) {
    await page.click("#switch-language");
    await page.waitForFunction((l) => document.documentElement.lang === l, lang, { timeout: 15000 });
  }
  await page.goto(`${base}/`);
  await check(page, lang, "home");

  // The report page: a position outside the district is refused, in words, at the position.
  await page.goto(`${base}/report`);
  await page.waitForFunction(() => document.querySelectorAll("#minor option").length > 0, null, { timeout: 15000 });
  await page.click("#locate");
  await page.waitForFunction(() => document.getElementById("lon").value !== "", null, { timeout: 15000 });
  await page.fill("#description", zh ? "路口井盖缺失" : "A manhole cover is missing");
  await page.click("#submit");
  await page.waitForFunction(() => document.getElementById("position-error").textContent !== "", null, { timeout: 15000 })
    .catch(async () => fail(lang, "report", `no error at the position: ${await page.locator("#report-msg").innerText()}`));
  const shown = await page.locator("#position-error").innerText();
  const expected = zh ? /^位置 116\.4\d*, 39\.9\d* 不在本辖区范围内$/ : /^The position 116\.4\d*, 39\.9\d* is outside the district$/;
  if (!expected.test(shown)) fail(lang, "report", `the position's error is ${JSON.stringify(shown)}`);
  if ((await page.getAttribute("#position", "aria-describedby")) !== "position-error") fail(lang, "report", "the position does not point at its error");
  await check(page, lang, "report");

  // A case page, and a command refused for a missing field (shown at that field).
  const id = await page.evaluate(async () => (await (await fetch("/api/cases?limit=1", { credentials: "same-origin" })).json()).items[0].id);
  await page.goto(`${base}/cases/${id}`);
  await page.waitForSelector("#case-summary dl", { timeout: 15000 });
  const form = await page.$("form[data-command=void], form[data-command=return], form[data-command=shelve], form[data-command=defer], form[data-command=reopen]");
  if (form) {
    const confirms = await form.evaluate((f) => f.hasAttribute("data-confirm"));
    await form.$eval("button[type=submit]", (b) => b.click());
    // 作废 asks first; confirmed, the server refuses it for the missing reason.
    if (confirms) await acceptConfirm(page);
    await page.waitForFunction(() => Array.prototype.some.call(document.querySelectorAll("#case-actions .field-error"), (e) => e.textContent !== ""), null, { timeout: 15000 })
      .catch(async () => fail(lang, "case", `no error at the field: ${await page.locator("#case-msg").innerText()}`));
  }
  await check(page, lang, "case");

  // The dashboard with the end before the start: the error under the end date.
  await page.goto(`${base}/dashboard`);
  await page.waitForSelector("#dash-form", { timeout: 15000 });
  await page.fill("#dash-from", "2026-03-10");
  await page.fill("#dash-to", "2026-03-01");
  await page.click("#dash-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("dash-to-error").textContent !== "", null, { timeout: 15000 })
    .catch(async () => fail(lang, "dashboard", `no error at the end date: ${await page.locator("#dash-msg").innerText()}`));
  const dateError = await page.locator("#dash-to-error").innerText();
  if (dateError !== (zh ? "截止日期须晚于起始日期" : "The end date must be after the start date")) fail(lang, "dashboard", `the date error is ${JSON.stringify(dateError)}`);
  await check(page, lang, "dashboard");

  // The public status page of a publicly reported case (internal cases have none): one a
  // citizen reports through Open311, at the position of the case above.
  const publicId = await page.evaluate(async (caseId) => {
    const c = (await (await fetch(`/api/cases/${caseId}`, { credentials: "same-origin" })).json()).case;
    const body = new URLSearchParams({ service_code: c.class_code, lat: c.lat, long: c.lon, description: "路灯不亮，公众上报" });
    const r = await fetch("/open311/v2/requests.json", { method: "POST", body });
    return (await r.json())[0].service_request_id;
  }, id);
  await page.goto(`${base}/public/requests/${publicId}`);
  const status = await page.locator("#status-open").innerText();
  if (zh ? /[A-Za-z]/.test(status) : /[\u3400-\u9fff]/.test(status)) fail(lang, "status", `the state is ${JSON.stringify(status)}`);
  await check(page, lang, "status");

  // An unknown address: the HTML 404 page in the frame, not JSON.
  const r = await page.goto(`${base}/no/such/page`);
  if (r.status() !== 404) fail(lang, "unknown", `status ${r.status()}`);
  if (!(await page.$("header.top .brand"))) fail(lang, "unknown", "not in the frame");
  const notFound = await page.locator("main").innerText();
  if (!notFound.includes(zh ? "页面不存在" : "No such page")) fail(lang, "unknown", notFound);
  await check(page, lang, "unknown");

  // The audit log: actions and outcomes by label, their codes in the tooltip.
  await page.goto(`${base}/audit`);
  await page.waitForSelector("td.audit-action", { timeout: 15000 });
  const codes = await page.$$eval("td.audit-action", (tds) => tds.map((td) => [td.textContent, td.title]));
  if (!codes.some(([label, code]) => label !== code)) fail(lang, "audit", `no action is labelled: ${JSON.stringify(codes.slice(0, 5))}`);
  await check(page, lang, "audit");
  await ctx.close();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    await story(browser, "zh-CN");
    await story(browser, "en");
  } finally {
    await browser.close();
  }
  checks.finish("language: zh-CN and English pages checked");
}

main().catch((e) => { console.error(e); process.exit(1); });

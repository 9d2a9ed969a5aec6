// Flash floods in a real headless Chromium: the duty officer starts the demo's storm from the
// duty screen, sees villages warned, opens a warning (recipients, trail, CAP), a village (its
// indicators against the rain) and a station (its chart and raw frames), turns the One Map's
// flood layers on; a responsible person with an account acknowledges on a phone. Every page
// gets the shared checks (lib/checks.js), in zh-CN and then the duty pages in English.
// usage: node flood.js BASE_URL ADMIN_PASSWORD DEMO_PASSWORD KEYS_JSON SCREENSHOT_DIR
const { chromium } = require("playwright-core");
const { checker } = require("./lib/checks");

const [base, adminPassword, demoPassword, keysFile, outDir] = process.argv.slice(2);
const checks = checker(keysFile, outDir);
const fail = checks.fail;
const check = (page, lang, name) => checks.check(page, lang, name, `flood-${lang}-${name}.png`);

async function login(page, user, password, next) {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit].primary");
  await page.waitForURL((u) => u.pathname === next, { timeout: 15000 });
}

// The API with the page's session, outside the page (the duty screen reloads itself).
async function api(page, url) {
  const r = await page.request.get(`${base}${url}`);
  return r.json();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--use-gl=swiftshader", "--enable-unsafe-swiftshader"],
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => fail("zh-CN", page.url(), `script error ${e}`));
  page.on("response", (r) => { if (r.status() >= 500) fail("zh-CN", page.url(), `${r.status()} for ${r.url()}`); });

  // The duty screen, quiet; the storm starts from its button.
  await login(page, "admin", adminPassword, "/flood");
  await check(page, "zh-CN", "duty-quiet");
  await page.selectOption("#storm-form select[name=hours]", "3");
  await page.selectOption("#storm-form select[name=speed]", "120");
  await page.click("#storm-form button[type=submit]");
  await page.waitForFunction(() => /自动站开始发送/.test(document.getElementById("storm-msg").textContent), null, { timeout: 15000 });
  // Warnings follow the frames (3 h at 120×: about 1.5 minutes of storm).
  let warnings = [];
  for (let i = 0; i < 240 && warnings.length === 0; i++) {
    await page.waitForTimeout(500);
    warnings = (await api(page, "/api/flood/warnings?active=true")).items || [];
  }
  if (!warnings.length) throw new Error("the storm raised no warning within 2 minutes");
  await page.goto(`${base}/flood`);
  const rows = await page.locator("#duty-warnings tbody tr").count();
  if (rows < 1) throw new Error("the duty screen lists no warning");
  await check(page, "zh-CN", "duty-storm");

  // One warning: recipients, trail, CAP documents.
  const id = warnings[warnings.length - 1].id;
  await page.click(`#duty-warnings tr[data-warning="${id}"] a`);
  await page.waitForURL(`${base}/flood/warnings/${id}`);
  for (const sel of ["#recipients tbody tr", "#trail tbody tr", "#caps li"]) {
    if ((await page.locator(sel).count()) < 1) throw new Error(`the warning page has no ${sel}`);
  }
  await check(page, "zh-CN", "warning");
  const cap = await page.getAttribute("#caps li a", "href");
  const xml = await (await page.request.get(`${base}${cap}`)).text();
  if (!xml.includes("<responseType>")) throw new Error(`the CAP document has no responseType: ${xml.slice(0, 200)}`);

  // Its village: the indicators against the current rain.
  const detail = await api(page, `/api/flood/warnings/${id}`);
  const village = detail.warning.village;
  await page.goto(`${base}/flood/villages/${village}`);
  if ((await page.locator("#indicators tbody tr").count()) < 3) throw new Error("the village page shows no indicators");
  await check(page, "zh-CN", "village");
  await page.goto(`${base}/flood/villages`);
  await check(page, "zh-CN", "villages");

  // A station of the village: its chart (a canvas) and its raw frames.
  const station = (await api(page, `/api/flood/villages/${village}`)).village.stations[0];
  await page.goto(`${base}/flood/stations`);
  await check(page, "zh-CN", "stations");
  await page.goto(`${base}/flood/stations/${station}`);
  await page.waitForFunction(() => document.querySelector("#station-chart canvas") && document.querySelectorAll("#frames tbody tr").length > 0, null, { timeout: 20000 });
  await check(page, "zh-CN", "station");

  // The One Map's flood layers.
  await page.goto(`${base}/map`);
  await page.waitForFunction(() => window.zhiliMap && window.zhiliMap.loaded(), null, { timeout: 30000 });
  for (const id of ["flood-villages", "flood-stations", "flood-rain"]) await page.click(`#toggle-${id}`);
  await page.waitForFunction(() => {
    const m = window.zhiliMap;
    const src = (id) => { const s = m.getSource(id); return s && (s.serialize ? s.serialize().data : s._data); };
    const v = src("flood-villages"), s = src("flood-stations");
    return v && v.features && v.features.some((f) => f.properties.grade) && s && s.features && s.features.length > 400;
  }, null, { timeout: 20000 });
  const visible = await page.evaluate(() => ["flood-villages-fill", "flood-stations-points", "flood-rain"].map((l) => window.zhiliMap.getLayoutProperty(l, "visibility")));
  if (visible.some((v) => v !== "visible")) throw new Error(`flood layers not all visible: ${visible}`);
  await page.screenshot({ path: `${outDir}/flood-map.png` });

  // A responsible person with an account acknowledges on a phone.
  const person = detail.warning.recipients.map((r) => r.person).find((p) => /^user:\d+$/.test(p.id));
  if (!person) throw new Error("no recipient of the warning has an account");
  const user = await api(page, `/api/users/${person.id.slice(5)}`);
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN", isMobile: true, hasTouch: true });
  const p2 = await phone.newPage();
  p2.on("pageerror", (e) => fail("zh-CN", p2.url(), `script error ${e}`));
  await login(p2, user.username, demoPassword, `/flood/warnings/${id}`);
  await p2.click("#warning-actions button[data-action=ack]");
  await p2.waitForFunction(() => {
    const me = document.querySelector("#recipients tr.me");
    return me && me.querySelector(".badge.good");
  }, null, { timeout: 15000 });
  await check(p2, "zh-CN", "warning-acknowledged-phone");

  // The same pages in English.
  await page.goto(`${base}/flood`);
  await page.click("#switch-language");
  await page.waitForFunction(() => document.documentElement.lang === "en", null, { timeout: 15000 });
  await check(page, "en", "duty");
  await page.goto(`${base}/flood/warnings/${id}`);
  await check(page, "en", "warning");
  await page.goto(`${base}/flood/stations/${station}`);
  await page.waitForFunction(() => document.querySelector("#station-chart canvas"), null, { timeout: 20000 });
  await check(page, "en", "station");
  await page.goto(`${base}/flood/villages/${village}`);
  await check(page, "en", "village");
  // Back to Chinese for the stories after this one.
  await page.click("#switch-language");
  await page.waitForFunction(() => document.documentElement.lang === "zh-CN", null, { timeout: 15000 });
  await browser.close();
  checks.finish(`flood: storm started, ${warnings.length}+ warnings, warning ${id} acknowledged by ${user.username}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

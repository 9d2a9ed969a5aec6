// Photos, the clock and the maps' search and popups in a real headless Chromium, on a desktop
// and a phone. A case is made through the API with a report photo and a response photo
// (report, file, dispatch, accept, respond); its page shows 处置前 and 处置后 side by side on a
// desktop (stacked on a phone) from thumbnails; a tap opens the viewer on the full image, next
// (button, arrow key or swipe) goes to the other photo, Esc closes it; the countdown carries its
// traffic light. The hotline intake page finds the case's grid by name and moves the pin into
// it; the One Map's popup of the case shows its thumbnail and deadline with its light.
// usage: node photos.js BASE_URL DEMO_PASSWORD SCREENSHOT_DIR
const { chromium } = require("playwright-core");
const { loginAs } = require("./login");

const [base, password, outDir] = process.argv.slice(2);
const desktop = { viewport: { width: 1440, height: 900 }, locale: "zh-CN" };
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "zh-CN" };

function need(ok, what) { if (!ok) throw new Error(what); }

// In the page (logged in): a w × h PNG of one colour with a stripe, uploaded; answers its id.
async function upload(page, colour, w, h) {
  return page.evaluate(async ([colour, w, h]) => {
    const c = document.createElement("canvas");
    c.width = w; c.height = h;
    const g = c.getContext("2d");
    g.fillStyle = colour; g.fillRect(0, 0, w, h);
    g.fillStyle = "#fff"; g.fillRect(0, h / 3, w, h / 6);
    const blob = await new Promise((r) => c.toBlob(r, "image/png"));
    const r = await fetch("/api/attachments", { method: "POST", credentials: "same-origin", headers: { "content-type": "image/png" }, body: blob });
    const b = await r.json();
    if (!r.ok) throw new Error("upload: " + JSON.stringify(b));
    return b.id;
  }, [colour, w, h]);
}

async function call(page, method, url, body) {
  return page.evaluate(async ([method, url, body]) => {
    const r = await fetch(url, { method, credentials: "same-origin", headers: { "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
    const b = await r.json();
    if (!r.ok) throw new Error(method + " " + url + ": " + JSON.stringify(b));
    return b;
  }, [method, url, body]);
}

async function transition(page, id, command, extra) {
  const d = await call(page, "GET", `/api/cases/${id}`);
  return call(page, "POST", `/api/cases/${id}/transitions`, Object.assign({ version: d.case.version, command }, extra || {}));
}

// A case with a report photo and a department's response photo.
async function makeCase(browser) {
  const op = await loginAs(browser, base, desktop, "operator1", password);
  const spot = await op.page.evaluate(async () => {
    const list = await (await fetch("/api/grids?limit=50", { credentials: "same-origin" })).json();
    const g = list.items.sort((a, b) => b.level - a.level)[0];
    const full = await (await fetch("/api/grids/" + g.code, { credentials: "same-origin" })).json();
    const ring = full.boundary.type === "Polygon" ? full.boundary.coordinates[0] : full.boundary.coordinates[0][0];
    const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
    return { lon: (Math.min(...xs) + Math.max(...xs)) / 2, lat: (Math.min(...ys) + Math.max(...ys)) / 2 };
  });
  const before = await upload(op.page, "#b54708", 1600, 1200);
  const r = await call(op.page, "POST", "/api/cases", { class_code: "SJ0102", lon: spot.lon, lat: spot.lat, description: "路口暴露垃圾，约一立方", photos: [before] });
  const id = r.case.id;
  need(r.case.thumb === `/api/attachments/${before}?size=thumb`, `the case names its thumbnail: ${r.case.thumb}`);
  await transition(op.page, id, "file");
  await transition(op.page, id, "dispatch", { department: "cgj" });
  const dept = await loginAs(browser, base, desktop, "cgj01", password);
  await transition(dept.page, id, "accept");
  const after = await upload(dept.page, "#067647", 1200, 1600);
  await transition(dept.page, id, "respond", { note: "已清运完毕", photos: [after] });
  await dept.ctx.close();
  return { op, id, before, after, spot };
}

// The case page on one screen: labelled sets, layout, thumbnails, the viewer, the countdown.
async function casePage(browser, c, screen) {
  const s = screen === "phone" ? await loginAs(browser, base, phone, "operator1", password) : { page: c.op.page, ctx: null };
  const page = s.page;
  await page.goto(`${base}/cases/${c.id}`);
  await page.waitForSelector("#case-photos figure[data-set=after] img", { timeout: 15000 });
  const sets = await page.evaluate(() => ["before", "after"].map((k) => {
    const f = document.querySelector(`#case-photos figure[data-set=${k}]`), r = f.getBoundingClientRect(), img = f.querySelector("img");
    return { caption: f.querySelector("figcaption").textContent, x: r.x, y: r.y, src: img.getAttribute("src") };
  }));
  need(sets[0].caption === "处置前" && sets[1].caption === "处置后", `captions ${JSON.stringify(sets)}`);
  need(sets[0].src === `/api/attachments/${c.before}?size=thumb` && sets[1].src === `/api/attachments/${c.after}?size=thumb`, `thumbnails ${JSON.stringify(sets)}`);
  if (screen === "desktop") need(Math.abs(sets[0].y - sets[1].y) < 2 && sets[1].x > sets[0].x + 100, `side by side on a desktop: ${JSON.stringify(sets)}`);
  else need(sets[1].y > sets[0].y + 50 && Math.abs(sets[0].x - sets[1].x) < 2, `stacked on a phone: ${JSON.stringify(sets)}`);
  // The thumbnails are the small images the server made (≤ 320 px), loaded.
  await page.waitForFunction(() => Array.from(document.querySelectorAll("#case-photos img")).every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 15000 });
  const sizes = await page.evaluate(() => Array.from(document.querySelectorAll("#case-photos img")).map((i) => [i.naturalWidth, i.naturalHeight]));
  need(JSON.stringify(sizes) === JSON.stringify([[320, 240], [240, 320]]), `thumbnail sizes ${JSON.stringify(sizes)}`);
  // The countdown with its light.
  const cd = await page.evaluate(() => { const e = document.getElementById("case-countdown"); return e && { cls: e.className, light: e.dataset.light, text: e.textContent }; });
  need(cd && /\blight-(green|yellow|red)\b/.test(cd.cls) && cd.cls.includes("light-" + cd.light), `countdown ${JSON.stringify(cd)}`);
  need(/^(剩余 |已超时)/.test(cd.text) && !/[A-Za-z]/.test(cd.text), `countdown text ${JSON.stringify(cd)}`);
  const tips = await page.evaluate(() => Array.from(document.querySelectorAll("#case-summary time")).map((t) => t.title + " " + t.textContent));
  need(tips.length >= 2 && tips.every((t) => /^UTC\+08:00 \d{4}-\d\d-\d\d \d\d:\d\d$/.test(t)), `local times with the zone ${JSON.stringify(tips)}`);
  await page.screenshot({ path: `${outDir}/photos-case-${screen}.png`, fullPage: true });

  // The viewer: open on 处置前 (tap or click), next → 处置后, back, Esc closes, focus returns.
  const first = page.locator("#case-photos figure[data-set=before] button.thumb");
  if (screen === "phone") await first.tap(); else await first.click();
  await page.waitForSelector("#photo-viewer:not([hidden])", { timeout: 5000 });
  const viewer = async () => page.evaluate(() => {
    const v = document.getElementById("photo-viewer");
    return { hidden: v.hidden, role: v.getAttribute("role"), modal: v.getAttribute("aria-modal"), src: v.querySelector("img").getAttribute("src"),
      caption: document.getElementById("photo-viewer-caption").textContent, focus: document.activeElement && document.activeElement.getAttribute("aria-label"),
      labels: Array.from(v.querySelectorAll("button")).map((b) => b.getAttribute("aria-label")) };
  });
  let v = await viewer();
  need(v.role === "dialog" && v.modal === "true" && v.labels.join() === "上一张,下一张,关闭" && v.focus === "关闭", `viewer dialog ${JSON.stringify(v)}`);
  need(v.src === `/api/attachments/${c.before}` && v.caption.startsWith("处置前"), `viewer opens on the full 处置前 photo: ${JSON.stringify(v)}`);
  await page.waitForFunction(() => { const i = document.querySelector("#photo-viewer img"); return i.complete && i.naturalWidth === 1600; }, null, { timeout: 15000 });
  await page.screenshot({ path: `${outDir}/photos-viewer-${screen}.png` });
  if (screen === "phone") {
    // A swipe to the left goes to the next photo.
    await page.evaluate(() => {
      const v = document.getElementById("photo-viewer");
      const t = (x) => new Touch({ identifier: 1, target: v, clientX: x, clientY: 400 });
      v.dispatchEvent(new TouchEvent("touchstart", { touches: [t(300)], changedTouches: [t(300)], bubbles: true }));
      v.dispatchEvent(new TouchEvent("touchend", { touches: [], changedTouches: [t(120)], bubbles: true }));
    });
  } else {
    await page.click("#photo-viewer .viewer-next");
  }
  v = await viewer();
  need(v.src === `/api/attachments/${c.after}` && v.caption.startsWith("处置后"), `next goes to 处置后: ${JSON.stringify(v)}`);
  await page.keyboard.press("ArrowRight");
  v = await viewer();
  need(v.caption.startsWith("处置前"), `ArrowRight wraps to 处置前: ${JSON.stringify(v)}`);
  await page.keyboard.press("Escape");
  v = await viewer();
  need(v.hidden, "Esc closes the viewer");
  const back = await page.evaluate(() => document.activeElement && document.activeElement.classList.contains("thumb"));
  need(back, "focus returns to the thumbnail");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  need(overflow <= 0, `${screen}: horizontal scroll of ${overflow}px`);
  console.log(`${screen}: case ${c.id} photos ${JSON.stringify(sets.map((x) => x.caption))}, thumbnails ${JSON.stringify(sizes)}, countdown ${cd.light} "${cd.text}"`);
  if (s.ctx) await s.ctx.close();
}

// The hotline intake: the case's grid found by its name, picked, and the pin is inside it.
async function intakeSearch(browser, c) {
  const op = await loginAs(browser, base, desktop, "operator1", password);
  const page = op.page;
  const g = await page.evaluate(async (id) => {
    const d = await (await fetch("/api/cases/" + id, { credentials: "same-origin" })).json();
    return (await (await fetch("/api/grids/" + d.case.grid, { credentials: "same-origin" })).json());
  }, c.id);
  await page.goto(`${base}/cases/new`);
  await page.waitForFunction(() => window.zhiliIntakeMap && window.zhiliIntakeMap.loaded(), null, { timeout: 30000 });
  // Part of a name (its first two characters) lists places; the whole name puts it first.
  await page.fill("#place-q", g.name.slice(0, 2));
  await page.waitForFunction(() => document.querySelectorAll("#place-results button").length > 0, null, { timeout: 15000 });
  const some = await page.locator("#place-results button").count();
  await page.fill("#place-q", g.name);
  await page.waitForFunction((code) => { const b = document.querySelector("#place-results button"); return b && b.dataset.code === code; }, g.code, { timeout: 15000 });
  await page.screenshot({ path: `${outDir}/photos-intake-search.png` });
  const lonBefore = await page.inputValue("#lon");
  await page.click("#place-results button");
  await page.waitForFunction((code) => document.getElementById("place").dataset.grid === code, g.code, { timeout: 15000 }).catch(async (e) => {
    throw new Error(`picking ${g.name} put the pin in ${await page.locator("#place").innerText()}: ${e}`);
  });
  const lon = await page.inputValue("#lon");
  need(lon !== lonBefore && lon !== "", `the pin moved: ${lonBefore} → ${lon}`);
  const hint = await page.evaluate(() => { const h = document.querySelector("#intake-map .map-hint"); return h && { hidden: h.hidden, text: h.textContent }; });
  need(hint && hint.text === "放大查看网格", `the zoom hint ${JSON.stringify(hint)}`);
  await page.screenshot({ path: `${outDir}/photos-intake-picked.png` });
  console.log(`intake: "${g.name.slice(0, 2)}" lists ${some} places; "${g.name}" first; picked → ${await page.locator("#place").innerText()}`);
  await op.ctx.close();
}

// The One Map: the cases layer's popup of this case shows its thumbnail and deadline.
async function mapPopup(c) {
  const page = c.op.page;
  await page.goto(`${base}/map`);
  await page.waitForFunction(() => window.zhiliMap && window.zhiliMap.loaded(), null, { timeout: 30000 });
  await page.click("#toggle-cases");
  await page.evaluate((s) => window.zhiliMap.jumpTo({ center: [s.lon, s.lat], zoom: 17 }), c.spot);
  await page.waitForFunction(() => document.querySelector("#cases-msg").dataset.loaded === "points", null, { timeout: 20000 });
  await page.waitForFunction((id) => window.zhiliMap.loaded() && window.zhiliMap.queryRenderedFeatures({ layers: ["cases-points"] }).some((f) => f.properties.id === id), c.id, { timeout: 20000 });
  const at = await page.evaluate((id) => {
    const f = window.zhiliMap.queryRenderedFeatures({ layers: ["cases-points"] }).find((x) => x.properties.id === id);
    const p = window.zhiliMap.project(f.geometry.coordinates);
    return { x: p.x, y: p.y };
  }, c.id);
  const box = await page.locator("#map").boundingBox();
  await page.mouse.click(box.x + at.x, box.y + at.y);
  await page.waitForSelector(`.maplibregl-popup .case-popup[data-id='${c.id}'] img.popup-thumb`, { timeout: 15000 });
  await page.waitForFunction(() => { const i = document.querySelector(".maplibregl-popup img.popup-thumb"); return i.complete && i.naturalWidth > 0 && i.naturalWidth <= 320; }, null, { timeout: 15000 });
  const pop = await page.evaluate(() => {
    const p = document.querySelector(".maplibregl-popup .case-popup");
    const l = p.querySelector(".countdown");
    return { text: p.innerText.replace(/\s+/g, " "), src: p.querySelector("img").getAttribute("src"), light: l && l.dataset.light };
  });
  need(pop.src === `/api/attachments/${c.before}?size=thumb`, `popup thumbnail ${JSON.stringify(pop)}`);
  need(/时限: \d{4}-\d\d-\d\d \d\d:\d\d/.test(pop.text) && /^(green|yellow|red)$/.test(pop.light || ""), `popup deadline and light ${JSON.stringify(pop)}`);
  need(pop.text.includes("暴露垃圾") && /处置部门: \S/.test(pop.text) && !pop.text.includes("处置部门: cgj"), `popup class and department by name ${JSON.stringify(pop)}`);
  await page.screenshot({ path: `${outDir}/photos-map-popup.png` });
  console.log(`map popup: ${pop.text}`);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const c = await makeCase(browser);
  await casePage(browser, c, "desktop");
  await casePage(browser, c, "phone");
  await intakeSearch(browser, c);
  await mapPopup(c);
  await browser.close();
}

main().catch((e) => { console.error(e); process.exit(1); });

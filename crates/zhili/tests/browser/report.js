// A grid worker's report page (上报) on a phone (390×844, zh-CN) in a real headless Chromium,
// where a report must never be lost:
// (a) GPS permission refused: the pin map appears at once; a tap places the pin, the grid's name
//     is shown before sending, and the case is filed at the pin's position (checked by the API);
// (b) a report the server refuses (the pin put outside the district: said at the place before
//     sending, then refused at the position) keeps its draft — class, description and both photos
//     stay in the form; a reload brings the draft back from the browser's store; with the pin
//     moved back inside it goes in and the form is cleared;
// (c) of two photos one is removed before sending (its labelled button): only the other one is
//     uploaded (the case has one photo, the JPEG that was kept).
// usage: node report.js BASE_URL DEMO_PASSWORD SCREENSHOT_DIR
const { chromium } = require("playwright-core");
const { loginAs } = require("./login");

const [base, password, outDir] = process.argv.slice(2);
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
// The smallest JPEG: its first bytes are what the server checks.
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from("JFIF\0\x01\x01\0\0\x01\0\x01\0\0"), Buffer.from([0xff, 0xd9])]);
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "zh-CN" };

function check(ok, what) { if (!ok) throw new Error(what); }

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // No geolocation permission: the page's GPS request is refused.
  const { ctx, page } = await loginAs(browser, base, phone, "gw370304001001041", password);
  // The worker answers the browser's question "allow location?" with no (headless Chromium
  // would leave it unanswered): every request for a position fails with PERMISSION_DENIED.
  await ctx.addInitScript(() => {
    const denied = { code: 1, message: "User denied Geolocation", PERMISSION_DENIED: 1, POSITION_UNAVAILABLE: 2, TIMEOUT: 3 };
    navigator.geolocation.getCurrentPosition = (ok, fail) => setTimeout(() => fail && fail(denied), 50);
    navigator.geolocation.watchPosition = (ok, fail) => { setTimeout(() => fail && fail(denied), 50); return 1; };
  });
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  const wait = (fn, arg, ms) => page.waitForFunction(fn, arg, { timeout: ms || 20000 });
  const text = (sel) => page.locator(sel).innerText();

  // Where the worker's first grid is: the middle of its bounding box.
  const spot = await page.evaluate(async () => {
    const list = await (await fetch("/api/grids?limit=1", { credentials: "same-origin" })).json();
    const g = await (await fetch("/api/grids/" + list.items[0].code, { credentials: "same-origin" })).json();
    const ring = g.boundary.type === "Polygon" ? g.boundary.coordinates[0] : g.boundary.coordinates[0][0];
    const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
    const lon = (Math.min(...xs) + Math.max(...xs)) / 2, lat = (Math.min(...ys) + Math.max(...ys)) / 2;
    // The finest grid there (the listed one may be a large grid over smaller ones).
    const chain = await (await fetch(`/api/locate?lon=${lon}&lat=${lat}`, { credentials: "same-origin" })).json();
    const finest = chain.filter((c) => c.kind === "grid")[0];
    return { lon, lat, code: finest.code, name: finest.name };
  });

  // Tap the map where [lon, lat] is (centred there first).
  async function tapAt(lon, lat) {
    await wait(() => window.zhiliReportMap && window.zhiliReportMap.loaded());
    await page.evaluate(([x, y]) => window.zhiliReportMap.jumpTo({ center: [x, y], zoom: 16 }), [lon, lat]);
    await wait(() => !window.zhiliReportMap.isMoving());
    await page.locator("#pin-map").scrollIntoViewIfNeeded();
    const box = await page.locator("#pin-map canvas").boundingBox();
    const p = await page.evaluate(([x, y]) => window.zhiliReportMap.project([x, y]), [lon, lat]);
    await page.mouse.click(box.x + p.x, box.y + p.y);
  }
  async function fillReport(description) {
    await wait(() => document.querySelectorAll("#minor option").length > 0 && document.getElementById("report").dataset.ready === "1");
    await page.selectOption("#major", "SJ01");
    await page.selectOption("#minor", "SJ0102");
    await page.fill("#description", description);
  }
  async function caseOf(id) {
    return page.evaluate(async (n) => (await (await fetch(`/api/cases/${n}`, { credentials: "same-origin" })).json()).case, id);
  }

  // (a) GPS refused → the pin map → tap → the grid's name → filed at the pin.
  await page.goto(`${base}/report`);
  await wait(() => !document.getElementById("pin-map").hidden);
  check(/未允许使用位置/.test(await text("#report-msg")), `GPS refusal said: ${await text("#report-msg")}`);
  await fillReport("路口暴露垃圾，定位被拒绝，地图选点");
  await tapAt(spot.lon, spot.lat);
  await wait((code) => document.getElementById("place").dataset.grid === code, spot.code);
  const place = await text("#place");
  check(place.includes(spot.name), `the place shows the grid's name ${spot.name}: ${place}`);
  check(!/[A-Za-z]{3,}/.test(place.replace(/\d{6,}/g, "")), `no English on the zh-CN place line: ${place}`);
  const pin = await page.evaluate(() => ({ lon: parseFloat(document.getElementById("lon").value), lat: parseFloat(document.getElementById("lat").value) }));
  check(Math.abs(pin.lon - spot.lon) < 2e-4 && Math.abs(pin.lat - spot.lat) < 2e-4, `the pin is where tapped: ${JSON.stringify(pin)} vs ${JSON.stringify(spot)}`);
  await page.screenshot({ path: `${outDir}/report-gps-refused-pin.png`, fullPage: true });
  await page.click("#submit");
  await wait(() => document.getElementById("report-msg").dataset.caseId);
  const first = await caseOf(await page.evaluate(() => document.getElementById("report-msg").dataset.caseId));
  check(Math.abs(first.lon - pin.lon) < 1e-6 && Math.abs(first.lat - pin.lat) < 1e-6, `stored ${first.lon},${first.lat}, pinned ${pin.lon},${pin.lat}`);
  check(first.grid === spot.code, `filed in grid ${first.grid}, not ${spot.code}`);
  check((await page.inputValue("#description")) === "", "the form is cleared once accepted");
  console.log(`(a) GPS refused, pinned in ${spot.name} (${place}) → case ${first.id} at ${first.lon}, ${first.lat}`);

  // (b) A refusal keeps the draft: the pin outside the district, two photos.
  await page.evaluate(() => { delete document.getElementById("report-msg").dataset.caseId; });
  await fillReport("井盖缺失，先点错了位置");
  await page.setInputFiles("#photos", [
    { name: "before.png", mimeType: "image/png", buffer: PNG },
    { name: "kept.jpg", mimeType: "image/jpeg", buffer: JPEG },
  ]);
  await wait(() => document.querySelectorAll("#previews figure").length === 2);
  await tapAt(spot.lon + 3, spot.lat + 1);
  await wait(() => document.getElementById("place").dataset.outside === "1");
  check(/不在本辖区/.test(await text("#place")), `outside said before sending: ${await text("#place")}`);
  await page.click("#submit");
  await wait(() => document.getElementById("position-error").textContent !== "");
  const refusal = await text("#position-error");
  check(/^位置 .* 不在本辖区范围内$/.test(refusal), `the refusal at the position: ${refusal}`);
  await wait(() => !document.getElementById("submit").disabled);
  check((await page.inputValue("#minor")) === "SJ0102", "the class is kept");
  check((await page.inputValue("#description")) === "井盖缺失，先点错了位置", "the description is kept");
  check((await page.locator("#previews figure").count()) === 2, "both photos are kept");
  await page.screenshot({ path: `${outDir}/report-refused-keeps-draft.png`, fullPage: true });
  console.log(`(b) refused: ${refusal}; the draft stays`);

  // The unsent draft survives a reload (IndexedDB).
  await page.waitForTimeout(400);
  await page.reload();
  await wait(() => document.getElementById("report").dataset.ready === "1");
  await wait(() => document.querySelectorAll("#previews figure").length === 2);
  check((await page.inputValue("#description")) === "井盖缺失，先点错了位置", "the description is back after a reload");
  check((await page.inputValue("#minor")) === "SJ0102", `the class is back after a reload: ${await page.inputValue("#minor")}`);
  check(/已恢复/.test(await text("#report-msg")) || /未允许/.test(await text("#report-msg")), `restored said: ${await text("#report-msg")}`);

  // (c) Remove the PNG (its button says which photo), move the pin back inside, send.
  const label = await page.locator("#previews figure .remove-photo").first().getAttribute("aria-label");
  check(label === "移除照片 1", `the remove button's label: ${label}`);
  const size = await page.locator("#previews figure .remove-photo").first().boundingBox();
  check(size.height >= 44 && size.width >= 44, `the remove button is ${size.width}×${size.height}`);
  await page.locator("#previews figure .remove-photo").first().click();
  await wait(() => document.querySelectorAll("#previews figure").length === 1);
  if (await page.locator("#pin-map").isHidden()) await page.click("#pick-on-map");
  await tapAt(spot.lon, spot.lat);
  await wait((code) => document.getElementById("place").dataset.grid === code, spot.code);
  await page.click("#submit");
  await wait(() => document.getElementById("report-msg").dataset.caseId);
  const second = await caseOf(await page.evaluate(() => document.getElementById("report-msg").dataset.caseId));
  check(second.description === "井盖缺失，先点错了位置" && second.class_code === "SJ0102", `the refused draft went in: ${JSON.stringify(second)}`);
  check(second.photos.length === 1, `one photo uploaded, not ${second.photos.length}`);
  const kept = await page.evaluate(async (u) => { const r = await fetch(u, { credentials: "same-origin" }); return [r.headers.get("content-type"), (await r.arrayBuffer()).byteLength]; }, second.photos[0]);
  check(kept[0] === "image/jpeg" && kept[1] === JPEG.length, `the kept photo is the JPEG: ${kept}`);
  check((await page.inputValue("#description")) === "" && (await page.locator("#previews figure").count()) === 0, "cleared once accepted");
  const queued = await page.evaluate(() => new Promise((ok) => {
    const r = indexedDB.open("zhili-report");
    r.onsuccess = () => { const t = r.result.transaction(["queue", "draft"]); const q = t.objectStore("queue").count(), d = t.objectStore("draft").count(); t.oncomplete = () => ok([q.result, d.result]); };
  }));
  check(queued[0] === 0 && queued[1] === 0, `nothing left in the queue or the draft: ${queued}`);
  console.log(`(c) case ${second.id} with one photo (${kept[0]}, ${kept[1]} bytes)`);

  if (problems.length) throw new Error(problems.join("\n"));
  await browser.close();
}

main().catch((e) => { console.error(e); process.exit(1); });

// The One Map in a real headless Chromium (Debian's), driven by playwright-core:
// log in, open the map, toggle the grid layer, click a grid, see its card, save screenshots.
// usage: node onemap.js BASE_URL ADMIN_PASSWORD SCREENSHOT_DIR [gcj02]
// With `gcj02` the server has a GCJ-02 raster basemap: check it is drawn and that our layers are
// asked for shifted onto it (desktop only).
const { chromium } = require("playwright-core");

const [base, password, outDir, mode] = process.argv.slice(2);
const gcj = mode === "gcj02";
const viewports = gcj ? [["gcj02-desktop", { width: 1280, height: 800 }]]
  : [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]];

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"],
  });
  const errors = [];
  for (const [name, viewport] of viewports) {
    const page = await browser.newPage({ viewport });
    page.on("pageerror", (e) => errors.push(String(e)));
    const mvt = [];
    page.on("request", (r) => { if (r.url().includes(".mvt")) mvt.push(r.url()); });
    page.on("response", (r) => { if (r.status() >= 400) errors.push(`${name}: ${r.status()} for ${r.url()}`); });
    await page.goto(`${base}/login?next=/map`);
    await page.fill("input[name=username]", "admin");
    await page.fill("input[name=password]", password);
    await page.click("button[type=submit].primary");
    await page.waitForURL(`${base}/map`);
    await page.waitForFunction(() => window.zhiliMap && window.zhiliMap.loaded(), null, { timeout: 30000 });
    const hasBasemap = await page.evaluate(() => !!window.zhiliMap.getLayer("basemap"));
    if (hasBasemap !== gcj) throw new Error(`${name}: basemap layer present = ${hasBasemap}`);
    if (mvt.length === 0 || mvt.some((u) => u.includes("crs=gcj02") !== gcj)) {
      throw new Error(`${name}: vector tile requests do not match the basemap's CRS: ${mvt.slice(0, 3)}`);
    }

    // Toggle the grid layer off and on again.
    await page.click("#toggle-grids");
    const off = await page.evaluate(() => window.zhiliMap.getLayoutProperty("grids-line", "visibility"));
    if (off !== "none") throw new Error(`grid layer still visible after toggling off: ${off}`);
    await page.click("#toggle-grids");
    const on = await page.evaluate(() => window.zhiliMap.getLayoutProperty("grids-line", "visibility"));
    if (on !== "visible") throw new Error(`grid layer not visible after toggling on: ${on}`);

    // Search a grid: the map flies to it. Clear the card, then click the middle of the map:
    // the grid's card appears again, from the click.
    const code = "37030410020103";
    const cardHas = (c) => document.querySelector("#card") && document.querySelector("#card").innerText.includes(c);
    await page.fill("#q", code);
    await page.click("#search button");
    await page.waitForFunction(cardHas, code, { timeout: 10000 });
    await page.waitForTimeout(800);
    await page.waitForFunction(() => !window.zhiliMap.isMoving() && window.zhiliMap.areTilesLoaded(), null, { timeout: 30000 });
    await page.evaluate(() => { const c = document.querySelector("#card"); c.innerHTML = ""; c.hidden = true; window.scrollTo(0, 0); });
    const box = await page.locator("#map").boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    try {
      await page.waitForFunction(cardHas, code, { timeout: 10000 });
    } catch (e) {
      await page.screenshot({ path: `${outDir}/onemap-${name}-failed.png` });
      throw new Error(`${name}: clicking the map centre ${JSON.stringify(box)} did not show ${code}; card: ${await page.locator("#card").innerText()}`);
    }
    const card = await page.locator("#card").innerText();
    if (!card.includes("小网格")) throw new Error(`card lacks the level name: ${card}`);
    await page.screenshot({ path: `${outDir}/onemap-${name}.png` });
    console.log(`${name}: card ${card.replace(/\s+/g, " ")}`);
    await page.close();
  }
  if (!gcj) await gridImport(browser, errors);
  await browser.close();
  if (errors.length) throw new Error("page errors: " + errors.join("; "));
}

// The grids page: export one village's grids, upload a broken file (the report names the bad
// feature, nothing is written), then upload the export back (validated, then imported).
async function gridImport(browser, errors) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/login?next=/grids`);
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit].primary");
  await page.waitForURL(`${base}/grids`);
  const exported = await page.evaluate(async () => {
    const r = await fetch("/api/grids/export?within=370304100201", { credentials: "same-origin" });
    return r.text();
  });
  const n = JSON.parse(exported).features.length;
  if (n < 3) throw new Error(`export of one village has ${n} grids`);
  const broken = JSON.parse(exported);
  broken.features[1].properties.code = "1234";
  await page.setInputFiles("#import-file", { name: "broken.geojson", mimeType: "application/geo+json", buffer: Buffer.from(JSON.stringify(broken)) });
  await page.click("button[value=check]");
  await page.waitForFunction(() => document.querySelector("#import-report.bad table"), null, { timeout: 20000 });
  const bad = await page.locator("#import-report").innerText();
  if (!bad.includes("1234") || !bad.includes("14")) throw new Error(`the report does not name the bad code: ${bad}`);
  await page.setInputFiles("#import-file", { name: "village.geojson", mimeType: "application/geo+json", buffer: Buffer.from(exported) });
  await page.click("button[value=run]");
  await page.waitForFunction((n) => {
    const r = document.querySelector("#import-report.good");
    return r && r.innerText.includes(String(n)) && /已导入|Imported/.test(r.innerText);
  }, n, { timeout: 20000 });
  await page.screenshot({ path: `${outDir}/grids-import.png`, fullPage: false });
  console.log(`grid import: ${(await page.locator("#import-report").innerText()).replace(/\s+/g, " ")}`);
  await page.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

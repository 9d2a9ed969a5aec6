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
    const caseAnswers = [];
    page.on("response", async (r) => {
      const m = r.url().match(/\/api\/case-(points|density)/);
      if (!m || !r.ok()) return;
      try { caseAnswers.push({ kind: m[1], url: r.url(), body: await r.json() }); } catch (e) { /* aborted */ }
    });
    await page.goto(`${base}/login?next=/map`);
    await page.fill("input[name=username]", "admin");
    await page.fill("input[name=password]", password);
    await page.click("button[type=submit].primary");
    await page.waitForURL(`${base}/map`);
    await page.waitForFunction(() => window.zhiliMap && window.zhiliMap.loaded(), null, { timeout: 30000 });
    // MapLibre's own controls speak the page's language (zh-CN here).
    const zoomIn = await page.getAttribute(".maplibregl-ctrl-zoom-in", "title");
    if (zoomIn !== "放大") throw new Error(`${name}: zoom-in button titled ${zoomIn}, not 放大`);
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
    // Where it lies, by name (村/社区 › 街道 › 区), not by code.
    await page.waitForFunction(() => { const d = document.querySelector("#card-chain"); return d && d.textContent !== "…"; }, null, { timeout: 10000 });
    const chain = await page.locator("#card-chain").innerText();
    if (!/[\u4e00-\u9fff]/.test(chain) || /\d{6}/.test(chain)) throw new Error(`${name}: the card's place is not by name: ${JSON.stringify(chain)}`);
    // Part of a name (社区): several places, listed to choose from; choosing one shows its card.
    await page.fill("#q", "社区");
    await page.click("#search button");
    await page.waitForSelector("#search-results li button", { timeout: 10000 });
    const listed = await page.locator("#search-results li").count();
    if (listed < 2) throw new Error(`${name}: searching 社区 listed ${listed} places`);
    const first = (await page.locator("#search-results li button").first().innerText()).split("\n")[0];
    await page.locator("#search-results li button").first().click();
    await page.waitForFunction((n) => document.querySelector("#card") && document.querySelector("#card").innerText.includes(n), first, { timeout: 10000 });
    // A case number: the map flies there and shows the case with a link to it.
    const caseId = await page.evaluate(() => fetch("/api/cases?limit=1", { credentials: "same-origin" }).then((r) => r.json()).then((b) => b.items[0].id));
    await page.fill("#q", String(caseId));
    await page.click("#search button");
    // Alone it is shown at once; beside places whose names hold the digits it is listed first.
    await page.waitForSelector(`.maplibregl-popup a[href="/cases/${caseId}"], #search-results li button`, { timeout: 10000 });
    if (await page.locator("#search-results li button").count()) {
      const top = await page.locator("#search-results li button").first().innerText();
      if (!top.includes(String(caseId))) throw new Error(`${name}: case ${caseId} is not listed first: ${top}`);
      await page.locator("#search-results li button").first().click();
    }
    await page.waitForSelector(`.maplibregl-popup a[href="/cases/${caseId}"]`, { timeout: 10000 });
    console.log(`${name}: search 社区 listed ${listed}, case ${caseId} found`);
    await page.screenshot({ path: `${outDir}/onemap-${name}.png` });
    console.log(`${name}: card ${card.replace(/\s+/g, " ")}`);
    if (name.endsWith("desktop")) await casesLayer(page, name, caseAnswers);
    // A link to the map with a search (a grid page's 在一张图上查看) shows that grid's card, whose
    // link opens the grid's page (not raw JSON).
    await page.goto(`${base}/map?q=${code}`);
    await page.waitForFunction(cardHas, code, { timeout: 30000 });
    await page.click("#card a");
    await page.waitForURL(`${base}/grids/${code}`);
    const h1 = await page.locator("h1").innerText();
    if (!h1.includes(code)) throw new Error(`${name}: the grid page's title is ${h1}`);
    await page.close();
  }
  if (!gcj) await gridImport(browser, errors);
  await browser.close();
  if (errors.length) throw new Error("page errors: " + errors.join("; "));
}

// The cases layer: turn it on at the district's zoom (heat from the density the database
// counted), check both layers are in the style, zoom into the densest cell (points), click one
// and follow its popup's link target.
async function casesLayer(page, name, answers) {
  const gcj = name.startsWith("gcj02");
  await page.evaluate(() => window.zhiliMap.jumpTo({ center: [117.9, 36.425], zoom: 10.5 }));
  await page.click("#toggle-cases");
  await page.waitForFunction(() => document.querySelector("#cases-msg").dataset.loaded === "density", null, { timeout: 20000 });
  const types = await page.evaluate(() => ["cases-heat", "cases-points"].map((id) => {
    const l = window.zhiliMap.getLayer(id);
    return l && l.type + ":" + window.zhiliMap.getLayoutProperty(id, "visibility");
  }));
  if (types[0] !== "heatmap:visible" || types[1] !== "circle:visible") throw new Error(`${name}: cases layers ${types}`);
  let density = [];
  for (let i = 0; i < 50 && density.length === 0; i++) {
    density = answers.filter((a) => a.kind === "density" && a.body.features.length > 0);
    if (density.length === 0) await page.waitForTimeout(100);
  }
  if (density.length === 0) throw new Error(`${name}: no density answer with features: ${JSON.stringify(answers.map((a) => a.url))}`);
  if (density.some((a) => a.url.includes("crs=gcj02") !== gcj)) throw new Error(`${name}: density CRS does not match the basemap`);
  const d = density[density.length - 1].body;
  const sum = d.features.reduce((n, f) => n + f.properties.count, 0);
  if (sum !== d.total) throw new Error(`${name}: density cells sum to ${sum}, total ${d.total}`);
  await page.waitForFunction(() => !window.zhiliMap.isMoving() && window.zhiliMap.areTilesLoaded(), null, { timeout: 30000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${outDir}/${gcj ? "onemap-cases-gcj02" : "onemap-cases"}.png` });
  // Into the densest cell: points.
  const densest = d.features.reduce((a, b) => (b.properties.count > a.properties.count ? b : a));
  await page.evaluate((c) => window.zhiliMap.jumpTo({ center: c, zoom: 14.5 }), densest.geometry.coordinates);
  await page.waitForFunction(() => document.querySelector("#cases-msg").dataset.loaded === "points", null, { timeout: 20000 });
  // The page has drawn its answer; playwright's copy of the body may still be on its way.
  let pts = [];
  for (let i = 0; i < 50 && pts.length === 0; i++) {
    pts = answers.filter((a) => a.kind === "points" && a.body.features.length > 0);
    if (pts.length === 0) await page.waitForTimeout(100);
  }
  if (pts.length === 0) throw new Error(`${name}: no case-points answer with features near ${densest.geometry.coordinates}: ${JSON.stringify(answers.filter((a) => a.kind === "points").map((a) => [a.url, a.body.features.length]))}`);
  await page.waitForFunction(() => window.zhiliMap.loaded() && window.zhiliMap.queryRenderedFeatures({ layers: ["cases-points"] }).length > 0, null, { timeout: 20000 });
  const at = await page.evaluate(() => {
    const f = window.zhiliMap.queryRenderedFeatures({ layers: ["cases-points"] })[0];
    const p = window.zhiliMap.project(f.geometry.coordinates);
    return { x: p.x, y: p.y, id: f.properties.id };
  });
  const box = await page.locator("#map").boundingBox();
  await page.mouse.click(box.x + at.x, box.y + at.y);
  await page.waitForSelector(".maplibregl-popup a[href^='/cases/']", { timeout: 10000 });
  const popup = (await page.locator(".maplibregl-popup").innerText()).replace(/\s+/g, " ");
  await page.screenshot({ path: `${outDir}/${gcj ? "onemap-cases-points-gcj02" : "onemap-cases-points"}.png` });
  console.log(`${name}: cases layer: ${d.total} cases in heat; ${pts[pts.length - 1].body.features.length} points; popup: ${popup}`);
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

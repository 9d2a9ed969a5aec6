// The citizens' public page (群众随手拍) in a real headless Chromium on a phone, without an
// account: from the login page's link to the report form; pick a category and use the GPS
// position; a report without a description is refused next to the field, a bad phone number and a
// photo that is not an image by the Open311 API next to their fields, in Chinese (the form keeps
// everything); the bad photo is removed, the pin moved on the map; then it is received with its
// photo at the pin, and its tracking code leads to the status page (已受理, data-status open),
// also through the lookup box typed in lower case; a case number opens only the 404 page (HTML).
// usage: node public.js BASE_URL LONGITUDE LATITUDE SCREENSHOT_DIR
const { chromium } = require("playwright-core");

const [base, lon, lat, outDir] = process.argv.slice(2);
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "zh-CN" };

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const ctx = await browser.newContext(Object.assign({}, phone, {
    permissions: ["geolocation"],
    geolocation: { longitude: parseFloat(lon), latitude: parseFloat(lat) },
  }));
  const page = await ctx.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e}`));
  // Errors of the page itself (a refused script, a CSP violation); failed loads are checked
  // below, where one is expected (the refused phone number is a 400).
  page.on("console", (m) => {
    if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  let expect404 = false;
  page.on("response", (r) => {
    if (r.status() === 404 && !r.url().endsWith("/favicon.ico") && !expect404) problems.push(`404: ${r.url()}`);
  });
  const wait = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 15000 });
  const text = (sel) => page.locator(sel).innerText();

  // Citizens find the page from the login page; it opens without a session.
  await page.goto(`${base}/login`);
  await page.click("#public-report-link");
  await page.waitForURL(`${base}/public/report`);
  await wait(() => document.getElementById("service").dataset.loaded === "1");
  await page.selectOption("#service", "SJ0102");
  await page.click("#locate");
  await wait(() => document.getElementById("lat").value !== "");

  // No description: refused next to the field, nothing sent.
  await page.click("#submit");
  await wait(() => document.getElementById("err-description").textContent !== "");
  const noDescription = await text("#err-description");
  if (!/请描述问题/.test(noDescription)) throw new Error(`description error: ${noDescription}`);

  // A bad phone number and a photo that is not an image: the Open311 API's errors, in Chinese,
  // next to their fields; the form keeps all it had.
  await page.fill("#description", "小区门口暴露垃圾，约两立方");
  await page.fill("#phone", "12");
  await page.setInputFiles("#photos", [
    { name: "not-a-photo.png", mimeType: "image/png", buffer: Buffer.from("this is text, not a PNG image") },
    { name: "rubbish.png", mimeType: "image/png", buffer: PNG },
  ]);
  await wait(() => document.querySelectorAll("#previews figure").length === 2);
  await page.click("#submit");
  await wait(() => document.getElementById("err-phone").textContent !== "" && document.getElementById("err-media").textContent !== "");
  if ((await text("#err-description")) !== "") throw new Error("the description error stayed");
  const phoneError = await text("#err-phone"), mediaError = await text("#err-media");
  if (!/^请填写有效的电话号码/.test(phoneError) || /must|phone/.test(phoneError)) throw new Error(`phone error not in Chinese: ${phoneError}`);
  if (!/^文件内容不是 image\/png 图片$/.test(mediaError)) throw new Error(`photo error: ${mediaError}`);
  if ((await page.inputValue("#description")) !== "小区门口暴露垃圾，约两立方" || (await page.locator("#previews figure").count()) !== 2) {
    throw new Error("the refused report lost its draft");
  }
  console.log(`refused: ${phoneError} / ${mediaError}`);

  // Remove the bad photo, move the pin a little on the map (as a citizen fixing the place).
  await page.click("#previews figure:first-child .remove-photo");
  await wait(() => document.querySelectorAll("#previews figure").length === 1);
  await page.click("#pick-on-map");
  await wait(() => window.zhiliPublicMap && window.zhiliPublicMap.loaded());
  const to = [parseFloat(lon) + 0.0004, parseFloat(lat) - 0.0003];
  await page.evaluate((c) => window.zhiliPublicMap.jumpTo({ center: c, zoom: 16 }), to);
  await wait(() => !window.zhiliPublicMap.isMoving());
  await page.locator("#pin-map").scrollIntoViewIfNeeded();
  const box = await page.locator("#pin-map canvas").boundingBox();
  const pt = await page.evaluate((c) => window.zhiliPublicMap.project(c), to);
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
  await wait(() => /地图选点/.test(document.getElementById("position").textContent));
  const pinned = await page.evaluate(() => [parseFloat(document.getElementById("long").value), parseFloat(document.getElementById("lat").value)]);
  if (Math.abs(pinned[0] - to[0]) > 2e-4 || Math.abs(pinned[1] - to[1]) > 2e-4) throw new Error(`the pin: ${pinned} vs ${to}`);

  // Properly: the tracking code, shown large, and a link to its status.
  await page.fill("#phone", "13812345678");
  await page.click("#submit");
  await wait(() => document.getElementById("done-text").dataset.requestId);
  const id = await page.evaluate(() => document.getElementById("done-text").dataset.requestId);
  const answer = await text("#done-text");
  if (!/^[0-9A-HJKMNP-TV-Z]{16}$/.test(id)) throw new Error(`not a tracking code: ${id}`);
  if ((await text("#done-code")) !== id || !/已受理/.test(answer)) throw new Error(`answer: ${answer} ${await text("#done-code")}`);
  const r = await page.evaluate(async (code) => (await (await fetch(`/open311/v2/requests/${code}.json`)).json())[0], id);
  if (Math.abs(r.long - pinned[0]) > 1e-6 || Math.abs(r.lat - pinned[1]) > 1e-6) throw new Error(`stored at ${r.long},${r.lat}, pinned ${pinned}`);
  await page.screenshot({ path: `${outDir}/public-report.png` });
  console.log(`reported: ${answer} ${id}`);

  await page.click("#done-link");
  await page.waitForURL(`${base}/public/requests/${id}`);
  if ((await text("#status-id")) !== id) throw new Error(`the status page's code: ${await text("#status-id")}`);
  const status = await text("#status-open");
  // The state in the page's language only; its code is the section's data-status.
  const code = await page.getAttribute("#public-status", "data-status");
  if (!/已受理/.test(status) || /open/i.test(status) || code !== "open") throw new Error(`status: ${status} (${code})`);
  if ((await page.content()).includes("13812345678")) throw new Error("the phone number is on the public status page");
  await page.screenshot({ path: `${outDir}/public-status.png`, fullPage: true });
  console.log(`status of ${id}: ${status} · ${await text("#status-detail")}`);

  // The lookup box by code, as typed in lower case with spaces.
  await page.goto(`${base}/public/report`);
  await page.fill("#lookup-id", ` ${id.slice(0, 8).toLowerCase()} ${id.slice(8)} `);
  await page.click("#lookup-go");
  await page.waitForURL(`${base}/public/requests/${id}`);

  // Case numbers (sequential: the demo's run 1–2000, this report is 2001) open nothing: the HTML
  // 404 page, which gives nothing of a case away.
  expect404 = true;
  for (const n of [1, 200, 2000, 2001, 2002]) {
    const resp = await page.goto(`${base}/public/requests/${n}`);
    if (resp.status() !== 404) throw new Error(`/public/requests/${n}: ${resp.status()}`);
    if (!/text\/html/.test(resp.headers()["content-type"] || "")) throw new Error(`404 not HTML: ${resp.headers()["content-type"]}`);
    if (!/没有这个查询码的诉求/.test(await text("#public-status"))) throw new Error(`404 page: ${await text("main")}`);
  }
  expect404 = false;

  if (problems.length) throw new Error(problems.join("\n"));
  await browser.close();
}

main().catch((e) => { console.error(e); process.exit(1); });

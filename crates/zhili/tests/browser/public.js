// The citizens' public page (群众随手拍) in a real headless Chromium on a phone, without an
// account: from the login page's link to the report form; pick a category and use the GPS
// position; a report without a description is refused next to the field, a bad phone number by
// the Open311 API next to its field; then it is received, and its number leads to the status page
// (已受理, data-status open).
// usage: node public.js BASE_URL LONGITUDE LATITUDE SCREENSHOT_DIR
const { chromium } = require("playwright-core");

const [base, lon, lat, outDir] = process.argv.slice(2);
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
  page.on("response", (r) => {
    if (r.status() === 404 && !r.url().endsWith("/favicon.ico")) problems.push(`404: ${r.url()}`);
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

  // A bad phone number: the Open311 API's error, shown next to the phone field.
  await page.fill("#description", "小区门口暴露垃圾，约两立方");
  await page.fill("#phone", "12");
  await page.click("#submit");
  await wait(() => document.getElementById("err-phone").textContent !== "");
  if ((await text("#err-description")) !== "") throw new Error("the description error stayed");
  console.log(`phone refused: ${await text("#err-phone")}`);

  // Properly: the number and a link to its status.
  await page.fill("#phone", "13812345678");
  await page.click("#submit");
  await wait(() => document.getElementById("done-text").dataset.requestId);
  const id = await page.evaluate(() => document.getElementById("done-text").dataset.requestId);
  const answer = await text("#done-text");
  if (!answer.includes(id) || !/已受理/.test(answer)) throw new Error(`answer: ${answer}`);
  await page.screenshot({ path: `${outDir}/public-report.png` });
  console.log(`reported: ${answer}`);

  await page.click("#done-link");
  await page.waitForURL(`${base}/public/requests/${id}`);
  const status = await text("#status-open");
  // The state in the page's language only; its code is the section's data-status.
  const code = await page.getAttribute("#public-status", "data-status");
  if (!/已受理/.test(status) || /open/i.test(status) || code !== "open") throw new Error(`status: ${status} (${code})`);
  if ((await page.content()).includes("13812345678")) throw new Error("the phone number is on the public status page");
  await page.screenshot({ path: `${outDir}/public-status.png`, fullPage: true });
  console.log(`status of ${id}: ${status} · ${await text("#status-detail")}`);

  // The lookup box by number.
  await page.goto(`${base}/public/report`);
  await page.fill("#lookup-id", id);
  await page.click("#lookup-go");
  await page.waitForURL(`${base}/public/requests/${id}`);

  if (problems.length) throw new Error(problems.join("\n"));
  await browser.close();
}

main().catch((e) => { console.error(e); process.exit(1); });

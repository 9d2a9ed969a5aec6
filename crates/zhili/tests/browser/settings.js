// The settings pages in a real headless Chromium: the administrator changes one class's
// handling limit and department and saves, reloads and finds them kept; makes a day a holiday
// in the work calendar, saves, reloads and sees it red. An operator sees both pages read-only.
// usage: node settings.js BASE_URL ADMIN_PASSWORD DEMO_PASSWORD SCREENSHOT_DIR
const { chromium } = require("playwright-core");
const { loginAs } = require("./login");

const [base, adminPassword, demoPassword, outDir] = process.argv.slice(2);
const desktop = { viewport: { width: 1366, height: 900 }, locale: "zh-CN" };

const as = (browser, user, password) => loginAs(browser, base, desktop, user, password);

function check(ok, what) {
  if (!ok) throw new Error(what);
  console.log("ok:", what);
}

const classRow = (code) => `#classes tr[data-code='${code}']`;

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const admin = await as(browser, "admin", adminPassword);
  const page = admin.page;

  // Catalogue: edit 暴露垃圾 (SJ0102).
  await page.goto(`${base}/settings/case-classes`);
  await page.waitForSelector(classRow("SJ0102"), { timeout: 15000 });
  await page.fill("#class-search", "SJ0102");
  await page.click(`${classRow("SJ0102")} button.edit`);
  await page.waitForSelector("#class-form:not([hidden])");
  const current = await page.inputValue("#f-department");
  const dept = await page.evaluate((cur) => {
    const opts = Array.from(document.querySelectorAll("#f-department option")).map((o) => o.value);
    return opts.find((v) => v && v !== cur);
  }, current);
  check(!!dept, `a department other than ${current || "属地"} to choose`);
  await page.selectOption("#f-department", dept);
  await page.fill("#f-limit-handle", "5");
  await page.selectOption("#f-unit-handle", "whour");
  await page.click("#class-save");
  await page.waitForSelector("#class-msg.good, #class-msg.bad", { timeout: 15000 });
  const saved = await page.$eval("#class-msg", (m) => ({ good: m.classList.contains("good"), text: m.textContent }));
  check(saved.good, `the class is saved (${saved.text})`);
  await page.reload();
  await page.waitForSelector(classRow("SJ0102"), { timeout: 15000 });
  const kept = await page.evaluate((sel) => {
    const r = document.querySelector(sel);
    const d = r.querySelector(".dept");
    return { handle: r.querySelector(".limit-handle").textContent, dept: d.textContent, deptCode: d.title };
  }, classRow("SJ0102"));
  check(kept.handle === "5工作时", `handling limit kept after reload (${kept.handle})`);
  check(kept.deptCode === dept, `department ${dept} kept after reload (${kept.deptCode})`);
  check(kept.dept && !kept.dept.includes(dept), `department shown by name, code in the tooltip (${kept.dept})`);
  await page.fill("#class-search", "SJ01");
  await page.click(`${classRow("SJ0102")} button.edit`);
  await page.screenshot({ path: `${outDir}/settings-classes.png`, fullPage: false });

  // Calendar: make the first plain working day of March a holiday.
  await page.goto(`${base}/settings/calendar`);
  await page.waitForSelector("#months button.day", { timeout: 15000 });
  const day = await page.evaluate(() => {
    const b = Array.from(document.querySelectorAll("#months button.day")).find((x) =>
      x.dataset.date.slice(5, 7) === "03" && !/holiday|workday|rest/.test(x.className));
    return b.dataset.date;
  });
  await page.click(`#months button[data-date='${day}']`);
  check(await page.$eval(`#months button[data-date='${day}']`, (b) => b.classList.contains("holiday")), `${day} marked a holiday`);
  await page.click("#calendar-save");
  await page.waitForSelector("#calendar-msg.good", { timeout: 15000 });
  await page.reload();
  await page.waitForSelector(`#months button[data-date='${day}']`, { timeout: 15000 });
  const colour = await page.$eval(`#months button[data-date='${day}']`, (b) =>
    b.classList.contains("holiday") ? getComputedStyle(b).backgroundColor : "");
  check(colour === "rgb(220, 38, 38)", `${day} red after reload (${colour})`);
  await page.waitForFunction((d) => document.getElementById("holiday-text").value.includes(d), day, { timeout: 15000 });
  check(true, "holiday text lists the day");
  await page.screenshot({ path: `${outDir}/settings-calendar.png`, fullPage: true });
  await admin.ctx.close();

  // An operator: read-only.
  const op = await as(browser, "operator1", demoPassword);
  await op.page.goto(`${base}/settings/case-classes`);
  await op.page.waitForSelector(classRow("SJ0102"), { timeout: 15000 });
  check(await op.page.$("#class-form") === null && await op.page.$("button.edit") === null, "operator: no edit form or buttons");
  check(await op.page.$("#import-form") === null && await op.page.isVisible("#read-only"), "operator: no import, read-only note");
  const status = await op.page.evaluate(async () => {
    const r = await fetch("/api/case-classes", { method: "PUT", credentials: "same-origin",
      headers: { "content-type": "application/json" }, body: JSON.stringify({ classes: [] }) });
    return r.status;
  });
  check(status === 403, `operator's PUT refused (${status})`);
  await op.page.goto(`${base}/settings/calendar`);
  await op.page.waitForSelector(`#months button[data-date='${day}'].holiday`, { timeout: 15000 });
  check(await op.page.$("#calendar-save") === null, "operator: no save button");
  check(await op.page.$eval(`#months button[data-date='${day}']`, (b) => b.disabled), "operator: days cannot be clicked");
  await op.ctx.close();
  await browser.close();
}

main().catch((e) => { console.error(e); process.exit(1); });

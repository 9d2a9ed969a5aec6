// Shared by the browser stories: a new browser context (with `options`: viewport, locale,
// permissions…) logged in through the login page as `user`. Page errors fail the story.
async function loginAs(browser, base, options, user, password) {
  const ctx = await browser.newContext(options);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => { throw e; });
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit].primary");
  await page.waitForURL(`${base}/`);
  return { ctx, page };
}

module.exports = { loginAs };

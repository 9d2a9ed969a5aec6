// The confirmation an irreversible command asks first (window.zhili.confirm: a modal
// <dialog id="confirm">, opened by a `data-confirm` form or a bulk action): stories answer 确定.
async function acceptConfirm(page, timeout = 5000) {
  await page.waitForSelector("dialog#confirm[open]", { timeout });
  await page.click("dialog#confirm #confirm-ok");
  await page.waitForSelector("dialog#confirm:not([open])", { state: "attached", timeout });
}

module.exports = { acceptConfirm };

// The page checks every browser story runs on every page it visits (issue 16's acceptance):
// - no raw JSON and no untranslated message key in the page;
// - no snake_case code shown as text outside `.mono` (an untranslated state, source, action…);
// - in zh-CN no English word outside the allow-list of names, codes and units (and nothing in
//   `.mono`, which shows codes); in English no Chinese in the page's own words (headings,
//   labels, buttons, table heads, messages);
// - no horizontal scroll at 360 px wide (the viewport is set to 360 for the check, then back);
// - every <input>, <select> and <textarea> labelled (a <label>, aria-label or aria-labelledby;
//   type=hidden and inputs not rendered excepted);
// - on a phone-sized viewport, tap targets (buttons, button links, navigation and pager links,
//   form fields, checkboxes with their label) at least 44 px high and wide, and the sticky
//   header at most 56 px high;
// - text at WCAG AA contrast against its background (4.5:1; 3:1 for large text);
// and saves a full-page screenshot. A failed check is collected (`failures`), not thrown, so
// one run lists everything wrong; the story ends with `finish()`.
const fs = require("fs");

// English words a zh-CN page may show: names (of the product's languages, libraries, formats),
// codes and units. Anything else in ASCII letters is an untranslated text.
const ALLOWED = new Set([
  "English", // the language switch names the other language in that language
  "CSV", "XLSX", "GeoJSON", "GeoPackage", "Open311", "CAP", "Atom", "SL", "JSON", "HTTP", "MQTT", // file formats and protocols: names
  "MapLibre", "OpenStreetMap", "ECharts", // libraries and data credited by name
  "m", "km", "min", "mm", "h", "V", "ID", "IP", "GPS", "UTC", // units and abbreviations
]);

// The registered message keys (a JSON list written by the Rust test), to tell an untranslated
// key from other text.
function loadKeys(file) {
  return new Set(file ? JSON.parse(fs.readFileSync(file, "utf8")) : []);
}

// The page's visible text, split: everything, the page's own words (headings, labels,
// buttons, table heads, messages), and the text outside `.mono` (codes).
async function texts(page) {
  return page.evaluate(() => {
    const OWN = "h1, h2, h3, label, button, th, dt, legend, nav a, .field-error, [role=status], [role=alert], .audit-action, .audit-outcome, .pager a, title";
    const all = document.body.innerText;
    const own = [], plain = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest("script, style, noscript, [hidden], .maplibregl-ctrl-attrib")) continue;
      const style = getComputedStyle(el);
      if (style.display === "none" || style.visibility === "hidden") continue;
      const t = n.textContent.trim();
      if (!t) continue;
      if (el.matches(OWN) || (el.parentElement && el.parentElement.matches(OWN) && el.matches("span, strong, small"))) own.push(t);
      // Option labels hold class names (names, allowed in either language).
      if (!el.closest(".mono, code, option[value]:not([value=''])")) plain.push(t);
    }
    return { all, own: own.join("\n"), plain: plain.join("\n"), title: document.title };
  });
}

// Form fields without a label: a short description of each.
async function unlabelled(page) {
  return page.evaluate(() => {
    const named = (el) => {
      if (Array.prototype.some.call(el.labels || [], (l) => l.textContent.trim() || l.querySelector("img[alt]"))) return true;
      if ((el.getAttribute("aria-label") || "").trim()) return true;
      const by = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
      return by.some((id) => { const t = document.getElementById(id); return t && t.textContent.trim(); });
    };
    const bad = [];
    for (const el of document.querySelectorAll("input, select, textarea")) {
      if (el.type === "hidden" || el.getClientRects().length === 0) continue;
      if (!named(el)) bad.push(`${el.tagName.toLowerCase()}${el.type && el.tagName === "INPUT" ? `[type=${el.type}]` : ""}${el.name ? `[name=${el.name}]` : ""}${el.id ? `#${el.id}` : ""}`);
    }
    return bad;
  });
}

// What sticks out of a 360 px wide page: the outermost elements past the right edge that are
// not inside their own scrolling box.
async function overflow(page) {
  return page.evaluate(() => {
    const d = document.documentElement;
    const r = { scroll: d.scrollWidth, client: d.clientWidth, culprits: [] };
    if (r.scroll <= r.client) return r;
    const scrolls = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === "auto" || o === "scroll" || o === "hidden" || o === "clip") return true;
      }
      return false;
    };
    for (const el of document.querySelectorAll("body *")) {
      const b = el.getBoundingClientRect();
      if (b.width === 0 || b.right <= r.client + 0.5 || scrolls(el)) continue;
      const p = el.parentElement && el.parentElement.getBoundingClientRect();
      if (p && p.right > r.client + 0.5 && el.parentElement !== document.body) continue;
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
      r.culprits.push(`${name} (right ${Math.round(b.right)})`);
      if (r.culprits.length >= 6) break;
    }
    return r;
  });
}

// Text below WCAG AA contrast (4.5:1, 3:1 for large text): the text's colour against the first
// opaque background behind it (text over a map, a chart or an image is not judged).
async function lowContrast(page) {
  return page.evaluate(() => {
    const rgb = (c) => { const m = c.match(/[\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; };
    const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
      .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
    const bad = new Set();
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || !el || el.closest("script, style, [hidden], canvas, svg, .maplibregl-map, .chart, option, dialog:not([open])")) continue;
      if (el.getClientRects().length === 0) continue;
      const st = getComputedStyle(el);
      if (st.visibility === "hidden" || Number(st.opacity) === 0) continue;
      let bg = null;
      for (let p = el; p; p = p.parentElement) {
        const c = rgb(getComputedStyle(p).backgroundColor);
        if (getComputedStyle(p).backgroundImage !== "none") { bg = "image"; break; }
        if ((c[3] === undefined ? 1 : c[3]) >= 0.9) { bg = c; break; }
      }
      if (bg === "image") continue;
      bg = bg || [255, 255, 255];
      const fg = rgb(st.color);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < need - 0.01) bad.add(`"${n.textContent.trim().slice(0, 16)}" ${st.color} on rgb(${bg.slice(0, 3).join(",")}) ${ratio.toFixed(2)}`);
    }
    return [...bad];
  });
}

// Tap targets under 44 × 44 px on the current (phone) viewport.
async function smallTargets(page) {
  return page.evaluate(() => {
    const SEL = "button, a.button, a.tile, nav#nav a, .pager a, header.top a, select, input:not([type=hidden]), textarea, summary";
    const bad = [];
    for (const el of document.querySelectorAll(SEL)) {
      if (el.closest("[hidden], .maplibregl-ctrl-attrib, dialog:not([open])") || el.getClientRects().length === 0) continue;
      const st = getComputedStyle(el);
      if (st.visibility === "hidden" || st.display === "none") continue;
      // A checkbox or radio counts with the label around it.
      const box = (/^(checkbox|radio)$/.test(el.type) && el.closest("label")) || el;
      const b = box.getBoundingClientRect();
      if (b.height < 43.5 || b.width < 43.5) {
        const text = (el.innerText || el.value || el.getAttribute("aria-label") || el.name || "").trim().slice(0, 20);
        bad.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${text}" ${Math.round(b.width)}×${Math.round(b.height)}`);
      }
    }
    return [...new Set(bad)];
  });
}

// A checker for one story: `check(page, lang, name, shot)` runs every check on the page and
// saves the screenshot as `shot` (a file name in `outDir`).
function checker(keysFile, outDir) {
  const KEYS = loadKeys(keysFile);
  const failures = [];
  const fail = (lang, name, what) => failures.push(`[${lang}] ${name}: ${what}`);

  async function check(page, lang, name, shot) {
    if (shot) await page.screenshot({ path: `${outDir}/${shot}`, fullPage: true });
    const t = await texts(page);
    if (/[{\[]\s*"[a-z_]+"\s*:/.test(t.all)) fail(lang, name, `raw JSON in the page: ${t.all.slice(0, 300)}`);
    for (const m of t.all.matchAll(/\b[a-z_]+\.[a-z_.]+\b/g)) {
      if (KEYS.has(m[0])) fail(lang, name, `untranslated message key ${m[0]}`);
    }
    // A snake_case code outside `.mono` is an untranslated value (a source, a state, an action).
    const snake = [...new Set(t.plain.match(/\b[a-z]+_[a-z_]+\b/g) || [])];
    if (snake.length) fail(lang, name, `codes shown as text: ${snake.join(", ")}`);
    if (lang === "zh-CN") {
      const text = t.plain + "\n" + t.title;
      const words = text.match(/[A-Za-z][A-Za-z'’-]*/g) || [];
      // A word next to digits is a code (SJ0102, gw370304…); else it must be allowed.
      const bad = [...new Set(words)].filter((w) => !ALLOWED.has(w) && new RegExp(`(^|[^A-Za-z0-9])${w}([^A-Za-z0-9]|$)`).test(text));
      if (bad.length) fail(lang, name, `English words in the zh-CN page: ${bad.join(", ")}`);
    } else {
      const cjk = t.own.split("\n").filter((l) => /[\u3400-\u9fff]/.test(l) && !/^中文$/.test(l));
      if (cjk.length) fail(lang, name, `Chinese in the English page's own words: ${cjk.join(" | ")}`);
    }
    const dim = await lowContrast(page);
    if (dim.length) fail(lang, name, `text below AA contrast: ${dim.slice(0, 8).join("; ")}`);
    const missing = await unlabelled(page);
    if (missing.length) fail(lang, name, `fields without a label: ${missing.join(", ")}`);

    const vp = page.viewportSize();
    if (vp.width < 500) {
      const top = await page.$eval("header.top", (h) => h.getBoundingClientRect().height).catch(() => 0);
      if (top > 56) fail(lang, name, `the header is ${top} px high on a phone`);
      const small = await smallTargets(page);
      if (small.length) fail(lang, name, `tap targets under 44 px: ${small.slice(0, 12).join("; ")}`);
    }
    // 360 px wide: nothing wider than the screen (tables scroll in their box, codes break).
    if (vp.width !== 360) await page.setViewportSize({ width: 360, height: vp.height });
    await page.waitForTimeout(200);
    const o = await overflow(page);
    if (o.scroll > o.client) fail(lang, name, `horizontal scroll at 360 px: ${o.scroll} > ${o.client}: ${o.culprits.join(", ")}`);
    if (vp.width !== 360) await page.setViewportSize(vp);
    return t;
  }

  // Fails the story with every failure collected, else says what was checked.
  function finish(what) {
    if (failures.length) {
      console.error(failures.join("\n"));
      process.exit(1);
    }
    console.log(what);
  }

  return { check, fail, failures, finish };
}

module.exports = { checker, ALLOWED, texts, unlabelled, overflow, smallTargets, lowContrast };

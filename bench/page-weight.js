// Page weight (页面体积) of /map and /dashboard in a real headless Chromium on a throttled
// connection: bytes transferred (the sum of CDP Network.loadingFinished encodedDataLength:
// headers and bodies as sent, so compressed where the server compressed), requests, the `load`
// event and "done" (the page's last response, once nothing more is asked for a second; for /map
// also the map idle with its tiles). A cold load is a fresh browser context (empty cache); a
// repeat visit is a second navigation in the same context. Medians of RUNS loads.
// A dedicated worker's traffic (MapLibre's worker fetches the vector tiles) is not on the page's
// CDP session: the script auto-attaches to each worker (Target.setAutoAttach, messages through
// Target.sendMessageToTarget), throttles it with the same profile and counts what it moves
// (`workerBytes`, `workerRequests`; included in `bytes`).
//
// usage: node bench/page-weight.js BASE_URL LABEL [RUNS]   (NODE_PATH: playwright-core's node_modules)
// Logs in as the demo's operator (operator1 / zhili-demo; ZHILI_BENCH_USER, ZHILI_BENCH_PASSWORD).
// Prints one JSON line per (page, profile) and a table.
const { chromium } = require("playwright-core");

const [base, label, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 3);
const user = process.env.ZHILI_BENCH_USER || "operator1";
const password = process.env.ZHILI_BENCH_PASSWORD || "zhili-demo";
const pages = (process.env.ZHILI_BENCH_PAGES || "/map,/dashboard").split(",");
// Throughputs in bytes per second, latency (added round-trip time) in milliseconds.
const profiles = {
  "slow-3g": { offline: false, latency: 400, downloadThroughput: 400e3 / 8, uploadThroughput: 400e3 / 8 },
  "fast-3g": { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 },
};
const only = process.env.ZHILI_BENCH_PROFILES ? process.env.ZHILI_BENCH_PROFILES.split(",") : Object.keys(profiles);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// One navigation: bytes, requests, load event and done times (ms from navigation start).
async function load(page, cdp, path) {
  const inflight = new Map();
  let bytes = 0, assetBytes = 0, requests = 0, last = 0;
  const t0 = Date.now();
  let active = t0;
  const onReq = (e) => {
    active = Date.now();
    if (!/^https?:/.test(e.request.url)) return; // data: and blob: URLs move no bytes
    inflight.set(e.requestId, e.request.url);
    requests++;
  };
  const onData = () => { active = Date.now(); };
  const onDone = (e) => {
    active = Date.now();
    const url = inflight.get(e.requestId) || "";
    inflight.delete(e.requestId);
    bytes += e.encodedDataLength;
    if (url.includes("/assets/")) assetBytes += e.encodedDataLength;
    last = Date.now() - t0;
  };
  const onFail = (e) => { active = Date.now(); if (inflight.delete(e.requestId)) last = Date.now() - t0; };
  cdp.on("Network.requestWillBeSent", onReq);
  cdp.on("Network.dataReceived", onData);
  cdp.on("Network.loadingFinished", onDone);
  cdp.on("Network.loadingFailed", onFail);
  const worker = workerTraffic(cdp);
  worker.onRequest = () => { active = Date.now(); requests++; };
  worker.onDone = (n) => { active = Date.now(); bytes += n; last = Date.now() - t0; };
  await page.goto(base + path, { waitUntil: "load", timeout: 300000 });
  const loadMs = Date.now() - t0;
  if (path === "/map") {
    await page.waitForFunction(() => window.zhiliMap && window.zhiliMap.loaded() && window.zhiliMap.areTilesLoaded(),
      null, { timeout: 300000, polling: 100 });
  }
  // Quiet: nothing in flight for a second, or no network event at all for five (a request
  // the page keeps open moves nothing).
  let quietSince = Date.now();
  while (Date.now() - quietSince < 1000 && Date.now() - active < 5000) {
    await new Promise((r) => setTimeout(r, 100));
    if (inflight.size > 0) quietSince = Date.now();
    if (Date.now() - t0 > 300000) throw new Error(`${path}: still loading after 300 s: ${[...inflight.values()]}`);
  }
  cdp.off("Network.requestWillBeSent", onReq);
  cdp.off("Network.dataReceived", onData);
  cdp.off("Network.loadingFinished", onDone);
  cdp.off("Network.loadingFailed", onFail);
  worker.stop();
  return { bytes, assetBytes, requests, loadMs, doneMs: Math.max(last, loadMs),
           workerBytes: worker.bytes, workerRequests: worker.requests };
}

// The workers of the page: each throttled like the page and its traffic counted.
let profile = null;
const attached = new WeakSet();
function workerTraffic(cdp) {
  const w = { bytes: 0, requests: 0, onRequest: () => {}, onDone: () => {} };
  const inflight = new Set();
  let nextId = 1;
  const send = (sessionId, method, params) =>
    cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id: nextId++, method, params }) })
      .catch(() => {});
  const onAttach = (e) => {
    if (e.targetInfo.type !== "worker") return;
    send(e.sessionId, "Network.enable", {});
    send(e.sessionId, "Network.emulateNetworkConditions", profile);
    send(e.sessionId, "Runtime.runIfWaitingForDebugger", {});
  };
  const onMessage = (e) => {
    let m;
    try { m = JSON.parse(e.message); } catch (_) { return; }
    if (m.method === "Network.requestWillBeSent" && /^https?:/.test(m.params.request.url)) {
      inflight.add(m.params.requestId); w.requests++; w.onRequest();
    } else if (m.method === "Network.loadingFinished" && inflight.delete(m.params.requestId)) {
      w.bytes += m.params.encodedDataLength; w.onDone(m.params.encodedDataLength);
    } else if (m.method === "Network.loadingFailed") {
      inflight.delete(m.params.requestId);
    }
  };
  cdp.on("Target.attachedToTarget", onAttach);
  cdp.on("Target.receivedMessageFromTarget", onMessage);
  if (!attached.has(cdp)) {
    attached.add(cdp);
    cdp.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: false }).catch((e) => {
      console.error("cannot attach to workers; their traffic is not counted:", e.message);
    });
  }
  w.stop = () => { cdp.off("Target.attachedToTarget", onAttach); cdp.off("Target.receivedMessageFromTarget", onMessage); };
  return w;
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"],
  });
  // Log in once, unthrottled; every context starts from this session (and an empty cache).
  const login = await browser.newContext();
  const lp = await login.newPage();
  await lp.goto(`${base}/login`);
  await lp.fill("input[name=username]", user);
  await lp.fill("input[name=password]", password);
  await Promise.all([lp.waitForNavigation(), lp.click("button[type=submit].primary")]);
  if (lp.url().includes("/login")) throw new Error(`login as ${user} failed`);
  const storageState = await login.storageState();
  await login.close();

  const results = [];
  for (const path of pages) {
    for (const name of only) {
      const cold = [], warm = [];
      for (let i = 0; i < runs; i++) {
        const ctx = await browser.newContext({ storageState, viewport: { width: 1280, height: 800 } });
        const page = await ctx.newPage();
        const cdp = await ctx.newCDPSession(page);
        await cdp.send("Network.enable");
        profile = profiles[name];
        await cdp.send("Network.emulateNetworkConditions", profile);
        cold.push(await load(page, cdp, path));
        warm.push(await load(page, cdp, path));
        await ctx.close();
      }
      const m = (xs, k) => median(xs.map((x) => x[k]));
      const r = {
        label, page: path, profile: name, runs,
        cold: { bytes: m(cold, "bytes"), assetBytes: m(cold, "assetBytes"), requests: m(cold, "requests"),
                workerBytes: m(cold, "workerBytes"), workerRequests: m(cold, "workerRequests"),
                loadMs: m(cold, "loadMs"), doneMs: m(cold, "doneMs") },
        repeat: { bytes: m(warm, "bytes"), requests: m(warm, "requests"), loadMs: m(warm, "loadMs"), doneMs: m(warm, "doneMs") },
        samples: { coldLoadMs: cold.map((x) => x.loadMs), coldBytes: cold.map((x) => x.bytes) },
      };
      console.log(JSON.stringify(r));
      results.push(r);
    }
  }
  await browser.close();
  console.log(`\n${label}: medians of ${runs} loads`);
  console.log("page        profile   cold KB  (assets) (worker)  reqs  load s  done s | repeat KB  load s  done s");
  for (const r of results) {
    const kb = (b) => (b / 1024).toFixed(0).padStart(8);
    const s = (ms) => (ms / 1000).toFixed(1).padStart(6);
    console.log(`${r.page.padEnd(11)} ${r.profile.padEnd(8)} ${kb(r.cold.bytes)} ${kb(r.cold.assetBytes)} ${kb(r.cold.workerBytes)} ${String(r.cold.requests).padStart(5)} ${s(r.cold.loadMs)}  ${s(r.cold.doneMs)} | ${kb(r.repeat.bytes)}  ${s(r.repeat.loadMs)}  ${s(r.repeat.doneMs)}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });

// Headless Chromium (Debian's /usr/bin/chromium) over the DevTools protocol
// for the page tests of tests/admin: no npm packages. Commands go over
// --remote-debugging-pipe (fd 3 carries commands to Chromium, fd 4 its
// answers, each message JSON ending in NUL), so nothing is downloaded and
// no port is opened.
//
// launch(name) starts the browser and one page, and returns the helpers a
// test drives it with; skip() exits 77 (Chromium missing or not starting),
// fail() exits 1, both after killing the browser and removing its profile.
import { spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
let browser = null, profile = null, tag = "page";

export function log(...a) { console.log(`${tag}:`, ...a); }

function cleanup() {
  if (browser && browser.exitCode === null) browser.kill("SIGKILL");
  // Chromium may still be writing its profile while it dies.
  try {
    if (profile) rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (e) {
    log(`leaving ${profile}: ${e.message}`);
  }
  profile = null;
}
export function skip(why) { console.log("SKIP: " + why); cleanup(); process.exit(77); }
export function fail(why) { console.log("FAIL: " + why); cleanup(); process.exit(1); }
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const withTimeout = (p, ms, what) =>
  Promise.race([p, sleep(ms).then(() => { throw new Error(`${what}: no answer in ${ms} ms`); })]);

class Cdp {
  constructor(proc) {
    this.w = proc.stdio[3];
    this.next = 1;
    this.pending = new Map();
    this.handlers = new Map();
    let buf = Buffer.alloc(0);
    // A browser that died: every call waiting, and every later one, fails.
    const broken = (e) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(new Error(`${p.method}: ${e.message}`));
      this.pending.clear();
    };
    this.w.on("error", broken);
    proc.stdio[4].on("error", broken);
    proc.stdio[4].on("end", () => broken(new Error("the browser closed its end")));
    proc.stdio[4].on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      for (let i; (i = buf.indexOf(0)) >= 0; buf = buf.subarray(i + 1))
        this.dispatch(JSON.parse(buf.subarray(0, i).toString("utf8")));
    });
  }
  dispatch(msg) {
    if (msg.id) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
      return;
    }
    for (const h of this.handlers.get(msg.method) || []) h(msg.params, msg.sessionId);
  }
  send(method, params = {}, sessionId = undefined) {
    if (this.dead) return Promise.reject(new Error(`${method}: ${this.dead.message}`));
    const id = this.next++;
    this.w.write(JSON.stringify({ id, method, params, sessionId }) + "\0");
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }
  on(event, fn) { this.handlers.set(event, [...(this.handlers.get(event) || []), fn]); }
}

// Start Chromium and open one 1280x900 page. Records the page's uncaught
// exceptions, its dialogs (accepted), and every URL it requested.
export async function launch(name) {
  tag = name;
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    skip(`${CHROMIUM} is not installed (Debian package chromium; scripts/deps.sh)`);
  }
  profile = mkdtempSync(join(tmpdir(), "sbx-admin-chromium-"));
  browser = spawn(CHROMIUM, [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
    `--user-data-dir=${profile}`, "--remote-debugging-pipe", "about:blank",
  ], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
  let stderr = "";
  browser.stderr.on("data", (d) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise((r) => browser.on("exit", (code, sig) => r(code ?? sig)));
  browser.on("error", (e) => skip(`cannot start ${CHROMIUM}: ${e.message}`));

  const cdp = new Cdp(browser);
  let version;
  try {
    version = await withTimeout(Promise.race([
      cdp.send("Browser.getVersion"),
      exited.then((c) => { throw new Error(`exited (${c})`); }),
    ]), 20000, "Browser.getVersion");
  } catch (e) {
    skip(`Chromium did not start: ${e.message}\n${stderr}`);
  }
  log("browser", version.product);

  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => cdp.send(method, params, sessionId);

  const exceptions = [], dialogs = [], requests = [], errors = [];
  cdp.on("Runtime.exceptionThrown", (p) => {
    const d = p.exceptionDetails;
    exceptions.push((d.exception && d.exception.description) || d.text);
  });
  cdp.on("Runtime.consoleAPICalled", (p) =>
    log(`console.${p.type}:`, p.args.map((a) => a.value ?? a.description).join(" ")));
  cdp.on("Log.entryAdded", (p) => {
    log(`browser ${p.entry.level}:`, p.entry.text);
    if (p.entry.level === "error") errors.push(p.entry.text);
  });
  cdp.on("Network.requestWillBeSent", (p) => requests.push(p.request.url));
  cdp.on("Page.javascriptDialogOpening", (p) => {
    dialogs.push(p.message);
    log(`dialog (${p.type}): ${p.message} -> accept`);
    page("Page.handleJavaScriptDialog", { accept: true }).catch(() => {});
  });
  await page("Page.enable");
  await page("Runtime.enable");
  await page("Log.enable");
  await page("Network.enable");
  await page("Emulation.setDeviceMetricsOverride",
             { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });

  async function evaluate(expression) {
    const r = await page("Runtime.evaluate",
                         { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails)
      throw new Error(`evaluating ${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  }
  async function waitFor(expression, what, ms = 15000) {
    const end = Date.now() + ms;
    let v;
    while (Date.now() < end) {
      v = await evaluate(expression);
      if (v) return v;
      await sleep(150);
    }
    fail(`${what}: not seen within ${ms} ms (page said: ${await evaluate(
      "document.body.innerText.slice(0, 1500)")})`);
  }
  // A real click: the mouse pressed and released over the element's centre.
  async function click(selector) {
    const box = await evaluate(`(() => {
      const e = document.querySelector(${JSON.stringify(selector)});
      if (!e) return null;
      e.scrollIntoView({ block: "center" });
      const r = e.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    })()`);
    if (!box) fail(`no element ${selector} to click`);
    const at = { x: box.x, y: box.y, button: "left", clickCount: 1 };
    await page("Input.dispatchMouseEvent", { type: "mouseMoved", ...at });
    await page("Input.dispatchMouseEvent", { type: "mousePressed", ...at });
    await page("Input.dispatchMouseEvent", { type: "mouseReleased", ...at });
  }
  async function navigate(url) {
    const nav = await page("Page.navigate", { url });
    if (nav.errorText) fail(`loading ${url}: ${nav.errorText}`);
    await waitFor("document.readyState === 'complete'", `${url} loaded`);
  }
  // The whole page, 1280 CSS pixels wide, as a PNG in outDir/file, scaled
  // by `scale`; checked to be a PNG of that size (at least 600 high before
  // scaling). Returns its path.
  async function screenshot(outDir, file, scale = 1) {
    const { cssContentSize } = await page("Page.getLayoutMetrics");
    const height = Math.ceil(Math.min(Math.max(cssContentSize.height, 600), 16000));
    const shot = await page("Page.captureScreenshot", {
      format: "png", captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: 1280, height, scale },
    });
    const png = Buffer.from(shot.data, "base64");
    const sig = "89504e470d0a1a0a";
    const w = png.length > 24 ? png.readUInt32BE(16) : 0, h = png.length > 24 ? png.readUInt32BE(20) : 0;
    if (png.length < 1000 || png.subarray(0, 8).toString("hex") !== sig ||
        Math.abs(w - 1280 * scale) > 1 || Math.abs(h - height * scale) > 1)
      fail(`screenshot ${file}: a ${w}x${h} PNG of ${png.length} bytes, not ` +
           `${1280 * scale}x${height * scale}`);
    mkdirSync(outDir, { recursive: true });
    const path = join(outDir, file);
    writeFileSync(path, png);
    log(`screenshot ${path}: ${w}x${h}, ${png.length} bytes`);
    return path;
  }
  // Every request of the page went to origin (or was data:/about:).
  function checkLoopbackOnly(origin) {
    const away = requests.filter((u) => !u.startsWith(origin + "/") &&
                                        !/^(data|about|blob):/.test(u));
    if (away.length) fail(`the page requested ${away.join(", ")}: not ${origin}`);
  }
  async function close() {
    await withTimeout(cdp.send("Browser.close"), 5000, "Browser.close").catch(() => {});
    await withTimeout(exited, 5000, "browser exit").catch(() => {});
    cleanup();
  }
  return { page, evaluate, waitFor, click, navigate, screenshot, checkLoopbackOnly, close,
           exceptions, dialogs, requests, errors };
}

// Run main(), failing it after ms.
export function run(main, ms) {
  const deadline = setTimeout(() => fail(`not done within ${ms} ms`), ms);
  main().then(() => { clearTimeout(deadline); log("passed"); process.exit(0); },
              (e) => fail(e.stack || String(e)));
}

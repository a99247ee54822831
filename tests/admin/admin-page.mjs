// Drives Debian's headless Chromium through the admin page, as a person
// would: load /admin, find the sandbox in the list, open its resources,
// press its Force stop button (accepting the confirmation), and see the
// API's answer and the status change. Saves a PNG screenshot.
//
// Usage: node admin-page.mjs BASE_URL SANDBOX_ID OUT_DIR
// Exit: 0 passed, 1 failed, 77 Chromium missing or not starting (skip).
//
// No npm packages: Chrome DevTools Protocol over --remote-debugging-pipe
// (fd 3 carries commands to Chromium, fd 4 its answers, each message JSON
// ending in NUL), so nothing is downloaded and no port is opened.
import { spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, sandboxId, outDir] = process.argv.slice(2);
if (!base || !sandboxId || !outDir) {
  console.error("usage: node admin-page.mjs BASE_URL SANDBOX_ID OUT_DIR");
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const DEADLINE_MS = 50000;

function log(...a) { console.log("admin-page:", ...a); }
let browser = null, profile = null;

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
function skip(why) { console.log("SKIP: " + why); cleanup(); process.exit(77); }
function fail(why) { console.log("FAIL: " + why); cleanup(); process.exit(1); }

try {
  accessSync(CHROMIUM, constants.X_OK);
} catch {
  skip(`${CHROMIUM} is not installed (Debian package chromium; scripts/deps.sh)`);
}

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
    const h = this.handlers.get(msg.method);
    if (h) h(msg.params, msg.sessionId);
  }
  send(method, params = {}, sessionId = undefined) {
    if (this.dead) return Promise.reject(new Error(`${method}: ${this.dead.message}`));
    const id = this.next++;
    this.w.write(JSON.stringify({ id, method, params, sessionId }) + "\0");
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }
  on(event, fn) { this.handlers.set(event, fn); }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, ms, what) =>
  Promise.race([p, sleep(ms).then(() => { throw new Error(`${what}: no answer in ${ms} ms`); })]);

async function main() {
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

  const exceptions = [], dialogs = [];
  cdp.on("Runtime.exceptionThrown", (p) => {
    const d = p.exceptionDetails;
    exceptions.push((d.exception && d.exception.description) || d.text);
  });
  cdp.on("Runtime.consoleAPICalled", (p) =>
    log(`console.${p.type}:`, p.args.map((a) => a.value ?? a.description).join(" ")));
  cdp.on("Log.entryAdded", (p) => log(`browser ${p.entry.level}:`, p.entry.text));
  cdp.on("Page.javascriptDialogOpening", (p) => {
    dialogs.push(p.message);
    log(`dialog (${p.type}): ${p.message} -> accept`);
    page("Page.handleJavaScriptDialog", { accept: true }).catch(() => {});
  });
  await page("Page.enable");
  await page("Runtime.enable");
  await page("Log.enable");
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
      "document.querySelector('main').innerText.slice(0, 1500)")})`);
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

  const url = base + "/admin";
  const nav = await page("Page.navigate", { url });
  if (nav.errorText) fail(`loading ${url}: ${nav.errorText}`);
  await waitFor("document.readyState === 'complete'", "page load");
  const title = await evaluate("document.title");
  if (title !== "sandboxd admin") fail(`title is "${title}"`);
  log("loaded", url);

  const idJs = JSON.stringify(sandboxId);
  const row = `tr[data-id=${JSON.stringify(sandboxId)}]`;
  const cellOf = (n) => `document.querySelector(${JSON.stringify(row)})?.cells[${n}]?.textContent`;
  await waitFor(`document.getElementById("st-uptime").textContent !== "–"`, "the status panel");
  const status = await evaluate(`({
    uptime: document.getElementById("st-uptime").textContent,
    active: document.getElementById("st-active").textContent,
    backend: document.getElementById("st-backend").textContent,
    version: document.getElementById("st-version").textContent,
    memory: document.getElementById("st-mem").textContent,
    cpu: document.getElementById("st-cpu").textContent })`);
  log("status panel", JSON.stringify(status));
  // The daemon runs with --warm-pool 2: its "exec" pool is listed.
  const warm = await waitFor(`!document.getElementById("warm-section").hidden &&
    Array.from(document.querySelectorAll("#warm tbody tr"), (r) => Array.from(r.cells, (c) => c.textContent))`,
    "the warm pools table");
  if (warm.length !== 1 || warm[0][0] !== "exec" || !/ \/ 2$/.test(warm[0][1]))
    fail(`warm pools table: ${JSON.stringify(warm)}`);
  log("warm pools", JSON.stringify(warm));
  await waitFor(`!!document.querySelector(${JSON.stringify(row)})`, `sandbox ${sandboxId} in the list`);
  const before = await evaluate(cellOf(1));
  log(`row ${sandboxId}: status ${before}, runtime ${await evaluate(cellOf(2))}`);

  // Select it: the resources panel opens for that id.
  await click(`${row} td:first-child button`);
  await waitFor(`!document.getElementById("detail").hidden &&
                 document.getElementById("detail-id").textContent === ${idJs}`,
                "the resources panel of the selected sandbox");
  await waitFor(`document.getElementById("rs-mem").textContent !== "–"`,
                "the selected sandbox's resources", 8000);
  log("resources", await evaluate(`document.getElementById("rs-mem").textContent + " | " +
                                   document.getElementById("rs-cpu").textContent`));

  await click(`${row} button.force-stop`);
  const message = await waitFor(`document.getElementById("message").textContent ||
                                 (document.getElementById("error").textContent &&
                                  "ERROR: " + document.getElementById("error").textContent)`,
                                "the answer to Force stop");
  if (message.startsWith("ERROR: ")) fail(`force stop answered ${message}`);
  if (dialogs.length !== 1 || !dialogs[0].includes(sandboxId))
    fail(`expected one confirmation naming the sandbox, saw ${JSON.stringify(dialogs)}`);
  log("message after Force stop:", message);
  if (before === "running") {
    const after = await waitFor(`(${cellOf(1)}) !== "running" && (${cellOf(1)})`,
                                "the status change after Force stop");
    log(`row ${sandboxId}: status ${before} -> ${after}`);
  }
  if (exceptions.length) fail(`the page threw: ${exceptions.join("; ")}`);

  const { cssContentSize } = await page("Page.getLayoutMetrics");
  const shot = await page("Page.captureScreenshot", {
    format: "png", captureBeyondViewport: true,
    clip: { x: 0, y: 0, width: 1280, height: Math.ceil(Math.max(cssContentSize.height, 600)), scale: 1 },
  });
  mkdirSync(outDir, { recursive: true });
  const png = join(outDir, "admin-page.png");
  writeFileSync(png, Buffer.from(shot.data, "base64"));
  log("screenshot", png);

  await withTimeout(cdp.send("Browser.close"), 5000, "Browser.close").catch(() => {});
  await withTimeout(exited, 5000, "browser exit").catch(() => {});
  cleanup();
}

const deadline = setTimeout(() => fail(`not done within ${DEADLINE_MS} ms`), DEADLINE_MS);
main().then(() => { clearTimeout(deadline); log("passed"); process.exit(0); },
            (e) => fail(e.stack || String(e)));

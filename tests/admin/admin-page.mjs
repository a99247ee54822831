// Drives Debian's headless Chromium through the admin page, as a person
// would, and checks every panel against what test-admin-page.c made: the
// status, the single node, the warm pool, the sandbox, session, deployment
// and execution (its output shown on selection), the live log of the
// session while a run prints one line, waits, and prints another (the
// first seen before the second exists), the load charts' points after
// executions, then the sandbox's resources and its Force stop button
// (accepting the confirmation). Saves screenshots: admin-page.png (full
// size) and admin-page-small.png (half size, for the README).
//
// Usage: node admin-page.mjs BASE_URL SANDBOX_ID SESSION_ID DEPLOYMENT_ID EXECUTION_ID OUT_DIR
// ("-" for an object the test could not make: its checks are left out).
// Exit: 0 passed, 1 failed, 77 Chromium missing or not starting (skip).
// No npm packages: Chromium over the DevTools protocol (cdp.mjs).
import { fail, launch, log, run, sleep } from "./cdp.mjs";

const [base, sandboxId, sessionId, deploymentId, executionId, outDir] = process.argv.slice(2);
if (!base || !sandboxId || !sessionId || !deploymentId || !executionId || !outDir) {
  console.error("usage: node admin-page.mjs BASE_URL SANDBOX_ID SESSION_ID DEPLOYMENT_ID " +
                "EXECUTION_ID OUT_DIR");
  process.exit(2);
}
const q = JSON.stringify;
const rowOf = (table, id) => `#${table} tr[data-id=${q(id)}]`;
const cellsOf = (sel) =>
  `Array.from(document.querySelector(${q(sel)})?.cells || [], (c) => c.textContent)`;

async function post(path, body) {
  const r = await fetch(base + path, { method: "POST", body: JSON.stringify(body),
                                       headers: { "Content-Type": "application/json" } });
  if (!r.ok) fail(`POST ${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

async function checkStatus(b) {
  await b.waitFor(`document.getElementById("st-uptime").textContent !== "–"`, "the status panel");
  const status = await b.evaluate(`({
    uptime: document.getElementById("st-uptime").textContent,
    active: document.getElementById("st-active").textContent,
    backend: document.getElementById("st-backend").textContent,
    version: document.getElementById("st-version").textContent })`);
  log("status panel", JSON.stringify(status));
  // The daemon runs with --warm-pool 2: its "exec" pool is listed.
  const warm = await b.waitFor(`!document.getElementById("warm-section").hidden &&
    Array.from(document.querySelectorAll("#warm tbody tr"), (r) => Array.from(r.cells, (c) => c.textContent))`,
    "the warm pools table");
  if (warm.length !== 1 || warm[0][0] !== "exec" || !/ \/ 2$/.test(warm[0][1]))
    fail(`warm pools table: ${JSON.stringify(warm)}`);
  // One daemon: one node, called a single node.
  const nodes = await b.waitFor(`document.querySelectorAll("#nodes tbody tr").length === 1 &&
    document.getElementById("nodes-caption").textContent`, "the nodes table");
  if (!/^Single node/.test(nodes)) fail(`nodes caption: "${nodes}"`);
  log("nodes:", nodes);
}

async function checkObjects(b) {
  if (sessionId !== "-") {
    const s = await b.waitFor(`${cellsOf(rowOf("sessions", sessionId))}.length > 0 &&
                               ${cellsOf(rowOf("sessions", sessionId))}`, "the session's row");
    log("session row", JSON.stringify(s));
  }
  if (deploymentId !== "-") {
    const d = await b.waitFor(`${cellsOf(rowOf("deployments", deploymentId))}.length > 0 &&
                               ${cellsOf(rowOf("deployments", deploymentId))}`,
                              "the deployment's row");
    log("deployment row", JSON.stringify(d));
    if (d[1] !== "Running" || d[2] !== `/faas/${deploymentId}/` || !/^on, after /.test(d[3]))
      fail(`deployment row: ${JSON.stringify(d)} (want Running, its URL, scale to zero on)`);
  }
  if (executionId === "-") return;
  const ex = rowOf("executions", executionId);
  const x = await b.waitFor(`${cellsOf(ex)}.length > 0 && ${cellsOf(ex)}`, "the execution's row");
  log("execution row", JSON.stringify(x));
  if (x[3] !== "python" || x[4] !== "success") fail(`execution row: ${JSON.stringify(x)}`);
  await b.click(`${ex} td:first-child button`);
  const out = await b.waitFor(`document.getElementById("execution-id").textContent === ${q(executionId)} &&
    document.getElementById("execution-stdout").textContent.includes("admin-page-output") &&
    [document.getElementById("execution-stdout").textContent,
     document.getElementById("execution-stderr").textContent]`, "the execution's output");
  if (!out[1].includes("admin-page-stderr")) fail(`stderr shown: ${q(out[1])}`);
  log("execution output", JSON.stringify(out));
}

// Follow the session's log, then run a program in it that prints "first",
// sleeps 4 s (room for a browser slowed down by a loaded machine) and
// prints "second": the page must show "first" alone, and "second" later.
async function checkLiveLog(b) {
  await b.click(`${rowOf("sessions", sessionId)} button.follow`);
  await b.waitFor(`/^Following session/.test(document.getElementById("live-state").textContent)`,
                  "the live log following the session");
  const code = "import time\nprint('live-first', flush=True)\ntime.sleep(4)\nprint('live-second')";
  const ran = post(`/sessions/${sessionId}/run`, { command: ["python3", "-c", code] });
  const logText = `document.getElementById("live-log").textContent`;
  const first = await b.waitFor(`${logText}.includes("live-first") && ${logText}`,
                                "the first line, live", 10000);
  const t0 = Date.now();
  if (first.includes("live-second")) fail("both lines arrived together: not live");
  await b.waitFor(`${logText}.includes("live-second")`, "the second line, live", 10000);
  const gap = Date.now() - t0;
  log(`live log: "live-first", then "live-second" ${gap} ms later`);
  if (gap < 2000) fail(`the second line came ${gap} ms after the first; the program slept 4 s`);
  const r = await ran;
  if (!r.stdout || !r.stdout.includes("live-second")) fail(`the run answered ${q(r)}`);
}

// Executions between two readings of /metrics: points on both charts.
async function checkCharts(b) {
  for (let i = 0; i < 3; i++)
    await post("/api/v1/execute", { language: "python", code: "print(1)" });
  const pts = await b.waitFor(`(() => {
    const r = Number(document.getElementById("chart-rate").dataset.points || 0);
    const l = Number(document.getElementById("chart-latency").dataset.points || 0);
    return r >= 2 && l >= 2 && [r, l];
  })()`, "points on the load charts", 15000);
  const peak = await b.evaluate(`document.getElementById("chart-rate-now").textContent`);
  const lat = await b.evaluate(`document.getElementById("chart-latency-now").textContent`);
  log(`charts: ${pts[0]} rate points, ${pts[1]} latency points; ${peak} ${lat}`);
  if (!/highest [0-9.]+\/s/.test(peak) || /highest 0\.000/.test(peak)) fail(`rate: ${peak}`);
  if (!/p50 [0-9.]+ s/.test(lat)) fail(`latency: ${lat}`);
}

async function checkForceStop(b) {
  const row = rowOf("sandboxes", sandboxId);
  await b.waitFor(`!!document.querySelector(${q(row)})`, `sandbox ${sandboxId} in the list`);
  const before = (await b.evaluate(cellsOf(row)))[1];
  // Select it: the resources panel opens for that id.
  await b.click(`${row} td:first-child button`);
  await b.waitFor(`!document.getElementById("detail").hidden &&
                   document.getElementById("detail-id").textContent === ${q(sandboxId)}`,
                  "the resources panel of the selected sandbox");
  await b.waitFor(`document.getElementById("rs-mem").textContent !== "–"`,
                  "the selected sandbox's resources", 8000);
  await b.click(`${row} button.force-stop`);
  const message = await b.waitFor(`document.getElementById("message").textContent ||
                                   (document.getElementById("error").textContent &&
                                    "ERROR: " + document.getElementById("error").textContent)`,
                                  "the answer to Force stop");
  if (message.startsWith("ERROR: ")) fail(`force stop answered ${message}`);
  if (b.dialogs.length !== 1 || !b.dialogs[0].includes(sandboxId))
    fail(`expected one confirmation naming the sandbox, saw ${JSON.stringify(b.dialogs)}`);
  log("message after Force stop:", message);
  if (before === "running") {
    const after = await b.waitFor(`(${cellsOf(row)})[1] !== "running" && (${cellsOf(row)})[1]`,
                                  "the status change after Force stop");
    log(`row ${sandboxId}: status ${before} -> ${after}`);
  }
}

run(async () => {
  const b = await launch("admin-page");
  await b.navigate(base + "/admin");
  const title = await b.evaluate("document.title");
  if (title !== "sandboxd admin") fail(`title is "${title}"`);
  await checkStatus(b);
  await checkObjects(b);
  if (sessionId !== "-") await checkLiveLog(b);
  if (executionId !== "-") await checkCharts(b);
  await checkForceStop(b);
  if (b.exceptions.length) fail(`the page threw: ${b.exceptions.join("; ")}`);
  if (b.errors.length) fail(`the browser reported: ${b.errors.join("; ")}`);
  b.checkLoopbackOnly(base);
  await sleep(100);
  await b.screenshot(outDir, "admin-page.png");
  await b.screenshot(outDir, "admin-page-small.png", 0.5);
  await b.close();
}, 75000);

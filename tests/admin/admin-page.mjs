// Drives Debian's headless Chromium through the admin page, as a person
// would: load /admin, find the sandbox in the list, open its resources,
// press its Force stop button (accepting the confirmation), and see the
// API's answer and the status change. Saves a PNG screenshot.
//
// Usage: node admin-page.mjs BASE_URL SANDBOX_ID OUT_DIR
// Exit: 0 passed, 1 failed, 77 Chromium missing or not starting (skip).
// No npm packages: Chromium over the DevTools protocol (cdp.mjs).
import { fail, launch, log, run } from "./cdp.mjs";

const [base, sandboxId, outDir] = process.argv.slice(2);
if (!base || !sandboxId || !outDir) {
  console.error("usage: node admin-page.mjs BASE_URL SANDBOX_ID OUT_DIR");
  process.exit(2);
}

async function main() {
  const { evaluate, waitFor, click, navigate, screenshot, close, exceptions, dialogs } =
    await launch("admin-page");
  const url = base + "/admin";
  await navigate(url);
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

  await screenshot(outDir, "admin-page.png");
  await close();
}

run(main, 50000);

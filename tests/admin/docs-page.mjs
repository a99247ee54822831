// GET /docs in headless Chromium: swagger-ui must render the gateway's own
// /openapi.json offline. Every operation of the document must be listed on
// the page (POST /api/v2/execute and GET /metrics among them), the page must
// request nothing but the gateway (and no CSP violation or exception), and
// a PNG screenshot is saved.
//
// Usage: node docs-page.mjs BASE_URL OUT_DIR
// Exit: 0 passed, 1 failed, 77 Chromium missing or not starting (skip).
import { fail, launch, log, run } from "./cdp.mjs";

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error("usage: node docs-page.mjs BASE_URL OUT_DIR");
  process.exit(2);
}

run(async () => {
  const b = await launch("docs-page");
  await b.navigate(base + "/docs");
  const title = await b.evaluate("document.title");
  if (title !== "sandboxd API") fail(`title is "${title}"`);

  // What the document holds, as the page's own fetch sees it.
  const want = await b.evaluate(`fetch("/openapi.json").then((r) => r.json()).then((d) =>
    Object.entries(d.paths).flatMap(([p, ops]) =>
      Object.keys(ops).filter((m) => m !== "parameters").map((m) => m.toUpperCase() + " " + p)))`);
  if (!Array.isArray(want) || want.length < 40) fail(`/openapi.json: ${JSON.stringify(want)}`);
  const listed = await b.waitFor(`(() => {
    const ops = Array.from(document.querySelectorAll(".opblock"), (o) =>
      (o.querySelector(".opblock-summary-method")?.textContent || "") + " " +
      (o.querySelector(".opblock-summary-path")?.getAttribute("data-path") || ""));
    return ops.length >= ${want.length} && ops;
  })()`, `swagger-ui listing the document's ${want.length} operations`, 30000);
  const missing = want.filter((op) => !listed.includes(op));
  if (missing.length) fail(`not on the page: ${missing.join(", ")}`);
  for (const op of ["POST /api/v2/execute", "GET /metrics", "GET /docs"])
    if (!listed.includes(op)) fail(`${op} is not on the page`);
  const info = await b.evaluate(`document.querySelector(".info .title")?.textContent || ""`);
  if (!/sandbox/i.test(info)) fail(`the document's title is not shown: "${info}"`);
  log(`${listed.length} operations listed; title "${info}"`);

  // Open one operation: its description and parameters render.
  await b.click(`.opblock-get .opblock-summary-path[data-path="/metrics"]`);
  await b.waitFor(`!!document.querySelector(".opblock.is-open .opblock-description-wrapper")`,
                  "GET /metrics opened");

  if (b.exceptions.length) fail(`the page threw: ${b.exceptions.join("; ")}`);
  if (b.errors.length) fail(`the browser reported: ${b.errors.join("; ")}`);
  b.checkLoopbackOnly(base);
  log(`${b.requests.length} requests, all to ${base}`);
  await b.screenshot(outDir, "docs-page.png");
  await b.close();
}, 60000);

// The admin page's load charts (gateway/admin/index.html): GET /metrics is
// read with every refresh of the page, and from each two successive
// readings come executions per second (sandboxd_executions_total, every
// node, kind and status) and the p50 and p99 of the requests that finished
// in between (sandboxd_execution_request_seconds, the buckets' increase,
// interpolated within a bucket as Prometheus' histogram_quantile does).
// The last WINDOW_S seconds are kept in the page only; drawn as SVG.
"use strict";
(function () {
  const A = window.SbxAdmin;
  const WINDOW_S = 600, MIN_SPAN_S = 60;
  const W = 600, H = 160, PAD = 8;
  const SVG = "http://www.w3.org/2000/svg";
  let last = null;              /* the previous reading */
  const rate = [], p50 = [], p99 = [];  /* {t (ms), v (null: no value)} */

  /* One reading: the executions counted and the request-time buckets,
   * both summed over the nodes. */
  function parse(text) {
    const r = { total: 0, buckets: new Map() };
    for (const line of text.split("\n")) {
      const m = /^(sandboxd_executions_total|sandboxd_execution_request_seconds_bucket)\{([^}]*)\}\s+(\S+)/
        .exec(line);
      if (!m) continue;
      const v = Number(m[3]);
      if (!isFinite(v)) continue;
      if (m[1] === "sandboxd_executions_total") {
        r.total += v;
      } else {
        const le = /(?:^|,)le="([^"]+)"/.exec(m[2]);
        if (le) r.buckets.set(le[1], (r.buckets.get(le[1]) || 0) + v);
      }
    }
    return r;
  }

  /* The q-quantile of the requests between two readings, or null. */
  function quantile(q, prev, cur) {
    const les = [...cur.buckets.keys()].sort((a, b) => Number(a) - Number(b));
    const inc = les.map((le) => (cur.buckets.get(le) || 0) - (prev.buckets.get(le) || 0));
    const count = inc.length ? inc[inc.length - 1] : 0;
    if (!(count > 0) || inc.some((n) => n < 0)) return null;
    const rank = q * count;
    let lower = 0, below = 0;
    for (let i = 0; i < les.length; i++) {
      if (inc[i] >= rank) {
        if (les[i] === "+Inf") return lower;
        const upper = Number(les[i]);
        return lower + (upper - lower) * (inc[i] > below ? (rank - below) / (inc[i] - below) : 1);
      }
      lower = les[i] === "+Inf" ? lower : Number(les[i]);
      below = inc[i];
    }
    return lower;
  }

  function push(series, t, v) {
    series.push({ t, v });
    while (series.length && series[0].t < t - WINDOW_S * 1000) series.shift();
  }

  function el(name, attrs) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }

  /* Draw the series (each a run of polylines broken where there is no
   * value, a dot per value) on a shared scale from 0 to the highest value;
   * the time axis spans what is kept, a minute at least. */
  function draw(id, series, floor) {
    const svg = document.getElementById(id);
    const now = Date.now(), first = Math.min(now, ...series.flat().map((p) => p.t));
    const span = Math.min(WINDOW_S * 1000, Math.max(MIN_SPAN_S * 1000, now - first));
    const from = now - span;
    const max = Math.max(floor, ...series.flat().map((p) => p.v || 0)) * 1.1;
    const x = (t) => ((t - from) / span) * W;
    const y = (v) => H - PAD - (v / max) * (H - 2 * PAD);
    const parts = [];
    for (const f of [0, 0.5, 1])
      parts.push(el("line", { x1: 0, x2: W, y1: y(f * max), y2: y(f * max), class: "grid" }));
    let points = 0;
    series.forEach((s, i) => {
      let run = [];
      const flush = () => {
        if (run.length > 1)
          parts.push(el("polyline", { points: run.join(" "), class: "s" + i }));
        run = [];
      };
      for (const p of s) {
        if (p.v === null) { flush(); continue; }
        run.push(x(p.t).toFixed(1) + "," + y(p.v).toFixed(1));
        parts.push(el("circle", { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5,
                                  class: "s" + i }));
        points++;
      }
      flush();
    });
    svg.replaceChildren(...parts);
    svg.dataset.points = String(points);
    svg.dataset.max = String(max);
  }

  const fmt = (v, unit) => (v === null || v === undefined ? "–" : v.toFixed(3) + unit);
  const lastValue = (s) => { for (let i = s.length - 1; i >= 0; i--) if (s[i].v !== null) return s[i].v; return null; };

  async function scrape() {
    const resp = await fetch("/metrics", { cache: "no-store" });
    if (!resp.ok) throw new Error("/metrics answered HTTP " + resp.status);
    const cur = parse(await resp.text());
    cur.t = Date.now();
    if (last && cur.t > last.t) {
      const dt = (cur.t - last.t) / 1000, d = cur.total - last.total;
      /* A daemon restarted: its counters began again; no point. */
      push(rate, cur.t, d >= 0 ? d / dt : null);
      push(p50, cur.t, quantile(0.5, last, cur));
      push(p99, cur.t, quantile(0.99, last, cur));
    }
    last = cur;
    draw("chart-rate", [rate], 1);
    draw("chart-latency", [p50, p99], 0.01);
    const top = Math.max(0, ...rate.map((p) => p.v || 0));
    const kept = rate.length ? Math.max(1, Math.round((cur.t - rate[0].t) / 60000)) : 0;
    A.text("chart-rate-now", "Now " + fmt(lastValue(rate), "/s") + "; highest " +
           fmt(top, "/s") + " in the last " + (kept === 1 ? "minute" : kept + " minutes") + ".");
    A.text("chart-latency-now", "p50 " + fmt(lastValue(p50), " s") + " (blue), p99 " +
           fmt(lastValue(p99), " s") + " (amber): the latest interval with executions.");
  }

  A.panels.push(scrape);
})();

// The admin page's behaviour (gateway/admin/index.html), served at
// /admin/assets/admin.js: status, nodes, warm pools, sandboxes and the
// system log, the refresh loop, and the helpers the page's other scripts
// (admin-objects.js, admin-charts.js) use through window.SbxAdmin; they
// add their panels to SbxAdmin.panels, each refreshed with the rest. Data
// is only ever put into the page as text (textContent), never as markup.
"use strict";
(function () {
  const REFRESH_MS = 3000;
  const $ = (id) => document.getElementById(id);
  let selected = null;   /* id of the sandbox whose resources are shown */
  let timer = null;
  let busy = false;

  /* GET or POST a JSON route; throws an Error carrying the API's sentence. */
  async function get(url, method) {
    const resp = await fetch(url, {
      method: method || "GET",
      headers: { "Accept": "application/json" },
      cache: "no-store",
    });
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (!resp.ok) {
      const why = body && typeof body.error === "string" ? body.error : resp.statusText;
      throw new Error(why + " (HTTP " + resp.status + ")");
    }
    return body;
  }
  const api = (path, method) => get("/admin/api/" + path, method);

  function text(id, value) { $(id).textContent = value; }
  function num(v, digits) {
    return typeof v === "number" && isFinite(v) ? v.toFixed(digits === undefined ? 0 : digits) : "–";
  }
  function duration(s) {
    if (typeof s !== "number") return "–";
    s = Math.floor(s);
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    const m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (d) return d + "d " + h + "h " + m + "m";
    if (h) return h + "h " + m + "m " + sec + "s";
    if (m) return m + "m " + sec + "s";
    return sec + "s";
  }
  function bytes(n) {
    if (typeof n !== "number") return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }
  function percent(u) {
    return u && typeof u.percentage === "number" ? num(u.percentage, 1) + "%" : "–";
  }
  function meter(id, u) {
    $(id).value = u && typeof u.percentage === "number" ? Math.min(100, u.percentage) : 0;
  }
  function showError(e) { text("error", e ? String(e.message || e) : ""); }

  function renderStatus(s) {
    text("st-uptime", duration(s.uptime));
    text("st-active", num(s.active_sandboxes));
    text("st-total", num(s.total_sandboxes_created));
    text("st-backend", s.backend_type || "–");
    text("st-version", s.version || "–");
    const mem = s.memory_usage || {};
    text("st-mem", percent(mem));
    text("st-mem-mb", num(mem.used) + " of " + num(mem.total) + " MB");
    text("st-cpu", percent(s.cpu_usage));
    meter("st-mem-meter", s.memory_usage);
    meter("st-cpu-meter", s.cpu_usage);
    renderNodes(Array.isArray(s.nodes) ? s.nodes : [], s.partial === true);
    renderWarm(Array.isArray(s.warm_pools) ? s.warm_pools : []);
  }

  /* Pre-built sandboxes (README "Pre-built sandboxes"), one row per kind
   * that is on, summed over the nodes; none listed: the pools are off. */
  function renderWarm(pools) {
    const rows = pools.map((p) => {
      const tr = document.createElement("tr");
      const tries = (p.taken || 0) + (p.misses || 0);
      cell(tr, p.kind || "–", "mono");
      cell(tr, num(p.ready) + " / " + num(p.size), "num");
      cell(tr, num(p.in_use), "num");
      cell(tr, num(p.taken), "num");
      cell(tr, num(p.misses), "num");
      cell(tr, tries ? num(100 * (p.taken || 0) / tries, 1) + "%" : "–", "num");
      cell(tr, num(p.built), "num");
      cell(tr, num(p.failed), "num");
      cell(tr, num(p.refill_per_s, 2), "num");
      cell(tr, typeof p.memory_kb === "number" ? bytes(p.memory_kb * 1024) : "–", "num");
      return tr;
    });
    $("warm-section").hidden = pools.length === 0;
    document.querySelector("#warm tbody").replaceChildren(...rows);
    text("warm-caption", "Sandboxes built ahead of time, each used by one execution: " +
         "taken = started in one, misses = found the pool empty and started cold; " +
         "memory is what the ready ones hold.");
  }

  /* Cluster mode (README "Cluster"): every node and its load; the status
   * adds up those that answered, `partial` says some did not. */
  function renderNodes(nodes, partial) {
    const rows = nodes.map((n) => {
      const tr = document.createElement("tr");
      cell(tr, n.id || "–", "mono");
      cell(tr, n.address || "–", "mono");
      const st = document.createElement("span");
      st.className = "status " + (n.up ? "status-running" : "status-failed");
      st.textContent = n.up ? "up" : "down";
      cell(tr, st);
      cell(tr, num(n.running), "num");
      cell(tr, num(n.queued), "num");
      cell(tr, num(n.slots), "num");
      cell(tr, num(n.objects), "num");
      cell(tr, num(n.memory_available_mb) + " of " + num(n.memory_total_mb), "num");
      return tr;
    });
    /* One daemon, not a cluster: its one row (a daemon from before
     * clusters lists none), said plainly. */
    const single = nodes.length <= 1 && !(nodes[0] && nodes[0].address);
    document.querySelector("#nodes tbody").replaceChildren(...rows);
    text("nodes-caption", single ? "Single node: the gateway talks to one sandboxd, no cluster."
         : nodes.length + " nodes" +
           (partial ? ". Some did not answer: the figures above leave them out." : "."));
  }

  function cell(row, content, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    if (content instanceof Node) td.append(content); else td.textContent = content;
    row.append(td);
    return td;
  }

  function renderSandboxes(list) {
    const body = document.querySelector("#sandboxes tbody");
    const rows = [];
    for (const sb of list) {
      const tr = document.createElement("tr");
      tr.dataset.id = sb.id;
      tr.setAttribute("aria-selected", sb.id === selected ? "true" : "false");

      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "link mono";
      pick.textContent = sb.id;
      pick.title = "Show the resources of this sandbox";
      pick.addEventListener("click", () => select(sb.id));
      cell(tr, pick);

      cell(tr, statusSpan(sb.status));
      cell(tr, sb.runtime || "–");
      timeCell(tr, sb.created_at);
      cell(tr, num(sb.memory_mb, 1), "num");

      const actions = button(tr, "Force stop", "danger force-stop", "Force stop sandbox " + sb.id,
                             (ev) => forceStop(sb.id, ev.currentTarget));
      const follow = document.createElement("button");
      follow.type = "button";
      follow.className = "follow";
      follow.textContent = "Follow logs";
      follow.setAttribute("aria-label", "Follow the logs of sandbox " + sb.id);
      follow.addEventListener("click", () => SbxAdmin.follow("sandbox", sb.id));
      actions.append(" ", follow);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    text("sandboxes-caption", list.length === 0 ? "No sandboxes."
         : list.length + (list.length === 1 ? " sandbox" : " sandboxes") +
           ". Select an ID to see its resources.");
    if (selected && !list.some((sb) => sb.id === selected)) {
      selected = null;
      $("detail").hidden = true;
    }
  }

  const RESOURCE_FIELDS = ["rs-mem", "rs-mem-of", "rs-cpu", "rs-cpu-of", "rs-disk", "rs-disk-of",
                           "rs-read", "rs-write", "rs-in", "rs-out"];

  /* "of 256 MB (1.5%)"; a limit of 0 means none. */
  function ofLimit(u) {
    return typeof u.limit === "number" && u.limit > 0
      ? "of " + num(u.limit) + " MB (" + num(u.percentage, 1) + "%)" : "no limit";
  }

  function renderResources(r) {
    const m = r.memory || {}, c = r.cpu || {}, d = r.disk || {}, n = r.network || {};
    text("rs-mem", num(m.used, 1) + " MB");
    text("rs-mem-of", ofLimit(m));
    text("rs-cpu", num(c.percentage, 1) + "%");
    text("rs-cpu-of", "of " + num(c.cores) + (c.cores === 1 ? " core" : " cores"));
    text("rs-disk", num(d.used, 1) + " MB");
    text("rs-disk-of", ofLimit(d));
    text("rs-read", bytes(d.read_bytes));
    text("rs-write", bytes(d.write_bytes));
    text("rs-in", bytes(n.bytes_in));
    text("rs-out", bytes(n.bytes_out));
  }

  function logText(lines) {
    if (!Array.isArray(lines) || lines.length === 0) return "(no log lines)";
    return lines.map((l) => [l.timestamp, l.level, l.sandbox_id ? "[" + l.sandbox_id + "]" : "",
                             l.message].filter(Boolean).join(" ")).join("\n");
  }

  async function loadDetail() {
    if (!selected) return;
    const id = encodeURIComponent(selected);
    const [res, logs] = await Promise.allSettled([
      api("sandboxes/" + id + "/resources"),
      api("sandboxes/" + id + "/logs?lines=50"),
    ]);
    if (res.status === "fulfilled") renderResources(res.value);
    else for (const k of RESOURCE_FIELDS) text(k, k.endsWith("-of") ? "" : "–");
    text("detail-logs", logs.status === "fulfilled" ? logText(logs.value)
                                                     : "(" + logs.reason.message + ")");
  }

  async function select(id) {
    selected = id;
    for (const tr of document.querySelectorAll("#sandboxes tbody tr"))
      tr.setAttribute("aria-selected", tr.dataset.id === id ? "true" : "false");
    text("detail-id", id);
    $("detail").hidden = false;
    try { await loadDetail(); } catch (e) { showError(e); }
  }

  async function forceStop(id, button) {
    if (!window.confirm("Force stop sandbox " + id + "? Its running process is killed."))
      return;
    button.disabled = true;
    try {
      const r = await api("sandboxes/" + encodeURIComponent(id) + "/force-stop", "POST");
      text("message", (r && r.message) || "Sandbox " + id + " stopped.");
      showError(null);
    } catch (e) {
      showError(e);
      button.disabled = false;
    }
    await refresh();
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const [status, list, logs, ...more] = await Promise.allSettled([
        api("status"), api("sandboxes"), api("logs?lines=50"),
        ...SbxAdmin.panels.map((p) => p()),
      ]);
      const failed = [status, list, ...more].find((p) => p.status === "rejected");
      if (status.status === "fulfilled") renderStatus(status.value);
      if (list.status === "fulfilled") renderSandboxes(Array.isArray(list.value) ? list.value : []);
      text("logs", logs.status === "fulfilled" ? logText(logs.value)
                                               : "(" + logs.reason.message + ")");
      await loadDetail();
      showError(failed ? failed.reason : null);
      const now = new Date();
      $("updated").dateTime = now.toISOString();
      text("updated", now.toLocaleTimeString());
    } finally {
      busy = false;
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = $("auto").checked ? setInterval(refresh, REFRESH_MS) : null;
  }

  /* A time cell: local time, the ISO text as its datetime. */
  function timeCell(tr, iso) {
    const t = document.createElement("time");
    t.dateTime = iso || "";
    const d = new Date(iso);
    t.textContent = !iso ? "–" : isNaN(d) ? iso : d.toLocaleString();
    return cell(tr, t);
  }
  /* A button in a table cell. */
  function button(tr, label, cls, aria, onclick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = label;
    if (aria) b.setAttribute("aria-label", aria);
    b.addEventListener("click", onclick);
    return cell(tr, b);
  }
  /* Status words as a span the style colours. */
  function statusSpan(s) {
    const st = document.createElement("span");
    st.className = "status status-" + String(s).toLowerCase().replace(/[^a-z]/g, "");
    st.textContent = s || "–";
    return st;
  }

  window.SbxAdmin = { get, api, text, num, bytes, cell, timeCell, button, statusSpan, logText,
                      showError, refresh: () => refresh(), panels: [], $ };

  /* Once every script of the page has registered its panels. */
  document.addEventListener("DOMContentLoaded", () => {
    $("refresh").addEventListener("click", refresh);
    $("auto").addEventListener("change", schedule);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
    refresh();
    schedule();
  });
})();

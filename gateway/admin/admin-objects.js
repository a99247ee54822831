// The admin page's object panels (gateway/admin/index.html): sessions
// (GET /sessions), deployments with their scale-to-zero state (GET
// /admin/api/deployments, every field), the execution history and one
// execution's output (GET /api/v1/executions[/{id}]), and the live log of
// any sandbox, session or deployment over Server-Sent Events (the
// gateway's ?follow=true log streams). Uses admin.js' SbxAdmin.
"use strict";
(function () {
  const A = window.SbxAdmin;
  const $ = A.$;
  const EXECUTIONS = 20;      /* rows of the history shown */
  const LIVE_LINES = 2000;    /* lines the live view keeps */
  let shownExecution = null;  /* id whose output is shown */
  let live = null;            /* the EventSource being followed */

  function followButton(tr, kind, id) {
    return A.button(tr, "Follow logs", "follow", "Follow the logs of " + kind + " " + id,
                    () => follow(kind, id));
  }
  function idCell(tr, id) { return A.cell(tr, id || "–", "mono"); }
  function caption(id, n, one, many, empty) {
    A.text(id, n === 0 ? empty : n + " " + (n === 1 ? one : many) + ".");
  }

  async function sessions() {
    const list = await A.get("/sessions");
    const rows = (Array.isArray(list) ? list : []).map((s) => {
      const tr = document.createElement("tr");
      tr.dataset.id = s.session_id;
      idCell(tr, s.session_id);
      A.timeCell(tr, s.created_at);
      A.timeCell(tr, s.last_used_at);
      A.cell(tr, A.num(s.runs), "num");
      A.cell(tr, s.cwd || "–", "mono");
      A.cell(tr, s.node || "–", "mono");
      followButton(tr, "session", s.session_id);
      return tr;
    });
    document.querySelector("#sessions tbody").replaceChildren(...rows);
    caption("sessions-caption", rows.length, "session", "sessions",
            "No sessions (POST /sessions makes one).");
  }

  /* "on: stopped after 10 min idle" / "off (min_instances 1)"; Stopped
   * means it is scaled to zero now, the next request starts it. */
  function scaleToZero(d) {
    const a = d.auto_scale || {};
    if ((a.min_instances || 0) > 0) return "off (min " + a.min_instances + " running)";
    const after = a.scale_down_after_seconds ? a.scale_down_after_seconds + " s"
                : (a.scale_down_after_minutes || 10) + " min";
    return (d.status === "Stopped" ? "scaled to zero now" : "on") + ", after " + after + " idle";
  }

  async function deployments() {
    const r = await A.api("deployments");
    const list = r && Array.isArray(r.deployments) ? r.deployments : [];
    const rows = list.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.id = d.deployment_id;
      idCell(tr, d.deployment_id);
      const st = A.cell(tr, A.statusSpan(d.status));
      if (d.note) st.title = d.note;
      const a = document.createElement("a");
      a.href = d.url || "#";
      a.className = "mono";
      a.textContent = d.url || "–";
      A.cell(tr, a);
      A.cell(tr, scaleToZero(d), "scale");
      A.cell(tr, d.runtime || "–");
      A.cell(tr, A.num(d.restarts), "num");
      A.timeCell(tr, d.last_request_at);
      followButton(tr, "deployment", d.deployment_id);
      return tr;
    });
    document.querySelector("#deployments tbody").replaceChildren(...rows);
    caption("deployments-caption", rows.length, "deployment", "deployments",
            "No deployments (POST /faas/deploy makes one).");
  }

  async function executions() {
    const list = await A.get("/api/v1/executions?limit=" + EXECUTIONS);
    const rows = (Array.isArray(list) ? list : []).map((x) => {
      const tr = document.createElement("tr");
      tr.dataset.id = x.execution_id;
      tr.setAttribute("aria-selected", x.execution_id === shownExecution ? "true" : "false");
      A.button(tr, x.execution_id, "link mono", "Show the output of execution " + x.execution_id,
               () => showExecution(x.execution_id));
      A.timeCell(tr, x.started_at);
      A.cell(tr, x.kind || "–");
      A.cell(tr, x.language || "–");
      A.cell(tr, A.statusSpan(x.status));
      A.cell(tr, x.exit_code === null || x.exit_code === undefined ? "–" : String(x.exit_code),
             "num");
      A.cell(tr, A.num(x.execution_time_ms), "num");
      A.cell(tr, A.num(x.memory_used_mb, 1), "num");
      return tr;
    });
    document.querySelector("#executions tbody").replaceChildren(...rows);
    A.text("executions-caption", rows.length === 0 ? "No executions yet."
           : "The latest " + rows.length + ", newest first. Select an ID to see its output.");
  }

  function output(id, s, truncated) {
    A.text(id, (s || "") === "" ? "(empty)" : s + (truncated ? "\n… (truncated)" : ""));
  }

  async function showExecution(id) {
    shownExecution = id;
    for (const tr of document.querySelectorAll("#executions tbody tr"))
      tr.setAttribute("aria-selected", tr.dataset.id === id ? "true" : "false");
    $("execution").hidden = false;
    A.text("execution-id", id);
    try {
      const x = await A.get("/api/v1/executions/" + encodeURIComponent(id));
      output("execution-stdout", x.stdout, x.stdout_truncated);
      output("execution-stderr", x.stderr, x.stderr_truncated);
      output("execution-compile", x.compile_output, x.compile_output_truncated);
      $("execution-compile-wrap").hidden = !x.compile_output;
    } catch (e) {
      A.text("execution-stdout", "(" + e.message + ")");
      A.text("execution-stderr", "");
    }
  }

  const LOG_URL = {
    sandbox: (id) => "/admin/api/sandboxes/" + id + "/logs",
    session: (id) => "/sessions/" + id + "/logs",
    deployment: (id) => "/faas/deployments/" + id + "/logs",
  };

  function appendLine(kind, data) {
    let e;
    try { e = JSON.parse(data); } catch (err) { e = { message: data }; }
    const pre = $("live-log");
    const line = document.createElement("span");
    line.className = kind;
    line.textContent = [e.timestamp, kind === "stdout" ? "" : kind, e.message]
      .filter(Boolean).join(" ") + "\n";
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(line);
    while (pre.childNodes.length > LIVE_LINES) pre.firstChild.remove();
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  }

  function stopFollowing(why) {
    if (live) live.close();
    live = null;
    $("live-stop").disabled = true;
    if (why) A.text("live-state", why);
  }

  /* Follow kind's id: its last 100 lines, then live ones as printed. The
   * browser's EventSource reconnects by itself with Last-Event-ID, so a
   * dropped connection neither loses nor repeats lines. */
  function follow(kind, id) {
    stopFollowing();
    $("live-kind").value = kind;
    $("live-id").value = id;
    $("live-log").replaceChildren();
    const what = kind + " " + id;
    const es = new EventSource(LOG_URL[kind](encodeURIComponent(id)) +
                               "?follow=true&lines=100");
    live = es;
    $("live-stop").disabled = false;
    A.text("live-state", "Connecting to " + what + "…");
    es.onopen = () => A.text("live-state", "Following " + what + ".");
    for (const ev of ["stdout", "stderr", "exit", "lost"])
      es.addEventListener(ev, (m) => appendLine(ev, m.data));
    es.onerror = () => {
      if (live !== es) return;
      /* CLOSED: the gateway refused (404, 429): EventSource gives up. */
      if (es.readyState === EventSource.CLOSED)
        stopFollowing("Could not follow " + what + " (no such object, or too many streams).");
      else
        A.text("live-state", "Reconnecting to " + what + "…");
    };
    $("live-log").scrollIntoView({ block: "nearest" });
  }

  $("live-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = $("live-id").value.trim();
    if (id) follow($("live-kind").value, id);
  });
  $("live-stop").addEventListener("click", () => stopFollowing("Stopped."));

  A.follow = follow;
  A.panels.push(sessions, deployments, executions);
})();

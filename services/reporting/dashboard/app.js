// The billing & usage page: reads the /api/v1 routes with the visitor's API key and refreshes
// itself every few seconds (?refresh=ms, default 15000) so it follows usage as it arrives. Its
// nine requests a refresh count against the viewer's API rate limit (100 a minute per IP).
"use strict";
(function () {
  const { $, api, text, row } = window.Pages;
  const params = new URLSearchParams(location.search);
  const refreshMs = Math.max(500, Number(params.get("refresh")) || 15000);
  const state = { range: "7d", tables: {}, timer: null };
  const KINDS = ["workspaces", "workspace_groups", "users"];

  const pct = (s) => Math.min(100, Math.max(0, parseFloat(s) || 0));
  // Rate limits: amber above 80 % (the sidecar's warning). Credits: the quota states, warning at 80 %, critical at 95 %.
  const tone = (percent, state) => (state === "limited" || percent >= 100 ? "red" : percent > 80 || state === "warning" ? "amber" : "");
  const quotaTone = (percent) => (percent >= 95 ? "red" : percent >= 80 ? "amber" : "");

  function showOverview(o) {
    text("org-name", o.organization_id);
    text("plan-name", o.plan.name);
    text("plan-price", o.plan.price_usd === null ? "Custom pricing" : `$${o.plan.price_usd}/month`);
    text("cycle", `${o.period_start.slice(0, 10)} – ${o.period_end.slice(0, 10)}`);
    text("credits-used", o.used); text("credits-total", o.total);
    text("credits-unit", o.unit === "usd" ? "USD" : "credits");
    text("credits-monthly", o.monthly_remaining); text("credits-bonus", o.bonus_remaining);
    text("credits-reserved", o.reserved);
    const bar = $("credits-bar");
    bar.style.width = `${pct(o.percentage)}%`;
    bar.className = quotaTone(pct(o.percentage));
    bar.dataset.percentage = o.percentage;
    text("days-remaining", o.days_remaining); text("days-elapsed", o.days_elapsed);
    text("avg-per-day", o.average_per_day);
    text("run-out-in", window.Pages.days(o.run_out_in_days));
    $("run-out-banner").hidden = !o.run_out_warning;
    text("banner-days", window.Pages.days(o.run_out_in_days));
  }

  function showChart(c) {
    text("chart-unit", c.unit === "usd" ? "(USD)" : "(credits)");
    const labels = c.points.map((p) => (c.range === "24h" ? p.start.slice(11, 16) : p.start.slice(5, 10)));
    // Spend without a source (an API caller that named none) is drawn too, as "other".
    window.drawLineChart($("chart"), labels, ["web", "cli", "other"].map((name) => (
      { name, values: c.points.map((p) => parseFloat(p[name])) })));
    $("chart").dataset.range = c.range;
  }

  // Each table shows its first `wanted` rows; Show More asks for five more. Every load asks for
  // the whole prefix and only the newest answer is drawn, so a refresh racing a Show More can
  // never undo it.
  async function loadTable(kind, more) {
    const t = state.tables[kind] || (state.tables[kind] = { wanted: 5, seq: 0, shown: 0 });
    if (more) t.wanted += 5;
    const seq = ++t.seq;
    const page = await api(`/credits/top/${kind}`, { page_size: Math.min(100, t.wanted) });
    if (seq < t.shown) return;
    t.shown = seq;
    document.querySelector(`#top-${kind} thead th:nth-child(3)`).textContent = page.unit === "usd" ? "USD" : "Credits";
    const body = document.querySelector(`#top-${kind} tbody`);
    body.replaceChildren(...page.items.map((c) => row([c.rank, c.name || c.id || "(none)", c.amount, c.requests, `${c.percentage}%`])));
    $(`more-${kind}`).hidden = page.items.length >= page.total_count || t.wanted >= 100;
  }

  function showRateLimits(r) {
    const target = $("rate-limits");
    const first = r.addresses[0];
    text("rl-ip", first ? `for ${first.ip}` : "");
    target.replaceChildren();
    for (const bar of first ? first.bars : []) {
      const label = document.createElement("div");
      const name = bar.domain === "api" ? "API requests" : "Webhook events";
      const box = document.createElement("div");
      box.className = "bar"; box.id = `rl-${bar.domain}`;
      if (!bar.available) {
        label.textContent = `${name}: unavailable`;
        label.className = "rl-unavailable";
        box.dataset.available = "false";
      } else {
        label.textContent = `${name}: ${bar.used} / ${bar.limit} per minute`;
        const fill = document.createElement("div");
        fill.style.width = `${pct(bar.percentage)}%`;
        box.appendChild(fill);
        const t = tone(pct(bar.percentage), bar.state);
        if (t) box.classList.add(t);
        box.dataset.available = "true"; box.dataset.percentage = bar.percentage;
      }
      target.append(label, box);
    }
  }

  function showAlerts(alerts) {
    $("alerts").replaceChildren(...alerts.map((a) => {
      const li = document.createElement("li"); li.className = a.severity;
      li.textContent = `${a.severity.toUpperCase()} · ${a.message}`; return li;
    }));
    if (!alerts.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = "No active alerts"; $("alerts").appendChild(li); }
  }

  function showInvoices(invoices) {
    const body = document.querySelector("#invoices tbody");
    body.replaceChildren(...invoices.map((i) => {
      const tr = row([i.invoice_id, `${i.period_start.slice(0, 10)} – ${i.period_end.slice(0, 10)}`, `${i.amount} ${i.currency.toUpperCase()}`, i.status, i.due_date ? i.due_date.slice(0, 10) : "—"]);
      const td = document.createElement("td");
      if (i.pdf_url) { const a = document.createElement("a"); a.href = i.pdf_url; a.textContent = "PDF"; td.appendChild(a); }
      tr.appendChild(td); return tr;
    }));
    if (!invoices.length) body.appendChild(row(["No invoices yet", "", "", "", "", ""]));
  }

  async function refresh() {
    try {
      const [overview, chart, metrics, limits, alerts, invoices] = await Promise.all([
        api("/credits/overview"), api("/credits/chart", { range: state.range }), api("/api/metrics"),
        api("/rate-limits"), api("/usage/quota-alerts", { status: "active" }), api("/billing/invoices"),
      ]);
      showOverview(overview); showChart(chart); showRateLimits(limits); showAlerts(alerts); showInvoices(invoices);
      text("api-total", metrics.api_usage.total_requests); text("api-webhooks", metrics.api_usage.webhook_events);
      text("api-latency", metrics.api_usage.average_latency_ms);
      text("agents", metrics.agent_usage.active_agents); text("tasks", metrics.agent_usage.tasks_handled);
      text("agents-registered", metrics.agent_usage.registered_agents);
      text("agents-ephemeral", metrics.agent_usage.ephemeral_agents);
      text("tokens", metrics.agent_usage.llm_tokens);
      await Promise.all(KINDS.map((k) => loadTable(k, false)));
      text("status", `updated ${new Date().toLocaleTimeString()}`);
      document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
    } catch (error) {
      if (error.retryAfter) showLimited(error.retryAfter);
      else text("status", `could not load: ${error.message}`);
    }
  }

  // This viewer's own address is over its API limit: the API bar is full until the bucket refills.
  function showLimited(retryAfter) {
    text("status", `rate limited: retry in ${retryAfter} s`);
    const box = $("rl-api");
    if (box && box.dataset.available === "true") {
      box.className = "bar red"; box.dataset.percentage = "100"; box.dataset.limited = "true";
      if (box.firstChild) box.firstChild.style.width = "100%";
    }
  }

  function start() {
    document.querySelectorAll(".toggle button").forEach((b) => b.addEventListener("click", async () => {
      state.range = b.dataset.range;
      document.querySelectorAll(".toggle button").forEach((o) => o.classList.toggle("on", o === b));
      showChart(await api("/credits/chart", { range: state.range }));
    }));
    KINDS.forEach((k) => $(`more-${k}`).addEventListener("click", () => loadTable(k, true)));
    refresh();
    state.timer = setInterval(refresh, refreshMs);
  }

  window.Pages.boot(start, { session: false });
})();

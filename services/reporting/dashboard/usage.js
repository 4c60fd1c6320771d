// The credit usage page: the cycle's allocation split into monthly and bonus credits (or the USD
// spend cap for BYOM), the four cards, the in-editor bar's state, the chart, the top tables and
// the plans (a tenant admin asks for a change; a platform admin approves or refuses it).
"use strict";
(function () {
  const P = window.Pages;
  const { $, api, text } = P;
  const params = new URLSearchParams(location.search);
  const refreshMs = Math.max(500, Number(params.get("refresh")) || 5000);
  const state = { range: "7d", tables: {}, role: "", unit: "credits", plan: "" };
  const KINDS = ["workspaces", "workspace_groups", "users"];
  const LIMITS = [["llm_tokens", "LLM tokens"], ["queries", "Queries"], ["storage_gb", "Storage (GB)"], ["seats", "Users"]];

  function showOverview(o) {
    const usd = o.unit === "usd";
    state.unit = o.unit; state.plan = o.plan.id;
    const fig = (v) => P.amount(v, o.unit);
    text("cycle", `${o.period_start.slice(0, 10)} – ${o.period_end.slice(0, 10)}`);
    text("allocation-title", usd ? "Spend this cycle" : "Credits this cycle");
    text("used", fig(o.used)); text("total", fig(o.total));
    $("bar-monthly").style.width = `${Math.min(100, parseFloat(o.monthly_percentage))}%`;
    $("bar-bonus").style.width = `${Math.min(100, parseFloat(o.bonus_percentage))}%`;
    $("split-bar").dataset.monthly = o.monthly_percentage; $("split-bar").dataset.bonus = o.bonus_percentage;
    text("monthly-label", usd ? "Spend cap" : "Monthly credits");
    text("monthly-text", `${fig(o.monthly_used)} used of ${fig(o.monthly_allowance)}`);
    $("bonus-part").hidden = usd;
    text("bonus-text", `${P.credits(o.bonus_used)} used, ${P.credits(o.bonus_remaining)} left`);
    text("days-remaining", P.plural(String(o.days_remaining), "day"));
    text("days-elapsed", P.plural(String(o.days_elapsed), "day"));
    text("avg-per-day", fig(o.average_per_day));
    text("run-out-in", o.run_out_in_days === null ? "—" : P.days(o.run_out_in_days));
    $("run-out-banner").hidden = !o.run_out_warning;
    text("banner-what", usd ? "spend reaches its cap" : "credits run out");
    text("banner-days", P.days(o.run_out_in_days));
    text("banner-link", usd ? "See the plans" : "Upgrade your plan");
  }

  function showEditorBar(b) {
    $("editor-fill").style.width = `${Math.min(100, parseFloat(b.percentage))}%`;
    text("editor-percent", `${P.percent(b.percentage)} used`);
    $("editor-upgrade").hidden = !b.show_upgrade;
    $("editor-referral").hidden = !b.show_referral;
  }

  function showChart(c) {
    text("chart-unit", c.unit === "usd" ? "(USD)" : "(credits)");
    const labels = c.points.map((p) => (c.range === "24h" ? p.start.slice(11, 16) : p.start.slice(5, 10)));
    window.drawLineChart($("chart"), labels, ["web", "cli", "other"].map((name) => (
      { name, values: c.points.map((p) => parseFloat(p[name])) })));
    $("chart").dataset.range = c.range;
  }

  async function loadTable(kind, more) {
    const t = state.tables[kind] || (state.tables[kind] = { wanted: 5, seq: 0, shown: 0 });
    if (more) t.wanted += 5;
    const seq = ++t.seq;
    const page = await api(`/credits/top/${kind}`, { page_size: Math.min(100, t.wanted) });
    if (seq < t.shown) return;
    t.shown = seq;
    document.querySelector(`#top-${kind} th.unit`).textContent = page.unit === "usd" ? "USD" : "Credits";
    const fig = page.unit === "usd" ? P.usd : P.number;
    document.querySelector(`#top-${kind} tbody`).replaceChildren(...page.items.map((c) => P.row(
      [c.rank, c.name || c.id || "(none)", fig(c.amount), P.number(String(c.requests), 0), P.percent(c.percentage)])));
    $(`more-${kind}`).hidden = page.items.length >= page.total_count || t.wanted >= 100;
  }

  function planCard(plan) {
    const card = document.createElement("div");
    card.className = "card plan-card"; card.id = `plan-${plan.id}`;
    if (plan.id === state.plan) card.classList.add("current");
    const h = document.createElement("h3"); h.textContent = plan.name;
    const price = document.createElement("div"); price.className = "big";
    price.textContent = plan.price_usd === null ? "Custom" : plan.price_usd === "0" ? "Free" : `${P.usd(plan.price_usd)}/mo`;
    const list = document.createElement("ul");
    const items = [plan.price_usd === null ? "Negotiated credits" : `${P.credits(plan.monthly_credits)} a month`,
      ...LIMITS.filter(([m]) => m in plan.limits).map(([m, label]) => `${label}: ${plan.limits[m] === null ? "Unlimited" : P.number(plan.limits[m])}`)];
    list.replaceChildren(...items.map((t) => { const li = document.createElement("li"); li.textContent = t; return li; }));
    card.append(h, price, list);
    if (plan.id === state.plan) {
      const tag = document.createElement("div"); tag.className = "muted"; tag.textContent = "Current plan"; card.append(tag);
    } else if (state.role === "tenant_admin") {
      card.append(P.button("Request this plan", () => requestPlan(plan), `request-${plan.id}`));
    }
    return card;
  }

  async function requestPlan(plan) {
    try {
      await api("/plans/requests", {}, { body: { plan_id: plan.id } });
      text("plans-note", `Change to ${plan.name} requested; a platform admin applies it.`);
      await loadRequests();
    } catch (error) { text("plans-note", `Could not request it: ${error.message}`); }
  }

  async function decide(request, verdict) {
    const body = verdict === "refuse" ? { reason: $(`reason-${request.request_id}`).value } : {};
    try {
      await api(`/plans/requests/${request.request_id}/${verdict}`, {}, { body });
      text("plans-note", `Request ${request.request_id} ${verdict === "approve" ? "approved" : "refused"}.`);
      await Promise.all([loadRequests(), refresh()]);
    } catch (error) { text("plans-note", `Could not ${verdict} it: ${error.message}`); }
  }

  async function loadRequests() {
    if (state.role !== "tenant_admin" && state.role !== "platform_admin") return;
    const requests = await api("/plans/requests");
    $("plan-requests-box").hidden = false;
    document.querySelector("#plan-requests tbody").replaceChildren(...requests.map((r) => {
      const status = document.createElement("span");
      status.className = `status-${r.status}`;
      status.textContent = r.status + (r.reason ? ` (${r.reason})` : "");
      const actions = document.createElement("span");
      if (state.role === "platform_admin" && r.status === "pending") {
        const reason = document.createElement("input");
        reason.id = `reason-${r.request_id}`; reason.placeholder = "reason (refusal)"; reason.size = 14;
        actions.append(P.button("Approve", () => decide(r, "approve"), `approve-${r.request_id}`), reason,
          P.button("Refuse", () => decide(r, "refuse"), `refuse-${r.request_id}`));
      }
      const tr = P.row([r.requested_at.slice(0, 10), r.plan_id, r.note, status, actions]);
      tr.id = `request-row-${r.request_id}`;
      return tr;
    }));
  }

  async function loadPlans() {
    const plans = await api("/plans");
    // Cheapest first; custom pricing (Enterprise) last.
    const price = (p) => (p.price_usd === null ? Infinity : parseFloat(p.price_usd));
    plans.sort((a, b) => price(a) - price(b));
    $("plan-cards").replaceChildren(...plans.map(planCard));
    if (state.role === "billing_contact") text("plans-note", "Plan changes are asked for by a tenant admin.");
    if (state.role === "platform_admin") text("plans-note", "Approve a request to change the plan.");
  }

  async function refresh() {
    try {
      const [overview, bar, chart] = await Promise.all([
        api("/credits/overview"), api("/credits/usage-bar"), api("/credits/chart", { range: state.range })]);
      const planChanged = overview.plan.id !== state.plan;
      showOverview(overview); showEditorBar(bar); showChart(chart);
      await Promise.all(KINDS.map((k) => loadTable(k, false)));
      if (planChanged) await loadPlans();
      text("status", `updated ${new Date().toLocaleTimeString()}`);
      document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
    } catch (error) {
      text("status", `could not load: ${error.message}`);
    }
  }

  P.boot(async (session) => {
    state.role = session.role;
    document.querySelectorAll(".toggle button").forEach((b) => b.addEventListener("click", async () => {
      state.range = b.dataset.range;
      document.querySelectorAll(".toggle button").forEach((o) => o.classList.toggle("on", o === b));
      showChart(await api("/credits/chart", { range: state.range }));
    }));
    KINDS.forEach((k) => $(`more-${k}`).addEventListener("click", () => loadTable(k, true)));
    await refresh();
    await loadRequests();
    setInterval(refresh, refreshMs);
  });
})();

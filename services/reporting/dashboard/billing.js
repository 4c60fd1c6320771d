// The billing & invoicing page: the plan against its limits, the cost breakdown by service and
// by user, budget alert settings, invoice history with each invoice's lines, payment methods
// (added through a Stripe SetupIntent) and, for Enterprise, invoice or wire payment.
"use strict";
(function () {
  const P = window.Pages;
  const { $, api, text } = P;
  const DIMENSIONS = [["llm_tokens", "LLM tokens"], ["queries", "Queries"], ["storage_gb", "Storage (GB)"],
    ["seats", "Users"], ["api_requests", "API requests"]];
  const ALERT_RESOURCES = ["credits", "llm_tokens", "queries", "storage_gb", "seats", "api_requests"];
  const SERVICES = { ai_service: "AI service", query_engine: "Query engine", ml_service: "ML service", platform: "Platform" };
  const state = { plan: "" };

  function bar(percentage) {
    const box = document.createElement("div"); box.className = "bar";
    const fill = document.createElement("div");
    const p = parseFloat(percentage || "0");
    fill.style.width = `${Math.min(100, p)}%`;
    if (p >= 95) box.classList.add("red"); else if (p >= 80) box.classList.add("amber");
    box.appendChild(fill); return box;
  }

  function showOverview(o, usage) {
    state.plan = o.plan.id;
    text("plan-name", o.plan.name);
    text("plan-price", o.plan.price_usd === null ? "Custom pricing" : `${P.usd(o.plan.price_usd)}/month`);
    text("cycle", `${usage.period_start.slice(0, 10)} – ${usage.period_end.slice(0, 10)}`);
    document.querySelector("#dimensions tbody").replaceChildren(...DIMENSIONS.map(([key, label]) => {
      const u = usage[key];
      const tr = P.row([label, P.number(u.used), u.limit === null ? "Unlimited" : P.number(u.limit),
        u.limit === null ? "—" : P.percent(u.percentage), bar(u.limit === null ? "0" : u.percentage)]);
      tr.id = `dimension-${key}`; return tr;
    }));
  }

  function showCosts(c) {
    text("cost-total", P.usd(c.total_cost));
    const services = [];
    for (const [service, categories] of Object.entries(c.by_service)) {
      for (const [category, cost] of Object.entries(categories)) {
        if (category === "total_cost") continue;
        const tr = P.row([SERVICES[service] || service, category.replace(/_/g, " "), P.usd(cost)]);
        tr.id = `service-${service}-${category}`;
        services.push(tr);
      }
    }
    document.querySelector("#by-service tbody").replaceChildren(...services);
    const users = c.by_user.map((u) => P.row([u.name || u.user_id || "(no user)", P.usd(u.cost_usd)]));
    document.querySelector("#by-user tbody").replaceChildren(...(users.length ? users : [P.row(["No usage yet", ""])]));
  }

  function showAlertSettings(q) {
    const byResource = Object.fromEntries(q.quotas.map((x) => [x.resource, x]));
    document.querySelector("#alert-settings tbody").replaceChildren(...ALERT_RESOURCES.map((r) => {
      const x = byResource[r];
      const tr = P.row([r.replace(/_/g, " "), x && x.alert_at_percent ? `${x.alert_at_percent} %` : "—",
        x && !x.alert_enabled ? "off" : "on"]);
      tr.id = `alert-setting-${r}`; return tr;
    }));
  }

  function showAlerts(alerts) {
    $("alerts").replaceChildren(...alerts.map((a) => {
      const li = document.createElement("li"); li.className = a.severity;
      li.textContent = `${a.severity.replace("_", " ")} · ${a.message}`; return li;
    }));
    if (!alerts.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = "No active alerts"; $("alerts").appendChild(li); }
  }

  async function toggleDetails(invoice, tr, link) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains("lines")) { next.remove(); link.textContent = "View details"; return; }
    const found = await api(`/billing/invoices/${encodeURIComponent(invoice.invoice_id)}`);
    const lines = document.createElement("tr"); lines.className = "lines"; lines.id = `lines-${invoice.invoice_id}`;
    const td = document.createElement("td"); td.colSpan = 6;
    const table = document.createElement("table");
    table.append(P.row(["Item", "Quantity", "Unit price", "Amount"]),
      ...found.lines.map((l) => P.row([l.description, l.quantity === null ? "" : `${P.number(l.quantity)} ${l.unit}`,
        l.unit_price === null ? "" : P.usd(l.unit_price), P.usd(l.amount)])),
      P.row(["Total", "", "", P.usd(found.lines_total)]));
    td.appendChild(table); lines.appendChild(td); tr.after(lines);
    link.textContent = "Hide details";
  }

  function showInvoices(invoices) {
    const body = document.querySelector("#invoices tbody");
    body.replaceChildren(...invoices.map((i) => {
      const actions = document.createElement("span");
      if (i.pdf_url) { const a = document.createElement("a"); a.href = i.pdf_url; a.textContent = "Download PDF"; actions.append(a, " "); }
      const period = new Date(i.period_start).toLocaleDateString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
      const tr = P.row([i.invoice_id, period, `${P.usd(i.amount)}${i.currency === "usd" ? "" : " " + i.currency.toUpperCase()}`,
        i.status[0].toUpperCase() + i.status.slice(1), i.due_date ? i.due_date.slice(0, 10) : "—", actions]);
      tr.id = `invoice-${i.invoice_id}`;
      const details = P.button("View details", () => toggleDetails(i, tr, details));
      actions.append(details);
      return tr;
    }));
    if (!invoices.length) body.appendChild(P.row(["No invoices yet", "", "", "", "", ""]));
  }

  function describe(m) {
    return m.type === "card" ? `${m.brand} card ending ${m.last4}, expires ${m.exp_month}/${m.exp_year}`
      : `${m.brand} bank account ending ${m.last4}`;
  }

  async function loadPayment() {
    try {
      const found = await api("/billing/payment-methods");
      $("payment-methods").replaceChildren(...found.payment_methods.map((m) => {
        const li = document.createElement("li"); li.textContent = describe(m); li.dataset.id = m.id; return li;
      }));
      if (!found.payment_methods.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = "No payment method yet"; $("payment-methods").appendChild(li); }
      const enterprise = state.plan === "enterprise";
      document.querySelectorAll("#collection input").forEach((input) => {
        input.checked = input.value === found.collection_method;
        input.disabled = input.value !== "charge_automatically" && !enterprise;
      });
      text("collection-result", enterprise ? (found.days_until_due ? `Invoices due in ${P.plural(String(found.days_until_due), "day")}.` : "")
        : "Invoice (net 30) and wire transfer are for Enterprise plans.");
    } catch (error) {
      text("setup-result", `Payment methods unavailable: ${error.message}`);
    }
  }

  async function addMethod(types) {
    try {
      const session = await api("/billing/payment-methods/setup", {}, { body: { payment_method_types: types } });
      $("setup-result").className = "notice";
      text("setup-result", `Stripe setup session ${session.session_id} started: confirm the ${types[0] === "card" ? "card" : "bank account"} in Stripe's form; it is listed here once Stripe has it.`);
      $("setup-result").dataset.session = session.session_id;
    } catch (error) { $("setup-result").className = "error"; text("setup-result", error.message); }
  }

  async function setCollection(method) {
    try {
      const chosen = await api("/billing/collection", {}, { body: { collection_method: method } });
      text("collection-result", chosen.days_until_due ? `Invoices due in ${P.plural(String(chosen.days_until_due), "day")}.` : "Charged automatically.");
    } catch (error) { text("collection-result", error.message); }
  }

  async function saveAlert(e) {
    e.preventDefault();
    const body = { alert_enabled: $("alert-enabled").checked };
    if ($("alert-percent").value) body.alert_at_percent = Number($("alert-percent").value);
    try {
      await api(`/usage/quotas/${$("alert-resource").value}/alert`, {}, { body });
      showAlertSettings(await api("/usage/quotas"));
      $("alert-result").className = "notice"; text("alert-result", "Saved.");
    } catch (error) { $("alert-result").className = "error"; text("alert-result", error.message); }
  }

  async function refresh() {
    try {
      const [overview, usage, costs, quotas, alerts, invoices] = await Promise.all([
        api("/credits/overview"), api("/usage"), api("/usage/costs"), api("/usage/quotas"),
        api("/usage/quota-alerts", { status: "active" }), api("/billing/invoices")]);
      showOverview(overview, usage); showCosts(costs); showAlertSettings(quotas); showAlerts(alerts);
      showInvoices(invoices);
      await loadPayment();
      text("status", `updated ${new Date().toLocaleTimeString()}`);
      document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
    } catch (error) {
      text("status", `could not load: ${error.message}`);
    }
  }

  P.boot(async (session) => {
    // The permission table's "Update plan": billing contacts have no say.
    $("change-plan").hidden = session.role === "billing_contact";
    $("alert-resource").replaceChildren(...ALERT_RESOURCES.map((r) => {
      const o = document.createElement("option"); o.value = r; o.textContent = r.replace(/_/g, " "); return o;
    }));
    $("alert-form").addEventListener("submit", saveAlert);
    $("add-card").addEventListener("click", () => addMethod(["card"]));
    $("add-bank").addEventListener("click", () => addMethod(["us_bank_account"]));
    document.querySelectorAll("#collection input").forEach((input) => input.addEventListener("change", () => setCollection(input.value)));
    await refresh();
  });
})();

// What the pages share: the visitor's key (from #key=… or the form), calls to /api/v1, and
// figures written for people. The API keeps exact decimals; the pages round them here
// from the decimal strings themselves (never through binary floats).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("key")) {
    sessionStorage.setItem("metering-key", fragment.get("key"));
    sessionStorage.setItem("metering-org", fragment.get("org") || "");
    history.replaceState(null, "", location.pathname + location.search);
  }
  const key = () => sessionStorage.getItem("metering-key");
  const org = () => sessionStorage.getItem("metering-org") || "";

  // Paths starting with /api/ are taken as they are (e.g. /api/metrics), others under /api/v1. A
  // refusal for the rate limit carries the seconds to wait (`retryAfter`).
  async function api(path, query, options) {
    const q = new URLSearchParams(query || {});
    if (org()) q.set("org_id", org());
    const init = { headers: { Authorization: `Bearer ${key()}` } };
    if (options && options.body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const url = path.startsWith("/api/") ? path : `/api/v1${path}`;
    const response = await fetch(`${url}?${q}`, init);
    const body = await response.json();
    if (!response.ok) {
      const error = new Error(`${body.field ? body.field + ": " : ""}${body.error || response.status}`);
      error.status = response.status;
      if (response.status === 429) error.retryAfter = response.headers.get("Retry-After");
      throw error;
    }
    return body;
  }

  // "49893.736522" -> "49,893.74"; whole figures keep no decimals ("78"), others keep `places`.
  function number(value, places) {
    if (value === null || value === undefined || value === "") return "—";
    places = places === undefined ? 2 : places;
    let text = String(value);
    const negative = text.startsWith("-");
    if (negative) text = text.slice(1);
    const [whole, fraction = ""] = text.split(".");
    const padded = fraction + "0".repeat(places + 1);
    let scaled = BigInt(whole + padded.slice(0, places));
    if (Number(padded[places]) >= 5) scaled += 1n;
    const digits = scaled.toString().padStart(places + 1, "0");
    const head = digits.slice(0, digits.length - places).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const tail = places ? digits.slice(-places) : "";
    const shown = /[1-9]/.test(tail) ? `${head}.${tail}` : head;
    return negative && shown !== "0" ? `-${shown}` : shown;
  }
  const usd = (value) => (value === null || value === undefined ? "—" : `$${number(value, 2).replace(/^(-?[\d,]+)$/, "$1.00")}`);
  const credits = (value) => `${number(value)} credits`;
  const amount = (value, unit) => (unit === "usd" ? usd(value) : credits(value));
  const plural = (count, word) => `${count} ${word}${count === "1" ? "" : "s"}`;
  // Days for people: whole days (half up), "less than a day" below a half.
  function days(value) {
    if (value === null || value === undefined) return "—";
    const whole = number(value, 0);
    return whole === "0" ? "less than a day" : plural(whole, "day");
  }
  const percent = (value) => `${number(value, 1)} %`;

  const text = (id, value) => { $(id).textContent = value === null || value === undefined ? "—" : String(value); };
  function row(cells) {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell;
      tr.appendChild(td);
    }
    return tr;
  }
  function button(label, onClick, id) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label;
    if (id) b.id = id;
    b.addEventListener("click", onClick);
    return b;
  }

  // Shows the login form until there is a key, then runs `start(session)` once; with
  // `{ session: false }` the page reads no session and `start` gets none.
  function boot(start, options) {
    const go = async () => {
      $("login").hidden = true; $("page").hidden = false;
      if (options && options.session === false) { start(null); return; }
      try {
        const session = await api("/session");
        document.body.dataset.role = session.role;
        text("org-name", session.organization_id);
        text("role", session.role.replace("_", " "));
        await start(session);
      } catch (error) {
        text("status", `could not load: ${error.message}`);
      }
    };
    if (key()) { go(); return; }
    $("login").hidden = false;
    $("login").addEventListener("submit", (e) => {
      e.preventDefault();
      sessionStorage.setItem("metering-key", $("login-key").value.trim());
      sessionStorage.setItem("metering-org", $("login-org").value.trim());
      go();
    });
  }

  window.Pages = { $, api, number, usd, credits, amount, days, percent, plural, text, row, button, boot };
})();

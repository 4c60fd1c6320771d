// A small SVG line chart of our own: two series (web, CLI) over labelled buckets.
"use strict";
window.drawLineChart = function (container, labels, series) {
  const W = 720, H = 240, L = 48, R = 12, T = 12, B = 28;
  const values = series.flatMap((s) => s.values);
  const top = Math.max(1, ...values) * 1.1;
  const x = (i) => L + (labels.length < 2 ? 0 : (i * (W - L - R)) / (labels.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("data-points", String(labels.length));
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    svg.appendChild(el);
    return el;
  };
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    add("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) });
    add("text", { x: 4, y: y(v) + 3 }, v >= 100 ? v.toFixed(0) : v.toFixed(2));
  }
  const step = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, i) => { if (i % step === 0) add("text", { x: x(i) - 14, y: H - 8 }, label); });
  for (const s of series) {
    const d = s.values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    add("path", { d, class: s.name, "data-values": s.values.join(",") });
  }
  container.replaceChildren(svg);
};

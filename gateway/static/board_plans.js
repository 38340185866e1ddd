// Floor plans beside the board's cards: one plan per site or zone in alarm, each alarm's
// location lit (pulsing, board.css), its gathering point marked, fixed devices in fault shown.
// A click on a location opens its alarm. The plan is an <image> inside this SVG: whatever the
// organisation's file holds, no script of it runs. Used by board.js as window.code4Plans.
(() => {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs = {}, ...children) => {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  };
  const titled = (node, text) => { node.append(svgEl("title", {}, text)); return node; };

  function plan(ref, alarms, faults, t) {
    const size = Math.max(ref.width, ref.height);
    const r = size / 45;
    const svg = svgEl("svg", {viewBox: `0 0 ${ref.width} ${ref.height}`, class: "floorplan", role: "img",
                              "data-plan": ref.id});
    svg.append(svgEl("image", {href: ref.url, x: 0, y: 0, width: ref.width, height: ref.height}));
    for (const device of ref.devices) if (faults.has(device.id)) {
      svg.append(titled(svgEl("rect", {class: "plan-fault", x: device.x - r * 0.6, y: device.y - r * 0.6,
        width: r * 1.2, height: r * 1.2, "data-device": device.id}), `${t.plan_fault}: ${device.id}`));
    }
    const gathering = new Set();
    for (const a of alarms) if (a.plan.gathering_at && !gathering.has(String(a.plan.gathering_at))) {
      gathering.add(String(a.plan.gathering_at));
      const [x, y] = a.plan.gathering_at;
      svg.append(titled(svgEl("g", {class: "plan-gathering"},
        svgEl("path", {d: `M ${x} ${y - r} L ${x + r} ${y + r * 0.8} L ${x - r} ${y + r * 0.8} Z`}),
        svgEl("text", {x, y: y + r * 0.55, "font-size": r, "text-anchor": "middle"}, "V")),
        `${t.plan_gathering}: ${a.where.gathering_point || ""}`));
    }
    for (const a of alarms) if (a.plan.at) {
      const [x, y] = a.plan.at;
      const link = svgEl("a", {href: `/board/alarms/${encodeURIComponent(a.uid)}`, class: "plan-alarm",
                               "data-alarm": a.uid},
        svgEl("circle", {class: "pulse", cx: x, cy: y, r: r * 1.6}),
        svgEl("circle", {class: "lit", cx: x, cy: y, r}));
      svg.append(titled(link, `${t.plan_location}: ${a.where.location || ""}`));
    }
    const first = alarms[0].where;
    const figure = document.createElement("figure");
    figure.className = "plan-card";
    const caption = document.createElement("figcaption");
    caption.textContent = [first.zone, first.site].filter(Boolean).join(", ");
    figure.append(caption, svg);
    return figure;
  }

  // `list`: the open alarms, most urgent first; plans appear in the order of their first alarm.
  function render(list, faults, t) {
    const section = document.getElementById("plans");
    if (!section) return;
    const byPlan = new Map();
    for (const a of list) if (a.plan) {
      if (!byPlan.has(a.plan.id)) byPlan.set(a.plan.id, []);
      byPlan.get(a.plan.id).push(a);
    }
    section.hidden = byPlan.size === 0;
    document.body.classList.toggle("with-plans", byPlan.size > 0);
    section.replaceChildren(...[...byPlan.values()].map((alarms) => plan(alarms[0].plan, alarms, faults, t)));
  }

  window.code4Plans = {render};
})();

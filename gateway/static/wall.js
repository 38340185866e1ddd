// The wall display: polls /api/wall, counts times from the server's `now` (never the display's
// own clock, which may be wrong), and on a lost connection says so and retries with backoff.
(() => {
  "use strict";
  const cfg = JSON.parse(document.getElementById("wall-config").textContent);
  const w = cfg.w;
  const $ = (id) => document.getElementById(id);
  const query = new URLSearchParams(location.search);
  query.delete("lang");
  const api = "/api/wall" + (query.toString() ? "?" + query.toString() : "");
  const MAX_BACKOFF_S = 60;
  let data = null;
  let fetchedAt = 0; // Date.now() when `data` came: server time = data.now + elapsed since
  let failures = 0;
  let retryAt = 0;
  let down = null;

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
  const serverNow = () => Date.parse(data.now) + (Date.now() - fetchedAt);
  const pad = (n) => String(n).padStart(2, "0");
  function span(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  }
  const clock = new Intl.DateTimeFormat(cfg.lang === "en" ? "en-GB" : "nl-NL",
    {hour: "2-digit", minute: "2-digit", timeZone: cfg.tz});

  const title = (text) => text.charAt(0).toUpperCase() + text.slice(1);

  function alarmItem(a) {
    const li = el("li", "wall-alarm" + (a.silent ? " silent" : "") + (a.unanswered ? " unanswered" : ""));
    li.dataset.uid = a.uid;
    li.append(el("div", "wall-what", a.silent ? w.silent : title(w["kind_" + a.kind] || w.alarm)));
    li.append(el("div", "wall-where", [a.location, a.zone, a.site].filter(Boolean).join(" · ")));
    const times = el("div", "wall-times");
    const since = el("span", "wall-since");
    since.append(el("b", "wall-since-value"), el("small", null, " " + w.since));
    const countdown = el("span", "wall-countdown");
    countdown.append(el("b", "wall-countdown-value"), el("small", "wall-countdown-label"));
    times.append(since, countdown);
    li.append(times);
    const meta = [fill(w.step, {step: a.step, steps: a.steps}) + (a.step_code ? ` (${a.step_code})` : ""),
      a.coming ? fill(w.coming, {n: a.coming}) : w.unanswered];
    li.append(el("div", "wall-meta", meta.join(" · ")));
    return li;
  }

  function render() {
    const alarms = $("wall-alarm-list");
    alarms.replaceChildren(...data.alarms.map(alarmItem));
    $("wall-no-alarms").hidden = data.alarms.length > 0;
    $("wall-alarm-count").textContent = String(data.alarms.length);  // more than fit on the screen: still counted
    alarms.classList.toggle("many", data.alarms.length > 3);
    $("wall-fault-count").textContent = String(data.faults.length);
    $("wall-fault-list").replaceChildren(...data.faults.map((f) => {
      const li = el("li", "wall-fault");
      li.append(el("b", null, f.location || f.id), el("span", null, " " + f.faults.map((x) => w["fault_" + x] || x).join(", ")));
      return li;
    }));
    $("wall-no-faults").hidden = data.faults.length > 0;
    $("wall-present").replaceChildren(...data.present.map((p) => {
      const block = el("div", "wall-site");
      block.append(el("h3", null, p.site_name), el("p", "wall-names", p.names.join(", ")));
      return block;
    }));
    $("wall-nobody").hidden = data.present.length > 0;
    // Dim at night, but never while an alarm is open.
    document.body.classList.toggle("dim", data.night && data.alarms.length === 0);
    document.body.classList.toggle("alarm", data.alarms.length > 0);
    tick();
  }

  function tick() {
    if (down) $("wall-offline-retry").textContent = retryAt ? fill(w.retry, {s: Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))}) : w.retrying;
    if (!data) return;
    const now = serverNow();
    $("wall-clock").textContent = clock.format(now);
    for (const li of document.querySelectorAll(".wall-alarm")) {
      const a = data.alarms.find((x) => x.uid === li.dataset.uid);
      if (!a) continue;
      li.querySelector(".wall-since-value").textContent = span(now - Date.parse(a.raised_at));
      const left = a.deadline ? Date.parse(a.deadline) - now : null;
      li.querySelector(".wall-countdown-value").textContent = left === null ? "" : span(left);
      li.querySelector(".wall-countdown-label").textContent =
        " " + (left === null ? w.no_deadline : left > 0 ? w.deadline : w.overdue);
      li.classList.toggle("overdue", left !== null && left <= 0);
    }
  }

  function showDown(title, waitS) {
    down = title;
    retryAt = Date.now() + waitS * 1000;
    $("wall-offline-title").textContent = title;
    $("wall-offline").hidden = false;
    document.body.classList.add("stale");
    tick();
    setTimeout(poll, waitS * 1000);
  }

  async function poll() {
    retryAt = 0;
    let response;
    try {
      response = await fetch(api, {credentials: "same-origin", cache: "no-store", headers: {Accept: "application/json"}});
    } catch (error) {
      failures += 1;
      showDown(w.offline, Math.min(MAX_BACKOFF_S, 2 ** failures));
      return;
    }
    if (response.status === 401 || response.status === 403) {
      showDown(w.refused, MAX_BACKOFF_S);
      return;
    }
    if (!response.ok) {
      failures += 1;
      showDown(w.offline, Math.min(MAX_BACKOFF_S, 2 ** failures));
      return;
    }
    try {
      data = await response.json();
    } catch (error) {
      failures += 1;
      showDown(w.offline, Math.min(MAX_BACKOFF_S, 2 ** failures));
      return;
    }
    fetchedAt = Date.now();
    failures = 0;
    down = null;
    $("wall-offline").hidden = true;
    document.body.classList.remove("stale");
    render();
    setTimeout(poll, cfg.poll_s * 1000);
  }

  setInterval(tick, 1000);
  poll();
})();

// The live board: open alarms from /api/alarms, kept current by /api/events (server-sent
// events). Countdowns run on the client from the server's clock; a lost connection shows a
// banner and, once back, the whole list is fetched again so nothing is missed.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("config").textContent);
  const t = config.t;
  const alarms = new Map();
  let faultIds = new Set();     // devices in fault now: marked on the floor plans
  let clockOffset = 0;          // server time minus client time, in ms
  let soundOn = localStorage.getItem("code4-sound") !== "off";
  let audio = null;
  const title = document.title;

  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value; else node.setAttribute(key, value);
    }
    for (const child of children) if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  async function api(path, options = {}) {
    const response = await fetch(path, {
      ...options, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": config.csrf || "", ...(options.headers || {})},
    });
    if (response.status === 401) { location.href = "/login?next=/board"; throw new Error("signed out"); }
    if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
    return response.json();
  }

  // Times as the organisation reads them, whatever the browser's own time zone.
  const clockFormat = new Intl.DateTimeFormat(config.lang === "en" ? "en-GB" : "nl-NL",
    {timeZone: config.tz, hour: "2-digit", minute: "2-digit"});
  const localTime = (iso) => clockFormat.format(new Date(iso));
  const channel = (c) => t["channel_" + c] || c;

  function serverNow() { return Date.now() + clockOffset; }
  function setClock(iso) { clockOffset = Date.parse(iso) - Date.now(); }

  function where(a) {
    if (a.where.location) return [a.where.location, a.where.zone, a.where.site].filter(Boolean).join(", ");
    const position = a.position && a.position.lat !== undefined
      ? `${a.position.lat.toFixed(5)}, ${a.position.lon.toFixed(5)}` : (a.position && a.position.zone) || "";
    return [a.person, a.where.zone, position].filter(Boolean).join(", ") || a.device_id;
  }

  function countdown(a) {
    if (!a.deadline) return "";
    const left = Math.max(0, Math.round((Date.parse(a.deadline) - serverNow()) / 1000));
    const label = a.step.number === a.step.of ? t.repeats_in : t.next_in;
    return `${label} ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  }

  function card(a) {
    const badges = el("p", {class: "badges"},
      a.unanswered && el("span", {class: "badge danger big"}, t.unanswered),
      a.duress && el("span", {class: "badge danger"}, t.duress),
      !a.seen_at && el("span", {class: "badge new"}, t.new_alarm),
      a.severe && el("span", {class: "badge warn"}, t.severe),
      a.silent && el("span", {class: "badge"}, t.silent),
      a.unknown_device && el("span", {class: "badge warn"}, t.unknown_device),
      a.marked === "drill" && el("span", {class: "badge"}, t.drill),
      a.marked === "false_alarm" && el("span", {class: "badge"}, t.false_alarm),
      ...(a.short_steps || []).map((s) => el("span", {class: "badge warn step-short", "data-step": s.step},
        `${s.step}: ${t.step_short_badge.replace("{present}", s.present).replace("{required}", s.required)}`)));
    const accepted = a.responders.length;
    const step = el("p", {class: "step"},
      `${t.step} ${a.step.number}/${a.step.of}: ${a.step.id}${a.step.code ? " (code " + a.step.code + ")" : ""} – `,
      t.accepted_of.replace("{n}", accepted).replace("{m}", a.step.required), " ",
      el("span", {class: "countdown", "data-uid": a.uid}, countdown(a)));
    const responders = el("ul", {class: "responders"}, ...a.responders.map((r) =>
      el("li", {}, `${r.name}${r.role ? " (" + r.role + ")" : ""} – ${channel(r.channel)}${r.on_scene_at ? " – " + t.on_scene : ""}`)));
    const reached = el("ul", {class: "reached"}, ...a.reached.filter((p) => p.status !== "accepted").map((p) =>
      el("li", {class: p.status}, `${p.name} – ${channel(p.channel)} – ${t[p.status] || p.status}`,
        ...p.failed_channels.map((c) => el("span", {class: "badge warn"}, t.channel_failed.replace("{channel}", channel(c)))))));
    const actions = el("p", {class: "actions"},
      !a.seen_at && button(t.seen, () => act(a.uid, "seen"), "seen"),
      button(t.escalate, () => act(a.uid, "escalate"), "escalate"),
      button(t.police, () => act(a.uid, "police"), "police"),
      el("a", {href: `/board/alarms/${encodeURIComponent(a.uid)}`, class: "button"}, t.details));
    const kind = t["kind_" + a.kind] || a.kind;
    return el("article", {class: `alarm ${a.unanswered ? "unanswered" : ""} ${a.seen_at ? "" : "unseen"}`,
                          id: `alarm-${a.uid}`, "data-uid": a.uid},
      el("h2", {}, where(a), " ", el("small", {}, kind, " · ",
        el("time", {datetime: a.raised_at, class: "raised"}, localTime(a.raised_at)))), badges,
      a.approach && el("p", {class: "approach"}, el("b", {}, `${t.approach}: `), a.approach), step,
      accepted ? el("div", {}, el("h3", {}, t.responders), responders) : null,
      el("div", {}, el("h3", {}, t.reached), reached), actions);
  }

  function button(label, onClick, name) {
    const b = el("button", {type: "button", "data-action": name}, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      try { await onClick(); } catch (error) { alert(error.message); } finally { b.disabled = false; }
    });
    return b;
  }

  async function act(uid, action, body = {}) {
    const alarm = await api(`/api/alarms/${encodeURIComponent(uid)}/${action}`, {method: "POST", body: JSON.stringify(body)});
    update(alarm);
  }

  function update(alarm) {
    if (alarm.status === "closed") alarms.delete(alarm.uid); else alarms.set(alarm.uid, alarm);
    render();
  }

  function urgency(a) {
    return [a.unanswered ? 0 : 1, a.duress ? 0 : 1, a.seen_at ? 1 : 0, a.severe ? 0 : 1, Date.parse(a.raised_at)];
  }

  function render() {
    const list = [...alarms.values()].sort((x, y) => {
      const a = urgency(x), b = urgency(y);
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
      return 0;
    });
    const section = document.getElementById("alarms");
    section.replaceChildren(...(list.length ? list.map(card) : [el("p", {class: "empty"}, t.no_alarms)]));
    if (window.code4Plans) window.code4Plans.render(list, faultIds, t);  // static/board_plans.js
    attention();
  }

  // A new alarm flashes the title and sounds until someone has seen it.
  let flash = null, beep = null;
  function attention() {
    const unseen = [...alarms.values()].some((a) => !a.seen_at);
    if (unseen && !flash) {
      let on = false;
      flash = setInterval(() => { document.title = (on = !on) ? `⚠ ${t.new_alarm} – code4` : title; }, 700);
      beep = setInterval(sound, 2500);
      sound();
    } else if (!unseen && flash) {
      clearInterval(flash); clearInterval(beep); flash = beep = null; document.title = title;
    }
  }

  function sound() {
    if (!soundOn || !audio || audio.state !== "running") return;
    const oscillator = audio.createOscillator(), gain = audio.createGain();
    oscillator.frequency.value = 880; gain.gain.value = 0.2;
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(); oscillator.stop(audio.currentTime + 0.35);
  }

  function showSound() {
    const running = audio && audio.state === "running";
    document.getElementById("sound-banner").hidden = soundOn && running;
    const toggle = document.getElementById("sound");   // shows the state the sound is in now
    toggle.textContent = soundOn && running ? t.sound_on : t.mute;
    toggle.className = `sound ${soundOn && running ? "on" : "off"}`;
  }

  async function enableSound() {
    audio = audio || new AudioContext();
    await audio.resume();
    soundOn = true; localStorage.setItem("code4-sound", "on"); showSound();
  }
  document.getElementById("sound-banner").addEventListener("click", enableSound);
  document.getElementById("sound").addEventListener("click", async () => {
    if (soundOn && audio && audio.state === "running") {
      soundOn = false; localStorage.setItem("code4-sound", "off"); showSound();
    } else await enableSound();
  });

  async function load() {
    const page = await api("/api/alarms?state=open&limit=500");
    setClock(page.now);
    alarms.clear();
    for (const alarm of page.items) alarms.set(alarm.uid, alarm);
    render();
  }

  // The list is read after the live feed says hello, on the first connection as after a break:
  // an alarm raised between reading the list and opening the feed is then never missed. Changes
  // that arrive while the list is read are applied after it, in order, so none is undone.
  function connect() {
    const events = new EventSource("/api/events");
    let reading = false;
    const arrived = [];
    events.addEventListener("hello", async (event) => {
      setClock(JSON.parse(event.data).now);
      reading = true;
      try {
        await load();
        document.getElementById("connection").hidden = true;
      } catch (error) {
        document.getElementById("connection").hidden = false;
      } finally {
        reading = false;
        for (const alarm of arrived.splice(0)) update(alarm);
      }
    });
    events.addEventListener("alarm", (event) => {
      const data = JSON.parse(event.data);
      setClock(data.now);
      if (reading) arrived.push(data.alarm); else update(data.alarm);
    });
    events.onerror = () => {
      document.getElementById("connection").hidden = false;
      // Refused outright (signed out, say): the browser gives up, so the page starts again.
      if (events.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 5000);
    };
  }

  setInterval(() => {
    for (const node of document.querySelectorAll(".countdown")) {
      const alarm = alarms.get(node.dataset.uid);
      if (alarm) node.textContent = countdown(alarm);
    }
  }, 250);

  // Device faults: a strip above the alarms, refreshed every ten seconds.
  async function faults() {
    try {
      const broken = await api("/api/devices?fault=true");
      const strip = document.getElementById("faults");
      faultIds = new Set(broken.map((d) => d.id));
      render();
      strip.hidden = broken.length === 0;
      strip.textContent = `${t.device_faults}: ` + broken.map((d) =>
        `${d.id} (${d.faults.map((f) => t["fault_" + f] || f).join(", ")})`).join(" · ");
    } catch (error) { /* the connection banner says enough */ }
  }
  setInterval(faults, 10000);
  faults();

  // Known visitors with an agreed approach, now: reception and the centrale post know before an alarm.
  async function knownVisitors() {
    try {
      const now = (await api("/api/approaches")).filter((a) => a.active);
      const strip = document.getElementById("known-visitors");
      strip.hidden = now.length === 0;
      strip.textContent = `${t.approaches_now}: ` + now.map((a) =>
        `${a.place_name} (${t.approach_until.toLowerCase()} ${localTime(a.ends_at)}): ${a.note}`).join(" · ");
    } catch (error) { /* the connection banner says enough */ }
  }
  setInterval(knownVisitors, 30000);
  knownVisitors();

  // Response-time targets: a banner while this month falls below one (the server keeps the figures a minute).
  const seconds = (s) => s < 60 ? `${s} s` : `${Math.floor(s / 60)} min${s % 60 ? " " + (s % 60) + " s" : ""}`;
  const monthFormat = new Intl.DateTimeFormat(config.lang === "en" ? "en-GB" : "nl-NL",
    {timeZone: config.tz, month: "long", year: "numeric"});
  async function targets() {
    try {
      const now = await api("/api/targets/current");
      const strip = document.getElementById("targets");
      // Per site only when there are several: with one, its line is the line over every site.
      const lines = [now.overall, ...(now.sites.length > 1 ? now.sites : [])];
      const items = lines.map((line) => {
        const below = line.shares.filter((s) => s.met_target === false).map((s) => t.targets_below_item
          .replace("{shown}", s.shown).replace("{time}", seconds(s.accepted_within_s))
          .replace("{met}", s.met).replace("{counted}", s.counted).replace("{share}", `${s.target_pct}%`));
        return below.length ? `${line.site === null ? t.targets_all_sites : line.site}: ${below.join(", ")}` : null;
      }).filter(Boolean);
      strip.hidden = items.length === 0;
      strip.textContent = `${t.targets_below} (${monthFormat.format(new Date(now.since))}): ` + items.join(" · ");
    } catch (error) { /* the connection banner says enough */ }
  }
  setInterval(targets, 60000);
  targets();

  // The service's own health (database, broker, queue): a banner while it is degraded.
  async function health() {
    try {
      const response = await fetch("/api/health", { cache: "no-store" });
      const state = await response.json();
      document.getElementById("degraded").hidden = state.status === "ok";
    } catch (error) { /* unreachable: the connection banner says so */ }
  }
  setInterval(health, 3000);
  health();

  showSound();
  connect();
})();

// The responder app's page: my open calls, the three answers (queued while offline and shown
// as pending until the server has them), turning on push, and my signed-in devices.
/* global answerQueue */
(() => {
  const t = window.APP_TEXT;
  const $ = (id) => document.getElementById(id);
  const LAST_STATE = "code4-app-state";  // the last state the server gave, to show when opened offline
  let current = null;
  let registration = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value; else node.setAttribute(key, value);
    }
    node.append(...children.filter(Boolean));
    return node;
  }

  // The location (red) and the gathering point (green) on the floor plan; the plan is an
  // <image>, so nothing in the organisation's file runs.
  function planFigure(plan) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = (tag, attrs) => {
      const node = document.createElementNS(NS, tag);
      for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
      return node;
    };
    const r = Math.max(plan.width, plan.height) / 40;
    const figure = svg("svg", {viewBox: `0 0 ${plan.width} ${plan.height}`, class: "plan", role: "img"});
    figure.append(svg("image", {href: plan.url, x: 0, y: 0, width: plan.width, height: plan.height}));
    if (plan.gathering_at) {
      const [x, y] = plan.gathering_at;
      figure.append(svg("path", {class: "gathering-mark", d: `M ${x} ${y - r} L ${x + r} ${y + r * 0.8} L ${x - r} ${y + r * 0.8} Z`}));
    }
    if (plan.at) figure.append(svg("circle", {class: "location-mark", cx: plan.at[0], cy: plan.at[1], r}));
    return figure;
  }

  function callCard(call, pending) {
    const card = el("article", {class: "card", "data-page": call.page_id});
    card.append(el("h2", {text: call.headline}), el("div", {class: "code", text: "[" + call.code + "]"}));
    if (call.duress) card.append(el("p", {class: "duress", text: t.duress}));
    if (call.approach) card.append(el("p", {class: "approach", text: t.approach + ": " + call.approach}));
    card.append(el("p", {class: "status " + call.status, text: call.status_text}));
    if (call.role) card.append(el("p", {class: "role", text: call.role_text}));
    const others = call.others.length ? call.others.map((o) => o.name + (o.role ? " (" + o.role + ")" : "")) : [t.nobody];
    card.append(el("dl", {},
      call.establish ? el("dt", {text: t.before}) : null, call.establish ? el("dd", {text: t.establish}) : null,
      el("dt", {text: t.where}), el("dd", {class: "location", text: call.location}),
      el("dt", {text: t.gather}), el("dd", {class: "gathering", text: call.gathering_point || "–"}),
      call.plan ? el("dd", {}, planFigure(call.plan)) : null,
      el("dt", {text: t.others}), el("dd", {}, el("ul", {class: "others"}, ...others.map((n) => el("li", {text: n}))))));
    if (!call.inform && call.open) {
      const buttons = el("div", {class: "answers"});
      for (const response of ["accept", "decline", "on_scene"]) {
        const button = el("button", {type: "button", "data-response": response, text: t[response]});
        button.addEventListener("click", () => give(call, response));
        buttons.append(button);
      }
      card.append(buttons);
    }
    if (pending) card.append(el("p", {class: "queued", text: t[pending.response] + " — " + t.pending_send}));
    return card;
  }

  async function render() {
    if (!current) return;
    const pending = Object.fromEntries((await answerQueue.all()).map((item) => [item.page_id, item]));
    const calls = current.calls.map((call) => callCard(call, pending[call.page_id]));
    $("calls").replaceChildren(...(calls.length ? calls : [el("p", {class: "notice", text: t.no_calls})]));
    $("lapsed").hidden = !current.push_lapsed;
    const canPush = "PushManager" in window && current.push_key;
    $("push").hidden = !canPush || current.push_subscribed;
    $("push-on").hidden = !current.push_subscribed;
    $("presence").replaceChildren(...(current.presence || []).map((site) => {
      const state = !site.present ? "" : site.via === "pager" ? t.present_pager
        : t.present_until + " " + (site.until ? new Date(site.until).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) : "");
      const button = el("button", {class: "plain", type: "button", "data-site": site.site,
                                   text: site.present ? t.leave : t.here});
      button.addEventListener("click", () => setPresence(site.site, !site.present));
      return el("li", {"data-site": site.site}, el("span", {text: site.name + (state ? " — " + state + " " : " ")}), button);
    }));
    $("devices").replaceChildren(...current.devices.map((d) => {
      const button = el("button", {class: "plain", type: "button", text: d.this ? t.sign_out : t.revoke});
      button.addEventListener("click", () => revoke(d.id, d.this));
      return el("li", {}, el("span", {text: d.name + (d.this ? " (" + t.this_device + ") " : " ")}), button);
    }));
  }

  async function load() {
    let reply;
    try {
      reply = await fetch("/app/api/state", {credentials: "same-origin"});
    } catch (error) {
      $("offline").textContent = t.offline;
      if (!current) await showLastKnown();  // opened without a connection: what was known last
      return;
    }
    $("offline").textContent = "";
    if (reply.status === 401 || reply.status === 403) {
      $("signin").hidden = false; $("main").hidden = true; current = null;
      localStorage.removeItem(LAST_STATE);  // signed out: nothing of the calls stays on the phone
      return;
    }
    if (!reply.ok) return;
    const lapsed = current && current.push_lapsed;
    current = await reply.json();
    localStorage.setItem(LAST_STATE, JSON.stringify({...current, csrf: ""}));
    if (!location.search.includes("lang=") && current.language !== document.documentElement.lang) {
      location.replace("/app?lang=" + current.language);  // the app in the language of its user
      return;
    }
    current.push_lapsed = current.push_lapsed || lapsed;  // told once; kept on screen until reload
    $("signin").hidden = true; $("main").hidden = false;
    await render();
    if (!current.push_subscribed && window.Notification && Notification.permission === "granted") subscribe();
  }

  async function showLastKnown() {
    const saved = localStorage.getItem(LAST_STATE);
    if (!saved) return;
    current = JSON.parse(saved);
    $("offline").textContent = t.offline + " " + t.last_known;
    $("signin").hidden = true; $("main").hidden = false;
    await render();
  }

  async function give(call, response) {
    await answerQueue.add(call.page_id, call.answer, response);
    await render();  // pending until the server has it
    await flush();
  }

  async function flush() {
    try {
      if (await answerQueue.flush()) await load(); else await render();
    } catch (error) { /* stays queued */ }
  }

  function post(path, body) {
    return fetch(path, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": current ? current.csrf : ""},
      body: JSON.stringify(body || {})});
  }

  async function subscribe() {
    if (!registration || !current || !current.push_key) return;
    if ((await Notification.requestPermission()) !== "granted") return;
    const key = Uint8Array.from(atob(current.push_key.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    // One code4 does not know (expired at the push service, or from before a revoke) is replaced.
    const old = await registration.pushManager.getSubscription();
    if (old) await old.unsubscribe();
    const subscription = await registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key});
    const reply = await post("/app/api/push", subscription.toJSON());
    if (reply.ok) { current.push_subscribed = true; await render(); }
  }

  async function setPresence(site, present) {
    const reply = await post("/app/api/presence", {site, present});
    if (reply.ok) { current.presence = await reply.json(); await render(); }
  }

  async function revoke(id, self) {
    const reply = await post("/app/api/devices/" + id + "/revoke");
    if (reply.ok && self && registration) {
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) await subscription.unsubscribe();
    }
    await load();
  }

  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const reply = await fetch("/app/api/sign-in", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: form.get("username"), password: form.get("password")})});
    $("signin-error").hidden = reply.ok;
    if (reply.ok) await load();
  });
  $("push").addEventListener("click", subscribe);
  window.addEventListener("online", flush);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", {scope: "/app"}).then((r) => { registration = r; });
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "answers-changed") load();
    });
  }
  setInterval(async () => { if ((await answerQueue.all()).length) flush(); else load(); }, 5000);
  load().then(flush);
})();

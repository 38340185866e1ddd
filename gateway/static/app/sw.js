// The responder app's service worker: keeps the app's shell for a poor connection, shows pushes
// as notifications with "Ik kom" / "Kan niet", and answers from the notification without
// opening the app (queued in IndexedDB and sent again when the connection is back).
/* global answerQueue */
importScripts("/app/queue.js");

const SHELL = "code4-app-v1";
const SHELL_FILES = ["/app", "/app/app.js", "/app/queue.js", "/app/manifest.webmanifest", "/app/icon-192.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== SHELL) await caches.delete(key);
    await self.clients.claim();
  })());
});

// Only the shell: network first (so it is current), the cached copy when offline. The app's data
// and every answer go to the network as they are, never from a cache.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  const shell = url.pathname === "/app" || SHELL_FILES.includes(url.pathname);
  if (!shell) return;
  event.respondWith((async () => {
    try {
      const fresh = await fetch(event.request);
      if (fresh.ok) (await caches.open(SHELL)).put(url.pathname, fresh.clone());
      return fresh;
    } catch (error) {
      const kept = await caches.match(url.pathname);
      if (kept) return kept;
      throw error;
    }
  })());
});

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = {title: "code4", body: ""}; }
  const options = {
    body: data.body || "", tag: data.page_id || "code4", renotify: true, requireInteraction: data.purpose === "page",
    icon: "/app/icon-192.png", lang: data.lang || "nl", data, actions: data.actions || [],
  };
  event.waitUntil(self.registration.showNotification(data.title || "code4", options));
});

async function answer(data, response) {
  await answerQueue.add(data.page_id, data.answer, response);
  await answerQueue.flush();
  if ((await answerQueue.all()).length && self.registration.sync) {
    try { await self.registration.sync.register("answers"); } catch (error) { /* retried by the app */ }
  }
  for (const client of await self.clients.matchAll()) client.postMessage({type: "answers-changed"});
}

// A click the browser did not make (DevTools, a test) cannot be extended: the work goes on anyway.
function keep(event, work) {
  try { event.waitUntil(work); } catch (error) { /* untrusted event */ }
}

self.addEventListener("notificationclick", (event) => {
  const data = event.notification.data || {};
  event.notification.close();
  if ((event.action === "accept" || event.action === "decline") && data.answer) {
    keep(event, answer(data, event.action));  // no window: the answer goes from here
    return;
  }
  keep(event, (async () => {
    const open = await self.clients.matchAll({type: "window"});
    if (open.length) return open[0].focus();
    return self.clients.openWindow(data.open || "/app");
  })());
});

self.addEventListener("sync", (event) => {
  if (event.tag === "answers") event.waitUntil(answerQueue.flush());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "flush") event.waitUntil(answerQueue.flush());
});

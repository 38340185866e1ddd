// Answers not yet taken by the server, kept in IndexedDB so the page and the service worker
// (a notification's "Ik kom" / "Kan niet") share them and nothing is lost offline or on a restart.
/* exported answerQueue */
const answerQueue = (() => {
  const DB = "code4-app", STORE = "answers";
  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, {keyPath: "page_id"});
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function run(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => { db.close(); resolve(result && result.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    });
  }
  const put = (item) => run("readwrite", (s) => s.put(item));
  const remove = (pageId) => run("readwrite", (s) => s.delete(pageId));
  const all = () => run("readonly", (s) => s.getAll());
  // One answer per page: the latest wins. Sent in the order given; a 4xx other than 408/429
  // (expired link, alarm closed) will never be taken, so it is dropped, not retried forever.
  async function flush() {
    const items = (await all()).sort((a, b) => a.at - b.at);
    let sent = 0;
    for (const item of items) {
      let reply;
      try {
        reply = await fetch(item.url, {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify({response: item.response}), credentials: "omit"});
      } catch (error) {
        continue;  // offline: stays queued
      }
      if (reply.ok || (reply.status >= 400 && reply.status < 500 && reply.status !== 408 && reply.status !== 429)) {
        await remove(item.page_id);
        sent += 1;
      }
    }
    return sent;
  }
  async function add(pageId, url, response) {
    await put({page_id: pageId, url, response, at: Date.now()});
  }
  return {add, all, flush};
})();

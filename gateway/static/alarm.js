// The alarm detail page: operator actions through the API, then the page shows the new facts.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("config").textContent);
  const t = config.t;
  const base = `/api/alarms/${encodeURIComponent(config.uid)}`;

  async function post(action, body = {}) {
    const response = await fetch(`${base}/${action}`, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", "X-CSRF-Token": config.csrf || ""},
    });
    if (!response.ok) { alert((await response.json()).detail || response.statusText); return; }
    location.reload();
  }

  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => {
      const action = button.dataset.action;
      if (action === "mark") return post("mark", {label: button.dataset.label});
      if (action === "accept") return post("accept", {recipient: button.dataset.recipient});
      if (action === "close") {
        const outcome = document.getElementById("outcome").value || null;
        const label = outcome ? (t[outcome + "_outcome"] || t[outcome]) : t.resolved;
        if (!confirm(t.close_confirm.replace("{outcome}", label))) return;
        return post("close", {outcome});
      }
      return post(action);
    });
  }
  const form = document.getElementById("note-form");
  if (form) form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = document.getElementById("note").value.trim();
    if (text) post("notes", {text});
  });
})();

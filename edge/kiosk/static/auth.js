"use strict";
// Shared by the kiosk's pages: who is logged in, and changes sent with the session's CSRF token.
// Every POST/PUT/PATCH/DELETE must carry that token; a 401 means the session ended: log in again.
window.edgeAuth = (() => {
  let csrfToken = null;

  async function me() {
    const response = await fetch("/api/me", { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) {
      csrfToken = null;
      return null;
    }
    if (!response.ok) throw new Error(`/api/me answered ${response.status}`);
    const user = await response.json();
    csrfToken = user.csrf_token;
    return user;
  }

  function toLogin() {
    location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
  }

  async function send(url, { method = "POST", body } = {}) {
    if (csrfToken === null && (await me()) === null) {
      toLogin();
      return null;
    }
    const headers = { "X-CSRF-Token": csrfToken };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) toLogin();
    return response;
  }

  // A page's own timers fetch with this: answered, but not counted as someone at the screen, so an
  // unattended kiosk still logs out when the session has been idle too long (a 401 goes to login).
  async function poll(url) {
    const response = await fetch(url, { cache: "no-store", headers: { "X-Edge-Background": "1" } });
    if (response.status === 401) toLogin();
    return response;
  }

  // A key press, click or touch is someone at the screen: tell the server, at most once a minute.
  function keepAliveWhileUsed() {
    let told = 0;
    const used = () => {
      if (Date.now() - told < 60000) return;
      told = Date.now();
      fetch("/api/me", { cache: "no-store" }).then((r) => { if (r.status === 401) toLogin(); });
    };
    for (const kind of ["keydown", "pointerdown"]) document.addEventListener(kind, used, { passive: true });
  }

  return { me, send, toLogin, poll, keepAliveWhileUsed };
})();

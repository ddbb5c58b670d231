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

  return { me, send, toLogin };
})();

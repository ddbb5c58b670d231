"use strict";
// The login page: user name + password, or badge + PIN (a badge reader types like a keyboard and
// ends with Enter). Already logged in, it says who, with Continue and Log out.
(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("login-form");
  const error = $("error");
  const submit = $("submit");
  let mode = "password";

  // Only a path of this site: a crafted link must not send a freshly logged-in officer elsewhere.
  function safeNext(value) {
    return value && value.startsWith("/") && !value.startsWith("//") && !value.includes("\\") ? value : "/";
  }
  const next = safeNext(new URLSearchParams(location.search).get("next"));

  function setMode(wanted) {
    mode = wanted;
    for (const name of ["password", "badge"]) {
      $(`mode-${name}`).setAttribute("aria-selected", String(name === wanted));
      $(`${name}-fields`).hidden = name !== wanted;
    }
    error.textContent = "";
    $(wanted === "password" ? "username" : "badge").focus();
  }

  function lanesWords(user) {
    return user.all_lanes ? "every lane" : `lanes ${user.lanes.join(", ")}`;
  }

  async function showState() {
    const user = await window.edgeAuth.me();
    $("signed-in").hidden = user === null;
    form.hidden = user !== null;
    if (user === null) {
      setMode(mode);
      return;
    }
    $("who").textContent = user.username;
    $("role").textContent = user.role;
    $("lanes").textContent = lanesWords(user);
    $("continue").href = next;
    $("continue").focus();
  }

  function credentials() {
    if (mode === "password") {
      const username = $("username").value.trim();
      const password = $("password").value;
      return username && password ? { username, password } : null;
    }
    const badge = $("badge").value.trim();
    const pin = $("pin").value;
    if (!badge || !pin) return null;
    return /^[0-9]+$/.test(pin) ? { badge, pin } : "a PIN is digits only";
  }

  async function logIn(event) {
    event.preventDefault();
    const body = credentials();
    if (body === null || typeof body === "string") {
      error.textContent = body || (mode === "password" ? "enter your user name and password" : "enter your badge and PIN");
      return;
    }
    submit.disabled = true;
    error.textContent = "";
    try {
      const response = await fetch("/api/login", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      if (response.ok) {
        location.replace(next);
        return;
      }
      const answer = await response.json().catch(() => ({}));
      error.textContent = typeof answer.detail === "string" ? answer.detail : `login failed (${response.status})`;
      const secret = $(mode === "password" ? "password" : "pin");
      secret.value = "";
      secret.focus();
    } catch {
      error.textContent = "the kiosk server does not answer; try again";
    } finally {
      submit.disabled = false;
    }
  }

  $("mode-password").addEventListener("click", () => setMode("password"));
  $("mode-badge").addEventListener("click", () => setMode("badge"));
  form.addEventListener("submit", logIn);
  $("logout").addEventListener("click", async () => {
    await window.edgeAuth.send("/api/logout");
    await showState();
  });
  showState().catch(() => {
    form.hidden = false;
    error.textContent = "the kiosk server does not answer; reload the page";
  });
})();

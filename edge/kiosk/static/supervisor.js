"use strict";
// The supervisor's page: starting a training drill. Every change needs the session's CSRF token in a
// header, which a plain HTML form cannot send; the rest of the page is drawn on the server.
(() => {
  const form = document.getElementById("drill-start");
  if (!form) return;
  const problem = document.getElementById("drill-problem");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    const body = { lane: form.elements.lane.value, drill: form.elements.drill.value };
    const response = await window.edgeAuth.send("/api/drills", { body });
    if (response === null) return; // logged out: on the way to the login page
    const answer = await response.json();
    if (!response.ok) {
      problem.textContent = `Not started: ${answer.detail}`;
      return;
    }
    location.assign(`/supervisor/drills/${encodeURIComponent(answer.run_id)}`);
  });
})();

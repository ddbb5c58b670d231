"use strict";
// The officer's lane screen. The server pushes whole lane snapshots over a websocket; on every
// (re)connect it first sends all lanes, so the page never shows stale state after a restart.

const STATE_WORDS = {
  idle: "Idle", present: "Vehicle present", reading: "Reading", decision_pending: "Decision pending",
  passing: "Passing",
};
const lanesEl = document.getElementById("lanes");
const template = document.getElementById("lane-template");
const connection = document.getElementById("connection");
const laneEls = new Map();

function laneElement(lane) {
  let el = laneEls.get(lane.lane_id);
  if (!el) {
    el = template.content.firstElementChild.cloneNode(true);
    el.dataset.lane = lane.lane_id;
    el.querySelector(".lane-name").textContent = lane.name;
    for (const fig of el.querySelectorAll(".camera")) {
      fig.querySelector("img").src = `/api/lanes/${encodeURIComponent(lane.lane_id)}/cameras/${fig.dataset.role}/stream`;
    }
    lanesEl.appendChild(el);
    laneEls.set(lane.lane_id, el);
  }
  return el;
}

function render(lane) {
  const el = laneElement(lane);
  const snap = lane.snapshot;
  const state = el.querySelector(".lane-state");
  state.dataset.state = snap.state;
  state.textContent = STATE_WORDS[snap.state] || snap.state;
  el.querySelector(".crossing").textContent = snap.crossing_id ? `Crossing ${snap.crossing_id}` : "";
  el.querySelector(".note").textContent = snap.note ? `— ${snap.note}${snap.overdue ? " (overdue)" : ""}` : "";
  let degraded = false;
  for (const fig of el.querySelectorAll(".camera")) {
    const cam = lane.cameras[fig.dataset.role];
    const label = fig.querySelector(".camera-state");
    label.dataset.state = cam.state;
    label.textContent = cam.state + (cam.state === "live" ? ` ${cam.fps.toFixed(1)} fps` : "");
    label.title = cam.error || "";
    degraded ||= cam.state !== "live";
  }
  el.classList.toggle("degraded", degraded);
}

function connect(delay = 500) {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.onopen = () => { connection.dataset.state = "live"; connection.textContent = "live"; delay = 500; };
  ws.onmessage = (msg) => {
    const data = JSON.parse(msg.data);
    if (data.type === "hello") data.lanes.forEach(render);
    else if (data.type === "lane") render(data.lane);
  };
  ws.onclose = () => {
    connection.dataset.state = "lost";
    connection.textContent = "connection lost — retrying";
    // Camera streams die with the server; re-point them so they resume when it is back.
    for (const img of document.querySelectorAll(".camera img")) {
      const src = img.src.split("?")[0];
      setTimeout(() => { img.src = `${src}?r=${Date.now()}`; }, delay);
    }
    setTimeout(() => connect(Math.min(delay * 2, 5000)), delay);
  };
}

setInterval(() => { document.getElementById("clock").textContent = new Date().toLocaleTimeString(); }, 1000);
connect();

// The officer's lane screen. The server pushes whole lane snapshots over a websocket; on every
// (re)connect it first sends all lanes, so the page never shows stale state after a restart.
import { actionable, renderCard } from "/static/crossing-card.js";
import { createHistory } from "/static/history.js";
import { drawShapes } from "/static/overlay.js";

const STATE_WORDS = {
  idle: "Idle", present: "Vehicle present", reading: "Reading", decision_pending: "Decision pending",
  passing: "Passing",
};
const STATUS_POLL_MS = 15000;
const lanesEl = document.getElementById("lanes");
const template = document.getElementById("lane-template");
const connection = document.getElementById("connection");
const dialog = document.getElementById("override-dialog");
const reasonInput = document.getElementById("override-reason");
const searchInput = document.getElementById("history-search");
const laneEls = new Map();
const lanes = new Map(); // lane_id -> the newest lane JSON
let user = null;
let selected = null; // the lane id the keyboard acts on
let overrideLane = null;
// When each decision revision reached the screen: the browser test reports decision -> card time.
window.kioskTimings = [];
const history = createHistory(searchInput, document.getElementById("history-rows"),
  document.getElementById("history-note"));

function select(laneId) {
  selected = laneId;
  for (const [id, el] of laneEls) el.classList.toggle("selected", id === laneId);
}

function laneElement(lane) {
  let el = laneEls.get(lane.lane_id);
  if (!el) {
    el = template.content.firstElementChild.cloneNode(true);
    el.dataset.lane = lane.lane_id;
    el.querySelector(".lane-name").textContent = lane.name;
    // A training lane says so on every screen, so that nobody takes a drill for a live crossing.
    el.classList.toggle("training", lane.training);
    el.querySelector(".training-banner").hidden = !lane.training;
    el.querySelector(".lane-key").textContent = String(laneEls.size + 1);
    for (const fig of el.querySelectorAll(".camera")) {
      const img = fig.querySelector("img");
      img.src = `/api/lanes/${encodeURIComponent(lane.lane_id)}/cameras/${fig.dataset.role}/stream`;
      img.addEventListener("load", () => drawOverlay(lane.lane_id), { once: true });
    }
    for (const button of el.querySelectorAll(".actions button")) {
      button.addEventListener("click", () => act(lane.lane_id, button.dataset.kind));
    }
    el.addEventListener("click", () => select(lane.lane_id));
    lanesEl.appendChild(el);
    laneEls.set(lane.lane_id, el);
    if (selected === null && (!user || user.all_lanes || user.lanes.includes(lane.lane_id))) select(lane.lane_id);
  }
  return el;
}

function drawOverlay(laneId) {
  const lane = lanes.get(laneId);
  const el = laneEls.get(laneId);
  if (!lane || !el) return;
  const boxes = lane.crossing ? lane.crossing.boxes : {};
  const plateText = lane.crossing?.plate?.text;
  for (const fig of el.querySelectorAll(".camera")) {
    const shapes = [];
    if (fig.dataset.role === "plate" && boxes.plate) {
      shapes.push({ quad: boxes.plate, colour: "#3fd0ff", label: plateText || "plate" });
    }
    if (fig.dataset.role === "face" && boxes.face) shapes.push({ box: boxes.face, colour: "#ffd23f", label: "best face" });
    drawShapes(fig.querySelector("canvas"), fig.querySelector("img"), shapes);
  }
}

function deviceHealth(lane, name) {
  return lane.devices.find((d) => d.device === `${lane.lane_id}/${name}`);
}

// The device strip, and every fault in words (empty when the lane is healthy).
function renderDevices(el, lane) {
  const faults = [];
  const barrierEl = el.querySelector('[data-device="barrier"]');
  const b = lane.barrier;
  if (b) {
    const loop = b.loop_occupied === null ? "unknown" : (b.loop_occupied ? "occupied" : "clear");
    barrierEl.textContent = `Barrier: arm ${b.arm} · loop ${loop} · ${b.health.state}`;
    barrierEl.dataset.state = b.faults.length ? "offline" : b.health.state;
    barrierEl.dataset.arm = b.arm;
    if (b.health.state !== "online") faults.push(`barrier ${b.health.state}${b.health.last_error ? `: ${b.health.last_error}` : ""}`);
    faults.push(...b.faults.map((f) => `barrier: ${f}`));
  } else {
    barrierEl.textContent = "Barrier: not connected";
    barrierEl.dataset.state = "none";
  }
  const readerEl = el.querySelector('[data-device="reader"]');
  const reader = deviceHealth(lane, "reader");
  readerEl.textContent = `Reader: ${reader ? reader.state : "not connected"}`;
  readerEl.dataset.state = reader ? reader.state : "none";
  if (reader && reader.state !== "online") faults.push(`reader ${reader.state}${reader.last_error ? `: ${reader.last_error}` : ""}`);

  const words = [];
  for (const fig of el.querySelectorAll(".camera")) {
    const cam = lane.cameras[fig.dataset.role];
    const label = fig.querySelector(".camera-state");
    label.dataset.state = cam.state;
    label.textContent = cam.state + (cam.state === "live" ? ` ${cam.fps.toFixed(1)} fps` : "");
    label.title = cam.error || "";
    words.push(`${fig.dataset.role} ${cam.state}`);
    if (cam.state !== "live") faults.push(`${fig.dataset.role} camera ${cam.state}${cam.error ? `: ${cam.error}` : ""}`);
  }
  const camerasEl = el.querySelector('[data-device="cameras"]');
  camerasEl.textContent = `Cameras: ${words.join(" · ")}`;
  camerasEl.dataset.state = words.every((w) => w.endsWith("live")) ? "online" : "offline";
  return faults;
}

function render(lane, pushedAt = null) {
  const previous = lanes.get(lane.lane_id);
  lanes.set(lane.lane_id, lane);
  const el = laneElement(lane);
  const snap = lane.snapshot;
  const state = el.querySelector(".lane-state");
  state.dataset.state = snap.state;
  state.textContent = STATE_WORDS[snap.state] || snap.state;
  el.querySelector(".crossing-id").textContent = snap.crossing_id ? `Crossing ${snap.crossing_id}` : "";
  el.querySelector(".note").textContent = snap.note ? `— ${snap.note}${snap.overdue ? " (overdue)" : ""}` : "";
  const faults = renderDevices(el, lane);
  el.classList.toggle("degraded", faults.length > 0);
  const banner = el.querySelector(".degraded-banner");
  banner.hidden = faults.length === 0;
  banner.textContent = faults.length ? `⚠ LANE DEGRADED — ${faults.join("; ")}` : "";
  renderCard(el.querySelector(".card"), lane, user);
  drawOverlay(lane.lane_id);
  const decision = lane.crossing?.decision;
  if (decision && !window.kioskTimings.some((t) => t.crossing_id === decision.crossing_id && t.revision === decision.revision)) {
    window.kioskTimings.push({ crossing_id: decision.crossing_id, revision: decision.revision,
      outcome: decision.outcome, made_at: decision.made_at, pushed_at: pushedAt, shown_at: Date.now() / 1000 });
  }
  if (previous?.crossing && !lane.crossing) history.load(); // a crossing closed: it is in the history now
}

async function act(laneId, kind, reason = null) {
  const lane = lanes.get(laneId);
  if (!lane || !actionable(lane, user)) return;
  if (kind === "override" && reason === null) {
    overrideLane = laneId;
    document.getElementById("override-lane").textContent = `${lane.name}, crossing ${lane.crossing.crossing_id}`;
    reasonInput.value = "";
    dialog.showModal();
    reasonInput.focus();
    return;
  }
  const message = laneEls.get(laneId).querySelector(".action-message");
  message.textContent = "sending…";
  const crossing = lane.crossing;
  const url = `/api/lanes/${encodeURIComponent(laneId)}/crossings/${encodeURIComponent(crossing.crossing_id)}/actions`;
  const response = await window.edgeAuth.send(url, { body: { kind, revision: crossing.decision.revision, reason } });
  if (response === null) return; // logged out: on the way to the login page
  const answer = await response.json().catch(() => ({}));
  if (response.ok) {
    message.textContent = `${kind} recorded` + (answer.barrier_opened ? " — barrier opening" : "");
  } else {
    const detail = typeof answer.detail === "string" ? answer.detail : `refused (${response.status})`;
    message.textContent = response.status === 409 ? `Not done: ${detail}` : `Refused: ${detail}`;
  }
  message.dataset.ok = String(response.ok);
}

document.getElementById("override-form").addEventListener("submit", (event) => {
  const reason = reasonInput.value.trim();
  if (!reason) {
    event.preventDefault();
    reasonInput.focus();
    return;
  }
  act(overrideLane, "override", reason);
});
document.getElementById("override-cancel").addEventListener("click", () => dialog.close());

const KEYS = { Enter: "confirm", c: "confirm", r: "refer", d: "deny", o: "override" };
document.addEventListener("keydown", (event) => {
  if (dialog.open || event.ctrlKey || event.altKey || event.metaKey) return;
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
  if (typing) {
    if (event.key === "Escape") document.activeElement.blur();
    return;
  }
  if (event.key === "/") {
    event.preventDefault();
    searchInput.focus();
  } else if (/^[1-9]$/.test(event.key)) {
    const id = [...laneEls.keys()][Number(event.key) - 1];
    if (id) select(id);
  } else if (KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key] && selected) {
    event.preventDefault(); // Enter on a focused button must not act twice
    act(selected, KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key]);
  }
});

// The crossing-wide storage alarm: the state disk refuses writes, so actions are refused until it clears.
function renderStorage(alarm) {
  const banner = document.getElementById("storage-alarm");
  banner.hidden = !alarm;
  banner.textContent = alarm ? `⚠ STORAGE ALARM — ${alarm.problem}: actions cannot be recorded and are refused` : "";
}

// The audit chain checked at start: a broken chain means the record of past crossings was altered.
function renderAudit(check) {
  const banner = document.getElementById("audit-alarm");
  const broken = Boolean(check) && check.state === "broken";
  banner.hidden = !broken;
  banner.textContent = broken ? `⚠ AUDIT LOG ALTERED — ${check.problem}: tell the supervisor` : "";
}

function renderAlarms(status) {
  renderStorage(status.storage);
  renderAudit(status.audit);
}

async function pollStatus() {
  const pill = document.getElementById("watchlist");
  try {
    const response = await window.edgeAuth.poll("/api/status");
    if (!response.ok) throw new Error(`status ${response.status}`);
    const status = await response.json();
    renderAlarms(status);
    const w = status.watchlist;
    const age = w.oldest_age_s === null ? "never applied" : `${Math.round(w.oldest_age_s / 60)} min old`;
    pill.dataset.state = w.stale ? "stale" : "fresh";
    pill.textContent = w.stale ? `⚠ Watchlist STALE (${age})` : `Watchlist fresh (${age})`;
    pill.title = w.reasons.join("\n");
  } catch (error) {
    pill.dataset.state = "unknown";
    pill.textContent = "Watchlist: unknown";
    pill.title = String(error);
  }
}

function connect(delay = 500) {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.onopen = () => { connection.dataset.state = "live"; connection.textContent = "live"; delay = 500; };
  ws.onmessage = (msg) => {
    const data = JSON.parse(msg.data);
    if (data.type === "hello") data.lanes.forEach((lane) => render(lane));
    else if (data.type === "lane") render(data.lane, data.at);
    else if (data.type === "status") renderAlarms(data);
  };
  ws.onclose = (event) => {
    if (event.code === 1008) {
      window.edgeAuth.toLogin();  // the session ended: the feed needs a login like everything else
      return;
    }
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

async function start() {
  user = await window.edgeAuth.me();
  if (user === null) {
    window.edgeAuth.toLogin();
    return;
  }
  document.getElementById("user").textContent = `${user.username} (${user.role})`;
  document.getElementById("logout").addEventListener("click", async () => {
    await window.edgeAuth.send("/api/logout");
    window.edgeAuth.toLogin();
  });
  setInterval(() => { document.getElementById("clock").textContent = new Date().toLocaleTimeString(); }, 1000);
  setInterval(pollStatus, STATUS_POLL_MS);
  pollStatus();
  history.load();
  connect();
  window.edgeAuth.keepAliveWhileUsed();
}

start();

// The technician's page: live cameras with their numbers (focus, exposure, plate character
// height, inter-eye distance, measured by the server on the newest frame), a plate ROI drawn
// with the mouse or a finger, and device tests. Every change goes through edgeAuth.send.
import { drawShapes } from "/static/overlay.js";

const CHECK_EVERY_MS = 3000;
const STATUS_EVERY_MS = 2000;
const $ = (id) => document.getElementById(id);
const panels = Object.fromEntries([...document.querySelectorAll(".tech-camera")].map((el) => [el.dataset.role, el]));
const latest = {}; // role -> the newest check answer
let laneId = null;
let drawn = null; // the ROI being drawn, in preview pixels {x0, y0, x1, y1}
let dragging = false;

const enc = encodeURIComponent;
const fixed = (v, digits = 1) => Number(v).toFixed(digits);

// `background`: asked by the page's own timers, which must not keep an unattended session alive.
async function getJson(url, { background = false } = {}) {
  const response = background ? await window.edgeAuth.poll(url) : await fetch(url, { cache: "no-store" });
  if (response.status === 401) { window.edgeAuth.toLogin(); throw new Error("logged out"); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(typeof body.detail === "string" ? body.detail : `answer ${response.status}`);
  return body;
}

function previewRect(check, roi) {
  const s = check.scale;
  return { box: { left: roi.x * s, top: roi.y * s, width: roi.width * s, height: roi.height * s } };
}

function drawPanel(role) {
  const panel = panels[role];
  const check = latest[role];
  const shapes = [];
  if (check?.roi) shapes.push({ ...previewRect(check, check.roi), colour: "#9aa7b4", label: "ROI in config" });
  if (check?.plate) shapes.push({ quad: check.plate.quad, colour: "#3fd0ff", label: `${fixed(check.plate.char_height_px)} px` });
  if (check?.face) shapes.push({ box: check.face.box, colour: "#ffd23f", label: `eyes ${fixed(check.face.inter_eye_px)} px` });
  if (role === "plate" && drawn) {
    const left = Math.min(drawn.x0, drawn.x1);
    const top = Math.min(drawn.y0, drawn.y1);
    shapes.push({ box: { left, top, width: Math.abs(drawn.x1 - drawn.x0), height: Math.abs(drawn.y1 - drawn.y0) },
      colour: "#7dff7a", label: "new ROI" });
  }
  drawShapes(panel.querySelector("canvas.overlay"), panel.querySelector("img"), shapes);
}

function drawHistogram(canvas, shares) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const top = Math.max(...shares, 0.0001);
  const w = canvas.width / shares.length;
  ctx.fillStyle = "#9ec3ff";
  shares.forEach((share, i) => {
    const h = (share / top) * (canvas.height - 4);
    ctx.fillRect(i * w + 1, canvas.height - h, w - 2, h);
  });
}

function showCheck(role, check) {
  const panel = panels[role];
  latest[role] = check;
  panel.querySelector(".focus").textContent = `${fixed(check.focus)} (higher is sharper; turn the focus ring for the highest)`;
  const e = check.exposure;
  const exposure = panel.querySelector(".exposure");
  exposure.textContent = `mean grey ${fixed(e.mean, 0)}, clipped ${fixed(100 * e.dark_clipped)}% dark / `
    + `${fixed(100 * e.bright_clipped)}% bright` + (e.problems.length ? ` — ${e.problems.join("; ")}` : " — ok");
  exposure.dataset.ok = String(e.problems.length === 0);
  drawHistogram(panel.querySelector(".histogram"), e.histogram);
  const size = panel.querySelector(".size");
  const found = role === "plate" ? check.plate : check.face;
  if (!found) {
    size.textContent = role === "plate" ? "no plate characters in view" : "no face in view";
    size.dataset.ok = "";
  } else if (role === "plate") {
    size.textContent = `${fixed(found.char_height_px)} px high (need ${found.minimum_px})`
      + (found.text ? `, reads ${found.text}` : ", not read");
    size.dataset.ok = String(found.ok);
  } else {
    size.textContent = `${fixed(found.inter_eye_px)} px (need ${found.minimum_px})`
      + (found.problems.length ? ` — ${found.problems.join("; ")}` : "");
    size.dataset.ok = String(found.ok);
  }
  drawPanel(role);
}

async function checkLoop() {
  for (const role of ["plate", "face"]) {
    const lane = laneId;
    try {
      const check = await getJson(`/api/lanes/${enc(lane)}/cameras/${role}/check`, { background: true });
      if (lane === laneId) showCheck(role, check);
    } catch (error) {
      panels[role].querySelector(".size").textContent = `not measured: ${error.message}`;
    }
  }
  setTimeout(checkLoop, CHECK_EVERY_MS);
}

async function statusLoop() {
  try {
    const lane = (await getJson("/api/lanes", { background: true })).find((l) => l.lane_id === laneId);
    if (lane) {
      $("training").hidden = !lane.training;
      $("lane-state").dataset.state = lane.snapshot.state;
      $("lane-state").textContent = lane.snapshot.state.replace("_", " ");
      for (const role of ["plate", "face"]) {
        const cam = lane.cameras[role];
        const label = panels[role].querySelector(".camera-state");
        label.dataset.state = cam.state;
        label.textContent = `${cam.state} ${fixed(cam.fps)} fps`;
        panels[role].querySelector(".camera-url").textContent = cam.url;
      }
      const b = lane.barrier;
      $("barrier-state").textContent = b ? `Barrier: arm ${b.arm} · ${b.health.state}` + (b.faults.length ? ` · ${b.faults.join("; ")}` : "")
        : "Barrier: not connected";
      $("barrier-state").dataset.state = b ? b.health.state : "none";
      $("barrier-state").dataset.arm = b ? b.arm : "";
      const reader = lane.devices.find((d) => d.device === `${lane.lane_id}/reader`);
      $("reader-state").textContent = `Reader: ${reader ? reader.state : "not connected"}`;
      $("reader-state").dataset.state = reader ? reader.state : "none";
    }
  } catch (error) {
    $("lane-state").textContent = `status unknown: ${error.message}`;
  }
  setTimeout(statusLoop, STATUS_EVERY_MS);
}

function selectLane(id) {
  laneId = id;
  drawn = null;
  $("roi-save").disabled = true;
  $("roi-command").hidden = true;
  for (const role of Object.keys(latest)) delete latest[role];
  for (const [role, panel] of Object.entries(panels)) {
    const img = panel.querySelector("img");
    img.src = `/api/lanes/${enc(id)}/cameras/${role}/stream`;
    img.onload = () => drawPanel(role);
  }
}

function canvasPoint(canvas, event) {
  const rect = canvas.getBoundingClientRect();
  return [(event.clientX - rect.left) * canvas.width / rect.width, (event.clientY - rect.top) * canvas.height / rect.height];
}

// The drawn rectangle in the camera frame's pixels, as the config keeps it.
function drawnRoi() {
  const check = latest.plate;
  if (!drawn || !check) return null;
  const s = check.scale;
  const x = Math.max(0, Math.round(Math.min(drawn.x0, drawn.x1) / s));
  const y = Math.max(0, Math.round(Math.min(drawn.y0, drawn.y1) / s));
  const width = Math.min(check.frame.width - x, Math.round(Math.abs(drawn.x1 - drawn.x0) / s));
  const height = Math.min(check.frame.height - y, Math.round(Math.abs(drawn.y1 - drawn.y0) / s));
  return { x, y, width, height };
}

function wireRoiDrawing() {
  const canvas = panels.plate.querySelector("canvas.overlay");
  canvas.addEventListener("pointerdown", (event) => {
    const [x, y] = canvasPoint(canvas, event);
    drawn = { x0: x, y0: y, x1: x, y1: y };
    dragging = true;
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    [drawn.x1, drawn.y1] = canvasPoint(canvas, event);
    drawPanel("plate");
  });
  canvas.addEventListener("pointerup", () => {
    dragging = false;
    const roi = drawnRoi();
    const usable = roi && roi.width >= 16 && roi.height >= 16;
    $("roi-save").disabled = !usable;
    panels.plate.querySelector(".roi-now").textContent = roi
      ? `${roi.x},${roi.y} ${roi.width}×${roi.height} px${usable ? "" : " (too small)"}` : "";
    drawPanel("plate");
  });
  $("roi-save").addEventListener("click", async () => {
    const response = await window.edgeAuth.send(`/api/lanes/${enc(laneId)}/roi`, { body: drawnRoi() });
    if (response === null) return;
    const answer = await response.json().catch(() => ({}));
    const out = $("roi-command");
    out.hidden = false;
    out.textContent = response.ok
      ? `Recorded. To write it into the lane's config (a backup is kept), run on this box:\n${answer.command}\n`
        + "(add --config FILE for a config other than the demo checkpoint's; the lane uses it after a restart)"
      : `Not saved: ${typeof answer.detail === "string" ? answer.detail : response.status}`;
  });
}

async function deviceTest(device) {
  const result = $("device-result");
  result.textContent = "testing…";
  const response = await window.edgeAuth.send(`/api/lanes/${enc(laneId)}/devices/${device}/test`);
  if (response === null) return;
  const answer = await response.json().catch(() => ({}));
  result.dataset.ok = String(response.ok);
  result.textContent = response.ok ? answer.done : `Not done: ${typeof answer.detail === "string" ? answer.detail : response.status}`;
}

async function start() {
  const user = await window.edgeAuth.me();
  if (user === null) {
    window.edgeAuth.toLogin();
    return;
  }
  $("user").textContent = `${user.username} (${user.role})`;
  $("logout").addEventListener("click", async () => {
    await window.edgeAuth.send("/api/logout");
    window.edgeAuth.toLogin();
  });
  const lanes = (await getJson("/api/lanes")).filter((l) => user.all_lanes || user.lanes.includes(l.lane_id));
  for (const lane of lanes) $("lane").append(new Option(lane.training ? `${lane.name} (training)` : lane.name, lane.lane_id));
  $("lane").addEventListener("change", () => selectLane($("lane").value));
  $("test-barrier").addEventListener("click", () => deviceTest("barrier"));
  $("test-reader").addEventListener("click", () => deviceTest("reader"));
  wireRoiDrawing();
  if (lanes.length) selectLane(lanes[0].lane_id);
  checkLoop();
  statusLoop();
  window.edgeAuth.keepAliveWhileUsed();
}

start();

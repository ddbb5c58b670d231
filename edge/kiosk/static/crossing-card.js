// The current crossing's card: outcome, reasons, plate, document, faces, watchlist hits and
// the officer's buttons. Outcomes differ in word, icon, shape and colour, never colour alone.

export const OUTCOMES = {
  CLEAR: { icon: "✔", words: "CLEAR — open" },
  REFER: { icon: "▲", words: "REFER to secondary" },
  DENY: { icon: "✖", words: "DENY" },
};
const ACTION_WORDS = { confirm: "confirmed", refer: "referred", deny: "denied", override: "overridden" };

const pct = (v) => `${Math.round(v * 100)}%`;

function setText(root, selector, text) {
  root.querySelector(selector).textContent = text ?? "—";
}

// Reload an image only when what it shows changed (`key`), so streaming updates cost nothing.
function setImage(img, url, key) {
  if (!url) {
    img.hidden = true;
    img.removeAttribute("src");
    img.dataset.key = "";
    return;
  }
  if (img.dataset.key !== key) {
    img.dataset.key = key;
    img.src = `${url}?v=${encodeURIComponent(key)}`;
  }
  img.hidden = false;
}

function renderOutcome(card, crossing) {
  const outcome = card.querySelector(".outcome");
  const decision = crossing.decision;
  const shown = decision ? OUTCOMES[decision.outcome] : { icon: "…", words: "Reading — no decision yet" };
  outcome.dataset.outcome = decision ? decision.outcome : "none";
  setText(outcome, ".outcome-icon", shown.icon);
  setText(outcome, ".outcome-words", shown.words);
  setText(outcome, ".revision", decision ? `revision ${decision.revision}` : "");
  const reasons = (decision ? decision.reasons : []).map((reason) => {
    const li = document.createElement("li");
    li.dataset.outcome = reason.outcome;
    li.textContent = reason.text;
    if (reason.advisory) {
      const mark = document.createElement("strong");
      mark.className = "advisory";
      mark.textContent = "check by eye";
      li.append(" — ", mark);
    }
    return li;
  });
  card.querySelector(".reasons").replaceChildren(...reasons);
}

function renderEvidence(card, lane, crossing) {
  const base = `/api/lanes/${encodeURIComponent(lane.lane_id)}/crossings/${encodeURIComponent(crossing.crossing_id)}`;
  const plate = crossing.plate;
  // A restored crossing has no live reads: show what its decision's record says it was about.
  const recorded = crossing.restored ? crossing.decision?.evidence : null;
  const unread = recorded ? "none recorded" : "not read yet";
  setText(card, ".plate-text", plate ? plate.text : recorded?.plate ? `${recorded.plate} (recorded)` : unread);
  setText(card, ".plate-confidence", plate ? `confidence ${pct(plate.confidence)}` : "");
  setImage(card.querySelector(".plate-crop"), crossing.images.plate && `${base}/plate.jpg`,
    plate ? `${plate.text}-${plate.frames}` : "");

  const doc = crossing.document;
  setText(card, ".doc-name", doc ? `${doc.surname}, ${doc.given_names}` : crossing.document_rescan
    ? `re-scan needed: ${crossing.document_rescan}` : recorded?.document_number ? "(recorded before the restart)"
      : unread);
  setText(card, ".doc-nationality", doc?.nationality);
  setText(card, ".doc-number", doc ? doc.document_number
    : recorded?.document_number && `${recorded.document_number} (${recorded.issuing_state})`);
  setText(card, ".doc-expiry", doc?.expiry_date);
  const mrz = card.querySelector(".doc-mrz");
  mrz.textContent = doc ? (doc.valid ? "valid" : `INVALID: ${doc.problems.join("; ")}`) : "—";
  mrz.dataset.valid = doc ? String(doc.valid) : "";
  setImage(card.querySelector(".portrait"), crossing.images.portrait && `${base}/portrait.jpg`,
    doc ? doc.document_number : "");

  const face = crossing.face;
  const box = crossing.boxes.face;
  const recordedFace = recorded && recorded.face_match !== null ? `recorded: ${recorded.face_match ? "MATCH" : "NO MATCH"}`
    : unread;
  setText(card, ".face-score", face
    ? `score ${face.score.toFixed(2)} (threshold ${face.threshold.toFixed(2)}): ${face.match ? "MATCH" : "NO MATCH"}`
    : recorded ? recordedFace : "not compared yet");
  card.querySelector(".face-score").dataset.match = face ? String(face.match) : "";
  setImage(card.querySelector(".live-face"), crossing.images.face && `${base}/face.jpg`,
    box ? `${box.left},${box.top},${box.width}` : "");

  const hits = card.querySelector(".hits");
  hits.hidden = crossing.hits.length === 0;
  hits.querySelector("tbody").replaceChildren(...crossing.hits.map((hit) => {
    const tr = document.createElement("tr");
    tr.dataset.action = hit.action;
    for (const text of [hit.list, hit.reason, hit.action.toUpperCase(),
      hit.advisory ? `${hit.match} — check by eye` : hit.match]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));
}

// Whether this user may act on this lane's crossing now: only a pending decision, not yet acted on.
export function actionable(lane, user) {
  const crossing = lane.crossing;
  const mayAct = user && ["officer", "supervisor"].includes(user.role)
    && (user.all_lanes || user.lanes.includes(lane.lane_id));
  return Boolean(mayAct && crossing && crossing.decision && !crossing.action && !crossing.barrier_opened
    && lane.snapshot.state === "decision_pending");
}

export function renderCard(card, lane, user) {
  const crossing = lane.crossing;
  card.hidden = !crossing;
  if (!crossing) return;
  if (card.dataset.crossing !== crossing.crossing_id) {
    card.dataset.crossing = crossing.crossing_id;
    card.querySelector(".action-message").textContent = "";
  }
  const restored = card.querySelector(".restored-note");
  restored.hidden = !crossing.restored;
  restored.textContent = crossing.restored ? `↻ Crossing ${crossing.restored}` : "";
  renderOutcome(card, crossing);
  renderEvidence(card, lane, crossing);
  const enabled = actionable(lane, user);
  for (const button of card.querySelectorAll(".actions button")) button.disabled = !enabled;
  // Only a supervisor may let a DENY through (the server refuses anyone else): do not offer it.
  card.querySelector(".action-override").hidden = crossing.decision?.outcome === "DENY" && user?.role !== "supervisor";
  const confirm = card.querySelector(".action-confirm");
  confirm.firstChild.textContent = crossing.decision?.outcome === "CLEAR" ? "Confirm & open " : "Confirm ";
  const done = crossing.action;
  if (done) {
    card.querySelector(".action-message").textContent =
      `${ACTION_WORDS[done.kind] || done.kind} by ${done.actor}${done.reason ? `: ${done.reason}` : ""}`
      + (crossing.barrier_opened ? " — barrier opened" : "");
  } else if (crossing.barrier_opened) {
    card.querySelector(".action-message").textContent = "barrier opened";
  }
}

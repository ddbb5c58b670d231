// The searchable list of recent crossings (GET /api/history?q=), newest first.

const when = (t) => new Date(t * 1000).toLocaleTimeString();

export function createHistory(input, rows, note) {
  let pending = null;
  let latest = 0; // loads overlap (typing, a crossing closing): only the newest one may draw

  function row(past) {
    const tr = document.createElement("tr");
    const cells = [when(past.closed_at), past.lane_id, past.plate, past.document_number, past.name,
      past.outcome, past.action, past.actor, past.barrier_opened ? "opened" : "stayed shut"];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text ?? "—";
      tr.appendChild(td);
    }
    tr.dataset.outcome = past.outcome || "none";
    return tr;
  }

  async function load() {
    const ticket = ++latest;
    const q = input.value.trim();
    // In the background: a crossing closing reloads it; the officer's typing counts as activity anyway.
    const response = await window.edgeAuth.poll(`/api/history?limit=20&q=${encodeURIComponent(q)}`);
    if (ticket !== latest) return; // a newer load was started while this one was in flight
    if (response.status === 401) return; // poll went to the login page
    if (!response.ok) {
      note.textContent = `could not load (${response.status})`;
      return;
    }
    const found = await response.json();
    if (ticket !== latest) return;
    rows.replaceChildren(...found.map(row));
    note.textContent = q ? `${found.length} matching "${q}"` : `last ${found.length}`;
  }

  input.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(load, 250);
  });
  return { load };
}

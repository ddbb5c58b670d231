"""A built gallery on disk, so the service starts in seconds with a large watchlist.

Building an HNSW graph of a million templates takes minutes of CPU; loading it takes seconds.
The folder holds the index, the ids (one `template_id<TAB>person_id` line per row) and
meta.json with the generation it was built at. A gallery of another generation is stale: the
caller rebuilds it from the store and saves the new one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from edge.faces.index import ExactIndex, Gallery, HnswIndex, VectorIndex

_META = "meta.json"
_IDS = "ids.tsv"
_FORMAT = 1


def save_gallery(gallery: Gallery, folder: Path) -> None:
    """Write the gallery to `folder`, replacing what was there only once the new one is complete."""
    for text in (*gallery.template_ids, *gallery.person_ids):
        if "\t" in text or "\n" in text:
            raise ValueError(f"id {text!r} contains a tab or newline and cannot be saved")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".new-"))
    try:
        gallery.index.save(staging)
        lines = (f"{t}\t{p}\n" for t, p in zip(gallery.template_ids, gallery.person_ids, strict=True))
        (staging / _IDS).write_text("".join(lines), encoding="utf-8")
        meta = {"format": _FORMAT, "generation": gallery.generation, "kind": gallery.kind, "size": gallery.size}
        (staging / _META).write_text(json.dumps(meta), encoding="utf-8")
        if folder.exists():
            old = folder.with_name(folder.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(staging, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_gallery(folder: Path, generation: int) -> Gallery | None:
    """The saved gallery if it was built at `generation`; None if there is none or it is stale.
    A damaged folder raises ValueError naming what is wrong (the caller rebuilds)."""
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{folder / _META}: unreadable ({exc})") from None
    if meta.get("format") != _FORMAT or meta.get("generation") != generation:
        return None
    size = meta["size"]
    rows = (folder / _IDS).read_text(encoding="utf-8").splitlines()
    if len(rows) != size or any(row.count("\t") != 1 for row in rows):
        raise ValueError(f"{folder / _IDS}: expected {size} lines of template_id<TAB>person_id")
    template_ids, person_ids = zip(*(row.split("\t") for row in rows), strict=True) if rows else ((), ())
    index: VectorIndex = ExactIndex.load(folder, size) if meta["kind"] == "exact" else HnswIndex.load(folder, size)
    return Gallery(generation, tuple(template_ids), tuple(person_ids), meta["kind"], index)

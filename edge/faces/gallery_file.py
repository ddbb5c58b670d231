"""A built gallery on disk, so the service starts in seconds with a large watchlist.

Building an HNSW graph of a million templates takes minutes of CPU; loading it takes seconds.
The folder holds the index, the ids (one `label<TAB>template_id<TAB>person_id<TAB>digest` line per
template) and meta.json with the face generation it reflects. A gallery saved at an older
generation is still useful: the caller brings it up to date with `Gallery.update`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from array import array
from pathlib import Path

from edge.faces.gallery import Gallery
from edge.faces.index import ExactIndex, HnswIndex, VectorIndex

_META = "meta.json"
_IDS = "ids.tsv"
_FORMAT = 2


def save_gallery(gallery: Gallery, folder: Path) -> None:
    """Write the gallery to `folder`, replacing what was there only once the new one is complete."""
    entries = gallery.entries()
    for _, *texts, _ in entries:
        for text in texts:
            if "\t" in text or "\n" in text:
                raise ValueError(f"id {text!r} contains a tab or newline and cannot be saved")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".new-"))
    try:
        gallery.index.save(staging)
        lines = (f"{label}\t{template}\t{person}\t{digest:x}\n" for label, template, person, digest in entries)
        (staging / _IDS).write_text("".join(lines), encoding="utf-8")
        meta = {"format": _FORMAT, "generation": gallery.generation, "kind": gallery.kind, "size": len(entries),
                "next_label": gallery.next_label}
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


def load_gallery(folder: Path) -> Gallery | None:
    """The saved gallery, at the generation it was saved at; None if there is none (or of an older
    format). A damaged folder raises ValueError naming what is wrong (the caller rebuilds)."""
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{folder / _META}: unreadable ({exc})") from None
    if meta.get("format") != _FORMAT:
        return None
    size, next_label = meta["size"], meta["next_label"]
    template_ids: list[str | None] = [None] * next_label
    person_ids: list[str | None] = [None] * next_label
    digests = array("q", bytes(8 * next_label))
    found = 0
    try:
        with open(folder / _IDS, encoding="utf-8") as ids:
            for line in ids:
                label, template_id, person_id, digest = line.rstrip("\n").split("\t")
                at = int(label)
                template_ids[at], person_ids[at], digests[at] = template_id, person_id, int(digest, 16)
                found += 1
    except (OSError, ValueError, IndexError) as exc:
        raise ValueError(f"{folder / _IDS}: expected label<TAB>template_id<TAB>person_id<TAB>digest ({exc})") from None
    if found != size:
        raise ValueError(f"{folder / _IDS}: expected {size} templates, found {found}")
    index: VectorIndex = ExactIndex.load(folder, size) if meta["kind"] == "exact" else HnswIndex.load(folder, size)
    return Gallery(index, meta["kind"], meta["generation"], template_ids, person_ids, digests)

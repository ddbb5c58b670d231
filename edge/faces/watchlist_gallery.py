"""The watchlist's enrolled faces as the one gallery every lane searches, kept on disk and up to date.

At start the gallery saved in the state folder is loaded (seconds, even at a million templates)
and brought up to the store's face generation; only without a usable saved one is it built.
When a watchlist bundle changes the enrolled faces, the lanes keep searching the gallery they
have while a background thread takes the change in (`Gallery.update`) and saves the result.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from edge.config import FacesConfig
from edge.faces.gallery import Gallery, GalleryUpdate, Row, build_gallery
from edge.faces.gallery_file import load_gallery, save_gallery
from edge.faces.index import index_kind
from edge.watchlist.store import WatchlistStore
from edge.watchlist.templates import EnrolledFace, enrolled_faces

log = logging.getLogger(__name__)


def _row(face: EnrolledFace) -> Row:
    # Ids carry the list: one person may be on two lists, each with its own templates.
    return f"{face.list_id}/{face.template_id}", f"{face.list_id}/{face.person_id}", face.vector


class WatchlistGallery:
    def __init__(self, config: FacesConfig, reader: WatchlistStore, folder: Path | None):
        self._config = config
        self._reader = reader  # the lanes' connection: only asked for the face generation
        self._folder = folder
        # Reading every template takes seconds at a million: on a connection of its own, so that
        # the lanes' look-ups never wait for it.
        self._store = WatchlistStore(reader.path)
        self._lock = threading.Lock()  # one opening or update at a time
        self._gallery: Gallery | None = None
        self._updater: threading.Thread | None = None

    def close(self) -> None:
        if self._updater is not None:
            self._updater.join()
        self._store.close()

    def current(self) -> Gallery:
        """The gallery to search now. The first call opens it (the saved one, brought up to date,
        or a new one); after that, a gallery behind the store answers while it is being updated."""
        with self._lock:
            if self._gallery is None:
                self._gallery = self._open()
            elif self._gallery.generation != self._reader.face_generation() and not self._updating():
                self._updater = threading.Thread(target=self.update, name="face-gallery", daemon=True)
                self._updater.start()
            return self._gallery

    def _updating(self) -> bool:
        return self._updater is not None and self._updater.is_alive()

    def update(self) -> GalleryUpdate | None:
        """Take in what the store changed since the gallery's generation, and save the result."""
        gallery = self._gallery
        if gallery is None:
            self.current()
            return None
        started = time.monotonic()
        with enrolled_faces(self._store) as (generation, count, faces):
            if generation == gallery.generation:
                return None
            if gallery.kind != index_kind(count, self._config.index, self._config.exact_max):
                # Grown past (or shrunk below) what the current kind of index is for.
                self._gallery = self._build(generation, count, faces)
                return GalleryUpdate(generation, count, gallery.size)
            change = gallery.update(map(_row, faces), generation)
        log.info("face gallery at generation %d: %d templates added, %d removed, in %.1f s",
                 generation, change.added, change.removed, time.monotonic() - started)
        self._save(gallery)
        return change

    def _open(self) -> Gallery:
        gallery = None
        if self._folder is not None:
            try:
                gallery = load_gallery(self._folder)
            except ValueError as exc:
                log.warning("saved face gallery unusable, building a new one: %s", exc)
        if gallery is not None:
            log.info("face gallery loaded: %d templates at generation %d", gallery.size, gallery.generation)
            self._gallery = gallery
            self.update()
            return self._gallery
        with enrolled_faces(self._store) as (generation, count, faces):
            return self._build(generation, count, faces)

    def _build(self, generation: int, count: int, faces: Iterator[EnrolledFace]) -> Gallery:
        started = time.monotonic()
        gallery = build_gallery(map(_row, faces), generation, kind=self._config.index,
                                exact_max=self._config.exact_max, expected=count)
        log.info("face gallery built: %d templates (%s) in %.1f s", gallery.size, gallery.kind,
                 time.monotonic() - started)
        self._save(gallery)
        return gallery

    def _save(self, gallery: Gallery) -> None:
        if self._folder is None:
            return
        try:
            save_gallery(gallery, self._folder)
        except (OSError, ValueError) as exc:
            # The gallery in memory is whole; without the saved copy the next start rebuilds it.
            log.warning("face gallery not saved to %s: %s", self._folder, exc)

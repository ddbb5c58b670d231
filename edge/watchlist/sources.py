"""Where bundles come from: a folder (a USB stick, a mounted share) or a static HTTP(S) server.

Both present the publisher's output folder: bundle files, plus `index.json` listing them. The
index is a hint for finding files, not trusted: every bundle is verified on its own when applied,
and a forged index can at worst hide new bundles, which the staleness alarm catches.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin

from edge.watchlist.bundle import LIST_ID, SUFFIX, read_header
from edge.watchlist.http import HttpClient, TransferError
from edge.watchlist.refusal import Refusal, Refused

INDEX_NAME = "index.json"
INDEX_FORMAT = "checkpoint-edge-watchlist-index/1"
# An index lists a few bundles per list: a few kB. Far bigger is not an index.
INDEX_MAX_BYTES = 4 * 1024 * 1024
# A bundle's path in an index: relative segments of plain names ending in .wlb; nothing that could
# name a folder, climb out, or point at another host ("", ".", "..", "/x", "//host/x", "http://...").
_BUNDLE_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*" + re.escape(SUFFIX))


@dataclass(frozen=True, slots=True)
class Offer:
    """A bundle a source says it has (unverified until applied)."""

    file: str  # path relative to the source, with '/' separators
    list_id: str
    kind: str
    version: int
    base_version: int | None
    size: int


class SourceError(Exception):
    """A source that cannot be read at all (server down, folder missing, bad index)."""


class Source(Protocol):
    name: str

    def offers(self) -> list[Offer]: ...

    def fetch(self, offer: Offer) -> Path:
        """A local, complete copy of the bundle; Refused(TRUNCATED or DOWNLOAD_FAILED) otherwise."""
        ...

    def release(self, offer: Offer) -> None:
        """The bundle has been applied or refused: drop any local copy made for it."""
        ...


def scan_folder(folder: Path) -> list[Offer]:
    """Offers from the headers of the bundle files under `folder` (files that are no bundle are skipped)."""
    offers = []
    for path in sorted(folder.rglob(f"*{SUFFIX}")):
        try:
            manifest = read_header(path)[0]
        except Refused:
            continue
        offers.append(
            Offer(
                path.relative_to(folder).as_posix(),
                manifest.list_id,
                manifest.kind,
                manifest.version,
                manifest.base_version,
                path.stat().st_size,
            )
        )
    return offers


def write_index(folder: Path) -> None:
    """Write `index.json` for the bundles in `folder`, atomically."""
    index = {"format": INDEX_FORMAT, "bundles": [asdict(offer) for offer in scan_folder(folder)]}
    partial = folder / (INDEX_NAME + ".part")
    partial.write_text(json.dumps(index, indent=1) + "\n")
    partial.replace(folder / INDEX_NAME)


def parse_index(data: bytes, where: str) -> list[Offer]:
    try:
        index = json.loads(data)
        if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT:
            raise ValueError(f"not format {INDEX_FORMAT}")
        offers = [Offer(**item) for item in index["bundles"]]
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise SourceError(f"{where}: unusable index ({exc})") from None
    for offer in offers:
        # The file name becomes part of a URL and a local path: no climbing out of either.
        if (not isinstance(offer.file, str) or not _BUNDLE_PATH.fullmatch(offer.file)
                or ".." in offer.file.split("/") or not isinstance(offer.list_id, str)
                or not LIST_ID.fullmatch(offer.list_id)):
            raise SourceError(f"{where}: the index names an unsafe file {offer.file!r}")
    return offers


class FolderSource:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.name = str(self.folder)

    def offers(self) -> list[Offer]:
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder}: no such folder (is the medium mounted?)")
        return scan_folder(self.folder)

    def fetch(self, offer: Offer) -> Path:
        return self.folder / offer.file

    def release(self, offer: Offer) -> None:
        """Bundles on the medium are left where they are."""


class HttpSource:
    def __init__(self, base_url: str, download_dir: Path, client: HttpClient):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.name = self.base_url
        self._dir = download_dir / hashlib.sha256(self.base_url.encode()).hexdigest()[:16]
        self._dir.mkdir(parents=True, exist_ok=True)
        self._client = client

    def offers(self) -> list[Offer]:
        try:
            data = self._client.get_cached(urljoin(self.base_url, INDEX_NAME), self._dir / INDEX_NAME,
                                           max_bytes=INDEX_MAX_BYTES)
        except TransferError as exc:
            raise SourceError(str(exc)) from None
        offers = parse_index(data, self.base_url + INDEX_NAME)
        self._forget_all_but(offers)
        return offers

    def _forget_all_but(self, offers: list[Offer]) -> None:
        """Drop partial downloads of bundles the server no longer offers (superseded while we were offline)."""
        keep = {self._local(o).name for o in offers}
        for path in self._dir.iterdir():
            if not path.name.startswith(INDEX_NAME) and path.name.split(".wlb")[0] + ".wlb" not in keep:
                path.unlink(missing_ok=True)

    def _local(self, offer: Offer) -> Path:
        return self._dir / offer.file.replace("/", "__")

    def fetch(self, offer: Offer) -> Path:
        url = urljoin(self.base_url, offer.file)
        if not url.startswith(self.base_url):  # parse_index allows no such name; this says why it must not
            raise Refused(Refusal.DOWNLOAD_FAILED, f"{offer.file!r} is not under {self.base_url}")
        try:
            return self._client.download(url, self._local(offer))
        except TransferError as exc:
            reason = Refusal.TRUNCATED if exc.partial else Refusal.DOWNLOAD_FAILED
            raise Refused(reason, f"{exc}; a later sync resumes it" if exc.partial else str(exc)) from None

    def release(self, offer: Offer) -> None:
        self._local(offer).unlink(missing_ok=True)

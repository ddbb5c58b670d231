"""HTTP(S) transfers from any static file server: conditional GET, resumable downloads, timeouts.

Only plain HTTP features every static server has: ETag/Last-Modified with If-None-Match/
If-Modified-Since (nothing is transferred when nothing changed), and Range with If-Range (a
download cut off by a flaky link continues where it stopped, or starts again if the file changed).

Two limits hold whatever the server does: a size (the caller's), and a deadline for the whole
transfer, not only for each read (a server that sends a byte every few seconds never trips a read
timeout). A download cut off by its deadline keeps its part: the next sync resumes it.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

_CHUNK = 1 << 16
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class TransferError(Exception):
    """A transfer that did not complete; `partial` when a resumable part was kept."""

    def __init__(self, message: str, *, partial: bool = False):
        self.partial = partial
        super().__init__(message)


def _validators_path(path: Path) -> Path:
    return path.with_name(path.name + ".validators")


def _read_validators(path: Path) -> dict[str, str]:
    try:
        data = json.loads(_validators_path(path).read_text())
        return {k: v for k, v in data.items() if k in ("etag", "last_modified") and isinstance(v, str)}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_validators(path: Path, response: http.client.HTTPResponse) -> None:
    validators = {"etag": response.headers.get("ETag"), "last_modified": response.headers.get("Last-Modified")}
    _validators_path(path).write_text(json.dumps({k: v for k, v in validators.items() if v}))


# A download may take this many read timeouts in all before it is cut off (and resumed next sync).
_DOWNLOAD_DEADLINE_TIMEOUTS = 20


class HttpClient:
    def __init__(self, *, timeout_s: float, ca_file: Path | None = None, max_bytes: int):
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
        self._timeout = timeout_s
        self._max_bytes = max_bytes

    def _open(self, url: str, headers: dict[str, str]) -> http.client.HTTPResponse | int:
        """The response, or only the status of a 304 or 416 (the callers handle them; there is no body)."""
        request = urllib.request.Request(url, headers={"User-Agent": "checkpoint-edge-watchlist", **headers})
        try:
            return self._opener.open(request, timeout=self._timeout)
        except urllib.error.HTTPError as exc:
            if exc.code in (304, 416):
                exc.close()
                return exc.code
            raise TransferError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransferError(f"{url}: {reason}") from None

    def get_cached(self, url: str, cache: Path, *, max_bytes: int) -> bytes:
        """The body at `url` (at most `max_bytes`, within one timeout in all), re-using `cache` when
        the server says it has not changed (304)."""
        deadline = time.monotonic() + self._timeout
        headers = {}
        validators = _read_validators(cache) if cache.exists() else {}
        if "etag" in validators:
            headers["If-None-Match"] = validators["etag"]
        if "last_modified" in validators:
            headers["If-Modified-Since"] = validators["last_modified"]
        response = self._open(url, headers)
        if response == 304:
            return cache.read_bytes()
        if isinstance(response, int):
            raise TransferError(f"{url}: unexpected HTTP {response}")
        with response:
            if response.status != 200:
                raise TransferError(f"{url}: unexpected HTTP {response.status}")
            body = self._read_all(url, response, max_bytes, deadline)
        partial = cache.with_name(cache.name + ".part")
        partial.write_bytes(body)
        _write_validators(partial, response)
        partial.replace(cache)
        _validators_path(partial).replace(_validators_path(cache))
        return body

    def _read_all(self, url: str, response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> bytes:
        body = bytearray()
        try:
            # read1: whatever has arrived, so the deadline is looked at between the server's bytes.
            while chunk := response.read1(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise TransferError(f"{url}: larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise TransferError(f"{url}: not received within {self._timeout:g} s")
        except (TimeoutError, http.client.IncompleteRead, OSError) as exc:
            raise TransferError(f"{url}: the transfer broke off ({exc})") from None
        return bytes(body)

    def download(self, url: str, dest: Path) -> Path:
        """Download `url` to `dest`, resuming a part left by an earlier broken transfer."""
        deadline = time.monotonic() + self._timeout * _DOWNLOAD_DEADLINE_TIMEOUTS
        partial = dest.with_name(dest.name + ".part")
        validators = _read_validators(partial)
        offset = partial.stat().st_size if partial.exists() and validators else 0
        headers = {}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = validators.get("etag") or validators["last_modified"]
        response = self._open(url, headers)
        if response == 416:  # nothing after offset: the part is stale, start again
            partial.unlink(missing_ok=True)
            _validators_path(partial).unlink(missing_ok=True)
            return self.download(url, dest)
        if isinstance(response, int):
            raise TransferError(f"{url}: unexpected HTTP {response}")
        with response:
            if response.status == 206:
                match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
                if not match or int(match.group(1)) != offset:
                    raise TransferError(f"{url}: the server resumed at the wrong place")
                mode = "ab"
            elif response.status == 200:
                offset, mode = 0, "wb"  # the file changed or the server ignores Range: from the start
            else:
                raise TransferError(f"{url}: unexpected HTTP {response.status}")
            length = response.headers.get("Content-Length")
            expected = offset + int(length) if length is not None else None
            if expected is not None and expected > self._max_bytes:
                raise TransferError(f"{url}: {expected} bytes is over the download limit of {self._max_bytes}")
            with partial.open(mode) as out:
                if mode == "wb":
                    _write_validators(partial, response)
                received = offset + self._copy(url, response, out, offset, deadline)
        if expected is not None and received < expected:
            raise TransferError(f"{url}: the transfer broke off at {received} of {expected} bytes", partial=True)
        partial.replace(dest)
        _validators_path(partial).unlink(missing_ok=True)
        return dest

    def _copy(self, url: str, response: http.client.HTTPResponse, out, offset: int, deadline: float) -> int:
        copied = 0
        try:
            while chunk := response.read1(_CHUNK):
                copied += len(chunk)
                if offset + copied > self._max_bytes:
                    raise TransferError(f"{url}: over the download limit of {self._max_bytes} bytes")
                out.write(chunk)
                if time.monotonic() > deadline:
                    out.flush()
                    raise TransferError(f"{url}: cut off at {offset + copied} bytes after "
                                        f"{self._timeout * _DOWNLOAD_DEADLINE_TIMEOUTS:g} s; the next sync resumes it",
                                        partial=True)
        except (TimeoutError, http.client.IncompleteRead, OSError) as exc:
            # Keep what arrived: the next attempt asks only for the rest.
            out.flush()
            raise TransferError(
                f"{url}: the transfer broke off at {offset + copied} bytes ({exc})", partial=True
            ) from None
        return copied

"""The watchlist cache: where it lives, where signed bundles come from, and whom to trust."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from edge.config.base import StrictModel


class WatchlistKey(StrictModel):
    """A public key the crossing trusts for signed watchlist bundles (`edge watchlist keygen` makes one)."""

    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$")  # base64 of the 32 raw Ed25519 bytes
    # Rotation: bundles this key signs that claim a later creation time are refused.
    not_after: datetime | None = None

    @field_validator("not_after")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("not_after needs a time zone, e.g. 2026-01-31T00:00:00Z")
        return value


class WatchlistConfig(StrictModel):
    """The watchlist cache (edge.watchlist): where it lives, where bundles come from, whom to trust."""

    # Relative to the crossing's state_dir.
    state_dir: Path = Path("watchlist")
    # Tried in order on every sync: http(s):// URLs of a publication folder, or folders (a USB stick).
    sources: list[str] = []
    trusted_keys: list[WatchlistKey] = []
    sync_interval_s: float = Field(default=300, gt=0, le=86400)
    # Older than this (since the authority created it), the cache is stale: alarm plus stale_policy.
    max_age_h: float = Field(default=24, gt=0)
    stale_policy: Literal["warn", "refer_all", "no_auto_clear"] = "refer_all"
    # Lists that must be present; a crossing without one of them is stale.
    required_lists: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]] = []
    http_timeout_s: float = Field(default=30, gt=0, le=600)
    ca_file: Path | None = None  # a private CA for https sources; the system's CAs otherwise
    max_download_mb: int = Field(default=4096, gt=0)
    # A size budget for the cache database: past it an apply fails like on a full disk (and is refused).
    max_db_mb: int | None = Field(default=None, gt=0)

    @field_validator("sources")
    @classmethod
    def _urls_or_absolute_folders(cls, sources: list[str]) -> list[str]:
        for source in sources:
            if not source.startswith(("http://", "https://", "/")):
                raise ValueError(f"{source!r} must be an http(s):// URL or an absolute folder path")
        return sources

    @field_validator("trusted_keys")
    @classmethod
    def _unique_key_ids(cls, keys: list[WatchlistKey]) -> list[WatchlistKey]:
        ids = [key.id for key in keys]
        if len(set(ids)) != len(ids):
            raise ValueError("each trusted key id may appear only once")
        return keys


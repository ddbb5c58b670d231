"""The kiosk: where it listens, which hosts it answers to, TLS, and officers' accounts and sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from edge.config.base import StrictModel, is_loopback


class KioskAuthConfig(StrictModel):
    """Kiosk accounts and sessions (edge.kiosk.auth). Accounts live in state_dir/kiosk/users.sqlite."""

    # A session ends after this long without a request, and in any case this long after login (a shift).
    session_idle_s: float = Field(default=900, gt=0, le=86_400)
    session_max_s: float = Field(default=43_200, gt=0, le=7 * 86_400)
    # After this many wrong passwords or PINs for one name (or from one browser that logged in to the
    # account before), that name (or browser) waits throttle_s from its last failure. Nothing is locked.
    throttle_after: int = Field(default=5, ge=1, le=100)
    throttle_s: float = Field(default=60, gt=0, le=3_600)
    pin_length: int = Field(default=6, ge=4, le=12)  # digits of a badge PIN
    password_min_length: int = Field(default=10, ge=8, le=128)
    # The demo checkpoint only: create officer/officer, tech/tech and super/super and let them log in.
    demo_accounts: bool = False

    @model_validator(mode="after")
    def _idle_within_max(self) -> KioskAuthConfig:
        if self.session_idle_s > self.session_max_s:
            raise ValueError("session_idle_s must not be longer than session_max_s")
        return self


class KioskConfig(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    # Host names the kiosk answers to besides loopback and `host` (e.g. the kiosk PC's DNS name):
    # any other Host header is refused, so a page on a rebound name reaches nothing.
    allowed_hosts: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9.:\[\]-]{1,253}$")]] = []
    auth: KioskAuthConfig = KioskAuthConfig()

    @model_validator(mode="after")
    def _tls_off_loopback(self) -> KioskConfig:
        # Officer sessions and barrier commands must not cross a network in clear text.
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile and tls_keyfile must be given together")
        if not is_loopback(self.host) and self.tls_certfile is None:
            raise ValueError(
                f"host {self.host!r} is not loopback: serving other hosts requires tls_certfile and tls_keyfile"
            )
        if self.auth.demo_accounts and not is_loopback(self.host):
            # Their passwords are printed in the README and docs/officer.md: never reachable from another host.
            raise ValueError(f"host {self.host!r} is not loopback: demo_accounts are for a loopback kiosk only")
        return self


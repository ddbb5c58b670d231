"""What every config model shares: strictness, identifiers, and checks used by several sections."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field

# The config's models are as strict as the device settings they embed (hardware/settings.py).
from hardware.settings import StrictModel, in_order

__all__ = ["Identifier", "StrictModel", "in_order", "is_loopback"]

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

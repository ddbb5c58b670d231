"""Kiosk accounts, login sessions and CSRF protection.

The web side is `edge.kiosk.auth.web` (create_auth, Auth); this package itself imports nothing
heavy, because the `edge` CLI imports every command at start and `edge users` needs no FastAPI.
"""

from edge.kiosk.auth.model import Role, User

__all__ = ["Role", "User"]

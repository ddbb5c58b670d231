"""Kiosk accounts, login sessions and CSRF protection (see web.py for how routes use them)."""

from edge.kiosk.auth.model import Role, User
from edge.kiosk.auth.web import CSRF_HEADER, SESSION_COOKIE, Auth, create_auth

__all__ = ["CSRF_HEADER", "SESSION_COOKIE", "Auth", "Role", "User", "create_auth"]

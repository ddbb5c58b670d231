"""The demo checkpoint's accounts, so that a newcomer running `make run` can log in.

Created only when the config says `kiosk.auth.demo_accounts = true` (and such a config must keep
the kiosk on loopback); marked as demo in the database, so that copying a demo state dir into a
real crossing does not bring working well-known passwords with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.kiosk.auth.admin import AccountAdmin
from edge.kiosk.auth.model import Role, User
from edge.kiosk.auth.users import UserStore


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role

    def describe(self) -> str:
        return f"{self.username} / {self.password}  ({self.role.value}, every lane)"


DEMO_ACCOUNTS = (
    DemoAccount("officer", "officer", Role.OFFICER),
    DemoAccount("tech", "tech", Role.TECHNICIAN),
    DemoAccount("super", "super", Role.SUPERVISOR),
)


def ensure_demo_accounts(users: UserStore, admin: AccountAdmin) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; returns the ones that are demo accounts now.

    An account of the same name made by someone on purpose (not a demo account) is left alone."""
    present = []
    for demo in DEMO_ACCOUNTS:
        account = users.get(demo.username)
        if account is None:
            admin.add_demo(User(demo.username, demo.role, (), True), demo.password)
            present.append(demo)
        elif account.demo:
            present.append(demo)
    return present

"""The accounts side of auth, without the web: what `edge users` and the server both open."""

from __future__ import annotations

from pathlib import Path

from edge.config import KioskAuthConfig
from edge.kiosk.auth.admin import AccountAdmin
from edge.kiosk.auth.db import Database, users_db_path
from edge.kiosk.auth.demo import DemoAccount, ensure_demo_accounts
from edge.kiosk.auth.devices import DeviceStore
from edge.kiosk.auth.hashing import Hasher
from edge.kiosk.auth.login import Authenticator
from edge.kiosk.auth.sessions import SessionStore
from edge.kiosk.auth.users import UserStore


class Accounts:
    def __init__(self, db: Database, config: KioskAuthConfig):
        self._db = db
        self.config = config
        self.users = UserStore(db)
        self.sessions = SessionStore(db, config.session_idle_s, config.session_max_s)
        hasher = Hasher()
        self.admin = AccountAdmin(self.users, hasher, config)
        self.devices = DeviceStore(db)
        self.authenticator = Authenticator(self.users, self.devices, hasher, config)
        # With demo_accounts in the config, the demo accounts exist whenever accounts are open.
        self.demo_accounts: list[DemoAccount] = (
            ensure_demo_accounts(self.users, self.admin) if config.demo_accounts else []
        )

    def close(self) -> None:
        self._db.close()


def open_accounts(state_dir: Path, config: KioskAuthConfig) -> Accounts:
    return Accounts(Database(users_db_path(state_dir)), config)

"""The auth layer in the real service (`edge run`): demo accounts, login, and the guard on changes."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import service_config

pytestmark = pytest.mark.slow  # a real service, or a browser: seconds per test


def test_the_service_serves_login_and_guards_changes(tmp_path, start_service, folder_cameras):
    config = service_config(tmp_path, lambda lane, role: str(folder_cameras))
    assert "auth.demo_accounts = true" in config.read_text(), "the demo config enables demo accounts"
    service = start_service(config)
    service.wait_until("/healthz")
    assert "demo account: officer / officer  (officer, every lane)" in service.log()
    with httpx.Client(base_url=service.url, timeout=20) as client:
        assert client.get("/login").status_code == 200
        assert client.get("/api/me").status_code == 401
        assert client.post("/api/logout").status_code == 401
        login = client.post("/api/login", json={"username": "officer", "password": "officer"})
        assert login.status_code == 200, login.text
        assert client.post("/api/logout").status_code == 403  # no CSRF token
        assert client.post("/api/logout", headers={"X-CSRF-Token": login.json()["csrf_token"]}).status_code == 200
        assert client.get("/api/me").status_code == 401

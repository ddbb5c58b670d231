"""`edge service install` into a root prefix, and the unit it writes checked by systemd's own tools."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

from edge.cli import main
from edge.config import DEFAULT_CONFIG, load_config
from edge.service.allocator import ARENA_MAX
from edge.service.install import UNIT_TEMPLATE, render_unit

EXAMPLE = DEFAULT_CONFIG.parent / "example-lane.toml"
UNIT = Path("etc/systemd/system/checkpoint-edge.service")


def _install(root: Path, *extra: str) -> int:
    return main(["service", "install", "--root", str(root), *extra])


def _sections(unit_text: str) -> dict[str, list[tuple[str, str]]]:
    """The unit as systemd reads it: sections of (key, value) in order, comments dropped."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in unit_text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"not a key=value line inside a section: {line!r}"
        current.append((key, value))
    return sections


def _values(sections: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in sections[section] if k == key]


def _ids(root: Path, table: str, name: str) -> int:
    for line in (root / "etc" / table).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    raise AssertionError(f"{name} not in {table}")


def test_dry_run_prints_every_step_and_the_unit_and_changes_nothing(tmp_path, capsys):
    root = tmp_path / "root"
    assert _install(root, "--dry-run", "--exec", shutil.which("true")) == 0
    out = capsys.readouterr().out
    assert not root.exists()
    for expected in (
        "create system user checkpoint-edge",
        "write /etc/sysusers.d/checkpoint-edge.conf",
        "create directory /etc/checkpoint-edge (0750 root:checkpoint-edge)",
        "write /etc/checkpoint-edge/edge.toml (0640 root:checkpoint-edge, unless it exists)",
        "create directory /var/lib/checkpoint-edge (0750 checkpoint-edge:checkpoint-edge)",
        "create directory /var/log/checkpoint-edge (0750 checkpoint-edge:checkpoint-edge)",
        "write /etc/systemd/system/checkpoint-edge.service (0644 root:root)",
    ):
        assert expected in out
    assert f"ExecStart={shutil.which('true')} run --config /etc/checkpoint-edge/edge.toml" in out


def test_install_creates_the_user_directories_config_and_a_hardened_unit(tmp_path, capsys):
    root = tmp_path / "root"
    config = tmp_path / "lane.toml"
    # A real lane with its serial devices: a udev symlink for the barrier, a plain port for the reader.
    config.write_text(EXAMPLE.read_text() + (
        '\n[lanes.barrier.link]\nurl = "/dev/checkpoint/lane1-barrier"\n'
        '\n[lanes.reader.link]\nurl = "/dev/ttyACM0"\n'
    ))  # fmt: skip
    edge = Path(shutil.which("edge") or Path(__file__).parents[2] / ".venv" / "bin" / "edge")
    assert _install(root, "--config", str(config), "--exec", str(edge)) == 0
    assert "installed under" in capsys.readouterr().out

    uid, gid = _ids(root, "passwd", "checkpoint-edge"), _ids(root, "group", "checkpoint-edge")
    for path, mode, owner in (
        ("etc/checkpoint-edge", 0o750, (0, gid)),
        ("etc/checkpoint-edge/edge.toml", 0o640, (0, gid)),
        ("var/lib/checkpoint-edge", 0o750, (uid, gid)),
        ("var/log/checkpoint-edge", 0o750, (uid, gid)),
        (str(UNIT), 0o644, (0, 0)),
    ):
        info = (root / path).stat()
        assert (stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid)) == (mode, owner), path
    assert (root / "etc/checkpoint-edge/edge.toml").read_text() == config.read_text()
    assert "/usr/sbin/nologin" in (root / "etc/passwd").read_text()

    unit = _sections((root / UNIT).read_text())
    service = dict(unit["Service"])
    assert service["Type"] == "notify" and service["Restart"] == "on-failure"
    assert service["WatchdogSec"] == "30s" and service["User"] == "checkpoint-edge"
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    assert "dialout" in service["SupplementaryGroups"].split()
    assert service["ExecStart"] == f"{edge} run --config /etc/checkpoint-edge/edge.toml"
    for key in ("StateDirectory", "LogsDirectory", "RuntimeDirectory"):
        assert service[key] == "checkpoint-edge"
    assert service["DevicePolicy"] == "closed"
    devices = _values(unit, "Service", "DeviceAllow")
    assert {"char-ttyUSB rw", "/dev/checkpoint/lane1-barrier rw", "/dev/ttyACM0 rw"} <= set(devices)
    assert _values(unit, "Install", "WantedBy") == ["multi-user.target"]

    if shutil.which("systemd-analyze"):
        verify = subprocess.run(["systemd-analyze", "verify", str(root / UNIT)], capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        # verify exits 0 on unknown keys too, and only warns: any output at all is a defect.
        assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")
        security = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(root / UNIT)],
                                  capture_output=True, text=True, timeout=60)  # fmt: skip
        exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
        assert exposure and float(exposure.group(1)) <= 2.0, security.stdout[-500:]


def test_a_second_install_keeps_the_operators_config_and_follows_it(tmp_path, capsys):
    root = tmp_path / "root"
    edge = shutil.which("true")
    assert _install(root, "--exec", edge) == 0
    installed = root / "etc/checkpoint-edge/edge.toml"
    edited = installed.read_text().replace(
        'state_dir = "/var/lib/checkpoint-edge"', 'state_dir = "/srv/edge-state"   # the big disk'
    ) + '\n[lanes.barrier.link]\nurl = "/dev/ttyUSB3"\n'
    installed.write_text(edited)
    capsys.readouterr()
    assert _install(root, "--exec", edge) == 0
    out = capsys.readouterr().out
    assert "kept /etc/checkpoint-edge/edge.toml as it is" in out
    assert installed.read_text() == edited
    unit = _sections((root / UNIT).read_text())
    assert _values(unit, "Service", "ReadWritePaths") == ["/srv/edge-state"]
    assert "/dev/ttyUSB3 rw" in _values(unit, "Service", "DeviceAllow")
    assert (root / "srv/edge-state").is_dir()


def test_install_refuses_what_the_service_could_not_run_with(tmp_path, capsys):
    root = tmp_path / "root"
    # The demo's state_dir is relative: installed in /etc/checkpoint-edge it would land in read-only /etc.
    assert _install(root, "--config", str(DEFAULT_CONFIG), "--exec", shutil.which("true")) == 2
    assert "state_dir /etc/var/demo" in capsys.readouterr().err
    assert _install(root, "--exec", "/home/someone/venv/bin/edge") == 2
    assert "ProtectHome" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text(EXAMPLE.read_text().replace("[kiosk]", "[kiosk]\nprot = 1"))
    assert _install(root, "--config", str(broken), "--exec", shutil.which("true")) == 2
    assert "kiosk.prot: unknown key" in capsys.readouterr().err
    assert _install(root, "--exec", str(tmp_path / "no-edge-here")) == 2
    assert "--exec" in capsys.readouterr().err
    assert not root.exists()


def test_the_shipped_unit_is_what_install_writes_for_the_example_lane_in_opt():
    template = UNIT_TEMPLATE.read_text()
    config = load_config(EXAMPLE)
    assert render_unit(template, Path("/opt/checkpoint-edge/.venv/bin/edge"), config) == template
    assert dict(_sections(template)["Service"])["Type"] == "notify"


def test_the_unit_caps_malloc_arenas_as_the_service_does_without_it():
    environment = " ".join(_values(_sections(UNIT_TEMPLATE.read_text()), "Service", "Environment")).split()
    assert f"MALLOC_ARENA_MAX={ARENA_MAX}" in environment

"""Installing the crossing as a systemd service: the user, the directories, the config and the unit.

The installation is first a plan (a list of steps, each saying in words what it does) and only then
carried out, so `--dry-run` prints exactly what a real run would do. Everything is written under a
root prefix ("/" on a crossing's box, a temporary folder in tests); user and group names are looked
up in that root's /etc/passwd and /etc/group, so a test installs for real without touching the host.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from edge.atomic_file import replace_file
from edge.config import EdgeConfig, parse_config

SERVICE = "checkpoint-edge"
SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "config" / "systemd"
UNIT_TEMPLATE = SYSTEMD_DIR / f"{SERVICE}.service"
SYSUSERS_TEMPLATE = SYSTEMD_DIR / "sysusers.conf"

UNIT_PATH = PurePosixPath(f"/etc/systemd/system/{SERVICE}.service")
SYSUSERS_PATH = PurePosixPath(f"/etc/sysusers.d/{SERVICE}.conf")
CONFIG_DIR = PurePosixPath(f"/etc/{SERVICE}")
CONFIG_PATH = CONFIG_DIR / "edge.toml"
STATE_DIR = PurePosixPath(f"/var/lib/{SERVICE}")
LOGS_DIR = PurePosixPath(f"/var/log/{SERVICE}")
# ProtectHome= hides these from the service, and ProtectSystem=strict makes these read-only.
_HIDDEN = (PurePosixPath("/home"), PurePosixPath("/root"), PurePosixPath("/run/user"))
_READ_ONLY = (PurePosixPath("/etc"), PurePosixPath("/usr"), PurePosixPath("/boot"), PurePosixPath("/opt"))


class InstallError(Exception):
    """The service cannot be installed as asked; nothing after the failing step was done."""


def _under(path: PurePosixPath, parents: tuple[PurePosixPath, ...]) -> bool:
    return any(path == parent or parent in path.parents for parent in parents)


def _on_target(root: Path, path: PurePosixPath) -> Path:
    return root / path.relative_to("/")


@dataclass(frozen=True)
class CreateUser:
    """Apply the sysusers.d file: creates the system user and group if they do not exist yet."""

    conf: PurePosixPath

    def describe(self) -> str:
        return f"create system user {SERVICE} if missing: systemd-sysusers {self.conf}"

    def apply(self, root: Path) -> str:
        sysusers = shutil.which("systemd-sysusers")
        if sysusers is None:
            raise InstallError(
                "systemd-sysusers not found; create the user by hand: "
                f"useradd --system --user-group --home-dir {STATE_DIR} --shell /usr/sbin/nologin {SERVICE}"
            )
        done = subprocess.run([sysusers, f"--root={root}", str(_on_target(root, self.conf))],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        if done.returncode != 0:
            raise InstallError(f"systemd-sysusers failed: {(done.stderr or done.stdout).strip()}")
        return f"user {SERVICE}: present"


@dataclass(frozen=True)
class MakeDir:
    path: PurePosixPath
    mode: int
    owner: str
    group: str

    def describe(self) -> str:
        return f"create directory {self.path} ({self.mode:04o} {self.owner}:{self.group})"

    def apply(self, root: Path) -> str:
        target = _on_target(root, self.path)
        existed = target.is_dir()
        target.mkdir(parents=True, exist_ok=True)
        _set_owner_and_mode(root, target, self.owner, self.group, self.mode)
        return f"{'kept' if existed else 'created'} {self.path} ({self.mode:04o} {self.owner}:{self.group})"


@dataclass(frozen=True)
class WriteFile:
    path: PurePosixPath
    content: str
    mode: int
    owner: str
    group: str
    replace: bool  # False: a file already there is the operator's and is kept as it is

    def describe(self) -> str:
        keep = "" if self.replace else ", unless it exists"
        return f"write {self.path} ({self.mode:04o} {self.owner}:{self.group}{keep})"

    def apply(self, root: Path) -> str:
        target = _on_target(root, self.path)
        if target.exists() and (not self.replace or target.read_text(encoding="utf-8") == self.content):
            return f"kept {self.path} as it is"
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_file(target, self.content,
                     lambda temp: _set_owner_and_mode(root, temp, self.owner, self.group, self.mode))  # fmt: skip
        return f"wrote {self.path} ({self.mode:04o} {self.owner}:{self.group})"


Step = CreateUser | MakeDir | WriteFile


def _lookup(root: Path, table: str, name: str) -> int:
    """The id of user or group `name` in the target root's /etc/passwd or /etc/group."""
    if name == "root":  # id 0 everywhere, also in a root prefix that has no /etc/passwd yet
        return 0
    if root == Path("/"):
        try:
            return pwd.getpwnam(name).pw_uid if table == "passwd" else grp.getgrnam(name).gr_gid
        except KeyError:
            raise InstallError(f"no {'user' if table == 'passwd' else 'group'} {name!r} on this system") from None
    try:
        lines = (root / "etc" / table).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InstallError(f"cannot read {root / 'etc' / table}: {exc.strerror}") from None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] == name:
            return int(fields[2])
    raise InstallError(f"no {'user' if table == 'passwd' else 'group'} {name!r} in {root / 'etc' / table}")


def _set_owner_and_mode(root: Path, target: Path, owner: str, group: str, mode: int) -> None:
    uid, gid = _lookup(root, "passwd", owner), _lookup(root, "group", group)
    try:
        os.chown(target, uid, gid)
    except PermissionError:
        raise InstallError(f"cannot give {target} to {owner}:{group}: run the install as root") from None
    os.chmod(target, mode)


def device_paths(config: EdgeConfig) -> list[str]:
    """Device nodes the config names (serial links, /dev/video cameras), for explicit DeviceAllow= lines.

    The unit already allows whole device groups (ttyUSB, ttyACM, ttyS, video4linux); a node named
    here may be a udev symlink or an adapter of another driver, and is allowed as well."""
    urls = []
    for lane in config.lanes:
        urls += [lane.cameras.plate.url, lane.cameras.face.url]
        urls += [device.link.url for device in (lane.barrier, lane.reader) if device is not None]
    paths = [url.partition("?")[0] for url in urls if url.startswith("/dev/")]
    return sorted(set(paths))


def render_unit(template: str, executable: Path, config: EdgeConfig) -> str:
    """The unit for this box: its `edge`, the installed config, and what the config needs besides."""
    extra_devices = [f"DeviceAllow={path} rw" for path in device_paths(config)]
    state = PurePosixPath(config.state_dir)
    writable = [] if _under(state, (STATE_DIR,)) else [f"ReadWritePaths={state}"]
    lines = []
    for line in template.splitlines():
        if line.startswith("ExecStart="):
            line = f"ExecStart={executable} run --config {CONFIG_PATH}"
        lines.append(line)
        if line.startswith("DeviceAllow=char-video4linux"):
            lines += extra_devices
        if line.startswith("StateDirectoryMode="):
            lines += writable
    return "\n".join(lines) + "\n"


def default_executable() -> Path:
    """The `edge` script of the Python environment this command runs in."""
    return Path(sys.prefix) / "bin" / "edge"


def install_plan(root: Path, source_config: Path, executable: Path) -> list[Step]:
    """Every step of the installation, in order; nothing is changed by making the plan."""
    executable = executable.absolute()
    if _under(PurePosixPath(executable), _HIDDEN):
        raise InstallError(
            f"{executable} lies under a home directory, which the service cannot see (ProtectHome=yes); "
            "install the project elsewhere, e.g. /opt/checkpoint-edge"
        )
    if not any(os.access(path, os.X_OK) for path in (_on_target(root, PurePosixPath(executable)), executable)):
        raise InstallError(f"{executable} is not an executable `edge`; name the installed one with --exec")
    installed = _on_target(root, CONFIG_PATH)
    config_source = installed if installed.exists() else source_config
    try:
        config_text = config_source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstallError(f"cannot read {config_source}: {exc.strerror}") from None
    # Parsed as the file the service will read, so relative paths resolve as they will at run time.
    config = parse_config(config_text, Path(str(CONFIG_PATH)))
    state = PurePosixPath(config.state_dir)
    if _under(state, _HIDDEN + _READ_ONLY):
        raise InstallError(
            f"state_dir {state} (from {config_source}) would be read-only or hidden for the service; "
            f"use {STATE_DIR}"
        )
    unit = render_unit(UNIT_TEMPLATE.read_text(encoding="utf-8"), executable, config)
    steps: list[Step] = [
        WriteFile(SYSUSERS_PATH, SYSUSERS_TEMPLATE.read_text(encoding="utf-8"), 0o644, "root", "root", True),
        CreateUser(SYSUSERS_PATH),
        # The config holds camera passwords: readable by the service, not by everyone.
        MakeDir(CONFIG_DIR, 0o750, "root", SERVICE),
        WriteFile(CONFIG_PATH, config_text, 0o640, "root", SERVICE, False),
        MakeDir(STATE_DIR, 0o750, SERVICE, SERVICE),
        MakeDir(LOGS_DIR, 0o750, SERVICE, SERVICE),
    ]
    if state != STATE_DIR:
        steps.append(MakeDir(state, 0o750, SERVICE, SERVICE))
    steps.append(WriteFile(UNIT_PATH, unit, 0o644, "root", "root", True))
    return steps


def unit_of(steps: list[Step]) -> str:
    return next(step.content for step in steps if isinstance(step, WriteFile) and step.path == UNIT_PATH)

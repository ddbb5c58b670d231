"""Real filesystems that fill up (a size-limited tmpfs) or fail (ext4 turned read-only by the kernel); needs root,
as this machine's tests run."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def small_tmpfs(mount_point: Path, size: str = "64k") -> Iterator[Path]:
    mount_point.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"cannot mount a small tmpfs (the disk-full tests need root): {result.stderr}"
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def fill(path: Path) -> None:
    """Write zeros to `path` until the filesystem is full."""
    with path.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


class FailingDisk:
    """A real ext4 filesystem (an image on a loop device) mounted with errors=remount-ro."""

    def __init__(self, image: Path, mount_point: Path):
        self.image = image
        self.mount_point = mount_point

    def mount(self) -> None:
        result = subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(self.image), str(self.mount_point)],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"cannot mount an ext4 image (needs root and a loop device): {result.stderr}"

    def fail(self) -> None:
        """The kernel turns the filesystem read-only under whoever is writing, as after an I/O error.
        (`mount -o remount,ro` cannot do that: the kernel refuses it, EBUSY, while any file on the
        filesystem is open for writing, and a running service always has some.)"""
        device = subprocess.run(["findmnt", "-no", "SOURCE", str(self.mount_point)], capture_output=True,
                                text=True, check=True).stdout.strip()
        Path(f"/sys/fs/ext4/{Path(device).name}/trigger_fs_error").write_text("test: the state disk failed")

    def repair(self) -> None:
        """What an operator does after such an error: unmount, check, mount again (read-write)."""
        subprocess.run(["umount", str(self.mount_point)], check=True)
        check = subprocess.run(["e2fsck", "-f", "-y", str(self.image)], capture_output=True, text=True)
        assert check.returncode in (0, 1), f"e2fsck found damage it could not fix: {check.stdout}{check.stderr}"
        self.mount()


@contextmanager
def ext4_that_fails(mount_point: Path, size_mb: int = 32) -> Iterator[FailingDisk]:
    image = mount_point.with_suffix(".img")
    subprocess.run(["truncate", "-s", f"{size_mb}M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    mount_point.mkdir(parents=True, exist_ok=True)
    disk = FailingDisk(image, mount_point)
    disk.mount()
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)
        image.unlink(missing_ok=True)

"""File faults for the ledger: a file made unwritable (root included), a small full disk.

Owns: `unwritable(path)` — as root, which ignores permission bits, the immutable attribute
(`chattr +i`, which the kernel enforces for root too, also on memory-mapped writes), else
chmod 0444 — `small_filesystem(mountpoint)` (a tmpfs of a few MB; needs mount permission),
`fill_up(folder)` and `Skip`, raised when a fault cannot be staged here (no chattr, a file
system without the attribute, no permission to mount), saying why. Shared with the tests'
tests/file_faults.py, which turns `Skip` into a skipped test. Imports: stdlib only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

TMPFS_SIZE = "3m"


class Skip(Exception):  # noqa: N818 - a reason, not an error
    """This fault cannot be staged here; the message says why."""


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """`path` unwritable for every process of this machine's users, root included."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        raise Skip("running as root, which ignores file modes, and chattr is not installed")
    made = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise Skip(
            "running as root, which ignores file modes, and `chattr +i` failed here: "
            + made.stderr.strip()
        )
    try:
        assert not os.access(path, os.W_OK)
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


@contextlib.contextmanager
def small_filesystem(mountpoint: Path) -> Iterator[None]:
    """A `TMPFS_SIZE` tmpfs mounted at `mountpoint` (created) for the block."""
    mountpoint.mkdir(parents=True)
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        raise Skip(f"cannot mount a small tmpfs: {made.stderr.strip() or 'not permitted'}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill_up(folder: Path) -> None:
    """Write a filler file (`folder/filler`) until the file system is full."""
    block = b"\0" * 65536
    with contextlib.suppress(OSError), (folder / "filler").open("wb") as f:
        while True:
            f.write(block)
            f.flush()

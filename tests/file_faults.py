"""Test helper: make a file unwritable for the running process — even when it runs as root.

Root ignores permission bits, so as root the file gets the immutable attribute (`chattr +i`,
which the kernel enforces for root too, also on memory-mapped writes); otherwise it is made
read-only with chmod. When neither can be done (no chattr, a file system without the
attribute, no CAP_LINUX_IMMUTABLE) the test is skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
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
        pytest.skip("running as root, which ignores file modes, and chattr is not installed")
    made = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(
            "running as root, which ignores file modes, and `chattr +i` failed here: "
            + made.stderr.strip()
        )
    try:
        assert not os.access(path, os.W_OK)
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)

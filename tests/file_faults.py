"""Test helper: make a file unwritable for the running process — even when it runs as root.

The chaos suite's `benchmarks.chaos.files.unwritable` (root: `chattr +i`, which the kernel
enforces for root too, also on memory-mapped writes; otherwise chmod), with the test skipped,
saying why, where it cannot be done (no chattr, a file system without the attribute, no
CAP_LINUX_IMMUTABLE).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from benchmarks.chaos import files


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    with ExitStack() as stack:
        try:
            stack.enter_context(files.unwritable(path))
        except files.Skip as exc:
            pytest.skip(str(exc))
        yield

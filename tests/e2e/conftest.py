"""End-to-end tests: a failed test shows the tail of each daemon log it left.

The daemons run in their own processes, so a timed-out wait ("an entry order on the
exchange") says nothing about why. Their logs (JSON lines, never a secret: README, "Logs")
are in the test's folder; the last lines of each are attached to the failure report.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

TAIL_LINES = 60


def log_tails(folder: Path, lines: int = TAIL_LINES) -> list[tuple[str, str]]:
    """(title, last `lines` lines) of every daemon log under `folder`."""
    out: list[tuple[str, str]] = []
    for log in sorted(folder.rglob("krakenbot.log*")):
        if not log.is_file():
            continue
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()
        out.append((f"daemon log {log.relative_to(folder)}", "\n".join(text[-lines:])))
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    folder = getattr(item, "funcargs", {}).get("tmp_path")
    if isinstance(folder, Path):
        for title, text in log_tails(folder):
            report.sections.append((title, text))

"""Signals for `krakenbot run`: SIGINT/SIGTERM (Ctrl+C/Ctrl+Break on Windows).

Owns: `Signals` — routes a signal to the daemon's graceful stop once it runs, or, during
start-up, cancels start-up (`run` then exits 130). Installed first thing, so a stop sent
while the daemon is still starting (what `krakenbot stop` does on POSIX when the stop
request is not served yet) is never lost. Imports: stdlib, app.supervisor.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from typing import Any

from krakenbot.app.supervisor import Daemon


class Signals:
    """Routes SIGINT/SIGTERM (Ctrl+C/Ctrl+Break on Windows) to the daemon, or, during start-up,
    cancels start-up (exit 130)."""

    def __init__(self) -> None:
        self.daemon: Daemon | None = None
        self.startup_cancelled: str | None = None
        self.console_logging = False
        self._task = asyncio.current_task()
        self._loop = asyncio.get_running_loop()
        self._installed: list[int] = []

    def install(self) -> None:
        names = [("SIGINT", signal.SIGINT), ("SIGTERM", signal.SIGTERM)]
        if sys.platform == "win32":  # pragma: no cover - Windows only
            names = [("SIGINT", signal.SIGINT), ("SIGBREAK", signal.SIGBREAK)]
            for name, sig in names:
                signal.signal(sig, self._threadsafe(name))
            return
        for name, sig in names:
            self._loop.add_signal_handler(sig, self.fire, name)
            self._installed.append(sig)

    def _threadsafe(self, name: str) -> Callable[[int, Any], None]:  # pragma: no cover
        def handler(signum: int, frame: Any) -> None:
            self._loop.call_soon_threadsafe(self.fire, name)

        return handler

    def fire(self, name: str) -> None:
        if self.daemon is not None:
            self.daemon.request_stop(name)
        elif self.startup_cancelled is None and self._task is not None:
            self.startup_cancelled = name
            self._task.cancel()

    def remove(self) -> None:
        for sig in self._installed:
            self._loop.remove_signal_handler(sig)

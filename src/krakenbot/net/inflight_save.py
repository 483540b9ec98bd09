"""Writing a private request's key state while the request is on the wire.

Owns: when the key's state (nonce high-water mark, rate counters) is written during a private
REST call. The state is changed in memory before the request is signed and must be in the
file before the key's lock is released -- other processes read it only under that lock, so
they always see every nonce issued before theirs. The write itself (encode, CRC, pwrite: the
biggest part of the lock's cost) is done while the request travels and Kraken works on it,
two loop turns after it is scheduled (after aiohttp's write of the request, which is itself a
task on Python < 3.12), and at the latest by `flush` just before the lock is released.
A failed write is logged, never raised after the request went out (its answer is real); the
next request then writes synchronously before it is sent, so a disk that refuses writes stops
requests as before. Must not import: anything above `net`.

What this gives up: a process killed between sending and writing leaves a high-water mark
one request behind. Nonces are the wall clock in ns, so a restarted process still issues
larger ones unless the clock also stepped back in that window; then Kraken refuses the
request (EAPI:Invalid nonce: provably not executed) and the client's one retry follows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)


class InFlightSave:
    """`before_send()` where the request used to save; `flush()` before the lock's release."""

    __slots__ = ("_failed", "_pending", "_save")

    def __init__(self, save: Callable[[], None]) -> None:
        self._save = save
        self._pending = False
        self._failed = False

    def before_send(self) -> None:
        if self._failed:
            self._save()  # raises: the request is not sent
            self._failed = False
            return
        self._pending = True
        loop = asyncio.get_running_loop()
        loop.call_soon(loop.call_soon, self._in_flight)

    def _in_flight(self) -> None:
        if self._pending:  # else the request already ended and `flush` wrote the state
            try:
                self._save()
            except OSError:
                return  # `flush` tries again, and reports
            self._pending = False

    def flush(self) -> None:
        """Write the state now if it is not written yet (the lock is still held)."""
        if not self._pending:
            return
        self._pending = False
        try:
            self._save()
        except OSError:
            self._failed = True
            logger.error("could not write the API key's state file", exc_info=True)

"""The dashboard's publisher: one task that builds snapshots while a page listens.

Owns: `DashboardHub` — the pages listening (at most `MAX_LISTENERS`, each a `Listener`: its
mailbox and a wake-up), and the task (`serve_until`, in the daemon's TaskGroup) that, while
at least one page listens, builds a snapshot at most every `interval_s` from the daemon's
status report (the same call `/health` answers with) and the ledger follower, and puts it
into every mailbox without waiting for any page (app/dashboard_stream.py). With no page
listening it reads nothing. The ledger is read at most every `ledger_every_s`.
Imports: anything (composition root).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from krakenbot.app.dashboard_ledger import LedgerFollower
from krakenbot.app.dashboard_snapshot import build_snapshot, equity_doc
from krakenbot.app.dashboard_stream import Mailbox, Pacer
from krakenbot.app.status_model import StatusReport
from krakenbot.clock import Clock

logger = logging.getLogger(__name__)

MAX_LISTENERS = 8
NS = 1_000_000_000


@dataclass(eq=False)
class Listener:
    box: Mailbox = field(default_factory=Mailbox)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, topic: str, payload: str) -> None:
        self.box.put(topic, payload)
        self.wake.set()


class DashboardHub:
    def __init__(
        self,
        *,
        report: Callable[[], StatusReport],
        follower: LedgerFollower,
        clock: Clock,
        interval_s: float = 0.5,
        ledger_every_s: float = 0.5,
    ) -> None:
        self._report = report
        self._follower = follower
        self._clock = clock
        self._pacer = Pacer(interval_s)
        self._ledger_pacer = Pacer(ledger_every_s)
        self._listeners: set[Listener] = set()
        self._someone = asyncio.Event()
        self._seq = 0
        self._equity = json.dumps(equity_doc(follower.curve))

    def listen(self) -> Listener | None:
        """A new page's listener (None: too many pages listen already). It gets the last
        equity curve at once, and the next snapshot."""
        if len(self._listeners) >= MAX_LISTENERS:
            return None
        listener = Listener()
        listener.put("equity", self._equity)
        self._listeners.add(listener)
        self._someone.set()
        self._pacer.reset()  # the new page need not wait for its first snapshot
        return listener

    def leave(self, listener: Listener) -> None:
        listener.box.closed = True
        self._listeners.discard(listener)
        if not self._listeners:
            self._someone.clear()

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    async def serve_until(self, done: asyncio.Event) -> None:
        """The daemon's TaskGroup task: publish while pages listen, until the daemon is done."""
        try:
            while not done.is_set():
                if not self._listeners:
                    await _first(self._someone.wait(), done.wait())
                    continue
                now = self._clock.monotonic_ns()
                wait = self._pacer.wait_s(now)
                if wait > 0:
                    await _first(asyncio.sleep(wait), done.wait())
                    continue
                self._pacer.published(now)
                try:
                    await self.publish()
                except Exception:  # the dashboard must never take the daemon down with it
                    logger.exception("dashboard: publishing failed")
        finally:
            await self._follower.close()

    async def publish(self) -> None:
        """Build one snapshot (reading the ledger when due) and hand it to every page."""
        now = self._clock.monotonic_ns()
        if self._ledger_pacer.due(now):
            self._ledger_pacer.published(now)
            if await self._follower.read():
                self._equity = json.dumps(equity_doc(self._follower.curve))
                self._broadcast("equity", self._equity)
        self._seq += 1
        try:
            report = self._report()
            doc = build_snapshot(
                report, self._follower.view, seq=self._seq, now_ns=self._clock.now_ns()
            )
            payload = json.dumps(doc, sort_keys=True)
        except Exception:  # a bug here must not take the daemon down: the page shows stale
            logger.exception("dashboard: building a snapshot failed")
            return
        self._broadcast("snapshot", payload)

    def _broadcast(self, topic: str, payload: str) -> None:
        for listener in self._listeners:
            listener.put(topic, payload)


async def _first(*waits: Coroutine[Any, Any, object]) -> None:
    """Wait until the first of `waits` finishes; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


__all__ = ["MAX_LISTENERS", "DashboardHub", "Listener"]

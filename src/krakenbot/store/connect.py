"""Opening an aiosqlite connection that, when it fails, is finished before the caller goes on.

Owns: `connect(database, **kwargs)`.
Why: when SQLite cannot open the file (a folder where the ledger should be, a place nobody may
write), aiosqlite raises at once but leaves its worker thread to close down on its own, and
that thread then answers a future on the caller's event loop. A command that reports the
error and ends (`asyncio.run` closes the loop) raced that thread, which then printed
"RuntimeError: Event loop is closed" with a traceback under the command's clear message.
Here the failure is raised only once the thread has ended (it has nothing left to do but
that one answer; bounded by `_SETTLE_S`).
Imports: aiosqlite, stdlib.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiosqlite

_SETTLE_S = 2.0


async def connect(database: str, **kwargs: Any) -> aiosqlite.Connection:
    pending = aiosqlite.connect(database, **kwargs)
    try:
        return await pending
    except BaseException:
        await _thread_ended(pending)
        raise


async def _thread_ended(conn: aiosqlite.Connection) -> None:
    thread = getattr(conn, "_thread", None)  # aiosqlite's worker (pinned by a test)
    if thread is None:
        return
    await asyncio.to_thread(thread.join, _SETTLE_S)

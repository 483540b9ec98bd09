"""A ledger backup appears at its path whole, or not at all.

Owns: `copy_into(conn, target)` — SQLite's backup API into a hidden partial file beside
`target`, published under `target`'s name only once the copy is complete and closed.
Why: the backup API writes the copy page by page into the file it opens. A copy cut short
(a full disk, a failing device, a cancelled command) left an empty or half-written file at
the path the user named: it looks like a backup, and the next attempt refused to overwrite it.
Publishing takes a hard link, which fails if the name was taken meanwhile (never
overwriting a file is the backup's rule); a filesystem without hard links gets a rename
after a last check.
Imports: aiosqlite, stdlib.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import aiosqlite

from krakenbot.store.connect import connect


async def copy_into(conn: aiosqlite.Connection, target: Path) -> None:
    """Copy the database behind `conn` to `target` (which must not exist)."""
    partial = target.with_name(f".{target.name}.partial-{secrets.token_hex(4)}")
    # Made here first: a place that cannot be written fails now, before aiosqlite starts
    # its thread (a failed connect leaves that thread finishing after the command's loop
    # has closed, and it printed a traceback).
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        copy = await connect(str(partial))
        try:
            await conn.backup(copy)
        finally:
            await copy.close()
        _publish(partial, target)
    finally:
        for leftover in (partial, *_sidecars(partial)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _publish(partial: Path, target: Path) -> None:
    try:
        os.link(partial, target)
    except FileExistsError:
        raise FileExistsError(f"{target} already exists; not overwriting it") from None
    except OSError:  # no hard links here (e.g. FAT, some network shares)
        if target.exists():
            raise FileExistsError(f"{target} already exists; not overwriting it") from None
        os.replace(partial, target)


def _sidecars(partial: Path) -> tuple[Path, ...]:
    """The copy's own journal files, if SQLite left any (it removes them on a clean close)."""
    return tuple(partial.with_name(partial.name + end) for end in ("-wal", "-shm", "-journal"))

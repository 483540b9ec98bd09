"""The order journal: where an order is recorded before it is sent when the ledger cannot be.

Owns: `journal_paths` (where the journal of a ledger lives), `FileOrderJournal` (the
`ports.OrderJournal` the engine writes: append one record and fsync it, in a worker thread
so the event loop never blocks, bounded by a timeout) and `import_order_journal` (start-up:
every journaled order the ledger lacks is inserted as `pending_new` under its client order
id, before the ledger is loaded and reconciled, then the files are removed). The bytes are
store/orderjournal_codec.py's. Imports: stdlib, domain, ports, store. Never engine/net/app.

Why it exists: an order is always durably recorded with its client order id before it is
sent. When the ledger cannot be written (locked by another program, disk full, unwritable
`-wal`/`-shm`) the daemon makes its safe stop, and a position whose strategy exit rests in
place of its protective stop would be left with no order at Kraken once the exit is
cancelled. The shutdown then records the stop here (engine/shutdown_cover.py) and sends it;
the next start-up imports it, so reconciliation finds it as an order of ours (never a
foreign one, never lost) and settles it exactly once. A record whose append failed was never
sent; a crash between import and removal imports nothing twice (a known cl_ord_id is
skipped).

Two files are tried in turn: next to the database (`trading.db.order-journal`), then in the
per-user state directory (`order-journals/<hash of the database path>.order-journal`), which
may be on another file system when DATA_DIR's is full or read-only. Import reads both.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from krakenbot.domain.commands import PlaceOrder
from krakenbot.ports import Repository
from krakenbot.store.orderjournal_codec import JournaledOrder, decode, encode_order, encode_probe

logger = logging.getLogger(__name__)
SUFFIX = ".order-journal"
IMPORT_EVENT = "order_journal_import"


def journal_paths(database_path: Path, state_dir: Path) -> tuple[Path, Path]:
    """The journal files of the ledger at `database_path`, in the order they are tried."""
    primary = database_path.with_name(database_path.name + SUFFIX)
    digest = hashlib.sha256(str(database_path.resolve()).encode("utf-8")).hexdigest()[:16]
    return primary, state_dir / "order-journals" / f"{digest}{SUFFIX}"


class FileOrderJournal:
    """Append-only and fsynced; each call returns once the record is durable, or raises."""

    def __init__(self, paths: Sequence[Path], *, timeout_s: float = 5.0) -> None:
        self.paths = tuple(paths)
        self.timeout_s = timeout_s

    async def probe(self) -> None:
        await self._append(encode_probe())

    async def record(
        self, order: PlaceOrder, *, tag: str, reduces_position: bool, created_ns: int
    ) -> None:
        entry = JournaledOrder(order, tag, reduces_position, created_ns)
        path = await self._append(encode_order(entry))
        logger.warning(
            "order recorded in the order journal (the ledger cannot be written)",
            extra={"cl_ord_id": order.cl_ord_id, "path": str(path)},
        )

    async def _append(self, data: bytes) -> Path:
        # A write that outlives the timeout counts as failed (the order is not sent); if it
        # lands later anyway, the import finds an order that never reached Kraken, which
        # reconciliation proves absent.
        async with asyncio.timeout(self.timeout_s):
            return await asyncio.to_thread(_append_first, self.paths, data)


def _append_first(paths: Sequence[Path], data: bytes) -> Path:
    problems: list[str] = []
    for path in paths:
        try:
            _append_durably(path, data)
        except OSError as exc:
            problems.append(f"{path}: {exc}")
            continue
        return path
    raise OSError(f"no order journal could be written: {'; '.join(problems)}")


def _append_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created and os.name == "posix":  # the new name itself must survive a power cut
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


@dataclass(frozen=True, slots=True)
class Imported:
    inserted: tuple[str, ...] = ()  # cl_ord_ids now in the ledger (pending_new)
    known: tuple[str, ...] = ()  # already there (an import cut short before the removal)
    unreadable: tuple[str, ...] = ()  # "<file> line N: why"
    files: tuple[str, ...] = ()


async def import_order_journal(repo: Repository, paths: Sequence[Path]) -> Imported:
    """Insert every journaled order the ledger lacks, record what was done in `events`
    (kind `order_journal_import`), then remove the journal files. Raises what the ledger
    raises (the files then stay, for the next start-up)."""
    found = [(p, data) for p in paths if (data := await asyncio.to_thread(_read, p)) is not None]
    if not found:
        return Imported()
    inserted: list[str] = []
    known: list[str] = []
    unreadable: list[str] = []
    for path, data in found:
        decoded = decode(data)
        unreadable += [f"{path} {line}" for line in decoded.unreadable]
        for entry in decoded.orders:
            cl_ord_id = entry.command.cl_ord_id
            if cl_ord_id in inserted or await repo.order_by_cl_ord_id(cl_ord_id) is not None:
                known.append(cl_ord_id)
                continue
            await repo.insert_order(
                entry.command,
                tag=entry.tag,
                reduces_position=entry.reduces_position,
                created_ns=entry.created_ns,
            )
            inserted.append(cl_ord_id)
    result = Imported(
        tuple(inserted), tuple(known), tuple(unreadable), tuple(str(p) for p, _ in found)
    )
    await repo.record_event(
        IMPORT_EVENT,
        {
            "inserted": list(result.inserted),
            "known": list(result.known),
            "unreadable": list(result.unreadable),
            "files": list(result.files),
        },
    )
    for path, _ in found:
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as exc:  # imported: a later import finds every order known
            logger.warning("cannot remove the order journal", extra={"error": repr(exc)})
    if result.inserted or result.unreadable:
        logger.warning("order journal imported into the ledger", extra=_fields(result))
    return result


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _fields(result: Imported) -> dict[str, str]:
    return {
        "inserted": ",".join(result.inserted),
        "unreadable": str(len(result.unreadable)),
        "files": ",".join(result.files),
    }


__all__ = ["IMPORT_EVENT", "SUFFIX", "FileOrderJournal", "Imported", "import_order_journal"]

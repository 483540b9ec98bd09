"""The order journal's shell (store/orderjournal.py): appends are durable before they return,
fall back to the second file when the first cannot be written, fail loudly when neither can,
and a start-up import brings every journaled order into the ledger exactly once."""

from __future__ import annotations

import os
from decimal import Decimal as D
from pathlib import Path

import pytest

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderStatus, OrderType, Side
from krakenbot.store import LedgerRepository
from krakenbot.store.orderjournal import (
    IMPORT_EVENT,
    FileOrderJournal,
    import_order_journal,
    journal_paths,
)
from krakenbot.store.orderjournal_codec import decode

T = 1_767_225_600_000_000_000


def stop(cl_ord_id: str = "kb0mi9n60w05gba6ro") -> PlaceOrder:
    return PlaceOrder(
        cl_ord_id=cl_ord_id,
        symbol="XLM/USD",
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        qty=D("17.25"),
        limit_price=None,
        reduces_position=True,
        trigger_price=D("0.281030"),
    )


def test_the_journal_lives_beside_the_ledger_then_in_the_state_directory(tmp_path: Path) -> None:
    primary, fallback = journal_paths(tmp_path / "data" / "trading.db", tmp_path / "state")
    assert primary == tmp_path / "data" / "trading.db.order-journal"
    assert fallback.parent == tmp_path / "state" / "order-journals"
    other = journal_paths(tmp_path / "other" / "trading.db", tmp_path / "state")[1]
    assert other != fallback  # one journal per ledger


async def test_a_record_is_appended_and_readable_at_once(tmp_path: Path) -> None:
    journal = FileOrderJournal(journal_paths(tmp_path / "trading.db", tmp_path / "state"))
    await journal.probe()
    await journal.record(stop(), tag="protect", reduces_position=True, created_ns=T)
    await journal.record(
        stop("kbsecond0000000002"), tag="protect", reduces_position=True, created_ns=T
    )
    decoded = decode(journal.paths[0].read_bytes())
    assert [o.command.cl_ord_id for o in decoded.orders] == [
        "kb0mi9n60w05gba6ro",
        "kbsecond0000000002",
    ]
    assert decoded.probes == 1 and decoded.unreadable == ()
    assert not journal.paths[1].exists()
    if os.name == "posix":
        assert journal.paths[0].stat().st_mode & 0o777 == 0o600


async def test_an_unwritable_first_file_falls_back_to_the_second(tmp_path: Path) -> None:
    blocked = tmp_path / "data"
    blocked.write_text("a file where the data folder should be")  # nothing can go in there
    journal = FileOrderJournal(journal_paths(blocked / "trading.db", tmp_path / "state"))
    await journal.record(stop(), tag="protect", reduces_position=True, created_ns=T)
    [entry] = decode(journal.paths[1].read_bytes()).orders
    assert entry.command == stop()


async def test_nothing_writable_raises(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("")
    (tmp_path / "state").write_text("")
    journal = FileOrderJournal(journal_paths(tmp_path / "data" / "trading.db", tmp_path / "state"))
    with pytest.raises(OSError, match="no order journal could be written"):
        await journal.probe()
    with pytest.raises(OSError, match="no order journal could be written"):
        await journal.record(stop(), tag="protect", reduces_position=True, created_ns=T)


async def test_the_import_inserts_each_order_once_then_removes_the_files(
    tmp_path: Path, repo: LedgerRepository
) -> None:
    paths = journal_paths(tmp_path / "trading.db", tmp_path / "state")
    journal = FileOrderJournal(paths)
    await journal.record(stop(), tag="protect", reduces_position=True, created_ns=T)
    await FileOrderJournal(paths[1:]).record(  # an earlier stop found the first unwritable
        stop("kbsecond0000000002"), tag="protect", reduces_position=True, created_ns=T + 1
    )
    with paths[0].open("ab") as f:
        f.write(b"\ngarbage from a write cut short")
    kept = paths[0].read_bytes()
    result = await import_order_journal(repo, paths)
    assert result.inserted == ("kb0mi9n60w05gba6ro", "kbsecond0000000002")
    assert len(result.unreadable) == 1 and result.known == ()
    row = await repo.order_by_cl_ord_id("kb0mi9n60w05gba6ro")
    assert row is not None and row.status is OrderStatus.PENDING_NEW and row.tag == "protect"
    assert row.trigger_price == D("0.281030") and row.reduces_position and row.created_ns == T
    assert not paths[0].exists() and not paths[1].exists()
    [event] = await repo.events(IMPORT_EVENT)
    assert event.payload["inserted"] == ["kb0mi9n60w05gba6ro", "kbsecond0000000002"]
    # A crash between the inserts and the removal: the next import inserts nothing twice.
    paths[0].write_bytes(kept)
    again = await import_order_journal(repo, paths)
    assert again.inserted == () and again.known == ("kb0mi9n60w05gba6ro",)
    assert len(await repo.open_orders()) == 2


async def test_no_journal_no_import(tmp_path: Path, repo: LedgerRepository) -> None:
    result = await import_order_journal(repo, journal_paths(tmp_path / "t.db", tmp_path / "s"))
    assert result.files == () and await repo.events(IMPORT_EVENT) == []

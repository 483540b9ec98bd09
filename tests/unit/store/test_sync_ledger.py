"""The backtest's synchronous writer writes the rows the daemon's repository writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.unit.store.ledgerkit import fill, order

from krakenbot.clock import ManualClock
from krakenbot.domain.enums import OrderStatus, Side
from krakenbot.errors import InvariantError
from krakenbot.ports import LedgerWrites
from krakenbot.store.repository import LedgerRepository
from krakenbot.store.sync_db import (
    close_sync_ledger,
    open_sync_ledger,
    open_sync_writer,
    run_now,
    save_sync_ledger,
)
from krakenbot.store.sync_ledger import SyncLedgerWriter

T0 = 1_767_225_600_000_000_000
Step = Callable[[LedgerWrites], Coroutine[Any, Any, object]]
_METRICS = {
    "balance_usd": "100.50",
    "total_trades": "3",
    "winning_trades": "2",
    "total_profit_loss": "1.2500",
    "daily_profit_loss": "-0.5",
}

# A session of writes covering every write engine/ledger_writes.py makes; each step's
# answer is kept where the core would see it (a fill's: whether it was new).
STEPS: list[tuple[int, Step]] = [
    (0, lambda w: w.add_order(order("c1"), tag="entry", reduces_position=False, created_ns=T0)),
    (1, lambda w: w.open_learning_entry("c1", "XLM/USD", [("z", "-2.1")], T0 + 1)),
    (2, lambda w: w.update_order("c1", status=OrderStatus.OPEN, txid="OA-1", updated_ns=T0 + 2)),
    (3, lambda w: w.insert_fill(fill("t1", cl_ord_id="c1", order_id="OA-1", qty="40"))),
    (4, lambda w: w.insert_fill(fill("t1", cl_ord_id="c1", order_id="OA-1", qty="40"))),
    (5, lambda w: w.insert_fill(fill("t2", cl_ord_id=None, order_id="OA-1", qty="60"))),
    (6, lambda w: w.update_order("c1", cancel_requested=True, updated_ns=T0 + 6)),
    (7, lambda w: w.update_order("c1", qty=Decimal("90"), price=Decimal("0.1010"))),
    (8, lambda w: w.record_event("risk_denied", {"rule": "max_positions"}, T0 + 8)),
    (9, lambda w: w.record_event("note")),
    (10, lambda w: w.set_state("trading_state", "running")),
    (11, lambda w: w.set_state("trading_state", "paused")),
    (12, lambda w: w.record_metrics(_METRICS, T0 + 12)),
    (
        13,
        lambda w: w.insert_order(
            order("x1", side=Side.SELL),
            tag="adopted",
            status=OrderStatus.OPEN,
            txid="OX-9",
            reduces_position=True,
        ),
    ),
    (14, lambda w: w.update_order("x1", venue_cum_qty=Decimal("5"))),
    (15, lambda w: w.insert_fill(fill("t3", side=Side.SELL, cl_ord_id="x1", order_id="OX-9"))),
    (16, lambda w: w.close_learning_entry("c1", "win", Decimal("0.75"), T0 + 16)),
    (17, lambda w: w.insert_fill(fill("t4", cl_ord_id=None, order_id="O-FOREIGN"))),
]


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}
    finally:
        conn.close()


def _session(writer: LedgerWrites, clock: ManualClock) -> list[object]:
    answers: list[object] = []
    for at, step in STEPS:
        clock.set_wall_ns(T0 + 1_000_000_000 * at)
        answer = run_now(step(writer))
        answers.append(answer if isinstance(answer, bool) else None)
    return answers


def test_the_writer_leaves_the_rows_the_repository_leaves(tmp_path: Path) -> None:
    # The daemon's repository over the same kind of connection (no event loop needed).
    clock = ManualClock(T0)
    db = open_sync_ledger(tmp_path / "repo.db", clock, in_memory=True)
    by_repo = _session(LedgerRepository(db, clock), clock)
    save_sync_ledger(db, tmp_path / "repo.db")
    close_sync_ledger(db)

    clock = ManualClock(T0)
    db, writer = open_sync_writer(tmp_path / "sync.db", clock, in_memory=True)
    by_writer = _session(writer, clock)
    writer.commit()
    save_sync_ledger(db, tmp_path / "sync.db")
    close_sync_ledger(db)

    assert by_writer == by_repo
    assert by_writer.count(True) == 4 and by_writer.count(False) == 1  # t1 twice: once new
    repo_rows, writer_rows = _rows(tmp_path / "repo.db"), _rows(tmp_path / "sync.db")
    assert writer_rows == repo_rows
    assert len(writer_rows["fills"]) == 4 and len(writer_rows["trades"]) >= 1


@pytest.fixture
def writer(tmp_path: Path) -> SyncLedgerWriter:
    return open_sync_writer(tmp_path / "w.db", ManualClock(T0), in_memory=True)[1]


def test_an_update_of_an_unknown_order_is_refused(writer: SyncLedgerWriter) -> None:
    with pytest.raises(InvariantError, match="does not know"):
        run_now(writer.update_order("nope", status=OrderStatus.OPEN))


def test_a_second_order_with_the_same_id_is_refused(writer: SyncLedgerWriter) -> None:
    run_now(writer.add_order(order("c1"), tag="", reduces_position=False, created_ns=T0))
    with pytest.raises(InvariantError, match="already recorded"):
        run_now(writer.add_order(order("c1"), tag="", reduces_position=False, created_ns=T0))


def test_a_txid_another_order_has_is_refused(writer: SyncLedgerWriter) -> None:
    run_now(writer.insert_order(order("a"), txid="OA-1", status=OrderStatus.OPEN))
    run_now(writer.add_order(order("b"), tag="", reduces_position=False, created_ns=T0))
    with pytest.raises(InvariantError, match="already belongs"):
        run_now(writer.update_order("b", txid="OA-1"))


def test_a_fill_the_ledger_contradicts_leaves_nothing_of_it(tmp_path: Path) -> None:
    db, writer = open_sync_writer(tmp_path / "f.db", ManualClock(T0), in_memory=True)
    run_now(writer.insert_order(order("a"), txid="OA-1", status=OrderStatus.OPEN))
    run_now(writer.insert_order(order("b"), status=OrderStatus.OPEN))
    assert run_now(writer.insert_fill(fill("t1", cl_ord_id="a", order_id="OA-1")))
    # Its order "b" has no txid yet and would take OA-1, which "a" has: the whole fill goes.
    with pytest.raises(InvariantError, match="contradicts"):
        run_now(writer.insert_fill(fill("t2", cl_ord_id="b", order_id="OA-1")))
    assert run_now(writer.insert_fill(fill("t3", cl_ord_id="a", order_id="OA-1")))
    writer.commit()
    save_sync_ledger(db, tmp_path / "f.db")
    close_sync_ledger(db)
    rows = _rows(tmp_path / "f.db")
    assert [r[1] for r in rows["fills"]] == ["t1", "t3"]
    assert len(rows["trades"]) == 1  # the round trip of t1 and t3, nothing of t2

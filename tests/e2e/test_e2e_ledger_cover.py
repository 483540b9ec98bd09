"""End to end: the ledger's safe stop still leaves the position under its protective stop.

The ledger becomes unwritable (here: another program holds its write lock) while a position's
strategy exit rests at Kraken in place of the protective stop. After LEDGER_FAILURE_GRACE_S
the daemon makes its safe stop; a new order cannot be persisted in the ledger before it is
sent, so the stop is recorded in the order journal (an fsynced file beside the database)
first, the exit cancelled, the stop sent. The restarted daemon imports the journal before
reconciling: the stop is known as ours by its client order id, settled once, never adopted.
Real `python -m krakenbot run --live` processes against the simulator in this test's loop.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_helpers import (
    assert_ledger_matches_exchange,
    cli,
    daemon_env,
    healthy,
    ledger,
    ledger_matches_exchange,
    long_with_resting_exit,
    mid,
    open_orders,
    our_stops,
    start_daemon,
)
from tests.eventually import eventually

from krakenbot.sim import Sim, SimConfig, running_sim
from krakenbot.store.orderjournal_codec import decode

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    cfg = SimConfig(pairs=("XLM/USD",), feed="random", feed_interval_s=0.1, seed=31, tier="pro")
    async with running_sim(cfg) as s:
        yield s


async def test_a_ledger_fault_stop_covers_the_position_through_the_order_journal(
    sim: Sim, tmp_path: Path
) -> None:
    daemon = await long_with_resting_exit(
        sim,
        tmp_path,
        LEDGER_FAILURE_GRACE_S="4",
        DEAD_MAN_SWITCH_TIMEOUT_S="600",  # only the safe stop may act during the test
    )
    [exit_] = open_orders(sim)
    held = sim.control.balances()["XLM"]
    database = tmp_path / "data" / "trading.db"
    blocker = sqlite3.connect(database, timeout=1)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another program locks the ledger and keeps it
        code = await daemon.wait(90)
        assert code == 1, "".join(daemon.stderr[-20:])  # the ledger safe stop
        # The position is covered at the exchange by one order: the protective stop, in
        # place of the strategy's exit (cancelled once the stop could be recorded).
        [protective] = open_orders(sim)
        assert protective["type"] == "stop-loss" and protective["side"] == "sell"
        assert protective["vol"] == held and protective["txid"] != exit_["txid"]
        assert sim.control.dead_man_trigger_ns() is None  # nothing pending would cancel it
        cl_ord_id = str(protective["cl_ord_id"])
        # Recorded before it was sent: not in the locked ledger, but in the order journal.
        assert ledger(tmp_path, "SELECT 1 FROM orders WHERE order_id = ?", (cl_ord_id,)) == []
        journal = tmp_path / "data" / "trading.db.order-journal"
        [entry] = decode(journal.read_bytes()).orders
        assert entry.command.cl_ord_id == cl_ord_id and entry.tag == "protect"
        assert entry.command.trigger_price == protective["stop"]
    finally:
        blocker.rollback()
        blocker.close()
        daemon.kill9()
    # A restart imports the journal before reconciling: the stop is ours, known by its
    # client order id — recorded once, never adopted as a foreign or unknown order. (Its
    # strategy now holds, so the stop keeps resting instead of giving way to a new exit.)
    daemon = await start_daemon(tmp_path, {**daemon.env, "E2E_HOLD": "1"})
    try:
        await eventually(lambda: healthy(tmp_path, daemon.env), 40, "healthy after the restart")
        await eventually(lambda: ledger_matches_exchange(tmp_path, sim), 15, "ledger settled")
        rows = ledger(
            tmp_path, "SELECT tag, status, txid FROM orders WHERE order_id = ?", (cl_ord_id,)
        )
        assert rows == [("protect", "open", protective["txid"])]
        [imported] = ledger(
            tmp_path, "SELECT payload FROM events WHERE kind = 'order_journal_import'"
        )
        assert json.loads(imported[0])["inserted"] == [cl_ord_id]
        assert not journal.exists()
        reconciled = ledger(tmp_path, "SELECT payload FROM events WHERE kind = 'reconcile'")
        corrections = [json.loads(r[0]) for r in reconciled]
        about = [c["kind"] for c in corrections if cl_ord_id in (c["cl_ord_id"], c["order_id"])]
        assert "adopt_order" not in about and "foreign_order" not in about
        assert [o["cl_ord_id"] for o in our_stops(sim)] == [cl_ord_id]  # no second stop
    finally:
        stop = await cli(tmp_path, daemon.env, "stop", "--timeout", "30")
        code = await daemon.wait(30)
        daemon.kill9()
    assert code == 0, stop.out
    assert [o["cl_ord_id"] for o in open_orders(sim)] == [cl_ord_id]  # still covered
    assert_ledger_matches_exchange(tmp_path, sim)


async def test_a_fill_the_failing_ledger_could_not_record_is_covered_by_the_safe_stop(
    sim: Sim, tmp_path: Path
) -> None:
    """The entry fills while the ledger is locked: the fill cannot be recorded, so the
    ledger's position stays flat. The safe stop still covers what is held at Kraken — its
    protective stop is sized from the fills the daemon saw (capped at the exchange's
    balance) — and the next start-up records that fill exactly once."""
    env = daemon_env(
        tmp_path,
        sim,
        E2E_OFFSET_PCT="0.5",
        E2E_HOLD="1",
        LEDGER_FAILURE_GRACE_S="4",
        DEAD_MAN_SWITCH_TIMEOUT_S="600",  # only the safe stop may act during the test
    )
    daemon = await start_daemon(tmp_path, env)
    try:
        await eventually(lambda: bool(open_orders(sim)), 30, "an entry resting at the exchange")
        await eventually(lambda: ledger_matches_exchange(tmp_path, sim), 10, "ledger up to date")
    except BaseException:
        daemon.kill9()
        raise
    blocker = sqlite3.connect(tmp_path / "data" / "trading.db", timeout=1)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another program locks the ledger and keeps it
        sim.control.pause_feed()
        sim.control.set_mid("XLM/USD", mid(sim) * Decimal("0.99"))  # trades through the entry
        await eventually(lambda: bool(sim.control.trades()), 10, "the entry fills")
        code = await daemon.wait(90)
        assert code == 1, "".join(daemon.stderr[-20:])  # the ledger safe stop
        held = sim.control.balances()["XLM"]
        assert held > 0
        [protective] = our_stops(sim)
        assert protective["vol"] == held and protective["side"] == "sell"
        assert sim.control.dead_man_trigger_ns() is None
        assert ledger(tmp_path, "SELECT trade_id FROM fills") == []  # it could not record it
    finally:
        blocker.rollback()
        blocker.close()
        daemon.kill9()
    cl_ord_id = str(protective["cl_ord_id"])
    daemon = await start_daemon(tmp_path, env)
    try:
        await eventually(lambda: healthy(tmp_path, env), 40, "healthy after the restart")
        await eventually(lambda: ledger_matches_exchange(tmp_path, sim), 15, "ledger settled")
        assert [o["cl_ord_id"] for o in our_stops(sim)] == [cl_ord_id]  # no second stop
    finally:
        stop = await cli(tmp_path, env, "stop", "--timeout", "30")
        code = await daemon.wait(30)
        daemon.kill9()
    assert code == 0, stop.out
    assert_ledger_matches_exchange(tmp_path, sim)  # every fill recorded, once
    fills = ledger(tmp_path, "SELECT trade_id FROM fills")
    assert len(fills) == len({f[0] for f in fills}) == len(sim.control.trades())

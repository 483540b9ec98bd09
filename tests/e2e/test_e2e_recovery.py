"""End to end: crash safety (kill -9 at several points), a failing component, start-up steps.

Each crash leaves the ledger and the exchange in some intermediate state; the next `run`
must reconcile so that every order and fill on the exchange is recorded exactly once.
A ledger whose `-shm` file is unwritable (SQLite writes that file through a memory mapping,
and the kernel would kill the writer with SIGBUS) must end in the usual safe stop — orders
cancelled, nothing lost — or, at start-up, in exit status 4. A locked ledger:
test_e2e_ledger_locked.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_helpers import (
    LEDGER_STOP_MARGIN_S,
    assert_ledger_matches_exchange,
    cli,
    daemon_env,
    exit_resting,
    healthy,
    ledger,
    ledger_matches_exchange,
    open_orders,
    restart_then_stop_cleanly,
    sim_daemon_env,
    start_daemon,
    start_with_two_resting_entries,
    two_entries_env,
)
from tests.eventually import eventually

from file_faults import unwritable
from krakenbot.sim import Sim, SimConfig, running_sim

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    cfg = SimConfig(pairs=("XLM/USD",), feed="random", feed_interval_s=0.1, seed=11, tier="pro")
    async with running_sim(cfg) as s:
        yield s


def _move(sim: Sim, factor: Decimal) -> None:
    """Move the market by `factor` at once (crossing resting orders), the feed paused."""
    sim.control.pause_feed()
    mid = Decimal(sim.state.exchange.markets["XLM/USD"].mid)
    sim.control.set_mid("XLM/USD", mid * factor)
    sim.control.resume_feed()


def _ledger_orders(home: Path) -> int:
    try:
        return len(ledger(home, "SELECT 1 FROM orders"))
    except sqlite3.Error:
        return 0


async def test_kill_9_at_several_points_then_clean_recovery(sim: Sim, tmp_path: Path) -> None:
    env = daemon_env(tmp_path, sim, E2E_OFFSET_PCT="0.5")
    # 1. Between sending an order and its acknowledgement: Kraken executes it, the answer
    #    is lost, and the daemon dies while it is still finding out.
    sim.control.faults.lose_response(method="AddOrder")
    daemon = await start_daemon(tmp_path, env)
    await eventually(lambda: bool(sim.control.orders()), 30, "the order reaches the exchange")
    daemon.kill9()
    await daemon.wait(10)
    sim.control.faults.clear()

    # 2. The entry fills while the daemon is down; the restarted daemon reconciles the fill,
    #    places its exit, the exit fills, and the daemon dies right after.
    _move(sim, Decimal("0.98"))
    await eventually(lambda: bool(sim.control.trades()), 10, "the entry fills while down")
    daemon = await start_daemon(tmp_path, env)
    await eventually(lambda: exit_resting(sim), 30, "a resting exit")
    await eventually(  # the adopted entry, its fill while down, the new exit
        lambda: ledger_matches_exchange(tmp_path, sim), 10, "the ledger matches the exchange"
    )
    _move(sim, Decimal("1.03"))
    await eventually(lambda: len(sim.control.trades()) >= 2, 10, "the exit fills")
    daemon.kill9()
    await daemon.wait(10)

    # 3. Between writing an order and sending it on: the next entry is persisted, its
    #    request hangs unexecuted, and the daemon dies.
    before = _ledger_orders(tmp_path)
    sim.control.faults.timeout(method="AddOrder", count=3)
    daemon = await start_daemon(tmp_path, env)
    await eventually(lambda: _ledger_orders(tmp_path) > before, 30, "a new order is persisted")
    daemon.kill9()
    await daemon.wait(10)
    sim.control.faults.clear()

    # Clean recovery: restart, reconcile, stop gracefully; nothing lost, nothing doubled.
    daemon = await start_daemon(tmp_path, env)
    await eventually(lambda: healthy(tmp_path, env), 40, "healthy after the last crash")
    await eventually(
        lambda: ledger_matches_exchange(tmp_path, sim), 10, "the ledger matches the exchange"
    )
    stop = await cli(tmp_path, env, "stop", "--timeout", "30")
    assert stop.code == 0, stop.out
    assert await daemon.wait(10) == 0
    assert open_orders(sim) == []
    assert_ledger_matches_exchange(tmp_path, sim)
    ids = [r[0] for r in ledger(tmp_path, "SELECT order_id FROM orders")]
    assert len(ids) == len(set(ids))
    assert {o["cl_ord_id"] for o in sim.control.orders()} <= set(ids)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"MAX_TRADE_SIZE": "lots"}, 2),
        ({"DATABASE_PATH": "{home}"}, 4),  # a directory, not a database file
        ({"KRAKEN_REST_URL": "http://127.0.0.1:9"}, 6),  # nothing listens there
    ],
)
async def test_start_up_steps_fail_with_their_exit_status(
    sim: Sim, tmp_path: Path, change: dict[str, str], expected: int
) -> None:
    env = daemon_env(tmp_path, sim, REST_TIMEOUT_S="2")
    env.update({k: v.format(home=tmp_path) for k, v in change.items()})
    daemon = await start_daemon(tmp_path, env)
    assert await daemon.wait(60) == expected, "".join(daemon.stderr)
    assert "start-up failed" in "".join(daemon.stderr)


async def test_run_sim_duration_prints_a_summary(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "TRADING_"))}
    env["DATA_DIR"] = str(tmp_path / "data")
    env["LOG_CONSOLE"] = "false"
    result = await cli(tmp_path, env, "run", "--sim", "--duration", "2", timeout_s=60)
    assert result.code == 0, result.err
    assert "krakenbot --sim summary" in result.out
    assert (tmp_path / "data" / "sim" / "trading.db").is_file()
    assert "exit status       0" in result.out


async def test_run_sim_summary_names_its_files_by_absolute_path(tmp_path: Path) -> None:
    env = sim_daemon_env()  # DATA_DIR left at its default: `data`, relative to the folder
    result = await cli(tmp_path, env, "run", "--sim", "--duration", "1", timeout_s=60)
    assert result.code == 0, result.err
    shown = dict(
        line.split(maxsplit=1) for line in result.out.splitlines() if line.startswith("  ")
    )
    assert shown["database"] == str(tmp_path / "data" / "sim" / "trading.db")
    assert shown["log"] == str(tmp_path / "data" / "sim" / "krakenbot.log")


# ---- the ledger's -shm file unwritable (SQLite would die of SIGBUS writing it) --------

_CRASH_AFTER_A_WRITE = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("INSERT INTO state VALUES ('crash_test', 'x', 't', 0)")
os.kill(os.getpid(), signal.SIGKILL)
"""


async def test_start_up_refuses_an_unwritable_shm_at_step_database(
    sim: Sim, tmp_path: Path
) -> None:
    env = daemon_env(tmp_path, sim)
    assert (await cli(tmp_path, env, "db", "migrate")).code == 0
    db = tmp_path / "data" / "trading.db"
    # A process that crashed with the ledger open leaves its -wal and -shm files behind.
    crash = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CRASH_AFTER_A_WRITE, str(db)
    )
    assert await crash.wait() == -signal.SIGKILL
    shm = db.with_name("trading.db-shm")
    assert shm.exists()
    with unwritable(shm):
        daemon = await start_daemon(tmp_path, env)
        try:
            code = await daemon.wait(60)
        finally:
            daemon.kill9()
    err = "".join(daemon.stderr)
    assert code == 4, err
    assert "start-up failed at step 'database'" in err
    assert "trading.db-shm is not writable" in err
    assert sim.control.orders() == []


async def test_an_unwritable_shm_while_trading_ends_in_the_safe_stop_losing_nothing(
    sim: Sim, tmp_path: Path
) -> None:
    grace_s = 5.0
    env = two_entries_env(tmp_path, sim, grace_s)
    shm = tmp_path / "data" / "trading.db-shm"
    loop = asyncio.get_running_loop()
    daemon = await start_with_two_resting_entries(tmp_path, sim, env)
    try:
        sent_before = {str(o["txid"]) for o in sim.control.orders()}
        with unwritable(shm):
            os.sync()  # written-back pages: SQLite's next write through the mapping faults
            broken_at = loop.time()
            code = await daemon.wait(60)
            stopped_after = loop.time() - broken_at
        if code == -signal.SIGBUS:
            # The known window (README, "Ledger failures"): the file turned unwritable between
            # the per-statement check and SQLite's write. The old code died this way every
            # time; the check must catch it when the change lands between statements, so one
            # more try from a clean restart must end in the safe stop.
            daemon.kill9()
            await daemon.wait(30)  # reaped: its pipes closed before the next daemon starts
            await restart_then_stop_cleanly(tmp_path, sim, env)
            daemon = await start_with_two_resting_entries(tmp_path, sim, env)
            sent_before = {str(o["txid"]) for o in sim.control.orders()}
            with unwritable(shm):
                os.sync()
                broken_at = loop.time()
                code = await daemon.wait(60)
                stopped_after = loop.time() - broken_at
        assert code == 1, "".join(daemon.stderr[-20:])  # the safe stop, not -7 (SIGBUS)
        # The usual grace, as for a locked ledger: not before it, nor long after.
        assert grace_s <= stopped_after <= grace_s + LEDGER_STOP_MARGIN_S
        # No new order while failing, and the safe stop cancelled both resting entries.
        assert {str(o["txid"]) for o in sim.control.orders()} == sent_before
        assert open_orders(sim) == []
    finally:
        daemon.kill9()

    # Writable again: a restart recovers the ledger and it still matches the exchange.
    await restart_then_stop_cleanly(tmp_path, sim, env)

"""End to end: `trades`, `orders` and `profit` read a running daemon's ledger while it trades.

A real `python -m krakenbot run --live` daemon trades against the simulator; meanwhile the
history commands run over and over, finding the ledger as `status` does (no `--db`, another
folder's settings do not matter). None of them may fail, the daemon's ledger writes must
never fail (`status` never shows a ledger error, no `daemon_failed`, it stops cleanly), and
what they list is what the exchange did.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_helpers import (
    cli,
    daemon_env,
    exit_resting,
    healthy,
    ledger,
    mid,
    open_orders,
    start_daemon,
)
from tests.eventually import eventually

from krakenbot.sim import Sim, SimConfig, running_sim

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")
READS = (("trades",), ("trades", "--fills"), ("orders",), ("profit", "--by", "pair"))


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    cfg = SimConfig(pairs=("XLM/USD",), feed="random", feed_interval_s=0.1, seed=11, tier="pro")
    async with running_sim(cfg) as s:
        yield s


async def _keep_reading(
    home: Path, env: dict[str, str], stop: asyncio.Event, problems: list[str]
) -> int:
    reads = 0
    while not stop.is_set():
        for args in READS:
            result = await cli(home, env, *args, "--json")
            reads += 1
            if result.code != 0:
                problems.append(f"{args}: exit {result.code}: {result.err}")
        status = (await cli(home, env, "status", "--json")).json()
        if status.get("ledger_error") or status.get("running") is not True:
            problems.append(f"daemon: {status.get('ledger_error') or 'not running'}")
    return reads


async def _round_trip(sim: Sim, fills_before: int) -> None:
    await eventually(
        lambda: any(o["side"] == "buy" for o in open_orders(sim)), 15, "a resting entry"
    )
    sim.control.set_mid("XLM/USD", mid(sim) * Decimal("0.99"))  # fills the entry
    await eventually(lambda: len(sim.control.trades()) > fills_before, 10, "the entry fills")
    await eventually(lambda: exit_resting(sim), 15, "a resting exit")
    sim.control.set_mid("XLM/USD", mid(sim) * Decimal("1.02"))  # fills the exit
    await eventually(lambda: not exit_resting(sim), 10, "the exit fills")


async def test_history_reads_a_trading_daemons_ledger(sim: Sim, tmp_path: Path) -> None:
    env = daemon_env(tmp_path, sim, E2E_COOLDOWN_S="0.1")
    reader_home = tmp_path / "elsewhere"  # the commands find the daemon from any folder
    reader_home.mkdir()
    daemon = await start_daemon(tmp_path, env)
    stop, problems = asyncio.Event(), []
    try:
        await eventually(lambda: healthy(tmp_path, env), 30, "status reports healthy")
        sim.control.pause_feed()
        readers = [
            asyncio.create_task(_keep_reading(reader_home, env, stop, problems)) for _ in range(2)
        ]
        for _ in range(3):
            await _round_trip(sim, len(sim.control.trades()))
        stop.set()
        reads = sum(await asyncio.gather(*readers))
        assert problems == [] and reads >= 8
        fills = (await cli(reader_home, env, "trades", "--fills", "--json")).json()["fills"]
        assert {f["trade_id"] for f in fills} == {str(t["trade_id"]) for t in sim.control.trades()}
        trips = (await cli(reader_home, env, "trades", "--json")).json()
        assert trips["database"] == str(tmp_path / "data" / "trading.db")
        assert trips["total"]["closed"] >= 3
        profit = (await cli(reader_home, env, "profit", "--json")).json()
        closed = [t for t in trips["trades"] if t["status"] == "CLOSED"]
        assert profit["total"]["round_trips_closed"] == len(closed)
        assert sum(Decimal(d["realized_pnl"]) for d in profit["profit"]) == Decimal(
            profit["total"]["realized_pnl"]
        )
        final = (await cli(tmp_path, env, "status", "--json")).json()
        assert final["counts"]["errors"] == 0 and final.get("ledger_error") is None
        assert (await cli(tmp_path, env, "stop", "--timeout", "30")).code == 0
        assert await daemon.wait(10) == 0
        assert ledger(tmp_path, "SELECT COUNT(*) FROM events WHERE kind='daemon_failed'") == [(0,)]
    finally:
        stop.set()
        daemon.kill9()

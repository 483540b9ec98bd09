"""A long account history costs a reconciliation nothing once it is reconciled: the daemon
asks Kraken (the simulator, over loopback) only for the window since its last complete run,
run after run, after a restart, and in the shutdown's settling run.

The account's history is made in the past: the simulator's clock runs two hours behind
while 120 orders are placed and filled, then catches up with the daemon's. The simulator
logs every private request (`SimControl.private_calls`), so the test counts the pages each
run asked for. Before this change the simulator ignored `start` (every run paged through
the whole account) and a restarted daemon looked back two days."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from enginetest_helpers import (
    XLM,
    Scripted,
    buy,
    engine_env,
    move_mid,
    resting,
    settings_for,
    sim_for_engine,
)
from tests.eventually import eventually

from krakenbot.sim import Sim

AGED = 120  # closed orders (and at least as many fills): three pages of each
HOURS_AGO = 2


class ShiftedClock:
    """The wall clock shifted by `offset_s` (the simulator's: the past is reachable)."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def now_ns(self) -> int:
        return time.time_ns() + int(self.offset_s * 1e9)

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _age_history(sim: Sim, clock: ShiftedClock) -> int:
    """AGED foreign market orders, filled HOURS_AGO (each sell undoes the buy before it:
    no XLM is left to count as a position); returns the newest one's time (s)."""
    clock.offset_s = -HOURS_AGO * 3600.0
    for i in range(AGED):
        side = "buy" if i % 2 == 0 else "sell"
        sim.control.place_order(pair="XLMUSD", type=side, ordertype="market", volume="30")
    newest = clock.now_ns() // 1_000_000_000
    clock.offset_s = 0.0
    return newest


def _history_calls(sim: Sim, since: int) -> list[tuple[str, dict[str, str]]]:
    calls = [
        (m, p)
        for m, p, _ in list(sim.state.private_calls)
        if m in ("ClosedOrders", "TradesHistory")
    ]
    return calls[since:]


def _count(sim: Sim) -> int:
    return len(_history_calls(sim, 0))


def _assert_one_page_after(calls: list[tuple[str, dict[str, str]]], newest_aged_s: int) -> None:
    assert calls, "no history asked for"
    # One page each: the window holds none of the aged history ...
    assert [p for _, p in calls if "ofs" in p] == []
    assert all(int(p["start"]) > newest_aged_s for _, p in calls), calls
    # ... and ClosedOrders lists what closed inside it (an order opened before, too).
    assert {p.get("closetime") for m, p in calls if m == "ClosedOrders"} == {"close"}


async def test_reconciliation_reads_only_the_new_window_run_after_run_and_after_a_restart(
    tmp_path: Path,
) -> None:
    clock = ShiftedClock()
    settings = settings_for(tmp_path, kraken_api_tier="pro")
    async with sim_for_engine(clock=clock, tier="pro") as sim:
        newest_aged = _age_history(sim, clock)
        assert len(sim.control.trades()) >= AGED
        async with engine_env(tmp_path, Scripted(), sim=sim, settings=settings) as env:
            # Start-up: a new ledger looks back two days, paging through the aged history.
            first = _history_calls(sim, 0)
            assert sum(m == "ClosedOrders" for m, _ in first) == 3
            mark = _count(sim)
            for _ in range(2):
                assert await env.engine.reconcile("test") >= 0
            later = _history_calls(sim, mark)
            assert len(later) >= 4
            _assert_one_page_after(later, newest_aged)
            # The shutdown's settling run (something was sent since start-up) too.
            await move_mid(env, "0.290300")  # a fresh book: the feed is paused
            await env.engine.submit([buy("30", "0.289000")])
            await resting(env, "entry")
            mark = _count(sim)
            report = await env.stack.shutdown(10.0)
            assert report.clean and not report.still_open
            _assert_one_page_after(_history_calls(sim, mark), newest_aged)
        mark = _count(sim)
        async with engine_env(tmp_path, Scripted(), sim=sim, settings=settings) as env:
            # A restart goes on from the mark in the ledger: no second read of the history.
            await eventually(lambda: _count(sim) >= mark + 2, what="start-up reconciliation")
            _assert_one_page_after(_history_calls(sim, mark), newest_aged)
            assert env.engine.core.portfolio.position(XLM) == 0

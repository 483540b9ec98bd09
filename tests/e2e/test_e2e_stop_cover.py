"""End to end: a graceful stop leaves every position under its protective stop at Kraken.

Kraken holds a position's coins for one sell at a time, so while the strategy's own exit (a
limit sell) rests, it stands in for the engine's protective stop. A stop (`krakenbot stop`,
SIGTERM, the end of `--duration`) cancels the exit — it is not protective — and must then put
the protective stop back, persisted before it is sent, with no dead man's switch left armed
to cancel it: the daemon is gone, the position is not. When the stop cannot be placed, the
daemon says so with a non-zero exit status instead of reporting a clean stop.
Real `python -m krakenbot run --live` processes against the simulator in this test's loop.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import (
    assert_ledger_matches_exchange,
    cli,
    ledger,
    long_with_resting_exit,
    open_orders,
    our_stops,
)

from krakenbot.sim import Sim, SimConfig, running_sim

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")
XLM = "XLM/USD"


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    cfg = SimConfig(pairs=(XLM,), feed="random", feed_interval_s=0.1, seed=29, tier="pro")
    async with running_sim(cfg) as s:
        yield s


async def test_stop_puts_the_protective_stop_back_in_place_of_the_exit(
    sim: Sim, tmp_path: Path
) -> None:
    daemon = await long_with_resting_exit(sim, tmp_path)
    try:
        held = sim.control.balances()["XLM"]
        assert held > 0
        stop = await cli(tmp_path, daemon.env, "stop", "--timeout", "30")
        assert await daemon.wait(30) == 0, stop.out + "".join(daemon.stderr[-20:])
    finally:
        daemon.kill9()
    # The daemon is gone; the position is covered by exactly one order: our protective stop.
    [protective] = open_orders(sim)
    assert protective["type"] == "stop-loss" and protective["side"] == "sell"
    assert protective["vol"] == held and protective["cl_ord_id"]
    # Persisted under its client order id (before it was sent) and settled with its txid.
    rows = ledger(
        tmp_path,
        "SELECT tag, ordertype, status, txid FROM orders WHERE order_id = ?",
        (protective["cl_ord_id"],),
    )
    assert rows == [("protect", "stop-loss", "open", protective["txid"])]
    assert_ledger_matches_exchange(tmp_path, sim)
    # No dead man's switch pending that would cancel it.
    assert sim.control.dead_man_trigger_ns() is None
    # `stop` counts it as the cover it is, not as an order left behind.
    assert stop.code == 0 and "1 protective stop(s) of krakenbot stay at Kraken" in stop.out
    # The shutdown says so.
    report = _stopped(tmp_path)
    assert report["exit_status"] == 0
    assert report["shutdown"]["placed"] == [protective["cl_ord_id"]]
    assert report["shutdown"]["kept"] == [protective["cl_ord_id"]]
    assert report["shutdown"]["uncovered"] == []


async def test_a_stop_that_cannot_be_placed_makes_the_stop_fail(sim: Sim, tmp_path: Path) -> None:
    daemon = await long_with_resting_exit(sim, tmp_path)
    try:
        # Kraken refuses every AddOrder from now on: the exit is cancelled, the stop is not.
        sim.control.faults.kraken_error("EOrder:Insufficient funds", count=50, method="AddOrder")
        await cli(tmp_path, daemon.env, "stop", "--timeout", "40")
        code = await daemon.wait(40)
    finally:
        daemon.kill9()
    assert code == 1, "".join(daemon.stderr[-20:])  # not a clean stop: the position is naked
    assert our_stops(sim) == []
    report = _stopped(tmp_path)
    assert report["exit_status"] == 1 and report["shutdown"]["uncovered"] == [XLM]


def _stopped(home: Path) -> dict[str, Any]:
    """The payload of the daemon's `daemon_stopped` event."""
    [row] = ledger(home, "SELECT payload FROM events WHERE kind = 'daemon_stopped'")
    payload = json.loads(row[0])
    assert isinstance(payload, dict)
    return payload

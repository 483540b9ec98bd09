"""End to end: no exit path of the daemon leaves the dead man's switch armed over a resting
protective stop (Kraken's CancelAllOrdersAfter would cancel the stop at its deadline and
leave the position bare while krakenbot is not running).

The switch's state at Kraken is unknown to a daemon that starts: an earlier process killed
while an entry rested left it armed. Here the earlier daemon is killed (-9) with its entry
resting and the switch armed, the entry then fills at the exchange, and the next daemon
starts with a position to protect — and Kraken refuses its disarms while it runs. However
it then stops, the switch must be off when it is gone.
Real `python -m krakenbot run --live` processes against the simulator in this test's loop.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_helpers import daemon_env, healthy, mid, open_orders, our_stops, start_daemon
from tests.eventually import eventually

from krakenbot.app.exitcodes import RunExit
from krakenbot.sim import Sim, SimConfig, running_sim

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")
XLM = "XLM/USD"


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    cfg = SimConfig(pairs=(XLM,), feed="random", feed_interval_s=0.1, seed=41, tier="pro")
    async with running_sim(cfg) as s:
        yield s


def _entries(sim: Sim) -> list[dict[str, object]]:
    return [o for o in open_orders(sim) if o["cl_ord_id"] and o["side"] == "buy"]


async def _position_under_an_armed_switch(sim: Sim, home: Path) -> dict[str, str]:
    """A daemon arms the switch for its entry and is killed; the entry then fills. Returns
    the environment for the next daemon (its strategy holds the position)."""
    env = daemon_env(home, sim, E2E_OFFSET_PCT="0.5", E2E_HOLD="1", DEAD_MAN_SWITCH_TIMEOUT_S="600")
    first = await start_daemon(home, env)
    try:
        await eventually(lambda: bool(_entries(sim)), 30, "an entry resting at the exchange")
        await eventually(
            lambda: sim.control.dead_man_trigger_ns() is not None, 10, "the switch is armed"
        )
    finally:
        first.kill9()
        await first.wait(10)
    sim.control.pause_feed()
    sim.control.set_mid(XLM, mid(sim) * Decimal("0.99"))  # trades through the entry
    await eventually(lambda: bool(sim.control.trades()), 10, "the entry fills")
    assert sim.control.dead_man_trigger_ns() is not None  # the dead daemon's switch
    return env


def _refuse_disarms(sim: Sim) -> None:
    """Kraken refuses the new daemon's disarms while it runs — the first over REST (the
    private WebSocket is not up yet when the switch first looks), the next ones over the
    WebSocket — so the switch the dead daemon armed stays armed meanwhile. A later REST
    disarm (the stopping daemon's) is answered."""
    sim.control.faults.kraken_error(
        "EGeneral:Invalid arguments", count=1, method="CancelAllOrdersAfter"
    )
    sim.control.faults.kraken_error(
        "EGeneral:Invalid arguments", count=10_000, method="cancel_all_orders_after"
    )


async def test_a_stop_leaves_no_switch_armed_over_the_protective_stop_it_keeps(
    sim: Sim, tmp_path: Path
) -> None:
    env = await _position_under_an_armed_switch(sim, tmp_path)
    _refuse_disarms(sim)
    daemon = await start_daemon(tmp_path, env)
    try:
        await eventually(lambda: bool(our_stops(sim)), 20, "the position's protective stop")
        [stop] = our_stops(sim)
        assert sim.control.dead_man_trigger_ns() is not None  # still armed, by the old one
        os.kill(daemon.pid, signal.SIGTERM)
        code = await daemon.wait(40)
    finally:
        daemon.kill9()
    assert [o["txid"] for o in our_stops(sim)] == [stop["txid"]]  # the stop is kept
    # ... and nothing would cancel it once the daemon is gone.
    assert sim.control.dead_man_trigger_ns() is None, "".join(daemon.stderr[-20:])
    assert code == 0


async def test_a_ledger_safe_stop_leaves_no_switch_armed_over_the_protective_stop(
    sim: Sim, tmp_path: Path
) -> None:
    env = await _position_under_an_armed_switch(sim, tmp_path)
    _refuse_disarms(sim)
    daemon = await start_daemon(tmp_path, {**env, "LEDGER_FAILURE_GRACE_S": "3"})
    blocker = sqlite3.connect(tmp_path / "data" / "trading.db", timeout=1)
    try:
        await eventually(lambda: bool(our_stops(sim)), 20, "the position's protective stop")
        await eventually(lambda: healthy(tmp_path, env), 20, "the daemon is running")
        [stop] = our_stops(sim)
        assert sim.control.dead_man_trigger_ns() is not None  # still armed, by the old one
        blocker.execute("BEGIN EXCLUSIVE")  # another program locks the ledger: safe stop
        code = await daemon.wait(60)
    finally:
        blocker.rollback()
        blocker.close()
        daemon.kill9()
    assert code == 1  # the ledger's safe stop
    assert [o["txid"] for o in our_stops(sim)] == [stop["txid"]]  # the stop is kept
    assert sim.control.dead_man_trigger_ns() is None, "".join(daemon.stderr[-20:])


async def test_a_start_up_that_fails_at_the_health_step_leaves_no_switch_over_its_stop(
    sim: Sim, tmp_path: Path
) -> None:
    """The start-up fails after the trading stack opened (its health server's port is
    taken): the stack's shutdown covers the bare position with a protective stop, and the
    switch the dead daemon armed must not stay armed over it."""
    env = await _position_under_an_armed_switch(sim, tmp_path)
    assert our_stops(sim) == []  # the dead daemon never covered the fill
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        daemon = await start_daemon(tmp_path, {**env, "HEALTH_PORT": str(port)})
        try:
            code = await daemon.wait(60)
        finally:
            daemon.kill9()
    assert code == RunExit.HEALTH_SERVER, "".join(daemon.stderr[-20:])
    [stop] = our_stops(sim)  # the stack's shutdown covered the position
    assert stop["vol"] == sim.control.balances()["XLM"]
    assert sim.control.dead_man_trigger_ns() is None, "".join(daemon.stderr[-20:])

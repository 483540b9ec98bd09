"""End to end: positions stay protected at the exchange when the daemon dies or freezes.

Real `python -m krakenbot run --live` processes against the simulator (in this test's own
event loop, so the test moves its market and reads its orders). The three cases of issue 13:
(a) kill -9 with a position open: the protective stop rests at the simulator and fires when
    the price crosses it; the restarted daemon records the resulting fill exactly once;
(b) SIGSTOP with an entry resting: once the dead man's switch's deadline has passed, no
    entry rests at the simulator (the switch fires; the entry's GTD expiry would too):
    test_e2e_daemon.py::test_dead_mans_switch_cancels_when_the_daemon_freezes;
(b2) SIGSTOP with an entry resting beside a position: the switch is off (it would cancel the
    stop), yet after the deadline no entry rests (GTD) and the stop still does;
(c) SIGSTOP with only a position and its protective stop: after the same deadline the stop
    still rests (the switch was disarmed for it);
(d) a daemon started over the stop its predecessor kept can still exit in its place.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_helpers import (
    Daemon,
    assert_ledger_matches_exchange,
    daemon_env,
    exit_resting,
    healthy,
    ledger,
    ledger_matches_exchange,
    open_orders,
    start_daemon,
)
from tests.eventually import eventually

from krakenbot.sim import Sim, SimConfig, running_sim

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")
XLM = "XLM/USD"


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    cfg = SimConfig(pairs=(XLM,), feed="random", feed_interval_s=0.1, seed=23, tier="pro")
    async with running_sim(cfg) as s:
        yield s


def _mid(sim: Sim) -> Decimal:
    return Decimal(sim.state.exchange.markets[XLM].mid)


def _ours(sim: Sim, kind: str) -> list[dict[str, object]]:
    return [o for o in open_orders(sim) if o["cl_ord_id"] and o["type"] == kind]


def _stops(sim: Sim) -> list[dict[str, object]]:
    return _ours(sim, "stop-loss")


def _entries(sim: Sim) -> list[dict[str, object]]:
    return [o for o in _ours(sim, "limit") if o["side"] == "buy"]


async def _long_with_stop(sim: Sim, home: Path, **env: str) -> tuple[Daemon, dict[str, object]]:
    """A daemon whose strategy holds: its entry fills, the engine covers the position with a
    protective stop at the simulator. Returns the daemon and the stop as the sim lists it."""
    daemon = await start_daemon(
        home, daemon_env(home, sim, E2E_OFFSET_PCT="0.5", E2E_HOLD="1", **env)
    )
    await eventually(lambda: bool(_entries(sim)), 30, "an entry resting at the exchange")
    sim.control.pause_feed()
    sim.control.set_mid(XLM, _mid(sim) * Decimal("0.99"))  # trades through the entry
    sim.control.resume_feed()
    await eventually(lambda: bool(sim.control.trades()), 10, "the entry fills")
    await eventually(lambda: bool(_stops(sim)), 15, "a protective stop at the exchange")
    [stop] = _stops(sim)
    return daemon, stop


async def test_kill_9_with_a_position_the_stop_fires_at_the_exchange(
    sim: Sim, tmp_path: Path
) -> None:
    daemon, stop = await _long_with_stop(sim, tmp_path)
    [fill] = sim.control.trades()
    held = sim.control.balances()["XLM"]
    assert stop["side"] == "sell" and stop["vol"] == fill["vol"] == held
    trigger = stop["stop"]
    assert isinstance(trigger, Decimal)
    # PROTECTIVE_STOP_PCT (3 %) below the average entry (its fee included, as the ledger's
    # cost basis), rounded down to the pair's tick (0.000001).
    avg = (Decimal(str(fill["cost"])) + Decimal(str(fill["fee"]))) / held
    assert trigger == (avg * Decimal("0.97")).quantize(Decimal("0.000001"), rounding="ROUND_DOWN")
    rows = ledger(tmp_path, "SELECT ordertype, price, tag FROM orders WHERE tag = 'protect'")
    assert rows == [("stop-loss", str(trigger), "protect")]  # persisted before it was sent
    # The switch would cancel the stop: it is disarmed right after the fill (one REST call).
    await eventually(lambda: sim.control.dead_man_trigger_ns() is None, 10, "switch disarmed")

    daemon.kill9()
    await daemon.wait(10)
    assert [o["txid"] for o in _stops(sim)] == [stop["txid"]]  # still resting: nobody home
    # The market falls through the trigger; a trade prints below it and the stop fires.
    sim.control.pause_feed()
    sim.control.set_mid(XLM, trigger * Decimal("0.99"))
    sim.control.market_trade(XLM, "sell", Decimal("1"))
    await eventually(lambda: not _stops(sim), 10, "the protective stop fires")
    assert sim.control.balances()["XLM"] == 0  # the whole position was sold
    fired = [t for t in sim.control.trades() if t["ordertxid"] == stop["txid"]]
    assert fired and sum(Decimal(str(t["vol"])) for t in fired) == held

    # The restarted daemon finds the stop's fills while it was gone: each recorded once.
    sim.control.resume_feed()
    daemon = await start_daemon(tmp_path, daemon.env)
    try:
        await eventually(lambda: healthy(tmp_path, daemon.env), 30, "the daemon is running")
        await eventually(lambda: ledger_matches_exchange(tmp_path, sim), 30, "fills adopted")
        status = ledger(
            tmp_path, "SELECT status FROM orders WHERE order_id = ?", (stop["cl_ord_id"],)
        )
        assert status == [("filled",)]
        trades = ledger(tmp_path, "SELECT status FROM trades")
        assert trades == [("CLOSED",)]
        assert not _stops(sim)  # flat: no new protective stop
    finally:
        os.kill(daemon.pid, signal.SIGTERM)
        assert await daemon.wait(30) == 0
    assert_ledger_matches_exchange(tmp_path, sim)
    fills = ledger(tmp_path, "SELECT trade_id FROM fills")
    assert len(fills) == len({f[0] for f in fills}) == len(sim.control.trades())


async def test_sigstop_with_an_entry_beside_a_position_keeps_only_the_stop(
    sim: Sim, tmp_path: Path
) -> None:
    env = daemon_env(
        tmp_path,
        sim,
        E2E_OFFSET_PCT="0.5",
        E2E_MAX_WORKING="2",  # two entries: 0.5 % and 1 % below the bid
        E2E_HOLD="1",
        DEAD_MAN_SWITCH_TIMEOUT_S="8",
        DEAD_MAN_SWITCH_REFRESH_S="1",
    )
    daemon = await start_daemon(tmp_path, env)
    try:
        await eventually(lambda: len(_entries(sim)) == 2, 30, "two entries resting")
        await eventually(
            lambda: sim.control.dead_man_trigger_ns() is not None, 10, "the switch is armed"
        )
        sim.control.pause_feed()
        sim.control.set_mid(XLM, _mid(sim) * Decimal("0.993"))  # fills the nearer entry only
        await eventually(lambda: bool(_stops(sim)), 15, "a protective stop at the exchange")
        [stop] = _stops(sim)
        [rest] = _entries(sim)  # the farther entry still rests beside the position
        await eventually(
            lambda: sim.control.dead_man_trigger_ns() is None, 10, "the switch is disarmed"
        )
        os.kill(daemon.pid, signal.SIGSTOP)
        frozen = sim.state.now_ns()
        sim.control.resume_feed()
        await eventually(lambda: not _entries(sim), 15, "the entry expires on its own (GTD)")
        assert _order_status(sim, str(rest["txid"])) == "expired"
        await eventually(lambda: (sim.state.now_ns() - frozen) / 1e9 > 10, 15, "10 s frozen")
        assert [o["txid"] for o in _stops(sim)] == [stop["txid"]]  # the position still covered
    finally:
        daemon.kill9()
        await daemon.wait(10)


def _order_status(sim: Sim, txid: str) -> object:
    return next(o["status"] for o in sim.control.orders() if o["txid"] == txid)


async def test_sigstop_with_a_position_keeps_its_stop(sim: Sim, tmp_path: Path) -> None:
    daemon, stop = await _long_with_stop(
        sim, tmp_path, DEAD_MAN_SWITCH_TIMEOUT_S="3", DEAD_MAN_SWITCH_REFRESH_S="1"
    )
    try:
        await eventually(  # disarmed for the stop right after the fill (one REST call)
            lambda: sim.control.dead_man_trigger_ns() is None, 10, "the switch is disarmed"
        )
        os.kill(daemon.pid, signal.SIGSTOP)
        frozen = sim.state.now_ns()
        # Well past the switch's 3 s timeout (and the 5 s GTD floor of any entry).
        await eventually(lambda: (sim.state.now_ns() - frozen) / 1e9 > 8, 12, "8 s frozen")
        assert [o["txid"] for o in _stops(sim)] == [stop["txid"]]  # still protected
        assert not _entries(sim)
        assert sim.control.dead_man_trigger_ns() is None
    finally:
        daemon.kill9()
        await daemon.wait(10)


@pytest.mark.parametrize("transport", ["websocket", "rest"])
async def test_the_next_daemon_exits_in_place_of_a_kept_stop(
    sim: Sim, tmp_path: Path, transport: str
) -> None:
    """(d) A clean stop keeps the position's stop; the next daemon wants out. Its exit waits
    for the stop's cancel, sent at start-up before the executions stream began (over REST):
    the report confirming it went nowhere, the snapshot of open orders does not list the
    stop, and the daemon waited for that report for good — stop gone, exit never sent,
    position bare, nothing said (the chaos network check's ORDER_TRANSPORT switch).
    Reconciliation now runs when a fresh snapshot does not list a live order of ours."""
    first, kept = await _long_with_stop(sim, tmp_path)
    try:
        os.kill(first.pid, signal.SIGTERM)
        assert await first.wait(40) == 0
    finally:
        first.kill9()
        await first.wait(10)
    assert [o["txid"] for o in _stops(sim)] == [kept["txid"]]
    env = {**first.env, "E2E_HOLD": "0", "ORDER_TRANSPORT": transport}
    second = await start_daemon(tmp_path, env)
    try:
        await eventually(lambda: exit_resting(sim), 30, "the exit rests in place of the stop")
    finally:
        second.kill9()
        await second.wait(10)  # reaped in this loop (else its transport outlives it)
    assert not _stops(sim)

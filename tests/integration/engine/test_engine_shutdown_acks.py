"""The venue's answers during the shutdown reach the ledger.

The shutdown puts a position back under its protective stop when a strategy's exit stood
in for it: it cancels the exit and places the stop, over REST (the private WebSocket has
stopped by then). The services' event pumps end with the stop request, so the stop's REST
acknowledgement waited in the venue's queue: the ledger kept the stop pending with no txid
unless the shutdown's settling reconciliation found it in time. With the REST budget spent
(a daemon restarted a few times), it did not; the chaos crash check caught such a stop
resting at Kraken, unknown to the ledger by its txid.
Whole stack against the simulator over loopback sockets.
"""

from __future__ import annotations

from pathlib import Path

from enginetest_helpers import Env, Scripted, engine_env, exit_in_stops_place, settings_for

from krakenbot.config import Settings
from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.order import Order
from krakenbot.orders.protection import is_protective


async def test_the_stop_placed_by_the_shutdown_is_recorded_with_its_txid(tmp_path: Path) -> None:
    strategy = Scripted()
    async with engine_env(tmp_path, strategy, settings=_settings(tmp_path), tier="pro") as env:
        sim, engine, repo = env.sim, env.engine, env.repo
        first_stop, _ = await _exit_resting(env, strategy)

        report = await env.stack.shutdown(8.0)

        (placed,) = report.placed
        assert placed != first_stop.cl_ord_id and not report.uncovered
        at_kraken = [o for o in sim.control.orders() if o["cl_ord_id"] == placed]
        assert [o["status"] for o in at_kraken] == ["open"]
        row = await repo.order_by_cl_ord_id(placed)
        assert row is not None
        assert (row.txid, row.status) == (at_kraken[0]["txid"], OrderStatus.OPEN)
        stop = engine.core.registry.get(placed)
        assert stop is not None and is_protective(stop) and stop.order_id == row.txid


async def test_the_stop_follows_the_exits_cancel_without_a_full_reconciliation(
    tmp_path: Path,
) -> None:
    """Between the exit's cancel and the stop the position has no order at Kraken. The
    shutdown waited there for a full reconciliation (five REST points or more) to learn
    whether the exit had filled; with trade history slow, or the budget spent, that was half
    the shutdown's time. One lookup of the cancelled exit tells it."""
    strategy = Scripted()
    async with engine_env(tmp_path, strategy, settings=_settings(tmp_path), tier="pro") as env:
        engine, repo = env.engine, env.repo
        _, exit_ = await _exit_resting(env, strategy)

        started_ns = engine.clock.now_ns()
        report = await env.stack.shutdown(8.0)

        (placed,) = report.placed
        stop = await repo.order_by_cl_ord_id(placed)
        assert stop is not None and stop.status is OrderStatus.OPEN
        # Half the time left (about 4 s) before; now the lookup's round trip.
        assert (stop.created_ns - started_ns) / 1e9 < 2.0
        cancelled = await repo.order_by_cl_ord_id(exit_.cl_ord_id)
        assert cancelled is not None and cancelled.status is OrderStatus.CANCELED
        assert cancelled.filled_qty == 0


def _settings(tmp_path: Path) -> Settings:
    """The pro tier's REST budget: the shutdown's own reads (open orders, the exit's lookup)
    are what is measured here, not how long the starter tier's 15 points take to come back
    on a loaded machine (one CI run ran the 4 s shutdown out before the exit's cancel was
    even confirmed)."""
    return settings_for(tmp_path, kraken_api_tier="pro")


async def _exit_resting(env: Env, strategy: Scripted) -> tuple[Order, Order]:
    """A position of 30 XLM whose protective stop made way for an exit far above the market
    (Kraken holds the coins for one sell at a time); then no reconciliation can finish:
    trade history never answers, so each settling run is cut at its time limit. Returns
    the first stop and the exit."""
    # Once no reconciliation is under way: its TradesHistory would hang holding the REST
    # client's lock (one private call at a time), and the shutdown's cancel and reads would
    # wait behind it until its timeout (two loaded CI runs: "1 order(s) still open").
    first_stop, exit_ = await exit_in_stops_place(env, strategy)
    env.sim.control.faults.timeout(method="TradesHistory", count=1000)
    return first_stop, exit_

"""A cancel Kraken carried out whose executions report never reached the daemon.

Kraken answers a cancel of an order it no longer has open with `EOrder:Unknown order`; the
REST client counts that as cancelled (count 0). The order then stayed live in the daemon
(and an exit waiting for a protective stop's cancel with it) until the next periodic
reconciliation: the repeated cancels were answered the same way, silently. Now the venue
tells the core, which asks reconciliation to read the order's fate.
Whole stack against the simulator over loopback sockets.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from enginetest_helpers import (
    XLM,
    Scripted,
    buy,
    cancel,
    engine_env,
    fast_tuning,
    resting,
    settings_for,
)
from tests.eventually import eventually

from krakenbot.domain.enums import OrderStatus
from krakenbot.engine.config import ReconcileConfig
from krakenbot.net.kraken_venue import KrakenVenue


async def test_a_cancel_whose_report_never_arrives_is_settled_by_reconciliation(
    tmp_path: Path,
) -> None:
    strategy = Scripted()
    # No periodic reconciliation within the test: only what the daemon learns counts.
    periodic = ReconcileConfig(interval_s=600.0, min_gap_s=0.05, absent_after_s=2.0)
    tuning = fast_tuning(reconcile=periodic)
    settings = settings_for(tmp_path, kraken_api_tier="pro")  # REST budget for reconnects
    async with engine_env(tmp_path, strategy, tuning=tuning, settings=settings, tier="pro") as env:
        venue = env.stack.venue
        assert isinstance(venue, KrakenVenue) and venue.ws is not None
        ws = venue.ws
        await eventually(strategy.books, what="a verified book")
        await eventually(lambda: ws.usable, what="the private WebSocket up")
        executions = venue.session.executions  # its snapshot in: the entry is news to it
        await eventually(lambda: not executions.awaiting_snapshot, what="the stream begun")
        strategy.later(lambda v: [buy("30", "0.286000")])
        env.sim.control.set_mid(XLM, Decimal("0.290001"))
        order = await resting(env, "entry")
        # The private stream goes and stays away: no executions report reaches us now.
        env.sim.control.faults.ws_refuse("private")
        env.sim.control.faults.ws_drop("reset", channel="private")
        await eventually(lambda: not ws.usable, what="the private WebSocket down")
        strategy.later(lambda v: [cancel(order.cl_ord_id)])
        env.sim.control.set_mid(XLM, Decimal("0.290100"))

        def at_exchange() -> object:
            return next(
                o["status"] for o in env.sim.control.orders() if o["txid"] == order.order_id
            )

        await eventually(lambda: at_exchange() == "canceled", what="cancelled at Kraken")

        def here() -> OrderStatus | None:
            found = env.engine.core.registry.get(order.cl_ord_id)
            return None if found is None else found.status

        # The next cancel (cancel_retry_s = 1 s) is answered "unknown order".
        await eventually(lambda: here() is OrderStatus.CANCELED, 15, "cancelled here too")
        assert not ws.usable  # learnt without the stream
        assert await env.repo.events("cancel_rejected")  # and the operator can see why

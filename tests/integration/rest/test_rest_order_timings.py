"""AddOrder's timings for the metrics (ports.OrderTimings): the order's first request on the
wire is reported once, whatever resends follow, and the acknowledgement is timed from the
request Kraken answered — not from the first, across a deadline's wait."""

from __future__ import annotations

from pathlib import Path

import pytest
from resttest_helpers import client, orders_with, post_only_buy, real_now_clock, sim_running
from tests.metrics_check import Timings

from krakenbot.errors import RejectedError


async def test_a_resent_order_is_on_the_wire_once_and_acked_once(tmp_path: Path) -> None:
    clock = real_now_clock()  # moves only when the client sleeps (the deadline's wait)
    async with sim_running(clock) as sim, client(sim, tmp_path, clock) as c:
        timings = Timings()
        c.time_orders(timings)
        req = post_only_buy()
        sim.control.faults.http_status(503, method="AddOrder")  # ambiguous: looked up, resent
        first_ns = clock.now_ns()
        await c.add_order(req)
        assert len(orders_with(sim, req.cl_ord_id)) == 1
        assert timings.wired == [(req.cl_ord_id, first_ns)]
        assert clock.now_ns() - first_ns >= 2_000_000_000  # the deadline was waited out
        ((transport, seconds),) = timings.acks
        assert transport == "rest" and seconds < 1.0  # the answered request's, not the first's


async def test_a_refused_order_was_on_the_wire_but_is_never_acked(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock) as sim, client(sim, tmp_path, clock) as c:
        timings = Timings()
        c.time_orders(timings)
        req = post_only_buy()
        sim.control.faults.kraken_error("EOrder:Insufficient funds", method="AddOrder")
        with pytest.raises(RejectedError):
            await c.add_order(req)
        assert [cid for cid, _ in timings.wired] == [req.cl_ord_id]
        assert timings.acks == []

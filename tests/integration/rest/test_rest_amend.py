"""The REST client places stop-loss and GTD orders and amends in place, against the sim.

Facts: docs rest-api/add-order (`ordertype=stop-loss`, `price` = the trigger, `trigger`,
`timeinforce=GTD` + `expiretm=+<n>`), rest-api/amend-order, guides/spot-ratelimits (an
amend costs +1 and +3/+2/+1 by the order's age since placed or last amended; a cancel's
penalty counts from the last amend too)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from resttest_helpers import client, orders_with, real_now_clock, sim_running

from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.errors import RejectedError
from krakenbot.kraken.rest_orders import AmendRequest, OrderRequest


def stop_loss(trigger: str, volume: str = "100", cl_ord_id: str | None = None) -> OrderRequest:
    return OrderRequest(
        pair="XLMUSD",
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        volume=Decimal(volume),
        price=Decimal(trigger),
        cl_ord_id=cl_ord_id or uuid.uuid4().hex,
    )


async def test_stop_loss_and_gtd_orders_reach_the_exchange_as_asked(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock) as sim, client(sim, tmp_path, clock) as c:
        placed = await c.add_order(stop_loss("0.100000", cl_ord_id="kbstoploss0000001"))
        [order] = orders_with(sim, "kbstoploss0000001")
        assert order["txid"] == placed.txid and order["type"] == "stop-loss"
        assert order["stop"] == Decimal("0.100000") and not order["triggered"]
        gtd = OrderRequest(
            pair="XLMUSD",
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            volume=Decimal("10"),
            price=Decimal("0.100000"),
            cl_ord_id="kbgtdentry0000001",
            post_only=True,
            time_in_force=TimeInForce.GTD,
            expire_s=60,
        )
        await c.add_order(gtd)
        [entry] = orders_with(sim, "kbgtdentry0000001")
        assert entry["tif"] == "GTD"
        expire_ns = sim.state.exchange.orders[str(entry["txid"])].expire_ns
        assert expire_ns is not None and expire_ns == clock.now_ns() + 60 * 1_000_000_000
        clock.advance(61)
        sim.control.advance(0)  # the sim's timers run: the entry expires on its own
        assert orders_with(sim, "kbgtdentry0000001")[0]["status"] == "expired"


async def test_amend_in_place_and_its_trading_counter_charge(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock) as sim, client(sim, tmp_path, clock) as c:
        placed = await c.add_order(stop_loss("0.100000", cl_ord_id="kbamendclient0001"))
        assert c.trading_counter_estimate("XLMUSD") == pytest.approx(1.0)
        amend = AmendRequest(
            pair="XLMUSD",
            txid=placed.txid,
            order_qty=Decimal("150"),
            trigger_price=Decimal("0.110000"),
        )
        amend_id = await c.amend_order(amend, reducing=True)
        assert isinstance(amend_id, str) and amend_id
        [order] = orders_with(sim, "kbamendclient0001")
        assert order["txid"] == placed.txid  # the same order
        assert order["vol"] == Decimal("150") and order["stop"] == Decimal("0.110000")
        # +1 fixed +3 (amended less than 5 s after it was placed): the model and the sim agree
        assert c.trading_counter_estimate("XLMUSD") == pytest.approx(5.0)
        assert sim.control.trading_counter(sim.api_key, "XLMUSD") == Decimal(5)
        clock.advance(12)  # 12 s after the amend: +1 and +1 more
        await c.amend_order(AmendRequest(pair="XLMUSD", cl_ord_id="kbamendclient0001",
                                         order_qty=Decimal("160")))  # fmt: skip
        assert c.trading_counter_estimate("XLMUSD") == pytest.approx(2.0)
        assert sim.control.trading_counter(sim.api_key, "XLMUSD") == Decimal(2)
        clock.advance(7)  # a cancel 7 s after the last amend: +6, not the +4 of 19 s
        await c.cancel_order(txid=placed.txid)
        assert c.trading_counter_estimate("XLMUSD") == pytest.approx(6.0)
        assert sim.control.trading_counter(sim.api_key, "XLMUSD") == Decimal(6)
        with pytest.raises(RejectedError) as refused:
            await c.amend_order(AmendRequest(pair="XLMUSD", txid=placed.txid,
                                             order_qty=Decimal("170")))  # fmt: skip
        assert refused.value.kraken_error == "EOrder:Unknown order"

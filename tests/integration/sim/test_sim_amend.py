"""The simulator's AmendOrder (REST) and amend_order (WS v2), raw JSON over loopback.

Pinned to Kraken's own payloads: the REST result `{"amend_id": ...}` (docs vector), the WS ack
`result{amend_id, cl_ord_id}` (docs and a real capture), the `amended` executions report
(kraken-async-rs and roq captures). Facts: docs rest-api/amend-order, websocket-v2/amend_order,
guides/spot-amends (ids kept, queue priority kept where possible, an amend below the executed
quantity cancels the rest), guides/spot-ratelimits (+1, plus +3/+2/+1 under 5/10/15 s)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from simtest_helpers import RestClient, WsClient, is_channel, is_method

from krakenbot.sim import Sim

REAL = Path(__file__).resolve().parents[2] / "data"


def _real(name: str) -> Any:
    for folder in ("rest", "ws/real_messages"):
        path = REAL / folder / name
        if path.is_file():
            return json.loads(path.read_text(), parse_float=Decimal)
    raise FileNotFoundError(name)


def _order(sim: Sim, txid: str) -> dict[str, Any]:
    [found] = [o for o in sim.control.orders() if o["txid"] == txid]
    return found


async def _add(rest: RestClient, **params: Any) -> str:
    base = {"pair": "XLMUSD", "type": "buy", "ordertype": "limit", "volume": "40"}
    result = await rest.ok("AddOrder", **{**base, **params})
    return str(result["txid"][0])


async def test_rest_amend_keeps_the_ids_and_answers_like_kraken(
    msim: Sim, mrest: RestClient
) -> None:
    txid = await _add(mrest, price="0.050000", cl_ord_id="kbamend00000000001")
    result = await mrest.ok("AmendOrder", cl_ord_id="kbamend00000000001", order_qty="60")
    real = _real("rest_amendorder__docs.json")["result"]
    assert set(result) == set(real) and isinstance(result["amend_id"], str)
    order = _order(msim, txid)
    assert order["vol"] == Decimal("60") and order["cl_ord_id"] == "kbamend00000000001"
    opened = (await mrest.ok("OpenOrders"))["open"][txid]
    assert "amended" in opened["misc"].split(",") and Decimal(opened["vol"]) == 60
    # by txid too; the limit price moves
    await mrest.ok("AmendOrder", txid=txid, limit_price="0.049000")
    assert _order(msim, txid)["price"] == Decimal("0.049000")


async def test_rest_amend_refusals(msim: Sim, mrest: RestClient) -> None:
    txid = await _add(mrest, price="0.050000")
    cases = [
        ({"txid": "OUNKNO-WNORD-ER0000", "order_qty": "50"}, "EOrder:Unknown order"),
        ({"txid": txid}, "EGeneral:Invalid arguments:order_qty"),  # nothing to change
        ({"txid": txid, "order_qty": "5"}, "EOrder:Order minimum not met"),
        ({"txid": txid, "limit_price": "0.0500005"}, "EOrder:Tick size check failed"),
        ({"txid": txid, "trigger_price": "0.04"}, "EGeneral:Invalid arguments:trigger_price"),
        ({"txid": txid, "order_qty": "1000000"}, "EOrder:Insufficient funds"),
        ({"txid": txid, "cl_ord_id": "x", "order_qty": "50"}, "EGeneral:Invalid arguments:txid"),
    ]
    for params, error in cases:
        body = await mrest.private("AmendOrder", **params)
        assert body["error"] == [error], (params, body)
    assert _order(msim, txid)["vol"] == Decimal("40")  # unchanged by every refusal


async def test_a_stop_loss_trigger_is_amended_and_fires_at_the_new_price(
    msim: Sim, mrest: RestClient
) -> None:
    mid = Decimal(msim.state.exchange.markets["XLM/USD"].mid)
    trigger = (mid * Decimal("0.9")).quantize(Decimal("0.000001"))
    txid = await _add(
        mrest, type="sell", ordertype="stop-loss", price=str(trigger), volume="100", trigger="last"
    )
    held = msim.control.holds()["XLM"]
    assert held == Decimal("100")
    higher = (mid * Decimal("0.95")).quantize(Decimal("0.000001"))
    await mrest.ok("AmendOrder", txid=txid, trigger_price=str(higher), order_qty="150")
    order = _order(msim, txid)
    assert order["stop"] == higher and order["vol"] == Decimal("150") and not order["triggered"]
    assert msim.control.holds()["XLM"] == Decimal("150")  # the hold follows the amend
    # A trade between the old and the new trigger fires it: the new one is in force.
    msim.control.set_mid("XLM/USD", (mid + higher) / 2 - (mid - higher))
    msim.control.market_trade("XLM/USD", "sell", Decimal("1"))
    assert _order(msim, txid)["triggered"]


async def test_amend_charges_the_trading_counter_by_the_orders_age(
    msim: Sim, mrest: RestClient
) -> None:
    txid = await _add(mrest, price="0.050000")
    assert msim.control.trading_counter(msim.api_key, "XLM/USD") == Decimal(1)  # the add
    await mrest.ok("AmendOrder", txid=txid, order_qty="41")  # at once: +1 fixed, +3 (< 5 s)
    assert msim.control.trading_counter(msim.api_key, "XLM/USD") == Decimal(5)
    msim.control.advance(7)  # decays 7 (starter: 1/s) to 0; last amend 7 s ago: +1 +2
    await mrest.ok("AmendOrder", txid=txid, order_qty="42")
    assert msim.control.trading_counter(msim.api_key, "XLM/USD") == Decimal(3)
    msim.control.advance(20)  # more than 15 s since the last amend: +1 only
    await mrest.ok("AmendOrder", txid=txid, order_qty="43")
    assert msim.control.trading_counter(msim.api_key, "XLM/USD") == Decimal(1)


async def test_queue_priority_is_kept_when_the_quantity_goes_down(
    msim: Sim, mrest: RestClient
) -> None:
    first = await _add(mrest, price="0.050000", volume="40")
    second = await _add(mrest, price="0.050000", volume="40")
    seq = {t: o.seq for t, o in msim.state.exchange.orders.items()}
    await mrest.ok("AmendOrder", txid=first, order_qty="30")  # down: keeps its place
    assert msim.state.exchange.orders[first].seq == seq[first] < seq[second]
    await mrest.ok("AmendOrder", txid=first, order_qty="35")  # up: to the back
    assert msim.state.exchange.orders[first].seq > seq[second]


async def test_amend_below_the_executed_quantity_cancels_the_rest(
    msim: Sim, mrest: RestClient
) -> None:
    market = msim.state.exchange.markets["XLM/USD"]
    best_bid = market.bids.best_market()
    assert best_bid is not None
    bid = best_bid + market.spec.tick_size  # better than the market: first in line
    txid = await _add(mrest, price=str(bid), volume="100", oflags="post")
    msim.control.market_trade("XLM/USD", "sell", Decimal("30"))  # hits our bid: 30 filled
    order = _order(msim, txid)
    assert order["vol_exec"] == Decimal("30")
    await mrest.ok("AmendOrder", txid=txid, order_qty="20")
    order = _order(msim, txid)
    assert order["status"] == "canceled" and order["vol_exec"] == Decimal("30")


async def test_ws_amend_order_ack_and_the_amended_report(
    msim: Sim, mrest: RestClient, session: aiohttp.ClientSession
) -> None:
    token = (await mrest.ok("GetWebSocketsToken"))["token"]
    c = await WsClient.connect(session, msim.ws_auth_url)
    await c.send("subscribe", channel="executions", token=token)
    await c.until(is_channel("executions", "snapshot"))
    await c.send(
        "add_order",
        token=token,
        order_type="limit",
        side="buy",
        order_qty=40,
        limit_price=0.05,
        symbol="XLM/USD",
        cl_ord_id="kbwsamend000000001",
    )
    assert (await c.until(is_method("add_order")))["success"]
    await c.send(
        "amend_order", token=token, cl_ord_id="kbwsamend000000001", order_qty=45, limit_price=0.049
    )
    ack = await c.until(is_method("amend_order"))
    real = _real("ws_amend_order_ack_success__real_roq.json")
    assert ack["success"] and set(ack["result"]) == set(real["result"])
    assert ack["result"]["cl_ord_id"] == "kbwsamend000000001"
    report = await c.until(
        lambda m: is_channel("executions")(m) and m["data"][0].get("exec_type") == "amended"
    )
    row = report["data"][0]
    captured = _real("ws_executions_amended__kraken-async-rs_2024-10-13.json")["data"][0]
    assert set(captured) - {"order_userref"} <= set(row)  # we send cl_ord_id, not userref
    assert row["order_qty"] == 45 and row["limit_price"] == 0.049  # JSON numbers, as Kraken
    assert row["amended"] is True and row["reason"] == "User requested"
    await c.send("amend_order", token=token, order_id="OUNKNO-WNORD-ER0000", order_qty=45)
    refused = await c.until(is_method("amend_order"))
    assert refused == {**refused, "success": False, "error": "EOrder:Unknown order"}
    await c.close()

"""The simulator's EditOrder (REST) and edit_order (WS v2): cancel and replace, raw JSON over
loopback.

Pinned to Kraken's documented replies (tests/data/sim/real_messages/rest_editorder__docs.json,
ws_edit_order_ack__docs.json). Facts: docs rest-api/edit-order, websocket-v2/edit_order (the
original is cancelled, the new order gets a new txid, executions stay with the original; no
triggered stops, no conditional close, no volume below the executed one, no cl_ord_id) and
guides/spot-ratelimits (edit: +1 fixed, +6/+5/+4/+2/+1 under 5/10/15/45/90 s)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from simtest_helpers import RestClient, WsClient, is_channel, is_method
from test_sim_conformance import same_shape

from krakenbot.sim import Sim

REAL = Path(__file__).resolve().parents[2] / "data" / "sim" / "real_messages"


def _real(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def _order(sim: Sim, txid: str) -> dict[str, Any]:
    [found] = [o for o in sim.control.orders() if o["txid"] == txid]
    return found


async def _add(rest: RestClient, **params: Any) -> str:
    base = {"pair": "XLMUSD", "type": "buy", "ordertype": "limit", "volume": "40"}
    result = await rest.ok("AddOrder", **{**base, **params})
    return str(result["txid"][0])


def _counter(sim: Sim) -> Decimal:
    return sim.control.trading_counter(sim.api_key, "XLM/USD")


async def test_rest_edit_replaces_the_order_under_a_new_txid(msim: Sim, mrest: RestClient) -> None:
    txid = await _add(mrest, price="0.050000", userref="7")
    body = await mrest.private("EditOrder", txid=txid, pair="XLMUSD", volume="60", price="0.049000")
    same_shape(body, _real("rest_editorder__docs.json"))
    result = body["result"]
    new = result["txid"]
    assert new != txid and result["originaltxid"] == txid and result["orders_cancelled"] == 1
    assert result["volume"] == "60.00000000" and result["price"] == "0.049000"
    assert result["descr"]["order"] == "buy 60.00000000 XLMUSD @ limit 0.049000"
    assert _order(msim, txid)["status"] == "canceled"
    replaced = _order(msim, new)
    assert replaced["vol"] == Decimal(60) and replaced["price"] == Decimal("0.049000")
    assert replaced["userref"] == 7  # kept: no new userref given
    assert set((await mrest.ok("OpenOrders"))["open"]) == {new}
    assert msim.control.holds()["USD"] >= Decimal("2.94")  # 60 x 0.049 (+ fee) held again
    # by userref, with a new userref for the replacement
    again = await mrest.ok("EditOrder", txid="7", pair="XLM/USD", price="0.048000", userref="8")
    assert _order(msim, again["txid"])["userref"] == 8


async def test_rest_edit_refusals_leave_the_order_as_it_was(msim: Sim, mrest: RestClient) -> None:
    txid = await _add(mrest, price="0.050000")
    closing = await _add(
        mrest, price="0.040000", **{"close[ordertype]": "limit", "close[price]": "0.09"}
    )
    cases = [
        ({"txid": "OUNKNO-WNORD-ER0000", "pair": "XLMUSD"}, "EOrder:Unknown order"),
        ({"txid": txid, "pair": "XBTUSD", "volume": "50"}, "EOrder:Unknown order"),
        ({"txid": txid, "volume": "50"}, "EGeneral:Invalid arguments:pair"),
        ({"txid": txid, "pair": "NOPEUSD"}, "EQuery:Unknown asset pair"),
        ({"cl_ord_id": "abc", "pair": "XLMUSD"}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"txid": txid, "pair": "XLMUSD", "price2": "0.04"}, "EGeneral:Invalid arguments:price2"),
        ({"txid": txid, "pair": "XLMUSD", "volume": "5"}, "EOrder:Order minimum not met"),
        ({"txid": txid, "pair": "XLMUSD", "volume": "100000"}, "EOrder:Insufficient funds"),
        ({"txid": txid, "pair": "XLMUSD", "oflags": "bogus"}, "EGeneral:Invalid arguments:oflags"),
        ({"txid": closing, "pair": "XLMUSD", "volume": "50"}, "EOrder:Invalid order"),
    ]
    for params, error in cases:
        body = await mrest.private("EditOrder", **params)
        assert body["error"] == [error], (params, body)
    order = _order(msim, txid)
    assert order["status"] == "open" and order["vol"] == Decimal(40)
    assert _order(msim, closing)["status"] == "open"


async def test_a_triggered_stop_cannot_be_edited(msim: Sim, mrest: RestClient) -> None:
    mid = Decimal(msim.state.exchange.markets["XLM/USD"].mid)
    trigger = (mid * Decimal("0.9")).quantize(Decimal("0.000001"))
    limit = trigger  # once triggered it rests above the fallen market
    txid = await _add(
        mrest,
        type="sell",
        ordertype="stop-loss-limit",
        price=str(trigger),
        price2=str(limit),
        volume="100",
    )
    waiting = await mrest.ok(
        "EditOrder", txid=txid, pair="XLMUSD", price2=str(limit - Decimal("0.000001"))
    )
    assert _order(msim, waiting["txid"])["status"] == "open"  # not yet triggered: editable
    msim.control.set_mid("XLM/USD", trigger * Decimal("0.95"))
    msim.control.market_trade("XLM/USD", "sell", Decimal("1"))
    assert _order(msim, waiting["txid"])["triggered"]
    body = await mrest.private("EditOrder", txid=waiting["txid"], pair="XLMUSD", volume="90")
    assert body["error"] == ["EOrder:Invalid order"]


async def test_edit_of_a_partly_filled_order_keeps_the_fills_on_the_original(
    msim: Sim, mrest: RestClient
) -> None:
    market = msim.state.exchange.markets["XLM/USD"]
    best_bid = market.bids.best_market()
    assert best_bid is not None
    bid = best_bid + market.spec.tick_size  # better than the market: first in line
    txid = await _add(mrest, price=str(bid), volume="100", oflags="post")
    msim.control.market_trade("XLM/USD", "sell", Decimal("30"))  # 30 of 100 filled
    body = await mrest.private("EditOrder", txid=txid, pair="XLMUSD", volume="20")
    assert body["error"] == ["EGeneral:Invalid arguments:volume"]  # below what was executed
    result = await mrest.ok("EditOrder", txid=txid, pair="XLMUSD", volume="80")
    original, new = _order(msim, txid), _order(msim, result["txid"])
    assert original["status"] == "canceled" and original["vol_exec"] == Decimal(30)
    assert new["vol"] == Decimal(50) and new["vol_exec"] == 0  # 80 in all, 30 already done


async def test_validate_only_changes_nothing(msim: Sim, mrest: RestClient) -> None:
    txid = await _add(mrest, price="0.050000")
    before = _counter(msim)
    result = await mrest.ok("EditOrder", txid=txid, pair="XLMUSD", volume="45", validate="true")
    assert "txid" not in result and result["orders_cancelled"] == 0
    assert result["volume"] == "45.00000000"
    assert _order(msim, txid)["status"] == "open" and _counter(msim) == before
    assert len(msim.control.orders()) == 1


async def test_edit_charges_the_trading_counter_by_the_orders_age(
    msim: Sim, mrest: RestClient
) -> None:
    txid = await _add(mrest, price="0.050000")
    assert _counter(msim) == 1  # the add
    txid = (await mrest.ok("EditOrder", txid=txid, pair="XLMUSD", volume="41"))["txid"]
    assert _counter(msim) == 8  # at once: +1 fixed, +6 (< 5 s); no cancel penalty on top
    msim.control.advance(8)  # decays 8 (starter: 1/s) to 0; the new order is 8 s old: +1 +5
    txid = (await mrest.ok("EditOrder", txid=txid, pair="XLMUSD", volume="42"))["txid"]
    assert _counter(msim) == 6
    msim.control.advance(50)  # 50 s old: +1 +1 (< 90 s)
    txid = (await mrest.ok("EditOrder", txid=txid, pair="XLMUSD", volume="43"))["txid"]
    assert _counter(msim) == 2
    msim.control.advance(100)  # 100 s old: the fixed +1 only
    txid = (await mrest.ok("EditOrder", txid=txid, pair="XLMUSD", volume="44"))["txid"]
    assert _counter(msim) == 1
    # an amend resets the age the penalty counts from
    await mrest.ok("AmendOrder", txid=txid, order_qty="45")
    msim.control.advance(100)
    await mrest.ok("AmendOrder", txid=txid, order_qty="46")  # +1: 100 s since the last amend
    msim.control.advance(3)
    before = _counter(msim)
    await mrest.ok("EditOrder", txid=txid, pair="XLMUSD", volume="47")
    assert _counter(msim) == before + 7  # amended 3 s ago: +1 +6


async def test_an_edit_over_the_threshold_is_refused_and_keeps_the_fixed_count(
    msim: Sim, mrest: RestClient
) -> None:
    txid = await _add(mrest, price="0.050000")
    ex = msim.state.exchange
    now = msim.state.now_ns()
    ex.trading.charge_add("XLM/USD", now, n_orders=110)  # +55: 56 with the add (starter: 60)
    body = await mrest.private("EditOrder", txid=txid, pair="XLMUSD", volume="45")
    assert body["error"] == ["EOrder:Rate limit exceeded"]
    assert _counter(msim) == 57  # +1 on receipt; the +6 penalty not charged
    assert _order(msim, txid)["status"] == "open" and _order(msim, txid)["vol"] == 40


async def test_ws_edit_order_ack_and_the_executions_reports(
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
        order_userref=11,
    )
    original = (await c.until(is_method("add_order")))["result"]["order_id"]
    await c.send(
        "edit_order",
        req_id=1234567890,
        token=token,
        order_id=original,
        symbol="XLM/USD",
        order_qty=45,
        limit_price=0.049,
        post_only=True,
    )
    ack = await c.until(is_method("edit_order"))
    same_shape(ack, _real("ws_edit_order_ack__docs.json"))
    new = ack["result"]["order_id"]
    assert ack["success"] and ack["result"]["original_order_id"] == original != new

    def report(order_id: str, exec_type: str) -> Any:
        def match(m: dict[str, Any]) -> bool:
            return is_channel("executions")(m) and any(
                r.get("order_id") == order_id and r.get("exec_type") == exec_type for r in m["data"]
            )

        return match

    canceled = await c.until(report(original, "canceled"))
    assert canceled["data"][0]["order_status"] == "canceled"
    created = await c.until(report(new, "pending_new"))
    row = next(r for r in created["data"] if r["order_id"] == new)
    assert row["order_qty"] == 45 and row["limit_price"] == 0.049
    assert row["order_userref"] == 11 and row["post_only"] is True
    await c.send(
        "edit_order", token=token, order_id="OUNKNO-WNORD-ER0000", symbol="XLM/USD", order_qty=45
    )
    refused = await c.until(is_method("edit_order"))
    assert refused == {**refused, "success": False, "error": "EOrder:Unknown order"}
    await c.send("edit_order", token=token, order_id=new, symbol="XLMUSD", order_qty=45)
    wrong = await c.until(is_method("edit_order"))
    assert wrong["success"] is False and wrong["error"] == "Currency pair not supported XLMUSD"
    await c.close()

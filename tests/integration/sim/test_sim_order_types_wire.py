"""Kraken's other order types over the simulator's real sockets: REST AddOrder / OpenOrders /
ClosedOrders and WS v2 add_order / executions render them the way real Kraken does (key sets
and value types of the recorded payloads), and the client's own codecs — written separately
— read every one of them back into the same typed values."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
from simtest_helpers import RestClient, WsClient, is_channel, is_method
from test_sim_conformance import real, same_shape, shape

from krakenbot.domain.enums import OrderType, TriggerReference
from krakenbot.domain.events import DecodeFailed, ExecutionReport
from krakenbot.domain.order_terms import OrderPrice
from krakenbot.kraken import rest_orders
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import SequencedBatch
from krakenbot.sim import Sim

D = Decimal


def _keys(value: dict[str, Any]) -> set[str]:
    return set(value)


async def test_a_foreign_trailing_stop_looks_like_the_real_one(sim: Sim, rest: RestClient) -> None:
    txid = sim.control.place_order(
        pair="XLMUSD", type="buy", ordertype="trailing-stop", volume="40", price="+50%"
    )
    listed = (await rest.ok("OpenOrders"))["open"]
    ours = listed[txid]
    theirs = next(
        iter(
            real("rest_openorders_trailing_stop__ccxt_2024-02_stringified.json")["result"][
                "open"
            ].values()
        )
    )
    # ccxt stringified every value: compare keys here, value types against the roq capture.
    assert _keys(ours) - {"time_in_force"} == _keys(theirs)
    assert _keys(ours["descr"]) - {"aclass"} == _keys(theirs["descr"])
    assert ours["descr"]["price"] == "+50.0000%" and ours["trigger"] == "last"
    assert ours["descr"]["order"] == "buy 40.00000000 XLMUSD @ trailing stop +50.0000%"
    docs = next(iter(real("rest_openorders__docs_None_to_null.json")["result"]["open"].values()))
    same_shape(
        {k: v for k, v in ours.items() if k != "descr"},
        {k: v for k, v in docs.items() if k != "descr"},
        extra={"trigger", "time_in_force"},
        missing={"trades"},
    )
    same_shape({k: v for k, v in ours["descr"].items() if k != "aclass"}, docs["descr"])
    info = rest_orders.parse_open_orders({"open": listed})
    assert info.unreadable == ()
    (o,) = info
    assert o.order_type is OrderType.TRAILING_STOP and o.price == OrderPrice(
        D("50.0000"), "+", True
    )
    assert o.stop_price == D("0.435000") and o.limit_price == D("0.290000")  # 0.29 x 1.5


async def test_add_order_with_a_conditional_close_and_its_placement(
    sim: Sim, rest: RestClient
) -> None:
    res = await rest.private(
        "AddOrder",
        pair="XLMUSD",
        type="buy",
        ordertype="limit",
        price="0.289",
        volume="40",
        userref="12",
        **{"close[ordertype]": "stop-loss-limit", "close[price]": "0.27", "close[price2]": "0.269"},
    )
    same_shape(res, real("rest_addorder_with_close__docs_example.json"))
    assert (
        res["result"]["descr"]["close"] == "close position @ stop loss 0.270000 -> limit 0.269000"
    )
    txid = res["result"]["txid"][0]
    sim.control.set_mid("XLM/USD", D("0.285"))  # the buy fills; its close is placed
    open_ = (await rest.ok("OpenOrders"))["open"]
    (child_id,) = [t for t, o in open_.items() if o["refid"] == txid]
    child = open_[child_id]
    assert child["descr"]["ordertype"] == "stop-loss-limit" and child["descr"]["type"] == "sell"
    assert child["vol"] == "40.00000000" and child["userref"] == 12
    parsed = rest_orders.parse_open_orders({"open": open_})
    assert parsed.unreadable == () and parsed[0].refid == txid


async def test_a_triggered_stop_limit_closes_like_the_docs_example(
    sim: Sim, rest: RestClient
) -> None:
    txid = sim.control.place_order(
        pair="XLMUSD",
        type="sell",
        ordertype="stop-loss-limit",
        volume="40",
        price="0.285",
        price2="0.295",
        trigger="index",
    )
    sim.control.set_index("XLM/USD", D("0.28"))
    await rest.ok("CancelOrder", txid=txid)
    closed = (await rest.ok("ClosedOrders"))["closed"][txid]
    docs = real("rest_closedorders__docs_None_to_null.json")["result"]["closed"]
    theirs = docs["O37652-RJWRT-IMO74O"]
    same_shape(
        {k: v for k, v in closed.items() if k != "descr"},
        {k: v for k, v in theirs.items() if k != "descr"},
        extra={"time_in_force"},
    )
    same_shape({k: v for k, v in closed["descr"].items() if k != "aclass"}, theirs["descr"])
    assert closed["descr"]["price"] == "0.295000" and closed["descr"]["price2"] == "0"
    assert closed["stopprice"] == "0.285000" and closed["misc"] == "stopped"
    assert closed["trigger"] == "index"


def _reports(frames: list[Any]) -> list[ExecutionReport]:
    out: list[ExecutionReport] = []
    for frame in frames:
        for msg in decode(json.dumps(frame)):
            assert isinstance(msg, SequencedBatch), msg
            assert not any(isinstance(i, DecodeFailed) for i in msg.items), msg.items
            out += [i for i in msg.items if isinstance(i, ExecutionReport)]
    return out


async def test_ws_add_order_trigger_types_and_their_executions(
    sim: Sim, rest: RestClient, session: aiohttp.ClientSession
) -> None:
    token = (await rest.ok("GetWebSocketsToken"))["token"]
    c = await WsClient.connect(session, sim.ws_auth_url)
    await c.recv()
    await c.send("subscribe", channel="executions", token=token)
    await c.until(is_channel("executions", "snapshot"))
    await c.send(
        "add_order",
        token=token,
        order_type="stop-loss-limit",
        side="buy",
        order_qty=40,
        symbol="XLM/USD",
        triggers={"reference": "index", "price": 0.3, "price_type": "static"},
        limit_price=0.301,
        order_userref=0,
    )
    assert (await c.until(is_method("add_order")))["success"] is True
    pending = await c.until(is_channel("executions"))
    sample = real("ws_executions_pending_new_stop_loss_limit_triggers__kraken-async-rs.json")
    ours = dict(pending["data"][0])
    ours["triggers"] = {k: v for k, v in ours["triggers"].items() if k != "actual_price"}
    theirs = dict(sample["data"][0])
    # The sample's author wrote `cum_cost: 0` and `fee_usd_equiv: 0`; Kraken prints numbers
    # with a fraction (`0.0000`, real roq captures), as the sim does.
    theirs.update(cum_cost=ours["cum_cost"], fee_usd_equiv=ours["fee_usd_equiv"])
    assert shape(ours) == shape(theirs)
    await c.send(
        "add_order",
        token=token,
        order_type="trailing-stop-limit",
        side="sell",
        order_qty=40,
        symbol="XLM/USD",
        triggers={"price": 2, "price_type": "pct"},
        limit_price=-0.001,
        limit_price_type="quote",
        conditional={"order_type": "limit", "limit_price": 0.25},
    )
    err = await c.until(is_method("add_order"))
    assert err["success"] is True, err
    await c.send(
        "add_order",
        token=token,
        order_type="iceberg",
        side="sell",
        order_qty=300,
        display_qty=30,
        limit_price=0.31,
        symbol="XLM/USD",
        cl_ord_id="ice-1",
    )
    assert (await c.until(is_method("add_order")))["success"] is True
    await c.send(
        "add_order",
        token=token,
        order_type="market",
        side="buy",
        cash_order_qty=10,
        symbol="XLM/USD",
        fee_preference="base",
    )
    assert (await c.until(is_method("add_order")))["success"] is True
    sim.control.set_index("XLM/USD", D("0.31"))  # fires the index stop-loss-limit
    await c.until(lambda m: is_channel("executions")(m) and m["data"][0]["exec_type"] == "status")
    reports = _reports([m for m in c.seen if is_channel("executions")(m)])
    by_type = {r.order_type: r for r in reports if r.exec_type.value == "pending_new"}
    sll = by_type[OrderType.STOP_LOSS_LIMIT]
    assert sll.trigger is not None and sll.trigger.reference is TriggerReference.INDEX
    assert sll.limit_price == D("0.301000") and sll.trigger.price == OrderPrice(D("0.300000"))
    tsl = by_type[OrderType.TRAILING_STOP_LIMIT]
    assert tsl.trigger is not None and tsl.trigger.price == OrderPrice(D("2.0000"), "+", True)
    assert tsl.limit_price is None and tsl.limit_offset == OrderPrice(D("0.001000"), "-")
    assert tsl.contingent is not None and tsl.contingent.order_type is OrderType.LIMIT
    ice = by_type[OrderType.ICEBERG]
    assert ice.display_qty == D("30") and ice.cl_ord_id == "ice-1"
    fired = [r for r in reports if r.exec_type.value == "status"]
    assert fired and fired[-1].trigger is not None and fired[-1].trigger.status == "triggered"
    assert fired[-1].order_type is OrderType.LIMIT  # after the trigger: the limit it became
    cash = [r for r in reports if r.fill is not None and r.fill.fee_asset == "XLM"]
    assert cash, "the viqc buy with fee_preference=base pays its fee in XLM"
    await c.send(
        "add_order",
        token=token,
        order_type="trailing-stop",
        side="sell",
        order_qty=40,
        symbol="XLM/USD",
        triggers={"price": 0.01, "price_type": "static"},
    )
    refused = await c.until(is_method("add_order"))
    assert refused["success"] is False and refused["error"] == "EGeneral:Invalid arguments:triggers"
    await c.close()

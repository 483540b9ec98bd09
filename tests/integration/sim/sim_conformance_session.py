"""One scripted session against the simulator that collects a reply of every kind the real
payloads in tests/data/sim/real_messages/ show (used by test_sim_conformance_every.py).

`run_session` returns `{kind: reply}`: REST bodies as received, WS messages as received (or
lists of them, in order, for an order's life)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from simtest_helpers import RestClient, WsClient, is_channel, is_method

from krakenbot.sim import Sim

Got = dict[str, Any]


async def _seen(c: WsClient, pred: Callable[[Any], bool]) -> Any:
    """The first message matching `pred`, already received or still to come (`until`
    discards what it skips, so replies that overtake each other are looked up here)."""
    for msg in c.seen:
        if pred(msg):
            return msg
    return await c.until(pred)


async def run_session(sim: Sim, rest: RestClient, session: aiohttp.ClientSession) -> Got:
    got: Got = {}
    await _rest_public(sim, rest, got)
    await _rest_private(sim, rest, got)
    await _ws_public(sim, session, got)
    await _ws_private(sim, rest, session, got)
    return got


async def _rest_public(sim: Sim, rest: RestClient, got: Got) -> None:
    got["time"] = await rest.public("Time")
    got["systemstatus"] = await rest.public("SystemStatus")
    got["assetpairs"] = await rest.public("AssetPairs", pair="XBTUSD")
    got["assetpairs_xlm"] = await rest.public("AssetPairs", pair="XLMUSD")
    got["assets"] = await rest.public("Assets", asset="XBT")
    got["ticker"] = await rest.public("Ticker", pair="XBTUSD")
    got["ohlc"] = await rest.public("OHLC", pair="XBTUSD")
    got["depth"] = await rest.public("Depth", pair="XBTUSD", count=3)
    sim.control.tick_feed(30)
    got["trades"] = await rest.public("Trades", pair="XBTUSD")
    got["spread"] = await rest.public("Spread", pair="XBTUSD")


async def _json(rest: RestClient, method: str, params: dict[str, Any]) -> Any:
    resp = await rest.raw_private(method, params, as_json=True)
    async with resp:
        return await resp.json()


async def _rest_private(sim: Sim, rest: RestClient, got: Got) -> None:
    got["balance"] = await rest.private("Balance")
    got["balanceex"] = await rest.private("BalanceEx")
    got["tradebalance"] = await rest.private("TradeBalance")
    limit = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.0002"}
    got["addorder"] = await rest.private("AddOrder", **limit, price="50000.0", userref="9")
    txid = got["addorder"]["result"]["txid"][0]
    got["addorder_close"] = await rest.private(
        "AddOrder",
        **limit,
        price="50001.0",
        **{
            "close[ordertype]": "stop-loss-limit",
            "close[price]": "40000",
            "close[price2]": "39000",
        },
    )
    await rest.private("AddOrder", **limit, price="50002.0", cl_ord_id="aff1f7b04d000200")
    await rest.private("AddOrder", **limit, price="50003.0", oflags="post")
    sell = {"pair": "XBTUSD", "type": "sell", "volume": "0.0002"}
    await rest.private("AddOrder", **sell, ordertype="trailing-stop", price="+5%", trigger="index")
    stop = await rest.private(
        "AddOrder",
        **sell,
        ordertype="stop-loss-limit",
        price="#10%",
        price2="#11%",
        trigger="index",
    )
    got["openorders"] = await rest.private("OpenOrders", trades="true")
    await rest.private("CancelOrder", txid=stop["result"]["txid"][0])
    got["queryorders_open"] = await rest.private("QueryOrders", txid=txid, trades="true")
    got["amendorder"] = await rest.private("AmendOrder", txid=txid, order_qty="0.0003")
    got["editorder"] = await rest.private("EditOrder", txid=txid, pair="XBTUSD", volume="0.0002")
    edited = got["editorder"]["result"]["txid"]
    got["cancelorder"] = await rest.private("CancelOrder", txid=edited)
    market = {"pair": "XBTUSD", "type": "sell", "ordertype": "market", "volume": "0.001"}
    got["addorder_market"] = await rest.private("AddOrder", **market, userref="5")
    sold = got["addorder_market"]["result"]["txid"][0]
    got["closedorders"] = await rest.private("ClosedOrders", trades="true")
    got["queryorders"] = await rest.private("QueryOrders", txid=sold, trades="true")
    got["tradeshistory"] = await rest.private("TradesHistory")
    trade_id = next(iter(got["tradeshistory"]["result"]["trades"]))
    got["querytrades"] = await rest.private("QueryTrades", txid=trade_id)
    got["ledgers"] = await rest.private("Ledgers")
    ledger_id = next(iter(got["ledgers"]["result"]["ledger"]))
    got["queryledgers"] = await rest.private("QueryLedgers", id=ledger_id)
    got["tradevolume"] = await rest.private("TradeVolume", pair="XBTUSD")
    two = [
        {"type": "buy", "ordertype": "limit", "price": "50000.0", "volume": "0.0002"},
        {"type": "buy", "ordertype": "limit", "price": "50001.0", "volume": "0.0002"},
    ]
    got["addorderbatch"] = await _json(rest, "AddOrderBatch", {"pair": "XBTUSD", "orders": two})
    placed = [o["txid"] for o in got["addorderbatch"]["result"]["orders"]]
    got["cancelorderbatch"] = await _json(rest, "CancelOrderBatch", {"orders": placed})
    got["cancelallordersafter"] = await rest.private("CancelAllOrdersAfter", timeout="60")
    got["getwebsocketstoken"] = await rest.private("GetWebSocketsToken")
    got["error_funds"] = await rest.private("AddOrder", **{**market, "volume": "100"})
    got["error_ordertype"] = await rest.private("AddOrder", **{**market, "ordertype": "bogus"})
    resp = await rest.raw_private("Balance", {}, key="not-a-key")
    async with resp:
        got["error_key"] = await resp.json()
    await rest.private("CancelAll")


async def _ws_public(sim: Sim, session: aiohttp.ClientSession, got: Got) -> None:
    c = await WsClient.connect(session, sim.ws_url)
    got["ws_status"] = await c.until(is_channel("status"))
    subs = [
        ("book", {"depth": 10}),
        ("ticker", {}),
        ("ohlc", {"interval": 5}),
        ("trade", {"snapshot": True}),
    ]
    for channel, extra in subs:
        await c.send("subscribe", channel=channel, symbol=["BTC/USD"], **extra)
        got[f"ws_sub_{channel}"] = await c.until(is_method("subscribe"))
    got["ws_book_snapshot"] = await _seen(c, is_channel("book", "snapshot"))
    got["ws_ticker_snapshot"] = await _seen(c, is_channel("ticker", "snapshot"))
    got["ws_ohlc_snapshot"] = await _seen(c, is_channel("ohlc", "snapshot"))
    got["ws_trade_snapshot"] = await _seen(c, is_channel("trade", "snapshot"))
    await c.send("subscribe", channel="instrument")
    got["ws_sub_instrument"] = await c.until(is_method("subscribe"))
    got["ws_instrument"] = await c.until(is_channel("instrument", "snapshot"))
    await c.send("subscribe", channel="book", symbol=["NOPE/USD"])
    got["ws_sub_bad_pair"] = await c.until(is_method("subscribe"))
    await c.send("subscribe", channel="ticker", symbol=["ETH/USDC"], depth=10)
    got["ws_sub_bad_field"] = await c.until(is_method("subscribe"))
    await c.send("ping", req_id=694480169830934)
    got["ws_pong"] = await c.until(is_method("pong"))
    await c.ws.send_str("{")
    got["ws_malformed"] = await c.until(is_method("error"))
    sim.control.tick_feed(40)
    for channel in ("book", "ticker", "trade", "ohlc"):
        got[f"ws_{channel}_update"] = await _seen(c, is_channel(channel, "update"))
    got["ws_heartbeat"] = await _seen(c, is_channel("heartbeat"))
    await c.close()


def _exec(order_id: str, exec_type: str) -> Any:
    def pred(msg: Any) -> bool:
        return is_channel("executions")(msg) and any(
            r.get("order_id") == order_id and r.get("exec_type") == exec_type for r in msg["data"]
        )

    return pred


async def _life(c: WsClient, order_id: str, exec_types: list[str]) -> list[Any]:
    return [await _seen(c, _exec(order_id, t)) for t in exec_types]


async def _ws_private(sim: Sim, rest: RestClient, session: aiohttp.ClientSession, got: Got) -> None:
    token = got["getwebsocketstoken"]["result"]["token"]
    c = await WsClient.connect(session, sim.ws_auth_url)
    await c.recv()
    await c.send("subscribe", channel="executions", token=token, snap_trades=True)
    got["ws_sub_executions"] = await c.until(is_method("subscribe"))
    snapshot = await c.until(is_channel("executions", "snapshot"))
    got["ws_exec_trades_snapshot"] = snapshot
    await c.send("subscribe", channel="balances", token=token)
    got["ws_balances_snapshot"] = await c.until(is_channel("balances", "snapshot"))
    await _private_orders(sim, c, token, got)
    await c.send("unsubscribe", token=token, channel="executions")
    got["ws_unsub_executions"] = await c.until(is_method("unsubscribe"))
    await c.send("subscribe", channel="executions", token=token, snap_orders=False)
    got["ws_exec_snapshot"] = await c.until(is_channel("executions", "snapshot"))
    await c.close()


async def _private_orders(sim: Sim, c: WsClient, token: str, got: Got) -> None:
    limit = {"order_type": "limit", "side": "buy", "symbol": "XLM/USD", "token": token}
    await c.send("add_order", **limit, order_qty=40, limit_price=0.28, cl_ord_id="b17c7bb34d0002")
    got["ws_add_cl_ord_id"] = await c.until(is_method("add_order"))
    first = got["ws_add_cl_ord_id"]["result"]["order_id"]
    await c.send("amend_order", token=token, cl_ord_id="b17c7bb34d0002", order_qty=41)
    got["ws_amend"] = await c.until(is_method("amend_order"))
    await c.send("cancel_order", token=token, cl_ord_id=["b17c7bb34d0002"])
    got["ws_cancel_cl_ord_id"] = await c.until(is_method("cancel_order"))
    got["ws_life_cl_ord_id"] = await _life(c, first, ["pending_new", "new", "amended", "canceled"])
    await c.send("cancel_order", token=token, order_id=["OLASKX-JMREK-KGIHQT"])
    got["ws_cancel_error"] = await c.until(is_method("cancel_order"))
    await c.send("amend_order", token=token, order_id="OLASKX-JMREK-KGIHQT", order_qty=41)
    got["ws_amend_error"] = await c.until(is_method("amend_order"))
    await c.send(
        "add_order", req_id=123456789, **limit, order_qty=40, limit_price=0.2, order_userref=3
    )
    got["ws_add_userref"] = await c.until(is_method("add_order"))
    second = got["ws_add_userref"]["result"]["order_id"]
    got["ws_exec_pending_new_limit"], got["ws_exec_new_userref"] = await _life(
        c, second, ["pending_new", "new"]
    )
    await c.send("amend_order", token=token, order_id=second, order_qty=45)
    got["ws_exec_amended_userref"] = await _seen(c, _exec(second, "amended"))
    await c.send(
        "edit_order",
        req_id=1234567890,
        token=token,
        order_id=second,
        symbol="XLM/USD",
        order_qty=46,
    )
    got["ws_edit"] = await c.until(is_method("edit_order"))
    got["ws_exec_canceled_userref"] = await _seen(c, _exec(second, "canceled"))
    # a sell limit below the bids: it trades at once (the docs' lifecycle: limit, userref)
    taker = {"order_type": "limit", "side": "sell", "symbol": "XLM/USD", "token": token}
    await c.send("add_order", **taker, order_qty=50, limit_price=0.01, order_userref=4)
    sold = (await c.until(is_method("add_order")))["result"]["order_id"]
    got["ws_life_userref"] = await _life(c, sold, ["pending_new", "new", "trade"])
    got["ws_balances_update"] = await _seen(c, is_channel("balances", "update"))
    await c.send("add_order", **limit, order_qty=1, limit_price=0.28)
    got["ws_add_error"] = await c.until(is_method("add_order"))
    await c.send(
        "add_order",
        token=token,
        order_type="stop-loss-limit",
        side="buy",
        symbol="XLM/USD",
        order_qty=40,
        limit_price=0.9,
        triggers={"reference": "index", "price": 0.9, "price_type": "static"},
        order_userref=6,
    )
    stop = (await c.until(is_method("add_order")))["result"]["order_id"]
    got["ws_exec_pending_new_stop"] = await _seen(c, _exec(stop, "pending_new"))
    await _ws_batches(c, token, got)


async def _ws_batches(c: WsClient, token: str, got: Got) -> None:
    orders = [
        {
            "order_type": "limit",
            "side": "buy",
            "order_qty": 40,
            "limit_price": p,
            "order_userref": n,
        }
        for n, p in ((1, 0.2), (2, 0.21))
    ]
    await c.send("batch_add", req_id=1234567890, token=token, symbol="XLM/USD", orders=orders)
    got["ws_batch_add"] = await c.until(is_method("batch_add"))
    ids = [r["order_id"] for r in got["ws_batch_add"]["result"]]
    await c.send("cancel_order", req_id=123456789, token=token, order_id=ids)
    got["ws_cancel_two"] = [await c.until(is_method("cancel_order")) for _ in ids]
    await c.send("batch_add", token=token, symbol="XLM/USD", orders=orders)
    await c.until(is_method("batch_add"))
    await c.send("batch_cancel", req_id=1234567890, token=token, orders=["1", "2"])
    got["ws_batch_cancel"] = await c.until(is_method("batch_cancel"))
    await c.send("cancel_all", token=token)
    got["ws_cancel_all"] = await c.until(is_method("cancel_all"))
    await c.send("cancel_all_orders_after", req_id=1234567890, token=token, timeout=100)
    got["ws_cancel_after"] = await c.until(is_method("cancel_all_orders_after"))

"""WebSocket v2 request handling: subscribe/unsubscribe, ping and the trading methods.

Owns: `dispatch(hub, conn, text)` — parse one client frame, answer with Kraken's acks (one
per symbol for subscriptions, one per order for cancel_order, error strings as in API.md
§7.2/§7.6) and the snapshots that follow a subscription. Synchronous: it enqueues frames on
the connection and runs the exchange core; the writer task does the I/O.
Imports: stdlib and sim.* only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from krakenbot.sim import wire_ws
from krakenbot.sim.exchange import E_UNAVAILABLE
from krakenbot.sim.model import SimOrder
from krakenbot.sim.parse import E_ARGS, check_deadline, decimal_text, parse_ws_order

if TYPE_CHECKING:
    from krakenbot.sim.ws import Conn, Hub

Json = dict[str, object]
BOOK_DEPTHS = (10, 25, 100, 500, 1000)
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
PUBLIC_CHANNELS = {"ticker", "book", "trade", "ohlc", "instrument", "heartbeat", "status"}
PRIVATE_CHANNELS = {"executions", "balances"}
EXEC_WARNINGS = [
    "cancel_reason is deprecated, use reason",
    "stop_price is deprecated, use triggers.price",
]
_ALLOWED_FIELDS = {
    "ticker": {"channel", "symbol", "snapshot", "event_trigger", "req_id"},
    "book": {"channel", "symbol", "snapshot", "depth"},
    "trade": {"channel", "symbol", "snapshot"},
    "ohlc": {"channel", "symbol", "snapshot", "interval"},
    "instrument": {"channel", "snapshot", "include_tokenized_assets", "execution_venue"},
    "executions": {
        "channel",
        "token",
        "snap_orders",
        "snap_trades",
        "order_status",
        "ratecounter",
        "snapshot",
        "snapshot_trades",
        "users",
        "rebased",
    },
    "balances": {"channel", "token", "snapshot", "rebased", "users"},
    "heartbeat": {"channel"},
    "status": {"channel"},
}


class Ctx:
    """One request being answered."""

    def __init__(self, hub: Hub, conn: Conn, method: str, req_id: object) -> None:
        self.hub, self.conn, self.method, self.req_id = hub, conn, method, req_id
        self.t_in = hub.state.now_ns()

    def ok(self, result: object) -> None:
        now = self.hub.state.now_ns()
        self.conn.send(wire_ws.ack(self.method, result, self.req_id, self.t_in, now))

    def err(self, error: str, symbol: str | None = None) -> None:
        now = self.hub.state.now_ns()
        self.conn.send(
            wire_ws.ack(self.method, None, self.req_id, self.t_in, now, error=error, symbol=symbol)
        )


def dispatch(hub: Hub, conn: Conn, text: str) -> None:
    try:
        req = json.loads(text, parse_float=str)
    except ValueError:
        req = None
    if not isinstance(req, dict) or not isinstance(req.get("method"), str):
        Ctx(hub, conn, "error", None).err("Malformed request")
        return
    method: str = req["method"]
    params = req.get("params", {})
    ctx = Ctx(hub, conn, method, req.get("req_id"))
    if not isinstance(params, dict):
        ctx.err("Malformed request")
        return
    if method == "ping":
        now = hub.state.now_ns()
        msg: Json = {"method": "pong"}
        if ctx.req_id is not None:
            msg["req_id"] = ctx.req_id
        msg.update(time_in=wire_ws.ts(ctx.t_in), time_out=wire_ws.ts(now))
        conn.send(msg)
        return
    if method in ("subscribe", "unsubscribe"):
        _subscription(ctx, params, subscribe=method == "subscribe")
        return
    handler = TRADING.get(method)
    if handler is None:
        ctx.err(f"Method not found: {method}" if method else "Malformed request")
        return
    if conn.kind != "private" or not _token_ok(ctx, params):
        ctx.err("EAPI:Invalid token")
        return
    handler(ctx, params)
    hub.state.changed()


def _token_ok(ctx: Ctx, params: Json) -> bool:
    token = params.get("token")
    if isinstance(token, str) and token in ctx.conn.authed_tokens:
        return True
    if ctx.hub.state.token_ok(token, connected_before=False):
        assert isinstance(token, str)
        ctx.conn.authed_tokens.add(token)
        return True
    return False


# -- subscriptions -------------------------------------------------------------------------
def _subscription(ctx: Ctx, params: Json, *, subscribe: bool) -> None:
    channel = params.get("channel")
    if not isinstance(channel, str) or channel not in PUBLIC_CHANNELS | PRIVATE_CHANNELS:
        ctx.err("Subscription name invalid")
        return
    for name in params:
        if name not in _ALLOWED_FIELDS[channel]:
            ctx.err(f"Unsupported field: '{name}' for the given msg type: {ctx.method}")
            return
    if channel in PRIVATE_CHANNELS:
        if ctx.conn.kind != "private" or not _token_ok(ctx, params):
            ctx.err("EAPI:Invalid token")
            return
        _private_sub(ctx, channel, params, subscribe=subscribe)
        return
    if channel in ("instrument", "heartbeat", "status"):
        _simple_sub(ctx, channel, params, subscribe=subscribe)
        return
    symbols = params.get("symbol")
    if not isinstance(symbols, list) or not symbols:
        ctx.err(f"{E_ARGS}:symbol")
        return
    for symbol in symbols:
        spec = ctx.hub.state.exchange.index.resolve(str(symbol))
        if spec is None or spec.symbol != symbol:
            ctx.err(f"Currency pair not supported {symbol}", symbol=str(symbol))
            continue
        if subscribe:
            _subscribe_symbol(ctx, channel, spec.symbol, params)
        else:
            _unsubscribe_symbol(ctx, channel, spec.symbol, params)


def _subscribe_symbol(ctx: Ctx, channel: str, symbol: str, params: Json) -> None:
    hub, conn = ctx.hub, ctx.conn
    if (channel, symbol) in conn.subs:
        ctx.err("Already subscribed", symbol=symbol)
        return
    market = hub.state.exchange.markets[symbol]
    now = hub.state.now_ns()
    snapshot = _flag(params, "snapshot", channel != "trade")
    result: Json = {"channel": channel}
    sub: Json = {}
    if channel == "book":
        depth = params.get("depth", 10)
        if depth not in BOOK_DEPTHS:
            ctx.err(f"{E_ARGS}:depth", symbol=symbol)
            return
        result.update(depth=depth, snapshot=snapshot, symbol=symbol)
        hub.publish()  # bring every group up to date before this one is joined
        group, members = hub.group(symbol, int(depth))
        ctx.ok(result)
        if snapshot:
            conn.send(group.snapshot(now))
        members.add(conn)
        conn.subs[("book", symbol)] = {"depth": depth}
        return
    if channel == "ticker":
        trigger = params.get("event_trigger", "trades")
        if trigger not in ("trades", "bbo"):
            ctx.err(f"{E_ARGS}:event_trigger", symbol=symbol)
            return
        result.update(event_trigger=trigger, snapshot=snapshot, symbol=symbol)
        sub = {"event_trigger": trigger}
        ctx.ok(result)
        if snapshot:
            conn.send(wire_ws.ticker(market, "snapshot", now))
    elif channel == "trade":
        result.update(snapshot=snapshot, symbol=symbol)
        ctx.ok(result)
        if snapshot:
            rows = [wire_ws.trade_row(market.spec, t) for t in list(market.trades)[-50:]]
            conn.send({"channel": "trade", "type": "snapshot", "data": rows})
    else:  # ohlc
        interval = params.get("interval", 1)
        if interval not in OHLC_INTERVALS:
            ctx.err(f"{E_ARGS}:interval", symbol=symbol)
            return
        result.update(
            interval=interval,
            snapshot=snapshot,
            symbol=symbol,
            warnings=["timestamp is deprecated, use interval_begin"],
        )
        sub = {"interval": interval}
        ctx.ok(result)
        if snapshot:
            candles = market.candles_for(int(interval), now)
            conn.send(
                {
                    "channel": "ohlc",
                    "type": "snapshot",
                    "timestamp": wire_ws.ts9(now),
                    "data": [wire_ws.ohlc_row(market.spec, c, int(interval)) for c in candles],
                }
            )
    conn.subs[(channel, symbol)] = sub


def _unsubscribe_symbol(ctx: Ctx, channel: str, symbol: str, params: Json) -> None:
    conn = ctx.conn
    sub = conn.subs.pop((channel, symbol), None)
    if sub is None:
        ctx.err("Subscription Not Found", symbol=symbol)
        return
    result: Json = {"channel": channel, "symbol": symbol}
    if channel == "book":
        depth = int(sub["depth"])  # type: ignore[call-overload]
        ctx.hub.group(symbol, depth)[1].discard(conn)
        result["depth"] = depth
    ctx.ok(result)


def _simple_sub(ctx: Ctx, channel: str, params: Json, *, subscribe: bool) -> None:
    conn = ctx.conn
    if not subscribe:
        if conn.subs.pop((channel, ""), None) is None:
            ctx.err("Subscription Not Found")
        else:
            ctx.ok({"channel": channel})
        return
    snapshot = _flag(params, "snapshot", True)
    result: Json = {"channel": channel}
    if channel == "instrument":
        result.update(snapshot=snapshot, warnings=["tick_size is deprecated, use price_increment"])
    ctx.ok(result)
    conn.subs[(channel, "")] = {}
    if channel == "instrument" and snapshot:
        ex = ctx.hub.state.exchange
        conn.send(wire_ws.instrument(list(ex.index), ex.system))


def _private_sub(ctx: Ctx, channel: str, params: Json, *, subscribe: bool) -> None:
    conn, state = ctx.conn, ctx.hub.state
    if not subscribe:
        if conn.subs.pop((channel, ""), None) is None:
            ctx.err("Subscription Not Found")
        else:
            ctx.ok({"channel": channel})
        return
    state.publish()  # flush older events so the snapshot and the stream do not overlap
    ex = state.exchange
    now = state.now_ns()
    if channel == "executions":
        snap_orders = _flag(params, "snap_orders", _flag(params, "snapshot", True))
        snap_trades = _flag(params, "snap_trades", _flag(params, "snapshot_trades", False))
        ctx.ok(
            {
                "channel": "executions",
                "maxratecount": int(state.tier.trade_threshold),
                "snap_orders": snap_orders,
                "snap_trades": snap_trades,
                "snapshot": snap_orders,
                "warnings": EXEC_WARNINGS,
            }
        )
        rows: list[Json] = []
        if snap_orders:
            rows.extend(wire_ws.open_order_row(o, now) for o in ex.open.values())
        if snap_trades:
            rows.extend(
                wire_ws.trade_snapshot_row(f, ex.orders.get(f.ordertxid))
                for f in ex.fills[-50:][::-1]
            )
        conn.exec_seq = 1
        conn.send(wire_ws.executions("snapshot", rows, conn.exec_seq))
    else:
        snapshot = _flag(params, "snapshot", True)
        ctx.ok({"channel": "balances", "snapshot": snapshot})
        conn.bal_seq = 1
        if snapshot:
            conn.send(wire_ws.balances_snapshot(ex.balances, conn.bal_seq))
    conn.subs[(channel, "")] = {
        "order_status": _flag(params, "order_status", True),
        # docs websocket-v2/executions: "If true, the rate-limit counter is included in the
        # stream" (default false). ws.py attaches it to each update report.
        "ratecounter": _flag(params, "ratecounter", False),
    }


def _flag(params: Json, name: str, default: bool) -> bool:
    value = params.get(name, default)
    return value if isinstance(value, bool) else default


# -- trading -------------------------------------------------------------------------------
def _order_ids(order: SimOrder) -> Json:
    out: Json = {"order_id": order.txid}
    if order.cl_ord_id is not None:
        out["cl_ord_id"] = order.cl_ord_id
    elif order.userref is not None:
        out["order_userref"] = order.userref
    return out


def m_add_order(ctx: Ctx, params: Json) -> None:
    state = ctx.hub.state
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=True)
    if err:
        ctx.err(err)
        return
    req = parse_ws_order(params, state.exchange.index, now)
    if isinstance(req, str):
        ctx.err(req)
        return
    order, err = state.exchange.add_order(req, now, ws=True)
    if err or order is None:
        ctx.err(err or E_ARGS)
        return
    result = _order_ids(order)
    if req.validate:
        result["order_id"] = ""
    ctx.ok(result)


def m_batch_add(ctx: Ctx, params: Json) -> None:
    state = ctx.hub.state
    ex = state.exchange
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=True)
    if err:
        ctx.err(err)
        return
    orders = params.get("orders")
    if not isinstance(orders, list) or not 2 <= len(orders) <= 15:
        ctx.err(f"{E_ARGS}:orders")
        return
    reqs = []
    for entry in orders:
        if not isinstance(entry, dict):
            ctx.err(f"{E_ARGS}:orders")
            return
        req = parse_ws_order(
            {**entry, "validate": params.get("validate", False)},
            ex.index,
            now,
            symbol=params.get("symbol"),
        )
        if isinstance(req, str):
            ctx.err(req)
            return
        err = ex.check_state(req) or ex.validate(req, ws=True)
        if err:
            ctx.err(err)
            return
        reqs.append(req)
    if reqs[0].validate:
        ctx.ok([{"order_id": ""} for _ in reqs])
        return
    if not ex.trading.charge_add(reqs[0].pair.symbol, now, n_orders=len(reqs)):
        ctx.err("EOrder:Rate limit exceeded")
        return
    results: list[Json] = []
    for req in reqs:
        order, err = ex.add_order(req, now, ws=True, charged=True)
        results.append(_order_ids(order) if order is not None else {"error": err})
    ctx.ok(results)


def m_cancel_order(ctx: Ctx, params: Json) -> None:
    ex = ctx.hub.state.exchange
    now = ctx.hub.state.now_ns()
    refs: list[tuple[str, str | int]] = []
    for name in ("order_id", "cl_ord_id", "order_userref"):
        values = params.get(name)
        if values is None:
            continue
        if not isinstance(values, list):
            values = [values]
        for v in values:
            refs.append((name, v if name == "order_userref" and isinstance(v, int) else str(v)))
    if not refs:
        ctx.err(f"{E_ARGS}:order_id")
        return
    for name, ref in refs:
        if name == "order_userref":
            found = [o for o in ex.open.values() if o.userref == ref]
        elif name == "cl_ord_id":
            found = [o for o in ex.open.values() if o.cl_ord_id == ref]
        else:
            found = [ex.open[ref]] if isinstance(ref, str) and ref in ex.open else []
        err = ex.cancel(found, now)
        if err:
            ctx.err(err)
        else:
            ctx.ok(
                {
                    name if name != "order_userref" else "order_id": ref
                    if name != "order_userref"
                    else found[0].txid
                }
            )


def m_cancel_all(ctx: Ctx, params: Json) -> None:
    ex = ctx.hub.state.exchange
    if ex.system == "maintenance":
        ctx.err(E_UNAVAILABLE)
        return
    ctx.ok({"count": ex.cancel_all(ctx.hub.state.now_ns())})


def m_cancel_all_after(ctx: Ctx, params: Json) -> None:
    timeout = decimal_text(params.get("timeout"))
    if timeout is None or timeout != int(timeout) or timeout >= 86400:
        ctx.err(f"{E_ARGS}:timeout")
        return
    now = ctx.hub.state.now_ns()
    trigger = ctx.hub.state.exchange.cancel_all_after(int(timeout), now)
    secs = now // 1_000_000_000 * 1_000_000_000
    ctx.ok(
        {
            "currentTime": wire_ws.ts(secs)[:19] + "Z",
            "triggerTime": wire_ws.ts(trigger)[:19] + "Z" if timeout else "0",
        }
    )


def m_batch_cancel(ctx: Ctx, params: Json) -> None:
    ex = ctx.hub.state.exchange
    refs = list(params.get("orders") or []) + list(params.get("cl_ord_id") or [])  # type: ignore[call-overload]
    if not 1 <= len(refs) <= 50:
        ctx.err(f"{E_ARGS}:orders")
        return
    found: list[SimOrder] = []
    for ref in refs:
        for o in ex.find_open(ref if isinstance(ref, int) else str(ref)):
            if o not in found:
                found.append(o)
    err = ex.cancel(found, ctx.hub.state.now_ns(), force=True) if found else None
    if err:
        ctx.err(err)
        return
    ctx.ok({"count": len(found)})


TRADING = {
    "add_order": m_add_order,
    "batch_add": m_batch_add,
    "cancel_order": m_cancel_order,
    "cancel_all": m_cancel_all,
    "cancel_all_orders_after": m_cancel_all_after,
    "batch_cancel": m_batch_cancel,
}

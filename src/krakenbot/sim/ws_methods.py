"""WebSocket v2 request handling: subscribe/unsubscribe, ping, and dispatch to the trading
methods (ws_trading.py).

Owns: `dispatch(hub, conn, text)` — parse one client frame, answer with Kraken's acks (one
per symbol for subscriptions, one per order for cancel_order, error strings as in API.md
§7.2/§7.6) and the snapshots that follow a subscription. Synchronous: it enqueues frames on
the connection and runs the exchange core; the writer task does the I/O.
Imports: stdlib and sim.* only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from krakenbot.sim import wire_ws, wire_ws_private
from krakenbot.sim.parse import E_ARGS
from krakenbot.sim.ws_ctx import Ctx
from krakenbot.sim.ws_trading import TRADING

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
# Numbers keep their text (money is never a float); one decoder, not one per request.
_REQUEST_JSON = json.JSONDecoder(parse_float=str)
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


def dispatch(hub: Hub, conn: Conn, text: str) -> None:
    try:
        req = _REQUEST_JSON.decode(text)
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
    faults = hub.state.faults
    hub.state.requests[f"ws:{method}"] += 1
    drop = faults.take_ws_method_drop(method)
    if drop is False:  # the socket dies with the request unread
        hub.abort(conn)
        return
    error = faults.take_ws_error(method)
    if error is not None:
        ctx.err(error)
        return
    hub.state.exchange.acting_key = conn.api_key  # the orders it places are this key's
    try:
        handler(ctx, params)
    finally:
        hub.state.exchange.acting_key = ""
    if drop:  # executed, but neither its ack nor its reports leave
        hub.state.changed()
        hub.abort(conn)
        return
    hub.flush_now(conn)  # the ack first, then the reports (rendered by changed())
    hub.state.changed()


def _token_ok(ctx: Ctx, params: Json) -> bool:
    token = params.get("token")
    if isinstance(token, str) and token in ctx.conn.authed_tokens:
        return True
    if ctx.hub.state.token_ok(token, connected_before=False):
        assert isinstance(token, str)
        ctx.conn.authed_tokens.add(token)
        ctx.conn.api_key = ctx.hub.state.token_keys.get(token, "")
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
            # Kraken names the request's symbol in this error (real capture [roq]).
            symbols = params.get("symbol")
            first = symbols[0] if isinstance(symbols, list) and symbols else None
            ctx.err(
                f"Unsupported field: '{name}' for the given msg type: {ctx.method}",
                symbol=None if first is None else str(first),
            )
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
            rows.extend(wire_ws_private.open_order_row(o, now) for o in ex.open.values())
        if snap_trades:
            rows.extend(
                wire_ws_private.trade_snapshot_row(f, ex.orders.get(f.ordertxid))
                for f in list(ex.fills)[-50:][::-1]
            )
        conn.exec_seq = 1
        conn.send(wire_ws_private.executions("snapshot", rows, conn.exec_seq))
    else:
        snapshot = _flag(params, "snapshot", True)
        ctx.ok({"channel": "balances", "snapshot": snapshot})
        conn.bal_seq = 1
        if snapshot:
            conn.send(wire_ws_private.balances_snapshot(ex.balances, conn.bal_seq))
    conn.subs[(channel, "")] = {
        "order_status": _flag(params, "order_status", True),
        # docs websocket-v2/executions: "If true, the rate-limit counter is included in the
        # stream" (default false). ws.py attaches it to each update report.
        "ratecounter": _flag(params, "ratecounter", False),
    }


def _flag(params: Json, name: str, default: bool) -> bool:
    value = params.get(name, default)
    return value if isinstance(value, bool) else default

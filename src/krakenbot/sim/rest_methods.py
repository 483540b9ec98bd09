"""Kraken REST methods as plain functions on the simulator state (no sockets).

Owns: one function per public and private REST method, each `(state, params) -> (result,
error)`, and the tables mapping method names to them with the key permission they need
(ClosedOrders and TradesHistory, with Kraken's history window, live in history_query.py;
Ledgers and QueryLedgers in ledger_query.py; TradeVolume in trade_volume.py;
Assets and Spread in rest_public_extra.py).
Imports: stdlib and sim.* only. Shapes follow API.md §5 and vectors/real_messages/rest_*.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from krakenbot.sim import amend, edit
from krakenbot.sim import wire_rest as wire
from krakenbot.sim.auth import PERM_QUERY, PERM_TRADE, PERM_WEBSOCKET
from krakenbot.sim.exchange import E_UNAVAILABLE
from krakenbot.sim.history_query import (
    by_client_ids,
    m_closed_orders,
    m_query_trades,
    m_trades_history,
)
from krakenbot.sim.ledger_query import m_ledgers, m_query_ledgers
from krakenbot.sim.model import SimOrder, kraken_id
from krakenbot.sim.order_params import parse_rest_order
from krakenbot.sim.pairs import PairSpec
from krakenbot.sim.parse import (
    E_ARGS,
    E_UNKNOWN_PAIR,
    check_deadline,
    decimal_text,
    truthy,
)
from krakenbot.sim.ratelimit import NS
from krakenbot.sim.rest_public_extra import int_param, m_assets, m_spread, one_pair
from krakenbot.sim.state import SimState
from krakenbot.sim.trade_volume import m_trade_volume

Params = dict[str, object]
Result = tuple[object | None, str | None]
Method = Callable[[SimState, Params], Result]
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)


def _pairs(state: SimState, params: Params) -> list[tuple[str, PairSpec]] | None:
    """(name as asked, spec) for each pair of the comma list; every pair when none is asked."""
    raw = params.get("pair")
    if not raw:
        return [(p.rest_id, p) for p in state.exchange.index]
    out = []
    for name in str(raw).split(","):
        spec = state.exchange.index.resolve(name)
        if spec is None:
            return None
        out.append((name, spec))
    return out


def asset_pairs_key(asked: str, spec: PairSpec) -> str:
    """AssetPairs answers a pair asked by its WS name (`XLM/USD`) under that name, and one
    asked by its canonical id or altname (`XXLMZUSD`, `XLMUSD`) under the canonical id (issue
    13; Kraken's docs examples key by the id). The other public methods always key by the id."""
    return spec.wsname if asked.strip().upper() == spec.wsname.upper() else spec.rest_id


# -- public ------------------------------------------------------------------------------
def m_time(state: SimState, params: Params) -> Result:
    return wire.time_result(state.now_ns()), None


def m_system_status(state: SimState, params: Params) -> Result:
    return wire.system_status(state.exchange.system, state.now_ns()), None


def m_asset_pairs(state: SimState, params: Params) -> Result:
    pairs = _pairs(state, params)
    if pairs is None:
        return None, E_UNKNOWN_PAIR
    info = str(params.get("info") or "info")
    if info not in ("info", "leverage", "fees", "margin"):
        return None, f"{E_ARGS}:info"
    return {asset_pairs_key(name, p): wire.asset_pair(p, info) for name, p in pairs}, None


def m_ticker(state: SimState, params: Params) -> Result:
    pairs = _pairs(state, params)
    if pairs is None:
        return None, E_UNKNOWN_PAIR
    return {p.rest_id: wire.ticker(state.exchange.markets[p.symbol]) for _, p in pairs}, None


def m_ohlc(state: SimState, params: Params) -> Result:
    spec = one_pair(state, params)
    if isinstance(spec, str):
        return None, spec
    interval = int_param(params, "interval", 1)
    if interval not in OHLC_INTERVALS:
        return None, f"{E_ARGS}:interval"
    given = params.get("since") not in (None, "")
    since = int_param(params, "since", 0)
    if since is None:
        return None, f"{E_ARGS}:since"
    since_s = since if given else None
    if state.history.serves_ohlc(spec, interval, since_s):
        committed, current = state.history.ohlc(spec, interval)
        rows, last = wire.ohlc_rows(spec, committed, current, since_s)
    else:
        market = state.exchange.markets[spec.symbol]
        rows, last = wire.ohlc(market, interval, since_s, state.now_ns())
    return {spec.rest_id: rows, "last": last}, None


def m_depth(state: SimState, params: Params) -> Result:
    spec = one_pair(state, params)
    if isinstance(spec, str):
        return None, spec
    count = int_param(params, "count", 100)
    if count is None or not 1 <= count <= 500:
        return None, f"{E_ARGS}:count"
    return {
        spec.rest_id: wire.depth(state.exchange.markets[spec.symbol], count, state.now_ns())
    }, None


def m_trades(state: SimState, params: Params) -> Result:
    """Up to `count` (1…1000, default 1000) trades after the cursor `since` (a nanosecond
    cursor, or epoch seconds; 0: from the start of the history), oldest first; without
    `since`, the most recent ones. History first, then the live market (sim/history.py)."""
    spec = one_pair(state, params)
    if isinstance(spec, str):
        return None, spec
    count = int_param(params, "count", 1000)
    since = int_param(params, "since", -1)
    if count is None or count < 1:
        return None, f"{E_ARGS}:count"
    if since is None or since < -1:
        return None, f"{E_ARGS}:since"
    live = list(state.exchange.markets[spec.symbol].trades)
    since_ns = None if since == -1 else (since * NS if since < 10**12 else since)
    rows, last = state.history.trades_page(spec, live, since_ns, min(count, 1000))
    return {spec.rest_id: wire.trade_rows(spec, rows), "last": str(last)}, None


HISTORY = frozenset({"OHLC", "Trades"})
PUBLIC: dict[str, Method] = {
    "Time": m_time,
    "SystemStatus": m_system_status,
    "Assets": m_assets,
    "AssetPairs": m_asset_pairs,
    "Ticker": m_ticker,
    "OHLC": m_ohlc,
    "Depth": m_depth,
    "Trades": m_trades,
    "Spread": m_spread,
}


# -- private: account ----------------------------------------------------------------------
def m_balance(state: SimState, params: Params) -> Result:
    return wire.balance(state.exchange), None


def m_balance_ex(state: SimState, params: Params) -> Result:
    return wire.balance_ex(state.exchange), None


def m_trade_balance(state: SimState, params: Params) -> Result:
    return wire.trade_balance(state.exchange), None


def m_open_orders(state: SimState, params: Params) -> Result:
    trades = truthy(params.get("trades", False))
    orders = by_client_ids(list(state.exchange.open.values()), params)
    return {"open": {o.txid: wire.order(o, with_trades=trades) for o in orders}}, None


def m_query_orders(state: SimState, params: Params) -> Result:
    raw = str(params.get("txid") or "")
    ids = [t.strip() for t in raw.split(",") if t.strip()]
    if not ids or len(ids) > 50:
        return None, f"{E_ARGS}:txid"
    trades = truthy(params.get("trades", False))
    out = {}
    for txid in ids:
        order = state.exchange.orders.get(txid)
        if order is None:
            return None, "EOrder:Invalid order"
        out[txid] = wire.order(order, with_trades=trades)
    return out, None


# -- private: trading ----------------------------------------------------------------------
def m_add_order(state: SimState, params: Params) -> Result:
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=False)
    if err:
        return None, err
    req = parse_rest_order(params, state.exchange.index, now)
    if isinstance(req, str):
        return None, req
    order, err = state.exchange.add_order(req, now)
    if err or order is None:
        return None, err
    result: dict[str, object] = {"descr": wire.add_order_descr(order)}
    if not req.validate:
        result["txid"] = [order.txid]
    return result, None


def m_add_order_batch(state: SimState, params: Params) -> Result:
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=False)
    if err:
        return None, err
    raw = params.get("orders")
    if not isinstance(raw, list) or not 2 <= len(raw) <= 15:
        return None, f"{E_ARGS}:orders"
    reqs = []
    validate = truthy(params.get("validate", False))
    for entry in raw:
        if not isinstance(entry, dict):
            return None, f"{E_ARGS}:orders"
        req = parse_rest_order(entry, state.exchange.index, now, pair=params.get("pair"))
        if isinstance(req, str):
            return None, req
        err = state.exchange.check_state(req) or state.exchange.validate(req, ws=False)
        if err:
            return None, err  # the whole batch fails validation (API.md §5.3)
        reqs.append(req)
    if validate:
        return {
            "orders": [
                {"descr": wire.add_order_descr(state.exchange._new_order(r, now))} for r in reqs
            ]
        }, None
    ex = state.exchange
    if not ex.trading.charge_add(reqs[0].pair.symbol, now, n_orders=len(reqs)):
        return None, "EOrder:Rate limit exceeded"
    rows: list[object] = []
    for req in reqs:
        order, err = ex.add_order(req, now, charged=True)
        if err or order is None:
            rows.append({"error": err})
        else:
            rows.append({"txid": order.txid, "descr": wire.add_order_descr(order)})
    return {"orders": rows}, None


def m_amend_order(state: SimState, params: Params) -> Result:
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=False)
    if err:
        return None, err
    parsed = amend.parse(params, ws=False)
    if isinstance(parsed, str):
        return None, parsed
    ref, change = parsed
    err = amend.amend_ref(state.exchange, ref, change, now)
    if err:
        return None, err
    return {"amend_id": kraken_id(state.exchange.rng, "T")}, None


def m_edit_order(state: SimState, params: Params) -> Result:
    """EditOrder: cancel and replace with a new txid (sim/edit.py)."""
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=False)
    if err:
        return None, err
    parsed = edit.parse_rest(params, state.exchange.index)
    if isinstance(parsed, str):
        return None, parsed
    ref, spec, change = parsed
    done = edit.edit(state.exchange, ref, spec, change, now, ws=False)
    if isinstance(done, str):
        return None, done
    return wire.edit_result(*done, validate=change.validate), None


def _ref(raw: object) -> str | int:
    if isinstance(raw, int):
        return raw
    return str(raw)


def m_cancel_order(state: SimState, params: Params) -> Result:
    ex = state.exchange
    raw = params.get("txid") if params.get("txid") not in (None, "") else params.get("cl_ord_id")
    if raw in (None, ""):
        return None, f"{E_ARGS}:txid"
    if ex.system == "maintenance":
        return None, E_UNAVAILABLE
    orders = ex.find_open(_ref(raw))
    err = ex.cancel(orders, state.now_ns())
    if err:
        return None, err
    return {"count": len(orders)}, None


def m_cancel_order_batch(state: SimState, params: Params) -> Result:
    ex = state.exchange
    refs = list(params.get("orders") or []) + list(params.get("cl_ord_ids") or [])  # type: ignore[call-overload]
    if not refs or len(refs) > 50:
        return None, f"{E_ARGS}:orders"
    orders: list[SimOrder] = []
    for ref in refs:
        for o in ex.find_open(_ref(ref)):
            if o not in orders:
                orders.append(o)
    err = ex.cancel(orders, state.now_ns(), force=True) if orders else None
    if err:
        return None, err
    return {"count": len(orders)}, None


def m_cancel_all(state: SimState, params: Params) -> Result:
    if state.exchange.system == "maintenance":
        return None, E_UNAVAILABLE
    return {"count": state.exchange.cancel_all(state.now_ns())}, None


def m_cancel_all_after(state: SimState, params: Params) -> Result:
    timeout = decimal_text(params.get("timeout"))
    if timeout is None or timeout != int(timeout) or timeout >= 86400:
        return None, f"{E_ARGS}:timeout"
    now = state.now_ns()
    trigger = state.exchange.cancel_all_after(int(timeout), now)
    return {
        "currentTime": wire.rfc3339_s(now),
        "triggerTime": wire.rfc3339_s(trigger) if timeout else "0",
    }, None


def m_ws_token(state: SimState, params: Params) -> Result:
    return {"token": state.new_token(state.exchange.acting_key), "expires": 900}, None


PRIVATE: dict[str, tuple[str, Method]] = {
    "Balance": (PERM_QUERY, m_balance),
    "BalanceEx": (PERM_QUERY, m_balance_ex),
    "TradeBalance": (PERM_QUERY, m_trade_balance),
    "OpenOrders": (PERM_QUERY, m_open_orders),
    "ClosedOrders": (PERM_QUERY, m_closed_orders),
    "QueryOrders": (PERM_QUERY, m_query_orders),
    "TradesHistory": (PERM_QUERY, m_trades_history),
    "QueryTrades": (PERM_QUERY, m_query_trades),
    "Ledgers": (PERM_QUERY, m_ledgers),
    "QueryLedgers": (PERM_QUERY, m_query_ledgers),
    "TradeVolume": (PERM_QUERY, m_trade_volume),
    "AddOrder": (PERM_TRADE, m_add_order),
    "AddOrderBatch": (PERM_TRADE, m_add_order_batch),
    "AmendOrder": (PERM_TRADE, m_amend_order),
    "EditOrder": (PERM_TRADE, m_edit_order),
    "CancelOrder": (PERM_TRADE, m_cancel_order),
    "CancelOrderBatch": (PERM_TRADE, m_cancel_order_batch),
    "CancelAll": (PERM_TRADE, m_cancel_all),
    "CancelAllOrdersAfter": (PERM_TRADE, m_cancel_all_after),
    "GetWebSocketsToken": (PERM_WEBSOCKET, m_ws_token),
}
_ = Decimal

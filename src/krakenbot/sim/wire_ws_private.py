"""WebSocket v2 private rendering: `executions` reports and `balances` rows, written from the
Kraken facts (API.md §7.5; docs websocket-v2/executions), not from any client codec.

Owns: the report of each `exec_type` (pending_new with the full order, the sparse `new`,
`trade`, `filled` / `canceled` / `expired`, `status` for a trigger that moved or fired,
`iceberg_refill`), the open-order and trade snapshot rows, and the balances pushes. Order
terms follow the docs' field names: `limit_price` + `limit_price_type`, `triggers{reference,
price, price_type, status, actual_price, peak_price, last_price}` plus the deprecated
`stop_price` / `trigger` still sent (a real stop-loss-limit report, kraken-async-rs),
`display_qty`, `effective_time`, `expire_time`, `contingent{...}`, `fee_ccy_pref`, `no_mpp`,
`cash_order_qty`. After its trigger an order's `order_type` is the model it became, market
or limit (docs fix-api execution report, OrderType: "For triggered orders, after the trigger
the OrderType will reflect the new execution model of the order").
Imports: orjson (via wire_ws), stdlib and sim.* only.
"""

from __future__ import annotations

from decimal import Decimal

from krakenbot.sim.model import CloseSpec, ExecEvent, Fill, LedgerEvent, SimOrder
from krakenbot.sim.pairs import ASSETS, PairSpec
from krakenbot.sim.prices import PriceArg
from krakenbot.sim.wire_ws import Json, num, ts

_ZERO = Decimal(0)


def _ids(order: SimOrder, out: Json) -> None:
    if order.cl_ord_id is not None:
        out["cl_ord_id"] = order.cl_ord_id
    else:
        out["order_userref"] = order.userref or 0


def _qd(spec: PairSpec) -> int:
    return ASSETS[spec.quote].decimals


def current_type(order: SimOrder) -> str:
    if order.is_trigger and order.triggered_ns is not None:
        return "limit" if order.price is not None else "market"
    return order.ordertype


def _signed(arg: PriceArg, decimals: int) -> tuple[object, str]:
    """(number, price_type): static for a price; quote / pct for an offset, signed."""
    if not arg.relative:
        return num(arg.value, decimals), "static"
    value = -arg.value if arg.sign == "-" else arg.value
    return num(value, 4 if arg.pct else decimals), "pct" if arg.pct else "quote"


def _triggers(order: SimOrder) -> Json:
    pd = order.pair.pair_decimals
    arg = order.price_arg if order.price_arg is not None else PriceArg(order.stop or _ZERO)
    price, price_type = _signed(arg, pd)
    out: Json = {"reference": order.trigger_ref, "price": price, "price_type": price_type}
    out["status"] = "untriggered" if order.triggered_ns is None else "triggered"
    if order.stop is not None:
        out["actual_price"] = num(order.stop, pd)
    if order.peak is not None:
        out["peak_price"] = num(order.peak, pd)
    if order.triggered_ns is not None:
        out["timestamp"] = ts(order.triggered_ns)
    return out


def _contingent(close: CloseSpec, decimals: int) -> Json:
    out: Json = {"order_type": close.ordertype}
    first, first_type = _signed(close.price, decimals)
    if close.ordertype in ("limit", "iceberg"):
        out.update(limit_price=first, limit_price_type=first_type)
        return out
    out.update(trigger_price=first, trigger_price_type=first_type)
    if close.price2 is not None:
        second, second_type = _signed(close.price2, decimals)
        out.update(limit_price=second, limit_price_type=second_type)
    return out


def _limit_fields(order: SimOrder, out: Json) -> None:
    pd = order.pair.pair_decimals
    if order.ordertype == "trailing-stop-limit" and order.price2_arg is not None:
        value, kind = _signed(order.price2_arg, pd)  # an offset from the trigger price
        out.update(limit_price_type=kind, limit_price=value)
        return
    price = order.price if order.price is not None else order.limit
    if price is not None:
        out.update(limit_price_type="static", limit_price=num(price, pd))


def _terms(order: SimOrder, out: Json) -> None:
    pd = order.pair.pair_decimals
    _limit_fields(order, out)
    if order.is_trigger:
        out["triggers"] = _triggers(order)
        out["stop_price"] = num(order.stop or _ZERO, pd)  # deprecated, still sent
        out["trigger"] = order.trigger_ref
    elif order.price is not None:
        out["stop_price"] = num(_ZERO, pd)
    if order.display is not None:
        out["display_qty"] = num(order.display, order.pair.lot_decimals)
    if order.quote_volume is not None:
        out["cash_order_qty"] = num(order.quote_volume, _qd(order.pair))
    if order.post_only:
        out["post_only"] = True
    if "nompp" in order.flags:
        out["no_mpp"] = True
    if order.start_ns:
        out["effective_time"] = ts(order.start_ns)
    if order.expire_ns:
        out["expire_time"] = ts(order.expire_ns)
    if order.close is not None:
        out["contingent"] = _contingent(order.close, pd)


def order_details(
    order: SimOrder,
    exec_type: str,
    status: str,
    now_ns: int,
    *,
    cum_cost: Decimal | None = None,
    cum_fee: Decimal | None = None,
) -> Json:
    spec = order.pair
    cost = order.cost if cum_cost is None else cum_cost
    fee = order.fee if cum_fee is None else cum_fee
    out: Json = {
        "order_id": order.txid,
        "symbol": spec.symbol,
        "order_qty": num(order.vol, spec.lot_decimals),
        "cum_cost": num(cost, spec.cost_decimals),
        "time_in_force": order.tif,
        "exec_type": exec_type,
        "side": order.side,
        "order_type": current_type(order),
    }
    _ids(order, out)
    _terms(order, out)
    out["order_status"] = status
    out["fee_usd_equiv"] = num(fee, 4)
    out["fee_ccy_pref"] = "fcib" if order.fee_in_base else "fciq"
    out["timestamp"] = ts(now_ns)
    return out


def _fill_fields(f: Fill, out: Json) -> None:
    spec = f.pair
    out.update(
        {
            "exec_id": f.txid,
            "exec_type": "trade",
            "trade_id": f.trade_id,
            "symbol": spec.symbol,
            "side": f.side,
            "last_qty": num(f.vol, spec.lot_decimals),
            "last_price": num(f.price, spec.pair_decimals),
            "liquidity_ind": "m" if f.maker else "t",
            "cost": num(f.cost, spec.cost_decimals),
        }
    )


def _fees(f: Fill) -> list[Json]:
    asset = f.fee_asset or f.pair.quote
    decimals = ASSETS[asset].decimals if asset in ASSETS else _qd(f.pair)
    return [{"asset": asset, "qty": num(f.fee, decimals)}]


def _sparse(ev: ExecEvent, out: Json) -> Json:
    """`new`, `status` and `iceberg_refill`: the event, the ids, little else (real `new`)."""
    order = ev.order
    if ev.exec_type == "status":
        out["order_type"] = current_type(order)
        out["triggers"] = _triggers(order)
        if ev.reason:
            out["reason"] = ev.reason
    elif ev.exec_type == "iceberg_refill" and order.display is not None:
        out["display_qty"] = num(order.display, order.pair.lot_decimals)
        out["cum_qty"] = num(ev.cum_qty, order.pair.lot_decimals)
    _ids(order, out)
    out["order_id"] = order.txid
    return out


def exec_report(ev: ExecEvent) -> Json:
    order, spec = ev.order, ev.order.pair
    pd, ld = spec.pair_decimals, spec.lot_decimals
    avg = ev.cum_cost / ev.cum_qty if ev.cum_qty else _ZERO
    if ev.exec_type == "pending_new":
        return order_details(
            order,
            "pending_new",
            "pending_new",
            ev.time_ns,
            cum_cost=ev.cum_cost,
            cum_fee=ev.cum_fee,
        )
    if ev.exec_type in ("new", "status", "iceberg_refill"):
        head: Json = {
            "timestamp": ts(ev.time_ns),
            "order_status": ev.order_status,
            "exec_type": ev.exec_type,
        }
        return _sparse(ev, head)
    if ev.exec_type == "amended":
        return _amended(ev)
    if ev.exec_type == "trade" and ev.fill is not None:
        out: Json = {"order_id": order.txid}
        _ids(order, out)
        _fill_fields(ev.fill, out)
        out.update(
            {
                "order_type": current_type(order),
                "timestamp": ts(ev.time_ns),
                "order_status": ev.order_status,
                "cum_qty": num(ev.cum_qty, ld),
                "cum_cost": num(ev.cum_cost, spec.cost_decimals),
                "avg_price": num(avg, pd),
                "fee_usd_equiv": num(ev.fill.fee, 4),
                "fees": _fees(ev.fill),
            }
        )
        return out
    out = {
        "timestamp": ts(ev.time_ns),
        "order_status": ev.order_status,
        "exec_type": ev.exec_type,
        "cum_qty": num(ev.cum_qty, ld),
        "cum_cost": num(ev.cum_cost, spec.cost_decimals),
        "fee_usd_equiv": num(ev.cum_fee, 4),
        "avg_price": num(avg, pd),
    }
    _ids(order, out)
    if ev.exec_type in ("canceled", "expired"):
        out["cancel_reason"] = ev.reason or "User requested"
        out["reason"] = ev.reason or "User requested"
    out["order_id"] = order.txid
    return out


def _amended(ev: ExecEvent) -> Json:
    """As the real report (vectors ws_executions_amended*, roq lifecycle capture): the new
    quantity and limit price; a trigger order also carries its `triggers` (not captured
    from Kraken: the same object its `status` reports carry)."""
    order, spec = ev.order, ev.order.pair
    out: Json = {
        "timestamp": ts(ev.time_ns),
        "exec_type": "amended",
        "order_status": ev.order_status,
        "cum_qty": num(ev.cum_qty, spec.lot_decimals),
        "reason": ev.reason or "User requested",
        "amended": True,
        "order_qty": num(order.vol, spec.lot_decimals),
    }
    limit = order.price if order.ordertype == "limit" else order.limit
    if limit is not None:
        out["limit_price"] = num(limit, spec.pair_decimals)
        out["limit_price_type"] = "static"
    if order.is_trigger:
        out["triggers"] = _triggers(order)
    _ids(order, out)
    out["order_id"] = order.txid
    return out


def open_order_row(order: SimOrder, now_ns: int) -> Json:
    if order.status == "pending":
        status = "pending_new"  # scheduled (starttm): not live yet
    else:
        status = "partially_filled" if order.vol_exec else "new"
    out = order_details(order, "new", status, order.opentm_ns)
    spec = order.pair
    out["cum_qty"] = num(order.vol_exec, spec.lot_decimals)
    out["avg_price"] = num(order.avg_price, spec.pair_decimals)
    return out


def trade_snapshot_row(f: Fill, order: SimOrder | None) -> Json:
    out: Json = {"order_id": f.ordertxid}
    if order is not None:
        _ids(order, out)
    _fill_fields(f, out)
    out.update(
        {
            "order_status": "filled",
            "order_type": f.ordertype,
            "timestamp": ts(f.time_ns),
            "fee_usd_equiv": num(f.fee, 4),
            "fees": _fees(f),
        }
    )
    return out


def executions(kind: str, data: list[Json], sequence: int) -> Json:
    return {"channel": "executions", "type": kind, "data": data, "sequence": sequence}


def balances_snapshot(balances: dict[str, Decimal], sequence: int) -> Json:
    rows = []
    for code, amount in sorted(balances.items()):
        spec = ASSETS.get(code)
        if spec is None:
            continue
        value = num(amount, spec.decimals)
        rows.append(
            {
                "asset": code,
                "asset_class": "currency",
                "wallets": [{"type": "spot", "id": "main", "balance": value}],
                "balance": value,
            }
        )
    return {"channel": "balances", "type": "snapshot", "data": rows, "sequence": sequence}


def ledger_row(ev: LedgerEvent) -> Json:
    d = ASSETS[ev.asset].decimals
    return {
        "ledger_id": ev.ledger_id,
        "ref_id": ev.ref_id,
        "timestamp": ts(ev.time_ns),
        "type": "trade",
        "asset": ev.asset,
        "asset_class": "currency",
        "category": "trade",
        "wallet_type": "spot",
        "wallet_id": "main",
        "amount": num(ev.amount, d),
        "fee": num(ev.fee, d),
        "balance": num(ev.balance, d),
    }


def balances_update(rows: list[Json], sequence: int) -> Json:
    return {"channel": "balances", "type": "update", "data": rows, "sequence": sequence}

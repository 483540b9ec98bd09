"""The executions row decoder as it was before it was made faster (commit 2bac623), kept as
the reference tests/property/test_exec_decode_fast.py holds the fast one to: keyword-argument
dataclass construction, Enum calls, an OrderTerms built and read back, `ws_price` for every
limit price. Only what changed is copied; helpers that did not change are imported."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from krakenbot.domain.enums import ExecType, Liquidity, OrderType, Side
from krakenbot.domain.events import ExecutionReport, Fill, RateCounter
from krakenbot.domain.order_terms import ContingentOrder, OrderPrice
from krakenbot.kraken.order_fields import ws_price
from krakenbot.kraken.ws_order_terms import (
    _TERM_FIELDS,
    OrderTerms,
    _opt_price,
    _tif,
    _trigger,
)
from krakenbot.kraken.ws_private import _ORDER_STATUS, _fees
from krakenbot.kraken.ws_scalars import (
    MalformedError,
    dec,
    opt_bool,
    opt_dec,
    opt_int,
    opt_str,
    opt_ts,
    string,
)


def _order_type(value: object) -> OrderType:
    try:
        return OrderType(string(value))
    except ValueError as exc:
        raise MalformedError(f"unknown order_type {value!r}") from exc


def _contingent(row: Mapping[str, Any]) -> ContingentOrder | None:
    raw = row.get("contingent")
    if raw is None:
        return None
    if type(raw) is not dict:
        raise MalformedError("contingent is not an object")
    return ContingentOrder(
        order_type=_order_type(raw.get("order_type")),
        trigger_price=_opt_price(raw, "trigger_price", "trigger_price_type"),
        limit_price=_opt_price(raw, "limit_price", "limit_price_type"),
    )


def _limit(
    row: Mapping[str, Any], order_type: OrderType | None
) -> tuple[Decimal | None, OrderPrice | None]:
    value = opt_dec(row.get("limit_price"))
    if value is None:
        return None, None
    kind = opt_str(row.get("limit_price_type")) or "static"
    if order_type is OrderType.TRAILING_STOP_LIMIT:
        sign = "-" if value < 0 else "+"
        return None, OrderPrice(abs(value), sign, kind == "pct")
    price = ws_price(value, kind)
    return (price.value, None) if price.is_absolute else (None, price)


def read_terms(row: Mapping[str, Any]) -> OrderTerms:
    raw_type = row.get("order_type")
    order_type = None if raw_type is None else _order_type(raw_type)
    tif = row.get("time_in_force")
    limit_price, limit_offset = _limit(row, order_type)
    expire = row.get("expire_time")
    effective = row.get("effective_time")
    display = row.get("display_qty")
    return OrderTerms(
        order_type=order_type,
        time_in_force=None if tif is None else _tif(tif),
        limit_price=limit_price,
        limit_offset=limit_offset,
        trigger=_trigger(row, order_type),
        display_qty=None if display is None else dec(display),
        effective_ns=None if effective is None else opt_ts(effective),
        expire_ns=None if expire is None else opt_ts(expire),
        margin=opt_bool(row.get("margin")),
        reduce_only=opt_bool(row.get("reduce_only")),
        contingent=_contingent(row),
    )


def decode_terms(row: Mapping[str, Any]) -> OrderTerms:
    if _TERM_FIELDS.isdisjoint(row):
        return OrderTerms()
    return read_terms(row)


def _fill(row: Mapping[str, Any], order_id: str, cl_ord_id: str | None, ts: int) -> Fill:
    fee, fee_asset = _fees(row)
    liquidity = row.get("liquidity_ind")
    return Fill(
        trade_id=string(row["exec_id"]),
        order_id=order_id,
        cl_ord_id=cl_ord_id,
        symbol=string(row["symbol"]),
        side=Side(row["side"]),
        price=dec(row["last_price"]),
        qty=dec(row["last_qty"]),
        cost=dec(row["cost"]),
        fee=fee,
        fee_asset=fee_asset,
        liquidity=None if liquidity is None else Liquidity(liquidity),
        exchange_ns=ts,
    )


def _rate_counter(row: Mapping[str, Any], recv_ns: int) -> RateCounter:
    count = dec(row["ratecount"])
    if count < 0:
        raise MalformedError(f"negative ratecount: {count}")
    return RateCounter(
        symbol=opt_str(row.get("symbol")) or "",
        count=count,
        recv_ns=recv_ns,
        order_id=opt_str(row.get("order_id")),
    )


def decode_execution_rows(
    row: Any, is_snapshot: bool, sequence: int | None, recv_ns: int
) -> list[ExecutionReport | RateCounter]:
    if type(row) is not dict:
        raise MalformedError("execution row is not an object")
    counter = _rate_counter(row, recv_ns) if "ratecount" in row else None
    if "exec_type" not in row:
        if counter is None:
            raise MalformedError("execution row has neither exec_type nor ratecount")
        return [counter]
    exec_type = ExecType(row["exec_type"])
    order_id = string(row["order_id"])
    cl_ord_id = opt_str(row.get("cl_ord_id"))
    ts = opt_ts(row.get("timestamp"))
    side = row.get("side")
    terms = decode_terms(row)
    out: list[ExecutionReport | RateCounter] = [
        ExecutionReport(
            exec_type=exec_type,
            order_id=order_id,
            cl_ord_id=cl_ord_id,
            order_status=_ORDER_STATUS[string(row["order_status"])],
            exchange_ns=ts,
            symbol=opt_str(row.get("symbol")),
            side=None if side is None else Side(side),
            order_type=terms.order_type,
            order_qty=opt_dec(row.get("order_qty")),
            limit_price=terms.limit_price,
            time_in_force=terms.time_in_force,
            post_only=opt_bool(row.get("post_only")),
            cum_qty=opt_dec(row.get("cum_qty")),
            cum_cost=opt_dec(row.get("cum_cost")),
            avg_price=opt_dec(row.get("avg_price")),
            fill=_fill(row, order_id, cl_ord_id, ts) if exec_type is ExecType.TRADE else None,
            reason=opt_str(row.get("reason")),
            order_userref=opt_int(row.get("order_userref")),
            is_snapshot=is_snapshot,
            sequence=sequence,
            recv_ns=recv_ns,
            limit_offset=terms.limit_offset,
            trigger=terms.trigger,
            display_qty=terms.display_qty,
            effective_ns=terms.effective_ns,
            expire_ns=terms.expire_ns,
            margin=terms.margin,
            reduce_only=terms.reduce_only,
            contingent=terms.contingent,
        )
    ]
    if counter is not None:
        out.append(counter)
    return out

"""The order terms of a WebSocket v2 `executions` report (pure): order type, limit price
(absolute or relative), trigger, iceberg, times, margin and the conditional close.

Owns: `OrderTerms` and `decode_terms(row)`. Imports: stdlib, domain and kraken only.
Fields (docs: websocket-v2/executions; API.md §7.5): `order_type` (the ten REST types),
`limit_price` + `limit_price_type` (`static` | `quote` | `pct`), `triggers{reference, price,
price_type, actual_price, peak_price, last_price, status, timestamp}`, deprecated
`stop_price` / `trigger` (still sent; used only when `triggers` is absent),
`display_qty`, `effective_time`, `expire_time`, `margin`, `reduce_only`,
`contingent{order_type, trigger_price, trigger_price_type, limit_price, limit_price_type}`.
A trailing-stop-limit's `limit_price` is always an offset from its trigger price (docs:
websocket-v2/add_order `limit_price_type`: "for trailing-stop-limit order type, the value
represents offset from the trigger price"), so it is never read as a price.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from krakenbot.domain.enums import OrderType, TimeInForce, TriggerReference
from krakenbot.domain.order_terms import ContingentOrder, OrderPrice, TriggerState
from krakenbot.kraken.order_fields import ws_price
from krakenbot.kraken.ws_scalars import (
    MalformedError,
    dec,
    opt_bool,
    opt_dec,
    opt_str,
    opt_ts,
    string,
)

# executions prints time_in_force upper case (GTC), add_order takes it lower case (API.md 7.5).
_TIF = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "gtd": TimeInForce.GTD}


@dataclass(frozen=True, slots=True)
class OrderTerms:
    order_type: OrderType | None = None
    time_in_force: TimeInForce | None = None
    limit_price: Decimal | None = None  # an absolute limit price
    limit_offset: OrderPrice | None = None  # a relative one (then limit_price is None)
    trigger: TriggerState | None = None
    display_qty: Decimal | None = None
    effective_ns: int | None = None
    expire_ns: int | None = None
    margin: bool | None = None
    reduce_only: bool | None = None
    contingent: ContingentOrder | None = None


_ORDER_TYPES = {member.value: member for member in OrderType}


def _order_type(value: object) -> OrderType:
    found = _ORDER_TYPES.get(value) if type(value) is str else None
    if found is not None:
        return found  # what OrderType(value) gives, without the Enum call
    try:
        return OrderType(string(value))
    except ValueError as exc:
        raise MalformedError(f"unknown order_type {value!r}") from exc


def _opt_price(row: Mapping[str, Any], name: str, type_name: str) -> OrderPrice | None:
    value = opt_dec(row.get(name))
    if value is None:
        return None
    return ws_price(value, opt_str(row.get(type_name)))


def _trigger(row: Mapping[str, Any], order_type: OrderType | None) -> TriggerState | None:
    triggers = row.get("triggers")
    if triggers is not None:
        if type(triggers) is not dict:
            raise MalformedError("triggers is not an object")
        price = _opt_price(triggers, "price", "price_type")
        if price is None:
            raise MalformedError("triggers without a price")
        return TriggerState(
            reference=TriggerReference(triggers.get("reference") or "last"),
            price=price,
            status=opt_str(triggers.get("status")),
            actual_price=opt_dec(triggers.get("actual_price")),
            peak_price=opt_dec(triggers.get("peak_price")),
            last_price=opt_dec(triggers.get("last_price")),
            timestamp_ns=opt_ts(triggers.get("timestamp")),
        )
    # Older reports: the deprecated `stop_price` / `trigger` only (0 on non-trigger orders).
    stop = opt_dec(row.get("stop_price"))
    if order_type is None or not order_type.is_triggered or not stop:
        return None
    reference = TriggerReference(row.get("trigger") or "last")
    return TriggerState(reference=reference, price=OrderPrice(stop))


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
    if kind == "static" and value >= 0 and order_type is not OrderType.TRAILING_STOP_LIMIT:
        # What ws_price gives (an absolute OrderPrice of a finite non-negative value, whose
        # value is all we keep) without building it; anything else takes the long way below.
        return value, None
    if order_type is OrderType.TRAILING_STOP_LIMIT:
        # An offset from the trigger price whatever its unit (see the module docstring).
        sign = "-" if value < 0 else "+"
        return None, OrderPrice(abs(value), sign, kind == "pct")
    price = ws_price(value, kind)
    return (price.value, None) if price.is_absolute else (None, price)


# Every field decode_terms reads: a report without any (e.g. Kraken's `new` and `canceled`
# updates, which name only the order) has no terms to read.
_TERM_FIELDS = frozenset(
    {
        "order_type",
        "time_in_force",
        "limit_price",
        "limit_price_type",
        "triggers",
        "stop_price",
        "trigger",
        "expire_time",
        "effective_time",
        "display_qty",
        "margin",
        "reduce_only",
        "contingent",
    }
)
# OrderTerms' fields as a tuple, in its field order: the executions decoder unpacks them
# straight into the report instead of building an OrderTerms only to read it back.
TermValues = tuple[
    OrderType | None,
    TimeInForce | None,
    Decimal | None,
    OrderPrice | None,
    TriggerState | None,
    Decimal | None,
    int | None,
    int | None,
    bool | None,
    bool | None,
    ContingentOrder | None,
]
_NO_TERM_VALUES: TermValues = (None,) * 11
_NO_TERMS = OrderTerms(*_NO_TERM_VALUES)


def decode_terms(row: Mapping[str, Any]) -> OrderTerms:
    """The order's terms as a report prints them (all None for a report that names none)."""
    if _TERM_FIELDS.isdisjoint(row):
        return _NO_TERMS
    return read_terms(row)


def term_values(row: Mapping[str, Any]) -> TermValues:
    """`decode_terms(row)`'s fields, in OrderTerms order, as a tuple."""
    if _TERM_FIELDS.isdisjoint(row):
        return _NO_TERM_VALUES
    return _read_values(row)


def read_terms(row: Mapping[str, Any]) -> OrderTerms:
    return OrderTerms(*_read_values(row))


def _read_values(row: Mapping[str, Any]) -> TermValues:
    get = row.get
    raw_type = get("order_type")
    order_type = None if raw_type is None else _order_type(raw_type)
    tif = get("time_in_force")
    limit_price, limit_offset = _limit(row, order_type)  # before the TIF: the same first error
    tif_value = None if tif is None else _tif(tif)
    trigger = _trigger(row, order_type)
    display = get("display_qty")
    effective = get("effective_time")
    expire = get("expire_time")
    return (
        order_type,
        tif_value,
        limit_price,
        limit_offset,
        trigger,
        None if display is None else dec(display),
        None if effective is None else opt_ts(effective),
        None if expire is None else opt_ts(expire),
        opt_bool(get("margin")),
        opt_bool(get("reduce_only")),
        None if "contingent" not in row else _contingent(row),
    )


def _tif(value: object) -> TimeInForce:
    tif = _TIF.get(str(value).lower())
    if tif is None:
        raise MalformedError(f"unknown time_in_force {value!r}")
    return tif

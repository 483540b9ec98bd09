"""Kraken's order field grammars, shared by the REST and WebSocket v2 order decoders (pure).

Owns: reading (and writing) relative prices, trigger references, leverage and order flags
as Kraken prints them. Imports: stdlib and domain only.

Facts (docs: rest-api/add-order, get-open-orders; websocket-v2/add_order, executions):
* REST `price` / `price2` (and OpenOrders `descr.price` / `descr.price2`): an absolute price,
  or an offset "preceded by `+`, `-`, or `#`" and optionally "suffixed with a `%`" — e.g. a
  real trailing stop prints `descr.price: "+50.0000%"` (ccxt fixture, 2024-02).
* WS v2 carries the number and its unit apart: `price_type` / `limit_price_type` is `static`
  (a price), `quote` (an offset in quote currency) or `pct` (a percentage offset); the
  direction rides the number's sign.
* `trigger` is `last` (the default when the field is absent) or `index`.
* `descr.leverage` is `none` or `<n>:1`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from krakenbot.domain.enums import TriggerReference
from krakenbot.domain.order_terms import OrderPrice

_PRICE = re.compile(r"^([+#-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(%?)$")
_LEVERAGE = re.compile(r"^([0-9]+(?:\.[0-9]+)?):1$")
WS_PRICE_TYPES = ("static", "quote", "pct")
OFLAGS = frozenset({"post", "fcib", "fciq", "nompp", "viqc"})


def parse_price(text: object) -> OrderPrice:
    """`30010.0` → absolute; `+50.0000%` → +50 percent; `-0.5` → 0.5 below; `#1` → by side.

    Raises ValueError for anything else (the caller reports the order as unreadable)."""
    if isinstance(text, Decimal | int) and not isinstance(text, bool):
        value = Decimal(text)
        if value < 0:
            return OrderPrice(-value, "-")
        return OrderPrice(value)
    if not isinstance(text, str):
        raise ValueError(f"price is not text: {text!r}")
    match = _PRICE.match(text.strip())
    if match is None:
        raise ValueError(f"unreadable price {text!r}")
    sign, number, pct = match.groups()
    if pct and not sign:
        raise ValueError(f"a percentage price needs +, - or #: {text!r}")
    try:
        return OrderPrice(Decimal(number), sign, bool(pct))
    except InvalidOperation as exc:
        raise ValueError(f"unreadable price {text!r}") from exc


def format_price(price: OrderPrice) -> str:
    """The REST form of a price (the inverse of `parse_price`)."""
    return str(price)


def ws_price(value: Decimal, price_type: str | None) -> OrderPrice:
    """A WS v2 number with its `price_type` (absent = static) as an OrderPrice."""
    kind = price_type or "static"
    if kind not in WS_PRICE_TYPES:
        raise ValueError(f"unknown price_type {price_type!r}")
    if kind == "static":
        return OrderPrice(value)
    sign = "-" if value < 0 else "+"
    return OrderPrice(abs(value), sign, kind == "pct")


def parse_trigger(value: object) -> TriggerReference | None:
    """`last` / `index`; None when Kraken printed no `trigger` (it then means `last`)."""
    if value is None or value == "":
        return None
    return TriggerReference(str(value))


def parse_leverage(value: object) -> Decimal | None:
    """`none` → None; `5:1` → 5."""
    if value is None or value in ("", "none"):
        return None
    match = _LEVERAGE.match(str(value))
    if match is None:
        raise ValueError(f"unreadable leverage {value!r}")
    return Decimal(match.group(1))


def parse_flags(value: object) -> tuple[str, ...]:
    """`post,fciq` → ("post", "fciq"). Unknown flags are kept as written (new ones appear)."""
    return tuple(f.strip() for f in str(value or "").split(",") if f.strip())

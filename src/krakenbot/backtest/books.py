"""The book a candle's close implies, built for the engine at every candle (pure).

Owns: `candle_book` — the very objects `BookTop(symbol, (PriceLevel(bid, qty),),
(PriceLevel(ask, qty),), True, t, t)` makes, built without the dataclasses' generated
`__init__`s (they set each field through `object.__setattr__`: most of a candle's book's
cost) by filling each slot through its descriptor. Done so only while the classes declare
exactly these fields, with no defaults to work out and no `__post_init__` (`plain`, checked
once at import): otherwise the constructors themselves are called, so nothing a
constructor does is ever skipped. The objects stay frozen (setting a field raises).
Imports: domain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from krakenbot.domain.events import BookTop, PriceLevel

_BOOK_FIELDS = ("symbol", "bids", "asks", "verified", "exchange_ns", "recv_ns")
_LEVEL_FIELDS = ("price", "qty")


def plain(cls: type, names: tuple[str, ...]) -> bool:
    """Whether `cls` is a slotted dataclass of exactly `names` whose `__init__` only sets
    them (no `__post_init__`, no default factory, no init-only or non-init field)."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return False
    fields = dataclasses.fields(cls)
    return (
        tuple(f.name for f in fields) == names
        and tuple(getattr(cls, "__slots__", ())) == names
        and all(f.init and f.default_factory is dataclasses.MISSING for f in fields)
    )


def _setters(cls: type, names: tuple[str, ...]) -> list[Callable[[Any, Any], None]]:
    return [vars(cls)[name].__set__ for name in names]


def _plain_book(symbol: str, bid: Decimal, ask: Decimal, qty: Decimal, t_ns: int) -> BookTop:
    return BookTop(symbol, (PriceLevel(bid, qty),), (PriceLevel(ask, qty),), True, t_ns, t_ns)


def _fast() -> Callable[[str, Decimal, Decimal, Decimal, int], BookTop]:
    if not (plain(BookTop, _BOOK_FIELDS) and plain(PriceLevel, _LEVEL_FIELDS)):
        return _plain_book
    new = object.__new__
    set_price, set_qty = _setters(PriceLevel, _LEVEL_FIELDS)
    s_symbol, s_bids, s_asks, s_verified, s_exchange, s_recv = _setters(BookTop, _BOOK_FIELDS)

    def book(symbol: str, bid: Decimal, ask: Decimal, qty: Decimal, t_ns: int) -> BookTop:
        b = new(PriceLevel)
        set_price(b, bid)
        set_qty(b, qty)
        a = new(PriceLevel)
        set_price(a, ask)
        set_qty(a, qty)
        top = new(BookTop)
        s_symbol(top, symbol)
        s_bids(top, (b,))
        s_asks(top, (a,))
        s_verified(top, True)
        s_exchange(top, t_ns)
        s_recv(top, t_ns)
        return top

    return book


candle_book = _fast()
"""`candle_book(symbol, bid, ask, qty, t_ns)`: the verified one-level book at `t_ns`."""

__all__ = ["candle_book", "plain"]

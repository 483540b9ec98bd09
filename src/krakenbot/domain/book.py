"""A local L2 order book that keeps the exact wire text of every level.

Owns: `OrderBook` — snapshot + updates applied in message order, qty 0 deletes, truncation to
the subscribed depth, top-N views. Imports: stdlib and domain only (it knows nothing of Kraken:
the venue's checksum rule is injected as a per-level `fragment` function and the session
verifies with it).

Why text: exchange checksums are computed over the printed digits, and a float (or even a
normalised Decimal) loses trailing zeros. Each level keeps its `(price_text, qty_text)` and the
pre-built checksum fragment, so verifying a message costs one join and one CRC.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation

from krakenbot.domain.events import BookTop, PriceLevel

Level = tuple[str, str]  # (price_text, qty_text) exactly as printed by the venue
FragmentFn = Callable[[str, str], str]


def _no_fragment(price_text: str, qty_text: str) -> str:
    return ""


class BookError(ValueError):
    """A book message carried a level that is not a valid non-negative number."""


def _is_zero(text: str) -> bool:
    # Fast path for the fixed-point wire form ("0.00000000"); exponent forms go via Decimal.
    if "e" in text or "E" in text:
        return Decimal(text) == 0
    return not text.strip("0.")


class _Side:
    """One side of the book: levels keyed by exact price, plus an ascending key list."""

    __slots__ = ("keys", "levels")

    def __init__(self) -> None:
        self.levels: dict[Decimal, tuple[str, str, str]] = {}
        self.keys: list[Decimal] = []  # ascending for both sides

    def clear(self) -> None:
        self.levels.clear()
        self.keys.clear()

    def set(self, price: Decimal, entry: tuple[str, str, str]) -> None:
        if price not in self.levels:
            insort(self.keys, price)
        self.levels[price] = entry

    def delete(self, price: Decimal) -> None:
        if self.levels.pop(price, None) is not None:
            del self.keys[bisect_left(self.keys, price)]


class OrderBook:
    """L2 book for one symbol.

    `depth` is the subscribed depth (levels beyond it are dropped after every message, because
    the venue sends no delete for levels that fall out of range). With `price_decimals` /
    `qty_decimals` set, number text is re-formatted to that fixed precision first (for
    recordings whose numbers lost trailing zeros); otherwise the text is kept verbatim.
    """

    __slots__ = (
        "_asks",
        "_bids",
        "_fragment",
        "_price_decimals",
        "_qty_decimals",
        "depth",
        "exchange_ns",
        "symbol",
    )

    def __init__(
        self,
        symbol: str,
        depth: int = 10,
        *,
        fragment: FragmentFn | None = None,
        price_decimals: int | None = None,
        qty_decimals: int | None = None,
    ) -> None:
        if depth < 1:
            raise ValueError("depth must be >= 1")
        self.symbol = symbol
        self.depth = depth
        self.exchange_ns = 0
        self._fragment: FragmentFn = fragment or _no_fragment
        self._price_decimals = price_decimals
        self._qty_decimals = qty_decimals
        self._bids = _Side()
        self._asks = _Side()

    # ---- mutation -------------------------------------------------------------------------

    def apply_snapshot(
        self, bids: Sequence[Level], asks: Sequence[Level], exchange_ns: int = 0
    ) -> None:
        """Replace the whole book."""
        self._bids.clear()
        self._asks.clear()
        self.apply_update(bids, asks, exchange_ns)

    def apply_update(
        self, bids: Sequence[Level], asks: Sequence[Level], exchange_ns: int = 0
    ) -> None:
        """Apply every level in message order (qty 0 deletes), then truncate to depth.

        Raises BookError on a level that is not a non-negative number; the book may then be
        partly updated and must be treated as invalid until the next snapshot.
        """
        self._apply_side(self._bids, bids)
        self._apply_side(self._asks, asks)
        depth = self.depth
        # Bids keep the highest prices (the end of the ascending list), asks the lowest.
        side = self._bids
        while len(side.keys) > depth:
            del side.levels[side.keys.pop(0)]
        side = self._asks
        while len(side.keys) > depth:
            del side.levels[side.keys.pop()]
        if exchange_ns:
            self.exchange_ns = exchange_ns

    def _apply_side(self, side: _Side, levels: Iterable[Level]) -> None:
        fragment = self._fragment
        pdec = self._price_decimals
        qdec = self._qty_decimals
        for raw_price, raw_qty in levels:
            price_text, qty_text = raw_price, raw_qty
            try:
                if pdec is not None:
                    price_text = _fixed(raw_price, pdec)
                if qdec is not None:
                    qty_text = _fixed(raw_qty, qdec)
                price = Decimal(price_text)
                zero = _is_zero(qty_text)
            except (InvalidOperation, ValueError, TypeError) as exc:
                raise BookError(f"bad level {price_text!r} {qty_text!r}") from exc
            if zero:
                side.delete(price)
            elif qty_text.startswith("-") or not price.is_finite() or price <= 0:
                raise BookError(f"bad level {price_text!r} {qty_text!r}")
            else:
                side.set(price, (price_text, qty_text, fragment(price_text, qty_text)))

    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()

    # ---- views ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._bids.keys) + len(self._asks.keys)

    def bid_levels(self, n: int | None = None) -> list[Level]:
        """Best (highest) first."""
        side = self._bids
        keys = side.keys if n is None else side.keys[-n:]
        return [side.levels[k][:2] for k in reversed(keys)]

    def ask_levels(self, n: int | None = None) -> list[Level]:
        """Best (lowest) first."""
        side = self._asks
        keys = side.keys if n is None else side.keys[:n]
        return [side.levels[k][:2] for k in keys]

    def bid_fragments(self, n: int) -> list[str]:
        side = self._bids
        levels = side.levels
        return [levels[k][2] for k in reversed(side.keys[-n:])]

    def ask_fragments(self, n: int) -> list[str]:
        levels = self._asks.levels
        return [levels[k][2] for k in self._asks.keys[:n]]

    def best_bid(self) -> Decimal | None:
        return self._bids.keys[-1] if self._bids.keys else None

    def best_ask(self) -> Decimal | None:
        return self._asks.keys[0] if self._asks.keys else None

    def top(self, n: int, *, verified: bool, recv_ns: int = 0) -> BookTop:
        """An immutable top-N view for the engine (Decimal levels built only here)."""
        return BookTop(
            symbol=self.symbol,
            bids=tuple(
                PriceLevel(k, Decimal(self._bids.levels[k][1]))
                for k in reversed(self._bids.keys[-n:])
            ),
            asks=tuple(
                PriceLevel(k, Decimal(self._asks.levels[k][1])) for k in self._asks.keys[:n]
            ),
            verified=verified,
            exchange_ns=self.exchange_ns,
            recv_ns=recv_ns,
        )


def _fixed(text: str, decimals: int) -> str:
    """Pad number text to `decimals` places exactly (never rounds; too many digits is an error)."""
    value = Decimal(text)
    fixed = value.quantize(Decimal(1).scaleb(-decimals))
    if fixed != value:
        raise ValueError(f"{text!r} has more than {decimals} decimals")
    return f"{fixed:f}"

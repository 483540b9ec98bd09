"""A local L2 order book that keeps the exact wire text of every level.

Owns: `OrderBook` — snapshot + updates applied in message order, qty 0 deletes, truncation to
the subscribed depth, top-N views. Imports: stdlib and domain only (it knows nothing of Kraken:
the venue's checksum rule is injected as a per-level `fragment` function and the session
verifies with it).

Why text: exchange checksums are computed over the printed digits, and a float (or even a
normalised Decimal) loses trailing zeros. Each level keeps its `(price_text, qty_text)` and the
pre-built checksum fragment, so verifying a message costs one join and one CRC. Levels are
keyed by their price text (a venue prints one price one way; with `price_decimals` set the
text is re-padded to a canonical form first), and a Decimal is built only when a new price
level appears, for ordering.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

from krakenbot.domain.events import BookTop, PriceLevel

Level = tuple[str, str]  # (price_text, qty_text) exactly as printed by the venue
FragmentFn = Callable[[str, str], str]
_Entry = tuple[Decimal, str, str]  # (price, qty_text, fragment)


def _no_fragment(price_text: str, qty_text: str) -> str:
    return ""


class BookError(ValueError):
    """A book message carried a level that is not a valid non-negative number."""


class _Side:
    """One side: entries by price text plus an ascending list of (price, price_text)."""

    __slots__ = ("joined", "keys", "levels", "n_joined")

    def __init__(self) -> None:
        self.levels: dict[str, _Entry] = {}
        self.keys: list[tuple[Decimal, str]] = []  # ascending for both sides
        self.joined: bytes | None = None  # cached fragments of the best levels
        self.n_joined = 0

    def clear(self) -> None:
        self.levels.clear()
        self.keys.clear()
        self.joined = None


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
        depth = self.depth
        if bids:
            side = self._bids
            self._apply_side(side, bids)
            # Bids keep the highest prices (the end of the ascending list).
            while len(side.keys) > depth:
                del side.levels[side.keys.pop(0)[1]]
        if asks:
            side = self._asks
            self._apply_side(side, asks)
            while len(side.keys) > depth:
                del side.levels[side.keys.pop()[1]]
        if exchange_ns:
            self.exchange_ns = exchange_ns

    def _apply_side(self, side: _Side, levels: Sequence[Level]) -> None:
        side.joined = None
        fragment = self._fragment
        entries = side.levels
        keys = side.keys
        pdec = self._price_decimals
        qdec = self._qty_decimals
        refit = pdec is not None or qdec is not None  # one test per level on the live path
        for price_text, qty_text in levels:
            try:
                if refit:
                    if pdec is not None:
                        price_text = _fixed(price_text, pdec)  # noqa: PLW2901
                    if qdec is not None:
                        qty_text = _fixed(qty_text, qdec)  # noqa: PLW2901
                rest = qty_text.strip("0.")
                if not rest:
                    # The fixed-point wire form: zero iff only zeros and a point.
                    zero = qty_text != ""
                elif "e" in rest or "E" in rest:
                    zero = Decimal(qty_text) == 0
                else:
                    zero = False
                if zero:
                    old = entries.pop(price_text, None)
                    if old is not None:
                        del keys[bisect_left(keys, (old[0],))]
                    continue
                if qty_text[0] == "-":
                    raise BookError(f"negative qty {qty_text!r}")
                entry = entries.get(price_text)
                if entry is not None:
                    price = entry[0]
                else:
                    price = Decimal(price_text)
                    if not price.is_finite() or price <= 0:
                        raise BookError(f"bad price {price_text!r}")
                    insort(keys, (price, price_text))
            except (InvalidOperation, ValueError, TypeError, IndexError) as exc:
                raise BookError(f"bad level {price_text!r} {qty_text!r}") from exc
            entries[price_text] = (price, qty_text, fragment(price_text, qty_text))

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
        levels = side.levels
        return [(t, levels[t][1]) for _, t in reversed(keys)]

    def ask_levels(self, n: int | None = None) -> list[Level]:
        """Best (lowest) first."""
        side = self._asks
        keys = side.keys if n is None else side.keys[:n]
        levels = side.levels
        return [(t, levels[t][1]) for _, t in keys]

    def bid_fragments(self, n: int) -> list[str]:
        levels = self._bids.levels
        return [levels[t][2] for _, t in reversed(self._bids.keys[-n:])]

    def ask_fragments(self, n: int) -> list[str]:
        levels = self._asks.levels
        return [levels[t][2] for _, t in self._asks.keys[:n]]

    def fragments_joined(self, n: int) -> tuple[bytes, bytes]:
        """(asks, bids) fragments of the best `n` levels as ASCII bytes, each side cached
        until that side changes (most updates touch one side only)."""
        # Inlined ask_fragments/bid_fragments: this runs for every verified book message.
        asks = self._asks
        ask_joined = asks.joined
        if ask_joined is None or asks.n_joined != n:
            levels = asks.levels
            ask_joined = "".join([levels[t][2] for _, t in asks.keys[:n]]).encode("ascii")
            asks.joined = ask_joined
            asks.n_joined = n
        bids = self._bids
        bid_joined = bids.joined
        if bid_joined is None or bids.n_joined != n:
            levels = bids.levels
            bid_joined = "".join([levels[t][2] for _, t in reversed(bids.keys[-n:])]).encode(
                "ascii"
            )
            bids.joined = bid_joined
            bids.n_joined = n
        return ask_joined, bid_joined

    def best_bid(self) -> Decimal | None:
        return self._bids.keys[-1][0] if self._bids.keys else None

    def best_ask(self) -> Decimal | None:
        return self._asks.keys[0][0] if self._asks.keys else None

    def top(self, n: int, *, verified: bool, recv_ns: int = 0) -> BookTop:
        """An immutable top-N view for the engine (Decimal quantities built only here)."""
        bl = self._bids.levels
        al = self._asks.levels
        return BookTop(
            symbol=self.symbol,
            bids=tuple(PriceLevel(p, Decimal(bl[t][1])) for p, t in reversed(self._bids.keys[-n:])),
            asks=tuple(PriceLevel(p, Decimal(al[t][1])) for p, t in self._asks.keys[:n]),
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

"""A local L2 order book that keeps the exact wire text of every level.

Owns: `OrderBook` — snapshot + updates applied in message order, qty 0 deletes, truncation to
the subscribed depth, top-N views. Imports: stdlib and domain only (it knows nothing of Kraken:
the venue's checksum rule is injected as a per-number `fragment` function — a level's fragment
is its price fragment followed by its qty fragment — and the session verifies with it).

Why text: exchange checksums are computed over the printed digits, and a float (or even a
normalised Decimal) loses trailing zeros. Each side keeps its levels best-first in parallel
lists (sort key, (price text, qty text), level fragment), so verifying a message is one slice,
one join and one CRC, with no per-level Python work. Levels are found by their price text (a
venue prints one price one way; with `price_decimals` set the text is re-padded to a
canonical form first); a Decimal is built only when a new price level appears, for ordering,
and its price fragment is kept so a changed quantity rebuilds only the qty part.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

from krakenbot.domain.events import BookTop, PriceLevel

Level = tuple[str, str]  # (price_text, qty_text) exactly as printed by the venue
FragmentFn = Callable[[str], str]  # number text -> its checksum fragment


def _no_fragment(text: str) -> str:
    return ""


class BookError(ValueError):
    """A book message carried a level that is not a valid non-negative number."""


class _Side:
    """One side, best first. `keys` ascend on both sides: the price for asks, the negated
    price for bids, so index 0 is always the best level and truncation is one `del [depth:]`.
    `index` maps a price text to (key, price fragment). `view`: the engine's top-N levels
    (`OrderBook.top`), kept until this side changes (most messages touch one side only).
    `priced`: each level's `PriceLevel`, built on the first view that shows it and kept until
    that level changes, so a view after a one-level update builds one object, not N."""

    __slots__ = (
        "frags",
        "index",
        "joined",
        "keys",
        "levels",
        "n_joined",
        "n_view",
        "priced",
        "view",
    )

    def __init__(self) -> None:
        self.index: dict[str, tuple[Decimal, str]] = {}
        self.keys: list[Decimal] = []
        self.levels: list[Level] = []  # (price_text, qty_text), as the views return them
        self.frags: list[str] = []
        self.priced: list[PriceLevel | None] = []  # parallel to `levels`
        self.joined: bytes | None = None  # cached fragments of the best levels
        self.n_joined = 0
        self.view: tuple[PriceLevel, ...] | None = None
        self.n_view = 0

    def clear(self) -> None:
        self.index.clear()
        del self.keys[:], self.levels[:], self.frags[:], self.priced[:]
        self.joined = self.view = None

    def truncate(self, depth: int) -> None:
        index = self.index
        for text, _ in self.levels[depth:]:
            del index[text]
        del self.keys[depth:], self.levels[depth:], self.frags[depth:], self.priced[depth:]
        self.view = None


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
        "_refit",
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
        self._refit = price_decimals is not None or qty_decimals is not None
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
            self._apply_side(side, bids, True)
            if len(side.keys) > depth:
                side.truncate(depth)
        if asks:
            side = self._asks
            self._apply_side(side, asks, False)
            if len(side.keys) > depth:
                side.truncate(depth)
        if exchange_ns:
            self.exchange_ns = exchange_ns

    def _apply_side(self, side: _Side, levels: Sequence[Level], is_bid: bool) -> None:
        # Hot path (every book message): attributes are read only in the branch that needs
        # them, since most messages carry one or two levels.
        side.joined = side.view = None
        fragment = self._fragment
        index = side.index
        keys = side.keys
        refit = self._refit
        for price_text, qty_text in levels:
            try:
                if refit:
                    price_text, qty_text = self._refit_level(price_text, qty_text)  # noqa: PLW2901
                rest = qty_text.strip("0.")
                if not rest:
                    # The fixed-point wire form: zero iff only zeros and a point.
                    zero = qty_text != ""
                elif "e" in rest or "E" in rest:
                    zero = Decimal(qty_text) == 0
                else:
                    zero = False
                known = index.get(price_text)
                if zero:
                    if known is not None:
                        i = bisect_left(keys, known[0])
                        del keys[i], side.levels[i], side.frags[i], side.priced[i]
                        del index[price_text]
                    continue
                if qty_text[0] == "-":
                    raise BookError(f"negative qty {qty_text!r}")
                if known is not None:
                    i = bisect_left(keys, known[0])
                    side.levels[i] = (price_text, qty_text)
                    side.frags[i] = known[1] + fragment(qty_text)
                    side.priced[i] = None
                    continue
                price = Decimal(price_text)
                if not price.is_finite() or price <= 0:
                    raise BookError(f"bad price {price_text!r}")
            except (InvalidOperation, ValueError, TypeError, IndexError) as exc:
                raise BookError(f"bad level {price_text!r} {qty_text!r}") from exc
            self._insert(side, price, price_text, qty_text, is_bid)

    def _insert(
        self, side: _Side, price: Decimal, price_text: str, qty_text: str, is_bid: bool
    ) -> None:
        key = price.copy_negate() if is_bid else price  # exact: no context rounding
        keys = side.keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            # One value printed two ways ("10.0" and "10.00"): the checksum text would be
            # ambiguous, so the book cannot be trusted.
            raise BookError(f"price {price_text!r} already present as {side.levels[i][0]!r}")
        fragment = self._fragment
        price_frag = fragment(price_text)
        side.index[price_text] = (key, price_frag)
        keys.insert(i, key)
        side.levels.insert(i, (price_text, qty_text))
        side.frags.insert(i, price_frag + fragment(qty_text))
        side.priced.insert(i, None)

    def _refit_level(self, price_text: str, qty_text: str) -> Level:
        pdec = self._price_decimals
        qdec = self._qty_decimals
        return (
            price_text if pdec is None else _fixed(price_text, pdec),
            qty_text if qdec is None else _fixed(qty_text, qdec),
        )

    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()

    # ---- views ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._bids.keys) + len(self._asks.keys)

    def bid_levels(self, n: int | None = None) -> list[Level]:
        """Best (highest) first."""
        return self._bids.levels[:n]

    def ask_levels(self, n: int | None = None) -> list[Level]:
        """Best (lowest) first."""
        return self._asks.levels[:n]

    def bid_fragments(self, n: int) -> list[str]:
        return self._bids.frags[:n]

    def ask_fragments(self, n: int) -> list[str]:
        return self._asks.frags[:n]

    def fragments_joined(self, n: int) -> tuple[bytes, bytes]:
        """(asks, bids) fragments of the best `n` levels as ASCII bytes, each side cached
        until that side changes (most updates touch one side only)."""
        asks = self._asks
        ask_joined = asks.joined
        if ask_joined is None or asks.n_joined != n:
            ask_joined = asks.joined = "".join(asks.frags[:n]).encode("ascii")
            asks.n_joined = n
        bids = self._bids
        bid_joined = bids.joined
        if bid_joined is None or bids.n_joined != n:
            bid_joined = bids.joined = "".join(bids.frags[:n]).encode("ascii")
            bids.n_joined = n
        return ask_joined, bid_joined

    def best_bid(self) -> Decimal | None:
        keys = self._bids.keys
        return keys[0].copy_negate() if keys else None

    def best_ask(self) -> Decimal | None:
        keys = self._asks.keys
        return keys[0] if keys else None

    def top(self, n: int, *, verified: bool, recv_ns: int = 0) -> BookTop:
        """An immutable top-N view for the engine (Decimal quantities built only here, and
        again only for a side that changed since the last view)."""
        bids, asks = self._bids, self._asks
        bid_view, ask_view = bids.view, asks.view
        if bid_view is None or bids.n_view != n:
            bid_view = bids.view = _view(bids, n, True)
            bids.n_view = n
        if ask_view is None or asks.n_view != n:
            ask_view = asks.view = _view(asks, n, False)
            asks.n_view = n
        return BookTop(
            symbol=self.symbol,
            bids=bid_view,
            asks=ask_view,
            verified=verified,
            exchange_ns=self.exchange_ns,
            recv_ns=recv_ns,
        )


def _view(side: _Side, n: int, is_bid: bool) -> tuple[PriceLevel, ...]:
    """The best `n` levels as `PriceLevel`s, building only those not built since they last
    changed (the price from the sort key, exact; the qty from its wire text)."""
    priced = side.priced
    top = priced[:n]
    if None in top:
        keys, levels = side.keys, side.levels
        for i, level in enumerate(top):
            if level is None:
                key = keys[i]
                top[i] = priced[i] = PriceLevel(
                    key.copy_negate() if is_bid else key, Decimal(levels[i][1])
                )
    return tuple(top)  # type: ignore[arg-type]  # no None left


def _fixed(text: str, decimals: int) -> str:
    """Pad number text to `decimals` places exactly (never rounds; too many digits is an error)."""
    value = Decimal(text)
    fixed = value.quantize(Decimal(1).scaleb(-decimals))
    if fixed != value:
        raise ValueError(f"{text!r} has more than {decimals} decimals")
    return f"{fixed:f}"

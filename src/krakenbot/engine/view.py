"""The engine's live `StrategyView` and the round-trip tracker behind learning data/metrics.

Owns: `LiveView` (read-only window on the engine's books, instruments, portfolio and
working orders) and `RoundTrips` (when a position opens and closes: the outcome and PnL for
`learning_data`, the trade counts for `metrics`). Imports: domain, orders, strategy.
Pure and synchronous.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from krakenbot.domain.events import BookTop, Fill
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.portfolio import Portfolio, WorkingOrder
from krakenbot.orders.protection import PROTECT_TAG
from krakenbot.orders.registry import OrderRegistry

ZERO = Decimal(0)


class LiveView:
    """`strategy.base.StrategyView` over the engine's own state (no copies)."""

    def __init__(
        self,
        books: Mapping[str, BookTop],
        instruments: Mapping[str, Instrument],
        portfolio: Portfolio,
        registry: OrderRegistry,
    ) -> None:
        self._books = books
        self._instruments = instruments
        self._portfolio = portfolio
        self._registry = registry

    def book(self, symbol: str) -> BookTop | None:
        return self._books.get(symbol)

    def instrument(self, symbol: str) -> Instrument | None:
        return self._instruments.get(symbol)

    def position(self, symbol: str) -> Decimal:
        return self._portfolio.position(symbol)

    def avg_entry(self, symbol: str) -> Decimal | None:
        return self._portfolio.avg_entry(symbol)

    def position_opened_ns(self, symbol: str) -> int | None:
        return self._portfolio.opened_ns(symbol)

    def working_orders(self, symbol: str) -> Sequence[WorkingOrder]:
        """Our live orders for `symbol` but the protective stops: the engine owns those (a
        strategy that cancelled or counted them could leave a position unprotected)."""
        return [w for w in self._registry.working(symbol) if w.tag != PROTECT_TAG]


@dataclass(frozen=True, slots=True)
class Closed:
    """A position went back to flat: the entries that opened it and the PnL it made."""

    symbol: str
    entry_ids: tuple[str, ...]
    pnl: Decimal

    @property
    def outcome(self) -> str:
        return "win" if self.pnl > 0 else "loss"


@dataclass(slots=True)
class _Open:
    realized_before: Decimal
    entry_ids: list[str] = field(default_factory=list)


class RoundTrips:
    """Feeds fills into a `Portfolio` and notices when positions open and close."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.portfolio = portfolio
        self.total = 0
        self.winning = 0
        self._open: dict[str, _Open] = {}

    def apply(self, fill: Fill) -> Closed | None:
        """Apply one fill (once per trade id); a `Closed` when it flattened the position."""
        portfolio = self.portfolio
        symbol = fill.symbol
        before = portfolio.position(symbol)
        realized_before = portfolio.realized_total
        if not portfolio.apply_fill(fill):
            return None
        after = portfolio.position(symbol)
        current = self._open.get(symbol)
        if before == 0 and after != 0:
            current = self._open[symbol] = _Open(realized_before)
        entry_id = fill.cl_ord_id if abs(after) > abs(before) else None
        if current is not None and entry_id and entry_id not in current.entry_ids:
            current.entry_ids.append(entry_id)
        if before != 0 and (after == 0 or (after > 0) != (before > 0)):
            opened = self._open.pop(symbol, None)
            start = opened.realized_before if opened is not None else realized_before
            pnl = portfolio.realized_total - start
            self.total += 1
            self.winning += pnl > 0
            if after != 0:  # flipped through zero: a new round trip starts
                self._open[symbol] = _Open(portfolio.realized_total)
            return Closed(symbol, tuple(opened.entry_ids) if opened else (), pnl)
        return None

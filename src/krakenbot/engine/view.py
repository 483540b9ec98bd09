"""The engine's live `StrategyView` and the round-trip tracker behind learning data/metrics.

Owns: `LiveView` (read-only window on the engine's books, instruments, portfolio and
working orders) and `RoundTrips` (the round trips the portfolio closes: the outcome and PnL
for `learning_data`, the trade counts for `metrics`). Imports: domain, orders, strategy.
Pure and synchronous.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from krakenbot.domain.events import BookTop, Fill
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.portfolio import Portfolio
from krakenbot.domain.working import WorkingOrder
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
        # Each pair's working orders as last asked, until an order changes (the registry's
        # version): every decision asks, orders change far less often.
        self._working: dict[str, tuple[int, tuple[WorkingOrder, ...]]] = {}

    @property
    def state_version(self) -> tuple[int, int]:
        """Changes whenever a fill or one of our orders changes what `position`,
        `avg_entry`, `position_opened_ns` or `working_orders` answer (not a `StrategyView`
        member: a strategy may use it, when present, as a cheap "nothing changed")."""
        return self._portfolio.version, self._registry.version

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
        registry = self._registry
        found = self._working.get(symbol)
        if found is None or found[0] != registry.version:
            views = tuple(w for w in registry.working(symbol) if w.tag != PROTECT_TAG)
            found = self._working[symbol] = (registry.version, views)
        return list(found[1])  # the caller's own list, as before


@dataclass(frozen=True, slots=True)
class Closed:
    """A position went back to flat: the entries that opened it and the PnL it made."""

    symbol: str
    entry_ids: tuple[str, ...]
    pnl: Decimal

    @property
    def outcome(self) -> str:
        return "win" if self.pnl > 0 else "loss"


class RoundTrips:
    """Feeds fills into a `Portfolio` and reports the round trips they close (for
    `learning_data`) and how many closed and won (for `metrics`)."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.portfolio = portfolio

    @property
    def total(self) -> int:
        return self.portfolio.closed_count

    @property
    def winning(self) -> int:
        return self.portfolio.winning_count

    def apply(self, fill: Fill) -> Closed | None:
        """Apply one fill (once per trade id); a `Closed` when it flattened the position."""
        for trip in self.portfolio.record(fill):
            if trip.closed_ns is not None:
                return Closed(trip.symbol, trip.entry_ids, trip.realized)
        return None

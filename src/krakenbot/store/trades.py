"""The `trades` table: a projection of the portfolio's round trips, nothing computed here.

Owns: `rewrite` (fold the ledger's fills through `domain.portfolio.Portfolio`, the one
place positions and PnL are computed, and write every round trip: at start-up, so rows an
older krakenbot wrote follow today's rule) and `TradesProjection` (the ledger's portfolio
kept in memory: each new fill, inside the transaction that records it, writes the rows of
the round trips it changed; row id = the round trip's `seq`). After a failed write, or one
inside a caller's transaction that may still roll back, the next fill rewrites the table
from what the ledger holds. Imports: store.db/codec, domain; never engine/orders/net.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import TradeStatus
from krakenbot.domain.portfolio import Portfolio, RoundTrip
from krakenbot.store.codec import dec_to_text, ns_to_iso, opt_dec_to_text
from krakenbot.store.db import Database, Param

FOREIGN_NOTE = "opened by a fill of an order krakenbot did not place"

_COLUMNS = (
    "id, pair, side, price, volume, timestamp, status, order_id, txid, profit_loss, notes,"
    " open_volume, exit_price, fees, opened_ns, closed_at, closed_ns"
)
_UPSERT = f"""INSERT INTO trades ({_COLUMNS}) VALUES ({", ".join("?" * 17)})
ON CONFLICT (id) DO UPDATE SET price = excluded.price, volume = excluded.volume,
status = excluded.status, profit_loss = excluded.profit_loss,
open_volume = excluded.open_volume, exit_price = excluded.exit_price, fees = excluded.fees,
closed_at = excluded.closed_at, closed_ns = excluded.closed_ns"""


def _row(trip: RoundTrip) -> tuple[Param, ...]:
    status = TradeStatus.OPEN if trip.closed_ns is None else TradeStatus.CLOSED
    return (
        trip.seq,
        trip.symbol,
        trip.side.value,
        dec_to_text(trip.entry_price),
        dec_to_text(trip.volume),
        ns_to_iso(trip.opened_ns),
        status.value,
        trip.cl_ord_id,
        trip.txid,
        dec_to_text(trip.realized),
        "" if trip.cl_ord_id else FOREIGN_NOTE,
        dec_to_text(trip.open_volume),
        opt_dec_to_text(trip.exit_price),
        dec_to_text(trip.fees),
        trip.opened_ns,
        None if trip.closed_ns is None else ns_to_iso(trip.closed_ns),
        trip.closed_ns,
    )


async def write(db: Database, trips: Iterable[RoundTrip]) -> None:
    """Insert or update the rows of these round trips (closed ones first)."""
    for trip in trips:
        await db.execute(_UPSERT, _row(trip))


async def rewrite(db: Database, fills: Sequence[Fill]) -> Portfolio:
    """Fold `fills` (in recorded order) and rewrite the whole table from the round trips;
    must run inside `db.transaction()`."""
    portfolio = Portfolio(fills)
    await db.execute("DELETE FROM trades")
    await write(db, portfolio.round_trips())
    return portfolio


class TradesProjection:
    """The ledger's portfolio, kept between fills so each one writes only its rows."""

    def __init__(self, db: Database, load_fills: Callable[[], Awaitable[Sequence[Fill]]]):
        self._db = db
        self._load_fills = load_fills
        self._portfolio: Portfolio | None = None

    async def on_fill(self, fill: Fill) -> None:
        """`fill` was just inserted, in the caller's open transaction: write its rows."""
        portfolio, self._portfolio = self._portfolio, None  # a failure here: rebuild next
        if portfolio is None:
            portfolio = await rewrite(self._db, await self._load_fills())  # `fill` included
        else:
            await write(self._db, portfolio.record(fill))
        self._portfolio = portfolio

    def forget(self) -> None:
        """The transaction that wrote the rows failed, or is a caller's that may still roll
        back: the next fill rebuilds from what the ledger holds."""
        self._portfolio = None

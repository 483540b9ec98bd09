"""The `trades` table: a projection of the portfolio's round trips, nothing computed here.

Owns: `rewrite` (fold the ledger's fills through `domain.portfolio.Portfolio`, the one
place positions and PnL are computed, and write every round trip: at start-up, so rows an
older krakenbot wrote follow today's rule) and `TradesProjection` (the ledger's portfolio
kept in memory: each new fill, inside the transaction that records it, writes the rows of
the round trips it changed; row id = the round trip's `seq`). After a failed write, or one
inside a caller's transaction that may still roll back, the next fill rewrites the table
from what the ledger holds. Plain functions of the raw connection, run inside a one-trip
transaction on the connection's thread (store/one_trip.py).
Imports: store.db/codec, domain; never engine/orders/net.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence

from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import TradeStatus
from krakenbot.domain.portfolio import Portfolio, RoundTrip
from krakenbot.store.codec import dec_to_text, ns_to_iso, opt_dec_to_text
from krakenbot.store.db import Param

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


def write(conn: sqlite3.Connection, trips: Iterable[RoundTrip]) -> None:
    """Insert or update the rows of these round trips (closed ones first)."""
    for trip in trips:
        conn.execute(_UPSERT, _row(trip)).close()


def rewrite(conn: sqlite3.Connection, fills: Sequence[Fill]) -> Portfolio:
    """Fold `fills` (in recorded order) and rewrite the whole table from the round trips;
    must run inside a transaction (`Database.run_atomic`)."""
    portfolio = Portfolio(fills)
    conn.execute("DELETE FROM trades").close()
    write(conn, portfolio.round_trips())
    return portfolio


class TradesProjection:
    """The ledger's portfolio, kept between fills so each one writes only its rows."""

    def __init__(self, load_fills: Callable[[sqlite3.Connection], Sequence[Fill]]):
        self._load_fills = load_fills
        self._portfolio: Portfolio | None = None

    def on_fill(self, conn: sqlite3.Connection, fill: Fill) -> None:
        """`fill` was just inserted, in the transaction open on `conn` (on the connection's
        thread, while the loop waits for it): write its rows."""
        portfolio, self._portfolio = self._portfolio, None  # a failure here: rebuild next
        if portfolio is None:
            portfolio = rewrite(conn, self._load_fills(conn))  # `fill` included
        else:
            write(conn, portfolio.record(fill))
        self._portfolio = portfolio

    def forget(self) -> None:
        """The transaction that wrote the rows failed, or is a caller's that may still roll
        back: the next fill rebuilds from what the ledger holds."""
        self._portfolio = None

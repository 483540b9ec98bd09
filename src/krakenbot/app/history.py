"""Trade history for people and tools: the listings of `trades`, `orders` and `profit`.

Owns: the columns of each listing and its rows — round trips and fills (`trades`), orders
(`orders`), realized PnL by UTC day or by pair (`profit`) — with their filters (`--since`,
`--pair`, `--open`), `Since` (an absolute time or "that long ago"), and the exact records
tools get (`records`: Decimals as fixed-point text, times as ISO-8601 UTC and integer ns).
Every figure of PnL, position and fee is the portfolio's (domain/portfolio.py, the one place
they are computed, folded over *all* the ledger's fills before any filter): rows only pick
and add up what it reports, so `profit`, `status` and the `--sim` summary cannot disagree.
Pure: no I/O, no clock (callers pass `now_ns`). Imports: stdlib, domain, store.codec.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from krakenbot.domain.enums import Side
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import OrderRecord
from krakenbot.domain.portfolio import PnlReport, Portfolio, RoundTrip, utc_day
from krakenbot.store.codec import ns_to_iso

NS = 1_000_000_000
ZERO = Decimal(0)
Row = Mapping[str, object]


class Kind(StrEnum):
    """How a column's values are written (and which decimals round them for people)."""

    TEXT = "text"
    INT = "int"
    TIME = "time"  # epoch ns; records carry ISO-8601 UTC text and `<key>_ns`
    DAY = "day"  # a UTC date
    QTY = "qty"  # base amount of the row's pair: its lot decimals
    PRICE = "price"  # of the row's pair: its price decimals
    MONEY = "money"  # in the row's quote currency (`asset`): its decimals
    PNL = "pnl"  # money with a sign
    FEE = "fee"  # in the row's `fee_asset`
    NUMBER = "number"  # a Decimal in no one asset (an order's fees, mixed assets)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    kind: Kind
    table: bool = True  # shown in the table for people (JSON and CSV carry every column)


@dataclass(frozen=True, slots=True)
class Listing:
    """What a command prints: its columns, its rows, and totals for the lines below a table
    (and the JSON document's `total`)."""

    name: str  # trades | fills | orders | profit
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: Mapping[str, object] = field(default_factory=dict)
    by: str | None = None  # profit: day | pair


# ---------------------------------------------------------------- --since


_AGO = re.compile(r"^(\d{1,6})([mhdw])$")
_UNIT_NS = {"m": 60 * NS, "h": 3600 * NS, "d": 86400 * NS, "w": 7 * 86400 * NS}


@dataclass(frozen=True, slots=True)
class Since:
    """`--since`: an absolute time (`at_ns`) or a span back from now (`ago_ns`)."""

    at_ns: int | None = None
    ago_ns: int | None = None

    def resolve(self, now_ns: int) -> int:
        if self.at_ns is not None:
            return self.at_ns
        return now_ns - (self.ago_ns or 0)


def parse_since(text: str) -> Since:
    """`2026-01-31`, `2026-01-31T12:00`, `2026-01-31 12:00:00+01:00` (no zone: UTC), or a
    span back from now: `30m`, `12h`, `7d`, `2w`. Raises ValueError."""
    text = text.strip()
    ago = _AGO.match(text.lower())
    if ago:
        return Since(ago_ns=int(ago.group(1)) * _UNIT_NS[ago.group(2)])
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use a date (2026-01-31), a UTC time "
            "(2026-01-31T12:00) or a span back from now (30m, 12h, 7d, 2w)"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return Since(at_ns=int(stamp.timestamp()) * NS + stamp.microsecond * 1000)


# ---------------------------------------------------------------- rows


def quote_of(symbol: str) -> str:
    return symbol.partition("/")[2]


def _side(trip: RoundTrip) -> str:
    return "long" if trip.side is Side.BUY else "short"


TRIP_COLUMNS = (
    Column("id", "#", Kind.INT),
    Column("pair", "pair", Kind.TEXT),
    Column("side", "side", Kind.TEXT),
    Column("opened", "opened (UTC)", Kind.TIME),
    Column("closed", "closed (UTC)", Kind.TIME),
    Column("volume", "volume", Kind.QTY),
    Column("open_volume", "open", Kind.QTY, table=False),
    Column("entry_price", "entry", Kind.PRICE),
    Column("exit_price", "exit", Kind.PRICE),
    Column("realized_pnl", "realized PnL", Kind.PNL),
    Column("fees", "fees", Kind.MONEY),
    Column("status", "status", Kind.TEXT),
    Column("entry_order", "entry order", Kind.TEXT, table=False),
    Column("txid", "txid", Kind.TEXT, table=False),
    Column("entry_orders", "entry orders", Kind.TEXT, table=False),
)


def trip_listing(trips: Iterable[RoundTrip], *, since_ns: int | None, pair: str | None) -> Listing:
    """Round trips (the `trades` table's rows), oldest first. With `since_ns`: those opened
    or closed since, and every one still open."""
    rows: list[Row] = []
    for t in trips:
        if pair is not None and t.symbol != pair:
            continue
        if since_ns is not None and t.closed_ns is not None and t.closed_ns < since_ns:
            continue  # closed before: it opened before too
        rows.append(
            {
                "id": t.seq,
                "pair": t.symbol,
                "side": _side(t),
                "opened": t.opened_ns,
                "closed": t.closed_ns,
                "volume": t.volume,
                "open_volume": t.open_volume,
                "entry_price": t.entry_price,
                "exit_price": t.exit_price,
                "realized_pnl": t.realized,
                "fees": t.fees,
                "status": "OPEN" if t.closed_ns is None else "CLOSED",
                "entry_order": t.cl_ord_id,
                "txid": t.txid,
                "entry_orders": " ".join(t.entry_ids),
                "asset": quote_of(t.symbol),
            }
        )
    closed = sum(1 for r in rows if r["status"] == "CLOSED")
    total = {"round_trips": len(rows), "closed": closed, "open": len(rows) - closed}
    return Listing("trades", TRIP_COLUMNS, tuple(rows), total)


FILL_COLUMNS = (
    Column("time", "time (UTC)", Kind.TIME),
    Column("trade_id", "trade id", Kind.TEXT, table=False),
    Column("pair", "pair", Kind.TEXT),
    Column("side", "side", Kind.TEXT),
    Column("volume", "volume", Kind.QTY),
    Column("price", "price", Kind.PRICE),
    Column("cost", "cost", Kind.MONEY),
    Column("fee", "fee", Kind.FEE),
    Column("fee_asset", "", Kind.TEXT),
    Column("liquidity", "liquidity", Kind.TEXT),
    Column("order", "order", Kind.TEXT),
    Column("txid", "txid", Kind.TEXT, table=False),
)


def fill_listing(fills: Iterable[Fill], *, since_ns: int | None, pair: str | None) -> Listing:
    """Executions, in the order the ledger recorded them."""
    rows: list[Row] = [
        {
            "time": f.exchange_ns,
            "trade_id": f.trade_id,
            "pair": f.symbol,
            "side": f.side.value,
            "volume": f.qty,
            "price": f.price,
            "cost": f.cost,
            "fee": f.fee,
            "fee_asset": f.fee_asset,
            "liquidity": None if f.liquidity is None else f.liquidity.value,
            "order": f.cl_ord_id,
            "txid": f.order_id,
            "asset": quote_of(f.symbol),
        }
        for f in fills
        if (pair is None or f.symbol == pair) and (since_ns is None or f.exchange_ns >= since_ns)
    ]
    return Listing("fills", FILL_COLUMNS, tuple(rows), {"fills": len(rows)})


ORDER_COLUMNS = (
    Column("created", "created (UTC)", Kind.TIME),
    Column("order", "order", Kind.TEXT),
    Column("txid", "txid", Kind.TEXT, table=False),
    Column("pair", "pair", Kind.TEXT),
    Column("side", "side", Kind.TEXT),
    Column("type", "type", Kind.TEXT),
    Column("price", "price", Kind.PRICE),
    Column("volume", "volume", Kind.QTY),
    Column("filled", "filled", Kind.QTY),
    Column("avg_price", "avg price", Kind.PRICE),
    Column("cost", "cost", Kind.MONEY, table=False),
    Column("fees", "fees", Kind.NUMBER, table=False),
    Column("status", "status", Kind.TEXT),
    Column("time_in_force", "tif", Kind.TEXT, table=False),
    Column("post_only", "post only", Kind.TEXT, table=False),
    Column("reduces_position", "reduces", Kind.TEXT, table=False),
    Column("tag", "tag", Kind.TEXT),
    Column("reason", "reason", Kind.TEXT, table=False),
    Column("updated", "updated (UTC)", Kind.TIME, table=False),
)


def order_listing(
    orders: Iterable[OrderRecord], *, open_only: bool, since_ns: int | None, pair: str | None
) -> Listing:
    """Orders as the ledger holds them, oldest first (`open_only`: not in a final state)."""
    kept = [
        o
        for o in orders
        if (pair is None or o.symbol == pair)
        and not (open_only and o.status.is_terminal)
        and (since_ns is None or o.created_ns >= since_ns)
    ]
    rows: list[Row] = []
    for o in kept:
        rows.append(
            {
                "created": o.created_ns,
                "order": o.cl_ord_id,
                "txid": o.txid,
                "pair": o.symbol,
                "side": o.side.value,
                "type": o.order_type.value,
                # A trigger order's price is its trigger (Kraken's `price` of a stop-loss).
                "price": o.limit_price if o.limit_price is not None else o.trigger_price,
                "volume": o.qty,
                "filled": o.filled_qty,
                "avg_price": o.avg_fill_price,
                "cost": o.filled_cost,
                "fees": o.fees,
                "status": o.status.value,
                "time_in_force": o.time_in_force.value,
                "post_only": "yes" if o.post_only else "no",
                "reduces_position": "yes" if o.reduces_position else "no",
                "tag": o.tag,
                "reason": o.reason,
                "updated": o.updated_ns,
                "asset": quote_of(o.symbol),
            }
        )
    still_open = sum(1 for o in kept if not o.status.is_terminal)
    return Listing("orders", ORDER_COLUMNS, tuple(rows), {"orders": len(rows), "open": still_open})


DAY_COLUMNS = (
    Column("day", "day (UTC)", Kind.DAY),
    Column("realized_pnl", "realized PnL", Kind.PNL),
    Column("closed", "round trips closed", Kind.INT),
    Column("won", "won", Kind.INT),
)
PAIR_COLUMNS = (
    Column("pair", "pair", Kind.TEXT),
    Column("closed", "round trips closed", Kind.INT),
    Column("won", "won", Kind.INT),
    Column("realized_pnl", "realized PnL", Kind.PNL),
    Column("fees", "fees", Kind.MONEY),
    Column("position", "position", Kind.QTY),
    Column("mark", "at", Kind.PRICE),
    Column("unrealized_pnl", "unrealized PnL", Kind.PNL),
)


def _common_quote(symbols: Iterable[str]) -> str | None:
    quotes = {quote_of(s) for s in symbols}
    return quotes.pop() if len(quotes) == 1 else None


def profit_listing(
    portfolio: Portfolio, *, by: str, marks: Mapping[str, Decimal], today: date
) -> Listing:
    """Realized PnL by UTC day (`by="day"`) or by pair (`by="pair"`), and the totals of the
    portfolio's own report (what `status` shows) at `marks`."""
    trips = portfolio.round_trips()
    closed = [t for t in trips if t.closed_ns is not None]
    symbols = {t.symbol for t in trips}
    asset = _common_quote(symbols)
    rows: list[Row]
    columns: tuple[Column, ...]
    if by == "day":
        rows = []
        for day, realized in portfolio.realized_by_day().items():
            on_day = [t for t in closed if t.closed_ns and utc_day(t.closed_ns) == day]
            rows.append(
                {
                    "day": day,
                    "realized_pnl": realized,
                    "closed": len(on_day),
                    "won": sum(1 for t in on_day if t.realized > 0),
                    "asset": asset,
                }
            )
        columns = DAY_COLUMNS
    elif by == "pair":
        rows = [_pair_row(portfolio, symbol, trips, marks) for symbol in sorted(symbols)]
        columns = PAIR_COLUMNS
    else:
        raise ValueError(f"profit by {by!r}: choose day or pair")
    report = portfolio.report(today, marks)
    return Listing("profit", columns, tuple(rows), _total(report, closed, asset), by)


def _pair_row(
    portfolio: Portfolio, symbol: str, trips: Sequence[RoundTrip], marks: Mapping[str, Decimal]
) -> Row:
    mine = [t for t in trips if t.symbol == symbol]
    done = [t for t in mine if t.closed_ns is not None]
    position = portfolio.position(symbol)
    mark = marks.get(symbol) if position else None
    return {
        "pair": symbol,
        "closed": len(done),
        "won": sum(1 for t in done if t.realized > 0),
        "realized_pnl": sum((t.realized for t in mine), ZERO),
        "fees": sum((t.fees for t in mine), ZERO),
        "position": position,
        "mark": mark,
        "unrealized_pnl": None if mark is None else portfolio.unrealized(symbol, mark),
        "asset": quote_of(symbol),
    }


def _total(report: PnlReport, closed: Sequence[RoundTrip], asset: str | None) -> dict[str, object]:
    return {
        "asset": asset,
        "realized_pnl": report.realized,
        "realized_today": report.realized_today,
        "unrealized_pnl": report.unrealized,
        "fees": report.fees,
        "other_fees": dict(report.other_fees),
        "positions": dict(report.positions),
        "marks": dict(report.marks),
        "round_trips_closed": len(closed),
        "won": sum(1 for t in closed if t.realized > 0),
    }


# ---------------------------------------------------------------- records (JSON, CSV)


def exact(value: object) -> object:
    """A JSON-ready value: Decimals as exact fixed-point text (never `1E-8`, never a float),
    dates as ISO text, mappings and lists element by element."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [exact(v) for v in value]
    return value


def records(listing: Listing) -> list[dict[str, object]]:
    """Every column of every row, exact; a time column also as `<key>_ns`."""
    out: list[dict[str, object]] = []
    for row in listing.rows:
        record: dict[str, object] = {}
        for col in listing.columns:
            value = row.get(col.key)
            if col.kind is Kind.TIME:
                record[col.key] = ns_to_iso(value) if isinstance(value, int) else None
                record[f"{col.key}_ns"] = value
            else:
                record[col.key] = exact(value)
        out.append(record)
    return out

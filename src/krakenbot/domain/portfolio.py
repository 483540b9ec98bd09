"""Positions and PnL, derived from fills only: the one place they are computed.

Owns: `Portfolio` (signed positions, their cost, realized PnL in total and by UTC day,
unrealized PnL against marks, fees, and round trips), `RoundTrip` (a position from flat to
flat; the `trades` table is a projection of these) and `PnlReport` (what the risk gate's
daily-loss figure, `/health`, `status` and the `--sim` summary report). Imports: stdlib and
domain. Must not import: I/O, the clock (times come from fills), the orders package.

Live engine, `trades` projection and a stopped daemon's `status` fold the same fills in the
same (recorded) order here, so the daily-loss limit and the reports cannot disagree.

Rule: average cost. A position carries its quantity and the quote cash that went into it
(fees included); a close realizes its share of that cash, `qty × (exit − average entry)` less
fees. Why not FIFO: a round trip from flat to flat realizes the same total under both; they
differ only in how a partial close splits PnL between realized and unrealized. Under average
cost that split does not depend on lot history, so a `trades` row (one entry price, one exit
price) explains its own `profit_loss`, the strategy's break-even (`avg_entry`) is the price
its exits reason with, and a fee charged in the base asset (which shrinks the position)
needs no choice of lot. The time stop counts from when the position left flat.

Fees, as Kraken charges them (docs: rest-api/add-order `oflags` fciq / fcib; websocket-v2
executions `fees[{asset, qty}]`):
* in the quote currency: paid on top of a buy, taken from a sell's proceeds (less PnL);
* in the base asset: they shrink the position (the cost stays, the average entry rises),
  valued at the fill price in `fees_total`;
* in a third asset (e.g. fee credits): kept per asset (`other_fees`), never converted into
  PnL (the ledger keeps no price for them: `status` could not reproduce a conversion).
Value is `qty × price` (Kraken's `cost` rounds it), in the quote currency (USD pairs only).
Sells of coins bought before krakenbot (`stop --flatten`) may go below zero: kept as a short.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

from krakenbot.domain.enums import Side
from krakenbot.domain.events import Fill
from krakenbot.errors import InvariantError

ZERO = Decimal(0)
_DAY_NS = 86_400 * 1_000_000_000


def utc_day(ns: int) -> date:
    """The UTC calendar day of an epoch-nanosecond time."""
    return _utc_day(ns // _DAY_NS)


@lru_cache(maxsize=8)
def _utc_day(days: int) -> date:
    """Day `days` after 1970-01-01 (cached: every decision asks, the answer rarely changes)."""
    return datetime.fromtimestamp(days * 86400, tz=UTC).date()


def split_symbol(symbol: str) -> tuple[str, str]:
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote:
        raise InvariantError(f"symbol {symbol!r} is not BASE/QUOTE")
    return base, quote


def _is_asset(code: str, asset: str) -> bool:
    """`USD` as WebSocket v2 names it, or Kraken's REST code (`ZUSD`, `XXLM`)."""
    code, asset = code.upper(), asset.upper()
    return code == asset or (code[1:] == asset and code[:1] in ("X", "Z"))


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """A position from its first fill until it is flat again (one row of `trades`).

    Quantities are what entered and left the position (net of fees charged in the base
    asset), so `volume == exited + open_volume`; prices are the fills' own, weighted by
    those quantities. `realized` is PnL so far, fees included; `fees` the quote value of
    the fees in quote or base (third-asset fees are in `Portfolio.other_fees`).
    """

    seq: int  # 1, 2, 3, … in the order positions opened: the `trades` row id
    symbol: str
    side: Side  # buy = long
    opened_ns: int
    volume: Decimal
    open_volume: Decimal
    entry_price: Decimal
    exit_price: Decimal | None
    realized: Decimal
    fees: Decimal
    cl_ord_id: str | None  # the order whose fill opened it (None: not one of ours)
    txid: str | None
    entry_ids: tuple[str, ...]  # our orders whose fills opened or grew it
    closed_ns: int | None = None


@dataclass(frozen=True, slots=True)
class PnlReport:
    """Positions and PnL at one moment, in the quote currency."""

    positions: Mapping[str, Decimal] = field(default_factory=dict)  # signed base quantity
    marks: Mapping[str, Decimal] = field(default_factory=dict)  # the marks of those held
    realized: Decimal = ZERO  # all closes so far, fees included
    realized_today: Decimal = ZERO  # closes on the report's UTC day
    unrealized: Decimal | None = ZERO  # at the marks; None: a position has no mark
    fees: Decimal = ZERO  # quote value of the fees in quote or base
    other_fees: Mapping[str, Decimal] = field(default_factory=dict)  # not in PnL
    unrealized_by: Mapping[str, Decimal] = field(default_factory=dict)  # per marked position
    avg_entries: Mapping[str, Decimal] = field(default_factory=dict)  # fees included

    @property
    def daily(self) -> Decimal | None:
        """Realized today plus all unrealized now: the daily-loss limit's figure."""
        return None if self.unrealized is None else self.realized_today + self.unrealized


@dataclass(slots=True)
class _Trip:
    seq: int
    symbol: str
    side: Side
    opened_ns: int
    cl_ord_id: str | None
    txid: str | None
    entry_ids: list[str]
    entered: Decimal = ZERO
    entered_value: Decimal = ZERO
    exited: Decimal = ZERO
    exited_value: Decimal = ZERO
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    closed_ns: int | None = None

    def snapshot(self, open_volume: Decimal) -> RoundTrip:
        return RoundTrip(
            seq=self.seq,
            symbol=self.symbol,
            side=self.side,
            opened_ns=self.opened_ns,
            volume=self.entered,
            open_volume=open_volume,
            entry_price=self.entered_value / self.entered,
            exit_price=self.exited_value / self.exited if self.exited else None,
            realized=self.realized,
            fees=self.fees,
            cl_ord_id=self.cl_ord_id,
            txid=self.txid,
            entry_ids=tuple(self.entry_ids),
            closed_ns=self.closed_ns,
        )


@dataclass(slots=True)
class _Position:
    qty: Decimal = ZERO  # signed base quantity
    flow: Decimal = ZERO  # signed quote cash of the open quantity: < 0 paid (long)
    trip: _Trip | None = None


@dataclass(frozen=True, slots=True)
class _Effect:
    """What (part of) one fill does to the account, as Kraken charges it."""

    base: Decimal  # signed change of the position
    cash: Decimal  # signed quote cash flow, quote fees included
    fee: Decimal  # fees in quote or base, valued in quote
    price: Decimal

    def part(self, qty: Decimal) -> _Effect:
        """The share of this effect that moves the position by `qty` (unsigned)."""
        size = abs(self.base)
        if qty == size:
            return self
        share = qty / size
        base = qty if self.base > 0 else -qty
        return _Effect(base, self.cash * share, self.fee * share, self.price)

    def minus(self, other: _Effect) -> _Effect:
        return replace(
            self,
            base=self.base - other.base,
            cash=self.cash - other.cash,
            fee=self.fee - other.fee,
        )


class Portfolio:
    """Accumulates fills (each trade id once) into positions, PnL and round trips."""

    def __init__(self, fills: Iterable[Fill] = ()) -> None:
        self._positions: dict[str, _Position] = {}
        self._trips: list[_Trip] = []
        self._seen: set[str] = set()
        self._realized_by_day: dict[date, Decimal] = {}
        self._fees = ZERO
        self._other_fees: dict[str, Decimal] = {}
        self.closed_count = 0
        self.winning_count = 0
        self.version = 0  # changes with every fill applied (a cache key for derived views)
        self._avg_entry: dict[str, tuple[int, Decimal | None]] = {}
        for fill in fills:
            self.record(fill)

    # ------------------------------------------------------------------ updates
    def apply_fill(self, fill: Fill) -> bool:
        """Add one fill; False (and no change) when its trade id was already applied."""
        return bool(self.record(fill))

    def record(self, fill: Fill) -> tuple[RoundTrip, ...]:
        """Add one fill; the round trips it changed (a closed one first, then the one it
        opened or grew), or () when its trade id was already applied."""
        if fill.trade_id in self._seen:
            return ()
        effect = self._effect(fill)
        self.version += 1
        self._seen.add(fill.trade_id)
        self._fees += effect.fee
        pos = self._positions.setdefault(fill.symbol, _Position())
        touched: list[_Trip] = []
        if pos.qty != 0 and (pos.qty > 0) != (effect.base > 0):
            closing = effect.part(min(abs(effect.base), abs(pos.qty)))
            touched.append(self._close(pos, fill, closing))
            effect = effect.minus(closing)
        if effect.base != 0:
            # A fill that closed a position and opened one the other way is no entry.
            touched.append(self._add(pos, fill, effect, entry=not touched))
        return tuple(t.snapshot(self._open_volume(t)) for t in touched)

    def _effect(self, fill: Fill) -> _Effect:
        if fill.qty <= 0 or fill.price <= 0 or fill.fee < 0:
            raise InvariantError(f"fill {fill.trade_id} has a non-positive quantity or price")
        base_asset, quote_asset = split_symbol(fill.symbol)
        sign = 1 if fill.side is Side.BUY else -1
        base, cash, fee = sign * fill.qty, -sign * fill.qty * fill.price, ZERO
        if fill.fee == 0:
            pass
        elif _is_asset(fill.fee_asset, quote_asset):
            cash -= fill.fee
            fee = fill.fee
        elif _is_asset(fill.fee_asset, base_asset):
            if fill.side is Side.BUY and fill.fee >= fill.qty:
                raise InvariantError(f"fill {fill.trade_id} charges a fee beyond its quantity")
            base -= fill.fee
            fee = fill.fee * fill.price
        else:
            asset = fill.fee_asset
            self._other_fees[asset] = self._other_fees.get(asset, ZERO) + fill.fee
        return _Effect(base, cash, fee, fill.price)

    def _close(self, pos: _Position, fill: Fill, part: _Effect) -> _Trip:
        """Take `part` off the position: it realizes its share of the position's cash."""
        trip = pos.trip
        if trip is None:  # cannot happen: a non-flat position always has its round trip
            raise InvariantError(f"{fill.symbol} holds {pos.qty} outside a round trip")
        qty, held = abs(part.base), abs(pos.qty)
        released = pos.flow if qty == held else pos.flow * qty / held
        gain = part.cash + released
        pos.flow -= released
        pos.qty += part.base
        day = utc_day(fill.exchange_ns)
        self._realized_by_day[day] = self._realized_by_day.get(day, ZERO) + gain
        trip.exited += qty
        trip.exited_value += qty * part.price
        trip.realized += gain
        trip.fees += part.fee
        if pos.qty == 0:
            trip.closed_ns = fill.exchange_ns
            pos.trip = None
            pos.flow = ZERO
            self.closed_count += 1
            self.winning_count += trip.realized > 0
        return trip

    def _add(self, pos: _Position, fill: Fill, part: _Effect, *, entry: bool) -> _Trip:
        """Open or grow the position by `part`."""
        trip = pos.trip
        if trip is None:
            trip = _Trip(
                seq=len(self._trips) + 1,
                symbol=fill.symbol,
                side=Side.BUY if part.base > 0 else Side.SELL,
                opened_ns=fill.exchange_ns,
                cl_ord_id=fill.cl_ord_id,
                txid=fill.order_id or None,
                entry_ids=[],
            )
            self._trips.append(trip)
            pos.trip = trip
        if entry and fill.cl_ord_id and fill.cl_ord_id not in trip.entry_ids:
            trip.entry_ids.append(fill.cl_ord_id)
        qty = abs(part.base)
        pos.qty += part.base
        pos.flow += part.cash
        trip.entered += qty
        trip.entered_value += qty * part.price
        trip.fees += part.fee
        return trip

    # ------------------------------------------------------------------ queries
    def seen(self, trade_id: str) -> bool:
        return trade_id in self._seen

    def position(self, symbol: str) -> Decimal:
        """Signed base quantity: positive long, negative short, zero flat."""
        pos = self._positions.get(symbol)
        return ZERO if pos is None else pos.qty

    def positions(self) -> dict[str, Decimal]:
        """Every non-flat symbol and its signed quantity."""
        return {s: p.qty for s, p in self._positions.items() if p.qty != 0}

    def cost_basis(self, symbol: str) -> Decimal:
        """Quote cash in the open position (fees included), unsigned."""
        pos = self._positions.get(symbol)
        return ZERO if pos is None else abs(pos.flow)

    def avg_entry(self, symbol: str) -> Decimal | None:
        """Average cost per unit, fees included; None when flat (cached until a fill)."""
        known = self._avg_entry.get(symbol)
        if known is not None and known[0] == self.version:
            return known[1]
        qty = abs(self.position(symbol))
        found = self.cost_basis(symbol) / qty if qty else None
        self._avg_entry[symbol] = (self.version, found)
        return found

    def opened_ns(self, symbol: str) -> int | None:
        """When the position left flat (the time stop counts from it)."""
        pos = self._positions.get(symbol)
        return None if pos is None or pos.trip is None else pos.trip.opened_ns

    def unrealized(self, symbol: str, mark: Decimal) -> Decimal:
        """PnL if the position were closed at `mark` (exit fees not included)."""
        pos = self._positions.get(symbol)
        return ZERO if pos is None else pos.qty * mark + pos.flow

    def unrealized_total(self, marks: Mapping[str, Decimal]) -> Decimal | None:
        """Unrealized PnL over all positions; None when one has no mark (unknown)."""
        total = ZERO
        for symbol, pos in self._positions.items():
            if pos.qty == 0:
                continue
            mark = marks.get(symbol)
            if mark is None:
                return None
            total += pos.qty * mark + pos.flow  # `unrealized`, without a second lookup
        return total

    @property
    def realized_total(self) -> Decimal:
        return sum(self._realized_by_day.values(), ZERO)

    @property
    def fees_total(self) -> Decimal:
        """Quote value of the fees charged in quote or base (at their fill price)."""
        return self._fees

    @property
    def other_fees(self) -> Mapping[str, Decimal]:
        """Fees charged in a third asset, per asset: reported, never in PnL."""
        return dict(self._other_fees)

    def realized_on(self, day: date) -> Decimal:
        """Realized PnL of closes whose fill falls on this UTC day."""
        return self._realized_by_day.get(day, ZERO)

    def realized_by_day(self) -> dict[date, Decimal]:
        """Realized PnL of each UTC day on which something was closed, oldest day first."""
        return dict(sorted(self._realized_by_day.items()))

    def daily_pnl(self, day: date, marks: Mapping[str, Decimal]) -> Decimal | None:
        """Realized today plus all unrealized now (an open loss counts in full, on purpose:
        the daily-loss limit must not be dodged by holding a loser across midnight).
        `report(day, marks).daily`, without building the report (it runs on every tick)."""
        unrealized = self.unrealized_total(marks)
        return None if unrealized is None else self.realized_on(day) + unrealized

    def round_trips(self) -> list[RoundTrip]:
        """Every round trip so far, in the order they opened."""
        return [t.snapshot(self._open_volume(t)) for t in self._trips]

    def _open_volume(self, trip: _Trip) -> Decimal:
        pos = self._positions[trip.symbol]
        return abs(pos.qty) if pos.trip is trip else ZERO

    def report(self, day: date, marks: Mapping[str, Decimal]) -> PnlReport:
        """Positions and PnL on UTC `day`, unrealized at `marks` (symbol -> price)."""
        positions = self.positions()
        return PnlReport(
            positions=positions,
            marks={s: marks[s] for s in positions if s in marks},
            realized=self.realized_total,
            realized_today=self.realized_on(day),
            unrealized=self.unrealized_total(marks),
            fees=self._fees,
            other_fees=self.other_fees,
            unrealized_by={s: self.unrealized(s, marks[s]) for s in positions if s in marks},
            avg_entries={s: a for s in positions if (a := self.avg_entry(s)) is not None},
        )

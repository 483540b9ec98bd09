"""The backtest venue: Kraken's order lifecycle, synchronously, against recorded market data.

Owns: `BacktestVenue` — what the exchange does with the engine's orders while the backtest
replays a market: requests (AddOrder, cancel, amend) arrive `latency_ns` after the engine
sent them; an arriving order is checked as Kraken checks it (pair rules, funds with holds,
post-only), takes what the book offers at that instant (taker fee) and rests with the rest;
a resting order fills when trades go through its price (maker fee), or, against a recorded
book, at its price once the quantity that was ahead of it has traded; a stop-loss fires when
the last trade reaches its trigger and sells at the book; GTD orders expire. Everything
comes back as the events Kraken sends (paper/record.py builds them, as for the paper venue:
`OrderAccepted`, executions reports, balance updates; `OrderRejected` / `CancelRejected` /
`AmendRejected`), stamped with the venue's time, plus `SendFinished` when an AddOrder's
answer is complete. Candle arithmetic: backtest/fills.py; the model: README. No clock, no I/O.

The timeline: `next_at(until)` is the earliest moment before `until` at which something
happens here (a request arrives, an order expires, a candle's path reaches a resting order);
`run_at(t)` makes it happen and returns the events. The caller feeds them to the engine
before anything later, so the engine never learns of a fill before it happened.
Imports: domain, engine (its own input events), paper (the order record and matching).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from decimal import Decimal

from krakenbot.backtest.fills import BarPath, print_book
from krakenbot.backtest.market import Live, Market, Out, amended
from krakenbot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from krakenbot.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import (
    AmendRejected,
    BalanceChange,
    BookTop,
    CancelRejected,
    Fill,
    OrderAccepted,
    OrderRejected,
)
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import OrderSnapshot
from krakenbot.engine.inputs import SendFinished
from krakenbot.paper.matching import stop_fires, take, would_cross
from krakenbot.paper.record import PaperOrder, execute, held_by, report_of

ZERO = Decimal(0)
E_UNKNOWN = "EOrder:Unknown order"
E_FUNDS = "EOrder:Insufficient funds"
_TYPES = frozenset({OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_LOSS})
Request = PlaceOrder | CancelOrder | AmendOrder


class BacktestVenue:
    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        balances: Mapping[str, Decimal],
        *,
        latency_ns: int = 0,
    ) -> None:
        self.instruments = dict(instruments)
        self.markets = {s: Market(inst) for s, inst in instruments.items()}
        self.latency_ns = latency_ns
        self.balances: dict[str, Decimal] = dict(balances)
        self.orders: dict[str, PaperOrder] = {}  # by txid, every order ever placed
        self._by_cl: dict[str, str] = {}
        self.live: list[Live] = []  # orders resting or waiting for their trigger
        self.fills: list[Fill] = []  # every execution, in order (the report marks them)
        self._requests: list[tuple[int, int, Request]] = []  # heap: (arrival, seq, request)
        self._seq = 0
        self._ids = 0
        self.now_ns = 0

    # ------------------------------------------------------------------ requests
    def _request(self, request: Request, sent_ns: int) -> None:
        self._seq += 1
        heapq.heappush(self._requests, (sent_ns + self.latency_ns, self._seq, request))

    def place(self, command: PlaceOrder, sent_ns: int) -> None:
        self._request(command, sent_ns)

    def cancel(self, command: CancelOrder, sent_ns: int) -> None:
        self._request(command, sent_ns)

    def amend(self, command: AmendOrder, sent_ns: int) -> None:
        self._request(command, sent_ns)

    # ------------------------------------------------------------------ market data
    def bar(self, symbol: str, start_ns: int, end_ns: int, ohlc: tuple[int, int, int, int]) -> None:
        """The candle [start, end) of `symbol` (open, high, low, close in units) is the
        market until it closes (`bar_closed`)."""
        self.markets[symbol].path = BarPath(start_ns, end_ns, ohlc)

    def bar_closed(self, symbol: str, close: int) -> tuple[Decimal, Decimal]:
        """The candle of `symbol` closed at `close`: (bid, ask) of the book it implies."""
        return self.markets[symbol].close_at(close)

    def book(self, book: BookTop) -> None:
        """A recorded book: takers walk it, and a resting order's queue can only shrink."""
        m = self.markets[book.symbol]
        m.book = book if book.verified else None
        for lv in self.live:
            if lv.queue is not None and lv.o.command.symbol == book.symbol:
                lv.queue = min(lv.queue, m.level_qty(lv.o.command))

    def trade(self, symbol: str, price: Decimal, qty: Decimal, buyer_took: bool, t_ns: int) -> Out:
        """A public trade printed at `t_ns`: resting orders it reaches fill, stops it
        reaches fire."""
        self.now_ns = max(self.now_ns, t_ns)
        m = self.markets[symbol]
        units = m.units(price)
        m.last = units
        if m.book is None:
            m.bid, m.ask = print_book(units, m.tick, buyer_took)
        out: Out = []
        for lv in list(self.live):
            o = lv.o
            c = o.command
            if c.symbol != symbol or o.status.is_terminal or lv.active_ns > t_ns:
                continue
            if o.waiting:
                assert c.trigger_price is not None
                if stop_fires(c.side, c.trigger_price, price):
                    self._fire(lv, t_ns, out)
                continue
            limit = c.limit_price
            assert limit is not None
            buy = c.side is Side.BUY
            if (price < limit) if buy else (price > limit):  # traded through: all of it
                self._fill(o, limit, o.remaining, t_ns, out, maker=True)
            elif price == limit and buyer_took is not buy and lv.queue is not None:
                lv.queue -= qty  # a print at our price eats the queue ahead of us first
                if lv.queue < 0:
                    self._fill(o, limit, min(o.remaining, -lv.queue), t_ns, out, maker=True)
                    lv.queue = ZERO
        self._prune()
        return out

    # ------------------------------------------------------------------ the timeline
    @property
    def idle(self) -> bool:
        """Nothing in flight and nothing resting: no event can come from here."""
        return not self._requests and not self.live

    def next_at(self, until_ns: int) -> int | None:
        """The earliest moment before `until_ns` at which something happens here."""
        best = self._requests[0][0] if self._requests else None
        for lv in self.live:
            due = self._due(lv)
            if due is not None and (best is None or due < best):
                best = due
        return best if best is not None and best < until_ns else None

    def _due(self, lv: Live) -> int | None:
        o = lv.o
        c = o.command
        due = o.expire_ns
        m = self.markets[c.symbol]
        path = m.path
        if path is None:
            return due
        # The level the path must reach and in which direction: a sell stop fires at or
        # below its trigger, a buy limit fills a tick below its price (and the mirrors).
        if o.waiting:
            assert c.trigger_price is not None
            level, down = m.cached_units(c.trigger_price), c.side is Side.SELL
        else:
            assert c.limit_price is not None
            down = c.side is Side.BUY
            level = m.cached_units(c.limit_price) + (-m.tick if down else m.tick)
        if (path.low > level) if down else (path.high < level):
            return due  # this candle never gets there (most candles, for a resting stop)
        start = max(lv.active_ns, self.now_ns, path.start_ns)
        hit = path.first_at_or_below(level, start) if down else path.first_at_or_above(level, start)
        if hit is not None and (due is None or hit < due):
            due = hit
        return due

    def run_at(self, t_ns: int) -> Out:
        """Everything that happens here at `t_ns` (the caller asked `next_at` first)."""
        self.now_ns = max(self.now_ns, t_ns)
        out: Out = []
        requests = self._requests
        while requests and requests[0][0] <= t_ns:
            _, _, request = heapq.heappop(requests)
            if isinstance(request, PlaceOrder):
                self._arrive(request, t_ns, out)
            elif isinstance(request, CancelOrder):
                self._cancel(request, t_ns, out)
            else:
                self._amend(request, t_ns, out)
        for lv in list(self.live):
            o = lv.o
            if o.status.is_terminal:
                continue
            if o.expire_ns is not None and o.expire_ns <= t_ns:
                self._close(o, OrderStatus.EXPIRED, "Order expired", t_ns, out)
                continue
            due = self._due(lv)
            if due is not None and due <= t_ns:
                if o.waiting:
                    self._fire(lv, t_ns, out)
                else:
                    assert o.command.limit_price is not None
                    self._fill(o, o.command.limit_price, o.remaining, t_ns, out, maker=True)
        self._prune()
        return out

    def _prune(self) -> None:
        if any(lv.o.status.is_terminal for lv in self.live):
            self.live = [lv for lv in self.live if not lv.o.status.is_terminal]

    # ------------------------------------------------------------------ orders
    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:07d}-BTEST"

    def _arrive(self, c: PlaceOrder, t: int, out: Out) -> None:
        problem = self._refusal(c)
        if problem is not None:
            out.append(OrderRejected(c.cl_ord_id, problem, "place", t))
            out.append(SendFinished(c.cl_ord_id, t))
            return
        o = PaperOrder(self._next_id("O"), c, t)
        if c.expire_s is not None:
            o.expire_ns = t + int(c.expire_s * 1_000_000_000)
        self.orders[o.txid] = o
        self._by_cl[c.cl_ord_id] = o.txid
        out.append(OrderAccepted(c.cl_ord_id, o.txid, t))
        m = self.markets[c.symbol]
        if o.waiting:  # a stop rests untriggered; one already reached fires at once
            out.append(report_of(o, ExecType.NEW, t))
            lv = Live(o, t, None)
            self.live.append(lv)
            assert c.trigger_price is not None
            if m.last is not None and stop_fires(c.side, c.trigger_price, m.price(m.last)):
                self._fire(lv, t, out)
        elif c.post_only and c.limit_price is not None and self._crosses(m, c, t):
            self._close(o, OrderStatus.CANCELED, "Post only order", t, out)
        else:
            out.append(report_of(o, ExecType.NEW, t))
            limit = c.limit_price if c.order_type is OrderType.LIMIT else None
            self._take(o, limit, t, out)
            if not o.status.is_terminal:
                if c.time_in_force is TimeInForce.IOC or limit is None:
                    self._close(o, OrderStatus.CANCELED, "IOC remainder", t, out)
                else:
                    self.live.append(Live(o, t, m.level_qty(c) if m.book else None))
        out.append(SendFinished(c.cl_ord_id, t))
        self._prune()

    def _refusal(self, c: PlaceOrder) -> str | None:
        inst = self.instruments.get(c.symbol)
        if inst is None:
            return "EQuery:Unknown asset pair"
        if c.order_type not in _TYPES:
            return "EGeneral:Invalid arguments:ordertype (backtest: limit, market, stop-loss)"
        problem = inst.violation(c.limit_price or c.trigger_price, c.qty)
        if problem is not None:
            return problem
        if c.cl_ord_id in self._by_cl:
            return "EOrder:Duplicate order"
        touch = self.markets[c.symbol].touch(self.now_ns)
        if touch is None:
            return "EService:Unavailable (no market data yet)"
        if c.side is Side.SELL:
            need, asset = c.qty, inst.base
        else:
            ref = c.limit_price or c.trigger_price or touch[1]
            need, asset = c.qty * ref * (1 + inst.taker_fee_pct / 100), inst.quote
        if self.balances.get(asset, ZERO) - self._hold(asset) < need:
            return E_FUNDS
        return None

    def _crosses(self, m: Market, c: PlaceOrder, t: int) -> bool:
        assert c.limit_price is not None
        if m.book is not None:
            return would_cross(m.book, c.side, c.limit_price)
        touch = m.touch(t)
        assert touch is not None  # checked on arrival
        bid, ask = touch
        return ask <= c.limit_price if c.side is Side.BUY else bid >= c.limit_price

    def _take(self, o: PaperOrder, limit: Decimal | None, t: int, out: Out) -> None:
        """`o` takes liquidity now: the recorded book's levels, or the one-tick book."""
        c = o.command
        m = self.markets[c.symbol]
        if m.book is not None:
            for price, qty in take(m.book, c.side, o.remaining, limit):
                self._fill(o, price, qty, t, out, maker=False)
            return
        touch = m.touch(t)
        if touch is None:
            return
        price = touch[1] if c.side is Side.BUY else touch[0]
        if limit is None or (price <= limit if c.side is Side.BUY else price >= limit):
            self._fill(o, price, o.remaining, t, out, maker=False)

    def _fire(self, lv: Live, t: int, out: Out) -> None:
        o = lv.o
        o.triggered = True
        out.append(report_of(o, ExecType.STATUS, t))  # as the simulator: a report when it fires
        self._take(o, None, t, out)
        if not o.status.is_terminal:  # a market order takes what the book shows
            self._close(o, OrderStatus.CANCELED, "Insufficient liquidity", t, out)

    def _fill(
        self, o: PaperOrder, price: Decimal, qty: Decimal, t: int, out: Out, *, maker: bool
    ) -> None:
        c = o.command
        inst = self.instruments[c.symbol]
        fill = execute(o, inst, price, qty, maker=maker, now_ns=t, trade_id=self._next_id("T"))
        self.fills.append(fill)
        out.append(report_of(o, ExecType.TRADE, t, fill))
        sign = 1 if c.side is Side.BUY else -1  # as on Kraken: execution, then balances
        self._move(inst.base, sign * qty, t, out)
        self._move(inst.quote, -sign * fill.cost - fill.fee, t, out)
        if o.status is OrderStatus.FILLED:
            out.append(report_of(o, ExecType.FILLED, t))

    def _move(self, asset: str, amount: Decimal, t: int, out: Out) -> None:
        balance = self.balances.get(asset, ZERO) + amount
        self.balances[asset] = balance
        out.append(BalanceChange(asset, balance, amount, False, t, t))

    def _close(self, o: PaperOrder, status: OrderStatus, reason: str, t: int, out: Out) -> None:
        o.status, o.reason, o.closed_ns = status, reason, t
        kind = ExecType.CANCELED if status is OrderStatus.CANCELED else ExecType.EXPIRED
        out.append(report_of(o, kind, t))

    def _hold(self, asset: str) -> Decimal:
        held = ZERO
        for lv in self.live:
            c = lv.o.command
            held += held_by(c, lv.o.filled, asset, self.instruments[c.symbol])
        return held

    def _find(self, cl_ord_id: str | None, order_id: str | None) -> PaperOrder | None:
        txid = order_id or self._by_cl.get(cl_ord_id or "")
        o = self.orders.get(txid) if txid else None
        return None if o is None or o.status.is_terminal else o

    def _cancel(self, command: CancelOrder, t: int, out: Out) -> None:
        o = self._find(command.cl_ord_id, command.order_id)
        if o is None:
            out.append(CancelRejected(command.cl_ord_id, command.order_id, E_UNKNOWN, t))
            return
        self._close(o, OrderStatus.CANCELED, "User requested", t, out)
        self._prune()

    def _amend(self, command: AmendOrder, t: int, out: Out) -> None:
        """In place, as Kraken's AmendOrder (and the paper venue): same ids, an `amended`
        report; a new price or a larger quantity goes to the back of the queue."""
        o = self._find(command.cl_ord_id, command.order_id)
        if o is None:
            out.append(AmendRejected(command.cl_ord_id, command.order_id, E_UNKNOWN, t))
            return
        lv = next(lv for lv in self.live if lv.o is o)
        old = o.command
        new = amended(old, command)
        inst = self.instruments[old.symbol]
        problem = inst.violation(new.limit_price or new.trigger_price, new.qty)
        asset = inst.base if old.side is Side.SELL else inst.quote
        growth = held_by(new, o.filled, asset, inst) - held_by(old, o.filled, asset, inst)
        if problem is None and self.balances.get(asset, ZERO) - self._hold(asset) < growth:
            problem = E_FUNDS
        if problem is not None:
            out.append(AmendRejected(command.cl_ord_id, command.order_id, problem, t))
            return
        o.command = new
        if new.qty <= o.filled:  # docs: the remainder below the executed quantity is cancelled
            self._close(
                o, OrderStatus.CANCELED, "Order amended below its executed quantity", t, out
            )
            self._prune()
            return
        if lv.queue is not None and (new.limit_price != old.limit_price or new.qty > old.qty):
            lv.queue = self.markets[old.symbol].level_qty(new)
        out.append(report_of(o, ExecType.AMENDED, t))

    # ------------------------------------------------------------------ reading
    def open_orders(self) -> list[OrderSnapshot]:
        return [lv.o.snapshot() for lv in self.live]


__all__ = ["BacktestVenue"]

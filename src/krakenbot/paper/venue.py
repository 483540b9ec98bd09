"""The paper venue: Kraken's order lifecycle simulated in-process against the live book.

Owns: `PaperVenue` (implements `ports.Venue`: no private calls, no keys) and `PaperFeed` (a
`ports.MarketFeed` decorator that shows every public book view and trade price to the paper
venue before the engine sees it, so resting paper orders fill, and stops fire, when the
real market reaches them). Imports:
domain, errors, paper. Must not import: net, store, engine, app.

Lifecycle as Kraken reports it on WS v2 `executions` (docs: websocket-v2/executions): an
accepted order is `new`; each execution is a `trade` report carrying the fill; completion is
a separate `filled` report; a cancel is `canceled`; a post-only order that would take is
cancelled at once ("Post only order"); an IOC remainder is cancelled. Balances are totals
per asset with holds for open orders; every change is also reported as a `BalanceChange`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from krakenbot.clock import Clock
from krakenbot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from krakenbot.domain.enums import (
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from krakenbot.domain.events import (
    AccountEvent,
    AmendRejected,
    BalanceChange,
    BookTop,
    CancelRejected,
    Fill,
    MarketEvent,
    MarketTrade,
    OrderAccepted,
    StateEvent,
    Ticker,
)
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import OrderSnapshot
from krakenbot.errors import RejectedError
from krakenbot.paper.matching import crossed, stop_fires, take, would_cross
from krakenbot.paper.record import PaperOrder, execute, held_by, report_of
from krakenbot.ports import MarketFeed

ZERO = Decimal(0)
E_UNKNOWN = "EOrder:Unknown order"


class PaperVenue:
    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        balances: Mapping[str, Decimal],
        *,
        clock: Clock,
    ) -> None:
        self.instruments = dict(instruments)
        self._balances: dict[str, Decimal] = dict(balances)
        self._clock = clock
        self._orders: dict[str, PaperOrder] = {}  # by txid
        self._by_cl: dict[str, str] = {}
        self._fills: list[Fill] = []
        self._books: dict[str, BookTop] = {}
        self._last: dict[str, Decimal] = {}  # last public trade price per symbol
        self._queue: asyncio.Queue[AccountEvent | StateEvent] = asyncio.Queue()
        self._seq = 0

    # ------------------------------------------------------------------ helpers
    def _id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq:06d}-PAPER"

    def _emit(self, event: AccountEvent | StateEvent) -> None:
        self._queue.put_nowait(event)

    def _report(self, o: PaperOrder, exec_type: ExecType, fill: Fill | None = None) -> None:
        self._emit(report_of(o, exec_type, self._clock.now_ns(), fill))

    @staticmethod
    def command_of(o: PaperOrder) -> PlaceOrder:
        return o.command

    def _hold(self, asset: str) -> Decimal:
        live = (o for o in self._orders.values() if not o.status.is_terminal)
        return sum((self._held(o.command, o.filled, asset) for o in live), ZERO)

    def _held(self, c: PlaceOrder, filled: Decimal, asset: str) -> Decimal:
        """What a live order with command `c` holds of `asset` (as Kraken holds funds)."""
        return held_by(c, filled, asset, self.instruments[c.symbol])

    # ------------------------------------------------------------------ market
    def on_book(self, book: BookTop) -> None:
        """A new public book view: resting orders it reaches are filled (maker)."""
        self._books[book.symbol] = book
        self._expire()
        if not book.verified:
            return
        for o in list(self._orders.values()):
            c = o.command
            if o.status.is_terminal or c.symbol != book.symbol or c.limit_price is None:
                continue
            qty = crossed(book, c.side, c.limit_price, o.remaining)
            if qty > 0:
                self._execute(o, c.limit_price, qty, maker=True)

    def _execute(self, o: PaperOrder, price: Decimal, qty: Decimal, *, maker: bool) -> None:
        c = o.command
        inst = self.instruments[c.symbol]
        now = self._clock.now_ns()
        fill = execute(o, inst, price, qty, maker=maker, now_ns=now, trade_id=self._id("T"))
        self._fills.append(fill)
        self._report(o, ExecType.TRADE, fill)
        sign = 1 if c.side is Side.BUY else -1  # as on Kraken: execution, then balances
        self._move(inst.base, sign * qty)
        self._move(inst.quote, -sign * fill.cost - fill.fee)
        if o.status is OrderStatus.FILLED:
            self._report(o, ExecType.FILLED)

    def on_last(self, symbol: str, price: Decimal) -> None:
        """A public trade at `price` (ticker `last` / trade channel): stop-losses it reaches
        fire (Kraken `trigger=last`) and execute at once as market orders (taker)."""
        self._last[symbol] = price
        self._expire()
        for o in list(self._orders.values()):
            c = o.command
            if o.status.is_terminal or not o.waiting or c.symbol != symbol:
                continue
            assert c.trigger_price is not None
            if stop_fires(c.side, c.trigger_price, price):
                self._fire(o)

    def _fire(self, o: PaperOrder) -> None:
        o.triggered = True
        self._report(o, ExecType.STATUS)  # as the simulator: a status report when it fires
        book = self._books.get(o.command.symbol)
        if book is not None and book.verified:
            for level_price, qty in take(book, o.command.side, o.remaining, None):
                self._execute(o, level_price, qty, maker=False)
        if not o.status.is_terminal:  # a market order takes what the book shows
            self._close(o, OrderStatus.CANCELED, "Insufficient liquidity")

    def _expire(self) -> None:
        now = self._clock.now_ns()
        for o in list(self._orders.values()):
            if not o.status.is_terminal and o.expire_ns is not None and o.expire_ns <= now:
                self._close(o, OrderStatus.EXPIRED, "Order expired")

    def _move(self, asset: str, amount: Decimal) -> None:
        balance = self._balances.get(asset, ZERO) + amount
        self._balances[asset] = balance
        self._emit(BalanceChange(asset, balance, amount, False, self._clock.now_ns()))

    def _close(self, o: PaperOrder, status: OrderStatus, reason: str) -> None:
        o.status = status
        o.reason = reason
        o.closed_ns = self._clock.now_ns()
        self._report(o, ExecType.CANCELED if status is OrderStatus.CANCELED else ExecType.EXPIRED)

    # ------------------------------------------------------------------ Venue: orders
    async def place(self, command: PlaceOrder) -> None:
        inst = self.instruments.get(command.symbol)
        if inst is None:
            raise RejectedError("EQuery:Unknown asset pair", endpoint="AddOrder")
        problem = inst.violation(command.limit_price or command.trigger_price, command.qty)
        if problem is not None:
            raise RejectedError(problem, endpoint="AddOrder", cl_ord_id=command.cl_ord_id)
        if command.cl_ord_id in self._by_cl:
            raise RejectedError("EOrder:Duplicate order", endpoint="AddOrder")
        book = self._books.get(command.symbol)
        if book is None or not book.verified:
            raise RejectedError(
                "EService:Unavailable (no verified paper book)", endpoint="AddOrder"
            )
        price = command.limit_price
        ref = price if price is not None else (book.best_ask or ZERO)
        need_asset = inst.quote if command.side is Side.BUY else inst.base
        need = command.qty * ref * (1 + inst.taker_fee_pct / 100)
        if command.side is Side.SELL:
            need = command.qty
        if self._balances.get(need_asset, ZERO) - self._hold(need_asset) < need:
            raise RejectedError("EOrder:Insufficient funds", endpoint="AddOrder")
        now = self._clock.now_ns()
        o = PaperOrder(self._id("O"), command, now)
        if command.expire_s is not None:
            o.expire_ns = now + int(command.expire_s * 1_000_000_000)
        self._orders[o.txid] = o
        self._by_cl[command.cl_ord_id] = o.txid
        self._emit(OrderAccepted(command.cl_ord_id, o.txid, now))
        if o.waiting:  # a stop-loss rests untriggered; a trigger already reached fires now
            self._report(o, ExecType.NEW)
            last = self._last.get(command.symbol)
            assert command.trigger_price is not None
            if last is not None and stop_fires(command.side, command.trigger_price, last):
                self._fire(o)
            return
        if command.post_only and price is not None and would_cross(book, command.side, price):
            self._close(o, OrderStatus.CANCELED, "Post only order")
            return
        self._report(o, ExecType.NEW)
        limit = price if command.order_type is OrderType.LIMIT else None
        for level_price, qty in take(book, command.side, command.qty, limit):
            self._execute(o, level_price, qty, maker=False)
        if not o.status.is_terminal and command.time_in_force is TimeInForce.IOC:
            self._close(o, OrderStatus.CANCELED, "IOC remainder")

    def _find(self, command: CancelOrder) -> PaperOrder | None:
        txid = command.order_id or self._by_cl.get(command.cl_ord_id or "")
        return self._orders.get(txid) if txid else None

    async def cancel(self, command: CancelOrder) -> None:
        o = self._find(command)
        if o is None or o.status.is_terminal:
            now = self._clock.now_ns()
            self._emit(CancelRejected(command.cl_ord_id, command.order_id, E_UNKNOWN, now))
            return
        self._close(o, OrderStatus.CANCELED, "User requested")

    async def amend(self, command: AmendOrder) -> None:
        """In place, as Kraken's AmendOrder: same ids; the `amended` report follows."""
        o = self._find(CancelOrder(command.cl_ord_id, command.order_id))
        now = self._clock.now_ns()
        if o is None or o.status.is_terminal:
            self._emit(AmendRejected(command.cl_ord_id, command.order_id, E_UNKNOWN, now))
            return
        c = o.command
        new = replace(
            c,
            qty=command.qty if command.qty is not None else c.qty,
            limit_price=command.limit_price if command.limit_price is not None else c.limit_price,
            trigger_price=command.trigger_price or c.trigger_price,
        )
        inst = self.instruments[c.symbol]
        problem = inst.violation(new.limit_price or new.trigger_price, new.qty)
        asset = inst.base if c.side is Side.SELL else inst.quote
        growth = self._held(new, o.filled, asset) - self._held(c, o.filled, asset)
        if problem is None and self._balances.get(asset, ZERO) - self._hold(asset) < growth:
            problem = "EOrder:Insufficient funds"
        if problem is not None:
            self._emit(AmendRejected(command.cl_ord_id, command.order_id, problem, now))
            return
        o.command = new
        if new.qty <= o.filled:  # docs: the remainder below the executed quantity is cancelled
            self._close(o, OrderStatus.CANCELED, "Order amended below its executed quantity")
            return
        self._report(o, ExecType.AMENDED)

    async def cancel_all(self) -> None:
        for o in list(self._orders.values()):
            if not o.status.is_terminal:
                self._close(o, OrderStatus.CANCELED, "User requested")

    async def cancel_all_after(self, timeout_s: int) -> None:
        """Nothing can outlive this process here: paper orders die with it."""

    # ------------------------------------------------------------------ Venue: queries
    async def open_orders(self) -> Sequence[OrderSnapshot]:
        return [o.snapshot() for o in self._orders.values() if not o.status.is_terminal]

    async def closed_orders(self, since_ns: int) -> Sequence[OrderSnapshot]:
        return [
            o.snapshot()
            for o in self._orders.values()
            if o.status.is_terminal and o.closed_ns >= since_ns
        ]

    async def query_orders(self, order_ids: Sequence[str]) -> Sequence[OrderSnapshot]:
        return [self._orders[i].snapshot() for i in order_ids if i in self._orders]

    async def trades_history(self, since_ns: int) -> Sequence[Fill]:
        return [f for f in self._fills if f.exchange_ns >= since_ns]

    async def balances(self) -> Mapping[str, Decimal]:
        return dict(self._balances)

    async def events(self) -> AsyncIterator[AccountEvent | StateEvent]:
        while True:
            yield await self._queue.get()


class PaperFeed:
    """A `MarketFeed` that lets the paper venue see each book view first."""

    def __init__(self, inner: MarketFeed, venue: PaperVenue) -> None:
        self.inner = inner
        self.venue = venue

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        return await self.inner.instruments(symbols)

    async def events(self) -> AsyncIterator[MarketEvent | StateEvent]:
        async for event in self.inner.events():
            if isinstance(event, BookTop):
                self.venue.on_book(event)
            elif isinstance(event, Ticker):
                self.venue.on_last(event.symbol, event.last)
            elif isinstance(event, MarketTrade):
                self.venue.on_last(event.symbol, event.price)
            yield event

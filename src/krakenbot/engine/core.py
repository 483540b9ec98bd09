"""The engine core: events in, effects out — one synchronous decision step per event.

Owns: `EngineCore` — the books, balances, order registry, portfolio, breaker policy, trading
state and strategy instances. `handle(event)` applies one event and returns the effects to
carry out, in order (domain/effects.py): no asyncio, no clock (time comes from the events:
their `recv_ns` / `now_ns`, or the receive time the runner passes for an event that carries
none), no I/O. The runner (engine/runner.py) pulls the events, calls `handle` and carries the
effects out; live, paper and a backtest differ only in who feeds the events.

Dispatch is a type → handler table (`_HANDLERS`). Per event: the breaker policy sees it
first (a trip opens the breaker before anything is decided), then its handler runs: market
data updates the books and asks the strategies, order reports go through the order manager
(orders/manager.py: gate, FSM, persist-then-send), timer ticks run timeouts, the daily-loss
watch and metrics, and the engine's own events (engine/inputs.py) carry operator commands,
reconciliation results and the outcomes of effects. Handlers live in engine/settle.py
(reports, fills, corrections), control.py, ticks.py and cover.py (protective stops).
A handler that raises leaves the effects it produced so far (the state they reflect has
changed) and adds a `ReportError`; an `InvariantError` also halts trading and asks for a
reconciliation. Imports: domain, orders, risk, strategy, engine (pure modules only). Must not
import: asyncio, net, store, app, clock.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import get_args

from krakenbot.domain.commands import AmendIntent, CancelIntent, Intent
from krakenbot.domain.effects import (
    Effect,
    Notify,
    RecordEvent,
    ReportError,
    RequestReconcile,
    SaveState,
    SendOrder,
    SetTradingState,
    TripBreaker,
)
from krakenbot.domain.enums import Channel, ConnectionState, NoticeKind, SystemState, TradingState
from krakenbot.domain.events import (
    AmendRejected,
    BalanceChange,
    BookStatus,
    BookTop,
    CancelRejected,
    Candle,
    ConnectionChanged,
    Event,
    ExecutionReport,
    MarketTrade,
    OrderAccepted,
    OrderRejected,
    ReconcileRequested,
    SubscriptionFailed,
    SystemStatusChanged,
    Ticker,
    TimerTick,
)
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.portfolio import Portfolio, utc_day
from krakenbot.engine import cover, ticks
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.control import INPUT_HANDLERS
from krakenbot.engine.inputs import EngineInput
from krakenbot.engine.protect import Protection, SwitchNeed
from krakenbot.engine.settle import Settlement
from krakenbot.engine.view import LiveView, RoundTrips
from krakenbot.errors import InvariantError
from krakenbot.orders.manager import OrderManager
from krakenbot.orders.protection import PROTECT_TAG
from krakenbot.orders.registry import OrderRegistry
from krakenbot.risk.account import AccountBook
from krakenbot.risk.breaker import BreakerPolicy, Trip
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Denied, Rule
from krakenbot.risk.gate import RiskGate
from krakenbot.strategy.base import Strategy

_NS = 1_000_000_000
ZERO = Decimal(0)
STATE_KEY = "trading_state"
LOSS_DAY_KEY = "loss_halted_day"

Input = Event | EngineInput
Out = list[Effect]
Handler = Callable[..., None]


@dataclass(frozen=True, slots=True)
class EngineCounts:
    orders: int = 0  # orders submitted (persisted and handed to the venue)
    fills: int = 0  # fills recorded (new trade ids)
    denials: int = 0  # risk-gate denials (each written to `events`)
    reconnects: int = 0  # WebSocket reconnects seen (public + private; per channel: core)
    reconciles: int = 0  # reconciliation runs completed
    corrections: int = 0  # reconciliation differences written to `events`
    errors: int = 0  # events whose handling failed (logged, engine kept going)


def event_time(event: Input) -> int:
    """When the event happened by our clock (0 when it carries no such time)."""
    t = getattr(event, "recv_ns", None)
    if t is None:
        t = getattr(event, "now_ns", 0)
    return t if isinstance(t, int) else 0


class EngineCore:
    def __init__(
        self,
        *,
        strategies: Sequence[Strategy],
        gate: RiskGate,
        policy: BreakerPolicy,
        instruments: Mapping[str, Instrument],
        rng: random.Random,
        balances: Mapping[str, Decimal] | None = None,
        system_state: SystemState = SystemState.ONLINE,
        config: EngineConfig | None = None,
        started_ns: int = 0,
    ) -> None:
        self.config = cfg = config or EngineConfig()
        self.strategies = tuple(strategies)
        # Market data goes to the instances trading its pair (one instance per pair);
        # everything else (ticks, order reports) to every instance.
        self._by_symbol: dict[str, tuple[Strategy, ...]] = {}
        for strategy in self.strategies:
            for symbol in strategy.symbols:
                self._by_symbol[symbol] = (*self._by_symbol.get(symbol, ()), strategy)
        self.gate = gate
        self.policy = policy
        self.instruments = dict(instruments)
        self.account = AccountBook(balances)  # exchange balances + fills not yet in them
        self.system_state = system_state
        self.trading_state = TradingState.ACTIVE
        self.books: dict[str, BookTop] = {}
        self.registry = OrderRegistry()
        self.portfolio = Portfolio()
        self.trips = RoundTrips(self.portfolio)
        self.view = LiveView(self.books, self.instruments, self.portfolio, self.registry)
        self.manager = OrderManager(gate=gate, registry=self.registry, rng=rng, config=cfg.manager)
        self.settle = Settlement(self)
        self.protection = Protection(cfg.protection)  # see engine/protect.py, engine/cover.py
        # What the dead man's switch must cover, as last told to the runner.
        self.switch_need = SwitchNeed(entry=False, protection=False)
        # "Now": the newest event time seen (time only moves forward for the decisions).
        self.now_ns = started_ns
        # Orders created before this moment were sent (if at all) by an earlier process.
        self.started_ns = started_ns
        self.breaker_admits = True
        self.stopped = False
        self.connections: dict[Channel, ConnectionState] = {}
        self.reconnects: dict[Channel, int] = {}  # per channel (their sum: counts.reconnects)
        self._ever_connected: set[Channel] = set()
        self.last_market_ns = 0
        self.next_metrics_ns = 0
        self.counts = EngineCounts()
        self.refused: set[str] = set()  # symbols whose book subscription failed
        self.ledger_refusals = 0  # new orders not even tried while the ledger was failing
        self.tap: Callable[[Input, int, Out], None] | None = None  # run --record: all in, out

    @property
    def ledger_failing(self) -> bool:
        return self.manager.ledger_failing

    # ================================================================== the step
    def handle(self, event: Input, now_ns: int = 0) -> list[Effect]:
        """Apply one event; the effects to carry out, in order. `now_ns`: when the runner
        received an event that carries no time of its own."""
        out: Out = []
        t = event_time(event) or now_ns
        self.now_ns = max(self.now_ns, t)
        cls = type(event)
        handler = _HANDLERS.get(cls) or _resolve(cls)
        try:
            self.settle.interrupted(event, out)
            if cls not in _INPUTS:
                trip = self.policy.on_event(event)  # type: ignore[arg-type]  # not an input
                if trip is not None:
                    self.trip(trip, out)
            handler(self, event, out)
            if out or cls not in _MARKET:  # market data alone moves no order or position
                cover.need_check(self, out)
        except InvariantError as exc:
            self._on_invariant(exc, out)
        except Exception as exc:  # one bad event must not stop the engine
            trace = "".join(traceback.format_exception(exc))
            out.append(ReportError(f"{cls.__name__}: {exc!r}", trace))
        if self.tap is not None:
            self.tap(event, t, out)
        return out

    # ================================================================== market, state
    def _on_book(self, book: BookTop, out: Out) -> None:
        self.books[book.symbol] = book
        self.last_market_ns = book.recv_ns
        self.refused.discard(book.symbol)
        self.decide(book, out)

    def _on_book_status(self, event: BookStatus, out: Out) -> None:
        book = self.books.get(event.symbol)
        if book is not None and book.verified != event.verified:
            self.books[event.symbol] = replace(book, verified=event.verified)

    def _on_connection(self, event: ConnectionChanged, out: Out) -> None:
        self.connections[event.channel] = event.state
        if event.state is not ConnectionState.CONNECTED:
            return
        if event.channel in self._ever_connected:
            seen = self.reconnects
            seen[event.channel] = seen.get(event.channel, 0) + 1
            out.append(RequestReconcile(f"{event.channel} websocket reconnected"))
        self._ever_connected.add(event.channel)

    def _on_balance(self, event: BalanceChange, out: Out) -> None:
        self.account.on_balance(event)

    def _on_system(self, event: SystemStatusChanged, out: Out) -> None:
        self.system_state = event.state

    def _on_reconcile_requested(self, event: ReconcileRequested, out: Out) -> None:
        if event.unless_listed is None or self.registry.any_unlisted(event.unless_listed):
            out.append(RequestReconcile(event.reason))

    def _on_cancel_rejected(self, event: CancelRejected | AmendRejected, out: Out) -> None:
        kind = "cancel_rejected" if isinstance(event, CancelRejected) else "amend_rejected"
        row = {"cl_ord_id": event.cl_ord_id or "", "order_id": event.order_id or ""}
        out.append(RecordEvent(kind, {**row, "error": event.error}, self.now_ns))
        out.append(RequestReconcile(f"cancel or amend rejected: {event.error}"))

    def _on_subscription_failed(self, event: SubscriptionFailed, out: Out) -> None:
        if event.symbol:
            self.refused.add(event.symbol)

    def _on_order_report(
        self, event: ExecutionReport | OrderAccepted | OrderRejected, out: Out
    ) -> None:
        def then(o: Out) -> None:
            self.decide(event, o)
            cover.protect(self, o)

        self.settle.order_event(event, out, then=then)

    # ================================================================== decisions
    def decide(self, event: Event, out: Out) -> None:
        """Ask the strategies about `event` and carry out what they want."""
        if self.stopped:
            return
        view = self.view
        targets = self.strategies
        tick_ns = 0  # the market data's receive time: where tick-to-order starts
        if type(event) in _MARKET:
            market: BookTop | Ticker | MarketTrade | Candle = event  # type: ignore[assignment]
            targets = self._by_symbol.get(market.symbol, ())  # (no cast(): a call per book)
            tick_ns = getattr(event, "recv_ns", 0)
        for strategy in targets:
            intents = strategy.on_event(event, view)
            if intents:
                first = len(out)
                self.execute(intents, out)
                if tick_ns:
                    _stamp_tick(out, first, tick_ns)

    def execute(
        self, intents: Sequence[Intent], out: Out, *, held: bool = True, journal: bool = False
    ) -> None:
        """Submit strategy (or operator) intents in order, each through the gate; an exit
        on a pair with a protective stop waits for the stop's cancel (`held`). `journal`:
        a protective stop is recorded in the order journal, the ledger failing (shutdown)."""
        manager, protection = self.manager, self.protection
        if held:
            intents = protection.split(intents, self.registry.live())
        for intent in intents:
            ctx = self.risk_context()
            if isinstance(intent, CancelIntent):
                manager.cancel(intent, ctx, out)
                continue
            if isinstance(intent, AmendIntent):
                protection.outcome(intent, manager.amend(intent, ctx, out), ctx.now_ns)
                continue
            protective = intent.tag == PROTECT_TAG and protection.enabled
            if (self.stopped and not protective) or intent.symbol in self.refused:
                continue
            if manager.ledger_failing and not (journal and protective):
                # It could not be persisted before sending anyway.
                self.ledger_refusals += 1
                continue
            halted_before = self.gate.loss_halted_day
            decision = manager.submit(intent, ctx, out, journal=journal and protective)
            protection.outcome(intent, decision, ctx.now_ns)
            if isinstance(decision, Denied):
                if decision.rule is Rule.DAILY_LOSS and halted_before != self.gate.loss_halted_day:
                    self.loss_halt_persist(decision.reason, out)
            else:
                self.bump(orders=1)

    def set_trading_state(self, state: TradingState, reason: str, out: Out) -> None:
        if state is self.trading_state:
            return
        old, self.trading_state = self.trading_state, state
        out.append(SetTradingState(state, old, reason, self.now_ns))
        if state is TradingState.HALTED:
            out.append(Notify("trading halted", {"reason": reason}, True, NoticeKind.RISK_HALT))

    # ================================================================== risk plumbing
    def risk_context(self) -> RiskContext:
        now, positions = self.now_ns, self.portfolio.positions()
        return RiskContext(
            now_ns=now,
            trading_state=self.trading_state,
            system_state=self.system_state,
            breaker_open=not self.breaker_admits,
            instruments=self.instruments,
            books=self.books,
            positions=positions,
            working=self.registry.working(),
            daily_pnl=self.daily_pnl(now, positions),
            balances=self.account.available(),
            unprotected=dict(self.protection.unprotected),
        )

    def marks(self, only: Iterable[str] | None = None) -> dict[str, Decimal]:
        books = self.books if only is None else {s: b for s in only if (b := self.books.get(s))}
        return {s: m for s, b in books.items() if b.verified and (m := b.mid) is not None}

    def daily_pnl(self, now_ns: int, held: Mapping[str, Decimal] | None = None) -> Decimal | None:
        marks = self.marks(self.portfolio.positions() if held is None else held)  # held pairs
        return self.portfolio.daily_pnl(utc_day(now_ns), marks)

    def loss_halt_persist(self, reason: str, out: Out) -> None:
        day = self.gate.loss_halted_day
        text = day.isoformat() if day else ""
        out.append(SaveState(LOSS_DAY_KEY, text))
        row = {"day": text, "reason": reason}
        out.append(RecordEvent("daily_loss_halt", row, self.now_ns))
        out.append(Notify("daily loss limit reached", row, True, NoticeKind.DAILY_LOSS_HALT))

    def trip(self, trip: Trip, out: Out) -> None:
        self.breaker_admits = False
        out.append(TripBreaker(f"{trip.cause}: {trip.detail}"))
        row = {"cause": str(trip.cause), "count": str(trip.count), "detail": trip.detail}
        out.append(RecordEvent("breaker_trip", row, self.now_ns))

    def _on_invariant(self, exc: InvariantError, out: Out) -> None:
        out.append(ReportError(f"invariant: {exc}"))
        self.set_trading_state(TradingState.HALTED, f"invariant: {exc}", out)
        out.append(RequestReconcile("invariant error"))

    def bump(self, **deltas: int) -> None:  # built directly: `replace` is slow
        c, get = self.counts, deltas.get
        self.counts = EngineCounts(*[getattr(c, f) + get(f, 0) for f in EngineCounts.__slots__])


def _stamp_tick(out: Out, first: int, tick_ns: int) -> None:
    """The orders sent from `out[first:]` answer market data received at `tick_ns`."""
    for i in range(first, len(out)):
        effect = out[i]
        if type(effect) is SendOrder:
            out[i] = SendOrder(effect.command, tick_ns)


_HANDLERS: dict[type, Handler] = {
    BookTop: EngineCore._on_book,
    ExecutionReport: EngineCore._on_order_report,
    OrderAccepted: EngineCore._on_order_report,
    OrderRejected: EngineCore._on_order_report,
    TimerTick: ticks.on_tick,
    BalanceChange: EngineCore._on_balance,
    BookStatus: EngineCore._on_book_status,
    ConnectionChanged: EngineCore._on_connection,
    ReconcileRequested: EngineCore._on_reconcile_requested,
    SystemStatusChanged: EngineCore._on_system,
    CancelRejected: EngineCore._on_cancel_rejected,
    AmendRejected: EngineCore._on_cancel_rejected,
    SubscriptionFailed: EngineCore._on_subscription_failed,
    **INPUT_HANDLERS,
}  # every other event (tickers, trades, candles...) only goes to the strategies
_INPUTS = frozenset(get_args(EngineInput))  # the engine's own: not for the breaker policy
_MARKET = frozenset({BookTop, Ticker, MarketTrade, Candle})  # routed by their symbol


def _resolve(cls: type) -> Handler:
    """The handler of the nearest registered base class, else the strategies'; cached."""
    for base in cls.__mro__[1:]:
        found = _HANDLERS.get(base)
        if found is not None:
            break
    else:
        found = EngineCore.decide
    _HANDLERS[cls] = found
    return found


__all__ = ["LOSS_DAY_KEY", "STATE_KEY", "EngineCore", "event_time"]

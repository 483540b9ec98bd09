"""The backtest's loop: the live engine core driven by a virtual clock, as fast as the CPU goes.

Owns: `Backtest` — replays a `Tape` (backtest/tape.py) through one `EngineCore` (the same
strategy instances, risk gate, order manager, FSM and portfolio as the daemon) against a
`BacktestVenue`, carrying the core's effects out synchronously, in order: each ledger write
through the `LedgerSink` before the next effect (so an order's row is written before its
send reaches the venue: persist, then send), each send handed to the venue stamped with the
virtual now. Also the equity curve (sampled every `sample_ns` of market time from the
venue's balances at the last prices), the `TimerTick`s (one at the first market moment
after each `tick_ns`), the circuit breaker's cooldown on the virtual clock, and
`StrategyError` when handling an event failed.

No lookahead, by construction: a candle reaches the engine only at its close, as the book
its close implies; the venue plays the candle before that, and each thing it does comes to
the engine at the moment it happened, before any later market event. The engine never holds
anything but the events handed to it, in time order.
Imports: domain, engine, backtest. No I/O, no clock.
"""

from __future__ import annotations

import heapq
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, get_args

from krakenbot.backtest.books import candle_book
from krakenbot.backtest.market import Out
from krakenbot.backtest.metrics import EquityPoint
from krakenbot.backtest.tape import BarSeries, EventTape, MarketInput, Tape, event_time
from krakenbot.backtest.venue import BacktestVenue
from krakenbot.domain.effects import (
    AdoptOrder,
    Effect,
    LedgerEffect,
    PersistOrder,
    RecordEvent,
    RecordFill,
    ReportError,
    RequestReconcile,
    SendAmend,
    SendCancel,
    SendOrder,
    TripBreaker,
)
from krakenbot.domain.enums import Side
from krakenbot.domain.events import BookTop, Event, MarketTrade, PriceLevel, Ticker, TimerTick
from krakenbot.engine import ticks
from krakenbot.engine.core import EngineCore
from krakenbot.engine.inputs import Conditions, EngineInput, LedgerLoaded, WriteDone

NS = 1_000_000_000
ZERO = Decimal(0)
_LEDGER = get_args(LedgerEffect)
_MARKET = frozenset({BookTop, MarketTrade, Ticker})  # a price moving, nothing else


class LedgerSink(Protocol):
    def write(self, effect: LedgerEffect, now_ns: int) -> object:
        """Write one ledger effect now (raise when it cannot be written: the run fails)."""
        ...


class StrategyError(Exception):
    """Handling an event raised (the strategy, most likely): the run stops here."""

    def __init__(self, message: str, at_ns: int, symbol: str, where: str) -> None:
        super().__init__(message)
        self.at_ns = at_ns
        self.symbol = symbol
        self.where = where


@dataclass(frozen=True, slots=True)
class LoopConfig:
    tick_ns: int = 60 * NS  # a TimerTick at the first market moment after each interval
    sample_ns: int = 60 * NS  # the equity curve's step
    breaker_cooldown_ns: int = 300 * NS
    quote: str = "USD"
    progress_every: int = 8192  # market items between progress reports
    every_tick: bool = False  # post the ticks that would do nothing too (tests compare)


@dataclass(slots=True)
class Counts:
    market_items: int = 0
    engine_events: int = 0
    orders_sent: int = 0
    cancels_sent: int = 0
    reconcile_requests: list[str] = field(default_factory=list)
    denials: dict[str, int] = field(default_factory=dict)  # risk_denied events by rule
    largest_entry: Decimal = ZERO  # the largest notional of an entry persisted (and sent)
    largest_entry_id: str = ""

    def note(self, effect: PersistOrder | RecordEvent) -> None:
        if isinstance(effect, RecordEvent):
            if effect.kind == "risk_denied":
                rule = effect.payload.get("rule", "?")
                self.denials[rule] = self.denials.get(rule, 0) + 1
            return
        c = effect.command
        price = c.limit_price or c.trigger_price
        if not effect.reduces_position and price is not None and price * c.qty > self.largest_entry:
            self.largest_entry = price * c.qty
            self.largest_entry_id = c.cl_ord_id


class Backtest:
    def __init__(
        self,
        core: EngineCore,
        venue: BacktestVenue,
        ledger: LedgerSink,
        config: LoopConfig | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.core = core
        self.venue = venue
        self.ledger = ledger
        self.config = config or LoopConfig()
        self.progress = progress
        self.equity: list[EquityPoint] = []
        self.prices: dict[str, list[tuple[int, Decimal]]] = {s: [] for s in venue.markets}
        self.counts = Counts()
        self.now_ns = 0
        self._next_tick = 0
        self._next_sample = 0
        self._breaker_until: int | None = None
        self._every_tick = self.config.every_tick
        self._steps = 0  # inputs that changed more than the market, for `_tick_due`
        # The last idle tick's (_steps, until, whether the loss watch is still asked).
        self._calm: tuple[int, int, bool] | None = None
        self._symbol = ""  # the pair of the market item being handled (for messages)
        # What the equity curve samples: each pair's market, base asset and price list.
        self._marks = [(m, m.inst.base, self.prices[s]) for s, m in venue.markets.items()]

    # ------------------------------------------------------------------ the engine side
    def start(self, start_ns: int) -> None:
        """The engine's start-up (an empty ledger) at `start_ns`."""
        self.now_ns = start_ns
        self._next_tick = start_ns
        # A strategy that does not say when it is next due is asked on every tick.
        timed = all(hasattr(s, "next_due") for s in self.core.strategies)
        self._every_tick = self.config.every_tick or not timed
        self._next_sample = start_ns
        self.feed(LedgerLoaded((), (), None, None, start_ns), start_ns)
        self._sample(start_ns)  # the capital the run starts with

    def feed(self, event: Event | EngineInput, t_ns: int) -> None:
        self.counts.engine_events += 1
        effects = self.core.handle(event, t_ns)
        if effects:
            self._steps += 1
            self.carry_out(effects, t_ns)
        elif type(event) not in _MARKET:
            self._steps += 1  # an order's news, a write's answer...: more than a price moved

    def carry_out(self, effects: Sequence[Effect], t_ns: int) -> None:
        venue, counts = self.venue, self.counts
        for effect in effects:
            if isinstance(effect, SendOrder):
                counts.orders_sent += 1
                venue.place(effect.command, t_ns)
            elif isinstance(effect, SendCancel):
                counts.cancels_sent += 1
                venue.cancel(effect.command, t_ns)
            elif isinstance(effect, SendAmend):
                venue.amend(effect.command, t_ns)
            elif isinstance(effect, _LEDGER):
                if isinstance(effect, PersistOrder | RecordEvent):
                    counts.note(effect)
                result = self.ledger.write(effect, t_ns)
                if isinstance(effect, RecordFill | AdoptOrder):  # the core waits for these
                    self.feed(WriteDone(effect, bool(result), t_ns), t_ns)
            elif isinstance(effect, ReportError):
                self._failed(effect, t_ns)
            elif isinstance(effect, TripBreaker):
                self._breaker_until = t_ns + self.config.breaker_cooldown_ns
            elif isinstance(effect, RequestReconcile):
                # Nothing to reconcile against: the venue reported everything already.
                counts.reconcile_requests.append(effect.reason)
            # Notify (the operator's log) and SwitchNeedChanged (no dead man's switch in a
            # backtest) have nothing to carry out here.

    def _failed(self, effect: ReportError, t_ns: int) -> None:
        frames = [line.strip() for line in effect.trace.splitlines() if line.strip()]
        where = next((f for f in reversed(frames) if f.startswith("File ")), "")
        raise StrategyError(effect.text, t_ns, self._symbol, where)

    def _deliver(self, out: Out) -> None:
        for event in out:
            self.feed(event, int(getattr(event, "recv_ns", 0) or getattr(event, "now_ns", 0)))

    def drain(self, until_ns: int) -> None:
        """Everything the venue does before `until_ns`, each at its own moment."""
        venue = self.venue
        while (t := venue.next_at(until_ns)) is not None:
            self.now_ns = max(self.now_ns, t)
            self._deliver(venue.run_at(t))

    def _before_market(self, t_ns: int) -> None:
        self.now_ns = t_ns
        until = self._breaker_until
        if until is not None and t_ns >= until:  # the breaker's cooldown is over
            self._breaker_until = None
            self.feed(Conditions(False, True, t_ns), t_ns)

    def _after_market(self, t_ns: int) -> None:
        """The timer tick, after the market moment it belongs to (as live, where a tick
        sees every book received before it) — when it has anything to do (engine/ticks.py
        `due`: a tick that would change nothing is left out; `every_tick` posts them all)."""
        if t_ns >= self._next_tick:
            self._next_tick = t_ns + self.config.tick_ns
            if self._every_tick or self._asked(t_ns):
                self.feed(TimerTick(t_ns), t_ns)
        self._sample(t_ns)

    def _asked(self, t_ns: int) -> bool:
        """`_tick_due`; a strategy's `next_due` that raised stops the run as its `on_event`
        would (`StrategyError`, with the time, the pair and where)."""
        try:
            return self._tick_due(t_ns)
        except Exception as exc:
            trace = "".join(traceback.format_exception(exc))
            self._failed(ReportError(f"next_due: {exc!r}", trace), t_ns)
            raise  # not reached: _failed raises

    def _tick_due(self, t_ns: int) -> bool:
        """engine/ticks.py `due`, looked at in full only when something but market data
        reached the core since the last full look, or a deadline (`calm_until`) came;
        in between only the strategies' answers (their books moved) and perhaps the
        daily-loss watch's can change."""
        core, calm = self.core, self._calm
        if calm is not None and calm[0] == self._steps and t_ns < calm[1]:
            return ticks.market_due(core, t_ns, calm[2])
        if ticks.due(core, t_ns):
            self._calm = None
            return True
        self._calm = (self._steps, *ticks.calm_until(core, t_ns))
        return False

    def _sample(self, t_ns: int) -> None:
        if t_ns < self._next_sample:
            return
        step = self.config.sample_ns
        self._next_sample = t_ns - t_ns % step + step
        balances = self.venue.balances
        equity = balances.get(self.config.quote, ZERO)
        for m, base, prices in self._marks:
            last = m.last
            if last is None:
                continue
            price = m.price(last)
            prices.append((t_ns, price))
            held = balances.get(base)
            if held:
                equity += held * price
        self.equity.append(EquityPoint(t_ns, equity))

    def _tick_progress(self) -> None:
        counts = self.counts
        counts.market_items += 1
        if self.progress is not None and counts.market_items % self.config.progress_every == 0:
            self.progress(counts.market_items)

    # ------------------------------------------------------------------ candles
    def run_bars(self, series: Sequence[BarSeries], end_ns: int) -> None:
        """Replay candles: at each close, the venue plays the candle first, then the engine
        sees the book its close implies (bid = close, ask = a tick above)."""
        present = [s for s in series if len(s)]
        if _aligned(present):
            self._run_aligned(present)
            self.drain(end_ns)
            return
        venue, markets = self.venue, self.venue.markets
        for close, step in _closes(present):
            if not venue.idle:
                for s, i in step:
                    venue.bar(s.symbol, s.open_ns[i], close, s.ohlc(i))
                self.drain(close)
            for s, i in step:
                venue.bar_closed(s.symbol, s.c[i])
            self._before_market(close)
            for s, i in step:
                m = markets[s.symbol]
                self._symbol = s.symbol
                bid, ask = m.price(m.bid), m.price(m.ask)
                self.feed(candle_book(s.symbol, bid, ask, s.volume[i], close), close)
                self._tick_progress()
            self._after_market(close)
        self.drain(end_ns)

    def _run_aligned(self, present: Sequence[BarSeries]) -> None:
        """`run_bars` when every pair's candles open at the same times (one pair, or pairs
        downloaded over the same range): the same steps in the same order, without the
        merge (its steps would hold every pair at each close, in the given order)."""
        venue, feed = self.venue, self.feed
        pairs = [(s, s.symbol, venue.markets[s.symbol]) for s in present]
        iv = present[0].interval_ns
        for i, open_ns in enumerate(present[0].open_ns):
            close = open_ns + iv
            if not venue.idle:
                for s, symbol, _ in pairs:
                    venue.bar(symbol, open_ns, close, (s.o[i], s.h[i], s.lo[i], s.c[i]))
                self.drain(close)
            touches = [m.close_at(s.c[i]) for s, _, m in pairs]  # each `venue.bar_closed`
            self._before_market(close)
            for (s, symbol, _), (bid, ask) in zip(pairs, touches, strict=True):
                self._symbol = symbol
                feed(candle_book(symbol, bid, ask, s.volume[i], close), close)
                self._tick_progress()
            self._after_market(close)

    # ------------------------------------------------------------------ events
    def run_events(self, tape: EventTape, end_ns: int) -> None:
        """Replay recorded events (books, trades, tickers) in their order; with no recorded
        book, each trade is followed by the one-tick book it implies."""
        venue, synthetic = self.venue, tape.synthetic_book
        for event in tape.events:
            t = event_time(event)
            if not venue.idle:
                self.drain(t)
            self._symbol = event.symbol
            self._market_event(event, t, synthetic)
            self._tick_progress()
            self._after_market(t)
        self.drain(end_ns)

    def _market_event(self, event: MarketInput, t: int, synthetic: bool) -> None:
        venue = self.venue
        if type(event) is MarketTrade:
            buyer = event.side is Side.BUY
            out = venue.trade(event.symbol, event.price, event.qty, buyer, t)
            if out:
                self._deliver(out)
            self._before_market(t)
            self.feed(event, t)
            if synthetic:
                m = venue.markets[event.symbol]
                bid = PriceLevel(m.price(m.bid), event.qty)
                ask = PriceLevel(m.price(m.ask), event.qty)
                self.feed(BookTop(event.symbol, (bid,), (ask,), True, t, t), t)
            return
        if type(event) is BookTop:
            venue.book(event)
        self._before_market(t)
        self.feed(event, t)

    def run(self, tape: Tape, start_ns: int, end_ns: int) -> None:
        self.start(start_ns)
        if isinstance(tape, EventTape):
            self.run_events(tape, end_ns)
        else:
            self.run_bars(tape, end_ns)
        self.now_ns = max(self.now_ns, end_ns)


def _aligned(series: Sequence[BarSeries]) -> bool:
    """Whether the (non-empty) series' candles all open at the same times, equally wide."""
    if not series:
        return False
    first = series[0]
    return all(
        s.interval_ns == first.interval_ns and s.open_ns == first.open_ns for s in series[1:]
    )


def _closes(series: Sequence[BarSeries]) -> Iterator[tuple[int, list[tuple[BarSeries, int]]]]:
    """The candles' closes in time order, each with the (series, index) of every candle
    closing then (the series are not empty)."""
    present = list(series)
    heap = [(s.open_ns[0] + s.interval_ns, k, 0) for k, s in enumerate(present)]
    heapq.heapify(heap)
    while heap:
        close = heap[0][0]
        step: list[tuple[BarSeries, int]] = []
        while heap and heap[0][0] == close:
            _, k, i = heapq.heappop(heap)
            s = present[k]
            step.append((s, i))
            if i + 1 < len(s):
                heapq.heappush(heap, (s.open_ns[i + 1] + s.interval_ns, k, i + 1))
        yield close, step


__all__ = ["Backtest", "Counts", "LedgerSink", "LoopConfig", "StrategyError"]

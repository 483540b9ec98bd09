"""The backtest loop: the engine core on a virtual clock. No lookahead (a strategy that
tries to peek sees only the past), persist-then-send, a strategy that raises stops the run
with its time and pair, the same inputs give the same result, and the venue's account and
the portfolio agree."""

from __future__ import annotations

import gc
import json
from array import array
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import ClassVar

import pytest

from krakenbot.app.backtest.inputs import load_bundled
from krakenbot.app.backtest.ledger import MemoryLedger
from krakenbot.app.backtest.run import BacktestSpec, build, run_spec
from krakenbot.backtest.loop import StrategyError
from krakenbot.backtest.result import document
from krakenbot.backtest.tape import BarSeries
from krakenbot.domain.commands import Intent, OrderIntent
from krakenbot.domain.effects import LedgerEffect, PersistOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop, Event, ExecutionReport, TimerTick
from krakenbot.engine.config import EngineConfig
from krakenbot.risk.limits import RiskLimits
from krakenbot.strategy.base import StrategyView

S = 1_000_000_000
MIN = 60 * S
T0 = 1_762_777_020 * S
D = Decimal
LIMITS = RiskLimits(
    allowed_symbols=frozenset({"XLM/USD"}),
    max_trade_usd=D("10"),
    min_order_usd=D("1"),
    max_total_exposure_usd=D("10"),
    max_positions=1,
    max_daily_loss_usd=D("20"),
)


def _spec(strategy: str, **params: str) -> BacktestSpec:
    return BacktestSpec(
        strategy=strategy,
        params=tuple(sorted(params.items())),
        pairs=("XLM/USD",),
        limits=LIMITS,
        engine=EngineConfig(require_private_ws=False, metrics_interval_s=3600),
    )


def _series(closes: Sequence[int], *, high_at: int | None = None, high: int = 0) -> BarSeries:
    n = len(closes)
    opens = [closes[0], *closes[:-1]]  # each candle opens where the last one closed
    pairs = list(zip(opens, closes, strict=True))
    highs = [max(o, c) + 10 if i != high_at else high for i, (o, c) in enumerate(pairs)]
    return BarSeries(
        "XLM/USD",
        MIN,
        array("q", (T0 + i * MIN for i in range(n))),
        array("q", opens),
        array("q", highs),
        array("q", (min(o, c) - 10 for o, c in zip(opens, closes, strict=True))),
        array("q", closes),
        [D(1000)] * n,
    )


class Peeker:
    """Tries every way it has to see the market: the event, the view's books and orders.
    It buys once, early, so that fills and working orders are there to look at too."""

    name = "peeker"
    symbols = frozenset({"XLM/USD"})
    seen: ClassVar[list[tuple[int, int, Decimal]]] = []  # (event time, newest visible, price)
    bought: ClassVar[bool] = False

    @classmethod
    def from_params(cls, params: object) -> Peeker:
        return cls()

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        now = getattr(event, "recv_ns", 0) or getattr(event, "now_ns", 0)
        visible = [now]
        book = view.book("XLM/USD")
        if book is not None:
            visible.append(book.recv_ns)
            for level in (*book.bids, *book.asks):
                Peeker.seen.append((now, book.recv_ns, level.price))
        if isinstance(event, ExecutionReport):
            visible.append(event.exchange_ns)
            if event.fill is not None:
                visible.append(event.fill.exchange_ns)
        visible += [w.created_ns for w in view.working_orders("XLM/USD")]
        Peeker.seen.append((now, max(visible), D(-1)))
        if isinstance(event, BookTop) and not Peeker.bought and book is not None:
            Peeker.bought = True
            bid = book.bids[0].price
            qty = D(30)
            return [
                OrderIntent("XLM/USD", Side.BUY, OrderType.LIMIT, qty, bid, TimeInForce.GTC, True)
            ]
        return []


def test_a_strategy_that_peeks_sees_nothing_after_the_virtual_now() -> None:
    # Prices in units of 1e-6 USD. Bar 5 spikes to a price nobody may know before its close;
    # bar 6's close is unique too.
    closes = [300_000 - 100 * i for i in range(5)] + [299_500, 299_000, 299_000, 299_000]
    series = _series(closes, high_at=5, high=345_678)
    Peeker.seen, Peeker.bought = [], False
    spec = replace(_spec("tests.unit.backtest.test_loop:Peeker"), sample_s=60.0)
    outcome = run_spec(spec, [series], (T0, T0 + len(closes) * MIN), MemoryLedger(T0))
    assert outcome.loop.core.counts.fills == 1  # something happened to look at
    for now, newest, _ in Peeker.seen:
        assert newest <= now  # nothing visible carries a later time than the event
    spike = D("0.345678")
    assert all(price != spike for _, _, price in Peeker.seen)  # highs are never shown
    close_of = {T0 + (i + 1) * MIN: D(c).scaleb(-6) for i, c in enumerate(closes)}
    for now, _, price in Peeker.seen:
        if price > 0 and now in close_of:
            # The book it sees at a candle's close is that close (or a tick above), never a
            # later candle's price.
            assert price - close_of[now] in (D(0), D("0.000001")), (now, price)


def test_each_candle_reaches_the_engine_only_at_its_close() -> None:
    closes = [300_000, 300_100, 300_200]
    times: list[int] = []

    class Clock:
        name = "clock"
        symbols = frozenset({"XLM/USD"})

        def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
            if isinstance(event, BookTop):
                times.append(event.recv_ns)
            return []

    loop = build(_spec("mean_reversion"), T0, MemoryLedger(T0))
    loop.core.strategies = (Clock(),)
    loop.core._by_symbol = {"XLM/USD": loop.core.strategies}  # type: ignore[attr-defined]
    loop.run([_series(closes)], T0, T0 + 3 * MIN)
    assert times == [T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]


class Recorder:
    """A ledger that notes each write, to check what the venue had seen by then."""

    def __init__(self) -> None:
        self.inner = MemoryLedger(T0)
        self.persisted: list[str] = []

    def write(self, effect: LedgerEffect, now_ns: int) -> object:
        if isinstance(effect, PersistOrder):
            self.persisted.append(effect.command.cl_ord_id)
        return self.inner.write(effect, now_ns)


def test_every_order_is_in_the_ledger_before_the_venue_gets_it() -> None:
    ledger = Recorder()
    spec = _spec("mean_reversion", entry_z="1.0", take_profit_pct="0.5", trade_usd="10")
    loop = build(spec, T0, ledger)
    sent: list[str] = []
    place = loop.venue.place

    def checked_place(command: object, sent_ns: int) -> None:
        cl = command.cl_ord_id  # type: ignore[attr-defined]
        assert cl in ledger.persisted  # persisted first
        sent.append(cl)
        place(command, sent_ns)  # type: ignore[arg-type]

    loop.venue.place = checked_place  # type: ignore[method-assign]
    bars = load_bundled([loop.venue.markets["XLM/USD"].inst])
    first = bars[0].open_ns[0]
    loop.run(bars, first, bars[0].open_ns[-1] + MIN)
    assert len(sent) >= 5 and loop.core.counts.fills >= 2


class Raiser:
    name = "raiser"
    symbols = frozenset({"XLM/USD"})

    @classmethod
    def from_params(cls, params: object) -> Raiser:
        return cls()

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        if isinstance(event, BookTop) and event.recv_ns >= T0 + 3 * MIN:
            return [1 / 0]  # type: ignore[list-item]
        return []


def test_a_strategy_that_raises_stops_the_run_with_its_time_and_pair() -> None:
    spec = _spec("tests.unit.backtest.test_loop:Raiser")
    with pytest.raises(StrategyError) as caught:
        run_spec(spec, [_series([300_000] * 5)], (T0, T0 + 5 * MIN), MemoryLedger(T0))
    err = caught.value
    assert (err.at_ns, err.symbol) == (T0 + 3 * MIN, "XLM/USD")
    assert "ZeroDivisionError" in str(err) and "test_loop.py" in err.where


class FreezeWatcher:
    """Notes how many objects the collector holds aside while the run asks it."""

    name = "freeze_watcher"
    symbols = frozenset({"XLM/USD"})

    def __init__(self) -> None:
        self.frozen: list[int] = []

    @classmethod
    def from_params(cls, params: object) -> FreezeWatcher:
        return cls()

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        self.frozen.append(gc.get_freeze_count())
        return []


def test_the_run_spares_older_objects_from_the_collector_and_gives_them_back() -> None:
    """While the loop runs, what existed before is held aside (gc.freeze); afterwards, also
    when the run failed, the collector is as it was (nothing left frozen, nothing leaked)."""
    assert gc.get_freeze_count() == 0
    spec = _spec("tests.unit.backtest.test_loop:FreezeWatcher")
    outcome = run_spec(spec, [_series([300_000] * 5)], (T0, T0 + 5 * MIN), MemoryLedger(T0))
    assert gc.get_freeze_count() == 0
    [watcher] = outcome.loop.core.strategies
    seen = watcher.frozen  # type: ignore[attr-defined]
    assert seen and min(seen) > 0
    with pytest.raises(StrategyError):
        spec = _spec("tests.unit.backtest.test_loop:Raiser")
        run_spec(spec, [_series([300_000] * 5)], (T0, T0 + 5 * MIN), MemoryLedger(T0))
    assert gc.get_freeze_count() == 0


def test_a_caller_that_froze_objects_keeps_them_frozen() -> None:
    gc.freeze()
    try:
        spec = _spec("tests.unit.backtest.test_loop:FreezeWatcher")
        run_spec(spec, [_series([300_000] * 5)], (T0, T0 + 5 * MIN), MemoryLedger(T0))
        assert gc.get_freeze_count() > 0  # not unfrozen behind the caller's back
    finally:
        gc.unfreeze()


def _bundled_doc() -> tuple[str, object]:
    spec = _spec("mean_reversion", entry_z="1.0", take_profit_pct="0.5", trade_usd="10")
    loop_inst = build(spec, T0, MemoryLedger(T0)).venue.markets["XLM/USD"].inst
    bars = load_bundled([loop_inst])
    span = (bars[0].open_ns[0], bars[0].open_ns[-1] + MIN)
    outcome = run_spec(spec, bars, span, MemoryLedger(span[0]))
    doc = document(outcome, {"what": "test"}, LIMITS.max_trade_usd)
    return json.dumps(doc, sort_keys=True), outcome


def test_the_same_inputs_give_the_same_result_and_the_books_agree() -> None:
    first, outcome = _bundled_doc()
    second, _ = _bundled_doc()
    assert first == second
    loop = outcome.loop  # type: ignore[attr-defined]
    doc = json.loads(first)
    assert doc["summary"]["trades"] >= 1
    # The venue's account (the exchange's truth) and the portfolio (the engine's) agree:
    # cash + holdings at the last price = start + realized + unrealized.
    core, venue = loop.core, loop.venue
    last = venue.markets["XLM/USD"].price(venue.markets["XLM/USD"].last)
    start = D(doc["summary"]["start_equity"])
    pnl = core.portfolio.realized_total + core.portfolio.unrealized_total({"XLM/USD": last})
    held = venue.balances.get("XLM", D(0))
    assert venue.balances["USD"] + held * last == start + pnl
    assert D(doc["summary"]["end_equity"]) == venue.balances["USD"] + held * last


def test_timer_ticks_come_after_the_market_moment() -> None:
    seen: list[str] = []

    class Order:
        name = "order"
        symbols = frozenset({"XLM/USD"})

        def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
            if isinstance(event, BookTop | TimerTick):
                seen.append(type(event).__name__)
            return []

    loop = build(_spec("mean_reversion"), T0, MemoryLedger(T0))
    loop.core.strategies = (Order(),)
    loop.core._by_symbol = {"XLM/USD": loop.core.strategies}  # type: ignore[attr-defined]
    loop.run([_series([300_000, 300_000])], T0, T0 + 2 * MIN)
    assert seen == ["BookTop", "TimerTick", "BookTop", "TimerTick"]

"""Timer ticks with nothing to do are left out of a backtest (engine/ticks.py `due`,
backtest/loop.py), and that changes nothing: the same orders sent at the same moments, the
same ledger writes and the same result as a run that posts every tick — across strategy
settings that exercise entry timeouts, cooldowns, time stops, take-profits and stop-losses.
A strategy that does not say when it is next due is asked on every tick."""

from __future__ import annotations

import json
import random
from array import array
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

import pytest
from tests.unit.backtest.test_loop import LIMITS as LOOP_LIMITS
from tests.unit.backtest.test_loop import MIN, T0, S

from krakenbot.app.backtest.inputs import load_bundled
from krakenbot.app.backtest.ledger import MemoryLedger
from krakenbot.app.backtest.run import BacktestSpec, build
from krakenbot.backtest.loop import StrategyError
from krakenbot.backtest.result import Outcome, document
from krakenbot.backtest.tape import BarSeries, EventTape, MarketInput, Tape, tape_span
from krakenbot.domain.commands import Intent
from krakenbot.domain.effects import LedgerEffect
from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.events import BookTop, Event, MarketTrade, PriceLevel, TimerTick
from krakenbot.engine.config import EngineConfig
from krakenbot.orders.manager import ManagerConfig
from krakenbot.strategy.base import StrategyView

D = Decimal
# The daily-loss limit small enough to be reached: the loss watch acts too.
LIMITS = replace(LOOP_LIMITS, max_daily_loss_usd=D("0.5"))


def _spec(**params: str) -> BacktestSpec:
    return BacktestSpec(
        strategy="mean_reversion",
        params=tuple(sorted({"trade_usd": "10", **params}.items())),
        pairs=("XLM/USD",),
        limits=LIMITS,
        engine=EngineConfig(require_private_ws=False, metrics_interval_s=3600),
    )


def _walk(seed: int, n: int) -> BarSeries:
    """A random walk of 1-minute candles (units of 1e-6 USD) with bursts that trip
    entries, stops and take-profits."""
    rng = random.Random(seed)
    price, opens, highs, lows, closes = 300_000, [], [], [], []
    for _ in range(n):
        o = price
        price = max(1_000, int(price * (1 + rng.gauss(0, 0.004 if rng.random() < 0.1 else 0.001))))
        opens.append(o)
        closes.append(price)
        highs.append(max(o, price) + rng.randrange(0, 300))
        lows.append(min(o, price) - rng.randrange(0, 300))
    return BarSeries(
        "XLM/USD",
        MIN,
        array("q", (T0 + i * MIN for i in range(n))),
        array("q", opens),
        array("q", highs),
        array("q", lows),
        array("q", closes),
        [D(1000)] * n,
    )


class Recorder:
    def __init__(self) -> None:
        self.inner = MemoryLedger(T0)
        self.writes: list[str] = []

    def write(self, effect: LedgerEffect, now_ns: int) -> object:
        self.writes.append(f"{now_ns} {effect!r}")
        return self.inner.write(effect, now_ns)


def _events(seed: int, n: int) -> EventTape:
    """A trade a second and a book every 15 s: most ticks come with no book at their
    moment, so the timeouts, time stops and throttles are decided on ticks."""
    rng = random.Random(seed)
    step, price, qty = D("0.000001"), 0.3, D(500)
    events: list[MarketInput] = []
    for i in range(n):
        price *= 1 + rng.gauss(0, 0.003 if rng.random() < 0.05 else 0.0005)
        p = D(price).quantize(step)
        t = T0 + i * S
        if i % 15 == 0:
            bid, ask = (PriceLevel(p, qty),), (PriceLevel(p + step, qty),)
            events.append(BookTop("XLM/USD", bid, ask, True, t, t))
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        events.append(MarketTrade("XLM/USD", side, p, qty, OrderType.LIMIT, i, t, t + 1))
    return EventTape(events, symbols=("XLM/USD",))


def _run(spec: BacktestSpec, bars: Tape, every: bool) -> tuple[list[str], ...]:
    ledger = Recorder()
    loop = build(spec, T0, ledger)
    loop.config = replace(loop.config, every_tick=every)
    sent: list[str] = []
    place = loop.venue.place

    def noted(command: object, sent_ns: int) -> None:
        sent.append(f"{sent_ns} {command!r}")
        place(command, sent_ns)  # type: ignore[arg-type]

    loop.venue.place = noted  # type: ignore[method-assign]
    start, end = tape_span(bars)
    loop.run(bars, start, end)
    doc = json.dumps(document(Outcome(loop, start, end), {}, LIMITS.max_trade_usd), sort_keys=True)
    return sent, ledger.writes, [doc], [str(loop.counts.engine_events)]


SETTINGS = [
    {},
    {"entry_z": "0.5", "take_profit_pct": "0.2", "stop_loss_pct": "0.3"},
    {"entry_z": "0.8", "entry_timeout_s": "90", "cooldown_s": "0", "max_hold_s": "400"},
    {"entry_z": "0.3", "exit_retry_s": "200", "warmup_s": "3000", "min_samples": "5"},
]


@pytest.mark.parametrize("params", SETTINGS)
@pytest.mark.parametrize("seed", [1, 2])
def test_leaving_idle_ticks_out_changes_nothing(params: dict[str, str], seed: int) -> None:
    spec = _spec(**params)
    bars = [_walk(seed, 1500)]
    every = _run(spec, bars, every=True)
    idle_out = _run(spec, bars, every=False)
    assert every[0], "nothing was traded: nothing compared"
    assert idle_out[:3] == every[:3]  # orders, ledger writes, result: identical
    assert int(idle_out[3][0]) < int(every[3][0])  # and ticks were left out


EVENT_SETTINGS = [
    {"entry_z": "0.5", "entry_timeout_s": "20", "cooldown_s": "7", "max_hold_s": "100"},
    {"entry_z": "0.3", "take_profit_pct": "0.2", "exit_retry_s": "13", "warmup_s": "200"},
    {"entry_z": "0.5", "entry_timeout_s": "5000", "stop_loss_pct": "0.3"},  # engine timeouts
]


@pytest.mark.parametrize("params", EVENT_SETTINGS)
def test_leaving_idle_ticks_out_changes_nothing_between_books(params: dict[str, str]) -> None:
    engine = EngineConfig(
        require_private_ws=False,
        metrics_interval_s=600,
        manager=ManagerConfig(order_timeout_s=45, cancel_retry_s=3),
    )
    spec = replace(_spec(ema_halflife_s="120", min_samples="10", **params), engine=engine)
    spec = replace(spec, tick_s=1.0)
    tape = _events(4, 6000)
    every = _run(spec, tape, every=True)
    idle_out = _run(spec, tape, every=False)
    assert every[0], "nothing was traded: nothing compared"
    assert idle_out[:3] == every[:3]
    assert int(idle_out[3][0]) < int(every[3][0])


def test_leaving_idle_ticks_out_changes_nothing_on_the_bundled_day() -> None:
    spec = _spec(entry_z="1.0", take_profit_pct="0.5")
    inst = build(spec, T0, MemoryLedger(T0)).venue.markets["XLM/USD"].inst
    bars = load_bundled([inst])
    every = _run(spec, bars, every=True)
    idle_out = _run(spec, bars, every=False)
    assert every[0] and idle_out[:3] == every[:3]
    assert int(idle_out[3][0]) < int(every[3][0])


class Ticked:
    """Counts its timer ticks; with `due`, says when it is next due."""

    name = "ticked"
    symbols = frozenset({"XLM/USD"})

    def __init__(self) -> None:
        self.ticks: list[int] = []

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        if isinstance(event, TimerTick):
            self.ticks.append(event.now_ns)
        return []


class TickedDue(Ticked):
    def next_due(self, now_ns: int, view: StrategyView) -> int | None:
        return T0 + 30 * MIN  # one appointment


def _ticks(strategy: Ticked, minutes: int) -> list[int]:
    loop = build(_spec(), T0, MemoryLedger(T0))
    loop.core.strategies = (strategy,)
    loop.core._by_symbol = {"XLM/USD": loop.core.strategies}  # type: ignore[attr-defined]
    loop.run([_walk(3, minutes)], T0, T0 + minutes * MIN)
    return strategy.ticks


def test_a_strategy_without_next_due_is_asked_on_every_tick() -> None:
    assert _ticks(Ticked(), 90) == [T0 + (i + 1) * MIN for i in range(90)]


def test_a_strategy_with_next_due_is_asked_from_then_on() -> None:
    # Nothing else to do (no order, the first metrics row an hour in): no tick before its
    # appointment, then each one (it keeps saying it is due).
    assert _ticks(TickedDue(), 130) == [T0 + m * MIN for m in range(30, 131)]


class DueRaiser(Ticked):
    def next_due(self, now_ns: int, view: StrategyView) -> int | None:
        if now_ns >= T0 + 3 * MIN:
            return 1 // 0
        return None


def test_a_next_due_that_raises_stops_the_run_with_its_time_and_pair() -> None:
    with pytest.raises(StrategyError) as caught:
        _ticks(DueRaiser(), 10)
    err = caught.value
    assert (err.at_ns, err.symbol) == (T0 + 3 * MIN, "XLM/USD")
    assert "ZeroDivisionError" in str(err) and "test_idle_ticks.py" in err.where

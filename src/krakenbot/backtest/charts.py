"""What the HTML report draws, as data: prices, our fills and the equity curve over time.

Owns: `Charts` (each pair's price, every fill of ours, the equity — cash plus holdings at
their marks — sampled every `sample_ns` of market time) and `ChartSampler`, which fills one
in from an engine core as a replay feeds it (the parity replay, backtest/parity.py: no
venue there, so the account is the core's own picture, `AccountBook.available`, and the
marks its books' mids). The candle backtest keeps the same series in its loop
(backtest/loop.py). Pure: no I/O. Imports: domain, engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from krakenbot.domain.events import Fill
from krakenbot.engine.core import EngineCore

NS = 1_000_000_000
ZERO = Decimal(0)


@dataclass(slots=True)
class Charts:
    prices: dict[str, list[tuple[int, Decimal]]] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    equity: list[tuple[int, Decimal]] = field(default_factory=list)


class ChartSampler:
    def __init__(self, core: EngineCore, sample_ns: int = 60 * NS) -> None:
        self.core = core
        self.sample_ns = sample_ns
        self.charts = Charts()
        self._next = 0

    def fill(self, fill: Fill) -> None:
        """A fill also makes the next input a sample: the price line then passes through the
        moment of each fill, not only through whole minutes (a short run has few of them)."""
        self.charts.fills.append(fill)
        self._next = 0

    def at(self, t_ns: int) -> None:
        """After an input handled at `t_ns`: a sample when one is due (and a mark known)."""
        if t_ns < self._next:
            return
        core = self.core
        marks = core.marks()
        if not marks:
            return
        step = self.sample_ns
        self._next = t_ns - t_ns % step + step
        balances = core.account.available()
        equity = balances.get(core.config.quote_currency, ZERO)
        for symbol, mark in sorted(marks.items()):
            self.charts.prices.setdefault(symbol, []).append((t_ns, mark))
            inst = core.instruments.get(symbol)
            held = balances.get(inst.base) if inst is not None else None
            if held:
                equity += held * mark
        self.charts.equity.append((t_ns, equity))


__all__ = ["ChartSampler", "Charts"]

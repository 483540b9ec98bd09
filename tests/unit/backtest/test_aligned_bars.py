"""Pairs whose candles open at the same times (one pair; pairs downloaded over one range)
are replayed without the merge of their closes (backtest/loop.py `_run_aligned`): the
orders sent, every ledger write and result.json are those of the merge, and pairs that do
not line up still go through it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.backtest.test_idle_ticks import LIMITS, _run, _spec, _walk
from tests.unit.backtest.test_loop import MIN

from krakenbot.app.backtest.run import BacktestSpec
from krakenbot.backtest import loop as loop_module
from krakenbot.backtest.tape import BarSeries


def _pair(symbol: str, seed: int, n: int, shift: int = 0, scale: int = 1) -> BarSeries:
    walk = _walk(seed, n)
    return replace(
        walk,
        symbol=symbol,
        open_ns=type(walk.open_ns)("q", (t + shift * MIN for t in walk.open_ns)),
        o=type(walk.o)("q", (p * scale for p in walk.o)),
        h=type(walk.h)("q", (p * scale for p in walk.h)),
        lo=type(walk.lo)("q", (p * scale for p in walk.lo)),
        c=type(walk.c)("q", (p * scale for p in walk.c)),
    )


def _two_pairs() -> BacktestSpec:
    pairs = ("XLM/USD", "ETH/USD")
    limits = replace(
        LIMITS,
        allowed_symbols=frozenset(pairs),
        max_total_exposure_usd=LIMITS.max_total_exposure_usd * 2,
        max_positions=2,
    )
    params = {"entry_z": "0.5", "take_profit_pct": "0.2", "stop_loss_pct": "0.3"}
    return replace(_spec(**params), pairs=pairs, limits=limits)


@pytest.mark.parametrize("pairs", [1, 2])
def test_aligned_candles_replay_as_the_merge_does(
    pairs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _two_pairs() if pairs == 2 else _spec(entry_z="0.5", take_profit_pct="0.2")
    bars = [_pair("XLM/USD", 1, 1200), _pair("ETH/USD", 2, 1200)][:pairs]
    assert loop_module._aligned(bars)
    fast = _run(spec, bars, every=False)
    monkeypatch.setattr(loop_module, "_aligned", lambda series: False)
    merged = _run(spec, bars, every=False)
    assert fast[0], "nothing was traded: nothing compared"
    assert fast == merged


def test_pairs_that_do_not_line_up_are_merged() -> None:
    late = [_pair("XLM/USD", 1, 300), _pair("ETH/USD", 2, 300, shift=7)]
    assert not loop_module._aligned(late)
    wider = [_pair("XLM/USD", 1, 300), replace(_pair("ETH/USD", 2, 300), interval_ns=2 * MIN)]
    assert not loop_module._aligned(wider)
    assert not loop_module._aligned([])
    _, _, doc, _ = _run(_two_pairs(), late, every=False)
    assert '"ETH/USD"' in doc[0] and '"XLM/USD"' in doc[0]

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from krakenbot.app.simdemo import sim_strategies
from krakenbot.config import Settings, load_settings
from krakenbot.strategy.mean_reversion import MeanReversion


def test_sim_strategy_takes_limits_and_strategy_params(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    names = {name.upper() for name in Settings.model_fields}
    for key in list(os.environ):
        if key.upper() in names:
            monkeypatch.delenv(key)
    monkeypatch.setenv("MAX_TRADE_SIZE", "7")
    monkeypatch.setenv("STRATEGY_PARAMS", "entry_z=3.5,take_profit_pct=1.1,entry_timeout_s=300")
    monkeypatch.setenv("ALLOWED_PAIRS", "XLM/USD,BTC/USD")
    monkeypatch.setenv("MAX_POSITIONS", "2")
    strategy, other = sim_strategies(load_settings(), speed=100)  # one per allowed pair
    assert isinstance(strategy, MeanReversion) and isinstance(other, MeanReversion)
    assert other.params.symbol == "BTC/USD" and other.params.entry_z == 3.5
    params = strategy.params
    assert params.symbol == "XLM/USD"
    assert params.trade_usd == Decimal("7")
    assert params.entry_z == 3.5
    assert params.take_profit_pct == Decimal("1.1")
    assert params.entry_timeout_s == pytest.approx(3.0)  # time constants compressed 100x


def test_a_user_strategy_runs_unchanged_in_the_demo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRATEGY", "mypkg.strat:Mine")
    assert sim_strategies(load_settings(), speed=100) == ()

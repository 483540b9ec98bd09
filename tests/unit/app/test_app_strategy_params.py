from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from krakenbot.app.simdemo import sim_strategy
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
    strategy = sim_strategy(load_settings(), speed=100)
    assert isinstance(strategy, MeanReversion)
    params = strategy.params
    assert params.symbol == "XLM/USD"
    assert params.trade_usd == Decimal("7")
    assert params.entry_z == 3.5
    assert params.take_profit_pct == Decimal("1.1")
    assert params.entry_timeout_s == pytest.approx(3.0)  # time constants compressed 100x

from __future__ import annotations

import pytest
from tests.strategy_view import SnapshotView

from krakenbot.domain.events import TimerTick
from krakenbot.errors import ConfigError
from krakenbot.strategy.base import Strategy
from krakenbot.strategy.loader import load_strategy
from krakenbot.strategy.mean_reversion import MeanReversion


def test_built_in_with_params() -> None:
    s = load_strategy("mean_reversion", {"symbol": "BTC/USD", "entry_z": "2.5"})
    assert isinstance(s, MeanReversion) and isinstance(s, Strategy)
    assert s.symbols == frozenset({"BTC/USD"}) and s.params.entry_z == 2.5
    assert isinstance(load_strategy(" mean_reversion "), MeanReversion)


def test_user_class_by_path() -> None:
    s = load_strategy("strategy_probe:Quiet", {"symbol": "ETH/USD"})
    assert s.name == "quiet" and s.symbols == frozenset({"ETH/USD"})
    assert s.on_event(TimerTick(1), SnapshotView()) == ()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("momentum", "built-in"),
        ("not a spec:X", "built-in"),
        ("no_such_module_xyz:Thing", "cannot import"),
        ("strategy_probe:Missing", "has no Missing"),
        ("strategy_probe:NoFactory", "from_params"),
        ("strategy_probe:WrongProduct", "did not return a Strategy"),
    ],
)
def test_bad_specs_are_config_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_strategy(spec)


def test_strategy_validates_its_own_params() -> None:
    with pytest.raises(ConfigError, match="only 'symbol'"):
        load_strategy("strategy_probe:Quiet", {"size": "1"})
    with pytest.raises(ConfigError, match="unknown parameter"):
        load_strategy("mean_reversion", {"entry_zz": "2"})

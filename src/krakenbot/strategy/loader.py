"""Load the configured strategy: `mean_reversion` or `package.module:ClassName`.

Owns: `load_strategy` (one instance) and `load_strategies` (one instance per traded pair,
each built with its pair as the `symbol` parameter: the built-in strategy and users'
strategies alike; an instance that does not trade the pair it was built for is refused, so
two instances can never trade one pair by mistake). Imports: stdlib importlib, errors,
strategy. A user strategy class must provide `from_params(params: Mapping[str, object]) ->
Strategy` and validate its own parameters there (raising ConfigError); anything wrong
becomes a ConfigError so the daemon refuses to start instead of trading with a half-loaded
strategy.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence

from krakenbot.errors import ConfigError
from krakenbot.strategy.base import Strategy
from krakenbot.strategy.mean_reversion import MeanReversion

BUILT_IN = {"mean_reversion": MeanReversion}
_SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


def load_strategy(spec: str, params: Mapping[str, object] | None = None) -> Strategy:
    spec = spec.strip()
    factory: object = BUILT_IN.get(spec)
    if factory is None:
        if not _SPEC.fullmatch(spec):
            raise ConfigError(
                f"STRATEGY={spec!r}: use a built-in name ({', '.join(BUILT_IN)}) "
                "or package.module:ClassName"
            )
        module_name, _, class_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(f"STRATEGY={spec!r}: cannot import {module_name}") from exc
        factory = getattr(module, class_name, None)
        if factory is None:
            raise ConfigError(f"STRATEGY={spec!r}: {module_name} has no {class_name}")
    from_params = getattr(factory, "from_params", None)
    if not callable(from_params):
        raise ConfigError(f"STRATEGY={spec!r}: the class has no from_params(params)")
    strategy = from_params(dict(params or {}))
    if not isinstance(strategy, Strategy):
        raise ConfigError(f"STRATEGY={spec!r}: from_params did not return a Strategy")
    return strategy


def load_strategies(
    spec: str, params: Mapping[str, object], pairs: Sequence[str]
) -> tuple[Strategy, ...]:
    """One instance per pair, each from `params` with `symbol` set to its pair."""
    built: list[Strategy] = []
    for pair in dict.fromkeys(pairs):
        strategy = load_strategy(spec, {**params, "symbol": pair})
        if pair not in strategy.symbols:
            trades = ", ".join(sorted(strategy.symbols)) or "nothing"
            raise ConfigError(
                f"STRATEGY={spec.strip()!r} built for {pair} trades {trades}: a strategy "
                "takes its pair from the 'symbol' parameter (one instance per allowed pair; "
                "symbol=... in STRATEGY_PARAMS runs one instance on that pair alone)"
            )
        built.append(strategy)
    return tuple(built)

"""User-strategy fixtures for the loader tests (imported by module path)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from krakenbot.domain.commands import Intent
from krakenbot.domain.events import Event
from krakenbot.errors import ConfigError
from krakenbot.strategy.base import StrategyView


class Quiet:
    name = "quiet"

    def __init__(self, symbol: str) -> None:
        self._symbol = symbol

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Quiet:
        if set(params) - {"symbol"}:
            raise ConfigError("quiet: only 'symbol' is accepted")
        return cls(str(params.get("symbol", "XLM/USD")))

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset({self._symbol})

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        return ()


class NoFactory:
    pass


class WrongProduct:
    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> object:
        return object()


class Fixed(Quiet):
    """Trades ETH/USD whatever pair it is built for."""

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Quiet:
        return cls("ETH/USD")

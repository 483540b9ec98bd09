"""Per-component configuration sections: what each component receives instead of all settings.

Owns: the frozen, typed sections that `krakenbot.config.Settings` derives (`settings.rest()`,
`settings.ws()`, …) and production builds its components from, the `TradingMode` / `ApiTier`
vocabularies and a masked `Secret` holder. The risk gate's section is `risk.limits.RiskLimits`
(`settings.risk_limits()`), the one class the gate, the tests and the settings share.
Imports: stdlib only, so every layer (net, risk, store, engine) may accept its section
without importing the settings machinery (pydantic) or the composition root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class TradingMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class OrderTransport(StrEnum):
    """How the live venue sends orders, amends, cancels and the dead man's switch: over the
    authenticated WebSocket (falling back to REST while it is down), or always over REST."""

    WEBSOCKET = "websocket"
    REST = "rest"


class ApiTier(StrEnum):
    """Kraken verification tier; it sets the REST counter limits (docs: rest-api-rate-limits)."""

    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"


class Secret:
    """A secret string that never shows itself in `repr`, `str` or f-strings.

    Same reading API as pydantic's `SecretStr` (`get_secret_value()`), so callers need not care
    which one they hold.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Credentials:
    """One Kraken API key pair. Each key has its own nonce stream (docs: spot-rest-auth)."""

    api_key: Secret
    api_secret: Secret  # base64, as Kraken issues it


@dataclass(frozen=True, slots=True)
class RestSection:
    base_url: str
    tier: ApiTier
    timeout_s: float
    credentials: Credentials | None  # None: public endpoints only


@dataclass(frozen=True, slots=True)
class WsSection:
    public_url: str
    auth_url: str
    book_depth: int
    connect_timeout_s: float
    pairs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BreakerSection:
    """The REST client's circuit breaker: open after `failure_threshold` failures in a row,
    probe again after `cooldown_s`."""

    failure_threshold: int
    cooldown_s: float


@dataclass(frozen=True, slots=True)
class DeadManSwitchSection:
    """Kraken's CancelAllOrdersAfter / cancel_after: arm with `timeout_s`, refresh every
    `refresh_s` (docs: websocket-v2/cancel_after recommends 60 s refreshed every 15-30 s)."""

    timeout_s: int
    refresh_s: int


@dataclass(frozen=True, slots=True)
class HealthSection:
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class StoreSection:
    db_path: Path
    data_dir: Path


@dataclass(frozen=True, slots=True)
class LogSection:
    file: Path
    level: str
    max_bytes: int
    backup_count: int
    console: bool


@dataclass(frozen=True, slots=True)
class LockSection:
    path: Path


@dataclass(frozen=True, slots=True)
class StrategySection:
    name: str  # a built-in name or `package.module:ClassName`
    params: Mapping[str, str]  # what an instance is built from (`from_params`), its
    # `symbol` replaced by each pair in turn
    pairs: tuple[str, ...]  # one instance per pair
    mode: TradingMode

"""The REST client's configuration and the small values shared by its layers.

Owns: `RestConfig` (frozen, units in names), `Credentials` (repr never shows the secret),
`TradeCharge` (what a trading call costs on a pair's matching-engine counter, charged the
same whether the call goes over REST or the private WebSocket), `Params`, and where the
per-key state lives (`key_state_dir`). Must not import: anything above `net`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from krakenbot.errors import ConfigError
from krakenbot.kraken.ratelimit import Tier
from krakenbot.kraken.signing import ParamValue

KEY_STATE_SUBDIR = "kraken-keys"

NONCE_ADVICE = (
    "Kraken refused our nonce (EAPI:Invalid nonce): another program is using this API key "
    "(another bot or tool, or a krakenbot of another user account or with another "
    "KRAKENBOT_STATE_DIR), or the key's nonce scale is ahead of ours. What to do: give each "
    "program its own API key (and krakenbot a separate status key), or set a nonce window "
    "on the key in Kraken's API settings."
)


def key_state_dir(state_dir: Path) -> Path:
    """Where every krakenbot process keeps per-key nonce/rate state: they must all agree, so
    `state_dir` is the per-user state directory (app/statedir.py), never a folder that
    depends on the working directory or on DATA_DIR."""
    return state_dir / KEY_STATE_SUBDIR


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key[:4]}…, api_secret=<hidden>)"


@dataclass(frozen=True, slots=True)
class RestConfig:
    """Everything the REST client needs; built by the composition root from Settings."""

    state_dir: Path
    base_url: str = "https://api.kraken.com"
    tier: Tier = Tier.STARTER
    request_timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    lock_timeout_s: float = 30.0
    breaker_threshold: int = 5
    breaker_cooldown_s: float = 30.0
    order_deadline_s: float = 5.0  # AddOrder `deadline`: Kraken accepts now+2 s … now+60 s
    deadline_grace_s: float = 1.0  # extra wait past the deadline before an order lookup
    max_rate_wait_s: float = 300.0  # a wait longer than this fails with RateLimitedError
    read_retries: int = 4
    retry_base_s: float = 0.25
    retry_cap_s: float = 8.0
    lookup_attempts: int = 6
    max_order_sends: int = 3
    repeated_rejection_threshold: int = 3
    # Trades/OHLC pacing per pair (kraken/public_ratelimit.py: 1/s is Kraken's safe rate).
    public_history_per_s: float = 1.0
    public_history_burst: float = 1.0
    user_agent: str = "krakenbot/0.1 (+rest)"

    def __post_init__(self) -> None:
        if not 2.0 <= self.order_deadline_s <= 60.0:
            raise ConfigError("order_deadline_s must be within Kraken's 2…60 s")
        if self.request_timeout_s <= 0:
            raise ConfigError("request_timeout_s must be positive")
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError("base_url must be an http(s) URL")


# Parameters, or a function of the send time (ns) returning them or, already form-encoded,
# the body that follows `nonce=<n>` (kraken.rest_orders.add_order_form).
Params = dict[str, ParamValue] | Callable[[int], dict[str, ParamValue] | str]


@dataclass(frozen=True, slots=True)
class TradeCharge:
    """What a trading call costs on a pair's matching-engine counter."""

    pair: str
    cost: float
    cancel: bool = False  # cancels may use the headroom new orders leave for them

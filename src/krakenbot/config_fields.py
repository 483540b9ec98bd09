"""The settings' fields: every knob of krakenbot with its type and default, in the order
`config show` lists them.

Owns: `SettingsFields`, the pydantic-settings base of `config.Settings` (environment +
`.env` file); the checks and the per-component sections are in config.py, the single-value
rules in config_rules.py. The environment variable is the field name in upper case.
Imports: pydantic, domain.sections.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from krakenbot.domain.sections import ApiTier, OrderTransport, TradingMode

DEFAULT_ENV_FILE = Path(".env")


class SettingsFields(BaseSettings):
    """All settings' fields (validated by `config.Settings`)."""

    model_config = SettingsConfigDict(
        env_file=DEFAULT_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        frozen=True,
        hide_input_in_errors=True,
        validate_default=True,
    )

    # Credentials: the daemon's key, and an optional second key for status / emergency stop so
    # the two never race for the same nonce sequence (docs: spot-rest-auth, nonce per key).
    kraken_api_key: SecretStr | None = None
    kraken_api_secret: SecretStr | None = None
    kraken_status_api_key: SecretStr | None = None
    kraken_status_api_secret: SecretStr | None = None

    trading_mode: TradingMode = TradingMode.PAPER
    strategy: str = "mean_reversion"
    # The strategy's own parameters as `name=value` pairs, comma separated; the strategy
    # validates names and values at start-up (and `config check` loads it to prove that).
    strategy_params: str = ""

    # Risk limits, USD.
    max_trade_size: Decimal = Decimal("10")
    max_total_exposure: Decimal = Decimal("10")
    min_order_size: Decimal = Decimal("1")
    max_positions: int = 1
    max_daily_losses: Decimal = Decimal("20")
    allowed_pairs: Annotated[tuple[str, ...], NoDecode] = ("XLM/USD",)
    post_only: bool = True
    protective_stop_pct: Decimal = Decimal("3.0")  # each position's stop at Kraken, % below entry

    circuit_breaker_threshold: int = 5
    circuit_breaker_cooldown_s: float = 300.0

    kraken_api_tier: ApiTier = ApiTier.STARTER
    # Orders, amends, cancels and the dead man's switch: over the authenticated WebSocket
    # (REST while it is down), or `rest` for the old path (net/kraken_venue.py).
    order_transport: OrderTransport = OrderTransport.WEBSOCKET
    kraken_rest_url: str = "https://api.kraken.com"
    kraken_ws_url: str = "wss://ws.kraken.com/v2"
    kraken_ws_auth_url: str = "wss://ws-auth.kraken.com/v2"
    rest_timeout_s: float = 10.0
    ws_connect_timeout_s: float = 10.0
    ws_book_depth: int = 10

    dead_man_switch_timeout_s: int = 60
    dead_man_switch_refresh_s: int = 20
    # Ledger writes failing (locked, disk full, read-only): new orders stop at the first
    # failure; failing for this long without one success → safe stop, exit status 1.
    ledger_failure_grace_s: float = 30.0

    data_dir: Path = Path("data")
    database_path: Path = Path("trading.db")
    log_file: Path = Path("trading_new.log")
    log_level: str = "INFO"
    log_max_bytes: int = 10 * 1024 * 1024
    log_backup_count: int = 5
    log_console: bool = True
    lock_file: Path = Path(".trading_lock")

    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8787)
    health_allow_remote: bool = False

    # Notifications (app/notify_targets.py): comma-separated https:// JSON webhooks (http://
    # on loopback or a private network) and tg://BOT_TOKEN@CHAT_ID; secret as a whole.
    notify_urls: SecretStr | None = None
    notify_daily_summary_utc: str = "off"  # HH:MM (UTC) or off

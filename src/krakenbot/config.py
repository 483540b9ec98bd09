"""Settings: every knob of krakenbot, validated once at start-up.

Owns: the pydantic-settings `Settings` model (environment + `.env` file, or the file given with
`--env-file`), the cross-field safety checks, the conversion of a validation failure into one
operator-readable `ConfigError` (setting name + offending value, never a secret, never a
traceback), and the per-component sections (`settings.rest()`, `settings.ws()`, …) defined in
`krakenbot.domain.sections`, and the risk gate's `risk.limits.RiskLimits`. The single-value
rules (every number finite and in its range, an empty number refused, URL and parameter
checks) live in `config_rules`. Composition root: it may import anything, and nothing below
`app/` should import it — components receive their section instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import (
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsError,
)

from krakenbot.app import notify_targets as notify
from krakenbot.config_fields import DEFAULT_ENV_FILE, SettingsFields
from krakenbot.config_rules import (
    NUMBER_RANGES,
    SECRET_FIELDS,
    EmptyNumbers,
    check_api_key,
    check_base64_secret,
    check_number,
    endpoint_problems,
    env_name,
    format_validation_error,
    parse_params,
)
from krakenbot.domain.sections import (
    BreakerSection,
    Credentials,
    DeadManSwitchSection,
    HealthSection,
    LockSection,
    LogSection,
    RestSection,
    Secret,
    StoreSection,
    StrategySection,
    TradingMode,
    WsSection,
)
from krakenbot.errors import ConfigError
from krakenbot.risk.limits import RiskLimits

__all__ = [
    "DEFAULT_ENV_FILE",
    "SECRET_FIELDS",
    "Settings",
    "format_validation_error",
    "load_settings",
]
# WS v2 book depths Kraken accepts (docs: websocket-v2/book, `depth` parameter).
BOOK_DEPTHS = (10, 25, 100, 500, 1000)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PAIR_FORM = re.compile(r"^[A-Z0-9]{1,16}/[A-Z0-9]{1,16}$")
# A built-in name, or `package.module:ClassName` as strategy.loader accepts.
_STRATEGY = re.compile(r"^(?:[a-z][a-z0-9_]{0,63}|[A-Za-z_][\w.]{0,127}:[A-Za-z_]\w{0,63})$")


class Settings(SettingsFields):
    """All settings; the environment variable is the field name in upper case."""

    # ---- single-field checks -------------------------------------------------------------

    @field_validator("allowed_pairs", mode="before")
    @classmethod
    def _split_pairs(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(","))
        return value

    @field_validator("allowed_pairs")
    @classmethod
    def _check_pairs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        pairs: list[str] = []
        for raw in value:
            pair = raw.strip().upper()
            if not PAIR_FORM.match(pair):
                raise ValueError(
                    f"pair {raw!r} is not in BASE/QUOTE form (Kraken WS v2 names, e.g. XLM/USD)"
                )
            if pair not in pairs:
                pairs.append(pair)
        if not pairs:
            raise ValueError("at least one pair is required, e.g. XLM/USD")
        return tuple(pairs)

    @field_validator("kraken_api_secret", "kraken_status_api_secret")
    @classmethod
    def _check_base64(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else SecretStr(check_base64_secret(value))

    @field_validator("kraken_api_key", "kraken_status_api_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else SecretStr(check_api_key(value))

    @field_validator("notify_urls")
    @classmethod
    def _check_notify_urls(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            notify.parse_targets(value.get_secret_value())
        return value

    @field_validator("notify_daily_summary_utc")
    @classmethod
    def _check_summary_time(cls, value: str) -> str:
        found = notify.summary_time(value)
        return "off" if found is None else found.strftime("%H:%M")

    @field_validator("strategy")
    @classmethod
    def _check_strategy(cls, value: str) -> str:
        if not _STRATEGY.match(value):
            raise ValueError(
                "must be a built-in name such as mean_reversion, or package.module:ClassName"
            )
        return value

    @field_validator("strategy_params")
    @classmethod
    def _check_strategy_params(cls, value: str) -> str:
        parse_params(value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_level(cls, value: object) -> object:
        if isinstance(value, str):
            level = value.strip().upper()
            if level not in LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
            return level
        return value

    @field_validator("ws_book_depth")
    @classmethod
    def _check_depth(cls, value: int) -> int:
        if value not in BOOK_DEPTHS:
            raise ValueError(f"must be one of {', '.join(map(str, BOOK_DEPTHS))}")
        return value

    @field_validator(*NUMBER_RANGES, mode="before")
    @classmethod
    def _refuse_empty(cls, value: object, info: ValidationInfo) -> object:
        return check_number(str(info.field_name), value) if value == "" else value

    @field_validator(*NUMBER_RANGES)
    @classmethod
    def _check_range(cls, value: Any, info: ValidationInfo) -> Any:
        # Field by field, so a value out of range is reported together with any other
        # field's type error (a model validator would not run at all then).
        return check_number(str(info.field_name), value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        empties = EmptyNumbers(settings_cls, getattr(dotenv_settings, "env_file", None))
        return init_settings, env_settings, dotenv_settings, file_secret_settings, empties

    # ---- cross-field checks --------------------------------------------------------------

    @model_validator(mode="after")
    def _check_together(self) -> Settings:
        problems: list[str] = []
        if self.min_order_size > self.max_trade_size:
            problems.append(
                f"MIN_ORDER_SIZE={self.min_order_size} is larger than "
                f"MAX_TRADE_SIZE={self.max_trade_size}: no order could ever be placed"
            )
        if self.max_trade_size > self.max_total_exposure:
            problems.append(
                f"MAX_TRADE_SIZE={self.max_trade_size} is larger than "
                f"MAX_TOTAL_EXPOSURE={self.max_total_exposure}"
            )
        if self.dead_man_switch_refresh_s >= self.dead_man_switch_timeout_s:
            problems.append(
                f"DEAD_MAN_SWITCH_REFRESH_S={self.dead_man_switch_refresh_s} must be shorter "
                f"than DEAD_MAN_SWITCH_TIMEOUT_S={self.dead_man_switch_timeout_s}"
            )
        problems.extend(self._credential_problems())
        problems.extend(endpoint_problems(self))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _credential_problems(self) -> list[str]:
        problems: list[str] = []
        for key, secret in (
            ("kraken_api_key", "kraken_api_secret"),
            ("kraken_status_api_key", "kraken_status_api_secret"),
        ):
            has_key = getattr(self, key) is not None
            has_secret = getattr(self, secret) is not None
            if has_key != has_secret:
                missing, given = (secret, key) if has_key else (key, secret)
                problems.append(
                    f"{env_name(given)} is set but {env_name(missing)} is not: set both"
                )
        if self.trading_mode is TradingMode.LIVE and (
            self.kraken_api_key is None or self.kraken_api_secret is None
        ):
            problems.append(
                "TRADING_MODE=live needs KRAKEN_API_KEY and KRAKEN_API_SECRET "
                "(or use TRADING_MODE=paper)"
            )
        return problems

    # ---- per-component sections ----------------------------------------------------------

    def credentials(self) -> Credentials | None:
        return _credentials(self.kraken_api_key, self.kraken_api_secret)

    def status_credentials(self) -> Credentials | None:
        return _credentials(self.kraken_status_api_key, self.kraken_status_api_secret)

    def risk_limits(self) -> RiskLimits:
        """The risk gate's limits (raises ConfigError if they contradict each other)."""
        return RiskLimits(
            allowed_symbols=frozenset(self.allowed_pairs),
            max_trade_usd=self.max_trade_size,
            max_total_exposure_usd=self.max_total_exposure,
            min_order_usd=self.min_order_size,
            max_positions=self.max_positions,
            max_daily_loss_usd=self.max_daily_losses,
            post_only=self.post_only,
        )

    def rest(self) -> RestSection:
        """The daemon's REST client section (trading key)."""
        return RestSection(
            base_url=self.kraken_rest_url.rstrip("/"),
            tier=self.kraken_api_tier,
            timeout_s=self.rest_timeout_s,
            credentials=self.credentials(),
        )

    def ws(self) -> WsSection:
        return WsSection(
            public_url=self.kraken_ws_url,
            auth_url=self.kraken_ws_auth_url,
            book_depth=self.ws_book_depth,
            connect_timeout_s=self.ws_connect_timeout_s,
            pairs=self.allowed_pairs,
        )

    def breaker(self) -> BreakerSection:
        return BreakerSection(
            failure_threshold=self.circuit_breaker_threshold,
            cooldown_s=self.circuit_breaker_cooldown_s,
        )

    def dead_man_switch(self) -> DeadManSwitchSection:
        return DeadManSwitchSection(
            timeout_s=self.dead_man_switch_timeout_s, refresh_s=self.dead_man_switch_refresh_s
        )

    def health(self) -> HealthSection:
        return HealthSection(host=self.health_host, port=self.health_port)

    def store(self) -> StoreSection:
        return StoreSection(db_path=self.database_path, data_dir=self.data_dir)

    def log(self) -> LogSection:
        return LogSection(
            file=self.log_file,
            level=self.log_level,
            max_bytes=self.log_max_bytes,
            backup_count=self.log_backup_count,
            console=self.log_console,
        )

    def lock(self) -> LockSection:
        return LockSection(path=self.lock_file)

    def notify(self) -> notify.NotifySection:
        urls = self.notify_urls.get_secret_value() if self.notify_urls else ""
        daily = notify.summary_time(self.notify_daily_summary_utc)
        return notify.NotifySection(notify.parse_targets(urls), daily)

    def strategy_parameters(self, pair: str | None = None) -> dict[str, str]:
        """What one instance of the configured strategy is built from: its pair as `symbol`
        (default: the first allowed pair), for the built-in strategy MAX_TRADE_SIZE as its
        entry size, then STRATEGY_PARAMS (a `symbol` there pins one instance to that pair)."""
        params = {"symbol": pair or self.allowed_pairs[0]}
        if self.strategy == "mean_reversion":
            params["trade_usd"] = str(self.max_trade_size)
        params.update(parse_params(self.strategy_params))
        return params

    def strategy_config(self) -> StrategySection:
        """The strategy and the pairs it trades: one instance per allowed pair, or the one
        pair STRATEGY_PARAMS pins with `symbol`."""
        params = self.strategy_parameters()
        pinned = "symbol" in parse_params(self.strategy_params)
        return StrategySection(
            name=self.strategy,
            params=params,
            pairs=(params["symbol"],) if pinned else self.allowed_pairs,
            mode=self.trading_mode,
        )

    def secret_values(self) -> tuple[str, ...]:
        """Every secret string set, for the log redaction filter."""
        secrets = (getattr(self, name) for name in sorted(SECRET_FIELDS))
        found = tuple(s.get_secret_value() for s in secrets if s is not None)
        return found + notify.secret_parts(self.notify().targets)  # each URL, bot token too

    def masked(self) -> dict[str, str]:
        """Every setting as display text, in declaration order, secrets masked."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "notify_urls":
                text = notify.describe(self.notify().targets)
            elif name in SECRET_FIELDS:
                text = "(not set)" if value is None else "********"
            elif isinstance(value, tuple):
                text = ",".join(value)
            else:
                text = str(value)
            shown[env_name(name)] = text
        return shown


def load_settings(env_file: Path | str | None = None) -> Settings:
    """Read and validate the settings; raise `ConfigError` with one readable message.

    `env_file` replaces the default `./.env` (which may be absent); an explicit file must exist.
    Environment variables win over the file, as in pydantic-settings.
    """
    if env_file is not None:
        path = Path(env_file)
        if not path.is_file():
            raise ConfigError(f"--env-file {str(path)!r}: no such file")
        source: Path = path
    else:
        source = DEFAULT_ENV_FILE
    try:
        return Settings(_env_file=source)  # type: ignore[call-arg]
    except ValidationError as exc:
        # `from None`: the pydantic error (which may hold raw input) must not travel along.
        raise ConfigError(format_validation_error(exc)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not readable as UTF-8 text") from None
    except (SettingsError, OSError) as exc:
        # Reading the file failed; name the file and the kind of failure, not its contents.
        raise ConfigError(f"{source}: cannot read settings ({type(exc).__name__})") from None


def _credentials(key: SecretStr | None, secret: SecretStr | None) -> Credentials | None:
    if key is None or secret is None:
        return None
    return Credentials(
        api_key=Secret(key.get_secret_value()), api_secret=Secret(secret.get_secret_value())
    )

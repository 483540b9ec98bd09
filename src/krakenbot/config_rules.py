"""Validation rules behind `krakenbot.config.Settings`, kept out of the model itself.

Owns: the allowed range of every number setting (`NUMBER_RANGES`: finite, and between a
lower and an upper bound), the settings source that makes an explicitly empty number setting
an error instead of a silent default, the `name=value` parameter parser, the URL / loopback
checks, and the rendering of a pydantic `ValidationError` into one operator-readable message
(setting name + offending value, never a secret). Imports: stdlib, pydantic, python-dotenv;
nothing from krakenbot, so the model module can import it freely.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

SECRET_FIELDS = frozenset(
    {
        "kraken_api_key",
        "kraken_api_secret",
        "kraken_status_api_key",
        "kraken_status_api_secret",
        "notify_urls",  # webhook URLs carry their service's token; tg:// a bot token
    }
)


@dataclass(frozen=True, slots=True)
class NumberRange:
    """`low < value <= high` (or `low <= value` with `low_inclusive`, `value < high` with
    `high_exclusive`); always finite."""

    low: int
    high: int
    low_inclusive: bool = False
    why: str = ""  # appended to the "at most" message, e.g. Kraken's own limit
    high_exclusive: bool = False

    def problem(self, value: float | int | Decimal) -> str | None:
        if isinstance(value, Decimal):
            finite = value.is_finite()
        elif isinstance(value, float):
            finite = math.isfinite(value)
        else:
            finite = True
        if not finite:
            return "must be a finite number"
        if self.low_inclusive and value < self.low:
            return f"must be at least {self.low}"
        if not self.low_inclusive and value <= self.low:
            return f"must be greater than {self.low}"
        if self.high_exclusive and value >= self.high:
            return f"must be below {self.high}{self.why}"
        if value > self.high:
            return f"must be at most {self.high}{self.why}"
        return None


_POSITIVE_USD = NumberRange(0, 1_000_000)
_COUNT = NumberRange(1, 1_000, low_inclusive=True)
_TIMEOUT_S = NumberRange(0, 600)
# Every number setting, by field name. A field missing here fails the model's definition
# (the validator names it) and the test that tries bad values on every number field.
NUMBER_RANGES: dict[str, NumberRange] = {
    "max_trade_size": _POSITIVE_USD,
    "max_total_exposure": _POSITIVE_USD,
    "min_order_size": _POSITIVE_USD,
    "max_positions": _COUNT,
    "max_daily_losses": _POSITIVE_USD,
    "circuit_breaker_threshold": _COUNT,
    "circuit_breaker_cooldown_s": NumberRange(0, 86_400),
    "rest_timeout_s": _TIMEOUT_S,
    "ws_connect_timeout_s": _TIMEOUT_S,
    "ws_book_depth": NumberRange(10, 1_000, low_inclusive=True),
    # Kraken's cancel_after timeout must stay below one day (docs: websocket-v2/cancel_after).
    "dead_man_switch_timeout_s": NumberRange(
        1, 86_399, low_inclusive=True, why=" (Kraken's limit is below 86400)"
    ),
    "dead_man_switch_refresh_s": NumberRange(1, 86_398, low_inclusive=True),
    "ledger_failure_grace_s": NumberRange(0, 600, why=" s (fills could go unrecorded that long)"),
    "log_max_bytes": NumberRange(1, 1 << 32, low_inclusive=True),
    "log_backup_count": NumberRange(0, 1_000, low_inclusive=True),
    "health_port": NumberRange(0, 65_535, low_inclusive=True, why=" (0 = any free port)"),
    # A percentage below the average entry: 0 would sell at the entry, 100 never.
    "protective_stop_pct": NumberRange(0, 100, high_exclusive=True, why=" percent"),
}
EMPTY_NUMBER = "is empty: give a number, or delete the line to use the default"


def check_number(name: str, value: Any) -> Any:
    """Raise ValueError (the message pydantic shows) unless `value` is finite and in range."""
    if value == "":
        raise ValueError(EMPTY_NUMBER)
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, float | int | Decimal):
        problem = NUMBER_RANGES[name].problem(value)
        if problem is not None:
            raise ValueError(problem)
    return value


class EmptyNumbers(PydanticBaseSettingsSource):
    """The lowest-priority settings source: a number setting written with an empty value
    (`REST_TIMEOUT_S=`) and given nowhere else reaches validation as "" and is refused.

    `env_ignore_empty` (which lets `KRAKEN_API_KEY=` mean "not set") would otherwise drop it
    silently and run with the default."""

    def __init__(self, settings_cls: type[BaseSettings], env_file: object) -> None:
        super().__init__(settings_cls)
        self._env_file = env_file

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every value at once

    def __call__(self) -> dict[str, Any]:
        return {
            key.lower(): ""
            for key, value in self._raw()
            if value == "" and key.lower() in NUMBER_RANGES
        }

    def _raw(self) -> Iterator[tuple[str, str | None]]:
        yield from os.environ.items()
        for path in _paths(self._env_file):
            if path.is_file():
                yield from dotenv_values(path, encoding="utf-8").items()


def _paths(env_file: object) -> Iterable[Path]:
    if isinstance(env_file, str | os.PathLike):
        return (Path(env_file),)
    if isinstance(env_file, list | tuple):
        return tuple(Path(p) for p in env_file)
    return ()


def check_base64_secret(value: SecretStr) -> str:
    """A Kraken private key: base64 that decodes to something (surrounding blanks removed)."""
    text = value.get_secret_value().strip()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "is not valid base64 (copy the private key exactly as Kraken shows it)"
        ) from None
    if not decoded:
        raise ValueError("is empty")
    return text


def check_api_key(value: SecretStr) -> str:
    """A Kraken API key: one word (surrounding blanks removed)."""
    text = value.get_secret_value().strip()
    if not text or any(ch.isspace() for ch in text):
        raise ValueError("must be a single word without spaces")
    return text


def parse_params(text: str) -> dict[str, str]:
    """`entry_z=2.5, take_profit_pct=1` -> {"entry_z": "2.5", "take_profit_pct": "1"}."""
    params: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier() or not value:
            raise ValueError(f"expected name=value pairs separated by commas, got {item.strip()!r}")
        if name in params:
            raise ValueError(f"parameter {name!r} is given twice")
        params[name] = value
    return params


def format_validation_error(exc: ValidationError) -> str:
    """One message listing every problem as `SETTING='value': what is wrong`."""
    lines: list[str] = []
    for error in exc.errors(include_url=False, include_input=True):
        loc = error.get("loc", ())
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if not loc:
            lines.extend(message.split("\n"))
            continue
        name = str(loc[0])
        if name in SECRET_FIELDS:
            lines.append(f"{env_name(name)}: {message}")
        else:
            lines.append(f"{env_name(name)}={_show(error.get('input'))}: {message}")
    noun = "problem" if len(lines) == 1 else "problems"
    return f"invalid configuration ({len(lines)} {noun}):\n  " + "\n  ".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple | list):
        return repr(",".join(str(v) for v in value))
    return repr(str(value))


def env_name(field: str) -> str:
    return field.upper()


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def endpoint_problems(settings: Any) -> list[str]:
    """The Kraken URLs' schemes (plain text only to a loopback simulator) and the health
    server's host (loopback unless HEALTH_ALLOW_REMOTE) of a `Settings`."""
    problems: list[str] = []
    for name, secure, plain in (
        ("kraken_rest_url", "https", "http"),
        ("kraken_ws_url", "wss", "ws"),
        ("kraken_ws_auth_url", "wss", "ws"),
    ):
        url = getattr(settings, name)
        problem = url_problem(url, secure, plain)
        if problem:
            problems.append(f"{env_name(name)}={url!r}: {problem}")
    host = settings.health_host
    if not settings.health_allow_remote and not is_loopback(host):
        problems.append(
            f"HEALTH_HOST={host!r} is not a loopback address; the health "
            "server would be reachable from the network. Use 127.0.0.1, or set "
            "HEALTH_ALLOW_REMOTE=true if you really mean it"
        )
    return problems


def url_problem(url: str, secure: str, plain: str) -> str | None:
    """Plain-text schemes are only acceptable to a loopback simulator: keys travel on them."""
    parts = urlsplit(url)
    if parts.scheme not in (secure, plain) or not parts.hostname:
        return f"must be a {secure}:// URL"
    if parts.scheme == plain and not is_loopback(parts.hostname):
        return f"{plain}:// is only allowed for a loopback simulator; use {secure}://"
    return None

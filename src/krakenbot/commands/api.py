"""`krakenbot api METHOD [key=value …]`: one raw Kraken REST call for operators.

Owns: the operator's raw-call command. Public and read-only private methods run directly;
anything that trades or moves money (AddOrder, CancelOrder, CancelAll, Withdraw, … — every
method not on the read-only allow-list) is refused without `--allow-trading`. The call goes
through the same RestClient as the daemon — same per-key nonce/rate state under DATA_DIR —
so running it beside a live daemon on the same key never causes `EAPI:Invalid nonce`.
Exit status: 0 success, 1 Kraken/transport error (error strings on stderr), 2 usage/config.
Settings come from the environment / --env-file (python-dotenv) in `read_api_env`, the one
place to switch to config.Settings.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from krakenbot.clock import SystemClock
from krakenbot.errors import ConfigError, KrakenbotError
from krakenbot.kraken.methods import is_public, is_read_only
from krakenbot.kraken.ratelimit import Tier
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig
from krakenbot.net.rest_core import key_state_dir

EXIT_OK, EXIT_KRAKEN, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class ApiEnv:
    base_url: str
    tier: Tier
    data_dir: Path
    credentials: Credentials | None = field(repr=False)


def read_api_env(env_file: str | None, *, status_key: bool) -> ApiEnv:
    """Settings for one raw call: process environment over the env file (./.env by default)."""
    values: dict[str, str | None] = {}
    if env_file is not None:
        if not Path(env_file).is_file():
            raise ConfigError(f"env file {env_file} not found")
        values.update(dotenv_values(env_file))
    elif Path(".env").is_file():
        values.update(dotenv_values(".env"))
    values.update(os.environ)

    def get(name: str, default: str | None = None) -> str | None:
        value = values.get(name)
        return value.strip() if value and value.strip() else default

    prefix = "KRAKEN_STATUS_API" if status_key else "KRAKEN_API"
    key, secret = get(f"{prefix}_KEY"), get(f"{prefix}_SECRET")
    if (key is None) != (secret is None):
        raise ConfigError(f"{prefix}_KEY and {prefix}_SECRET must be set together")
    tier_text = (get("KRAKEN_API_TIER", "starter") or "starter").lower()
    try:
        tier = Tier(tier_text)
    except ValueError as exc:
        raise ConfigError("KRAKEN_API_TIER must be starter, intermediate or pro") from exc
    return ApiEnv(
        base_url=get("KRAKEN_REST_URL", "https://api.kraken.com") or "",
        tier=tier,
        data_dir=Path(get("DATA_DIR", "data") or "data"),
        credentials=Credentials(key, secret) if key and secret else None,
    )


def parse_params(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"parameters are key=value, got {item!r}")
        if name == "nonce":
            raise ConfigError("the nonce is managed by krakenbot")
        params[name] = value
    return params


def to_json(value: Any, *, indent: int | None) -> str:
    """JSON with Decimals written as their exact number text (never through float)."""

    def enc(v: Any, level: int) -> str:
        pad = "" if indent is None else "\n" + " " * (indent * (level + 1))
        end = "" if indent is None else "\n" + " " * (indent * level)
        colon = ":" if indent is None else ": "
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, dict):
            if not v:
                return "{}"
            inner = ",".join(
                f"{pad}{json.dumps(str(k))}{colon}{enc(x, level + 1)}" for k, x in v.items()
            )
            return "{" + inner + end + "}"
        if isinstance(v, list | tuple):
            if not v:
                return "[]"
            return "[" + ",".join(f"{pad}{enc(x, level + 1)}" for x in v) + end + "]"
        return json.dumps(v)

    return enc(value, 0)


async def run(args: argparse.Namespace) -> int:
    method: str = args.method
    try:
        params = parse_params(args.params)
        if not is_read_only(method) and not args.allow_trading:
            raise ConfigError(
                f"{method} can trade or move money; add --allow-trading to really send it"
            )
        env_file = getattr(args, "api_env_file", None) or getattr(args, "env_file", None)
        env = read_api_env(env_file, status_key=args.status_key)
        if env.credentials is None and not is_public(method):
            which = "KRAKEN_STATUS_API_KEY/SECRET" if args.status_key else "KRAKEN_API_KEY/SECRET"
            raise ConfigError(f"{method} is private: set {which}")
        cfg = RestConfig(
            state_dir=key_state_dir(env.data_dir), base_url=env.base_url, tier=env.tier
        )
    except ConfigError as exc:
        print(f"krakenbot api: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        async with RestClient(
            cfg, env.credentials, clock=SystemClock(), rng=random.Random()
        ) as client:
            result = await client.call(method, dict(params))
    except ConfigError as exc:
        print(f"krakenbot api: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KrakenbotError as exc:
        print(exc.kraken_error or str(exc), file=sys.stderr)
        return EXIT_KRAKEN
    print(to_json(result, indent=None if args.json else 2))
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "api",
        help="one raw Kraken REST call (read-only unless --allow-trading)",
        description="Call a Kraken REST method with the configured key and print the result.",
    )
    p.add_argument("method", help="Kraken method name, e.g. Balance, OpenOrders, Ticker")
    p.add_argument("params", nargs="*", metavar="key=value", help="method parameters")
    p.add_argument("--json", action="store_true", help="compact single-line JSON")
    p.add_argument(
        "--env-file",
        dest="api_env_file",
        default=None,
        metavar="PATH",
        help="read settings from this file (same as the global --env-file)",
    )
    p.add_argument("--status-key", action="store_true", help="use KRAKEN_STATUS_API_KEY/SECRET")
    p.add_argument(
        "--allow-trading", action="store_true", help="permit methods that trade or move money"
    )
    p.set_defaults(handler=run)

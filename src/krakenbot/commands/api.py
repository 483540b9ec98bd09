"""`krakenbot api METHOD [key=value …]`: one raw Kraken REST call for operators.

Owns: the operator's raw-call command. Public and read-only private methods run directly;
anything that trades or moves money (AddOrder, CancelOrder, CancelAll, Withdraw, … — every
method not on the read-only allow-list) is refused without `--allow-trading`; a name that is
no Kraken REST method krakenbot knows (kraken/methods.py) is refused as unknown, with the
nearest known names, and never sent. The call goes
through the same RestClient as the daemon — same per-key nonce/rate state under DATA_DIR —
so running it beside a live daemon on the same key never causes `EAPI:Invalid nonce`.
Exit status: 0 success, 1 Kraken/transport error (error strings on stderr), 2 usage/config.
Settings are the daemon's own validated `config.Settings` (environment over `--env-file`),
and the client is built by the same helper as `status --exchange` and `stop --cancel-all`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from decimal import Decimal
from typing import Any

from krakenbot.app.exchange_view import OperatorKey, operator_client
from krakenbot.clock import SystemClock
from krakenbot.config import Settings, load_settings
from krakenbot.errors import ConfigError, KrakenbotError
from krakenbot.kraken.methods import KNOWN_METHODS, is_known, is_public, is_read_only
from krakenbot.net.rest_client import Credentials

EXIT_OK, EXIT_KRAKEN, EXIT_USAGE = 0, 1, 2


def _key(settings: Settings, *, status_key: bool) -> OperatorKey | None:
    """The main key, or the status key when asked for (never silently the other one)."""
    creds = settings.status_credentials() if status_key else settings.credentials()
    if creds is None:
        return None
    return OperatorKey(
        Credentials(creds.api_key.get_secret_value(), creds.api_secret.get_secret_value()),
        "status key" if status_key else "main key",
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


def unknown_method(method: str) -> str:
    near = [m for m in sorted(KNOWN_METHODS) if m.lower() == method.lower()]
    near = near or difflib.get_close_matches(method, sorted(KNOWN_METHODS), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    return f"unknown method {method!r}: not a Kraken REST method (names are case-sensitive){hint}"


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
        if not is_known(method):
            raise ConfigError(unknown_method(method))
        if not is_read_only(method) and not args.allow_trading:
            raise ConfigError(
                f"{method} can trade or move money; add --allow-trading to really send it"
            )
        env_file = getattr(args, "api_env_file", None) or getattr(args, "env_file", None)
        settings = load_settings(env_file)
        key = _key(settings, status_key=args.status_key)
        if key is None and not is_public(method):
            which = "KRAKEN_STATUS_API_KEY/SECRET" if args.status_key else "KRAKEN_API_KEY/SECRET"
            raise ConfigError(f"{method} is private: set {which}")
    except ConfigError as exc:
        print(f"krakenbot api: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        async with operator_client(settings, key, clock=SystemClock(), read_retries=4) as client:
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

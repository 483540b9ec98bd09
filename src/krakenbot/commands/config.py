"""`krakenbot config check [--env-file PATH] [--exchange]`: validate the settings, show them
masked, and optionally ask the exchange whether the pairs exist.

Owns: the `config` command. Offline every setting is checked, `ALLOWED_PAIRS` in its form
(BASE/QUOTE of letters and digits: config.py); which pairs exist is the exchange's to say, so
`--exchange` asks it (public AssetPairs at KRAKEN_REST_URL: Kraken, or the simulator) whether
each pair is listed and `online` — the same list and the same names the daemon's start-up
reads (net/kraken_feed.py). Exit status 0 valid, 1 the exchange could not be asked, 2 invalid
(a bad value, or a pair the exchange does not list or does not trade now), with the problems
on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from krakenbot.app.exchange_view import operator_client
from krakenbot.clock import SystemClock
from krakenbot.commands._env_file import add_env_file_option, env_file_of
from krakenbot.config import Settings, load_settings
from krakenbot.domain.instrument import Instrument
from krakenbot.errors import ConfigError, KrakenbotError
from krakenbot.strategy.loader import load_strategy

EXIT_OK = 0
EXIT_UNREACHABLE = 1
EXIT_CONFIG = 2
ONLINE = (
    "online"  # AssetPairs `status` of a pair that trades normally (docs: get-tradable-asset-pairs)
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("config", help="inspect the settings")
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="validate the settings and print them with secrets masked"
    )
    add_env_file_option(check)
    check.add_argument(
        "--exchange",
        action="store_true",
        help="also ask the exchange (KRAKEN_REST_URL, public AssetPairs) whether each of "
        "ALLOWED_PAIRS is listed and online",
    )
    check.set_defaults(handler=check_command)


def pair_problems(pairs: Sequence[str], listed: Mapping[str, Instrument], where: str) -> list[str]:
    """One line per pair the exchange does not list (with the WS v2 name it may have meant)
    or does not trade normally now."""
    problems: list[str] = []
    for pair in pairs:
        inst = listed.get(pair)
        if inst is None:
            meant = [s for s, i in listed.items() if pair in (i.wsname, i.altname, i.rest_id)]
            hint = f" (did you mean {meant[0]}?)" if meant else ""
            problems.append(f"ALLOWED_PAIRS: {pair} is not a pair {where} lists{hint}")
        elif inst.status != ONLINE:
            problems.append(f"ALLOWED_PAIRS: {pair} is {inst.status} at {where}, not {ONLINE}")
    return problems


async def _listed(settings: Settings) -> Mapping[str, Instrument]:
    async with operator_client(settings, None, clock=SystemClock(), read_retries=2) as client:
        return await client.asset_pairs()


def check_command(args: argparse.Namespace) -> int:
    env_file = env_file_of(args)
    try:
        settings = load_settings(env_file)
        # The strategy validates its own parameters: load it so a typo fails here, not at run.
        chosen = settings.strategy_config()
        load_strategy(chosen.name, chosen.params)
    except ConfigError as exc:
        print(f"krakenbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.exchange:
        where = settings.kraken_rest_url
        try:
            listed = asyncio.run(_listed(settings))
        except KrakenbotError as exc:
            print(f"krakenbot: cannot ask {where} for its pairs: {exc}", file=sys.stderr)
            return EXIT_UNREACHABLE
        problems = pair_problems(settings.allowed_pairs, listed, where)
        if problems:
            print("krakenbot: " + "; ".join(problems), file=sys.stderr)
            return EXIT_CONFIG
    shown = settings.masked()
    width = max(map(len, shown))
    source = env_file or ".env (if present)"
    print(f"configuration OK — environment + {source}")
    for name, value in shown.items():
        print(f"  {name:<{width}}  {value}")
    if args.exchange:
        print(f"  {', '.join(settings.allowed_pairs)}: listed and {ONLINE} at {where}")
    return EXIT_OK

"""`krakenbot config check [--env-file PATH]`: validate the settings and show them masked.

Owns: the `config` command. Exit status 0 when the settings are valid, 2 (with one message on
stderr and no traceback) when they are not.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from krakenbot.commands._env_file import add_env_file_option, env_file_of
from krakenbot.config import load_settings
from krakenbot.errors import ConfigError
from krakenbot.strategy.loader import load_strategy

EXIT_OK = 0
EXIT_CONFIG = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("config", help="inspect the settings")
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="validate the settings and print them with secrets masked"
    )
    add_env_file_option(check)
    check.set_defaults(handler=check_command)


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
    shown = settings.masked()
    width = max(map(len, shown))
    source = env_file or ".env (if present)"
    print(f"configuration OK — environment + {source}")
    for name, value in shown.items():
        print(f"  {name:<{width}}  {value}")
    return EXIT_OK

"""The `--env-file PATH` option a sub-command accepts after its own name.

Owns: adding the option to a sub-command's parser and reading it back, falling back to the
global `krakenbot --env-file PATH <command>` form, so both spellings work everywhere.
"""

from __future__ import annotations

import argparse

_DEST = "command_env_file"


def add_env_file_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env-file",
        dest=_DEST,
        default=None,
        metavar="PATH",
        help="read settings from this file instead of ./.env (same as the global --env-file)",
    )


def env_file_of(args: argparse.Namespace) -> str | None:
    """The sub-command's --env-file if given, else the global one, else None (./.env)."""
    value = getattr(args, _DEST, None) or getattr(args, "env_file", None)
    return None if value is None else str(value)

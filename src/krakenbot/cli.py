"""Operator command line: `python -m krakenbot …` / `krakenbot …`.

Owns: argument parsing and dispatch. Each sub-command lives in its own module under
`krakenbot.commands` and exposes `register(subparsers)`; the parser is assembled by
discovering those modules, so adding a command never edits this file. A handler returns the
process exit status (it may be a coroutine; it is then run with `asyncio.run`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import pkgutil
import sys
from collections.abc import Sequence

from krakenbot import __version__, commands
from krakenbot.commands._output import quiet_stdout

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="krakenbot",
        description="A safe-first Kraken spot trading daemon (paper trading by default).",
    )
    parser.add_argument("--version", action="version", version=f"krakenbot {__version__}")
    parser.add_argument(
        "--env-file",
        default=None,
        metavar="PATH",
        help="read settings from this file instead of ./.env",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    status: int | None = None
    try:
        result = handler(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        status = int(result)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head -1`): no traceback; the command's own status if
        # it had one, else what a shell reports for a process ended by SIGPIPE.
        quiet_stdout()
        return status if status is not None else EXIT_BROKEN_PIPE
    return status

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
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from krakenbot import __version__, commands
from krakenbot.commands._output import quiet_stdout
from krakenbot.store.db import abandoned_connections

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
        status = 130
    except BrokenPipeError:
        # The reader went away (`... | head -1`): no traceback; the command's own status if
        # it had one, else what a shell reports for a process ended by SIGPIPE.
        quiet_stdout()
    except BaseException:
        if abandoned_connections():
            traceback.print_exc()
            _leave_now(1)
        raise
    code = EXIT_BROKEN_PIPE if status is None else status
    if abandoned_connections():
        _leave_now(code)
    return code


def _leave_now(status: int) -> NoReturn:
    """A ledger connection was left open because its files became unwritable: closing it
    (here, or a finaliser at exit) would let SQLite write them and the kernel kill us with
    SIGBUS, and a normal exit would wait for its worker thread forever. What was committed
    is in the -wal file; the next start recovers it."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)

"""Which ledger a command that reads one acts on: `--db PATH`, or the one `status` describes.

Owns: the options `--db PATH`, `--sim`, `--data-dir PATH` and `--env-file PATH` of the
commands that read a ledger (`trades`, `orders`, `profit`, `db backup`) and `find_ledger`:
`--db` names the file (a copy, a backtest's ledger); otherwise the running daemon's ledger,
found as `status` finds it from any folder (the per-user registry, app/discover.py; `--sim`
and `--data-dir` only filter), or, with no daemon running, the ledger the settings name
(`--sim`: `DATA_DIR/sim/trading.db`, the one `run --sim` writes). Several daemons and none
named: refused, never guessed. Not a command (the leading underscore keeps cli.py from
loading it). Imports: app (discovery), commands.status (the shared target options).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from krakenbot.app.registry import DaemonEntry
from krakenbot.commands.status import add_target_arguments, locate_for


@dataclass(frozen=True, slots=True)
class LedgerChoice:
    path: Path | None  # the ledger to read (absolute); None: see `problem`
    problem: str | None = None  # why there is none (the command exits 2)
    daemon: DaemonEntry | None = None  # the running daemon whose ledger it is, if any


def add_ledger_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help="read this ledger file (a copy, a backtest's) instead of finding the daemon's",
    )
    add_target_arguments(p)


def find_ledger(args: argparse.Namespace, command: str) -> LedgerChoice:
    """The ledger the options mean (see the module doc)."""
    if args.db is not None:
        if args.sim or args.target_data_dir:
            return LedgerChoice(None, "--db names the ledger file: leave out --sim and --data-dir")
        return LedgerChoice(Path(os.path.abspath(args.db)))
    located = locate_for(args)
    choice = located.choice
    if choice.ambiguous:
        why = choice.refusal(command) or "several daemons run"
        return LedgerChoice(None, f"{why} (or name the file with --db PATH)")
    if choice.chosen is not None:
        return LedgerChoice(Path(os.path.abspath(choice.chosen.database)), None, choice.chosen)
    if located.settings is None:
        return LedgerChoice(None, located.settings_error or "the settings cannot be read")
    return LedgerChoice(Path(os.path.abspath(located.settings.database_path)))

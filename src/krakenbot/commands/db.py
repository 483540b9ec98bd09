"""`krakenbot db migrate` and `krakenbot db backup PATH`: operator access to the ledger.

Owns: the `db` command. `migrate` holds the single-instance lock (a running daemon's database
is never migrated under it) and writes a backup before touching an existing ledger; `backup`
makes a consistent online copy with SQLite's backup API, safe while the daemon runs: it
opens the ledger read-only, found as `trades` and `status` find it (the running daemon's,
`--sim`, `--data-dir`, or `--db PATH`; commands/_ledger.py), and writes only a new file in
an existing folder (a folder that does not exist is a typo more often than a wish).
Exit status: 0 done, 1 failed, 2 bad settings or usage (PATH exists or its folder does not,
several daemons run and none was named), 3 another instance holds the lock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from krakenbot.clock import SystemClock
from krakenbot.commands._env_file import add_env_file_option, env_file_of
from krakenbot.commands._ledger import add_ledger_arguments, find_ledger
from krakenbot.config import load_settings
from krakenbot.errors import ConfigError
from krakenbot.lock import InstanceLock, InstanceLockedError
from krakenbot.store import Database, migrate

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="manage the SQLite ledger")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    mig = actions.add_parser(
        "migrate", help="create the ledger or bring it to the newest schema (backs up first)"
    )
    add_env_file_option(mig)
    mig.set_defaults(handler=migrate_command)
    backup = actions.add_parser("backup", help="write a consistent copy of the ledger to PATH")
    backup.add_argument("path", metavar="PATH", type=Path, help="new file in an existing folder")
    add_ledger_arguments(backup)
    backup.set_defaults(handler=backup_command)


async def migrate_command(args: argparse.Namespace) -> int:
    clock = SystemClock()
    try:
        settings = load_settings(env_file_of(args))
        with InstanceLock(settings.lock().path, clock=clock):
            db_path = settings.store().db_path
            async with await Database.open(db_path) as db:
                result = await migrate(db, clock)
    except ConfigError as exc:
        print(f"krakenbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except InstanceLockedError as exc:
        print(f"krakenbot: {exc}", file=sys.stderr)
        return exc.exit_status
    except (sqlite3.Error, OSError) as exc:
        print(f"krakenbot: db migrate failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if result.applied == 0:
        print(f"{db_path}: already at schema version {result.to_version}")
    else:
        print(f"{db_path}: schema version {result.from_version} -> {result.to_version}")
    if result.backup_path is not None:
        print(f"backup written before migrating: {result.backup_path}")
    return EXIT_OK


def backup_command(args: argparse.Namespace) -> int:
    choice = find_ledger(args, "db backup")
    if choice.path is None:
        print(f"krakenbot: {choice.problem}", file=sys.stderr)
        return EXIT_CONFIG
    source, target = choice.path, Path(args.path)
    if target.exists():
        print(f"krakenbot: {target} already exists; choose a new file", file=sys.stderr)
        return EXIT_CONFIG
    if not os.path.lexists(target.parent):
        print(
            f"krakenbot: the folder {target.parent} does not exist; create it first "
            "(db backup writes a new file into an existing folder)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if not source.is_file():
        print(f"krakenbot: no database at {source}", file=sys.stderr)
        return EXIT_FAILED
    try:
        asyncio.run(_backup(source, target))
    except (sqlite3.Error, OSError) as exc:
        print(f"krakenbot: db backup failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{source} backed up to {target}")
    return EXIT_OK


async def _backup(source: Path, target: Path) -> None:
    async with await Database.open_read_only(source) as db:
        await db.backup_to(target)

"""`krakenbot status [--json] [--exchange] [--sim]`: the health check.

Owns: the command's arguments and output; the check is krakenbot.app.status_check.
Exit status (app.exitcodes.StatusExit): 0 healthy, 1 degraded (halted, breaker open, stale
data, book not verified, disconnected, ledger/exchange mismatch), 2 not running, 3 cannot tell
(settings unreadable, database unreadable, daemon alive but /health silent).
"""

from __future__ import annotations

import argparse
import json
import sys

from krakenbot.app.exitcodes import StatusExit
from krakenbot.app.startup import sim_root
from krakenbot.app.status_check import collect_status
from krakenbot.app.status_model import render_text
from krakenbot.config import Settings, load_settings
from krakenbot.errors import ConfigError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "status",
        help="is the daemon running and healthy? (exit 0 healthy/1 degraded/2 down/3 unknown)",
    )
    add_status_arguments(p)
    p.set_defaults(handler=run)


def add_status_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument(
        "--exchange",
        action="store_true",
        help="also ask Kraken (status key) for balances and open orders and compare",
    )
    p.add_argument("--sim", action="store_true", help="the daemon started with `run --sim`")
    p.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="how long to wait for /health"
    )
    p.add_argument(
        "--env-file", dest="status_env_file", default=None, metavar="PATH", help="settings file"
    )


def settings_for(args: argparse.Namespace) -> Settings:
    env_file = getattr(args, "status_env_file", None) or getattr(args, "env_file", None)
    settings = load_settings(env_file)
    if getattr(args, "sim", False):
        root = sim_root(settings)
        settings = settings.model_copy(
            update={
                "data_dir": root,
                "database_path": root / "trading.db",
                "log_file": root / "krakenbot.log",
                "lock_file": root / ".trading_lock",
            }
        )
    return settings


async def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_for(args)
    except ConfigError as exc:
        print(f"krakenbot status: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"status": "unknown", "error": str(exc)}))
        return int(StatusExit.UNKNOWN)
    report, verdict, note = await collect_status(
        settings, exchange=args.exchange, timeout_s=args.timeout
    )
    if args.json:
        doc = report.to_json()
        if note is not None:
            doc["status"] = "unknown"
            doc["problems"] = [*doc.get("problems", []), note]
        print(json.dumps(doc, sort_keys=True))
    else:
        print(render_text(report))
        if note is not None:
            print(f"  cannot tell: {note}")
    return int(verdict)

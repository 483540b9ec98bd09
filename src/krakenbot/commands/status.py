"""`krakenbot status [--json] [--exchange] [--sim] [--data-dir PATH]`: the health check.

Owns: the command's arguments and output; finding the daemon is krakenbot.app.discover, the
check is krakenbot.app.status_check. The daemon is found from any folder; `--sim` and
`--data-dir` only filter when several run.
Exit status (app.exitcodes.StatusExit): 0 healthy, 1 degraded (halted, breaker open, stale
data, book not verified, disconnected, ledger/exchange mismatch), 2 not running, 3 cannot tell
(settings unreadable, database unreadable, daemon alive but /health silent, several daemons
running and none named).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from krakenbot.app.discover import Located, locate
from krakenbot.app.exitcodes import StatusExit
from krakenbot.app.status_check import collect_status
from krakenbot.app.status_text import render_text
from krakenbot.commands._output import emit


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "status",
        help="is the daemon running and healthy? (exit 0 healthy/1 degraded/2 down/3 unknown)",
    )
    add_status_arguments(p)
    p.set_defaults(handler=run)


def add_target_arguments(p: argparse.ArgumentParser) -> None:
    """The options that pick a daemon (shared by `status`, `stop` and simple_status.py)."""
    p.add_argument(
        "--sim", action="store_true", help="only a daemon started with `run --sim` (a filter)"
    )
    p.add_argument(
        "--data-dir",
        dest="target_data_dir",
        default=None,
        metavar="PATH",
        help="the daemon using this DATA_DIR (or its sim/ folder), when several run",
    )
    p.add_argument(
        "--env-file", dest="status_env_file", default=None, metavar="PATH", help="settings file"
    )


def add_status_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument(
        "--exchange",
        action="store_true",
        help="also ask Kraken (status key) for balances and open orders and compare",
    )
    p.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="how long to wait for /health"
    )
    add_target_arguments(p)


def locate_for(args: argparse.Namespace) -> Located:
    env_file = getattr(args, "status_env_file", None) or getattr(args, "env_file", None)
    return locate(env_file, sim=args.sim, data_dir=args.target_data_dir)


def _daemons(located: Located) -> list[dict[str, Any]]:
    return [
        {"pid": e.pid, "mode": e.mode, "data_dir": e.data_dir, "health_url": e.health_url}
        for e in located.choice.candidates + located.choice.others
    ]


def _cannot_tell(args: argparse.Namespace, located: Located, why: str) -> int:
    emit(f"krakenbot status: {why}", stream=sys.stderr)
    if args.json:
        emit(json.dumps({"status": "unknown", "error": why, "daemons": _daemons(located)}))
    return int(StatusExit.UNKNOWN)


async def run(args: argparse.Namespace) -> int:
    located = locate_for(args)
    choice, settings = located.choice, located.settings
    if choice.ambiguous:
        return _cannot_tell(args, located, choice.refusal("status") or "")
    if settings is None and (choice.chosen is None or args.exchange):
        return _cannot_tell(args, located, located.settings_error or "no settings")
    report, verdict, note = await collect_status(
        settings, choice.chosen, exchange=args.exchange, timeout_s=args.timeout
    )
    others = choice.refusal("status") if choice.chosen is None else None
    if args.json:
        doc = report.to_json()
        if note is not None:
            doc["status"] = "unknown"
            doc["problems"] = [*doc.get("problems", []), note]
        if others is not None:
            doc["other_daemons"] = _daemons(located)
        emit(json.dumps(doc, sort_keys=True))
    else:
        lines = [render_text(report)]
        if note is not None:
            lines.append(f"  cannot tell: {note}")
        if others is not None:
            lines.append(f"  note: {others}")
        emit("\n".join(lines))
    return int(verdict)

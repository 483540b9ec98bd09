"""`krakenbot stop [--cancel-all] [--flatten] [--timeout S] [--sim]`: the emergency stop.

Owns: the command's arguments and report; the work is krakenbot.app.emergency.stop_daemon.
Exit status (app.exitcodes.StopExit): 0 the daemon is gone and no open order remains;
1 the daemon is gone but open orders remain or could not be checked; 2 bad settings;
3 the daemon is still running.
"""

from __future__ import annotations

import argparse
import sys

from krakenbot.app.emergency import stop_daemon
from krakenbot.app.exitcodes import StopExit
from krakenbot.commands.status import settings_for
from krakenbot.errors import ConfigError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "stop", help="stop the daemon gracefully; --cancel-all also cancels every open order"
    )
    p.add_argument(
        "--cancel-all",
        action="store_true",
        help="cancel EVERY open order directly via REST (status key, else main key) and "
        "terminate a daemon that does not exit within the timeout",
    )
    p.add_argument(
        "--flatten",
        action="store_true",
        help="after the daemon is gone, sell the position (IOC, through the risk gate)",
    )
    p.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="how long to wait for the exit"
    )
    p.add_argument("--sim", action="store_true", help="the daemon started with `run --sim`")
    p.add_argument(
        "--env-file", dest="status_env_file", default=None, metavar="PATH", help="settings file"
    )
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_for(args)
    except ConfigError as exc:
        print(f"krakenbot stop: {exc}", file=sys.stderr)
        return int(StopExit.SETTINGS)
    result = await stop_daemon(
        settings, cancel_all=args.cancel_all, flatten=args.flatten, timeout_s=args.timeout
    )
    for line in result.lines:
        print(f"krakenbot stop: {line}")
    return int(result.exit_status)

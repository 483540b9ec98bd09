"""`krakenbot stop [--cancel-all] [--flatten] [--timeout S] [--sim] [--data-dir PATH]`.

Owns: the command's arguments and report; finding the daemon is krakenbot.app.discover (from
any folder, whatever its mode: `--sim` and `--data-dir` only filter), the work is
krakenbot.app.emergency.stop_daemon.
Exit status (app.exitcodes.StopExit): 0 the daemon is gone and no open order remains;
1 the daemon is gone but open orders remain or could not be checked; 2 bad settings;
3 the daemon is still running; 4 nothing done: several daemons run (or none matches the
options while others run) — name one with --data-dir.
"""

from __future__ import annotations

import argparse
import sys

from krakenbot.app.emergency import stop_daemon
from krakenbot.app.exitcodes import StopExit
from krakenbot.commands._output import emit
from krakenbot.commands.status import add_target_arguments, locate_for


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
    add_target_arguments(p)
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    located = locate_for(args)
    choice, settings = located.choice, located.settings
    refusal = choice.refusal("stop")
    if refusal is not None:
        emit(f"krakenbot stop: nothing done: {refusal}", stream=sys.stderr)
        return int(StopExit.NOT_CHOSEN)
    target = choice.chosen
    unreadable = settings is None and (target is None or target.mode != "sim")
    if unreadable:
        emit(f"krakenbot stop: {located.settings_error}", stream=sys.stderr)
        if target is None:
            return int(StopExit.SETTINGS)
    if target is None:
        emit(f"krakenbot stop: looked for daemons in {located.registry} and the lock files")
    result = await stop_daemon(
        settings,
        target,
        cancel_all=args.cancel_all,
        flatten=args.flatten,
        timeout_s=args.timeout,
        registry=located.registry,
    )
    emit("\n".join(f"krakenbot stop: {line}" for line in result.lines))
    if unreadable and result.exit_status is not StopExit.STILL_RUNNING:
        return int(StopExit.SETTINGS)  # the daemon is gone; its orders could not be checked
    return int(result.exit_status)

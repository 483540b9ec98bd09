"""`krakenbot run [--sim] [--live] [--duration S] [--env-file PATH] [--record PATH]`: the
trading daemon.

Owns: the command's arguments; everything else is krakenbot.app.launch. Default mode is paper
(Kraken's public market data, simulated fills, no keys). `--live` trades real money and also
needs TRADING_MODE=live and keys. `--sim` runs the full live code path against an embedded
loopback simulator. Exit statuses: krakenbot.app.exitcodes.RunExit.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from krakenbot.app.launch import SIM_SPEED, RunOptions, run_daemon
from krakenbot.commands._arg_types import positive_number


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the trading daemon (paper by default; --sim for a local demo)",
        description=(
            "Run the daemon until SIGINT/SIGTERM, `krakenbot stop` or --duration. Paper mode "
            "by default; --live (with TRADING_MODE=live and keys) trades real money; --sim "
            "trades against an embedded loopback simulator with bundled real market data."
        ),
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--sim", action="store_true", help="embedded simulator on loopback: no keys, no internet"
    )
    mode.add_argument(
        "--live", action="store_true", help="trade REAL money (needs TRADING_MODE=live and keys)"
    )
    p.add_argument(
        "--duration",
        type=positive_number,
        default=None,
        metavar="S",
        help="stop gracefully after S s",
    )
    p.add_argument(
        "--env-file",
        dest="run_env_file",
        default=None,
        metavar="PATH",
        help="read settings from this file instead of ./.env",
    )
    p.add_argument(
        "--sim-speed",
        type=positive_number,
        default=SIM_SPEED,
        metavar="X",
        help=f"--sim: replay-feed time compression (default {SIM_SPEED:g}x)",
    )
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="PATH",
        help="write what the engine saw and sent to PATH (JSONL; `backtest --data PATH`)",
    )
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    env_file = getattr(args, "run_env_file", None) or getattr(args, "env_file", None)
    return await run_daemon(
        RunOptions(
            sim=args.sim,
            live=args.live,
            duration_s=args.duration,
            env_file=env_file,
            sim_speed=args.sim_speed,
            record=args.record,
        )
    )

"""`python -m krakenbot sim`: serve the loopback Kraken simulator until SIGINT/SIGTERM.

Owns: argument parsing for the simulator and the one JSON line printed when it is ready
(`rest_url`, `ws_url`, `ws_auth_url`, `api_key`, `api_secret`). The secret is printed on
purpose: it is a throwaway credential of a local simulator, never a real Kraken key.
Binding to a non-loopback address needs `--allow-remote`. `--control` also serves the
control endpoint (sim/control_http.py) and adds `control_url` and `control_token` to the line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from decimal import Decimal

from krakenbot.commands._arg_types import balance_amount, port, positive_number
from krakenbot.sim import SimConfig, running_sim
from krakenbot.sim.control_http import serve_control
from krakenbot.sim.pairs import DEFAULT_PAIRS
from krakenbot.sim.ratelimit import TIERS


def _balances(text: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        asset, sep, amount = item.partition("=")
        if not sep or not asset.strip():
            raise argparse.ArgumentTypeError(f"bad balance {item!r} (want ASSET=AMOUNT)")
        out[asset.strip().upper()] = balance_amount(amount)
    return out


def _pairs(text: str) -> tuple[str, ...]:
    pairs = tuple(p.strip().upper() for p in text.split(",") if p.strip())
    unknown = [p for p in pairs if p not in DEFAULT_PAIRS]
    if not pairs or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown pair(s) {unknown}; known: {', '.join(sorted(DEFAULT_PAIRS))}"
        )
    return pairs


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("sim", help="serve a simulated Kraken spot exchange on loopback")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port, default=0, help="REST + public WS port (0 = any free)")
    p.add_argument("--ws-auth-port", type=port, default=0, help="private WS port (0 = any free)")
    p.add_argument("--allow-remote", action="store_true", help="permit a non-loopback --host")
    p.add_argument("--pairs", type=_pairs, default=("XLM/USD", "BTC/USD"))
    p.add_argument("--feed", choices=("replay", "random"), default="replay")
    p.add_argument("--speed", type=positive_number, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tier", choices=sorted(TIERS), default="starter")
    p.add_argument("--api-key", default=None)
    p.add_argument("--api-secret", default=None)
    p.add_argument(
        "--history-minutes",
        type=int,
        default=240,
        help="minutes of real 1-minute candles available at start",
    )
    p.add_argument("--balance", type=_balances, default={"USD": Decimal(1000), "XLM": Decimal(0)})
    p.add_argument(
        "--control",
        action="store_true",
        help="also serve the control endpoint (faults, market moves, the exchange's view)",
    )
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    if (args.api_key is None) != (args.api_secret is None):
        print("--api-key and --api-secret go together", file=sys.stderr)
        return 2
    cfg = SimConfig(
        pairs=args.pairs,
        feed=args.feed,
        seed=args.seed,
        speed=args.speed,
        tier=args.tier,
        balances=args.balance,
        api_key=args.api_key,
        api_secret=args.api_secret,
        host=args.host,
        port=args.port,
        ws_auth_port=args.ws_auth_port,
        allow_remote=args.allow_remote,
        history_minutes=max(0, min(args.history_minutes, 720)),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running_sim(cfg) as sim, contextlib.AsyncExitStack() as stack:
            line = {
                "rest_url": sim.rest_url,
                "ws_url": sim.ws_url,
                "ws_auth_url": sim.ws_auth_url,
                "api_key": sim.api_key,
                "api_secret": sim.api_secret,
            }
            if args.control:
                control = await stack.enter_async_context(serve_control(sim, cfg.host))
                line |= {"control_url": control.url, "control_token": control.token}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
            await stop.wait()
    except (ValueError, OSError) as exc:
        print(f"sim: {exc}", file=sys.stderr)
        return 2
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0

"""`krakenbot record --out FILE`: write every public WebSocket v2 frame exactly as received.

Owns: the operator command that subscribes to public channels and appends each received text
frame as one JSONL line (frames are compact JSON; any raw CR/LF - only possible as
insignificant whitespace - becomes a space so one frame stays one line). Reconnects (with a
short pause) until `--duration` elapses; SIGINT stops cleanly. Works against real Kraken or
`krakenbot sim` (`--url`). Public data only: no keys, no tokens. Imports: aiohttp, stdlib,
kraken (request encoders); as an operator command it may import anything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from krakenbot.kraken.ws_codec import encode_subscribe

logger = logging.getLogger(__name__)

DEFAULT_URL = "wss://ws.kraken.com/v2"
CONNECT_TIMEOUT_S = 10.0
CHANNELS = ("ticker", "book", "trade", "ohlc", "instrument")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("record", help="record public WebSocket v2 frames to JSONL")
    p.add_argument("--out", type=Path, required=True, help="output JSONL file (appended)")
    p.add_argument("--url", default=DEFAULT_URL, help=f"WebSocket v2 URL (default {DEFAULT_URL})")
    p.add_argument("--symbols", default="XLM/USD", help="comma-separated v2 symbols")
    p.add_argument("--channels", default="ticker,book,trade", help=f"subset of {CHANNELS}")
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S s")
    p.set_defaults(handler=run)


def subscriptions(channels: list[str], symbols: list[str], depth: int) -> list[str]:
    out = []
    for i, channel in enumerate(channels, start=1):
        if channel == "book":
            out.append(encode_subscribe("book", symbols=symbols, depth=depth, req_id=i))
        elif channel == "instrument":
            out.append(encode_subscribe("instrument", req_id=i))
        else:
            out.append(encode_subscribe(channel, symbols=symbols, req_id=i))
    return out


async def _record_once(
    http: aiohttp.ClientSession, url: str, subs: list[str], out: TextIO, deadline: float | None
) -> int:
    frames = 0
    async with http.ws_connect(
        url,
        autoping=True,
        heartbeat=None,
        timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0),
    ) as ws:
        for text in subs:
            await ws.send_str(text)
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return frames
            try:
                msg = await asyncio.wait_for(ws.receive(), timeout=remaining)
            except TimeoutError:
                return frames
            if msg.type is aiohttp.WSMsgType.TEXT:
                out.write(msg.data.replace("\r", " ").replace("\n", " ") + "\n")
                frames += 1
            elif msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return frames


async def record(
    url: str,
    out_path: Path,
    *,
    channels: list[str],
    symbols: list[str],
    depth: int,
    duration_s: float | None,
) -> int:
    subs = subscriptions(channels, symbols, depth)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    total = 0
    with out_path.open("a", encoding="utf-8") as out:
        timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while deadline is None or time.monotonic() < deadline:
                try:
                    total += await _record_once(http, url, subs, out, deadline)
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    logger.warning("record: connection failed", extra={"error": repr(exc)})
                out.flush()
                if deadline is not None and time.monotonic() >= deadline:
                    break
                await asyncio.sleep(1.0)  # brief pause before reconnecting
    return total


async def run(args: argparse.Namespace) -> int:
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    bad = [c for c in channels if c not in CHANNELS]
    if bad or not channels:
        sys.stderr.write(f"unknown channel(s) {bad}; choose from {', '.join(CHANNELS)}\n")
        return 2
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()]
    frames = 0
    with contextlib.suppress(asyncio.CancelledError):
        frames = await record(
            args.url,
            args.out,
            channels=channels,
            symbols=symbols,
            depth=args.depth,
            duration_s=args.duration,
        )
    sys.stdout.write(json.dumps({"frames": frames, "out": str(args.out)}) + "\n")
    return 0

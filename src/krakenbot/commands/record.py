"""`krakenbot record --out FILE`: write every public WebSocket v2 frame exactly as received.

Owns: the operator command that subscribes to public channels and appends each received text
frame as one JSONL line (frames are compact JSON; any raw CR/LF - only possible as
insignificant whitespace - becomes a space so one frame stays one line). Reconnects (with a
short pause) until `--duration` elapses; SIGINT stops cleanly. Works against real Kraken or
`krakenbot sim`: the URL is `--url`, else the settings' KRAKEN_WS_URL (environment over the
settings file, as for the daemon). Public data only: no keys, no tokens. Exit status 0 when
frames were recorded, 1 when none was (nothing answered: a wrong URL, no network), 2 usage
or settings. Imports: aiohttp, stdlib, kraken (request encoders); as an operator command it
may import anything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from krakenbot.commands._env_file import add_env_file_option, env_file_of
from krakenbot.config import load_settings
from krakenbot.errors import ConfigError
from krakenbot.kraken.ws_codec import encode_subscribe

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
EXIT_OK, EXIT_NOTHING, EXIT_USAGE = 0, 1, 2
CHANNELS = ("ticker", "book", "trade", "ohlc", "instrument")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("record", help="record public WebSocket v2 frames to JSONL")
    p.add_argument("--out", type=Path, required=True, help="output JSONL file (appended)")
    p.add_argument(
        "--url", default=None, help="public WebSocket v2 URL (default: the KRAKEN_WS_URL setting)"
    )
    add_env_file_option(p)
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


@dataclass(slots=True)
class Tally:
    """Frames written so far: still counted when the recording is cancelled (Ctrl+C) or a
    connection breaks mid-way."""

    frames: int = 0


async def _record_once(
    http: aiohttp.ClientSession,
    url: str,
    subs: list[str],
    out: TextIO,
    *,
    deadline: float | None,
    tally: Tally,
) -> None:
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
                return
            try:
                msg = await asyncio.wait_for(ws.receive(), timeout=remaining)
            except TimeoutError:
                return
            if msg.type is aiohttp.WSMsgType.TEXT:
                out.write(msg.data.replace("\r", " ").replace("\n", " ") + "\n")
                tally.frames += 1
            elif msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return


async def record(
    url: str,
    out_path: Path,
    *,
    channels: list[str],
    symbols: list[str],
    depth: int,
    duration_s: float | None,
    tally: Tally | None = None,
) -> int:
    """Record until `duration_s` elapses (None: until cancelled); returns the frame count."""
    tally = tally if tally is not None else Tally()
    subs = subscriptions(channels, symbols, depth)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    with out_path.open("a", encoding="utf-8") as out:
        timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while deadline is None or time.monotonic() < deadline:
                try:
                    await _record_once(http, url, subs, out, deadline=deadline, tally=tally)
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    logger.warning("record: connection failed", extra={"error": repr(exc)})
                out.flush()
                if deadline is not None and time.monotonic() >= deadline:
                    break
                await asyncio.sleep(1.0)  # brief pause before reconnecting
    return tally.frames


def recording_url(url: str | None, env_file: str | None) -> str:
    """`--url` if given, else KRAKEN_WS_URL as the settings hold it (raises ConfigError)."""
    if url:
        return url
    return load_settings(env_file).kraken_ws_url


async def run(args: argparse.Namespace) -> int:
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    bad = [c for c in channels if c not in CHANNELS]
    if bad or not channels:
        sys.stderr.write(f"unknown channel(s) {bad}; choose from {', '.join(CHANNELS)}\n")
        return EXIT_USAGE
    try:
        url = recording_url(args.url, env_file_of(args))
    except ConfigError as exc:
        sys.stderr.write(f"krakenbot record: {exc}\n")
        return EXIT_USAGE
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()]
    tally = Tally()
    with contextlib.suppress(asyncio.CancelledError):
        await record(
            url,
            args.out,
            channels=channels,
            symbols=symbols,
            depth=args.depth,
            duration_s=args.duration,
            tally=tally,
        )
    frames = tally.frames
    sys.stdout.write(json.dumps({"frames": frames, "out": str(args.out), "url": url}) + "\n")
    if frames == 0:
        sys.stderr.write(f"krakenbot record: nothing recorded from {url} (no frame received)\n")
        return EXIT_NOTHING
    return EXIT_OK

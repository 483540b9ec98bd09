"""WebSocket v2 client throughput and memory (prints figures; not a test).

1. Pure path, depth-10 book: decode + apply + CRC32 verify, on the real recorded BTC/USD
   session (tests/data/ws), re-rendered with the pair's fixed decimals as the live wire prints
   them. Target >= 100,000 verified updates/s.
2. Pure path, ticker decode (real frame). Target >= 300,000 tickers/s.
3. Number parsing choices for the codec (json parse_float=str vs orjson).
4. End-to-end over loopback against krakenbot.sim: frames/s through the real session.
5. RSS growth over 1,000,000 frames through decode + session handlers + inbound queue.
   Target < 5 MB.

Pure-path figures are per CPU second of this process (time.process_time), so that other
processes on a shared machine do not distort them; loopback figures are wall-clock.
Run: python benchmarks/bench_ws.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import orjson
import psutil
from aiohttp import web

from krakenbot.clock import SystemClock
from krakenbot.domain.enums import Channel
from krakenbot.domain.events import TICKER_FIELDS
from krakenbot.kraken.ws_codec import decode, fast_book
from krakenbot.kraken.ws_messages import BookMessage
from krakenbot.kraken.ws_requests import dump
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import Conn, WsSession, WsSessionConfig
from krakenbot.net.ws_tracking import BookKeeper, BookOutcome
from krakenbot.sim import SimConfig, running_sim

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "ws"
RECORDING = DATA / "book10_BTCUSD_2023-07-30_python-kraken-sdk.json"
TICKER = DATA / "real_messages" / "ws_ticker_update__real_roq_ethusd.json"


def _fixed_frames() -> list[str]:
    """The recording with numbers printed at 1/8 decimals, as Kraken's wire does."""
    data = json.loads(RECORDING.read_text(), parse_float=Decimal)
    p1, q8 = Decimal("0.1"), Decimal("0.00000001")
    out = []
    for msg in [data["init"], *data["updates"]]:
        row = msg["data"][0]
        for side in ("bids", "asks"):
            row[side] = [
                {"price": lv["price"].quantize(p1), "qty": lv["qty"].quantize(q8)}
                for lv in row[side]
            ]
        out.append(dump(msg))
    return out


def _passes(seconds: float, one_pass: Callable[[], int]) -> tuple[float, float]:
    """Run `one_pass` (returns items done) until `seconds` of CPU time are spent; returns
    (median, best) items per CPU second over the passes. This VM's speed drifts by up to
    ~1.5x between moments, so a single total would mostly measure the drift."""
    rates: list[float] = []
    deadline = time.process_time() + seconds
    while time.process_time() < deadline or len(rates) < 5:
        start = time.process_time()
        n = one_pass()
        rates.append(n / (time.process_time() - start))
    return statistics.median(rates), max(rates)


def bench_book(seconds: float) -> tuple[float, float]:
    frames = _fixed_frames()

    def one_pass() -> int:
        keeper = BookKeeper(10)
        n = 0
        for _ in range(4):
            for frame in frames:
                # As the session's reader does: the book decoder first, the generic one after.
                msg = fast_book(frame) or decode(frame)[0]
                assert type(msg) is BookMessage
                outcome, _ = keeper.on_message(msg)
                if outcome is BookOutcome.INVALID:
                    raise SystemExit(f"checksum failed at update {n}")
                n += 1
        return n

    return _passes(seconds, one_pass)


def bench_ticker(seconds: float, *, read_all: bool) -> tuple[float, float]:
    """Typed decode of a real ticker frame; with `read_all`, every one of its eleven numbers
    is also read as a Decimal (what a consumer that uses them all pays)."""
    frame = TICKER.read_text().strip()
    fields = TICKER_FIELDS

    def one_pass() -> int:
        for _ in range(2000):
            (t,) = decode(frame)
            if read_all:
                for name in fields:
                    getattr(t, name)
        return 2000

    return _passes(seconds, one_pass)


def bench_ticker_reader(seconds: float) -> float:
    """The session reader's ticker path: peek the symbol, conflate; typed decode deferred to
    the consumer (who takes one Ticker per symbol per drain)."""
    frame = TICKER.read_text().strip()
    inbound = InboundQueue()
    session = WsSession(
        WsSessionConfig(symbols=("ETH/USD",)), inbound, clock=SystemClock(), rng=random.Random(1)
    )
    conn = Conn(Channel.PUBLIC, "ws://unused")
    on_frame = session.on_frame
    n = 0
    start = time.process_time()
    deadline = start + seconds
    while time.process_time() < deadline:
        for _ in range(1000):
            on_frame(conn, frame, 0)
        inbound.drain()  # the consumer decodes the latest ticker
        n += 1000
    return n / (time.process_time() - start)


def bench_parsers(repeat: int) -> dict[str, float]:
    frames = _fixed_frames()[1:]
    dec = json.JSONDecoder(parse_float=str).decode
    out = {}
    for name, fn in (
        ("json_parse_float_str_us", dec),
        ("json_parse_float_decimal_us", json.JSONDecoder(parse_float=Decimal).decode),
        ("orjson_floats_lossy_us", orjson.loads),
    ):
        start = time.process_time()
        for _ in range(repeat):
            for f in frames:
                fn(f)
        out[name] = round((time.process_time() - start) / (repeat * len(frames)) * 1e6, 2)
    return out


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def bench_rss(total: int) -> tuple[float, float]:
    """Frames through decode + the session's handlers + the queue, consumer draining."""
    frames = _fixed_frames()
    ticker = TICKER.read_text().strip().replace("ETH/USD", "BTC/USD")
    inbound = InboundQueue()
    session = WsSession(
        WsSessionConfig(symbols=("BTC/USD",)), inbound, clock=SystemClock(), rng=random.Random(1)
    )
    conn = Conn(Channel.PUBLIC, "ws://unused")
    on_frame = session.on_frame
    now = time.time_ns
    stream = frames[1:]

    def run(n: int) -> None:
        i = 0
        while i < n:
            on_frame(conn, frames[0], now())
            for frame in stream:
                on_frame(conn, frame, now())
                i += 1
                if i % 4 == 0:
                    on_frame(conn, ticker, now())
                    i += 1
                if len(inbound) > 2:
                    inbound.drain()
                if i >= n:
                    break

    run(50_000)  # warm caches and allocator pools before the baseline
    gc.collect()
    before = _rss()
    start = time.process_time()
    run(total)
    elapsed = time.process_time() - start
    gc.collect()
    growth_mb = (_rss() - before) / 1e6
    assert session.stats.book_failures == 0, "a checksum failed"
    return growth_mb, total / elapsed


async def bench_loopback(seconds: float) -> dict[str, float]:
    """Against krakenbot.sim with its random feed ticking every millisecond (two pairs, book,
    ticker, trade). Sim and client share this process and core, so this is sim-bound."""
    cfg = SimConfig(pairs=("XLM/USD", "BTC/USD"), seed=5, feed_interval_s=0.001, heartbeat_s=1.0)
    async with running_sim(cfg) as sim:
        inbound = InboundQueue()
        session = WsSession(
            WsSessionConfig(
                public_url=sim.ws_url, private_url=None, symbols=("XLM/USD", "BTC/USD")
            ),
            inbound,
            clock=SystemClock(),
            rng=random.Random(1),
        )

        async def consume() -> None:
            while True:
                await inbound.get()

        async with asyncio.TaskGroup() as tg:
            runner = tg.create_task(session.run())
            drain = tg.create_task(consume())
            await session.wait_connected(Channel.PUBLIC)
            await asyncio.sleep(0.3)
            frames0 = session.stats.frames
            start = time.perf_counter()
            await asyncio.sleep(seconds)
            elapsed = time.perf_counter() - start
            frames = session.stats.frames - frames0
            failures = session.stats.book_failures
            session.stop()
            await runner
            drain.cancel()
    return {
        "sim_loopback_frames_per_s": round(frames / elapsed),
        "sim_loopback_book_failures": failures,
    }


async def bench_blaster(seconds: float) -> dict[str, float]:
    """The client end to end over a loopback socket, fed as fast as a plain aiohttp server
    can send the real recorded book frames (snapshot, 509 updates, repeat) plus tickers.
    The simulator above is the bottleneck there; this isolates the client."""
    frames = _fixed_frames()
    ticker = TICKER.read_text().strip().replace("ETH/USD", "BTC/USD")

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()  # first subscribe
        i = 0
        with contextlib.suppress(ConnectionError):
            while not ws.closed:
                for frame in frames:
                    await ws.send_str(frame)
                    i += 1
                    if i % 4 == 0:
                        await ws.send_str(ticker)
        return ws

    app = web.Application()
    app.router.add_get("/v2", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    inbound = InboundQueue()
    session = WsSession(
        WsSessionConfig(
            public_url=f"ws://127.0.0.1:{port}/v2",
            private_url=None,
            symbols=("BTC/USD",),
            stale_after_heartbeats=1000.0,
        ),
        inbound,
        clock=SystemClock(),
        rng=random.Random(1),
    )
    consumed = 0

    async def consume() -> None:
        nonlocal consumed
        while True:
            await inbound.get()
            consumed += 1

    async with asyncio.TaskGroup() as tg:
        run = tg.create_task(session.run())
        drain = tg.create_task(consume())
        await session.wait_connected(Channel.PUBLIC)
        await asyncio.sleep(0.2)
        f0 = session.stats.frames
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        frames_n = session.stats.frames - f0
        elapsed = time.perf_counter() - start
        session.stop()
        await run
        drain.cancel()
    await runner.cleanup()
    return {
        "blaster_loopback_frames_per_s": round(frames_n / elapsed),
        "blaster_events_consumed": consumed,
        "blaster_coalesced": inbound.stats.coalesced,
        "blaster_book_failures": session.stats.book_failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short runs (smoke)")
    args = parser.parse_args()
    secs = 1.0 if args.quick else 4.0
    figures: dict[str, object] = {}
    # Machine calibration: CPython loop overhead (ns per empty iteration).
    t = time.process_time()
    for _ in range(1_000_000):
        pass
    figures["calibration_ns_per_loop_iter"] = round((time.process_time() - t) * 1000, 1)
    med, best = bench_book(secs)
    figures["book_verified_updates_per_s"] = f"{med:,.0f} median, {best:,.0f} best pass"
    med, best = bench_ticker(secs, read_all=False)
    figures["ticker_typed_decodes_per_s"] = f"{med:,.0f} median, {best:,.0f} best pass"
    med, best = bench_ticker(secs, read_all=True)
    figures["ticker_decode_read_all_per_s"] = f"{med:,.0f} median, {best:,.0f} best pass"
    figures["ticker_reader_frames_per_s"] = round(bench_ticker_reader(secs))
    figures.update(bench_parsers(20 if args.quick else 100))
    figures.update(asyncio.run(bench_loopback(secs)))
    figures.update(asyncio.run(bench_blaster(secs)))
    growth, fps = bench_rss(100_000 if args.quick else 1_000_000)
    figures["rss_growth_mb"] = round(growth, 2)
    figures["rss_run_frames_per_s"] = round(fps)
    figures["python"] = sys.version.split()[0]
    for k, v in figures.items():
        print(f"{k:32s} {v}")


if __name__ == "__main__":
    main()

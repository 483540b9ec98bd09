"""How fast is krakenbot.sim? Signed private REST requests/s and WebSocket book messages/s.

The simulator runs in its own process (as it would beside a client under test); this
process is the load generator. Besides the measured rate it prints the sim process's own CPU
use, so "per sim CPU-second" says what the sim sustains with a core to itself even when the
load generator (and everything else on a small machine) competes for the CPU.
Prints figures; not a test. Usage:
    python benchmarks/bench_sim.py [--seconds 5] [--rest-workers 16] [--ws-conns 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing as mp
import time
import urllib.parse
from collections.abc import Callable
from decimal import Decimal
from multiprocessing.connection import Connection

import aiohttp

from krakenbot.sim import SimConfig, running_sim

PAIRS = ("XLM/USD", "BTC/USD", "ETH/USD", "SOL/USD", "ETH/BTC")
WARMUP_S = 0.5


def _serve(conn: Connection, n_keys: int, feed_interval_s: float) -> None:
    async def main() -> None:
        cfg = SimConfig(
            pairs=PAIRS,
            balances={"USD": Decimal(10**6)},
            feed_interval_s=feed_interval_s,
            rest_rate_limit=False,
            seed=3,
        )
        async with running_sim(cfg) as sim:
            keys = []
            for i in range(n_keys):
                secret = base64.b64encode(hashlib.sha512(str(i).encode()).digest()).decode()
                sim.control.add_key(f"bench-{i}", secret)
                keys.append((f"bench-{i}", secret))
            conn.send((sim.rest_url, sim.ws_url, keys))
            loop = asyncio.get_running_loop()
            while await loop.run_in_executor(None, conn.recv) == "cpu":
                conn.send(time.process_time())  # the sim process's own CPU seconds

    asyncio.run(main())


def _sign(secret: str, path: str, nonce: str, body: bytes) -> str:
    digest = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(base64.b64decode(secret), path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class Window:
    """Counts events; the measured window starts after a warm-up."""

    def __init__(self) -> None:
        self.count = 0
        self.first = 0
        self.start = 0.0

    def open(self) -> None:
        self.first, self.start = self.count, time.monotonic()

    def close(self) -> tuple[int, float]:
        return self.count - self.first, time.monotonic() - self.start


async def _measure(window: Window, seconds: float) -> tuple[int, float]:
    await asyncio.sleep(WARMUP_S)
    window.open()
    await asyncio.sleep(seconds)
    return window.close()


async def bench_rest(url: str, keys: list[tuple[str, str]], seconds: float) -> tuple[int, float]:
    window = Window()
    errors = 0
    stop = time.monotonic() + WARMUP_S + seconds
    path = "/0/private/Balance"
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(key: str, secret: str) -> None:
            nonlocal errors
            nonce = time.time_ns()
            while time.monotonic() < stop:
                nonce += 1
                body = urllib.parse.urlencode({"nonce": nonce}).encode()
                headers = {
                    "API-Key": key,
                    "API-Sign": _sign(secret, path, str(nonce), body),
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                async with session.post(url + path, data=body, headers=headers) as resp:
                    reply = await resp.json()
                if reply["error"]:
                    errors += 1
                else:
                    window.count += 1

        async with asyncio.TaskGroup() as tg:
            for key, secret in keys:
                tg.create_task(worker(key, secret))
            result = await _measure(window, seconds)
    if errors:
        print(f"  (REST errors: {errors})")
    return result


async def _raw_ws(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A bare RFC 6455 client handshake: the load generator must be lighter than the sim."""
    parsed = urllib.parse.urlsplit(url)
    reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
    key = base64.b64encode(b"bench-sim-ws-key").decode()
    writer.write(
        f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    return reader, writer


def _client_frame(text: str) -> bytes:
    data = text.encode()
    mask = b"\x00\x00\x00\x00"  # a zero mask keeps the payload as-is
    n = len(data)
    head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
    return head + mask + data


async def bench_ws(url: str, conns: int, seconds: float) -> tuple[int, float]:
    window = Window()
    book = b'{"channel":"book"'
    sub = json.dumps({"method": "subscribe", "params": {"channel": "book", "symbol": list(PAIRS)}})
    stop = time.monotonic() + WARMUP_S + seconds + 1

    async def reader(r: asyncio.StreamReader) -> None:
        # Reads from the first byte on, so it always stays on frame boundaries.
        buf = b""
        while time.monotonic() < stop:
            chunk = await r.read(1 << 16)
            if not chunk:
                return
            buf += chunk
            pos = 0
            while len(buf) - pos >= 2:
                n = buf[pos + 1] & 0x7F
                start = pos + 2
                if n == 126:
                    n, start = int.from_bytes(buf[pos + 2 : pos + 4], "big"), pos + 4
                elif n == 127:
                    n, start = int.from_bytes(buf[pos + 2 : pos + 10], "big"), pos + 10
                if start + n > len(buf):
                    break
                if buf.startswith(book, start):
                    window.count += 1
                pos = start + n
            buf = buf[pos:]

    sockets = []
    for _ in range(conns):
        r, w = await _raw_ws(url)
        w.write(_client_frame(sub))
        sockets.append((r, w))
    tasks = [asyncio.create_task(reader(r)) for r, _ in sockets]
    result = await _measure(window, seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for _, w in sockets:
        w.close()
    return result


def _with_sim(
    n_keys: int,
    feed_interval_s: float,
    fn: Callable[[str, str, list[tuple[str, str]]], tuple[int, float]],
) -> tuple[int, float, float]:
    """Run `fn` against a simulator in a child process: (count, window s, sim CPU s in it)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child, n_keys, feed_interval_s))
    proc.start()
    try:
        rest_url, ws_url, keys = parent.recv()
        parent.send("cpu")
        before, started = float(parent.recv()), time.monotonic()
        count, wall = fn(rest_url, ws_url, keys)
        parent.send("cpu")
        cpu = float(parent.recv()) - before
        # The share of the sim's CPU time that fell inside the measured window.
        return count, wall, max(cpu * wall / (time.monotonic() - started), 1e-9)
    finally:
        parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()


def _report(count: int, wall: float, cpu: float, unit: str) -> None:
    print(
        f"  measured {count / wall:,.0f} {unit}/s; sim process busy {cpu / wall:.0%} "
        f"-> {count / cpu:,.0f} {unit}/s per sim CPU-second"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rest-workers", type=int, default=16)
    ap.add_argument("--ws-conns", type=int, default=50)
    ap.add_argument("--feed-interval", type=float, default=0.002)
    args = ap.parse_args()
    count, wall, cpu = _with_sim(
        args.rest_workers,
        0.05,
        lambda url, _ws, keys: asyncio.run(bench_rest(url, keys, args.seconds)),
    )
    print(f"signed private REST (Balance), {args.rest_workers} keys in parallel:")
    _report(count, wall, cpu, "req")
    count, wall, cpu = _with_sim(
        1,
        args.feed_interval,
        lambda _url, ws_url, _keys: asyncio.run(bench_ws(ws_url, args.ws_conns, args.seconds)),
    )
    print(
        f"WS book messages ({args.ws_conns} conns x {len(PAIRS)} books, "
        f"feed every {args.feed_interval * 1000:g} ms):"
    )
    _report(count, wall, cpu, "msg")


if __name__ == "__main__":
    main()

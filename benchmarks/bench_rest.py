"""REST client round-trip cost against the loopback sim, next to a bare aiohttp POST.

Prints the median and p99 of a post-only AddOrder round trip through RestClient (priority
lock, per-key file lock + state file, nonce, rate model, signing, decode) and of a bare
aiohttp POST of a pre-signed AddOrder body to the same endpoint (the floor), plus the
per-request CPU cost of signing + form encoding. Target: client median ≤ 1.3 × floor.

Both run against the same sim on a shared ManualClock that is advanced between requests
(outside the timed region) so neither side ever meets a rate limit; open orders are
cancelled in batches, also outside the timed region.

Usage: python benchmarks/bench_rest.py [N]
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import aiohttp

from krakenbot.clock import ManualClock
from krakenbot.domain.enums import OrderType, Side
from krakenbot.kraken.ratelimit import Tier
from krakenbot.kraken.rest_orders import OrderRequest, add_order_params
from krakenbot.kraken.signing import Signer, encode_form
from krakenbot.net.http import HttpResponse
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig
from krakenbot.sim import SimConfig, running_sim


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def order(i: int) -> OrderRequest:
    return OrderRequest(
        pair="XLMUSD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        volume=Decimal("10"),
        price=Decimal("0.100000") + Decimal(i % 50) / 1_000_000,
        cl_ord_id=uuid.uuid4().hex,
        post_only=True,
    )


class Floor:
    """A bare aiohttp POST of a pre-signed AddOrder body (signing outside the timing)."""

    def __init__(self, url: str, key: str, secret: str, clock: ManualClock) -> None:
        self.url, self.key, self.clock = url + "/0/private/AddOrder", key, clock
        self.signer = Signer(secret)
        self.session = aiohttp.ClientSession()

    async def once(self, i: int) -> float:
        nonce = time.time_ns()
        body = encode_form(nonce, add_order_params(order(i), self.clock.now_ns() + 5 * 10**9))
        headers = {
            "API-Key": self.key,
            "API-Sign": self.signer.sign("/0/private/AddOrder", nonce, body),
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        data = body.encode()
        t0 = time.perf_counter()
        async with self.session.post(self.url, data=data, headers=headers) as resp:
            raw = await resp.read()
        elapsed = time.perf_counter() - t0
        if b'"error":[]' not in raw:
            raise SystemExit(f"floor request failed: {raw[:200]!r}")
        return elapsed


async def client_once(client: RestClient, i: int) -> float:
    req = order(i)
    t0 = time.perf_counter()
    await client.add_order(req)
    return time.perf_counter() - t0


class InstantTransport:
    """Answers AddOrder at once: what is left is the client's own cost per call."""

    async def request(self, method: str, url: str, **_: object) -> HttpResponse:
        return HttpResponse(200, b'{"error":[],"result":{"descr":{"order":"x"},"txid":["O1"]}}')

    async def close(self) -> None:
        return None


async def client_overhead(n: int) -> list[float]:
    clock = ManualClock(start_ns=time.time_ns())
    rcfg = RestConfig(state_dir=Path(tempfile.mkdtemp(prefix="bench-rest-")), tier=Tier.PRO)
    secret = base64.b64encode(os.urandom(64)).decode()
    async with RestClient(
        rcfg,
        Credentials("k", secret),
        clock=clock,
        rng=random.Random(1),
        transport=InstantTransport(),
    ) as client:
        out = []
        for i in range(n):
            clock.advance(10)
            out.append(await client_once(client, i))
        return out


def cpu_cost(n: int = 20_000) -> float:
    signer = Signer(base64.b64encode(os.urandom(64)).decode())
    req = order(1)
    t0 = time.process_time()
    for i in range(n):
        nonce = 1_700_000_000_000_000_000 + i
        body = encode_form(nonce, add_order_params(req, nonce + 5 * 10**9))
        signer.sign("/0/private/AddOrder", nonce, body)
    return (time.process_time() - t0) / n


async def main(n: int) -> None:
    clock = ManualClock(start_ns=time.time_ns())
    cfg = SimConfig(clock=clock, tier="pro", balances={"USD": Decimal("100000"), "XLM": Decimal(0)})
    f: list[float] = []
    c: list[float] = []
    async with running_sim(cfg) as sim:
        sim.control.pause_feed()
        floor_key, floor_secret = "bench-floor", base64.b64encode(os.urandom(64)).decode()
        sim.control.add_key(floor_key, floor_secret)
        state = Path(tempfile.mkdtemp(prefix="bench-rest-"))
        rcfg = RestConfig(state_dir=state, base_url=sim.rest_url, tier=Tier.PRO)
        creds = Credentials(sim.api_key, sim.api_secret)
        floor = Floor(sim.rest_url, floor_key, floor_secret, clock)
        async with RestClient(rcfg, creds, clock=clock, rng=random.Random(1)) as client:
            # Interleaved, so load from other processes hits both sides alike.
            for i in range(n + 50):
                clock.advance(10)  # counters decay fully: no side ever waits for a limit
                ft, ct = await floor.once(i), await client_once(client, i)
                if i >= 50:  # warm-up
                    f.append(ft)
                    c.append(ct)
                if i % 100 == 99:
                    await client.cancel_all()  # stay under the open-orders cap (untimed)
        await floor.session.close()
    o = await client_overhead(n)
    us = 1e6
    fm, cm = statistics.median(f), statistics.median(c)
    print(f"AddOrder (post-only limit) round trip over loopback against krakenbot.sim, n={n}")
    print(
        f"  bare aiohttp POST (floor) : median {fm * us:7.1f} µs  p99 {pct(f, 0.99) * us:7.1f} µs"
    )
    print(
        f"  RestClient.add_order      : median {cm * us:7.1f} µs  p99 {pct(c, 0.99) * us:7.1f} µs"
    )
    print(f"  ratio client/floor        : median {cm / fm:.2f}x  (target <= 1.30x)")
    print(f"  client cost, instant HTTP : median {statistics.median(o) * us:7.1f} µs per call")
    print(f"  CPU sign + form-encode    : {cpu_cost() * us:7.1f} µs per request")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))

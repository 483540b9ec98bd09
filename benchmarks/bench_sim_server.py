"""The simulator for the peer benchmark, in its own process (benchmarks/bench_peers.py).

Serves one pair (XLM/USD) with the feed paused, REST rate limits off and a trading tier with
no practical ceiling (the benchmark measures the order path, not Kraken's counters), and one
API key per client so no two clients share a nonce sequence. `reports_per_key`: an order's
`executions` reports go only to the sessions of the key that placed it, so krakenbot's WS
client (subscribed to executions) decodes its own orders' reports only, never another
client's inside that client's timing. Prints one JSON line with the URLs and the keys, then
serves until killed.

Usage: python benchmarks/bench_sim_server.py N_KEYS [asyncio|uvloop] [per_key|account]
(`account`: every order's reports to every private session, as on one Kraken account.)
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import sys
from dataclasses import replace
from decimal import Decimal

from krakenbot.sim import SimConfig, running_sim
from krakenbot.sim.ratelimit import TIERS


async def serve(n_keys: int, reports: str) -> None:
    TIERS["bench"] = replace(
        TIERS["pro"], name="bench", trade_threshold=Decimal(10**12), max_open_per_pair=10**6
    )
    config = SimConfig(
        pairs=("XLM/USD",),
        tier="bench",
        balances={"USD": Decimal(10**9), "XLM": Decimal(10**9)},
        rest_rate_limit=False,
        public_rate_limit=False,
        reports_per_key=reports == "per_key",
    )
    rng = random.Random(5)
    async with running_sim(config) as sim:
        sim.control.pause_feed()
        sim.control.set_mid("XLM/USD", Decimal("0.290000"))
        keys = []
        for _ in range(n_keys):
            key = base64.b64encode(rng.randbytes(42)).decode()
            secret = base64.b64encode(rng.randbytes(64)).decode()
            sim.control.add_key(key, secret)
            keys.append([key, secret])
        urls = {"rest_url": sim.rest_url, "ws_url": sim.ws_url, "ws_auth_url": sim.ws_auth_url}
        print(json.dumps({**urls, "keys": keys}), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    loop = sys.argv[2] if len(sys.argv) > 2 else "asyncio"
    factory = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        n_keys = int(sys.argv[1]) if len(sys.argv) > 1 else 8
        runner.run(serve(n_keys, sys.argv[3] if len(sys.argv) > 3 else "per_key"))

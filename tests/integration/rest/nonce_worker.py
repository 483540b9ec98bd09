"""A separate process hammering the sim with private calls through a shared key state dir.

Usage: python nonce_worker.py REST_URL API_KEY API_SECRET STATE_DIR N
Prints "ready", waits for a line on stdin (so several workers start together), then prints
one JSON line: {"ok": n_success, "invalid_nonce": n, "errors": [..]}.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from pathlib import Path

from krakenbot.clock import SystemClock
from krakenbot.errors import KrakenbotError
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig


async def main(url: str, key: str, secret: str, state_dir: str, n: int) -> dict[str, object]:
    cfg = RestConfig(state_dir=Path(state_dir), base_url=url, request_timeout_s=5.0)
    ok = 0
    errors: list[str] = []
    async with RestClient(
        cfg, Credentials(key, secret), clock=SystemClock(), rng=random.Random()
    ) as c:
        for i in range(n):
            try:
                # CancelOrder is exempt from the REST call counter, so hundreds of signed
                # calls run at full speed; an unknown order is simply "already gone".
                await c.cancel_order(txid=f"ONONCE-{i:05d}-XXXXXX")
                ok += 1
            except KrakenbotError as exc:
                errors.append(str(exc))
        return {"ok": ok, "invalid_nonce": c.invalid_nonce_count, "errors": errors[:5]}


if __name__ == "__main__":
    url, key, secret, state_dir, n = sys.argv[1:6]
    print("ready", flush=True)
    sys.stdin.readline()  # the start signal (before the event loop exists)
    print(json.dumps(asyncio.run(main(url, key, secret, state_dir, int(n)))))

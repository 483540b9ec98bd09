"""A separate process hammering the sim with private calls for one key.

Usage: python nonce_worker.py REST_URL API_KEY API_SECRET STATE_DIR N — a RestClient on the
given key state directory; or python nonce_worker.py --app N — the client krakenbot's own
commands build (app.exchange_view.operator_client, as `status --exchange`, `stop
--cancel-all` and `api` do), configured only by the environment and the working directory,
so the key state is wherever the application puts it.
Prints "ready", waits for a line on stdin (so several workers start together), then prints
one JSON line: {"ok": n_success, "invalid_nonce": n, "errors": [..]}.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from pathlib import Path

from krakenbot.app.exchange_view import operator_client, operator_key
from krakenbot.clock import SystemClock
from krakenbot.config import load_settings
from krakenbot.errors import KrakenbotError
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig


async def hammer(client: RestClient, n: int) -> dict[str, object]:
    ok = 0
    errors: list[str] = []
    async with client as c:
        for i in range(n):
            try:
                # CancelOrder is exempt from the REST call counter, so hundreds of signed
                # calls run at full speed; an unknown order is simply "already gone".
                await c.cancel_order(txid=f"ONONCE-{i:05d}-XXXXXX")
                ok += 1
            except KrakenbotError as exc:
                errors.append(str(exc))
        return {"ok": ok, "invalid_nonce": c.invalid_nonce_count, "errors": errors[:5]}


def direct_client(url: str, key: str, secret: str, state_dir: str) -> RestClient:
    cfg = RestConfig(state_dir=Path(state_dir), base_url=url, request_timeout_s=5.0)
    return RestClient(cfg, Credentials(key, secret), clock=SystemClock(), rng=random.Random())


def app_client() -> RestClient:
    settings = load_settings()
    return operator_client(settings, operator_key(settings), clock=SystemClock())


if __name__ == "__main__":
    app = sys.argv[1] == "--app"
    print("ready", flush=True)
    sys.stdin.readline()  # the start signal (before the event loop exists)
    client = app_client() if app else direct_client(*sys.argv[1:5])
    print(json.dumps(asyncio.run(hammer(client, int(sys.argv[-1])))))

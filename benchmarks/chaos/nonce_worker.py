"""One process of the nonce storm: N signed REST calls with the client krakenbot builds.

Usage: python -m benchmarks.chaos.nonce_worker N — configured only by the environment (the
key, KRAKEN_REST_URL, DATA_DIR, KRAKENBOT_STATE_DIR) and the working directory, exactly as
`status --exchange`, `stop --cancel-all` and `api` are (app.exchange_view.operator_client),
so the per-key nonce state is wherever the application puts it. Prints "ready", waits for a
line on stdin (so the processes start together), then prints one JSON line:
{"ok": n, "invalid_nonce": n, "errors": n, "examples": [...]}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

from krakenbot.app.exchange_view import operator_client, operator_key
from krakenbot.clock import SystemClock
from krakenbot.config import load_settings
from krakenbot.errors import KrakenbotError
from krakenbot.kraken.errors import UnknownOrderError


async def hammer(n: int) -> dict[str, object]:
    settings = load_settings()
    client = operator_client(settings, operator_key(settings), clock=SystemClock())
    ok = 0
    errors: list[str] = []
    async with client as c:
        for i in range(n):
            try:
                # CancelOrder is exempt from the REST call counter, so thousands of signed
                # calls run at full speed; an unknown order is simply "already gone".
                await c.cancel_order(txid=f"ONONCE-{i:05d}-XXXXXX")
                ok += 1
            except UnknownOrderError:
                ok += 1
            except KrakenbotError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
        return {
            "ok": ok,
            "invalid_nonce": c.invalid_nonce_count,
            "errors": len(errors),
            "examples": errors[:3],
        }


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)  # the figures are counted, not logged
    print("ready", flush=True)
    sys.stdin.readline()  # the start signal
    print(json.dumps(asyncio.run(hammer(int(sys.argv[1])))), flush=True)

"""A WebSocket order refused with `EOrder:Rate limit exceeded` marks the pair's counter full
(`RestCore.trade_limited`) even while a REST request of the same process holds the key's
lock: it waits for that request instead of failing on the lock (it raised RuntimeError)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path

from tests.kraken_http import rest_client

from krakenbot.net.http import HttpResponse

PAIR = "XLMUSD"


class HeldKraken:
    """Answers a request only when `answer` is set."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.answer = asyncio.Event()

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        self.entered.set()
        await self.answer.wait()
        return HttpResponse(200, json.dumps({"error": [], "result": {}}).encode())

    async def close(self) -> None:
        return None


async def test_a_ws_rate_limit_during_a_rest_request_waits_for_the_key_lock(
    tmp_path: Path,
) -> None:
    kraken = HeldKraken()
    client = rest_client(tmp_path, kraken)  # type: ignore[arg-type]
    rest_call = asyncio.create_task(client.call("Balance"))
    await asyncio.wait_for(kraken.entered.wait(), 5)  # the REST request holds the key's lock
    marking = asyncio.create_task(client.core.trade_limited(PAIR))
    await asyncio.sleep(0.01)
    assert not marking.done()  # waits for the request in flight
    kraken.answer.set()
    await asyncio.wait_for(asyncio.gather(rest_call, marking), 5)
    threshold = client.core.model.limits.trade_threshold
    assert client.core.trading_counter_estimate(PAIR) >= threshold - 1
    await client.close()

"""Priority of private calls inside one client, through the transport seam (no sockets)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from pathlib import Path

from krakenbot.clock import ManualClock
from krakenbot.net.http import HttpResponse
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig

OK = {
    "Balance": b'{"error":[],"result":{"ZUSD":"1.0"}}',
    "CancelOrder": b'{"error":[],"result":{"count":1}}',
    "CancelAll": b'{"error":[],"result":{"count":0}}',
}


class GatedTransport:
    """Holds the first request until released; records the order requests arrive in."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.gate = asyncio.Event()
        self.arrived = asyncio.Event()

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        name = url.rsplit("/", 1)[-1]
        self.seen.append(name)
        self.arrived.set()
        assert "c2VjcmV0c2VjcmV0" not in str(headers)  # the secret never travels
        if len(self.seen) == 1:
            await self.gate.wait()
        return HttpResponse(200, OK[name])

    async def close(self) -> None:
        return None


async def test_cancels_jump_the_queue_of_queries(tmp_path: Path) -> None:
    transport = GatedTransport()
    cfg = RestConfig(state_dir=tmp_path, base_url="http://127.0.0.1:9")
    async with RestClient(
        cfg,
        Credentials("key", "c2VjcmV0c2VjcmV0"),
        clock=ManualClock(),
        rng=random.Random(1),
        transport=transport,
    ) as client:
        first = asyncio.create_task(client.balance())
        await asyncio.wait_for(transport.arrived.wait(), 5)
        queued = [asyncio.create_task(client.balance()) for _ in range(3)]
        for _ in range(5):
            await asyncio.sleep(0)
        cancel = asyncio.create_task(client.cancel_order(txid="OABCDE-FGHIJ-KLMNOP"))
        panic = asyncio.create_task(client.cancel_all())
        for _ in range(5):
            await asyncio.sleep(0)
        transport.gate.set()
        await asyncio.wait_for(asyncio.gather(first, *queued, cancel, panic), 5)
    assert transport.seen == [
        "Balance",
        "CancelOrder",
        "CancelAll",
        "Balance",
        "Balance",
        "Balance",
    ]

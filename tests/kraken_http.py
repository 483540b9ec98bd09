"""A scripted Kraken REST server behind the client's HTTP seam (`HttpTransport`), no sockets.

`ScriptedKraken(answer)` calls `answer(method, form)` for each request (`method` the Kraken
method name, `form` the decoded form body) and wraps its result in Kraken's envelope (bytes
are sent as they are: a recorded reply). `rest_client` builds a signing `RestClient` on it."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import parse_qs

from krakenbot.clock import Clock, ManualClock
from krakenbot.net.http import HttpResponse
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig

Answer = Callable[[str, dict[str, str]], object]


class ScriptedKraken:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.calls: list[str] = []

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
        self.calls.append(name)
        form = {k: v[0] for k, v in parse_qs((body or b"").decode()).items()}
        result = self.answer(name, form)
        if isinstance(result, bytes):
            return HttpResponse(200, result)
        return HttpResponse(200, json.dumps({"error": [], "result": result}).encode())

    async def close(self) -> None:
        return None


def rest_client(
    state_dir: Path, transport: ScriptedKraken, clock: Clock | None = None
) -> RestClient:
    return RestClient(
        RestConfig(state_dir=state_dir, base_url="http://127.0.0.1:9"),
        Credentials("key", base64.b64encode(b"s" * 64).decode()),
        clock=clock or ManualClock(start_ns=1_769_100_000_000_000_000),
        rng=random.Random(1),
        transport=transport,
    )

"""A tiny hand-written Kraken test client for the simulator's own tests.

Deliberately independent of krakenbot.kraken / krakenbot.net: the signer is written here
from the documented algorithm so the sim is checked against the spec, not against our client.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=5)


def kraken_sign(secret_b64: str, path: str, nonce: str, body: bytes) -> str:
    digest = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(base64.b64decode(secret_b64), path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class RestClient:
    def __init__(self, session: aiohttp.ClientSession, base: str, key: str, secret: str) -> None:
        self.session = session
        self.base = base
        self.key = key
        self.secret = secret
        self.nonce = time.time_ns() // 1000

    def next_nonce(self) -> str:
        self.nonce += 1
        return str(self.nonce)

    async def public(self, method: str, **params: Any) -> dict[str, Any]:
        async with self.session.get(
            f"{self.base}/0/public/{method}", params=params, timeout=TIMEOUT
        ) as resp:
            assert resp.status == 200
            return await resp.json()  # type: ignore[no-any-return]

    async def raw_private(
        self,
        method: str,
        params: dict[str, Any],
        *,
        as_json: bool = False,
        key: str | None = None,
        secret: str | None = None,
        nonce: str | None = None,
        sign_override: str | None = None,
    ) -> aiohttp.ClientResponse:
        nonce = nonce or self.next_nonce()
        fields = {"nonce": nonce, **params}
        if as_json:
            body = json.dumps({**fields, "nonce": int(nonce)}).encode()
            ctype = "application/json"
        else:
            body = urllib.parse.urlencode(fields).encode()
            ctype = "application/x-www-form-urlencoded"
        path = f"/0/private/{method}"
        headers = {
            "API-Key": key or self.key,
            "API-Sign": sign_override or kraken_sign(secret or self.secret, path, nonce, body),
            "Content-Type": ctype,
            "User-Agent": "sim-tests",
        }
        return await self.session.post(
            f"{self.base}{path}", data=body, headers=headers, timeout=TIMEOUT
        )

    async def private(self, method: str, **params: Any) -> dict[str, Any]:
        resp = await self.raw_private(method, params)
        async with resp:
            assert resp.status == 200
            return await resp.json()  # type: ignore[no-any-return]

    async def ok(self, method: str, **params: Any) -> Any:
        reply = await self.private(method, **params)
        assert reply["error"] == [], reply
        return reply["result"]


class WsClient:
    """A minimal v2 client: send requests, read frames until one matches (bounded)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[Any] = []

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, url: str) -> WsClient:
        ws = await session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=2))
        return cls(ws)

    async def send(self, method: str, req_id: int | None = None, **params: Any) -> None:
        msg: dict[str, Any] = {"method": method}
        if params:
            msg["params"] = params
        if req_id is not None:
            msg["req_id"] = req_id
        await self.ws.send_str(json.dumps(msg))

    async def recv(self, within_s: float = 3.0) -> Any:
        async with asyncio.timeout(within_s):
            msg = await self.ws.receive()
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"websocket closed: {msg.type}")
        parsed = json.loads(msg.data)
        self.seen.append(parsed)
        return parsed

    async def until(self, pred: Callable[[Any], bool], within_s: float = 3.0) -> Any:
        async with asyncio.timeout(within_s):
            while True:
                msg = await self.recv(within_s)
                if pred(msg):
                    return msg

    async def close(self) -> None:
        await self.ws.close()


def is_channel(channel: str, kind: str | None = None) -> Callable[[Any], bool]:
    def pred(msg: Any) -> bool:
        return (
            isinstance(msg, dict)
            and msg.get("channel") == channel
            and (kind is None or msg.get("type") == kind)
        )

    return pred


def is_method(method: str) -> Callable[[Any], bool]:
    return lambda msg: isinstance(msg, dict) and msg.get("method") == method

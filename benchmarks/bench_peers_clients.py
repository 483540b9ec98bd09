"""The floors and the peers of benchmarks/bench_peers.py (one `Send` per client: send order
`i` and wait for its answer). Floors: a bare aiohttp POST of a pre-signed AddOrder body and a
raw aiohttp WebSocket `add_order` read until its ack. Peers (the optional extra `bench`): ccxt
async and python-kraken-sdk's REST and WebSocket clients; a peer not installed is None.
nautilus_trader (its Rust-core Kraken client sends orders over REST) needs Python >= 3.12 and
is not run here; issue 15 measured it at 0.94-1.10x the bare aiohttp floor.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp

from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.kraken.rest_orders import OrderRequest, add_order_params, rfc3339
from krakenbot.kraken.signing import Signer, encode_form
from krakenbot.kraken.ws_requests import encode_order

PATH = "/0/private/AddOrder"
PRICE = Decimal("0.200000")  # far under the 0.29 market: the IOC expires at once
QTY = Decimal("30")
Send = Callable[[int], Awaitable[None]]


def request() -> OrderRequest:
    return OrderRequest(
        pair="XLMUSD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        volume=QTY,
        cl_ord_id=uuid.uuid4().hex,
        price=PRICE,
        time_in_force=TimeInForce.IOC,
    )


def same() -> dict[str, str]:
    """What krakenbot and the floor send with every order and a REST peer does not by itself:
    a client order id and a deadline (5 s). The exchange checks both, so a peer without them
    would be measured on a lighter request; every REST client sends the same order."""
    return {"cl_ord_id": uuid.uuid4().hex, "deadline": rfc3339(time.time_ns() + 5 * 10**9)}


# ---- floors -----------------------------------------------------------------------------


async def floor_post(
    urls: dict[str, Any], key: list[str], stack: contextlib.AsyncExitStack
) -> Send:
    session = await stack.enter_async_context(aiohttp.ClientSession())
    signer = Signer(key[1])
    url = urls["rest_url"] + PATH
    state = {"nonce": time.time_ns()}

    def prepared() -> tuple[bytes, dict[str, str]]:
        state["nonce"] = max(time.time_ns(), state["nonce"] + 1)
        params = add_order_params(request(), time.time_ns() + 5_000_000_000)
        body = encode_form(state["nonce"], params)
        headers = {
            "API-Key": key[0],
            "API-Sign": signer.sign(PATH, state["nonce"], body),
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        return body.encode(), headers

    async def send(i: int) -> None:
        body, headers = send.ready  # type: ignore[attr-defined]
        async with session.post(url, data=body, headers=headers) as resp:
            data = await resp.read()
        assert b'"error":[]' in data, data
        send.ready = prepared()  # type: ignore[attr-defined]

    send.ready = prepared()  # type: ignore[attr-defined]
    return send


async def ws_token(urls: dict[str, Any], key: list[str]) -> str:
    async with aiohttp.ClientSession() as session:
        nonce = time.time_ns()
        body = encode_form(nonce, {})
        headers = {
            "API-Key": key[0],
            "API-Sign": Signer(key[1]).sign("/0/private/GetWebSocketsToken", nonce, body),
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        url = urls["rest_url"] + "/0/private/GetWebSocketsToken"
        async with session.post(url, data=body.encode(), headers=headers) as resp:
            return str((await resp.json())["result"]["token"])


async def floor_ws(urls: dict[str, Any], key: list[str], stack: contextlib.AsyncExitStack) -> Send:
    token = await ws_token(urls, key)
    session = await stack.enter_async_context(aiohttp.ClientSession())
    ws = await stack.enter_async_context(session.ws_connect(urls["ws_auth_url"]))
    await ws.receive()  # status

    def prepared(i: int) -> str:
        now = time.time_ns()
        return encode_order(
            request(), "XLM/USD", token=token, req_id=i, deadline_ns=now + 5 * 10**9, now_ns=now
        )

    async def send(i: int) -> None:
        await ws.send_str(send.ready)  # type: ignore[attr-defined]
        tag = f'"req_id":{i}'
        while True:
            msg = await ws.receive()
            if tag in msg.data and '"add_order"' in msg.data:
                assert '"success":true' in msg.data, msg.data
                break
        send.ready = prepared(i + 1)  # type: ignore[attr-defined]

    send.ready = prepared(0)  # type: ignore[attr-defined]
    return send


# ---- peers (optional extra `bench`) ------------------------------------------------------


async def ccxt_client(
    urls: dict[str, Any], key: list[str], stack: contextlib.AsyncExitStack
) -> Send | None:
    try:
        import ccxt.async_support as ccxt_async  # noqa: PLC0415
    except ImportError:
        return None
    ex = ccxt_async.kraken({"apiKey": key[0], "secret": key[1], "enableRateLimit": False})
    ex.urls["api"] = {"public": urls["rest_url"], "private": urls["rest_url"]}
    stack.push_async_callback(ex.close)
    await ex.load_markets()

    async def send(i: int) -> None:
        order = await ex.create_order(
            "XLM/USD", "limit", "buy", float(QTY), float(PRICE), {"timeInForce": "IOC", **same()}
        )
        assert order["id"]

    return send


async def pks_rest(
    urls: dict[str, Any], key: list[str], stack: contextlib.AsyncExitStack
) -> Send | None:
    try:
        from kraken.spot import SpotAsyncClient  # noqa: PLC0415
    except ImportError:
        return None
    client = SpotAsyncClient(key=key[0], secret=key[1], url=urls["rest_url"])
    stack.push_async_callback(client.close)
    params = {
        "ordertype": "limit",
        "type": "buy",
        "volume": str(QTY),
        "pair": "XLMUSD",
        "price": str(PRICE),
        "timeinforce": "IOC",
    }

    async def send(i: int) -> None:
        result = await client.request("POST", PATH, params={**params, **same()})
        assert result["txid"]

    return send


async def pks_ws(
    urls: dict[str, Any], key: list[str], stack: contextlib.AsyncExitStack
) -> Send | None:
    try:
        from kraken.spot import SpotWSClient  # noqa: PLC0415
    except ImportError:
        return None
    waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}

    async def on_message(message: dict[str, Any]) -> None:
        future = (
            waiting.pop(message.get("req_id", -1), None)
            if message.get("method") == "add_order"
            else None
        )
        if future is not None and not future.done():
            future.set_result(message)

    client = SpotWSClient(
        key=key[0],
        secret=key[1],
        callback=on_message,
        no_public=True,
        rest_url=urls["rest_url"],
        # python-kraken-sdk appends "/v2" itself.
        ws_url=urls["ws_url"].removesuffix("/v2"),
        auth_ws_url=urls["ws_auth_url"].removesuffix("/v2"),
    )
    await client.start()
    stack.push_async_callback(client.close)
    for _ in range(300):
        if client.private_channel_names is not None and getattr(client, "_priv_conn", None):
            with contextlib.suppress(Exception):
                if client._priv_conn.socket is not None:  # type: ignore[attr-defined]
                    break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    loop = asyncio.get_running_loop()

    async def send(i: int) -> None:
        future = waiting[i] = loop.create_future()
        await client.send_message(
            {
                "method": "add_order",
                "params": {
                    "order_type": "limit",
                    "side": "buy",
                    "order_qty": float(QTY),
                    "symbol": "XLM/USD",
                    "limit_price": float(PRICE),
                    "time_in_force": "ioc",
                    # What krakenbot and the floor send with every order (the exchange checks
                    # both: a lighter request would flatter the peer).
                    "cl_ord_id": uuid.uuid4().hex,
                    "deadline": rfc3339(time.time_ns() + 5 * 10**9),
                },
                "req_id": i,
            }
        )
        answer = await asyncio.wait_for(future, 10)
        assert answer.get("success"), answer

    return send

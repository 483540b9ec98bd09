"""Order round trip, side by side: krakenbot (REST and WebSocket) against the peers and the
floors, interleaved round-robin against one simulator in ANOTHER PROCESS (issue 15).

Clients (each with its own API key, so no two share a nonce sequence):
* `floor_post` — a bare aiohttp POST of a pre-signed AddOrder body (signing outside the timing)
* `floor_ws`   — a raw aiohttp WebSocket: send a prepared `add_order` text, read until its ack
* `kb_rest`    — krakenbot `RestClient.add_order` over REST (ORDER_TRANSPORT=rest)
* `kb_ws`      — krakenbot `RestClient.add_order` over the private WebSocket (the default:
                 the daemon's own path, `WsOrderPath` over a running `WsSession`)
* `ccxt`       — ccxt async `kraken.create_order` (REST), if ccxt is installed
* `pks_rest`   — python-kraken-sdk `SpotAsyncClient` AddOrder (REST), if installed
* `pks_ws`     — python-kraken-sdk `SpotWSClient` `add_order` → ack, if installed
Install the peers with `pip install -e ".[bench]"`.

Each order is an IOC limit buy far under the market (it expires at once: nothing rests, no
cancel is needed). The client process is pinned to one CPU and the simulator to the other;
per round every client sends one order in turn (round-robin), the first `--warmup` rounds are
left out; `--repeats` runs of `--orders` orders each. Printed per client: the median of the
run medians, the worst run's p99, the ratio to its floor (REST clients to `floor_post`, WS
clients to `floor_ws`), and in how many runs krakenbot's WebSocket path beat it.
The simulator's rate limits are lifted and krakenbot's rate model given the same room (the
order path is measured, not Kraken's counters).

Usage: python benchmarks/bench_peers.py [--orders 1000] [--repeats 5] [--warmup 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from krakenbot.clock import SystemClock
from krakenbot.domain.enums import Channel, OrderType, Side, TimeInForce
from krakenbot.kraken.ratelimit import RateModel, Tier, TierLimits
from krakenbot.kraken.rest_orders import OrderRequest, add_order_params
from krakenbot.kraken.signing import Signer, encode_form
from krakenbot.kraken.ws_requests import encode_order
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_orders import WsOrderPath
from krakenbot.net.ws_session import WsSession, WsSessionConfig

PATH = "/0/private/AddOrder"
PRICE = Decimal("0.200000")  # far under the 0.29 market: the IOC expires at once
QTY = Decimal("30")
UNLIMITED = TierLimits(1e12, 1e6, 1e12, 1e6, 10**6)
Send = Callable[[int], Awaitable[None]]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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


@asynccontextmanager
async def sim_process(n_keys: int, cpu: int | None) -> AsyncIterator[dict[str, Any]]:
    script = Path(os.environ.get("SIMSCRIPT") or Path(__file__).with_name("bench_sim_server.py"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(n_keys),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(proc.pid, {cpu})
    try:
        assert proc.stdout is not None
        yield json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
    finally:
        proc.terminate()
        await proc.wait()


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


# ---- krakenbot ----------------------------------------------------------------------------


def kb_client(urls: dict[str, Any], key: list[str], tmp: Path) -> RestClient:
    config = RestConfig(state_dir=tmp / uuid.uuid4().hex, base_url=urls["rest_url"], tier=Tier.PRO)
    rest = RestClient(config, Credentials(*key), clock=SystemClock(), rng=random.Random(1))
    rest.core.model = RateModel(UNLIMITED)  # the sim's counters are lifted too
    return rest


async def kb_rest(
    urls: dict[str, Any], key: list[str], stack: contextlib.AsyncExitStack, tmp: Path
) -> Send:
    rest = kb_client(urls, key, tmp)
    stack.push_async_callback(rest.close)
    await rest.asset_pairs(["XLM/USD"])  # teaches the client the pair's names

    async def send(i: int) -> None:
        result = await rest.add_order(request())
        assert result.txid

    return send


async def kb_ws(
    urls: dict[str, Any], key: list[str], stack: contextlib.AsyncExitStack, tmp: Path
) -> Send:
    rest = kb_client(urls, key, tmp)
    stack.push_async_callback(rest.close)
    await rest.asset_pairs(["XLM/USD"])
    clock = SystemClock()

    async def token() -> str:
        return (await rest.get_websockets_token()).token

    config = WsSessionConfig(public_url=urls["ws_url"], private_url=urls["ws_auth_url"], symbols=())
    session = WsSession(
        config, InboundQueue(), clock=clock, rng=random.Random(2), token_provider=token
    )
    runner = asyncio.ensure_future(session.run())

    async def drain() -> None:  # the engine's part: take every event off the stream
        async for _ in session.events():
            pass

    drainer = asyncio.ensure_future(drain())

    async def stop() -> None:
        session.stop()
        drainer.cancel()
        await asyncio.gather(runner, drainer, return_exceptions=True)

    stack.push_async_callback(stop)
    await asyncio.wait_for(session.wait_connected(Channel.PRIVATE), 15)
    rest.route_orders(WsOrderPath(session.trading, rest.core, clock))

    async def send(i: int) -> None:
        result = await rest.add_order(request())
        assert result.txid and result.announced

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
            "XLM/USD", "limit", "buy", float(QTY), float(PRICE), {"timeInForce": "IOC"}
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
        result = await client.request("POST", PATH, params=dict(params))
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
                },
                "req_id": i,
            }
        )
        answer = await asyncio.wait_for(future, 10)
        assert answer.get("success"), answer

    return send


# ---- the run ------------------------------------------------------------------------------

FLOOR = {
    "kb_rest": "floor_post",
    "ccxt": "floor_post",
    "pks_rest": "floor_post",
    "kb_ws": "floor_ws",
    "pks_ws": "floor_ws",
}


async def build(
    urls: dict[str, Any], stack: contextlib.AsyncExitStack, tmp: Path, only: set[str]
) -> dict[str, Send]:
    makers: dict[str, Callable[[list[str]], Awaitable[Send | None]]] = {
        "floor_post": lambda key: floor_post(urls, key, stack),
        "floor_ws": lambda key: floor_ws(urls, key, stack),
        "kb_rest": lambda key: kb_rest(urls, key, stack, tmp),
        "kb_ws": lambda key: kb_ws(urls, key, stack, tmp),
        "ccxt": lambda key: ccxt_client(urls, key, stack),
        "pks_rest": lambda key: pks_rest(urls, key, stack),
        "pks_ws": lambda key: pks_ws(urls, key, stack),
    }
    clients: dict[str, Send] = {}
    for (name, make), key in zip(makers.items(), urls["keys"], strict=False):
        if only and name not in only:
            continue
        send = await asyncio.wait_for(make(key), 30)
        if send is None:
            print(f"{name}: not installed (pip install -e '.[bench]')", file=sys.stderr)
            continue
        await asyncio.wait_for(send(0), 10)  # it works before it is timed
        clients[name] = send
    return clients


async def run_once(
    clients: dict[str, Send], orders: int, warmup: int, start: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in clients}
    clock = time.perf_counter_ns
    for i in range(start, start + warmup + orders):
        for name, send in clients.items():
            t0 = clock()
            await send(i)
            if i - start >= warmup:
                times[name].append((clock() - t0) / 1000)
    return times


async def bench(orders: int, repeats: int, warmup: int, only: set[str]) -> None:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    sim_cpu = cpus[-1] if len(cpus) > 1 else None
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[0]})  # every client on the same CPU
    with tempfile.TemporaryDirectory() as tmp:
        async with sim_process(8, sim_cpu) as urls, contextlib.AsyncExitStack() as stack:
            clients = await build(urls, stack, Path(tmp), only)
            runs: list[dict[str, list[float]]] = []
            for r in range(repeats):
                runs.append(await run_once(clients, orders, warmup, r * (orders + warmup) + 1))
            report(runs, orders, warmup)


def report(runs: list[dict[str, list[float]]], orders: int, warmup: int) -> None:
    names = list(runs[0])
    medians = {n: [statistics.median(run[n]) for run in runs] for n in names}
    p99s = {n: [pct(run[n], 0.99) for run in runs] for n in names}
    print(
        f"{len(runs)} runs x {orders} orders per client (warm-up {warmup} left out), "
        "round-robin, microseconds per order (send -> answer)"
    )
    head = f"{'client':<11} {'median':>8} {'p99(worst)':>11} {'vs floor':>9}"
    print(f"{head} {'kb_ws faster':>13}  per-run medians")
    for n in names:
        med = statistics.median(medians[n])
        floor = FLOOR.get(n)
        ratio = f"{med / statistics.median(medians[floor]):.2f}x" if floor in medians else ""
        wins = ""
        if n != "kb_ws" and "kb_ws" in medians:
            won = sum(k < o for k, o in zip(medians["kb_ws"], medians[n], strict=True))
            wins = f"{won}/{len(runs)}"
        runs_text = " ".join(f"{m:.0f}" for m in medians[n])
        print(f"{n:<11} {med:8.1f} {max(p99s[n]):11.1f} {ratio:>9} {wins:>13}  {runs_text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--only", default="", help="comma-separated client names")
    args = parser.parse_args()
    only = {n for n in args.only.split(",") if n}
    asyncio.run(bench(args.orders, args.repeats, args.warmup, only))


if __name__ == "__main__":
    main()

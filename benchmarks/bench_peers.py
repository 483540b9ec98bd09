"""Order round trip, side by side: krakenbot (REST and WebSocket) against the peers and the
floors, interleaved round-robin against one simulator in ANOTHER PROCESS (issue 15).

Clients (each with its own API key, so no two share a nonce sequence):
* `floor_post` — a bare aiohttp POST of a signed AddOrder body (the next body is signed after
                 each answer, inside the timing; the answer is not parsed, only searched)
* `floor_ws`   — a raw aiohttp WebSocket: send a prepared `add_order` text, read until its ack
* `kb_rest`    — krakenbot `RestClient.add_order` over REST (ORDER_TRANSPORT=rest)
* `kb_ws`      — krakenbot `RestClient.add_order` over the private WebSocket (the default:
                 the daemon's own path, `WsOrderPath` over a running `WsSession`)
* `ccxt`       — ccxt async `kraken.create_order` (REST), if ccxt is installed
* `pks_rest`   — python-kraken-sdk `SpotAsyncClient` AddOrder (REST), if installed
* `pks_ws`     — python-kraken-sdk `SpotWSClient` `add_order` → ack, if installed
Install the peers with `pip install -e ".[bench]"`. The floors and peers are in
bench_peers_clients.py. nautilus_trader's Kraken client needs Python >= 3.12 and is not run
(issue 15's figures for it are printed instead).

Each order is an IOC limit buy far under the market (it expires at once: nothing rests, no
cancel is needed); every REST client sends the same order, a `cl_ord_id` and a 5 s `deadline`
included (the peers are given both: the exchange checks them, a lighter request would
flatter). The client process is pinned to one CPU and the simulator to the other; per
round every client sends one order in turn (round-robin), the first `--warmup` rounds are
left out; `--repeats` runs of `--orders` orders each. Printed (bench_peers_report.py), per
run and over all runs, per client: median, p99, and against its floor (REST clients to
`floor_post`, WS clients to `floor_ws`) the ratio of medians (unpaired) and the PAIRED ratio
and difference — per round, the client's order against its floor's order of the same round,
medianed per run — which a loaded machine moves far less; and how many runs krakenbot's
WebSocket path (every peer) and REST path (the REST peers) won, by run medians and paired.
The "target" lines are judged on the paired figures and say so. `--loop uvloop` runs both
processes on uvloop (`pip install uvloop`; not on Windows).
`--base SRC` also times another checkout's krakenbot client (say, a worktree of main; its
package imported as `krakenbot_base`, bench_peers_base.py) as `kbb_rest` / `kbb_ws` in the
same rounds, and prints this checkout's client against it, paired: before/after in one run.
`--shuffle` gives every round a fresh (seeded) order of the clients: in the fixed order each
client always follows the same one, and that predecessor moves its figures (krakenbot REST,
right after the WS floor, came out 1.06-1.09x its floor in the fixed order, 1.14x shuffled).
The simulator's rate limits are lifted and krakenbot's rate model given the same room (the
order path is measured, not Kraken's counters). Each key is its own account for `executions`
reports (bench_sim_server.py, `SimConfig.reports_per_key`): krakenbot's WS client receives
and decodes only its own orders' reports, none of another client's inside that client's
timing window (`--reports account` restores the shared stream, to compare). krakenbot's WS
client still decodes its OWN orders' reports after the ack: after each kb_ws order, untimed,
the round waits until that order's last report (expired) has come off krakenbot's event
stream — woken by the report itself, no sleep — so that decoding never falls into the next
client's timing window.

Usage: python benchmarks/bench_peers.py [--orders 1000] [--repeats 5] [--warmup 100] [--base SRC]
       [--shuffle]
       [--only floor_ws,kb_ws] [--loop asyncio|uvloop] [--reports per_key|account]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

# Run as a script (`python benchmarks/bench_peers.py`) its own folder is on the path; run as a
# module (`python -m benchmarks.bench_peers`) it is put there.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_peers_clients import (  # type: ignore[import-not-found]  # isort: skip
    PRICE,
    QTY,
    Send,
    ccxt_client,
    floor_post,
    floor_ws,
    pks_rest,
    pks_ws,
)
from bench_peers_report import report  # type: ignore[import-not-found]  # isort: skip
from bench_peers_base import load_base, modules  # type: ignore[import-not-found]  # isort: skip

Kb = dict[str, Any]  # bench_peers_base.modules(): one krakenbot's client modules by name


def loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop of both benchmark processes: the stock one, or uvloop's."""
    if loop == "asyncio":
        return None
    import uvloop  # noqa: PLC0415  (optional: only for --loop uvloop)

    return uvloop.new_event_loop


@asynccontextmanager
async def sim_process(
    n_keys: int, cpu: int | None, loop: str = "asyncio", reports: str = "per_key"
) -> AsyncIterator[dict[str, Any]]:
    script = Path(__file__).with_name("bench_sim_server.py")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(n_keys),
        loop,
        reports,
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


# ---- krakenbot ----------------------------------------------------------------------------


def kb_client(kb: Kb, urls: dict[str, Any], key: list[str], tmp: Path) -> Any:
    rl, rc = kb["kraken.ratelimit"], kb["net.rest_client"]
    config = rc.RestConfig(
        state_dir=tmp / uuid.uuid4().hex, base_url=urls["rest_url"], tier=rl.Tier.PRO
    )
    rest = rc.RestClient(
        config, rc.Credentials(*key), clock=kb["clock"].SystemClock(), rng=random.Random(1)
    )
    # The sim's counters are lifted too.
    rest.core.model = rl.RateModel(rl.TierLimits(1e12, 1e6, 1e12, 1e6, 10**6))
    return rest


def kb_request(kb: Kb) -> Any:
    """The same order as `request()`, built from this krakenbot's own types (one build and
    one uuid4, as `request()` costs: it is timed)."""
    e = kb["domain.enums"]
    return kb["kraken.rest_orders"].OrderRequest(
        pair="XLMUSD",
        side=e.Side.BUY,
        order_type=e.OrderType.LIMIT,
        volume=QTY,
        cl_ord_id=uuid.uuid4().hex,
        price=PRICE,
        time_in_force=e.TimeInForce.IOC,
    )


async def kb_rest(
    kb: Kb, urls: dict[str, Any], key: list[str], stack: contextlib.AsyncExitStack, tmp: Path
) -> Send:
    rest = kb_client(kb, urls, key, tmp)
    stack.push_async_callback(rest.close)
    await rest.asset_pairs(["XLM/USD"])  # teaches the client the pair's names

    async def send(i: int) -> None:
        result = await rest.add_order(kb_request(kb))
        assert result.txid

    return send


async def kb_ws(
    kb: Kb, urls: dict[str, Any], key: list[str], stack: contextlib.AsyncExitStack, tmp: Path
) -> Send:
    rest = kb_client(kb, urls, key, tmp)
    stack.push_async_callback(rest.close)
    await rest.asset_pairs(["XLM/USD"])
    clock = kb["clock"].SystemClock()
    ws, st = kb["net.ws_session"], kb["domain.enums"].OrderStatus
    terminal = {st.FILLED, st.CANCELED, st.EXPIRED, st.REJECTED}
    report_type = kb["domain.events"].ExecutionReport

    async def token() -> str:
        return str((await rest.get_websockets_token()).token)

    config = ws.WsSessionConfig(
        public_url=urls["ws_url"], private_url=urls["ws_auth_url"], symbols=()
    )
    session = ws.WsSession(
        config,
        kb["net.ws_inbound"].InboundQueue(),
        clock=clock,
        rng=random.Random(2),
        token_provider=token,
    )
    runner = asyncio.ensure_future(session.run())

    finished: set[str] = set()  # orders whose last report was decoded before settle() asked
    waiting: dict[str, asyncio.Future[None]] = {}
    last = {"cl_ord_id": ""}

    async def drain() -> None:  # the engine's part: take every event off the stream
        async for event in session.events():
            if type(event) is not report_type or event.order_status not in terminal:
                continue
            future = waiting.pop(event.cl_ord_id or "", None)
            if future is None:
                finished.add(event.cl_ord_id or "")
            elif not future.done():
                future.set_result(None)

    drainer = asyncio.ensure_future(drain())

    async def stop() -> None:
        session.stop()
        drainer.cancel()
        await asyncio.gather(runner, drainer, return_exceptions=True)

    stack.push_async_callback(stop)
    channel = kb["domain.enums"].Channel.PRIVATE
    await asyncio.wait_for(session.wait_connected(channel), 15)
    rest.route_orders(kb["net.ws_orders"].WsOrderPath(session.trading, rest.core, clock))

    async def send(i: int) -> None:
        order = kb_request(kb)
        last["cl_ord_id"] = order.cl_ord_id
        result = await rest.add_order(order)
        assert result.txid and result.announced

    async def settle() -> None:
        """Until the order's last executions report is decoded (untimed, woken by the report
        itself, no sleep): its decoding never spills into the next client's timing."""
        cl_ord_id = last["cl_ord_id"]
        if cl_ord_id in finished:
            finished.discard(cl_ord_id)
            return
        future = waiting[cl_ord_id] = asyncio.get_running_loop().create_future()
        await asyncio.wait_for(future, 10)

    send.settle = settle  # type: ignore[attr-defined]
    return send


# ---- the run ------------------------------------------------------------------------------


async def build(
    urls: dict[str, Any],
    stack: contextlib.AsyncExitStack,
    tmp: Path,
    only: set[str],
    base: str | None = None,
) -> dict[str, Send]:
    kb = modules("krakenbot")
    makers: dict[str, Callable[[list[str]], Awaitable[Send | None]]] = {
        "floor_post": lambda key: floor_post(urls, key, stack),
        "floor_ws": lambda key: floor_ws(urls, key, stack),
        "kb_rest": lambda key: kb_rest(kb, urls, key, stack, tmp),
        "kb_ws": lambda key: kb_ws(kb, urls, key, stack, tmp),
        "ccxt": lambda key: ccxt_client(urls, key, stack),
        "pks_rest": lambda key: pks_rest(urls, key, stack),
        "pks_ws": lambda key: pks_ws(urls, key, stack),
    }
    if base is not None:  # another checkout's client, timed in the same rounds
        kbb = modules(load_base(base, tmp).__name__)
        makers["kbb_rest"] = lambda key: kb_rest(kbb, urls, key, stack, tmp)
        makers["kbb_ws"] = lambda key: kb_ws(kbb, urls, key, stack, tmp)
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
    clients: dict[str, Send], orders: int, warmup: int, start: int, shuffle: bool = False
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in clients}
    clock = time.perf_counter_ns
    # With --base, every other round swaps each krakenbot client with its --base twin in the
    # round's order: where a client sits in a round (what ran just before it, how warm the
    # CPU's caches are for its code) moves its figures by 10-40 us, and the same code
    # measured as both (an A/A run) must come out even.
    twin = {"kb_rest": "kbb_rest", "kbb_rest": "kb_rest", "kb_ws": "kbb_ws", "kbb_ws": "kb_ws"}
    names = list(clients)
    swapped = [twin.get(n, n) if twin.get(n, n) in clients else n for n in names]
    for i in range(start, start + warmup + orders):
        order = swapped if i % 2 else names
        if shuffle:  # a fresh order every round (--shuffle), the same for every run
            order = random.Random(i).sample(order, len(order))
        for name in order:
            send = clients[name]
            t0 = clock()
            await send(i)
            if i - start >= warmup:
                times[name].append((clock() - t0) / 1000)
            settle = getattr(send, "settle", None)
            if settle is not None:  # kb_ws: its own reports decoded before the next client
                await settle()
    return times


async def bench(
    orders: int,
    repeats: int,
    warmup: int,
    only: set[str],
    loop: str,
    reports: str,
    base: str | None = None,
    shuffle: bool = False,
) -> None:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    sim_cpu = cpus[-1] if len(cpus) > 1 else None
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[0]})  # every client on the same CPU
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            sim_process(10, sim_cpu, loop, reports) as urls,
            contextlib.AsyncExitStack() as stack,
        ):
            clients = await build(urls, stack, Path(tmp), only, base)
            runs: list[dict[str, list[float]]] = []
            for r in range(repeats):
                start = r * (orders + warmup) + 1
                runs.append(await run_once(clients, orders, warmup, start, shuffle))
            print(f"executions reports: {reports}")
            report(runs, orders, warmup, loop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--only", default="", help="comma-separated client names")
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="event loop of both processes (uvloop: pip install uvloop; not on Windows)",
    )
    parser.add_argument(
        "--reports",
        choices=("per_key", "account"),
        default="per_key",
        help="per_key: each client receives only its own orders' executions reports; account: "
        "every order's reach krakenbot's WS client, as on one Kraken account (to compare)",
    )
    parser.add_argument(
        "--base",
        default=None,
        metavar="SRC",
        help="also time another checkout's krakenbot client (e.g. a worktree of main) as "
        "kbb_rest / kbb_ws in the same rounds: before/after against the same floors",
    )
    parser.add_argument(
        "--shuffle",
        action="store_true",
        help="a fresh (seeded) order of the clients every round: what ran just before a "
        "client moves its figures (its code's cache warmth, the simulator's leftover work "
        "from the previous order), and a fixed order gives each client the same predecessor",
    )
    args = parser.parse_args()
    only = {n for n in args.only.split(",") if n}
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        runner.run(
            bench(
                args.orders,
                args.repeats,
                args.warmup,
                only,
                args.loop,
                args.reports,
                args.base,
                args.shuffle,
            )
        )


if __name__ == "__main__":
    main()

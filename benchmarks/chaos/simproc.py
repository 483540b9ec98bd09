"""An external simulator process (`python -m krakenbot sim --control`) and its control client.

Owns: `SimProcess` — start the simulator as its own process (so the harness's work never
stalls the exchange, as a real exchange is never stalled by its clients), read the one JSON
line it prints (URLs, throwaway credentials, control endpoint), call the control endpoint
(sim/control_http.py: faults, market moves, the exchange's own view) and stop it — and the
conversion of the exchange's view into the audit's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp

from benchmarks.chaos.audit import ExchangeOrder, ExchangeTrade

TOKEN_HEADER = "X-Sim-Control-Token"
# Every process the suite starts, so that an interrupted run leaves none behind (reap()).
SPAWNED: set[asyncio.subprocess.Process] = set()


async def spawn(*args: str, **kwargs: Any) -> asyncio.subprocess.Process:
    """`asyncio.create_subprocess_exec`, remembered for `reap()`."""
    proc = await asyncio.create_subprocess_exec(*args, **kwargs)
    SPAWNED.add(proc)
    return proc


def reap() -> int:
    """SIGKILL every process the suite started that is still running; how many there were."""
    alive = [p for p in SPAWNED if p.returncode is None]
    for proc in alive:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    SPAWNED.clear()
    return len(alive)


class ControlError(RuntimeError):
    """The simulator's control endpoint refused a request or did not answer."""


@dataclass
class SimProcess:
    proc: asyncio.subprocess.Process
    info: dict[str, str]
    session: aiohttp.ClientSession
    stderr: list[str] = field(default_factory=list)

    @property
    def rest_url(self) -> str:
        return self.info["rest_url"]

    @property
    def ws_url(self) -> str:
        return self.info["ws_url"]

    @property
    def ws_auth_url(self) -> str:
        return self.info["ws_auth_url"]

    @property
    def api_key(self) -> str:
        return self.info["api_key"]

    @property
    def api_secret(self) -> str:
        return self.info["api_secret"]

    @classmethod
    async def start(
        cls,
        *,
        speed: float = 300.0,
        feed: str = "random",
        seed: int = 1,
        tier: str = "pro",
        pairs: str = "XLM/USD",
        balance: str = "USD=1000,XLM=0",
    ) -> SimProcess:
        proc = await spawn(
            sys.executable,
            "-m",
            "krakenbot",
            "sim",
            "--control",
            "--pairs",
            pairs,
            "--feed",
            feed,
            "--speed",
            f"{speed:g}",
            "--seed",
            str(seed),
            "--tier",
            tier,
            "--balance",
            balance,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(30):
                line = await proc.stdout.readline()
            info = json.loads(line)
        except (TimeoutError, ValueError) as exc:
            proc.kill()
            await proc.wait()
            raise RuntimeError("the simulator did not start") from exc
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        sim = cls(proc, {str(k): str(v) for k, v in info.items()}, session)
        asyncio.get_running_loop().create_task(sim._drain())
        return sim

    async def _drain(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.stderr.append(line.decode("utf-8", "replace"))
            del self.stderr[:-200]

    async def call(self, op: str, **kwargs: object) -> Any:
        try:
            async with self.session.post(
                f"{self.info['control_url']}/{op}",
                data=json.dumps(kwargs),
                headers={TOKEN_HEADER: self.info["control_token"]},
            ) as resp:
                doc = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ControlError(f"control {op}: {exc!r}") from exc
        if resp.status != 200:
            raise ControlError(f"control {op}: HTTP {resp.status} {doc.get('error')}")
        return doc["result"]

    async def fault(self, name: str, **kwargs: object) -> None:
        await self.call(f"faults.{name}", **kwargs)

    async def fired(self, kind: str) -> bool:
        """No fault of this kind is armed any more: the daemon ran into it."""
        return kind not in await self.call("faults.pending")

    async def mid(self, symbol: str = "XLM/USD") -> Decimal:
        return Decimal((await self.call("mids"))[symbol])

    async def move(self, factor: Decimal, symbol: str = "XLM/USD") -> None:
        """Move the market by `factor` at once: resting orders it crosses are filled."""
        await self.call("set_mid", symbol=symbol, price=str(await self.mid(symbol) * factor))

    async def orders(self) -> list[ExchangeOrder]:
        return [
            ExchangeOrder(
                txid=str(o["txid"]),
                cl_ord_id=o["cl_ord_id"],
                side=str(o["side"]),
                status=str(o["status"]),
                vol_exec=Decimal(o["vol_exec"]),
                vol=Decimal(o["vol"]),
                ordertype=str(o["type"]),
            )
            for o in await self.call("orders")
        ]

    async def trades(self) -> list[ExchangeTrade]:
        return [
            ExchangeTrade(
                trade_id=str(t["trade_id"]),
                ordertxid=str(t["ordertxid"]),
                side=str(t["side"]),
                vol=Decimal(t["vol"]),
            )
            for t in await self.call("trades")
        ]

    async def ordermin(self, pair: str = "XLMUSD") -> Decimal:
        """The pair's smallest order (AssetPairs, public): a smaller position is dust."""
        url = f"{self.rest_url}/0/public/AssetPairs"
        async with self.session.get(url, params={"pair": pair}) as resp:
            doc = await resp.json(content_type=None)
        (info,) = doc["result"].values()
        return Decimal(str(info["ordermin"]))

    async def open_orders(self) -> list[ExchangeOrder]:
        return [o for o in await self.orders() if o.status in ("pending", "open")]

    async def stop(self) -> None:
        try:
            if self.proc.returncode is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    async with asyncio.timeout(10):
                        await self.proc.wait()
                except TimeoutError:
                    self.proc.kill()
                    await self.proc.wait()
        finally:
            await self.session.close()

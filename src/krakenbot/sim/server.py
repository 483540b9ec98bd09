"""Starting and stopping the simulator: `running_sim(cfg)` and the `Sim` handle.

Owns: wiring state + REST app + WebSocket endpoints + feed and timer loops, binding to
loopback (a non-loopback host needs `allow_remote`), and orderly shutdown. Loops pace
themselves with asyncio.sleep on real time and read time from the injected clock, so a
ManualClock only moves when the test says so. Imports: aiohttp, stdlib, krakenbot.clock, sim.*.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from krakenbot.clock import SystemClock
from krakenbot.sim.config import SimConfig
from krakenbot.sim.control import SimControl
from krakenbot.sim.feed import Feed, RandomFeed
from krakenbot.sim.replay import ReplayFeed, backfill_history
from krakenbot.sim.rest import build_app
from krakenbot.sim.state import SimState
from krakenbot.sim.ws import attach_ws

logger = logging.getLogger(__name__)
_TIMER_PERIOD_S = 0.05


@dataclass(frozen=True, slots=True)
class Sim:
    rest_url: str
    ws_url: str
    ws_auth_url: str
    api_key: str
    api_secret: str
    control: SimControl
    state: SimState

    def __repr__(self) -> str:
        return f"Sim(rest_url={self.rest_url!r}, ws_url={self.ws_url!r})"


def _check_host(cfg: SimConfig) -> None:
    try:
        loopback = ipaddress.ip_address(cfg.host).is_loopback
    except ValueError:
        loopback = cfg.host == "localhost"
    if not loopback and not cfg.allow_remote:
        raise ValueError(f"refusing to bind {cfg.host}: pass allow_remote to serve off loopback")


def make_feed(state: SimState) -> Feed:
    if state.cfg.history_minutes > 0:
        backfill_history(state.exchange, state.now_ns(), state.cfg.history_minutes)
    if state.cfg.feed == "replay":
        return ReplayFeed(state.exchange, state.rng, state.now_ns(), speed=state.cfg.speed)
    if state.cfg.feed != "random":
        raise ValueError("feed must be 'random' or 'replay'")
    return RandomFeed(state.exchange, state.rng)


async def _feed_loop(state: SimState, feed: Feed) -> None:
    while True:
        await asyncio.sleep(state.cfg.feed_interval_s)
        if not state.feed_paused:
            try:
                feed.tick(state.now_ns())
                state.changed()
            except Exception:  # a bad tick must not kill the exchange
                logger.exception("sim feed tick failed")


async def _timer_loop(state: SimState) -> None:
    while True:
        await asyncio.sleep(_TIMER_PERIOD_S)
        try:
            state.changed()
        except Exception:
            logger.exception("sim timer failed")


async def _start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    addr = runner.addresses[0]
    return runner, int(addr[1])


@contextlib.asynccontextmanager
async def running_sim(cfg: SimConfig | None = None) -> AsyncIterator[Sim]:
    """Serve a simulated Kraken on loopback for the duration of the block."""
    cfg = cfg or SimConfig()
    _check_host(cfg)
    state = SimState(cfg, cfg.clock or SystemClock())
    closing = asyncio.Event()
    feed = make_feed(state)
    state.feed_tick = lambda: feed.tick(state.now_ns())
    app = build_app(state, closing)
    private_app, hub = attach_ws(app, state, closing)
    runners: list[web.AppRunner] = []
    # The loops are owned by this context manager rather than a TaskGroup because their
    # lifetime is the caller's `async with` block; they are cancelled and awaited on exit.
    tasks: list[asyncio.Task[None]] = []
    try:
        runner, port = await _start_site(app, cfg.host, cfg.port)
        runners.append(runner)
        auth_runner, auth_port = await _start_site(private_app, cfg.host, cfg.ws_auth_port)
        runners.append(auth_runner)
        tasks.append(asyncio.create_task(_feed_loop(state, feed), name="sim-feed"))
        tasks.append(asyncio.create_task(_timer_loop(state), name="sim-timers"))
        tasks.append(asyncio.create_task(hub.heartbeats(), name="sim-heartbeats"))
        host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
        yield Sim(
            rest_url=f"http://{host}:{port}",
            ws_url=f"ws://{host}:{port}/v2",
            ws_auth_url=f"ws://{host}:{auth_port}/v2",
            api_key=state.api_key,
            api_secret=state.api_secret,
            control=SimControl(state),
            state=state,
        )
    finally:
        closing.set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for runner in reversed(runners):
            await runner.cleanup()

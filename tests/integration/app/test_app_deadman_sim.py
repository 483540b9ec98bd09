"""The dead man's switch against the loopback simulator through the real REST client."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from krakenbot.app.deadman import DeadMansSwitch, DmsState
from krakenbot.clock import SystemClock
from krakenbot.domain.sections import DeadManSwitchSection
from krakenbot.engine.protect import SwitchNeed
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig
from krakenbot.sim import Sim, SimConfig, running_sim


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async with running_sim(SimConfig(pairs=("XLM/USD",), feed_interval_s=0.2)) as s:
        yield s


def _client(sim: Sim, tmp_path: Path) -> RestClient:
    cfg = RestConfig(state_dir=tmp_path / "keys", base_url=sim.rest_url, request_timeout_s=5.0)
    return RestClient(
        cfg, Credentials(sim.api_key, sim.api_secret), clock=SystemClock(), rng=random.Random(1)
    )


async def test_armed_while_healthy_lapses_when_not_and_disables(sim: Sim, tmp_path: Path) -> None:
    healthy = True
    async with _client(sim, tmp_path) as client:
        dms = DeadMansSwitch(
            client,
            DeadManSwitchSection(timeout_s=60, refresh_s=20),
            healthy=lambda: healthy,
            clock=SystemClock(),
        )
        await dms.step()
        assert dms.state is DmsState.ARMED and dms.trigger_time
        first = sim.control.dead_man_trigger_ns()
        assert first is not None
        healthy = False
        await dms.step()
        assert dms.state is DmsState.LAPSING
        assert sim.control.dead_man_trigger_ns() == first  # not pushed back
        healthy = True
        await dms.step()
        assert dms.state is DmsState.ARMED
        assert await dms.disable()
        assert sim.control.dead_man_trigger_ns() is None
        assert dms.state is DmsState.OFF


async def test_paused_around_maintenance(sim: Sim, tmp_path: Path) -> None:
    async with _client(sim, tmp_path) as client:
        dms = DeadMansSwitch(
            client,
            DeadManSwitchSection(timeout_s=60, refresh_s=20),
            healthy=lambda: True,
            clock=SystemClock(),
        )
        await dms.step()
        assert sim.control.dead_man_trigger_ns() is not None
        sim.control.set_system_status("maintenance")
        await dms.step()
        assert dms.state is DmsState.PAUSED
        assert sim.control.dead_man_trigger_ns() is None
        sim.control.set_system_status("online")
        await dms.step()
        assert dms.state is DmsState.ARMED
        assert sim.control.dead_man_trigger_ns() is not None


async def test_run_loop_refreshes_until_stopped(sim: Sim, tmp_path: Path) -> None:
    async with _client(sim, tmp_path) as client:
        dms = DeadMansSwitch(
            client,
            DeadManSwitchSection(timeout_s=2, refresh_s=1),
            healthy=lambda: True,
            clock=SystemClock(),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(dms.run(stop))
        async with asyncio.timeout(10):
            while dms.refreshes < 2:  # noqa: ASYNC110 - polling a counter, bounded
                await asyncio.sleep(0.05)
        stop.set()
        async with asyncio.timeout(5):
            await task
        assert dms.state is DmsState.ARMED


async def test_the_switch_follows_what_the_engine_must_cover(sim: Sim, tmp_path: Path) -> None:
    """Armed while an entry rests; off (timeout 0) once a position needs its protective
    stop, healthy or not; off while nothing rests; and a start-up finding Kraken's timer
    still armed by an earlier process disarms it before standing by."""
    need = SwitchNeed(entry=False, protection=False)
    healthy = True
    async with _client(sim, tmp_path) as client:
        await client.cancel_all_orders_after(60)  # an earlier process left it armed
        dms = DeadMansSwitch(
            client,
            DeadManSwitchSection(timeout_s=60, refresh_s=20),
            healthy=lambda: healthy,
            clock=SystemClock(),
            need=lambda: need,
        )
        await dms.step()
        assert dms.state is DmsState.STANDBY and sim.control.dead_man_trigger_ns() is None
        need = SwitchNeed(entry=True, protection=False)
        await dms.step()
        assert dms.state is DmsState.ARMED and sim.control.dead_man_trigger_ns() is not None
        need = SwitchNeed(entry=True, protection=True)  # the entry filled in part
        healthy = False  # ... and the daemon is in trouble: still disarmed, not left to lapse
        await dms.step()
        assert dms.state is DmsState.STANDBY and sim.control.dead_man_trigger_ns() is None
        need = SwitchNeed(entry=False, protection=False)
        healthy = True
        await dms.step()
        assert dms.state is DmsState.STANDBY and sim.control.dead_man_trigger_ns() is None


async def test_a_poke_makes_the_loop_decide_at_once(sim: Sim, tmp_path: Path) -> None:
    need = SwitchNeed(entry=True, protection=False)
    async with _client(sim, tmp_path) as client:
        dms = DeadMansSwitch(
            client,
            DeadManSwitchSection(timeout_s=60, refresh_s=50),  # no refresh during the test
            healthy=lambda: True,
            clock=SystemClock(),
            need=lambda: need,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(dms.run(stop))
        async with asyncio.timeout(10):
            while dms.state is not DmsState.ARMED:  # noqa: ASYNC110 - bounded polling
                await asyncio.sleep(0.02)
        need = SwitchNeed(entry=False, protection=True)  # a fill: the stop must survive
        dms.poke()
        async with asyncio.timeout(5):
            while sim.control.dead_man_trigger_ns() is not None:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert dms.state is DmsState.STANDBY
        stop.set()
        async with asyncio.timeout(5):
            await task

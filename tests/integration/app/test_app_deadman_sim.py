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

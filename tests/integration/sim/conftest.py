from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from simtest_helpers import RestClient

from krakenbot.clock import ManualClock
from krakenbot.sim import Sim, SimConfig, running_sim


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    balances = {"USD": Decimal("1000"), "XLM": Decimal("500"), "BTC": Decimal("0.01")}
    cfg = SimConfig(balances=balances)
    async with running_sim(cfg) as running:
        running.control.pause_feed()
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def rest(sim: Sim, session: aiohttp.ClientSession) -> RestClient:
    return RestClient(session, sim.rest_url, sim.api_key, sim.api_secret)


@pytest.fixture
async def msim() -> AsyncIterator[Sim]:
    """A sim on a ManualClock: time only moves through `control.advance`."""
    balances = {"USD": Decimal("1000"), "XLM": Decimal("500"), "BTC": Decimal("0.01")}
    async with running_sim(SimConfig(balances=balances, clock=ManualClock())) as running:
        running.control.pause_feed()
        yield running


@pytest.fixture
def mrest(msim: Sim, session: aiohttp.ClientSession) -> RestClient:
    return RestClient(session, msim.rest_url, msim.api_key, msim.api_secret)

"""Helpers for the REST client's loopback tests against krakenbot.sim."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from krakenbot.clock import Clock, ManualClock
from krakenbot.domain.enums import OrderType, Side
from krakenbot.kraken.ratelimit import Tier
from krakenbot.kraken.rest_orders import OrderRequest
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig
from krakenbot.sim import Sim, SimConfig, running_sim

BALANCES = {"USD": Decimal("1000"), "XLM": Decimal("500"), "BTC": Decimal("0.01")}


def real_now_clock() -> ManualClock:
    """A ManualClock that starts at real time (so the sim's order times look sane)."""
    return ManualClock(start_ns=time.time_ns())


@asynccontextmanager
async def sim_running(clock: Clock | None = None, tier: str = "starter") -> AsyncIterator[Sim]:
    async with running_sim(SimConfig(balances=dict(BALANCES), clock=clock, tier=tier)) as sim:
        sim.control.pause_feed()
        yield sim


def config(sim: Sim, state_dir: Path, **overrides: Any) -> RestConfig:
    base = RestConfig(
        state_dir=state_dir,
        base_url=sim.rest_url,
        tier=Tier.STARTER,
        request_timeout_s=2.0,
        retry_base_s=0.01,
        retry_cap_s=0.05,
        order_deadline_s=2.0,
        deadline_grace_s=0.1,
    )
    return replace(base, **overrides)


def client(
    sim: Sim,
    state_dir: Path,
    clock: Clock,
    *,
    key: str | None = None,
    secret: str | None = None,
    **overrides: Any,
) -> RestClient:
    creds = Credentials(key or sim.api_key, secret or sim.api_secret)
    return RestClient(config(sim, state_dir, **overrides), creds, clock=clock, rng=random.Random(1))


def post_only_buy(
    price: str = "0.100000", volume: str = "10", cl_ord_id: str | None = None
) -> OrderRequest:
    return OrderRequest(
        pair="XLMUSD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        volume=Decimal(volume),
        price=Decimal(price),
        cl_ord_id=cl_ord_id or uuid.uuid4().hex,
        post_only=True,
    )


def orders_with(sim: Sim, cl_ord_id: str) -> list[dict[str, object]]:
    return [o for o in sim.control.orders() if o.get("cl_ord_id") == cl_ord_id]

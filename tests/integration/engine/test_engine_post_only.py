"""A post-only order the market has reached is refused by Kraken ("EOrder:Post only
order") so that it does not take liquidity, as asked. That is the market's doing: the
circuit breaker must not count it as an order execution failure. Three of them in five
minutes (normal for a post-only strategy in a fast market, more so on a slow machine)
tripped it and stopped every entry for the cooldown.
Whole stack against the simulator over loopback sockets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from enginetest_helpers import XLM, Scripted, buy, engine_env
from tests.eventually import eventually

from krakenbot.domain.enums import OrderStatus
from krakenbot.resilience.breaker import BreakerState


async def test_post_only_orders_the_market_reached_do_not_trip_the_breaker(
    tmp_path: Path,
) -> None:
    strategy = Scripted()
    async with engine_env(tmp_path, strategy) as env:
        engine = env.engine
        await eventually(strategy.books, what="a verified book")
        for n in range(1, 4):  # the default: three order failures in five minutes trip it
            # Above the ask: it would match on arrival, so Kraken refuses it.
            strategy.later(lambda v: [buy("30", "0.290200")])
            env.sim.control.set_mid(XLM, Decimal("0.290000") + Decimal(n) / 1_000_000)

            def refused(count: int = n) -> bool:
                orders = engine.core.registry.all()
                return sum(o.status is OrderStatus.REJECTED for o in orders) == count

            await eventually(refused, what=f"{n} post-only order(s) refused")
        reasons = {o.reason for o in engine.core.registry.all()}
        assert reasons == {"EOrder:Post only order"}
        assert engine.breaker.state is BreakerState.CLOSED
        assert engine.core.breaker_admits

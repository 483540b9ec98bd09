"""`SimControl.spend_rest`: points spent by calls made elsewhere (sim/ratelimit.py) keep
Kraken's REST counter semantics — never past the tier's maximum, decaying as usual, and a
call that would pass the maximum refused."""

from __future__ import annotations

from decimal import Decimal

from krakenbot.sim.ratelimit import NS, TIERS, RestCounter


def test_spent_points_stop_at_the_maximum_and_decay() -> None:
    counter = RestCounter(TIERS["starter"])
    assert counter.spend("k", Decimal(10), 0) == Decimal(10)
    assert counter.spend("k", Decimal(10), 0) == Decimal(15)  # the starter tier's maximum
    assert not counter.charge("k", "OpenOrders", 0)
    assert not counter.charge("k", "OpenOrders", 2 * NS)  # 0.66 back: not a whole point
    assert counter.charge("k", "OpenOrders", 4 * NS)  # 1.32 back
    assert counter.value("k", 4 * NS) == Decimal("15") - Decimal("1.32") + 1
    assert counter.charge("k", "CancelOrder", 4 * NS)  # trading calls are not counted

"""`LiveView.state_version` changes whenever what a strategy reads of the account changes: a
fill (position, average entry, opening time) or any change to our orders (working orders).
mean_reversion takes an unchanged version as "nothing changed" (its standing answer)."""

from __future__ import annotations

from tests.instruments import XLM
from tests.unit.orders.test_order_fsm import fill
from tests.unit.orders.test_order_registry import order

from krakenbot.domain.events import OrderAccepted
from krakenbot.domain.portfolio import Portfolio
from krakenbot.engine.view import LiveView
from krakenbot.orders.registry import OrderRegistry


def test_state_version_moves_with_every_fill_and_order_change() -> None:
    portfolio, registry = Portfolio(), OrderRegistry()
    view = LiveView({}, {"XLM/USD": XLM}, portfolio, registry)
    seen = [view.state_version]
    assert view.state_version == seen[-1]  # reading changes nothing
    registry.add(order("kba"))
    seen.append(view.state_version)
    registry.apply(OrderAccepted("kba", "OA"))
    seen.append(view.state_version)
    portfolio.record(fill("T1"))
    seen.append(view.state_version)
    assert view.position("XLM/USD") > 0
    portfolio.record(fill("T1"))  # the same trade id again: nothing changes
    assert view.state_version == seen[-1]
    assert len(set(seen)) == len(seen)

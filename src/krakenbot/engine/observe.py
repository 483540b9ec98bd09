"""What the runner tells an observer (metrics, notifications) while it carries effects out.

Owns: `EngineObserver` — the port the composition root plugs in (app/observers.py) to see
the runner's work without the engine knowing about Prometheus or webhooks: the orders handed
to the venue (with the market data they answer, for tick-to-order), the notices the core
asks for, the events the pumps take (for the WebSocket message lag) and every ledger write's
duration. Each call is synchronous and must be cheap and never raise: it runs on the path
of an order. Imports: domain. No behaviour here.
"""

from __future__ import annotations

from typing import Protocol

from krakenbot.domain.effects import Notify, SendOrder
from krakenbot.domain.events import Event


class EngineObserver(Protocol):
    def order_handed(self, effect: SendOrder) -> None:
        """`effect` goes to the venue now (only orders that answer market data: tick_ns)."""

    def notice(self, effect: Notify) -> None:
        """The core asks for a notification to the operator (`effect.notice` is set)."""

    def event_taken(self, channel: str, event: Event, taken_ns: int) -> None:
        """The pump of `channel` ("public": market feed, "private": account stream) took
        `event` at `taken_ns` (wall clock, as the events' `recv_ns`)."""

    def ledger_write(self, operation: str, seconds: float, ok: bool) -> None:
        """One ledger write (`operation`: the repository method) took `seconds`."""


__all__ = ["EngineObserver"]

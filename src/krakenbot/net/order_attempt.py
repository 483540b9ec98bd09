"""The seam between the exactly-once order loop and the transport that carries one attempt.

Owns: `OrderPath` (what net/order_sender.py asks of a transport other than REST: one
add / amend / cancel / dead man's switch attempt, each answering None when it could not send
so the same loop goes on over REST), `Sending` (the deadline the attempt rendered, and when
and how it went on the wire) and `AcceptedUnreadError` (Kraken accepted the order but its
answer could not be read).
Must not import: anything above `net`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from krakenbot.errors import KrakenbotError
from krakenbot.kraken.rest_codec import CancelAfterResult, CancelResult
from krakenbot.kraken.rest_orders import AddOrderResult, AmendRequest, OrderRequest
from krakenbot.net.rest_config import TradeCharge


@dataclass(slots=True)
class Sending:
    """One attempt's `deadline` (epoch ns), set when the request is rendered: after it
    Kraken refuses the request, so an unanswered order is looked up only then. `wire_ns`
    (epoch ns, 0 until then) and `transport` ("rest" or "websocket") say when and how the
    request went on the wire: the metrics' tick-to-order and acknowledgement times."""

    deadline_ns: int
    wire_ns: int = 0
    transport: str = "rest"


class AcceptedUnreadError(KrakenbotError):
    """Kraken said yes in words we cannot read: the order exists; look it up, never re-send."""


class OrderPath(Protocol):
    def write_add(self, req: OrderRequest, pair: str, window_ns: int, sending: Sending) -> bool:
        """The first AddOrder attempt's request written now, without a coroutine, when
        nothing has to wait; True: `add` for the same order goes on from there (its answer).
        False: nothing written (use `add`)."""
        ...

    async def add(
        self, req: OrderRequest, pair: str, window_ns: int, sending: Sending
    ) -> AddOrderResult | None:
        """One AddOrder attempt; None: not sent (use REST). Raises like the REST attempt."""
        ...

    async def amend(self, req: AmendRequest, trade: TradeCharge, window_ns: int) -> str | None:
        """One AmendOrder; the amend id, or None: not sent (use REST)."""
        ...

    async def cancel(
        self, txid: str | None, cl_ord_id: str | None, trade: TradeCharge | None
    ) -> CancelResult | None:
        """One CancelOrder; None: not sent (use REST)."""
        ...

    async def cancel_after(self, timeout_s: int) -> CancelAfterResult | None:
        """One CancelAllOrdersAfter; None: not sent (use REST)."""
        ...

    async def sighted(self, cl_ord_id: str, wait_s: float) -> str | None:
        """The txid of `cl_ord_id` if Kraken's own reports name it within `wait_s` (else
        None after waiting that long): an early end to an ambiguous send's wait."""
        ...

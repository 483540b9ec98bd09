"""Trading methods over the private WebSocket and the mapping of their acks to events.

Owns: `TradingRequests` — sends add_order / cancel_order / cancel_all /
cancel_all_orders_after / batch_add through the session's private connection and turns the
responses into `OrderAccepted`, `OrderRejected` and `CancelRejected` events, correlated by
`req_id` (a failed ack carries no client id, API.md 7.6). Imports: stdlib, clock, errors,
domain and kraken only; the socket is reached through an injected `send` coroutine.
Fills and order state always come from the `executions` channel, never from these acks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from krakenbot.clock import Clock
from krakenbot.domain.commands import CancelOrder, PlaceOrder
from krakenbot.domain.events import (
    CancelRejected,
    Event,
    OrderAccepted,
    OrderRejected,
    ReconcileRequested,
)
from krakenbot.errors import TransportError
from krakenbot.kraken.ws_codec import (
    encode_add_order,
    encode_batch_add,
    encode_cancel_all,
    encode_cancel_all_orders_after,
    encode_cancel_order,
)
from krakenbot.kraken.ws_messages import MethodResponse

Send = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class _Pending:
    method: str
    cl_ord_ids: tuple[str, ...] = ()
    order_id: str | None = None


class TradingRequests:
    def __init__(
        self,
        send: Send,
        next_req_id: Callable[[], int],
        clock: Clock,
        token: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._send = send
        self._next_req_id = next_req_id
        self._clock = clock
        self._token = token
        self._pending: dict[int, _Pending] = {}

    def _require_token(self) -> str:
        token = self._token()
        if token is None:
            raise TransportError("private websocket not connected", endpoint="ws")
        return token

    async def _request(self, method: str, text: str, req_id: int, pending: _Pending) -> int:
        self._pending[req_id] = pending
        if not await self._send(text):
            del self._pending[req_id]
            raise TransportError("private websocket not connected", endpoint=f"ws:{method}")
        return req_id

    async def add_order(self, order: PlaceOrder) -> int:
        """Send; returns the req_id. The outcome arrives as OrderAccepted/OrderRejected."""
        req_id = self._next_req_id()
        text = encode_add_order(
            order, token=self._require_token(), now_ns=self._clock.now_ns(), req_id=req_id
        )
        return await self._request(
            "add_order", text, req_id, _Pending("add_order", (order.cl_ord_id,))
        )

    async def batch_add(self, orders: Sequence[PlaceOrder]) -> int:
        req_id = self._next_req_id()
        text = encode_batch_add(
            orders, token=self._require_token(), now_ns=self._clock.now_ns(), req_id=req_id
        )
        ids = tuple(o.cl_ord_id for o in orders)
        return await self._request("batch_add", text, req_id, _Pending("batch_add", ids))

    async def cancel_order(self, cancel: CancelOrder) -> int:
        req_id = self._next_req_id()
        text = encode_cancel_order(
            token=self._require_token(),
            order_ids=[cancel.order_id] if cancel.order_id else [],
            cl_ord_ids=[cancel.cl_ord_id] if cancel.cl_ord_id else [],
            req_id=req_id,
        )
        ids = (cancel.cl_ord_id,) if cancel.cl_ord_id else ()
        return await self._request(
            "cancel_order", text, req_id, _Pending("cancel_order", ids, cancel.order_id)
        )

    async def cancel_all(self) -> int:
        req_id = self._next_req_id()
        text = encode_cancel_all(token=self._require_token(), req_id=req_id)
        return await self._request("cancel_all", text, req_id, _Pending("cancel_all"))

    async def cancel_all_orders_after(self, timeout_s: int) -> int:
        req_id = self._next_req_id()
        text = encode_cancel_all_orders_after(timeout_s, token=self._require_token(), req_id=req_id)
        return await self._request(
            "cancel_all_orders_after", text, req_id, _Pending("cancel_all_orders_after")
        )

    def on_response(self, resp: MethodResponse) -> list[Event]:
        pending = self._pending.pop(resp.req_id, None) if resp.req_id is not None else None
        if pending is None:
            return []
        now = resp.recv_ns
        error = resp.error or "unknown error"
        if pending.method in ("add_order", "batch_add"):
            if not resp.success:
                return [
                    OrderRejected(c, error, f"ws:{pending.method}", now) for c in pending.cl_ord_ids
                ]
            out: list[Event] = []
            for cl_ord_id, ref in zip(pending.cl_ord_ids, resp.orders, strict=False):
                if ref.order_id:
                    out.append(OrderAccepted(ref.cl_ord_id or cl_ord_id, ref.order_id, now))
            return out
        if pending.method == "cancel_order" and not resp.success:
            cl = pending.cl_ord_ids[0] if pending.cl_ord_ids else None
            return [CancelRejected(cl, pending.order_id, error, now)]
        return []

    def on_disconnect(self) -> list[Event]:
        """Requests sent but never acknowledged may or may not have executed."""
        if not self._pending:
            return []
        methods = sorted({p.method for p in self._pending.values()})
        self._pending.clear()
        return [
            ReconcileRequested(
                f"unacknowledged {','.join(methods)} at disconnect", self._clock.now_ns()
            )
        ]

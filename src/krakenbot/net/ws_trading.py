"""Trading requests over the private WebSocket, correlated with their acks by `req_id`.

Owns: `TradingRequests` — renders a request with the session's token and a fresh `req_id`,
sends it through the private connection and hands the caller a `Pending` whose future holds
Kraken's answer (`MethodResponse`); the ack of an accepted `add_order` / `batch_add` also
becomes `OrderAccepted` at once, on the same stream and in the same order as the executions
reports that follow it (a failed ack carries no client id: only the req_id says whose it is,
API.md 7.6). A request the socket could not take raises `RequestNotSentError` (provably not
sent); a connection lost while requests wait fails them with `WsConnectionLostError` (sent, outcome
unknown) and asks for a reconciliation. `watch(cl_ord_id)` lets an order whose outcome is
unknown be found by its own executions reports (snapshot or update). Fills and order state
always come from the `executions` channel, never from these acks.
Imports: stdlib, clock, errors, domain, kraken and net only; the socket is reached through
an injected `send` coroutine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from krakenbot.clock import Clock
from krakenbot.domain.commands import CancelOrder, PlaceOrder
from krakenbot.domain.construct import slot_constructor
from krakenbot.domain.events import Event, ExecutionReport, OrderAccepted, ReconcileRequested
from krakenbot.errors import TransportError
from krakenbot.kraken.ws_codec import (
    encode_add_order,
    encode_batch_add,
    encode_cancel_all,
    encode_cancel_all_orders_after,
    encode_cancel_order,
)
from krakenbot.kraken.ws_messages import MethodResponse
from krakenbot.net.http import RequestNotSentError

Send = Callable[[str], Awaitable[bool]]
# Writes a frame's text now, without a coroutine (net/ws_write.py); False: not written (not
# up, or not writable so). With None it only answers whether it could.
WriteNow = Callable[[str | None], bool]
Render = Callable[[str, int], str]  # (token, req_id) -> the frame's text
_MAX_PENDING = 1_000  # unanswered requests remembered for their late acks
_new_accepted = slot_constructor(OrderAccepted)  # built on every order's ack path


def accepted(pending: Pending, resp: MethodResponse) -> list[Event]:
    """`OrderAccepted` for each order an accepted add_order / batch_add ack names. Said even
    when the waiter gave up (a late ack): the order exists, and the engine learns its txid in
    stream order with the executions reports."""
    if not resp.success or pending.method not in ("add_order", "batch_add"):
        return []
    out: list[Event] = []
    for cl_ord_id, ref in zip(pending.cl_ord_ids, resp.orders, strict=False):
        if ref.order_id:
            out.append(_new_accepted(ref.cl_ord_id or cl_ord_id, ref.order_id, resp.recv_ns))
    return out


class WsConnectionLostError(TransportError):
    """The private connection closed while a request waited for its ack: it may or may not
    have been carried out (resolve by lookup, never by a blind re-send)."""


class WsAckTimeoutError(TransportError):
    """No ack within the request's deadline (plus grace): outcome unknown, like a loss."""


@dataclass(slots=True)
class Pending:
    """One request in flight: `future` is resolved with Kraken's answer."""

    req_id: int
    method: str
    future: asyncio.Future[MethodResponse]
    cl_ord_ids: tuple[str, ...] = ()
    expires_ns: int = 0  # monotonic; 0: waits for the ack or the connection's end


class TradingRequests:
    def __init__(
        self,
        send: Send,
        next_req_id: Callable[[], int],
        clock: Clock,
        token: Callable[[], str | None] = lambda: None,
        write_now: WriteNow | None = None,
    ) -> None:
        self._send = send
        self._write_now = write_now
        self._next_req_id = next_req_id
        self.next_req_id = next_req_id  # a fresh req_id (with `token`: what `ticket` hands out)
        self._clock = clock
        self._token = token
        self.token = token  # the private connection's token; None: not up (use REST)
        self._pending: dict[int, Pending] = {}
        self._watched: dict[str, asyncio.Future[str]] = {}
        # An ack just woke its waiter: the reader yields before it reads on, so the caller
        # acts (e.g. sends its next order) before the reports that follow are decoded.
        self.woke = False

    @property
    def connected(self) -> bool:
        """The private connection is up and subscribed (its token was accepted)."""
        return self._token() is not None

    async def request(
        self,
        method: str,
        render: Render,
        cl_ord_ids: tuple[str, ...] = (),
        *,
        timeout_s: float | None = None,
    ) -> Pending:
        """Send one request; its answer arrives in the returned `Pending.future`, which
        fails with `WsAckTimeoutError` when no ack came within `timeout_s` (see `expire`)."""
        token, req_id = self.ticket(method)
        return await self.send(method, req_id, render(token, req_id), cl_ord_ids, timeout_s)

    def ticket(self, method: str) -> tuple[str, int]:
        """The token and a fresh `req_id` to render a request with; `RequestNotSentError`
        when the private connection is not up (the caller goes over REST)."""
        token = self._token()
        if token is None:
            raise RequestNotSentError("private websocket not connected", endpoint=f"ws:{method}")
        return token, self._next_req_id()

    async def send(
        self,
        method: str,
        req_id: int,
        text: str,
        cl_ord_ids: tuple[str, ...] = (),
        timeout_s: float | None = None,
    ) -> Pending:
        """Send one request rendered with `ticket()`'s token and `req_id` (see `request`)."""
        pending = self._register(method, req_id, cl_ord_ids, timeout_s)
        try:
            sent = await self._send(text)
        except BaseException:
            # The frame may have been partly written: its outcome is unknown (callers treat
            # WsConnectionLostError as ambiguous); the entry stays for a late ack.
            self._fail(pending, "send failed")
            raise
        if not sent:
            del self._pending[req_id]
            raise RequestNotSentError("private websocket not connected", endpoint=f"ws:{method}")
        return pending

    def writable_now(self) -> bool:
        """Can `send_now` write a request at once (the private connection up and writable)?"""
        write = self._write_now
        return write is not None and write(None)

    def send_now(
        self,
        method: str,
        req_id: int,
        text: str,
        cl_ord_ids: tuple[str, ...] = (),
        timeout_s: float | None = None,
    ) -> Pending | None:
        """`send` without a coroutine: the frame is on the socket when this returns; None
        when it cannot be written so (nothing written: use `send`). A failed write raises
        as `send`'s does (`WsConnectionLostError`: outcome unknown)."""
        write = self._write_now
        if write is None:
            return None
        pending = self._register(method, req_id, cl_ord_ids, timeout_s)
        try:
            written = write(text)
        except BaseException:
            self._fail(pending, "send failed")  # as in `send`: the entry stays
            raise
        if not written:
            del self._pending[req_id]
            return None
        return pending

    def _register(
        self, method: str, req_id: int, cl_ord_ids: tuple[str, ...], timeout_s: float | None
    ) -> Pending:
        future = asyncio.get_running_loop().create_future()
        expires = 0
        if timeout_s is not None:
            expires = self._clock.monotonic_ns() + int(timeout_s * 1e9)
        pending = Pending(req_id, method, future, cl_ord_ids, expires)
        waiting = self._pending
        waiting[req_id] = pending
        if len(waiting) > _MAX_PENDING:
            self._fail(waiting.pop(next(iter(waiting))), "forgotten unanswered")
        return pending

    # ---- convenience senders (tests, tools) ------------------------------------------------

    async def add_order(self, order: PlaceOrder) -> Pending:
        now = self._clock.now_ns()
        return await self.request(
            "add_order",
            lambda token, rid: encode_add_order(order, token=token, now_ns=now, req_id=rid),
            (order.cl_ord_id,),
        )

    async def batch_add(self, orders: Sequence[PlaceOrder]) -> Pending:
        now = self._clock.now_ns()
        return await self.request(
            "batch_add",
            lambda token, rid: encode_batch_add(orders, token=token, now_ns=now, req_id=rid),
            tuple(o.cl_ord_id for o in orders),
        )

    async def cancel_order(self, cancel: CancelOrder) -> Pending:
        order_ids = [cancel.order_id] if cancel.order_id else []
        cl_ord_ids = [cancel.cl_ord_id] if cancel.cl_ord_id else []
        return await self.request(
            "cancel_order",
            lambda token, rid: encode_cancel_order(
                token=token, order_ids=order_ids, cl_ord_ids=cl_ord_ids, req_id=rid
            ),
        )

    async def cancel_all(self) -> Pending:
        return await self.request(
            "cancel_all", lambda token, rid: encode_cancel_all(token=token, req_id=rid)
        )

    async def cancel_all_orders_after(self, timeout_s: int) -> Pending:
        return await self.request(
            "cancel_all_orders_after",
            lambda token, rid: encode_cancel_all_orders_after(timeout_s, token=token, req_id=rid),
        )

    # ---- inbound (the reader; synchronous) --------------------------------------------------

    def on_response(self, resp: MethodResponse) -> list[Event]:
        pending = self.resolve(resp)
        return [] if pending is None else accepted(pending, resp)

    def resolve(self, resp: MethodResponse) -> Pending | None:
        """Hand `resp` to its waiter (`woke` says one was waiting); the request, or None
        when no request of ours has that req_id. Its `accepted` events may be built later
        (after the woken caller ran), as long as it is before the next frame's events."""
        pending = self._pending.pop(resp.req_id, None) if resp.req_id is not None else None
        if pending is not None and not pending.future.done():
            pending.future.set_result(resp)
            self.woke = True
        return pending

    def on_report(self, report: ExecutionReport) -> None:
        """An executions report (snapshot or update): settles a watched order's outcome."""
        future = self._watched.get(report.cl_ord_id or "")
        if future is not None and not future.done() and report.order_id:
            future.set_result(report.order_id)

    def watch(self, cl_ord_id: str) -> asyncio.Future[str]:
        """A future resolved with the order's txid when an executions report names it."""
        future = self._watched.get(cl_ord_id)
        if future is None or future.done():
            future = self._watched[cl_ord_id] = asyncio.get_running_loop().create_future()
        return future

    def unwatch(self, cl_ord_id: str) -> None:
        future = self._watched.pop(cl_ord_id, None)
        if future is not None:
            future.cancel()

    @property
    def watching(self) -> bool:
        return bool(self._watched)

    def expire(self, now_mono_ns: int) -> None:
        """Fail the requests whose ack is overdue (the session's watchdog calls this twice
        a heartbeat: no timer per request on the hot path). Their entries stay for a late
        ack, which still reports an accepted order."""
        for pending in self._pending.values():
            due = pending.expires_ns and now_mono_ns >= pending.expires_ns
            if due and not pending.future.done():
                late = WsAckTimeoutError("no ack in time", endpoint=f"ws:{pending.method}")
                pending.future.set_exception(late)
                pending.future.exception()

    def on_disconnect(self) -> list[Event]:
        """Requests sent but never acknowledged may or may not have executed."""
        if not self._pending:
            return []
        methods = sorted({p.method for p in self._pending.values()})
        for pending in self._pending.values():
            self._fail(pending, "private websocket closed before the ack")
        self._pending.clear()
        return [
            ReconcileRequested(
                f"unacknowledged {','.join(methods)} at disconnect", self._clock.now_ns()
            )
        ]

    @staticmethod
    def _fail(pending: Pending, why: str) -> None:
        if not pending.future.done():
            pending.future.set_exception(
                WsConnectionLostError(why, endpoint=f"ws:{pending.method}")
            )
            pending.future.exception()  # retrieved: nobody may be waiting any more

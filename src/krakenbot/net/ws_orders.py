"""Orders over the authenticated private WebSocket (Kraken WS v2 trading methods).

Owns: `WsOrderPath` — the WebSocket half of one order attempt (`add_order`, `amend_order`,
`cancel_order`, `cancel_all_orders_after`): the trading-counter charge on the shared rate
model (one model per pair, whatever the transport: the REST core's `reserve_trade`), the
request with its `deadline` and `req_id` (net/ws_trading.py), Kraken's answer mapped through
the one error table (kraken/errors.py) exactly as a REST answer would be, and the breaker
fed the same way. The loop and its exactly-once rules live in net/order_sender.py and are
the same on both paths: every method answers None when the request could not be sent (no
healthy private connection, or the token refused), and the loop carries on over REST.
An ack that never comes (the socket closed after the send, or nothing within the deadline
plus grace) raises a `TransportError`: ambiguous, so the loop looks the order up by its
`cl_ord_id` after the deadline — early when the order's own executions report (snapshot or
update) names it — and never sends it again unless Kraken provably has no such order.
Imports: stdlib, clock, errors, domain, kraken and net only.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from krakenbot.clock import Clock
from krakenbot.errors import KrakenbotError
from krakenbot.kraken.errors import InvalidTokenError, TradingRateLimitedError, to_exception
from krakenbot.kraken.methods import Priority
from krakenbot.kraken.ratelimit import ADD_COST
from krakenbot.kraken.rest_codec import CancelAfterResult, CancelResult
from krakenbot.kraken.rest_orders import (
    AddOrderResult,
    AmendRequest,
    OrderRequest,
    new_add_order_result,
)
from krakenbot.kraken.ws_codec import encode_cancel_all_orders_after, encode_cancel_order
from krakenbot.kraken.ws_messages import MethodResponse
from krakenbot.kraken.ws_requests import encode_amend, encode_order
from krakenbot.net.http import RequestNotSentError
from krakenbot.net.order_attempt import AcceptedUnreadError, Sending
from krakenbot.net.rest_config import TradeCharge
from krakenbot.net.ws_trading import Pending, Render, TradingRequests

_NS = 1_000_000_000
_EMPTY_ERROR = "EGeneral:Internal error:ack without an error text"


class TradeBudget(Protocol):
    """The REST client's shared rate model and breaker, as the WS path needs them."""

    def reserve_trade_now(self, endpoint: str, trade: TradeCharge) -> float: ...

    async def reserve_trade(
        self,
        endpoint: str,
        trade: TradeCharge,
        *,
        priority: Priority,
        cl_ord_id: str | None = None,
    ) -> None: ...

    async def trade_limited(self, pair: str) -> None: ...

    def record(self, exc: BaseException | None) -> None: ...


class WsOrderPath:
    """Implements `net.order_attempt.OrderTransport` over a session's `TradingRequests`."""

    def __init__(
        self,
        trading: TradingRequests,
        budget: TradeBudget,
        clock: Clock,
        *,
        ack_grace_s: float = 1.0,
        call_timeout_s: float = 10.0,
    ) -> None:
        self._trading = trading
        self._budget = budget
        self._clock = clock
        self._grace_s = ack_grace_s
        self._call_timeout_s = call_timeout_s  # requests without a deadline (cancels)
        self.sent = 0  # requests handed to the socket (for status and tests)
        self._add_charges: dict[str, TradeCharge] = {}  # one add_order's charge, by pair
        # First attempts `write_add` wrote (or whose write failed), by cl_ord_id, until `add`
        # goes on with them.
        self._written: dict[str, Pending | KrakenbotError] = {}

    @property
    def usable(self) -> bool:
        return self._trading.connected

    def _charge(self, pair: str) -> TradeCharge:
        charge = self._add_charges.get(pair)
        if charge is None:
            charge = self._add_charges[pair] = TradeCharge(pair, ADD_COST)
        return charge

    def write_add(self, req: OrderRequest, pair: str, window_ns: int, sending: Sending) -> bool:
        """`add`'s request written to the socket now, without a coroutine, when nothing has
        to wait: the private connection up and writable at once (net/ws_write.py) and the
        pair's trading counter with room (charged then). True: written (or its write failed:
        fate unknown); `add` for the same order then goes on from there (the ack), with the
        same outcomes. False: nothing written, nothing charged: use `add` alone."""
        trading, cl_ord_id = self._trading, req.cl_ord_id
        token = trading.token()
        if token is None or not trading.writable_now():
            return False
        if self._budget.reserve_trade_now("ws:add_order", self._charge(pair)) > 0:
            return False  # the rate limiter would make it wait: `add` does
        req_id = trading.next_req_id()
        now = self._clock.now_ns()
        deadline = sending.deadline_ns = now + window_ns
        text = encode_order(req, pair, token=token, req_id=req_id, deadline_ns=deadline, now_ns=now)
        try:
            pending = trading.send_now(
                "add_order", req_id, text, (cl_ord_id,), window_ns / _NS + self._grace_s
            )
        except KrakenbotError as exc:  # raised by `add`, as its own write's failure is
            self._written[cl_ord_id] = exc
            return True
        if pending is None:  # not reached: `writable_now` said yes just before
            return False
        sending.wire_ns, sending.transport = self._clock.now_ns(), "websocket"
        self.sent += 1
        self._written[cl_ord_id] = pending
        return True

    async def add(
        self, req: OrderRequest, pair: str, window_ns: int, sending: Sending
    ) -> AddOrderResult | None:
        # The lean path (issue 15): every order passes here between the order manager's
        # persisted row and the bytes on the socket, so it is one function — no closure, no
        # generic `_call` — with the same steps and the same outcomes as the other methods.
        trading, budget, cl_ord_id = self._trading, self._budget, req.cl_ord_id
        pending = self._written.pop(cl_ord_id, None) if self._written else None
        if isinstance(pending, KrakenbotError):  # `write_add`'s write failed: as below
            budget.record(pending)
            raise pending
        if pending is None:
            token = trading.token()
            if token is None:  # not connected: not charged either
                return None
            charge = self._charge(pair)
            if budget.reserve_trade_now("ws:add_order", charge) > 0:  # no room now: wait
                await budget.reserve_trade(
                    "ws:add_order", charge, priority=Priority.ORDER, cl_ord_id=cl_ord_id
                )
                token = trading.token()  # the connection may have changed while it waited
                if token is None:
                    return None
            try:
                req_id = trading.next_req_id()
                now = self._clock.now_ns()
                deadline = sending.deadline_ns = now + window_ns
                text = encode_order(
                    req, pair, token=token, req_id=req_id, deadline_ns=deadline, now_ns=now
                )
                pending = await trading.send(
                    "add_order", req_id, text, (cl_ord_id,), window_ns / _NS + self._grace_s
                )
            except RequestNotSentError:
                return None
            except KrakenbotError as exc:  # the write itself failed: sent or not, unknown
                budget.record(exc)
                raise
            sending.wire_ns, sending.transport = self._clock.now_ns(), "websocket"
            self.sent += 1
        try:
            resp = await pending.future
        except KrakenbotError as exc:  # lost or unanswered: the caller's ambiguity rules
            budget.record(exc)
            raise
        if resp.success:
            budget.record(None)
            orders = resp.orders
            if req.validate:
                return AddOrderResult((), "", None, cl_ord_id)
            if not orders or not orders[0].order_id:  # accepted, no order named: look it up
                raise AcceptedUnreadError("add_order ack without an order_id", cl_ord_id=cl_ord_id)
            return new_add_order_result((orders[0].order_id,), "", None, cl_ord_id, False, True)
        await self._refused(resp, "add_order", pair, cl_ord_id)
        return None

    async def amend(self, req: AmendRequest, trade: TradeCharge, window_ns: int) -> str | None:
        if not self.usable:
            return None
        await self._budget.reserve_trade(
            "ws:amend_order", trade, priority=Priority.ORDER, cl_ord_id=req.cl_ord_id
        )
        deadline = self._clock.now_ns() + window_ns

        def render(token: str, req_id: int) -> str:
            return encode_amend(req, token=token, req_id=req_id, deadline_ns=deadline)

        resp = await self._call("amend_order", render, (), window_ns / _NS)
        if resp is None:
            return None
        if resp.success:
            self._budget.record(None)
            return resp.amend_id or ""
        await self._refused(resp, "amend_order", trade.pair, req.cl_ord_id)
        return None

    async def cancel(
        self, txid: str | None, cl_ord_id: str | None, trade: TradeCharge | None
    ) -> CancelResult | None:
        if not self.usable:
            return None
        if trade is not None:
            await self._budget.reserve_trade(
                "ws:cancel_order", trade, priority=Priority.CANCEL, cl_ord_id=cl_ord_id
            )
        # Exactly one reference, Kraken's own txid first (as on REST); lists on WS.
        order_ids = [txid] if txid else []
        cl_ord_ids = [cl_ord_id] if cl_ord_id and not txid else []

        def render(token: str, req_id: int) -> str:
            return encode_cancel_order(
                token=token, order_ids=order_ids, cl_ord_ids=cl_ord_ids, req_id=req_id
            )

        resp = await self._call("cancel_order", render, (), self._call_timeout_s)
        if resp is None:
            return None
        if resp.success:
            self._budget.record(None)
            return CancelResult(1)
        pair = trade.pair if trade is not None else ""
        await self._refused(resp, "cancel_order", pair, cl_ord_id)
        return None

    async def cancel_after(self, timeout_s: int) -> CancelAfterResult | None:
        if not self.usable:
            return None

        def render(token: str, req_id: int) -> str:
            return encode_cancel_all_orders_after(timeout_s, token=token, req_id=req_id)

        resp = await self._call("cancel_all_orders_after", render, (), self._call_timeout_s)
        if resp is None:
            return None
        if resp.success:
            self._budget.record(None)
            # Disarmed: Kraken may answer triggerTime "0" or omit it (API.md 7.6; ksdk).
            trigger = resp.trigger_time if resp.trigger_time not in (None, "0") else ""
            return CancelAfterResult(resp.current_time or "", trigger or "")
        await self._refused(resp, "cancel_all_orders_after", "", None)
        return None

    async def sighted(self, cl_ord_id: str, wait_s: float) -> str | None:
        future = self._trading.watch(cl_ord_id)
        timer = asyncio.ensure_future(self._clock.sleep(max(0.0, wait_s)))
        try:
            await asyncio.wait((future, timer), return_when=asyncio.FIRST_COMPLETED)
            return future.result() if future.done() and not future.cancelled() else None
        finally:
            timer.cancel()
            self._trading.unwatch(cl_ord_id)

    # ------------------------------------------------------------------ internals
    async def _call(
        self,
        method: str,
        render: Render,
        cl_ord_ids: tuple[str, ...],
        timeout_s: float,
        sending: Sending | None = None,
    ) -> MethodResponse | None:
        """Send and wait for the ack; None when it provably did not leave. `sending` (an
        AddOrder attempt) learns when the frame was written to the socket (the metrics)."""
        try:
            pending: Pending = await self._trading.request(
                method, render, cl_ord_ids, timeout_s=timeout_s + self._grace_s
            )
        except RequestNotSentError:
            return None
        except KrakenbotError as exc:  # the write itself failed: sent or not, unknown
            self._budget.record(exc)
            raise
        if sending is not None:
            sending.wire_ns, sending.transport = self._clock.now_ns(), "websocket"
        self.sent += 1
        try:
            return await pending.future
        except KrakenbotError as exc:  # lost or unanswered: the caller's ambiguity rules
            self._budget.record(exc)
            raise

    async def _refused(
        self, resp: MethodResponse, method: str, pair: str, cl_ord_id: str | None
    ) -> None:
        """Raise Kraken's refusal as the exception the REST path would raise for it; return
        (the caller then uses REST) when only the connection's token was refused (the
        router drops that connection: the next one fetches a fresh token)."""
        exc = to_exception(
            [resp.error or _EMPTY_ERROR], endpoint=f"ws:{method}", cl_ord_id=cl_ord_id
        )
        if isinstance(exc, InvalidTokenError):
            return
        if isinstance(exc, TradingRateLimitedError) and pair:
            await self._budget.trade_limited(pair)
        self._budget.record(exc)
        raise exc

"""Exactly-once order placement and idempotent cancels on top of the REST core.

Owns: the AddOrder send → (ambiguous?) → wait out the deadline → look up by cl_ord_id in
open and closed orders → re-send only if provably absent loop, the cancel retry loop, and
AmendOrder with its trading-counter charge (+1, plus a penalty by the order's age since it
was placed or last amended: docs guides/spot-ratelimits).
Must not import: anything above `net` (ports: `OrderTimings`, told when each AddOrder went on
the wire, over REST or the private WebSocket, and how long Kraken took to answer it). Used
through RestClient's methods.
Why the deadline: AddOrder carries `deadline` (docs: AddOrder, RFC3339, now+2…60 s); after
it Kraken's engine refuses the request, so once it has passed an order that is not in open
or closed orders can never appear later, and a re-send cannot create a twin.
"""

from __future__ import annotations

import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from krakenbot.clock import Clock
from krakenbot.errors import (
    AmbiguousOrderError,
    KrakenbotError,
    RateLimitedError,
    RejectedError,
    TransientError,
    TransportError,
)
from krakenbot.kraken import rest_codec as codec
from krakenbot.kraken import rest_orders as orders
from krakenbot.kraken.errors import (
    RestRateLimitedError,
    ThrottledError,
    TradingRateLimitedError,
    UnknownOrderError,
    outcome_unknown,
)
from krakenbot.kraken.methods import Priority
from krakenbot.kraken.ratelimit import ADD_COST, amend_cost, cancel_cost
from krakenbot.kraken.signing import ParamValue
from krakenbot.net.http import RequestNotSentError
from krakenbot.net.order_attempt import AcceptedUnreadError, OrderPath, Sending
from krakenbot.net.rest_core import RestCore, TradeCharge
from krakenbot.ports import OrderTimings
from krakenbot.resilience.backoff import Backoff
from krakenbot.resilience.breaker import CircuitOpenError

logger = logging.getLogger(__name__)

_MAX_REMEMBERED = 10_000

OpenLookup = Callable[[str], Awaitable[tuple[orders.OrderInfo, ...]]]
ClosedLookup = Callable[[str], Awaitable[tuple[orders.OrderInfo, ...]]]
RejectionNote = Callable[[str, RejectedError], RejectedError]


@dataclass(slots=True)
class Placed:
    pair: str
    created_ns: int


def is_ambiguous(exc: KrakenbotError) -> bool:
    """Might Kraken have executed the order request that failed with `exc`?"""
    if isinstance(exc, RequestNotSentError):
        return False
    if isinstance(exc, TransportError):
        return True
    return exc.kraken_error is not None and outcome_unknown(exc.kraken_error)


class OrderSender:
    def __init__(
        self,
        core: RestCore,
        *,
        clock: Clock,
        rng: random.Random,
        backoff: Backoff,
        find_open: OpenLookup,
        find_closed: ClosedLookup,
        note_rejection: RejectionNote,
        reset_rejection: Callable[[str], None],
        pair_key: Callable[[str], str],
    ) -> None:
        self._core = core
        self._clock = clock
        self._rng = rng
        self._backoff = backoff
        self._find_open = find_open
        self._find_closed = find_closed
        self._note_rejection = note_rejection
        self._reset_rejection = reset_rejection
        self._pair_key = pair_key
        # By cl_ord_id and txid: order ages for penalties. Ordered: the oldest goes first in
        # O(1) (a plain dict's next(iter()) walks the holes earlier pops left: O(n)).
        self._placed: OrderedDict[str, Placed] = OrderedDict()
        self._add_keys: dict[str, str] = {}  # "AddOrder <pair>" (the rejections' key), by pair
        self._add_charges: dict[str, TradeCharge] = {}  # one AddOrder's charge, by pair
        self.timings: OrderTimings | None = None  # metrics: on the wire, acknowledged

    def _remember(self, ids: tuple[str, ...], pair: str, created_ns: int) -> None:
        placed, remembered = Placed(pair, created_ns), self._placed  # one record per order
        for ident in ids:
            remembered[ident] = placed
        while len(remembered) > _MAX_REMEMBERED:
            remembered.popitem(last=False)

    async def add_order(
        self,
        req: orders.OrderRequest,
        *,
        reducing: bool = False,
        via: OrderPath | None = None,
        first: Sending | None = None,
    ) -> orders.AddOrderResult:
        """Place one order exactly once; each attempt goes over `via` (the private
        WebSocket) when it can send, else over REST, under the same rules. `first`: the
        first attempt was written already (`RestClient.add_order_now`)."""
        cfg, breaker, clock = self._core.config, self._core.breaker, self._clock
        pair = self._pair_key(req.pair)
        not_sent = None  # the pauses before re-sending an order that provably did not leave
        window_ns = int((req.deadline_s or cfg.order_deadline_s) * 1e9)
        sends = 0
        wired = False
        while True:
            if first is not None:  # written already; the breaker was looked at then
                sending, first = first, None
            else:
                # An order that reduces a position is never held back (nor takes the probe).
                if not reducing and not breaker.allow():
                    raise CircuitOpenError(
                        "circuit breaker is open: new orders are refused",
                        endpoint="AddOrder",
                        cl_ord_id=req.cl_ord_id,
                    )
                # The deadline is fixed when the request is rendered (after any rate wait).
                sending = Sending(clock.now_ns() + window_ns)
            sends += 1
            try:
                result = None if via is None else await via.add(req, pair, window_ns, sending)
                if result is None:
                    result = await self._rest_add(req, pair, window_ns, sending)
                if self.timings is not None:
                    self._acked(sending)
            except AcceptedUnreadError as exc:
                self._acked(sending)
                # Kraken said yes (no error) in words we cannot read: the order exists, so
                # it is looked up, never sent again and never called "not placed".
                return await self._accepted_unread(req, pair, sending.deadline_ns, exc, via)
            except RejectedError as exc:
                raise self._note_rejection(f"AddOrder {pair}", exc) from exc
            except CircuitOpenError:
                raise
            except TransientError as exc:
                if req.validate or not is_ambiguous(exc):
                    # Provably not executed: rate limits wait in the model, a connection that
                    # never opened is retried after a pause; everything else goes up.
                    retry = isinstance(exc, RateLimitedError | RequestNotSentError)
                    if not_sent is None:
                        not_sent = self._backoff.delays(self._rng)
                    delay = next(not_sent, None) if retry and sends < cfg.max_order_sends else None
                    if delay is None:
                        raise
                    if isinstance(exc, ThrottledError) and exc.retry_at_s is not None:
                        delay = max(delay, exc.retry_at_s - self._clock.now_ns() / 1e9)
                    if not isinstance(exc, RestRateLimitedError | TradingRateLimitedError):
                        # (the rate model already makes the next send wait for those two)
                        await self._clock.sleep(delay)
                    continue
                found = await self._resolve(req.cl_ord_id, sending.deadline_ns, exc, via)
                if found is not None:
                    self._remember((req.cl_ord_id, found[0]), pair, found[1])
                    return orders.AddOrderResult(
                        (found[0],), "", None, req.cl_ord_id, recovered=True
                    )
                if sends >= cfg.max_order_sends:
                    raise TransientError(
                        f"order not placed: {sends} sends failed and Kraken has no such order",
                        endpoint="AddOrder",
                        cl_ord_id=req.cl_ord_id,
                    ) from exc
                logger.warning(
                    "order provably absent after an ambiguous send; sending it again",
                    extra={"cl_ord_id": req.cl_ord_id, "cause": str(exc)},
                )
                continue
            finally:
                if sending.wire_ns and not wired and self.timings is not None:
                    wired = True  # the first request that left: where the order's time ends
                    self.timings.on_wire(req.cl_ord_id, sending.wire_ns)
            key = self._add_keys.get(pair)
            if key is None:
                key = self._add_keys[pair] = f"AddOrder {pair}"
            self._reset_rejection(key)
            self._remember((req.cl_ord_id, *result.txids), pair, clock.now_ns())
            return result

    def _acked(self, sending: Sending) -> None:
        """Kraken answered the attempt with no error: tell the metrics how long it took."""
        if self.timings is not None and sending.wire_ns:
            seconds = max(0, self._clock.now_ns() - sending.wire_ns) / 1e9
            self.timings.acked(sending.transport, seconds)

    async def _rest_add(
        self, req: orders.OrderRequest, pair: str, window_ns: int, sending: Sending
    ) -> orders.AddOrderResult:
        def params_at(now_ns: int) -> str:
            # Signed now: the deadline counts from here, and the request goes on the wire.
            sending.deadline_ns = now_ns + window_ns
            sending.wire_ns, sending.transport = now_ns, "rest"
            return orders.add_order_form(req, sending.deadline_ns)

        charge = self._add_charges.get(pair)
        if charge is None:
            charge = self._add_charges[pair] = TradeCharge(pair, ADD_COST)
        env = await self._core.private("AddOrder", params_at, cl_ord_id=req.cl_ord_id, trade=charge)
        try:
            return orders.parse_add_order(env.result, req.cl_ord_id)
        except codec.CodecError as exc:
            raise AcceptedUnreadError(str(exc), cl_ord_id=req.cl_ord_id) from exc

    async def _accepted_unread(
        self,
        req: orders.OrderRequest,
        pair: str,
        deadline_ns: int,
        exc: AcceptedUnreadError,
        via: OrderPath | None,
    ) -> orders.AddOrderResult:
        found = await self._resolve(req.cl_ord_id, deadline_ns, exc, via)
        if found is None:  # not listed (yet): reconciliation decides, by its cl_ord_id
            raise AmbiguousOrderError(
                "order accepted by Kraken but its answer was unreadable and it is not listed",
                endpoint="AddOrder",
                cl_ord_id=req.cl_ord_id,
            ) from exc
        self._remember((req.cl_ord_id, found[0]), pair, found[1])
        return orders.AddOrderResult((found[0],), "", None, req.cl_ord_id, recovered=True)

    async def _resolve(
        self, cl_ord_id: str, deadline_ns: int, cause: KrakenbotError, via: OrderPath | None
    ) -> tuple[str, int] | None:
        """(txid, opened_ns) of the order with `cl_ord_id` if Kraken has it; None only when
        provably absent. Waits out the deadline (plus grace), or less when the order's own
        executions report names it first (`via.sighted`), then asks REST."""
        grace_ns = int(self._core.config.deadline_grace_s * 1e9)
        wait_s = (deadline_ns + grace_ns - self._clock.now_ns()) / 1e9
        logger.warning(
            "order outcome unknown; looking it up after its deadline",
            extra={"cl_ord_id": cl_ord_id, "cause": str(cause), "wait_s": wait_s},
        )
        if via is not None:
            txid = await via.sighted(cl_ord_id, wait_s)
            if txid is not None:
                return txid, self._clock.now_ns()
        elif wait_s > 0:
            await self._clock.sleep(wait_s)
        attempts = Backoff(
            base_s=self._backoff.base_s,
            cap_s=self._backoff.cap_s,
            max_attempts=self._core.config.lookup_attempts,
        ).delays(self._rng)
        while True:
            try:
                opened = await self._find_open(cl_ord_id)
                if opened:
                    return opened[0].txid, opened[0].open_ns
                closed = await self._find_closed(cl_ord_id)
                return (closed[0].txid, closed[0].open_ns) if closed else None
            except TransientError as exc:
                delay = next(attempts, None)
                if delay is None:
                    raise AmbiguousOrderError(
                        "order state unknown: the send was ambiguous and lookups keep failing",
                        endpoint="AddOrder",
                        cl_ord_id=cl_ord_id,
                    ) from exc
                await self._clock.sleep(delay)

    async def amend(
        self, req: orders.AmendRequest, *, reducing: bool = False, via: OrderPath | None = None
    ) -> str:
        """One AmendOrder; returns Kraken's amend id. Not retried: an amend sets absolute
        values, so the caller sends it again if the order still differs, and an unknown
        outcome is settled by reading the order (reconciliation)."""
        if not reducing and not self._core.breaker.allow():
            raise CircuitOpenError(
                "circuit breaker is open: amends of entries are refused",
                endpoint="AmendOrder",
                cl_ord_id=req.cl_ord_id,
            )
        pair = self._pair_key(req.pair)
        ident = req.txid if req.txid is not None else req.cl_ord_id
        placed = self._placed.get(ident) if ident is not None else None
        now = self._clock.now_ns()
        age_s = None if placed is None else (now - placed.created_ns) / 1e9
        window_ns = int((req.deadline_s or self._core.config.order_deadline_s) * 1e9)
        trade = TradeCharge(pair, amend_cost(age_s))
        try:
            amend_id = None if via is None else await via.amend(req, trade, window_ns)
            if amend_id is None:
                env = await self._core.private(
                    "AmendOrder",
                    lambda at_ns: orders.amend_order_params(req, at_ns + window_ns),
                    cl_ord_id=req.cl_ord_id,
                    trade=trade,
                )
                amend_id = orders.parse_amend_order(env.result)
        except RejectedError as exc:
            raise self._note_rejection(f"AmendOrder {pair}", exc) from exc
        self._reset_rejection(f"AmendOrder {pair}")
        # Kraken ages an order from its last amend for the next amend / cancel penalty.
        if placed is not None:
            placed.created_ns = self._clock.now_ns()
        return amend_id

    async def cancel(
        self, *, txid: str | None, cl_ord_id: str | None, via: OrderPath | None = None
    ) -> codec.CancelResult:
        """Cancel one order; an order that is already gone counts as cancelled (count 0)."""
        if (txid is None) == (cl_ord_id is None):
            raise ValueError("cancel by exactly one of txid or cl_ord_id")
        ident = txid if txid is not None else cl_ord_id
        assert ident is not None
        placed = self._placed.get(ident)
        trade = None
        if placed is not None:
            age_s = (self._clock.now_ns() - placed.created_ns) / 1e9
            trade = TradeCharge(placed.pair, cancel_cost(age_s), cancel=True)
        params: dict[str, ParamValue] = {"txid": txid} if txid else {"cl_ord_id": ident}

        async def over_ws() -> codec.CancelResult | None:
            return None if via is None else await via.cancel(txid, cl_ord_id, trade)

        return await self._idempotent(
            "CancelOrder", params, cl_ord_id=cl_ord_id, trade=trade, via=over_ws
        )

    async def _idempotent(
        self,
        method: str,
        params: dict[str, ParamValue],
        *,
        cl_ord_id: str | None = None,
        trade: TradeCharge | None = None,
        via: Callable[[], Awaitable[codec.CancelResult | None]] | None = None,
    ) -> codec.CancelResult:
        delays = self._backoff.delays(self._rng)
        while True:
            try:
                done = None if via is None else await via()
                if done is not None:
                    return done
                env = await self._core.private(
                    method, params, cl_ord_id=cl_ord_id, priority=Priority.CANCEL, trade=trade
                )
                return codec.parse_cancel(env.result)
            except UnknownOrderError:
                return codec.CancelResult(0)
            except RejectedError as exc:
                raise self._note_rejection(method, exc) from exc
            except TransientError:
                # Cancels are idempotent: repeating one is always safe (breaker or not).
                delay = next(delays, None)
                if delay is None:
                    raise
                await self._clock.sleep(delay)

    async def cancel_all(self) -> codec.CancelResult:
        return await self._idempotent("CancelAll", {})

    async def cancel_all_after(
        self, timeout_s: int, *, via: OrderPath | None = None
    ) -> codec.CancelAfterResult:
        if not 0 <= timeout_s < 86400:
            raise ValueError("CancelAllOrdersAfter timeout must be within 0…86399 s")
        delays = self._backoff.delays(self._rng)
        while True:
            try:
                done = None if via is None else await via.cancel_after(timeout_s)
                if done is not None:
                    return done
                env = await self._core.private(
                    "CancelAllOrdersAfter", {"timeout": timeout_s}, priority=Priority.CANCEL
                )
                return codec.parse_cancel_after(env.result)
            except RejectedError as exc:
                raise self._note_rejection("CancelAllOrdersAfter", exc) from exc
            except TransientError:
                delay = next(delays, None)
                if delay is None:
                    raise
                await self._clock.sleep(delay)

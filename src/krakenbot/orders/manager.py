"""The order manager: risk gate → persist → send, exactly once; venue events → ledger.

Owns: `OrderManager` — the ONLY code that hands orders and cancels to a `Venue`. Every item
(entries, exits, cancels, shutdown and emergency cancels) passes `RiskGate.check` first and
every `Denied` is written to `events`. An approved order is committed to the ledger with its
`cl_ord_id` before the request leaves (persist-then-send); the send runs as its own task so a
slow or ambiguous request never blocks the engine, and its outcome comes back as an event
through `deliver`. Venue events are applied with the FSM (`orders.fsm`) and persisted; each
fill is inserted once (`Repository.insert_fill`, UNIQUE trade id) before the in-memory
order is trusted with it.

A ledger that cannot be written never blocks a cancel: cancels (which only reduce risk) are
handed to the venue first and their `cancel_requested` flag is recorded afterwards, best
effort, and not at all while `ledger_failing()` says the ledger is down. A fill whose row
could not be inserted is taken back out of the in-memory order (the next report or the
reconciliation records it); an order-row update that failed is retried by `housekeeping`.

Ambiguity is never resolved by re-sending: an `AmbiguousOrderError` from the venue leaves the
order pending and asks for reconciliation (lookup by cl_ord_id / txid); a `TransientError`
means provably not placed and becomes a local rejection (marked `local` when our own circuit
breaker refused it, so the breaker policy does not count it as an exchange failure).
Imports: domain, errors, orders, risk, ports, resilience (`CircuitOpenError`). Must not
import: net, store, engine, app.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from krakenbot.clock import Clock
from krakenbot.domain.commands import (
    AmendIntent,
    CancelIntent,
    CancelOrder,
    OrderIntent,
    PlaceOrder,
)
from krakenbot.domain.enums import OrderStatus, TimeInForce
from krakenbot.domain.events import Event, ExecutionReport, Fill
from krakenbot.domain.order import Order
from krakenbot.orders import bulk_cancel, sends
from krakenbot.orders.clordid import DEFAULT_PREFIX, new_cl_ord_id
from krakenbot.orders.fsm import OrderEvent, order_from_intent, place_command, request_cancel
from krakenbot.orders.registry import OrderRegistry
from krakenbot.ports import Repository, Venue
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Decision, Denied
from krakenbot.risk.gate import RiskGate

logger = logging.getLogger(__name__)

_NS = 1_000_000_000
Deliver = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ManagerConfig:
    prefix: str = DEFAULT_PREFIX
    order_deadline_s: float | None = None  # Kraken `deadline` for AddOrder; None: venue default
    order_timeout_s: float = 900.0  # any unfilled working order older than this is cancelled
    cancel_retry_s: float = 10.0  # a cancel not confirmed by then is sent again (idempotent)
    ack_timeout_s: float = 30.0  # a pending_new order unacknowledged this long → reconcile
    # Entries that would rest are sent GTD, expiring this long after Kraken accepts them
    # (the dead man's switch timeout: an entry never outlives what the switch allows).
    entry_expire_s: float | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """What one venue event did: the order before and after, and the fill it added."""

    before: Order
    after: Order
    new_fill: Fill | None


class OrderManager:
    def __init__(
        self,
        *,
        venue: Venue,
        repo: Repository,
        gate: RiskGate,
        registry: OrderRegistry,
        clock: Clock,
        rng: random.Random,
        deliver: Deliver,
        config: ManagerConfig | None = None,
        on_fatal: Callable[[BaseException], None] | None = None,
        ledger_failing: Callable[[], bool] | None = None,
    ) -> None:
        self.venue = venue
        self.repo = repo
        self.gate = gate
        self.registry = registry
        self.config = config or ManagerConfig()
        self._clock = clock
        self._rng = rng
        self._deliver = deliver
        self.on_fatal = on_fatal
        self.ledger_failing = ledger_failing or (lambda: False)
        # Orders whose row update failed: cl_ord_id -> the version the ledger holds.
        self._unpersisted: dict[str, Order] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sending: set[str] = set()  # persisted orders whose AddOrder has not returned
        self._cancel_sent_ns: dict[str, int] = {}
        self.denials = 0
        self.orders_sent = 0
        self.last_denial: Denied | None = None

    # ------------------------------------------------------------------ commands down
    async def submit(self, intent: OrderIntent, ctx: RiskContext) -> Decision:
        """Gate, persist (committed), then send in the background. Returns the verdict."""
        decision = self.gate.check(intent, ctx)
        if isinstance(decision, Denied):
            await self._denied(decision, ctx.now_ns)
            return decision
        now = ctx.now_ns
        cl_ord_id = new_cl_ord_id(now, self._rng, self.config.prefix)
        while self.registry.get(cl_ord_id) is not None:  # same ms and same random digits
            cl_ord_id = new_cl_ord_id(now, self._rng, self.config.prefix)
        order = order_from_intent(intent, cl_ord_id, now)
        expire_s = self.config.entry_expire_s
        if intent.reduces_position or intent.time_in_force is TimeInForce.IOC:
            expire_s = None  # exits are never cut short; an IOC never rests
        if expire_s is not None:
            order = replace(order, time_in_force=TimeInForce.GTD)
        command = place_command(order, self.config.order_deadline_s, expire_s)
        # Persist-then-send: the row is committed before anything leaves the process, so a
        # crash after this point leaves a pending_new row that reconciliation resolves.
        await self.repo.insert_order(
            command, tag=intent.tag, reduces_position=intent.reduces_position, created_ns=now
        )
        # Marked before the registry shows the order: a reconciliation must never see it as
        # "not sent" while its send is pending or running.
        self._sending.add(cl_ord_id)
        self.registry.add(order)
        # Operators follow the daemon on its console: every order that leaves is announced.
        logger.info(
            "order placed",
            extra={
                "cl_ord_id": cl_ord_id,
                "symbol": intent.symbol,
                "side": intent.side.value,
                "qty": str(intent.qty),
                "price": str(intent.limit_price),
                "tag": intent.tag,
            },
        )
        try:
            if intent.features:
                await self.repo.open_learning_entry(cl_ord_id, intent.symbol, intent.features, now)
        except BaseException:
            # Not sent after all: its absence becomes provable (and the order is settled by
            # reconciliation) instead of staying "being sent" forever.
            self._sending.discard(cl_ord_id)
            raise
        self._spawn(self._send(command))
        return decision

    async def cancel(self, intent: CancelIntent, ctx: RiskContext) -> Decision:
        """Cancel one of our orders (through the gate, which always approves cancels)."""
        decision, flag = await self._cancel_one(intent, ctx)
        await self._flag_cancels(flag, ctx.now_ns)
        return decision

    async def _cancel_one(
        self, intent: CancelIntent, ctx: RiskContext
    ) -> tuple[Decision, list[str]]:
        """Gate, mark and send one cancel; returns the ids whose flag is still to record."""
        decision = self.gate.check(intent, ctx)
        if isinstance(decision, Denied):  # the gate's policy could change: still audited
            await self._denied(decision, ctx.now_ns)
            return decision, []
        order = self.registry.get(intent.cl_ord_id)
        if order is None or order.is_terminal:
            return decision, []
        if order.cancel_requested and not self._cancel_due(order, ctx.now_ns):
            return decision, []
        flag: list[str] = []
        if not order.cancel_requested:
            order = request_cancel(order)
            self.registry.update(order)
            flag.append(order.cl_ord_id)
        self._cancel_sent_ns[order.cl_ord_id] = ctx.now_ns
        command = CancelOrder(cl_ord_id=order.cl_ord_id, order_id=order.order_id)
        # Sent before the flag is written: a cancel only reduces risk, so a ledger that
        # cannot be written must never hold it back.
        self._spawn(self._send_cancel(command, intent.reason))
        return decision, flag

    async def _flag_cancels(self, cl_ord_ids: list[str], now_ns: int) -> None:
        """Record `cancel_requested` (best effort: the cancel has left already; on a
        restart the exchange's answer settles the order anyway)."""
        for cl_ord_id in cl_ord_ids:
            if self.ledger_failing():
                return
            try:
                await self.repo.update_order(cl_ord_id, cancel_requested=True, updated_ns=now_ns)
            except Exception as exc:
                logger.error(
                    "could not record a cancel request",
                    extra={"cl_ord_id": cl_ord_id, "error": repr(exc)},
                )
                return

    async def amend(self, intent: AmendIntent, ctx: RiskContext) -> Decision:
        """Amend one of our live orders in place (through the gate); see orders/sends.py."""
        return await sends.amend(self, intent, ctx)

    async def cancel_all_ours(
        self, reason: str, ctx: RiskContext, spare: Callable[[Order], bool] | None = None
    ) -> int:
        """Cancel every live order of ours but those `spare` keeps (shutdown keeps the
        protective stops); see orders/bulk_cancel.py."""
        return await bulk_cancel.cancel_all_ours(self, reason, ctx, spare)

    async def cancel_everything(self, reason: str, ctx: RiskContext) -> Decision:
        """Emergency: cancel every order of ours on the account, never anyone else's; see
        orders/bulk_cancel.py."""
        return await bulk_cancel.cancel_everything(self, reason, ctx)

    async def housekeeping(self, ctx: RiskContext) -> list[str]:
        """Timeouts: old unfilled orders are cancelled, unconfirmed cancels re-sent; returns
        the ids of orders still unacknowledged after `ack_timeout_s` (→ reconcile)."""
        now = ctx.now_ns
        cfg = self.config
        stale: list[str] = []
        await self._retry_unpersisted()
        for order in self.registry.live():
            age_s = (now - order.created_ns) / _NS
            if order.status is OrderStatus.PENDING_NEW and age_s >= cfg.ack_timeout_s:
                stale.append(order.cl_ord_id)
            elif order.cancel_requested and self._cancel_due(order, now):
                await self.cancel(CancelIntent(order.cl_ord_id, "cancel_retry"), ctx)
            elif (
                not order.cancel_requested
                and not order.reduces_position
                and order.status is not OrderStatus.PENDING_NEW
                and age_s >= cfg.order_timeout_s
            ):
                await self.cancel(CancelIntent(order.cl_ord_id, "order_timeout"), ctx)
        return stale

    async def _retry_unpersisted(self) -> None:
        """Write the order rows whose update failed (not while the ledger is down)."""
        for cl_ord_id, stored in list(self._unpersisted.items()):
            if self.ledger_failing():
                return
            current = self.registry.get(cl_ord_id)
            if current is None:  # forgotten meanwhile: the next start-up reconciles it
                del self._unpersisted[cl_ord_id]
                continue
            try:
                await self._persist(stored, current)
            except Exception:
                return  # still failing: the watch has it; try again next time
            del self._unpersisted[cl_ord_id]

    def _cancel_due(self, order: Order, now_ns: int) -> bool:
        sent = self._cancel_sent_ns.get(order.cl_ord_id)
        return sent is None or now_ns - sent >= self.config.cancel_retry_s * _NS

    async def _denied(self, denied: Denied, now_ns: int) -> None:
        self.denials += 1
        self.last_denial = denied
        logger.warning("risk denied", extra={"rule": str(denied.rule), "reason": denied.reason})
        await self.repo.record_event("risk_denied", denied.describe(), now_ns)

    # ------------------------------------------------------------------ background sends
    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout_s: float) -> None:
        """Wait (bounded) for the sends in flight, e.g. before shutdown."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    @property
    def sending(self) -> frozenset[str]:
        """cl_ord_ids whose AddOrder has not finished (its absence is not provable yet)."""
        return frozenset(self._sending)

    async def _send(self, command: PlaceOrder) -> None:
        try:
            await self._send_once(command)
        finally:
            self._sending.discard(command.cl_ord_id)

    async def _send_once(self, command: PlaceOrder) -> None:
        await sends.send_place(self, command)

    async def _send_cancel(self, command: CancelOrder, reason: str) -> None:
        await sends.send_cancel(self, command, reason)

    # ------------------------------------------------------------------ events up
    async def apply(self, event: OrderEvent) -> Applied | None:
        """Apply a venue event to its order and persist the result; None if not ours.

        Raises InvariantError for an illegal transition (the caller halts trading)."""
        routed = self.registry.apply(event)
        if routed is None:
            return None
        before, after = routed
        if after is before:
            return Applied(before, after, None)
        fill = _fill_of(event)
        new_fill: Fill | None = None
        if fill is not None and fill.trade_id in after.fill_ids - before.fill_ids:
            new_fill = replace(fill, cl_ord_id=after.cl_ord_id)
            try:
                inserted = await self.repo.insert_fill(new_fill)
            except BaseException:
                # Not recorded, so not trusted either: the order goes back to what it was
                # and the next report or reconciliation brings this fill again.
                self.registry.update(before)
                raise
            if not inserted:  # the ledger had it (e.g. recorded before a restart)
                new_fill = None
            else:
                logger.info(
                    "fill recorded",
                    extra={
                        "cl_ord_id": after.cl_ord_id,
                        "trade_id": fill.trade_id,
                        "side": fill.side.value,
                        "qty": str(fill.qty),
                        "price": str(fill.price),
                        "fee": str(fill.fee),
                    },
                )
        try:
            await self._persist(before, after)
        except Exception as exc:
            # The event happened (a recorded fill must reach the portfolio): keep the new
            # state in memory and write the row again from housekeeping.
            self._unpersisted.setdefault(after.cl_ord_id, before)
            logger.error(
                "order update not recorded: will retry",
                extra={"cl_ord_id": after.cl_ord_id, "error": repr(exc)},
            )
        if after.status is not before.status:
            logger.info(
                "order status",
                extra={"cl_ord_id": after.cl_ord_id, "status": after.status.value},
            )
        if after.is_terminal:
            self._cancel_sent_ns.pop(after.cl_ord_id, None)
        return Applied(before, after, new_fill)

    async def _persist(self, before: Order, after: Order) -> None:
        changed_reason = after.reason if after.reason != before.reason else None
        price, was = (
            (after.trigger_price, before.trigger_price)
            if after.order_type.is_triggered
            else (after.limit_price, before.limit_price)
        )
        await self.repo.update_order(
            after.cl_ord_id,
            qty=after.qty if after.qty != before.qty else None,  # amended
            price=price if price != was else None,
            status=after.status if after.status is not before.status else None,
            txid=after.order_id if after.order_id != before.order_id else None,
            reason=changed_reason or None,
            venue_cum_qty=after.venue_cum_qty,
            updated_ns=after.updated_ns or self._clock.now_ns(),
        )

    async def adopt(self, order: Order) -> bool:
        """Record an exchange order of ours that the ledger lacks (reconciliation)."""
        if self.registry.get(order.cl_ord_id) is not None:
            return False
        await self.repo.insert_order(
            place_command(order),
            tag=order.tag,
            status=order.status,
            txid=order.order_id,
            reduces_position=order.reduces_position,
            created_ns=order.created_ns,
        )
        await self.repo.update_order(order.cl_ord_id, venue_cum_qty=order.venue_cum_qty)
        self.registry.add(replace(order, filled_qty=Decimal(0)))
        return True


def _fill_of(event: OrderEvent) -> Fill | None:
    if isinstance(event, Fill):
        return event
    if isinstance(event, ExecutionReport):
        return event.fill
    return None


__all__ = ["Applied", "ManagerConfig", "OrderManager"]

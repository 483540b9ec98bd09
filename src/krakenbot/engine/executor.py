"""Carrying out the core's effects: ledger writes awaited in order, venue sends handed over.

Owns: `Executor` — for one batch of effects (domain/effects.py), in list order: each ledger
write is awaited (engine/ledger_writes.py, through the `WatchedRepository`, so every outcome
reaches the ledger watch); a write that fails comes back to the core as `WriteFailed` and,
for an order's row or learning row, the order's `SendOrder` is skipped (persist-then-send:
never sent without its row); a write the core waits for (`needs_ack`) comes back as
`WriteDone`. The core's answer to such an outcome is carried out at once, before the rest
of the batch. A `PersistOrder` marked `journal` (a shutdown's protective stop while the
ledger fails) is appended to the order journal (`ports.OrderJournal`) instead, with the same
rule: not durable, not sent.
While a stopping engine's ledger is failing, ledger writes fail at once (`WriteSkippedError`)
rather than each waiting out SQLite's busy timeout inside the bounded shutdown.

Sends (orders, cancels, amends) run as their own tasks, so a slow or ambiguous request never
blocks the engine (an order's first request is written before that, in the step its row
committed in, when the venue can do it without waiting: `ports.PlaceNow`, the live venue over
the WebSocket; its task then waits only for the answer); what happened comes back as events
through `post` (a refused or failed amend as `AmendRejected`, which asks for a reconciliation):
an `AmbiguousOrderError` (or any unknown failure: the request may have left) asks for a
reconciliation — the order stays pending and is looked up, never re-sent; a `TransientError`
means provably not placed and becomes a local rejection (marked `local` when our own circuit
breaker refused it, so the breaker policy does not count it as an exchange failure); a
`FatalExchangeError` halts trading. Every finished AddOrder is reported (`SendFinished`): until
then the order is "being sent".
An optional observer (engine/observe.py) is told of the orders handed over that answer market
data and of the notices for the operator, after the decision and without waiting. A batch's
`Notify` lines are logged after it, once its sends have had their first step (off the
tick-to-order path).
Imports: domain, engine, errors, orders, ports, resilience. Must not import: net, store, app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from typing import TYPE_CHECKING

from krakenbot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from krakenbot.domain.effects import (
    Effect,
    FlagCancel,
    Notify,
    OpenLearningEntry,
    PersistOrder,
    ReportError,
    RequestReconcile,
    SendAmend,
    SendCancel,
    SendOrder,
    SwitchNeedChanged,
    TripBreaker,
)
from krakenbot.domain.events import AmendRejected, Event, OrderRejected, ReconcileRequested
from krakenbot.engine.inputs import EngineInput, SendFinished, VenueFatal, WriteDone, WriteFailed
from krakenbot.engine.ledger_writes import LEDGER_WRITES
from krakenbot.engine.observe import EngineObserver
from krakenbot.engine.protect import SwitchNeed
from krakenbot.errors import (
    AmbiguousOrderError,
    FatalExchangeError,
    KrakenbotError,
    RejectedError,
    TransientError,
)
from krakenbot.ports import PlaceNow
from krakenbot.resilience.breaker import CircuitOpenError

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner

logger = logging.getLogger(__name__)
Post = Callable[[Event | EngineInput], Awaitable[None]]


class Executor:
    def __init__(self, runner: EngineRunner) -> None:
        self._r = runner
        self._tasks: set[asyncio.Task[None]] = set()
        self._cancels: dict[asyncio.Task[None], str | None] = {}  # each one's cl_ord_id
        self.orders_sent = 0  # AddOrders handed to the venue
        self.cancels_sent = 0
        # cl_ord_ids whose AddOrder this process is sending now (a pending order not among
        # them has no send of ours in flight: engine/shutdown_cover.py).
        self.sending: set[str] = set()
        # Metrics and notifications (engine/observe.py); plugged in by the composition root.
        self.observer: EngineObserver | None = None
        self._quick_venue: object = None  # the venue `_quick` was looked up on
        self._quick: Callable[[PlaceOrder], Awaitable[None] | None] | None = None

    # ------------------------------------------------------------------ one batch
    async def run(self, effects: Sequence[Effect]) -> None:
        """Carry out `effects` in order (the caller holds the engine lock)."""
        notices: list[Notify] = []
        try:
            await self._run(effects, notices)
        finally:
            if notices:
                # Logged once the batch's sends are handed over (their first step runs
                # first): a log line costs ~40 µs on the loop and wakes the log thread,
                # which is no part of an order's way to the socket.
                asyncio.get_running_loop().call_soon(_log_notices, notices)

    async def _run(self, effects: Sequence[Effect], notices: list[Notify]) -> None:
        blocked: set[str] = set()  # orders whose row could not be written: never sent
        for effect in effects:
            kind = type(effect)
            if isinstance(effect, SendOrder):
                if effect.command.cl_ord_id not in blocked:
                    self._hand_over(effect.command)
                    if effect.tick_ns and self.observer is not None:
                        self.observer.order_handed(effect)
                continue
            if kind is OpenLearningEntry and effect.cl_ord_id in blocked:  # type: ignore[union-attr]
                continue
            write = LEDGER_WRITES.get(kind)
            if isinstance(effect, Notify):
                notices.append(effect)
                if effect.notice is not None and self.observer is not None:
                    self.observer.notice(effect)
                continue
            if write is None:
                self._control(effect)
                continue
            if kind is FlagCancel and self._r.ledger.failing is not None:
                continue  # best effort, and not while the ledger is failing
            try:
                self._check_stopping(effect)
                if isinstance(effect, PersistOrder) and effect.journal:
                    result = await self._journal(effect)
                else:
                    result = await write(self._r.repo, effect)
            except Exception as exc:
                logger.error(
                    "ledger write failed",
                    extra={"effect": kind.__name__, "error": repr(exc)},
                )
                if getattr(effect, "blocks_send", False):
                    blocked.add(_order_id(effect))
                await self.feedback(WriteFailed(effect, repr(exc), self._now()))  # type: ignore[arg-type]
                continue
            if getattr(effect, "needs_ack", False):
                done = WriteDone(effect, bool(result), self._now())  # type: ignore[arg-type]
                await self.feedback(done)

    async def feedback(self, event: EngineInput) -> None:
        """An outcome the core must know before anything else happens."""
        await self.run(self._r.core.handle(event))

    def _now(self) -> int:
        return self._r.clock.now_ns()

    def _control(self, effect: Effect) -> None:
        r = self._r
        if isinstance(effect, SendCancel):
            self.cancels_sent += 1
            task = self._spawn(self._send_cancel(effect.command, effect.reason), self._tasks)
            self._cancels[task] = effect.command.cl_ord_id
            task.add_done_callback(self._cancels.pop)
        elif isinstance(effect, SendAmend):
            self._spawn(self._send_amend(effect.command), self._tasks)
        elif isinstance(effect, SwitchNeedChanged):
            r.switch_need_changed(SwitchNeed(effect.entry, effect.protection))
        elif isinstance(effect, RequestReconcile):
            r.request_reconcile(effect.reason)
        elif isinstance(effect, TripBreaker):
            r.breaker.trip(effect.reason)
        elif isinstance(effect, ReportError):
            r.note_error(effect.text)
            logger.error("event handling failed: %s", effect.text, extra={"trace": effect.trace})

    def _check_stopping(self, effect: Effect) -> None:
        """While a stopping engine's ledger is failing, its writes fail at once instead of
        each waiting out SQLite's busy timeout (5 s on a locked ledger) within the bounded
        shutdown: the next start-up's reconciliation rebuilds what they would have said.
        The order journal is no ledger write."""
        r = self._r
        journal = isinstance(effect, PersistOrder) and effect.journal
        if r.stop_requested and r.ledger.failing is not None and not journal:
            raise WriteSkippedError("not tried: the ledger is failing and the engine stopping")

    async def _journal(self, e: PersistOrder) -> object:
        journal = self._r.journal
        if journal is None:
            raise WriteSkippedError("the ledger is failing and there is no order journal")
        tag, reduces, created = e.tag, e.reduces_position, e.created_ns
        await journal.record(e.command, tag=tag, reduces_position=reduces, created_ns=created)
        return None

    # ------------------------------------------------------------------ background sends
    def _spawn(self, work: Awaitable[None], into: set[asyncio.Task[None]]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        into.add(task)
        task.add_done_callback(into.discard)
        return task

    def _hand_over(self, command: PlaceOrder) -> None:
        """Send one order whose row is committed: its first request on the socket now when
        the venue can (`ports.PlaceNow`: no task to start first, no loop turn before the
        bytes leave), the rest (its answer, the exactly-once rules) in its own task."""
        self.orders_sent += 1
        self.sending.add(command.cl_ord_id)  # before any byte leaves (shutdown_cover.py)
        venue = self._r.venue
        if venue is not self._quick_venue:  # looked up once per venue, not per order
            self._quick_venue = venue
            self._quick = venue.place_now if isinstance(venue, PlaceNow) else None
        placing = None
        if self._quick is not None:
            try:
                placing = self._quick(command)
            except Exception as exc:  # the task reports it as it reports `place` failing
                placing = _raise(exc)
        task = self._spawn(self._send(command, placing), self._tasks)
        task.add_done_callback(lambda _: self._sent(command.cl_ord_id, placing))

    def _sent(self, cl_ord_id: str, placing: Awaitable[None] | None) -> None:
        """A send task ended. `_send` did this already unless the task was cut before its
        first step (`drain`): then nothing awaited what `place_now` began."""
        self.sending.discard(cl_ord_id)
        if isinstance(placing, Coroutine):
            placing.close()  # (a no-op once it ran to its end)

    async def _send(self, command: PlaceOrder, placing: Awaitable[None] | None) -> None:
        post = self._r.post
        try:
            for event in await self._place(command, placing):
                await post(event)
        finally:
            self.sending.discard(command.cl_ord_id)
            await post(SendFinished(command.cl_ord_id, self._now()))

    async def _place(
        self, command: PlaceOrder, placing: Awaitable[None] | None
    ) -> list[Event | EngineInput]:
        """What the venue's answer means for the engine, as events (`placing`: the send
        `place_now` began; else `place`)."""
        cl, now = command.cl_ord_id, self._now
        try:
            await (self._r.venue.place(command) if placing is None else placing)
        except AmbiguousOrderError as exc:
            logger.warning("order outcome unknown", extra={"cl_ord_id": cl})
            return [ReconcileRequested(f"ambiguous submission {cl}: {exc}", now())]
        except RejectedError as exc:
            return [OrderRejected(cl, exc.kraken_error or str(exc), "place", now())]
        except CircuitOpenError as exc:
            # Our own breaker refused to send it: not an exchange failure (counting it as
            # one would keep the breaker open by its own refusals).
            return [OrderRejected(cl, f"not sent: {exc}", "place", now(), True)]
        except TransientError as exc:
            # Provably not placed (the venue says so): a local rejection, never a re-send.
            error = f"not placed: {exc.kraken_error or exc}"
            return [OrderRejected(cl, error, "place", now())]
        except FatalExchangeError as exc:
            return [OrderRejected(cl, str(exc), "place", now()), VenueFatal(str(exc), now())]
        except Exception as exc:  # an unknown failure: the request may have left
            logger.exception("order send failed", extra={"cl_ord_id": cl})
            return [ReconcileRequested(f"send of {cl} failed: {exc!r}", now())]
        return []

    async def _send_cancel(self, command: CancelOrder, reason: str) -> None:
        try:
            await self._r.venue.cancel(command)
        except FatalExchangeError as exc:
            await self._r.post(VenueFatal(str(exc), self._now()))
        except Exception as exc:  # retried by housekeeping; the order's fate comes as events
            logger.warning(
                "cancel failed",
                extra={"cl_ord_id": command.cl_ord_id, "reason": reason, "error": repr(exc)},
            )

    async def _send_amend(self, command: AmendOrder) -> None:
        cl, txid, now = command.cl_ord_id, command.order_id, self._now
        try:
            await self._r.venue.amend(command)
        except FatalExchangeError as exc:
            await self._r.post(AmendRejected(cl, txid, str(exc), now()))
            await self._r.post(VenueFatal(str(exc), now()))
        except RejectedError as exc:
            await self._r.post(AmendRejected(cl, txid, exc.kraken_error or str(exc), now()))
        except Exception as exc:  # unknown whether it applied: reconciliation reads the order
            logger.warning("amend failed", extra={"cl_ord_id": cl, "error": repr(exc)})
            await self._r.post(AmendRejected(cl, txid, f"amend outcome unknown: {exc!r}", now()))

    async def wait_cancels(self, timeout_s: float) -> None:
        """Wait (bounded) for the cancels in flight (the emergency's first step)."""
        if self._cancels:
            await asyncio.wait(set(self._cancels), timeout=timeout_s)

    def drop_cancels(self, cl_ord_ids: Collection[str]) -> None:
        """Cut the cancels of these orders still on their way: waiting for the rate limit's
        headroom or between the client's retries, they are never sent. One whose request is
        on the wire already cannot be recalled (Kraken may still carry it out)."""
        for task, cl_ord_id in list(self._cancels.items()):
            if cl_ord_id in cl_ord_ids:
                task.cancel()

    async def drain(self, timeout_s: float) -> None:
        """Wait (bounded) for the sends in flight, e.g. before shutdown; the rest is cut."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)


class WriteSkippedError(KrakenbotError):
    """A ledger write not even tried (see `Executor._check_stopping`)."""


async def _raise(exc: Exception) -> None:
    raise exc


def _log_notices(notices: list[Notify]) -> None:
    for notice in notices:
        log = logger.warning if notice.warning else logger.info
        log(notice.message, extra=dict(notice.fields))


def _order_id(effect: object) -> str:
    if isinstance(effect, PersistOrder):
        return effect.command.cl_ord_id
    return effect.cl_ord_id  # type: ignore[attr-defined, no-any-return]

"""Ledger write health: the "unwritable for N s → safe stop" rule and the repository wrapper
that feeds it.

Owns: `LedgerWatch` — pure bookkeeping of write outcomes: the first failure marks the
ledger failing at once (the engine turns unhealthy, so the dead man's switch is no longer
refreshed, and new orders are refused), a later successful write clears it, and a failure
that lasted `grace_s` without one success in between is `overdue` (the daemon then makes its
safe stop). The failure's clock starts when the first failed write was *attempted* (not
when it gave up, which for a locked database is a busy timeout later), but never before the
last write that succeeded. `LedgerUnwritableError` is what the engine's watch service raises
then.
`WatchedRepository` — a `Repository` that delegates every call and reports each WRITE's
outcome to a `LedgerWatch` (reads say nothing about writability; SQLite's WAL lets them
succeed while writes are locked out), and its duration to an optional observer (metrics,
notifications: engine/observe.py).
Time is whatever the caller passes (monotonic ns from the injected clock); no I/O here
beyond awaiting the wrapped repository. Imports: domain, engine, errors, ports. Must not import:
store, net, app.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TypeVar

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.events import Fill
from krakenbot.engine.observe import EngineObserver
from krakenbot.errors import KrakenbotError
from krakenbot.ports import Repository, StoredOrder

logger = logging.getLogger(__name__)
_NS = 1_000_000_000
_MIN_LOOK_S = 0.05  # the watch never looks more often while the ledger is healthy
_T = TypeVar("_T")


class LedgerUnwritableError(KrakenbotError):
    """Ledger writes kept failing for the whole grace period: the daemon must stop safely."""


@dataclass(frozen=True, slots=True)
class LedgerFailure:
    """An unbroken run of failed ledger writes."""

    since_ns: int  # monotonic time of the first failure of the run
    last_ns: int  # monotonic time of the latest failure
    count: int  # failed writes in the run
    operation: str  # the latest failed write (e.g. "insert_fill")
    error: str  # its error, e.g. "OperationalError('database is locked')"

    def describe(self) -> str:
        return f"ledger write failing: {self.operation}: {self.error} ({self.count} failed)"


class LedgerWatch:
    """Write outcomes in, verdicts out. `grace_s` > 0: how long writes may keep failing."""

    def __init__(self, grace_s: float, on_recovered: Callable[[], None] | None = None) -> None:
        if not grace_s > 0:
            raise ValueError(f"grace_s must be positive, got {grace_s!r}")
        self.grace_s = grace_s
        # Called when a write succeeds after failures (e.g. reconcile: a fill whose report
        # could not be recorded meanwhile is only on the exchange now).
        self._on_recovered = on_recovered
        self._failure: LedgerFailure | None = None
        self._last_ok_ns: int | None = None  # when the latest successful write ended
        self.failures = 0  # every failed write since start (for counters)

    @property
    def failing(self) -> LedgerFailure | None:
        """The current run of failures; None while the ledger is writable."""
        return self._failure

    def failed(
        self, operation: str, error: BaseException, now_ns: int, started_ns: int | None = None
    ) -> LedgerFailure:
        """A write attempted at `started_ns` (default: `now_ns`) failed at `now_ns`."""
        self.failures += 1
        text = repr(error)
        current = self._failure
        if current is None:
            since = now_ns if started_ns is None else min(started_ns, now_ns)
            if self._last_ok_ns is not None:
                since = max(since, min(self._last_ok_ns, now_ns))
            self._failure = LedgerFailure(since, now_ns, 1, operation, text)
            logger.error(
                "ledger write failed: trading paused until it succeeds again",
                extra={"operation": operation, "error": text, "grace_s": self.grace_s},
            )
        else:
            self._failure = replace(
                current,
                last_ns=max(current.last_ns, now_ns),
                count=current.count + 1,
                operation=operation,
                error=text,
            )
        return self._failure

    def succeeded(self, operation: str, now_ns: int) -> None:
        """A write committed: the ledger works again and the run of failures ends."""
        self._last_ok_ns = now_ns
        current = self._failure
        if current is None:
            return
        self._failure = None
        if self._on_recovered is not None:
            self._on_recovered()
        logger.warning(
            "ledger writable again",
            extra={
                "operation": operation,
                "failed_for_s": round((now_ns - current.since_ns) / _NS, 3),
                "failed_writes": current.count,
            },
        )

    def overdue(self, now_ns: int) -> LedgerFailure | None:
        """The failure run, once it has lasted `grace_s` or longer; else None."""
        current = self._failure
        if current is None or now_ns - current.since_ns < int(self.grace_s * _NS):
            return None
        return current

    def due_in_s(self, now_ns: int) -> float | None:
        """Seconds until the current failure run is overdue (0 when it is); None: no run."""
        current = self._failure
        if current is None:
            return None
        return max(0, current.since_ns + int(self.grace_s * _NS) - now_ns) / _NS

    def next_look_s(self, now_ns: int, check_s: float) -> float:
        """How long the watch may sleep: while failing, until the next probe (`check_s`) or
        the grace's end, whichever comes first; while healthy, `check_s` but at most half the
        grace (a failure found late is stopped late), and at least 50 ms."""
        due_s = self.due_in_s(now_ns)
        if due_s is None:
            return min(check_s, max(_MIN_LOOK_S, self.grace_s / 2))
        return min(check_s, due_s)

    def overdue_error(self, failure: LedgerFailure, now_ns: int) -> LedgerUnwritableError:
        lasted = (now_ns - failure.since_ns) / _NS
        return LedgerUnwritableError(
            f"ledger writes failing for {lasted:.1f} s (grace {self.grace_s:g} s, "
            f"{failure.count} failed writes); last: {failure.operation}: {failure.error}"
        )


class WatchedRepository:
    """A `Repository` whose writes report to a `LedgerWatch` (reads pass straight through).

    Exceptions are never swallowed here: the caller still sees the failure and decides
    (e.g. an order whose row could not be committed is never sent)."""

    def __init__(
        self, inner: Repository, watch: LedgerWatch, monotonic_ns: Callable[[], int]
    ) -> None:
        self.inner = inner
        self.watch = watch
        self._now = monotonic_ns
        # Told every write's duration and outcome (metrics, notifications: app/observers.py).
        self.observer: EngineObserver | None = None

    async def _write(self, operation: str, work: Awaitable[_T]) -> _T:
        started = self._now()  # a write queued or waiting for a lock failed since then
        try:
            result = await work
        except Exception as exc:
            now = self._now()
            self.watch.failed(operation, exc, now, started)
            self._observe(operation, now - started, False)
            raise
        now = self._now()
        self.watch.succeeded(operation, now)
        self._observe(operation, now - started, True)
        return result

    def _observe(self, operation: str, took_ns: int, ok: bool) -> None:
        if self.observer is not None:
            self.observer.ledger_write(operation, took_ns / _NS, ok)

    # ------------------------------------------------------------------ writes
    async def insert_order(
        self,
        order: PlaceOrder,
        *,
        tag: str = "",
        status: OrderStatus = OrderStatus.PENDING_NEW,
        txid: str | None = None,
        reduces_position: bool = False,
        created_ns: int | None = None,
    ) -> object:
        return await self._write(
            "insert_order",
            self.inner.insert_order(
                order,
                tag=tag,
                status=status,
                txid=txid,
                reduces_position=reduces_position,
                created_ns=created_ns,
            ),
        )

    async def add_order(
        self, order: PlaceOrder, *, tag: str, reduces_position: bool, created_ns: int
    ) -> None:
        await self._write(
            "add_order",
            self.inner.add_order(
                order, tag=tag, reduces_position=reduces_position, created_ns=created_ns
            ),
        )

    async def update_order(
        self,
        cl_ord_id: str,
        *,
        status: OrderStatus | None = None,
        txid: str | None = None,
        filled_volume: Decimal | None = None,
        avg_fill_price: Decimal | None = None,
        reason: str | None = None,
        filled_cost: Decimal | None = None,
        fees: Decimal | None = None,
        venue_cum_qty: Decimal | None = None,
        cancel_requested: bool | None = None,
        updated_ns: int | None = None,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> object:
        return await self._write(
            "update_order",
            self.inner.update_order(
                cl_ord_id,
                qty=qty,
                price=price,
                status=status,
                txid=txid,
                filled_volume=filled_volume,
                avg_fill_price=avg_fill_price,
                reason=reason,
                filled_cost=filled_cost,
                fees=fees,
                venue_cum_qty=venue_cum_qty,
                cancel_requested=cancel_requested,
                updated_ns=updated_ns,
            ),
        )

    async def insert_fill(self, fill: Fill) -> bool:
        return await self._write("insert_fill", self.inner.insert_fill(fill))

    async def record_event(
        self, kind: str, payload: Mapping[str, object] | None = None, at_ns: int | None = None
    ) -> object:
        return await self._write("record_event", self.inner.record_event(kind, payload, at_ns))

    async def set_state(self, key: str, value: str) -> None:
        await self._write("set_state", self.inner.set_state(key, value))

    async def open_learning_entry(
        self, cl_ord_id: str, symbol: str, features: Sequence[tuple[str, str]], at_ns: int
    ) -> None:
        await self._write(
            "open_learning_entry",
            self.inner.open_learning_entry(cl_ord_id, symbol, features, at_ns),
        )

    async def close_learning_entry(
        self, cl_ord_id: str, outcome: str, pnl: Decimal, at_ns: int
    ) -> None:
        await self._write(
            "close_learning_entry",
            self.inner.close_learning_entry(cl_ord_id, outcome, pnl, at_ns),
        )

    async def record_metrics(self, row: Mapping[str, str], at_ns: int) -> None:
        await self._write("record_metrics", self.inner.record_metrics(row, at_ns))

    # ------------------------------------------------------------------ reads
    async def order_by_cl_ord_id(self, cl_ord_id: str) -> StoredOrder | None:
        return await self.inner.order_by_cl_ord_id(cl_ord_id)

    async def order_by_txid(self, txid: str) -> StoredOrder | None:
        return await self.inner.order_by_txid(txid)

    async def orders_since(self, since_ns: int) -> Sequence[StoredOrder]:
        return await self.inner.orders_since(since_ns)

    async def fills_for_order(self, cl_ord_id: str) -> Sequence[Fill]:
        return await self.inner.fills_for_order(cl_ord_id)

    async def load_fills(self, since_ns: int = 0) -> Sequence[Fill]:
        return await self.inner.load_fills(since_ns)

    async def get_state(self, key: str) -> str | None:
        return await self.inner.get_state(key)


__all__ = ["LedgerFailure", "LedgerUnwritableError", "LedgerWatch", "WatchedRepository"]

"""Parity: a recorded run of the daemon (`run --record`) replayed through a fresh engine core,
which must send exactly what the daemon sent.

Owns: `Replay` and `ParityError`. The recording holds every input the daemon's core handled
that decides anything — market events as the core got them, timer ticks, the exchange's
answers about our orders — and every order, cancel and amend the core sent, in the order it
happened (app/run_recorder.py). `Replay.run` hands the inputs to the new core in that order,
at their times, carries its effects out (ledger writes through the `LedgerSink`, so the
replay has a ledger of its own; the core's sends are kept), and at each send of the run
checks that the replay's core made the same one next: same pair, side, type, quantity,
prices, time in force, flags. The exchange's answers are the recording's (the simulator's
fills, as it made them), handed over for the replay's own orders (client order ids
translated): the same fills, or an answer about an order the replay never sent, which is a
divergence too. Anything else diverging raises `ParityError` naming the line, the time and
both sides. With a `ChartSampler`, the report's series are sampled on the way.
Pure: no I/O. Imports: domain, engine, backtest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import get_args

from krakenbot.backtest.charts import ChartSampler
from krakenbot.backtest.loop import LedgerSink
from krakenbot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from krakenbot.domain.effects import (
    AdoptOrder,
    Effect,
    LedgerEffect,
    RecordFill,
    ReportError,
    SendAmend,
    SendCancel,
    SendOrder,
)
from krakenbot.domain.events import (
    AmendRejected,
    CancelRejected,
    ExecutionReport,
    OrderAccepted,
    OrderRejected,
)
from krakenbot.engine.core import EngineCore, Input
from krakenbot.engine.inputs import SendFinished, WriteDone

Command = PlaceOrder | CancelOrder | AmendOrder
_LEDGER = get_args(LedgerEffect)
_COMPARED = {
    PlaceOrder: (
        "symbol",
        "side",
        "order_type",
        "qty",
        "limit_price",
        "trigger_price",
        "time_in_force",
        "post_only",
        "reduces_position",
        "expire_s",
    ),
    CancelOrder: ("order_id",),
    AmendOrder: ("symbol", "order_id", "qty", "limit_price", "trigger_price"),
}
_ANSWERS = (
    OrderAccepted,
    OrderRejected,
    ExecutionReport,
    CancelRejected,
    AmendRejected,
    SendFinished,
)


class ParityError(Exception):
    """The replay's core did something the recorded run did not (or the reverse)."""


@dataclass(frozen=True, slots=True)
class Line:
    n: int  # the recording's sequence number
    t_ns: int
    value: Input | Command
    sent: bool  # a command the run's core sent (else an input it handled)


class Replay:
    def __init__(
        self, core: EngineCore, ledger: LedgerSink, charts: ChartSampler | None = None
    ) -> None:
        self.core = core
        self.ledger = ledger
        self.charts = charts  # the report's series, sampled as the replay goes
        self.ids: dict[str, str] = {}  # the run's client order id → the replay's
        self._pending: deque[tuple[int, Command]] = deque()  # replay sends not yet matched
        self.orders = 0
        self.cancels = 0
        self.answers = 0
        self._awaiting: RecordFill | AdoptOrder | None = None  # the write the core waits for

    def run(self, lines: Iterable[Line]) -> None:
        for line in lines:
            if line.sent:
                self._expect(line)
            else:
                self._feed(self._translate(line), line.t_ns)
        if self._pending:
            t, extra = self._pending[0]
            raise ParityError(f"the replay sent {_show(extra)} at {t} that the run did not")

    # ------------------------------------------------------------------ inputs
    def _feed(self, event: Input, t_ns: int) -> None:
        self._carry_out(self.core.handle(event, t_ns), t_ns)
        if self.charts is not None:
            self.charts.at(t_ns)

    def _carry_out(self, effects: Sequence[Effect], t_ns: int) -> None:
        for effect in effects:
            if isinstance(effect, SendOrder | SendCancel | SendAmend):
                self._pending.append((t_ns, effect.command))
            elif isinstance(effect, ReportError):
                raise ParityError(f"the replay's engine failed at {t_ns}: {effect.text}")
            elif isinstance(effect, _LEDGER):
                # The write's acknowledgement (WriteDone) is the recording's: it came at the
                # run's time, right after; the core waits for it about this very effect.
                self.ledger.write(effect, t_ns)
                if isinstance(effect, RecordFill | AdoptOrder):
                    self._awaiting = effect
                if isinstance(effect, RecordFill) and self.charts is not None:
                    self.charts.fill(effect.fill)

    def _translate(self, line: Line) -> Input:
        event = line.value
        if isinstance(event, PlaceOrder | CancelOrder | AmendOrder):
            raise ParityError(f"line {line.n}: a command where an input belongs")
        if isinstance(event, WriteDone):
            awaited, self._awaiting = self._awaiting, None
            same = awaited is not None and type(awaited) is type(event.effect)
            if isinstance(awaited, RecordFill) and isinstance(event.effect, RecordFill):
                same = awaited.fill.trade_id == event.effect.fill.trade_id
            if awaited is None or not same:
                raise ParityError(f"line {line.n}: a write answer the replay did not wait for")
            return replace(event, effect=awaited)
        if not isinstance(event, _ANSWERS):
            return event
        self.answers += 1
        cl = event.cl_ord_id
        if cl is None:
            return event
        ours = self._ours(cl, line)
        if isinstance(event, ExecutionReport) and event.fill is not None:
            return replace(event, cl_ord_id=ours, fill=replace(event.fill, cl_ord_id=ours))
        return replace(event, cl_ord_id=ours)

    def _ours(self, cl_ord_id: str, line: Line) -> str:
        ours = self.ids.get(cl_ord_id)
        if ours is None:
            raise ParityError(
                f"line {line.n} ({line.t_ns}): the exchange answered about {cl_ord_id}, an "
                "order the replay never sent"
            )
        return ours

    # ------------------------------------------------------------------ sends
    def _expect(self, line: Line) -> None:
        run = line.value
        if not self._pending:
            raise ParityError(
                f"line {line.n} ({line.t_ns}): the run sent {_show(run)}; the replay sent nothing"
            )
        t, ours = self._pending.popleft()
        fields = _COMPARED[type(run)]
        same = type(ours) is type(run) and t == line.t_ns
        same = same and all(getattr(ours, f) == getattr(run, f) for f in fields)
        if isinstance(run, CancelOrder | AmendOrder) and run.cl_ord_id is not None:
            same = same and self.ids.get(run.cl_ord_id) == ours.cl_ord_id
        if not same:
            raise ParityError(
                f"line {line.n}: the run sent {_show(run)} at {line.t_ns}; "
                f"the replay sent {_show(ours)} at {t}"
            )
        if isinstance(run, PlaceOrder):
            assert isinstance(ours, PlaceOrder)
            self.ids[run.cl_ord_id] = ours.cl_ord_id
            self.orders += 1
        else:
            self.cancels += 1


def _show(command: object) -> str:
    if isinstance(command, PlaceOrder):
        price = command.limit_price or command.trigger_price
        return (
            f"{command.order_type} {command.side} {command.qty} {command.symbol} @ {price} "
            f"({command.time_in_force}{', post-only' if command.post_only else ''})"
        )
    return repr(command)


__all__ = ["Line", "ParityError", "Replay"]

"""The core's handlers for the engine's own events (engine/inputs.py): operator commands,
what the runner loaded, fetched or carried out. Part of `EngineCore` (engine/core.py), plugged
into its type → handler table as `INPUT_HANDLERS`; each is `handler(core, event, out)`.

Owns: start-up restore, stop, operator intents and trading state, the emergency's two steps
and shutdown's cancels and protective stops (`CoverPositions`), send and write outcomes,
the runner's conditions (ledger failing, breaker admitting) and the end of a reconciliation
run (balances held against ours).
Imports: domain, engine, risk. Pure and synchronous.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from krakenbot.domain.effects import Effect, RecordEvent, ReportError, RequestReconcile
from krakenbot.domain.enums import TradingState
from krakenbot.domain.order import Order
from krakenbot.engine import cover
from krakenbot.engine.flatten import plan_flatten
from krakenbot.engine.inputs import (
    CancelOurs,
    Conditions,
    Corrections,
    CoverPositions,
    EmergencyStop,
    FlattenRequested,
    LedgerLoaded,
    OpenOrdersListed,
    Reconciled,
    SendFinished,
    StopRequested,
    Submit,
    TradingStateRequested,
    VenueFatal,
    WriteDone,
    WriteFailed,
)
from krakenbot.orders.protection import is_protective
from krakenbot.risk.breaker import Cause

if TYPE_CHECKING:
    from krakenbot.engine.core import EngineCore

_NS = 1_000_000_000
Out = list[Effect]


def loaded(core: EngineCore, event: LedgerLoaded, out: Out) -> None:
    """The start-up picture: fills into the portfolio, orders into the registry, the
    order-rate window, the trading state and the loss halt."""
    for fill in event.fills:
        core.settle.fill_ids.add(fill.trade_id)
        core.trips.apply(fill)
    for order in event.orders:
        core.registry.add(order)
    gate = core.gate
    window_start = event.now_ns - int(gate.limits.order_window_s * _NS)
    gate.restore_approvals(  # the order-rate limit survives a restart
        o.created_ns for o in event.orders if not o.reduces_position and o.created_ns > window_start
    )
    if event.trading_state is not None:
        core.trading_state = event.trading_state
    if event.loss_halted_day is not None:
        gate.loss_halted_day = event.loss_halted_day
    core.next_metrics_ns = event.now_ns + int(core.config.metrics_interval_s * _NS)


def submit(core: EngineCore, event: Submit, out: Out) -> None:
    core.execute(event.intents, out)


def state_requested(core: EngineCore, event: TradingStateRequested, out: Out) -> None:
    """The operator's pause (REDUCING), resume (ACTIVE) or halt (HALTED). Back to REDUCING or
    ACTIVE the engine manages its positions again, their protective stops included: an
    emergency cancel (`cancel-all`) turned them off, and a position that trades again must
    not go without its cover."""
    core.set_trading_state(event.state, event.reason, out)
    if event.state is not TradingState.HALTED and not core.stopped:
        core.protection.enabled = True


def flatten(core: EngineCore, event: FlattenRequested, out: Out) -> None:
    """REDUCING (entries refused from now on; HALTED would refuse the exits too), then the
    plan of engine/flatten.py through the gate; what was planned is recorded as an event."""
    if core.stopped:
        note = "not done: the daemon is stopping"
        out.append(RecordEvent("flatten", {"reason": event.reason, "plan": note}, core.now_ns))
        return
    state_requested(
        core, TradingStateRequested(TradingState.REDUCING, event.reason, event.now_ns), out
    )
    plan = plan_flatten(
        core.portfolio.positions(), core.books, core.instruments, core.registry.live()
    )
    row = {"reason": event.reason, "plan": "; ".join(plan.notes)}
    out.append(RecordEvent("flatten", row, core.now_ns))
    core.execute(plan.intents, out)


def stop(core: EngineCore, event: StopRequested, out: Out) -> None:
    core.stopped = True


def send_finished(core: EngineCore, event: SendFinished, out: Out) -> None:
    core.manager.send_finished(event.cl_ord_id)


def fatal(core: EngineCore, event: VenueFatal, out: Out) -> None:
    out.append(ReportError(f"fatal: {event.reason}"))
    out.append(RequestReconcile(f"fatal exchange error: {event.reason}"))
    core.set_trading_state(TradingState.HALTED, f"fatal exchange error: {event.reason}", out)


def conditions(core: EngineCore, event: Conditions, out: Out) -> None:
    core.manager.ledger_failing = event.ledger_failing
    core.breaker_admits = event.breaker_admits


def emergency(core: EngineCore, event: EmergencyStop, out: Out) -> None:
    core.set_trading_state(TradingState.HALTED, f"emergency: {event.reason}", out)
    core.protection.enabled = False  # every order of ours goes, the stops too
    core.manager.cancel_everything(event.reason, core.risk_context(), out)


def listed(core: EngineCore, event: OpenOrdersListed, out: Out) -> None:
    found = None if event.listed is None else list(event.listed)
    core.manager.cancel_listed(event.reason, found, core.now_ns, out)
    out.append(RequestReconcile(f"emergency stop: {event.reason}"))


def cancel_ours(core: EngineCore, event: CancelOurs, out: Out) -> None:
    """Shutdown: every live order of ours but the protective stops (positions are kept,
    and so is their cover) and the ones it spares for now (exits standing in for a stop)."""
    spare = event.spare

    def spared(order: Order) -> bool:
        return is_protective(order) or order.cl_ord_id in spare

    core.manager.cancel_all_ours(event.reason, core.risk_context(), out, spare=spared)


def cover_positions(core: EngineCore, event: CoverPositions, out: Out) -> None:
    """Shutdown: every position that keeps no protective stop gets one."""
    cover.final(core, out, gone=event.gone, journal=event.journal, sold=dict(event.sold))


def reconciled(core: EngineCore, event: Reconciled, out: Out) -> None:
    """Hold the exchange's balances against ours where they are comparable (see
    `risk.account`): a difference there is an inconsistency for the breaker."""
    core.settle.run_finished()
    mismatches = core.account.settle(event.balances)
    if mismatches:
        detail = "; ".join(m.describe() for m in mismatches)
        out.append(RecordEvent("balance_mismatch", {"detail": detail}, core.now_ns))
        trip = core.policy.record(Cause.BALANCE_MISMATCH, core.now_ns, detail)
        if trip is not None:
            core.trip(trip, out)


def write_done(core: EngineCore, event: WriteDone, out: Out) -> None:
    core.settle.write_done(event, out)


def write_failed(core: EngineCore, event: WriteFailed, out: Out) -> None:
    core.settle.write_failed(event, out)


def corrections(core: EngineCore, event: Corrections, out: Out) -> None:
    core.settle.corrections(event, out)


INPUT_HANDLERS: dict[type, Callable[..., None]] = {
    LedgerLoaded: loaded,
    Submit: submit,
    TradingStateRequested: state_requested,
    FlattenRequested: flatten,
    StopRequested: stop,
    SendFinished: send_finished,
    VenueFatal: fatal,
    Conditions: conditions,
    EmergencyStop: emergency,
    OpenOrdersListed: listed,
    CancelOurs: cancel_ours,
    CoverPositions: cover_positions,
    Reconciled: reconciled,
    WriteDone: write_done,
    WriteFailed: write_failed,
    Corrections: corrections,
}

"""How each ledger effect is written: one function per `LedgerEffect` type, over the ledger.

Owns: `LEDGER_WRITES` (effect type → write) and `write_effect`, over the `LedgerWrites` port.
The live runner's executor (engine/executor.py) awaits them through its watched repository;
the backtest carries out the same writes on its throwaway ledger (app/backtest/ledger.py,
with store/sync_ledger.py's writer: the repository's SQL straight on the connection), so
both ledgers are written by one piece of code and `trades` / `orders` / `profit --db` read
either. A write returns what
the core waits for (`needs_ack` effects: whether the fill or order was new).
Imports: domain, engine, orders, ports. Must not import: net, store, app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from krakenbot.domain.effects import (
    AdoptOrder,
    CloseLearningEntry,
    FlagCancel,
    LedgerEffect,
    OpenLearningEntry,
    PersistOrder,
    RecordEvent,
    RecordFill,
    RecordMetrics,
    SaveState,
    SetTradingState,
    UpdateOrder,
)
from krakenbot.engine.core import STATE_KEY
from krakenbot.orders.fsm import place_command
from krakenbot.ports import LedgerWrites

logger = logging.getLogger(__name__)


async def _persist(repo: LedgerWrites, e: PersistOrder) -> object:
    await repo.add_order(
        e.command, tag=e.tag, reduces_position=e.reduces_position, created_ns=e.created_ns
    )
    return None


async def _learning(repo: LedgerWrites, e: OpenLearningEntry) -> object:
    await repo.open_learning_entry(e.cl_ord_id, e.symbol, e.features, e.at_ns)
    return None


async def _update(repo: LedgerWrites, e: UpdateOrder) -> object:
    return await repo.update_order(
        e.cl_ord_id,
        qty=e.qty,
        price=e.price,
        status=e.status,
        txid=e.txid,
        reason=e.reason,
        venue_cum_qty=e.venue_cum_qty,
        updated_ns=e.updated_ns,
    )


async def _flag(repo: LedgerWrites, e: FlagCancel) -> object:
    return await repo.update_order(e.cl_ord_id, cancel_requested=True, updated_ns=e.at_ns)


async def _fill(repo: LedgerWrites, e: RecordFill) -> object:
    return await repo.insert_fill(e.fill)


async def _adopt(repo: LedgerWrites, e: AdoptOrder) -> object:
    order = e.order
    await repo.insert_order(
        place_command(order),
        tag=order.tag,
        status=order.status,
        txid=order.order_id,
        reduces_position=order.reduces_position,
        created_ns=order.created_ns,
    )
    await repo.update_order(order.cl_ord_id, venue_cum_qty=order.venue_cum_qty)
    return True


async def _event(repo: LedgerWrites, e: RecordEvent) -> object:
    return await repo.record_event(e.kind, e.payload, e.at_ns)


async def _metrics(repo: LedgerWrites, e: RecordMetrics) -> object:
    await repo.record_metrics(e.row, e.at_ns)
    return None


async def _state(repo: LedgerWrites, e: SaveState) -> object:
    await repo.set_state(e.key, e.value)
    return None


async def _trading_state(repo: LedgerWrites, e: SetTradingState) -> object:
    await repo.set_state(STATE_KEY, e.state.value)
    row = {"from": e.previous.value, "to": e.state.value, "reason": e.reason}
    await repo.record_event("trading_state", row, e.at_ns)
    logger.warning("trading state changed", extra={"to": e.state.value, "reason": e.reason})
    return None


async def _close_learning(repo: LedgerWrites, e: CloseLearningEntry) -> object:
    await repo.close_learning_entry(e.cl_ord_id, e.outcome, e.pnl, e.at_ns)
    return None


Write = Callable[[LedgerWrites, Any], Coroutine[Any, Any, object]]
LEDGER_WRITES: dict[type, Write] = {
    PersistOrder: _persist,
    OpenLearningEntry: _learning,
    UpdateOrder: _update,
    FlagCancel: _flag,
    RecordFill: _fill,
    AdoptOrder: _adopt,
    RecordEvent: _event,
    RecordMetrics: _metrics,
    SaveState: _state,
    SetTradingState: _trading_state,
    CloseLearningEntry: _close_learning,
}


def write_effect(repo: LedgerWrites, effect: LedgerEffect) -> Coroutine[Any, Any, object]:
    """The write of one ledger effect (a coroutine to await)."""
    return LEDGER_WRITES[type(effect)](repo, effect)


__all__ = ["LEDGER_WRITES", "write_effect"]

"""The exits a shutdown leaves resting when no protective stop could take their place.

Owns: `keep_exits(runner)` — each position that needs a protective stop and has none resting
at Kraken keeps its strategy's exit: the order manager sends no cancel of it any more
(`OrderManager.keep`) and the executor cuts the ones still on their way (waiting for the
rate limit's headroom, or between the client's retries); `keep_at(runner, after_s)` does
it when the shutdown's bound runs out; `left(runner, cover, still)` names them in the
report.
Imports: domain, orders, engine. Must not import: net, store, app.

The shutdown cancels the exit and places the stop in its place (engine/shutdown_cover.py).
When the exit's CancelOrder keeps failing (Kraken answering `EService:Deadline elapsed`),
the stop cannot go out — Kraken holds the coins for the exit — and the shutdown gives up at
its bound with the position reported uncovered. A cancel retry left scheduled then landed
after the shutdown had given up: the process ended with no order at all at Kraken for the
position. A reducing order is better than none, so from that point the exit is never
cancelled again. A cancel already on the wire cannot be recalled: if Kraken carries it out,
the position is left with no order (the report names it uncovered either way).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from krakenbot.domain.enums import OrderStatus
from krakenbot.engine.shutdown_cover import Cover, needing
from krakenbot.orders.protection import is_protective

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner

_RESTING = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})


def keep_exits(r: EngineRunner) -> frozenset[str]:
    """Keep the exits of the positions with no protective stop resting (acknowledged by
    Kraken, not being cancelled): no cancel of them is sent from now on. Returns them."""
    live = r.core.registry.live()
    guarded = {
        o.symbol
        for o in live
        if is_protective(o) and o.status in _RESTING and not o.cancel_requested
    }
    bare = set(needing(r)) - guarded
    kept = {
        o.cl_ord_id
        for o in live
        if o.symbol in bare and o.reduces_position and not is_protective(o)
    }
    if kept:
        r.core.manager.keep(kept)
        r.executor.drop_cancels(kept)
    return frozenset(kept)


def keep_at(r: EngineRunner, after_s: float) -> asyncio.TimerHandle:
    """Once the shutdown's bound (`after_s`) has run out, keep the exits whose positions are
    still bare — whatever the shutdown is waiting for then (a read held back by the rate
    limit). Real time, like the shutdown's other waits on the venue (shutdown_cover.py
    `settle`): the cancels it cuts wait in real time too. The caller cancels the handle."""
    return asyncio.get_running_loop().call_later(after_s, keep_exits, r)


def left(r: EngineRunner, cover: Cover, still: Sequence[str]) -> Cover:
    """`cover` naming the kept exits still open (`still`: by the venue's list, or by the
    registry once a reconciliation settled it) as left resting."""
    kept = r.core.manager.kept & set(still)
    if not kept - set(cover.left):
        return cover
    note = f"{len(kept)} exit(s) left resting: no protective stop could take their place"
    notes = "; ".join(n for n in (cover.note, note) if n)
    return replace(cover, left=tuple(sorted({*cover.left, *kept})), note=notes)


__all__ = ["keep_at", "keep_exits", "left"]

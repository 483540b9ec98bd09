"""The core's protective-stop step and what the dead man's switch must cover. Part of
`EngineCore` (engine/core.py), split out for size.

Owns: `protect(core, out)` — after every order report and timer tick: the protective-stop
refusals noted since (events kind `unprotected`: the operator should know), then what
engine/protect.py decides to keep one protective stop per position in step with it (its
intents go through the gate and the order manager like any other, `held=False`: they are
never held back behind themselves); `final(core, out, gone, journal)`, the shutdown's last
word (every position that keeps no stop gets one: engine/shutdown.py); `holdings(core)`; and
`switch_need(core)` / `need_check`, which emits `SwitchNeedChanged` whenever what the switch
must cover changes (an entry of ours rests, a position needs its stop).
Imports: domain, engine. Pure and synchronous.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from krakenbot.domain.effects import Effect, RecordEvent, SwitchNeedChanged
from krakenbot.engine.protect import Holdings, SwitchNeed, entry_live

if TYPE_CHECKING:
    from krakenbot.engine.core import EngineCore

Out = list[Effect]


def protect(core: EngineCore, out: Out) -> None:
    """Keep one protective stop per position (engine/protect.py decides)."""
    protection = core.protection
    notes, protection.notes = protection.notes, []
    for note in notes:  # a stop that could not be placed: the operator should know
        out.append(RecordEvent("unprotected", note, core.now_ns))
    if protection.enabled:
        intents = protection.decide(core.now_ns, holdings(core))
        if intents:
            core.execute(intents, out, held=False)


def final(core: EngineCore, out: Out, *, gone: frozenset[str], journal: bool) -> None:
    """Shutdown: a protective stop for every position that keeps none, through the gate and
    the order manager. `gone`: orders of ours the venue no longer lists (a strategy's exit
    whose cancel was confirmed; the registry may not know yet when the ledger cannot take
    the reports). `journal`: the ledger cannot be written, so each stop is recorded in the
    order journal before it is sent (domain/effects.py `PersistOrder.journal`)."""
    protection = core.protection
    if not protection.enabled:  # after an emergency stop: no order of ours, stops included
        return
    intents = protection.final(core.now_ns, holdings(core, gone))
    if intents:
        core.execute(intents, out, held=False, journal=journal)


def holdings(core: EngineCore, gone: frozenset[str] = frozenset()) -> Holdings:
    """Positions, entries and live orders (read-only: the same object is handed out until
    a fill or an order changes them, as their version numbers tell)."""
    p, registry = core.portfolio, core.registry
    key = (p.version, registry.version)
    cache = core.protection.cache
    if not gone and cache.holdings_key == key and cache.holdings is not None:
        return cache.holdings
    positions = p.positions()
    entries = {s: e for s in positions if (e := p.avg_entry(s)) is not None}
    live = [o for o in registry.live() if o.cl_ord_id not in gone]
    found = Holdings(positions, entries, core.instruments, core.books, live)
    if not gone:
        cache.holdings_key, cache.holdings = key, found
    return found


def switch_need(core: EngineCore) -> SwitchNeed:
    """What the dead man's switch must cover now (app/deadman.py decides what to send):
    from the positions and live orders alone, so it is worked out again only when they
    change."""
    key = (core.portfolio.version, core.registry.version)
    cache = core.protection.cache
    if cache.need_key == key and cache.need is not None:
        return cache.need
    h = holdings(core)
    need = SwitchNeed(entry_live(h.live), core.protection.needed(h))
    cache.need_key, cache.need = key, need
    return need


def need_check(core: EngineCore, out: Out) -> None:
    """Tell the runner when what the switch must cover has changed. Not while a fill waits
    for its row: the picture is half-way (an order filled, its position not yet counted),
    and the answer's own step looks again."""
    if core.settle.waiting:
        return
    need = switch_need(core)
    if need != core.switch_need:
        core.switch_need = need
        out.append(SwitchNeedChanged(need.entry, need.protection))

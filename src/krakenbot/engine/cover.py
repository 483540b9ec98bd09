"""The core's protective-stop step and what the dead man's switch must cover. Part of
`EngineCore` (engine/core.py), split out for size.

Owns: `protect(core, out)` — after every order report and timer tick: the protective-stop
refusals noted since (events kind `unprotected`: the operator should know), then what
engine/protect.py decides to keep one protective stop per position in step with it (its
intents go through the gate and the order manager like any other, `held=False`: they are
never held back behind themselves); `final(core, out, gone, journal)`, the shutdown's last
word (every position that keeps no stop gets one: engine/shutdown.py), sized from the fills
the daemon saw — those the failing ledger could not record too (`counted`), capped at the
exchange's balance; `funds_guard` (whether Kraken's funds check alone keeps such a stop from
selling more than the position); `shrunk` (positions less what exits sold unseen);
`holdings(core)`; and
`switch_need(core)` / `need_check`, which emits `SwitchNeedChanged` whenever what the switch
must cover changes (an entry of ours rests, a position needs its stop).
Imports: domain, engine. Pure and synchronous.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from krakenbot.domain.effects import Effect, RecordEvent, SwitchNeedChanged
from krakenbot.domain.enums import Side
from krakenbot.domain.portfolio import Portfolio
from krakenbot.engine.protect import Holdings, SwitchNeed, entry_live

if TYPE_CHECKING:
    from krakenbot.engine.core import EngineCore

Out = list[Effect]
ZERO = Decimal(0)


def protect(core: EngineCore, out: Out) -> None:
    """Keep one protective stop per position (engine/protect.py decides). Not once the
    daemon is stopping: the shutdown then has the last word (`final`, with the venue's own
    list). The reports still reaching the core meanwhile would show an exit whose cancel
    Kraken has confirmed as still resting (its report came on the stream that has stopped),
    and keeping one sell per position would cancel the stop just placed in its place."""
    protection = core.protection
    notes, protection.notes = protection.notes, []
    for note in notes:  # a stop that could not be placed: the operator should know
        out.append(RecordEvent("unprotected", note, core.now_ns))
    if protection.enabled and not core.stopped:
        intents = protection.decide(core.now_ns, holdings(core))
        if intents:
            core.execute(intents, out, held=False)


def final(
    core: EngineCore,
    out: Out,
    *,
    gone: frozenset[str],
    journal: bool,
    sold: Mapping[str, Decimal] | None = None,
) -> None:
    """Shutdown: a protective stop for every position that keeps none, through the gate and
    the order manager. `gone`: orders of ours the venue no longer lists (a strategy's exit
    whose cancel was confirmed; the registry may not know yet when the ledger cannot take
    the reports). `journal`: the ledger cannot be written, so each stop is recorded in the
    order journal before it is sent (domain/effects.py `PersistOrder.journal`). `sold`: what
    cancelled exits sold that the core has not recorded (the venue's lookup of them): each
    position that much smaller, so the stop never sells more than is left."""
    protection = core.protection
    if not protection.enabled:  # after an emergency stop: no order of ours, stops included
        return
    h = shrunk(holdings(core, gone, seen=True), sold)
    intents = protection.final(core.now_ns, h)
    if intents:
        # The gate judges the stop against the same position: the fills the ledger could
        # not record included (a synchronous swap: nothing else runs meanwhile).
        recorded, core.portfolio = core.portfolio, counted(core)
        try:
            core.execute(intents, out, held=False, journal=journal)
        finally:
            core.portfolio = recorded


def shrunk(h: Holdings, sold: Mapping[str, Decimal] | None) -> Holdings:
    """`h` less what cancelled exits sold that the core has not recorded (`final`'s `sold`):
    a position they sold out is flat."""
    if not sold:
        return h
    left = {s: q - sold.get(s, ZERO) for s, q in h.positions.items()}
    return replace(h, positions={s: q for s, q in left.items() if q > 0})


def funds_guard(core: EngineCore, h: Holdings, symbols: Sequence[str]) -> bool:
    """Whether Kraken's own funds check keeps a stop placed at the size the daemon knows
    from selling more than the position, for each of `symbols`. Kraken refuses a spot sell
    larger than the free balance (`EOrder:Insufficient funds`; it holds the coins of each
    resting sell). So when the base balance Kraken last reported (with the fills seen since)
    is no more than the position, a stop of the known size is refused both while the exit it
    replaces still rests and when that exit sold some of the coins unseen — never accepted
    too big. Not when the account holds more of the coin than the position (a too-big stop
    could sell those), nor with any buy of ours on the pair (one that filled unseen would
    make the stop too small: the lookup sizes it)."""
    balances = core.account.available()
    for symbol in symbols:
        instrument = core.instruments.get(symbol)
        position = h.positions.get(symbol, ZERO)
        if instrument is None or position <= 0 or instrument.base not in balances:
            return False
        if balances[instrument.base] > position:
            return False
        if any(o.symbol == symbol and o.side is not Side.SELL for o in h.live):
            return False
    return True


def counted(core: EngineCore) -> Portfolio:
    """The portfolio with the fills seen but not recorded on top (the ledger failing: their
    rows could not be written). A copy: the ledger's own figures are never changed by them;
    the next reconciliation records them, once."""
    settle = core.settle
    fills = [f for t, f in settle.unrecorded.items() if t not in settle.fill_ids]
    if not fills:
        return core.portfolio
    portfolio = copy.deepcopy(core.portfolio)
    for fill in fills:
        portfolio.record(fill)
    return portfolio


def holdings(
    core: EngineCore, gone: frozenset[str] = frozenset(), *, seen: bool = False
) -> Holdings:
    """What the protection logic reads. `seen`: positions include the fills the ledger could
    not record, each long capped at the base balance Kraken last reported (never a stop
    for more than is held: Kraken would refuse it). Otherwise read-only: the same object is
    handed out until a fill or an order changes them, as their version numbers tell."""
    p, registry = (counted(core) if seen else core.portfolio), core.registry
    if p is not core.portfolio:  # a copy with the unrecorded fills: never cached
        positions = _capped(core, p.positions())
        entries = {s: e for s in positions if (e := p.avg_entry(s)) is not None}
        live = [o for o in registry.live() if o.cl_ord_id not in gone]
        return Holdings(positions, entries, core.instruments, core.books, live)
    key = (p.version, registry.version)
    cache = core.protection.cache
    if (
        not gone
        and cache.holdings_owner is p
        and cache.holdings_key == key
        and cache.holdings is not None
    ):
        return cache.holdings
    positions = p.positions()
    entries = {s: e for s in positions if (e := p.avg_entry(s)) is not None}
    live = [o for o in registry.live() if o.cl_ord_id not in gone]
    found = Holdings(positions, entries, core.instruments, core.books, live)
    if not gone:
        cache.holdings_owner, cache.holdings_key, cache.holdings = p, key, found
    return found


def _capped(core: EngineCore, positions: dict[str, Decimal]) -> dict[str, Decimal]:
    balances = core.account.available()
    out = dict(positions)
    for symbol, qty in positions.items():
        instrument = core.instruments.get(symbol)
        if instrument is not None and qty > 0 and instrument.base in balances:
            out[symbol] = min(qty, max(balances[instrument.base], Decimal(0)))
    return out


def switch_need(core: EngineCore) -> SwitchNeed:
    """What the dead man's switch must cover now (app/deadman.py decides what to send): a
    position from fills the ledger could not record needs its stop too. Otherwise from the
    positions and live orders alone, so it is worked out again only when they change."""
    settle = core.settle
    if any(t not in settle.fill_ids for t in settle.unrecorded):  # the ledger failing
        h = holdings(core, seen=True)
        return SwitchNeed(entry_live(h.live), core.protection.needed(h))
    p = core.portfolio
    key = (p.version, core.registry.version)
    cache = core.protection.cache
    if cache.need_owner is p and cache.need_key == key and cache.need is not None:
        return cache.need
    h = holdings(core)
    need = SwitchNeed(entry_live(h.live), core.protection.needed(h))
    cache.need_owner, cache.need_key, cache.need = p, key, need
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

"""Our picture of the account's balances, and when an exchange snapshot may be held against it.

Owns: `AccountBook` — the balances the exchange last reported (a REST snapshot or the balance
stream), the fills applied since that no balance report covers yet, the balances the gate
may spend (`available`), and the rule that decides whether a `BalanceSnapshot` is
comparable with that picture (`settle`); `fill_deltas`. Imports: domain. Must not import:
anything with I/O, the clock (times come from the events and the snapshot).

Why a sequence number: Kraken reports executions and balance changes on different channels,
in either order, and a REST Balance answer is the account at some instant while the request
was out. Every account event applied here takes the next `seq`. A snapshot requested when
`seq` was q reflects every event numbered <= q (it happened before the request left) but
may or may not reflect a later one. So an asset touched by an event numbered > q is not
compared in that snapshot — a fill in flight is never a mismatch — and the next snapshot
decides. (The reconciler asks for the balances *before* the trade history, so every fill a
snapshot can contain is known by the time it is compared: learned earlier, <= q, or by
this reconciliation, > q.) The snapshot's numbers are taken over all the same (unless a
balance report newer than the request exists), with the fills learned since on top that
executed after the request left (Kraken's execution time against our clock at the request:
a best guess for what the gate may spend, which the next snapshot checks either way).

Where our picture is the exchange's own number it must equal the snapshot exactly. Where it
adds fills no balance report is known to cover, a fill may differ by one unit of the
balance's precision (Kraken's ledger rounds a trade's amount and fee to the asset's
decimals, which is how it prints balances: docs rest-api/get-account-balance), and a fill
may be inside the reported number after all: a balance update is matched to fills by
Kraken's ledger time (whether a trade's ledger entry can carry an earlier time than its
execution report is not documented), a REST snapshot by the guess above. So a difference is
a mismatch only when no choice of those fills (in or out) explains it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

from krakenbot.domain.enums import Side
from krakenbot.domain.events import BalanceChange, Fill
from krakenbot.domain.instrument import Instrument

ZERO = Decimal(0)
_MAX_UNREPORTED = 8  # fills one asset may be waiting for a balance report on (2^8 choices)


@dataclass(frozen=True, slots=True)
class BalanceSnapshot:
    """The exchange's balances, requested when `AccountBook.seq` was `seq` and the wall
    clock read `requested_ns`."""

    balances: Mapping[str, Decimal]
    seq: int
    requested_ns: int = 0


@dataclass(frozen=True, slots=True)
class Mismatch:
    asset: str
    ours: Decimal
    exchange: Decimal

    def describe(self) -> str:
        return f"{self.asset}: ours {self.ours}, exchange {self.exchange}"


@dataclass(frozen=True, slots=True)
class _Pending:
    seq: int
    exchange_ns: int  # Kraken's execution time; 0 = unknown
    delta: Decimal


def fill_deltas(fill: Fill, instrument: Instrument) -> dict[str, Decimal]:
    """How one fill moves the base and quote balances (the fee from the asset it is paid in)."""
    sign = 1 if fill.side is Side.BUY else -1
    deltas = {instrument.base: sign * fill.qty, instrument.quote: -sign * fill.cost}
    if fill.fee and fill.fee_asset in deltas:
        deltas[fill.fee_asset] -= fill.fee
    return deltas


class AccountBook:
    def __init__(self, balances: Mapping[str, Decimal] | None = None) -> None:
        self.seq = 0
        self._confirmed: dict[str, Decimal] = dict(balances or {})
        self._confirmed_seq: dict[str, int] = dict.fromkeys(self._confirmed, 0)
        self._confirmed_ns: dict[str, int] = {}  # stream reports: Kraken's ledger time
        self._pending: dict[str, list[_Pending]] = {}
        # Each asset's pending deltas summed in list order (what `available` adds), kept
        # as they arrive: a backtest's venue sends no balance reports, so the list only
        # grows, and summing it at every decision made a run's cost grow with its fills.
        self._pending_sum: dict[str, Decimal] = {}

    @property
    def confirmed(self) -> Mapping[str, Decimal]:
        """The balances as the exchange last reported them."""
        return self._confirmed

    def available(self) -> dict[str, Decimal]:
        """Reported balances plus the fills no balance report covers yet."""
        found = dict(self._confirmed)
        for asset, total in self._pending_sum.items():
            found[asset] = found.get(asset, ZERO) + total
        return found

    def on_fill(self, fill: Fill, instrument: Instrument) -> None:
        """A new fill of ours (from the stream or from reconciliation)."""
        self.seq += 1
        for asset, delta in fill_deltas(fill, instrument).items():
            reported_ns = self._confirmed_ns.get(asset, 0)
            if reported_ns and fill.exchange_ns and fill.exchange_ns <= reported_ns:
                continue  # its balance update came first and already counts it
            self._pending.setdefault(asset, []).append(_Pending(self.seq, fill.exchange_ns, delta))
            self._pending_sum[asset] = self._pending_sum.get(asset, ZERO) + delta

    def on_balance(self, change: BalanceChange) -> None:
        """A balance from the stream: it covers every fill up to its ledger time (all fills
        when it carries no time, e.g. a snapshot row)."""
        self.seq += 1
        asset, at_ns = change.asset, change.exchange_ns
        self._confirm(asset, change.balance, self.seq, at_ns)
        pending = self._take_pending(asset)
        later = [p for p in pending if at_ns and p.exchange_ns > at_ns]
        if later:
            self._put_pending(asset, later)

    def settle(self, snapshot: BalanceSnapshot) -> tuple[Mismatch, ...]:
        """Hold a snapshot against our picture (see the module docstring) and take its
        numbers wherever it is comparable; returns the assets that differ."""
        found: list[Mismatch] = []
        seq = snapshot.seq
        for asset, theirs in sorted(snapshot.balances.items()):
            if not theirs.is_finite():  # nothing to compare or to spend: never taken over
                found.append(Mismatch(asset, self._confirmed.get(asset, ZERO), theirs))
                continue
            if self._confirmed_seq.get(asset, 0) > seq:
                continue  # a balance report newer than the request: ours stands
            pending = self._take_pending(asset)
            later = [p for p in pending if p.seq > seq]  # learned after the request left
            reported = self._confirmed.get(asset)
            if not later and reported is not None:
                deltas = [p.delta for p in pending]
                if not _explained(reported, deltas, theirs):
                    found.append(Mismatch(asset, reported + sum(deltas, ZERO), theirs))
            self._confirm(asset, theirs, seq, 0)
            after = [p for p in later if p.exchange_ns > snapshot.requested_ns]
            if after:
                self._put_pending(asset, after)
        return tuple(found)

    def _take_pending(self, asset: str) -> list[_Pending]:
        self._pending_sum.pop(asset, None)
        return self._pending.pop(asset, [])

    def _put_pending(self, asset: str, pending: list[_Pending]) -> None:
        self._pending[asset] = pending
        self._pending_sum[asset] = sum((p.delta for p in pending), ZERO)

    def _confirm(self, asset: str, balance: Decimal, seq: int, at_ns: int) -> None:
        self._confirmed[asset] = balance
        self._confirmed_seq[asset] = seq
        self._confirmed_ns[asset] = at_ns


def _explained(reported: Decimal, deltas: list[Decimal], theirs: Decimal) -> bool:
    """Does the reported balance plus some of the unreported fills give the exchange's
    number (within one unit of its precision per fill counted)? Too many unreported fills
    to try every choice: not compared."""
    if len(deltas) > _MAX_UNREPORTED:
        return True
    unit = _unit(reported, theirs)
    return any(
        abs(reported + sum(chosen, ZERO) - theirs) <= count * unit
        for count in range(len(deltas) + 1)
        for chosen in combinations(deltas, count)
    )


def _unit(*reported: Decimal) -> Decimal:
    """The finest decimal place among balances as the exchange printed them."""
    exponent = min([0, *(int(d.as_tuple().exponent) for d in reported if d.is_finite())])
    return Decimal(1).scaleb(exponent)


__all__ = ["AccountBook", "BalanceSnapshot", "Mismatch", "fill_deltas"]

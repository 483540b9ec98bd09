"""Our picture of the account's balances, and when an exchange snapshot may be held against it.

Owns: `AccountBook` — the balances the exchange last reported (a REST snapshot or the balance
stream), the fills applied since that no balance report covers yet, the balances the gate
may spend (`available`), and the rule that decides whether a `BalanceSnapshot` is
comparable with that picture (`settle`); `fill_deltas`. Imports: domain. Must not import:
anything with I/O, the clock (times come from the events themselves).

Why a sequence number: Kraken reports executions and balance changes on different channels,
in either order, and a REST Balance answer is the account at some instant while the request
was out. Every account event applied here takes the next `seq`. A snapshot requested when
`seq` was q reflects every event numbered <= q (it happened before the request left) but
may or may not reflect a later one. So an asset touched by an event numbered > q is not
comparable in that snapshot — a fill in flight is never a mismatch — and is left to the
next snapshot. (The reconciler asks for the balances *before* the trade history, so every
fill a snapshot can contain is known by the time it is compared: learned earlier, <= q, or
by this reconciliation, > q.) Where our picture is the exchange's own number it must equal
the snapshot exactly; where it still adds fills no balance report covers, each such fill may
differ by one unit of the balance's precision (Kraken's ledger rounds a trade's amount and
fee to the asset's decimals, which is how it prints balances: docs rest-api/get-account-
balance), and no more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from krakenbot.domain.enums import Side
from krakenbot.domain.events import BalanceChange, Fill
from krakenbot.domain.instrument import Instrument

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class BalanceSnapshot:
    """The exchange's balances, requested when `AccountBook.seq` was `seq`."""

    balances: Mapping[str, Decimal]
    seq: int


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

    @property
    def confirmed(self) -> Mapping[str, Decimal]:
        """The balances as the exchange last reported them."""
        return self._confirmed

    def available(self) -> dict[str, Decimal]:
        """Reported balances plus the fills no balance report covers yet."""
        found = dict(self._confirmed)
        for asset, pending in self._pending.items():
            found[asset] = found.get(asset, ZERO) + sum((p.delta for p in pending), ZERO)
        return found

    def on_fill(self, fill: Fill, instrument: Instrument) -> None:
        """A new fill of ours (from the stream or from reconciliation)."""
        self.seq += 1
        for asset, delta in fill_deltas(fill, instrument).items():
            reported_ns = self._confirmed_ns.get(asset, 0)
            if reported_ns and fill.exchange_ns and fill.exchange_ns <= reported_ns:
                continue  # its balance update came first and already counts it
            self._pending.setdefault(asset, []).append(_Pending(self.seq, fill.exchange_ns, delta))

    def on_balance(self, change: BalanceChange) -> None:
        """A balance from the stream: it covers every fill up to its ledger time (all fills
        when it carries no time, e.g. a snapshot row)."""
        self.seq += 1
        asset, at_ns = change.asset, change.exchange_ns
        self._confirm(asset, change.balance, self.seq, at_ns)
        pending = self._pending.pop(asset, [])
        later = [p for p in pending if at_ns and p.exchange_ns > at_ns]
        if later:
            self._pending[asset] = later

    def settle(self, snapshot: BalanceSnapshot) -> tuple[Mismatch, ...]:
        """Hold a snapshot against our picture (see the module docstring) and take its
        numbers wherever it is comparable; returns the assets that differ."""
        found: list[Mismatch] = []
        for asset, theirs in sorted(snapshot.balances.items()):
            if not theirs.is_finite():  # nothing to compare or to spend: never taken over
                found.append(Mismatch(asset, self._confirmed.get(asset, ZERO), theirs))
                continue
            if not self._comparable(asset, snapshot.seq):
                continue  # touched since the request left: the next snapshot decides
            reported = self._confirmed.get(asset)
            if reported is not None:
                pending = self._pending.get(asset, ())
                ours = reported + sum((p.delta for p in pending), ZERO)
                if abs(ours - theirs) > len(pending) * _unit(reported, theirs):
                    found.append(Mismatch(asset, ours, theirs))
            self._confirm(asset, theirs, snapshot.seq, 0)
            self._pending.pop(asset, None)  # all numbered <= seq: the snapshot has them
        return tuple(found)

    def _comparable(self, asset: str, seq: int) -> bool:
        if self._confirmed_seq.get(asset, 0) > seq:
            return False
        return all(p.seq <= seq for p in self._pending.get(asset, ()))

    def _confirm(self, asset: str, balance: Decimal, seq: int, at_ns: int) -> None:
        self._confirmed[asset] = balance
        self._confirmed_seq[asset] = seq
        self._confirmed_ns[asset] = at_ns


def _unit(*reported: Decimal) -> Decimal:
    """The finest decimal place among balances as the exchange printed them."""
    exponent = min([0, *(int(d.as_tuple().exponent) for d in reported if d.is_finite())])
    return Decimal(1).scaleb(exponent)


__all__ = ["AccountBook", "BalanceSnapshot", "Mismatch", "fill_deltas"]

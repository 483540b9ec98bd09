"""The ledger-vs-exchange audit and the locked-out-exit check (pure: values in, findings out).

Owns: the record types the drivers fill from the ledger (SQLite) and from the simulator's
control endpoint, `audit()` — lost, duplicated and phantom fills, unknown orders, orphaned
open orders, orders whose state or filled volume disagree — and `exit_lockouts()` — every
stretch in which a position's exits were refused by the risk gate for longer than the
breaker's cooldown. No I/O: the unit tests feed them hand-made ledgers and exchanges.

What each finding means:
  lost        an execution of one of our orders on the exchange that the ledger lacks;
  duplicated  a fill row beyond the first for one trade id, or an order whose ledger fills
              add up to more than the exchange executed;
  phantom     a ledger fill the exchange never executed;
  unknown     an exchange order carrying a client id of ours (`kb…`) the ledger has not
              got (or has under another txid);
  orphaned    an order still working on the exchange once the daemon has stopped — but for
              the protective stop-loss of a position still held (tag `protect`: it rests
              at Kraken while krakenbot is stopped, by design), which is counted as
              `protected`; a protective stop resting while flat is orphaned;
  unprotected a position held once the daemon has stopped (above `dust`, the pair's
              smallest order) that its resting protective stops do not cover;
  mismatched  an order the ledger still thinks is working although the exchange has
              finished it (or the other way round), or whose filled volume differs;
  unresolved  (not a failure) an order persisted but never acknowledged that the exchange
              does not list: its AddOrder may have hung or died with the daemon, and the
              daemon may only call it absent once no request for it can still arrive
              (`absent_after_s`, 90 s into a run: orders/reconcile.py). Absent from the
              exchange, it cannot hide a fill.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

NS = 1_000_000_000
OUR_PREFIX = "kb"  # krakenbot's client order ids (orders/clordid.py)
PROTECT_TAG = "protect"  # the engine's protective stop-loss (orders/protection.py)
_EXCHANGE_WORKING = frozenset({"pending", "open"})
_LEDGER_WORKING = frozenset({"pending_new", "open", "partially_filled"})


@dataclass(frozen=True, slots=True)
class ExchangeOrder:
    txid: str
    cl_ord_id: str | None
    side: str
    status: str  # pending | open | closed | canceled | expired
    vol_exec: Decimal
    vol: Decimal | None = None  # ordered volume (None: not known)
    ordertype: str = ""  # limit, stop-loss, ... ("": not known)


@dataclass(frozen=True, slots=True)
class ExchangeTrade:
    trade_id: str
    ordertxid: str
    side: str
    vol: Decimal


@dataclass(frozen=True, slots=True)
class LedgerOrder:
    order_id: str  # our client order id
    txid: str | None
    side: str
    status: str  # pending_new | open | partially_filled | filled | canceled | expired | rejected
    filled_volume: Decimal
    reduces_position: bool = False
    created_ns: int = 0
    tag: str = ""


@dataclass(frozen=True, slots=True)
class LedgerFill:
    trade_id: str
    txid: str
    side: str
    volume: Decimal


@dataclass(frozen=True, slots=True)
class AuditReport:
    lost: tuple[str, ...] = ()
    duplicated: tuple[str, ...] = ()
    phantom: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    orphaned: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()
    unprotected: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    fills: int = 0
    orders: int = 0
    foreign: int = 0

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.phantom
            or self.unknown
            or self.orphaned
            or self.mismatched
            or self.unprotected
        )

    def figures(self) -> str:
        return (
            f"{len(self.lost)} lost, {len(self.duplicated)} duplicated, "
            f"{len(self.phantom)} phantom, {len(self.unknown)} unknown, "
            f"{len(self.orphaned)} orphaned, {len(self.mismatched)} mismatched, "
            f"{len(self.unprotected)} unprotected"
        )

    def problems(self) -> list[str]:
        """One line per finding, for the failure report."""
        out: list[str] = []
        names = ("lost", "duplicated", "phantom", "unknown", "orphaned", "mismatched")
        for name in (*names, "unprotected"):
            out += [f"{name}: {item}" for item in getattr(self, name)]
        return out


def is_ours(cl_ord_id: str | None) -> bool:
    return bool(cl_ord_id) and str(cl_ord_id).startswith(OUR_PREFIX)


def audit(
    ledger_orders: Sequence[LedgerOrder],
    ledger_fills: Sequence[LedgerFill],
    exchange_orders: Sequence[ExchangeOrder],
    exchange_trades: Sequence[ExchangeTrade],
    *,
    stopped: bool = True,
    dust: Decimal = Decimal(0),
) -> AuditReport:
    """Compare the ledger with the exchange. `stopped`: the daemon has stopped, so nothing
    but protective stops may still be working on the exchange (orphaned) or believed working
    in the ledger, and a position must be covered by them (`dust`: what need not be)."""
    ours = {o.txid: o for o in exchange_orders if is_ours(o.cl_ord_id)}
    foreign = sum(1 for o in exchange_orders if not is_ours(o.cl_ord_id))
    by_id = {o.order_id: o for o in ledger_orders}
    by_txid = {o.txid: o for o in ledger_orders if o.txid}
    exchange_ids = {t.trade_id for t in exchange_trades}
    counted = Counter(f.trade_id for f in ledger_fills)

    lost = [
        f"trade {t.trade_id} of order {t.ordertxid} ({t.side} {t.vol})"
        for t in exchange_trades
        if t.ordertxid in ours and t.trade_id not in counted
    ]
    duplicated = [f"trade {tid} recorded {n} times" for tid, n in counted.items() if n > 1]
    phantom = [
        f"fill {f.trade_id} of {f.txid} ({f.side} {f.volume}) never executed"
        for f in ledger_fills
        if f.trade_id not in exchange_ids
    ]
    unknown: list[str] = []
    for order in ours.values():
        row = by_id.get(str(order.cl_ord_id))
        if row is None:
            unknown.append(f"exchange order {order.txid} ({order.cl_ord_id}) not in the ledger")
        elif row.txid != order.txid:
            unknown.append(
                f"exchange order {order.txid} ({order.cl_ord_id}) is {row.txid} in the ledger"
            )
    protected, orphaned, unprotected = (
        _protection(ours, by_id, ledger_fills, dust) if stopped else ([], [], [])
    )
    listed = {str(o.cl_ord_id) for o in ours.values()}
    unresolved = [
        f"{row.order_id}: never acknowledged, not on the exchange"
        for row in ledger_orders
        if row.status == "pending_new" and not row.txid and row.order_id not in listed
    ]
    mismatched = _mismatched(ours, by_txid, ledger_orders, stopped=stopped)
    duplicated += _overfilled(ours, ledger_fills)
    return AuditReport(
        lost=tuple(lost),
        duplicated=tuple(duplicated),
        phantom=tuple(phantom),
        unknown=tuple(unknown),
        orphaned=tuple(orphaned),
        mismatched=tuple(mismatched),
        unprotected=tuple(unprotected),
        unresolved=tuple(unresolved),
        protected=tuple(protected),
        fills=len(exchange_trades),
        orders=len(ours),
        foreign=foreign,
    )


def _working(order: ExchangeOrder) -> bool:
    return order.status in _EXCHANGE_WORKING


def position(fills: Iterable[LedgerFill]) -> Decimal:
    """Bought minus sold, each trade id once."""
    unique = {f.trade_id: f for f in fills}.values()
    return sum((f.volume if f.side == "buy" else -f.volume for f in unique), Decimal(0))


def _protection(
    ours: dict[str, ExchangeOrder],
    by_id: dict[str, LedgerOrder],
    fills: Sequence[LedgerFill],
    dust: Decimal,
) -> tuple[list[str], list[str], list[str]]:
    """(protective stops resting, orphaned orders, an unprotected position) once stopped."""
    working = [o for o in ours.values() if _working(o)]
    stops = [o for o in working if (row := by_id.get(str(o.cl_ord_id))) and row.tag == PROTECT_TAG]
    held = position(fills)
    orphaned = [f"{o.txid} ({o.cl_ord_id}) still {o.status}" for o in working if o not in stops]
    if held <= 0:
        orphaned += [f"{o.txid} ({o.cl_ord_id}): protective stop resting while flat" for o in stops]
    protected = [f"{o.txid} ({o.cl_ord_id}) covers the position of {held}" for o in stops]
    sizes = [o.vol - o.vol_exec for o in stops if o.vol is not None]
    covered = sum(sizes, Decimal(0)) if len(sizes) == len(stops) else None
    short = not stops or (covered is not None and covered < held)
    unprotected = (
        [f"position {held} held after the stop; protective stops cover {covered or 0}"]
        if held > dust and short
        else []
    )
    return protected, orphaned, unprotected


def _mismatched(
    ours: dict[str, ExchangeOrder],
    by_txid: dict[str, LedgerOrder],
    ledger_orders: Sequence[LedgerOrder],
    *,
    stopped: bool,
) -> list[str]:
    out: list[str] = []
    for txid, order in ours.items():
        row = by_txid.get(txid)
        if row is None:
            continue  # reported as unknown
        if row.filled_volume != order.vol_exec:
            out.append(
                f"{row.order_id}: ledger filled {row.filled_volume}, "
                f"exchange executed {order.vol_exec}"
            )
        elif stopped and (row.status in _LEDGER_WORKING) != _working(order):
            out.append(f"{row.order_id}: ledger {row.status}, exchange {order.status}")
    if stopped:
        out += [
            f"{row.order_id}: ledger {row.status}, not on the exchange"
            for row in ledger_orders
            if row.status in _LEDGER_WORKING and row.txid and row.txid not in ours
        ]
    return out


def _overfilled(ours: dict[str, ExchangeOrder], ledger_fills: Sequence[LedgerFill]) -> list[str]:
    recorded: dict[str, Decimal] = {}
    for fill in {f.trade_id: f for f in ledger_fills}.values():
        recorded[fill.txid] = recorded.get(fill.txid, Decimal(0)) + fill.volume
    return [
        f"order {txid}: fills add up to {vol}, exchange executed {ours[txid].vol_exec}"
        for txid, vol in recorded.items()
        if txid in ours and vol > ours[txid].vol_exec
    ]


# ---------------------------------------------------------------- exits refused


@dataclass(frozen=True, slots=True)
class Denial:
    ts_ns: int
    side: str
    rule: str
    reduces: bool  # the refused order would have reduced a position (an exit)


@dataclass(frozen=True, slots=True)
class Lockout:
    """Exits refused from `first_ns` to `last_ns` with no exit order in between."""

    first_ns: int
    last_ns: int
    refusals: int
    rules: frozenset[str] = field(default_factory=frozenset)

    @property
    def seconds(self) -> float:
        return (self.last_ns - self.first_ns) / NS

    def describe(self) -> str:
        return (
            f"{self.refusals} exits refused over {self.seconds:.1f} s "
            f"({', '.join(sorted(self.rules))})"
        )


# An exit refused because other exits already cover the position is not blocked: an exit is
# working (perhaps one of unknown fate, which must not be doubled).
COVERED = "not_reducing"


def exit_refusals(
    denials: Iterable[Denial], exits_sent_ns: Iterable[int], starts_ns: Iterable[int]
) -> list[Lockout]:
    """Every stretch of refused exits. A stretch ends at the next exit order the daemon sent
    (it got out) or at a daemon start (a new process: a dead daemon refuses nothing, so the
    downtime between a kill and the restart is not counted as refusal). Refusals because
    other exits already cover the position (`COVERED`) do not count."""
    boundaries = sorted(set(exits_sent_ns) | set(starts_ns))
    stretches: list[Lockout] = []
    current: list[Denial] = []

    def close() -> None:
        if current:
            stretches.append(
                Lockout(
                    current[0].ts_ns,
                    current[-1].ts_ns,
                    len(current),
                    frozenset(d.rule for d in current),
                )
            )
            current.clear()

    b = 0
    refused = (d for d in denials if d.reduces and d.rule != COVERED)
    for denial in sorted(refused, key=lambda d: d.ts_ns):
        crossed = False
        while b < len(boundaries) and boundaries[b] <= denial.ts_ns:
            b += 1
            crossed = True
        if crossed:
            close()
        current.append(denial)
    close()
    return stretches


def exit_lockouts(
    denials: Iterable[Denial],
    exits_sent_ns: Iterable[int],
    starts_ns: Iterable[int],
    *,
    cooldown_s: float,
    slack_s: float,
) -> tuple[list[Lockout], float]:
    """The stretches of refused exits longer than the breaker cooldown (plus `slack_s`: the
    strategy's own pause between attempts), and the longest stretch in seconds."""
    stretches = exit_refusals(denials, exits_sent_ns, starts_ns)
    longest = max((s.seconds for s in stretches), default=0.0)
    return [s for s in stretches if s.seconds > cooldown_s + slack_s], longest

"""Which stretch of the account's history a reconciliation run asks Kraken for (pure).

Owns: `window_start` (the `start` of the run's ClosedOrders / TradesHistory queries),
`in_window` (the local orders the diff compares), the persisted mark's ledger key
(`MARK_KEY`) and its text form. Imports: domain, engine.config. Must not import: net,
store, app (the reconciler reads and writes the mark through the Repository port).

Why a run never misses a fill and never re-reads the whole account:
* The mark: a run whose corrections were all recorded has seen every fill and every close
  that Kraken listed when its queries started, at `now` — the mark. It is kept in the
  ledger (`state` table), so a restarted daemon goes on from it instead of looking back
  days.
* The next run asks for what closed or filled after `mark - overlap_s`. The overlap covers
  the difference between our clock and Kraken's and a record that Kraken lists a moment
  late; whatever it lists twice is recognised by its Kraken trade id (the ledger's UNIQUE
  trade_id and `Settlement.fill_ids`) and by its order's txid, never recorded again. So a
  run reads about `interval_s + overlap_s` of history however long the daemon has run.
* An order of ours that has no txid yet can only be proved absent when the listing covers
  its creation (orders/reconcile.py `_missing`): the window reaches back before it.
* Without a mark (a new ledger, or one written before marks existed) the first window
  looks back `lookback_s`, and further back for any order of ours still live — exactly as
  before marks.
* At least `overlap_s` whatever the mark says (a clock that was set back).
"""

from __future__ import annotations

from collections.abc import Iterable

from krakenbot.domain.order import Order
from krakenbot.engine.config import ReconcileConfig

MARK_KEY = "reconciled_through_ns"
_NS = 1_000_000_000


def window_start(
    now_ns: int, mark_ns: int | None, orders: Iterable[Order], cfg: ReconcileConfig
) -> int:
    overlap = int(cfg.overlap_s * _NS)
    live = [o for o in orders if not o.is_terminal]
    if mark_ns is None:
        start = now_ns - int(cfg.lookback_s * _NS)
        start = min([start, *(o.created_ns - overlap for o in live)])
    else:
        start = mark_ns - overlap
    unsent = [o.created_ns - overlap for o in live if o.order_id is None]
    return min(start, now_ns - overlap, *unsent)


def in_window(orders: Iterable[Order], start_ns: int, cfg: ReconcileConfig) -> list[Order]:
    """Our orders the run compares: every live one, and the finished ones created or last
    changed inside the window — widened by the overlap, because a listing shows an order a
    little before `start` (sent in whole seconds, rounded down; stamped by Kraken's clock).
    A finished order of ours listed but left out here would be taken for an unknown one."""
    since = start_ns - int(cfg.overlap_s * _NS)
    return [
        o for o in orders if not o.is_terminal or o.created_ns >= since or o.updated_ns >= since
    ]


def parse_mark(text: str | None) -> int | None:
    """The stored mark, or None when there is none (or it is unreadable: then the window
    falls back to the first-run rule, which is the safe direction)."""
    if not text or len(text) > 20 or not text.isdigit():
        return None
    return int(text)


__all__ = ["MARK_KEY", "in_window", "parse_mark", "window_start"]

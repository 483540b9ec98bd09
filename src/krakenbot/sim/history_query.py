"""The account history endpoints, ClosedOrders and TradesHistory, with Kraken's window, and
QueryTrades (pure).

Owns: `m_closed_orders`, `m_trades_history` and `m_query_trades` (`(state, params) ->
(result, error)`, as in rest_methods.py) and the window the first two share: `start` / `end`
bounds, `ofs` paging, `count`, ClosedOrders' `closetime`, TradesHistory's `type`. Imports:
stdlib and sim.* only.

Kraken's rules, quoted from its docs (docs.kraken.com/api/docs/rest-api/get-closed-orders and
…/get-trade-history), and how the simulator reads them:
* "50 results are returned at a time, the most recent by default." — newest first, pages of
  `PAGE_SIZE`;
* `start`: "Starting unix timestamp or order tx ID of results (exclusive)" (TradesHistory:
  "… or trade tx ID …") — a record is listed when its time is strictly after `start`;
* `end`: "Ending unix timestamp or order tx ID of results (inclusive)" — and when its time
  is at or before `end`;
* "If an order's tx ID is given for `start` or `end` time, the order's opening time
  (`opentm`) is used" (ClosedOrders); a trade's tx ID stands for the trade's `time`
  (TradesHistory);
* `ofs`: "Result offset for pagination" — the first `ofs` matching records are skipped;
* `closetime`: "Which time to use to search", `open` | `close` | `both` (default `both`);
* `count`: "Amount of available order info matching criteria" / "Amount of available trades
  matching criteria" — every record the filters match, not the page's size.
Not stated by the docs, chosen here (the client never relies on them): with `closetime=both`
an order is listed when its opening OR its closing time lies in the window, and listings are
ordered by the time searched (`both`: the closing time); a timestamp may carry decimals (Kraken
prints times as decimal seconds); a `start`/`end` that names no known order/trade, a negative
`ofs` or an unknown `closetime`/`type` is refused with `EGeneral:Invalid arguments`. Times are
compared at the simulator's nanosecond precision. The simulator keeps a bounded history
(sim/account_history.py): `count` covers what it kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from krakenbot.sim import wire_rest as wire
from krakenbot.sim.model import Fill, SimOrder
from krakenbot.sim.parse import E_ARGS, decimal_text, truthy
from krakenbot.sim.state import SimState

Params = dict[str, object]
Result = tuple[object | None, str | None]
T = TypeVar("T")

PAGE_SIZE = 50
# docs query-trades-info: "Comma delimited list of transaction IDs … (20 maximum)"
MAX_QUERY_TRADES = 20
CLOSETIMES = ("open", "close", "both")
# TradesHistory `type`: spot trades open no position, so only these two list them.
TRADE_TYPES = ("all", "any position", "closed position", "closing position", "no position")
_SPOT_TYPES = ("all", "no position")
_MAX_BOUND_CHARS = 32  # a bound longer than this is no timestamp Kraken could mean


@dataclass(frozen=True, slots=True)
class Window:
    """(start, end] in nanoseconds; None: unbounded on that side."""

    start_ns: int | None = None
    end_ns: int | None = None

    def holds(self, t_ns: int) -> bool:
        if self.start_ns is not None and t_ns <= self.start_ns:
            return False  # start is exclusive
        return self.end_ns is None or t_ns <= self.end_ns  # end is inclusive


def bound_ns(raw: object, txid_time: Callable[[str], int | None]) -> int | str | None:
    """One `start`/`end` value: None when absent, the time in ns, or an error string."""
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    if len(text) > _MAX_BOUND_CHARS:
        return E_ARGS
    seconds = decimal_text(text)
    if seconds is not None:
        return int(seconds.scaleb(9))
    found = txid_time(text)
    return E_ARGS if found is None else found


def window(params: Params, txid_time: Callable[[str], int | None]) -> tuple[Window, int] | str:
    """The request's (start, end] window and its `ofs`, or an error string."""
    start = bound_ns(params.get("start"), txid_time)
    end = bound_ns(params.get("end"), txid_time)
    if isinstance(start, str):
        return f"{start}:start"
    if isinstance(end, str):
        return f"{end}:end"
    ofs = offset(params)
    if ofs is None:
        return f"{E_ARGS}:ofs"
    return Window(start, end), ofs


def offset(params: Params) -> int | None:
    raw = params.get("ofs")
    if raw is None or raw == "":
        return 0
    try:
        value = int(str(raw))
    except ValueError:
        return None
    return value if value >= 0 else None


def page(records: Iterable[T], ofs: int) -> tuple[list[T], int]:
    """The page at `ofs` of the (newest-first) records and how many there are in all."""
    matching = list(records)
    return matching[ofs : ofs + PAGE_SIZE], len(matching)


def _order_times(order: SimOrder, closetime: str) -> tuple[int, ...]:
    closed = order.closetm_ns or order.opentm_ns
    if closetime == "open":
        return (order.opentm_ns,)
    if closetime == "close":
        return (closed,)
    return (order.opentm_ns, closed)


def by_client_ids(orders: list[SimOrder], params: Params) -> list[SimOrder]:
    if params.get("userref") not in (None, ""):
        ref = str(params["userref"])
        orders = [o for o in orders if str(o.userref) == ref]
    if params.get("cl_ord_id") not in (None, ""):
        orders = [o for o in orders if o.cl_ord_id == params["cl_ord_id"]]
    return orders


def m_closed_orders(state: SimState, params: Params) -> Result:
    ex = state.exchange
    closetime = str(params.get("closetime") or "both")
    if closetime not in CLOSETIMES:
        return None, f"{E_ARGS}:closetime"

    def opened(txid: str) -> int | None:
        order = ex.orders.get(txid)
        return None if order is None else order.opentm_ns

    asked = window(params, opened)
    if isinstance(asked, str):
        return None, asked
    span, ofs = asked
    closed = [o for o in ex.orders.values() if not o.is_open]
    closed = [
        o for o in by_client_ids(closed, params) if any(map(span.holds, _order_times(o, closetime)))
    ]
    closed.sort(key=lambda o: max(_order_times(o, closetime)), reverse=True)
    rows, count = page(closed, ofs)
    trades = truthy(params.get("trades", False))
    listing = {o.txid: wire.order(o, with_trades=trades) for o in rows}
    return {"closed": listing, "count": count}, None


def m_trades_history(state: SimState, params: Params) -> Result:
    fills = state.exchange.fills
    kind = str(params.get("type") or "all")
    if kind not in TRADE_TYPES:
        return None, f"{E_ARGS}:type"

    def traded(txid: str) -> int | None:
        return next((f.time_ns for f in fills if f.txid == txid), None)

    asked = window(params, traded)
    if isinstance(asked, str):
        return None, asked
    span, ofs = asked
    listed: list[Fill] = [f for f in fills if span.holds(f.time_ns)] if kind in _SPOT_TYPES else []
    listed.sort(key=lambda f: f.time_ns, reverse=True)
    rows, count = page(listed, ofs)
    return {"trades": {f.txid: wire.trade(f) for f in rows}, "count": count}, None


def m_query_trades(state: SimState, params: Params) -> Result:
    """QueryTrades: the trades `txid` lists (comma list, 1…`MAX_QUERY_TRADES`), keyed by trade
    id in the order asked, each the same record TradesHistory lists (docs query-trades-info
    example: `result` maps the ids straight to the records). `trades` (a position's closing
    trades) adds nothing on a spot account. An id the simulator does not know (never made, or
    older than the fills it keeps) refuses the request with `EGeneral:Invalid arguments:txid`
    (the sim's choice: Kraken's reply to an unknown id is not documented)."""
    ids = [t.strip() for t in str(params.get("txid") or "").split(",") if t.strip()]
    if not ids or len(ids) > MAX_QUERY_TRADES:
        return None, f"{E_ARGS}:txid"
    by_id = {f.txid: f for f in state.exchange.fills}
    if any(txid not in by_id for txid in ids):
        return None, f"{E_ARGS}:txid"
    return {txid: wire.trade(by_id[txid]) for txid in ids}, None


__all__ = [
    "MAX_QUERY_TRADES",
    "PAGE_SIZE",
    "Window",
    "by_client_ids",
    "m_closed_orders",
    "m_query_trades",
    "m_trades_history",
    "window",
]

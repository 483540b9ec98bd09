"""Ledgers and QueryLedgers: the account ledger (sim/ledger.py) as Kraken lists it (pure).

Owns: `m_ledgers` and `m_query_ledgers` (`(state, params) -> (result, error)`, as in
rest_methods.py) and `entry`, one ledger entry on the wire. Imports: stdlib and sim.* only.

Kraken's rules (docs.kraken.com/api/docs/rest-api/get-ledgers and …/get-ledgers-info, the
"Query Ledgers" page), and how the simulator reads them:
* "50 results are returned at a time, the most recent by default" — newest first, pages of
  history_query.PAGE_SIZE, `ofs` skipping, `count` every entry the filters match — the same
  window as TradesHistory (history_query.window): `start` exclusive, `end` inclusive, each a
  unix timestamp or a ledger id (standing for that entry's time);
* `asset`: "Filter output by asset or comma delimited list of assets", default `all`; any
  spelling the sim knows (`XBT`, `XXBT`, `BTC`); an unknown one is refused with
  `EQuery:Unknown asset` (API.md §errors);
* `aclass`: "Filter output by asset class", default `currency` — the sim's account only
  holds currencies, so another class lists nothing;
* `type`: one of the documented entry types (`all`, `deposit`, `withdrawal`, `trade`,
  `margin`, …, `earn`), default `all`; another is refused with `EGeneral:Invalid arguments`;
* the reply is `{"ledger": {ledger_id: entry}, "count": N}`; an entry has `refid`, `time`
  (decimal seconds), `type`, `subtype` (`""`), `aclass`, `asset` (REST code, e.g. `ZUSD`)
  and `amount` / `fee` / `balance` as strings at the asset's ledger decimals (the example:
  `"-24.5000"` ZGBP, four decimals);
* QueryLedgers: `id`, "Comma delimited list of ledger IDs to query info about (20 maximum)",
  answers `{ledger_id: entry}` in the order asked; `trades` adds nothing on a spot account.
Not confirmed from the docs, chosen here: `without_count` is accepted and `count` is still
given; an unknown ledger id in QueryLedgers refuses the request with
`EGeneral:Invalid arguments:id` (as QueryTrades does for trade ids).
"""

from __future__ import annotations

from collections.abc import Iterable

from krakenbot.sim.history_query import page, window
from krakenbot.sim.model import LedgerEvent
from krakenbot.sim.pairs import ASSETS, normalize_asset
from krakenbot.sim.parse import E_ARGS
from krakenbot.sim.state import SimState
from krakenbot.sim.wire_rest import Json, epoch, fixed

Params = dict[str, object]
Result = tuple[object | None, str | None]

E_UNKNOWN_ASSET = "EQuery:Unknown asset"
MAX_QUERY_LEDGERS = 20
# docs get-ledgers, request body `type` enum
LEDGER_TYPES = (
    "all",
    "deposit",
    "withdrawal",
    "trade",
    "margin",
    "rollover",
    "credit",
    "transfer",
    "settled",
    "staking",
    "dividend",
    "sale",
    "nft_rebate",
    "conversion",
    "allocation",
    "deallocation",
    "earn",
)


def entry(ev: LedgerEvent) -> Json:
    spec = ASSETS[ev.asset]
    return {
        "refid": ev.ref_id,
        "time": epoch(ev.time_ns),
        "type": ev.kind,
        "subtype": "",
        "aclass": "currency",
        "asset": spec.legacy,
        "amount": fixed(ev.amount, spec.decimals),
        "fee": fixed(ev.fee, spec.decimals),
        "balance": fixed(ev.balance, spec.decimals),
    }


def _comma_list(raw: object) -> list[str]:
    return [part.strip() for part in str(raw or "").split(",") if part.strip()]


def _assets(params: Params) -> set[str] | str | None:
    """The asset codes asked (None: all), or an error string."""
    names = _comma_list(params.get("asset"))
    if not names or [n.lower() for n in names] == ["all"]:
        return None
    codes = {normalize_asset(n) for n in names}
    if None in codes:
        return E_UNKNOWN_ASSET
    return {c for c in codes if c is not None}


def _matching(
    ledger: Iterable[LedgerEvent], assets: set[str] | None, kind: str, aclass: str
) -> list[LedgerEvent]:
    if aclass != "currency":
        return []
    return [
        ev for ev in ledger if (assets is None or ev.asset in assets) and kind in ("all", ev.kind)
    ]


def m_ledgers(state: SimState, params: Params) -> Result:
    ledger = state.exchange.ledger
    kind = str(params.get("type") or "all")
    if kind not in LEDGER_TYPES:
        return None, f"{E_ARGS}:type"
    assets = _assets(params)
    if isinstance(assets, str):
        return None, assets

    def booked(ledger_id: str) -> int | None:
        return next((ev.time_ns for ev in ledger if ev.ledger_id == ledger_id), None)

    asked = window(params, booked)
    if isinstance(asked, str):
        return None, asked
    span, ofs = asked
    aclass = str(params.get("aclass") or "currency")
    listed = [ev for ev in _matching(ledger, assets, kind, aclass) if span.holds(ev.time_ns)]
    listed.reverse()  # booked in time order; newest first
    rows, count = page(listed, ofs)
    return {"ledger": {ev.ledger_id: entry(ev) for ev in rows}, "count": count}, None


def m_query_ledgers(state: SimState, params: Params) -> Result:
    ids = _comma_list(params.get("id"))
    if not ids or len(ids) > MAX_QUERY_LEDGERS:
        return None, f"{E_ARGS}:id"
    by_id = {ev.ledger_id: ev for ev in state.exchange.ledger}
    if any(ledger_id not in by_id for ledger_id in ids):
        return None, f"{E_ARGS}:id"
    return {ledger_id: entry(by_id[ledger_id]) for ledger_id in ids}, None


__all__ = ["LEDGER_TYPES", "MAX_QUERY_LEDGERS", "entry", "m_ledgers", "m_query_ledgers"]

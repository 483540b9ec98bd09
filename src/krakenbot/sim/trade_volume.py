"""TradeVolume: the account's 30-day USD volume and the fees it implies per pair (pure).

Owns: `m_trade_volume` (`(state, params) -> (result, error)`, as in rest_methods.py).
Imports: stdlib and sim.* only.
Kraken (docs.kraken.com/api/docs/rest-api/get-trade-volume): "Returns 30 day USD trading
volume and resulting fee schedule for any asset pair(s) provided. Fees will not be included
if `pair` is not specified"; "the taker side is given in `fees` and maker side in
`fees_maker`". The reply, as the documented example shows it: `currency` (`ZUSD`), `volume`
(4 decimals) and, per pair, `fee` (the current percent), `minfee` / `maxfee` (the schedule's
lowest and highest), `nextfee` / `nextvolume` (the next tier's percent and volume threshold,
`null` at the last tier) and `tiervolume` (the current tier's threshold), percents and volumes
as strings with 4 decimals. The fees are the pair's own schedule (AssetPairs `fees` /
`fees_maker`, domain/fees.py) at the tier the volume reaches, the same fee the sim charges
on the next fill (sim/settle.py). Not confirmed from the docs, chosen here: each pair is keyed
by its canonical id (`XXBTZUSD`) whatever the form asked; an unknown pair answers
`EQuery:Unknown asset pair`; the newer `fee_schedule` option (`schedules`) is not served.
"""

from __future__ import annotations

from decimal import Decimal

from krakenbot.sim.pairs import PairSpec
from krakenbot.sim.parse import E_UNKNOWN_PAIR
from krakenbot.sim.state import SimState
from krakenbot.sim.volume import FeeTable, tier_of
from krakenbot.sim.wire_rest import Json

Params = dict[str, object]
Result = tuple[object | None, str | None]


def _four(value: Decimal | int) -> str:
    return f"{Decimal(value):.4f}"


def fee_info(table: FeeTable, volume: Decimal) -> Json:
    tier = tier_of(table, volume)
    pcts = [pct for _, pct in table]
    last = tier == len(table) - 1
    return {
        "fee": _four(table[tier][1]),
        "minfee": _four(min(pcts)),
        "maxfee": _four(max(pcts)),
        "nextfee": None if last else _four(table[tier + 1][1]),
        "nextvolume": None if last else _four(table[tier + 1][0]),
        "tiervolume": _four(table[tier][0]),
    }


def m_trade_volume(state: SimState, params: Params) -> Result:
    ex = state.exchange
    volume = ex.volume.total(state.now_ns())
    result: Json = {"currency": "ZUSD", "volume": _four(volume)}
    names = [n.strip() for n in str(params.get("pair") or "").split(",") if n.strip()]
    specs: list[PairSpec] = []
    for name in names:
        spec = ex.index.resolve(name)
        if spec is None:
            return None, E_UNKNOWN_PAIR
        specs.append(spec)
    if specs:
        result["fees"] = {s.rest_id: fee_info(s.taker_fees, volume) for s in specs}
        result["fees_maker"] = {s.rest_id: fee_info(s.maker_fees, volume) for s in specs}
    return result, None


__all__ = ["fee_info", "m_trade_volume"]

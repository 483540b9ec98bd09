"""Money for one fill and the funds an open order holds (pure; part of the exchange core).

Owns: `fill_amounts` (cost and fee of a fill, the fee in base with `fcib` else in quote, at
the tier the account's 30-day USD volume reaches — sim/volume.py),
`book_fill` (balances, the order's totals, the public print and the ledger events) and
`hold_of` (what an open order reserves: its base for a sell, its quote plus the tier-0
taker fee — the highest, so the hold never falls short whatever the tier — for a buy, at its
limit or else its trigger price — trigger orders hold funds too, as they show in BalanceEx
`hold_trade`). Imports: stdlib and sim.* only.
Fee currency: docs rest-api/add-order `oflags`: `fcib` "prefer fee in base currency",
`fciq` "prefer fee in quote currency"; the sim charges in quote unless `fcib` was given.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from typing import TYPE_CHECKING

from krakenbot.sim.model import ZERO, Fill, LedgerEvent, SimOrder, kraken_id
from krakenbot.sim.pairs import ASSETS
from krakenbot.sim.volume import fee_pct, usd_value

if TYPE_CHECKING:
    from krakenbot.sim.exchange import Exchange


def _q(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(step, rounding=rounding)


def fill_amounts(
    order: SimOrder, price: Decimal, qty: Decimal, maker: bool, volume: Decimal = ZERO
) -> tuple[Decimal, Decimal]:
    """(cost in quote, fee in the order's fee currency) at the pair's fee for the account's
    30-day USD `volume` (sim/volume.py)."""
    spec = order.pair
    step = ASSETS[spec.quote].step
    cost = _q(price * qty, step)
    pct = fee_pct(spec.maker_fees if maker else spec.taker_fees, volume)
    if order.fee_in_base:
        return cost, _q(qty * pct / 100, spec.lot_step)
    return cost, _q(cost * pct / 100, step)


def book_fill(
    ex: Exchange, order: SimOrder, price: Decimal, qty: Decimal, *, maker: bool, now_ns: int
) -> Fill:
    spec = order.pair
    cost, fee = fill_amounts(order, price, qty, maker, ex.volume.total(now_ns))
    ex.volume.add(now_ns, usd_value(spec.quote, cost, ex.markets))
    market = ex.markets[spec.symbol]
    taker_side = order.side if not maker else ("sell" if order.side == "buy" else "buy")
    taker_type = ("market" if order.price is None else "limit") if not maker else "limit"
    public = market.print_trade(price, qty, taker_side, taker_type, now_ns)
    fee_asset = spec.base if order.fee_in_base else spec.quote
    fill = Fill(
        kraken_id(ex.rng, "T"),
        order.txid,
        kraken_id(ex.rng, "T"),
        spec,
        order.side,
        order.ordertype,
        price,
        qty,
        cost,
        fee,
        maker,
        now_ns,
        public.trade_id,
        fee_asset,
    )
    sign = 1 if order.side == "buy" else -1
    base_fee = fee if order.fee_in_base else ZERO
    quote_fee = ZERO if order.fee_in_base else fee
    ex.balances[spec.base] = ex.balances.get(spec.base, ZERO) + sign * qty - base_fee
    ex.balances[spec.quote] = ex.balances.get(spec.quote, ZERO) - sign * cost - quote_fee
    order.vol_exec += qty
    order.cost += cost
    order.fee += fee
    order.trades.append(fill.txid)
    ex.fills.append(fill)
    for asset, amount, fee_part in (
        (spec.base, sign * qty, base_fee),
        (spec.quote, -sign * cost, quote_fee),
    ):
        entry = LedgerEvent(
            kraken_id(ex.rng, "L"), fill.txid, now_ns, asset, amount, fee_part, ex.balances[asset]
        )
        ex.events.append(entry)
        ex.ledger.append(entry)  # kept for Ledgers / QueryLedgers (sim/ledger.py)
    return fill


def hold_of(order: SimOrder) -> Decimal:
    """What the open remainder of `order` reserves (0 once it is closed)."""
    if not order.is_open:
        return ZERO
    spec = order.pair
    fee = spec.taker_pct / 100
    if order.side == "sell":
        base = order.remaining * (1 + fee) if order.fee_in_base else order.remaining
        return _q(base, spec.lot_step, ROUND_UP)
    price = order.price or order.limit or order.stop
    if price is None:
        return ZERO  # a market order never rests
    return _q(order.remaining * price * (1 + fee), ASSETS[spec.quote].step, ROUND_UP)

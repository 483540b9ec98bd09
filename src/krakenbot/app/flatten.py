"""`krakenbot stop --flatten`: close the position with an IOC sell through the risk gate.

Owns: `flatten_positions` — for each allowed pair, the base-asset balance Kraken reports is
sold with an immediate-or-cancel limit order at the best bid, after the same RiskGate the
daemon uses approves it on its reducing path (TradingState.REDUCING: an exit that shrinks a
position passes whatever the entry limits say, but still needs a tradable pair, an accepting
exchange and valid lot/tick/ordermin). Runs only when the daemon is gone, so nothing else
trades. The order is persisted to the ledger before it is sent (persist, then send).
Imports: anything (composition root).
"""

from __future__ import annotations

import random

from krakenbot.app.exchange_view import operator_client, operator_key
from krakenbot.clock import Clock
from krakenbot.config import Settings
from krakenbot.domain.commands import OrderIntent, PlaceOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce, TradingState
from krakenbot.domain.events import BookTop
from krakenbot.errors import KrakenbotError
from krakenbot.kraken.rest_orders import order_request
from krakenbot.orders.clordid import new_cl_ord_id
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Denied
from krakenbot.risk.gate import RiskGate
from krakenbot.store import LedgerRepository, open_ledger


async def flatten_positions(settings: Settings, clock: Clock) -> list[str]:
    """Sell every allowed pair's base balance; one report line per pair."""
    key = operator_key(settings)
    if settings.credentials() is None or key is None:
        return ["flatten: no API key configured; nothing to sell (paper mode)"]
    lines: list[str] = []
    gate = RiskGate(settings.risk_limits())
    # The main key: selling needs trading permission, which a status key should not have.
    main = operator_key(
        settings.model_copy(
            update={"kraken_status_api_key": None, "kraken_status_api_secret": None}
        )
    )
    try:
        async with operator_client(settings, main, clock=clock) as client:
            system = (await client.system_status()).status
            instruments = await client.asset_pairs(list(settings.allowed_pairs))
            balances = await client.balance()
            for symbol in settings.allowed_pairs:
                inst = instruments.get(symbol)
                if inst is None:
                    lines.append(f"flatten {symbol}: unknown pair on the exchange")
                    continue
                held = inst.quantize_qty(balances.spot(inst.base).balance)
                if held < inst.ordermin:
                    lines.append(f"flatten {symbol}: nothing to sell ({held} {inst.base})")
                    continue
                depth = await client.depth(inst.altname, count=10)
                now = clock.now_ns()
                book = BookTop(symbol, depth.bids, depth.asks, True, now, now)
                if book.best_bid is None:
                    lines.append(f"flatten {symbol}: no bid to sell into")
                    continue
                intent = OrderIntent(
                    symbol=symbol,
                    side=Side.SELL,
                    order_type=OrderType.LIMIT,
                    qty=held,
                    limit_price=book.best_bid,
                    time_in_force=TimeInForce.IOC,
                    reduces_position=True,
                    tag="flatten",
                )
                ctx = RiskContext(
                    now_ns=now,
                    trading_state=TradingState.REDUCING,
                    system_state=system,
                    breaker_open=False,
                    instruments=instruments,
                    books={symbol: book},
                    positions={symbol: held},
                    working=(),
                    daily_pnl=None,
                    balances={e.asset: e.balance for e in balances.entries if not e.wallet},
                )
                decision = gate.check(intent, ctx)
                if isinstance(decision, Denied):
                    lines.append(f"flatten {symbol}: denied by the risk gate: {decision.reason}")
                    continue
                place = PlaceOrder(
                    cl_ord_id=new_cl_ord_id(now, random.Random()),
                    symbol=symbol,
                    side=Side.SELL,
                    order_type=OrderType.LIMIT,
                    qty=held,
                    limit_price=book.best_bid,
                    time_in_force=TimeInForce.IOC,
                )
                request = order_request(place, inst)
                await _persist(settings, clock, place)
                placed = await client.add_order(request)
                lines.append(
                    f"flatten {symbol}: IOC sell {held} at {book.best_bid} sent "
                    f"(cl_ord_id {place.cl_ord_id}, txid {placed.txid})"
                )
    except (KrakenbotError, ValueError) as exc:
        lines.append(f"flatten failed: {exc}")
    return lines or ["flatten: nothing to do"]


async def _persist(settings: Settings, clock: Clock, place: PlaceOrder) -> None:
    """Record the order before sending it; the next daemon start reconciles its outcome."""
    db = await open_ledger(settings.database_path, clock)
    try:
        await LedgerRepository(db, clock).insert_order(place, tag="flatten", reduces_position=True)
    finally:
        await db.close()

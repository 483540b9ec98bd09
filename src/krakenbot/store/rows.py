"""Row mapping: SQLite rows of the ledger to domain records.

Owns: the column-by-column conversion of `orders`, `fills` and `trades` rows into
`OrderRecord`, `Fill` and `TradeRecord`. Imports: store.codec/db and domain only.
Column names are the seed's (`order_id` is our client order id, `type` the side, …).
"""

from __future__ import annotations

from krakenbot.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import LedgerEvent, OrderRecord, TradeRecord, TradeStatus
from krakenbot.store.codec import from_json, opt_text_to_dec, text_to_dec
from krakenbot.store.db import Row


def order_from_row(row: Row) -> OrderRecord:
    order_type = OrderType(row["ordertype"])
    price = opt_text_to_dec(row["price"])
    # `price` is Kraken's: the trigger of a stop-loss, the limit of a limit order.
    triggered = order_type.is_triggered
    return OrderRecord(
        cl_ord_id=row["order_id"],
        txid=row["txid"],
        symbol=row["pair"],
        side=Side(row["type"]),
        order_type=order_type,
        limit_price=None if triggered else price,
        trigger_price=price if triggered else None,
        qty=text_to_dec(row["volume"]),
        status=OrderStatus(row["status"]),
        filled_qty=text_to_dec(row["filled_volume"]),
        avg_fill_price=opt_text_to_dec(row["avg_fill_price"]),
        time_in_force=TimeInForce(row["time_in_force"]),
        post_only=bool(row["post_only"]),
        tag=row["tag"],
        reason=row["reason"],
        created_ns=int(row["created_ns"]),
        updated_ns=int(row["updated_ns"]),
        filled_cost=text_to_dec(row["filled_cost"]),
        fees=text_to_dec(row["fees"]),
        venue_cum_qty=text_to_dec(row["venue_cum_qty"]),
        reduces_position=bool(row["reduces_position"]),
        cancel_requested=bool(row["cancel_requested"]),
    )


def fill_from_row(row: Row) -> Fill:
    liquidity = row["liquidity"]
    return Fill(
        trade_id=row["trade_id"],
        order_id=row["txid"],
        cl_ord_id=row["order_id"],
        symbol=row["pair"],
        side=Side(row["side"]),
        price=text_to_dec(row["price"]),
        qty=text_to_dec(row["volume"]),
        cost=text_to_dec(row["cost"]),
        fee=text_to_dec(row["fee"]),
        fee_asset=row["fee_asset"],
        liquidity=None if liquidity is None else Liquidity(liquidity),
        exchange_ns=int(row["exchange_ns"]),
    )


def trade_from_row(row: Row) -> TradeRecord:
    return TradeRecord(
        id=int(row["id"]),
        symbol=row["pair"],
        side=Side(row["side"]),
        entry_price=text_to_dec(row["price"]),
        volume=text_to_dec(row["volume"]),
        open_volume=text_to_dec(row["open_volume"]),
        status=TradeStatus(row["status"]),
        cl_ord_id=row["order_id"],
        txid=row["txid"],
        profit_loss=text_to_dec(row["profit_loss"]),
        fees=text_to_dec(row["fees"]),
        exit_price=opt_text_to_dec(row["exit_price"]),
        opened_ns=int(row["opened_ns"]),
        closed_ns=None if row["closed_ns"] is None else int(row["closed_ns"]),
        notes=row["notes"],
    )


def event_from_row(row: Row) -> LedgerEvent:
    return LedgerEvent(
        int(row["id"]), str(row["kind"]), int(row["ts_ns"]), from_json(row["payload"])
    )

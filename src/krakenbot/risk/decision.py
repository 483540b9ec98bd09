"""The gate's verdicts: `Approved` or `Denied` with a rule code, for the audit log.

Owns: `Rule` (stable codes stored in `events`), `Approved`, `Denied`. Imports: domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from krakenbot.domain.commands import (
    AmendIntent,
    CancelIntent,
    CancelOrder,
    OrderIntent,
    PlaceOrder,
)

Checked = OrderIntent | CancelIntent | PlaceOrder | CancelOrder | AmendIntent


class Rule(StrEnum):
    TRADING_HALTED = "trading_halted"
    REDUCING_ONLY = "reducing_only"
    BREAKER_OPEN = "breaker_open"
    DAILY_LOSS = "daily_loss"
    SYMBOL_NOT_ALLOWED = "symbol_not_allowed"
    QUOTE_CURRENCY = "quote_currency"
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    PAIR_STATUS = "pair_status"
    SYSTEM_STATUS = "system_status"
    POST_ONLY_REQUIRED = "post_only_required"
    ORDER_TYPE = "order_type"
    MARKET_DATA = "market_data"
    PRICE_BAND = "price_band"
    EXCHANGE_CONSTRAINT = "exchange_constraint"
    MAX_TRADE_SIZE = "max_trade_size"
    MIN_ORDER_SIZE = "min_order_size"
    EXPOSURE = "exposure"
    MAX_POSITIONS = "max_positions"
    BALANCE = "balance"
    ORDER_RATE = "order_rate"
    NOT_REDUCING = "not_reducing"
    INVALID_NUMBER = "invalid_number"
    UNPROTECTED = "unprotected"  # the position's protective stop could not be placed
    NOT_WORKING = "not_working"  # an amend names no live order of ours


@dataclass(frozen=True, slots=True)
class Approved:
    item: Checked


@dataclass(frozen=True, slots=True)
class Denied:
    item: Checked
    rule: Rule
    reason: str

    def describe(self) -> dict[str, str]:
        """The audit-log row (`events`) for this denial."""
        item = self.item
        row = {"kind": "risk_denied", "rule": str(self.rule), "reason": self.reason}
        if isinstance(item, OrderIntent | PlaceOrder):
            price = "" if item.limit_price is None else str(item.limit_price)
            row |= {
                "symbol": item.symbol,
                "side": str(item.side),
                "qty": str(item.qty),
                "price": price,
                "order_type": str(item.order_type),
            }
        if isinstance(item, OrderIntent | PlaceOrder) and item.trigger_price is not None:
            row["trigger_price"] = str(item.trigger_price)
        if isinstance(item, OrderIntent):
            row["tag"] = item.tag
        if isinstance(item, PlaceOrder | AmendIntent):
            row["cl_ord_id"] = item.cl_ord_id
        if isinstance(item, AmendIntent):
            row["qty"] = "" if item.qty is None else str(item.qty)
            trigger = item.trigger_price
            row["trigger_price"] = "" if trigger is None else str(trigger)
        return row


Decision = Approved | Denied

"""Decoders for the private WebSocket v2 rows: `executions` reports and `balances` rows (pure).

Owns: turning one report/row into `ExecutionReport` (+ `Fill` for trades), `RateCounter` and
`BalanceChange`; an order's terms (type, trigger, relative prices, conditional close...) are
read by ws_order_terms.py, so a report about any order Kraken can hold decodes.
Imports: stdlib, domain and kraken only. Field meanings follow
docs.kraken.com/api/docs/websocket-v2/executions and .../balances; API.md 7.5 lists what
real reports carry per `exec_type`.

The live trading counter (`ratecounter: true`): the executions page only says "If true, the
rate-limit counter is included in the stream" and prints no example; its field name, which rows
carry it and its number type are undocumented. What is documented: the counter is per
(client, pair) (docs guides/spot-ratelimits) and the subscribe ack reports `maxratecount` on the
same scale as the tier threshold (125 = Intermediate). So we read `ratecount` (the counterpart of
`maxratecount`) wherever it appears -- on a report of any `exec_type` or on a row of its own --
as an exact non-negative Decimal, integer or fractional, quoted or not, never rescaled. A row
that does not name its pair (real `new` / `canceled` reports carry no `symbol`) still yields
the counter, with `symbol=""` and its `order_id`, so the caller can resolve the pair or apply
it conservatively instead of dropping it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from krakenbot.domain.enums import ExecType, Liquidity, OrderStatus, Side
from krakenbot.domain.events import BalanceChange, ExecutionReport, Fill, RateCounter
from krakenbot.kraken.ws_order_terms import decode_terms
from krakenbot.kraken.ws_scalars import (
    MalformedError,
    dec,
    opt_bool,
    opt_dec,
    opt_int,
    opt_str,
    opt_ts,
    string,
)

# Kraken's `order_status` words -> ours ("new" means live on the book = OPEN).
_ORDER_STATUS = {
    "pending_new": OrderStatus.PENDING_NEW,
    "new": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}
# Kraken's legacy asset codes that WS v2 may still print; the rest of the program uses these.
_ASSET_ALIASES = {"XBT": "BTC", "XDG": "DOGE"}


def normalize_asset(code: str) -> str:
    return _ASSET_ALIASES.get(code, code)


def _fees(row: Mapping[str, Any]) -> tuple[Decimal, str]:
    fees = row.get("fees")
    if fees is None:
        return Decimal(0), ""
    if type(fees) is not list:
        raise MalformedError("fees is not a list")
    total = Decimal(0)
    asset = ""
    for fee in fees:
        total += dec(fee["qty"])
        asset = asset or normalize_asset(string(fee["asset"]))
    return total, asset


def _fill(row: Mapping[str, Any], order_id: str, cl_ord_id: str | None, ts: int) -> Fill:
    fee, fee_asset = _fees(row)
    liquidity = row.get("liquidity_ind")
    return Fill(
        trade_id=string(row["exec_id"]),
        order_id=order_id,
        cl_ord_id=cl_ord_id,
        symbol=string(row["symbol"]),
        side=Side(row["side"]),
        price=dec(row["last_price"]),
        qty=dec(row["last_qty"]),
        cost=dec(row["cost"]),
        fee=fee,
        fee_asset=fee_asset,
        liquidity=None if liquidity is None else Liquidity(liquidity),
        exchange_ns=ts,
    )


def decode_execution_rows(
    row: Any, is_snapshot: bool, sequence: int | None, recv_ns: int
) -> list[ExecutionReport | RateCounter]:
    """One `executions` data row -> its report (and a RateCounter when the row carries one)."""
    if type(row) is not dict:
        raise MalformedError("execution row is not an object")
    counter = _rate_counter(row, recv_ns) if "ratecount" in row else None
    if "exec_type" not in row:
        if counter is None:
            raise MalformedError("execution row has neither exec_type nor ratecount")
        return [counter]
    exec_type = ExecType(row["exec_type"])
    order_id = string(row["order_id"])
    cl_ord_id = opt_str(row.get("cl_ord_id"))
    ts = opt_ts(row.get("timestamp"))
    side = row.get("side")
    terms = decode_terms(row)
    out: list[ExecutionReport | RateCounter] = [
        ExecutionReport(
            exec_type=exec_type,
            order_id=order_id,
            cl_ord_id=cl_ord_id,
            order_status=_ORDER_STATUS[string(row["order_status"])],
            exchange_ns=ts,
            symbol=opt_str(row.get("symbol")),
            side=None if side is None else Side(side),
            order_type=terms.order_type,
            order_qty=opt_dec(row.get("order_qty")),
            limit_price=terms.limit_price,
            time_in_force=terms.time_in_force,
            post_only=opt_bool(row.get("post_only")),
            cum_qty=opt_dec(row.get("cum_qty")),
            cum_cost=opt_dec(row.get("cum_cost")),
            avg_price=opt_dec(row.get("avg_price")),
            fill=_fill(row, order_id, cl_ord_id, ts) if exec_type is ExecType.TRADE else None,
            reason=opt_str(row.get("reason")),
            order_userref=opt_int(row.get("order_userref")),
            is_snapshot=is_snapshot,
            sequence=sequence,
            recv_ns=recv_ns,
            limit_offset=terms.limit_offset,
            trigger=terms.trigger,
            display_qty=terms.display_qty,
            effective_ns=terms.effective_ns,
            expire_ns=terms.expire_ns,
            margin=terms.margin,
            reduce_only=terms.reduce_only,
            contingent=terms.contingent,
        )
    ]
    if counter is not None:
        out.append(counter)
    return out


def _rate_counter(row: Mapping[str, Any], recv_ns: int) -> RateCounter:
    count = dec(row["ratecount"])
    if count < 0:
        raise MalformedError(f"negative ratecount: {count}")
    return RateCounter(
        symbol=opt_str(row.get("symbol")) or "",
        count=count,
        recv_ns=recv_ns,
        order_id=opt_str(row.get("order_id")),
    )


def decode_balance_row(row: Any, is_snapshot: bool, recv_ns: int) -> BalanceChange:
    """A balances snapshot row (asset, balance) or ledger update (asset, amount, balance)."""
    if type(row) is not dict:
        raise MalformedError("balance row is not an object")
    return BalanceChange(
        asset=normalize_asset(string(row["asset"])),
        balance=dec(row["balance"]),
        amount=None if is_snapshot else opt_dec(row.get("amount")),
        is_snapshot=is_snapshot,
        exchange_ns=opt_ts(row.get("timestamp")),
        recv_ns=recv_ns,
    )

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

from krakenbot.domain.construct import slot_constructor
from krakenbot.domain.enums import ExecType, Liquidity, OrderStatus, Side
from krakenbot.domain.events import (
    BalanceChange,
    ExecutionReport,
    Fill,
    RateCounter,
    new_execution_report,
    new_fill,
)
from krakenbot.kraken.ws_order_terms import term_values
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


# Wire word -> member: what the Enum call gives for a known word, without the Enum call's
# cost (~0.7 µs each). Anything else (an unknown word, a non-string) still goes through the
# Enum call, so it is refused with the same ValueError as before.
_EXEC_TYPES = {member.value: member for member in ExecType}
_SIDES = {member.value: member for member in Side}
_LIQUIDITY = {member.value: member for member in Liquidity}
_TRADE = ExecType.TRADE


def _fill(row: Mapping[str, Any], order_id: str, cl_ord_id: str | None, ts: int) -> Fill:
    fee, fee_asset = _fees(row)
    liquidity = row.get("liquidity_ind")
    trade_id = string(row["exec_id"])
    symbol = string(row["symbol"])
    raw_side = row["side"]
    side = _SIDES.get(raw_side) if type(raw_side) is str else None
    return new_fill(
        trade_id,
        order_id,
        cl_ord_id,
        symbol,
        Side(raw_side) if side is None else side,
        dec(row["last_price"]),
        dec(row["last_qty"]),
        dec(row["cost"]),
        fee,
        fee_asset,
        _liquidity(liquidity),
        ts,
    )


def _liquidity(value: Any) -> Liquidity | None:
    if value is None:
        return None
    found = _LIQUIDITY.get(value) if type(value) is str else None
    return Liquidity(value) if found is None else found


def decode_execution_rows(
    row: Any, is_snapshot: bool, sequence: int | None, recv_ns: int
) -> list[ExecutionReport | RateCounter]:
    """One `executions` data row -> its report (and a RateCounter when the row carries one).

    Fields are read in the order the keyword-argument version read them (tests/property/
    test_exec_decode_fast.py keeps it), so a row with several faults is refused for the same
    first one.
    """
    if type(row) is not dict:
        raise MalformedError("execution row is not an object")
    counter = _rate_counter(row, recv_ns) if "ratecount" in row else None
    get = row.get
    raw_exec = get("exec_type", _ABSENT)
    if raw_exec is _ABSENT:
        if counter is None:
            raise MalformedError("execution row has neither exec_type nor ratecount")
        return [counter]
    exec_type = _EXEC_TYPES.get(raw_exec) if type(raw_exec) is str else None
    if exec_type is None:
        exec_type = ExecType(raw_exec)
    order_id = string(row["order_id"])
    cl_ord_id = opt_str(get("cl_ord_id"))
    ts = opt_ts(get("timestamp"))
    raw_side = get("side")
    (
        order_type,
        time_in_force,
        limit_price,
        limit_offset,
        trigger,
        display_qty,
        effective_ns,
        expire_ns,
        margin,
        reduce_only,
        contingent,
    ) = term_values(row)
    status = _ORDER_STATUS[string(row["order_status"])]
    symbol = opt_str(get("symbol"))
    if raw_side is None:
        side = None
    else:
        side = _SIDES.get(raw_side) if type(raw_side) is str else None
        if side is None:
            side = Side(raw_side)
    report = new_execution_report(
        exec_type,
        order_id,
        cl_ord_id,
        status,
        ts,
        symbol,
        side,
        order_type,
        opt_dec(get("order_qty")),
        limit_price,
        time_in_force,
        opt_bool(get("post_only")),
        opt_dec(get("cum_qty")),
        opt_dec(get("cum_cost")),
        opt_dec(get("avg_price")),
        _fill(row, order_id, cl_ord_id, ts) if exec_type is _TRADE else None,
        opt_str(get("reason")),
        opt_int(get("order_userref")),
        is_snapshot,
        sequence,
        recv_ns,
        limit_offset,
        trigger,
        display_qty,
        effective_ns,
        expire_ns,
        margin,
        reduce_only,
        contingent,
    )
    return [report] if counter is None else [report, counter]


_ABSENT = object()


def _rate_counter(row: Mapping[str, Any], recv_ns: int) -> RateCounter:
    count = dec(row["ratecount"])
    if count < 0:
        raise MalformedError(f"negative ratecount: {count}")
    symbol = opt_str(row.get("symbol")) or ""
    return _new_rate_counter(symbol, count, recv_ns, opt_str(row.get("order_id")))


# RateCounter(...) built through its slots (domain/construct.py): with `ratecounter: true`
# every report carries one.
_new_rate_counter = slot_constructor(RateCounter)


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

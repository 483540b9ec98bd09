"""Kraken WebSocket v2 decoder: wire frames -> typed messages (pure).

Owns: `decode(frame) -> list[WsMessage]` for every frame kind we use (status, heartbeat, pong,
subscribe/unsubscribe acks, ticker, book, trade, ohlc, instrument, executions, balances and the
trading-method responses) and RFC3339 -> ns parsing. Request encoders live in `ws_requests`
(re-exported here). Imports: stdlib, domain and kraken only; no I/O, no clock reads.

Numbers: Kraken prints prices and quantities as JSON numbers with the pair's full fixed
precision (docs: websocket-v2 book/ticker pages). We parse with the stdlib decoder and
`parse_float=str`, so every non-integer number reaches us as its exact wire text; `Decimal`
is built from that text and book levels keep it verbatim for the CRC32 checksum. orjson is
faster but yields floats, which lose trailing zeros (benchmarks/bench_ws.py measures both).

A frame we cannot understand becomes a `DecodeFailed` message; decode never raises.
"""

from __future__ import annotations

import json
import json.scanner
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NoReturn, cast

from krakenbot.domain.enums import OrderType, Side, SystemState
from krakenbot.domain.events import (
    TICKER_FIELDS,
    Candle,
    DecodeFailed,
    MarketTrade,
    SystemStatusChanged,
    Ticker,
    TickerNumbers,
)
from krakenbot.kraken.ws_fast import fast_book, fast_ticker, peek_ticker_symbol
from krakenbot.kraken.ws_messages import (
    BookMessage,
    Heartbeat,
    InstrumentMessage,
    InstrumentPair,
    Level,
    MethodResponse,
    OrderRef,
    Pong,
    PrivateItem,
    SequencedBatch,
    StatusMessage,
    SubscriptionAck,
    WsMessage,
)
from krakenbot.kraken.ws_private import decode_balance_row, decode_execution_rows
from krakenbot.kraken.ws_requests import (  # re-exported: one codec module for callers
    encode_add_order,
    encode_batch_add,
    encode_cancel_all,
    encode_cancel_all_orders_after,
    encode_cancel_order,
    encode_ping,
    encode_subscribe,
    encode_unsubscribe,
)
from krakenbot.kraken.ws_scalars import (
    DECODE_ERRORS,
    MalformedError,
    dec,
    integer,
    num_text,
    opt_dec,
    opt_int,
    opt_str,
    opt_ts,
    parse_timestamp_ns,
    string,
)

__all__ = [
    "BOOK_PREFIX",
    "decode",
    "encode_add_order",
    "encode_batch_add",
    "encode_cancel_all",
    "encode_cancel_all_orders_after",
    "encode_cancel_order",
    "encode_ping",
    "encode_subscribe",
    "encode_unsubscribe",
    "fast_book",
    "fast_ticker",
    "parse_timestamp_ns",
    "peek_ticker_symbol",
]

EXCERPT_CHARS = 200


_Scanner = Callable[[str, int], tuple[Any, int]]


def _reject_constant(name: str) -> NoReturn:
    raise MalformedError(f"non-finite number {name}")


# Two decoders, chosen by a cheap prefix test. Book frames keep every number as its exact
# text (parse_float=str): the checksum is computed over the printed digits and most levels
# never need a Decimal. Every other frame gets Decimals straight from the C scanner
# (parse_float=Decimal), which is faster than converting text in Python. Both are exact.
_TEXT_DECODER = json.JSONDecoder(parse_float=str, parse_constant=_reject_constant)
_DEC_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)
_TEXT_SCAN: _Scanner = json.scanner.make_scanner(_TEXT_DECODER)  # type: ignore[arg-type]
_DEC_SCAN: _Scanner = json.scanner.make_scanner(_DEC_DECODER)  # type: ignore[arg-type]
BOOK_PREFIX = '{"channel":"book"'


def _loads(text: str) -> Any:
    # JSONDecoder.decode runs two whitespace regexes around the C scanner; Kraken frames have
    # no surrounding whitespace, so try the scanner alone and fall back only when needed.
    if text.startswith(BOOK_PREFIX):
        scan, decoder = _TEXT_SCAN, _TEXT_DECODER
    else:
        scan, decoder = _DEC_SCAN, _DEC_DECODER
    try:
        obj, end = scan(text, 0)
    except StopIteration:
        return decoder.decode(text)  # raises the proper JSONDecodeError
    if end != len(text):
        return decoder.decode(text)  # trailing whitespace (fine) or garbage (error)
    return obj


def _failed(channel: str, reason: str, frame: str | bytes, recv_ns: int) -> DecodeFailed:
    text = (
        frame if isinstance(frame, str) else frame[: EXCERPT_CHARS * 4].decode("utf-8", "replace")
    )
    return DecodeFailed(
        channel=channel, reason=reason[:300], excerpt=text[:EXCERPT_CHARS], recv_ns=recv_ns
    )


# ---- entry point --------------------------------------------------------------------------


def decode(frame: str | bytes, recv_ns: int = 0) -> list[WsMessage]:
    """Decode one WebSocket text frame. Never raises: bad input becomes DecodeFailed."""
    try:
        text = frame if type(frame) is str else frame.decode("utf-8")  # type: ignore[union-attr]
        if text.startswith(BOOK_PREFIX):
            book = fast_book(text, recv_ns)
            if book is not None:
                return [book]
        else:
            # fast_ticker tests its own prefixes (two failed startswith for other frames).
            ticker = fast_ticker(text, recv_ns)
            if ticker is not None:
                return [ticker]
        msg = _loads(text)
    except DECODE_ERRORS as exc:
        return [_failed("?", f"invalid JSON: {exc}", frame, recv_ns)]
    if type(msg) is not dict:
        return [_failed("?", "frame is not a JSON object", frame, recv_ns)]
    channel = msg.get("channel")
    try:
        if channel is not None:
            handler = _CHANNELS.get(channel)
            if handler is None:
                return [_failed(str(channel), "unknown channel", frame, recv_ns)]
            return handler(msg, recv_ns)
        method = msg.get("method")
        if method == "pong":
            return [Pong(req_id=opt_int(msg.get("req_id")), recv_ns=recv_ns)]
        if method in ("subscribe", "unsubscribe"):
            return [_subscription_ack(msg, recv_ns)]
        if type(method) is str:
            return [_method_response(msg, recv_ns)]
        return [_failed("?", "neither channel nor method", frame, recv_ns)]
    except DECODE_ERRORS as exc:
        return [_failed(str(channel or msg.get("method") or "?"), repr(exc), frame, recv_ns)]


def _data_list(msg: Mapping[str, Any]) -> list[Any]:
    data = msg["data"]
    if type(data) is not list:
        raise MalformedError("data is not a list")
    return data


def _is_snapshot(msg: Mapping[str, Any]) -> bool:
    kind = msg.get("type")
    if kind == "snapshot":
        return True
    if kind == "update":
        return False
    raise MalformedError(f"bad type {kind!r}")


# ---- admin ---------------------------------------------------------------------------------


def _heartbeat(msg: Mapping[str, Any], recv_ns: int) -> list[WsMessage]:
    return [Heartbeat(recv_ns=recv_ns)]


def _status(msg: Mapping[str, Any], recv_ns: int) -> list[WsMessage]:
    out: list[WsMessage] = []
    for row in _data_list(msg):
        state = SystemState(string(row["system"]))
        out.append(
            StatusMessage(
                event=SystemStatusChanged(state=state, recv_ns=recv_ns),
                connection_id=opt_int(row.get("connection_id")),
                version=str(row.get("version", "")),
            )
        )
    return out


def _warnings(result: object) -> tuple[str, ...]:
    if type(result) is dict:
        warnings = result.get("warnings")
        if type(warnings) is list:
            return tuple(str(w) for w in warnings)
    return ()


def _subscription_ack(msg: Mapping[str, Any], recv_ns: int) -> SubscriptionAck:
    result = msg.get("result")
    res: Mapping[str, Any] = result if type(result) is dict else {}
    # A failing subscription may put `symbol` at top level and omit `result` (API.md 7.2).
    symbol = res.get("symbol", msg.get("symbol"))
    return SubscriptionAck(
        method=string(msg["method"]),
        success=msg.get("success") is True,
        channel=opt_str(res.get("channel")),
        symbol=opt_str(symbol),
        error=opt_str(msg.get("error")),
        req_id=opt_int(msg.get("req_id")),
        maxratecount=opt_int(res.get("maxratecount")),
        warnings=_warnings(result),
        recv_ns=recv_ns,
    )


def _order_ref(row: Mapping[str, Any]) -> OrderRef:
    return OrderRef(
        order_id=opt_str(row.get("order_id")),
        cl_ord_id=opt_str(row.get("cl_ord_id")),
        order_userref=opt_int(row.get("order_userref")),
    )


def _method_response(msg: Mapping[str, Any], recv_ns: int) -> MethodResponse:
    result = msg.get("result")
    orders: tuple[OrderRef, ...] = ()
    count = None
    trigger = current = None
    if type(result) is list:  # batch_add: one entry per order, in request order
        orders = tuple(_order_ref(r) for r in result)
    elif type(result) is dict:
        if "order_id" in result or "cl_ord_id" in result or "order_userref" in result:
            orders = (_order_ref(result),)
        count = opt_int(result.get("count"))
        trigger = opt_str(result.get("triggerTime"))
        current = opt_str(result.get("currentTime"))
    return MethodResponse(
        method=string(msg["method"]),
        success=msg.get("success") is True,
        error=opt_str(msg.get("error")),
        req_id=opt_int(msg.get("req_id")),
        orders=orders,
        count=count,
        trigger_time=trigger,
        current_time=current,
        warnings=_warnings(result),
        recv_ns=recv_ns,
    )


# ---- market data ---------------------------------------------------------------------------


def _levels(rows: object) -> tuple[Level, ...]:
    if type(rows) is not list:
        raise MalformedError("book side is not a list")
    out = []
    valid = _NUMBER_TEXT.fullmatch
    for r in rows:
        p = r["price"]
        q = r["qty"]
        if type(p) is not str:
            p = num_text(p)
        if type(q) is not str:
            q = num_text(q)
        # A quoted level ("price":"abc") reaches us as a str too: only number text may pass.
        if valid(p) is None or valid(q) is None:
            raise MalformedError(f"book level is not numeric: {p!r} {q!r}")
        out.append((p, q))
    return tuple(out)


# ASCII digits only: `\d` admits other scripts' digits, which Decimal accepts but the checksum
# (ASCII text) cannot carry.
_NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _book(msg: Mapping[str, Any], recv_ns: int) -> list[WsMessage]:
    snapshot = _is_snapshot(msg)
    out: list[WsMessage] = []
    for row in _data_list(msg):
        checksum = row.get("checksum")
        symbol = row["symbol"]
        if type(symbol) is not str:
            raise MalformedError("book symbol is not a string")
        if checksum is not None and type(checksum) is not int:
            raise MalformedError("book checksum is not an integer")
        ts = row.get("timestamp")
        out.append(
            BookMessage(
                symbol,
                snapshot,
                _levels(row.get("bids", _EMPTY)),
                _levels(row.get("asks", _EMPTY)),
                checksum,
                0 if ts is None else parse_timestamp_ns(ts),
                recv_ns,
            )
        )
    return out


_EMPTY: list[Any] = []


def _ticker(msg: Mapping[str, Any], recv_ns: int) -> list[WsMessage]:
    out: list[WsMessage] = []
    for r in _data_list(msg):
        # Numbers reach us as Decimals (parse_float=Decimal) or ints; `format(.., "f")` is
        # their exact fixed-point text, which Ticker turns back into the same Decimal.
        numbers = cast(TickerNumbers, tuple(format(dec(r[n]), "f") for n in TICKER_FIELDS))
        out.append(Ticker(string(r["symbol"]), numbers, opt_ts(r.get("timestamp")), recv_ns))
    return out


def _trade(msg: Mapping[str, Any], recv_ns: int) -> list[WsMessage]:
    _is_snapshot(msg)
    return [
        MarketTrade(
            symbol=string(r["symbol"]),
            side=Side(r["side"]),
            price=dec(r["price"]),
            qty=dec(r["qty"]),
            ord_type=OrderType(r["ord_type"]),
            trade_id=integer(r["trade_id"]),
            exchange_ns=opt_ts(r.get("timestamp")),
            recv_ns=recv_ns,
        )
        for r in _data_list(msg)
    ]


def _ohlc(msg: Mapping[str, Any], recv_ns: int) -> list[WsMessage]:
    _is_snapshot(msg)
    return [
        Candle(
            symbol=string(r["symbol"]),
            interval_min=integer(r["interval"]),
            open=dec(r["open"]),
            high=dec(r["high"]),
            low=dec(r["low"]),
            close=dec(r["close"]),
            vwap=dec(r["vwap"]),
            volume=dec(r["volume"]),
            trades=integer(r["trades"]),
            begin_ns=parse_timestamp_ns(r["interval_begin"]),
        )
        for r in _data_list(msg)
    ]


def _instrument(msg: Mapping[str, Any], recv_ns: int) -> list[WsMessage]:
    data = msg["data"]
    if type(data) is not dict:
        raise MalformedError("instrument data is not an object")
    pairs = tuple(
        InstrumentPair(
            symbol=string(p["symbol"]),
            base=string(p["base"]),
            quote=string(p["quote"]),
            status=string(p["status"]),
            price_precision=integer(p["price_precision"]),
            qty_precision=integer(p["qty_precision"]),
            cost_precision=opt_int(p.get("cost_precision")),
            price_increment=opt_dec(p.get("price_increment")),
            qty_increment=opt_dec(p.get("qty_increment")),
            qty_min=opt_dec(p.get("qty_min")),
            cost_min=opt_dec(p.get("cost_min")),
        )
        for p in data.get("pairs", ())
    )
    return [InstrumentMessage(is_snapshot=_is_snapshot(msg), pairs=pairs, recv_ns=recv_ns)]


# ---- private channels (executions / balances) ---------------------------------------------


def _sequenced(msg: Mapping[str, Any], recv_ns: int) -> list[WsMessage]:
    channel = string(msg["channel"])
    snapshot = _is_snapshot(msg)
    sequence = opt_int(msg.get("sequence"))
    items: list[PrivateItem] = []
    for row in _data_list(msg):
        try:
            if channel == "executions":
                items.extend(decode_execution_rows(row, snapshot, sequence, recv_ns))
            else:
                items.append(decode_balance_row(row, snapshot, recv_ns))
        except DECODE_ERRORS as exc:
            # One bad row must not hide its neighbours; the session reconciles on it.
            excerpt = json.dumps(row, default=str)[:EXCERPT_CHARS] if isinstance(row, dict) else ""
            items.append(DecodeFailed(channel, repr(exc)[:300], excerpt, recv_ns))
    return [
        SequencedBatch(
            channel=channel,
            is_snapshot=snapshot,
            sequence=sequence,
            items=tuple(items),
            recv_ns=recv_ns,
        )
    ]


_CHANNELS: dict[str, Callable[[Mapping[str, Any], int], list[WsMessage]]] = {
    "heartbeat": _heartbeat,
    "status": _status,
    "book": _book,
    "ticker": _ticker,
    "trade": _trade,
    "ohlc": _ohlc,
    "instrument": _instrument,
    "executions": _sequenced,
    "balances": _sequenced,
}

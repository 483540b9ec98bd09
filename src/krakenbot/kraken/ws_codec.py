"""Kraken WebSocket v2 decoder: wire frames -> typed messages (pure).

Owns: `decode(frame) -> list[WsMessage]` for every frame kind we use (status, heartbeat, pong,
subscribe/unsubscribe acks, ticker, book, trade, ohlc, instrument, executions, balances and the
trading-method responses, whose readers live in `ws_acks`) and RFC3339 -> ns parsing. Request
encoders live in `ws_requests` (re-exported here). Imports: stdlib, domain and kraken only; no
I/O, no clock reads.

Numbers: Kraken prints prices and quantities as JSON numbers with the pair's full fixed
precision (docs: websocket-v2 book/ticker pages). We parse with the stdlib decoder and
`parse_float=str`, so every non-integer number reaches us as its exact wire text; `Decimal`
is built from that text and book levels keep it verbatim for the CRC32 checksum. orjson is
faster but yields floats, which lose trailing zeros (benchmarks/bench_ws.py measures both).
Every number is bounded before it is converted (`kraken.numbers`: at most 50 characters, a
decimal exponent within ±50): `1e999999999` would otherwise cost a gigabyte as text. The
exact, bounded JSON parsing itself is in `ws_json`.

A frame we cannot understand becomes a `DecodeFailed` message; decode never raises.
"""

from __future__ import annotations

import json
import json.scanner
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from krakenbot.domain.construct import slot_constructor
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
from krakenbot.kraken.ws_acks import method_response, subscription_ack
from krakenbot.kraken.ws_fast import fast_book, fast_ticker, peek_ticker_symbol
from krakenbot.kraken.ws_json import BOOK_PREFIX
from krakenbot.kraken.ws_json import loads as _loads
from krakenbot.kraken.ws_messages import (
    BookMessage,
    Heartbeat,
    InstrumentMessage,
    InstrumentPair,
    Level,
    Pong,
    PrivateItem,
    SequencedBatch,
    StatusMessage,
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
        return _decode_json(text, frame, recv_ns)
    except _NEVER_RAISE as exc:
        # Whatever escaped the handling below (even building its failure report): the frame
        # is dropped like any other undecodable one.
        return [_failed("?", f"undecodable frame: {exc!r}", frame, recv_ns)]


# Bounded numbers (kraken.numbers) leave nothing that could exhaust memory; should anything
# still do so, one frame is dropped, not the connection.
_NEVER_RAISE = (*DECODE_ERRORS, MemoryError)


def _name(value: object) -> str:
    """A channel or method name for a failure report (never str() of a nested structure)."""
    return value[:100] if type(value) is str else "?"


def _decode_json(text: str, frame: str | bytes, recv_ns: int) -> list[WsMessage]:
    try:
        msg = _loads(text)
    except DECODE_ERRORS as exc:
        return [_failed("?", f"invalid JSON: {exc}", frame, recv_ns)]
    if type(msg) is not dict:
        return [_failed("?", "frame is not a JSON object", frame, recv_ns)]
    channel = msg.get("channel")
    try:
        if channel is not None:
            handler = _CHANNELS.get(channel) if type(channel) is str else None
            if handler is None:
                return [_failed(_name(channel), "unknown channel", frame, recv_ns)]
            return handler(msg, recv_ns)
        method = msg.get("method")
        if method == "pong":
            return [Pong(req_id=opt_int(msg.get("req_id")), recv_ns=recv_ns)]
        if method in ("subscribe", "unsubscribe"):
            return [subscription_ack(msg, recv_ns)]
        if type(method) is str:
            return [method_response(msg, recv_ns)]
        return [_failed("?", "neither channel nor method", frame, recv_ns)]
    except DECODE_ERRORS as exc:
        name = _name(channel if channel is not None else msg.get("method"))
        return [_failed(name, repr(exc), frame, recv_ns)]


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
# (ASCII text) cannot carry. Bounded like every number (kraken.numbers): a quoted level
# ("price":"1e999999999") must not reach the book.
_NUMBER_TEXT = re.compile(r"-?[0-9]{1,24}(?:\.[0-9]{1,24})?(?:[eE][-+]?[0-9]{1,2})?")
# The checksum is a CRC32 (docs: guides/spot-ws-book-v2): an unsigned 32-bit integer.
_CRC32_MAX = 0xFFFFFFFF


def _book(msg: Mapping[str, Any], recv_ns: int) -> list[WsMessage]:
    snapshot = _is_snapshot(msg)
    out: list[WsMessage] = []
    for row in _data_list(msg):
        checksum = row.get("checksum")
        symbol = row["symbol"]
        if type(symbol) is not str:
            raise MalformedError("book symbol is not a string")
        if checksum is not None and (type(checksum) is not int or not 0 <= checksum <= _CRC32_MAX):
            raise MalformedError("book checksum is not a 32-bit unsigned integer")
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
    return [_new_batch(channel, snapshot, sequence, tuple(items), recv_ns)]


# SequencedBatch(...) without the frozen dataclass __init__'s cost (domain/construct.py).
_new_batch = slot_constructor(SequencedBatch)

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

"""What the fuzz feeds and where: the recorded corpus, the decoders, and what they may raise.

Owns: `load_corpus()` — the real recorded WebSocket frames and REST bodies in tests/data
(the same files as shared/kraken/vectors/real_messages, plus the first frames of a recorded
book session) — and `run_ws(text)` / `run_rest(text, endpoint)`, which pass one input through
every decoder the daemon would and return the undeclared outcome, if any, as
`(target, exception type, message)`.

Declared outcomes (anything else is a finding):
  * `ws_codec.decode` (str and bytes) returns a list — a bad frame is a `DecodeFailed` in
    it — and never raises; `ws_fast.fast_book`, `fast_ticker` and `peek_ticker_symbol`
    return a value or None; the WebSocket session's reader (`on_frame`, then the lazily
    decoded conflated values) never raises, since a raise there drops the connection;
  * `rest_codec.decode_envelope` returns the envelope or raises `CodecError` (unreadable) or
    the exception the error array's first string maps to (kraken/errors.py, `kraken_error`
    set; a string outside Kraken's grammar, even "", falls back to RejectedError there);
    each endpoint's parser raises nothing but `CodecError` (and its subclasses).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from krakenbot.clock import ManualClock
from krakenbot.domain.enums import Channel
from krakenbot.errors import KrakenbotError
from krakenbot.kraken import rest_codec, rest_order_info, rest_orders
from krakenbot.kraken.rest_codec import CodecError
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_fast import fast_book, fast_ticker, peek_ticker_symbol
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import Conn, WsSession, WsSessionConfig

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
Finding = tuple[str, str, str]  # (target, exception type, message)

# REST method (from the recording's file name) → the parser the client runs on `result`.
PARSERS: dict[str, Callable[[Any], object]] = {
    "balance": rest_codec.parse_balance,
    "balanceex": rest_codec.parse_balance_ex,
    "time": rest_codec.parse_time,
    "systemstatus": rest_codec.parse_system_status,
    "assetpairs": rest_codec.parse_asset_pairs,
    "ticker": rest_codec.parse_ticker,
    "depth": rest_codec.parse_depth,
    "getwebsocketstoken": rest_codec.parse_ws_token,
    "cancelorder": rest_codec.parse_cancel,
    "cancelallordersafter": rest_codec.parse_cancel_after,
    "addorder": lambda result: rest_orders.parse_add_order(result, "kbfuzz"),
    "openorders": rest_order_info.parse_open_orders,
    "closedorders": rest_order_info.parse_closed_orders,
    "queryorders": rest_order_info.parse_query_orders,
    "tradeshistory": rest_orders.parse_trades_history,
}


@dataclass(frozen=True, slots=True)
class Corpus:
    ws: tuple[str, ...]
    rest: tuple[tuple[str, str], ...]  # (endpoint, body)


def _frames(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("["):  # a file of several frames (lifecycles, acks)
        return [json.dumps(m, separators=(",", ":")) for m in json.loads(text)]
    return [text]


def load_corpus(data: Path = DATA) -> Corpus:
    ws: list[str] = []
    for path in sorted((data / "ws" / "real_messages").glob("ws_*.json")):
        ws += _frames(path)
    ws += (data / "ws" / "book10_BTCUSD_2023-07-30.jsonl").read_text().splitlines()[:20]
    rest: list[tuple[str, str]] = []
    for path in sorted((data / "rest").glob("rest_*.json")):
        method = path.name.removeprefix("rest_").split("_")[0].split(".")[0]
        if method == "sign":
            continue  # a signing vector, not a response body
        rest.append((method, path.read_text(encoding="utf-8").strip()))
    return Corpus(tuple(ws), tuple(rest))


def _name(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


class Reader:
    """One WebSocket session's synchronous reader, kept across inputs (as a live connection
    would see a stream of garbage) and rebuilt after it raised."""

    def __init__(self) -> None:
        self._build()

    def _build(self) -> None:
        self.queue = InboundQueue()
        self.session = WsSession(
            WsSessionConfig(symbols=("BTC/USD", "ETH/USD")),
            self.queue,
            clock=ManualClock(),
            rng=random.Random(1),
        )
        self.conns = [Conn(Channel.PUBLIC, "ws://x"), Conn(Channel.PRIVATE, "ws://y")]

    def feed(self, frame: str) -> Finding | None:
        for conn in self.conns:
            try:
                self.session.on_frame(conn, frame, 1)
                for event in self.queue.drain():
                    if callable(event):
                        event()  # a conflated value (lazy ticker, book view) built when taken
            except Exception as exc:
                self._build()
                return ("ws_session.on_frame", _name(exc), str(exc)[:200])
        return None


def run_ws(text: str, reader: Reader) -> Finding | None:
    raw = text.encode("utf-8", "surrogatepass")
    frames: tuple[tuple[str, str | bytes], ...] = (
        ("ws_codec.decode(str)", text),
        ("ws_codec.decode(bytes)", raw),
    )
    for target, frame in frames:
        try:
            if not isinstance(decode(frame), list):
                return (target, "not a list", "")
        except Exception as exc:
            return (target, _name(exc), str(exc)[:200])
    fast_paths: tuple[tuple[str, Callable[[str], object]], ...] = (
        ("ws_fast.fast_book", fast_book),
        ("ws_fast.fast_ticker", fast_ticker),
        ("ws_fast.peek_ticker_symbol", peek_ticker_symbol),
    )
    for target, fast in fast_paths:
        try:
            fast(text)
        except Exception as exc:
            return (target, _name(exc), str(exc)[:200])
    return reader.feed(text)


def run_rest(text: str, endpoint: str) -> Finding | None:
    try:
        env = rest_codec.decode_envelope(text.encode("utf-8", "surrogatepass"), endpoint=endpoint)
    except CodecError:
        return None
    except KrakenbotError as exc:
        if exc.kraken_error is not None:  # the error array, mapped by the one table
            return None
        return ("rest_codec.decode_envelope", _name(exc), str(exc)[:200])
    except Exception as exc:
        return ("rest_codec.decode_envelope", _name(exc), str(exc)[:200])
    parser = PARSERS.get(endpoint)
    if parser is None:
        return None  # the client reads no more of this endpoint's answer
    try:
        parser(env.result)
    except CodecError:
        return None
    except Exception as exc:
        return (f"parse {endpoint}", _name(exc), str(exc)[:200])
    return None

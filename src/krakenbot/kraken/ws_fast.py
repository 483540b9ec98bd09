"""Fast decoders for the two frame kinds that dominate the public feed: book and ticker (pure).

Owns: `fast_book`, `fast_ticker` and `peek_ticker_symbol`. Imports: stdlib, domain and kraken
only; no I/O. Each recognises only the canonical frame exactly as the live wire prints it
(key order, JSON numbers with the pair's fixed decimals, `...:SS.ffffffZ` timestamps; docs:
websocket-v2/book and websocket-v2/ticker) and returns None for anything else, which the
caller then decodes with the full JSON decoder. Tests check that both paths agree.

Why regexes: one C-level `fullmatch` validates the whole frame and captures the exact number
text, replacing the JSON parse and the dict walk. Two details matter for speed
(benchmarks/bench_ws.py): digits are `[0-9]` (a range test; `\\d` is a Unicode category
lookup, ~30 % slower, and would admit non-ASCII digits that the checksum cannot encode), and
quantifiers are possessive (`++`, `?+`, `*+`, `{m,n}+`): every number and list is followed by
a fixed delimiter, so giving characters back can never help a match. Every number's digits
are bounded (at most 24 before and 24 after the point; a checksum, a CRC32, at most 10
digits), within what the JSON path accepts (kraken.numbers): a longer number is not
canonical, and the JSON path refuses it.
"""

from __future__ import annotations

import re

from krakenbot.domain.events import TICKER_FIELDS, Ticker
from krakenbot.kraken.ws_messages import BookMessage, Level
from krakenbot.kraken.ws_scalars import MalformedError, epoch_seconds, parse_timestamp_ns

_NUM = r"[0-9]{1,24}+(?:\.[0-9]{1,24}+)?+"
_LEVEL = r'\{"price":' + _NUM + r',"qty":' + _NUM + r"\}"
_LEVEL_RE = re.compile(r'\{"price":(' + _NUM + r'),"qty":(' + _NUM + r")\}")
_findall = _LEVEL_RE.findall


def _side(name: str) -> str:
    # The first two levels are captured directly (an update usually carries one or two, so
    # no second regex pass is needed); any further levels are captured as one validated run
    # for `findall`. Groups: price1, qty1, price2, qty2, rest.
    captured = r'\{"price":(' + _NUM + r'),"qty":(' + _NUM + r")\}"
    return f'"{name}":\\[(?:{captured}(?:,{captured}((?:,{_LEVEL})*+))?+)?+\\]'


_BOOK_RE = re.compile(
    r'\{"channel":"book","type":"(snapshot|update)","data":\[\{"symbol":"([A-Za-z0-9/._-]++)",'
    + _side("bids")
    + ","
    + _side("asks")
    + r',"checksum":([0-9]{1,10}+)'
    r'(?:,"timestamp":"(?:([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})\.([0-9]{6})Z'
    r'|([0-9T:.Z-]+))")?'
    r"\}\]\}"
)

# Epoch ns of a frame's whole second: consecutive frames share their second, and the lookup
# is cheaper than calling epoch_seconds (itself cached) for every frame.
_SECOND_NS: dict[str, int] = {}


def _second_ns(base: str) -> int:
    ns = epoch_seconds(base) * 1_000_000_000  # raises ValueError on a bad date
    if len(_SECOND_NS) >= 4096:
        _SECOND_NS.clear()
    _SECOND_NS[base] = ns
    return ns


_tuple_new = tuple.__new__
_NO_LEVELS: tuple[Level, ...] = ()


def fast_book(text: str, recv_ns: int = 0) -> BookMessage | None:
    """Decode a canonical single-symbol book frame without JSON; None if not canonical."""
    m = _BOOK_RE.fullmatch(text)
    if m is None:
        return None
    (
        kind,
        symbol,
        bp1,
        bq1,
        bp2,
        bq2,
        brest,
        ap1,
        aq1,
        ap2,
        aq2,
        arest,
        checksum,
        ts_base,
        ts_micros,
        ts_other,
    ) = m.groups()
    try:
        if ts_base is not None:  # the usual `...:SS.ffffffZ`: split by the regex already
            second_ns = _SECOND_NS.get(ts_base)
            if second_ns is None:
                second_ns = _second_ns(ts_base)
            exchange_ns = second_ns + int(ts_micros) * 1000
        else:
            exchange_ns = 0 if ts_other is None else parse_timestamp_ns(ts_other)
    except (MalformedError, ValueError):
        return None
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    if bp1 is None:
        bids = _NO_LEVELS
    elif bp2 is None:
        bids = ((bp1, bq1),)
    elif not brest:
        bids = ((bp1, bq1), (bp2, bq2))
    else:
        bids = ((bp1, bq1), (bp2, bq2), *_findall(brest))
    if ap1 is None:
        asks = _NO_LEVELS
    elif ap2 is None:
        asks = ((ap1, aq1),)
    elif not arest:
        asks = ((ap1, aq1), (ap2, aq2))
    else:
        asks = ((ap1, aq1), (ap2, aq2), *_findall(arest))
    # tuple.__new__ is what the NamedTuple's generated __new__ does after binding its seven
    # arguments; calling it directly skips that Python frame. All seven fields are given, in
    # declaration order (tests compare with the JSON path).
    return _tuple_new(
        BookMessage,
        (symbol, kind == "snapshot", bids, asks, int(checksum), exchange_ns, recv_ns),
    )


# Ticker frames (docs: websocket-v2/ticker field order; real pushes add fields such as
# `volume_usd` before `timestamp`, which the pattern admits and skips). The match starts after
# the fixed prefix, which the caller has already tested.
_SNUM = r"(-?+[0-9]{1,24}+(?:\.[0-9]{1,24}+)?+)"
_TICKER_SNAPSHOT_PREFIX = '{"channel":"ticker","type":"snapshot","data":[{"symbol":"'
_TICKER_UPDATE_PREFIX = '{"channel":"ticker","type":"update","data":[{"symbol":"'
_TICKER_BODY_RE = re.compile(
    r'([A-Za-z0-9/._-]++)",'
    + ",".join(f'"{name}":{_SNUM}' for name in TICKER_FIELDS)
    + r'(?:,"[a-z_]++":-?+[0-9]{1,24}+(?:\.[0-9]{1,24}+)?+)*+'
    r',"timestamp":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})\.([0-9]{6})Z"\}\]\}'
)
_update_body = _TICKER_BODY_RE.fullmatch
_UPDATE_START = len(_TICKER_UPDATE_PREFIX)
_SNAPSHOT_START = len(_TICKER_SNAPSHOT_PREFIX)


def fast_ticker(text: str, recv_ns: int = 0) -> Ticker | None:
    """Decode a canonical single-symbol ticker frame without JSON; None if not canonical."""
    if text.startswith(_TICKER_UPDATE_PREFIX):
        m = _update_body(text, _UPDATE_START)
    elif text.startswith(_TICKER_SNAPSHOT_PREFIX):
        m = _update_body(text, _SNAPSHOT_START)
    else:
        return None
    if m is None:
        return None
    symbol, bid, bid_qty, ask, ask_qty, last, vol, vwap, low, high, chg, chg_pct, base, us = (
        m.groups()
    )
    second_ns = _SECOND_NS.get(base)
    if second_ns is None:
        try:
            second_ns = _second_ns(base)
        except ValueError:
            return None
    # The eleven numbers stay as validated wire text; Ticker builds Decimals when read.
    numbers = (bid, bid_qty, ask, ask_qty, last, vol, vwap, low, high, chg, chg_pct)
    return _tuple_new(Ticker, (symbol, numbers, second_ns + int(us) * 1000, recv_ns))


def peek_ticker_symbol(text: str | bytes) -> str | None:
    """The symbol of a single-symbol ticker *update* frame, found without parsing it; None
    when the frame is anything else (then decode it normally).

    Lets the session conflate tickers at ~1 us per frame and defer the full typed decode to
    the moment the engine takes the latest one (docs: websocket-v2/ticker frame shape).
    """
    if (
        type(text) is not str
        or not text.startswith(_TICKER_UPDATE_PREFIX)
        or not text.endswith("}]}")  # a cut-short frame must surface as DecodeFailed now
    ):
        return None
    start = _UPDATE_START
    end = text.find('"', start)
    if end <= start or text.find('"symbol"', end) != -1:
        return None  # unterminated, or several symbols in one frame
    symbol = text[start:end]
    return None if "\\" in symbol else symbol

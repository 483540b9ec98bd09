"""Numbers in WebSocket frames are bounded before they are converted: a short hostile number
(`1e99999999`) must cost neither memory nor time, decode never raises, and the session's
reader never sees an exception (which would drop the connection)."""

from __future__ import annotations

import random
import re
import tracemalloc
from collections.abc import Callable
from decimal import Decimal

import pytest
from tests.conftest import DATA

from krakenbot.clock import ManualClock
from krakenbot.domain.enums import Channel
from krakenbot.domain.events import BookStatus, DecodeFailed, Ticker
from krakenbot.kraken.numbers import (
    NumberBoundError,
    bounded_decimal,
    bounded_int,
    bounded_number_text,
)
from krakenbot.kraken.ws_codec import decode
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import Conn, WsSession, WsSessionConfig

MESSAGES = DATA / "ws" / "real_messages"
TICKER = (MESSAGES / "ws_ticker_update__real_roq_ethusd.json").read_text().strip()
TICKER_SNAPSHOT = (MESSAGES / "ws_ticker_snapshot__real_roq_ethusdc.json").read_text().strip()
BOOK = (MESSAGES / "ws_book_snapshot__real_roq_ethusdt.json").read_text().strip()
PEAK_LIMIT = 2_000_000  # bytes: a hostile frame costs about what a normal one does


def _peak(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _failed_once(frame: str) -> DecodeFailed:
    (item,) = decode(frame)
    assert isinstance(item, DecodeFailed), item
    return item


@pytest.mark.parametrize("frame", [TICKER, TICKER_SNAPSHOT])
@pytest.mark.parametrize(
    "number",
    ["1e99999999", "-1E+99999999", "0e-99999999", "1e-99999999", "9" * 5000, "1" + "0" * 60],
)
def test_a_huge_ticker_number_is_refused_cheaply(frame: str, number: str) -> None:
    hostile = re.sub(r'"bid":[0-9.]+', f'"bid":{number}', frame, count=1)
    assert number in hostile
    assert _peak(lambda: _failed_once(hostile)) < PEAK_LIMIT


def test_an_exponent_beyond_memory_is_decode_failed_not_memory_error() -> None:
    _failed_once(TICKER.replace('"bid":3215.88', '"bid":1e999999999999'))


@pytest.mark.parametrize("number", ['"1e99999999"', '"0e-99999999"', '"' + "7" * 5000 + '"'])
def test_a_huge_quoted_number_is_refused_cheaply(number: str) -> None:
    hostile = TICKER.replace('"bid":3215.88', f'"bid":{number}')
    assert _peak(lambda: _failed_once(hostile)) < PEAK_LIMIT
    book = BOOK.replace('"price":', f'"price":{number},"was":', 1)
    assert _peak(lambda: _failed_once(book)) < PEAK_LIMIT


def _session() -> tuple[WsSession, InboundQueue, Conn]:
    queue = InboundQueue()
    cfg = WsSessionConfig(symbols=("ETH/USDT",))
    session = WsSession(cfg, queue, clock=ManualClock(), rng=random.Random(1))
    return session, queue, Conn(Channel.PUBLIC, "ws://x")


@pytest.mark.parametrize("checksum", ["9" * 5000, "4294967296", "1e99999999", "-1"])
def test_an_oversized_book_checksum_never_escapes_the_reader(checksum: str) -> None:
    session, queue, conn = _session()
    hostile = re.sub(r'"checksum":[0-9]+', f'"checksum":{checksum}', BOOK)
    assert checksum in hostile
    session.on_frame(conn, hostile, 1)  # must not raise
    (event,) = queue.drain()
    assert isinstance(event, DecodeFailed | BookStatus)
    assert not getattr(event, "verified", False)


def test_the_largest_crc32_is_still_a_checksum() -> None:
    frame = re.sub(r'"checksum":[0-9]+', '"checksum":4294967295', BOOK)
    (book,) = decode(frame)
    assert getattr(book, "checksum", None) == 4294967295


def test_real_frames_still_decode_exactly() -> None:
    (ticker,) = decode(TICKER)
    assert isinstance(ticker, Ticker) and str(ticker.bid) == "3215.88"
    session, queue, conn = _session()
    session.on_frame(conn, BOOK, 1)
    (status, *_) = queue.drain()
    assert isinstance(status, BookStatus) and status.verified


@pytest.mark.parametrize(
    "text", ["1e51", "1e-51", "0e-51", "0E+51", "1" * 51, "1." + "1" * 49, "NaN", "Infinity"]
)
def test_bounded_decimal_refuses_what_kraken_never_sends(text: str) -> None:
    with pytest.raises(NumberBoundError):
        bounded_decimal(text)


@pytest.mark.parametrize(
    "text", ["1e50", "1e-50", "0.00000000", "18446744073709551615", "-3215.88", "1" * 50]
)
def test_bounded_decimal_keeps_what_kraken_sends(text: str) -> None:
    assert str(bounded_decimal(text)) == str(Decimal(text))
    assert bounded_number_text(text) == text


def test_bounded_int() -> None:
    assert bounded_int("18446744073709551615") == 2**64 - 1
    with pytest.raises(NumberBoundError):
        bounded_int("9" * 51)

"""A `record` file (one WebSocket v2 frame a line) as a backtest's market: `load_recording`.

Owns: reading the frames through the daemon's own codec (kraken/ws_codec.py) and book code
(net/ws_tracking.py `BookKeeper`: every checksum verified, a book that fails is unverified
until its next snapshot, as live), into an `EventTape` of book tops, trades and tickers in
the recording's order. Time is the exchange's: a trade's and a book update's `timestamp`;
frames without one (snapshots, tickers) take the time of the frame before them, and time
never goes back. The book's depth is the first snapshot's (the subscription's). A line that
is not a frame, a recording with no frame of a pair asked for, or no frame at all: an
`InputDataError` naming the file and line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from krakenbot.app.backtest.inputs import InputDataError
from krakenbot.backtest.tape import EventTape, MarketInput
from krakenbot.domain.events import DecodeFailed, MarketTrade, Ticker
from krakenbot.domain.instrument import Instrument
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import BookMessage
from krakenbot.marketdata.ranges import iso
from krakenbot.net.ws_tracking import BookKeeper, BookOutcome

_TOPS = frozenset({BookOutcome.APPLIED, BookOutcome.VERIFIED})


def load_recording(
    path: Path,
    instruments: Sequence[Instrument],
    since_ns: int | None = None,
    until_ns: int | None = None,
) -> EventTape:
    wanted = {i.symbol: i for i in instruments}
    decimals = {s: (i.price_decimals, i.lot_decimals) for s, i in wanted.items()}
    keeper: BookKeeper | None = None
    events: list[MarketInput] = []
    last = 0
    seen: set[str] = set()
    frames = 0
    try:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                frames += 1
                for msg in decode(line):
                    if isinstance(msg, DecodeFailed):
                        if frames == 1 and lineno == 1:
                            raise InputDataError(f"{path}:1: not a recording ({msg.reason})")
                        continue
                    symbol = getattr(msg, "symbol", None)
                    if symbol not in wanted:
                        continue
                    seen.add(symbol)
                    if isinstance(msg, BookMessage):
                        if keeper is None:
                            depth = max(10, len(msg.bids), len(msg.asks))
                            keeper = BookKeeper(depth, decimals)
                        last = max(last, msg.exchange_ns)
                        outcome, st = keeper.on_message(msg)
                        if outcome in _TOPS or outcome is BookOutcome.INVALID:
                            top = st.book.top(keeper.depth, verified=st.valid, recv_ns=last)
                            events.append(top)
                    elif isinstance(msg, MarketTrade):
                        last = max(last, msg.exchange_ns)
                        events.append(replace(msg, recv_ns=last))
                    elif isinstance(msg, Ticker):
                        events.append(msg._replace(recv_ns=last))
    except UnicodeDecodeError:
        raise InputDataError(f"{path}: not a text file (a `record` JSONL recording?)") from None
    except OSError as exc:
        raise InputDataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    missing = sorted(set(wanted) - seen)
    if missing:
        raise InputDataError(f"{path}: no frames of {', '.join(missing)} in the recording")
    return EventTape(_timed(events, since_ns, until_ns, path), False, tuple(wanted))


def _timed(
    events: list[MarketInput], since_ns: int | None, until_ns: int | None, path: Path
) -> list[MarketInput]:
    """Frames before the first stamped one take its time; then keep [since, until)."""
    first = next((e.recv_ns for e in events if e.recv_ns), 0)
    if not first:
        raise InputDataError(f"{path}: no frame carries a time (book updates or trades)")
    out = []
    for event in events:
        e = event
        if not e.recv_ns:
            e = e._replace(recv_ns=first) if isinstance(e, Ticker) else replace(e, recv_ns=first)
        if (since_ns is None or e.recv_ns >= since_ns) and (
            until_ns is None or e.recv_ns < until_ns
        ):
            out.append(e)
    if not out:
        raise InputDataError(
            f"{path}: nothing between {iso(since_ns or 0)} and {iso(until_ns or 0)}"
        )
    return out


__all__ = ["load_recording"]

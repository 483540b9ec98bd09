"""Per-connection protocol state of the WebSocket session, kept free of I/O.

Owns: `BookKeeper` (one checksum-verified `OrderBook` per symbol: invalid until a verified
snapshot, invalid again on any mismatch) and `SequenceTracker` (an `executions`/`balances`
subscription's `sequence` continuity plus fill de-duplication by `exec_id`). Imports: stdlib,
domain and kraken only. The session does the sending; these only decide.

Kraken rules used: every book message (snapshot and update) carries a CRC32 of the top 10
levels after the message is applied and the book truncated to the subscribed depth
(docs: guides/spot-ws-book-v2); private channels number their pushes with a per-subscription
`sequence` that increases by one (docs: websocket-v2/executions, API.md 7.2).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from zlib import crc32

from krakenbot.domain.book import BookError, OrderBook
from krakenbot.domain.events import ExecutionReport
from krakenbot.kraken.checksum import CHECKSUM_LEVELS, number_fragment
from krakenbot.kraken.ws_messages import BookMessage, PrivateItem, SequencedBatch


class BookOutcome(Enum):
    APPLIED = "applied"  # verified; publish the new top
    VERIFIED = "verified"  # first verified message after being invalid
    INVALID = "invalid"  # mismatch or bad level: book cleared, resubscribe
    IGNORED = "ignored"  # update while waiting for a snapshot


# Module constants for the per-message path: an Enum member lookup through the class costs
# ~10x a global read on 3.11 (bench_ws.py book figure).
_APPLIED = BookOutcome.APPLIED
_VERIFIED = BookOutcome.VERIFIED
_IGNORED = BookOutcome.IGNORED


@dataclass(slots=True)
class BookState:
    book: OrderBook
    valid: bool = False
    failures: int = 0
    last_reason: str = ""
    last_resync_ns: int = -(1 << 62)  # monotonic ns of the last resubscribe we sent
    resync_pending: bool = False


class BookKeeper:
    """Books by symbol. `decimals` maps symbol -> (price_decimals, qty_decimals) when the
    feed's number text must be re-padded (recordings); live Kraken text is used verbatim."""

    def __init__(
        self,
        depth: int,
        decimals: Mapping[str, tuple[int | None, int | None]] | None = None,
        *,
        default_decimals: tuple[int | None, int | None] = (None, None),
    ) -> None:
        self.depth = depth
        self._decimals = dict(decimals or {})
        self._default_decimals = default_decimals
        self.books: dict[str, BookState] = {}

    def set_decimals(self, symbol: str, price_decimals: int, qty_decimals: int) -> None:
        """Learn a pair's precision (e.g. from the instrument channel) before its snapshot."""
        self._decimals[symbol] = (price_decimals, qty_decimals)
        self.books.pop(symbol, None)

    def state(self, symbol: str) -> BookState:
        st = self.books.get(symbol)
        if st is None:
            pdec, qdec = self._decimals.get(symbol, self._default_decimals)
            st = BookState(
                OrderBook(
                    symbol,
                    self.depth,
                    fragment=number_fragment,
                    price_decimals=pdec,
                    qty_decimals=qdec,
                )
            )
            self.books[symbol] = st
        return st

    def on_message(self, msg: BookMessage) -> tuple[BookOutcome, BookState]:
        # One unpack instead of five field lookups: this runs for every book frame.
        symbol, is_snapshot, bid_levels, ask_levels, expected, exchange_ns, _ = msg
        st = self.books.get(symbol) or self.state(symbol)
        book = st.book
        try:
            if is_snapshot:
                book.apply_snapshot(bid_levels, ask_levels, exchange_ns)
            elif st.valid:
                book.apply_update(bid_levels, ask_levels, exchange_ns)
            else:
                return _IGNORED, st
            asks, bids = book.fragments_joined(CHECKSUM_LEVELS)
        except (BookError, UnicodeError) as exc:  # UnicodeError: non-ASCII number text
            return self._fail(st, f"bad level: {exc}"), st
        actual = crc32(bids, crc32(asks))  # running CRC: asks string, then bids string
        if expected is None or actual != expected:
            return self._fail(st, f"checksum mismatch: got {actual}, expected {expected}"), st
        if st.valid:
            return _APPLIED, st
        st.valid = True
        st.last_reason = "snapshot verified"
        return _VERIFIED, st

    def _fail(self, st: BookState, reason: str) -> BookOutcome:
        st.valid = False
        st.failures += 1
        st.last_reason = reason
        st.book.clear()
        return BookOutcome.INVALID

    def invalidate_all(self) -> list[str]:
        """Mark every book invalid (disconnect); returns the symbols that were valid."""
        was_valid = [s for s, st in self.books.items() if st.valid]
        for st in self.books.values():
            st.valid = False
            st.book.clear()
        return was_valid


@dataclass(slots=True)
class TrackResult:
    items: list[PrivateItem]
    resync_reason: str | None = None  # set: request a fresh snapshot + reconciliation
    dropped: int = 0  # reports dropped as duplicates / stale


class SequenceTracker:
    """Sequence continuity for one private subscription, and fill de-duplication.

    Seen fill ids survive reconnects and resubscriptions on purpose: a fresh `snap_trades`
    snapshot re-sends recent fills we already delivered.
    """

    def __init__(self, channel: str, *, max_remembered_fills: int = 50_000) -> None:
        self.channel = channel
        self.last_sequence: int | None = None
        self.awaiting_snapshot = True
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._max_seen = max_remembered_fills
        self.duplicates_dropped = 0

    def reset(self) -> None:
        """A new connection: the new subscription's numbering starts with its snapshot."""
        self.last_sequence = None
        self.awaiting_snapshot = True

    def expect_snapshot(self) -> None:
        """A resubscription was requested on the same connection. Keep checking the old
        numbering (so repeats are still caught) until the fresh snapshot restarts it."""
        self.awaiting_snapshot = True

    def _new_fill(self, report: ExecutionReport) -> bool:
        fill = report.fill
        if fill is None:
            return True
        if fill.trade_id in self._seen:
            return False
        self._seen[fill.trade_id] = None
        if len(self._seen) > self._max_seen:
            self._seen.popitem(last=False)
        return True

    def _dedupe(self, items: tuple[PrivateItem, ...], *, fills_only: bool) -> TrackResult:
        out: list[PrivateItem] = []
        dropped = 0
        for item in items:
            if type(item) is ExecutionReport:
                if item.fill is None and fills_only:
                    dropped += 1
                    continue
                if not self._new_fill(item):
                    dropped += 1
                    continue
            elif fills_only:
                dropped += 1
                continue
            out.append(item)
        self.duplicates_dropped += dropped
        return TrackResult(out, dropped=dropped)

    def on_batch(self, batch: SequencedBatch) -> TrackResult:
        seq = batch.sequence
        if batch.is_snapshot:
            self.awaiting_snapshot = False
            self.last_sequence = seq
            return self._dedupe(batch.items, fills_only=False)
        last = self.last_sequence
        if seq is None or last is None:
            # Before the first snapshot (or without numbering) nothing can be checked:
            # deliver, de-duplicated; the snapshot that follows restores continuity.
            return self._dedupe(batch.items, fills_only=False)
        if seq <= last:
            # A repeat or a late (out-of-order) push: its state is stale, but a fill we have
            # not seen is still a fill — deliver only those.
            return self._dedupe(batch.items, fills_only=True)
        result = self._dedupe(batch.items, fills_only=False)
        if seq != last + 1 and not self.awaiting_snapshot:
            # One resync at a time: a fresh snapshot is already on its way otherwise.
            result.resync_reason = f"{self.channel} sequence gap: {last} -> {seq}"
            self.awaiting_snapshot = True
        self.last_sequence = seq
        return result

"""Fetching Kraken's public market history into the store: `download`.

Owns: the paging loops over REST `Trades` (cursor `last`) and `OHLC`, the choice of source
for candles, resuming from what the store already holds, and the per-pair summary. All calls
go through the project's RestClient, so they are paced by its public rate model
(kraken/public_ratelimit.py) and retried like every read-only call; no keys are used.
Imports: net (RestClient), kraken, marketdata.*.

Candles: Kraken's OHLC serves only the 720 most recent candles (docs get-ohlc-data: "older
data cannot be retrieved, regardless of the value of since"). Where OHLC does not reach, the
candles are built from trades (downloaded into the trades store too, so they are fetched
once) by Kraken's own rules (marketdata/candles.py): the same candles OHLC would have given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from krakenbot.domain.instrument import Instrument
from krakenbot.marketdata.candles import candles_from_trades
from krakenbot.marketdata.ranges import (
    MINUTE_NS,
    NS,
    Range,
    align_down,
    day_name,
    days,
    missing,
    subtract,
)
from krakenbot.marketdata.sink import DaySink
from krakenbot.marketdata.store import Dataset, dataset_name
from krakenbot.net.rest_client import RestClient

TRADES_PAGE = 1000  # docs get-recent-trades: at most 1000 per call
# A short page means "nothing more up to now"; trades are published with a little delay, so
# the newest minute is not claimed covered (it is fetched again next time).
LIVE_MARGIN_NS = 60 * NS
# Kraken's cursor is an id close to, not equal to, the trade time: a fresh start asks from a
# second earlier and drops what is before the range.
START_SLACK_NS = NS

Advance = Callable[[int], None]


def _ignore(_ns: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Request:
    instrument: Instrument
    kind: str  # "trades" | "ohlc"
    interval_min: int
    since_ns: int
    until_ns: int

    @property
    def width_ns(self) -> int:
        return self.interval_min * MINUTE_NS

    @property
    def span(self) -> Range:
        if self.kind == "trades":
            return (self.since_ns, self.until_ns)
        return (align_down(self.since_ns, self.width_ns), align_down(self.until_ns, self.width_ns))


@dataclass(slots=True)
class PairResult:
    symbol: str
    dataset: str
    path: Path
    rows_added: int = 0
    days_written: set[str] = field(default_factory=set)
    missing: list[Range] = field(default_factory=list)  # what the exchange could not give yet
    repaired: list[str] = field(default_factory=list)


class Downloader:
    def __init__(self, client: RestClient, root: Path, advance: Advance) -> None:
        self.client = client
        self.root = root
        self.advance = advance

    async def server_now_ns(self) -> int:
        return (await self.client.server_time()).unixtime * NS

    # -- trades --------------------------------------------------------------------------
    async def fetch_trades(self, inst: Instrument, sink: DaySink, want: Range) -> int:
        """Fetch trades in `want` into `sink`; returns how far it got (`want[1]` unless the
        present was reached first)."""
        pos, end = want
        cursor = sink.ds.cursor_at(pos) or str(pos - START_SLACK_NS)
        while pos < end:
            page = await self.client.recent_trades(inst.rest_id, since=cursor)
            rows = [t for t in page.trades if want[0] <= t.time_ns < end]
            if any(t.time_ns >= end for t in page.trades):
                sink.add(rows, (pos, end))
                self.advance(end - pos)
                return end
            if len(page.trades) < TRADES_PAGE or page.last == cursor:
                # At the present: everything up to now (less the margin) has been returned.
                reach = max(pos, min(end, await self.server_now_ns() - LIVE_MARGIN_NS))
                sink.add([t for t in rows if t.time_ns < reach], (pos, reach))
                self.advance(reach - pos)
                return reach
            # A full page: every trade before its last one's time has arrived (more trades of
            # that very time may follow on the next page; the cursor knows where).
            reach = max(pos, page.trades[-1].time_ns)
            sink.add(rows, (pos, reach), cursor=page.last)
            self.advance(reach - pos)
            pos, cursor = reach, page.last
        return end

    async def trades(self, req: Request, ds: Dataset) -> DaySink:
        sink = DaySink(ds)
        for want in missing(req.span, ds.coverage()):
            if await self.fetch_trades(req.instrument, sink, want) < want[1]:
                break
        return sink

    # -- candles -------------------------------------------------------------------------
    async def candles_from_trades(
        self, req: Request, csink: DaySink, tds: Dataset, want: Range
    ) -> int:
        """Candles for `want` built from the trades store (fetching what it lacks)."""
        tsink = DaySink(tds)
        advance, self.advance = self.advance, _ignore  # the candle span is what counts
        try:
            for part in missing(want, tds.coverage()):
                if await self.fetch_trades(req.instrument, tsink, part) < part[1]:
                    break
        finally:
            self.advance = advance
        gaps = subtract(want, tds.coverage())
        reach = align_down(gaps[0][0] if gaps else want[1], req.width_ns)
        for day in days(want[0], reach):
            part = (max(want[0], day), min(reach, day + 86_400 * NS))
            if part[0] >= part[1]:
                continue
            trades = [t for t in tds.read_day(day_name(day)) if part[0] <= t.time_ns < part[1]]
            inst = req.instrument
            csink.add(candles_from_trades(trades, req.interval_min, inst.price_decimals), part)
        self.advance(max(0, reach - want[0]))
        return reach

    async def fetch_candles(self, req: Request, csink: DaySink, tds: Dataset, want: Range) -> int:
        pos, end = want
        width_s = req.interval_min * 60
        while pos < end:
            page = await self.client.ohlc(req.instrument.rest_id, req.interval_min, pos // NS - 1)
            oldest = page.committed[0] if page.committed else page.current
            if oldest is None:
                return pos
            first = oldest.time_s * NS
            if first > pos:  # older than the candles OHLC serves: from trades
                head = (pos, min(end, first))
                reach = await self.candles_from_trades(req, csink, tds, head)
                if reach < head[1]:
                    return reach
                pos = reach
                if pos >= end:
                    return end
            if not page.committed:
                return pos  # only the open candle: the present
            reach = min(end, (page.last + width_s) * NS)
            if reach <= pos:
                return pos
            rows = [r for r in page.committed if pos <= r.time_s * NS < reach and r.count > 0]
            csink.add(rows, (pos, reach))
            self.advance(reach - pos)
            pos = reach
        return end

    async def candles(self, req: Request, cds: Dataset, tds: Dataset) -> DaySink:
        sink = DaySink(cds)
        for want in missing(req.span, cds.coverage()):
            if await self.fetch_candles(req, sink, tds, want) < want[1]:
                break
        return sink

    # -- one pair ------------------------------------------------------------------------
    def open(self, req: Request) -> tuple[Dataset, Dataset | None]:
        """(the dataset asked for, the trades dataset when candles may need it)."""
        tds = Dataset(self.root, "trades", req.instrument.symbol).open()
        if req.kind == "trades":
            return tds, None
        return Dataset(
            self.root, dataset_name("ohlc", req.interval_min), req.instrument.symbol
        ).open(), tds

    async def run(self, req: Request, ds: Dataset, tds: Dataset | None) -> PairResult:
        if tds is None:
            sink = await self.trades(req, ds)
        else:
            sink = await self.candles(req, ds, tds)
        return PairResult(
            symbol=req.instrument.symbol,
            dataset=ds.dataset,
            path=ds.dir,
            rows_added=sink.rows_added,
            days_written=sink.days_written,
            missing=subtract(req.span, ds.coverage()),
            repaired=list(ds.repaired) + (list(tds.repaired) if tds else []),
        )


def todo_ns(req: Request, ds: Dataset) -> int:
    """How much of the request's span is still to fetch (for the progress bar)."""
    return sum(b - a for a, b in missing(req.span, ds.coverage()))

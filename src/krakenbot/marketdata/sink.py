"""Writing fetched rows into a dataset's day files as a download goes (checkpointing).

Owns: `DaySink`. Each `add(rows, part)` says "these rows arrived, and now [part) is fully
fetched"; the sink merges them into the day's file (loaded once), extends the day's covered
ranges, de-duplicates (a resumed page may repeat rows: trade id / candle time) and rewrites
the day atomically, so a kill -9 at any moment loses at most the page in flight. Rows are
kept in time order, ties in arrival order (Kraken's). Imports: marketdata.* only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from krakenbot.kraken.rest_market import OhlcRow, PublicTrade
from krakenbot.marketdata.ranges import DAY_NS, NS, Range, day_name, day_start, normalize
from krakenbot.marketdata.store import Dataset, DayEntry


def _trade_time(row: PublicTrade) -> int:
    return row.time_ns


def _candle_time(row: OhlcRow) -> int:
    return row.time_s * NS


def _trade_key(row: PublicTrade) -> object:
    return row.trade_id


def _candle_key(row: OhlcRow) -> object:
    return row.time_s


class DaySink:
    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.time: Callable[[Any], int] = _trade_time if ds.is_trades else _candle_time
        self.key: Callable[[Any], object] = _trade_key if ds.is_trades else _candle_key
        self.days_written: set[str] = set()
        self.rows_added = 0
        self._day = ""
        self._rows: list[Any] = []
        self._keys: set[object] = set()
        self._entry = DayEntry([], 0)

    def _switch(self, day: str) -> None:
        if day == self._day:
            return
        self._day = day
        self._rows = self.ds.read_day(day)
        self._keys = {self.key(r) for r in self._rows}
        known = self.ds.days.get(day)
        self._entry = DayEntry([], 0)
        if known is not None:
            self._entry = DayEntry(list(known.ranges), known.rows, dict(known.cursors))

    def add(self, rows: Sequence[Any], part: Range, cursor: str | None = None) -> None:
        """Store `rows` and mark `part` covered; `cursor`: Kraken's paging cursor at the end
        of `part`, kept while the day is unfinished so a resumed download continues there."""
        by_day: dict[int, list[Any]] = {}
        for row in rows:
            by_day.setdefault(day_start(self.time(row)), []).append(row)
        first, end = part
        touched = set(by_day)
        day = day_start(first)
        while first < end and day < end:
            touched.add(day)
            day += DAY_NS
        for day in sorted(touched):
            sub = (max(first, day), min(end, day + DAY_NS))
            self._merge(day, by_day.get(day, []), sub if sub[0] < sub[1] else None, cursor)

    def _merge(self, day: int, rows: list[Any], part: Range | None, cursor: str | None) -> None:
        self._switch(day_name(day))
        fresh = [r for r in rows if self.key(r) not in self._keys]
        self._keys.update(self.key(r) for r in fresh)
        self._rows.extend(fresh)
        self._rows.sort(key=self.time)  # stable: ties keep arrival order
        self.rows_added += len(fresh)
        entry = self._entry
        before = (list(entry.ranges), dict(entry.cursors))
        if part is not None:
            entry.ranges = normalize([*entry.ranges, part])
            if cursor is not None and part[1] < day + DAY_NS:
                entry.cursors[str(part[1])] = cursor
        ends = {str(hi) for _, hi in entry.ranges if hi < day + DAY_NS}
        entry.cursors = {k: v for k, v in entry.cursors.items() if k in ends}
        entry.rows = len(self._rows)
        if not fresh and before == (entry.ranges, entry.cursors) and self._day in self.ds.days:
            return
        snapshot = DayEntry(list(entry.ranges), entry.rows, dict(entry.cursors))
        self.ds.write_day(self._day, self._rows, snapshot)
        self.days_written.add(self._day)

"""Time ranges of the market-data store: parsing `--since`/`--until`, UTC days, coverage sets.

Owns: `parse_when`, the UTC-day helpers and the arithmetic on half-open nanosecond ranges
(`normalize`, `subtract`, `missing`) that decides what a download must still fetch.
Pure: no I/O, no clock. Must not import: anything above `domain`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

NS = 1_000_000_000
MINUTE_NS = 60 * NS
DAY_NS = 86_400 * NS

Range = tuple[int, int]  # [from_ns, to_ns)


class WhenError(ValueError):
    """A date/time the user wrote that we cannot read."""


def parse_when(text: str) -> int:
    """`2025-11-10`, `2025-11-10T12:30`, `2025-11-10 12:30:00`, `…Z` or `…+01:00` → epoch ns.
    A time without an offset is UTC."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise WhenError(
            f"{text!r} is not a date or time (use YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if not 2000 <= when.astimezone(UTC).year <= 2200:
        raise WhenError(f"{text!r} is outside the years 2000-2200")
    return int(when.timestamp()) * NS + when.microsecond * 1000


def iso(ns: int) -> str:
    """Epoch ns → `2025-11-10T12:17:00Z` (seconds; for messages and reports)."""
    return datetime.fromtimestamp(ns // NS, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_start(ns: int) -> int:
    return ns - ns % DAY_NS


def day_name(ns: int) -> str:
    return datetime.fromtimestamp(day_start(ns) // NS, UTC).strftime("%Y-%m-%d")


def day_of_name(name: str) -> int:
    """`2025-11-10` → that UTC day's start in ns (raises ValueError when it is not a day)."""
    parsed = date.fromisoformat(name)
    return int(datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC).timestamp()) * NS


def days(start_ns: int, end_ns: int) -> list[int]:
    """Starts of the UTC days that [start, end) touches."""
    out = []
    day = day_start(start_ns)
    while day < end_ns:
        out.append(day)
        day += DAY_NS
    return out


def normalize(ranges: list[Range]) -> list[Range]:
    """Sorted, non-empty, with overlapping and touching ranges merged."""
    out: list[Range] = []
    for lo, hi in sorted(r for r in ranges if r[0] < r[1]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def subtract(want: Range, have: list[Range]) -> list[Range]:
    """The parts of `want` that `have` does not cover, in order."""
    out: list[Range] = []
    pos, end = want
    for lo, hi in normalize(have):
        if hi <= pos or lo >= end:
            continue
        if lo > pos:
            out.append((pos, lo))
        pos = max(pos, hi)
    if pos < end:
        out.append((pos, end))
    return out


def missing(want: Range, have: list[Range]) -> list[Range]:
    """What a download of `want` must fetch, as few contiguous runs as possible."""
    return normalize(subtract(want, have))


def align_down(ns: int, step_ns: int) -> int:
    return ns - ns % step_ns


def align_up(ns: int, step_ns: int) -> int:
    return -(-ns // step_ns) * step_ns


def covered(ranges: list[Range], want: Range) -> bool:
    return not subtract(want, ranges)

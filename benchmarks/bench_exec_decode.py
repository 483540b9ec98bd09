"""Executions reports decoded: the current decoder against the previous one, in one process
(prints figures; not a test).

The previous decoder is the copy tests/property/exec_decode_before.py keeps as the reference
the current one is held to. Rounds alternate old and new, so load from other processes falls
on both alike; figures are CPU time of this process (time.process_time), medians of the rounds.

1. Rows: `decode_execution_rows` on every row of the recorded executions frames
   (tests/data/ws/real_messages/ws_executions*.json), µs per report.
2. Building one ExecutionReport alone (keywords into the dataclass __init__, as before,
   against the slot constructor called positionally).
3. One order's three reports as Kraken documents them (pending_new, new, trade: the docs
   lifecycle frames) through the codec's entry point `ws_codec.decode`, JSON parsing included,
   µs per order and per report.

Run from the repository root: python -m benchmarks.bench_exec_decode [--rounds N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.property import exec_decode_before

from krakenbot.domain.events import ExecutionReport, new_execution_report
from krakenbot.kraken import ws_codec
from krakenbot.kraken.ws_private import decode_execution_rows

MESSAGES = Path(__file__).resolve().parents[1] / "tests" / "data" / "ws" / "real_messages"
LIFECYCLE = "ws_executions_lifecycle_pending_new_trade__docs.json"


def _messages(path: Path) -> list[dict[str, Any]]:
    value = json.loads(path.read_text())
    return [m for m in (value if isinstance(value, list) else [value]) if isinstance(m, dict)]


def _cpu_us(fn: Callable[[], object], number: int) -> float:
    start = time.process_time()
    for _ in range(number):
        fn()
    return (time.process_time() - start) / number * 1e6


def _compare(name: str, old: Callable[[], object], new: Callable[[], object], per: int,
             rounds: int, number: int) -> None:  # fmt: skip
    olds, news = [], []
    _cpu_us(old, number // 10 + 1)  # warm-up, not counted
    _cpu_us(new, number // 10 + 1)
    for _ in range(rounds):
        olds.append(_cpu_us(old, number))
        news.append(_cpu_us(new, number))
    o, n = statistics.median(olds), statistics.median(news)
    print(
        f"{name}: before {o / per:6.2f} us/report, now {n / per:6.2f} us/report "
        f"({o:.1f} -> {n:.1f} us per {per} reports, {o / n:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000, help="calls per round")
    args = parser.parse_args()

    rows = [
        row
        for path in sorted(MESSAGES.glob("ws_executions*.json"))
        for msg in json.loads(
            json.dumps(_messages(path)), parse_float=Decimal
        )  # Decimals, as the codec's JSON decoder hands them over
        for row in msg.get("data", [])
        if isinstance(row, dict) and "exec_type" in row
    ]
    old_rows = exec_decode_before.decode_execution_rows

    def rows_old() -> None:
        for row in rows:
            old_rows(row, False, 1, 1)

    def rows_new() -> None:
        for row in rows:
            decode_execution_rows(row, False, 1, 1)

    _compare("rows", rows_old, rows_new, len(rows), args.rounds, args.number)

    # 2. Building one report alone: the dataclass __init__ with keywords (from a dict), as the
    # previous decoder did, against the slot constructor called positionally.
    sample = [decode_execution_rows(row, False, 1, 1)[0] for row in rows]
    values = [[getattr(r, f.name) for f in dataclasses.fields(r)] for r in sample]
    keywords = [{f.name: getattr(r, f.name) for f in dataclasses.fields(r)} for r in sample]

    def build_old() -> None:
        for kw in keywords:
            ExecutionReport(**kw)

    def build_new() -> None:
        for v in values:
            new_execution_report(*v)

    _compare("building one ExecutionReport", build_old, build_new, len(sample), args.rounds,
             args.number)  # fmt: skip

    frames = [json.dumps(m, separators=(",", ":")) for m in _messages(MESSAGES / LIFECYCLE)]
    reports = sum(len(json.loads(f)["data"]) for f in frames)
    decode = ws_codec.decode

    def frames_with(decoder: Callable[..., Any]) -> Callable[[], None]:
        def run() -> None:
            ws_codec.decode_execution_rows = decoder  # type: ignore[attr-defined]
            for frame in frames:
                decode(frame, 1)

        return run

    try:
        _compare(
            "one order's frames (decode)",
            frames_with(old_rows),
            frames_with(decode_execution_rows),
            reports,
            args.rounds,
            args.number,
        )
    finally:
        ws_codec.decode_execution_rows = decode_execution_rows  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()

"""`krakenbot replay FILE`: verify every book checksum in a JSONL WebSocket recording.

Owns: the operator command that feeds a recording (one WS v2 frame per line, as written by
`krakenbot record`) through the same codec and `BookKeeper` the live session uses, and prints
one JSON summary line: frames, book messages, checksums verified/failed, first failure,
frames/s. Exit 0 when every checksum verified, 1 otherwise (2 for an unreadable file).

Number text: live Kraken prints full precision. Decimals come from, in order: the
`--price-decimals/--qty-decimals` flags (all symbols), an `instrument` frame in the recording,
the built-in table of known pairs, else the text is used verbatim. Re-padding lets a
recording whose numbers lost trailing zeros (re-serialised through floats) be checked.
No network, no clock besides timing. Imports: stdlib, kraken (codec) and net.ws_tracking (the
live session's BookKeeper, so replay checks exactly what production checks).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import BookMessage, InstrumentMessage
from krakenbot.net.ws_tracking import BookKeeper, BookOutcome

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2

# Kraken's fixed precision (AssetPairs pair_decimals / lot_decimals) for the pairs we trade
# or record most; re-padding full-precision wire text to these changes nothing, and it makes
# lossy recordings of these pairs checkable without flags.
KNOWN_DECIMALS: dict[str, tuple[int | None, int | None]] = {
    "BTC/USD": (1, 8),
    "ETH/USD": (2, 8),
    "XLM/USD": (6, 8),
}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "replay", help="verify every order-book checksum in a recorded JSONL WebSocket feed"
    )
    p.add_argument("file", type=Path, help="JSONL recording (one WS v2 frame per line)")
    p.add_argument(
        "--price-decimals",
        type=int,
        default=None,
        metavar="N",
        help="pad prices to N decimals (pair_decimals) before checksumming",
    )
    p.add_argument(
        "--qty-decimals",
        type=int,
        default=None,
        metavar="N",
        help="pad quantities to N decimals (lot_decimals) before checksumming",
    )
    p.add_argument("--depth", type=int, default=10, help="subscribed book depth (default 10)")
    p.set_defaults(handler=run)


def replay_lines(
    lines: Iterable[str],
    *,
    depth: int = 10,
    price_decimals: int | None = None,
    qty_decimals: int | None = None,
) -> dict[str, Any]:
    """Pure core of the command: returns the summary dict."""
    flags_given = price_decimals is not None or qty_decimals is not None
    keeper = BookKeeper(
        depth,
        None if flags_given else KNOWN_DECIMALS,
        default_decimals=(price_decimals, qty_decimals),
    )
    frames = book_messages = verified = failed = skipped = undecodable = 0
    first_failure: dict[str, Any] | None = None
    started = time.perf_counter()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        frames += 1
        for msg in decode(line):
            if isinstance(msg, InstrumentMessage) and not flags_given:
                for pair in msg.pairs:
                    keeper.set_decimals(pair.symbol, pair.price_precision, pair.qty_precision)
            elif isinstance(msg, BookMessage):
                book_messages += 1
                outcome, st = keeper.on_message(msg)
                if outcome is BookOutcome.INVALID:
                    failed += 1
                    if first_failure is None:
                        first_failure = {
                            "line": lineno,
                            "symbol": msg.symbol,
                            "reason": st.last_reason,
                        }
                elif outcome is BookOutcome.IGNORED:
                    skipped += 1  # an update while waiting for a fresh snapshot
                else:
                    verified += 1
            elif type(msg).__name__ == "DecodeFailed":
                undecodable += 1
    elapsed = max(time.perf_counter() - started, 1e-9)
    return {
        "frames": frames,
        "book_messages": book_messages,
        "checksums_verified": verified,
        "checksums_failed": failed,
        "book_messages_skipped": skipped,
        "undecodable_frames": undecodable,
        "first_failure": first_failure,
        "frames_per_s": round(frames / elapsed, 1),
    }


def run(args: argparse.Namespace) -> int:
    try:
        with args.file.open(encoding="utf-8") as fh:
            summary = replay_lines(
                fh,
                depth=args.depth,
                price_decimals=args.price_decimals,
                qty_decimals=args.qty_decimals,
            )
    except (OSError, UnicodeDecodeError) as exc:
        sys.stdout.write(json.dumps({"error": f"cannot read {args.file}: {exc}"}) + "\n")
        return EXIT_UNREADABLE
    sys.stdout.write(json.dumps(summary) + "\n")
    ok = summary["checksums_failed"] == 0 and summary["book_messages_skipped"] == 0
    return EXIT_OK if ok else EXIT_FAILED

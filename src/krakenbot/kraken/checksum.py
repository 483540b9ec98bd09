"""Kraken WebSocket v2 order-book CRC32 checksum (pure).

Owns: `book_checksum` and the per-level text fragment it is built from. Imports: stdlib only.
Rule (docs: guides/spot-ws-book-v2, "Book checksum v2"): take the top 10 asks ascending and the
top 10 bids descending; for each level concatenate the price text and the qty text, each with
the decimal point removed and leading zeros stripped; CRC32 of asks string + bids string.
The text must carry the pair's full fixed precision, which the wire does; never round-trip
through float.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal

CHECKSUM_LEVELS = 10  # always 10 levels per side, whatever the subscribed depth


def number_fragment(text: str) -> str:
    """`"0.00100000"` -> `"100000"`: the decimal point removed, then leading zeros stripped."""
    return text.replace(".", "").lstrip("0")


def level_fragment(price_text: str, qty_text: str) -> str:
    # Inlined number_fragment: this runs for every book level we store.
    return price_text.replace(".", "").lstrip("0") + qty_text.replace(".", "").lstrip("0")


def checksum_of_fragments(asks: Iterable[str], bids: Iterable[str]) -> int:
    """CRC32 of already-built level fragments (best first on each side, at most 10 each)."""
    return zlib.crc32(("".join(asks) + "".join(bids)).encode("ascii"))


def book_checksum(asks: Sequence[tuple[str, str]], bids: Sequence[tuple[str, str]]) -> int:
    """Checksum of a book given its top levels as `(price_text, qty_text)` pairs.

    `asks` ascending and `bids` descending (best first); only the first 10 of each are used.
    """
    return checksum_of_fragments(
        (level_fragment(p, q) for p, q in asks[:CHECKSUM_LEVELS]),
        (level_fragment(p, q) for p, q in bids[:CHECKSUM_LEVELS]),
    )


def fixed_text(text: str, decimals: int) -> str:
    """Re-format number text to exactly `decimals` places without a float round trip.

    For recordings whose numbers lost trailing zeros (`0.566` -> `0.5660` at 4 decimals).
    Exact: the digits are padded, never rounded; more digits than `decimals` is an error
    because it would change the value.
    """
    value = Decimal(text)
    quantum = Decimal(1).scaleb(-decimals)
    fixed = value.quantize(quantum)
    if fixed != value:
        raise ValueError(f"{text!r} has more than {decimals} decimals")
    return f"{fixed:f}"

"""Client order ids: generation with a recognizable prefix, and Kraken's format rules.

Owns: `new_cl_ord_id`, `is_ours`, `is_valid_cl_ord_id`. Must not import: anything doing I/O
or reading a clock; time and randomness are passed in.

Kraken accepts a `cl_ord_id` as a long UUID (36 chars with hyphens), a short UUID (32 hex
chars) or free text of at most 18 ASCII characters, unique among the client's open orders
(docs: guides/spot-clordid; rest-api/add-order). We use free text: a 2-letter prefix so
reconciliation can adopt orders that are ours, 9 base-36 digits of the millisecond time (ids
sort by creation, and a restart can never reuse one), then 7 random base-36 digits so two
ids created in the same millisecond do not collide (36**7 ≈ 7.8e10).
"""

from __future__ import annotations

import random
import re
from typing import Final

DEFAULT_PREFIX: Final = "kb"
MAX_TEXT_LEN: Final = 18
_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"
_TIME_DIGITS: Final = 9  # 36**9 ms reaches beyond the year 5000
_RANDOM_DIGITS: Final = MAX_TEXT_LEN - 2 - _TIME_DIGITS
_PREFIX_RE: Final = re.compile(r"[a-z]{2}")
_LONG_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SHORT_UUID: Final = re.compile(r"[0-9a-fA-F]{32}")


_PAIRS: Final = tuple(a + b for a in _DIGITS for b in _DIGITS)  # base-36 "00" .. "zz"
_GOOD_PREFIXES: set[str] = set()  # prefixes already checked (one per daemon, in practice)


def _base36(value: int, width: int) -> str:
    """`value` in `width` base-36 digits (two at a time: on every order's decision path)."""
    pairs: list[str] = []
    for _ in range(width // 2):
        value, rem = divmod(value, 1296)
        pairs.append(_PAIRS[rem])
    if width % 2:
        pairs.append(_DIGITS[value % 36])
    return "".join(reversed(pairs))


def new_cl_ord_id(now_ns: int, rng: random.Random, prefix: str = DEFAULT_PREFIX) -> str:
    """An 18-character free-text id: prefix + base-36 milliseconds + base-36 random."""
    if prefix not in _GOOD_PREFIXES:
        if not _PREFIX_RE.fullmatch(prefix):
            raise ValueError("cl_ord_id prefix must be two lower-case ASCII letters")
        _GOOD_PREFIXES.add(prefix)
    if now_ns < 0:
        raise ValueError("time must not be negative")
    millis = now_ns // 1_000_000
    return (
        prefix
        + _base36(millis, _TIME_DIGITS)
        + _base36(rng.randrange(36**_RANDOM_DIGITS), _RANDOM_DIGITS)
    )


def is_ours(cl_ord_id: str | None, prefix: str = DEFAULT_PREFIX) -> bool:
    """True for an id this daemon generated (same prefix and shape)."""
    return (
        cl_ord_id is not None
        and len(cl_ord_id) == MAX_TEXT_LEN
        and cl_ord_id.startswith(prefix)
        and all(ch in _DIGITS for ch in cl_ord_id[len(prefix) :])
    )


def is_valid_cl_ord_id(cl_ord_id: str) -> bool:
    """Whether Kraken accepts `cl_ord_id` in one of its three documented forms."""
    if _LONG_UUID.fullmatch(cl_ord_id) or _SHORT_UUID.fullmatch(cl_ord_id):
        return True
    return 0 < len(cl_ord_id) <= MAX_TEXT_LEN and all(32 < ord(ch) < 127 for ch in cl_ord_id)

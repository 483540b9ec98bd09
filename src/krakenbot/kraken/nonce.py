"""Pure nonce issuing: strictly increasing nanosecond nonces that survive clock steps.

Owns: the rule for the next nonce given the wall clock and the persisted high-water mark.
Must not import: I/O, the clock (time is passed in), other krakenbot layers.
Rule (docs: guides/spot-rest-auth, API.md §2): a nonce is an unsigned 64-bit integer that
must exceed the last nonce Kraken accepted for the key; it can never be reset lower. We use
nanoseconds (a key that once saw ns can never go back to ms) and never go below the
high-water mark, so a wall clock that steps back cannot produce a smaller nonce.
"""

from __future__ import annotations

UINT64_MAX = (1 << 64) - 1


def next_nonce(now_ns: int, high_water: int) -> int:
    """The nonce to use now: the wall clock in ns, or one more than the last issued."""
    nonce = max(now_ns, high_water + 1)
    if nonce > UINT64_MAX:
        raise OverflowError("nonce would exceed Kraken's unsigned 64-bit range")
    return nonce

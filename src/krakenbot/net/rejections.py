"""Counting the same refusal of the same request, so a refusal that repeats is said once.

Owns: `Rejections` — per request kind (`"AddOrder XLM/USD"`, `"Balance"`, …) the last refusal
text and how often in a row it came; the threshold-th identical one is returned as a
`RepeatedRejectionError` (an unknown order never counts: cancelling a gone order is normal).
Used by the REST client and the order loop (net/order_sender.py), whichever transport
carried the request. Must not import: anything above `net`.
"""

from __future__ import annotations

import logging

from krakenbot.errors import RejectedError
from krakenbot.kraken.errors import RepeatedRejectionError, UnknownOrderError

logger = logging.getLogger(__name__)


class Rejections:
    def __init__(self, threshold: int) -> None:
        self._threshold = threshold
        self._last: dict[str, tuple[str, int]] = {}

    def reset(self, key: str) -> None:
        """`key`'s request went through: the run of identical refusals ends."""
        self._last.pop(key, None)

    def note(self, key: str, exc: RejectedError) -> RejectedError:
        """Count identical consecutive rejections; the threshold-th one is reported as such."""
        text = exc.kraken_error or exc.message
        last, count = self._last.get(key, ("", 0))
        count = count + 1 if last == text else 1
        self._last[key] = (text, count)
        if count < self._threshold or isinstance(exc, UnknownOrderError):
            return exc
        logger.warning(
            "the same request was refused repeatedly",
            extra={"endpoint": exc.endpoint, "kraken_error": text, "count": count},
        )
        rep = RepeatedRejectionError(
            f"refused {count} times in a row: {text}",
            kraken_error=exc.kraken_error,
            endpoint=exc.endpoint,
            cl_ord_id=exc.cl_ord_id,
        )
        rep.count = count
        return rep

"""How the dashboard's live push stays cheap: coalescing, and one bounded mailbox per page.

Owns: `Pacer` (the hub builds a snapshot at most every `interval_s`, and only while a page
listens), `Mailbox` (per connected page: the newest unsent payload of each topic — a page
that reads slowly gets the latest state, never a backlog; what it missed is counted, never
queued, so memory per page is bounded by the number of topics) and `sse_frame` (one
server-sent event on the wire). The engine never waits for a page: the hub only puts into
mailboxes, and each page's writer task takes from its own.
Pure: no I/O, no clock reads. Imports: stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable

NS = 1_000_000_000
TOPICS = ("snapshot", "equity")  # the order a page receives them in


class Pacer:
    """At most one publication every `interval_s` (a few Hz at most)."""

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._interval_ns = int(interval_s * NS)
        self._last_ns: int | None = None

    def due(self, now_ns: int) -> bool:
        return self._last_ns is None or now_ns - self._last_ns >= self._interval_ns

    def wait_s(self, now_ns: int) -> float:
        """Seconds until the next publication may happen."""
        if self._last_ns is None:
            return 0.0
        return max(0, self._last_ns + self._interval_ns - now_ns) / NS

    def published(self, now_ns: int) -> None:
        self._last_ns = now_ns

    def reset(self) -> None:
        """The next publication is due at once (a new page is waiting for its first)."""
        self._last_ns = None


class Mailbox:
    """The newest unsent payload per topic, for one page."""

    def __init__(self, topics: Iterable[str] = TOPICS) -> None:
        self._order = tuple(topics)
        self._pending: dict[str, str] = {}
        self.replaced = 0  # payloads superseded before the page took them
        self.closed = False

    def put(self, topic: str, payload: str) -> None:
        if topic not in self._order:
            raise ValueError(f"unknown topic {topic!r}")
        if topic in self._pending:
            self.replaced += 1
        self._pending[topic] = payload

    def take(self) -> list[tuple[str, str]]:
        """Everything pending, in topic order; the mailbox is empty afterwards."""
        found = [(t, self._pending[t]) for t in self._order if t in self._pending]
        self._pending.clear()
        return found

    def __bool__(self) -> bool:
        return bool(self._pending)


def sse_frame(topic: str, payload: str, event_id: int) -> bytes:
    """One server-sent event (text/event-stream): `payload` is one line of JSON."""
    if "\n" in payload or "\r" in payload:
        raise ValueError("an event's data must be one line")
    return f"id: {event_id}\nevent: {topic}\ndata: {payload}\n\n".encode()


KEEPALIVE = b": keep-alive\n\n"

__all__ = ["KEEPALIVE", "TOPICS", "Mailbox", "Pacer", "sse_frame"]

"""Fault injection switches for the simulator, set at run time by tests (pure state).

Owns: `FaultInjector` — the queue of armed faults and the questions the shells ask
(`take_http(method)`, `take_ws(channel)`, …). Arming a fault never does I/O; the REST and
WS shells consult it per request / per frame. Imports: stdlib only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

HTTP_STATUS = "http_status"
TIMEOUT = "timeout"
LOSE_RESPONSE = "lose_response"
KRAKEN_ERROR = "kraken_error"
GARBLE_RESULT = "garble_result"


@dataclass(slots=True)
class HttpFault:
    kind: str
    count: int
    method: str | None
    status: int = 0
    error: str = ""

    def matches(self, method: str) -> bool:
        return self.count > 0 and (self.method is None or self.method == method)


@dataclass(slots=True)
class WsMethodDrop:
    method: str
    executed: bool
    count: int


class FaultInjector:
    def __init__(self) -> None:
        # Set by the WebSocket shell: applies a drop to the connections open right now.
        self.ws_drop_hook: Callable[[str, str], None] | None = None
        self.clear()

    def clear(self) -> None:
        """Disarm everything."""
        self.latency_s = 0.0
        self._http: list[HttpFault] = []
        self._ws_malformed: dict[str, int] = {}
        self._ws_truncated: dict[str, int] = {}
        self.book_bad_checksum_count = 0
        self.exec_duplicate_count = 0
        self.exec_out_of_order_count = 0
        self.exec_gap_pending = False
        self._ws_method_drops: list[WsMethodDrop] = []
        self.ws_refused: set[str] = set()  # channels whose new connections are refused
        self.generation = getattr(self, "generation", 0) + 1

    # -- arming (the SimControl API) -----------------------------------------------------
    def latency(self, seconds: float) -> None:
        """Added before every REST response and every WS frame."""
        self.latency_s = max(0.0, float(seconds))

    def http_status(self, status: int, *, count: int = 1, method: str | None = None) -> None:
        """Answer with this HTTP status and a non-JSON body (edge/Cloudflare failure)."""
        self._http.append(HttpFault(HTTP_STATUS, count, method, status=status))

    def timeout(self, *, count: int = 1, method: str | None = None) -> None:
        """Hang the request without answering (the client must time out)."""
        self._http.append(HttpFault(TIMEOUT, count, method))

    def lose_response(self, *, count: int = 1, method: str | None = "AddOrder") -> None:
        """Execute the request, then drop the connection instead of answering."""
        self._http.append(HttpFault(LOSE_RESPONSE, count, method))

    def garble_result(self, *, count: int = 1, method: str | None = "AddOrder") -> None:
        """Execute the request, then answer HTTP 200 with no error and a result of the wrong
        shape (the client cannot read what happened, though it did happen)."""
        self._http.append(HttpFault(GARBLE_RESULT, count, method))

    def kraken_error(self, error: str, *, count: int = 1, method: str | None = None) -> None:
        """Answer HTTP 200 with this Kraken error string, without executing."""
        self._http.append(HttpFault(KRAKEN_ERROR, count, method, error=error))

    def ws_drop(self, mode: str, *, channel: str = "public") -> None:
        """`close` (clean close frame), `reset` (abrupt TCP abort) or `stall` (go silent)."""
        if mode not in ("close", "reset", "stall"):
            raise ValueError("mode must be close, reset or stall")
        if channel not in ("public", "private"):
            raise ValueError("channel must be public or private")
        if self.ws_drop_hook is not None:
            self.ws_drop_hook(mode, channel)

    def ws_drop_on(self, method: str, *, executed: bool, count: int = 1) -> None:
        """Drop (abort) the private socket the next `count` times a WS trading request of
        `method` (e.g. `add_order`) arrives: with `executed` after the exchange carried it
        out (its ack and reports never leave), else before (Kraken never saw it)."""
        self._ws_method_drops.append(WsMethodDrop(method, executed, count))

    def ws_refuse(self, channel: str = "private", *, refuse: bool = True) -> None:
        """Refuse (HTTP 503) new WebSocket connections on `channel` until called with
        `refuse=False`; connections already open are not touched (see `ws_drop`)."""
        if channel not in ("public", "private"):
            raise ValueError("channel must be public or private")
        if refuse:
            self.ws_refused.add(channel)
        else:
            self.ws_refused.discard(channel)

    def ws_malformed(self, *, count: int = 1, channel: str = "public") -> None:
        self._ws_malformed[channel] = self._ws_malformed.get(channel, 0) + count

    def ws_truncated(self, *, count: int = 1, channel: str = "public") -> None:
        self._ws_truncated[channel] = self._ws_truncated.get(channel, 0) + count

    def book_bad_checksum(self, *, count: int = 1) -> None:
        self.book_bad_checksum_count += count

    def exec_duplicate(self, *, count: int = 1) -> None:
        self.exec_duplicate_count += count

    def exec_out_of_order(self, *, count: int = 1) -> None:
        self.exec_out_of_order_count += count

    def exec_sequence_gap(self) -> None:
        self.exec_gap_pending = True

    def pending(self) -> dict[str, int]:
        """Armed faults that have not fired yet, by kind (`latency` is not counted: it lasts
        until cleared; a `ws_drop` fires at once). A test waits for a fault to fire here."""
        counts: dict[str, int] = {}
        for fault in self._http:
            counts[fault.kind] = counts.get(fault.kind, 0) + fault.count
        for kind, n in (
            ("ws_malformed", sum(self._ws_malformed.values())),
            ("ws_truncated", sum(self._ws_truncated.values())),
            ("book_bad_checksum", self.book_bad_checksum_count),
            ("exec_duplicate", self.exec_duplicate_count),
            ("exec_out_of_order", self.exec_out_of_order_count),
            ("exec_sequence_gap", int(self.exec_gap_pending)),
            ("ws_drop_on", sum(f.count for f in self._ws_method_drops)),
        ):
            if n > 0:
                counts[kind] = n
        return counts

    # -- consuming (the shells) ----------------------------------------------------------
    def take_http(self, method: str, kinds: tuple[str, ...]) -> HttpFault | None:
        for fault in self._http:
            if fault.kind in kinds and fault.matches(method):
                fault.count -= 1
                if fault.count <= 0:
                    self._http.remove(fault)
                return fault
        return None

    def take_ws_method_drop(self, method: str) -> bool | None:
        """None: no drop armed for `method`; else whether to execute it before the drop."""
        for fault in self._ws_method_drops:
            if fault.method == method:
                fault.count -= 1
                if fault.count <= 0:
                    self._ws_method_drops.remove(fault)
                return fault.executed
        return None

    def take_ws_error(self, method: str) -> str | None:
        """A `kraken_error` armed for exactly this WS method name (e.g. `add_order`): the
        request is answered with it, not executed. REST names (`AddOrder`) never match."""
        for fault in self._http:
            if fault.kind == KRAKEN_ERROR and fault.method == method and fault.count > 0:
                fault.count -= 1
                if fault.count <= 0:
                    self._http.remove(fault)
                return fault.error
        return None

    def take_ws_garbage(self, channel: str) -> str | None:
        """'malformed' or 'truncated' if the next frame on `channel` must be spoiled."""
        if self._ws_malformed.get(channel, 0) > 0:
            self._ws_malformed[channel] -= 1
            return "malformed"
        if self._ws_truncated.get(channel, 0) > 0:
            self._ws_truncated[channel] -= 1
            return "truncated"
        return None

    def has_ws_garbage(self, channel: str) -> bool:
        return self._ws_malformed.get(channel, 0) > 0 or self._ws_truncated.get(channel, 0) > 0

    def take_bad_checksum(self) -> bool:
        if self.book_bad_checksum_count > 0:
            self.book_bad_checksum_count -= 1
            return True
        return False

"""The daemon's Prometheus metrics: what `GET /metrics` shows (app/metrics_route.py).

Owns: `DaemonMetrics` — one per running stack, with its own `CollectorRegistry` (never the
library's global one: tests and several stacks in one process do not collide) — and
`Timings`, a fixed-bucket histogram cheap enough for the order and frame paths (one bisect
and two integer additions; no lock, no allocation: the daemon is one thread).

Two kinds of figures:
* timings recorded as they happen, through the hooks (engine/observe.py, ports.OrderTimings):
  an order request on the wire → Kraken's answer (`transport` "websocket" or "rest", the
  path that carried it), tick-to-order (the market data frame's receipt → the order request
  on the wire), the WebSocket message lag per channel (frame received → the engine takes its
  event) and each ledger write's duration;
* everything else read at scrape time from its one source (DESIGN.md principle 17): the
  engine's health (trading state, breaker, orders, fills, denials by rule, reconnects per
  channel, positions, PnL, exposure, ledger failures), the risk limits, the REST client's
  rate model (kraken/ratelimit.py) and the WebSocket sessions' counters. Nothing is
  computed a second time here.

Labels come from fixed sets only (`LABEL_VALUES`; the traded pairs from the configuration):
never an order id, a trade id, an error text or a secret. Imports: prometheus_client,
stdlib, app.notifier (counters), domain, engine.health, kraken.ratelimit, net (types),
resilience.breaker, risk.decision.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from krakenbot.app.notifier import NotifierCounts
from krakenbot.domain.effects import SendOrder
from krakenbot.domain.enums import TradingState
from krakenbot.domain.events import Event
from krakenbot.engine.health import EngineHealth
from krakenbot.kraken.ratelimit import TIER_LIMITS
from krakenbot.net.rest_client import RestClient
from krakenbot.net.ws_config import SessionStats
from krakenbot.resilience.breaker import BreakerState
from krakenbot.risk.decision import Rule

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # generate_latest's format
_NS = 1_000_000_000
TRANSPORTS = ("rest", "websocket")
CHANNELS = ("public", "private")
# Every label name a metric may carry, with the values it may take ("pair": the traded
# pairs, fixed by the configuration). tests/unit/app/test_app_metrics.py holds us to it.
LABEL_VALUES: dict[str, frozenset[str]] = {
    "transport": frozenset(TRANSPORTS),
    "channel": frozenset(CHANNELS),
    "rule": frozenset(r.value for r in Rule),
    "target": frozenset({"webhook", "telegram"}),
    "result": frozenset({"sent", "failed", "dropped", "retried"}),
}
BREAKER_CODES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
TRADING_CODES = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
# Bucket bounds (seconds). An AddOrder round trip is tens of ms over the internet; the
# daemon's own tick-to-order and message lag are well below a millisecond when idle.
ACK_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FAST_BOUNDS = (50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.1, 0.5, 2.5)
LEDGER_BOUNDS = (100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 0.01, 0.05, 0.25, 1.0, 5.0)
_MAX_PENDING_TICKS = 1024  # orders handed to the venue, not yet on the wire


class Timings:
    """A histogram with fixed bounds, recorded in integer nanoseconds."""

    __slots__ = ("_bounds_ns", "_bounds_s", "counts", "sum_ns")

    def __init__(self, bounds_s: Sequence[float]) -> None:
        self._bounds_s = tuple(bounds_s)
        self._bounds_ns = [round(b * _NS) for b in bounds_s]
        self.counts = [0] * (len(bounds_s) + 1)  # the last: above every bound
        self.sum_ns = 0

    def observe_ns(self, ns: int) -> None:
        ns = max(ns, 0)  # a wall clock that stepped back: zero, never negative
        self.counts[bisect_left(self._bounds_ns, ns)] += 1
        self.sum_ns += ns

    @property
    def count(self) -> int:
        return sum(self.counts)

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative `le` buckets as Prometheus wants them (`+Inf` last)."""
        out: list[tuple[str, float]] = []
        total = 0
        for bound, n in zip(self._bounds_s, self.counts, strict=False):
            total += n
            out.append((repr(bound), float(total)))
        out.append(("+Inf", float(total + self.counts[-1])))
        return out


@dataclass(frozen=True, slots=True)
class StackSource:
    """What the metrics read at scrape time, as the trading stack offers it."""

    health: Callable[[], EngineHealth]
    pairs: tuple[str, ...]  # the traded pairs: the only values of the `pair` label
    max_exposure_usd: Decimal
    rest: RestClient | None  # the trading key's client (None in paper: no key, no counters)
    sessions: Mapping[str, SessionStats]  # "public" / "private" -> that session's counters
    now_ns: Callable[[], int]  # the injected clock's wall time


class DaemonMetrics:
    """The recording hooks and the scrape-time collector of one daemon."""

    def __init__(self, source: StackSource) -> None:
        self.source = source
        self.ack = {t: Timings(ACK_BOUNDS) for t in TRANSPORTS}
        self.tick_to_order = Timings(FAST_BOUNDS)
        self.lag = {c: Timings(FAST_BOUNDS) for c in CHANNELS if c in source.sessions}
        self.ledger = Timings(LEDGER_BOUNDS)
        self.notifications: Callable[[], Mapping[str, NotifierCounts]] = dict
        self._ticks: dict[str, int] = {}  # cl_ord_id -> tick_ns, until on the wire
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric now."""
        return generate_latest(self.registry)

    # ---------------------------------------------------------------- engine/observe.py
    def order_handed(self, effect: SendOrder) -> None:
        pending = self._ticks
        if len(pending) >= _MAX_PENDING_TICKS:  # e.g. paper mode: nothing goes on a wire
            del pending[next(iter(pending))]
        pending[effect.command.cl_ord_id] = effect.tick_ns

    def event_taken(self, channel: str, event: Event, taken_ns: int) -> None:
        timings = self.lag.get(channel)
        recv = getattr(event, "recv_ns", 0)
        if timings is not None and recv:
            timings.observe_ns(taken_ns - recv)

    def ledger_write(self, operation: str, seconds: float, ok: bool) -> None:
        self.ledger.observe_ns(round(seconds * _NS))

    # ---------------------------------------------------------------- ports.OrderTimings
    def on_wire(self, cl_ord_id: str, wire_ns: int) -> None:
        tick = self._ticks.pop(cl_ord_id, 0)
        if tick:
            self.tick_to_order.observe_ns(wire_ns - tick)

    def acked(self, transport: str, seconds: float) -> None:
        timings = self.ack.get(transport)
        if timings is not None:
            timings.observe_ns(round(seconds * _NS))


class _Collector:
    """Builds every family at scrape time (prometheus_client's custom collector)."""

    def __init__(self, metrics: DaemonMetrics) -> None:
        self._m = metrics

    def collect(self) -> Iterator[Metric]:
        m, source = self._m, self._m.source
        health = source.health()
        yield from _engine_families(health, source)
        yield from _rate_families(source)
        yield from _ws_families(health, source)
        yield from _timing_families(m)
        yield from _notifier_families(m.notifications())


def _gauge(name: str, doc: str, value: float | Decimal | None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float("nan") if value is None else float(value))


def _engine_families(health: EngineHealth, source: StackSource) -> Iterator[Metric]:
    counts, pnl = health.counts, health.pnl
    yield _gauge(
        "krakenbot_trading_state",
        "Trading state: 0 ACTIVE, 1 REDUCING (exits only), 2 HALTED (cancels only)",
        TRADING_CODES[health.trading_state],
    )
    yield _gauge(
        "krakenbot_breaker_state",
        "REST circuit breaker: 0 closed, 1 half-open (one probe), 2 open (no new entries)",
        BREAKER_CODES[health.breaker_state],
    )
    yield _gauge("krakenbot_open_orders", "Live orders of ours", health.open_orders)
    yield CounterMetricFamily(
        "krakenbot_orders_submitted", "Orders persisted and handed to the venue", counts.orders
    )
    yield CounterMetricFamily("krakenbot_fills", "Fills recorded in the ledger", counts.fills)
    yield CounterMetricFamily(
        "krakenbot_reconciliations", "Reconciliation runs completed", counts.reconciles
    )
    yield CounterMetricFamily(
        "krakenbot_engine_errors", "Events whose handling failed (engine kept going)", counts.errors
    )
    denials = CounterMetricFamily(
        "krakenbot_risk_denials", "Orders the risk gate refused, by rule", labels=["rule"]
    )
    for rule in Rule:
        denials.add_metric([rule.value], health.denials_by_rule.get(rule.value, 0))
    yield denials
    yield _gauge(
        "krakenbot_exposure_usd",
        "Quote value at risk if every working entry filled (NaN: a position has no price)",
        health.exposure,
    )
    yield _gauge(
        "krakenbot_max_exposure_usd", "MAX_TOTAL_EXPOSURE, the limit", source.max_exposure_usd
    )
    positions = GaugeMetricFamily(
        "krakenbot_position", "Signed base quantity held, by pair", labels=["pair"]
    )
    for pair in source.pairs:
        positions.add_metric([pair], float(pnl.positions.get(pair, 0)))
    yield positions
    yield _gauge(
        "krakenbot_realized_pnl_usd", "Realized PnL, all time, fees included", pnl.realized
    )
    yield _gauge(
        "krakenbot_realized_pnl_today_usd", "Realized PnL on the UTC day", pnl.realized_today
    )
    yield _gauge(
        "krakenbot_unrealized_pnl_usd",
        "Unrealized PnL at the verified marks (NaN: a position has no price)",
        pnl.unrealized,
    )
    yield _gauge(
        "krakenbot_daily_pnl_usd",
        "Realized today plus unrealized: the MAX_DAILY_LOSSES figure (NaN: unknown)",
        pnl.daily,
    )
    age = None
    if health.last_market_data_ns:
        age = max(0, source.now_ns() - health.last_market_data_ns) / _NS
    yield _gauge("krakenbot_market_data_age_seconds", "Age of the newest book view", age)
    yield CounterMetricFamily(
        "krakenbot_ledger_write_failures", "Ledger writes that failed", health.ledger_failures
    )
    yield _gauge(
        "krakenbot_ledger_failing", "1 while ledger writes fail", 1 if health.ledger_error else 0
    )


def _rate_families(source: StackSource) -> Iterator[Metric]:
    rest = source.rest
    if rest is None:
        return
    (_, rest_level, rest_max), *per_pair = rest.rate_counters(source.pairs)
    yield _gauge(
        "krakenbot_rest_counter",
        "Kraken REST rate counter as the client's model has it",
        rest_level,
    )
    yield _gauge("krakenbot_rest_counter_limit", "The tier's REST counter maximum", rest_max)
    counters = GaugeMetricFamily(
        "krakenbot_trading_counter", "Kraken trading rate counter per pair", labels=["pair"]
    )
    for pair, level, _ in per_pair:
        counters.add_metric([pair], level)
    yield counters
    threshold = per_pair[0][2] if per_pair else float(TIER_LIMITS[rest.config.tier].trade_threshold)
    yield _gauge(
        "krakenbot_trading_counter_limit",
        "The tier's trading counter threshold (per pair)",
        threshold,
    )


def _ws_families(health: EngineHealth, source: StackSource) -> Iterator[Metric]:
    connected = GaugeMetricFamily(
        "krakenbot_ws_connected", "1 while the WebSocket is connected", labels=["channel"]
    )
    states = {"public": health.ws_public, "private": health.ws_private}
    reconnects = CounterMetricFamily(
        "krakenbot_ws_reconnects", "WebSocket reconnects", labels=["channel"]
    )
    frames = CounterMetricFamily("krakenbot_ws_frames", "WebSocket frames", labels=["channel"])
    for channel in CHANNELS:
        stats = source.sessions.get(channel)
        if stats is None:
            continue
        state = states[channel]
        connected.add_metric([channel], 1.0 if state and state.value == "connected" else 0.0)
        reconnects.add_metric([channel], health.reconnects_by_channel.get(channel, 0))
        frames.add_metric([channel], stats.frames)
    yield from (connected, reconnects, frames)
    public = source.sessions.get("public")
    yield CounterMetricFamily(
        "krakenbot_book_checksum_failures",
        "Order book updates whose checksum did not match (the book is resubscribed)",
        0 if public is None else public.book_failures,
    )


def _histogram(name: str, doc: str, label: str, by: Mapping[str, Timings]) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=[label] if label else None)
    for value, timings in by.items():
        family.add_metric([value] if label else [], timings.buckets(), timings.sum_ns / _NS)
    return family


def _timing_families(m: DaemonMetrics) -> Iterator[Metric]:
    yield _histogram(
        "krakenbot_order_ack_seconds",
        "Order request on the wire -> the exchange's acknowledgement, by transport",
        "transport",
        m.ack,
    )
    yield _histogram(
        "krakenbot_tick_to_order_seconds",
        "Market data frame received -> the signed order it caused on the wire",
        "",
        {"": m.tick_to_order},
    )
    yield _histogram(
        "krakenbot_ws_message_lag_seconds",
        "WebSocket frame received -> the engine takes its event, by channel",
        "channel",
        m.lag,
    )
    yield _histogram(
        "krakenbot_ledger_write_seconds", "Duration of one ledger write", "", {"": m.ledger}
    )


def _notifier_families(counts: Mapping[str, NotifierCounts]) -> Iterator[Metric]:
    total = CounterMetricFamily(
        "krakenbot_notifications",
        "Notifications by target kind and outcome",
        labels=["target", "result"],
    )
    queued = GaugeMetricFamily(
        "krakenbot_notifications_queued", "Notifications waiting to be sent", labels=["target"]
    )
    for target, c in counts.items():
        for result in ("sent", "failed", "dropped", "retried"):
            total.add_metric([target, result], getattr(c, result))
        queued.add_metric([target], c.queued)
    yield from (total, queued)

"""The trading stack: builds and wires venue, feed, engine for live Kraken, the sim or paper.

Owns: `open_stack` (the async context the daemon enters), `TradingStack` (its handle:
services to run, stop, shutdown, health), `Endpoints`, `StartupError`, `StackTuning`. This is
the composition root's one place where the mode is decided: `live=True` builds
`KrakenVenue` (REST + private WebSocket, keys required; the simulator is just loopback
endpoints), `live=False` builds `PaperVenue` (public data only, no keys). Everything below
runs the same code either way.

Start-up (each step named in a `StartupError` if it fails): REST SystemStatus, AssetPairs
for the configured pairs, the account balances (live), the import of the order journal (the
orders a safe stop could not write to the ledger: store/orderjournal.py), the ledger load,
and a full reconciliation against the venue before any order can be placed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from krakenbot.app.engine_settings import settings_engine_config
from krakenbot.app.run_recorder import RunRecorder
from krakenbot.app.statedir import user_state_dir
from krakenbot.clock import Clock
from krakenbot.config import Settings
from krakenbot.domain.enums import SystemState, TradingState
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.sections import BreakerSection, Credentials, RestSection, WsSection
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.core import EngineCore
from krakenbot.engine.health import EngineHealth, RateReading, ShutdownReport
from krakenbot.engine.observe import EngineObserver
from krakenbot.engine.protect import SwitchNeed
from krakenbot.engine.runner import EngineRunner
from krakenbot.engine.services import services as engine_services
from krakenbot.errors import KrakenbotError
from krakenbot.kraken.ratelimit import Tier
from krakenbot.net.http import HttpTransport
from krakenbot.net.kraken_feed import KrakenFeed
from krakenbot.net.kraken_venue import KrakenVenue
from krakenbot.net.rest_client import RestClient
from krakenbot.net.rest_core import Credentials as RestCredentials
from krakenbot.net.rest_core import RestConfig, key_state_dir
from krakenbot.net.ws_config import SessionStats
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import WsSession, WsSessionConfig
from krakenbot.paper.venue import PaperFeed, PaperVenue
from krakenbot.ports import MarketFeed, OrderTimings, Repository, Venue
from krakenbot.resilience.breaker import CircuitBreaker
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits, RiskLimits
from krakenbot.store.orderjournal import FileOrderJournal, import_order_journal, journal_paths
from krakenbot.strategy.base import Strategy
from krakenbot.strategy.loader import load_strategies

logger = logging.getLogger(__name__)

Service = Callable[[], Awaitable[None]]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Endpoints:
    rest_url: str
    ws_url: str
    ws_auth_url: str


class StartupError(Exception):
    """The stack could not come up; `step` names where ("exchange", "instruments",
    "balances", "ledger", "reconcile", "config", "strategy")."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


@dataclass(frozen=True, slots=True)
class StackTuning:
    """Knobs the settings do not carry (tests, benchmarks, paper capital)."""

    engine: EngineConfig = field(default_factory=EngineConfig)
    paper_balances: Mapping[str, Decimal] = field(default_factory=lambda: {"USD": Decimal("1000")})
    risk: RiskLimits | None = None  # None: from settings
    breaker: BreakerLimits = field(default_factory=BreakerLimits)
    order_deadline_s: float = 5.0
    deadline_grace_s: float = 1.0
    ws_heartbeat_s: float = 1.0
    user_agent: str = "krakenbot/0.1"
    transport: HttpTransport | None = None  # None: aiohttp (benchmarks wrap it to time sends)
    key_state_dir: Path | None = None  # None: the per-user state directory (app/statedir.py)


class TradingStack:
    """The running stack; the daemon runs `services()` in its TaskGroup."""

    def __init__(
        self,
        engine: EngineRunner,
        rest: RestClient | None,
        sessions: Mapping[str, WsSession],
        venue: Venue,
        feed: MarketFeed,
    ) -> None:
        self.engine = engine
        self.rest = rest  # the trading key's client (dead man's switch, status); None in paper
        self.venue = venue
        self.feed = feed
        self._sessions = dict(sessions)

    def services(self) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
        """Long-running coroutines; each returns when stop is requested."""
        found: list[tuple[str, Service]] = [
            (f"ws_{name}", session.run) for name, session in self._sessions.items()
        ]
        return found + engine_services(self.engine)

    def request_stop(self, reason: str) -> None:
        """No new orders from now on; services wind down."""
        self.engine.request_stop(reason)
        for session in self._sessions.values():
            session.stop()

    async def shutdown(
        self, timeout_s: float, disarm: Callable[[], Awaitable[bool]] | None = None
    ) -> ShutdownReport:
        """Cancel our open orders (through the gate), confirm by lookup, put every
        position under its protective stop (`disarm`, the dead man's switch's, awaited
        before a stop is placed), bounded: engine/shutdown.py."""
        self.request_stop("shutdown")
        return await self.engine.shutdown(timeout_s, disarm)

    async def emergency_stop(self, reason: str) -> None:
        """Trading HALTED (persisted) and every order of ours cancelled, through the risk gate."""
        await self.engine.emergency_stop(reason)

    async def set_trading_state(self, state: TradingState, reason: str) -> None:
        """The operator's pause (REDUCING), resume (ACTIVE) or halt (HALTED), persisted."""
        await self.engine.set_trading_state(state, reason)

    async def flatten(self, reason: str) -> tuple[str, ...]:
        """REDUCING, then every position sold through the gate (engine/flatten.py)."""
        return await self.engine.flatten(reason)

    def ledger_write(
        self, operation: str, error: BaseException | None, started_ns: int | None = None
    ) -> None:
        """The outcome of a ledger write made outside the engine (the daemon's status
        snapshot), attempted at `started_ns` (the clock's monotonic time): it counts
        towards the same "unwritable for the grace period" rule."""
        watch, now = self.engine.ledger, self.engine.clock.monotonic_ns()
        if error is None:
            watch.succeeded(operation, now)
        else:
            watch.failed(operation, error, now, started_ns)

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """The traded pairs (their decimals round the status report's amounts)."""
        return self.engine.core.instruments

    def health(self) -> EngineHealth:
        """The engine's health with the key's rate counters (none in paper: no key)."""
        health = self.engine.health()
        if self.rest is None:
            return health
        readings = self.rest.rate_counters(sorted(self.instruments))
        return replace(health, rates=tuple(RateReading(*r) for r in readings))

    def switch_need(self) -> SwitchNeed:
        """What the dead man's switch must respect now (an entry rests; a position needs
        its protective stop): app/deadman.py."""
        return self.engine.switch_need

    def watch_switch_need(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever `switch_need()` changes (the core says so)."""
        self.engine.watch_switch_need(callback)

    def healthy(self) -> bool:
        return self.engine.healthy()

    # -------------------------------------------------- the operator's surface (metrics, notices)
    def observe(self, observer: EngineObserver, timings: OrderTimings) -> None:
        """Let `observer` see the runner's work (engine/observe.py) and `timings` each
        order's time on the wire (app/observers.py plugs in metrics and notifications)."""
        self.engine.executor.observer = self.engine.repo.observer = observer
        if self.rest is not None:
            self.rest.time_orders(timings)

    @property
    def limits(self) -> RiskLimits:
        return self.engine.core.gate.limits

    @property
    def breaker(self) -> CircuitBreaker:
        return self.engine.breaker

    def session_stats(self) -> dict[str, SessionStats]:
        """Each WebSocket session's counters, by its name ("public", "private")."""
        return {name: session.stats for name, session in self._sessions.items()}

    def record_to(self, path: Path) -> Callable[[], None]:
        """`run --record PATH`: the engine core's inputs and sends from now on (for
        `backtest --data PATH`); returns what closes the file."""
        recorder = RunRecorder(path)
        recorder.start(self.engine.core)
        return recorder.close


def _rest_config(
    rest: RestSection, breaker: BreakerSection, url: str, tuning: StackTuning
) -> RestConfig:
    """The REST client's config from its sections; `url` is the endpoint actually used (the
    settings' or the embedded simulator's)."""
    return RestConfig(
        state_dir=tuning.key_state_dir or key_state_dir(user_state_dir()),
        base_url=url.rstrip("/"),
        tier=Tier(rest.tier.value),
        request_timeout_s=rest.timeout_s,
        breaker_threshold=breaker.failure_threshold,
        breaker_cooldown_s=breaker.cooldown_s,
        order_deadline_s=tuning.order_deadline_s,
        deadline_grace_s=tuning.deadline_grace_s,
        user_agent=tuning.user_agent,
    )


def _ws_config(ws: WsSection, tuning: StackTuning, **kw: object) -> WsSessionConfig:
    return WsSessionConfig(
        book_depth=ws.book_depth,
        connect_timeout_s=ws.connect_timeout_s,
        heartbeat_interval_s=tuning.ws_heartbeat_s,
        **kw,  # type: ignore[arg-type]
    )


async def _step(step: str, work: Awaitable[_T]) -> _T:
    try:
        return await work
    except (KrakenbotError, OSError, TimeoutError, ValueError) as exc:
        raise StartupError(step, f"{type(exc).__name__}: {exc}") from exc


@asynccontextmanager
async def open_stack(
    settings: Settings,
    *,
    live: bool,
    endpoints: Endpoints,
    credentials: Credentials | None,
    repo: Repository,
    clock: Clock,
    rng: random.Random,
    strategy: Strategy | None = None,
    tuning: StackTuning | None = None,
    strategies: Sequence[Strategy] = (),
) -> AsyncIterator[TradingStack]:
    """`strategy` / `strategies`: instances to run instead of the configured strategy's one
    instance per allowed pair (tests, benchmarks, the time-compressed `--sim` demo)."""
    tuning = tuning or StackTuning()
    if live and credentials is None:
        raise StartupError("config", "live trading needs KRAKEN_API_KEY and KRAKEN_API_SECRET")
    pairs = tuple(settings.allowed_pairs)
    try:
        chosen = settings.strategy_config()
        running = tuple(strategies) or ((strategy,) if strategy is not None else ())
        running = running or load_strategies(chosen.name, chosen.params, chosen.pairs)
        limits = tuning.risk or settings.risk_limits()
    except KrakenbotError as exc:
        # Not a settings error (those exit 2 before this): the named strategy or the risk
        # limits could not be built.
        raise StartupError("strategy", str(exc)) from exc
    symbols = tuple(sorted(set(pairs).union(*(s.symbols for s in running))))
    keys = (
        RestCredentials(
            credentials.api_key.get_secret_value(), credentials.api_secret.get_secret_value()
        )
        if live and credentials is not None
        else None
    )
    rest_config = _rest_config(settings.rest(), settings.breaker(), endpoints.rest_url, tuning)
    rest = RestClient(rest_config, keys, clock=clock, rng=rng, transport=tuning.transport)
    sessions: dict[str, WsSession] = {}
    built: EngineRunner | None = None
    try:
        status = await _step("exchange", rest.system_status())
        public = WsSession(
            _ws_config(
                settings.ws(),
                tuning,
                public_url=endpoints.ws_url,
                private_url=None,
                symbols=symbols,
                executions=False,
                balances=False,
            ),
            InboundQueue(),
            clock=clock,
            rng=rng,
        )
        sessions["public"] = public
        kraken_feed = KrakenFeed(rest, public)
        instruments: Mapping[str, Instrument] = await _step(
            "instruments", kraken_feed.instruments(symbols)
        )
        venue: Venue
        feed: MarketFeed
        if live:

            async def token() -> str:
                return (await rest.get_websockets_token()).token

            private = WsSession(
                _ws_config(
                    settings.ws(),
                    tuning,
                    public_url=endpoints.ws_url,
                    private_url=endpoints.ws_auth_url,
                    symbols=(),
                ),
                InboundQueue(),
                clock=clock,
                rng=rng,
                token_provider=token,
            )
            sessions["private"] = private
            venue = KrakenVenue(
                rest, private, instruments, clock=clock, transport=settings.order_transport
            )
            feed = kraken_feed
        else:
            paper = PaperVenue(instruments, tuning.paper_balances, clock=clock)
            venue, feed = paper, PaperFeed(kraken_feed, paper)
        balances = await _step("balances", venue.balances())
        engine_config = settings_engine_config(settings, tuning.engine)
        if not live and engine_config.require_private_ws:
            engine_config = replace(engine_config, require_private_ws=False)
        core = EngineCore(
            strategies=running,
            gate=RiskGate(limits),
            policy=BreakerPolicy(tuning.breaker),
            instruments=instruments,
            rng=rng,
            balances=balances,
            system_state=SystemState(status.status),
            config=engine_config,
            started_ns=clock.now_ns(),
        )
        journal = FileOrderJournal(journal_paths(settings.database_path, user_state_dir()))
        engine = EngineRunner(
            core,
            venue=venue,
            feed=feed,
            repo=repo,
            clock=clock,
            breaker=rest.breaker,
            journal=journal,
        )
        built = engine
        # Orders a safe stop could record only in the order journal (its ledger failing)
        # become ledger rows before the ledger is loaded and reconciled.
        await _step("ledger", import_order_journal(repo, journal.paths))
        await _step("ledger", engine.load())
        if await engine.reconcile("start-up") < 0:
            raise StartupError("reconcile", engine.health().last_error or "reconciliation failed")
        stack = TradingStack(engine, rest if live else None, sessions, venue, feed)
        logger.info(
            "trading stack ready",
            extra={
                "live": live,
                "pairs": ",".join(symbols),
                "strategy": ",".join(dict.fromkeys(s.name for s in running)),
            },
        )
        yield stack
    finally:
        for session in sessions.values():
            session.stop()
        if built is not None:  # nothing may touch the ledger after we return
            with contextlib.suppress(Exception):
                await built.quiesce(5.0)
        await asyncio.shield(rest.close())

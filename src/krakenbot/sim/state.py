"""Everything the simulator's shells share: exchange core, keys, counters, faults, tokens.

Owns: `SimState` — built once per running sim; the REST and WS shells and `SimControl`
all act through it. `publish` is set by the WS shell so any state change (from REST, WS or a
timer) reaches subscribers. Imports: stdlib, krakenbot.clock and sim.* only (no sockets).
"""

from __future__ import annotations

import base64
import random
from collections import Counter, deque
from collections.abc import Callable
from decimal import Decimal

from krakenbot.clock import Clock
from krakenbot.sim.account_history import keep_newest
from krakenbot.sim.auth import KeyStore
from krakenbot.sim.config import SimConfig
from krakenbot.sim.exchange import Exchange
from krakenbot.sim.faults import FaultInjector
from krakenbot.sim.history import MarketHistory
from krakenbot.sim.pairs import make_pairs
from krakenbot.sim.ratelimit import NS, TIERS, PublicCounter, RestCounter
from krakenbot.sim.spreads import SpreadTape

TOKEN_TTL_NS = 900 * NS


def _nothing() -> None:
    return None


class SimState:
    def __init__(self, cfg: SimConfig, clock: Clock) -> None:
        if cfg.tier not in TIERS:
            raise ValueError(f"tier must be one of {sorted(TIERS)}")
        self.cfg = cfg
        self.clock = clock
        self.rng = cfg.rng or random.Random(cfg.seed)
        self.tier = TIERS[cfg.tier]
        pairs = make_pairs(cfg.pairs, cfg.pair_overrides)
        self.exchange = Exchange(pairs, self.tier, cfg.balances, self.rng, clock.now_ns())
        self.keys = KeyStore()
        self.rest_counters = RestCounter(self.tier)
        self.public_counters = PublicCounter()
        self.history = MarketHistory()
        self.spreads = SpreadTape()  # the public Spread method's recent touches
        # The last public Trades/OHLC requests served: (method, params, now_ns), for tests.
        self.history_calls: deque[tuple[str, dict[str, str], int]] = deque(maxlen=1000)
        # The last authenticated private requests (method, params but the nonce, now_ns).
        self.private_calls: deque[tuple[str, dict[str, str], int]] = deque(maxlen=1000)
        self.faults = FaultInjector()
        # Trading requests received, by transport and method ("rest:AddOrder",
        # "ws:add_order"): tests prove which path an order took.
        self.requests: Counter[str] = Counter()
        self.tokens: dict[str, int] = {}  # token -> issued at (ns)
        self.token_keys: dict[str, str] = {}  # token -> the API key it was issued to
        self.feed_paused = False
        self.publish: Callable[[], None] = self.exchange.drain_noop
        self.on_status: Callable[[], None] = _nothing
        self.feed_tick: Callable[[], None] = _nothing
        key_rng = random.Random(self.rng.random())
        self.api_key = cfg.api_key or base64.b64encode(key_rng.randbytes(42)).decode()
        self.api_secret = cfg.api_secret or base64.b64encode(key_rng.randbytes(64)).decode()
        self.keys.add(self.api_key, self.api_secret)

    def now_ns(self) -> int:
        return self.clock.now_ns()

    def new_token(self, api_key: str = "") -> str:
        token = base64.b64encode(self.rng.randbytes(32)).decode().rstrip("=")
        self.tokens[token] = self.now_ns()
        self.token_keys[token] = api_key
        keep_newest(self.tokens)  # bounded (sim/history.py)
        keep_newest(self.token_keys)
        return token

    def token_ok(self, token: object, *, connected_before: bool) -> bool:
        """Tokens must be used within 15 min; once used on a connection they stay valid."""
        if not isinstance(token, str) or token not in self.tokens:
            return False
        return connected_before or self.now_ns() - self.tokens[token] <= TOKEN_TTL_NS

    def changed(self) -> None:
        """Run timers and push whatever changed to WebSocket subscribers."""
        now = self.now_ns()
        self.exchange.on_time(now)
        self.spreads.observe(self.exchange.markets, now)
        self.publish()

    def status_changed(self) -> None:
        self.on_status()

    def balances(self) -> dict[str, Decimal]:
        return dict(self.exchange.balances)

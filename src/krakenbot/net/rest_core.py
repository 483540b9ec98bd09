"""The signed-request engine under the REST client: one call in, one Kraken envelope out.

Owns: building and signing requests, per-key nonce issuing and rate-limit waiting under the
shared state lock, the in-process priority order (cancels > orders > queries), the breaker
bookkeeping of outcomes, the single invalid-nonce retry, and the trading-counter charge of
WebSocket orders (no nonce: taken without either lock, written by the next locked call).
Must not import: anything above `net`. Decisions (signing, nonce rule, rate model, error
table) are the pure modules in `kraken/`; this module only sequences them around I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from krakenbot.clock import Clock
from krakenbot.errors import ConfigError, RateLimitedError, TransportError
from krakenbot.kraken.errors import (
    InvalidNonceError,
    RestRateLimitedError,
    TradingRateLimitedError,
    breaker_verdict,
)
from krakenbot.kraken.methods import Priority, is_public, priority_of, url_path
from krakenbot.kraken.nonce import next_nonce
from krakenbot.kraken.public_ratelimit import PublicRateModel, history_bucket
from krakenbot.kraken.ratelimit import TIER_LIMITS, Counter, KeyState, RateModel, UnsharedCharges
from krakenbot.kraken.rest_codec import Envelope, decode_envelope
from krakenbot.kraken.signing import ParamValue, Signer, encode_query, form_body
from krakenbot.net.http import HttpTransport
from krakenbot.net.inflight_save import InFlightSave
from krakenbot.net.nonce_store import KeyStateStore
from krakenbot.net.priority import PriorityLock
from krakenbot.net.rest_config import (
    KEY_STATE_SUBDIR,
    NONCE_ADVICE,
    Credentials,
    Params,
    RestConfig,
    TradeCharge,
    key_state_dir,
)
from krakenbot.resilience.breaker import CircuitBreaker

logger = logging.getLogger(__name__)
_FORM = "application/x-www-form-urlencoded; charset=utf-8"
__all__ = [
    "KEY_STATE_SUBDIR",
    "Credentials",
    "Params",
    "RestConfig",
    "RestCore",
    "TradeCharge",
    "key_state_dir",
]


class RestCore:
    def __init__(
        self,
        config: RestConfig,
        credentials: Credentials | None,
        *,
        clock: Clock,
        transport: HttpTransport,
        breaker: CircuitBreaker,
    ) -> None:
        self.config = config
        self.clock = clock
        self.breaker = breaker
        self.model = RateModel(TIER_LIMITS[config.tier])
        self.public_model = PublicRateModel(
            per_s=config.public_history_per_s, burst=config.public_history_burst
        )
        self._transport = transport
        self._base = config.base_url.rstrip("/")
        self._urls: dict[str, str] = {}  # a private method's URL, by path
        self._api_key = credentials.api_key if credentials else None
        self._signer = Signer(credentials.api_secret) if credentials else None
        self._store = (
            KeyStateStore(
                config.state_dir, credentials.api_key, lock_timeout_s=config.lock_timeout_s
            )
            if credentials
            else None
        )
        self._plock = PriorityLock()
        self._observed: dict[str, tuple[float, int]] = {}
        self._unshared = UnsharedCharges()  # WS trading charges not yet in the shared file
        self._saver = InFlightSave(self._save)  # a request's state, written while it travels
        self.invalid_nonce_count = 0

    def __repr__(self) -> str:
        return f"RestCore(base_url={self._base!r}, tier={self.config.tier.value})"

    @property
    def has_credentials(self) -> bool:
        return self._signer is not None

    async def close(self) -> None:
        if self._store is not None:
            self._store.close()
        await self._transport.close()

    # ------------------------------------------------------------ public

    async def public(self, method: str, params: dict[str, ParamValue]) -> Envelope:
        query = encode_query(params)
        url = f"{self._base}{url_path(method)}" + (f"?{query}" if query else "")
        bucket = history_bucket(method, params)
        if bucket is not None:
            await self._pace_public(bucket, method)
        try:
            resp = await self._transport.request(
                "GET", url, body=None, headers={}, timeout_s=self.config.request_timeout_s
            )
            env = self._decode(method, resp.status, resp.body, None)
        except Exception as exc:
            if bucket is not None and isinstance(exc, RestRateLimitedError):
                self.public_model.on_limited(bucket, self.clock.now_ns())
            self.record(exc)
            raise
        self.record(None)
        return env

    async def _pace_public(self, bucket: str, method: str) -> None:
        """Wait for the bucket's budget, then charge it (no await in between: no bursts)."""
        while True:
            wait = self.public_model.wait_s(bucket, self.clock.now_ns())
            if wait <= 0:
                self.public_model.charge(bucket, self.clock.now_ns())
                return
            if wait > self.config.max_rate_wait_s:
                raise RateLimitedError(f"public rate budget needs {wait:.1f} s", endpoint=method)
            await self.clock.sleep(wait)

    # ------------------------------------------------------------ private

    async def private(
        self,
        method: str,
        params: Params,
        *,
        cl_ord_id: str | None = None,
        priority: Priority | None = None,
        trade: TradeCharge | None = None,
    ) -> Envelope:
        """One signed call; retried once (only) on `EAPI:Invalid nonce`, which proves the
        request was refused before execution."""
        if is_public(method):
            raise ValueError(f"{method} is a public method")
        attempt = (cl_ord_id, priority, trade)
        try:
            try:
                env = await self._private_once(method, params, *attempt)
            except InvalidNonceError:
                env = await self._retry_nonce(
                    method, cl_ord_id, lambda: self._private_once(method, params, *attempt)
                )
        except Exception as exc:
            self.record(exc)
            raise
        self.breaker.record_success()  # what record(None) does
        return env

    async def _retry_nonce(
        self, method: str, cl_ord_id: str | None, again: Callable[[], Awaitable[Envelope]]
    ) -> Envelope:
        self.invalid_nonce_count += 1
        # Already the first one says what to do: it is never our own doing (one nonce
        # sequence per key for every krakenbot of this user, under one lock).
        logger.warning(
            "%s Retrying once with a fresh nonce.", NONCE_ADVICE, extra={"endpoint": method}
        )
        try:
            return await again()
        except InvalidNonceError as refused:
            self.invalid_nonce_count += 1
            logger.error(NONCE_ADVICE, extra={"endpoint": method})
            self.breaker.trip("EAPI:Invalid nonce twice in a row")
            raise InvalidNonceError(
                NONCE_ADVICE,
                kraken_error=refused.kraken_error,
                endpoint=method,
                cl_ord_id=cl_ord_id,
            ) from refused

    async def _private_once(
        self,
        method: str,
        params: Params,
        cl_ord_id: str | None,
        priority: Priority | None,
        trade: TradeCharge | None,
    ) -> Envelope:
        signer, store, api_key = self._signer, self._store, self._api_key
        if signer is None or store is None or api_key is None:
            raise ConfigError(f"{method} needs an API key and secret", endpoint=method)
        prio = priority if priority is not None else priority_of(method)
        path, plock = url_path(method), self._plock
        while True:
            # Both locks are taken without a trip through the event loop when they are free.
            if not plock.try_acquire():
                await plock.acquire(prio)
            try:
                before = store.state
                state = store.try_acquire()
                if state is None:
                    state = await store.acquire()
                self._replay_unshared(before, state)
                try:
                    now = self.clock.now_ns()
                    if self._observed:
                        self._fold_observed(now)
                    wait = self._wait_s(method, prio, trade, now)
                    if wait <= 0:
                        nonce = next_nonce(now, state.nonce_high_water)
                        state.nonce_high_water = nonce
                        self.model.charge_rest(state, method, now)
                        if trade is not None:
                            self.model.charge_trade(state, trade.pair, trade.cost, now)
                        self._saver.before_send()
                        # Time-dependent parameters (AddOrder's deadline) are rendered only
                        # now, after any rate-limit wait, so they cannot go stale in a queue.
                        body = form_body(nonce, params(now) if callable(params) else params)
                        sign = signer.sign(path, nonce, body)
                        headers = {"API-Key": api_key, "API-Sign": sign, "Content-Type": _FORM}
                        return await self._send_private(
                            method, path, body, headers, cl_ord_id=cl_ord_id, trade=trade
                        )
                finally:
                    self._saver.flush()
                    store.release_soon()  # the unlock after the caller ran
            finally:
                plock.release()
            if wait > self.config.max_rate_wait_s:
                raise RateLimitedError(
                    f"rate budget would need {wait:.1f} s to recover",
                    endpoint=method,
                    cl_ord_id=cl_ord_id,
                )
            logger.debug("waiting for rate headroom", extra={"endpoint": method, "wait_s": wait})
            await self.clock.sleep(wait)

    def reserve_trade_now(self, endpoint: str, trade: TradeCharge) -> float:
        """Charge the pair's trading counter for a private WebSocket request if it has room
        now (0.0), else the seconds to wait (nothing charged): one model per pair whatever the
        transport (docs guides/spot-ratelimits). WS carries no nonce and no REST point, so
        neither lock is taken (a WS order never queues behind a REST request in flight); the
        next locked call saves the charge. Synchronous: no coroutine when there is room."""
        if self._store is None:
            raise ConfigError(f"{endpoint} needs an API key and secret", endpoint=endpoint)
        now, model = self.clock.now_ns(), self.model
        if self._observed:
            self._fold_observed(now, keep=True)
        pair, cost = trade.pair, trade.cost
        wait = model.reserve_trade(self._store.state, pair, cost, now, cancel=trade.cancel)
        if wait <= 0:  # charged
            self._unshared.add(pair, cost, now, model.limits.trade_decay_per_s)
        return wait

    async def reserve_trade(
        self,
        endpoint: str,
        trade: TradeCharge,
        *,
        priority: Priority,
        cl_ord_id: str | None = None,
    ) -> None:
        """`reserve_trade_now`, waiting for room as long as it takes (`priority` orders
        nothing: the cancel reserve lets cancels through first)."""
        while (wait := self.reserve_trade_now(endpoint, trade)) > 0:
            if wait > self.config.max_rate_wait_s:
                raise RateLimitedError(
                    f"rate budget would need {wait:.1f} s to recover",
                    endpoint=endpoint,
                    cl_ord_id=cl_ord_id,
                )
            await self.clock.sleep(wait)

    async def trade_limited(self, pair: str) -> None:
        """Kraken answered `EOrder:Rate limit exceeded` outside a REST call (a WS ack): the
        model was low, so the pair's counter is taken as full, exactly as on REST. The
        in-process lock first: a REST request of ours may be holding the key's."""
        if self._store is None:
            return
        await self._plock.acquire(Priority.CANCEL)
        try:
            before = self._store.state
            state = await self._store.acquire()
            self._replay_unshared(before, state)
            try:
                self.model.on_trade_limited(state, pair, self.clock.now_ns())
                self._save()
            finally:
                self._store.release()
        finally:
            self._plock.release()

    def _replay_unshared(self, before: KeyState, state: KeyState) -> None:
        """If another process wrote the file since our last save, our lock-free WS charges
        are not in what was loaded: replayed onto it."""
        if state is not before and self._unshared.pending:
            self._unshared.replay(self.model, state, self.clock.now_ns())

    def _save(self) -> None:
        assert self._store is not None
        self._store.save()
        self._unshared.clear()

    def _wait_s(self, method: str, prio: Priority, trade: TradeCharge | None, now: int) -> float:
        assert self._store is not None
        state = self._store.state
        wait = self.model.rest_wait_s(state, method, now, query=prio is Priority.QUERY)
        if trade is not None:
            trade_wait = self.model.trade_wait_s(
                state, trade.pair, trade.cost, now, cancel=trade.cancel
            )
            wait = max(wait, trade_wait)
        return wait

    async def _send_private(
        self,
        method: str,
        path: str,
        body: str,
        headers: dict[str, str],
        *,
        cl_ord_id: str | None,
        trade: TradeCharge | None,
    ) -> Envelope:
        assert self._store is not None
        resp = await self._transport.request(
            "POST",
            self._urls.get(path) or self._urls.setdefault(path, f"{self._base}{path}"),
            body=body.encode("utf-8"),
            headers=headers,
            timeout_s=self.config.request_timeout_s,
        )
        try:
            return self._decode(method, resp.status, resp.body, cl_ord_id)
        except RestRateLimitedError:
            self.model.on_rest_limited(self._store.state, self.clock.now_ns())
            self._save()
            raise
        except TradingRateLimitedError:
            if trade is not None:
                self.model.on_trade_limited(self._store.state, trade.pair, self.clock.now_ns())
                self._save()
            raise

    def _decode(self, method: str, status: int, body: bytes, cl_ord_id: str | None) -> Envelope:
        if status != 200:
            # Kraken answers API errors with HTTP 200; anything else is the edge (docs: legacy
            # General Usage), and for a POST the request may still have executed.
            raise TransportError(f"HTTP {status}", endpoint=method, cl_ord_id=cl_ord_id)
        env = decode_envelope(body, endpoint=method, cl_ord_id=cl_ord_id)
        for warning in env.warnings:
            logger.warning("kraken warning", extra={"endpoint": method, "kraken_warning": warning})
        return env

    # ------------------------------------------------------------ breaker feed

    def record(self, exc: BaseException | None) -> None:
        """Feed a call's outcome to the breaker: transport trouble and server faults count."""
        verdict = False if exc is None else breaker_verdict(exc)
        if verdict:
            self.breaker.record_failure(str(exc))
        elif verdict is not None:
            self.breaker.record_success()

    def observe_trading_counter(self, pair: str, value: float) -> None:
        """Record Kraken's live per-pair counter (WS `ratecounter`) for the rate model.

        The value is folded in at the next private call, under the key's lock (the shared
        state file is only ever written there), decayed for the time it waited."""
        self._observed[pair] = (value, self.clock.now_ns())

    def trading_counter_estimate(self, pair: str) -> float:
        """The model's current view of Kraken's counter for `pair` (read-only, folds nothing):
        the last stored level decayed to now, or a live reading still waiting to be folded in
        (also decayed) when that is higher -- the same max the fold will take."""
        state = None if self._store is None else self._store.state
        return self.model.trade_level(state, pair, self.clock.now_ns(), self._observed.get(pair))

    def rest_counter_estimate(self) -> float:
        """The model's current view of the key's REST counter (read-only; 0 without a key)."""
        state = None if self._store is None else self._store.state
        return self.model.rest_level(state, self.clock.now_ns())

    def _fold_observed(self, now: int, *, keep: bool = False) -> None:
        """Fold Kraken's live readings in; `keep` them for the next fold (a max: idempotent)."""
        if not self._observed or self._store is None:
            return
        decay = self.model.limits.trade_decay_per_s
        for pair, (value, at_ns) in self._observed.items():
            level = Counter(value, at_ns).level_at(now, decay)
            self.model.observe_trading_counter(self._store.state, pair, level, now)
        if not keep:
            self._observed.clear()

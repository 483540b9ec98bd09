"""Sending notifications to the operator's NOTIFY_URLS, never at the expense of trading.

Owns: `Notifier` — one bounded queue per target (app/notify_targets.py) filled by `notify`
(synchronous, never waits: safe on an order's path) and emptied by one worker per target,
run by `Notifier.run` as a task of the daemon's TaskGroup; `flush` sends what is left at
exit, within a small budget. A slow, failing or hostile endpoint can only cost its own
worker time:
* every request runs under `asyncio.timeout` (connect, headers and body together), no
  redirect is followed, and at most `max_response_bytes` of an answer are ever read;
* a failure that may pass (timeout, connection, 408/429/5xx, an unreadable Telegram answer)
  is retried with capped exponential back-off and full jitter (Telegram's and HTTP's
  retry-after are honoured up to the cap); a refusal (other 4xx) is not; either way the
  message is given up and counted, never raised;
* a full queue drops its oldest message and counts it: memory is bounded whatever the
  endpoint does, and the newest news (a halt, a failure) is what stays.
Counters per target kind (`NotifierCounts`) feed `status` and `/metrics`. Logs name a target
by its label (scheme://host, or the chat) and an error by its type or HTTP status: never a
URL or a token (the log redaction knows them too). Imports: aiohttp, stdlib, app, clock,
domain, resilience.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from krakenbot.app.notify_targets import Target, TelegramTarget
from krakenbot.clock import Clock
from krakenbot.domain.enums import NoticeKind
from krakenbot.resilience.backoff import Backoff

logger = logging.getLogger(__name__)
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_FIELDS = 20
MAX_FIELD_CHARS = 300


@dataclass(frozen=True, slots=True)
class NotifierConfig:
    queue_size: int = 100  # per target; beyond it the oldest message is dropped (counted)
    timeout_s: float = 10.0  # one request, from connecting to the end of the answer
    retries: int = 4  # after the first try
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 60.0  # also the most a retry-after is waited
    max_response_bytes: int = 64 * 1024
    final_flush_s: float = 2.0  # at exit, for the last messages (one try each)
    max_text_chars: int = 3000  # Telegram takes 4096
    # Tests only (a loopback fake of the Bot API): the daemon always uses Telegram's.
    telegram_api_url: str = "https://api.telegram.org"
    user_agent: str = "krakenbot/0.1 (notifications)"


@dataclass(frozen=True, slots=True)
class Message:
    kind: NoticeKind
    text: str  # one line for people
    fields: tuple[tuple[str, str], ...]  # for tools (webhooks)
    at_ns: int
    warning: bool = False


@dataclass(slots=True)
class NotifierCounts:
    """One target kind's counters (status, /metrics)."""

    sent: int = 0
    failed: int = 0  # given up: retries exhausted, or refused (a retry cannot help)
    dropped: int = 0  # the queue was full: its oldest message went
    retried: int = 0
    queued: int = 0


@dataclass(slots=True)
class _Outbox:
    target: Target
    queue: deque[Message]
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    counts: NotifierCounts = field(default_factory=NotifierCounts)


@dataclass(frozen=True, slots=True)
class _Outcome:
    sent: bool
    retry: bool = False
    wait_s: float = 0.0  # the endpoint's retry-after
    why: str = ""  # an error's type or an HTTP status: never a URL or a token


class Notifier:
    def __init__(
        self,
        targets: tuple[Target, ...],
        *,
        mode: str,
        clock: Clock,
        rng: random.Random,
        config: NotifierConfig | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.config = cfg = config or NotifierConfig()
        self.mode = mode
        # Scrubs every text that leaves (logs.redact_text with the settings' secrets).
        self._redact = redact or str
        self._clock = clock
        self._rng = rng
        self._outboxes = [_Outbox(t, deque(maxlen=cfg.queue_size)) for t in targets]

    def __repr__(self) -> str:
        labels = ", ".join(o.target.label for o in self._outboxes)
        return f"Notifier({labels or 'no targets'})"

    @property
    def enabled(self) -> bool:
        return bool(self._outboxes)

    # ---------------------------------------------------------------- the producer side
    def notify(
        self,
        kind: NoticeKind,
        text: str,
        fields: Mapping[str, str] | None = None,
        *,
        warning: bool = False,
    ) -> None:
        """Queue one message for every target. Synchronous and bounded: never waits."""
        if not self._outboxes:
            return
        cfg, scrub = self.config, self._redact
        items = tuple((str(k), scrub(str(v)[:MAX_FIELD_CHARS])) for k, v in (fields or {}).items())
        text = scrub(text[: cfg.max_text_chars])
        message = Message(kind, text, items[:MAX_FIELDS], self._clock.now_ns(), warning)
        for outbox in self._outboxes:
            queue = outbox.queue
            if len(queue) == queue.maxlen:
                outbox.counts.dropped += 1  # deque drops the oldest on append
            queue.append(message)
            outbox.wake.set()

    def counts(self) -> dict[str, NotifierCounts]:
        """Counters by target kind ("webhook", "telegram"), with what is queued now."""
        found: dict[str, NotifierCounts] = {}
        for outbox in self._outboxes:
            c = outbox.counts
            total = found.setdefault(outbox.target.kind, NotifierCounts())
            total.sent += c.sent
            total.failed += c.failed
            total.dropped += c.dropped
            total.retried += c.retried
            total.queued += len(outbox.queue)
        return found

    # ---------------------------------------------------------------- the sending side
    async def run(self, done: asyncio.Event) -> None:
        """The daemon's task: one worker per target until `done`. Never raises."""
        if not self._outboxes:
            await done.wait()
            return
        async with self._session() as http:
            workers = [asyncio.ensure_future(self._worker(http, o)) for o in self._outboxes]
            try:
                await done.wait()
            finally:
                for worker in workers:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

    async def flush(self, budget_s: float | None = None) -> int:
        """Send what is still queued (the daemon's last words: stopped, failed), one try
        each, for at most `budget_s` in all. Returns how many were left unsent."""
        pending = [o for o in self._outboxes if o.queue]
        if not pending:
            return 0
        budget = self.config.final_flush_s if budget_s is None else budget_s
        try:
            async with asyncio.timeout(budget), self._session() as http:
                await asyncio.gather(*(self._drain(http, o) for o in pending))
        except TimeoutError:
            pass
        left = sum(len(o.queue) for o in self._outboxes)
        if left:
            logger.warning("notifications not sent at exit", extra={"count": left})
        return left

    def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.config.timeout_s),
            headers={"User-Agent": self.config.user_agent},
        )

    async def _worker(self, http: aiohttp.ClientSession, outbox: _Outbox) -> None:
        while True:
            if not outbox.queue:
                outbox.wake.clear()
                await outbox.wake.wait()
                continue
            message = outbox.queue.popleft()
            try:
                await self._deliver(http, outbox, message, self.config.retries)
            except asyncio.CancelledError:
                outbox.queue.appendleft(message)  # the exit's flush tries it once more
                raise
            except Exception as exc:  # nothing a target does may stop the notifier
                outbox.counts.failed += 1
                logger.error(
                    "notification failed",
                    extra={"target": outbox.target.label, "error": type(exc).__name__},
                )

    async def _drain(self, http: aiohttp.ClientSession, outbox: _Outbox) -> None:
        while outbox.queue:
            message = outbox.queue.popleft()
            try:
                await self._deliver(http, outbox, message, 0)
            except asyncio.CancelledError:
                outbox.queue.appendleft(message)
                raise

    async def _deliver(
        self, http: aiohttp.ClientSession, outbox: _Outbox, message: Message, retries: int
    ) -> None:
        cfg, counts = self.config, outbox.counts
        delays = Backoff(cfg.backoff_base_s, cfg.backoff_cap_s, retries).delays(self._rng)
        tries = 0
        while True:
            tries += 1
            outcome = await self._attempt(http, outbox.target, message)
            if outcome.sent:
                counts.sent += 1
                return
            delay = next(delays, None) if outcome.retry else None
            if delay is None:
                counts.failed += 1
                logger.warning(
                    "notification not delivered",
                    extra={
                        "target": outbox.target.label,
                        "kind": message.kind.value,
                        "error": outcome.why,
                        "tries": tries,
                    },
                )
                return
            counts.retried += 1
            await self._clock.sleep(min(cfg.backoff_cap_s, max(delay, outcome.wait_s)))

    async def _attempt(
        self, http: aiohttp.ClientSession, target: Target, message: Message
    ) -> _Outcome:
        url, body = self._request(target, message)
        telegram = isinstance(target, TelegramTarget)
        try:
            async with asyncio.timeout(self.config.timeout_s):
                async with http.post(
                    url,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    retry_after = _seconds(response.headers.get("Retry-After"))
                    answer = await self._read(response) if telegram else b""
        except TimeoutError:
            return _Outcome(False, retry=True, why="timeout")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return _Outcome(False, retry=True, why=type(exc).__name__)
        if telegram:
            return _telegram_outcome(status, answer, retry_after)
        if 200 <= status < 300:
            return _Outcome(True)
        return _Outcome(False, status in _RETRY_STATUS, retry_after or 0.0, f"HTTP {status}")

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """At most `max_response_bytes` of the answer (more: None of it is trusted)."""
        limit = self.config.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = await response.content.read(limit + 1 - size)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        raise ValueError("answer too large")

    def _request(self, target: Target, message: Message) -> tuple[str, bytes]:
        at = datetime.fromtimestamp(message.at_ns / 1e9, UTC).isoformat(timespec="seconds")
        if isinstance(target, TelegramTarget):
            token = target.token.get_secret_value()
            url = f"{self.config.telegram_api_url.rstrip('/')}/bot{token}/sendMessage"
            doc: dict[str, Any] = {
                "chat_id": target.chat_id,
                "text": f"krakenbot ({self.mode}): {message.text}",
                "disable_web_page_preview": True,
            }
        else:
            url = target.url.get_secret_value()
            doc = {
                "source": "krakenbot",
                "mode": self.mode,
                "kind": message.kind.value,
                "severity": "warning" if message.warning else "info",
                "text": message.text,
                "at": at,
                "fields": dict(message.fields),
            }
        return url, json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _telegram_outcome(status: int, answer: bytes, retry_after: float | None) -> _Outcome:
    """The Bot API answers `{"ok": true, ...}` or `{"ok": false, "error_code": N,
    "description": ..., "parameters": {"retry_after": S}}`."""
    try:
        doc = json.loads(answer) if answer else {}
    except ValueError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    if status == 200 and doc.get("ok") is True:
        return _Outcome(True)
    params = doc.get("parameters")
    if isinstance(params, dict):
        retry_after = _seconds(params.get("retry_after")) or retry_after
    retry = status in _RETRY_STATUS or (status == 200 and doc.get("ok") is not False)
    return _Outcome(False, retry, retry_after or 0.0, f"HTTP {status}")


def _seconds(value: object) -> float | None:
    """A retry-after in seconds (a number; an HTTP date is not worth trusting here)."""
    try:
        seconds = float(str(value))
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86_400 else None

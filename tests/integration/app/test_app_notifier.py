"""The notifier against real loopback HTTP servers: one that works (the JSON asserted), one
that hangs, one that answers 500, hostile ones (huge or slow answers, a redirect), a
Telegram Bot API fake. Whatever the endpoint does, `notify` never waits, memory stays
bounded, every outcome is counted, and no URL or token reaches a repr, a counter or the log."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from tests.eventually import eventually

from krakenbot.app.notifier import Notifier, NotifierConfig
from krakenbot.app.notify_targets import parse_targets
from krakenbot.clock import ManualClock, SystemClock
from krakenbot.domain.enums import NoticeKind

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
FAST = NotifierConfig(timeout_s=0.3, retries=3, backoff_base_s=0.01, backoff_cap_s=0.05)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Endpoint:
    server: TestServer
    seen: list[dict[str, Any]] = field(default_factory=list)  # JSON bodies received
    paths: list[str] = field(default_factory=list)

    def url(self, path: str = "/hook/SECRETPART") -> str:
        return str(self.server.make_url(path))


@asynccontextmanager
async def endpoint(answer: Callable[[Endpoint, web.Request], Awaitable[web.StreamResponse]]):  # type: ignore[no-untyped-def]
    app = web.Application()
    holder: list[Endpoint] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        ep = holder[0]
        ep.paths.append(request.path)
        ep.seen.append(json.loads(await request.read()))
        return await answer(ep, request)

    app.router.add_route("POST", "/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    holder.append(Endpoint(server))
    try:
        yield holder[0]
    finally:
        await server.close()


async def ok(ep: Endpoint, request: web.Request) -> web.StreamResponse:
    return web.json_response({"ok": True})


@asynccontextmanager
async def running(notifier: Notifier) -> AsyncIterator[asyncio.Event]:
    done = asyncio.Event()
    task = asyncio.ensure_future(notifier.run(done))
    try:
        yield done
    finally:
        done.set()
        async with asyncio.timeout(5):
            await task


def notifier_for(urls: str, config: NotifierConfig = FAST, clock: Any = None) -> Notifier:
    return Notifier(
        parse_targets(urls),
        mode="sim",
        clock=clock or SystemClock(),
        rng=random.Random(3),
        config=config,
    )


async def test_a_working_webhook_gets_one_json_object_per_notification() -> None:
    async with endpoint(ok) as ep:
        notifier = notifier_for(ep.url())
        async with running(notifier):
            notifier.notify(
                NoticeKind.FILL, "fill: buy 30 XLM/USD @ 0.289", {"symbol": "XLM/USD", "qty": "30"}
            )
            await eventually(lambda: notifier.counts()["webhook"].sent == 1, 5, "sent")
    (body,) = ep.seen
    assert ep.paths == ["/hook/SECRETPART"]
    assert body["source"] == "krakenbot" and body["mode"] == "sim" and body["kind"] == "fill"
    assert body["severity"] == "info" and body["text"] == "fill: buy 30 XLM/USD @ 0.289"
    assert body["fields"] == {"symbol": "XLM/USD", "qty": "30"}
    assert body["at"].endswith("+00:00")
    counts = notifier.counts()["webhook"]
    assert (counts.sent, counts.failed, counts.dropped, counts.queued) == (1, 0, 0, 0)


async def test_a_hanging_endpoint_never_makes_notify_wait_and_is_given_up_in_bounded_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forever = asyncio.Event()

    async def hang(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        await forever.wait()
        return web.Response()

    async with endpoint(hang) as ep:
        notifier = notifier_for(ep.url())
        async with running(notifier):
            started = time.perf_counter()
            for i in range(50):
                notifier.notify(NoticeKind.FILL, f"fill {i}")
            assert time.perf_counter() - started < 0.05  # queued, not sent: nothing waited
            await eventually(lambda: notifier.counts()["webhook"].failed >= 1, 5, "given up")
            gave_up = time.perf_counter() - started
        forever.set()
    # 4 tries of 0.3 s each plus back-off: bounded, whatever the endpoint does.
    assert gave_up < 4 * 0.3 + 4 * 0.05 + 1.0
    assert len(ep.seen) >= 4 and notifier.counts()["webhook"].retried >= 3
    ours = [str(vars(r)) for r in caplog.records if r.name.startswith("krakenbot")]
    assert ours and not any("SECRETPART" in text for text in ours)


async def test_a_500_is_retried_with_back_off_then_given_up_and_counted() -> None:
    class Clock(ManualClock):
        def __init__(self) -> None:
            super().__init__()
            self.slept: list[float] = []

        async def sleep(self, seconds: float) -> None:
            self.slept.append(seconds)
            await super().sleep(seconds)

    async def fail(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        return web.Response(status=500)

    clock = Clock()
    config = NotifierConfig(timeout_s=1, retries=3, backoff_base_s=1.0, backoff_cap_s=3.0)
    async with endpoint(fail) as ep:
        notifier = notifier_for(ep.url(), config, clock)
        async with running(notifier):
            notifier.notify(NoticeKind.RISK_HALT, "trading HALTED", warning=True)
            await eventually(lambda: notifier.counts()["webhook"].failed == 1, 5, "given up")
    assert len(ep.seen) == 4  # the first try and three retries, then no more
    counts = notifier.counts()["webhook"]
    assert (counts.sent, counts.failed, counts.retried) == (0, 1, 3)
    assert len(clock.slept) == 3 and all(0 <= s <= 3.0 for s in clock.slept)  # capped
    assert ep.seen[0]["severity"] == "warning"


async def test_a_refusal_is_not_retried_and_a_retry_after_is_honoured_up_to_the_cap() -> None:
    answers = iter([web.Response(status=429, headers={"Retry-After": "2"}), web.Response()])

    async def limited(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        return next(answers)

    async def refuse(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        return web.Response(status=404)

    clock = ManualClock()
    config = NotifierConfig(timeout_s=1, retries=3, backoff_base_s=0.01, backoff_cap_s=30.0)
    async with endpoint(limited) as slow, endpoint(refuse) as gone:
        notifier = notifier_for(f"{slow.url()},{gone.url()}", config, clock)
        mono = clock.monotonic_ns()
        async with running(notifier):
            notifier.notify(NoticeKind.STARTED, "started (sim)")
            await eventually(
                lambda: (
                    notifier.counts()["webhook"].sent + notifier.counts()["webhook"].failed == 2
                ),
                5,
                "both done",
            )
    assert len(slow.seen) == 2 and len(gone.seen) == 1  # 404: never retried
    assert clock.monotonic_ns() - mono >= 2_000_000_000  # waited the Retry-After
    counts = notifier.counts()["webhook"]
    assert (counts.sent, counts.failed, counts.retried) == (1, 1, 1)


async def test_hostile_answers_cost_bounded_time_and_memory() -> None:
    async def huge(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        chunk = b"x" * 65536
        for _ in range(2000):  # 128 MiB if anyone read it all
            await response.write(chunk)
        return response

    async def trickle(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        for _ in range(1000):  # a byte every 50 ms: the answer never ends in time
            await response.write(b"{")
            await asyncio.sleep(0.05)
        return response

    async def slow_headers(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response()

    async def redirect(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "http://127.0.0.1:1/steal"})

    config = NotifierConfig(timeout_s=0.5, retries=1, backoff_base_s=0.01, backoff_cap_s=0.02)
    async with (
        endpoint(huge) as big,
        endpoint(trickle) as slow,
        endpoint(slow_headers) as mute,
        endpoint(redirect) as moved,
    ):
        # A webhook's answer is never read (its status is the outcome); Telegram's is, up
        # to max_response_bytes, within the request's timeout.
        hooks = notifier_for(f"{big.url()},{mute.url()},{moved.url()}", config)
        bots = [
            notifier_for(
                f"tg://{TOKEN}@42", replace(config, telegram_api_url=api.url("").rstrip("/"))
            )
            for api in (big, slow)
        ]
        started = time.perf_counter()
        async with running(hooks), running(bots[0]), running(bots[1]):
            for notifier in (hooks, *bots):
                notifier.notify(NoticeKind.FILL, "fill")

            def settled() -> bool:
                h = hooks.counts()["webhook"]
                return h.sent + h.failed == 3 and all(b.counts()["telegram"].failed for b in bots)

            await eventually(settled, 10, "every hostile endpoint settled")
        took = time.perf_counter() - started
    h = hooks.counts()["webhook"]
    assert (h.sent, h.failed) == (1, 2)  # the huge 200: sent; no headers: timed out; 302
    assert len(moved.seen) == 1  # a redirect is a refusal: never followed, never retried
    assert len(mute.seen) == 2  # retried once after its timeout
    assert all(b.counts()["telegram"].sent == 0 for b in bots)
    assert took < 5


async def test_a_full_queue_drops_its_oldest_and_counts_them() -> None:
    async with endpoint(ok) as ep:
        notifier = notifier_for(ep.url(), NotifierConfig(queue_size=3))
        for i in range(10):  # the worker is not running: nothing leaves yet
            notifier.notify(NoticeKind.FILL, f"fill {i}")
        counts = notifier.counts()["webhook"]
        assert (counts.dropped, counts.queued) == (7, 3)
        async with running(notifier):
            await eventually(lambda: notifier.counts()["webhook"].sent == 3, 5, "sent")
    assert [b["text"] for b in ep.seen] == ["fill 7", "fill 8", "fill 9"]


async def test_telegram_gets_send_message_and_its_retry_after_is_honoured(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers = iter(
        [
            web.json_response(
                {"ok": False, "error_code": 429, "parameters": {"retry_after": 1}}, status=429
            ),
            web.json_response({"ok": True, "result": {"message_id": 1}}),
            web.json_response({"ok": False, "error_code": 400, "description": "x"}, status=400),
        ]
    )

    async def bot_api(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        return next(answers)

    caplog.set_level(logging.DEBUG)
    clock = ManualClock()
    async with endpoint(bot_api) as api:
        base = str(api.server.make_url("")).rstrip("/")
        config = NotifierConfig(timeout_s=1, retries=2, backoff_base_s=0.01, telegram_api_url=base)
        notifier = notifier_for(f"tg://{TOKEN}@-100123", config, clock)
        async with running(notifier):
            notifier.notify(NoticeKind.POSITION_CLOSED, "position closed: XLM/USD, PnL 0.12")
            await eventually(lambda: notifier.counts()["telegram"].sent == 1, 5, "sent")
            notifier.notify(NoticeKind.FILL, "fill")
            await eventually(lambda: notifier.counts()["telegram"].failed == 1, 5, "refused")
    assert api.paths == [f"/bot{TOKEN}/sendMessage"] * 3
    assert api.seen[1] == {
        "chat_id": "-100123",
        "text": "krakenbot (sim): position closed: XLM/USD, PnL 0.12",
        "disable_web_page_preview": True,
    }
    assert clock.monotonic_ns() >= 1_000_000_000  # waited Telegram's retry_after
    ours = "\n".join(str(vars(r)) for r in caplog.records if r.name.startswith("krakenbot"))
    for text in (repr(notifier), str(notifier.counts()), ours):
        assert TOKEN not in text and "AAHdqTcv" not in text


async def test_the_exit_flush_is_bounded_and_says_what_it_could_not_send() -> None:
    forever = asyncio.Event()

    async def hang(ep: Endpoint, request: web.Request) -> web.StreamResponse:
        await forever.wait()
        return web.Response()

    async with endpoint(ok) as good, endpoint(hang) as stuck:
        notifier = notifier_for(f"{good.url()},{stuck.url()}", NotifierConfig(timeout_s=5))
        notifier.notify(NoticeKind.STOPPED, "stopped: stop request")
        started = time.perf_counter()
        left = await notifier.flush(0.5)
        took = time.perf_counter() - started
        forever.set()
    assert took < 1.5 and left == 1  # the hanging one; the working one got it
    assert [b["kind"] for b in good.seen] == ["stopped"]

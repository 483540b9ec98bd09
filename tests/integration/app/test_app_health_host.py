"""The daemon's local HTTP server answers only requests that name it in their `Host` header.

A web page the user opens can make their browser send requests to 127.0.0.1 under the
page's own name (DNS rebinding: `evil.example` resolves to 127.0.0.1 after the page loaded),
and then read the answers as same-origin. Every route — /health, /metrics, /stop and the
dashboard's — refuses such a request (421) before doing anything. Real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from krakenbot.app.health_server import HealthServer
from krakenbot.app.runtime_files import TOKEN_HEADER
from krakenbot.app.status_model import StatusReport

TOKEN = "host-check-token"
SERVED = (200, 503)  # /health: healthy or degraded (this bare report is degraded)


@pytest.fixture
async def server() -> AsyncIterator[tuple[HealthServer, list[str]]]:
    stops: list[str] = []
    srv = HealthServer(
        host="127.0.0.1",
        port=0,
        report=lambda: StatusReport(running=True, source="daemon", mode="paper", healthy=True),
        request_stop=stops.append,
        token=TOKEN,
        metrics=lambda: b"krakenbot_up 1\n",
    )
    await srv.start()
    try:
        yield srv, stops
    finally:
        await srv.close()


async def _status(srv: HealthServer, method: str, path: str, host: str | None) -> int:
    headers = {TOKEN_HEADER: TOKEN}
    if host is not None:
        headers["Host"] = host
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"http://127.0.0.1:{srv.port}{path}", headers=headers) as r,
    ):
        await r.read()
        return r.status


async def test_a_foreign_host_name_is_refused_on_every_route(
    server: tuple[HealthServer, list[str]],
) -> None:
    srv, stops = server
    port = srv.port
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}"):
        assert await _status(srv, "GET", "/health", host) == 421
        assert await _status(srv, "GET", "/metrics", host) == 421
        assert await _status(srv, "POST", "/stop", host) == 421
    assert await _status(srv, "GET", "/health", f"127.0.0.1:{port + 1}") == 421  # another port
    assert stops == []  # nothing refused did anything


async def test_the_loopback_names_of_the_bound_port_are_served(
    server: tuple[HealthServer, list[str]],
) -> None:
    srv, stops = server
    port = srv.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        assert await _status(srv, "GET", "/health", host) in SERVED
        assert await _status(srv, "GET", "/metrics", host) == 200
    assert await _status(srv, "GET", "/health", None) in SERVED  # aiohttp: 127.0.0.1:port
    assert await _status(srv, "POST", "/stop", f"localhost:{port}") == 202
    await asyncio.sleep(0)
    assert stops == ["stop request"]

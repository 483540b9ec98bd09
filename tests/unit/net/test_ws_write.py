"""`write_text_now` pins aiohttp's private frame writer (net/ws_write.py): over a real
loopback WebSocket the frame is written before the call returns and arrives whole and in
order with frames sent the usual way; a compressed or closed connection is not written to
(the caller then uses `send_str`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import cast

import aiohttp
import pytest
from aiohttp import web

from krakenbot.net.ws_write import writable_now, write_text_now


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[str]]]:
    received: list[str] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            received.append(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/ws", received
    finally:
        await runner.cleanup()


async def _until(received: list[str], n: int) -> None:
    async with asyncio.timeout(5):
        while len(received) < n:  # noqa: ASYNC110 - bounded poll on a loopback socket
            await asyncio.sleep(0.005)


async def test_a_frame_is_written_at_once_and_arrives_in_order(
    server: tuple[str, list[str]],
) -> None:
    url, received = server
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        written: list[bytes] = []
        transport = ws._writer.transport
        write = transport.write

        def spy(data: bytes | bytearray | memoryview) -> None:
            written.append(bytes(data))
            write(data)

        transport.write = spy  # type: ignore[method-assign]
        await ws.send_str("first")
        assert writable_now(ws)
        assert write_text_now(ws, '{"method":"add_order"}')
        assert len(written) == 2  # on the transport before the call returned
        await ws.send_str("last")
        await _until(received, 3)
    assert received == ["first", '{"method":"add_order"}', "last"]


async def test_a_compressed_or_closed_connection_is_not_written_to(
    server: tuple[str, list[str]],
) -> None:
    url, received = server
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url, compress=15) as ws:
            assert ws.compress  # the server agreed to permessage-deflate
            assert not writable_now(ws) and not write_text_now(ws, "x")
        async with http.ws_connect(url) as ws:
            await ws.close()
            assert not writable_now(ws) and not write_text_now(ws, "x")
    assert received == []


def test_an_aiohttp_without_the_private_writer_parts_is_not_written_to() -> None:
    """A newer aiohttp that renamed what `write_text_now` uses: no write and no exception
    (every order then goes through `send_str`, the usual way)."""
    renamed = SimpleNamespace(closed=False, _writer=SimpleNamespace(compress=0, _closing=False))
    ws = cast(aiohttp.ClientWebSocketResponse, renamed)
    assert not writable_now(ws) and not write_text_now(ws, "x")

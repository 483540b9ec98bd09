"""The HTTP transport seam: one aiohttp session, a hard timeout on every request.

Owns: turning aiohttp/asyncio failures into the project's TransportError family, once,
at this boundary. Must not import: kraken codecs or anything above `net`.
A failure to connect means the request never left this machine (`RequestNotSentError`);
any later failure (reset, timeout, truncated body) means Kraken may have executed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from krakenbot.errors import TransportError


class RequestNotSentError(TransportError):
    """The connection could not be made: the request provably did not reach Kraken."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes


class HttpTransport(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """One `aiohttp.ClientSession` for the client's lifetime (created on first use)."""

    def __init__(self, *, user_agent: str, connect_timeout_s: float = 5.0) -> None:
        self._user_agent = user_agent
        self._connect_timeout_s = connect_timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": self._user_agent},
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout_s),
                connector=aiohttp.TCPConnector(limit=8, enable_cleanup_closed=True),
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        session = self._get_session()
        timeout = self._timeouts.get(timeout_s)
        if timeout is None:
            # aiohttp's own timer covers the whole request, answer and body included (one
            # timer per request either way; an asyncio.timeout around it would be a second).
            timeout = self._timeouts[timeout_s] = aiohttp.ClientTimeout(
                total=timeout_s, sock_connect=self._connect_timeout_s
            )
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as resp:
                payload = await resp.read()
                return HttpResponse(resp.status, payload)
        except aiohttp.ClientConnectorError as exc:
            raise RequestNotSentError(f"cannot connect: {type(exc).__name__}") from exc
        except TimeoutError as exc:
            raise TransportError(f"no response within {timeout_s:g} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TransportError(f"connection failed: {type(exc).__name__}") from exc

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

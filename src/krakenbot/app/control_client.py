"""The operator's side of the controls: ask the running daemon, as `krakenbot stop` does.

Owns: `ask` — one authenticated POST to the daemon's local HTTP endpoint (its URL and
token file from the per-user registry entry app/discover.py found; the token in the
`X-Krakenbot-Stop-Token` header, never on the command line or in a URL), answered with the
daemon's JSON. `control` asks for one action (app/controls.py runs it in the daemon);
`login_link` asks for a fresh one-time dashboard login link.
Imports: anything (composition root).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from krakenbot.app.registry import DaemonEntry
from krakenbot.app.runtime_files import TOKEN_HEADER, read_token_file


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # HTTP status; 0: no answer (see `error`)
    doc: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


async def ask(target: DaemonEntry, path: str, *, timeout_s: float) -> Answer:
    if target.health_url is None:
        return Answer(0, error=f"the daemon (PID {target.pid}) is still starting")
    token = read_token_file(Path(target.token_file))
    if token is None:
        return Answer(0, error=f"cannot read the daemon's token {target.token_file}")
    try:
        async with (
            asyncio.timeout(timeout_s),
            aiohttp.ClientSession() as session,
            session.post(f"{target.health_url}{path}", headers={TOKEN_HEADER: token}) as reply,
        ):
            doc = await reply.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        why = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
        return Answer(0, error=f"the daemon (PID {target.pid}) did not answer: {why}")
    return Answer(reply.status, doc if isinstance(doc, dict) else {})


async def control(target: DaemonEntry, action: str, *, timeout_s: float) -> Answer:
    return await ask(target, f"/control/{action}", timeout_s=timeout_s)


async def login_link(target: DaemonEntry, *, timeout_s: float) -> Answer:
    return await ask(target, "/dashboard/login-link", timeout_s=timeout_s)


__all__ = ["Answer", "control", "login_link"]

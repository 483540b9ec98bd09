"""placeholder"""

from __future__ import annotations

import asyncio

from aiohttp import web

from krakenbot.sim.state import SimState


def attach_ws(app: web.Application, state: SimState, closing: asyncio.Event) -> web.Application:
    return web.Application()

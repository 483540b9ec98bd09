"""krakenbot.sim — a faithful Kraken spot exchange on loopback (REST + WebSocket v2).

Public API: `SimConfig`, `running_sim` (async context manager yielding a `Sim` with
`rest_url`, `ws_url`, `ws_auth_url`, `api_key`, `api_secret`, `control`), `SimControl`,
`FaultInjector`. The pure core (pairs, auth, ratelimit, book, market, exchange, parse,
wire_*) has no I/O; rest.py / ws.py / server.py are the aiohttp shells.
May import only krakenbot.domain, krakenbot.errors, krakenbot.clock and itself.
"""

from krakenbot.sim.config import SimConfig
from krakenbot.sim.control import SimControl
from krakenbot.sim.faults import FaultInjector
from krakenbot.sim.server import Sim, running_sim

__all__ = ["FaultInjector", "Sim", "SimConfig", "SimControl", "running_sim"]

"""One WebSocket v2 request being answered (`Ctx`): the hub, the connection, the method and
its `req_id`, and the ack helpers. Shared by ws_methods.py (subscriptions, dispatch) and
ws_trading.py (trading methods). Imports: stdlib and sim.* only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from krakenbot.sim import wire_ws

if TYPE_CHECKING:
    from krakenbot.sim.ws import Conn, Hub


class Ctx:
    """One request being answered."""

    def __init__(self, hub: Hub, conn: Conn, method: str, req_id: object) -> None:
        self.hub, self.conn, self.method, self.req_id = hub, conn, method, req_id
        self.t_in = hub.state.now_ns()

    def ok(self, result: object) -> None:
        now = self.hub.state.now_ns()
        self.conn.send(wire_ws.ack(self.method, result, self.req_id, self.t_in, now))

    def err(self, error: str, symbol: str | None = None) -> None:
        now = self.hub.state.now_ns()
        self.conn.send(
            wire_ws.ack(self.method, None, self.req_id, self.t_in, now, error=error, symbol=symbol)
        )

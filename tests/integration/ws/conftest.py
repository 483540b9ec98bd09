"""Fixtures for WebSocket session tests against the loopback simulator."""

from __future__ import annotations

from tests.integration.ws.ws_helpers import sim

__all__ = ["sim"]

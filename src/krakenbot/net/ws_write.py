"""A text frame written to an aiohttp WebSocket at once, without a coroutine.

Owns: `write_text_now` — the frame an order's `add_order` request goes out in, written to
the connection's transport synchronously, so the executor can put an order's bytes on the
socket right after its ledger row committed, in the same step (no task to spawn first and
no loop turn: on this path each costs tens of µs with cold caches, issue 14).

aiohttp's `send_str` is a coroutine, but for an uncompressed frame it writes before its
first await (aiohttp 3.9+: `WebSocketWriter.send_frame`); this is that write, through the
writer's `_write_websocket_frame` (private: pinned by tests/unit/net/test_ws_write.py,
which fails if it stops writing our frame). A compressed connection (frames must go
through the compressor under its lock) or a closing one answers False: nothing written,
the caller sends the usual way. Flow control is left to the next `send_str` (it drains
once the writer's output passes its limit; a 200-byte frame never gets near it).
Imports: aiohttp, stdlib.
"""

from __future__ import annotations

import aiohttp
from aiohttp import WSMsgType


def writable_now(ws: aiohttp.ClientWebSocketResponse) -> bool:
    """Can `write_text_now` write on `ws` (open, uncompressed, not closing)? An aiohttp
    whose writer no longer has the private parts used here answers False: every order then
    goes the usual way (`send_str`), and the pinning test fails in CI."""
    try:
        writer = ws._writer
        return not (ws.closed or writer.compress or writer._closing) and callable(
            writer._write_websocket_frame
        )
    except AttributeError:
        return False


def write_text_now(ws: aiohttp.ClientWebSocketResponse, text: str) -> bool:
    """Write one text frame now; False (nothing written) when `writable_now` says no.
    Raises what aiohttp's write raises (the frame's fate then unknown)."""
    if not writable_now(ws):
        return False
    ws._writer._write_websocket_frame(text.encode(), WSMsgType.TEXT, 0)
    return True


__all__ = ["writable_now", "write_text_now"]

"""RFC 6455 server-to-client text frames as bytes (pure).

Owns: framing a UTF-8 payload once so a broadcast is encoded once and written to every
subscriber's socket as-is (server frames are never masked; the sim never compresses).
Imports: stdlib only.
"""

from __future__ import annotations

import struct

_FIN_TEXT = 0x81


def text_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((_FIN_TEXT, n)) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", _FIN_TEXT, 126, n) + payload
    return struct.pack("!BBQ", _FIN_TEXT, 127, n) + payload


def payload(frame: bytes) -> bytes:
    """The payload of a frame made by `text_frame`."""
    marker = frame[1]
    start = 2 if marker < 126 else (4 if marker == 126 else 10)
    return frame[start:]

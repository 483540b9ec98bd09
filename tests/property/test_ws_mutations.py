"""Hostile mutations of the real recorded WebSocket frames: `decode` never raises, stays fast
on every input, and the session's frame handling (the reader) never sees an exception."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from tests.conftest import DATA

from krakenbot.clock import ManualClock
from krakenbot.domain.enums import Channel
from krakenbot.kraken.ws_codec import decode
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import Conn, WsSession, WsSessionConfig
from mutations import mutated, time_bound

PER_INPUT_CPU_S = 0.5


def _frames() -> list[str]:
    frames: list[str] = []
    for path in sorted((DATA / "ws" / "real_messages").glob("ws_*.json")):
        text = path.read_text(encoding="utf-8").strip()
        if text.startswith("["):  # a file of several frames (lifecycles, acks)
            frames += [json.dumps(m, separators=(",", ":")) for m in json.loads(text)]
        else:
            frames.append(text)
    recording = (DATA / "ws" / "book10_BTCUSD_2023-07-30.jsonl").read_text(encoding="utf-8")
    frames += recording.splitlines()[:20]
    return frames


FRAMES = _frames()


def test_the_corpus_is_the_real_recordings() -> None:
    assert len(FRAMES) > 60
    assert all(not any(type(m).__name__ == "DecodeFailed" for m in decode(f)) for f in FRAMES)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=mutated(FRAMES))
def test_decode_and_the_reader_survive_any_mutation(frame: str) -> None:
    with time_bound(PER_INPUT_CPU_S, lambda: frame):
        assert isinstance(decode(frame), list)
        assert isinstance(decode(frame.encode("utf-8", "surrogatepass")), list)
    queue = InboundQueue()
    session = WsSession(
        WsSessionConfig(symbols=("BTC/USD",)), queue, clock=ManualClock(), rng=random.Random(1)
    )
    for channel in (Channel.PUBLIC, Channel.PRIVATE):
        conn = Conn(channel, "ws://x")
        with time_bound(PER_INPUT_CPU_S, lambda: frame):
            session.on_frame(conn, frame, 1)  # must not raise: that would drop the connection
            for event in queue.drain():
                if callable(event):
                    event()  # a conflated value (lazy ticker, book view) is built when taken

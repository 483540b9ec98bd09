"""A private request's key state is written while the request travels (net/inflight_save.py):
always in the file before the key's lock is released, a failed write never turns an answered
request into an error, and after one the next request is stopped before it is sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from tests.kraken_http import ScriptedKraken, rest_client

from krakenbot.net import nonce_store
from krakenbot.net.http import HttpResponse
from krakenbot.net.nonce_store import SLOT_BYTES, KeyStateStore, decode_slot

OK = json.dumps({"error": [], "result": {"unixtime": 1}}).encode()


def _high_water_on_disk(path: Path) -> int:
    raw = path.read_bytes()
    slots = [decode_slot(raw[i : i + SLOT_BYTES]) for i in (0, SLOT_BYTES)]
    return max((s[1].nonce_high_water for s in slots if s is not None), default=0)


class SlowKraken:
    """Answers after a few loop turns, noting what the state file held meanwhile."""

    def __init__(self, path: Path, turns: int) -> None:
        self.path, self.turns = path, turns
        self.nonces: list[int] = []
        self.on_disk_while_in_flight: list[int] = []

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        self.nonces.append(int((body or b"").decode().split("&")[0].removeprefix("nonce=")))
        for _ in range(self.turns):
            await asyncio.sleep(0)
        self.on_disk_while_in_flight.append(_high_water_on_disk(self.path))
        return HttpResponse(200, OK)

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("turns", [0, 1, 5])
async def test_the_nonce_is_on_disk_before_the_lock_is_released(tmp_path: Path, turns: int) -> None:
    path = nonce_store.state_file(tmp_path, "key")
    kraken = SlowKraken(path, turns)
    client = rest_client(tmp_path, kraken)  # type: ignore[arg-type]
    for _ in range(3):
        await client.call("Balance")
        # What another process reads under the lock: this request's nonce, every time.
        other = KeyStateStore(tmp_path, "key")
        assert (await other.acquire()).nonce_high_water == kraken.nonces[-1]
        other.close()
    if turns >= 2:  # written while the request was on the wire, not after its answer
        assert kraken.on_disk_while_in_flight == kraken.nonces
    await client.close()


async def test_a_failed_write_keeps_the_answer_and_stops_the_next_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kraken = ScriptedKraken(lambda method, form: {"unixtime": 1})
    client = rest_client(tmp_path, kraken)
    await client.call("Balance")  # the state file exists
    real_write = nonce_store._write_at

    def disk_full(fd: int, data: bytes, offset: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(nonce_store, "_write_at", disk_full)
    # The request went out and was answered: its answer stands.
    assert await client.call("Balance") == {"unixtime": 1}
    with pytest.raises(OSError):
        await client.call("Balance")  # written before sending, and that failed: not sent
    assert kraken.calls == ["Balance", "Balance"]
    monkeypatch.setattr(nonce_store, "_write_at", real_write)
    await client.call("Balance")  # the disk is back: requests go again
    assert kraken.calls == ["Balance"] * 3
    await client.close()

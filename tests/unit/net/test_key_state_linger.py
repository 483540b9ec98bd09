"""The key's state lock is released one loop turn after a request (net/nonce_store.py,
`release_soon`): nobody else can take it before then, a request of ours taken in that turn
keeps it without reloading, and once released, the next request of ours reloads what another
holder wrote (a stale state would hand out a nonce at or under theirs)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from pathlib import Path

import pytest
from tests.kraken_http import ScriptedKraken, rest_client

from krakenbot.net import nonce_store
from krakenbot.net.http import HttpResponse
from krakenbot.net.nonce_store import KeyStateStore
from krakenbot.net.rest_client import RestClient


def _saved(store: KeyStateStore, high_water: int) -> None:
    state = store.try_acquire()
    assert state is not None
    state.nonce_high_water = high_water
    store.save()


async def test_the_lock_is_released_at_the_next_loop_turn(tmp_path: Path) -> None:
    ours, other = KeyStateStore(tmp_path, "key"), KeyStateStore(tmp_path, "key")
    _saved(ours, 100)
    ours.release_soon()
    assert other.try_acquire() is None  # still ours during this turn
    await asyncio.sleep(0)
    state = other.try_acquire()
    assert state is not None and state.nonce_high_water == 100
    other.close()
    ours.close()


async def test_taken_back_in_the_same_turn_it_is_kept_without_a_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, other = KeyStateStore(tmp_path, "key"), KeyStateStore(tmp_path, "key")
    _saved(ours, 100)
    ours.release_soon()

    def no_read(fd: int, size: int, offset: int) -> bytes:
        raise AssertionError("reloaded a state nobody else could have written")

    monkeypatch.setattr(nonce_store, "_read_at", no_read)
    state = ours.try_acquire()
    assert state is not None and state.nonce_high_water == 100
    await asyncio.sleep(0)  # the turn's release is void: the lock is held for this request
    assert other.try_acquire() is None
    with pytest.raises(RuntimeError):
        ours.try_acquire()  # held by a request, not lingering: still not re-entrant
    ours.release_soon()
    await asyncio.sleep(0)
    monkeypatch.undo()
    assert other.try_acquire() is not None
    other.close()
    ours.close()


async def test_after_the_release_another_holders_write_is_reloaded(tmp_path: Path) -> None:
    ours, other = KeyStateStore(tmp_path, "key"), KeyStateStore(tmp_path, "key")
    _saved(ours, 100)
    ours.release_soon()
    await asyncio.sleep(0)
    _saved(other, 200)
    other.release()
    state = ours.try_acquire()
    assert state is not None and state.nonce_high_water == 200
    ours.release()
    ours.release_soon()  # not held: nothing to release later
    await asyncio.sleep(0)
    assert other.try_acquire() is not None
    other.close()
    ours.close()


class Recorder(ScriptedKraken):
    """One Kraken for several clients: the nonces in the order requests reach it, each
    request held for a random few loop turns (so the clients interleave)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(lambda method, form: self.nonces.append(int(form["nonce"])) or {})
        self.rng = rng
        self.nonces: list[int] = []

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        for _ in range(self.rng.randrange(3)):
            await asyncio.sleep(0)
        return await super().request(method, url, body=body, headers=headers, timeout_s=timeout_s)


async def test_clients_sharing_a_key_interleaved_send_strictly_increasing_nonces(
    tmp_path: Path,
) -> None:
    # Each client has its own store (another open file: what another process has); the
    # same starting clock makes every nonce come from the shared high-water mark.
    kraken = Recorder(random.Random(7))
    clients = [rest_client(tmp_path, kraken) for _ in range(3)]

    async def burst(client: RestClient, n: int) -> None:
        for _ in range(n):
            await client.call("Balance")  # back to back: the lingering lock taken back

    await asyncio.gather(*(burst(c, 40) for c in clients))
    assert len(kraken.nonces) == 120
    assert all(a < b for a, b in zip(kraken.nonces, kraken.nonces[1:], strict=False))
    for client in clients:
        await client.close()

"""Nonces per key across processes and restarts, against the sim's strict nonce check."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest
from resttest_helpers import client, sim_running

from krakenbot.clock import ManualClock
from krakenbot.errors import ConfigError
from krakenbot.kraken.errors import InvalidNonceError
from krakenbot.kraken.ratelimit import KeyState
from krakenbot.net.nonce_store import SLOT_BYTES, KeyStateStore, encode_slot

WORKER = Path(__file__).with_name("nonce_worker.py")
SRC = Path(__file__).parents[3] / "src"


async def test_two_processes_sharing_a_key_never_collide(tmp_path: Path) -> None:
    n = 200
    async with sim_running() as sim:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        args = [sim.rest_url, sim.api_key, sim.api_secret, str(tmp_path), str(n)]
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(WORKER),
                *args,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        for p in procs:  # both are up and imported: start them together
            assert p.stdout is not None
            assert (await asyncio.wait_for(p.stdout.readline(), 30)).strip() == b"ready"
        outs = await asyncio.wait_for(asyncio.gather(*(p.communicate(b"go\n") for p in procs)), 60)
    reports = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outs]
    assert all(p.returncode == 0 for p in procs)
    assert [r["errors"] for r in reports] == [[], []]
    assert [r["ok"] for r in reports] == [n, n]
    assert [r["invalid_nonce"] for r in reports] == [0, 0]


async def test_restart_with_the_clock_set_back_keeps_nonces_increasing(tmp_path: Path) -> None:
    now = time.time_ns()
    async with sim_running() as sim:
        async with client(sim, tmp_path, ManualClock(start_ns=now)) as first:
            for _ in range(3):
                await first.balance()
        # A "restart" an hour in the past (NTP step, VM restore): the persisted high-water
        # mark keeps the new process's nonces above everything already used.
        async with client(sim, tmp_path, ManualClock(start_ns=now - 3600 * 10**9)) as second:
            for _ in range(3):
                await second.balance()
            assert second.invalid_nonce_count == 0
        # Control: without the persisted state the same clock step is refused by Kraken.
        async with client(
            sim, tmp_path / "fresh", ManualClock(start_ns=now - 3600 * 10**9)
        ) as amnesiac:
            with pytest.raises(InvalidNonceError):
                await amnesiac.balance()


async def test_state_store_lock_excludes_and_persists(tmp_path: Path) -> None:
    a = KeyStateStore(tmp_path, "key-1")
    b = KeyStateStore(tmp_path, "key-1", lock_timeout_s=5)
    state = await a.acquire()
    state.nonce_high_water = 42
    a.save()
    waiter = asyncio.create_task(b.acquire())
    await asyncio.sleep(0.02)
    assert not waiter.done()  # b waits while a holds the key's lock
    a.release()
    got = await asyncio.wait_for(waiter, 5)
    assert got.nonce_high_water == 42
    b.release()
    assert "key-1" not in a.path.name  # the file name is a fingerprint, not the key
    other = KeyStateStore(tmp_path, "key-2")
    assert (await other.acquire()).nonce_high_water == 0
    other.release()
    for s in (a, b, other):
        s.close()


async def test_a_corrupt_state_file_is_refused_not_reset(tmp_path: Path) -> None:
    store = KeyStateStore(tmp_path, "key-1")
    store.path.write_text("{not json")
    with pytest.raises(ConfigError):
        await store.acquire()
    store.close()
    # The lock was released on the way out; a valid file loads again.
    store.path.write_bytes(encode_slot(3, KeyState(nonce_high_water=7)))
    assert (await store.acquire()).nonce_high_water == 7
    store.close()


async def test_a_torn_write_keeps_the_previous_state(tmp_path: Path) -> None:
    store = KeyStateStore(tmp_path, "key-1")
    for hwm in (100, 200, 300):
        (await store.acquire()).nonce_high_water = hwm
        store.save()
        store.release()
    store.close()
    raw = bytearray(store.path.read_bytes())
    newest = 3 % 2  # the slot written last
    raw[newest * SLOT_BYTES + 20] ^= 0xFF  # damage it, as a power cut mid-write could
    store.path.write_bytes(bytes(raw))
    again = KeyStateStore(tmp_path, "key-1")
    assert (await again.acquire()).nonce_high_water == 200
    again.close()


async def test_lock_timeout_is_a_clear_error(tmp_path: Path) -> None:
    a = KeyStateStore(tmp_path, "k")
    b = KeyStateStore(tmp_path, "k", lock_timeout_s=0.05)
    await a.acquire()
    with pytest.raises(Exception, match="lock stayed busy"):
        await b.acquire()
    a.close()
    b.close()

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

from krakenbot.app.startup_steps import RunMode, check_nonce_state, key_states
from krakenbot.clock import ManualClock
from krakenbot.config import load_settings
from krakenbot.domain.sections import Credentials, Secret
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
        reports = await _start_workers(WORKER, args, [env, env], [tmp_path, tmp_path])
    assert [r["errors"] for r in reports] == [[], []]
    assert [r["ok"] for r in reports] == [n, n]
    assert [r["invalid_nonce"] for r in reports] == [0, 0]


async def _start_workers(
    script: Path, args: list[str], envs: list[dict[str, str]], cwds: list[Path]
) -> list[dict[str, object]]:
    """Start the workers, let them import, start them together, return their reports."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            *args,
            env=env,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for env, cwd in zip(envs, cwds, strict=True)
    ]
    for p in procs:
        assert p.stdout is not None
        assert (await asyncio.wait_for(p.stdout.readline(), 30)).strip() == b"ready"
    outs = await asyncio.wait_for(asyncio.gather(*(p.communicate(b"go\n") for p in procs)), 90)
    assert all(p.returncode == 0 for p in procs)
    return [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outs]


async def test_processes_with_different_data_dirs_sharing_a_key_never_collide(
    tmp_path: Path,
) -> None:
    # Issue 11 item 8: the per-key nonce state lived under DATA_DIR, so two krakenbot
    # processes with different DATA_DIRs (or started in different folders) kept two nonce
    # sequences for one key and Kraken refused the smaller nonces.
    n = 600  # the old layout collided on some calls (3 to 35 of 800 in trial runs)
    homes = [tmp_path / "one", tmp_path / "two"]
    async with sim_running() as sim:
        envs = []
        for home in homes:
            home.mkdir()
            envs.append(
                {
                    **{k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")},
                    "PYTHONPATH": str(SRC),
                    "KRAKENBOT_STATE_DIR": os.environ["KRAKENBOT_STATE_DIR"],  # the test's
                    "KRAKEN_API_KEY": sim.api_key,
                    "KRAKEN_API_SECRET": sim.api_secret,
                    "KRAKEN_REST_URL": sim.rest_url,
                    "DATA_DIR": str(home / "data"),
                }
            )
        reports = await _start_workers(WORKER, ["--app", str(n)], envs, homes)
    assert [r["errors"] for r in reports] == [[], []]
    assert [r["ok"] for r in reports] == [n, n]
    assert [r["invalid_nonce"] for r in reports] == [0, 0]


async def test_an_invalid_nonce_says_what_to_do(tmp_path: Path) -> None:
    now = time.time_ns()
    async with sim_running() as sim:
        # Another program on the same key, with its own nonce sequence, an hour ahead.
        async with client(sim, tmp_path / "other", ManualClock(start_ns=now + 3600 * 10**9)) as o:
            await o.balance()
        async with client(sim, tmp_path / "ours", ManualClock(start_ns=now)) as ours:
            with pytest.raises(InvalidNonceError) as refused:
                await ours.balance()
            assert ours.invalid_nonce_count == 2  # refused, retried once, refused again
    text = str(refused.value)
    assert "another program is using this API key" in text and "own API key" in text
    assert sim.api_key not in text


async def test_the_key_state_is_per_user_and_an_old_high_water_mark_is_carried_over(
    tmp_path: Path, krakenbot_state_dir: Path
) -> None:
    settings = load_settings().model_copy(update={"data_dir": tmp_path / "data"})
    shared = key_states(settings, RunMode("live", live_path=True))
    assert shared == krakenbot_state_dir / "kraken-keys"  # not under DATA_DIR
    sim_only = key_states(settings, RunMode("sim", live_path=True))
    assert sim_only == tmp_path / "data" / "kraken-keys"  # a throwaway key: its own folder
    old = KeyStateStore(tmp_path / "data" / "kraken-keys", "key-1")  # an older version's
    (await old.acquire()).nonce_high_water = 2**62
    old.save()
    old.close()
    creds = Credentials(api_key=Secret("key-1"), api_secret=Secret("c2VjcmV0"))
    await check_nonce_state(shared, creds, carry_over_from=tmp_path / "data")
    new = KeyStateStore(shared, "key-1")
    assert (await new.acquire()).nonce_high_water == 2**62
    new.close()


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

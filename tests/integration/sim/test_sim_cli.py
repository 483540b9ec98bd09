"""`python -m krakenbot sim` prints one JSON line when ready and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import aiohttp


async def test_sim_command_serves_and_stops() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "krakenbot",
        "sim",
        "--pairs",
        "XLM/USD",
        "--feed",
        "replay",
        "--speed",
        "60",
        "--balance",
        "USD=50,XLM=10",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(15):
            line = await proc.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"rest_url", "ws_url", "ws_auth_url", "api_key", "api_secret"}
        assert info["rest_url"].startswith("http://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as s,
            s.get(
                info["rest_url"] + "/0/public/AssetPairs", timeout=aiohttp.ClientTimeout(total=5)
            ) as resp,
        ):
            assert list((await resp.json())["result"]) == ["XXLMZUSD"]
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _refused(*args: str) -> tuple[int | None, bytes, bytes]:
    """`krakenbot sim ARGS` run to its end (it must refuse to start)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "krakenbot",
        "sim",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(30):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode, out, err


async def test_sim_command_refuses_remote_bind_without_flag() -> None:
    code, _, err = await _refused("--host", "0.0.0.0")
    assert code == 2 and b"allow_remote" in err


async def test_sim_command_refuses_a_nan_balance_with_status_2_and_no_traceback() -> None:
    code, out, err = await _refused("--balance", "USD=NaN")
    assert code == 2
    assert b"--balance" in err and b"Traceback" not in err and out == b""

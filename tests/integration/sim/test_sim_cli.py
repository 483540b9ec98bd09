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


async def test_sim_command_refuses_remote_bind_without_flag() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "krakenbot",
        "sim",
        "--host",
        "0.0.0.0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(15):
        _, err = await proc.communicate()
    assert proc.returncode == 2 and b"allow_remote" in err

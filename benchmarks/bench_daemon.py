"""Daemon benchmark: start-up to first verified book, stop to all-cancelled and gone, RSS/CPU.

Runs the real `python -m krakenbot run --live` process against the loopback simulator (served
by this script; never Kraken), with the end-to-end tests' resting-order strategy so there are
orders to cancel. Prints:
  * start-up: process spawn -> /health reports a verified book with market data;
  * stop: `POST /stop` -> every order cancelled on the exchange -> process gone;
  * RSS and CPU% of the daemon over `--seconds` (default 60) of normal feed.
Usage: python benchmarks/bench_daemon.py [--seconds 60] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

from krakenbot.app.runtime_files import TOKEN_HEADER, read_runtime, read_token
from krakenbot.sim import Sim, SimConfig, running_sim

ROOT = Path(__file__).resolve().parents[1]
STRATEGY_DIR = ROOT / "tests" / "e2e"
CLOSED = ("closed", "canceled", "expired")


def _env(home: Path, sim: Sim) -> dict[str, str]:
    data = home / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "TRADING_"))}
    env.update(
        {
            "TRADING_MODE": "live",
            "KRAKEN_API_KEY": sim.api_key,
            "KRAKEN_API_SECRET": sim.api_secret,
            "KRAKEN_REST_URL": sim.rest_url,
            "KRAKEN_WS_URL": sim.ws_url,
            "KRAKEN_WS_AUTH_URL": sim.ws_auth_url,
            "KRAKEN_API_TIER": "pro",
            "DATA_DIR": str(data),
            "DATABASE_PATH": str(data / "trading.db"),
            "LOG_FILE": str(data / "krakenbot.log"),
            "LOCK_FILE": str(data / ".trading_lock"),
            # The registry and the throwaway key's nonce state stay in the benchmark's folder.
            "KRAKENBOT_STATE_DIR": str(home / "state"),
            "HEALTH_PORT": "0",
            "LOG_CONSOLE": "false",
            "STRATEGY": "e2e_strategy:Ladder",
            "E2E_OFFSET_PCT": "1",
            "PYTHONPATH": os.pathsep.join([str(STRATEGY_DIR), os.environ.get("PYTHONPATH", "")]),
        }
    )
    return env


async def _health(home: Path, session: aiohttp.ClientSession) -> dict[str, object] | None:
    info = read_runtime(home / "data")
    if info is None:
        return None
    try:
        async with session.get(f"{info.health_url}/health") as response:
            doc = await response.json()
    except (aiohttp.ClientError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


async def _until(check, timeout_s: float) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return time.perf_counter() - start
        await asyncio.sleep(0.01)
    raise TimeoutError("benchmark condition not reached")


def _open(sim: Sim) -> int:
    return sum(1 for o in sim.control.orders() if o["status"] not in CLOSED)


async def one_run(sim: Sim, home: Path, seconds: float, measure_load: bool) -> dict[str, float]:
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "krakenbot",
        "run",
        "--live",
        cwd=home,
        env=_env(home, sim),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out: dict[str, float] = {}
    try:
        async with aiohttp.ClientSession() as session:

            async def verified() -> bool:
                doc = await _health(home, session)
                return bool(
                    doc and doc.get("book_verified") and doc.get("market_data_age_s") is not None
                )

            await _until(verified, 60)
            out["startup_s"] = time.perf_counter() - t0
            await _until(lambda: _open(sim) > 0, 30)
            if measure_load:
                p = psutil.Process(proc.pid)
                p.cpu_percent(None)
                rss: list[float] = []
                end = time.perf_counter() + seconds
                while time.perf_counter() < end:
                    await asyncio.sleep(1.0)
                    rss.append(p.memory_info().rss / 2**20)
                out["cpu_pct"] = p.cpu_percent(None)
                out["rss_mb_max"] = max(rss)
                out["rss_mb_mean"] = statistics.fmean(rss)
            info = read_runtime(home / "data")
            token = read_token(home / "data")
            assert info is not None and token is not None
            t1 = time.perf_counter()
            async with session.post(f"{info.health_url}/stop", headers={TOKEN_HEADER: token}):
                pass
            out["stop_to_cancelled_s"] = await _until(lambda: _open(sim) == 0, 30)
            await asyncio.wait_for(proc.wait(), 30)
            out["stop_to_gone_s"] = time.perf_counter() - t1
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="load measurement window")
    parser.add_argument("--runs", type=int, default=3, help="start/stop repetitions")
    parser.add_argument(
        "--pause",
        type=float,
        default=20.0,
        help="seconds between runs (Kraken's REST counter decays)",
    )
    args = parser.parse_args()
    cfg = SimConfig(pairs=("XLM/USD",), feed="replay", speed=1.0, tier="pro")
    results: list[dict[str, float]] = []
    # One data directory for every run, as on a real machine: the key's nonce and rate-limit
    # state persists between restarts (a fresh one would not know Kraken's counter), and each
    # start reconciles the previous run's orders.
    home = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    async with running_sim(cfg) as sim:
        for i in range(args.runs):
            if i:
                # Back-to-back restarts would measure the REST rate limit (every start
                # reconciles with private calls), not the daemon.
                await asyncio.sleep(args.pause)
            results.append(await one_run(sim, home, args.seconds, measure_load=(i == 0)))

    def stat(key: str) -> str:
        values = [r[key] for r in results if key in r]
        lo, hi, mid = min(values) * 1e3, max(values) * 1e3, statistics.median(values) * 1e3
        return f"median {mid:7.0f} ms  (min {lo:.0f}, max {hi:.0f}, n={len(values)})"

    print(f"krakenbot daemon benchmark (loopback simulator, replay feed 1x, tier pro, {home})")
    print(f"  start-up to first verified book      {stat('startup_s')}")
    print(f"  stop request to all orders cancelled {stat('stop_to_cancelled_s')}")
    print(f"  stop request to process gone         {stat('stop_to_gone_s')}")
    load = results[0]
    print(
        f"  over {args.seconds:.0f} s of normal feed: CPU {load['cpu_pct']:.1f} % of one core, "
        f"RSS mean {load['rss_mb_mean']:.1f} MiB, max {load['rss_mb_max']:.1f} MiB"
    )


if __name__ == "__main__":
    asyncio.run(main())

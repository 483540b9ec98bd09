"""Soak: `run --sim` at high market speed for a long time; RSS, open files and tasks stay flat.

The daemon runs with its embedded simulator replaying the bundled market `speed` times faster
than real time (the default strategy, its clocks compressed likewise, trades all along).
Every `period_s` the scenario reads the process's resident memory and open file descriptors
(psutil) and the daemon's asyncio task count (`asyncio_tasks` in /health). The verdict
(verdict.py) ignores the warm-up and compares the medians of the first and last fifth of the
readings with the stated bounds. The run must also end as it should: exit 0 at `--duration`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from benchmarks.chaos.outcome import Outcome
from benchmarks.chaos.simproc import spawn
from benchmarks.chaos.verdict import Bounds, Sample, soak_verdict


@dataclass(frozen=True, slots=True)
class SoakConfig:
    seconds: float
    speed: float = 3000.0
    period_s: float = 2.0
    warmup_s: float = 30.0
    bounds: Bounds = field(default_factory=Bounds)


async def _tasks(http: aiohttp.ClientSession, data_dir: Path) -> int | None:
    try:
        info = json.loads((data_dir / "daemon.json").read_text(encoding="utf-8"))
        async with http.get(str(info["health_url"]) + "/health") as resp:
            doc = await resp.json(content_type=None)
        return int(doc["asyncio_tasks"])
    except (OSError, ValueError, KeyError, TypeError, aiohttp.ClientError, TimeoutError):
        return None


async def run_soak(cfg: SoakConfig, workdir: Path) -> Outcome:
    home = workdir / "soak"
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN", "TRADING_"))}
    env.update(
        {
            "DATA_DIR": str(home / "data"),
            "KRAKENBOT_STATE_DIR": str(home / "state"),
            "LOG_CONSOLE": "false",
            "HEALTH_PORT": "0",
        }
    )
    proc = await spawn(
        sys.executable,
        "-m",
        "krakenbot",
        "run",
        "--sim",
        "--sim-speed",
        f"{cfg.speed:g}",
        "--duration",
        f"{cfg.seconds:g}",
        cwd=home,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    watched = psutil.Process(proc.pid)
    samples: list[Sample] = []
    missing_tasks = 0
    began = time.monotonic()
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    try:
        while proc.returncode is None:
            try:
                async with asyncio.timeout(cfg.period_s):
                    await proc.wait()
                break
            except TimeoutError:
                pass
            if time.monotonic() - began > cfg.seconds - cfg.period_s:
                continue  # the stop at --duration is near: not a steady-state reading
            tasks = await _tasks(http, home / "data" / "sim")
            try:
                rss, fds = watched.memory_info().rss, watched.num_fds()
            except psutil.Error:
                break
            if tasks is None:
                missing_tasks += 1
                continue
            samples.append(Sample(time.monotonic() - began, rss, fds, tasks))
        async with asyncio.timeout(60):
            out, err = await proc.communicate()
    finally:
        await http.close()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    verdict = soak_verdict(samples, warmup_s=cfg.warmup_s, bounds=cfg.bounds)
    problems = [] if verdict.flat else [f"not flat: {verdict.describe()}"]
    if proc.returncode != 0:
        said = [ln.strip() for ln in out.decode().splitlines() if "exit status" in ln]
        problems.append(
            f"run --sim exited {proc.returncode} at --duration, not 0: "
            + "; ".join([*said, err.decode()[-600:].strip()])
        )
    trades = next(
        (
            line.split("round trips", 1)[1].strip()
            for line in out.decode().splitlines()
            if "round trips" in line
        ),
        "?",
    )
    summary = (
        f"soak: {cfg.seconds:g} s of run --sim at --sim-speed {cfg.speed:g} (round trips: "
        f"{trades}), {len(samples)} readings, warm-up {cfg.warmup_s:g} s: {verdict.describe()}: "
        + ("flat" if verdict.flat else "NOT flat")
    )
    return Outcome(
        "soak",
        ok=not problems,
        summary=summary,
        problems=problems,
        figures={
            "seconds": cfg.seconds,
            "speed": cfg.speed,
            "readings": len(samples),
            "unanswered_health": missing_tasks,
            "growth": {g.metric: g.growth for g in verdict.growths},
            "bounds": {"rss": cfg.bounds.rss, "fds": cfg.bounds.fds, "tasks": cfg.bounds.tasks},
            "flat": verdict.flat,
            "samples": [[round(s.t_s, 1), s.rss, s.fds, s.tasks] for s in samples],
        },
    )

"""Nonce storm: several processes share one API key, each with its own DATA_DIR and folder.

Kraken keeps one nonce sequence per key and refuses a nonce not above the last one it saw
(`EAPI:Invalid nonce`). krakenbot's processes of one user must never collide, whatever
their DATA_DIR or working directory (issue 11 item 8). Each process (nonce_worker.py) makes
its share of the signed calls with the client the application builds; the figure is the
number of `EAPI:Invalid nonce` answers they got (each counted by the client, retries too),
which must be 0, and every call must succeed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.chaos.daemonproc import ROOT
from benchmarks.chaos.outcome import Outcome
from benchmarks.chaos.simproc import SimProcess, spawn


@dataclass(frozen=True, slots=True)
class NonceConfig:
    calls: int  # in total
    processes: int = 3


def _env(sim: SimProcess, home: Path, state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN")}
    env.update(
        {
            "KRAKEN_API_KEY": sim.api_key,
            "KRAKEN_API_SECRET": sim.api_secret,
            "KRAKEN_REST_URL": sim.rest_url,
            "KRAKEN_API_TIER": "pro",
            "KRAKENBOT_STATE_DIR": str(state_dir),  # one user: one per-user state folder
            "DATA_DIR": str(home / "data"),
            "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
        }
    )
    return env


async def run_nonce(cfg: NonceConfig, workdir: Path) -> Outcome:
    share = -(-cfg.calls // cfg.processes)
    sim = await SimProcess.start()
    procs: list[asyncio.subprocess.Process] = []
    try:
        for i in range(cfg.processes):
            home = workdir / f"nonce-{i}"
            home.mkdir(parents=True)
            procs.append(
                await spawn(
                    sys.executable,
                    "-m",
                    "benchmarks.chaos.nonce_worker",
                    str(share),
                    cwd=home,
                    env=_env(sim, home, workdir / "nonce-state"),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        for p in procs:
            assert p.stdout is not None
            async with asyncio.timeout(60):
                line = await p.stdout.readline()
            if line.strip() != b"ready":
                raise RuntimeError(f"a nonce worker did not start: {line!r}")
        began = time.monotonic()
        async with asyncio.timeout(600):
            outs = await asyncio.gather(*(p.communicate(b"go\n") for p in procs))
        seconds = time.monotonic() - began
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
        await sim.stop()
    reports = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outs]
    calls = sum(int(r["ok"]) + int(r["errors"]) for r in reports)
    invalid = sum(int(r["invalid_nonce"]) for r in reports)
    errors = sum(int(r["errors"]) for r in reports)
    problems = [str(e) for r in reports for e in r["examples"]]
    if invalid:
        problems.insert(0, f"{invalid} EAPI:Invalid nonce answers")
    return Outcome(
        "nonce",
        ok=invalid == 0 and errors == 0 and calls >= cfg.calls,
        summary=(
            f"nonce: {cfg.processes} processes on one key (separate DATA_DIRs and folders), "
            f"{calls:,} signed calls in {seconds:.0f} s, {invalid} invalid nonces, "
            f"{errors} failed calls"
        ),
        problems=problems,
        figures={
            "processes": cfg.processes,
            "calls": calls,
            "invalid_nonces": invalid,
            "failed_calls": errors,
            "seconds": round(seconds, 1),
        },
    )

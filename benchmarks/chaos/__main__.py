"""`python -m benchmarks.chaos [--profile short|long] [--only NAME] [--json] [--seed N]`

Runs the chaos suite from the repository root (README: "Chaos suite") and prints one summary
line of figures per scenario, then what failed; exits 1 when any check failed, 0 otherwise.
The short profile is what .ci/run runs (about 3 minutes on two cores); the long one is for
releases (about 35 minutes). Each scenario uses its own simulator process, data folders and
per-user state folder under one temporary directory (kept, and named, when a check fails).
POSIX only (kill -9, mounts, file attributes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchmarks.chaos.crash import run_crash
from benchmarks.chaos.fuzz import run_fuzz
from benchmarks.chaos.ledger import run_ledger
from benchmarks.chaos.network import run_network
from benchmarks.chaos.nonce import run_nonce
from benchmarks.chaos.outcome import Outcome
from benchmarks.chaos.profiles import PROFILES, Profile
from benchmarks.chaos.simproc import reap
from benchmarks.chaos.soak import run_soak

SCENARIOS = ("crash", "nonce", "fuzz", "ledger", "network", "soak")
_SHOWN_PROBLEMS = 25
Runner = Callable[[Profile, Path], Awaitable[Outcome]]


async def _fuzz(p: Profile, _: Path) -> Outcome:
    result = await asyncio.to_thread(run_fuzz, p.fuzz)
    return Outcome(
        "fuzz",
        ok=result.ok,
        summary=result.summary(),
        problems=result.problems(),
        figures={
            "mutations": result.total,
            "ws_frames": result.ws,
            "rest_bodies": result.rest,
            "undeclared": sum(result.undeclared.values()),
            "undeclared_by_kind": dict(result.undeclared),
            "hangs": result.hangs,
            "slow": result.slow,
            "slowest_cpu_s": round(result.slowest_s, 4),
            "slowest": result.slowest,
            "seconds": round(result.seconds, 1),
        },
    )


RUNNERS: dict[str, Runner] = {
    "crash": lambda p, d: run_crash(p.crash, d),
    "nonce": lambda p, d: run_nonce(p.nonce, d),
    "fuzz": _fuzz,
    "ledger": lambda p, d: run_ledger(p.ledger, d),
    "network": lambda p, d: run_network(p.network, d),
    "soak": lambda p, d: run_soak(p.soak, d),
}


async def _guarded(name: str, profile: Profile, workdir: Path, report: bool) -> Outcome:
    try:
        outcome = await RUNNERS[name](profile, workdir)
    except Exception as exc:  # a harness failure is a failed scenario, never a silent pass
        outcome = Outcome(name, ok=False, summary=f"{name}: did not run to the end: {exc!r}")
    if report:
        print(outcome.line(), file=sys.stderr if profile.json else sys.stdout, flush=True)
    return outcome


async def _interruptible(profile: Profile, only: tuple[str, ...], workdir: Path) -> list[Outcome]:
    """`run`, cancelled by SIGTERM as by Ctrl+C; either way no process of ours survives."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await run(profile, only, workdir)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        reap()


async def run(profile: Profile, only: tuple[str, ...], workdir: Path) -> list[Outcome]:
    """The profile's plan: the soak in the background, the phases in order, the scenarios of
    a phase side by side; `only` restricts it (run one after the other)."""
    if only:
        return [await _guarded(name, profile, workdir, True) for name in only]
    soak = asyncio.ensure_future(_guarded("soak", profile, workdir, True))
    outcomes: list[Outcome] = []
    for phase in profile.phases:
        outcomes += await asyncio.gather(*(_guarded(n, profile, workdir, True) for n in phase))
    outcomes.append(await soak)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="short")
    parser.add_argument("--only", action="append", choices=SCENARIOS, default=[])
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile](seed=args.seed, json=args.json)
    workdir = Path(tempfile.mkdtemp(prefix="krakenbot-chaos-"))
    began = time.monotonic()
    try:
        outcomes = asyncio.run(_interruptible(profile, tuple(args.only), workdir))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(f"chaos: interrupted; working directory kept: {workdir}", file=sys.stderr)
        return 130
    ok = all(o.ok for o in outcomes)
    seconds = time.monotonic() - began
    out = sys.stderr if args.json else sys.stdout
    for o in outcomes:
        if not o.ok:
            print(f"{o.name} failed:", file=out)
            for problem in o.problems[:_SHOWN_PROBLEMS]:
                print("  " + problem.strip().replace("\n", "\n    "), file=out)
    verdict = "every check passed" if ok else "CHECKS FAILED"
    print(
        f"chaos ({args.profile} profile, seed {args.seed}): {verdict} in {seconds:.0f} s", file=out
    )
    if args.json:
        doc = {
            "profile": args.profile,
            "seed": args.seed,
            "ok": ok,
            "seconds": round(seconds, 1),
            "scenarios": [o.to_json() for o in outcomes],
        }
        print(json.dumps(doc, indent=1))
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"working directory kept: {workdir}", file=out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

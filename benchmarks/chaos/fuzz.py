"""Fuzz: mutated recorded WebSocket frames and REST bodies through every decoder, on all cores.

Owns: the worker processes (one per core; each under a memory cap, `resource.setrlimit`
RLIMIT_AS) and their watchdog. Input n is rebuilt from (seed, n) alone (mutate.nth_input), so
a worker only publishes the number of the input it is on, in shared memory; the parent
kills a worker stuck on one input longer than `hang_s` of wall time — a call into C code
(a huge `int(Decimal)`) cannot be interrupted by a signal handler, only by killing the
process — records that input and starts a new worker after it. Even inputs are WebSocket
frames, odd ones REST bodies. Findings: an undeclared exception (fuzz_targets), an input
that took more than `slow_s` of CPU, a hang.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from benchmarks.chaos.fuzz_targets import Corpus, Reader, load_corpus, run_rest, run_ws
from benchmarks.chaos.mutate import nth_input

MIB = 1024 * 1024
_EXAMPLES = 12


@dataclass(frozen=True, slots=True)
class FuzzConfig:
    total: int
    seed: int = 1
    workers: int = max(1, os.cpu_count() or 1)
    mem_mb: int = 1024
    slow_s: float = 0.5  # CPU seconds one input may take
    hang_s: float = 30.0  # wall seconds before a worker is deemed stuck and killed


@dataclass(slots=True)
class FuzzResult:
    total: int = 0
    ws: int = 0
    rest: int = 0
    undeclared: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    slow: int = 0
    hangs: int = 0
    slowest_s: float = 0.0
    slowest: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.undeclared and not self.slow and not self.hangs

    def summary(self) -> str:
        return (
            f"fuzz: {self.total:,} mutations ({self.ws:,} WebSocket frames, {self.rest:,} REST "
            f"bodies) in {self.seconds:.0f} s, {sum(self.undeclared.values())} undeclared "
            f"exceptions, {self.hangs} hangs, {self.slow} slower than the bound, slowest "
            f"{self.slowest_s * 1000:.1f} ms CPU ({self.slowest})"
        )

    def problems(self) -> list[str]:
        return [f"{k}: {n}" for k, n in self.undeclared.most_common()] + self.examples


def describe_input(corpus: Corpus, seed: int, n: int) -> str:
    if n % 2 == 0:
        which, text = nth_input(corpus.ws, seed, n)
        return f"input {n} (WS frame from corpus #{which}): {text[:160]!r}"
    bodies = [body for _, body in corpus.rest]
    which, text = nth_input(bodies, seed, n)
    return f"input {n} (REST {corpus.rest[which][0]} body): {text[:160]!r}"


def _worker(
    start: int,
    stop: int,
    cfg: FuzzConfig,
    corpus: Corpus,
    current: Synchronized[int],
    out: Connection,
) -> None:
    logging.disable(logging.CRITICAL)  # the session logs every refused frame
    cap = cfg.mem_mb * MIB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    reader = Reader()
    bodies = [body for _, body in corpus.rest]
    slowest = (0.0, -1)
    for n in range(start, stop):
        current.value = n
        t0 = time.process_time()
        if n % 2 == 0:
            _, text = nth_input(corpus.ws, cfg.seed, n)
            finding = run_ws(text, reader)
        else:
            which, text = nth_input(bodies, cfg.seed, n)
            finding = run_rest(text, corpus.rest[which][0])
        used = time.process_time() - t0
        if used > slowest[0]:
            slowest = (used, n)
        if finding is not None:
            out.send(("finding", n, finding))
        if used > cfg.slow_s:
            out.send(("slow", n, used))
    current.value = stop
    out.send(("done", slowest[1], slowest[0]))


@dataclass(slots=True)
class _Running:
    proc: mp.process.BaseProcess
    conn: Connection
    current: Synchronized[int]
    stop: int
    last_n: int = -1
    since: float = field(default_factory=time.monotonic)


def run_fuzz(cfg: FuzzConfig, corpus: Corpus | None = None) -> FuzzResult:
    corpus = corpus or load_corpus()
    ctx = mp.get_context("fork")
    result = FuzzResult(total=cfg.total, ws=(cfg.total + 1) // 2, rest=cfg.total // 2)
    began = time.monotonic()
    chunk = -(-cfg.total // cfg.workers)
    pending = [(s, min(cfg.total, s + chunk)) for s in range(0, cfg.total, chunk)]

    def launch(start: int, stop: int) -> _Running:
        current: Synchronized[int] = ctx.Value("q", start, lock=False)
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(start, stop, cfg, corpus, current, child))
        proc.start()
        child.close()
        return _Running(proc, parent, current, stop)

    running = [launch(s, e) for s, e in pending]
    slowest: tuple[float, int] = (0.0, -1)
    while running:
        time.sleep(0.2)
        for r in list(running):
            done = _drain(r, result, corpus, cfg)
            if done is not None:
                slowest = max(slowest, done)
            n = r.current.value
            if n != r.last_n:
                r.last_n, r.since = n, time.monotonic()
            alive = r.proc.is_alive()
            if alive and time.monotonic() - r.since > cfg.hang_s:
                r.proc.kill()
                r.proc.join()
                _drain(r, result, corpus, cfg)
                result.hangs += 1
                _example(result, f"hang > {cfg.hang_s:g} s: " + describe_input(corpus, cfg.seed, n))
                running.remove(r)
                if n + 1 < r.stop:
                    running.append(launch(n + 1, r.stop))
            elif not alive:
                r.proc.join()
                _drain(r, result, corpus, cfg)
                running.remove(r)
                if r.proc.exitcode != 0 and n < r.stop:  # died (e.g. the memory cap hit C code)
                    result.undeclared[f"worker died (exit {r.proc.exitcode})"] += 1
                    _example(result, "worker died on " + describe_input(corpus, cfg.seed, n))
                    if n + 1 < r.stop:
                        running.append(launch(n + 1, r.stop))
    result.seconds = time.monotonic() - began
    if slowest[1] >= 0:
        result.slowest_s = slowest[0]
        result.slowest = describe_input(corpus, cfg.seed, slowest[1])
    return result


def _example(result: FuzzResult, text: str) -> None:
    if len(result.examples) < _EXAMPLES:
        result.examples.append(text)


def _drain(
    r: _Running, result: FuzzResult, corpus: Corpus, cfg: FuzzConfig
) -> tuple[float, int] | None:
    done: tuple[float, int] | None = None
    try:
        while r.conn.poll():
            msg: tuple[Any, ...] = r.conn.recv()
            if msg[0] == "finding":
                _, n, (target, kind, text) = msg
                result.undeclared[f"{target} raised {kind}"] += 1
                _example(
                    result,
                    f"{target} raised {kind} ({text}) on " + describe_input(corpus, cfg.seed, n),
                )
            elif msg[0] == "slow":
                _, n, used = msg
                result.slow += 1
                _example(result, f"{used:.2f} s CPU on " + describe_input(corpus, cfg.seed, n))
            elif msg[0] == "done":
                done = (float(msg[2]), int(msg[1]))
    except (EOFError, OSError):
        pass
    return done

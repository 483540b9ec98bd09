"""Parameter sweeps: a grid of strategy parameters, each combination one backtest, across
processes, ranked.

Owns: `parse_axes` (`--sweep entry_z=1.5,2,2.5`), `grid` (every combination, in a fixed
order), `run_combination` (one combination: a pure function of its arguments — the spec, the
parameters, the tape, the span — returning the summary; picklable, so a process pool, or a
distributed engine, can call it), `run_sweep` (the grid over `jobs` processes: the tape is
handed to each worker once, results come back in the grid's order whatever `jobs` is) and
`ranked` (best total return first; ties by Sharpe, then grid order). Each combination writes
its ledger into memory (the same writes as a backtest's file; nothing is kept).

Beyond one machine: `run_combination` is all a worker needs. With Ray, put the tape in the
object store once (`ray.put(tape)`) and call `ray.remote(run_combination).remote(spec,
params, tape_ref, span)` for each combination; with Dask, `client.scatter(tape)` and
`client.map(run_combination, ...)`. The ranking is `ranked` on the gathered summaries.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from krakenbot.app.backtest.inputs import InputUsageError
from krakenbot.app.backtest.ledger import MemoryLedger
from krakenbot.app.backtest.run import BacktestSpec, run_spec
from krakenbot.backtest.loop import StrategyError
from krakenbot.backtest.result import iso, summary
from krakenbot.backtest.tape import Tape


@dataclass(frozen=True, slots=True)
class Axis:
    name: str
    values: tuple[str, ...]


def parse_axes(items: Sequence[str]) -> list[Axis]:
    axes: list[Axis] = []
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        chosen = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not name.isidentifier() or not chosen:
            raise InputUsageError(f"--sweep {item!r}: use name=value1,value2,…")
        if any(a.name == name for a in axes):
            raise InputUsageError(f"--sweep {name}: given twice")
        axes.append(Axis(name, tuple(dict.fromkeys(chosen))))
    return axes


def grid(axes: Sequence[Axis]) -> list[dict[str, str]]:
    """Every combination, the last axis varying fastest."""
    names = [a.name for a in axes]
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]


def run_combination(
    spec: BacktestSpec, params: Mapping[str, str], tape: Tape, span: tuple[int, int]
) -> dict[str, Any]:
    """One combination's summary (or the error that stopped it)."""
    chosen = spec.with_params(params)
    try:
        outcome = run_spec(chosen, tape, span, MemoryLedger(span[0]))
    except StrategyError as exc:
        return {"error": f"{iso(exc.at_ns)} {exc.symbol}: {exc}"}
    return summary(outcome, chosen.limits.max_trade_usd)


_WORKER: tuple[BacktestSpec, Tape, tuple[int, int]] | None = None


def _start_worker(spec: BacktestSpec, tape: Tape, span: tuple[int, int]) -> None:
    global _WORKER  # noqa: PLW0603 - one worker process, one tape: set once at its start
    _WORKER = (spec, tape, span)


def _in_worker(index: int, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    assert _WORKER is not None
    spec, tape, span = _WORKER
    return index, run_combination(spec, params, tape, span)


def run_sweep(
    spec: BacktestSpec,
    tape: Tape,
    span: tuple[int, int],
    combos: Sequence[dict[str, str]],
    *,
    jobs: int,
    progress: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Every combination's row ({"params", "summary"}), in `combos` order."""
    results: dict[int, dict[str, Any]] = {}
    if jobs <= 1 or len(combos) <= 1:
        for i, params in enumerate(combos):
            results[i] = run_combination(spec, params, tape, span)
            if progress is not None:
                progress()
    else:
        workers = min(jobs, len(combos))
        with ProcessPoolExecutor(
            workers, initializer=_start_worker, initargs=(spec, tape, span)
        ) as pool:
            futures = [pool.submit(_in_worker, i, p) for i, p in enumerate(combos)]
            for done in as_completed(futures):
                i, row = done.result()
                results[i] = row
                if progress is not None:
                    progress()
    return [{"params": dict(combos[i]), "result": results[i]} for i in range(len(combos))]


def _key(item: tuple[int, dict[str, Any]]) -> tuple[int, float, float, int]:
    index, row = item
    s = row["result"]
    if "error" in s:
        return (2, 0.0, 0.0, index)
    ret = s.get("total_return")
    sharpe = s.get("sharpe")
    return (
        0 if ret is not None else 1,
        -float(ret) if ret is not None else 0.0,
        -sharpe if sharpe is not None else float("inf"),
        index,
    )


def ranked(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best total return first (ties: higher Sharpe, then grid order); failed ones last."""
    order = sorted(enumerate(rows), key=_key)
    return [{"rank": n, **row} for n, (_, row) in enumerate(order, start=1)]


def default_jobs() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


__all__ = ["Axis", "default_jobs", "grid", "parse_axes", "ranked", "run_combination", "run_sweep"]

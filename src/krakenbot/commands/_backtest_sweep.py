"""`krakenbot backtest --sweep NAME=V1,V2 …`: the grid of parameters, one backtest each,
across processes (`--jobs`, default every core), one progress bar, a ranked table and
sweep.json in `--out`. Not a command of its own (the leading underscore keeps cli.py from
loading it): commands/backtest.py hands over when `--sweep` is given. The work is
app/backtest/sweep.py. Exit status: 0, 1 when a combination's strategy raised (sweep.json
still lists every combination, the failed ones with their error), 2 usage (a bad `--sweep`,
a combination whose parameters do not load).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from krakenbot.app.backtest.output import OutputError, discard, prepare, publish, write_json
from krakenbot.app.backtest.run import BacktestSpec, describe
from krakenbot.app.backtest.sweep import default_jobs, grid, parse_axes, ranked, run_sweep
from krakenbot.app.backtest.terminal import pct
from krakenbot.backtest.tape import Tape
from krakenbot.commands._output import emit
from krakenbot.errors import ConfigError
from krakenbot.strategy.loader import load_strategies

SWEEP = "sweep.json"
SHOWN = 20


def sweep(
    args: argparse.Namespace,
    spec: BacktestSpec,
    tape: Tape,
    span: tuple[int, int],
    *,
    data: Mapping[str, Any],
    out: Path,
) -> int:
    started = time.perf_counter()
    axes = parse_axes(args.sweep)  # InputUsageError: the caller exits 2
    combos = grid(axes)
    for params in combos:
        try:
            load_strategies(spec.strategy, dict(spec.with_params(params).params), spec.pairs)
        except ConfigError as exc:
            print(f"backtest --sweep: {params}: {exc}", file=sys.stderr)
            return 2
    try:
        work = prepare(out)
    except OutputError as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return 2
    jobs = args.jobs or default_jobs()
    bar = tqdm(total=len(combos), unit=" runs", desc="sweep", disable=args.json, file=sys.stderr)
    try:

        def step() -> None:
            bar.update(1)

        with bar:
            rows = run_sweep(spec, tape, span, combos, jobs=jobs, progress=step)
        doc: dict[str, Any] = {
            "format": 1,
            "run": describe(spec, data),
            "axes": {a.name: list(a.values) for a in axes},
            "combinations": len(combos),
            "results": ranked(rows),
        }
        write_json(work / SWEEP, doc)
        publish(work, out)
    except BaseException:
        discard(work)
        raise
    seconds = time.perf_counter() - started
    failed = [r for r in doc["results"] if "error" in r["result"]]
    if args.json:
        best = doc["results"][0]
        emit(
            json.dumps(
                {
                    "out": str(out),
                    "sweep": str(out / SWEEP),
                    "best": best,
                    "jobs": jobs,
                    "seconds": seconds,
                },
                sort_keys=True,
            )
        )
    else:
        _table(doc, out / SWEEP, jobs, seconds)
    for row in failed:
        print(f"backtest --sweep: {row['params']}: {row['result']['error']}", file=sys.stderr)
    return 1 if failed else 0


def _table(doc: Mapping[str, Any], path: Path, jobs: int, seconds: float) -> None:
    table = Table(title=f"sweep: {doc['combinations']} combinations, best first")
    for name in ("#", "parameters", "trips", "win rate", "return", "max DD", "Sharpe"):
        table.add_column(name, justify="left" if name == "parameters" else "right")
    for row in doc["results"][:SHOWN]:
        s = row["result"]
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        if "error" in s:
            table.add_row(str(row["rank"]), params, "failed", "", "", "", "")
            continue
        sharpe = "-" if s["sharpe"] is None else f"{s['sharpe']:.2f}"
        table.add_row(
            str(row["rank"]),
            params,
            str(s["trades"]),
            pct(s["win_rate"]),
            pct(s["total_return"]),
            pct(s["max_drawdown"]),
            sharpe,
        )
    console = Console(highlight=False)
    console.print(table)
    console.print(f"sweep    {path}")
    console.print(f"{jobs} processes, {seconds:.2f} s")


__all__ = ["SWEEP", "sweep"]

"""`krakenbot backtest --data RUN.jsonl` on a `run --record` recording: the parity replay.

Not a command of its own (the leading underscore keeps cli.py from loading it):
commands/backtest.py hands over when `--data` names such a recording. A fresh engine core,
built as the recorded daemon's was, replays every recorded input in order; each order,
cancel and amend it sends must be the daemon's (app/backtest/parity_run.py,
backtest/parity.py), and the exchange's answers — the simulator's fills as it made them —
are the recording's. Writes `result.json` (the verdict, the counts, the round trips), the
replay's own ledger (`ledger.db`, comparable with the run's) and `report.html` (the verdict,
price with our fills, equity and drawdown as the replayed engine saw its account, the round
trips) to `--out`. Exit status: 0 the
replay sent exactly what the run sent, 1 it diverged (what, where and when is named) or the
recording cannot be read, 2 an unusable `--out`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from krakenbot.app.backtest import html
from krakenbot.app.backtest.inputs import InputDataError
from krakenbot.app.backtest.ledger import ThrowawayLedger
from krakenbot.app.backtest.output import (
    LEDGER,
    REPORT,
    RESULT,
    OutputError,
    discard,
    prepare,
    publish,
    write_json,
)
from krakenbot.app.backtest.parity_run import load_run, replay_core
from krakenbot.backtest.charts import ChartSampler
from krakenbot.backtest.parity import ParityError, Replay
from krakenbot.backtest.result import trip_row
from krakenbot.commands._output import emit


def parity(args: argparse.Namespace, path: Path, out: Path) -> int:
    try:
        header, lines = load_run(path)
        core = replay_core(header, path)
    except InputDataError as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return 1
    try:
        work = prepare(out)
    except OutputError as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return 2
    ledger = ThrowawayLedger(work / LEDGER, core.started_ns)
    try:
        charts = ChartSampler(core)
        replay = Replay(core, ledger, charts)
        replay.run(lines)
        doc = _document(args, header, replay, len(lines))
        write_json(work / RESULT, doc)
        (work / REPORT).write_text(html.render_parity(charts.charts, doc), encoding="utf-8")
        ledger.close()
        publish(work, out)
    except ParityError as exc:
        ledger.close()
        discard(work)
        print(f"backtest: the replay diverged from the recorded run: {exc}", file=sys.stderr)
        return 1
    except BaseException:
        ledger.close()
        discard(work)
        raise
    files = {
        "result": str(out / RESULT),
        "ledger": str(out / LEDGER),
        "report": str(out / REPORT),
        "out": str(out),
    }
    if args.json:
        emit(json.dumps({**files, "parity": doc["parity"]}, sort_keys=True))
    else:
        p = doc["parity"]
        emit(
            f"parity: identical — {p['orders']} orders and {p['cancels_and_amends']} cancels "
            f"or amends as the run sent them, {p['fills']} fills, {p['inputs']} inputs replayed"
        )
        for name, where in files.items():
            emit(f"{name:<8} {where}")
    return 0


def _document(
    args: argparse.Namespace, header: dict[str, Any], replay: Replay, inputs: int
) -> dict[str, Any]:
    core = replay.core
    trips = core.portfolio.round_trips()
    return {
        "format": 1,
        "run": {
            "data": {"source": "run-recording", "path": args.data},
            "strategies": header["strategies"],
            "started_ns": header["started_ns"],
        },
        "parity": {
            "verdict": "identical",
            "orders": replay.orders,
            "cancels_and_amends": replay.cancels,
            "exchange_answers": replay.answers,
            "fills": core.counts.fills,
            "inputs": inputs,
        },
        "summary": {
            "trades": sum(t.closed_ns is not None for t in trips),
            "realized_pnl": str(core.portfolio.realized_total),
            "fees": str(core.portfolio.fees_total),
            "open_positions": {s: str(q) for s, q in sorted(core.portfolio.positions().items())},
        },
        "trades": [trip_row(t) for t in trips],
    }


__all__ = ["parity"]

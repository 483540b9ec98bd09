"""`krakenbot backtest`: the daemon's strategy, risk gate, order manager and portfolio, replayed
over recorded market data on a virtual clock, with a report a person can read.

Owns: the operator command — options and their checks (exit 2: a bad date, `--since` not
before `--until`, an unknown pair, a strategy or parameter that does not load, an unusable
`--out`), the market data (exit 1 when it is missing, unreadable or has gaps), the run with a
progress bar (tqdm on stderr; none with `--json`), and the outputs: result.json, the
throwaway ledger (ledger.db, read by `trades` / `orders` / `profit --db`), report.html, and
the summary on the terminal (`--json`: one JSON object instead). A strategy that raises
stops the run (exit 1) with the time, the pair and the place. Nothing of a failed run is
left where a result would be. The work itself: app/backtest/ and krakenbot/backtest/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from tqdm import tqdm

from krakenbot.app.backtest import html
from krakenbot.app.backtest.inputs import (
    InputDataError,
    InputUsageError,
    load_bundled,
    load_store,
    stored_pairs,
)
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
from krakenbot.app.backtest.parity_run import is_run_recording
from krakenbot.app.backtest.recording import load_recording
from krakenbot.app.backtest.run import BacktestSpec, describe, run_spec, spec_from_settings
from krakenbot.app.backtest.terminal import print_summary
from krakenbot.backtest.loop import StrategyError
from krakenbot.backtest.market import PriceError
from krakenbot.backtest.result import Outcome, document, iso
from krakenbot.backtest.tape import Tape, tape_size, tape_span
from krakenbot.commands._arg_types import balance_amount
from krakenbot.commands._backtest_parity import parity
from krakenbot.commands._backtest_sweep import sweep
from krakenbot.commands._output import emit
from krakenbot.config import load_settings
from krakenbot.domain.instrument import Instrument
from krakenbot.errors import ConfigError
from krakenbot.marketdata.ranges import WhenError, parse_when
from krakenbot.sim.replay import OHLC_FILE
from krakenbot.strategy.loader import load_strategies

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
INTERVALS = (1, 5, 15, 30, 60, 240, 1440)
BUNDLED = "bundled"


def _when(text: str) -> int:
    try:
        return parse_when(text)
    except WhenError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _latency(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of milliseconds") from None
    if not 0 <= value <= 60_000:
        raise argparse.ArgumentTypeError(f"{text!r}: between 0 and 60000 ms")
    return value


def _tick(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r}: between 1 and 86400 s")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="replay market data through the daemon's strategy, risk gate and order manager",
        description="Backtest the configured strategy on recorded market data, with the "
        "daemon's own engine on a virtual clock; writes result.json, a ledger and report.html.",
    )
    p.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="'bundled' (the simulator's real day), a recording (JSONL from `record`), or a "
        "market-data folder (default: DATA_DIR/market, from download-data)",
    )
    p.add_argument("--pairs", default=None, help="comma-separated pairs (default ALLOWED_PAIRS)")
    p.add_argument("--since", type=_when, default=None, help="start, UTC: YYYY-MM-DD[THH:MM]")
    p.add_argument("--until", type=_when, default=None, help="end (exclusive), UTC")
    p.add_argument("--kind", choices=("ohlc", "trades"), default="ohlc", help="store data kind")
    p.add_argument("--interval", type=int, choices=INTERVALS, default=1, help="candle minutes")
    p.add_argument("--strategy", default=None, help="default STRATEGY")
    p.add_argument("--params", default="", help="name=value,... on top of STRATEGY_PARAMS")
    p.add_argument("--fee-tier", type=int, default=0, help="Kraken spot fee tier 0-9 (0)")
    p.add_argument("--latency-ms", type=_latency, default=0.0, help="order latency (0)")
    p.add_argument("--cash", type=balance_amount, default=Decimal(1000), help="USD (1000)")
    p.add_argument("--seed", type=int, default=0, help="client order ids' seed (0)")
    p.add_argument(
        "--tick-s",
        type=_tick,
        default=60.0,
        help="market seconds between the engine's timer ticks (60; the daemon: 1)",
    )
    p.add_argument("--out", type=Path, default=None, help="output folder")
    p.add_argument("--data-dir", type=Path, default=None, help="instead of DATA_DIR")
    p.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="a strategy parameter's values to try (repeat for a grid); ranked in sweep.json",
    )
    p.add_argument("--jobs", type=int, default=None, help="sweep processes (default: all cores)")
    p.add_argument("--json", action="store_true", help="no progress bar; one JSON object")
    p.add_argument("--env-file", dest="bt_env_file", default=None, metavar="PATH")
    p.set_defaults(handler=run)


def _fail(status: int, message: str) -> int:
    print(f"backtest: {message}", file=sys.stderr)
    return status


def _pairs(args: argparse.Namespace, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if args.pairs is None:
        return allowed
    pairs = tuple(dict.fromkeys(p.strip().upper() for p in args.pairs.split(",") if p.strip()))
    if not pairs:
        raise InputUsageError("--pairs names no pair")
    return pairs


def _store_root(args: argparse.Namespace, data_dir: Path) -> Path | None:
    """The market-data folder the data comes from (None: the bundled day or a recording)."""
    if args.data is None:
        return data_dir / "market"
    return Path(args.data) if Path(args.data).is_dir() else None


def _stored(args: argparse.Namespace, data_dir: Path) -> dict[str, Instrument]:
    """The pairs' rules download-data recorded in that folder (marketdata/pairs.py)."""
    root = _store_root(args, data_dir)
    return stored_pairs(root) if root is not None else {}


def _tape(
    args: argparse.Namespace, instruments: Sequence[Instrument], data_dir: Path
) -> tuple[Tape, dict[str, Any]]:
    if args.data == BUNDLED:
        tape: Tape = load_bundled(instruments, args.since, args.until)
        return tape, {"source": BUNDLED, "kind": "ohlc-1m", "file": OHLC_FILE}
    if args.data is not None and Path(args.data).is_file():
        tape = load_recording(Path(args.data), instruments, args.since, args.until)
        return tape, {"source": "recording", "path": args.data}
    if args.data is not None and not Path(args.data).exists():
        raise InputUsageError(f"--data {args.data}: no such file or folder (or 'bundled')")
    root = _store_root(args, data_dir) or data_dir / "market"
    if args.since is None or args.until is None:
        raise InputUsageError("market-data folder: give --since and --until")
    tape = load_store(
        root, instruments, args.since, args.until, kind=args.kind, interval_min=args.interval
    )
    kind = "trades" if args.kind == "trades" else f"ohlc-{args.interval}m"
    return tape, {"source": "store", "path": str(root), "kind": kind}


def _default_out(
    data_dir: Path, spec: BacktestSpec, span: tuple[int, int], axes: list[str]
) -> Path:
    def stamp(ns: int) -> str:
        return iso(ns)[:16].replace("-", "").replace(":", "")

    pairs = "+".join(p.replace("/", "-") for p in spec.pairs)
    kind = "sweep_" if axes else ""
    name = f"{kind}{spec.strategy}_{pairs}_{stamp(span[0])}_{stamp(span[1])}"
    return data_dir / "backtests" / name


def run(args: argparse.Namespace) -> int:
    if args.data not in (None, BUNDLED) and is_run_recording(Path(args.data)):
        return _parity(args)
    if args.since is not None and args.until is not None and args.since >= args.until:
        return _fail(
            EXIT_USAGE, f"--since {iso(args.since)} is not before --until {iso(args.until)}"
        )
    started = time.perf_counter()
    try:
        settings = load_settings(args.bt_env_file or getattr(args, "env_file", None))
        pairs = _pairs(args, settings.allowed_pairs)
        data_dir = args.data_dir or Path(settings.data_dir)
        stored = _stored(args, data_dir)
        spec = spec_from_settings(
            settings,
            pairs,
            strategy=args.strategy,
            params=args.params,
            fee_tier_n=args.fee_tier,
            latency_ms=args.latency_ms,
            cash=args.cash,
            seed=args.seed,
            tick_s=args.tick_s,
            stored=stored,
        )
        load_strategies(spec.strategy, dict(spec.params), spec.pairs)  # refused here, not later
        tape, data = _tape(args, spec.instruments, data_dir)
    except (ConfigError, InputUsageError) as exc:
        return _fail(EXIT_USAGE, str(exc))
    except (InputDataError, PriceError) as exc:
        return _fail(EXIT_FAILED, str(exc))
    first, end = tape_span(tape)
    span = (args.since if args.since is not None else first, args.until or end)
    out = Path(os.path.abspath(args.out or _default_out(data_dir, spec, span, args.sweep)))
    if args.sweep:
        try:
            return sweep(args, spec, tape, span, data=data, out=out)
        except InputUsageError as exc:
            return _fail(EXIT_USAGE, str(exc))
    try:
        work = prepare(out)
    except OutputError as exc:
        return _fail(EXIT_USAGE, str(exc))
    loaded = time.perf_counter()
    try:
        doc, outcome, ran = _execute(args, spec, tape, span, data=data, work=work)
        reported = time.perf_counter()
        (work / REPORT).write_text(html.render(outcome, doc), encoding="utf-8")
        publish(work, out)
    except StrategyError as exc:
        discard(work)
        where = f" ({exc.where})" if exc.where else ""
        return _fail(
            EXIT_FAILED,
            f"the strategy (or the engine) raised at {iso(exc.at_ns)} on {exc.symbol or '-'}: "
            f"{exc}{where}; "
            "nothing was written",
        )
    except (OSError, PriceError) as exc:
        discard(work)
        return _fail(EXIT_FAILED, f"{exc}; nothing was written")
    except BaseException:
        discard(work)
        raise
    timings = {
        "load": loaded - started,
        "run": ran - loaded,
        "report": time.perf_counter() - reported,
    }
    files = {"result": str(out / RESULT), "ledger": str(out / LEDGER), "report": str(out / REPORT)}
    if args.json:
        emit(_json_line({**files, "out": str(out), "summary": doc["summary"], "seconds": timings}))
    else:
        print_summary(doc, files, timings)
    return EXIT_OK


def _parity(args: argparse.Namespace) -> int:
    """A `run --record` recording: replay it and check every send (_backtest_parity.py)."""
    path = Path(args.data)
    try:
        settings = load_settings(args.bt_env_file or getattr(args, "env_file", None))
    except ConfigError as exc:
        return _fail(EXIT_USAGE, str(exc))
    data_dir = args.data_dir or Path(settings.data_dir)
    out = args.out or data_dir / "backtests" / f"parity_{path.stem}"
    return parity(args, path, Path(os.path.abspath(out)))


def _execute(
    args: argparse.Namespace,
    spec: BacktestSpec,
    tape: Tape,
    span: tuple[int, int],
    *,
    data: dict[str, Any],
    work: Path,
) -> tuple[dict[str, Any], Outcome, float]:
    ledger = ThrowawayLedger(work / LEDGER, span[0])
    bar = tqdm(
        total=tape_size(tape),
        unit=" items",
        desc="backtest",
        disable=args.json,
        file=sys.stderr,
        mininterval=0.5,
        dynamic_ncols=True,
    )
    try:
        ledger.record(
            "backtest", {"strategy": spec.strategy, "pairs": ",".join(spec.pairs)}, span[0]
        )
        with bar:
            done = [0]

            def progress(items: int) -> None:
                bar.update(items - done[0])
                done[0] = items

            outcome = run_spec(spec, tape, span, ledger, progress)
            bar.update(tape_size(tape) - done[0])
        ran = time.perf_counter()
        run_doc = describe(spec, data)
        doc = document(outcome, run_doc, spec.limits.max_trade_usd)
        write_json(work / RESULT, doc)
    finally:
        ledger.close()
    return doc, outcome, ran


def _json_line(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True)

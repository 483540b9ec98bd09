"""`krakenbot download-data`: Kraken's public trades or candles into `DATA_DIR/market/`.

Owns: the operator command — options, checking them (bad dates, `--since` not before
`--until`, an unknown pair: exit 2), the store folder and its lock (unwritable, or another
download writing it: exit 1), the progress bar (tqdm, on stderr, with rate and ETA; none with
`--json`) and the summary. Public data only: no keys are read or sent. Exit status: 0 done
(also when the exchange had nothing more to give), 1 failed (network, Kraken, files), 2 usage.
The fetching itself is marketdata/download.py; the files are marketdata/store.py; the pairs'
rules (from `AssetPairs`, for the backtest) marketdata/pairs.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from krakenbot.app.exchange_view import operator_client
from krakenbot.clock import SystemClock
from krakenbot.commands._output import emit
from krakenbot.config import load_settings
from krakenbot.domain.instrument import Instrument
from krakenbot.errors import ConfigError, KrakenbotError
from krakenbot.lock import InstanceLock, InstanceLockedError
from krakenbot.marketdata.download import Downloader, PairResult, Request, todo_ns
from krakenbot.marketdata.pairs import save_pairs
from krakenbot.marketdata.ranges import NS, WhenError, iso, parse_when
from krakenbot.marketdata.store import StoreError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Kraken's OHLC intervals whose candles tile a UTC day (the store keeps one file per day).
INTERVALS = (1, 5, 15, 30, 60, 240, 1440)
HOUR_NS = 3600 * NS


def _ignore(_ns: int) -> None:
    return None


class UsageError(Exception):
    """Bad input from the user: exit 2 with the message."""


def _when(text: str) -> int:
    try:
        return parse_when(text)
    except WhenError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "download-data",
        help="download Kraken public trades or candles into DATA_DIR/market (no keys)",
        description="Fetch Kraken's public REST Trades / OHLC history into DATA_DIR/market/ "
        "(Parquet, one file per pair and UTC day). Re-running fetches only what is missing.",
    )
    p.add_argument("--pairs", required=True, help="comma-separated pairs, e.g. XLM/USD,BTC/USD")
    p.add_argument("--since", required=True, type=_when, help="start, UTC: YYYY-MM-DD[THH:MM]")
    p.add_argument("--until", type=_when, default=None, help="end (exclusive), UTC; default now")
    p.add_argument("--kind", choices=("ohlc", "trades"), default="ohlc", help="default ohlc")
    p.add_argument(
        "--interval", type=int, choices=INTERVALS, default=1, help="candle minutes (ohlc)"
    )
    p.add_argument("--data-dir", type=Path, default=None, help="instead of DATA_DIR")
    p.add_argument("--json", action="store_true", help="no progress bar; one JSON summary")
    p.add_argument("--env-file", dest="dd_env_file", default=None, metavar="PATH")
    p.set_defaults(handler=run)


def _resolve(pairs: list[str], known: dict[str, Instrument]) -> list[Instrument]:
    names: dict[str, Instrument] = {}
    for inst in known.values():
        for name in (inst.symbol, inst.rest_id, inst.altname, inst.wsname):
            names[name.upper()] = inst
    out: list[Instrument] = []
    for pair in pairs:
        found = names.get(pair.upper())
        if found is None:
            raise UsageError(f"unknown pair {pair!r}: Kraken's AssetPairs has no such pair")
        if found not in out:
            out.append(found)
    return out


def _writable(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StoreError(f"cannot write market data to {root}: {exc.strerror or exc}") from exc


def _summary(args: argparse.Namespace, root: Path, results: list[PairResult]) -> dict[str, Any]:
    return {
        "kind": args.kind,
        "interval": args.interval if args.kind == "ohlc" else None,
        "since": iso(args.since),
        "until": iso(args.until),
        "store": str(root),
        "pairs": [
            {
                "pair": r.symbol,
                "dataset": r.dataset,
                "path": str(r.path),
                "rows_added": r.rows_added,
                "files_written": len(r.days_written),
                "not_covered": [[iso(a), iso(b)] for a, b in r.missing],
                "repaired": r.repaired,
            }
            for r in results
        ],
    }


def _print_human(doc: dict[str, Any]) -> None:
    for p in doc["pairs"]:
        line = f"{p['pair']}: {p['rows_added']} new rows, {p['files_written']} files → {p['path']}"
        emit(line)
        for a, b in p["not_covered"]:
            emit(f"  not available (yet): {a} → {b}")
        for note in p["repaired"]:
            emit(f"  repaired: {note}")


async def _download(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    settings = load_settings(args.dd_env_file or getattr(args, "env_file", None))
    async with operator_client(settings, None, clock=SystemClock(), read_retries=4) as client:
        wanted = [p.strip() for p in args.pairs.split(",") if p.strip()]
        if not wanted:
            raise UsageError("--pairs names no pair")
        instruments = _resolve(wanted, await client.asset_pairs())
        save_pairs(root, instruments)  # their rules, for the backtest (marketdata/pairs.py)
        now = (await client.server_time()).unixtime * NS
        args.until = min(args.until if args.until is not None else now, now)
        if args.since >= args.until:
            raise UsageError(f"--since {iso(args.since)} is not before {iso(args.until)} (or now)")
        loader = Downloader(client, root, _ignore)
        jobs = []
        total = 0
        for inst in instruments:
            req = Request(inst, args.kind, args.interval, args.since, args.until)
            ds, tds = loader.open(req)
            jobs.append((req, ds, tds))
            total += todo_ns(req, ds)
        bar = tqdm(
            total=round(total / HOUR_NS, 3),
            unit="h",
            desc="market hours",
            disable=args.json,
            file=sys.stderr,
            mininterval=0.5,
            dynamic_ncols=True,
        )
        with bar:

            def advance(ns: int) -> None:
                bar.update(ns / HOUR_NS)

            loader.advance = advance
            results = []
            for req, ds, tds in jobs:
                try:
                    results.append(await loader.run(req, ds, tds))
                except KrakenbotError as exc:
                    raise KrakenbotError(f"{req.instrument.symbol}: {exc}") from exc
    return _summary(args, root, results)


async def run(args: argparse.Namespace) -> int:
    if args.until is not None and args.since >= args.until:
        print(
            f"download-data: --since {iso(args.since)} is not before --until {iso(args.until)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        env_file = args.dd_env_file or getattr(args, "env_file", None)
        data_dir = args.data_dir or load_settings(env_file).data_dir
        root = Path(data_dir) / "market"
        _writable(root)
        with InstanceLock(root / ".download.lock"):
            doc = await _download(args, root)
    except (ConfigError, UsageError) as exc:
        print(f"download-data: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InstanceLockedError as exc:
        holder = f"PID {exc.pid}" if exc.pid else "another process"
        print(f"download-data: {holder} is already writing {root}", file=sys.stderr)
        return EXIT_FAILED
    except (StoreError, KrakenbotError, OSError) as exc:
        print(f"download-data: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        emit(json.dumps(doc))
    else:
        _print_human(doc)
    return EXIT_OK

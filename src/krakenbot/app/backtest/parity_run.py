"""A `run --record` recording, read back and replayed: `is_run_recording`, `load_run`,
`replay_core` (the engine core as the recorded daemon had it: its strategy instances with
their parameters, its risk limits, engine configuration, instruments and balances) and
`replay` (backtest/parity.py over that core, with a ledger of its own). Bad input (a line
that is not JSON or not a recorded value, a strategy whose parameters were not recorded) is
an `InputDataError` naming the file and line.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from krakenbot.app.backtest.inputs import InputDataError
from krakenbot.app.run_recorder import FORMAT, read_header
from krakenbot.backtest.loop import LedgerSink
from krakenbot.backtest.parity import Line, Replay
from krakenbot.backtest.record_codec import RecordError, decode
from krakenbot.domain.instrument import Instrument
from krakenbot.engine.core import EngineCore
from krakenbot.engine.inputs import LedgerLoaded
from krakenbot.errors import ConfigError
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits
from krakenbot.strategy.loader import load_strategy


def is_run_recording(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as fh:
            first = json.loads(fh.readline() or "null")
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(first, dict) and first.get("format") == FORMAT


def load_run(path: Path) -> tuple[dict[str, Any], list[Line]]:
    lines: list[Line] = []
    try:
        with path.open(encoding="utf-8") as fh:
            header = json.loads(fh.readline())
            for lineno, text in enumerate(fh, start=2):
                if not text.strip():
                    continue
                try:
                    doc = json.loads(text)
                    if "missing" in doc:
                        raise InputDataError(
                            f"{path}:{lineno}: the run could not record this input "
                            f"({doc['missing']}): it cannot be replayed exactly"
                        )
                    sent = "out" in doc
                    value = decode(doc["out"] if sent else doc["in"])
                    lines.append(Line(int(doc["n"]), int(doc["t"]), value, sent))
                except (ValueError, KeyError, TypeError, RecordError) as exc:
                    raise InputDataError(f"{path}:{lineno}: not a recorded line ({exc})") from None
    except OSError as exc:
        raise InputDataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return header, lines


def replay_core(header: dict[str, Any], path: Path) -> EngineCore:
    limits, engine = read_header(header)
    instruments: dict[str, Instrument] = {}
    for raw in header["instruments"]:
        inst = decode(raw)
        instruments[inst.symbol] = inst
    strategies = []
    for doc in header["strategies"]:
        if doc["params"] is None:
            raise InputDataError(
                f"{path}: the strategy {doc['name']!r} keeps its parameters in no `params` "
                "dataclass: the recording cannot rebuild it"
            )
        params = {k: str(v) for k, v in doc["params"].items()}
        try:
            strategies.append(load_strategy(doc["name"], params))
        except ConfigError as exc:
            raise InputDataError(f"{path}: {exc}") from None
    started = int(header["started_ns"])
    core = EngineCore(
        strategies=strategies,
        gate=RiskGate(limits),
        policy=BreakerPolicy(BreakerLimits()),
        instruments=instruments,
        rng=random.Random(0),
        balances={a: Decimal(v) for a, v in header["balances"].items()},
        config=engine,
        started_ns=started,
    )
    core.handle(LedgerLoaded((), (), None, None, started), started)
    return core


def replay(path: Path, ledger: LedgerSink) -> tuple[Replay, list[Line]]:
    header, lines = load_run(path)
    core = replay_core(header, path)
    rerun = Replay(core, ledger)
    rerun.run(lines)
    return rerun, lines


__all__ = ["is_run_recording", "load_run", "replay", "replay_core"]

"""`run --record PATH`: what the engine core saw and sent, for the backtest to replay.

Owns: `RunRecorder` — a header (when the engine started, its balances, instruments, the
strategy instances with their parameters, the risk limits and the engine's configuration),
then one JSON line per input the core handled that a replay needs (the market events as the
core got them — book tops after the session's conflation, trades, tickers —, its timer
ticks, and the exchange's answers about our orders: acknowledgements, executions reports
with their fills, refusals, balance updates, finished sends, and the ledger's word that a
fill was written), each with its time and a
sequence number, and one line per order, cancel or amend the core sent. `header_doc` /
`read_header` (the header's own codec). Lines are queued by the core's tap and written by a
thread: the daemon's event loop never waits on the file. backtest/parity.py replays it.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import threading
import typing
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from krakenbot.backtest.record_codec import RecordError, encode
from krakenbot.domain.effects import Effect, SendAmend, SendCancel, SendOrder
from krakenbot.domain.events import (
    AmendRejected,
    BalanceChange,
    BookStatus,
    BookTop,
    CancelRejected,
    ExecutionReport,
    MarketTrade,
    OrderAccepted,
    OrderRejected,
    Ticker,
    TimerTick,
)
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.core import EngineCore, Input
from krakenbot.engine.inputs import SendFinished, WriteDone
from krakenbot.risk.limits import RiskLimits

FORMAT = "krakenbot-run/1"
RECORDED = (
    BookTop,
    BookStatus,
    MarketTrade,
    Ticker,
    TimerTick,
    OrderAccepted,
    OrderRejected,
    ExecutionReport,
    CancelRejected,
    AmendRejected,
    BalanceChange,
    SendFinished,
    WriteDone,
)
_SENDS = (SendOrder, SendCancel, SendAmend)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, frozenset | set | tuple | list):
        return (
            sorted(_plain(v) for v in value)
            if isinstance(value, frozenset | set)
            else [_plain(v) for v in value]
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def rebuild(cls: type, doc: Mapping[str, Any]) -> Any:
    """A frozen configuration dataclass back from `_plain`'s document."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, raw in doc.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = rebuild(typing.cast(type, hint), raw)
        elif hint is Decimal:
            values[name] = Decimal(raw)
        elif typing.get_origin(hint) is frozenset:
            values[name] = frozenset(raw)
        elif raw is not None and typing.get_args(hint) and Decimal in typing.get_args(hint):
            values[name] = Decimal(raw)
        else:
            values[name] = raw
    return cls(**values)


def header_doc(core: EngineCore) -> dict[str, Any]:
    strategies = []
    for strategy in core.strategies:
        params = getattr(strategy, "params", None)
        doc = _plain(params) if dataclasses.is_dataclass(params) else None
        strategies.append({"name": strategy.name, "params": doc})
    return {
        "format": FORMAT,
        "started_ns": core.started_ns,
        "balances": {a: str(v) for a, v in sorted(core.account.available().items())},
        "instruments": [encode(i) for _, i in sorted(core.instruments.items())],
        "strategies": strategies,
        "limits": _plain(core.gate.limits),
        "engine": _plain(core.config),
    }


def read_header(doc: Mapping[str, Any]) -> tuple[RiskLimits, EngineConfig]:
    return rebuild(RiskLimits, doc["limits"]), rebuild(EngineConfig, doc["engine"])


class RunRecorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._out: TextIO = path.open("w", encoding="utf-8")
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._seq = 0
        self._writer = threading.Thread(target=self._write, name="run-recorder", daemon=True)

    def start(self, core: EngineCore) -> None:
        self._out.write(json.dumps(header_doc(core), sort_keys=True) + "\n")
        self._writer.start()
        core.tap = self.tap

    def tap(self, event: Input, t_ns: int, effects: list[Effect]) -> None:
        try:
            if isinstance(event, RECORDED):
                self._seq += 1
                self._lines.put(json.dumps({"n": self._seq, "t": t_ns, "in": encode(event)}))
            for effect in effects:
                if isinstance(effect, _SENDS):
                    self._seq += 1
                    line = {"n": self._seq, "t": t_ns, "out": encode(effect.command)}
                    self._lines.put(json.dumps(line))
        except RecordError as exc:  # the recording is incomplete; the daemon goes on
            self._seq += 1
            self._lines.put(json.dumps({"n": self._seq, "t": t_ns, "missing": str(exc)}))

    def _write(self) -> None:
        while (line := self._lines.get()) is not None:
            self._out.write(line + "\n")

    def close(self) -> None:
        """Write what is queued and close the file."""
        self._lines.put(None)
        if self._writer.is_alive():
            self._writer.join(timeout=10)
        self._out.close()


__all__ = ["FORMAT", "RunRecorder", "header_doc", "read_header", "rebuild"]

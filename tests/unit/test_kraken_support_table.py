"""docs/kraken_support.md stays true: every REST method, WebSocket v2 method and channel the
simulator serves is listed with simulator support Y or partial, nothing it does not serve is
listed so, and every REST method the client knows by name has a row."""

from __future__ import annotations

import re
from pathlib import Path

from krakenbot.kraken.methods import KNOWN_METHODS
from krakenbot.sim import rest_methods, ws_methods, ws_trading

TABLE = Path(__file__).resolve().parents[2] / "docs" / "kraken_support.md"
_ROW = re.compile(r"^\| `([^`]+)` \| ([^|]+?) \| ([^|]+?) \|")
_SERVED = ("Y", "partial")


def _sections() -> dict[str, dict[str, tuple[str, str]]]:
    """`## heading` → {name: (client, simulator)} for the rows naming one thing."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    rows: dict[str, tuple[str, str]] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            rows = out.setdefault(line[3:].strip(), {})
            continue
        match = _ROW.match(line)
        if match:
            name, client, sim = match.groups()
            assert name not in rows, f"{name} listed twice"
            rows[name] = (client.strip(), sim.strip())
    return out


def _served(rows: dict[str, tuple[str, str]]) -> set[str]:
    return {name for name, (_, sim) in rows.items() if sim in _SERVED}


def test_rest_rows_match_the_simulators_router() -> None:
    rows = _sections()["REST methods"]
    assert _served(rows) == set(rest_methods.PUBLIC) | set(rest_methods.PRIVATE)
    assert set(KNOWN_METHODS) <= set(rows), "a method the client knows has no row"


def test_websocket_rows_match_the_simulators_server() -> None:
    sections = _sections()
    methods = set(ws_trading.TRADING) | {"subscribe", "unsubscribe", "ping"}
    assert _served(sections["WebSocket v2 methods"]) == methods
    channels = ws_methods.PUBLIC_CHANNELS | ws_methods.PRIVATE_CHANNELS
    assert _served(sections["WebSocket v2 channels"]) == channels


def test_every_cell_is_a_known_level() -> None:
    levels = {"Y", "partial", "no", "raw", "parse"}
    for section, rows in _sections().items():
        for name, cells in rows.items():
            assert set(cells) <= levels, (section, name, cells)

"""Every allowed pair trades: `run --sim` with two allowed pairs runs one strategy instance
per pair (issue 14), each pair served by its own replayed market in the simulator, all
behind the one risk gate. A real daemon process; the ledger is read afterwards."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from e2e_helpers import cli


async def test_the_sim_demo_trades_every_allowed_pair(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "TRADING_"))}
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        LOG_CONSOLE="false",
        ALLOWED_PAIRS="XLM/USD,BTC/USD",
        # Kraken's BTC/USD minimum is 0.0001 BTC (about 10.6 USD at the sim's price).
        MAX_TRADE_SIZE="12",
        MAX_TOTAL_EXPOSURE="36",  # room for both pairs at once, and slack
        MAX_POSITIONS="2",
    )
    args = ("run", "--sim", "--sim-speed", "1000", "--duration", "45")
    result = await cli(tmp_path, env, *args, timeout_s=120)
    assert result.code == 0, result.err
    db = sqlite3.connect(tmp_path / "data" / "sim" / "trading.db")
    try:
        rows = db.execute(
            "SELECT pair, COUNT(*) FROM orders WHERE tag = 'entry' "
            "AND CAST(filled_volume AS REAL) > 0 GROUP BY pair"
        ).fetchall()
    finally:
        db.close()
    filled = dict(rows)
    assert set(filled) == {"XLM/USD", "BTC/USD"}, (filled, result.out)

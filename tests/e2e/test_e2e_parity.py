"""Parity (issue 16): a `run --sim --record` run of the real daemon, replayed by `backtest
--data` through a fresh engine core, sends the same orders (side, type, price, volume, in
the same sequence, at the same moments) and gets the same fills; the replay's ledger and the
run's agree row for row. A recording with one order changed is caught."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from e2e_helpers import cli

ORDERS = """SELECT type, ordertype, price, volume, time_in_force, post_only, reduces_position,
    tag, status, filled_volume, avg_fill_price FROM orders ORDER BY created_ns, id"""
FILLS = "SELECT side, price, volume, cost, fee, liquidity FROM fills ORDER BY id"


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def test_a_recorded_sim_run_replays_to_the_same_orders_and_fills(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "TRADING_"))}
    env.update(DATA_DIR=str(tmp_path / "data"), LOG_CONSOLE="false", ALLOWED_PAIRS="XLM/USD")
    record = tmp_path / "run.jsonl"
    args = ("run", "--sim", "--sim-speed", "600", "--duration", "35", "--record", str(record))
    result = await cli(tmp_path, env, *args, timeout_s=120)
    assert result.code == 0, result.err
    run_db = tmp_path / "data" / "sim" / "trading.db"
    run_orders, run_fills = _rows(run_db, ORDERS), _rows(run_db, FILLS)
    assert len(run_orders) >= 2 and run_fills, result.out  # the run traded: something to check

    replay = await cli(
        tmp_path, env, "backtest", "--data", str(record), "--out", "p", "--json", timeout_s=120
    )
    assert replay.code == 0, replay.err
    doc = json.loads(replay.out)
    assert doc["parity"]["verdict"] == "identical"
    assert doc["parity"]["orders"] == len(run_orders)
    assert doc["parity"]["fills"] == len(run_fills)
    replay_db = Path(doc["ledger"])
    assert _rows(replay_db, ORDERS) == run_orders
    assert _rows(replay_db, FILLS) == run_fills
    page = _text(Path(doc["report"]))  # the report, as a backtest's
    assert "parity replay" in page and 'id="charts"' in page and "identical" in page

    # A recording that says the run sent something else is a divergence, named.
    lines = record.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if '"out": {"@": "PlaceOrder"' in line)
    sent = json.loads(lines[first])
    sent["out"]["qty"] = str(2 * float(sent["out"]["qty"]))
    lines[first] = json.dumps(sent)
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = await cli(tmp_path, env, "backtest", "--data", str(tampered), "--out", "q")
    assert bad.code == 1
    assert "diverged" in bad.err and f"line {sent['n']}" in bad.err and "Traceback" not in bad.err
    assert not (tmp_path / "q").exists()

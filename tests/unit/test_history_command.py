"""`krakenbot trades / orders / profit` on a real ledger written by the real store code.

The ledger is found as `status` finds it (or named with `--db`), opened read-only (the file is
never changed), and PnL is the portfolio's: the JSON figures are compared with
`Portfolio.report`, the one place they are computed.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import sqlite3
from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import psutil
import pytest
from settings_env import isolate

from krakenbot.app.history import trip_listing
from krakenbot.app.registry import DaemonEntry, registry_dir, write_entry
from krakenbot.app.status_model import StatusReport
from krakenbot.app.supervisor import STATUS_STATE_KEY
from krakenbot.cli import main
from krakenbot.clock import ManualClock
from krakenbot.commands._history_out import Places, render_table
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import Fill
from krakenbot.domain.portfolio import Portfolio
from krakenbot.store import LedgerRepository, open_ledger

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
S = 1_000_000_000
# What a daemon's snapshot says: XLM/USD lots of 8 decimals, prices of 6, USD costs of 5.
DECIMALS = {"XLM/USD": 8, "XLM": 8, "USD": 5}
PRICES = {"XLM/USD": 6}


def _order(cl: str, side: Side, qty: str, price: str) -> PlaceOrder:
    return PlaceOrder(cl, "XLM/USD", side, OrderType.LIMIT, D(qty), D(price),
                      TimeInForce.GTC, post_only=True)  # fmt: skip


def _fill(tid: str, cl: str, side: Side, qty: str, price: str, fee: str, at: int) -> Fill:
    q, p = D(qty), D(price)
    return Fill(tid, "O" + cl, cl, "XLM/USD", side, p, q, q * p, D(fee), "USD",
                Liquidity.MAKER, at)  # fmt: skip


FILLS = [
    _fill("T1", "kb1", Side.BUY, "34.50524652", "0.289811", "0.025", T0 + 10 * S),
    _fill("T2", "kb2", Side.SELL, "34.50524652", "0.292860", "0.0252705", T0 + 20 * S),
    _fill("T3", "kb3", Side.BUY, "35", "0.281990", "0.0246741", T0 + 86_400 * S),
]
MARK = D("0.2850001")


async def _write_ledger(path: Path, *, snapshot: bool = True) -> None:
    clock = ManualClock(T0)
    db = await open_ledger(path, clock)
    try:
        repo = LedgerRepository(db, clock)
        for (cl, side, qty, price), status in (
            (("kb1", Side.BUY, "34.50524652", "0.289811"), OrderStatus.OPEN),
            (("kb2", Side.SELL, "34.50524652", "0.292860"), OrderStatus.OPEN),
            (("kb3", Side.BUY, "35", "0.281990"), OrderStatus.OPEN),
            (("kb4", Side.SELL, "35", "0.300000"), OrderStatus.OPEN),
        ):
            await repo.insert_order(_order(cl, side, qty, price), txid="O" + cl, status=status)
            clock.advance(1)
        for fill in FILLS:
            await repo.insert_fill(fill)
        await repo.update_order("kb1", status=OrderStatus.FILLED)
        await repo.update_order("kb2", status=OrderStatus.FILLED)
        await repo.update_order("kb3", status=OrderStatus.FILLED)
        if snapshot:
            report = StatusReport(running=True, source="daemon", decimals=DECIMALS,
                                  price_decimals=PRICES, marks={"XLM/USD": str(MARK)})  # fmt: skip
            await repo.set_state(STATUS_STATE_KEY, json.dumps(report.to_json()))
    finally:
        await db.close()


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    path = tmp_path / "elsewhere" / "trading.db"
    path.parent.mkdir()
    asyncio.run(_write_ledger(path))
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_trades_json_is_the_portfolios_round_trips_exact(
    ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(ledger)
    code, out, _ = _run(capsys, "trades", "--db", str(ledger), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["database"] == str(ledger)
    trips = Portfolio(FILLS).round_trips()
    assert [t["realized_pnl"] for t in doc["trades"]] == [format(t.realized, "f") for t in trips]
    first = doc["trades"][0]
    assert first["status"] == "CLOSED" and first["side"] == "long"
    assert first["entry_price"] == "0.289811" and first["volume"] == "34.50524652"
    assert D(first["realized_pnl"]) == trips[0].realized  # exact, not rounded
    assert doc["trades"][1]["status"] == "OPEN" and doc["trades"][1]["closed"] is None
    assert doc["total"] == {"round_trips": 2, "closed": 1, "open": 1}
    assert _digest(ledger) == before  # read-only: the ledger is untouched


def test_trades_table_rounds_to_the_assets_decimals(
    ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "trades", "--db", str(ledger))
    assert code == 0
    realized = Portfolio(FILLS).round_trips()[0].realized  # 0.0552... with many digits
    shown = f"+{realized.quantize(D('0.00001'))}"
    assert shown in out  # USD's 5 decimals, signed
    assert str(realized) not in out
    assert "34.50524652" in out and "0.289811" in out
    assert "2 round trips (1 closed, 1 open)" in out and str(ledger) in out


def test_fills_csv_is_exact_with_a_header(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "trades", "--fills", "--db", str(ledger), "--csv",
                        "--since", "2026-01-01T00:00:15")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["trade_id"] for r in rows] == ["T2", "T3"]
    assert rows[0]["fee"] == "0.0252705" and rows[0]["time_ns"] == str(T0 + 20 * S)
    assert rows[0]["cost"] == format(D("34.50524652") * D("0.292860"), "f")


def test_orders_open_and_pair_filter(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "orders", "--open", "--db", str(ledger), "--json")
    assert code == 0
    assert [o["order"] for o in json.loads(out)["orders"]] == ["kb4"]
    code, out, _ = _run(capsys, "orders", "--db", str(ledger), "--pair", "btc/usd", "--json")
    assert code == 0 and json.loads(out)["orders"] == []
    code, out, _ = _run(capsys, "orders", "--db", str(ledger))
    assert code == 0 and "4 orders (1 open)" in out


def test_profit_totals_are_the_portfolio_report(
    ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "profit", "--db", str(ledger), "--json")
    assert code == 0
    doc = json.loads(out)
    portfolio = Portfolio(FILLS)
    report = portfolio.report(date(2026, 1, 2), {"XLM/USD": MARK})
    assert doc["by"] == "day"
    assert doc["profit"] == [
        {"day": "2026-01-01", "realized_pnl": format(report.realized, "f"), "closed": 1, "won": 1}
    ]
    total = doc["total"]
    assert total["realized_pnl"] == format(report.realized, "f")
    assert total["unrealized_pnl"] == format(report.unrealized or 0, "f")
    assert total["marks"] == {"XLM/USD": str(MARK)}  # the daemon's last marks, like status
    assert total["fees"] == format(report.fees, "f")
    code, out, _ = _run(capsys, "profit", "--by", "pair", "--db", str(ledger))
    assert code == 0
    assert "XLM/USD" in out and "unrealized PnL" in out and "fees" in out


def test_a_ledger_without_a_snapshot_prints_at_most_8_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate(monkeypatch, tmp_path)
    path = tmp_path / "backtest.db"
    asyncio.run(_write_ledger(path, snapshot=False))
    code, out, _ = _run(capsys, "profit", "--by", "pair", "--db", str(path))
    assert code == 0
    realized = Portfolio(FILLS).realized_total
    assert f"+{realized.quantize(D('0.00000001')).normalize()}" in out


def test_unreadable_ledgers_exit_1_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate(monkeypatch, tmp_path)
    code, _, err = _run(capsys, "trades", "--db", str(tmp_path / "missing.db"))
    assert code == 1 and "cannot read the ledger" in err
    assert not (tmp_path / "missing.db").exists()  # nothing created
    (tmp_path / "text.db").write_text("not sqlite at all " * 100)
    code, _, err = _run(capsys, "orders", "--db", str(tmp_path / "text.db"))
    assert code == 1 and "Traceback" not in err
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    code, _, err = _run(capsys, "profit", "--db", str(other))
    assert code == 1 and "not a krakenbot ledger" in err


def test_bad_options_are_usage_errors(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["trades", "--db", str(ledger), "--since", "last tuesday"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["trades", "--db", str(ledger), "--pair", "XLMUSD"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["trades", "--db", str(ledger), "--json", "--csv"])
    assert exc.value.code == 2
    code, _, err = _run(capsys, "trades", "--db", str(ledger), "--sim")
    assert code == 2 and "--db" in err


def test_the_sim_ledger_is_found_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data" / "sim").mkdir(parents=True)
    asyncio.run(_write_ledger(tmp_path / "data" / "sim" / "trading.db"))
    code, out, _ = _run(capsys, "trades", "--sim", "--json")
    assert code == 0
    assert json.loads(out)["database"] == str(tmp_path / "data" / "sim" / "trading.db")
    code, _, err = _run(capsys, "trades", "--json")  # ./trading.db: there is none
    assert code == 1 and str(tmp_path / "trading.db") in err


def _entry(pid: int, data_dir: Path) -> DaemonEntry:
    return DaemonEntry(
        pid=pid,
        create_time=psutil.Process(pid).create_time(),
        mode="live",
        data_dir=str(data_dir),
        lock_file=str(data_dir / ".trading_lock"),
        database=str(data_dir / "trading.db"),
        log_file=str(data_dir / "krakenbot.log"),
        token_file=str(data_dir / ".stop_token"),
    )


def test_a_running_daemons_ledger_is_found_and_several_are_never_guessed(
    ledger: Path,
    krakenbot_state_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Two registered daemons (processes that really run: this one and its parent).
    registry = registry_dir(krakenbot_state_dir)
    mine = _entry(os.getpid(), ledger.parent)
    write_entry(registry, mine)
    code, out, _ = _run(capsys, "trades", "--json")  # from another folder, no options
    assert code == 0 and json.loads(out)["database"] == str(ledger)
    other = replace(_entry(os.getppid(), ledger.parent.parent / "b"))
    write_entry(registry, other)
    code, out, err = _run(capsys, "profit")
    assert code == 2 and out == ""
    assert "2 krakenbot daemons are running" in err and "--db" in err
    code, out, _ = _run(capsys, "profit", "--data-dir", str(ledger.parent), "--json")
    assert code == 0 and json.loads(out)["database"] == str(ledger)


def test_a_hand_edited_ledger_is_reported_not_a_traceback(
    ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(ledger) as conn:
        conn.execute("UPDATE fills SET volume = '-5' WHERE trade_id = 'T1'")
    code, out, err = _run(capsys, "profit", "--db", str(ledger))
    assert code == 1 and out == "" and "cannot read the ledger" in err
    with sqlite3.connect(ledger) as conn:
        conn.execute("UPDATE fills SET price = 'abc' WHERE trade_id = 'T2'")
    code, _, err = _run(capsys, "trades", "--fills", "--db", str(ledger))
    assert code == 1 and "Traceback" not in err


def test_the_table_fits_a_legacy_windows_console() -> None:
    listing = trip_listing(Portfolio(FILLS).round_trips(), since_ns=None, pair=None)
    text = render_table(listing, Places(DECIMALS, PRICES), ["end"], terminal=False,
                        encoding="cp1252")  # fmt: skip
    text.encode("cp1252")  # PowerShell 5.1's console would raise UnicodeEncodeError otherwise
    assert "0.289811" in text and text.splitlines()[-1] == "end"

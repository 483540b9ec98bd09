"""`status` while the daemon is down: read from the ledger (real SQLite file)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from krakenbot.app.exchange_view import compare
from krakenbot.app.exitcodes import StatusExit
from krakenbot.app.status_check import collect_status
from krakenbot.app.status_text import render_text
from krakenbot.app.supervisor import DMS_STATE_KEY, STATUS_STATE_KEY
from krakenbot.clock import SystemClock
from krakenbot.config import load_settings
from krakenbot.store import LedgerRepository, open_ledger


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("TRADING_MODE", "KRAKEN_API_KEY", "KRAKEN_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "data" / "trading.db"))
    monkeypatch.setenv("LOCK_FILE", str(tmp_path / "data" / ".trading_lock"))
    return tmp_path


async def test_no_daemon_no_database_is_not_running(settings_env: Path) -> None:
    report, verdict, note = await collect_status(load_settings())
    assert verdict is StatusExit.NOT_RUNNING and note is None
    assert report.running is False


async def test_down_daemon_is_described_from_the_ledger(settings_env: Path) -> None:
    clock = SystemClock()
    db = await open_ledger(settings_env / "data" / "trading.db", clock)
    repo = LedgerRepository(db, clock)
    last = {"running": True, "mode": "live", "trading_state": "ACTIVE", "ws_public": "connected"}
    await repo.set_state(STATUS_STATE_KEY, json.dumps(last))
    await repo.set_state("trading_state", "HALTED")
    await repo.record_event("daemon_failed", {"component": "engine", "error": "boom"})
    await db.close()
    report, verdict, _ = await collect_status(load_settings())
    assert verdict is StatusExit.NOT_RUNNING
    assert report.source == "database" and report.mode == "live"
    assert report.trading_state == "HALTED"
    assert report.last_error == "engine: boom"
    assert report.open_orders == 0 and report.total_pnl == "0"


async def test_a_stopped_daemon_shows_no_connection_nor_a_switch_that_will_fire(
    settings_env: Path,
) -> None:
    clock = SystemClock()
    db = await open_ledger(settings_env / "data" / "trading.db", clock)
    repo = LedgerRepository(db, clock)
    last = {  # the daemon's final snapshot: it disabled the switch on its way out
        "running": False,
        "ws_public": "connected",
        "ws_private": "connected",
        "book_verified": True,
        "dms_state": "off",
    }
    await repo.set_state(STATUS_STATE_KEY, json.dumps(last))
    await repo.set_state(DMS_STATE_KEY, "2026-01-01T00:01:00Z")  # the last trigger time
    await db.close()
    report, _, _ = await collect_status(load_settings())
    assert report.ws_public is None and report.ws_private is None and report.book_verified is None
    assert report.dms_state == "off" and report.dms_trigger_time is None
    text = render_text(report)
    assert "connected" not in text and "fires at" not in text


async def test_a_stale_lock_record_is_not_a_running_daemon(settings_env: Path) -> None:
    lock = settings_env / "data" / ".trading_lock"
    lock.parent.mkdir(parents=True)
    lock.write_text('{"pid": 999999, "started_at": null, "create_time": 1.0}')
    _, verdict, _ = await collect_status(load_settings())
    assert verdict is StatusExit.NOT_RUNNING


async def test_unreadable_database_cannot_tell(settings_env: Path) -> None:
    path = settings_env / "data" / "trading.db"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not sqlite" * 100)
    _, verdict, note = await collect_status(load_settings())
    assert verdict is StatusExit.UNKNOWN and note


def test_compare_flags_every_difference() -> None:
    problems = compare(
        {"OA": "XLM/USD", "OB": "XLM/USD"},
        {"OB": "XLMUSD", "OC": "XLMUSD"},
        {"XLM/USD": Decimal("30")},
        {"XLM": Decimal("10")},
    )
    assert len(problems) == 3
    assert compare({"OA": "x"}, {"OA": "x"}, {"XLM/USD": Decimal(1)}, {"XLM": Decimal(1)}) == []

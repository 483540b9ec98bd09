from __future__ import annotations

from pathlib import Path

import pytest

from krakenbot.app.exitcodes import RunExit
from krakenbot.app.runtime_files import (
    RuntimeInfo,
    new_token,
    read_runtime,
    read_token,
    remove_runtime,
    write_runtime,
)
from krakenbot.app.startup_steps import StartupStepError, lock_path_hint, run_settings

KEY = "k" * 20
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQ="


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TRADING_MODE", "KRAKEN_API_KEY", "KRAKEN_API_SECRET", "LOCK_FILE", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_paper_is_the_default() -> None:
    settings, mode = run_settings(None, sim=False, live=False)
    assert mode.name == "paper" and not mode.live_path
    assert settings.trading_mode.value == "paper"


@pytest.mark.parametrize(
    ("env", "live"),
    [
        ({"TRADING_MODE": "live", "KRAKEN_API_KEY": KEY, "KRAKEN_API_SECRET": SECRET}, False),
        ({"TRADING_MODE": "paper"}, True),
        ({"TRADING_MODE": "live"}, True),  # no keys
    ],
)
def test_live_needs_mode_flag_and_keys(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], live: bool
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(StartupStepError) as caught:
        run_settings(None, sim=False, live=live)
    assert caught.value.exit_status is RunExit.SETTINGS


def test_live_with_everything_is_live(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"TRADING_MODE": "live", "KRAKEN_API_KEY": KEY, "KRAKEN_API_SECRET": SECRET}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    _, mode = run_settings(None, sim=False, live=True)
    assert mode.name == "live" and mode.live_path


def test_lock_path_is_read_before_validation(tmp_path: Path) -> None:
    env = tmp_path / "x.env"
    env.write_text("LOCK_FILE=custom.lock\nMAX_TRADE_SIZE=not-a-number\nDATA_DIR=d\n")
    assert lock_path_hint(str(env), sim=False) == Path("custom.lock")
    assert lock_path_hint(str(env), sim=True) == Path("d/sim/.trading_lock")
    with pytest.raises(StartupStepError):
        run_settings(str(env), sim=False, live=False)


def test_runtime_files_round_trip_and_token_is_private(tmp_path: Path) -> None:
    info = RuntimeInfo(pid=7, mode="paper", started_ns=1, health_url="http://127.0.0.1:1")
    write_runtime(tmp_path, info)
    token = new_token(tmp_path)
    assert read_runtime(tmp_path) == info
    assert read_token(tmp_path) == token
    assert (tmp_path / ".stop_token").stat().st_mode & 0o077 == 0
    remove_runtime(tmp_path, pid=8)  # not ours: kept
    assert read_runtime(tmp_path) == info
    remove_runtime(tmp_path, pid=7)
    assert read_runtime(tmp_path) is None and read_token(tmp_path) is None

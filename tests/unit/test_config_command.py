from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from settings_env import FAKE_KEY, FAKE_SECRET, isolate

from krakenbot.cli import main
from krakenbot.config import Settings


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    isolate(monkeypatch, tmp_path)
    return monkeypatch


def test_check_prints_settings_with_secrets_masked(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "live.env"
    env_file.write_text(
        f"TRADING_MODE=live\nKRAKEN_API_KEY={FAKE_KEY}\nKRAKEN_API_SECRET={FAKE_SECRET}\n",
        encoding="utf-8",
    )
    assert main(["--env-file", str(env_file), "config", "check"]) == 0
    out, err = capsys.readouterr()
    assert "TRADING_MODE" in out and "live" in out
    assert "KRAKEN_API_SECRET" in out
    assert FAKE_SECRET not in out + err
    assert FAKE_KEY not in out + err


def test_check_bad_setting_exits_2_with_one_message(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("MAX_TRADE_SIZE", "-3")
    assert main(["config", "check"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "MAX_TRADE_SIZE" in err and "-3" in err
    assert "Traceback" not in err


def test_check_missing_env_file_exits_2(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--env-file", str(tmp_path / "nope.env"), "config", "check"]) == 2
    assert "nope.env" in capsys.readouterr().err


def test_config_without_action_is_a_usage_error(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as info:
        main(["config"])
    assert info.value.code == 2


def _config_check_process(
    tmp_path: Path, environ: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "krakenbot", "config", "check", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=60,
        check=False,
    )


def test_real_process_bad_secret_exits_2_without_traceback(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "TRADING_"))}
    environ.update(
        TRADING_MODE="live", KRAKEN_API_KEY=FAKE_KEY, KRAKEN_API_SECRET="not-base64-secret!!"
    )
    proc = _config_check_process(tmp_path, environ)
    assert proc.returncode == 2
    assert "KRAKEN_API_SECRET" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "not-base64-secret" not in proc.stderr + proc.stdout
    assert FAKE_KEY not in proc.stderr + proc.stdout


def test_check_loads_the_strategy_so_a_bad_parameter_exits_2(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("STRATEGY_PARAMS", "entry_zz=2")
    assert main(["config", "check"]) == 2
    assert "entry_zz" in capsys.readouterr().err
    env.setenv("STRATEGY_PARAMS", "entry_z=-1")
    assert main(["config", "check"]) == 2
    assert "entry_z" in capsys.readouterr().err
    env.setenv("STRATEGY_PARAMS", "entry_z=3")
    assert main(["config", "check"]) == 0


def test_real_process_nan_and_infinity_exit_2_without_traceback(tmp_path: Path) -> None:
    env_file = tmp_path / "nan.env"
    env_file.write_text("REST_TIMEOUT_S=nan\nLEDGER_FAILURE_GRACE_S=inf\n", encoding="utf-8")
    names = {name.upper() for name in Settings.model_fields}
    environ = {k: v for k, v in os.environ.items() if k.upper() not in names}
    proc = _config_check_process(tmp_path, environ, "--env-file", str(env_file))
    assert proc.returncode == 2
    assert "REST_TIMEOUT_S=" in proc.stderr and "LEDGER_FAILURE_GRACE_S=" in proc.stderr
    assert "Traceback" not in proc.stderr

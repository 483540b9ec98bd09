from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from settings_env import FAKE_KEY, FAKE_SECRET, isolate

from krakenbot.cli import main
from krakenbot.config import Settings
from krakenbot.sim import SimConfig, running_sim


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


def test_check_validates_the_form_of_every_pair_offline(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ALLOWED_PAIRS", "XLM/USD,XLM/USD/EUR,ÄÖ/USD")
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert "XLM/USD/EUR" in err and "BASE/QUOTE" in err
    env.setenv("ALLOWED_PAIRS", "FOO/BAR")  # the form is right: only the exchange can say
    assert main(["config", "check"]) == 0


async def _check_against(sim_url: str, pairs: str, tmp_path: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTINGS}
    env.update({"KRAKEN_REST_URL": sim_url, "ALLOWED_PAIRS": pairs})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "krakenbot", "config", "check", "--exchange", cwd=tmp_path,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


_SETTINGS = {name.upper() for name in Settings.model_fields}


async def test_check_exchange_asks_asset_pairs_whether_each_pair_trades(tmp_path: Path) -> None:
    cfg = SimConfig(
        pairs=("XLM/USD", "BTC/USD"), pair_overrides={"BTC/USD": {"status": "cancel_only"}}
    )
    async with running_sim(cfg) as sim:
        code, out, err = await _check_against(sim.rest_url, "XLM/USD", tmp_path)
        assert code == 0, err
        assert "XLM/USD: listed and online" in out
        code, out, err = await _check_against(sim.rest_url, "XLM/USD,FOO/BAR", tmp_path)
        assert code == 2 and out == ""
        assert "FOO/BAR is not a pair" in err and "XLM/USD is" not in err
        code, _, err = await _check_against(sim.rest_url, "BTC/USD", tmp_path)
        assert code == 2 and "BTC/USD is cancel_only" in err
        code, _, err = await _check_against(sim.rest_url, "XBT/USD", tmp_path)
        assert code == 2 and "did you mean BTC/USD?" in err
        url = sim.rest_url
    code, _, err = await _check_against(url, "XLM/USD", tmp_path)  # the sim is gone
    assert code == 1 and "cannot ask" in err and "Traceback" not in err

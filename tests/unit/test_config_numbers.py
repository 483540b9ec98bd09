"""Every number setting must be finite and in range; `config check` says which one is not.

The fields under test are read from the settings model itself, so a number setting added
later is covered without touching this file.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import get_args

import pytest
from settings_env import isolate

from krakenbot.cli import main
from krakenbot.config import Settings, load_settings

BAD_VALUES = ("NaN", "nan", "inf", "+inf", "-inf", "Infinity", "1e309", "-1", "-0.5", "")


def number_fields() -> list[str]:
    found = []
    for name, field in Settings.model_fields.items():
        kinds = {field.annotation, *get_args(field.annotation)}
        if kinds & {int, float, Decimal} and bool not in kinds:
            found.append(name)
    return sorted(found)


CASES = [(name, value) for name in number_fields() for value in BAD_VALUES]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    isolate(monkeypatch, tmp_path)
    return monkeypatch


def test_the_model_has_number_settings_to_check() -> None:
    fields = number_fields()
    assert len(fields) >= 15
    assert {"rest_timeout_s", "circuit_breaker_cooldown_s", "ledger_failure_grace_s"} <= set(fields)


@pytest.mark.parametrize(("name", "value"), CASES)
def test_bad_number_in_the_environment_is_refused_by_name(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    env.setenv(name.upper(), value)
    assert main(["config", "check"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{name.upper()}=" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("name", "value"), CASES)
def test_bad_number_in_the_env_file_is_refused_by_name(
    env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_text(f"{name.upper()}={value}\n", encoding="utf-8")
    # `--env-file` after the sub-command, as the other commands take it.
    assert main(["config", "check", "--env-file", str(env_file)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{name.upper()}=" in err
    assert "Traceback" not in err


def test_every_bad_value_is_reported_at_once(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A type error and range errors together: all four, not only the type error.
    env.setenv("MAX_TRADE_SIZE", "ten")
    env.setenv("REST_TIMEOUT_S", "nan")
    env.setenv("CIRCUIT_BREAKER_COOLDOWN_S", "-5")
    env.setenv("LOG_MAX_BYTES", "0")
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert "4 problems" in err
    for name in ("MAX_TRADE_SIZE", "REST_TIMEOUT_S", "CIRCUIT_BREAKER_COOLDOWN_S", "LOG_MAX_BYTES"):
        assert f"{name}=" in err


def test_an_empty_number_in_the_environment_defers_to_the_file(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Empty still means "not set" when another source gives the number.
    env_file = tmp_path / "good.env"
    env_file.write_text("REST_TIMEOUT_S=5\n", encoding="utf-8")
    env.setenv("REST_TIMEOUT_S", "")
    assert load_settings(env_file).rest_timeout_s == 5.0


def test_empty_credentials_still_mean_not_set(env: pytest.MonkeyPatch) -> None:
    env.setenv("KRAKEN_API_KEY", "")
    env.setenv("KRAKEN_API_SECRET", "")
    assert load_settings().credentials() is None


def test_largest_allowed_values_are_accepted(env: pytest.MonkeyPatch) -> None:
    env.setenv("REST_TIMEOUT_S", "600")
    env.setenv("CIRCUIT_BREAKER_COOLDOWN_S", "86400")
    env.setenv("LEDGER_FAILURE_GRACE_S", "600")
    env.setenv("DEAD_MAN_SWITCH_TIMEOUT_S", "86399")
    settings = load_settings()
    assert settings.rest_timeout_s == 600 and settings.circuit_breaker_cooldown_s == 86400

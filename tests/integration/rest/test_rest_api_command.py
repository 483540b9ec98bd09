"""`python -m krakenbot api …` as a real process against the sim."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from resttest_helpers import sim_running

from krakenbot import cli
from krakenbot.commands.api import to_json
from krakenbot.sim import Sim

SRC = Path(__file__).parents[3] / "src"


async def run_api(sim: Sim, tmp_path: Path, *args: str, key: bool = True) -> tuple[int, str, str]:
    env_file = tmp_path / "test.env"
    lines = [f"KRAKEN_REST_URL={sim.rest_url}", f"DATA_DIR={tmp_path / 'data'}"]
    if key:
        lines += [f"KRAKEN_API_KEY={sim.api_key}", f"KRAKEN_API_SECRET={sim.api_secret}"]
    env_file.write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "DATA_DIR"))}
    env["PYTHONPATH"] = str(SRC)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "krakenbot",
        "--env-file",
        str(env_file),
        "api",
        *args,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_api_command_exit_codes_and_output(tmp_path: Path) -> None:
    async with sim_running() as sim:
        code, out, _ = await run_api(sim, tmp_path, "Balance", "--json")
        assert code == 0
        assert Decimal(json.loads(out, parse_float=Decimal)["ZUSD"]) == Decimal("1000")
        code, out, _ = await run_api(sim, tmp_path, "Time", key=False)  # the README's example
        assert code == 0 and "unixtime" in json.loads(out)
        code, _, err = await run_api(sim, tmp_path, "Depth", "pair=NOPE")
        assert code == 1 and "EQuery:Unknown asset pair" in err
        order = ["pair=XLMUSD", "type=buy", "ordertype=limit", "price=0.1", "volume=10"]
        code, out, _ = await run_api(sim, tmp_path, "AddOrder", *order, "--allow-trading")
        assert code == 0 and len(sim.control.orders()) == 1
        assert json.loads(out)["txid"] == [sim.control.orders()[0]["txid"]]


def _main(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, key: bool = True, tier: str = ""
) -> int:
    for name in list(os.environ):
        if name.startswith("KRAKEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    # Port 9 (discard) on loopback: nothing here may ever reach a network.
    monkeypatch.setenv("KRAKEN_REST_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    if key:
        monkeypatch.setenv("KRAKEN_API_KEY", "k")
        monkeypatch.setenv("KRAKEN_API_SECRET", "c2VjcmV0")
    if tier:
        monkeypatch.setenv("KRAKEN_API_TIER", tier)
    return cli.main(["api", *args])


def test_usage_and_config_errors_exit_2_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    order = ["pair=XLMUSD", "type=buy", "ordertype=limit", "price=0.1", "volume=10"]
    assert _main(monkeypatch, tmp_path, "AddOrder", *order) == 2
    assert "--allow-trading" in capsys.readouterr().err
    for method in ("CancelOrder", "CancelAll", "CancelAllOrdersAfter", "Withdraw", "EditOrder"):
        assert _main(monkeypatch, tmp_path, method) == 2
    assert _main(monkeypatch, tmp_path, "Balance", key=False) == 2
    assert "KRAKEN_API_KEY" in capsys.readouterr().err
    assert _main(monkeypatch, tmp_path, "Balance", "oops") == 2
    assert _main(monkeypatch, tmp_path, "Balance", "nonce=5") == 2
    assert _main(monkeypatch, tmp_path, "Balance", "--status-key") == 2
    assert _main(monkeypatch, tmp_path, "Balance", tier="platinum") == 2
    assert _main(monkeypatch, tmp_path, "Balance", "--env-file", str(tmp_path / "missing")) == 2
    assert "no such file" in capsys.readouterr().err
    assert "c2VjcmV0" not in capsys.readouterr().err


def test_json_keeps_decimal_text_exact() -> None:
    value = {"a": Decimal("0.10000000"), "b": [1, "x", None, True], "c": {}}
    assert to_json(value, indent=None) == '{"a":0.10000000,"b":[1,"x",null,true],"c":{}}'
    assert json.loads(to_json(value, indent=2), parse_float=Decimal) == value


def test_an_unknown_method_is_refused_as_unknown_and_never_sent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(monkeypatch, tmp_path, "NoSuchMethod") == 2
    err = capsys.readouterr().err
    assert "unknown method 'NoSuchMethod'" in err
    assert "trade" not in err and "--allow-trading" not in err  # it is not a trading method
    # Not sent even when trading is allowed (a request would fail with exit 1: port 9).
    assert _main(monkeypatch, tmp_path, "NoSuchMethod", "--allow-trading") == 2
    capsys.readouterr()
    assert _main(monkeypatch, tmp_path, "balance") == 2
    assert "did you mean Balance?" in capsys.readouterr().err
    assert _main(monkeypatch, tmp_path, "OpenOrdrs") == 2
    assert "OpenOrders" in capsys.readouterr().err
    # Kraken's trading and funding methods are known: they still need --allow-trading.
    for method in ("AmendOrder", "WalletTransfer", "Earn/Allocate"):
        assert _main(monkeypatch, tmp_path, method) == 2
        assert "--allow-trading" in capsys.readouterr().err

"""`record` against the simulator, then `replay` of that file: every checksum verifies."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest
from tests.unit.settings_env import isolate

from krakenbot.cli import main
from krakenbot.commands.record import record, recording_url
from krakenbot.sim import Sim


async def test_record_then_replay_verifies_every_checksum(sim: Sim, tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    frames = await record(
        sim.ws_url,
        out,
        channels=["ticker", "book", "trade"],
        symbols=["XLM/USD", "BTC/USD"],
        depth=10,
        duration_s=1.0,
    )
    lines = out.read_text().splitlines()
    assert frames == len(lines) > 5
    assert all(json.loads(line) for line in lines)  # one JSON message per line
    assert any('"channel":"book"' in line for line in lines)


async def test_record_and_replay_cli_on_the_sim(
    sim: Sim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The CLI runs its own event loop: give it a thread so the sim keeps serving.
    out = tmp_path / "cli.jsonl"
    code = await asyncio.to_thread(
        main,
        [
            "record",
            "--url",
            sim.ws_url,
            "--out",
            str(out),
            "--symbols",
            "XLM/USD",
            "--channels",
            "book,ticker",
            "--duration",
            "0.8",
        ],
    )
    assert code == 0
    capsys.readouterr()
    code = main(["replay", str(out)])
    summary = json.loads(capsys.readouterr().out.strip())
    assert code == 0, summary
    assert summary["checksums_failed"] == 0 and summary["checksums_verified"] >= 1


def test_record_takes_its_url_from_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Pure: no connection is made here (the real Kraken is never contacted by a test).
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KRAKEN_WS_URL", "ws://127.0.0.1:9/v2")
    assert recording_url(None, None) == "ws://127.0.0.1:9/v2"
    assert recording_url("ws://127.0.0.1:7/v2", None) == "ws://127.0.0.1:7/v2"
    (tmp_path / "other.env").write_text("KRAKEN_WS_URL=ws://127.0.0.1:8/v2\n")
    monkeypatch.delenv("KRAKEN_WS_URL")
    assert recording_url(None, str(tmp_path / "other.env")) == "ws://127.0.0.1:8/v2"


async def test_record_cli_uses_kraken_ws_url(
    sim: Sim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KRAKEN_WS_URL", sim.ws_url)
    assert recording_url(None, None) == sim.ws_url  # before any connection is tried
    out = tmp_path / "env.jsonl"
    argv = ["record", "--out", str(out), "--channels", "book", "--duration", "0.8"]
    code = await asyncio.to_thread(main, argv)
    summary = json.loads(capsys.readouterr().out.strip())
    assert code == 0 and summary["url"] == sim.ws_url
    assert summary["frames"] == len(out.read_text().splitlines()) > 0


async def test_record_with_nothing_recorded_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "none.jsonl"
    argv = ["record", "--url", f"ws://127.0.0.1:{port}/v2", "--out", str(out), "--duration", "0.5"]
    code = await asyncio.to_thread(main, argv)
    captured = capsys.readouterr()
    assert code == 1
    assert json.loads(captured.out.strip())["frames"] == 0
    assert "nothing recorded" in captured.err

"""`record` against the simulator, then `replay` of that file: every checksum verifies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from krakenbot.cli import main
from krakenbot.commands.record import record
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

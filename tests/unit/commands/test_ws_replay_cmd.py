"""`krakenbot replay` on a real recorded book session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import DATA

from krakenbot.cli import main
from krakenbot.commands.record import subscriptions

RECORDING = DATA / "ws" / "book10_BTCUSD_2023-07-30.jsonl"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["replay", *argv])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    return code, json.loads(lines[0])


def test_replay_verifies_every_checksum_with_decimals(capsys: pytest.CaptureFixture[str]) -> None:
    code, summary = _run(
        capsys, str(RECORDING), "--price-decimals", "1", "--qty-decimals", "8", "--depth", "10"
    )
    assert code == 0
    assert summary["frames"] == 510 and summary["book_messages"] == 510
    assert summary["checksums_verified"] == 510 and summary["checksums_failed"] == 0
    assert summary["first_failure"] is None and summary["frames_per_s"] > 0


def test_replay_uses_known_pair_precision_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, summary = _run(capsys, str(RECORDING))
    assert code == 0 and summary["checksums_verified"] == 510


def test_replay_of_lossy_unknown_pair_needs_the_flags(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lossy = tmp_path / "foo.jsonl"
    lossy.write_text(RECORDING.read_text().replace("BTC/USD", "FOO/USD"))
    code, summary = _run(capsys, str(lossy))
    assert code == 1
    assert summary["checksums_failed"] >= 1 and summary["first_failure"]["line"] == 1
    code, summary = _run(capsys, str(lossy), "--price-decimals", "1", "--qty-decimals", "8")
    assert code == 0 and summary["checksums_verified"] == 510


def test_replay_reports_first_corrupted_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = RECORDING.read_text().splitlines()
    frame = json.loads(lines[100])
    frame["data"][0]["checksum"] = 12345
    lines[100] = json.dumps(frame)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    code, summary = _run(capsys, str(bad), "--price-decimals", "1", "--qty-decimals", "8")
    assert code == 1
    assert summary["checksums_failed"] == 1
    assert summary["first_failure"]["line"] == 101
    assert summary["first_failure"]["symbol"] == "BTC/USD"
    assert summary["checksums_verified"] == 100


def test_replay_unreadable_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["replay", str(tmp_path / "missing.jsonl")])
    assert code == 2
    assert "error" in json.loads(capsys.readouterr().out)


def test_record_subscriptions() -> None:
    subs = [json.loads(s) for s in subscriptions(["ticker", "book"], ["XLM/USD"], 25)]
    assert subs[0]["params"] == {"channel": "ticker", "symbol": ["XLM/USD"]}
    assert subs[1]["params"] == {"channel": "book", "symbol": ["XLM/USD"], "depth": 25}

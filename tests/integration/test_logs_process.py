"""A real process whose secret ends up in an uncaught exception: it never reaches the log
file or the console."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FAKE_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
SCRIPT = """
import logging
from krakenbot.config import load_settings
from krakenbot.logs import configure_logging

settings = load_settings()
configure_logging(settings.log(), settings.secret_values(), capture_uncaught=True)
secret = settings.kraken_api_secret.get_secret_value()
logging.getLogger("krakenbot.demo").info("starting with %s", secret)
try:
    raise ValueError("signing failed for " + secret)
except ValueError as exc:
    raise RuntimeError("request failed: " + secret) from exc
"""


def test_uncaught_exception_with_a_secret_is_redacted(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "TRADING_"))}
    env.update(
        KRAKEN_API_KEY="FAKEKEY123456",
        KRAKEN_API_SECRET=FAKE_SECRET,
        LOG_FILE=str(tmp_path / "trading_new.log"),
    )
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    log_text = (tmp_path / "trading_new.log").read_text(encoding="utf-8")
    for shown in (log_text, proc.stdout, proc.stderr):
        assert FAKE_SECRET not in shown
    records = [json.loads(line) for line in log_text.splitlines()]
    assert [r["level"] for r in records] == ["INFO", "CRITICAL"]
    assert "RuntimeError" in records[1]["exc"] and "ValueError" in records[1]["exc"]
    assert "RuntimeError" in proc.stderr  # the console still shows what happened

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from settings_env import FAKE_KEY, FAKE_SECRET, isolate

from krakenbot.config import load_settings
from krakenbot.domain.enums import Side
from krakenbot.domain.sections import LogSection
from krakenbot.logs import (
    REDACTED,
    LoggingHandle,
    RedactionFilter,
    configure_logging,
    redact_text,
)

SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
WS_TOKEN = "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw"


def _section(tmp_path: Path, **overrides: object) -> LogSection:
    values: dict[str, object] = {
        "file": tmp_path / "logs" / "trading_new.log",
        "level": "DEBUG",
        "max_bytes": 1_000_000,
        "backup_count": 2,
        "console": True,
    }
    values.update(overrides)
    return LogSection(**values)  # type: ignore[arg-type]


@pytest.fixture
def handles() -> Iterator[list[LoggingHandle]]:
    made: list[LoggingHandle] = []
    yield made
    for handle in made:
        handle.close()


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    "text",
    [
        f"headers {{'API-Key': '{FAKE_KEY}', 'API-Sign': '{SIGN}'}}",
        f"API-Sign: {SIGN}",
        f'{{"method":"add_order","params":{{"token":"{WS_TOKEN}","order_qty":1}}}}',
        f"subscribe token={WS_TOKEN}&snapshot=true",
        f"b'token': b'{WS_TOKEN}'",
        f"KRAKEN_API_SECRET={FAKE_SECRET}",
        f"api_secret = {FAKE_SECRET}",
        f"Authorization: {WS_TOKEN}",
    ],
)
def test_named_secret_values_are_redacted(text: str) -> None:
    out = redact_text(text)
    assert REDACTED in out
    for secret in (SIGN, WS_TOKEN, FAKE_KEY, FAKE_SECRET):
        assert secret not in out


def test_literal_secrets_are_redacted_anywhere() -> None:
    out = redact_text(f"x{FAKE_SECRET}y and {FAKE_KEY}", [FAKE_SECRET, FAKE_KEY])
    assert out == f"x{REDACTED}y and {REDACTED}"


def test_ordinary_text_is_left_alone() -> None:
    text = "placed 10 XLM/USD buy at 0.1234; tokens of appreciation; price=0.5"
    assert redact_text(text, ["abc"]) == text  # too short to be a secret: not blanked


def test_secret_from_environment_never_reaches_the_log_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, handles: list[LoggingHandle]
) -> None:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KRAKEN_API_KEY", FAKE_KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", FAKE_SECRET)
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "trading_new.log"))
    settings = load_settings()
    console = io.StringIO()
    handles.append(configure_logging(settings.log(), settings.secret_values(), stream=console))
    log = logging.getLogger("krakenbot.test.secrets")
    secret = settings.kraken_api_secret
    assert secret is not None
    raw = secret.get_secret_value()

    log.info("message %s", raw)
    log.warning(f"f-string {raw} and key {FAKE_KEY}")
    log.info("extras", extra={"headers": {"API-Sign": SIGN, "API-Key": FAKE_KEY}, "note": raw})
    log.info("nested", extra={"payload": [{"token": WS_TOKEN}, (raw,)], "blob": raw.encode()})
    try:
        try:
            raise ValueError(f"inner failure with secret {raw}")
        except ValueError as inner:
            raise RuntimeError(f"signing with key {FAKE_KEY} failed") from inner
    except RuntimeError:
        log.exception("request failed")
    log.error("with stack %s", raw, stack_info=True)
    handles.pop().close()

    text = settings.log().file.read_text(encoding="utf-8")
    shown = text + console.getvalue()
    for value in (raw, FAKE_KEY, SIGN, WS_TOKEN):
        assert value not in shown
    records = _lines(settings.log().file)
    assert len(records) == 6
    assert any("exc" in r and "RuntimeError" in str(r["exc"]) for r in records)
    assert any("ValueError" in str(r.get("exc", "")) for r in records)


def test_json_lines_keep_extra_fields(tmp_path: Path, handles: list[LoggingHandle]) -> None:
    section = _section(tmp_path, console=False)
    handles.append(configure_logging(section))
    logging.getLogger("krakenbot.test.json").info(
        "order placed",
        extra={"cl_ord_id": "abc", "price": Decimal("0.12345678"), "side": Side.BUY, "n": 3},
    )
    handles.pop().close()
    (record,) = _lines(section.file)
    assert record["msg"] == "order placed"
    assert record["level"] == "INFO"
    assert record["logger"] == "krakenbot.test.json"
    assert record["cl_ord_id"] == "abc"
    assert record["price"] == "0.12345678"
    assert record["side"] == "buy"
    assert record["n"] == 3
    assert str(record["ts"]).endswith("+00:00")


def test_console_is_readable_text(tmp_path: Path, handles: list[LoggingHandle]) -> None:
    stream = io.StringIO()
    handles.append(configure_logging(_section(tmp_path), stream=stream))
    logging.getLogger("krakenbot.test.console").warning("hello %s", "there", extra={"k": 1})
    handles.pop().close()
    line = stream.getvalue().strip()
    assert "WARNING" in line and "krakenbot.test.console" in line and "k=1" in line
    assert not line.startswith("{")


def test_level_filters_records(tmp_path: Path, handles: list[LoggingHandle]) -> None:
    section = _section(tmp_path, level="WARNING", console=False)
    handles.append(configure_logging(section))
    log = logging.getLogger("krakenbot.test.level")
    log.info("dropped")
    log.warning("kept")
    handles.pop().close()
    assert [r["msg"] for r in _lines(section.file)] == ["kept"]


def test_runtime_secret_can_be_added(tmp_path: Path, handles: list[LoggingHandle]) -> None:
    section = _section(tmp_path, console=False)
    handle = configure_logging(section)
    handles.append(handle)
    handle.add_secret("freshly-issued-token-xyz")
    logging.getLogger("krakenbot.test.add").info("got freshly-issued-token-xyz")
    handles.pop().close()
    assert "freshly-issued-token-xyz" not in section.file.read_text(encoding="utf-8")


def test_file_rotates(tmp_path: Path, handles: list[LoggingHandle]) -> None:
    section = _section(tmp_path, console=False, max_bytes=2000, backup_count=2)
    handles.append(configure_logging(section))
    log = logging.getLogger("krakenbot.test.rotate")
    for i in range(100):
        log.info("line %d %s", i, "x" * 50)
    handles.pop().close()
    rotated = sorted(p.name for p in section.file.parent.iterdir())
    assert rotated == ["trading_new.log", "trading_new.log.1", "trading_new.log.2"]


def test_close_restores_root_logger(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    handle = configure_logging(_section(tmp_path, level="DEBUG", console=False))
    assert root.level == logging.DEBUG
    handle.close()
    handle.close()  # idempotent
    assert (root.level, list(root.handlers)) == before


def test_filter_is_idempotent_and_handles_bad_format_args() -> None:
    flt = RedactionFilter([FAKE_SECRET])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %d", ("not-a-number",), None)
    assert flt.filter(record)
    assert "not-a-number" in record.getMessage()
    record2 = logging.LogRecord("x", logging.INFO, __file__, 1, FAKE_SECRET, None, None)
    record2.exc_text = f"Traceback: {FAKE_SECRET}"
    record2.custom = object()
    assert flt.filter(record2) and flt.filter(record2)
    assert FAKE_SECRET not in record2.getMessage()
    assert FAKE_SECRET not in str(record2.exc_text)
    assert isinstance(record2.custom, str)


def test_extra_named_like_a_secret_is_blanked() -> None:
    flt = RedactionFilter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.api_secret = "short"
    record.token = 12345
    record.amount = Decimal("1.5")
    flt.filter(record)
    assert record.api_secret == REDACTED
    assert record.token == REDACTED
    assert record.amount == Decimal("1.5")


def test_thread_exceptions_are_logged_redacted_and_hooks_restored(tmp_path: Path) -> None:
    before = (sys.excepthook, threading.excepthook)
    section = _section(tmp_path, console=False)
    handle = configure_logging(section, [FAKE_SECRET], capture_uncaught=True)
    try:
        assert sys.excepthook != before[0]

        def boom() -> None:
            raise RuntimeError(f"thread failed with {FAKE_SECRET}")

        worker = threading.Thread(target=boom, name="worker-1")
        worker.start()
        worker.join(timeout=10)
    finally:
        handle.close()
    assert (sys.excepthook, threading.excepthook) == before
    (record,) = _lines(section.file)
    assert record["level"] == "CRITICAL" and record["failed_thread"] == "worker-1"
    assert FAKE_SECRET not in json.dumps(record)

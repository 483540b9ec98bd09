"""NOTIFY_URLS and NOTIFY_DAILY_SUMMARY_UTC: parsed into targets, every bad entry named at
once, and the secret parts (a webhook URL, a bot token) never shown: not by `config check`,
not in an error, not in a repr; the log redaction learns each of them."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from settings_env import isolate

from krakenbot.app.notify_targets import TelegramTarget, WebhookTarget, parse_targets
from krakenbot.cli import main
from krakenbot.config import load_settings
from krakenbot.errors import ConfigError

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
HOOK = "https://hooks.example.com/services/T000/B000/XXXXsecretXXXX"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    isolate(monkeypatch, tmp_path)
    return monkeypatch


def test_webhooks_and_telegram_are_parsed_in_order(env: pytest.MonkeyPatch) -> None:
    local = "http://127.0.0.1:9000/hook?key=abc123"
    env.setenv("NOTIFY_URLS", f"{HOOK}, tg://{TOKEN}@-1001234567890,{local},")
    env.setenv("NOTIFY_DAILY_SUMMARY_UTC", "7:05")
    section = load_settings().notify()
    hook, telegram, loopback = section.targets
    assert isinstance(hook, WebhookTarget) and hook.url.get_secret_value() == HOOK
    assert hook.label == "https://hooks.example.com"
    assert isinstance(telegram, TelegramTarget) and telegram.chat_id == "-1001234567890"
    assert telegram.token.get_secret_value() == TOKEN
    assert isinstance(loopback, WebhookTarget) and loopback.label == "http://127.0.0.1:9000"
    assert section.daily_summary_utc == time(7, 5)
    assert load_settings().notify_daily_summary_utc == "07:05"


def test_nothing_configured_means_no_targets_and_no_summary(env: pytest.MonkeyPatch) -> None:
    section = load_settings().notify()
    assert section.targets == () and section.daily_summary_utc is None


def test_secret_parts_are_masked_and_known_to_the_log_redaction(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("NOTIFY_URLS", f"{HOOK},tg://{TOKEN}@@krakenbot_alerts")
    settings = load_settings()
    assert {HOOK, TOKEN} <= set(settings.secret_values())
    shown = settings.masked()["NOTIFY_URLS"]
    assert shown == "https://hooks.example.com/…, tg://********@@krakenbot_alerts"
    for text in (repr(settings), str(settings), repr(settings.notify()), str(settings.masked())):
        assert TOKEN not in text and "XXXXsecretXXXX" not in text
    assert main(["config", "check"]) == 0
    out, err = capsys.readouterr()
    assert "NOTIFY_URLS" in out and TOKEN not in out + err and "secretXXXX" not in out + err


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("ftp://example.com/x", "must be https://"),
        ("hooks.example.com/x", "must be https://"),
        ("http://hooks.example.com/abc", "http:// is only for a loopback or private-network"),
        ("http://8.8.8.8/abc", "http:// is only for a loopback or private-network"),
        (f"tg://{TOKEN}", "tg:// needs BOT_TOKEN@CHAT_ID"),
        (f"tg://{TOKEN}@", "tg:// needs BOT_TOKEN@CHAT_ID"),
        ("tg://not-a-token@12345", "BotFather's form"),
        (f"tg://{TOKEN}@chat name", "CHAT_ID must be"),
        ("https:///nohost", "has no host"),
        ("https://exa mple.com/", "has no host, or has spaces"),
        ("https://example.com:99999/", "malformed"),
    ],
)
def test_a_bad_entry_is_named_without_its_secret(entry: str, why: str) -> None:
    with pytest.raises(ValueError, match="entry 2: ") as info:
        parse_targets(f"{HOOK},{entry}")
    assert why in str(info.value)
    assert TOKEN not in str(info.value) and "secretXXXX" not in str(info.value)


def test_every_bad_value_is_reported_at_once_without_secrets(env: pytest.MonkeyPatch) -> None:
    env.setenv("NOTIFY_URLS", f"tg://{TOKEN},http://hooks.example.com/{TOKEN}")
    env.setenv("NOTIFY_DAILY_SUMMARY_UTC", "24:00")
    env.setenv("MAX_TRADE_SIZE", "-1")
    with pytest.raises(ConfigError) as info:
        load_settings()
    text = str(info.value)
    assert "NOTIFY_URLS: entry 1: tg:// needs BOT_TOKEN@CHAT_ID; entry 2: http://" in text
    assert "NOTIFY_DAILY_SUMMARY_UTC='24:00': must be HH:MM" in text
    assert "MAX_TRADE_SIZE" in text
    assert TOKEN not in text


@pytest.mark.parametrize("text", ["off", "OFF", " off ", "00:00", "23:59", "9:30"])
def test_summary_times_accepted(env: pytest.MonkeyPatch, text: str) -> None:
    env.setenv("NOTIFY_DAILY_SUMMARY_UTC", text)
    load_settings()


@pytest.mark.parametrize("text", ["", "noon", "12", "12:60", "-1:00", "12:00:00"])
def test_summary_times_refused(env: pytest.MonkeyPatch, text: str) -> None:
    env.setenv("NOTIFY_DAILY_SUMMARY_UTC", text)
    if text == "":  # an empty value is "not set": the default, off
        assert load_settings().notify().daily_summary_utc is None
        return
    with pytest.raises(ConfigError, match="NOTIFY_DAILY_SUMMARY_UTC"):
        load_settings()


def test_too_many_targets_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 10"):
        parse_targets(",".join(f"https://h{i}.example.com/x" for i in range(11)))
